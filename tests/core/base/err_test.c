/* Tests of core/base/rf_err.c: the error list. */
#include <check.h>
#include <string.h>

#include "base/rf_err.h"

START_TEST(test_err_codes_have_names_and_texts)
{
    ck_assert_int_eq(RF_OK, 0);
    ck_assert_str_eq(rf_strerror(RF_OK), "success");
    ck_assert_str_eq(rf_errname(RF_ENOTLEADER), "RF_ENOTLEADER");
    ck_assert_str_eq(rf_strerror(RF_ECORRUPT), "data corruption detected");
    ck_assert_str_eq(rf_strerror(-12345), "unknown error");
    ck_assert_str_eq(rf_errname(99999), "RF_?");
}
END_TEST

START_TEST(test_err_codes_are_unique)
{
    static const int codes[] = {
#define X(name, value, text) value,
        RF_ERRORS(X)
#undef X
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            ck_assert_int_ne(codes[i], codes[j]);
}
END_TEST

Suite *err_suite(void)
{
    Suite *s = suite_create("err");
    TCase *tc = tcase_create("codes");
    tcase_add_test(tc, test_err_codes_have_names_and_texts);
    tcase_add_test(tc, test_err_codes_are_unique);
    suite_add_tcase(s, tc);
    return s;
}

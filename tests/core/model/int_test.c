/* Tests of core/model/int.c: the built-in "int" model (JustAnInt). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "base/rf_pcg.h"
#include "model/rf_model.h"
#include "tests/core/model/model_helpers.h"

static const rf_model *M = &rf_model_int;

START_TEST(test_int_builtin_lookup_finds_int_and_kv)
{
    ck_assert_ptr_eq(rf_model_builtin("int"), &rf_model_int);
    ck_assert_ptr_eq(rf_model_builtin("kv"), &rf_model_kv);
    ck_assert_ptr_null(rf_model_builtin("nope"));
    ck_assert_ptr_null(rf_model_builtin(NULL));
    ck_assert_uint_eq(rf_model_int.abi_version, RF_MODEL_ABI_VERSION);
    ck_assert_str_eq(rf_model_int.name, "int");
}
END_TEST

START_TEST(test_int_set_and_inc_reply_the_old_value)
{
    char r[2048];
    void *st = M->create();
    ck_assert_int_eq(mh_run(M, st, 1, "get", r), RF_OK);
    ck_assert_str_eq(r, "0");
    ck_assert_int_eq(mh_run(M, st, 0, "inc", r), RF_OK);
    ck_assert_str_eq(r, "0");
    ck_assert_int_eq(mh_run(M, st, 0, "inc", r), RF_OK);
    ck_assert_str_eq(r, "1");
    ck_assert_int_eq(mh_run(M, st, 0, "set 41", r), RF_OK);
    ck_assert_str_eq(r, "2");
    ck_assert_int_eq(mh_run(M, st, 0, "set -9223372036854775808", r), RF_OK);
    ck_assert_str_eq(r, "41");
    ck_assert_int_eq(mh_run(M, st, 1, "get", r), RF_OK);
    ck_assert_str_eq(r, "-9223372036854775808");
    ck_assert_int_eq(mh_run(M, st, 0, "set 9223372036854775807", r), RF_OK);
    ck_assert_int_eq(mh_run(M, st, 1, "get", r), RF_OK);
    ck_assert_str_eq(r, "9223372036854775807");
    M->destroy(st);
}
END_TEST

START_TEST(test_int_rejects_malformed_input_and_keeps_state)
{
    static const char *bad_cmds[] = {
        "", "set", "set ", "set x", "set 1 2", " inc", "inc ", "inc  ", "INC", "set  5",
        "set 9223372036854775808", "set -9223372036854775809", "set 12345678901234567890",
        "set -", "set +5", "set 5x", "get", "dec",
    };
    char r[2048];
    void *st = M->create();
    ck_assert_int_eq(mh_run(M, st, 0, "set 7", r), RF_OK);
    for (size_t i = 0; i < sizeof bad_cmds / sizeof bad_cmds[0]; i++) {
        ck_assert_int_eq(mh_run(M, st, 0, bad_cmds[i], r), RF_EINVAL);
        ck_assert_msg(strncmp(r, "error: ", 7) == 0, "reply to '%s': %s", bad_cmds[i], r);
    }
    ck_assert_int_eq(mh_run(M, st, 1, "inc", r), RF_EINVAL);
    ck_assert_int_eq(mh_run(M, st, 1, "get ", r), RF_EINVAL);
    ck_assert_int_eq(mh_run(M, st, 1, "get", r), RF_OK);
    ck_assert_str_eq(r, "7");
    M->destroy(st);
}
END_TEST

START_TEST(test_int_inc_at_max_is_rejected_not_wrapped)
{
    char r[2048];
    void *st = M->create();
    mh_run(M, st, 0, "set 9223372036854775807", r);
    ck_assert_int_eq(mh_run(M, st, 0, "inc", r), RF_ERANGE);
    ck_assert_int_eq(mh_run(M, st, 1, "get", r), RF_OK);
    ck_assert_str_eq(r, "9223372036854775807");
    M->destroy(st);
}
END_TEST

START_TEST(test_int_small_reply_buffer_leaves_state_unchanged)
{
    uint8_t r[4];
    size_t len = 0;
    void *st = M->create();
    ck_assert_int_eq(M->command(st, (const uint8_t *)"set 123456", 10, r, sizeof r, &len), RF_OK);
    ck_assert_int_eq(M->command(st, (const uint8_t *)"set 1", 5, r, 4, &len), RF_ETOOBIG);
    ck_assert_int_eq(M->query(st, (const uint8_t *)"get", 3, r, sizeof r, &len), RF_ETOOBIG);
    char out[2048];
    mh_run(M, st, 1, "get", out);
    ck_assert_str_eq(out, "123456");
    M->destroy(st);
}
END_TEST

START_TEST(test_int_encoding_is_the_documented_format_and_round_trips)
{
    char r[2048];
    void *st = M->create();
    mh_run(M, st, 0, "set -2", r);
    uint8_t small[4];
    size_t len = 0;
    ck_assert_int_eq(M->encode(st, small, sizeof small, &len), RF_ETOOBIG);
    ck_assert_uint_eq(len, 9);
    uint8_t *enc = mh_encode(M, st, &len);
    static const uint8_t want[9] = {1, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ck_assert_uint_eq(len, 9);
    ck_assert_mem_eq(enc, want, 9);
    void *back = M->decode(enc, len);
    ck_assert_ptr_nonnull(back);
    mh_run(M, back, 1, "get", r);
    ck_assert_str_eq(r, "-2");
    ck_assert_uint_eq(M->digest(back), M->digest(st));
    free(enc);
    M->destroy(back);
    M->destroy(st);
}
END_TEST

START_TEST(test_int_digest_equal_for_equal_states_and_differs_otherwise)
{
    char r[2048];
    void *a = M->create(), *b = M->create();
    ck_assert_uint_eq(M->digest(a), M->digest(b));
    mh_run(M, a, 0, "inc", r);
    ck_assert_uint_ne(M->digest(a), M->digest(b));
    mh_run(M, b, 0, "set 1", r);
    ck_assert_uint_eq(M->digest(a), M->digest(b));
    /* Many distinct values, no collisions among neighbours. */
    uint64_t prev = M->digest(a);
    for (int i = 0; i < 1000; i++) {
        mh_run(M, a, 0, "inc", r);
        uint64_t d = M->digest(a);
        ck_assert_uint_ne(d, prev);
        prev = d;
    }
    M->destroy(a);
    M->destroy(b);
}
END_TEST

START_TEST(test_int_decode_refuses_garbage_without_crashing)
{
    static const uint8_t bad_version[9] = {2, 0, 0, 0, 0, 0, 0, 0, 0};
    uint8_t buf[32];
    ck_assert_ptr_null(M->decode(NULL, 0));
    ck_assert_ptr_null(M->decode(bad_version, 9));
    ck_assert_ptr_null(M->decode(bad_version, 8));
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 42, 7);
    int accepted = 0;
    for (int i = 0; i < 20000; i++) {
        size_t len = rf_pcg32_next(&rng) % sizeof buf;
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rf_pcg32_next(&rng);
        if (len == 9 && (i & 1))
            buf[0] = 1;
        void *st = M->decode(buf, len);
        if (st != NULL) {
            accepted++;
            ck_assert_uint_eq(len, 9);
            M->destroy(st);
        }
    }
    ck_assert_int_gt(accepted, 0);
}
END_TEST

/* Digests are part of the stable format (replicas of different builds
 * compare them): these values must never change. */
START_TEST(test_int_digest_golden_values)
{
    char r[2048];
    void *st = M->create();
    ck_assert_uint_eq(M->digest(st), 0x84b22da81addaa31ULL);
    mh_run(M, st, 0, "set 41", r);
    ck_assert_uint_eq(M->digest(st), 0x6928b2919dc6a932ULL);
    M->destroy(st);
}
END_TEST

Suite *model_int_suite(void)
{
    Suite *s = suite_create("model_int");
    TCase *tc = tcase_create("int");
    tcase_add_test(tc, test_int_builtin_lookup_finds_int_and_kv);
    tcase_add_test(tc, test_int_set_and_inc_reply_the_old_value);
    tcase_add_test(tc, test_int_rejects_malformed_input_and_keeps_state);
    tcase_add_test(tc, test_int_inc_at_max_is_rejected_not_wrapped);
    tcase_add_test(tc, test_int_small_reply_buffer_leaves_state_unchanged);
    tcase_add_test(tc, test_int_encoding_is_the_documented_format_and_round_trips);
    tcase_add_test(tc, test_int_digest_equal_for_equal_states_and_differs_otherwise);
    tcase_add_test(tc, test_int_decode_refuses_garbage_without_crashing);
    tcase_add_test(tc, test_int_digest_golden_values);
    suite_add_tcase(s, tc);
    return s;
}

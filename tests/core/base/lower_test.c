/* Tests of core/base/rf_lower.h: the lower bound over items sorted by a leading uint64_t. */
#include <check.h>
#include <stdint.h>

#include "base/rf_lower.h"
#include "base/rf_pcg.h"

typedef struct item {
    uint64_t key;
    uint64_t payload[2]; /* items larger than their key, as the callers' */
} item;

/* The first i with a[i].key >= key, by a scan. */
static size_t lower_by_scan(const item *a, size_t n, uint64_t key)
{
    size_t i = 0;
    while (i < n && a[i].key < key)
        i++;
    return i;
}

START_TEST(test_lower_u64_matches_a_scan_for_every_length_and_key)
{
    enum { LEN_MAX = 70 };
    item a[LEN_MAX];
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 7, 1);
    for (size_t n = 0; n <= LEN_MAX; n++) {
        for (int round = 0; round < 20; round++) {
            /* Sorted keys with runs of duplicates and gaps between them. */
            uint64_t k = 10 + rf_pcg32_bounded(&rng, 5);
            for (size_t i = 0; i < n; i++) {
                k += rf_pcg32_bounded(&rng, 3) * 2;
                a[i].key = k;
            }
            uint64_t last = n ? a[n - 1].key : 10;
            for (uint64_t key = 0; key <= last + 2; key++)
                ck_assert_uint_eq(rf_lower_u64(a, n, sizeof *a, key), lower_by_scan(a, n, key));
            ck_assert_uint_eq(rf_lower_u64(a, n, sizeof *a, UINT64_MAX),
                              lower_by_scan(a, n, UINT64_MAX));
        }
    }
}
END_TEST

START_TEST(test_lower_u64_finds_the_first_of_equal_keys)
{
    item a[5] = {{.key = 3}, {.key = 5}, {.key = 5}, {.key = 5}, {.key = UINT64_MAX}};
    ck_assert_uint_eq(rf_lower_u64(a, 5, sizeof *a, 5), 1);
    ck_assert_uint_eq(rf_lower_u64(a, 5, sizeof *a, 0), 0);
    ck_assert_uint_eq(rf_lower_u64(a, 5, sizeof *a, 6), 4);
    ck_assert_uint_eq(rf_lower_u64(a, 5, sizeof *a, UINT64_MAX), 4);
    ck_assert_uint_eq(rf_lower_u64(a, 4, sizeof *a, UINT64_MAX), 4);
    ck_assert_uint_eq(rf_lower_u64(a, 0, sizeof *a, 1), 0);
}
END_TEST

Suite *lower_suite(void)
{
    Suite *s = suite_create("lower");
    TCase *tc = tcase_create("lower");
    tcase_add_test(tc, test_lower_u64_matches_a_scan_for_every_length_and_key);
    tcase_add_test(tc, test_lower_u64_finds_the_first_of_equal_keys);
    suite_add_tcase(s, tc);
    return s;
}

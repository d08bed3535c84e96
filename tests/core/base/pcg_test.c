/* Tests of core/base/rf_pcg.c: PCG32 against its reference output. */
#include <check.h>

#include "base/rf_pcg.h"

START_TEST(test_pcg32_matches_reference_seed42_stream54)
{
    /* The published pcg32 demo: pcg32_srandom_r(&rng, 42u, 54u). */
    static const uint32_t expected[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                         0x83d2f293, 0xbfa4784b, 0xcbed606e};
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 42u, 54u);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(rf_pcg32_next(&rng), expected[i]);
}
END_TEST

START_TEST(test_pcg32_bounded_stays_in_range_and_covers_it)
{
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 7, 11);
    int seen[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint32_t v = rf_pcg32_bounded(&rng, 7);
        ck_assert_uint_lt(v, 7);
        seen[v]++;
    }
    for (int i = 0; i < 7; i++) {
        ck_assert_int_gt(seen[i], 850);
        ck_assert_int_lt(seen[i], 1150);
    }
    ck_assert_uint_eq(rf_pcg32_bounded(&rng, 1), 0);
}
END_TEST

START_TEST(test_pcg32_bounded_is_unbiased_for_large_bounds)
{
    /* bound = 3 * 2^30: plain modulo would make the lowest 2^30 values
     * twice as likely as the rest; the first third must get ~1/3. */
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 1, 2);
    uint32_t bound = 3u << 30;
    int low = 0, n = 30000;
    for (int i = 0; i < n; i++)
        low += rf_pcg32_bounded(&rng, bound) < (1u << 30);
    ck_assert_int_gt(low, n / 3 - 600);
    ck_assert_int_lt(low, n / 3 + 600);
}
END_TEST

START_TEST(test_pcg32_range64_inclusive_bounds)
{
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 3, 4);
    int lo_seen = 0, hi_seen = 0;
    for (int i = 0; i < 2000; i++) {
        uint64_t v = rf_pcg32_range64(&rng, 10, 13);
        ck_assert(v >= 10 && v <= 13);
        lo_seen |= v == 10;
        hi_seen |= v == 13;
    }
    ck_assert(lo_seen && hi_seen);
    uint64_t big = rf_pcg32_range64(&rng, 1ULL << 40, (1ULL << 41));
    ck_assert(big >= (1ULL << 40) && big <= (1ULL << 41));
}
END_TEST

START_TEST(test_pcg32_derive_is_stable_and_independent)
{
    rf_pcg32 a, b, c;
    rf_pcg32_derive(&a, 99, "network", 0);
    rf_pcg32_derive(&b, 99, "network", 0);
    rf_pcg32_derive(&c, 99, "node", 0);
    uint32_t x = rf_pcg32_next(&a);
    ck_assert_uint_eq(x, rf_pcg32_next(&b));
    ck_assert_uint_ne(a.inc, c.inc);
    rf_pcg32 d;
    rf_pcg32_derive(&d, 99, "node", 1);
    ck_assert_uint_ne(c.inc, d.inc);
}
END_TEST

Suite *pcg_suite(void)
{
    Suite *s = suite_create("pcg");
    TCase *tc = tcase_create("pcg32");
    tcase_add_test(tc, test_pcg32_matches_reference_seed42_stream54);
    tcase_add_test(tc, test_pcg32_bounded_stays_in_range_and_covers_it);
    tcase_add_test(tc, test_pcg32_bounded_is_unbiased_for_large_bounds);
    tcase_add_test(tc, test_pcg32_range64_inclusive_bounds);
    tcase_add_test(tc, test_pcg32_derive_is_stable_and_independent);
    suite_add_tcase(s, tc);
    return s;
}

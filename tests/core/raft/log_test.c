/* Tests of core/raft/log.c: the entry ring and payload buffer against a plain reference. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "base/rf_pcg.h"
#include "raft/raft_int.h"

typedef struct ref_ent {
    uint64_t term;
    uint32_t len;
    uint8_t fill;
} ref_ent;

START_TEST(test_log_matches_reference_under_random_appends_truncations_compactions)
{
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 17, (uint64_t)_i);
    raft_log l;
    rf_rft_log_init(&l, NULL);
    static ref_ent ref[20000]; /* index -> entry; valid in (snap, last] */
    uint64_t snap = 0, last = 0, term = 1;
    uint8_t buf[700];
    for (int step = 0; step < 6000; step++) {
        uint32_t op = rf_pcg32_bounded(&rng, 10);
        if (op < 7 && last < 19990) {
            uint32_t len = rf_pcg32_bounded(&rng, 4) == 0 ? rf_pcg32_bounded(&rng, 700) : rf_pcg32_bounded(&rng, 8);
            uint8_t fill = (uint8_t)rf_pcg32_next(&rng);
            memset(buf, fill, len);
            if (rf_pcg32_bounded(&rng, 20) == 0)
                term++;
            ck_assert_int_eq(rf_rft_log_append(&l, term, RF_ENTRY_COMMAND, 1, last + 1, 1, buf, len), RF_OK);
            last++;
            ref[last] = (ref_ent){term, len, fill};
        } else if (op < 8 && last > snap) {
            uint64_t from = snap + 1 + rf_pcg32_bounded(&rng, (uint32_t)(last - snap));
            rf_rft_log_truncate(&l, from);
            last = from - 1;
            term = last > snap ? ref[last].term : term;
        } else if (last > snap) {
            uint64_t to = snap + 1 + rf_pcg32_bounded(&rng, (uint32_t)(last - snap));
            rf_rft_log_compact(&l, to, ref[to].term);
            snap = to;
        }
        ck_assert_uint_eq(rf_rft_log_last(&l), last);
        ck_assert_uint_eq(l.snap_index, snap);
        /* Spot-check a few entries, and the ends. */
        for (int k = 0; k < 4 && last > snap; k++) {
            uint64_t i = k == 0 ? last : snap + 1 + rf_pcg32_bounded(&rng, (uint32_t)(last - snap));
            rf_entry e;
            rf_rft_log_get(&l, i, &e);
            ck_assert_uint_eq(e.term, ref[i].term);
            ck_assert_uint_eq(e.len, ref[i].len);
            ck_assert_uint_eq(e.sequence, i);
            for (uint32_t b = 0; b < e.len; b++)
                ck_assert_uint_eq(e.data[b], ref[i].fill);
        }
        ck_assert_uint_eq(rf_rft_log_term(&l, last + 1), 0);
    }
    rf_rft_log_free(&l);
}
END_TEST

START_TEST(test_log_reset_keeps_snapshot_term_and_accepts_appends)
{
    raft_log l;
    rf_rft_log_init(&l, NULL);
    for (uint64_t i = 1; i <= 10; i++)
        ck_assert_int_eq(rf_rft_log_append(&l, 1, RF_ENTRY_NOOP, 0, 0, 0, NULL, 0), RF_OK);
    rf_rft_log_reset(&l, 50, 3);
    ck_assert_uint_eq(rf_rft_log_last(&l), 50);
    ck_assert_uint_eq(rf_rft_log_term(&l, 50), 3);
    ck_assert_uint_eq(rf_rft_log_term(&l, 10), 0); /* compacted: unknown */
    ck_assert_int_eq(rf_rft_log_append(&l, 3, RF_ENTRY_COMMAND, 0, 0, 0, (const uint8_t *)"x", 1), RF_OK);
    ck_assert_uint_eq(rf_rft_log_last(&l), 51);
    ck_assert_ptr_nonnull(rf_rft_log_at(&l, 51));
    ck_assert_ptr_null(rf_rft_log_at(&l, 50));
    rf_rft_log_free(&l);
}
END_TEST

Suite *raft_log_suite(void)
{
    Suite *s = suite_create("raft_log");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_log_matches_reference_under_random_appends_truncations_compactions, 0, 8);
    tcase_add_test(tc, test_log_reset_keeps_snapshot_term_and_accepts_appends);
    suite_add_tcase(s, tc);
    return s;
}

/* Tests of core/storage/store*.c: commits, reads, recovery, corruption, faults. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/simdisk.h"
#include "storage/rf_store.h"

static rf_simdisk *disk;
static rf_fs fs;
static const rf_store_config cfg = {.segment_bytes = 4096};
#define SEG1 "wal-0000000000000001.log"

static void setup(void)
{
    rf_pcg32 r;
    rf_pcg32_seed(&r, 42, 1);
    disk = rf_simdisk_new(&r);
    fs = rf_simdisk_fs(disk);
}

static void teardown(void)
{
    rf_simdisk_free(disk);
}

static rf_store *open_ok(const rf_store_config *c)
{
    rf_store *st;
    rf_store_recovery info;
    int rc = rf_store_open(&st, &fs, c, &info);
    ck_assert_msg(rc == 0, "open: %d %s", rc, info.message);
    return st;
}

/* Adds entry index of group g to b, payload "g:index". */
static void add_entry(rf_batch *b, uint64_t g, uint64_t index, uint64_t term)
{
    char d[32];
    int n = snprintf(d, sizeof d, "%llu:%llu", (unsigned long long)g, (unsigned long long)index);
    ck_assert_int_eq(rf_batch_entry(b, g, index, term, d, (size_t)n), 0);
}

/* Commits entries from..to of group g. */
static int put_entries(rf_store *st, uint64_t g, uint64_t from, uint64_t to, uint64_t term)
{
    rf_batch b;
    rf_batch_init(&b);
    for (uint64_t i = from; i <= to; i++)
        add_entry(&b, g, i, term);
    int rc = rf_store_commit(st, &b);
    rf_batch_close(&b);
    return rc;
}

/* Commits a batch that drops group g. */
static int drop_group(rf_store *st, uint64_t g)
{
    rf_batch b;
    rf_batch_init(&b);
    ck_assert_int_eq(rf_batch_drop_group(&b, g), 0);
    int rc = rf_store_commit(st, &b);
    rf_batch_close(&b);
    return rc;
}

static void expect_entry(rf_store *st, uint64_t g, uint64_t i, uint64_t term)
{
    char want[32], got[32];
    int n = snprintf(want, sizeof want, "%llu:%llu", (unsigned long long)g, (unsigned long long)i);
    uint64_t t;
    size_t len;
    int rc = rf_store_entry(st, g, i, &t, got, sizeof got, &len);
    ck_assert_msg(rc == 0, "entry %llu/%llu: %d %s", (unsigned long long)g, (unsigned long long)i,
                  rc, rf_store_message(st));
    ck_assert_uint_eq(t, term);
    ck_assert_uint_eq(len, (size_t)n);
    ck_assert(memcmp(got, want, len) == 0);
}

START_TEST(test_entries_and_hard_state_survive_reopen_across_segments)
{
    rf_store *st = open_ok(&cfg);
    for (uint64_t k = 0; k < 20; k++) {
        ck_assert_int_eq(put_entries(st, 7, k * 10 + 1, k * 10 + 10, 1 + k / 5), 0);
        ck_assert_int_eq(put_entries(st, 3, k * 5 + 1, k * 5 + 5, 2), 0);
    }
    rf_batch b;
    rf_batch_init(&b);
    ck_assert_int_eq(rf_batch_hard_state(&b, 7, 4, 2), 0);
    ck_assert_int_eq(rf_batch_membership(&b, 7, 200, "abc", 3), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    rf_batch_close(&b);
    rf_store_stats s;
    rf_store_stats_get(st, &s);
    ck_assert_uint_gt(s.segments, 2);
    ck_assert_uint_eq(s.entries, 300);
    rf_store_close(st);

    st = open_ok(&cfg);
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(st, 7, &gi), 0);
    ck_assert_uint_eq(gi.term, 4);
    ck_assert_uint_eq(gi.vote, 2);
    ck_assert_uint_eq(gi.first_index, 1);
    ck_assert_uint_eq(gi.last_index, 200);
    ck_assert_uint_eq(gi.membership_index, 200);
    ck_assert_uint_eq(gi.membership_bytes, 3);
    ck_assert(memcmp(gi.membership, "abc", 3) == 0);
    for (uint64_t i = 1; i <= 200; i++)
        expect_entry(st, 7, i, 1 + (i - 1) / 50);
    for (uint64_t i = 1; i <= 100; i++)
        expect_entry(st, 3, i, 2);
    uint64_t ids[4];
    ck_assert_uint_eq(rf_store_groups(st, ids, 4), 2);
    ck_assert_uint_eq(ids[0], 3);
    ck_assert_uint_eq(ids[1], 7);
    ck_assert_int_eq(put_entries(st, 7, 201, 201, 4), 0);
    expect_entry(st, 7, 201, 4);
    rf_store_close(st);
}
END_TEST

START_TEST(test_truncation_removes_the_conflicting_suffix)
{
    rf_store *st = open_ok(&cfg);
    ck_assert_int_eq(put_entries(st, 1, 1, 10, 1), 0);
    rf_batch b;
    rf_batch_init(&b);
    ck_assert_int_eq(rf_batch_truncate(&b, 1, 6), 0);
    ck_assert_int_eq(rf_batch_entry(&b, 1, 6, 2, "1:6", 3), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    rf_batch_close(&b);
    for (int pass = 0; pass < 2; pass++) {
        rf_store_group_info gi;
        ck_assert_int_eq(rf_store_group(st, 1, &gi), 0);
        ck_assert_uint_eq(gi.last_index, 6);
        expect_entry(st, 1, 5, 1);
        expect_entry(st, 1, 6, 2);
        uint64_t t;
        ck_assert_int_eq(rf_store_term(st, 1, 7, &t), RF_ENOTFOUND);
        rf_store_close(st);
        st = open_ok(&cfg);
    }
    rf_store_close(st);
}
END_TEST

START_TEST(test_commit_refuses_gaps_overlaps_and_leaves_state_unchanged)
{
    rf_store *st = open_ok(&cfg);
    ck_assert_int_eq(put_entries(st, 1, 1, 3, 1), 0);
    ck_assert_int_eq(put_entries(st, 1, 5, 5, 1), RF_EINDEXGAP);
    ck_assert_int_eq(put_entries(st, 1, 3, 4, 1), RF_EINVAL);
    ck_assert_int_eq(put_entries(st, 2, 2, 2, 1), RF_EINDEXGAP);
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(st, 1, &gi), 0);
    ck_assert_uint_eq(gi.last_index, 3);
    ck_assert_int_eq(rf_store_group(st, 2, &gi), RF_ENOTFOUND);
    ck_assert_int_eq(put_entries(st, 1, 4, 4, 1), 0);
    rf_store_close(st);
}
END_TEST

START_TEST(test_oversized_entry_is_refused_with_an_error)
{
    rf_batch b;
    rf_batch_init(&b);
    size_t big = RF_STORE_ENTRY_BYTES_MAX + 1;
    char *data = calloc(1, big);
    ck_assert_int_eq(rf_batch_entry(&b, 1, 1, 1, data, big), RF_ETOOBIG);
    ck_assert_int_eq(rf_batch_membership(&b, 1, 1, data, big), RF_ETOOBIG);
    ck_assert(rf_batch_empty(&b));
    /* Within the entry bound but larger than a segment: refused at commit. */
    rf_store *st = open_ok(&cfg);
    ck_assert_int_eq(rf_batch_entry(&b, 1, 1, 1, data, 8000), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), RF_ETOOBIG);
    rf_batch_reset(&b);
    ck_assert_int_eq(rf_batch_entry(&b, 1, 1, 1, data, 100), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    rf_store_close(st);
    rf_batch_close(&b);
    free(data);
}
END_TEST

START_TEST(test_snapshot_compacts_prefix_and_survives_reopen)
{
    rf_store *st = open_ok(&cfg);
    ck_assert_int_eq(put_entries(st, 5, 1, 30, 3), 0);
    rf_batch b;
    rf_batch_init(&b);
    ck_assert_int_eq(rf_batch_snapshot(&b, 5, 20, 3, "state@20", 8), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    for (int pass = 0; pass < 2; pass++) {
        rf_store_group_info gi;
        ck_assert_int_eq(rf_store_group(st, 5, &gi), 0);
        ck_assert_uint_eq(gi.snapshot_index, 20);
        ck_assert_uint_eq(gi.first_index, 21);
        ck_assert_uint_eq(gi.last_index, 30);
        uint64_t t;
        size_t len;
        char buf[16];
        ck_assert_int_eq(rf_store_term(st, 5, 20, &t), 0);
        ck_assert_uint_eq(t, 3);
        ck_assert_int_eq(rf_store_entry(st, 5, 20, &t, buf, sizeof buf, &len), RF_ECOMPACTED);
        expect_entry(st, 5, 21, 3);
        ck_assert_int_eq(rf_store_snapshot_read(st, 5, buf, sizeof buf, &len), 0);
        ck_assert_uint_eq(len, 8);
        ck_assert(memcmp(buf, "state@20", 8) == 0);
        rf_store_close(st);
        st = open_ok(&cfg);
    }
    /* A snapshot whose last entry conflicts with the log replaces it all. */
    rf_batch_reset(&b);
    ck_assert_int_eq(rf_batch_snapshot(&b, 5, 25, 9, "state@25", 8), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(st, 5, &gi), 0);
    ck_assert_uint_eq(gi.last_index, 25);
    ck_assert_int_eq(put_entries(st, 5, 26, 26, 9), 0);
    /* The replaced snapshot file is removed by a later commit. */
    uint64_t size;
    ck_assert_int_eq(rf_simdisk_file_size(disk, "snap-0000000000000005-0000000000000014.snap", &size),
                     RF_ENOTFOUND);
    ck_assert_int_eq(rf_simdisk_file_size(disk, "snap-0000000000000005-0000000000000019.snap", &size),
                     0);
    rf_batch_close(&b);
    rf_store_close(st);
}
END_TEST

START_TEST(test_bootstrap_snapshot_at_index_zero_survives_reopen_and_compaction)
{
    rf_store_config c = {.segment_bytes = 4096};
    rf_store *st = open_ok(&c);
    rf_batch b;
    rf_batch_init(&b);
    ck_assert_int_eq(rf_batch_snapshot(&b, 4, 0, 0, "voters:1,2,3", 12), 0);
    ck_assert_int_eq(rf_batch_hard_state(&b, 4, 1, 1), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    ck_assert_int_eq(put_entries(st, 4, 1, 3, 1), 0);
    /* Enough garbage from another group to make compaction rewrite group 4. */
    for (uint64_t k = 0; k < 60; k++) {
        ck_assert_int_eq(put_entries(st, 5, k * 10 + 1, k * 10 + 10, 1), 0);
        rf_batch_reset(&b);
        ck_assert_int_eq(rf_batch_snapshot(&b, 5, k * 10 + 10, 1, "s", 1), 0);
        ck_assert_int_eq(rf_store_commit(st, &b), 0);
        ck_assert_int_eq(rf_store_compact(st, 10), 0);
    }
    ck_assert_int_eq(rf_simdisk_file_size(disk, SEG1, &(uint64_t){0}), RF_ENOTFOUND);
    for (int pass = 0; pass < 2; pass++) {
        rf_store_group_info gi;
        ck_assert_int_eq(rf_store_group(st, 4, &gi), 0);
        ck_assert(gi.has_snapshot);
        ck_assert_uint_eq(gi.snapshot_index, 0);
        ck_assert_uint_eq(gi.first_index, 1);
        ck_assert_uint_eq(gi.last_index, 3);
        uint64_t t = 9;
        ck_assert_int_eq(rf_store_term(st, 4, 0, &t), 0);
        ck_assert_uint_eq(t, 0);
        char buf[16];
        size_t len;
        ck_assert_int_eq(rf_store_snapshot_read(st, 4, buf, sizeof buf, &len), 0);
        ck_assert_uint_eq(len, 12);
        ck_assert(memcmp(buf, "voters:1,2,3", 12) == 0);
        expect_entry(st, 4, 3, 1);
        rf_store_close(st);
        st = open_ok(&c);
    }
    rf_batch_close(&b);
    rf_store_close(st);
}
END_TEST

START_TEST(test_snapshot_and_truncation_rules_are_enforced)
{
    rf_store *st = open_ok(&cfg);
    ck_assert_int_eq(put_entries(st, 1, 1, 10, 1), 0);
    rf_batch b;
    rf_batch_init(&b);
    ck_assert_int_eq(rf_batch_snapshot(&b, 1, 6, 1, "s6", 2), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    /* An older snapshot than the one held. */
    rf_batch_reset(&b);
    ck_assert_int_eq(rf_batch_snapshot(&b, 1, 4, 1, "s4", 2), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), RF_EINVAL);
    /* Two snapshots of one group in one batch. */
    rf_batch_reset(&b);
    ck_assert_int_eq(rf_batch_snapshot(&b, 1, 7, 1, "s7", 2), 0);
    ck_assert_int_eq(rf_batch_snapshot(&b, 1, 8, 1, "s8", 2), RF_EINVAL);
    /* A snapshot inside entries this same batch just changed. */
    rf_batch_reset(&b);
    ck_assert_int_eq(rf_batch_entry(&b, 1, 11, 1, "x", 1), 0);
    ck_assert_int_eq(rf_batch_snapshot(&b, 1, 9, 1, "s9", 2), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), RF_EINVAL);
    /* Truncating into the snapshot; appending at or below it. */
    rf_batch_reset(&b);
    ck_assert_int_eq(rf_batch_truncate(&b, 1, 6), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), RF_ECOMPACTED);
    rf_batch_reset(&b);
    ck_assert_int_eq(rf_batch_entry(&b, 1, 5, 1, "x", 1), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), RF_ECOMPACTED);
    /* Nothing of the refused batches took effect. */
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(st, 1, &gi), 0);
    ck_assert_uint_eq(gi.snapshot_index, 6);
    ck_assert_uint_eq(gi.first_index, 7);
    ck_assert_uint_eq(gi.last_index, 10);
    /* Truncating just above the snapshot empties the log; it continues at 7. */
    rf_batch_reset(&b);
    ck_assert_int_eq(rf_batch_truncate(&b, 1, 7), 0);
    ck_assert_int_eq(rf_batch_entry(&b, 1, 7, 2, "1:7", 3), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    expect_entry(st, 1, 7, 2);
    ck_assert_int_eq(rf_store_group(st, 1, &gi), 0);
    ck_assert_uint_eq(gi.last_index, 7);
    rf_batch_close(&b);
    rf_store_close(st);
}
END_TEST

START_TEST(test_dropped_group_is_forgotten)
{
    rf_store *st = open_ok(&cfg);
    ck_assert_int_eq(put_entries(st, 9, 1, 5, 1), 0);
    ck_assert_int_eq(drop_group(st, 9), 0);
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(st, 9, &gi), RF_ENOTFOUND);
    rf_store_close(st);
    st = open_ok(&cfg);
    ck_assert_int_eq(rf_store_group(st, 9, &gi), RF_ENOTFOUND);
    ck_assert_int_eq(put_entries(st, 9, 1, 1, 1), 0);
    rf_store_close(st);
}
END_TEST

/* The index finds a group through a packed array of the groups' ids kept
 * in step with the groups: records of groups taking turns, and a group
 * dropped then written again in the same run, each land in their own. */
START_TEST(test_interleaved_groups_and_a_dropped_group_written_again)
{
    rf_store *st = open_ok(&cfg);
    rf_batch b;
    rf_batch_init(&b);
    for (uint64_t i = 1; i <= 4; i++)
        for (uint64_t g = 1; g <= 3; g++)
            add_entry(&b, g, i, 1);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    rf_batch_close(&b);
    ck_assert_int_eq(drop_group(st, 2), 0);
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(st, 2, &gi), RF_ENOTFOUND);
    ck_assert_int_eq(put_entries(st, 2, 1, 2, 3), 0);
    for (uint64_t g = 1; g <= 3; g += 2)
        for (uint64_t i = 1; i <= 4; i++)
            expect_entry(st, g, i, 1);
    expect_entry(st, 2, 1, 3);
    expect_entry(st, 2, 2, 3);
    ck_assert_int_eq(rf_store_group(st, 2, &gi), RF_OK);
    ck_assert_uint_eq(gi.last_index, 2);
    rf_store_close(st);
    st = open_ok(&cfg);
    expect_entry(st, 2, 2, 3);
    expect_entry(st, 3, 4, 1);
    rf_store_close(st);
}
END_TEST

START_TEST(test_empty_batch_commits_without_writing)
{
    rf_store *st = open_ok(&cfg);
    rf_batch b;
    rf_batch_init(&b);
    uint64_t before;
    ck_assert_int_eq(rf_simdisk_file_size(disk, SEG1, &before), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    uint64_t after;
    ck_assert_int_eq(rf_simdisk_file_size(disk, SEG1, &after), 0);
    ck_assert_uint_eq(after, before);
    rf_batch_close(&b);
    rf_store_close(st);
}
END_TEST

START_TEST(test_index_costs_24_bytes_per_entry_and_at_most_48)
{
    rf_store_config c = {.segment_bytes = 1 << 20};
    rf_store *st = open_ok(&c);
    rf_batch b;
    rf_batch_init(&b);
    uint64_t next[4] = {0};
    for (int k = 0; k < 50; k++) {
        rf_batch_reset(&b);
        for (int i = 0; i < 200; i++)
            ck_assert_int_eq(rf_batch_entry(&b, (uint64_t)i % 4, ++next[i % 4], 1, "p", 1), 0);
        ck_assert_int_eq(rf_store_commit(st, &b), 0);
    }
    rf_store_stats s;
    rf_store_stats_get(st, &s);
    ck_assert_uint_eq(s.entries, 10000);
    uint64_t groups_bytes = 4 * 168;
    ck_assert_uint_ge(s.index_bytes, 24 * s.entries + groups_bytes);
    ck_assert_uint_le(s.index_bytes, 48 * s.entries + groups_bytes);
    rf_batch_close(&b);
    rf_store_close(st);
}
END_TEST

START_TEST(test_groups_beyond_the_bound_are_refused)
{
    rf_store_config c = {.segment_bytes = 4096, .groups_max = 2};
    rf_store *st = open_ok(&c);
    ck_assert_int_eq(put_entries(st, 1, 1, 1, 1), 0);
    ck_assert_int_eq(put_entries(st, 2, 1, 1, 1), 0);
    ck_assert_int_eq(put_entries(st, 3, 1, 1, 1), RF_EFULL);
    /* A refused batch leaves no trace; a dropped group frees its slot. */
    ck_assert_int_eq(put_entries(st, 1, 5, 5, 1), RF_EINDEXGAP);
    ck_assert_int_eq(drop_group(st, 2), 0);
    ck_assert_int_eq(put_entries(st, 3, 1, 1, 1), 0);
    rf_store_close(st);
    st = open_ok(&c);
    uint64_t ids[4];
    ck_assert_uint_eq(rf_store_groups(st, ids, 4), 2);
    ck_assert_uint_eq(ids[0], 1);
    ck_assert_uint_eq(ids[1], 3);
    rf_store_close(st);
}
END_TEST

START_TEST(test_pipelined_commit_allows_reads_while_io_runs)
{
    rf_store_config c = {.segment_bytes = 4096, .cache_bytes = 1024};
    rf_store *st = open_ok(&c);
    ck_assert_int_eq(put_entries(st, 1, 1, 3, 1), 0);
    rf_batch b;
    rf_batch_init(&b);
    ck_assert_int_eq(rf_batch_entry(&b, 1, 4, 1, "1:4", 3), 0);
    ck_assert_int_eq(rf_store_commit_begin(st, &b), 0);
    ck_assert_int_eq(rf_store_commit_begin(st, &b), RF_EBUSY);
    expect_entry(st, 1, 3, 1); /* the owner reads during the I/O */
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(st, 1, &gi), 0);
    ck_assert_uint_eq(gi.last_index, 3); /* not yet durable, not yet visible */
    ck_assert_int_eq(rf_store_io_run(st), 0);
    ck_assert_int_eq(rf_store_commit_end(st), 0);
    ck_assert_int_eq(rf_store_group(st, 1, &gi), 0);
    ck_assert_uint_eq(gi.last_index, 4);
    expect_entry(st, 1, 4, 1);
    rf_batch_close(&b);
    rf_store_close(st);
}
END_TEST

Suite *storage_store_suite(void)
{
    Suite *s = suite_create("storage_store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_entries_and_hard_state_survive_reopen_across_segments);
    tcase_add_test(tc, test_truncation_removes_the_conflicting_suffix);
    tcase_add_test(tc, test_commit_refuses_gaps_overlaps_and_leaves_state_unchanged);
    tcase_add_test(tc, test_oversized_entry_is_refused_with_an_error);
    tcase_add_test(tc, test_snapshot_compacts_prefix_and_survives_reopen);
    tcase_add_test(tc, test_bootstrap_snapshot_at_index_zero_survives_reopen_and_compaction);
    tcase_add_test(tc, test_snapshot_and_truncation_rules_are_enforced);
    tcase_add_test(tc, test_dropped_group_is_forgotten);
    tcase_add_test(tc, test_interleaved_groups_and_a_dropped_group_written_again);
    tcase_add_test(tc, test_empty_batch_commits_without_writing);
    tcase_add_test(tc, test_index_costs_24_bytes_per_entry_and_at_most_48);
    tcase_add_test(tc, test_groups_beyond_the_bound_are_refused);
    tcase_add_test(tc, test_pipelined_commit_allows_reads_while_io_runs);
    suite_add_tcase(s, tc);
    return s;
}

/* Tests of core/storage/store_compact.c: garbage reclaimed, slow groups rewritten, space bound. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/simdisk.h"
#include "storage/rf_store.h"

#define SEG_BYTES 8192
static const rf_store_config cfg = {.segment_bytes = SEG_BYTES, .cache_bytes = 4096};

static rf_simdisk *disk;
static rf_fs fs;

static void setup(void)
{
    rf_pcg32 r;
    rf_pcg32_seed(&r, 11, 1);
    disk = rf_simdisk_new(&r);
    fs = rf_simdisk_fs(disk);
}

static void teardown(void)
{
    rf_simdisk_free(disk);
}

static bool file_exists(const char *name)
{
    uint64_t size;
    return rf_simdisk_file_size(disk, name, &size) == RF_OK;
}

/* The documented bound (README.md): once compaction has nothing left to
 * do, disk bytes <= 2 x live bytes + 2 segments. */
static void assert_space_bound(rf_store *st)
{
    rf_store_stats s;
    rf_store_stats_get(st, &s);
    ck_assert_msg(s.disk_bytes <= 2 * s.live_bytes + 2 * SEG_BYTES,
                  "disk %llu live %llu segments %llu", (unsigned long long)s.disk_bytes,
                  (unsigned long long)s.live_bytes, (unsigned long long)s.segments);
}

/* Busy group 1 appends and snapshots; slow group 2 wrote a few entries
 * and a hard state at the start and then nothing. */
static void run(rf_store *st, int rounds)
{
    rf_batch b;
    rf_batch_init(&b);
    unsigned char payload[48];
    memset(payload, 0xab, sizeof payload);
    ck_assert_int_eq(rf_batch_hard_state(&b, 2, 3, 1), 0);
    for (uint64_t i = 1; i <= 5; i++)
        ck_assert_int_eq(rf_batch_entry(&b, 2, i, 3, payload, 10 + i), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    uint64_t next = 1;
    for (int r = 0; r < rounds; r++) {
        rf_batch_reset(&b);
        for (int k = 0; k < 20; k++, next++)
            ck_assert_int_eq(rf_batch_entry(&b, 1, next, 1, payload, sizeof payload), 0);
        ck_assert_int_eq(rf_store_commit(st, &b), 0);
        if (r % 5 == 4) {
            rf_batch_reset(&b);
            ck_assert_int_eq(rf_batch_snapshot(&b, 1, next - 10, 1, "s", 1), 0);
            ck_assert_int_eq(rf_store_commit(st, &b), 0);
        }
        ck_assert_int_eq(rf_store_compact(st, 100), 0);
        assert_space_bound(st);
    }
    rf_batch_close(&b);
}

static void expect_slow_group(rf_store *st)
{
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(st, 2, &gi), 0);
    ck_assert_uint_eq(gi.term, 3);
    ck_assert_uint_eq(gi.last_index, 5);
    for (uint64_t i = 1; i <= 5; i++) {
        unsigned char buf[64];
        uint64_t term;
        size_t len;
        ck_assert_int_eq(rf_store_entry(st, 2, i, &term, buf, sizeof buf, &len), 0);
        ck_assert_uint_eq(len, 10 + i);
        ck_assert_uint_eq(buf[0], 0xab);
    }
}

START_TEST(test_slow_group_is_rewritten_forward_and_old_segments_deleted)
{
    rf_store *st;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, NULL), 0);
    run(st, 400);
    rf_store_stats s;
    rf_store_stats_get(st, &s);
    ck_assert_uint_le(s.segments, 8);
    ck_assert(!file_exists("wal-0000000000000001.log"));
    ck_assert(!file_exists("wal-0000000000000002.log"));
    expect_slow_group(st);
    rf_store_close(st);
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, NULL), 0);
    expect_slow_group(st);
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(st, 1, &gi), 0);
    ck_assert_uint_eq(gi.last_index, 400 * 20);
    ck_assert_uint_ge(gi.snapshot_index, 400 * 20 - 110);
    /* Only the group's current snapshot file is left. */
    int snaps = 0;
    for (uint64_t i = 1; i <= gi.last_index; i++) {
        char name[64];
        snprintf(name, sizeof name, "snap-0000000000000001-%016llx.snap", (unsigned long long)i);
        snaps += file_exists(name);
    }
    ck_assert_int_eq(snaps, 1);
    rf_store_close(st);
}
END_TEST

START_TEST(test_without_garbage_compaction_does_nothing)
{
    rf_store *st;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, NULL), 0);
    rf_batch b;
    rf_batch_init(&b);
    unsigned char payload[100] = {0};
    for (uint64_t i = 1; i <= 300; i++) {
        rf_batch_reset(&b);
        ck_assert_int_eq(rf_batch_entry(&b, 1, i, 1, payload, sizeof payload), 0);
        ck_assert_int_eq(rf_store_commit(st, &b), 0);
    }
    rf_store_stats before, after;
    rf_store_stats_get(st, &before);
    bool started = true;
    ck_assert_int_eq(rf_store_compact_begin(st, &started), 0);
    ck_assert(!started);
    rf_store_stats_get(st, &after);
    ck_assert_uint_eq(after.disk_bytes, before.disk_bytes);
    ck_assert_uint_eq(after.batches, before.batches);
    rf_batch_close(&b);
    rf_store_close(st);
}
END_TEST

Suite *storage_compact_suite(void)
{
    Suite *s = suite_create("storage_compact");
    TCase *tc = tcase_create("compact");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_slow_group_is_rewritten_forward_and_old_segments_deleted);
    tcase_add_test(tc, test_without_garbage_compaction_does_nothing);
    suite_add_tcase(s, tc);
    return s;
}

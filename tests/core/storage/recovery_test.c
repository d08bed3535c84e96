/* Tests of core/storage/store_recover.c and failure handling: torn tails, flipped bits, faults. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_crc32c.h"
#include "base/rf_err.h"
#include "sim/simdisk.h"
#include "storage/rf_record.h"
#include "storage/rf_store.h"

static rf_simdisk *disk;
static rf_fs fs;
static const rf_store_config cfg = {.segment_bytes = 4096};
#define SEG1 "wal-0000000000000001.log"
#define SEG2 "wal-0000000000000002.log"

static void setup(void)
{
    rf_pcg32 r;
    rf_pcg32_seed(&r, 7, 1);
    disk = rf_simdisk_new(&r);
    fs = rf_simdisk_fs(disk);
}

static void teardown(void)
{
    rf_simdisk_free(disk);
}

static rf_store *open_ok(void)
{
    rf_store *st;
    rf_store_recovery info;
    int rc = rf_store_open(&st, &fs, &cfg, &info);
    ck_assert_msg(rc == 0, "open: %d %s", rc, info.message);
    return st;
}

/* One batch: entry `index` of group 1, a 40-byte payload. */
static int put(rf_store *st, uint64_t index)
{
    rf_batch b;
    rf_batch_init(&b);
    unsigned char d[40];
    memset(d, (int)index, sizeof d);
    ck_assert_int_eq(rf_batch_entry(&b, 1, index, 1, d, sizeof d), 0);
    int rc = rf_store_commit(st, &b);
    rf_batch_close(&b);
    return rc;
}

static uint64_t last_index(rf_store *st)
{
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(st, 1, &gi), 0);
    return gi.last_index;
}

static uint64_t last_index_or_zero(rf_store *st)
{
    rf_store_group_info gi;
    return rf_store_group(st, 1, &gi) == RF_OK ? gi.last_index : 0;
}

static uint64_t size_of(const char *name)
{
    uint64_t size = 0;
    ck_assert_int_eq(rf_simdisk_file_size(disk, name, &size), 0);
    return size;
}

/* Five synced batches (entries 1..5 of group 1) in SEG1, store closed. */
static void write_five(void)
{
    rf_store *st = open_ok();
    for (uint64_t i = 1; i <= 5; i++)
        ck_assert_int_eq(put(st, i), 0);
    rf_store_close(st);
}

/* The store opens cleanly again and holds entries 1..5. */
static void reopens_with_five(void)
{
    rf_store *st = open_ok();
    ck_assert_uint_eq(last_index(st), 5);
    rf_store_close(st);
}

/* Every batch of `put` is 32 + 12 + 24 + 40 = 108 bytes. */
#define BATCH_BYTES 108

START_TEST(test_torn_last_write_is_cut_at_the_last_whole_batch)
{
    rf_store *st;
    write_five();
    /* Keep a prefix of the last batch, as a torn write does. */
    rf_fs_file *f;
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, SEG1, false, &f), 0);
    ck_assert_int_eq(fs.ops->truncate(fs.ctx, f, size_of(SEG1) - 50), 0);
    fs.ops->close(fs.ctx, f);
    rf_store_recovery info;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, &info), 0);
    ck_assert_uint_eq(info.tail_cut_bytes, BATCH_BYTES - 50);
    ck_assert_uint_eq(info.batches, 4);
    ck_assert_uint_eq(last_index(st), 4);
    ck_assert_uint_eq(size_of(SEG1), 32 + 4 * BATCH_BYTES);
    ck_assert_int_eq(put(st, 5), 0);
    rf_store_close(st);
    reopens_with_five();
}
END_TEST

static void append_raw(const char *name, const void *data, size_t len)
{
    rf_fs_file *f;
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, name, false, &f), 0);
    ck_assert_int_eq(fs.ops->append(fs.ctx, f, data, len), 0);
    ck_assert_int_eq(fs.ops->sync(fs.ctx, f), 0);
    fs.ops->close(fs.ctx, f);
}

START_TEST(test_zeros_after_the_last_batch_are_the_end_of_the_log)
{
    /* As left by a driver that writes zeros ahead (prod/posix_fs.c). */
    rf_store *st;
    write_five();
    static const unsigned char zeros[5000];
    append_raw(SEG1, zeros, sizeof zeros);
    rf_store_recovery info;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, &info), 0);
    ck_assert_uint_eq(info.tail_cut_bytes, sizeof zeros);
    ck_assert_uint_eq(last_index(st), 5);
    rf_store_close(st);
}
END_TEST

START_TEST(test_torn_batch_before_zeros_is_cut_and_earlier_batches_kept)
{
    rf_store *st;
    write_five();
    /* The last batch lost its last sector: zeros over its share of the
     * sector at 512 (the segment is 32 + 5 * 108 = 572 bytes). */
    unsigned char last[BATCH_BYTES];
    rf_fs_file *f;
    size_t got;
    uint64_t size = size_of(SEG1);
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, SEG1, false, &f), 0);
    ck_assert_int_eq(fs.ops->read(fs.ctx, f, size - BATCH_BYTES, last, BATCH_BYTES, &got), 0);
    ck_assert_int_eq(fs.ops->truncate(fs.ctx, f, size - BATCH_BYTES), 0);
    fs.ops->close(fs.ctx, f);
    memset(last + (512 - (size - BATCH_BYTES)), 0, size - 512);
    append_raw(SEG1, last, sizeof last);
    static const unsigned char zeros[3000];
    append_raw(SEG1, zeros, sizeof zeros);
    rf_store_recovery info;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, &info), 0);
    ck_assert_uint_eq(info.tail_cut_bytes, BATCH_BYTES + sizeof zeros);
    ck_assert_uint_eq(last_index(st), 4);
    rf_store_close(st);
}
END_TEST

START_TEST(test_a_record_of_an_unknown_version_is_refused_not_cut)
{
    rf_store *st = open_ok();
    for (uint64_t i = 1; i <= 3; i++)
        ck_assert_int_eq(put(st, i), 0);
    rf_store_close(st);
    /* The last batch as a later format version would write it: whole,
     * with valid checksums, version 2 in its header record. */
    unsigned char last[BATCH_BYTES];
    rf_fs_file *f;
    size_t got;
    uint64_t size = size_of(SEG1);
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, SEG1, false, &f), 0);
    ck_assert_int_eq(fs.ops->read(fs.ctx, f, size - BATCH_BYTES, last, BATCH_BYTES, &got), 0);
    ck_assert_int_eq(fs.ops->truncate(fs.ctx, f, size - BATCH_BYTES), 0);
    fs.ops->close(fs.ctx, f);
    last[9] = 2;
    rf_le_put32(last, rf_crc32c(last + 4, 8 + 20));
    append_raw(SEG1, last, sizeof last);
    rf_store_recovery info;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, &info), RF_EVERSION);
    ck_assert_msg(strstr(info.message, "unsupported version") != NULL, "%s", info.message);
    ck_assert_uint_eq(size_of(SEG1), size);
}
END_TEST

/* A whole last batch with no lost sector whose checksum fails went bad on
 * the medium after it was written, and it may have been acknowledged: the
 * store refuses to open, names the place, and cuts nothing. */
START_TEST(test_flipped_bit_in_a_whole_tail_batch_refuses_and_cuts_nothing)
{
    rf_store *st;
    write_five();
    uint64_t size = size_of(SEG1);
    ck_assert_int_eq(rf_simdisk_flip_bit(disk, SEG1, size - 10, 3), 0);
    rf_store_recovery info;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, &info), RF_ECORRUPT);
    ck_assert_msg(strstr(info.message, "offset 464") != NULL, "%s", info.message);
    ck_assert_msg(strstr(info.message, "nothing cut") != NULL, "%s", info.message);
    ck_assert_uint_eq(size_of(SEG1), size);
    ck_assert_int_eq(rf_simdisk_flip_bit(disk, SEG1, size - 10, 3), 0);
    reopens_with_five();
}
END_TEST

/* A disk whose every read flips a bit: no read of the last batch agrees
 * with the one before, so recovery can neither trust nor cut it. It
 * refuses, and every synced batch is still there once reads are sound. */
START_TEST(test_reads_that_never_agree_refuse_and_cut_nothing)
{
    rf_store *st;
    write_five();
    uint64_t size = size_of(SEG1);
    rf_simdisk_faults all = {.read_flip_ppm = 1000000};
    rf_simdisk_set_faults(disk, &all);
    rf_store_recovery info;
    int rc = rf_store_open(&st, &fs, &cfg, &info);
    ck_assert_int_ne(rc, 0);
    ck_assert_msg(rc == RF_EIO || rc == RF_ECORRUPT, "%d %s", rc, info.message);
    ck_assert_uint_eq(size_of(SEG1), size);
    rf_simdisk_faults none = {0};
    rf_simdisk_set_faults(disk, &none);
    reopens_with_five();
}
END_TEST

START_TEST(test_flipped_bit_in_the_middle_refuses_to_open_naming_file_and_offset)
{
    rf_store *st;
    write_five();
    /* A payload byte of the second batch, which has three after it. */
    uint64_t batch2 = 32 + BATCH_BYTES;
    ck_assert_int_eq(rf_simdisk_flip_bit(disk, SEG1, batch2 + 80, 0), 0);
    rf_store_recovery info;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, &info), RF_ECORRUPT);
    ck_assert_ptr_null(st);
    char want[64];
    snprintf(want, sizeof want, SEG1 " offset %llu", (unsigned long long)batch2);
    ck_assert_msg(strstr(info.message, want) != NULL, "message: %s", info.message);
    /* Nothing was cut or rewritten: the data is left for an operator. */
    ck_assert_uint_eq(size_of(SEG1), 32 + 5 * BATCH_BYTES);
}
END_TEST

START_TEST(test_flipped_bit_in_a_batch_header_in_the_middle_refuses)
{
    rf_store *st;
    write_five();
    ck_assert_int_eq(rf_simdisk_flip_bit(disk, SEG1, 32 + 2 * BATCH_BYTES + 13, 5), 0);
    rf_store_recovery info;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, &info), RF_ECORRUPT);
    ck_assert_msg(strstr(info.message, SEG1 " offset 248") != NULL, "message: %s", info.message);
}
END_TEST

START_TEST(test_flipped_bit_in_an_older_segment_refuses)
{
    rf_store *st = open_ok();
    for (uint64_t i = 1; i <= 60; i++)
        ck_assert_int_eq(put(st, i), 0);
    rf_store_close(st);
    ck_assert_uint_gt(size_of(SEG2), 0);
    /* The last batch of segment 1 is a tail only for the newest segment. */
    ck_assert_int_eq(rf_simdisk_flip_bit(disk, SEG1, size_of(SEG1) - 3, 1), 0);
    rf_store_recovery info;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, &info), RF_ECORRUPT);
    ck_assert_msg(strstr(info.message, SEG1 " offset ") != NULL, "message: %s", info.message);
}
END_TEST

START_TEST(test_flipped_bit_read_back_is_reported_not_returned)
{
    rf_store *st = open_ok();
    for (uint64_t i = 1; i <= 5; i++)
        ck_assert_int_eq(put(st, i), 0);
    ck_assert_int_eq(rf_simdisk_flip_bit(disk, SEG1, 32 + BATCH_BYTES + 80, 0), 0);
    unsigned char buf[64];
    uint64_t term;
    size_t len;
    ck_assert_int_eq(rf_store_entry(st, 1, 2, &term, buf, sizeof buf, &len), RF_ECHECKSUM);
    ck_assert_msg(strstr(rf_store_message(st), SEG1 " offset 172") != NULL, "%s",
                  rf_store_message(st));
    ck_assert_int_eq(rf_store_entry(st, 1, 3, &term, buf, sizeof buf, &len), 0);
    rf_store_close(st);
}
END_TEST

START_TEST(test_missing_snapshot_file_refuses_to_open)
{
    rf_store *st = open_ok();
    ck_assert_int_eq(put(st, 1), 0);
    rf_batch b;
    rf_batch_init(&b);
    ck_assert_int_eq(rf_batch_snapshot(&b, 1, 1, 1, "s", 1), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    rf_batch_close(&b);
    rf_store_close(st);
    ck_assert_int_eq(fs.ops->remove(fs.ctx, "snap-0000000000000001-0000000000000001.snap"), 0);
    rf_store_recovery info;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, &info), RF_ECORRUPT);
    ck_assert_msg(strstr(info.message, "snap-0000000000000001-0000000000000001.snap") != NULL,
                  "%s", info.message);
}
END_TEST

/* A fault: the commit reports it, the store keeps its acknowledged state,
 * refuses every later commit, and a reopen recovers a consistent prefix. */
static void fault_then_recover(const rf_simdisk_faults *faults, int want_rc)
{
    rf_store *st = open_ok();
    for (uint64_t i = 1; i <= 3; i++)
        ck_assert_int_eq(put(st, i), 0);
    rf_simdisk_set_faults(disk, faults);
    ck_assert_int_eq(put(st, 4), want_rc);
    rf_simdisk_faults none = {0};
    rf_simdisk_set_faults(disk, &none);
    ck_assert_int_eq(put(st, 4), RF_EREADONLY);
    ck_assert_int_eq(put(st, 5), RF_EREADONLY);
    rf_store_stats s;
    rf_store_stats_get(st, &s);
    ck_assert(s.failed);
    ck_assert_uint_eq(last_index(st), 3);
    unsigned char buf[64];
    uint64_t term;
    size_t len;
    ck_assert_int_eq(rf_store_entry(st, 1, 3, &term, buf, sizeof buf, &len), 0);
    rf_store_close(st);
    st = open_ok();
    uint64_t last = last_index(st);
    ck_assert(last == 3 || last == 4);
    ck_assert_int_eq(put(st, last + 1), 0);
    rf_store_close(st);
}

START_TEST(test_failed_write_is_reported_and_writes_refused_until_reopen)
{
    rf_simdisk_faults f = {.write_fail_ppm = 1000000};
    fault_then_recover(&f, RF_EIO);
}
END_TEST

START_TEST(test_failed_sync_is_reported_and_writes_refused_until_reopen)
{
    rf_simdisk_faults f = {.sync_fail_ppm = 1000000};
    fault_then_recover(&f, RF_EIO);
}
END_TEST

START_TEST(test_full_disk_is_reported_and_writes_refused_until_reopen)
{
    rf_simdisk_faults f = {.capacity_bytes = 32 + 3 * BATCH_BYTES + 10};
    fault_then_recover(&f, RF_ENOSPC);
}
END_TEST

START_TEST(test_random_faults_never_lose_acknowledged_batches)
{
    /* Many rounds of: commits under random write/sync failures, crash,
     * reopen. Every acknowledged entry must be there after each reopen. */
    rf_simdisk_faults f = {.write_fail_ppm = 50000, .sync_fail_ppm = 50000};
    uint64_t acked = 0;
    for (int round = 0; round < 40; round++) {
        rf_store *st = open_ok();
        uint64_t last = last_index_or_zero(st);
        ck_assert_uint_ge(last, acked);
        rf_simdisk_set_faults(disk, &f);
        for (int k = 0; k < 10; k++) {
            if (put(st, last + 1) != RF_OK)
                break;
            acked = ++last;
        }
        rf_store_close(st);
        rf_simdisk_crash(disk);
    }
    ck_assert_uint_gt(acked, 20);
}
END_TEST

Suite *storage_recovery_suite(void)
{
    Suite *s = suite_create("storage_recovery");
    TCase *tc = tcase_create("recovery");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_torn_last_write_is_cut_at_the_last_whole_batch);
    tcase_add_test(tc, test_flipped_bit_in_a_whole_tail_batch_refuses_and_cuts_nothing);
    tcase_add_test(tc, test_reads_that_never_agree_refuse_and_cut_nothing);
    tcase_add_test(tc, test_zeros_after_the_last_batch_are_the_end_of_the_log);
    tcase_add_test(tc, test_a_record_of_an_unknown_version_is_refused_not_cut);
    tcase_add_test(tc, test_torn_batch_before_zeros_is_cut_and_earlier_batches_kept);
    tcase_add_test(tc, test_flipped_bit_in_the_middle_refuses_to_open_naming_file_and_offset);
    tcase_add_test(tc, test_flipped_bit_in_a_batch_header_in_the_middle_refuses);
    tcase_add_test(tc, test_flipped_bit_in_an_older_segment_refuses);
    tcase_add_test(tc, test_flipped_bit_read_back_is_reported_not_returned);
    tcase_add_test(tc, test_missing_snapshot_file_refuses_to_open);
    tcase_add_test(tc, test_failed_write_is_reported_and_writes_refused_until_reopen);
    tcase_add_test(tc, test_failed_sync_is_reported_and_writes_refused_until_reopen);
    tcase_add_test(tc, test_full_disk_is_reported_and_writes_refused_until_reopen);
    tcase_add_test(tc, test_random_faults_never_lose_acknowledged_batches);
    suite_add_tcase(s, tc);
    return s;
}

/* Crash tests of core/storage over sim/simdisk: a crash at every disk operation. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/simdisk.h"
#include "storage/rf_store.h"
#include "tests/core/storage/store_model.h"

static const rf_store_config small_segments = {.segment_bytes = 8192, .cache_bytes = 2048};

/* Runs the workload until the disk fails; compacts after every third
 * batch. Returns how many batches were acknowledged. */
static size_t run_until_failure(rf_store *st, sm_workload *w)
{
    size_t acked = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (rf_store_commit(st, &w->batches[i]) != RF_OK)
            return acked;
        acked = i + 1;
        if (i % 3 == 2 && rf_store_compact(st, 4) != RF_OK)
            return acked;
    }
    return acked;
}

static rf_simdisk *new_disk(uint64_t seed)
{
    rf_pcg32 r;
    rf_pcg32_seed(&r, seed, 3);
    rf_simdisk *d = rf_simdisk_new(&r);
    ck_assert_ptr_nonnull(d);
    return d;
}

/* Crash at operation k for every k, then recover: the state must be that
 * after some prefix of the batches, a prefix holding every batch whose
 * commit (append + sync) returned success. */
static void crash_everywhere(uint64_t seed, const sm_params *p)
{
    sm_workload w;
    sm_workload_make(&w, p, seed);
    /* A run without a crash counts the operations. */
    rf_simdisk *d = new_disk(seed);
    rf_fs fs = rf_simdisk_fs(d);
    rf_store *st;
    ck_assert_int_eq(rf_store_open(&st, &fs, &small_segments, NULL), 0);
    uint64_t base = rf_simdisk_ops(d);
    ck_assert_uint_eq(run_until_failure(st, &w), w.n);
    ck_assert_uint_eq(sm_store_digest(st), w.digest[w.n]);
    uint64_t total = rf_simdisk_ops(d) - base;
    rf_store_close(st);
    rf_simdisk_free(d);

    for (uint64_t k = 0; k <= total; k++) {
        d = new_disk(seed * 1000003 + k);
        fs = rf_simdisk_fs(d);
        ck_assert_int_eq(rf_store_open(&st, &fs, &small_segments, NULL), 0);
        rf_simdisk_crash_at(d, rf_simdisk_ops(d) + k);
        size_t acked = run_until_failure(st, &w);
        rf_store_close(st);
        rf_simdisk_crash(d);
        rf_store_recovery info;
        int rc = rf_store_open(&st, &fs, &small_segments, &info);
        ck_assert_msg(rc == 0, "seed %llu crash at op %llu: recovery failed: %s",
                      (unsigned long long)seed, (unsigned long long)k, info.message);
        uint64_t got = sm_store_digest(st);
        bool ok = got == w.digest[acked] || (acked < w.n && got == w.digest[acked + 1]);
        ck_assert_msg(ok, "seed %llu crash at op %llu: recovered state is not batch %zu or %zu",
                      (unsigned long long)seed, (unsigned long long)k, acked, acked + 1);
        /* The recovered store accepts writes again. */
        rf_batch b;
        rf_batch_init(&b);
        ck_assert_int_eq(rf_batch_hard_state(&b, 999, 1, 1), 0);
        ck_assert_int_eq(rf_store_commit(st, &b), 0);
        rf_batch_close(&b);
        rf_store_close(st);
        rf_simdisk_free(d);
    }
    sm_workload_free(&w);
}

START_TEST(test_crash_at_every_operation_recovers_an_acknowledged_prefix)
{
    sm_params p = {.groups = 4, .batches = 80, .ops_per_batch_max = 6, .payload_bytes_max = 48,
                   .with_drops = false};
    crash_everywhere(1000 + (uint64_t)_i, &p);
}
END_TEST

START_TEST(test_crash_at_every_operation_with_dropped_groups)
{
    sm_params p = {.groups = 3, .batches = 30, .ops_per_batch_max = 5, .payload_bytes_max = 32,
                   .with_drops = true};
    crash_everywhere(2000 + (uint64_t)_i, &p);
}
END_TEST

/* Crash again during the recovery of a crash: recovery's own writes
 * (tail cut, leftover removal) must be crash-safe too. */
START_TEST(test_crash_during_recovery_still_recovers)
{
    sm_params p = {.groups = 3, .batches = 25, .ops_per_batch_max = 5, .payload_bytes_max = 40};
    sm_workload w;
    sm_workload_make(&w, &p, 31);
    for (uint64_t k = 0; k < 60; k++) {
        rf_simdisk *d = new_disk(500 + k);
        rf_fs fs = rf_simdisk_fs(d);
        rf_store *st;
        ck_assert_int_eq(rf_store_open(&st, &fs, &small_segments, NULL), 0);
        rf_simdisk_crash_at(d, rf_simdisk_ops(d) + k);
        size_t acked = run_until_failure(st, &w);
        rf_store_close(st);
        rf_simdisk_crash(d);
        for (uint64_t j = 0; j < 3; j++) {
            rf_simdisk_crash_at(d, rf_simdisk_ops(d) + j);
            if (rf_store_open(&st, &fs, &small_segments, NULL) == RF_OK)
                rf_store_close(st);
            rf_simdisk_crash(d);
        }
        rf_store_recovery info;
        ck_assert_msg(rf_store_open(&st, &fs, &small_segments, &info) == 0, "%s", info.message);
        uint64_t got = sm_store_digest(st);
        ck_assert(got == w.digest[acked] || (acked < w.n && got == w.digest[acked + 1]));
        rf_store_close(st);
        rf_simdisk_free(d);
    }
    sm_workload_free(&w);
}
END_TEST

/* Reads that flip a bit in transit (not on the medium) must neither make
 * recovery cut acknowledged batches nor refuse a sound log: the store
 * reads again before it believes a bad checksum. */
START_TEST(test_transient_read_flips_do_not_cut_or_refuse_a_sound_log)
{
    sm_params p = {.groups = 4, .batches = 60, .ops_per_batch_max = 6, .payload_bytes_max = 48};
    sm_workload w;
    sm_workload_make(&w, &p, 77);
    rf_simdisk *d = new_disk(77);
    rf_fs fs = rf_simdisk_fs(d);
    rf_store *st;
    ck_assert_int_eq(rf_store_open(&st, &fs, &small_segments, NULL), 0);
    ck_assert_uint_eq(run_until_failure(st, &w), w.n);
    rf_store_close(st);
    rf_simdisk_faults flips = {.read_flip_ppm = 50000};
    for (int round = 0; round < 50; round++) {
        rf_simdisk_set_faults(d, &flips);
        rf_store_recovery info;
        int rc = rf_store_open(&st, &fs, &small_segments, &info);
        ck_assert_msg(rc == 0, "round %d: %s", round, info.message);
        ck_assert_uint_eq(info.tail_cut_bytes, 0);
        rf_simdisk_faults none = {0};
        rf_simdisk_set_faults(d, &none);
        ck_assert_uint_eq(sm_store_digest(st), w.digest[w.n]);
        rf_store_close(st);
    }
    rf_simdisk_free(d);
    sm_workload_free(&w);
}
END_TEST

/* Many generations on one disk: run the workload under write and sync
 * failures until a random crash, recover, check, continue from there. */
START_TEST(test_repeated_crashes_and_faults_keep_every_acknowledged_batch)
{
    uint64_t seed = 100 + (uint64_t)_i;
    sm_params p = {.groups = 6, .batches = 300, .ops_per_batch_max = 8, .payload_bytes_max = 60,
                   .with_drops = seed % 2 == 1};
    sm_workload w;
    sm_workload_make(&w, &p, seed);
    rf_pcg32 r;
    rf_pcg32_seed(&r, seed, 5);
    rf_simdisk *d = rf_simdisk_new(&r);
    rf_fs fs = rf_simdisk_fs(d);
    rf_store_config c = {.segment_bytes = 4096 * (1 + seed % 4), .cache_bytes = seed % 3 ? 3000 : 0};
    size_t next = 0;
    int generations = 0;
    for (;; generations++) {
        rf_store *st;
        rf_store_recovery info;
        ck_assert_msg(rf_store_open(&st, &fs, &c, &info) == 0, "seed %llu: %s",
                      (unsigned long long)seed, info.message);
        uint64_t got = sm_store_digest(st);
        if (got != w.digest[next]) {
            ck_assert_msg(next < w.n && got == w.digest[next + 1], "seed %llu: lost batches at %zu",
                          (unsigned long long)seed, next);
            next++;
        }
        if (next == w.n) {
            rf_store_close(st);
            break;
        }
        rf_simdisk_crash_at(d, rf_simdisk_ops(d) + rf_pcg32_bounded(&r, 400));
        rf_simdisk_faults f = {.write_fail_ppm = 3000, .sync_fail_ppm = 3000};
        rf_simdisk_set_faults(d, &f);
        while (next < w.n && rf_store_commit(st, &w.batches[next]) == RF_OK) {
            next++;
            if (rf_pcg32_bounded(&r, 4) == 0 && rf_store_compact(st, 3) != RF_OK)
                break;
        }
        rf_store_close(st);
        rf_simdisk_crash(d);
    }
    ck_assert_int_gt(generations, 5);
    rf_simdisk_free(d);
    sm_workload_free(&w);
}
END_TEST

static int count_tmp(void *arg, const char *name)
{
    size_t n = strlen(name);
    *(int *)arg += n > 4 && strcmp(name + n - 4, ".tmp") == 0;
    return 0;
}

/* A snapshot replaces an older one: crash at each operation of that commit
 * (temporary file, its sync, the rename, the directory sync, the marker's
 * append and sync). After recovery the group has the old snapshot or the
 * new one, whole, and no temporary file is left. */
/* Opens a store holding entries 1..20 of group 1 and a snapshot at 5. */
static rf_store *store_with_old_snapshot(rf_fs *fs)
{
    rf_store *st;
    ck_assert_int_eq(rf_store_open(&st, fs, &small_segments, NULL), 0);
    rf_batch b;
    rf_batch_init(&b);
    for (uint64_t i = 1; i <= 20; i++)
        ck_assert_int_eq(rf_batch_entry(&b, 1, i, 1, "e", 1), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    rf_batch_reset(&b);
    ck_assert_int_eq(rf_batch_snapshot(&b, 1, 5, 1, "old-snapshot", 12), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    rf_batch_close(&b);
    return st;
}

static void expect_old_or_new_snapshot(rf_store *st, bool acked)
{
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(st, 1, &gi), 0);
    char buf[32];
    size_t len;
    ck_assert_int_eq(rf_store_snapshot_read(st, 1, buf, sizeof buf, &len), 0);
    if (gi.snapshot_index == 5) {
        ck_assert(!acked);
        ck_assert(len == 12 && memcmp(buf, "old-snapshot", 12) == 0);
        ck_assert_uint_eq(gi.first_index, 6);
    } else {
        ck_assert_uint_eq(gi.snapshot_index, 15);
        ck_assert(len == 13 && memcmp(buf, "new-snapshot!", 13) == 0);
        ck_assert_uint_eq(gi.first_index, 16);
    }
    ck_assert_uint_eq(gi.last_index, 20);
}

/* A snapshot replaces an older one: crash at each operation of that commit
 * (temporary file, its sync, the rename, the directory sync, the marker's
 * append and sync). After recovery the group has the old snapshot or the
 * new one, whole, and no temporary file is left. */
START_TEST(test_crash_during_snapshot_install_keeps_old_or_new_snapshot)
{
    rf_batch b;
    rf_batch_init(&b);
    ck_assert_int_eq(rf_batch_snapshot(&b, 1, 15, 1, "new-snapshot!", 13), 0);
    rf_simdisk *d = new_disk(900);
    rf_fs fs = rf_simdisk_fs(d);
    rf_store *st = store_with_old_snapshot(&fs);
    uint64_t before = rf_simdisk_ops(d);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    uint64_t ops = rf_simdisk_ops(d) - before;
    ck_assert_uint_ge(ops, 9); /* open, truncate, 2 appends, sync, rename, sync_dir, append, sync */
    rf_store_close(st);
    rf_simdisk_free(d);
    for (uint64_t k = 0; k <= ops; k++) {
        d = new_disk(901 + k);
        fs = rf_simdisk_fs(d);
        st = store_with_old_snapshot(&fs);
        rf_simdisk_crash_at(d, rf_simdisk_ops(d) + k);
        int rc = rf_store_commit(st, &b);
        ck_assert_int_eq(rc == RF_OK, k == ops);
        rf_store_close(st);
        rf_simdisk_crash(d);
        rf_store_recovery info;
        ck_assert_msg(rf_store_open(&st, &fs, &small_segments, &info) == 0, "k %llu: %s",
                      (unsigned long long)k, info.message);
        expect_old_or_new_snapshot(st, rc == RF_OK);
        int tmps = 0;
        ck_assert_int_eq(fs.ops->list(fs.ctx, count_tmp, &tmps), 0);
        ck_assert_int_eq(tmps, 0);
        rf_store_close(st);
        rf_simdisk_free(d);
    }
    rf_batch_close(&b);
}
END_TEST

Suite *storage_crash_suite(void)
{
    Suite *s = suite_create("storage_crash");
    TCase *tc = tcase_create("crash");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_crash_at_every_operation_recovers_an_acknowledged_prefix, 0, 12);
    tcase_add_loop_test(tc, test_crash_at_every_operation_with_dropped_groups, 0, 8);
    tcase_add_test(tc, test_crash_during_recovery_still_recovers);
    tcase_add_test(tc, test_transient_read_flips_do_not_cut_or_refuse_a_sound_log);
    tcase_add_test(tc, test_crash_during_snapshot_install_keeps_old_or_new_snapshot);
    tcase_add_loop_test(tc, test_repeated_crashes_and_faults_keep_every_acknowledged_batch, 0, 8);
    suite_add_tcase(s, tc);
    return s;
}

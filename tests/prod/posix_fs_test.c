/* Tests of prod/posix_fs.c on real files in a temporary directory, and the store on it. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/rf_err.h"
#include "prod/posix_fs.h"
#include "storage/rf_store.h"

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/rf-posixfs-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static int remove_one(void *arg, const char *name)
{
    rf_fs *fs = arg;
    return fs->ops->remove(fs->ctx, name);
}

/* Removes what the tests left, through the interface, then the folder. */
static void teardown(void)
{
    rf_posix_fs *p;
    if (rf_posix_fs_open(&p, dir, false) == RF_OK) {
        rf_fs fs = rf_posix_fs_fs(p);
        fs.ops->list(fs.ctx, remove_one, &fs);
        rf_posix_fs_close(p);
    }
    rmdir(dir);
}

static int collect(void *arg, const char *name)
{
    strcat(arg, name);
    strcat(arg, ",");
    return 0;
}

START_TEST(test_posix_fs_append_read_truncate_rename_list)
{
    rf_posix_fs *p;
    ck_assert_int_eq(rf_posix_fs_open(&p, dir, false), 0);
    rf_fs fs = rf_posix_fs_fs(p);
    rf_fs_file *f;
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, "b.tmp", false, &f), RF_ENOTFOUND);
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, "b.tmp", true, &f), 0);
    ck_assert_int_eq(fs.ops->append(fs.ctx, f, "hello ", 6), 0);
    ck_assert_int_eq(fs.ops->append(fs.ctx, f, "world", 5), 0);
    ck_assert_int_eq(fs.ops->sync(fs.ctx, f), 0);
    uint64_t size;
    ck_assert_int_eq(fs.ops->size(fs.ctx, f, &size), 0);
    ck_assert_uint_eq(size, 11);
    char buf[32];
    size_t got;
    ck_assert_int_eq(fs.ops->read(fs.ctx, f, 6, buf, sizeof buf, &got), 0);
    ck_assert_uint_eq(got, 5);
    ck_assert(memcmp(buf, "world", 5) == 0);
    ck_assert_int_eq(fs.ops->truncate(fs.ctx, f, 5), 0);
    ck_assert_int_eq(fs.ops->append(fs.ctx, f, "!", 1), 0);
    ck_assert_int_eq(fs.ops->read(fs.ctx, f, 0, buf, sizeof buf, &got), 0);
    ck_assert_uint_eq(got, 6);
    ck_assert(memcmp(buf, "hello!", 6) == 0);
    fs.ops->close(fs.ctx, f);
    ck_assert_int_eq(fs.ops->rename(fs.ctx, "b.tmp", "a.snap"), 0);
    ck_assert_int_eq(fs.ops->sync_dir(fs.ctx), 0);
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, "c", true, &f), 0);
    fs.ops->close(fs.ctx, f);
    char names[64] = "";
    ck_assert_int_eq(fs.ops->list(fs.ctx, collect, names), 0);
    ck_assert_str_eq(names, "a.snap,c,");
    ck_assert_int_eq(fs.ops->remove(fs.ctx, "c"), 0);
    ck_assert_int_eq(fs.ops->remove(fs.ctx, "c"), RF_ENOTFOUND);
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, "../escape", true, &f), RF_EINVAL);
    rf_posix_fs_close(p);
}
END_TEST

/* A log segment grows by zeros written at most RF_POSIX_FS_PREALLOC_BYTES
 * ahead of its appends (the commit whose fdatasync flushes them waits for
 * all of them); other files get none. */
START_TEST(test_log_segment_zeros_stay_a_step_ahead)
{
    rf_posix_fs *p;
    ck_assert_int_eq(rf_posix_fs_open(&p, dir, false), 0);
    rf_fs fs = rf_posix_fs_fs(p);
    rf_fs_file *f;
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, "s.log", true, &f), 0);
    static char data[300000];
    memset(data, 'x', sizeof data);
    uint64_t appended = 0, size;
    size_t steps[] = {1000, 1, sizeof data, 4096, sizeof data, 77};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        ck_assert_int_eq(fs.ops->append(fs.ctx, f, data, steps[i]), 0);
        appended += steps[i];
        ck_assert_int_eq(fs.ops->size(fs.ctx, f, &size), 0);
        ck_assert_uint_ge(size, appended);
        ck_assert_uint_lt(size, appended + RF_POSIX_FS_PREALLOC_BYTES);
        /* The latency budget: a commit never flushes more than 256 KiB of
         * zeros (4 MiB held one for 10-28 ms). */
        ck_assert_uint_le(size - appended, 256u << 10);
        ck_assert_uint_eq(size % RF_POSIX_FS_PREALLOC_BYTES, 0);
    }
    char tail[64], zeros[64] = {0};
    size_t got;
    ck_assert_int_eq(fs.ops->read(fs.ctx, f, appended, tail, sizeof tail, &got), 0);
    ck_assert_uint_eq(got, sizeof tail);
    ck_assert(memcmp(tail, zeros, sizeof tail) == 0);
    ck_assert_int_eq(fs.ops->read(fs.ctx, f, appended - 1, tail, 1, &got), 0);
    ck_assert_int_eq(tail[0], 'x');
    fs.ops->close(fs.ctx, f);
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, "s.snap", true, &f), 0);
    ck_assert_int_eq(fs.ops->append(fs.ctx, f, data, 1000), 0);
    ck_assert_int_eq(fs.ops->size(fs.ctx, f, &size), 0);
    ck_assert_uint_eq(size, 1000);
    fs.ops->close(fs.ctx, f);
    rf_posix_fs_close(p);
}
END_TEST

START_TEST(test_store_on_posix_files_survives_reopen)
{
    rf_posix_fs *p;
    ck_assert_int_eq(rf_posix_fs_open(&p, dir, false), 0);
    rf_fs fs = rf_posix_fs_fs(p);
    rf_store_config cfg = {.segment_bytes = 8192};
    rf_store *st;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, NULL), 0);
    rf_batch b;
    rf_batch_init(&b);
    for (uint64_t i = 1; i <= 300; i++) {
        rf_batch_reset(&b);
        char d[16];
        int n = snprintf(d, sizeof d, "e%llu", (unsigned long long)i);
        ck_assert_int_eq(rf_batch_entry(&b, i % 3, i / 3 + (i % 3 != 0), 1, d, (size_t)n), 0);
        ck_assert_int_eq(rf_store_commit(st, &b), 0);
    }
    rf_batch_reset(&b);
    ck_assert_int_eq(rf_batch_snapshot(&b, 0, 50, 1, "snap", 4), 0);
    ck_assert_int_eq(rf_store_commit(st, &b), 0);
    rf_batch_close(&b);
    rf_store_close(st);
    rf_store_recovery info;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, &info), 0);
    ck_assert_uint_gt(info.segments, 1);
    /* Segments are written into zeros allocated ahead; a clean close cut
     * them, so recovery finds no tail. */
    ck_assert_uint_eq(info.tail_cut_bytes, 0);
    rf_store_group_info gi;
    ck_assert_int_eq(rf_store_group(st, 0, &gi), 0);
    ck_assert_uint_eq(gi.snapshot_index, 50);
    ck_assert_uint_eq(gi.last_index, 100);
    char buf[16];
    uint64_t term;
    size_t len;
    ck_assert_int_eq(rf_store_entry(st, 0, 51, &term, buf, sizeof buf, &len), 0);
    ck_assert_uint_eq(len, 4);
    ck_assert(memcmp(buf, "e153", 4) == 0);
    ck_assert_int_eq(rf_store_snapshot_read(st, 0, buf, sizeof buf, &len), 0);
    ck_assert(memcmp(buf, "snap", 4) == 0);
    rf_store_close(st);
    rf_posix_fs_close(p);
}
END_TEST

static void *io_thread(void *arg)
{
    rf_store_io_run(arg);
    return NULL;
}

/* The threading contract on real files: the I/O of commit n runs on a
 * second thread while the owner reads entries already durable (from the
 * files: no cache) and builds batch n + 1. */
START_TEST(test_commit_io_on_a_worker_thread_while_the_owner_reads)
{
    rf_posix_fs *p;
    ck_assert_int_eq(rf_posix_fs_open(&p, dir, false), 0);
    rf_fs fs = rf_posix_fs_fs(p);
    rf_store_config cfg = {.segment_bytes = 64 * 1024};
    rf_store *st;
    ck_assert_int_eq(rf_store_open(&st, &fs, &cfg, NULL), 0);
    rf_batch batches[2];
    rf_batch_init(&batches[0]);
    rf_batch_init(&batches[1]);
    uint64_t durable = 0;
    for (uint64_t n = 0; n < 100; n++) {
        rf_batch *b = &batches[n % 2];
        rf_batch_reset(b);
        for (uint64_t k = 1; k <= 20; k++) {
            uint64_t idx = n * 20 + k;
            ck_assert_int_eq(rf_batch_entry(b, 1, idx, 1, &idx, sizeof idx), 0);
        }
        ck_assert_int_eq(rf_store_commit_begin(st, b), 0);
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, io_thread, st), 0);
        for (uint64_t i = 1; i <= durable; i += 7) {
            uint64_t v = 0, term;
            size_t len;
            ck_assert_int_eq(rf_store_entry(st, 1, i, &term, &v, sizeof v, &len), 0);
            ck_assert_uint_eq(v, i);
        }
        pthread_join(th, NULL);
        ck_assert_int_eq(rf_store_commit_end(st), 0);
        durable = n * 20 + 20;
    }
    rf_store_stats s;
    rf_store_stats_get(st, &s);
    ck_assert_uint_gt(s.segments, 1);
    rf_batch_close(&batches[0]);
    rf_batch_close(&batches[1]);
    rf_store_close(st);
    rf_posix_fs_close(p);
}
END_TEST

Suite *posix_fs_suite(void)
{
    Suite *s = suite_create("posix_fs");
    TCase *tc = tcase_create("posix_fs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_posix_fs_append_read_truncate_rename_list);
    tcase_add_test(tc, test_log_segment_zeros_stay_a_step_ahead);
    tcase_add_test(tc, test_store_on_posix_files_survives_reopen);
    tcase_add_test(tc, test_commit_io_on_a_worker_thread_while_the_owner_reads);
    suite_add_tcase(s, tc);
    return s;
}

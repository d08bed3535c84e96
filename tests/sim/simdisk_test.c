/* Tests of sim/simdisk.c: durability rules, torn writes, faults, determinism. */
#include <check.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/simdisk.h"

static rf_simdisk *make(uint64_t seed)
{
    rf_pcg32 r;
    rf_pcg32_seed(&r, seed, 9);
    rf_simdisk *d = rf_simdisk_new(&r);
    ck_assert_ptr_nonnull(d);
    return d;
}

static uint64_t size_or_missing(rf_simdisk *d, const char *name)
{
    uint64_t size;
    return rf_simdisk_file_size(d, name, &size) == RF_OK ? size : UINT64_MAX;
}

START_TEST(test_synced_data_survives_a_crash_and_unsynced_data_may_not)
{
    for (uint64_t seed = 0; seed < 50; seed++) {
        rf_simdisk *d = make(seed);
        rf_fs fs = rf_simdisk_fs(d);
        rf_fs_file *f;
        ck_assert_int_eq(fs.ops->open_file(fs.ctx, "a", true, &f), 0);
        ck_assert_int_eq(fs.ops->sync_dir(fs.ctx), 0);
        ck_assert_int_eq(fs.ops->append(fs.ctx, f, "0123456789", 10), 0);
        ck_assert_int_eq(fs.ops->sync(fs.ctx, f), 0);
        ck_assert_int_eq(fs.ops->append(fs.ctx, f, "abcdefghij", 10), 0);
        rf_simdisk_crash(d);
        uint64_t size = size_or_missing(d, "a");
        ck_assert_uint_ge(size, 10);
        ck_assert_uint_le(size, 20);
        /* The old handle is stale; a new one reads what survived. */
        char buf[32];
        size_t got;
        ck_assert_int_eq(fs.ops->read(fs.ctx, f, 0, buf, sizeof buf, &got), RF_EIO);
        fs.ops->close(fs.ctx, f);
        ck_assert_int_eq(fs.ops->open_file(fs.ctx, "a", false, &f), 0);
        ck_assert_int_eq(fs.ops->read(fs.ctx, f, 0, buf, sizeof buf, &got), 0);
        ck_assert_uint_eq(got, size);
        ck_assert(memcmp(buf, "0123456789abcdefghij", got) == 0); /* a prefix, torn */
        fs.ops->close(fs.ctx, f);
        rf_simdisk_free(d);
    }
}
END_TEST

START_TEST(test_torn_writes_keep_none_some_or_all_across_seeds)
{
    bool none = false, part = false, all = false;
    for (uint64_t seed = 0; seed < 60; seed++) {
        rf_simdisk *d = make(seed);
        rf_fs fs = rf_simdisk_fs(d);
        rf_fs_file *f;
        ck_assert_int_eq(fs.ops->open_file(fs.ctx, "a", true, &f), 0);
        ck_assert_int_eq(fs.ops->sync_dir(fs.ctx), 0);
        ck_assert_int_eq(fs.ops->append(fs.ctx, f, "0123456789", 10), 0);
        fs.ops->close(fs.ctx, f);
        rf_simdisk_crash(d);
        uint64_t size = size_or_missing(d, "a");
        none |= size == 0;
        part |= size > 0 && size < 10;
        all |= size == 10;
        rf_simdisk_free(d);
    }
    ck_assert(none && part && all);
}
END_TEST

START_TEST(test_directory_operations_need_sync_dir)
{
    bool lost = false, kept = false;
    for (uint64_t seed = 0; seed < 40; seed++) {
        rf_simdisk *d = make(seed);
        rf_fs fs = rf_simdisk_fs(d);
        rf_fs_file *f;
        ck_assert_int_eq(fs.ops->open_file(fs.ctx, "tmp", true, &f), 0);
        ck_assert_int_eq(fs.ops->append(fs.ctx, f, "x", 1), 0);
        ck_assert_int_eq(fs.ops->sync(fs.ctx, f), 0);
        fs.ops->close(fs.ctx, f);
        ck_assert_int_eq(fs.ops->rename(fs.ctx, "tmp", "final"), 0);
        rf_simdisk_crash(d);
        bool has_final = size_or_missing(d, "final") == 1;
        bool has_tmp = size_or_missing(d, "tmp") == 1;
        ck_assert(!(has_final && has_tmp)); /* a rename is atomic */
        lost |= !has_final;
        kept |= has_final;
        rf_simdisk_free(d);
    }
    ck_assert(lost && kept);
    rf_simdisk *d = make(1);
    rf_fs fs = rf_simdisk_fs(d);
    rf_fs_file *f;
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, "tmp", true, &f), 0);
    fs.ops->close(fs.ctx, f);
    ck_assert_int_eq(fs.ops->rename(fs.ctx, "tmp", "final"), 0);
    ck_assert_int_eq(fs.ops->sync_dir(fs.ctx), 0);
    rf_simdisk_crash(d);
    ck_assert_uint_eq(size_or_missing(d, "final"), 0);
    ck_assert_uint_eq(size_or_missing(d, "tmp"), UINT64_MAX);
    rf_simdisk_free(d);
}
END_TEST

START_TEST(test_armed_crash_stops_the_disk_at_that_operation)
{
    rf_simdisk *d = make(3);
    rf_fs fs = rf_simdisk_fs(d);
    rf_fs_file *f;
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, "a", true, &f), 0);
    ck_assert_uint_eq(rf_simdisk_ops(d), 1);
    rf_simdisk_crash_at(d, 2);
    ck_assert_int_eq(fs.ops->append(fs.ctx, f, "ab", 2), 0);
    ck_assert(!rf_simdisk_crashed(d));
    ck_assert_int_eq(fs.ops->sync(fs.ctx, f), RF_EIO);
    ck_assert(rf_simdisk_crashed(d));
    ck_assert_int_eq(fs.ops->append(fs.ctx, f, "cd", 2), RF_EIO);
    ck_assert_int_eq(fs.ops->sync_dir(fs.ctx), RF_EIO);
    fs.ops->close(fs.ctx, f);
    rf_simdisk_crash(d);
    ck_assert(!rf_simdisk_crashed(d));
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, "b", true, &f), 0);
    fs.ops->close(fs.ctx, f);
    rf_simdisk_free(d);
}
END_TEST

START_TEST(test_faults_fail_writes_syncs_and_fill_the_disk)
{
    rf_simdisk *d = make(4);
    rf_fs fs = rf_simdisk_fs(d);
    rf_fs_file *f;
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, "a", true, &f), 0);
    rf_simdisk_faults full = {.capacity_bytes = 8};
    rf_simdisk_set_faults(d, &full);
    ck_assert_int_eq(fs.ops->append(fs.ctx, f, "12345", 5), 0);
    ck_assert_int_eq(fs.ops->append(fs.ctx, f, "12345", 5), RF_ENOSPC);
    ck_assert_uint_eq(rf_simdisk_used_bytes(d), 5);
    rf_simdisk_faults bad = {.write_fail_ppm = 1000000, .sync_fail_ppm = 1000000};
    rf_simdisk_set_faults(d, &bad);
    ck_assert_int_eq(fs.ops->append(fs.ctx, f, "x", 1), RF_EIO);
    ck_assert_int_eq(fs.ops->sync(fs.ctx, f), RF_EIO);
    ck_assert_int_eq(fs.ops->sync_dir(fs.ctx), RF_EIO);
    rf_simdisk_faults flips = {.read_flip_ppm = 1000000};
    rf_simdisk_set_faults(d, &flips);
    char buf[8];
    size_t got;
    ck_assert_int_eq(fs.ops->read(fs.ctx, f, 0, buf, 5, &got), 0);
    ck_assert_uint_eq(got, 5);
    ck_assert(memcmp(buf, "12345", 5) != 0); /* one bit flipped in the copy */
    rf_simdisk_faults none = {0};
    rf_simdisk_set_faults(d, &none);
    ck_assert_int_eq(fs.ops->read(fs.ctx, f, 0, buf, 5, &got), 0);
    ck_assert(memcmp(buf, "12345", 5) == 0); /* not on the medium */
    ck_assert_int_eq(rf_simdisk_flip_bit(d, "a", 0, 0), 0);
    ck_assert_int_eq(fs.ops->read(fs.ctx, f, 0, buf, 5, &got), 0);
    ck_assert_int_eq(buf[0], '0');
    fs.ops->close(fs.ctx, f);
    rf_simdisk_free(d);
}
END_TEST

static int collect(void *arg, const char *name)
{
    char *out = arg;
    strcat(out, name);
    strcat(out, ",");
    return 0;
}

START_TEST(test_list_is_sorted_and_names_are_checked)
{
    rf_simdisk *d = make(5);
    rf_fs fs = rf_simdisk_fs(d);
    rf_fs_file *f;
    const char *names[] = {"c", "a", "b-1.log"};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(fs.ops->open_file(fs.ctx, names[i], true, &f), 0);
        fs.ops->close(fs.ctx, f);
    }
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, "../x", true, &f), RF_EINVAL);
    ck_assert_int_eq(fs.ops->open_file(fs.ctx, "missing", false, &f), RF_ENOTFOUND);
    char out[64] = "";
    ck_assert_int_eq(fs.ops->list(fs.ctx, collect, out), 0);
    ck_assert_str_eq(out, "a,b-1.log,c,");
    ck_assert_int_eq(fs.ops->remove(fs.ctx, "a"), 0);
    ck_assert_int_eq(fs.ops->remove(fs.ctx, "a"), RF_ENOTFOUND);
    rf_simdisk_free(d);
}
END_TEST

START_TEST(test_same_seed_same_crash_outcome)
{
    uint64_t sizes[2];
    for (int run = 0; run < 2; run++) {
        rf_simdisk *d = make(77);
        rf_fs fs = rf_simdisk_fs(d);
        rf_fs_file *f;
        ck_assert_int_eq(fs.ops->open_file(fs.ctx, "a", true, &f), 0);
        ck_assert_int_eq(fs.ops->sync_dir(fs.ctx), 0);
        for (int i = 0; i < 20; i++)
            ck_assert_int_eq(fs.ops->append(fs.ctx, f, "0123456789", 10), 0);
        fs.ops->close(fs.ctx, f);
        rf_simdisk_crash(d);
        sizes[run] = size_or_missing(d, "a");
        rf_simdisk_free(d);
    }
    ck_assert_uint_eq(sizes[0], sizes[1]);
}
END_TEST

Suite *simdisk_suite(void)
{
    Suite *s = suite_create("simdisk");
    TCase *tc = tcase_create("simdisk");
    tcase_add_test(tc, test_synced_data_survives_a_crash_and_unsynced_data_may_not);
    tcase_add_test(tc, test_torn_writes_keep_none_some_or_all_across_seeds);
    tcase_add_test(tc, test_directory_operations_need_sync_dir);
    tcase_add_test(tc, test_armed_crash_stops_the_disk_at_that_operation);
    tcase_add_test(tc, test_faults_fail_writes_syncs_and_fill_the_disk);
    tcase_add_test(tc, test_list_is_sorted_and_names_are_checked);
    tcase_add_test(tc, test_same_seed_same_crash_outcome);
    suite_add_tcase(s, tc);
    return s;
}

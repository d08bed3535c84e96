/* rf_fs: the file interface through which core/storage reaches a disk. */
#ifndef RF_FS_H
#define RF_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The driver implements these operations over one directory: sim/simdisk.c
 * over a faulty in-memory disk, prod/posix_fs.c over real files. Names are
 * flat (no '/'), at most RF_FS_NAME_BYTES_MAX bytes of [a-z0-9.-].
 *
 * Every operation returns 0 or an rf_err code: RF_EIO for a failed
 * operation, RF_ENOSPC for a full disk, RF_ENOTFOUND for a missing name,
 * RF_EEXIST when create would clobber, RF_EINVAL for a bad name.
 *
 * Durability contract (POSIX's): appended bytes survive a crash only after
 * sync of that file; a create, rename or remove survives only after
 * sync_dir. A crash may keep any prefix of the unsynced appends and any
 * prefix of the unsynced directory operations, in their order.
 *
 * Threading: an rf_fs may be used from two threads at once provided they
 * touch different files, or one only reads bytes the other already
 * appended (the store's pipelined commit, rf_store.h). */
#define RF_FS_NAME_BYTES_MAX 63

typedef struct rf_fs_file rf_fs_file; /* opaque, defined by the driver */

/* Called once per name by list, in ascending byte order; a non-zero
 * return stops the listing and is returned by list. */
typedef int (*rf_fs_list_fn)(void *arg, const char *name);

typedef struct rf_fs_ops {
    /* Opens name for reading and appending. With create, a missing file
     * is created empty (then it needs sync_dir to survive a crash);
     * without, a missing file is RF_ENOTFOUND. */
    int (*open_file)(void *ctx, const char *name, bool create, rf_fs_file **out);
    /* Releases the handle; never fails, also after a crash. */
    void (*close)(void *ctx, rf_fs_file *f);
    int (*size)(void *ctx, rf_fs_file *f, uint64_t *size_out);
    /* Appends len bytes at the end. On failure a prefix may be written. */
    int (*append)(void *ctx, rf_fs_file *f, const void *buf, size_t len);
    int (*sync)(void *ctx, rf_fs_file *f);
    /* Reads up to len bytes at off; *got < len only at the end of file. */
    int (*read)(void *ctx, rf_fs_file *f, uint64_t off, void *buf, size_t len, size_t *got);
    /* Cuts the file to size bytes; durable after the next sync. */
    int (*truncate)(void *ctx, rf_fs_file *f, uint64_t size);
    int (*remove)(void *ctx, const char *name);
    /* Atomically replaces to (if present) by from. */
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*list)(void *ctx, rf_fs_list_fn fn, void *arg);
    int (*sync_dir)(void *ctx);
} rf_fs_ops;

typedef struct rf_fs {
    const rf_fs_ops *ops;
    void *ctx;
} rf_fs;

#endif

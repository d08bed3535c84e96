/* posix_fs: the rf_fs file interface on a real POSIX directory. */
#ifndef PROD_POSIX_FS_H
#define PROD_POSIX_FS_H

#include "storage/rf_fs.h"

/* One directory, opened once; files are reached relative to it (openat,
 * renameat, unlinkat), sync is fdatasync, sync_dir is fsync of the
 * directory. Thread-safety: as rf_fs.h; pread and pwrite on distinct
 * handles or distinct ranges need no lock, and the handles carry no shared
 * state besides the append offset, which only the appending thread uses. */
typedef struct rf_posix_fs rf_posix_fs;

/* A log segment ("*.log") grows by this many bytes of zeros at a time,
 * written just ahead of the appends (posix_fs.c says why). */
#define RF_POSIX_FS_PREALLOC_BYTES (256u << 10)

/* Opens (with create, mkdir first) the directory at path. Returns 0, or
 * RF_EIO / RF_ENOTFOUND / RF_ENOMEM with *out left NULL. */
int rf_posix_fs_open(rf_posix_fs **out, const char *path, bool create);
void rf_posix_fs_close(rf_posix_fs *pfs);

/* The rf_fs view; valid until rf_posix_fs_close. */
rf_fs rf_posix_fs_fs(rf_posix_fs *pfs);

#endif

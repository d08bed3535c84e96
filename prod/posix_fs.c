/* posix_fs: the rf_fs file interface on a real POSIX directory. */
#define _GNU_SOURCE /* fdatasync, O_DIRECTORY, O_CLOEXEC with -std=c11 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/rf_err.h"
#include "prod/posix_fs.h"

struct rf_posix_fs {
    int dirfd;
};

/* Log segments ("*.log") are appended into zero-filled space written
 * PREALLOC_BYTES ahead: an fdatasync then only flushes data, without a
 * journal commit for the grown file size (on ext4 this cuts its latency
 * by about a third). Such a file may end with zeros after the last
 * append; the store's recovery reads them as the end of the log.
 * The zeros are flushed by the next commit's fdatasync, which waits for
 * them: 4 MiB at a time held that commit 10-28 ms (every write waiting on
 * it past fleetd's p99); 256 KiB holds one commit in about twenty, at
 * most 6 ms under fleetd's bench (prod/README.md, round 3). */
#define PREALLOC_BYTES RF_POSIX_FS_PREALLOC_BYTES
#define ZERO_CHUNK_BYTES (256u << 10)

struct rf_fs_file {
    int fd;
    bool prealloc;
    uint64_t end;   /* append offset: pwrite at a known place, no O_APPEND race */
    uint64_t alloc; /* bytes of the file (written zeros past end) */
};

static int errno_code(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return RF_ENOSPC;
    case ENOENT:
        return RF_ENOTFOUND;
    case EEXIST:
        return RF_EEXIST;
    case ENOMEM:
        return RF_ENOMEM;
    case EINVAL:
    case ENAMETOOLONG:
        return RF_EINVAL;
    default:
        return RF_EIO;
    }
}

static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > RF_FS_NAME_BYTES_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static int px_open(void *ctx, const char *name, bool create, rf_fs_file **out)
{
    const rf_posix_fs *pfs = ctx;
    if (!name_ok(name))
        return RF_EINVAL;
    int fd = openat(pfs->dirfd, name, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (fd < 0)
        return errno_code(errno);
    struct stat st;
    rf_fs_file *f = malloc(sizeof *f);
    if (f == NULL || fstat(fd, &st) != 0) {
        int rc = f == NULL ? RF_ENOMEM : errno_code(errno);
        free(f);
        close(fd);
        return rc;
    }
    size_t n = strlen(name);
    f->fd = fd;
    f->prealloc = n > 4 && strcmp(name + n - 4, ".log") == 0;
    f->end = (uint64_t)st.st_size;
    f->alloc = (uint64_t)st.st_size;
    *out = f;
    return RF_OK;
}

static void px_close(void *ctx, rf_fs_file *f)
{
    (void)ctx;
    close(f->fd);
    free(f);
}

static int px_size(void *ctx, rf_fs_file *f, uint64_t *size_out)
{
    (void)ctx;
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return errno_code(errno);
    *size_out = (uint64_t)st.st_size;
    return RF_OK;
}

static int write_all(int fd, const char *p, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 ? RF_EIO : errno_code(errno);
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return RF_OK;
}

/* Writes zeros from f->alloc up to the next PREALLOC_BYTES boundary past need. */
static int preallocate(rf_fs_file *f, uint64_t need)
{
    static const char zeros[ZERO_CHUNK_BYTES];
    uint64_t target = (need + PREALLOC_BYTES - 1) / PREALLOC_BYTES * PREALLOC_BYTES;
    while (f->alloc < target) {
        size_t n = target - f->alloc < sizeof zeros ? (size_t)(target - f->alloc) : sizeof zeros;
        int rc = write_all(f->fd, zeros, n, f->alloc);
        if (rc != RF_OK)
            return rc;
        f->alloc += n;
    }
    return RF_OK;
}

static int px_append(void *ctx, rf_fs_file *f, const void *buf, size_t len)
{
    (void)ctx;
    if (f->prealloc && f->end + len > f->alloc) {
        int rc = preallocate(f, f->end + len);
        if (rc != RF_OK)
            return rc;
    }
    int rc = write_all(f->fd, buf, len, f->end);
    if (rc == RF_OK)
        f->end += len;
    if (f->end > f->alloc)
        f->alloc = f->end;
    return rc;
}

static int px_sync(void *ctx, rf_fs_file *f)
{
    (void)ctx;
    return fdatasync(f->fd) == 0 ? RF_OK : errno_code(errno);
}

static int px_read(void *ctx, rf_fs_file *f, uint64_t off, void *buf, size_t len, size_t *got)
{
    (void)ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(f->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno_code(errno);
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *got = done;
    return RF_OK;
}

static int px_truncate(void *ctx, rf_fs_file *f, uint64_t size)
{
    (void)ctx;
    if (ftruncate(f->fd, (off_t)size) != 0)
        return errno_code(errno);
    f->end = size;
    f->alloc = size;
    return RF_OK;
}

static int px_remove(void *ctx, const char *name)
{
    const rf_posix_fs *pfs = ctx;
    if (!name_ok(name))
        return RF_EINVAL;
    return unlinkat(pfs->dirfd, name, 0) == 0 ? RF_OK : errno_code(errno);
}

static int px_rename(void *ctx, const char *from, const char *to)
{
    const rf_posix_fs *pfs = ctx;
    if (!name_ok(from) || !name_ok(to))
        return RF_EINVAL;
    return renameat(pfs->dirfd, from, pfs->dirfd, to) == 0 ? RF_OK : errno_code(errno);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int px_list(void *ctx, rf_fs_list_fn fn, void *arg)
{
    const rf_posix_fs *pfs = ctx;
    int fd = dup(pfs->dirfd);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);
    if (dir == NULL) {
        if (fd >= 0)
            close(fd);
        return RF_EIO;
    }
    rewinddir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = RF_OK;
    for (struct dirent *e; rc == RF_OK && (e = readdir(dir)) != NULL;) {
        if (!name_ok(e->d_name))
            continue; /* ".", "..", and names the store never makes */
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **p = realloc(names, cap * sizeof *names);
            if (p == NULL) {
                rc = RF_ENOMEM;
                break;
            }
            names = p;
        }
        names[n] = strdup(e->d_name);
        rc = names[n] == NULL ? RF_ENOMEM : RF_OK;
        n += names[n] != NULL;
    }
    closedir(dir);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && rc == RF_OK; i++)
        rc = fn(arg, names[i]);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int px_sync_dir(void *ctx)
{
    const rf_posix_fs *pfs = ctx;
    return fsync(pfs->dirfd) == 0 ? RF_OK : errno_code(errno);
}

static const rf_fs_ops posix_ops = {
    .open_file = px_open,
    .close = px_close,
    .size = px_size,
    .append = px_append,
    .sync = px_sync,
    .read = px_read,
    .truncate = px_truncate,
    .remove = px_remove,
    .rename = px_rename,
    .list = px_list,
    .sync_dir = px_sync_dir,
};

int rf_posix_fs_open(rf_posix_fs **out, const char *path, bool create)
{
    *out = NULL;
    if (create && mkdir(path, 0755) != 0 && errno != EEXIST)
        return errno_code(errno);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno_code(errno);
    rf_posix_fs *pfs = malloc(sizeof *pfs);
    if (pfs == NULL) {
        close(fd);
        return RF_ENOMEM;
    }
    pfs->dirfd = fd;
    *out = pfs;
    return RF_OK;
}

void rf_posix_fs_close(rf_posix_fs *pfs)
{
    if (pfs == NULL)
        return;
    close(pfs->dirfd);
    free(pfs);
}

rf_fs rf_posix_fs_fs(rf_posix_fs *pfs)
{
    return (rf_fs){.ops = &posix_ops, .ctx = pfs};
}

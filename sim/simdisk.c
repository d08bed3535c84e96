/* simdisk: the simulator's disk, an in-memory rf_fs with crashes and faults. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/simdisk.h"

typedef struct sd_inode {
    unsigned char *data;
    uint64_t len;
    uint64_t cap;
    uint64_t synced; /* bytes [0, synced) survive a crash */
    uint32_t handles;
    bool used;
} sd_inode;

typedef struct sd_dirent {
    char name[RF_FS_NAME_BYTES_MAX + 1];
    uint32_t ino;
} sd_dirent;

typedef struct sd_table {
    sd_dirent *v;
    size_t n;
    size_t cap;
} sd_table;

enum { SD_CREATE, SD_RENAME, SD_REMOVE };

typedef struct sd_dirop {
    int kind;
    uint32_t ino;
    char name[RF_FS_NAME_BYTES_MAX + 1];
    char to[RF_FS_NAME_BYTES_MAX + 1];
} sd_dirop;

struct rf_simdisk {
    rf_pcg32 rng;
    sd_inode *inodes;
    size_t ninodes;
    sd_table cur; /* the directory as the running program sees it */
    sd_table dur; /* the directory as of the last sync_dir */
    sd_dirop *ops; /* directory operations since the last sync_dir */
    size_t nops;
    size_t capops;
    rf_simdisk_faults faults;
    uint64_t op_count;
    uint64_t crash_op;
    bool crash_armed;
    bool crashed;
    uint64_t epoch; /* bumped by a crash: older handles are stale */
};

struct rf_fs_file {
    rf_simdisk *d;
    uint32_t ino;
    uint64_t epoch;
};

static bool grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 8;
    while (n < need)
        n *= 2;
    void *p = realloc(*v, n * elem);
    if (p == NULL)
        return false;
    *v = p;
    *cap = n;
    return true;
}

static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > RF_FS_NAME_BYTES_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static sd_dirent *table_find(const sd_table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].name, name) == 0)
            return &t->v[i];
    return NULL;
}

static void table_remove(sd_table *t, const char *name)
{
    sd_dirent *e = table_find(t, name);
    if (e != NULL)
        *e = t->v[--t->n];
}

static bool table_put(sd_table *t, const char *name, uint32_t ino)
{
    table_remove(t, name);
    if (!grow((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v))
        return false;
    strcpy(t->v[t->n].name, name);
    t->v[t->n].ino = ino;
    t->n++;
    return true;
}

static bool table_copy(sd_table *dst, const sd_table *src)
{
    if (!grow((void **)&dst->v, &dst->cap, src->n, sizeof *dst->v))
        return false;
    if (src->n > 0)
        memcpy(dst->v, src->v, src->n * sizeof *src->v);
    dst->n = src->n;
    return true;
}

static void table_apply(sd_table *t, const sd_dirop *op)
{
    if (op->kind == SD_CREATE) {
        ASSERT(table_put(t, op->name, op->ino));
    } else if (op->kind == SD_RENAME) {
        table_remove(t, op->to);
        sd_dirent *e = table_find(t, op->name);
        ASSERT(e != NULL);
        strcpy(e->name, op->to);
    } else {
        table_remove(t, op->name);
    }
}

/* Frees the bytes of every inode that no name, pending operation or
 * handle can reach any more. */
static void sd_gc(rf_simdisk *d)
{
    for (size_t i = 0; i < d->ninodes; i++) {
        sd_inode *in = &d->inodes[i];
        if (!in->used || in->handles > 0)
            continue;
        bool ref = false;
        for (size_t k = 0; k < d->cur.n && !ref; k++)
            ref = d->cur.v[k].ino == i;
        for (size_t k = 0; k < d->dur.n && !ref; k++)
            ref = d->dur.v[k].ino == i;
        for (size_t k = 0; k < d->nops && !ref; k++)
            ref = d->ops[k].ino == i;
        if (!ref) {
            free(in->data);
            memset(in, 0, sizeof *in);
        }
    }
}

static bool chance(rf_simdisk *d, uint32_t ppm)
{
    return ppm > 0 && rf_pcg32_bounded(&d->rng, 1000000) < ppm;
}

/* Keeps none, all, or a uniform part of n bytes, each a third of the time,
 * so that both extremes of a torn write are exercised often. */
static uint64_t torn_prefix(rf_simdisk *d, uint64_t n)
{
    uint32_t how = rf_pcg32_bounded(&d->rng, 3);
    if (n == 0 || how == 0)
        return 0;
    if (how == 1)
        return n;
    return rf_pcg32_range64(&d->rng, 0, n);
}

enum { OP_GO = 0, OP_CRASH = 1 };

/* Counts a mutating operation and says whether it is the armed crash. */
static int op_begin(rf_simdisk *d)
{
    if (d->crash_armed && d->op_count == d->crash_op) {
        d->crashed = true;
        d->crash_armed = false;
        d->op_count++;
        return OP_CRASH;
    }
    d->op_count++;
    return OP_GO;
}

static bool record_op(rf_simdisk *d, int kind, uint32_t ino, const char *name, const char *to)
{
    if (!grow((void **)&d->ops, &d->capops, d->nops + 1, sizeof *d->ops))
        return false;
    sd_dirop *op = &d->ops[d->nops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->ino = ino;
    strcpy(op->name, name);
    if (to != NULL)
        strcpy(op->to, to);
    return true;
}

static sd_inode *live_inode(rf_fs_file *f)
{
    if (f->d->crashed || f->epoch != f->d->epoch)
        return NULL;
    return &f->d->inodes[f->ino];
}

static int sd_open(void *ctx, const char *name, bool create, rf_fs_file **out)
{
    rf_simdisk *d = ctx;
    if (d->crashed)
        return RF_EIO;
    if (!name_ok(name))
        return RF_EINVAL;
    const sd_dirent *e = table_find(&d->cur, name);
    uint32_t ino;
    if (e != NULL) {
        ino = e->ino;
    } else {
        if (!create)
            return RF_ENOTFOUND;
        if (op_begin(d) == OP_CRASH)
            return RF_EIO;
        size_t slot = 0;
        while (slot < d->ninodes && d->inodes[slot].used)
            slot++;
        if (slot == d->ninodes) {
            size_t cap = d->ninodes;
            if (!grow((void **)&d->inodes, &cap, d->ninodes + 1, sizeof *d->inodes))
                return RF_ENOMEM;
            d->ninodes = cap;
            memset(&d->inodes[slot], 0, (cap - slot) * sizeof *d->inodes);
        }
        ino = (uint32_t)slot;
        d->inodes[ino].used = true;
        if (!table_put(&d->cur, name, ino) || !record_op(d, SD_CREATE, ino, name, NULL))
            return RF_ENOMEM;
    }
    rf_fs_file *f = malloc(sizeof *f);
    if (f == NULL)
        return RF_ENOMEM;
    f->d = d;
    f->ino = ino;
    f->epoch = d->epoch;
    d->inodes[ino].handles++;
    *out = f;
    return RF_OK;
}

static void sd_close(void *ctx, rf_fs_file *f)
{
    rf_simdisk *d = ctx;
    if (f->epoch == d->epoch) {
        ASSERT(d->inodes[f->ino].handles > 0);
        d->inodes[f->ino].handles--;
        sd_gc(d);
    }
    free(f);
}

static int sd_size(void *ctx, rf_fs_file *f, uint64_t *size_out)
{
    (void)ctx;
    const sd_inode *in = live_inode(f);
    if (in == NULL)
        return RF_EIO;
    *size_out = in->len;
    return RF_OK;
}

static uint64_t used_bytes(const rf_simdisk *d)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < d->ninodes; i++)
        sum += d->inodes[i].used ? d->inodes[i].len : 0;
    return sum;
}

static int put_bytes(sd_inode *in, const void *buf, uint64_t len)
{
    size_t cap = (size_t)in->cap;
    if (!grow((void **)&in->data, &cap, (size_t)(in->len + len), 1))
        return RF_ENOMEM;
    in->cap = cap;
    if (len > 0)
        memcpy(in->data + in->len, buf, (size_t)len);
    in->len += len;
    return RF_OK;
}

static int sd_append(void *ctx, rf_fs_file *f, const void *buf, size_t len)
{
    rf_simdisk *d = ctx;
    sd_inode *in = live_inode(f);
    if (in == NULL)
        return RF_EIO;
    if (op_begin(d) == OP_CRASH) {
        (void)put_bytes(in, buf, torn_prefix(d, len));
        return RF_EIO;
    }
    if (d->faults.capacity_bytes > 0 && used_bytes(d) + len > d->faults.capacity_bytes)
        return RF_ENOSPC;
    if (chance(d, d->faults.write_fail_ppm)) {
        (void)put_bytes(in, buf, rf_pcg32_range64(&d->rng, 0, len));
        return RF_EIO;
    }
    return put_bytes(in, buf, len);
}

static int sd_sync(void *ctx, rf_fs_file *f)
{
    rf_simdisk *d = ctx;
    sd_inode *in = live_inode(f);
    if (in == NULL)
        return RF_EIO;
    if (op_begin(d) == OP_CRASH || chance(d, d->faults.sync_fail_ppm))
        return RF_EIO;
    in->synced = in->len;
    return RF_OK;
}

static int sd_read(void *ctx, rf_fs_file *f, uint64_t off, void *buf, size_t len, size_t *got)
{
    rf_simdisk *d = ctx;
    const sd_inode *in = live_inode(f);
    if (in == NULL)
        return RF_EIO;
    size_t n = off >= in->len ? 0 : (size_t)(in->len - off < len ? in->len - off : len);
    if (n > 0)
        memcpy(buf, in->data + off, n);
    if (n > 0 && chance(d, d->faults.read_flip_ppm)) {
        uint32_t bit = rf_pcg32_bounded(&d->rng, (uint32_t)(n * 8 > UINT32_MAX ? UINT32_MAX : n * 8));
        ((unsigned char *)buf)[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    *got = n;
    return RF_OK;
}

static int sd_truncate(void *ctx, rf_fs_file *f, uint64_t size)
{
    rf_simdisk *d = ctx;
    sd_inode *in = live_inode(f);
    if (in == NULL)
        return RF_EIO;
    if (op_begin(d) == OP_CRASH)
        return RF_EIO;
    if (size < in->len)
        in->len = size;
    if (in->synced > in->len)
        in->synced = in->len;
    return RF_OK;
}

static int sd_remove(void *ctx, const char *name)
{
    rf_simdisk *d = ctx;
    if (d->crashed)
        return RF_EIO;
    const sd_dirent *e = table_find(&d->cur, name);
    if (e == NULL)
        return RF_ENOTFOUND;
    uint32_t ino = e->ino;
    if (op_begin(d) == OP_CRASH)
        return RF_EIO;
    if (!record_op(d, SD_REMOVE, ino, name, NULL))
        return RF_ENOMEM;
    table_remove(&d->cur, name);
    sd_gc(d);
    return RF_OK;
}

static int sd_rename(void *ctx, const char *from, const char *to)
{
    rf_simdisk *d = ctx;
    if (d->crashed)
        return RF_EIO;
    if (!name_ok(to))
        return RF_EINVAL;
    sd_dirent *e = table_find(&d->cur, from);
    if (e == NULL)
        return RF_ENOTFOUND;
    if (op_begin(d) == OP_CRASH)
        return RF_EIO;
    if (!record_op(d, SD_RENAME, e->ino, from, to))
        return RF_ENOMEM;
    table_apply(&d->cur, &d->ops[d->nops - 1]);
    sd_gc(d);
    return RF_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(((const sd_dirent *)a)->name, ((const sd_dirent *)b)->name);
}

static int sd_list(void *ctx, rf_fs_list_fn fn, void *arg)
{
    rf_simdisk *d = ctx;
    if (d->crashed)
        return RF_EIO;
    sd_table copy = {0};
    if (!table_copy(&copy, &d->cur))
        return RF_ENOMEM;
    if (copy.n > 1)
        qsort(copy.v, copy.n, sizeof *copy.v, cmp_names);
    int rc = RF_OK;
    for (size_t i = 0; i < copy.n && rc == RF_OK; i++)
        rc = fn(arg, copy.v[i].name);
    free(copy.v);
    return rc;
}

static int sd_sync_dir(void *ctx)
{
    rf_simdisk *d = ctx;
    if (d->crashed)
        return RF_EIO;
    if (op_begin(d) == OP_CRASH || chance(d, d->faults.sync_fail_ppm))
        return RF_EIO;
    if (!table_copy(&d->dur, &d->cur))
        return RF_ENOMEM;
    d->nops = 0;
    sd_gc(d);
    return RF_OK;
}

static const rf_fs_ops simdisk_ops = {
    .open_file = sd_open,
    .close = sd_close,
    .size = sd_size,
    .append = sd_append,
    .sync = sd_sync,
    .read = sd_read,
    .truncate = sd_truncate,
    .remove = sd_remove,
    .rename = sd_rename,
    .list = sd_list,
    .sync_dir = sd_sync_dir,
};

rf_simdisk *rf_simdisk_new(const rf_pcg32 *rng)
{
    rf_simdisk *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->rng = *rng;
    return d;
}

void rf_simdisk_free(rf_simdisk *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->ninodes; i++)
        free(d->inodes[i].data);
    free(d->inodes);
    free(d->cur.v);
    free(d->dur.v);
    free(d->ops);
    free(d);
}

rf_fs rf_simdisk_fs(rf_simdisk *d)
{
    return (rf_fs){.ops = &simdisk_ops, .ctx = d};
}

void rf_simdisk_set_faults(rf_simdisk *d, const rf_simdisk_faults *faults)
{
    d->faults = *faults;
}

uint64_t rf_simdisk_ops(const rf_simdisk *d)
{
    return d->op_count;
}

void rf_simdisk_crash_at(rf_simdisk *d, uint64_t op)
{
    d->crash_armed = true;
    d->crash_op = op;
}

bool rf_simdisk_crashed(const rf_simdisk *d)
{
    return d->crashed;
}

void rf_simdisk_crash(rf_simdisk *d)
{
    for (size_t i = 0; i < d->ninodes; i++) {
        sd_inode *in = &d->inodes[i];
        if (!in->used)
            continue;
        in->len = in->synced + torn_prefix(d, in->len - in->synced);
        in->synced = in->len;
        in->handles = 0; /* every handle is stale from now on */
    }
    size_t keep = d->nops == 0 ? 0 : (size_t)torn_prefix(d, d->nops);
    for (size_t i = 0; i < keep; i++)
        table_apply(&d->dur, &d->ops[i]);
    d->nops = 0;
    ASSERT(table_copy(&d->cur, &d->dur));
    d->epoch++;
    d->crashed = false;
    d->crash_armed = false;
    memset(&d->faults, 0, sizeof d->faults);
    sd_gc(d);
}

int rf_simdisk_flip_bit(rf_simdisk *d, const char *name, uint64_t off, unsigned bit)
{
    const sd_dirent *e = table_find(&d->cur, name);
    if (e == NULL)
        return RF_ENOTFOUND;
    sd_inode *in = &d->inodes[e->ino];
    if (off >= in->len)
        return RF_ERANGE;
    in->data[off] ^= (unsigned char)(1u << (bit % 8));
    return RF_OK;
}

int rf_simdisk_file_size(const rf_simdisk *d, const char *name, uint64_t *size_out)
{
    const sd_dirent *e = table_find(&d->cur, name);
    if (e == NULL)
        return RF_ENOTFOUND;
    *size_out = d->inodes[e->ino].len;
    return RF_OK;
}

uint64_t rf_simdisk_used_bytes(const rf_simdisk *d)
{
    return used_bytes(d);
}

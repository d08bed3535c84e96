/* store: opening, group commit (begin, I/O, end) and reads of the write-ahead log. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_crc32c.h"
#include "base/rf_err.h"
#include "storage/store_internal.h"

#define SEGMENT_BYTES_DEFAULT (64ull << 20)
#define GROUPS_MAX_DEFAULT 65536u

void rf_st_msg(rf_store *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->message, sizeof st->message, fmt, ap);
    va_end(ap);
}

static int config_check(rf_store_config *c)
{
    if (c->segment_bytes == 0)
        c->segment_bytes = SEGMENT_BYTES_DEFAULT;
    if (c->groups_max == 0)
        c->groups_max = GROUPS_MAX_DEFAULT;
    if (c->segment_bytes < RF_STORE_SEGMENT_BYTES_MIN || c->segment_bytes > RF_STORE_SEGMENT_BYTES_MAX)
        return RF_EINVAL;
    if (c->cache_bytes > c->segment_bytes)
        c->cache_bytes = c->segment_bytes;
    return RF_OK;
}

int rf_store_open(rf_store **out, const rf_fs *fs, const rf_store_config *config,
                  rf_store_recovery *info)
{
    rf_store_recovery scratch;
    if (info == NULL)
        info = &scratch;
    memset(info, 0, sizeof *info);
    *out = NULL;
    rf_store_config cfg = config != NULL ? *config : (rf_store_config){0};
    if (config_check(&cfg) != RF_OK) {
        snprintf(info->message, sizeof info->message, "invalid configuration");
        return RF_EINVAL;
    }
    rf_store *st = calloc(1, sizeof *st);
    if (st == NULL)
        return RF_ENOMEM;
    st->fs = *fs;
    st->cfg = cfg;
    rf_batch_init(&st->compact);
    if (cfg.cache_bytes > 0 && (st->cache = malloc((size_t)cfg.cache_bytes)) == NULL) {
        rf_store_close(st);
        return RF_ENOMEM;
    }
    int rc = rf_st_recover(st, info);
    if (rc != RF_OK) {
        if (info->message[0] == '\0')
            snprintf(info->message, sizeof info->message, "%s", st->message);
        rf_store_close(st);
        return rc;
    }
    st->cache_seg = (uint32_t)st->segs[st->nsegs - 1].seq;
    st->cache_off = st->segs[st->nsegs - 1].bytes;
    *out = st;
    return RF_OK;
}

static void rd_close_all(rf_store *st)
{
    for (size_t i = 0; i < RF_STORE_READ_FILES_MAX; i++) {
        if (st->rd[i].f != NULL)
            st->fs.ops->close(st->fs.ctx, st->rd[i].f);
        st->rd[i].f = NULL;
    }
}

void rf_store_close(rf_store *st)
{
    if (st == NULL)
        return;
    ASSERT(!st->busy);
    rd_close_all(st);
    if (st->active != NULL && !st->failed && st->nsegs > 0) {
        /* A clean close cuts what a driver wrote ahead (zeros), so that the
         * next open finds no tail to cut. Best effort: recovery copes. */
        if (st->fs.ops->truncate(st->fs.ctx, st->active, st->segs[st->nsegs - 1].bytes) == RF_OK)
            (void)st->fs.ops->sync(st->fs.ctx, st->active);
    }
    if (st->active != NULL)
        st->fs.ops->close(st->fs.ctx, st->active);
    rf_st_groups_free(st);
    free(st->segs);
    free(st->snapdel);
    free(st->cache);
    rf_batch_close(&st->compact);
    free(st);
}

/* Schedules the removal of segments that hold only garbage. Only a prefix
 * of the segments is ever deleted: a truncation or reset record is not
 * live, yet must outlast the older records it overrides, which it does
 * when everything before it is gone first (README.md "Compaction"). */
static void plan_deletes(rf_store *st)
{
    st_io *io = &st->io;
    for (size_t i = 0; i + 1 < st->nsegs && io->ndeletes < RF_STORE_DELETES_MAX; i++) {
        st_seg *s = &st->segs[i];
        if (s->live > 0)
            break;
        s->deleting = true;
        rf_seg_name(io->deletes[io->ndeletes++], s->seq);
        for (size_t k = 0; k < RF_STORE_READ_FILES_MAX; k++) {
            if (st->rd[k].f != NULL && st->rd[k].seg == s->seq) {
                st->fs.ops->close(st->fs.ctx, st->rd[k].f);
                st->rd[k].f = NULL;
            }
        }
    }
}

/* Schedules the removal of snapshot files that no marker refers to any
 * more; one that became live again (same group and index) is kept. */
static void plan_snapshot_deletes(rf_store *st)
{
    st_io *io = &st->io;
    size_t k = 0;
    for (size_t i = 0; i < st->nsnapdel; i++) {
        struct st_snapdel d = st->snapdel[i];
        const st_group *g = rf_st_group_find(st, d.group);
        if (g != NULL && g->snap.bytes > 0 && g->snap_index == d.index)
            continue;
        if (io->ndeletes < RF_STORE_DELETES_MAX) {
            rf_snap_name(io->deletes[io->ndeletes++], d.group, d.index, false);
            io->nsnapdel++;
        } else {
            st->snapdel[k++] = d;
        }
    }
    st->nsnapdel = k;
}

static int check_batch(rf_store *st, const rf_batch *b)
{
    st->gen++;
    for (size_t i = 0; i < b->nrecs; i++) {
        int rc = rf_st_check(st, &b->recs[i]);
        if (rc != RF_OK) {
            rf_st_msg(st, "batch record %zu (group %llu, index %llu): %s", i,
                      (unsigned long long)b->recs[i].group, (unsigned long long)b->recs[i].index,
                      rf_strerror(rc));
            st->gen++; /* forget the scratch of the refused batch */
            for (size_t k = 0; k <= i; k++)
                rf_st_group_forget_if_empty(st, b->recs[k].group);
            return rc;
        }
    }
    return RF_OK;
}

static void stamp(rf_store *st, rf_batch *b)
{
    unsigned char *h = b->buf;
    rf_le_put64(h + 12, st->next_batch_seq);
    rf_le_put32(h + 20, (uint32_t)(b->len - RF_REC_HDR_BYTES - RF_REC_BATCH_BYTES));
    rf_le_put32(h + 24, (uint32_t)b->nrecs);
    rf_le_put32(h + 28, b->crcs_crc);
    rf_walrec_seal(h, RF_REC_BATCH, RF_REC_BATCH_BYTES);
}

int rf_st_begin(rf_store *st, rf_batch *b)
{
    if (st->busy)
        return RF_EBUSY;
    if (st->failed)
        return RF_EREADONLY;
    if (b != NULL && b->len > st->cfg.segment_bytes - RF_SEG_HDR_BYTES)
        return RF_ETOOBIG;
    if (b != NULL && b->nrecs > 0) {
        int rc = check_batch(st, b);
        if (rc != RF_OK)
            return rc;
        stamp(st, b);
    }
    st_io *io = &st->io;
    memset(io, 0, sizeof *io);
    io->fs = st->fs;
    io->file = st->active;
    if (b != NULL && b->nrecs > 0) {
        const st_seg *last = &st->segs[st->nsegs - 1];
        io->bytes = b->buf;
        io->len = b->len;
        io->snaps = b->snaps;
        io->nsnaps = b->nsnaps;
        if (last->bytes + b->len > st->cfg.segment_bytes) {
            io->roll = true;
            io->roll_seq = last->seq + 1;
            io->old_bytes = last->bytes;
            ASSERT(io->roll_seq <= UINT32_MAX);
            rf_seg_hdr_encode(io->seg_hdr, io->roll_seq);
        }
    }
    plan_deletes(st);
    plan_snapshot_deletes(st);
    st->inflight = b;
    st->busy = true;
    return RF_OK;
}

int rf_store_commit_begin(rf_store *st, rf_batch *b)
{
    ASSERT(b != NULL);
    return rf_st_begin(st, b);
}

/* Snapshot files: a temporary name, synced, renamed into place; the
 * directory is synced by the caller before the marker record is written. */
static int write_snapshot(st_io *io, const rf_batch_snap *s)
{
    const rf_fs_ops *ops = io->fs.ops;
    char tmp[RF_NAME_BYTES], name[RF_NAME_BYTES];
    rf_snap_name(tmp, s->group, s->index, true);
    rf_snap_name(name, s->group, s->index, false);
    rf_fs_file *f;
    int rc = ops->open_file(io->fs.ctx, tmp, true, &f);
    if (rc != RF_OK)
        return rc;
    rf_snap_hdr h = {s->group, s->index, s->term, s->data_bytes,
                     rf_crc32c(s->data, (size_t)s->data_bytes)};
    unsigned char hdr[RF_SNAP_HDR_BYTES];
    rf_snap_hdr_encode(hdr, &h);
    rc = ops->truncate(io->fs.ctx, f, 0);
    if (rc == RF_OK)
        rc = ops->append(io->fs.ctx, f, hdr, sizeof hdr);
    if (rc == RF_OK && s->data_bytes > 0)
        rc = ops->append(io->fs.ctx, f, s->data, (size_t)s->data_bytes);
    if (rc == RF_OK)
        rc = ops->sync(io->fs.ctx, f);
    ops->close(io->fs.ctx, f);
    if (rc == RF_OK)
        rc = ops->rename(io->fs.ctx, tmp, name);
    if (rc != RF_OK)
        snprintf(io->message, sizeof io->message, "snapshot %s: %s", name, rf_strerror(rc));
    return rc;
}

static int append_batch(st_io *io)
{
    const rf_fs_ops *ops = io->fs.ops;
    void *ctx = io->fs.ctx;
    char name[RF_NAME_BYTES];
    int rc;
    if (!io->roll) {
        rc = ops->append(ctx, io->file, io->bytes, io->len);
        if (rc == RF_OK)
            rc = ops->sync(ctx, io->file);
        if (rc != RF_OK)
            snprintf(io->message, sizeof io->message, "append and sync: %s", rf_strerror(rc));
        return rc;
    }
    /* The full segment is cut to its exact length first (a driver may have
     * written zeros ahead of the appends): only the newest segment may
     * end in anything but a whole batch. Then a new segment must be in
     * the directory before a batch in it can count as durable: create,
     * header and batch, sync, then sync_dir. */
    rc = ops->truncate(ctx, io->file, io->old_bytes);
    if (rc == RF_OK)
        rc = ops->sync(ctx, io->file);
    rf_seg_name(name, io->roll_seq);
    if (rc == RF_OK)
        rc = ops->open_file(ctx, name, true, &io->new_file);
    if (rc == RF_OK)
        rc = ops->truncate(ctx, io->new_file, 0);
    if (rc == RF_OK)
        rc = ops->append(ctx, io->new_file, io->seg_hdr, sizeof io->seg_hdr);
    if (rc == RF_OK)
        rc = ops->append(ctx, io->new_file, io->bytes, io->len);
    if (rc == RF_OK)
        rc = ops->sync(ctx, io->new_file);
    if (rc == RF_OK)
        rc = ops->sync_dir(ctx);
    if (rc != RF_OK)
        snprintf(io->message, sizeof io->message, "new segment %s: %s", name, rf_strerror(rc));
    return rc;
}

int rf_store_io_run(rf_store *st)
{
    st_io *io = &st->io;
    int rc = RF_OK;
    for (size_t i = 0; i < io->nsnaps && rc == RF_OK; i++)
        rc = write_snapshot(io, &io->snaps[i]);
    if (rc == RF_OK && io->nsnaps > 0)
        rc = io->fs.ops->sync_dir(io->fs.ctx);
    if (rc == RF_OK && io->len > 0)
        rc = append_batch(io);
    for (size_t i = 0; i < io->ndeletes && rc == RF_OK; i++) {
        rc = io->fs.ops->remove(io->fs.ctx, io->deletes[i]);
        if (rc == RF_ENOTFOUND)
            rc = RF_OK;
    }
    if (rc == RF_OK && io->ndeletes > 0)
        rc = io->fs.ops->sync_dir(io->fs.ctx);
    if (rc != RF_OK && io->message[0] == '\0')
        snprintf(io->message, sizeof io->message, "%s", rf_strerror(rc));
    io->rc = rc;
    return rc;
}

static void cache_append(rf_store *st, const unsigned char *p, size_t n)
{
    size_t cap = (size_t)st->cfg.cache_bytes;
    if (cap == 0)
        return;
    if (n > cap) {
        st->cache_off += st->cache_len + n;
        st->cache_len = 0;
        return;
    }
    if (st->cache_len + n > cap) {
        size_t drop = st->cache_len + n - cap;
        if (drop < cap / 4)
            drop = cap / 4 < st->cache_len ? cap / 4 : st->cache_len;
        memmove(st->cache, st->cache + drop, st->cache_len - drop);
        st->cache_len -= drop;
        st->cache_off += drop;
    }
    memcpy(st->cache + st->cache_len, p, n);
    st->cache_len += n;
}

static void drop_deleted(rf_store *st)
{
    size_t k = 0;
    while (k < st->nsegs && st->segs[k].deleting) {
        ASSERT(st->segs[k].live == 0);
        st->disk_bytes -= st->segs[k].bytes;
        k++;
    }
    ASSERT(k < st->nsegs);
    memmove(st->segs, st->segs + k, (st->nsegs - k) * sizeof *st->segs);
    st->nsegs -= k;
}

static int push_segment(rf_store *st, uint64_t seq)
{
    if (st->nsegs == st->capsegs) {
        size_t cap = st->capsegs ? st->capsegs * 2 : 16;
        st_seg *p = realloc(st->segs, cap * sizeof *p);
        if (p == NULL)
            return RF_ENOMEM;
        st->segs = p;
        st->capsegs = cap;
    }
    st->segs[st->nsegs++] = (st_seg){.seq = seq, .bytes = RF_SEG_HDR_BYTES};
    st->disk_bytes += RF_SEG_HDR_BYTES;
    return RF_OK;
}

/* Before a snapshot marker or a drop replaces the group's marker, the old
 * snapshot file becomes garbage once this batch is durable. */
static int note_old_snapshot(rf_store *st, const rf_batch_rec *r)
{
    const st_group *g = rf_st_group_find(st, r->group);
    if (g == NULL || g->snap.bytes == 0)
        return RF_OK;
    if (r->type == RF_REC_SNAPSHOT && r->index == g->snap_index)
        return RF_OK;
    if (st->nsnapdel == st->capsnapdel) {
        size_t cap = st->capsnapdel ? st->capsnapdel * 2 : 16;
        struct st_snapdel *p = realloc(st->snapdel, cap * sizeof *p);
        if (p == NULL)
            return RF_ENOMEM;
        st->snapdel = p;
        st->capsnapdel = cap;
    }
    st->snapdel[st->nsnapdel++] = (struct st_snapdel){g->id, g->snap_index};
    return RF_OK;
}

static int apply_batch(rf_store *st, const rf_batch *b)
{
    st_seg *seg = &st->segs[st->nsegs - 1];
    uint64_t base = seg->bytes;
    uint32_t seq = (uint32_t)seg->seq;
    for (size_t i = 0; i < b->nrecs; i++) {
        const rf_batch_rec *r = &b->recs[i];
        int rc = RF_OK;
        if (r->type == RF_REC_SNAPSHOT || r->type == RF_REC_DROP)
            rc = note_old_snapshot(st, r);
        if (rc == RF_OK)
            rc = rf_st_apply(st, r, seq, base + r->off, b->buf + r->off + RF_REC_HDR_BYTES, false);
        if (rc != RF_OK)
            return rc;
    }
    seg = &st->segs[st->nsegs - 1];
    seg->bytes += b->len;
    st->disk_bytes += b->len;
    cache_append(st, b->buf, b->len);
    st->next_batch_seq++;
    st->batches++;
    return RF_OK;
}

int rf_store_commit_end(rf_store *st)
{
    ASSERT(st->busy);
    st_io *io = &st->io;
    const rf_batch *b = st->inflight;
    st->busy = false;
    st->inflight = NULL;
    int rc = io->rc;
    if (rc == RF_OK && io->roll) {
        st->fs.ops->close(st->fs.ctx, st->active);
        st->active = io->new_file;
        io->new_file = NULL;
        rc = push_segment(st, io->roll_seq);
        st->cache_seg = (uint32_t)io->roll_seq;
        st->cache_off = RF_SEG_HDR_BYTES;
        st->cache_len = 0;
    }
    if (rc == RF_OK && io->len > 0)
        rc = apply_batch(st, b);
    if (rc == RF_OK && io->ndeletes > io->nsnapdel)
        drop_deleted(st);
    if (io->new_file != NULL)
        st->fs.ops->close(st->fs.ctx, io->new_file);
    io->new_file = NULL;
    if (rc != RF_OK) {
        st->failed = true;
        rf_st_msg(st, "commit failed, store refuses writes until reopened: %s", io->message);
        for (size_t i = 0; i < st->nsegs; i++)
            st->segs[i].deleting = false;
    }
    return rc;
}

int rf_store_commit(rf_store *st, rf_batch *b)
{
    int rc = rf_store_commit_begin(st, b);
    if (rc != RF_OK)
        return rc;
    rf_store_io_run(st);
    return rf_store_commit_end(st);
}

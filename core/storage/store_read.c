/* store_read: reads of the store, from the index, the tail cache or the files. */
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_crc32c.h"
#include "base/rf_err.h"
#include "storage/store_internal.h"

/* A read handle on segment seq, kept among the RF_STORE_READ_FILES_MAX
 * most recently used. */
static int rd_handle(rf_store *st, uint32_t seq, rf_fs_file **out)
{
    st_rdfile *victim = &st->rd[0];
    for (size_t i = 0; i < RF_STORE_READ_FILES_MAX; i++) {
        st_rdfile *r = &st->rd[i];
        if (r->f != NULL && r->seg == seq) {
            r->used = ++st->rd_clock;
            *out = r->f;
            return RF_OK;
        }
        if (r->f == NULL || (victim->f != NULL && r->used < victim->used))
            victim = r;
    }
    if (victim->f != NULL)
        st->fs.ops->close(st->fs.ctx, victim->f);
    victim->f = NULL;
    char name[RF_NAME_BYTES];
    rf_seg_name(name, seq);
    int rc = st->fs.ops->open_file(st->fs.ctx, name, false, &victim->f);
    if (rc != RF_OK) {
        victim->f = NULL;
        rf_st_msg(st, "%s: open for reading: %s", name, rf_strerror(rc));
        return rc;
    }
    victim->seg = seq;
    victim->used = ++st->rd_clock;
    *out = victim->f;
    return RF_OK;
}

int rf_st_read_at(rf_store *st, uint32_t seg, uint64_t off, void *buf, size_t len)
{
    if (seg == st->cache_seg && off >= st->cache_off &&
        off + len <= st->cache_off + st->cache_len) {
        memcpy(buf, st->cache + (off - st->cache_off), len);
        return RF_OK;
    }
    rf_fs_file *f;
    int rc = rd_handle(st, seg, &f);
    if (rc != RF_OK)
        return rc;
    size_t got = 0;
    rc = st->fs.ops->read(st->fs.ctx, f, off, buf, len, &got);
    if (rc == RF_OK && got != len)
        rc = RF_ECORRUPT;
    if (rc != RF_OK) {
        char name[RF_NAME_BYTES];
        rf_seg_name(name, seg);
        rf_st_msg(st, "%s offset %llu: read of %zu bytes: %s", name, (unsigned long long)off, len,
                  rf_strerror(rc));
    }
    return rc;
}

static const st_group *live_group(const rf_store *st, uint64_t id)
{
    const st_group *g = rf_st_group_find(st, id);
    return g != NULL && g->exists ? g : NULL;
}

int rf_store_group(const rf_store *st, uint64_t group, rf_store_group_info *out)
{
    const st_group *g = live_group(st, group);
    if (g == NULL)
        return RF_ENOTFOUND;
    out->term = g->term;
    out->vote = g->vote;
    out->first_index = g->first;
    out->last_index = g->n > 0 ? st_last(g) : g->snap_index;
    if (g->n == 0)
        out->first_index = out->last_index + 1;
    out->has_snapshot = g->snap.bytes > 0;
    out->snapshot_index = g->snap_index;
    out->snapshot_term = g->snap_term;
    out->membership_index = g->memb_index;
    out->membership = g->memb;
    out->membership_bytes = g->memb_len;
    return RF_OK;
}

size_t rf_store_groups(const rf_store *st, uint64_t *ids, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < st->ngroups; i++) {
        if (!st->groups[i]->exists)
            continue;
        if (n < max)
            ids[n] = st->groups[i]->id;
        n++;
    }
    return n;
}

int rf_store_term(const rf_store *st, uint64_t group, uint64_t index, uint64_t *term)
{
    const st_group *g = live_group(st, group);
    if (g == NULL)
        return RF_ENOTFOUND;
    if (index == g->snap_index && (index > 0 || g->snap.bytes > 0)) {
        *term = g->snap_term;
        return RF_OK;
    }
    if (index < g->snap_index)
        return RF_ECOMPACTED;
    if (g->n == 0 || index < g->first || index > st_last(g))
        return RF_ENOTFOUND;
    *term = st_ent_at(g, index)->term;
    return RF_OK;
}

/* Reads the record the index entry e points at and checks that it is that
 * entry, intact. */
static int read_entry(rf_store *st, uint64_t group, uint64_t index, const st_ent *e, void *buf)
{
    unsigned char hdr[RF_REC_HDR_BYTES + RF_REC_ENTRY_FIXED_BYTES];
    int rc = rf_st_read_at(st, e->seg, e->off, hdr, sizeof hdr);
    if (rc == RF_OK && e->len > 0)
        rc = rf_st_read_at(st, e->seg, e->off + sizeof hdr, buf, e->len);
    if (rc != RF_OK)
        return rc;
    uint32_t crc = rf_crc32c(hdr + 4, sizeof hdr - 4);
    crc = rf_crc32c_update(crc, buf, e->len);
    if (crc != rf_le_get32(hdr) || rf_le_get32(hdr + 4) != RF_REC_ENTRY_FIXED_BYTES + e->len ||
        hdr[8] != RF_REC_ENTRY || rf_le_get64(hdr + 12) != group || rf_le_get64(hdr + 20) != index ||
        rf_le_get64(hdr + 28) != e->term) {
        char name[RF_NAME_BYTES];
        rf_seg_name(name, e->seg);
        rf_st_msg(st, "%s offset %u: entry %llu of group %llu fails its checksum", name, e->off,
                  (unsigned long long)index, (unsigned long long)group);
        return RF_ECHECKSUM;
    }
    return RF_OK;
}

int rf_store_entry(rf_store *st, uint64_t group, uint64_t index, uint64_t *term, void *buf,
                   size_t cap, size_t *data_bytes)
{
    const st_group *g = live_group(st, group);
    if (g == NULL)
        return RF_ENOTFOUND;
    if (index <= g->snap_index)
        return RF_ECOMPACTED;
    if (g->n == 0 || index < g->first || index > st_last(g))
        return RF_ENOTFOUND;
    const st_ent e = *st_ent_at(g, index);
    *term = e.term;
    *data_bytes = e.len;
    if (cap < e.len)
        return RF_ETOOBIG;
    /* Once more if the checksum fails: a read may flip a bit in transit. */
    int rc = read_entry(st, group, index, &e, buf);
    if (rc == RF_ECHECKSUM)
        rc = read_entry(st, group, index, &e, buf);
    return rc;
}

int rf_store_snapshot_read(rf_store *st, uint64_t group, void *buf, size_t cap,
                           size_t *data_bytes)
{
    const st_group *g = live_group(st, group);
    if (g == NULL || g->snap.bytes == 0)
        return RF_ENOTFOUND;
    char name[RF_NAME_BYTES];
    rf_snap_name(name, group, g->snap_index, false);
    rf_fs_file *f;
    int rc = st->fs.ops->open_file(st->fs.ctx, name, false, &f);
    if (rc != RF_OK) {
        rf_st_msg(st, "%s: %s", name, rf_strerror(rc));
        return rc == RF_ENOTFOUND ? RF_ECORRUPT : rc;
    }
    unsigned char hdr[RF_SNAP_HDR_BYTES];
    rf_snap_hdr h = {0};
    size_t got = 0;
    rc = st->fs.ops->read(st->fs.ctx, f, 0, hdr, sizeof hdr, &got);
    if (rc == RF_OK && (got != sizeof hdr || rf_snap_hdr_decode(hdr, &h) != RF_OK ||
                        h.group != group || h.index != g->snap_index || h.term != g->snap_term))
        rc = RF_ECORRUPT;
    if (rc == RF_OK) {
        *data_bytes = (size_t)h.data_bytes;
        if (cap < h.data_bytes)
            rc = RF_ETOOBIG;
    }
    if (rc == RF_OK && h.data_bytes > 0)
        rc = st->fs.ops->read(st->fs.ctx, f, sizeof hdr, buf, (size_t)h.data_bytes, &got);
    if (rc == RF_OK && h.data_bytes > 0 && got != h.data_bytes)
        rc = RF_ECORRUPT;
    if (rc == RF_OK && rf_crc32c(buf, (size_t)h.data_bytes) != h.data_crc)
        rc = RF_ECHECKSUM;
    st->fs.ops->close(st->fs.ctx, f);
    if (rc != RF_OK && rc != RF_ETOOBIG)
        rf_st_msg(st, "%s: %s", name, rf_strerror(rc));
    return rc;
}

void rf_store_stats_get(const rf_store *st, rf_store_stats *out)
{
    memset(out, 0, sizeof *out);
    out->segments = st->nsegs;
    out->disk_bytes = st->disk_bytes;
    out->live_bytes = st->live_bytes;
    out->entries = st->entries;
    out->groups = rf_store_groups(st, NULL, 0);
    for (size_t i = 0; i < st->ngroups; i++)
        out->index_bytes += st->groups[i]->cap * sizeof(st_ent) + sizeof(st_group);
    out->batches = st->batches;
    out->failed = st->failed;
}

const char *rf_store_message(const rf_store *st)
{
    return st->message;
}

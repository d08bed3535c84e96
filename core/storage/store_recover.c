/* store_recover: rebuilding the store's state from its files at open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_crc32c.h"
#include "base/rf_err.h"
#include "storage/store_internal.h"

typedef struct rc_snapfile {
    uint64_t group;
    uint64_t index;
    bool tmp;
} rc_snapfile;

typedef struct rc_scan {
    uint64_t *segs;
    size_t nsegs;
    size_t capsegs;
    rc_snapfile *snaps;
    size_t nsnaps;
    size_t capsnaps;
    unsigned char *buf;
    size_t capbuf;
    uint64_t last_batch_seq;
    /* Repairs of the newest segment, done only once nothing is corrupt. */
    bool drop_newest;
    bool cut_newest;
    uint64_t cut_seq;
    uint64_t cut_off;
} rc_scan;

static bool grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*v, n * elem);
    if (p == NULL)
        return false;
    *v = p;
    *cap = n;
    return true;
}

static int list_one(void *arg, const char *name)
{
    rc_scan *sc = arg;
    uint64_t a, b;
    bool tmp;
    if (rf_seg_parse(name, &a)) {
        if (!grow((void **)&sc->segs, &sc->capsegs, sc->nsegs + 1, sizeof *sc->segs))
            return RF_ENOMEM;
        sc->segs[sc->nsegs++] = a;
    } else if (rf_snap_parse(name, &a, &b, &tmp)) {
        if (!grow((void **)&sc->snaps, &sc->capsnaps, sc->nsnaps + 1, sizeof *sc->snaps))
            return RF_ENOMEM;
        sc->snaps[sc->nsnaps++] = (rc_snapfile){a, b, tmp};
    }
    return RF_OK;
}

/* Decodes a record whose CRC is already checked into *r. */
static int decode(const unsigned char *p, uint32_t len, rf_batch_rec *r)
{
    memset(r, 0, sizeof *r);
    r->type = p[8];
    int fixed = rf_walrec_fixed_bytes(r->type);
    if (fixed < 0 || r->type == RF_REC_BATCH || len < (uint32_t)fixed)
        return RF_ECORRUPT;
    bool has_data = r->type == RF_REC_ENTRY || r->type == RF_REC_MEMBERSHIP;
    if (!has_data && len != (uint32_t)fixed)
        return RF_ECORRUPT;
    const unsigned char *q = p + RF_REC_HDR_BYTES;
    r->group = rf_le_get64(q);
    r->data_bytes = len - (uint32_t)fixed;
    if (r->type == RF_REC_HARD_STATE) {
        r->term = rf_le_get64(q + 8);
        r->vote = rf_le_get64(q + 16);
    } else if (r->type != RF_REC_DROP) {
        r->index = rf_le_get64(q + 8);
        if (fixed == 24)
            r->term = rf_le_get64(q + 16);
    }
    if (r->type == RF_REC_ENTRY && (r->index == 0 || r->data_bytes > RF_STORE_ENTRY_BYTES_MAX))
        return RF_ECORRUPT;
    return RF_OK;
}

/* Checks the whole batch at off (both levels of checksums) before any
 * record is applied, so that a batch counts entirely or not at all.
 * Returns RF_EBADMSG / RF_ECHECKSUM / RF_ECORRUPT, or 0 with *end set. */
static int verify_batch(const rc_scan *sc, const unsigned char *p, size_t avail, size_t *end)
{
    uint32_t len;
    int rc = rf_walrec_check(p, avail, &len);
    if (rc != RF_OK)
        return rc;
    if (p[8] != RF_REC_BATCH || len != RF_REC_BATCH_BYTES)
        return RF_ECORRUPT;
    uint64_t seq = rf_le_get64(p + 12);
    uint32_t body = rf_le_get32(p + 20), count = rf_le_get32(p + 24), crcs = rf_le_get32(p + 28);
    size_t hdr = RF_REC_HDR_BYTES + RF_REC_BATCH_BYTES;
    if (body > avail - hdr)
        return RF_EBADMSG;
    if (seq <= sc->last_batch_seq)
        return RF_ECORRUPT;
    size_t off = hdr;
    uint32_t acc = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t rlen;
        rc = rf_walrec_check(p + off, hdr + body - off, &rlen);
        if (rc != RF_OK)
            return rc == RF_EBADMSG ? RF_ECHECKSUM : rc;
        acc = rf_crc32c_update(acc, p + off, 4);
        off += RF_REC_HDR_BYTES + rlen;
    }
    if (off != hdr + body || acc != crcs)
        return RF_ECHECKSUM;
    *end = off;
    return RF_OK;
}

static int apply_verified(rf_store *st, const unsigned char *p, uint32_t seg, uint64_t base,
                          rf_store_recovery *info)
{
    size_t hdr = RF_REC_HDR_BYTES + RF_REC_BATCH_BYTES;
    uint32_t count = rf_le_get32(p + 24);
    size_t off = hdr;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t len = rf_le_get32(p + off + 4);
        rf_batch_rec r;
        int rc = decode(p + off, len, &r);
        if (rc == RF_OK)
            rc = rf_st_apply(st, &r, seg, base + off, p + off + RF_REC_HDR_BYTES, true);
        if (rc != RF_OK) {
            char name[RF_NAME_BYTES];
            rf_seg_name(name, seg);
            snprintf(info->message, sizeof info->message,
                     "%s offset %llu: record of type %u does not fit the log: %s", name,
                     (unsigned long long)(base + off), p[off + 8], rf_strerror(rc));
            return rc == RF_ENOMEM ? rc : RF_ECORRUPT;
        }
        off += RF_REC_HDR_BYTES + len;
        info->records++;
    }
    return RF_OK;
}

/* Sectors are written whole or not at all; a write torn after the file
 * grew leaves whole sectors of zeros (never written, or preallocated by
 * the driver) where its bytes should be. */
#define SECTOR_BYTES 512u
/* A zero run shorter than this is taken for data, not for a lost sector. */
#define ZERO_CHUNK_MIN 16u

/* Whether some sector's share of [fileoff, fileoff + n), the bytes at p,
 * is all zeros and at least ZERO_CHUNK_MIN long. */
static bool has_zero_sector(const unsigned char *p, uint64_t fileoff, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint64_t at = fileoff + i;
        size_t chunk = (size_t)(SECTOR_BYTES - at % SECTOR_BYTES);
        if (chunk > n - i)
            chunk = n - i;
        size_t k = 0;
        while (k < chunk && p[i + k] == 0)
            k++;
        if (k == chunk && chunk >= ZERO_CHUNK_MIN)
            return true;
        i += chunk;
    }
    return false;
}

/* A bad batch at fileoff in the newest segment is a torn tail when its
 * shape is one a crash leaves and no later batch survives after it.
 * A crash leaves a header cut short, a whole header whose body runs
 * past the end of the file, or a batch with lost (zeroed) sectors. A
 * batch that is all there, with no zeroed sector, whose checksum fails
 * went bad on the medium after it was written: it may have been
 * acknowledged, so it is corruption, never cut. A later whole batch (one
 * with a higher sequence number) proves that data in the middle went
 * bad. */
static bool is_torn_tail(const unsigned char *p, size_t avail, uint64_t fileoff, uint64_t last_seq)
{
    size_t hdr = RF_REC_HDR_BYTES + RF_REC_BATCH_BYTES;
    if (avail < hdr)
        return true;
    uint32_t len;
    bool hdr_ok = rf_walrec_check(p, avail, &len) == RF_OK;
    size_t body = rf_le_get32(p + 20);
    if (hdr_ok && body > avail - hdr)
        return true;
    if (!has_zero_sector(p, fileoff, hdr_ok ? hdr + body : hdr))
        return false;
    for (size_t k = 1; k + hdr <= avail; k++) {
        const unsigned char *q = p + k;
        if (q[8] == RF_REC_BATCH && q[9] == RF_REC_VERSION &&
            rf_le_get32(q + 4) == RF_REC_BATCH_BYTES && rf_walrec_check(q, avail - k, &len) == RF_OK &&
            rf_le_get64(q + 12) > last_seq)
            return false;
    }
    return true;
}

static int read_file(rf_store *st, rc_scan *sc, rf_fs_file *f, uint64_t *size)
{
    int rc = st->fs.ops->size(st->fs.ctx, f, size);
    if (rc != RF_OK)
        return rc;
    if (*size > RF_STORE_SEGMENT_BYTES_MAX + RF_STORE_BATCH_BYTES_MAX)
        return RF_ECORRUPT;
    if (!grow((void **)&sc->buf, &sc->capbuf, (size_t)*size + 1, 1))
        return RF_ENOMEM;
    size_t got = 0;
    rc = st->fs.ops->read(st->fs.ctx, f, 0, sc->buf, (size_t)*size, &got);
    return rc == RF_OK && got != *size ? RF_EIO : rc;
}

/* A read can return a flipped bit that is not on the medium (a transient
 * fault of the bus or the cache). Before a bad checksum is believed, and
 * a tail cut or a refusal follows, the bytes from off on are read again. */
#define REREADS_MAX 3

static bool reread(rf_store *st, rc_scan *sc, rf_fs_file *f, uint64_t off, uint64_t size)
{
    size_t got = 0;
    int rc = st->fs.ops->read(st->fs.ctx, f, off, sc->buf + off, (size_t)(size - off), &got);
    return rc == RF_OK && got == size - off;
}

/* A batch that did not verify is read again until it does, or until two
 * reads in a row agree (same CRC32C: any one or two flipped bits change
 * it): a torn or corrupt batch reads the same every time, a failing read
 * does not. *stable says whether the last two reads agreed; only then may
 * the batch be judged (cut as a torn tail, or refused as corruption). */
#define SETTLE_READS_MAX 8

static int settle_batch(rf_store *st, rc_scan *sc, rf_fs_file *f, uint64_t off, uint64_t size,
                        size_t *len, bool *stable)
{
    size_t n = (size_t)(size - off);
    int why = verify_batch(sc, sc->buf + off, n, len);
    *stable = false;
    for (int k = 0; why != RF_OK && k < SETTLE_READS_MAX; k++) {
        uint32_t before = rf_crc32c(sc->buf + off, n);
        if (!reread(st, sc, f, off, size))
            return why;
        why = verify_batch(sc, sc->buf + off, n, len);
        if (why != RF_OK && rf_crc32c(sc->buf + off, n) == before) {
            *stable = true;
            return why;
        }
    }
    return why;
}

static int push_seg(rf_store *st, uint64_t seq, uint64_t bytes)
{
    if (!grow((void **)&st->segs, &st->capsegs, st->nsegs + 1, sizeof *st->segs))
        return RF_ENOMEM;
    st->segs[st->nsegs++] = (st_seg){.seq = seq, .bytes = bytes};
    st->disk_bytes += bytes;
    return RF_OK;
}

/* Replays one segment; the newest one may lose a torn tail. */
static int replay_segment(rf_store *st, rc_scan *sc, uint64_t seq, bool newest,
                          rf_store_recovery *info)
{
    char name[RF_NAME_BYTES];
    rf_seg_name(name, seq);
    rf_fs_file *f;
    uint64_t size = 0, parsed_seq = 0;
    int rc = st->fs.ops->open_file(st->fs.ctx, name, false, &f);
    if (rc != RF_OK)
        return rc;
    rc = read_file(st, sc, f, &size);
    if (rc == RF_OK && size < RF_SEG_HDR_BYTES && newest) {
        /* A segment whose creation was torn: no batch in it was durable. */
        st->fs.ops->close(st->fs.ctx, f);
        info->tail_cut_bytes += size;
        sc->drop_newest = true;
        sc->cut_seq = seq;
        return RF_OK;
    }
    for (int k = 0; rc == RF_OK && size >= RF_SEG_HDR_BYTES && k < REREADS_MAX &&
                    rf_seg_hdr_decode(sc->buf, &parsed_seq) != RF_OK;
         k++)
        (void)reread(st, sc, f, 0, size);
    if (rc == RF_OK && (size < RF_SEG_HDR_BYTES || rf_seg_hdr_decode(sc->buf, &parsed_seq) != RF_OK ||
                        parsed_seq != seq)) {
        snprintf(info->message, sizeof info->message, "%s offset 0: bad segment header", name);
        rc = RF_ECORRUPT;
    }
    if (rc == RF_OK)
        rc = push_seg(st, seq, size);
    uint64_t off = RF_SEG_HDR_BYTES;
    while (rc == RF_OK && off < size) {
        size_t len;
        bool stable;
        int why = settle_batch(st, sc, f, off, size, &len, &stable);
        if (why == RF_OK) {
            sc->last_batch_seq = rf_le_get64(sc->buf + off + 12);
            rc = apply_verified(st, sc->buf + off, (uint32_t)seq, off, info);
            off += len;
            info->batches++;
            continue;
        }
        if (!stable) {
            snprintf(info->message, sizeof info->message,
                     "%s offset %llu: the bytes read differently each time: the disk or its bus "
                     "fails reads; nothing was cut",
                     name, (unsigned long long)off);
            rc = RF_EIO;
            break;
        }
        /* A whole record of another version is no torn write: refuse it. */
        bool tail_like = why != RF_ECORRUPT && why != RF_EVERSION;
        if (newest && tail_like &&
            is_torn_tail(sc->buf + off, (size_t)(size - off), off, sc->last_batch_seq)) {
            info->tail_cut_bytes += size - off;
            sc->cut_newest = true;
            sc->cut_seq = seq;
            sc->cut_off = off;
            st->segs[st->nsegs - 1].bytes = off;
            st->disk_bytes -= size - off;
            break;
        }
        snprintf(info->message, sizeof info->message, "%s offset %llu: %s%s", name,
                 (unsigned long long)off, why == RF_ECORRUPT ? "malformed batch" : rf_strerror(why),
                 newest && tail_like ? " (not the shape a torn write leaves: nothing cut)" : "");
        rc = why == RF_EVERSION ? RF_EVERSION : RF_ECORRUPT;
    }
    st->fs.ops->close(st->fs.ctx, f);
    info->segments += rc == RF_OK;
    return rc;
}

static bool snap_listed(const rc_scan *sc, uint64_t group, uint64_t index)
{
    for (size_t i = 0; i < sc->nsnaps; i++)
        if (!sc->snaps[i].tmp && sc->snaps[i].group == group && sc->snaps[i].index == index)
            return true;
    return false;
}

/* The group's snapshot file exists and its header matches the marker. */
static int snap_file_check(rf_store *st, const rc_scan *sc, const st_group *g)
{
    char name[RF_NAME_BYTES];
    rf_snap_name(name, g->id, g->snap_index, false);
    if (!snap_listed(sc, g->id, g->snap_index))
        return RF_ENOTFOUND;
    rf_fs_file *f;
    int rc = st->fs.ops->open_file(st->fs.ctx, name, false, &f);
    if (rc != RF_OK)
        return rc;
    unsigned char hdr[RF_SNAP_HDR_BYTES];
    rf_snap_hdr h = {0};
    size_t got = 0;
    rc = st->fs.ops->read(st->fs.ctx, f, 0, hdr, sizeof hdr, &got);
    st->fs.ops->close(st->fs.ctx, f);
    if (rc == RF_OK && (got != sizeof hdr || rf_snap_hdr_decode(hdr, &h) != RF_OK ||
                        h.group != g->id || h.index != g->snap_index || h.term != g->snap_term))
        rc = RF_ECORRUPT;
    return rc;
}

/* Every snapshot marker must find its file; files no marker names (an
 * interrupted install, a replaced snapshot) are removed. */
static int check_snapshots(rf_store *st, const rc_scan *sc, rf_store_recovery *info)
{
    for (size_t i = 0; i < st->ngroups; i++) {
        const st_group *g = st->groups[i];
        if (g->snap.bytes == 0)
            continue;
        int rc = snap_file_check(st, sc, g);
        for (int k = 0; rc == RF_ECORRUPT && k < REREADS_MAX; k++)
            rc = snap_file_check(st, sc, g);
        if (rc != RF_OK) {
            char name[RF_NAME_BYTES];
            rf_snap_name(name, g->id, g->snap_index, false);
            snprintf(info->message, sizeof info->message, "%s offset 0: snapshot of group %llu: %s",
                     name, (unsigned long long)g->id,
                     rc == RF_ENOTFOUND ? "file missing" : rf_strerror(rc));
            return rc == RF_EIO ? rc : RF_ECORRUPT;
        }
    }
    bool removed = false;
    for (size_t i = 0; i < sc->nsnaps; i++) {
        const rc_snapfile *s = &sc->snaps[i];
        const st_group *g = rf_st_group_find(st, s->group);
        if (!s->tmp && g != NULL && g->snap.bytes > 0 && g->snap_index == s->index)
            continue;
        char name[RF_NAME_BYTES];
        rf_snap_name(name, s->group, s->index, s->tmp);
        int rc = st->fs.ops->remove(st->fs.ctx, name);
        if (rc != RF_OK && rc != RF_ENOTFOUND)
            return rc;
        removed = true;
    }
    return removed ? st->fs.ops->sync_dir(st->fs.ctx) : RF_OK;
}

/* Cuts the torn tail of the newest segment, or removes a segment whose
 * creation was torn: after every check passed, so that a store refused
 * as corrupt is left as found. */
static int repair_newest(rf_store *st, const rc_scan *sc)
{
    char name[RF_NAME_BYTES];
    rf_seg_name(name, sc->cut_seq);
    if (sc->drop_newest) {
        int rc = st->fs.ops->remove(st->fs.ctx, name);
        return rc == RF_OK ? st->fs.ops->sync_dir(st->fs.ctx) : rc;
    }
    if (!sc->cut_newest)
        return RF_OK;
    rf_fs_file *f;
    int rc = st->fs.ops->open_file(st->fs.ctx, name, false, &f);
    if (rc != RF_OK)
        return rc;
    rc = st->fs.ops->truncate(st->fs.ctx, f, sc->cut_off);
    if (rc == RF_OK)
        rc = st->fs.ops->sync(st->fs.ctx, f);
    st->fs.ops->close(st->fs.ctx, f);
    return rc;
}

/* Opens the newest segment for appending, creating the first one. */
static int open_active(rf_store *st)
{
    char name[RF_NAME_BYTES];
    if (st->nsegs > 0) {
        rf_seg_name(name, st->segs[st->nsegs - 1].seq);
        return st->fs.ops->open_file(st->fs.ctx, name, false, &st->active);
    }
    unsigned char hdr[RF_SEG_HDR_BYTES];
    rf_seg_hdr_encode(hdr, 1);
    rf_seg_name(name, 1);
    int rc = st->fs.ops->open_file(st->fs.ctx, name, true, &st->active);
    if (rc == RF_OK)
        rc = st->fs.ops->truncate(st->fs.ctx, st->active, 0);
    if (rc == RF_OK)
        rc = st->fs.ops->append(st->fs.ctx, st->active, hdr, sizeof hdr);
    if (rc == RF_OK)
        rc = st->fs.ops->sync(st->fs.ctx, st->active);
    if (rc == RF_OK)
        rc = st->fs.ops->sync_dir(st->fs.ctx);
    if (rc == RF_OK)
        rc = push_seg(st, 1, RF_SEG_HDR_BYTES);
    return rc;
}

int rf_st_recover(rf_store *st, rf_store_recovery *info)
{
    rc_scan sc = {0};
    int rc = st->fs.ops->list(st->fs.ctx, list_one, &sc);
    for (size_t i = 0; i < sc.nsegs && rc == RF_OK; i++) {
        if (sc.segs[i] == 0 || sc.segs[i] > UINT32_MAX ||
            (i > 0 && sc.segs[i] != sc.segs[i - 1] + 1)) {
            char name[RF_NAME_BYTES];
            rf_seg_name(name, sc.segs[i]);
            snprintf(info->message, sizeof info->message,
                     "%s offset 0: segment out of sequence (a segment is missing)", name);
            rc = RF_ECORRUPT;
            break;
        }
        rc = replay_segment(st, &sc, sc.segs[i], i + 1 == sc.nsegs, info);
    }
    if (rc == RF_OK)
        rc = check_snapshots(st, &sc, info);
    if (rc == RF_OK)
        rc = repair_newest(st, &sc);
    if (rc == RF_OK)
        rc = open_active(st);
    st->next_batch_seq = sc.last_batch_seq + 1;
    if (rc != RF_OK && info->message[0] == '\0')
        snprintf(info->message, sizeof info->message, "recovery: %s", rf_strerror(rc));
    free(sc.segs);
    free(sc.snaps);
    free(sc.buf);
    return rc;
}

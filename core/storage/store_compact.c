/* store_compact: reclaiming segments, rewriting forward what slow groups keep live. */
#include <stdlib.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "storage/store_internal.h"

/* Does the group keep a live record in segment seq? */
static bool pins(const st_group *g, uint32_t seq)
{
    if ((g->hs.bytes > 0 && g->hs.seg == seq) || (g->snap.bytes > 0 && g->snap.seg == seq) ||
        (g->memb_loc.bytes > 0 && g->memb_loc.seg == seq))
        return true;
    for (size_t i = 0; i < g->n; i++)
        if (g->ents[g->head + i].seg == seq)
            return true;
    return false;
}

static uint64_t live_bytes_of(const st_group *g)
{
    uint64_t sum = (uint64_t)g->hs.bytes + g->snap.bytes + g->memb_loc.bytes;
    sum += RF_REC_HDR_BYTES + 16; /* the reset record */
    for (size_t i = 0; i < g->n; i++)
        sum += st_ent_bytes(&g->ents[g->head + i]);
    return sum;
}

/* Appends the group's whole live state to the batch: hard state,
 * membership, snapshot marker, then a reset and every entry. A whole
 * group per batch keeps its entries in index order for replay. */
static int rewrite_group(rf_store *st, const st_group *g, rf_batch *b, unsigned char *scratch)
{
    int rc = RF_OK;
    if (g->hs.bytes > 0)
        rc = rf_batch_hard_state(b, g->id, g->term, g->vote);
    if (rc == RF_OK && g->memb_loc.bytes > 0)
        rc = rf_batch_membership(b, g->id, g->memb_index, g->memb, g->memb_len);
    if (rc == RF_OK && g->snap.bytes > 0)
        rc = rf_batch_snapshot_marker(b, g->id, g->snap_index, g->snap_term);
    if (rc == RF_OK && g->n > 0)
        rc = rf_batch_reset_group(b, g->id, g->first);
    uint64_t first = g->first, n = g->n;
    for (uint64_t i = 0; i < n && rc == RF_OK; i++) {
        uint64_t term;
        size_t len;
        rc = rf_store_entry(st, g->id, first + i, &term, scratch, RF_STORE_ENTRY_BYTES_MAX, &len);
        if (rc == RF_OK)
            rc = rf_batch_entry(b, g->id, first + i, term, scratch, len);
    }
    return rc;
}

static int fill_rewrite(rf_store *st, uint32_t oldest, rf_batch *b)
{
    unsigned char *scratch = malloc(RF_STORE_ENTRY_BYTES_MAX);
    if (scratch == NULL)
        return RF_ENOMEM;
    uint64_t room = st->cfg.segment_bytes - RF_SEG_HDR_BYTES - 64;
    int rc = RF_OK;
    for (size_t i = 0; i < st->ngroups && rc == RF_OK; i++) {
        const st_group *g = st->groups[i];
        if (!pins(g, oldest))
            continue;
        uint64_t need = live_bytes_of(g);
        if (rf_batch_bytes(b) + need > room) {
            if (rf_batch_empty(b))
                rf_st_msg(st, "group %llu: %llu live bytes exceed a segment, it pins the log",
                          (unsigned long long)g->id, (unsigned long long)need);
            continue;
        }
        rc = rewrite_group(st, g, b, scratch);
    }
    free(scratch);
    return rc;
}

int rf_store_compact_begin(rf_store *st, bool *started)
{
    *started = false;
    if (st->busy)
        return RF_EBUSY;
    if (st->failed)
        return RF_EREADONLY;
    uint64_t garbage = st->disk_bytes - st->live_bytes;
    bool rewrite = st->nsegs > 2 && st->segs[0].live > 0 &&
                   garbage > st->live_bytes + 2 * st->cfg.segment_bytes;
    bool reclaim = st->nsegs > 1 && st->segs[0].live == 0;
    if (!rewrite && !reclaim)
        return RF_OK;
    rf_batch *b = &st->compact;
    rf_batch_reset(b);
    if (rewrite) {
        int rc = fill_rewrite(st, (uint32_t)st->segs[0].seq, b);
        if (rc != RF_OK) {
            rf_batch_reset(b);
            return rc;
        }
    }
    if (rf_batch_empty(b) && !reclaim)
        return RF_OK;
    int rc = rf_st_begin(st, rf_batch_empty(b) ? NULL : b);
    *started = rc == RF_OK;
    return rc;
}

int rf_store_compact(rf_store *st, unsigned max_steps)
{
    for (unsigned i = 0; i < max_steps; i++) {
        bool started;
        int rc = rf_store_compact_begin(st, &started);
        if (rc != RF_OK || !started)
            return rc;
        rf_store_io_run(st);
        rc = rf_store_commit_end(st);
        if (rc != RF_OK)
            return rc;
    }
    return RF_OK;
}

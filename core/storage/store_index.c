/* store_index: the in-memory state of every group and how records change it. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_lower.h"
#include "storage/store_internal.h"

static size_t group_pos(const rf_store *st, uint64_t id)
{
    return rf_lower_u64(st->group_ids, st->ngroups, sizeof *st->group_ids, id);
}

st_group *rf_st_group_find(const rf_store *st, uint64_t id)
{
    size_t pos = group_pos(st, id);
    return pos < st->ngroups && st->group_ids[pos] == id ? st->groups[pos] : NULL;
}

int rf_st_group_get(rf_store *st, uint64_t id, st_group **out)
{
    size_t pos = group_pos(st, id);
    if (pos < st->ngroups && st->group_ids[pos] == id) {
        *out = st->groups[pos];
        return RF_OK;
    }
    if (st->ngroups >= st->cfg.groups_max)
        return RF_EFULL;
    if (st->ngroups == st->capgroups) {
        size_t cap = st->capgroups ? st->capgroups * 2 : 64;
        st_group **p = realloc(st->groups, cap * sizeof *p);
        if (p == NULL)
            return RF_ENOMEM;
        st->groups = p;
        uint64_t *ids = realloc(st->group_ids, cap * sizeof *ids);
        if (ids == NULL)
            return RF_ENOMEM; /* groups grew alone: capgroups, which both have, stays */
        st->group_ids = ids;
        st->capgroups = cap;
    }
    st_group *g = calloc(1, sizeof *g);
    if (g == NULL)
        return RF_ENOMEM;
    g->id = id;
    g->first = 1;
    memmove(&st->groups[pos + 1], &st->groups[pos], (st->ngroups - pos) * sizeof *st->groups);
    memmove(&st->group_ids[pos + 1], &st->group_ids[pos],
            (st->ngroups - pos) * sizeof *st->group_ids);
    st->groups[pos] = g;
    st->group_ids[pos] = id;
    st->ngroups++;
    *out = g;
    return RF_OK;
}

void rf_st_group_forget_if_empty(rf_store *st, uint64_t id)
{
    size_t pos = group_pos(st, id);
    if (pos == st->ngroups || st->groups[pos]->id != id)
        return;
    st_group *g = st->groups[pos];
    if (g->exists || g->n > 0 || g->hs.bytes > 0 || g->snap.bytes > 0 || g->memb_loc.bytes > 0)
        return;
    free(g->ents);
    free(g->memb);
    free(g);
    memmove(&st->groups[pos], &st->groups[pos + 1], (st->ngroups - pos - 1) * sizeof *st->groups);
    memmove(&st->group_ids[pos], &st->group_ids[pos + 1],
            (st->ngroups - pos - 1) * sizeof *st->group_ids);
    st->ngroups--;
}

void rf_st_groups_free(rf_store *st)
{
    for (size_t i = 0; i < st->ngroups; i++) {
        free(st->groups[i]->ents);
        free(st->groups[i]->memb);
        free(st->groups[i]);
    }
    free(st->groups);
    free(st->group_ids);
    st->groups = NULL;
    st->group_ids = NULL;
    st->ngroups = st->capgroups = 0;
}

st_seg *rf_st_seg_find(rf_store *st, uint64_t seq)
{
    if (st->nsegs > 0 && st->segs[st->nsegs - 1].seq == seq)
        return &st->segs[st->nsegs - 1]; /* the common case: the active segment */
    size_t lo = 0, hi = st->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->segs[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < st->nsegs && st->segs[lo].seq == seq ? &st->segs[lo] : NULL;
}

static void live_add(rf_store *st, uint32_t seg, uint32_t bytes)
{
    st_seg *s = rf_st_seg_find(st, seg);
    ASSERT(s != NULL);
    s->live += bytes;
    st->live_bytes += bytes;
}

static void live_sub(rf_store *st, uint32_t seg, uint32_t bytes)
{
    st_seg *s = rf_st_seg_find(st, seg);
    ASSERT(s != NULL);
    ASSERT(s->live >= bytes);
    ASSERT(st->live_bytes >= bytes);
    s->live -= bytes;
    st->live_bytes -= bytes;
}

static void loc_set(rf_store *st, st_loc *loc, uint32_t seg, uint32_t bytes)
{
    if (loc->bytes > 0)
        live_sub(st, loc->seg, loc->bytes);
    loc->seg = seg;
    loc->bytes = bytes;
    if (bytes > 0)
        live_add(st, seg, bytes);
}

/* Drops the entries at index `from` and after. */
static void drop_suffix(rf_store *st, st_group *g, uint64_t from)
{
    if (g->n == 0 || from > st_last(g))
        return;
    if (from < g->first)
        from = g->first;
    size_t keep = (size_t)(from - g->first);
    for (size_t i = keep; i < g->n; i++) {
        const st_ent *e = &g->ents[g->head + i];
        live_sub(st, e->seg, st_ent_bytes(e));
    }
    st->entries -= g->n - keep;
    g->n = keep;
    if (g->n == 0)
        g->head = 0;
}

/* Drops the entries up to and including `upto` (below a snapshot). */
static void drop_prefix(rf_store *st, st_group *g, uint64_t upto)
{
    while (g->n > 0 && g->first <= upto) {
        const st_ent *e = &g->ents[g->head];
        live_sub(st, e->seg, st_ent_bytes(e));
        g->head++;
        g->n--;
        g->first++;
        st->entries--;
    }
    if (g->n == 0)
        g->head = 0;
}

static int push_entry(st_group *g, const st_ent *e)
{
    if (g->head + g->n == g->cap) {
        if (g->head > 0 && g->head >= g->cap / 2) {
            memmove(g->ents, g->ents + g->head, g->n * sizeof *g->ents);
            g->head = 0;
        } else {
            size_t cap = g->cap ? g->cap * 2 : 16;
            st_ent *p = realloc(g->ents, cap * sizeof *p);
            if (p == NULL)
                return RF_ENOMEM;
            g->ents = p;
            g->cap = cap;
        }
    }
    g->ents[g->head + g->n++] = *e;
    return RF_OK;
}

static void clear_group(rf_store *st, st_group *g)
{
    drop_suffix(st, g, g->first);
    loc_set(st, &g->hs, 0, 0);
    loc_set(st, &g->snap, 0, 0);
    loc_set(st, &g->memb_loc, 0, 0);
    free(g->memb);
    g->memb = NULL;
    g->memb_len = 0;
    g->memb_index = 0;
    g->term = g->vote = 0;
    g->snap_index = g->snap_term = 0;
    g->first = 1;
    g->exists = false;
}

static int apply_entry(rf_store *st, st_group *g, const rf_batch_rec *r, uint32_t seg,
                       uint64_t off, bool replay)
{
    if (g->n == 0) {
        /* Replay may start after deleted segments that held the group's
         * earlier records; the first entry seen then sets where it starts. */
        if (replay)
            g->first = r->index;
        ASSERT(r->index == g->first);
    } else if (r->index != st_last(g) + 1) {
        if (replay)
            return RF_ECORRUPT;
        UNREACHABLE();
    }
    st_ent e = {.term = r->term, .seg = seg, .off = (uint32_t)off, .len = r->data_bytes};
    int rc = push_entry(g, &e);
    if (rc != RF_OK)
        return rc;
    st->entries++;
    live_add(st, seg, st_ent_bytes(&e));
    g->exists = true;
    return RF_OK;
}

/* Raft §7 (InstallSnapshot): if the log holds the snapshot's last entry
 * with its term, the entries after it stay; otherwise the log goes. */
static void apply_snapshot(rf_store *st, st_group *g, const rf_batch_rec *r)
{
    uint64_t s = r->index;
    if (g->n > 0 && s >= g->first) {
        if (s <= st_last(g) && st_ent_at(g, s)->term == r->term)
            drop_prefix(st, g, s);
        else
            drop_suffix(st, g, g->first);
    }
    if (g->n == 0 && s >= g->first)
        g->first = s + 1;
    g->snap_index = s;
    g->snap_term = r->term;
}

static int set_membership(st_group *g, const rf_batch_rec *r, const unsigned char *payload)
{
    unsigned char *m = NULL;
    if (r->data_bytes > 0) {
        m = malloc(r->data_bytes);
        if (m == NULL)
            return RF_ENOMEM;
        memcpy(m, payload + RF_REC_MEMBERSHIP_FIXED_BYTES, r->data_bytes);
    }
    free(g->memb);
    g->memb = m;
    g->memb_len = r->data_bytes;
    g->memb_index = r->index;
    return RF_OK;
}

int rf_st_apply(rf_store *st, const rf_batch_rec *r, uint32_t seg, uint64_t off,
             const unsigned char *payload, bool replay)
{
    st_group *g;
    int rc = rf_st_group_get(st, r->group, &g);
    if (rc != RF_OK)
        return rc;
    uint32_t bytes = RF_REC_HDR_BYTES + (uint32_t)rf_walrec_fixed_bytes(r->type) + r->data_bytes;
    switch (r->type) {
    case RF_REC_HARD_STATE:
        g->term = r->term;
        g->vote = r->vote;
        loc_set(st, &g->hs, seg, bytes);
        break;
    case RF_REC_ENTRY:
        return apply_entry(st, g, r, seg, off, replay);
    case RF_REC_TRUNCATE:
        drop_suffix(st, g, r->index);
        break;
    case RF_REC_SNAPSHOT:
        apply_snapshot(st, g, r);
        loc_set(st, &g->snap, seg, bytes);
        break;
    case RF_REC_MEMBERSHIP:
        rc = set_membership(g, r, payload);
        if (rc != RF_OK)
            return rc;
        loc_set(st, &g->memb_loc, seg, bytes);
        break;
    case RF_REC_RESET:
        drop_suffix(st, g, g->first);
        g->first = r->index;
        break;
    case RF_REC_DROP:
        clear_group(st, g);
        rf_st_group_forget_if_empty(st, r->group); /* its table slot is free again */
        return RF_OK;
    default:
        return replay ? RF_ECORRUPT : RF_EINVAL;
    }
    g->exists = true;
    return RF_OK;
}

static void chk_init(rf_store *st, st_group *g)
{
    if (g->chk_gen == st->gen)
        return;
    g->chk_gen = st->gen;
    g->chk_last = g->n > 0 ? st_last(g) : g->first - 1;
    g->chk_snap = g->snap_index;
    g->chk_touched = false;
}

/* The snapshot's effect on the last index, predicted as apply_snapshot
 * will do it; RF_EINVAL when it depends on entries of this same batch. */
static int chk_snapshot(const st_group *g, const rf_batch_rec *r, uint64_t *last)
{
    if (r->index < g->chk_snap)
        return RF_EINVAL; /* older than the snapshot already held */
    if (r->index > g->chk_last) {
        *last = r->index;
        return RF_OK;
    }
    if (g->chk_touched)
        return RF_EINVAL;
    bool keep = g->n > 0 && r->index >= g->first && st_ent_at(g, r->index)->term == r->term;
    if (g->n > 0 && r->index < g->first)
        keep = true;
    *last = keep ? g->chk_last : r->index;
    return RF_OK;
}

int rf_st_check(rf_store *st, const rf_batch_rec *r)
{
    st_group *g;
    int rc = rf_st_group_get(st, r->group, &g);
    if (rc != RF_OK)
        return rc;
    chk_init(st, g);
    switch (r->type) {
    case RF_REC_ENTRY:
        if (r->index <= g->chk_last)
            return r->index <= g->chk_snap ? RF_ECOMPACTED : RF_EINVAL;
        if (r->index != g->chk_last + 1)
            return RF_EINDEXGAP;
        g->chk_last++;
        g->chk_touched = true;
        return RF_OK;
    case RF_REC_TRUNCATE:
        if (r->index <= g->chk_snap)
            return RF_ECOMPACTED;
        if (r->index <= g->chk_last)
            g->chk_last = r->index - 1;
        g->chk_touched = true;
        return RF_OK;
    case RF_REC_SNAPSHOT: {
        uint64_t last;
        rc = chk_snapshot(g, r, &last);
        if (rc != RF_OK)
            return rc;
        g->chk_last = last;
        g->chk_snap = r->index;
        g->chk_touched = true;
        return RF_OK;
    }
    case RF_REC_RESET:
        if (r->index != g->chk_snap + 1)
            return RF_EINVAL;
        g->chk_last = r->index - 1;
        g->chk_touched = true;
        return RF_OK;
    case RF_REC_DROP:
        g->chk_last = 0;
        g->chk_snap = 0;
        g->chk_touched = true;
        return RF_OK;
    default:
        return RF_OK;
    }
}

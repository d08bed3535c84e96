/* store_model: a reference model of the store's state and a workload of batches, for tests. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_hash.h"
#include "tests/core/storage/store_model.h"

typedef struct sm_ent {
    uint64_t term;
    uint32_t len;
    unsigned char data[64];
} sm_ent;

typedef struct sm_group {
    bool exists;
    uint64_t term, vote;
    uint64_t snap_index, snap_term;
    const unsigned char *snap_data;
    size_t snap_len;
    uint64_t memb_index;
    unsigned char memb[16];
    size_t memb_len;
    sm_ent *ents; /* indexes snap_index + 1 .. snap_index + n */
    size_t n, cap;
    bool touched; /* in the batch being built */
} sm_group;

/* Serialisation for digests: a growable byte string. */
typedef struct sm_buf {
    unsigned char *p;
    size_t len, cap;
} sm_buf;

static void put(sm_buf *b, const void *v, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    if (n > 0)
        memcpy(b->p + b->len, v, n);
    b->len += n;
}

static void put64(sm_buf *b, uint64_t v)
{
    put(b, &v, sizeof v);
}

static uint64_t finish(sm_buf *b)
{
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    uint64_t h = rf_siphash24(key, b->p, b->len);
    free(b->p);
    return h;
}

static uint64_t model_digest(const sm_group *gs, unsigned ngroups)
{
    sm_buf b = {0};
    for (unsigned i = 0; i < ngroups; i++) {
        const sm_group *g = &gs[i];
        if (!g->exists)
            continue;
        put64(&b, i);
        put64(&b, g->term);
        put64(&b, g->vote);
        put64(&b, g->snap_index);
        put64(&b, g->snap_term);
        put64(&b, g->snap_len);
        put(&b, g->snap_data, g->snap_len);
        put64(&b, g->memb_index);
        put64(&b, g->memb_len);
        put(&b, g->memb, g->memb_len);
        put64(&b, g->snap_index + g->n);
        for (size_t k = 0; k < g->n; k++) {
            put64(&b, g->ents[k].term);
            put64(&b, g->ents[k].len);
            put(&b, g->ents[k].data, g->ents[k].len);
        }
    }
    return finish(&b);
}

uint64_t sm_store_digest(rf_store *st)
{
    sm_buf b = {0};
    uint64_t ids[256];
    size_t n = rf_store_groups(st, ids, 256);
    ck_assert_uint_le(n, 256);
    unsigned char *data = malloc(1 << 16);
    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < n; i++) {
        rf_store_group_info gi;
        ck_assert_int_eq(rf_store_group(st, ids[i], &gi), 0);
        put64(&b, ids[i]);
        put64(&b, gi.term);
        put64(&b, gi.vote);
        put64(&b, gi.snapshot_index);
        put64(&b, gi.snapshot_term);
        size_t len = 0;
        if (gi.snapshot_index > 0) {
            int rc = rf_store_snapshot_read(st, ids[i], data, 1 << 16, &len);
            ck_assert_msg(rc == 0, "snapshot read: %d %s", rc, rf_store_message(st));
        }
        put64(&b, len);
        put(&b, data, len);
        put64(&b, gi.membership_index);
        put64(&b, gi.membership_bytes);
        put(&b, gi.membership, gi.membership_bytes);
        put64(&b, gi.last_index);
        ck_assert_uint_eq(gi.first_index, gi.snapshot_index + 1);
        for (uint64_t idx = gi.first_index; idx <= gi.last_index; idx++) {
            uint64_t term;
            int rc = rf_store_entry(st, ids[i], idx, &term, data, 1 << 16, &len);
            ck_assert_msg(rc == 0, "entry %llu: %d %s", (unsigned long long)idx, rc,
                          rf_store_message(st));
            put64(&b, term);
            put64(&b, len);
            put(&b, data, len);
        }
    }
    free(data);
    return finish(&b);
}

static void push_ent(sm_group *g, uint64_t term, const unsigned char *d, uint32_t len)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->ents = realloc(g->ents, g->cap * sizeof *g->ents);
        ck_assert_ptr_nonnull(g->ents);
    }
    sm_ent *e = &g->ents[g->n++];
    e->term = term;
    e->len = len;
    memcpy(e->data, d, len);
}

static void op_entries(sm_group *g, unsigned gid, rf_batch *b, rf_pcg32 *r, const sm_params *p)
{
    unsigned m = 1 + rf_pcg32_bounded(r, 5);
    for (unsigned k = 0; k < m; k++) {
        unsigned char d[64];
        uint32_t len = rf_pcg32_bounded(r, p->payload_bytes_max + 1);
        for (uint32_t i = 0; i < len; i++)
            d[i] = (unsigned char)rf_pcg32_next(r);
        uint64_t index = g->snap_index + g->n + 1;
        ck_assert_int_eq(rf_batch_entry(b, gid, index, g->term, d, len), 0);
        push_ent(g, g->term, d, len);
    }
}

static void op_snapshot(sm_workload *w, sm_group *g, unsigned gid, rf_batch *b, rf_pcg32 *r)
{
    uint64_t k = rf_pcg32_range64(r, 1, g->n); /* keep k entries' worth in the snapshot */
    uint64_t s = g->snap_index + k;
    uint64_t t = g->ents[k - 1].term;
    size_t len = rf_pcg32_bounded(r, 200);
    unsigned char *d = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        d[i] = (unsigned char)rf_pcg32_next(r);
    w->blobs = realloc(w->blobs, (w->nblobs + 1) * sizeof *w->blobs);
    w->blobs[w->nblobs++] = d;
    ck_assert_int_eq(rf_batch_snapshot(b, gid, s, t, d, len), 0);
    memmove(g->ents, g->ents + k, (g->n - k) * sizeof *g->ents);
    g->n -= k;
    g->snap_index = s;
    g->snap_term = t;
    g->snap_data = d;
    g->snap_len = len;
}

static void one_op(sm_workload *w, sm_group *gs, rf_batch *b, rf_pcg32 *r, const sm_params *p)
{
    unsigned gid = rf_pcg32_bounded(r, p->groups);
    sm_group *g = &gs[gid];
    uint32_t kind = rf_pcg32_bounded(r, 100);
    g->exists = true;
    if (kind < 50) {
        op_entries(g, gid, b, r, p);
    } else if (kind < 62) {
        g->term += rf_pcg32_bounded(r, 2);
        g->vote = rf_pcg32_bounded(r, 5);
        ck_assert_int_eq(rf_batch_hard_state(b, gid, g->term, g->vote), 0);
    } else if (kind < 74 && g->n > 0) {
        uint64_t keep = rf_pcg32_range64(r, 0, g->n - 1);
        ck_assert_int_eq(rf_batch_truncate(b, gid, g->snap_index + keep + 1), 0);
        g->n = keep;
        g->term++;
        ck_assert_int_eq(rf_batch_hard_state(b, gid, g->term, g->vote), 0);
        op_entries(g, gid, b, r, p);
    } else if (kind < 86 && g->n > 0 && !g->touched) {
        op_snapshot(w, g, gid, b, r);
    } else if (kind < 94) {
        g->memb_len = rf_pcg32_bounded(r, 17);
        g->memb_index = g->snap_index + g->n;
        for (size_t i = 0; i < g->memb_len; i++)
            g->memb[i] = (unsigned char)rf_pcg32_next(r);
        ck_assert_int_eq(rf_batch_membership(b, gid, g->memb_index, g->memb, g->memb_len), 0);
    } else if (kind < 97 && p->with_drops) {
        ck_assert_int_eq(rf_batch_drop_group(b, gid), 0);
        free(g->ents);
        memset(g, 0, sizeof *g);
        g->touched = true;
        return;
    } else {
        op_entries(g, gid, b, r, p);
    }
    g->touched = true;
}

void sm_workload_make(sm_workload *w, const sm_params *p, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    rf_pcg32 r;
    rf_pcg32_seed(&r, seed, 77);
    sm_group *gs = calloc(p->groups, sizeof *gs);
    ck_assert_ptr_nonnull(gs);
    w->n = p->batches;
    w->batches = calloc(w->n, sizeof *w->batches);
    w->digest = calloc(w->n + 1, sizeof *w->digest);
    w->digest[0] = model_digest(gs, p->groups);
    for (size_t i = 0; i < w->n; i++) {
        rf_batch *b = &w->batches[i];
        rf_batch_init(b);
        for (unsigned k = 0; k < p->groups; k++)
            gs[k].touched = false;
        unsigned ops = 1 + rf_pcg32_bounded(&r, p->ops_per_batch_max);
        for (unsigned k = 0; k < ops; k++)
            one_op(w, gs, b, &r, p);
        w->digest[i + 1] = model_digest(gs, p->groups);
    }
    for (unsigned k = 0; k < p->groups; k++)
        free(gs[k].ents);
    free(gs);
}

void sm_workload_free(sm_workload *w)
{
    for (size_t i = 0; i < w->n; i++)
        rf_batch_close(&w->batches[i]);
    for (size_t i = 0; i < w->nblobs; i++)
        free(w->blobs[i]);
    free(w->blobs);
    free(w->batches);
    free(w->digest);
    memset(w, 0, sizeof *w);
}

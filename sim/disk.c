/* sim/disk: each node's simulated disk: writes become durable in order after a drawn latency; a crash loses or tears them. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/cluster_int.h"

static void *xmemdup(const void *p, size_t len)
{
    void *q = malloc(len == 0 ? 1 : len);
    ASSERT(q != NULL); /* the harness is a test tool: out of memory ends the run */
    if (len > 0)
        memcpy(q, p, len);
    return q;
}

static void entry_copy(rf_entry *dst, const rf_entry *src)
{
    *dst = *src;
    dst->data = xmemdup(src->data, src->len);
}

static void write_free(sim_write *w)
{
    free((void *)w->snap.data);
    for (size_t i = 0; i < w->n_entries; i++)
        free((void *)w->entries[i].data);
    free(w->entries);
    free(w);
}

int sim_disk_submit(rf_sim_cluster *c, sim_node *n, const rf_ready *rd)
{
    if (rd->persist_token == 0)
        return RF_OK;
    sim_write *w = calloc(1, sizeof(*w));
    ASSERT(w != NULL);
    w->token = rd->persist_token;
    w->has_snapshot = rd->has_snapshot;
    if (rd->has_snapshot) {
        w->snap = rd->snapshot;
        w->snap.data = xmemdup(rd->snapshot.data, rd->snapshot.len);
    }
    w->truncate_from = rd->truncate_from;
    w->n_entries = rd->n_entries;
    if (rd->n_entries > 0) {
        w->entries = malloc(rd->n_entries * sizeof(*w->entries));
        ASSERT(w->entries != NULL);
        for (size_t i = 0; i < rd->n_entries; i++)
            entry_copy(&w->entries[i], &rd->entries[i]);
    }
    w->has_hard_state = rd->has_hard_state;
    w->term = rd->term;
    w->vote = rd->vote;
    if (n->wq_tail != NULL)
        n->wq_tail->next = w;
    else
        n->wq_head = w;
    n->wq_tail = w;
    /* One write at a time, in order: it starts when the previous one ends. */
    uint64_t now = c->eng.now_ns;
    uint64_t start = n->disk_free_ns > now ? n->disk_free_ns : now;
    uint64_t lat = rf_pcg32_range64(&n->disk_rng, c->cfg.disk_ns_min, c->cfg.disk_ns_max);
    rf_sim_trace_u64(&c->eng.trace, lat);
    n->disk_free_ns = start + lat;
    return rf_sim_engine_at(&c->eng, n->disk_free_ns, SIM_K_DISK, n->index, n->epoch, NULL);
}

static uint64_t durable_last(const sim_durable *d)
{
    if (d->n_entries > 0)
        return d->entries[d->n_entries - 1].index;
    return d->has_snapshot ? d->snap.index : 0;
}

static void durable_truncate(sim_durable *d, uint64_t from)
{
    while (d->n_entries > 0 && d->entries[d->n_entries - 1].index >= from) {
        d->n_entries--;
        free((void *)d->entries[d->n_entries].data);
    }
}

static void durable_snapshot(sim_durable *d, const rf_snapshot_out *s)
{
    free((void *)d->snap.data);
    d->snap = *s;
    d->snap.data = xmemdup(s->data, s->len);
    d->has_snapshot = true;
    /* Entries up to the snapshot go; what follows stays only if contiguous. */
    size_t drop = 0;
    while (drop < d->n_entries && d->entries[drop].index <= s->index)
        drop++;
    if (drop < d->n_entries && d->entries[drop].index != s->index + 1)
        drop = d->n_entries;
    for (size_t i = 0; i < drop; i++)
        free((void *)d->entries[i].data);
    if (drop > 0 && drop < d->n_entries)
        memmove(d->entries, d->entries + drop, (d->n_entries - drop) * sizeof(*d->entries));
    d->n_entries -= drop;
}

static void durable_append(rf_sim_cluster *c, sim_node *n, const rf_entry *e)
{
    sim_durable *d = &n->durable;
    if (e->index <= durable_last(d))
        durable_truncate(d, e->index);
    if (e->index != durable_last(d) + 1) {
        rf_sim_check_fail(&c->check, RF_SIM_V_HARNESS,
                          "n%u writes entry %llu after durable entry %llu (a gap)", n->index + 1,
                          (unsigned long long)e->index, (unsigned long long)durable_last(d));
        return;
    }
    if (d->n_entries == d->cap) {
        d->cap = d->cap == 0 ? 64 : d->cap * 2;
        d->entries = realloc(d->entries, d->cap * sizeof(*d->entries));
        ASSERT(d->entries != NULL);
    }
    entry_copy(&d->entries[d->n_entries++], e);
}

/* Applies w in the order raft.h fixes: snapshot, truncation, entries, hard
 * state. A torn write stops after n_entries entries, before the hard state. */
static void apply_write(rf_sim_cluster *c, sim_node *n, const sim_write *w, size_t n_entries,
                        bool hard_state)
{
    if (w->has_snapshot)
        durable_snapshot(&n->durable, &w->snap);
    if (w->truncate_from != 0)
        durable_truncate(&n->durable, w->truncate_from);
    for (size_t i = 0; i < n_entries; i++)
        durable_append(c, n, &w->entries[i]);
    if (hard_state && w->has_hard_state) {
        n->durable.term = w->term;
        n->durable.vote = w->vote;
    }
}

void sim_disk_complete(rf_sim_cluster *c, sim_node *n)
{
    sim_write *w = n->wq_head;
    ASSERT(w != NULL);
    ASSERT(n->raft != NULL);
    n->wq_head = w->next;
    if (n->wq_head == NULL)
        n->wq_tail = NULL;
    apply_write(c, n, w, w->n_entries, true);
    uint64_t token = w->token;
    write_free(w);
    if (c->cfg.disk_acks_early)
        return; /* reported at submission already */
    sim_node_clock(c, n);
    rf_raft_persisted(n->raft, token);
    sim_node_drain(c, n);
}

void sim_disk_crash(rf_sim_cluster *c, sim_node *n)
{
    sim_write *w = n->wq_head;
    if (w != NULL && c->cfg.torn_ppm > 0 &&
        rf_pcg32_bounded(&n->disk_rng, RF_SIM_PPM) < c->cfg.torn_ppm) {
        /* The write under way lands partly: a strict prefix of its
         * entries (none, when it has none), never its hard state. */
        size_t k = w->n_entries == 0 ? 0 : rf_pcg32_bounded(&n->disk_rng, (uint32_t)w->n_entries);
        rf_sim_trace_u64(&c->eng.trace, k);
        apply_write(c, n, w, k, false);
        c->stats.torn_writes++;
    }
    while (w != NULL) {
        sim_write *next = w->next;
        write_free(w);
        c->stats.writes_lost++;
        w = next;
    }
    n->wq_head = n->wq_tail = NULL;
    n->disk_free_ns = 0;
}

void sim_disk_close(sim_node *n)
{
    sim_write *w = n->wq_head;
    while (w != NULL) {
        sim_write *next = w->next;
        write_free(w);
        w = next;
    }
    n->wq_head = n->wq_tail = NULL;
    sim_durable *d = &n->durable;
    durable_truncate(d, 0);
    free(d->entries);
    free((void *)d->snap.data);
    memset(d, 0, sizeof(*d));
}

bool sim_disk_empty(const sim_node *n)
{
    const sim_durable *d = &n->durable;
    return !d->has_snapshot && d->n_entries == 0 && d->term == 0 && d->vote == 0;
}

void sim_disk_state(const sim_node *n, rf_raft_state *st)
{
    const sim_durable *d = &n->durable;
    memset(st, 0, sizeof(*st));
    st->term = d->term;
    st->vote = d->vote;
    if (d->has_snapshot) {
        st->snapshot_index = d->snap.index;
        st->snapshot_term = d->snap.term;
        st->snapshot_membership = d->snap.membership;
        st->snapshot_data = d->snap.data;
        st->snapshot_len = d->snap.len;
    }
    st->entries = d->entries;
    st->n_entries = d->n_entries;
}

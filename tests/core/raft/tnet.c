/* tnet: a tiny test-local network and disk for wiring rf_raft instances by hand. */
#include "tests/core/raft/tnet.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "model/rf_model.h"

void tnet_config(rf_raft_config *c, uint64_t id)
{
    rf_raft_config_defaults(c);
    c->group_id = 77;
    c->node_id = id;
    c->election_timeout_ns = 100 * TNET_MS;
    c->heartbeat_interval_ns = 10 * TNET_MS;
    c->lease_drift_ns = 10 * TNET_MS;
    c->transfer_timeout_ns = 200 * TNET_MS;
    c->model = &rf_model_int;
    rf_pcg32_seed(&c->rng, 1000 + id, id);
}

static void *dupb(const void *p, size_t n)
{
    if (n == 0)
        return NULL;
    void *q = malloc(n);
    memcpy(q, p, n);
    return q;
}

static void store_drop_from(tnet_store *s, uint64_t from)
{
    while (s->n_ents > 0 && s->snap_index + s->n_ents >= from) {
        free((void *)s->ents[s->n_ents - 1].data);
        s->n_ents--;
    }
}

static void store_apply(tnet_store *s, const tnet_write *w)
{
    if (w->has_snapshot) {
        free(s->snap_data);
        s->snap_data = dupb(w->snap_data, w->snap_len);
        s->snap_len = w->snap_len;
        /* entries <= snapshot index go */
        size_t drop = 0;
        while (drop < s->n_ents && s->ents[drop].index <= w->snap_index)
            free((void *)s->ents[drop++].data);
        if (drop > 0 && drop < s->n_ents)
            memmove(s->ents, s->ents + drop, (s->n_ents - drop) * sizeof(rf_entry));
        s->n_ents -= drop;
        s->snap_index = w->snap_index;
        s->snap_term = w->snap_term;
        s->snap_conf = w->snap_conf;
    }
    if (w->truncate_from)
        store_drop_from(s, w->truncate_from);
    for (size_t i = 0; i < w->n_ents; i++) {
        const rf_entry *e = &w->ents[i];
        store_drop_from(s, e->index);
        ck_assert_uint_eq(e->index, s->snap_index + s->n_ents + 1);
        if (s->n_ents == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 64;
            s->ents = realloc(s->ents, s->cap * sizeof(rf_entry));
        }
        s->ents[s->n_ents] = *e;
        s->ents[s->n_ents].data = dupb(e->data, e->len);
        s->n_ents++;
    }
    if (w->has_hs) {
        s->term = w->term;
        s->vote = w->vote;
    }
}

static void write_free(tnet_write *w)
{
    free(w->snap_data);
    for (size_t i = 0; i < w->n_ents; i++)
        free((void *)w->ents[i].data);
    free(w->ents);
}

static void write_from_ready(tnet_write *w, const rf_ready *rd)
{
    memset(w, 0, sizeof(*w));
    w->token = rd->persist_token;
    w->has_snapshot = rd->has_snapshot;
    if (rd->has_snapshot) {
        w->snap_index = rd->snapshot.index;
        w->snap_term = rd->snapshot.term;
        w->snap_conf = rd->snapshot.membership;
        w->snap_data = dupb(rd->snapshot.data, rd->snapshot.len);
        w->snap_len = rd->snapshot.len;
    }
    w->truncate_from = rd->truncate_from;
    w->n_ents = rd->n_entries;
    w->ents = calloc(rd->n_entries + 1, sizeof(rf_entry));
    for (size_t i = 0; i < rd->n_entries; i++) {
        w->ents[i] = rd->entries[i];
        w->ents[i].data = dupb(rd->entries[i].data, rd->entries[i].len);
    }
    w->has_hs = rd->has_hard_state;
    w->term = rd->term;
    w->vote = rd->vote;
}

static void queue_msg(tnet *t, uint64_t from, const rf_send *s)
{
    t->msgs_by_type[s->msg.type]++;
    if (s->msg.type == RF_MSG_SNAPSHOT && s->msg.len > t->snap_chunk_max)
        t->snap_chunk_max = s->msg.len;
    if (t->cut[from][s->to] || s->to > TNET_NODES || !t->r[s->to])
        return;
    if (t->filter && !t->filter(t, from, s->to, &s->msg))
        return;
    size_t len = rf_msg_encoded_size(&s->msg);
    uint8_t *b = malloc(len);
    size_t got = 0;
    ck_assert_int_eq(rf_msg_encode(&s->msg, b, len, &got), RF_OK);
    if (t->trace == 0)
        t->trace = 1469598103934665603ull;
    for (size_t i = 0; i < got; i++)
        t->trace = (t->trace ^ b[i]) * 1099511628211ull;
    if (t->qn == t->qcap) {
        t->qcap = t->qcap ? t->qcap * 2 : 256;
        t->q = realloc(t->q, t->qcap * sizeof(tnet_msg));
    }
    t->q[t->qn++] = (tnet_msg){from, s->to, b, got};
}

static void record_reply(tnet *t, uint64_t id, const rf_reply *p)
{
    ck_assert_uint_lt(t->n_replies, 4096);
    tnet_reply *o = &t->replies[t->n_replies++];
    o->node = id;
    o->request_id = p->request_id;
    o->status = p->status;
    o->leader_hint = p->leader_hint;
    size_t n = p->len < 63 ? p->len : 63;
    memcpy(o->data, p->data ? (const char *)p->data : "", n);
    o->data[n] = 0;
}

/* One ready of node id. Returns true if it produced anything. */
static bool drain(tnet *t, uint64_t id)
{
    rf_raft *r = t->r[id];
    if (!r || !rf_raft_has_ready(r))
        return false;
    rf_ready rd;
    rf_raft_ready(r, &rd);
    tnet_write w;
    bool wrote = rd.persist_token != 0;
    if (wrote)
        write_from_ready(&w, &rd);
    for (size_t i = 0; i < rd.n_msgs; i++)
        queue_msg(t, id, &rd.msgs[i]);
    for (size_t i = 0; i < rd.n_replies; i++)
        record_reply(t, id, &rd.replies[i]);
    t->applied_count[id] += rd.n_applied;
    for (size_t i = 0; i < rd.n_obs; i++)
        t->obs_count[id][rd.obs[i].kind & 7]++;
    rf_raft_advance(r);
    if (wrote) {
        t->pend[id] = realloc(t->pend[id], (t->n_pend[id] + 1) * sizeof(tnet_write));
        t->pend[id][t->n_pend[id]++] = w;
        if (!t->manual[id])
            tnet_sync(t, id);
    }
    return true;
}

void tnet_sync(tnet *t, uint64_t id)
{
    uint64_t token = 0;
    for (size_t i = 0; i < t->n_pend[id]; i++) {
        store_apply(&t->st[id], &t->pend[id][i]);
        token = t->pend[id][i].token;
        write_free(&t->pend[id][i]);
    }
    t->n_pend[id] = 0;
    if (token && t->r[id])
        rf_raft_persisted(t->r[id], token);
}

void tnet_settle(tnet *t)
{
    for (int rounds = 0; rounds < 10000; rounds++) {
        bool any = false;
        for (uint64_t id = 1; id <= TNET_NODES; id++)
            any |= drain(t, id);
        if (t->qn == 0 && !any)
            return;
        tnet_msg *q = t->q;
        size_t qn = t->qn;
        t->q = NULL;
        t->qn = t->qcap = 0;
        for (size_t i = 0; i < qn; i++) {
            if (t->r[q[i].to] && !t->cut[q[i].from][q[i].to])
                rf_raft_receive_bytes(t->r[q[i].to], q[i].bytes, q[i].len);
            free(q[i].bytes);
        }
        free(q);
    }
    ck_abort_msg("tnet: network never settled");
}

void tnet_run(tnet *t, uint64_t ms)
{
    for (uint64_t i = 0; i < ms; i++) {
        t->now += TNET_MS;
        for (uint64_t id = 1; id <= TNET_NODES; id++)
            if (t->r[id])
                rf_raft_tick(t->r[id], t->now);
        tnet_settle(t);
    }
}

void tnet_init(tnet *t, int n, void (*tweak)(rf_raft_config *c))
{
    memset(t, 0, sizeof(*t));
    t->n = n;
    rf_membership m = {0};
    for (int i = 0; i < n; i++) {
        m.members[i].id = (uint64_t)i + 1;
        m.members[i].voter = 1;
    }
    m.count = (uint32_t)n;
    for (uint64_t id = 1; id <= (uint64_t)n; id++) {
        tnet_config(&t->cfg[id], id);
        if (tweak)
            tweak(&t->cfg[id]);
        ck_assert_int_eq(rf_raft_bootstrap(&t->cfg[id], &m, &t->r[id]), RF_OK);
        rf_raft_tick(t->r[id], 0);
    }
    tnet_settle(t);
}

void tnet_add_empty(tnet *t, uint64_t id)
{
    tnet_config(&t->cfg[id], id);
    t->cfg[id].election_timeout_ns = t->cfg[1].election_timeout_ns;
    t->cfg[id].snapshot_threshold = t->cfg[1].snapshot_threshold;
    t->cfg[id].snapshot_chunk_bytes_max = t->cfg[1].snapshot_chunk_bytes_max;
    ck_assert_int_eq(rf_raft_create(&t->cfg[id], &t->r[id]), RF_OK);
    rf_raft_tick(t->r[id], t->now);
}

static void store_free(tnet_store *s)
{
    store_drop_from(s, 0);
    free(s->ents);
    free(s->snap_data);
    memset(s, 0, sizeof(*s));
}

void tnet_crash(tnet *t, uint64_t id)
{
    for (size_t i = 0; i < t->n_pend[id]; i++)
        write_free(&t->pend[id][i]);
    t->n_pend[id] = 0;
    rf_raft_close(t->r[id]);
    t->r[id] = NULL;
}

void tnet_wipe(tnet *t, uint64_t id)
{
    tnet_crash(t, id);
    store_free(&t->st[id]);
    tnet_add_empty(t, id);
}

void tnet_restart(tnet *t, uint64_t id)
{
    tnet_store *s = &t->st[id];
    rf_raft_state st = {0};
    st.term = s->term;
    st.vote = s->vote;
    st.snapshot_index = s->snap_index;
    st.snapshot_term = s->snap_term;
    st.snapshot_membership = s->snap_conf;
    st.snapshot_data = s->snap_data;
    st.snapshot_len = s->snap_len;
    st.entries = s->ents;
    st.n_entries = s->n_ents;
    ck_assert_int_eq(rf_raft_restore(&t->cfg[id], &st, &t->r[id]), RF_OK);
    rf_raft_tick(t->r[id], t->now);
}

void tnet_free(tnet *t)
{
    for (uint64_t id = 1; id <= TNET_NODES; id++) {
        if (t->r[id])
            tnet_crash(t, id);
        free(t->pend[id]);
        store_free(&t->st[id]);
    }
    for (size_t i = 0; i < t->qn; i++)
        free(t->q[i].bytes);
    free(t->q);
}

uint64_t tnet_leader(tnet *t)
{
    uint64_t best = 0, term = 0;
    for (uint64_t id = 1; id <= TNET_NODES; id++)
        if (t->r[id] && rf_raft_role(t->r[id]) == RF_ROLE_LEADER && rf_raft_term(t->r[id]) >= term) {
            best = id;
            term = rf_raft_term(t->r[id]);
        }
    return best;
}

uint64_t tnet_wait_leader(tnet *t, uint64_t ms)
{
    for (uint64_t i = 0; i < ms; i++) {
        uint64_t l = tnet_leader(t);
        if (l && rf_raft_commit_index(t->r[l]) >= rf_raft_last_index(t->r[l]))
            return l;
        tnet_run(t, 1);
    }
    return tnet_leader(t);
}

void tnet_isolate(tnet *t, uint64_t id, bool on)
{
    for (uint64_t j = 1; j <= TNET_NODES; j++) {
        t->cut[id][j] = on;
        t->cut[j][id] = on;
    }
}

const tnet_reply *tnet_reply_for(const tnet *t, uint64_t request_id)
{
    for (size_t i = t->n_replies; i > 0; i--)
        if (t->replies[i - 1].request_id == request_id)
            return &t->replies[i - 1];
    return NULL;
}

int tnet_propose_floor(tnet *t, uint64_t id, uint64_t req, uint64_t client, uint64_t seq,
                       uint64_t floor, const char *cmd)
{
    int rc = rf_raft_propose(t->r[id], req, client, seq, floor, (const uint8_t *)cmd, strlen(cmd));
    tnet_settle(t);
    return rc;
}

int tnet_propose(tnet *t, uint64_t id, uint64_t req, uint64_t client, uint64_t seq,
                 const char *cmd)
{
    return tnet_propose_floor(t, id, req, client, seq, seq, cmd);
}

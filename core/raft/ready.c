/* ready: the output batch (etcd's Ready), advance, and the persisted input. */
#include <string.h>

#include "raft/raft_int.h"

bool rf_raft_has_ready(const rf_raft *r)
{
    if (r->pending_write || r->msgs_n || r->replies_n || r->appl_n || r->obs_n)
        return true;
    if (r->role != RF_ROLE_LEADER)
        return false;
    if (r->bcast)
        return true;
    /* An acknowledgement frees room in a follower's pipeline: the appends
     * it allows are made in rf_raft_ready, so say there is work. */
    for (uint32_t i = 0; i < r->n_peers; i++)
        if (r->peers[i].need_send ||
            (r->peers[i].wake && r->peers[i].next <= rf_rft_log_last(&r->log)))
            return true;
    return false;
}

/* Fills the persistence part of rd and hands out a token for it. */
static void ready_persist(rf_raft *r, rf_ready *rd, size_t *n_ents)
{
    if (!r->pending_write)
        return;
    rd->persist_token = ++r->write_seq;
    if (r->snap_pending) {
        rd->has_snapshot = true;
        rd->snapshot.index = r->snap_data_index;
        rd->snapshot.term = r->snap_data_term;
        rd->snapshot.membership = r->snap_data_conf;
        rd->snapshot.data = r->snap_data;
        rd->snapshot.len = r->snap_len;
    }
    uint64_t last = rf_rft_log_last(&r->log);
    if (r->truncated)
        rd->truncate_from = r->persist_from;
    if (r->persist_from <= r->log.snap_index)
        r->persist_from = r->log.snap_index + 1;
    if (r->persist_from != UINT64_MAX && r->persist_from <= last) {
        size_t n = (size_t)(last - r->persist_from + 1);
        int rc = rf_rft_reserve(r->a, (void **)&r->out_ents, &r->out_ents_cap, n, sizeof(rf_entry));
        ASSERT(rc == RF_OK);
        for (size_t i = 0; i < n; i++)
            rf_rft_log_get(&r->log, r->persist_from + i, &r->out_ents[i]);
        *n_ents = n;
        rd->n_entries = n;
    }
    if (r->term != r->hs_term || r->vote != r->hs_vote) {
        rd->has_hard_state = true;
        rd->term = r->term;
        rd->vote = r->vote;
        r->hs_term = r->term;
        r->hs_vote = r->vote;
    }
    int rc = rf_rft_reserve(r->a, (void **)&r->marks, &r->marks_cap, r->marks_n + 1,
                          sizeof(token_mark));
    ASSERT(rc == RF_OK);
    r->marks[r->marks_n].token = rd->persist_token;
    r->marks[r->marks_n].last_index = last;
    r->marks_n++;
    r->pending_write = false;
    r->persist_from = UINT64_MAX;
    r->truncated = false;
    r->snap_pending = false;
}

/* Appends carry entry ranges until now; give them real entries, which point
 * into the log (stable until rf_raft_advance). */
static void ready_materialize(rf_raft *r, size_t n_ents)
{
    size_t need = n_ents;
    for (size_t i = 0; i < r->msgs_n; i++)
        if (r->msgs[i].msg.type == RF_MSG_APPEND)
            need += r->msgs[i].msg.n_entries;
    int rc = rf_rft_reserve(r->a, (void **)&r->out_ents, &r->out_ents_cap, need, sizeof(rf_entry));
    ASSERT(rc == RF_OK);
    size_t at = n_ents;
    for (size_t i = 0; i < r->msgs_n; i++) {
        rf_msg *m = &r->msgs[i].msg;
        if (m->type != RF_MSG_APPEND || m->n_entries == 0)
            continue;
        for (uint32_t k = 0; k < m->n_entries; k++)
            rf_rft_log_get(&r->log, m->index + 1 + k, &r->out_ents[at + k]);
        m->entries = &r->out_ents[at];
        at += m->n_entries;
    }
}

static void ready_client_outputs(rf_raft *r, rf_ready *rd)
{
    static const uint8_t empty[1] = {0};
    int rc = rf_rft_reserve(r->a, (void **)&r->out_replies, &r->out_replies_cap, r->replies_n,
                          sizeof(rf_reply));
    ASSERT(rc == RF_OK);
    for (size_t i = 0; i < r->replies_n; i++) {
        const out_reply *o = &r->replies[i];
        rf_reply *p = &r->out_replies[i];
        p->request_id = o->request_id;
        p->status = o->status;
        p->leader_hint = o->leader_hint;
        p->data = o->len ? r->arena + o->off : empty; /* never NULL */
        p->len = o->len;
    }
    rc = rf_rft_reserve(r->a, (void **)&r->out_appl, &r->out_appl_cap, r->appl_n, sizeof(rf_applied));
    ASSERT(rc == RF_OK);
    for (size_t i = 0; i < r->appl_n; i++) {
        r->out_appl[i] = r->appl[i].a;
        r->out_appl[i].reply = r->appl[i].a.reply_len ? r->arena + r->appl[i].off : empty;
    }
    rd->replies = r->out_replies;
    rd->n_replies = r->replies_n;
    rd->applied = r->out_appl;
    rd->n_applied = r->appl_n;
    rd->obs = r->obs;
    rd->n_obs = r->obs_n;
}

void rf_raft_ready(rf_raft *r, rf_ready *rd)
{
    ASSERT(!r->in_ready);
    memset(rd, 0, sizeof(*rd));
    if (r->role == RF_ROLE_LEADER)
        rf_rft_repl_flush(r);
    r->in_ready = true;
    r->round_fresh = 0;
    size_t n_ents = 0;
    ready_persist(r, rd, &n_ents);
    ready_materialize(r, n_ents);
    rd->entries = rd->n_entries ? r->out_ents : NULL;
    rd->msgs = r->msgs;
    rd->n_msgs = r->msgs_n;
    r->out_msgs_n = r->msgs_n;
    ready_client_outputs(r, rd);
}

static void release(rf_raft *r, void **p, size_t *cap, size_t used)
{
    if (used == 0 && *cap) {
        rf_rft_free(r->a, *p);
        *p = NULL;
        *cap = 0;
    }
}

/* Frees the output arrays of an idle group; they grow back on demand.
 * Outputs queued since the last batch stay (rf_raft_release_memory may
 * come between an input and the next rf_raft_ready). */
static void release_buffers(rf_raft *r)
{
    release(r, (void **)&r->out_ents, &r->out_ents_cap, 0);
    release(r, (void **)&r->msgs, &r->msgs_cap, r->msgs_n);
    release(r, (void **)&r->replies, &r->replies_cap, r->replies_n);
    release(r, (void **)&r->appl, &r->appl_cap, r->appl_n);
    release(r, (void **)&r->obs, &r->obs_cap, r->obs_n);
    release(r, (void **)&r->out_replies, &r->out_replies_cap, 0);
    release(r, (void **)&r->out_appl, &r->out_appl_cap, 0);
    release(r, (void **)&r->decode_ents, &r->decode_cap, 0);
    release(r, (void **)&r->held, &r->held_cap, r->held_n);
}

void rf_raft_release_memory(rf_raft *r)
{
    ASSERT(!r->in_ready);
    release(r, (void **)&r->arena, &r->arena_cap, r->arena_len);
    release_buffers(r);
}

void rf_raft_advance(rf_raft *r)
{
    ASSERT(r->in_ready);
    r->in_ready = false;
    /* Messages released by rf_raft_persisted during the batch stay queued. */
    ASSERT(r->msgs_n >= r->out_msgs_n);
    if (r->msgs_n > r->out_msgs_n)
        memmove(r->msgs, r->msgs + r->out_msgs_n, (r->msgs_n - r->out_msgs_n) * sizeof(rf_send));
    r->msgs_n -= r->out_msgs_n;
    r->out_msgs_n = 0;
    bool busy = r->appl_n > 0;
    r->replies_n = 0;
    r->appl_n = 0;
    r->obs_n = 0;
    r->arena_len = 0;
    /* A group idle for a while keeps no output buffers (memory per idle
     * group); a busy one keeps them (no allocation per batch). */
    r->idle_batches = busy ? 0 : r->idle_batches + 1;
    bool idle = r->idle_batches >= RAFT_IDLE_BATCHES;
    if (idle || r->arena_cap > (1u << 20)) {
        rf_rft_free(r->a, r->arena);
        r->arena = NULL;
        r->arena_cap = 0;
    }
    if (idle)
        release_buffers(r);
    rf_rft_snap_maybe_take(r);
}

void rf_raft_persisted(rf_raft *r, uint64_t token)
{
    ASSERT(!r->in_ready);
    if (token > r->write_seq)
        token = r->write_seq; /* never ahead of what was handed out */
    if (token <= r->persisted)
        return;
    r->persisted = token;
    size_t keep = 0;
    for (size_t i = 0; i < r->held_n; i++) {
        if (r->held[i].token <= token)
            rf_rft_send(r, &r->held[i].send.msg);
        else
            r->held[keep++] = r->held[i];
    }
    r->held_n = keep;
    size_t k = 0;
    while (k < r->marks_n && r->marks[k].token <= token) {
        r->durable_index = r->marks[k].last_index;
        k++;
    }
    if (k > 0 && k < r->marks_n)
        memmove(r->marks, r->marks + k, (r->marks_n - k) * sizeof(token_mark));
    r->marks_n -= k;
    if (r->durable_index > rf_rft_log_last(&r->log))
        r->durable_index = rf_rft_log_last(&r->log);
    if (r->role == RF_ROLE_CANDIDATE && !r->self_vote_counted && r->self_vote_token <= token)
        rf_rft_election_self_vote_durable(r);
    if (r->role == RF_ROLE_LEADER) {
        rf_rft_repl_maybe_commit(r);
        rf_rft_apply_committed(r);
    }
}

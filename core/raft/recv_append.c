/* recv_append: the AppendEntries and heartbeat handlers, follower and leader sides. */
#include <string.h>

#include "raft/raft_int.h"

/* Raft paper §5.3 (optimisation): the term of the conflicting entry and the
 * first index of that term, so the leader skips a whole term at once. */
static void conflict_hint(const rf_raft *r, uint64_t prev, rf_msg *resp)
{
    uint64_t last = rf_rft_log_last(&r->log);
    if (prev > last) {
        resp->log_term = 0;
        resp->offset = last + 1;
        return;
    }
    uint64_t t = rf_rft_log_term(&r->log, prev);
    uint64_t i = prev;
    while (i - 1 > r->log.snap_index && i - 1 > r->commit && rf_rft_log_term(&r->log, i - 1) == t)
        i--;
    resp->log_term = t;
    resp->offset = i;
}

/* Appends ents after prev, truncating only entries that truly conflict
 * (Raft paper Figure 2, AppendEntries step 3 and 4). */
static int append_new(rf_raft *r, uint64_t prev, const rf_entry *ents, uint32_t n)
{
    uint32_t i = 0;
    uint64_t last = rf_rft_log_last(&r->log);
    for (; i < n && prev + 1 + i <= last; i++) {
        uint64_t idx = prev + 1 + i;
        if (rf_rft_log_term(&r->log, idx) == ents[i].term)
            continue;
        if (idx <= r->commit)
            return RF_EINVAL; /* impossible: a committed entry differs */
        rf_rft_truncate_local(r, idx);
        break;
    }
    if (i == n)
        return RF_OK;
    bool conf = false;
    uint64_t first = prev + 1 + i;
    for (; i < n; i++) {
        const rf_entry *e = &ents[i];
        int rc = rf_rft_log_append(&r->log, e->term, e->kind, e->client_id, e->sequence, e->floor,
                                   e->data, e->len);
        if (rc != RF_OK)
            return rc;
        conf |= e->kind == RF_ENTRY_CONFIG;
    }
    rf_rft_mark_write(r, first);
    if (conf)
        rf_rft_recompute_conf(r); /* thesis §4.1: in effect once in the log */
    return RF_OK;
}

int rf_rft_repl_recv_append(rf_raft *r, const rf_msg *m)
{
    ASSERT(r->role == RF_ROLE_FOLLOWER);
    ASSERT(m->term == r->term);
    rf_msg resp;
    rf_rft_msg_init(r, &resp, RF_MSG_APPEND_RESP, m->from);
    resp.ctx = m->ctx;
    uint64_t prev = m->index;
    uint64_t prev_term = m->log_term;
    const rf_entry *ents = m->entries;
    uint32_t n = m->n_entries;
    if (prev < r->commit) {
        /* Entries up to our commit index are committed: by Log Matching
         * they equal the leader's, so skip them. */
        uint64_t skip = r->commit - prev;
        for (uint32_t i = 0; i < n && i < skip; i++) {
            uint64_t t = rf_rft_log_term(&r->log, prev + 1 + i);
            if (t != 0 && t != ents[i].term)
                return RF_EINVAL;
        }
        if (skip >= n) {
            resp.index = r->commit;
            return rf_rft_send_durable(r, &resp);
        }
        ents += skip;
        n -= (uint32_t)skip;
        prev = r->commit;
        prev_term = rf_rft_log_term(&r->log, prev);
    }
    if (prev > rf_rft_log_last(&r->log) || rf_rft_log_term(&r->log, prev) != prev_term) {
        resp.reject = 1;
        resp.index = m->index;
        conflict_hint(r, prev, &resp);
        return rf_rft_send(r, &resp); /* a refusal promises nothing */
    }
    int rc = append_new(r, prev, ents, n);
    if (rc != RF_OK)
        return rc;
    /* Figure 2 step 5: never past the last entry this message vouches for. */
    uint64_t last_new = prev + n;
    if (m->commit > r->commit) {
        uint64_t c = m->commit < last_new ? m->commit : last_new;
        if (c > r->commit)
            r->commit = c;
    }
    resp.index = last_new;
    return rf_rft_send_durable(r, &resp);
}

static void ack_round(rf_raft *r, raft_peer *p, uint64_t ctx)
{
    if (ctx > r->round)
        return; /* a round we never started: ignore */
    if (ctx > p->acked_round) {
        p->acked_round = ctx;
        rf_rft_repl_round_acked(r);
    }
}

static void append_rejected(rf_raft *r, raft_peer *p, const rf_msg *m)
{
    if (m->index < p->match || m->index >= p->next || p->state == PEER_SNAPSHOT)
        return; /* stale, or about an append we never sent */
    if (p->state == PEER_PROBE && m->index != p->next - 1)
        return; /* not the answer to our latest probe */
    if (m->log_term == 0 && m->offset <= p->match) {
        /* The follower's log ends before entries it acknowledged: its
         * member was stopped and started again empty (core/fleet stops a
         * learner it finds unwanted and starts it again on demand). Its
         * match falls back to what it holds, else the leader would probe
         * past its end for ever. */
        p->match = m->offset - 1;
    }
    uint64_t next = m->offset;
    if (m->log_term != 0) {
        uint64_t i = m->index < rf_rft_log_last(&r->log) ? m->index : rf_rft_log_last(&r->log);
        while (i > r->log.snap_index && rf_rft_log_term(&r->log, i) > m->log_term)
            i--;
        if (i > r->log.snap_index && rf_rft_log_term(&r->log, i) == m->log_term)
            next = i + 1;
    }
    if (next > m->index)
        next = m->index; /* back off at least one entry */
    if (next <= p->match)
        next = p->match + 1;
    rf_rft_repl_peer_probe(p, next);
}

int rf_rft_repl_recv_append_resp(rf_raft *r, const rf_msg *m)
{
    raft_peer *p = rf_rft_peer_find(r, m->from);
    if (r->role != RF_ROLE_LEADER || !p)
        return RF_OK;
    if (!m->reject && m->index > rf_rft_log_last(&r->log))
        return RF_EINVAL; /* acknowledges entries we never had */
    p->active = true;
    p->last_heard_ns = r->now;
    if (m->reject) {
        append_rejected(r, p, m);
        return RF_OK;
    }
    ack_round(r, p, m->ctx);
    if (m->index > p->match)
        p->match = m->index;
    if (p->state == PEER_PROBE) {
        p->state = PEER_REPLICATE;
        p->inflight_n = 0;
        p->next = p->match + 1;
    } else if (p->state == PEER_REPLICATE) {
        if (p->next <= p->match)
            p->next = p->match + 1;
        rf_rft_repl_inflight_free_to(p, m->index);
    }
    p->wake = true;
    rf_rft_repl_maybe_commit(r);
    rf_rft_member_transfer_check(r, p);
    return RF_OK;
}

/* A follower's commit from its leader's word. The leader sends
 * min(commit, our match): that prefix matches its log. */
static void follower_commit(rf_raft *r, uint64_t commit)
{
    uint64_t last = rf_rft_log_last(&r->log);
    uint64_t c = commit < last ? commit : last;
    if (c > r->commit)
        r->commit = c;
}

void rf_raft_leader_commit(rf_raft *r, uint64_t leader, uint64_t term, uint64_t commit)
{
    ASSERT(!r->in_ready);
    if (r->role != RF_ROLE_FOLLOWER || r->term != term || r->leader != leader || leader == 0)
        return;
    follower_commit(r, commit);
    if (r->commit > r->applied)
        rf_rft_apply_committed(r); /* as rf_raft_receive does */
}

int rf_rft_repl_recv_heartbeat(rf_raft *r, const rf_msg *m)
{
    ASSERT(r->role == RF_ROLE_FOLLOWER);
    ASSERT(m->term == r->term);
    follower_commit(r, m->commit);
    rf_msg resp;
    rf_rft_msg_init(r, &resp, RF_MSG_HEARTBEAT_RESP, m->from);
    resp.ctx = m->ctx;
    resp.index = rf_rft_log_last(&r->log);
    return rf_rft_send(r, &resp);
}

int rf_rft_repl_recv_heartbeat_resp(rf_raft *r, const rf_msg *m)
{
    raft_peer *p = rf_rft_peer_find(r, m->from);
    if (r->role != RF_ROLE_LEADER || !p)
        return RF_OK;
    p->active = true;
    p->last_heard_ns = r->now;
    ack_round(r, p, m->ctx);
    bool stalled = p->match == p->hb_match; /* no ack since the previous reply */
    p->hb_match = p->match;
    if (p->match >= rf_rft_log_last(&r->log))
        return RF_OK;
    if (p->state == PEER_PROBE) {
        p->probe_sent = false; /* the probe may have been lost: retry */
        p->need_send = true;
    } else if (p->state == PEER_REPLICATE &&
               (m->index + 1 < p->next || p->inflight_n >= r->cfg.inflight_max)) {
        /* It lacks what we streamed, or acks were lost: resend from match. */
        rf_rft_repl_peer_probe(p, p->match + 1);
    } else if (p->state == PEER_REPLICATE && stalled && p->match + 1 < p->next) {
        /* It holds all we streamed, but no ack came for a whole heartbeat
         * interval: the acks were lost. With nothing new to send, nothing
         * would ever ask again and the commit would stall; an empty append
         * at next - 1 makes it acknowledge its match (§5.3). */
        p->need_send = true;
    }
    return RF_OK;
}

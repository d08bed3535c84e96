/* replication: pipelined appends, conflict back-off, heartbeats, commit, check-quorum. */
#include <string.h>

#include "raft/raft_int.h"

void rf_rft_repl_become_leader_init(rf_raft *r)
{
    ASSERT(r->role == RF_ROLE_CANDIDATE);
    ASSERT(r->vote == r->cfg.node_id);
    r->role = RF_ROLE_LEADER;
    rf_rft_election_set_leader(r, r->cfg.node_id);
    uint64_t last = rf_rft_log_last(&r->log);
    for (uint32_t i = 0; i < r->n_peers; i++) {
        raft_peer *p = &r->peers[i];
        p->next = last + 1;
        p->match = 0;
        p->state = PEER_PROBE;
        p->probe_sent = false;
        p->inflight_n = 0;
        p->active = true;
        p->acked_round = 0;
        p->hb_match = 0;
        p->counts_from = 0; /* acknowledgements of this term only */
        p->need_send = true;
        p->last_heard_ns = r->now;
    }
    r->round++;
    r->round_sent_ns[r->round % RAFT_ROUNDS_KEPT] = r->now;
    r->confirmed_round = r->round;
    r->lease_until_ns = 0;
    r->no_lease = false;
    r->heartbeat_due_ns = r->now + r->cfg.heartbeat_interval_ns;
    r->quorum_check_ns = r->now + r->cfg.election_timeout_ns;
    r->transfer_target = 0;
    /* Thesis §6.4: a new leader commits an entry of its own term before it
     * knows its commit index (and before it serves reads). */
    int rc = rf_rft_append_local(r, RF_ENTRY_NOOP, 0, 0, NULL, 0);
    ASSERT(rc == RF_OK);
}

static void inflight_push(raft_peer *p, uint64_t last)
{
    ASSERT(p->inflight_n < RAFT_INFLIGHT_MAX);
    p->inflight[(p->inflight_head + p->inflight_n) % RAFT_INFLIGHT_MAX] = last;
    p->inflight_n++;
}

void rf_rft_repl_inflight_free_to(raft_peer *p, uint64_t index)
{
    while (p->inflight_n > 0 && p->inflight[p->inflight_head] <= index) {
        p->inflight_head = (p->inflight_head + 1) % RAFT_INFLIGHT_MAX;
        p->inflight_n--;
    }
}

void rf_rft_repl_peer_probe(raft_peer *p, uint64_t next)
{
    p->state = PEER_PROBE;
    p->next = next;
    p->probe_sent = false;
    p->inflight_n = 0;
    p->need_send = true;
}

/* Leader only. Sends what p lacks: batched (entries and bytes bounded) and
 * pipelined (up to inflight_max appends) in replicate state; one append at a
 * time while probing (Raft paper §5.3). */
void rf_rft_repl_send_append(rf_raft *r, raft_peer *p, bool allow_empty)
{
    ASSERT(r->role == RF_ROLE_LEADER);
    if (p->state == PEER_SNAPSHOT)
        return;
    if (p->next <= r->log.snap_index) {
        /* The entries it needs are compacted: send the snapshot. */
        p->state = PEER_SNAPSHOT;
        p->snap_index = UINT64_MAX;
        rf_rft_snap_send_chunk(r, p);
        return;
    }
    uint64_t last = rf_rft_log_last(&r->log);
    for (;;) {
        if (p->state == PEER_PROBE && p->probe_sent)
            return;
        if (p->state == PEER_REPLICATE && p->inflight_n >= r->cfg.inflight_max)
            return;
        uint32_t n = 0;
        size_t bytes = 0;
        for (uint64_t i = p->next; i <= last && n < r->cfg.append_entries_max; i++) {
            uint32_t len = rf_rft_log_at(&r->log, i)->len;
            if (n > 0 && bytes + len > r->cfg.append_bytes_max)
                break;
            bytes += len;
            n++;
        }
        if (n == 0 && !allow_empty)
            return;
        rf_msg m;
        rf_rft_msg_init(r, &m, RF_MSG_APPEND, p->id);
        m.index = p->next - 1;
        m.log_term = rf_rft_log_term(&r->log, m.index);
        ASSERT(m.log_term != 0 || m.index == 0);
        m.commit = r->commit;
        m.n_entries = n;
        m.ctx = r->round;
        rf_rft_send(r, &m);
        allow_empty = false;
        if (p->state == PEER_PROBE) {
            p->probe_sent = true;
            return;
        }
        if (n == 0)
            return;
        p->next += n;
        inflight_push(p, p->next - 1);
    }
}

void rf_rft_repl_flush(rf_raft *r)
{
    ASSERT(r->role == RF_ROLE_LEADER);
    for (uint32_t i = 0; i < r->n_peers; i++) {
        raft_peer *p = &r->peers[i];
        if (r->bcast || p->wake || p->need_send)
            rf_rft_repl_send_append(r, p, p->need_send);
        p->need_send = false;
        p->wake = false;
    }
    r->bcast = false;
}

bool rf_raft_settled(const rf_raft *r)
{
    uint64_t last = rf_rft_log_last(&r->log);
    if (r->role != RF_ROLE_LEADER || !r->self_voter || r->commit != last || r->applied != last ||
        r->durable_index != last || r->pending_write || r->props_n != 0 || r->reads_n != 0 ||
        r->transfer_target != 0 || r->snap_pending || r->held_n != 0 || rf_raft_has_ready(r))
        return false;
    /* A follower reported unreachable catches up when it is back: its
     * member, not hearing from us, times out and its pre-vote wakes us.
     * But a majority must be reachable and hold it all: a leader without
     * one has to stay awake, so that check-quorum steps it down. */
    uint32_t held = 1;
    for (uint32_t i = 0; i < r->n_peers; i++) {
        const raft_peer *p = &r->peers[i];
        if (!p->voter)
            return false;
        if (p->unreachable)
            continue;
        if (p->match != last || p->state != PEER_REPLICATE)
            return false;
        held++;
    }
    return held >= rf_rft_quorum(r);
}

bool rf_raft_quorum_reachable(const rf_raft *r)
{
    uint32_t n = r->self_voter ? 1 : 0;
    for (uint32_t i = 0; i < r->n_peers; i++)
        n += r->peers[i].voter && !r->peers[i].unreachable;
    return n >= rf_rft_quorum(r);
}

uint64_t rf_raft_commit_for(const rf_raft *r, uint64_t peer)
{
    for (uint32_t i = 0; i < r->n_peers && r->role == RF_ROLE_LEADER; i++) {
        const raft_peer *p = &r->peers[i];
        if (p->id == peer)
            return r->commit < p->match ? r->commit : p->match;
    }
    return 0;
}

/* Leader only: a new heartbeat round, the unit of ReadIndex confirmation
 * and of the lease (thesis §6.4). A round sent for reads counts as the
 * periodic one: the next is a heartbeat interval after it. */
void rf_rft_repl_heartbeat(rf_raft *r)
{
    ASSERT(r->role == RF_ROLE_LEADER);
    r->heartbeat_due_ns = r->now + r->cfg.heartbeat_interval_ns;
    r->round++;
    r->round_sent_ns[r->round % RAFT_ROUNDS_KEPT] = r->now;
    for (uint32_t i = 0; i < r->n_peers; i++) {
        raft_peer *p = &r->peers[i];
        rf_msg m;
        rf_rft_msg_init(r, &m, RF_MSG_HEARTBEAT, p->id);
        m.commit = r->commit < p->match ? r->commit : p->match;
        m.ctx = r->round;
        rf_rft_send(r, &m);
        if (p->state == PEER_SNAPSHOT)
            rf_rft_snap_send_chunk(r, p); /* resend: chunks are acknowledged one by one */
    }
    rf_rft_repl_round_acked(r);
}

/* Leader only: the largest round a quorum of voters acknowledged. */
void rf_rft_repl_round_acked(rf_raft *r)
{
    ASSERT(r->role == RF_ROLE_LEADER);
    uint64_t v[RF_RAFT_MEMBERS_MAX];
    uint32_t n = 0;
    if (r->self_voter)
        v[n++] = r->round;
    for (uint32_t i = 0; i < r->n_peers; i++)
        if (r->peers[i].voter)
            v[n++] = r->peers[i].acked_round;
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && v[j - 1] < v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    uint32_t q = rf_rft_quorum(r);
    if (n < q)
        return;
    uint64_t acked = v[q - 1];
    if (acked <= r->confirmed_round)
        return;
    r->confirmed_round = acked;
    /* Thesis §6.4.1: no other leader can be elected within an election
     * timeout of the round's start, less the clock drift margin. */
    uint64_t t = r->cfg.election_timeout_ns;
    if (!r->no_lease && rf_rft_leases_on(r) && acked + RAFT_ROUNDS_KEPT > r->round) {
        uint64_t until = r->round_sent_ns[acked % RAFT_ROUNDS_KEPT] + t - r->cfg.lease_drift_ns;
        if (until > r->lease_until_ns)
            r->lease_until_ns = until;
    }
    rf_rft_apply_reads(r);
}

/* Leader only. Raft paper §5.4.2: count replicas only for an entry of the
 * current term; the leader's own copy counts once durable; a promoted
 * learner once it acknowledged its promotion (rf_rft_sync_peers). */
void rf_rft_repl_maybe_commit(rf_raft *r)
{
    ASSERT(r->role == RF_ROLE_LEADER);
    uint64_t v[RF_RAFT_MEMBERS_MAX];
    uint32_t n = 0;
    if (r->self_voter)
        v[n++] = r->durable_index;
    for (uint32_t i = 0; i < r->n_peers; i++) {
        const raft_peer *p = &r->peers[i];
        if (p->voter)
            v[n++] = p->match >= p->counts_from ? p->match : 0;
    }
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && v[j - 1] < v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    uint32_t q = rf_rft_quorum(r);
    if (n < q)
        return;
    uint64_t idx = v[q - 1];
    if (idx <= r->commit || rf_rft_log_term(&r->log, idx) != r->term)
        return;
    ASSERT(idx <= rf_rft_log_last(&r->log));
    r->commit = idx;
    for (uint32_t i = 0; i < r->n_peers && !r->cfg.lazy_commit; i++)
        r->peers[i].need_send = true; /* tell followers the new commit index */
    rf_rft_apply_reads(r);
}

void rf_rft_repl_leader_tick(rf_raft *r)
{
    ASSERT(r->role == RF_ROLE_LEADER);
    if (r->reads_n)
        rf_rft_apply_lease_reads(r);
    if (r->now >= r->heartbeat_due_ns)
        rf_rft_repl_heartbeat(r);
    if (r->now >= r->quorum_check_ns) {
        /* Thesis §6.2 check-quorum: step down without a live quorum. */
        r->quorum_check_ns = r->now + r->cfg.election_timeout_ns;
        uint32_t live = r->self_voter ? 1 : 0;
        for (uint32_t i = 0; i < r->n_peers; i++) {
            if (r->peers[i].voter && r->peers[i].active)
                live++;
            r->peers[i].active = false;
        }
        if (live < rf_rft_quorum(r)) {
            rf_rft_election_become_follower(r, r->term, 0);
            return;
        }
    }
    if (r->transfer_target && r->now >= r->transfer_deadline_ns)
        rf_rft_member_transfer_end(r, RF_ETIMEDOUT);
}

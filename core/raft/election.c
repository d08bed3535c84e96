/* election: randomized timeouts, pre-vote, votes, terms and TimeoutNow. */
#include <string.h>

#include "raft/raft_int.h"

void rf_rft_election_reset_timer(rf_raft *r)
{
    /* Raft paper §5.2: randomized in [T, 2T) from this member's stream. */
    uint64_t t = r->cfg.election_timeout_ns;
    r->election_deadline_ns = r->now + t + rf_pcg32_range64(&r->rng, 0, t - 1);
}

void rf_rft_election_set_leader(rf_raft *r, uint64_t leader)
{
    if (leader == r->leader)
        return;
    if (leader == 0)
        rf_rft_observe(r, RF_OBS_LEADER_LOST, r->leader, 0);
    else
        rf_rft_observe(r, RF_OBS_LEADER_ELECTED, leader, 0);
    r->leader = leader;
}

/* Thesis §4.2.3 / §6.4.1: a member that heard from a leader within the
 * minimum election timeout neither grants (pre-)votes nor bumps its term
 * for a candidate that was not sent by a transfer; this protects a healthy
 * leader and makes the leader lease sound. */
bool rf_rft_election_in_lease(const rf_raft *r)
{
    if (r->role == RF_ROLE_LEADER)
        return true;
    if (r->contact_untimed)
        return true; /* heard from a leader "now", whatever the clock says */
    return r->leader_contact && r->now - r->leader_contact_ns < r->cfg.election_timeout_ns;
}

static void drop_unsent_appends(rf_raft *r)
{
    size_t keep = 0;
    for (size_t i = 0; i < r->msgs_n; i++)
        if (r->msgs[i].msg.type != RF_MSG_APPEND && r->msgs[i].msg.type != RF_MSG_SNAPSHOT)
            r->msgs[keep++] = r->msgs[i];
    r->msgs_n = keep;
}

void rf_rft_election_become_follower(rf_raft *r, uint64_t term, uint64_t leader)
{
    ASSERT(term >= r->term);
    bool was_leader = r->role == RF_ROLE_LEADER;
    if (term > r->term) {
        r->term = term;
        r->vote = 0;
        r->pending_write = true;
        rf_rft_drop_held(r, term, UINT64_MAX);
    }
    r->role = RF_ROLE_FOLLOWER;
    if (was_leader) {
        /* Unsent appends name log ranges that a new leader may overwrite;
         * outstanding requests may or may not commit later. */
        drop_unsent_appends(r);
        rf_rft_apply_fail_pending(r, RF_EUNKNOWN);
        rf_rft_member_transfer_end(r, RF_OK);
        r->lease_until_ns = 0;
        r->bcast = false;
    }
    rf_rft_election_set_leader(r, leader);
    rf_rft_election_reset_timer(r);
    ASSERT(r->role == RF_ROLE_FOLLOWER);
}

static uint32_t count_votes(const rf_raft *r, bool granted)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->n_peers; i++)
        if (r->peers[i].voter && (granted ? r->peers[i].granted : r->peers[i].rejected))
            n++;
    return n;
}

static void check_votes(rf_raft *r)
{
    ASSERT(r->role == RF_ROLE_PRECANDIDATE || r->role == RF_ROLE_CANDIDATE);
    uint32_t yes = count_votes(r, true);
    if (r->role == RF_ROLE_PRECANDIDATE || r->self_vote_counted)
        yes++;
    if (yes >= rf_rft_quorum(r)) {
        if (r->role == RF_ROLE_PRECANDIDATE)
            rf_rft_election_campaign(r, false, false);
        else
            rf_rft_repl_become_leader_init(r);
        return;
    }
    if (count_votes(r, false) >= rf_rft_quorum(r))
        rf_rft_election_become_follower(r, r->term, 0);
}

void rf_rft_election_campaign(rf_raft *r, bool pre_vote, bool transfer)
{
    ASSERT(r->role != RF_ROLE_LEADER);
    ASSERT(r->self_voter);
    r->ctr.elections_started++;
    rf_rft_election_set_leader(r, 0);
    rf_rft_election_reset_timer(r);
    for (uint32_t i = 0; i < r->n_peers; i++) {
        r->peers[i].granted = false;
        r->peers[i].rejected = false;
    }
    uint8_t type = RF_MSG_VOTE;
    uint64_t term = r->term + 1;
    if (pre_vote) {
        /* Thesis §9.6: ask first without disturbing anyone's term. */
        r->role = RF_ROLE_PRECANDIDATE;
        type = RF_MSG_PREVOTE;
    } else {
        r->role = RF_ROLE_CANDIDATE;
        r->term = term;
        r->vote = r->cfg.node_id;
        r->pending_write = true;
        /* Our own vote counts only once it is durable. */
        r->self_vote_token = r->write_seq + 1;
        r->self_vote_counted = false;
    }
    for (uint32_t i = 0; i < r->n_peers; i++) {
        if (!r->peers[i].voter)
            continue;
        rf_msg m;
        rf_rft_msg_init(r, &m, type, r->peers[i].id);
        m.term = term;
        m.index = rf_rft_log_last(&r->log);
        m.log_term = rf_rft_log_last_term(&r->log);
        m.flags = transfer ? RF_MSG_FLAG_TRANSFER : 0;
        rf_rft_send(r, &m);
    }
    if (pre_vote)
        check_votes(r);
}

void rf_rft_election_self_vote_durable(rf_raft *r)
{
    ASSERT(r->role == RF_ROLE_CANDIDATE);
    ASSERT(r->vote == r->cfg.node_id);
    r->self_vote_counted = true;
    check_votes(r);
}

void rf_rft_election_tick(rf_raft *r)
{
    ASSERT(r->role != RF_ROLE_LEADER);
    /* Learners, removed and not-yet-added members never campaign. */
    if (!r->self_voter)
        return;
    if (r->now >= r->election_deadline_ns)
        rf_rft_election_campaign(r, true, false);
}

/* Raft paper §5.4.1: the candidate's log is at least as up to date. */
static bool log_ok(const rf_raft *r, const rf_msg *m)
{
    uint64_t lt = rf_rft_log_last_term(&r->log);
    return m->log_term > lt || (m->log_term == lt && m->index >= rf_rft_log_last(&r->log));
}

/* A member created empty to be added (rf_raft_create) knows no
 * configuration yet: it may be a voter's wiped replacement, so it never
 * grants a vote; it starts to once a configuration reaches it. */
static bool may_vote(const rf_raft *r)
{
    return r->conf.count > 0;
}

static void recv_prevote(rf_raft *r, const rf_msg *m)
{
    bool grant = m->term > r->term && log_ok(r, m) && !rf_rft_election_in_lease(r) &&
                 may_vote(r);
    rf_msg resp;
    rf_rft_msg_init(r, &resp, RF_MSG_PREVOTE_RESP, m->from);
    resp.term = grant ? m->term : r->term;
    resp.reject = !grant;
    rf_rft_send(r, &resp);
}

static void recv_vote(rf_raft *r, const rf_msg *m)
{
    ASSERT(m->term == r->term);
    bool grant = (r->vote == 0 || r->vote == m->from) && log_ok(r, m) &&
                 r->role != RF_ROLE_LEADER && may_vote(r);
    rf_msg resp;
    rf_rft_msg_init(r, &resp, RF_MSG_VOTE_RESP, m->from);
    resp.reject = !grant;
    if (!grant) {
        rf_rft_send(r, &resp);
        return;
    }
    if (r->role == RF_ROLE_PRECANDIDATE)
        r->role = RF_ROLE_FOLLOWER;
    if (r->vote != m->from) {
        r->vote = m->from;
        r->pending_write = true;
    }
    rf_rft_election_reset_timer(r);
    /* The grant leaves only after term and vote are durable. */
    rf_rft_send_durable(r, &resp);
}

static void recv_vote_resp(rf_raft *r, const rf_msg *m, bool pre)
{
    raft_peer *p = rf_rft_peer_find(r, m->from);
    if (!p || !p->voter)
        return;
    if (pre && (r->role != RF_ROLE_PRECANDIDATE || (!m->reject && m->term != r->term + 1)))
        return;
    if (!pre && (r->role != RF_ROLE_CANDIDATE || m->term != r->term))
        return;
    if (m->reject)
        p->rejected = true;
    else
        p->granted = true;
    check_votes(r);
}

/* A message from the leader of this member's term: no vote for another
 * candidate for an election timeout (rf_rft_election_in_lease), since the
 * answer may count toward that leader's lease. r->now may be stale (inputs
 * stepped long after the last tick): with leases on, the next tick stamps
 * this contact with its fresh time, so the vote refusal never ends before
 * the lease (§6.4.1). Without leases the refusal only protects a healthy
 * leader from disruption, and the last tick's time will do: no tick is
 * needed for it (most members of a quiet fleet would need one after every
 * append). */
static void leader_contact(rf_raft *r)
{
    r->leader_contact = true;
    r->leader_contact_ns = r->now;
    r->contact_untimed = rf_rft_leases_on(r);
}

/* The term rules of Raft paper Figure 2, plus pre-vote and lease. Returns
 * false when the message is to be dropped. */
static bool term_gate(rf_raft *r, const rf_msg *m)
{
    bool from_leader = m->type == RF_MSG_APPEND || m->type == RF_MSG_HEARTBEAT ||
                       m->type == RF_MSG_SNAPSHOT;
    if (m->term > r->term) {
        if (m->type == RF_MSG_PREVOTE || (m->type == RF_MSG_PREVOTE_RESP && !m->reject))
            return true;
        if (m->type == RF_MSG_VOTE && !(m->flags & RF_MSG_FLAG_TRANSFER) && rf_rft_election_in_lease(r))
            return false;
        rf_rft_election_become_follower(r, m->term, from_leader ? m->from : 0);
        if (from_leader)
            leader_contact(r); /* its acknowledgement may extend that leader's lease */
        return true;
    }
    if (m->term < r->term) {
        r->ctr.msgs_stale++;
        /* Tell a stale leader or pre-candidate about the newer term, so a
         * deposed leader steps down (check-quorum alone is slower). */
        if (from_leader || m->type == RF_MSG_PREVOTE) {
            rf_msg resp;
            rf_rft_msg_init(r, &resp, from_leader ? RF_MSG_APPEND_RESP : RF_MSG_PREVOTE_RESP,
                          m->from);
            resp.reject = 1;
            rf_rft_send(r, &resp);
        }
        return false;
    }
    if (from_leader) {
        if (r->role == RF_ROLE_LEADER)
            return false; /* impossible: two leaders in a term (counted by caller) */
        if (r->role != RF_ROLE_FOLLOWER)
            rf_rft_election_become_follower(r, r->term, m->from);
        rf_rft_election_set_leader(r, m->from);
        leader_contact(r);
        rf_rft_election_reset_timer(r);
    }
    return true;
}

int rf_rft_election_gate(rf_raft *r, const rf_msg *m, bool *drop)
{
    bool from_leader = m->type == RF_MSG_APPEND || m->type == RF_MSG_HEARTBEAT ||
                       m->type == RF_MSG_SNAPSHOT;
    if (from_leader && m->term == r->term && r->role == RF_ROLE_LEADER) {
        *drop = true;
        return RF_EINVAL;
    }
    *drop = !term_gate(r, m);
    return RF_OK;
}

int rf_rft_election_recv(rf_raft *r, const rf_msg *m)
{
    switch (m->type) {
    case RF_MSG_PREVOTE:
        recv_prevote(r, m);
        return RF_OK;
    case RF_MSG_PREVOTE_RESP:
        recv_vote_resp(r, m, true);
        return RF_OK;
    case RF_MSG_VOTE:
        recv_vote(r, m);
        return RF_OK;
    case RF_MSG_VOTE_RESP:
        recv_vote_resp(r, m, false);
        return RF_OK;
    case RF_MSG_TIMEOUT_NOW:
        /* Thesis §3.10: campaign at once, skipping pre-vote and the lease. */
        if (r->role == RF_ROLE_FOLLOWER && r->self_voter && m->from == r->leader)
            rf_rft_election_campaign(r, false, true);
        return RF_OK;
    default:
        UNREACHABLE();
    }
}

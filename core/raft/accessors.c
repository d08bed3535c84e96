/* accessors: read-only views of an rf_raft for checkers and drivers. */
#include <string.h>

#include "raft/raft_int.h"

uint64_t rf_raft_id(const rf_raft *r)
{
    return r->cfg.node_id;
}

uint64_t rf_raft_group(const rf_raft *r)
{
    return r->cfg.group_id;
}

uint64_t rf_raft_term(const rf_raft *r)
{
    return r->term;
}

uint64_t rf_raft_vote(const rf_raft *r)
{
    return r->vote;
}

rf_role rf_raft_role(const rf_raft *r)
{
    return r->role;
}

uint64_t rf_raft_leader(const rf_raft *r)
{
    return r->leader;
}

uint64_t rf_raft_commit_index(const rf_raft *r)
{
    return r->commit;
}

uint64_t rf_raft_lease_until_ns(const rf_raft *r)
{
    return r->role == RF_ROLE_LEADER && !r->transfer_target ? r->lease_until_ns : 0;
}

uint64_t rf_raft_votes_refused_until_ns(const rf_raft *r)
{
    if (r->role == RF_ROLE_LEADER || r->contact_untimed || !r->started)
        return UINT64_MAX;
    return r->leader_contact ? r->leader_contact_ns + r->cfg.election_timeout_ns : 0;
}

uint64_t rf_raft_applied_index(const rf_raft *r)
{
    return r->applied;
}

uint64_t rf_raft_first_index(const rf_raft *r)
{
    return r->log.snap_index + 1;
}

uint64_t rf_raft_last_index(const rf_raft *r)
{
    return rf_rft_log_last(&r->log);
}

uint64_t rf_raft_snapshot_index(const rf_raft *r)
{
    return r->log.snap_index;
}

int rf_raft_entry(const rf_raft *r, uint64_t index, rf_entry *out)
{
    if (index <= r->log.snap_index)
        return RF_ECOMPACTED;
    if (index > rf_rft_log_last(&r->log))
        return RF_ENOTFOUND;
    rf_rft_log_get(&r->log, index, out);
    return RF_OK;
}

uint64_t rf_raft_term_at(const rf_raft *r, uint64_t index)
{
    return rf_rft_log_term(&r->log, index);
}

const rf_membership *rf_raft_membership(const rf_raft *r)
{
    return &r->conf;
}

/* Mirrors rf_raft_tick, rf_rft_repl_leader_tick and rf_rft_election_tick:
 * before this time each of them only moves r->now. */
uint64_t rf_raft_tick_due_ns(const rf_raft *r)
{
    if (!r->started || r->contact_untimed)
        return 0;
    if (r->role != RF_ROLE_LEADER)
        return r->self_voter ? r->election_deadline_ns : UINT64_MAX;
    if (r->reads_n)
        return 0;
    uint64_t due = r->heartbeat_due_ns < r->quorum_check_ns ? r->heartbeat_due_ns
                                                            : r->quorum_check_ns;
    if (r->transfer_target && r->transfer_deadline_ns < due)
        due = r->transfer_deadline_ns;
    return due;
}

uint64_t rf_raft_digest(const rf_raft *r)
{
    return r->cfg.model->digest(r->model_state);
}

const void *rf_raft_model_state(const rf_raft *r)
{
    return r->model_state;
}

void rf_raft_counters_get(const rf_raft *r, rf_raft_counters *out)
{
    *out = r->ctr;
}

size_t rf_raft_memory(const rf_raft *r)
{
    size_t n = sizeof(*r) + rf_rft_log_memory(&r->log) + r->peers_cap * sizeof(raft_peer);
    n += r->props_cap * sizeof(pending_req) + r->reads_cap * sizeof(pending_read);
    n += r->read_buf_cap + r->marks_cap * sizeof(token_mark) + r->snap_len + r->recv_cap;
    n += r->msgs_cap * sizeof(rf_send) + r->held_cap * sizeof(held_msg);
    n += r->replies_cap * sizeof(out_reply) + r->appl_cap * sizeof(out_applied);
    n += r->obs_cap * sizeof(rf_observation) + r->arena_cap;
    n += r->out_ents_cap * sizeof(rf_entry) + r->out_replies_cap * sizeof(rf_reply);
    n += r->out_appl_cap * sizeof(rf_applied) + r->decode_cap * sizeof(rf_entry);
    return n + rf_rft_dedup_memory(r);
}

/* step: the inputs: messages (validated, then dispatched), ticks and client requests. */
#include <string.h>

#include "raft/raft_int.h"

static int reject(rf_raft *r, int rc)
{
    r->ctr.msgs_rejected++;
    return rc;
}

static int validate_entries(const rf_msg *m)
{
    if (m->n_entries > RF_MSG_ENTRIES_MAX)
        return RF_ETOOBIG;
    if (m->n_entries > 0 && m->entries == NULL)
        return RF_EBADMSG;
    if (m->index > UINT64_MAX - RF_MSG_ENTRIES_MAX || m->log_term > m->term)
        return RF_EBADMSG;
    uint64_t prev_term = m->log_term;
    for (uint32_t i = 0; i < m->n_entries; i++) {
        const rf_entry *e = &m->entries[i];
        if (e->index != m->index + 1 + i)
            return RF_EINDEXGAP;
        /* Terms along a log never decrease and never pass the sender's. */
        if (e->term < prev_term || e->term > m->term || e->term == 0)
            return RF_EBADMSG;
        if (e->kind < RF_ENTRY_NOOP || e->kind > RF_ENTRY_CONFIG)
            return RF_EBADMSG;
        if (e->len > RF_ENTRY_BYTES_MAX || (e->len && !e->data))
            return RF_EBADMSG;
        if (e->kind == RF_ENTRY_CONFIG) {
            rf_membership cm;
            if (rf_rft_membership_decode(e->data, e->len, &cm) != RF_OK)
                return RF_EBADMSG;
        }
        prev_term = e->term;
    }
    return RF_OK;
}

/* What arrives from outside gets an error code, never an ASSERT. */
static int validate(const rf_raft *r, const rf_msg *m)
{
    if (m->type < RF_MSG_PREVOTE || m->type > RF_MSG_TIMEOUT_NOW || m->term == 0)
        return RF_EBADMSG;
    if (m->from == 0 || m->from == r->cfg.node_id || m->to != r->cfg.node_id)
        return RF_EINVAL;
    if (m->reject > 1)
        return RF_EBADMSG;
    /* Real terms and indexes never come near 2^62; refusing larger ones
     * keeps every term + 1 and index + n free of overflow. */
    if (m->term > RF_RAFT_TERM_MAX || m->index > RF_RAFT_TERM_MAX ||
        m->log_term > RF_RAFT_TERM_MAX || m->commit > RF_RAFT_TERM_MAX)
        return RF_EBADMSG;
    switch (m->type) {
    case RF_MSG_APPEND:
        return validate_entries(m);
    case RF_MSG_SNAPSHOT:
        if (!rf_rft_membership_valid(&m->membership) || m->total > RF_SNAPSHOT_BYTES_MAX)
            return RF_EBADMSG;
        if (m->offset > m->total || m->len > m->total - m->offset || (m->len && !m->data))
            return RF_EBADMSG;
        if (m->log_term > m->term || m->index == 0 || m->log_term == 0)
            return RF_EBADMSG;
        return RF_OK;
    case RF_MSG_PREVOTE:
    case RF_MSG_VOTE:
        return m->log_term > m->term ? RF_EBADMSG : RF_OK;
    default:
        return RF_OK;
    }
}

static int dispatch(rf_raft *r, const rf_msg *m)
{
    bool drop = false;
    int rc = rf_rft_election_gate(r, m, &drop);
    if (rc != RF_OK || drop)
        return rc;
    switch (m->type) {
    case RF_MSG_APPEND:
        return rf_rft_repl_recv_append(r, m);
    case RF_MSG_APPEND_RESP:
        return rf_rft_repl_recv_append_resp(r, m);
    case RF_MSG_HEARTBEAT:
        return rf_rft_repl_recv_heartbeat(r, m);
    case RF_MSG_HEARTBEAT_RESP:
        return rf_rft_repl_recv_heartbeat_resp(r, m);
    case RF_MSG_SNAPSHOT:
        return rf_rft_snap_recv(r, m);
    case RF_MSG_SNAPSHOT_RESP:
        return rf_rft_snap_recv_resp(r, m);
    default:
        return rf_rft_election_recv(r, m);
    }
}

int rf_raft_receive(rf_raft *r, const rf_msg *m)
{
    ASSERT(!r->in_ready);
    r->ctr.msgs_received++;
    if (m->group_id != r->cfg.group_id) {
        r->ctr.msgs_bad_group++;
        return reject(r, RF_EINVAL);
    }
    int rc = validate(r, m);
    if (rc != RF_OK)
        return reject(r, rc);
    rc = dispatch(r, m);
    if (rc != RF_OK)
        return reject(r, rc);
    if (r->commit > r->applied)
        rf_rft_apply_committed(r);
    return RF_OK;
}

int rf_raft_receive_bytes(rf_raft *r, const uint8_t *buf, size_t len)
{
    ASSERT(!r->in_ready);
    rf_msg m;
    int rc;
    for (;;) {
        rc = rf_msg_decode(buf, len, &m, r->decode_ents, r->decode_cap);
        if (rc != RF_ETOOBIG || r->decode_cap >= RF_MSG_ENTRIES_MAX)
            break;
        /* Grow the entry array (bounded by RF_MSG_ENTRIES_MAX) and retry. */
        size_t ncap = r->decode_cap ? r->decode_cap * 2 : 64;
        void *p = r->decode_ents;
        size_t cap = r->decode_cap;
        if (rf_rft_reserve(r->a, &p, &cap, ncap, sizeof(rf_entry)) != RF_OK) {
            rc = RF_ENOMEM;
            break;
        }
        r->decode_ents = p;
        r->decode_cap = cap;
    }
    if (rc != RF_OK) {
        r->ctr.msgs_received++;
        r->ctr.msgs_decode_failed++;
        return reject(r, rc);
    }
    return rf_raft_receive(r, &m);
}

void rf_raft_tick(rf_raft *r, uint64_t now)
{
    ASSERT(!r->in_ready);
    if (now > r->now)
        r->now = now;
    if (!r->started) {
        /* A (re)started member has not heard from a leader, but one may be
         * alive: treat the start as contact so that it grants no vote for
         * an election timeout (keeps the leader lease sound, §6.4.1). */
        r->started = true;
        r->leader_contact_ns = r->now;
        r->leader_contact = true;
        rf_rft_election_reset_timer(r);
        /* A brand-new group (term 0) whose only voter is this member: no
         * leader can exist whose lease the wait would protect, and no vote
         * is needed but its own, so it campaigns now rather than after a
         * timeout (RaftFleet's new group starts with its creator leading;
         * an activation's or add's retry budget need not cover one). */
        if (r->term == 0 && r->self_voter && rf_membership_voters(&r->conf) == 1)
            r->election_deadline_ns = r->now;
    }
    if (r->contact_untimed) {
        r->contact_untimed = false;
        r->leader_contact_ns = r->now;
        if (r->role != RF_ROLE_LEADER)
            rf_rft_election_reset_timer(r);
    }
    if (r->role == RF_ROLE_LEADER)
        rf_rft_repl_leader_tick(r);
    else
        rf_rft_election_tick(r);
}

int rf_raft_propose(rf_raft *r, uint64_t request_id, uint64_t client_id, uint64_t sequence,
                    uint64_t floor, const uint8_t *cmd, size_t len)
{
    ASSERT(!r->in_ready);
    if (r->role != RF_ROLE_LEADER)
        return rf_rft_reply(r, request_id, RF_ENOTLEADER, NULL, 0);
    if (r->transfer_target)
        return rf_rft_reply(r, request_id, RF_ETRANSFER, NULL, 0);
    if (len > RF_ENTRY_BYTES_MAX || (len && !cmd))
        return rf_rft_reply(r, request_id, RF_ETOOBIG, NULL, 0);
    if (r->props_n >= RF_RAFT_PROPOSALS_MAX)
        return rf_rft_reply(r, request_id, RF_EFULL, NULL, 0);
    const dedup_reply *kept = NULL;
    int seen = client_id ? rf_rft_dedup_check(r, client_id, sequence, &kept) : DEDUP_NEW;
    if (seen == DEDUP_KEPT) {
        /* Raft thesis §6.3: answer a retry of an applied command from the
         * session; the check at apply time stays the rule. */
        r->ctr.dedup_hits++;
        return rf_rft_reply(r, request_id, kept->status, rf_rft_dedup_reply(kept), kept->len) ==
                       RF_OK
                   ? RF_OK
                   : kept->status;
    }
    if (seen == DEDUP_FORGOTTEN)
        return rf_rft_reply(r, request_id, RF_ESESSION, NULL, 0);
    int rc = rf_rft_append_command(r, client_id, sequence, floor, cmd, (uint32_t)len);
    if (rc == RF_OK)
        rc = rf_rft_pending_push(r, rf_rft_log_last(&r->log), request_id);
    if (rc != RF_OK)
        return rf_rft_reply(r, request_id, rc, NULL, 0);
    return RF_OK;
}

int rf_raft_read(rf_raft *r, uint64_t request_id, const uint8_t *query, size_t len)
{
    ASSERT(!r->in_ready);
    return rf_rft_apply_read(r, request_id, query, len);
}

int rf_raft_add_learner(rf_raft *r, uint64_t request_id, uint64_t node_id)
{
    ASSERT(!r->in_ready);
    return rf_rft_member_change(r, request_id, node_id, MEMBER_ADD);
}

int rf_raft_promote(rf_raft *r, uint64_t request_id, uint64_t node_id)
{
    ASSERT(!r->in_ready);
    return rf_rft_member_change(r, request_id, node_id, MEMBER_PROMOTE);
}

int rf_raft_remove(rf_raft *r, uint64_t request_id, uint64_t node_id)
{
    ASSERT(!r->in_ready);
    return rf_rft_member_change(r, request_id, node_id, MEMBER_REMOVE);
}

int rf_raft_transfer(rf_raft *r, uint64_t request_id, uint64_t target)
{
    ASSERT(!r->in_ready);
    return rf_rft_member_start_transfer(r, request_id, true, target);
}

void rf_raft_peer_unreachable(rf_raft *r, uint64_t node_id)
{
    raft_peer *p = rf_rft_peer_find(r, node_id);
    if (!p)
        return;
    p->unreachable = true;
    if (p->state == PEER_REPLICATE) {
        /* Stop streaming into the void: probe until it answers. */
        p->state = PEER_PROBE;
        p->next = p->match + 1;
        p->inflight_n = 0;
        p->probe_sent = false;
    }
}

void rf_raft_peer_reachable(rf_raft *r, uint64_t node_id)
{
    raft_peer *p = rf_rft_peer_find(r, node_id);
    if (p)
        p->unreachable = false;
}

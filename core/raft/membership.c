/* membership: single-server configuration changes and leadership transfer. */
#include <string.h>

#include "raft/raft_int.h"

const rf_member *rf_membership_find(const rf_membership *m, uint64_t id)
{
    for (uint32_t i = 0; i < m->count && i < RF_RAFT_MEMBERS_MAX; i++)
        if (m->members[i].id == id)
            return &m->members[i];
    return NULL;
}

uint32_t rf_membership_voters(const rf_membership *m)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->count && i < RF_RAFT_MEMBERS_MAX; i++)
        n += m->members[i].voter ? 1u : 0u;
    return n;
}

static void conf_insert(rf_membership *m, uint64_t id)
{
    ASSERT(m->count < RF_RAFT_MEMBERS_MAX);
    uint32_t i = m->count;
    while (i > 0 && m->members[i - 1].id > id) {
        m->members[i] = m->members[i - 1];
        i--;
    }
    m->members[i].id = id;
    m->members[i].voter = 0;
    m->count++;
}

static void conf_erase(rf_membership *m, uint64_t id)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->count; i++)
        if (m->members[i].id != id)
            m->members[k++] = m->members[i];
    ASSERT(k + 1 == m->count);
    m->count = k;
}

/* Live voters of conf without `removed`: the leader and peers heard from
 * within an election timeout and not reported unreachable. */
static uint32_t live_voters_after(rf_raft *r, uint64_t removed)
{
    uint32_t live = 0;
    for (uint32_t i = 0; i < r->conf.count; i++) {
        const rf_member *m = &r->conf.members[i];
        if (!m->voter || m->id == removed)
            continue;
        if (m->id == r->cfg.node_id) {
            live++;
            continue;
        }
        const raft_peer *p = rf_rft_peer_find(r, m->id);
        if (p && !p->unreachable && r->now - p->last_heard_ns < r->cfg.election_timeout_ns)
            live++;
    }
    return live;
}

/* The most up-to-date other voter, to hand leadership to. */
static uint64_t best_successor(rf_raft *r)
{
    const raft_peer *best = NULL;
    for (uint32_t i = 0; i < r->n_peers; i++) {
        const raft_peer *p = &r->peers[i];
        if (p->voter && (!best || p->match > best->match))
            best = p;
    }
    return best ? best->id : 0;
}

static int change_check(rf_raft *r, uint64_t node, int op, rf_membership *next)
{
    *next = r->conf;
    const rf_member *cur = rf_membership_find(&r->conf, node);
    if (op == MEMBER_ADD) {
        if (cur)
            return RF_EEXIST;
        if (r->conf.count >= RF_RAFT_MEMBERS_MAX - 1)
            return RF_EFULL;
        conf_insert(next, node);
        return RF_OK;
    }
    if (!cur)
        return RF_ENOTMEMBER;
    if (op == MEMBER_PROMOTE) {
        if (cur->voter)
            return RF_EEXIST;
        const raft_peer *p = rf_rft_peer_find(r, node);
        /* Thesis §4.2.1: a new server votes only once caught up: streaming
         * (not probing), and behind the commit index by at most one
         * window of appends in flight (under load it is never exactly
         * at the commit index). And holding the configuration in force:
         * a member that knows none never votes (election.c may_vote), so
         * one promoted before it, were this leader to lose its quorum
         * before it caught up, could leave a group no voter can win
         * (fuzz seed 405009: one voter and a learner, cut off). */
        uint64_t window = (uint64_t)r->cfg.inflight_max * r->cfg.append_entries_max;
        if (!p || p->state != PEER_REPLICATE || p->match + window < r->commit ||
            p->match < r->conf_index)
            return RF_ELAGGING;
        ((rf_member *)rf_membership_find(next, node))->voter = 1;
        return RF_OK;
    }
    if (cur->voter) {
        uint32_t voters = rf_membership_voters(&r->conf) - 1;
        if (voters == 0 || live_voters_after(r, node) < voters / 2 + 1)
            return RF_EQUORUM;
    }
    conf_erase(next, node);
    return RF_OK;
}

/* Leader only. Thesis §4.1: one change at a time, and only after the
 * leader committed an entry of its term (the fix of §4.1's bug). */
int rf_rft_member_change(rf_raft *r, uint64_t request_id, uint64_t node, int op)
{
    if (r->role != RF_ROLE_LEADER)
        return rf_rft_reply(r, request_id, RF_ENOTLEADER, NULL, 0);
    ASSERT(r->self_voter);
    if (node == 0)
        return rf_rft_reply(r, request_id, RF_EINVAL, NULL, 0);
    if (r->transfer_target)
        return rf_rft_reply(r, request_id, RF_ETRANSFER, NULL, 0);
    if (r->conf_index > r->commit || rf_rft_log_term(&r->log, r->commit) != r->term)
        return rf_rft_reply(r, request_id, RF_ECONFCHANGE, NULL, 0);
    if (op == MEMBER_REMOVE && node == r->cfg.node_id) {
        /* The leader leaves only after leadership moved away. */
        uint64_t to = best_successor(r);
        if (to == 0)
            return rf_rft_reply(r, request_id, RF_EQUORUM, NULL, 0);
        rf_rft_member_start_transfer(r, 0, false, to);
        return rf_rft_reply(r, request_id, RF_ETRANSFER, NULL, 0);
    }
    rf_membership next;
    int rc = change_check(r, node, op, &next);
    if (rc != RF_OK)
        return rf_rft_reply(r, request_id, rc, NULL, 0);
    uint8_t buf[MEMBERSHIP_BYTES_MAX];
    size_t len = rf_rft_membership_encode(&next, buf);
    rc = rf_rft_append_local(r, RF_ENTRY_CONFIG, 0, 0, buf, (uint32_t)len);
    if (rc == RF_OK)
        rc = rf_rft_pending_push(r, rf_rft_log_last(&r->log), request_id);
    if (rc != RF_OK)
        return rf_rft_reply(r, request_id, rc, NULL, 0);
    rf_rft_set_conf(r, &next, rf_rft_log_last(&r->log));
    return RF_OK;
}

/* Emits the observations of a configuration that was just applied. */
void rf_rft_member_applied_config(rf_raft *r, const rf_membership *m, uint64_t index)
{
    const rf_membership *old = &r->applied_conf;
    if (old->count == 0) {
        /* A member that joined empty learns the configuration it joined:
         * nothing changed, it just did not know. */
        r->applied_conf = *m;
        return;
    }
    for (uint32_t i = 0; i < m->count; i++) {
        const rf_member *o = rf_membership_find(old, m->members[i].id);
        if (!o)
            rf_rft_observe(r, RF_OBS_MEMBER_ADDED, m->members[i].id, index);
        else if (!o->voter && m->members[i].voter)
            rf_rft_observe(r, RF_OBS_MEMBER_PROMOTED, m->members[i].id, index);
    }
    for (uint32_t i = 0; i < old->count; i++)
        if (!rf_membership_find(m, old->members[i].id))
            rf_rft_observe(r, RF_OBS_MEMBER_REMOVED, old->members[i].id, index);
    r->applied_conf = *m;
}

static void send_timeout_now(rf_raft *r, raft_peer *p)
{
    rf_msg m;
    rf_rft_msg_init(r, &m, RF_MSG_TIMEOUT_NOW, p->id);
    rf_rft_send(r, &m);
    r->timeout_now_sent = true;
    /* The target will campaign past every lease: none in this term again. */
    r->no_lease = true;
    r->lease_until_ns = 0;
}

/* Leader only: TimeoutNow once the target holds our whole log (§3.10). */
void rf_rft_member_transfer_check(rf_raft *r, raft_peer *p)
{
    ASSERT(r->role == RF_ROLE_LEADER);
    if (r->transfer_target != p->id || r->timeout_now_sent)
        return;
    if (p->match == rf_rft_log_last(&r->log))
        send_timeout_now(r, p);
}

int rf_rft_member_start_transfer(rf_raft *r, uint64_t request_id, bool reply, uint64_t target)
{
    if (r->role != RF_ROLE_LEADER)
        return reply ? rf_rft_reply(r, request_id, RF_ENOTLEADER, NULL, 0) : RF_ENOTLEADER;
    if (r->transfer_target)
        return reply ? rf_rft_reply(r, request_id, RF_ETRANSFER, NULL, 0) : RF_ETRANSFER;
    raft_peer *p = rf_rft_peer_find(r, target);
    if (!p || !p->voter) {
        int rc = target == r->cfg.node_id ? RF_EINVAL : RF_ENOTMEMBER;
        return reply ? rf_rft_reply(r, request_id, rc, NULL, 0) : rc;
    }
    r->transfer_target = target;
    r->transfer_deadline_ns = r->now + r->cfg.transfer_timeout_ns;
    r->transfer_request = request_id;
    r->transfer_reply = reply;
    r->timeout_now_sent = false;
    r->lease_until_ns = 0; /* the target campaigns past every lease */
    rf_rft_member_transfer_check(r, p);
    if (!r->timeout_now_sent)
        p->wake = true;
    return RF_OK;
}

/* Ends a transfer: RF_OK when this leader stepped down, RF_ETIMEDOUT when
 * it ran out of time (the leader then serves again). */
void rf_rft_member_transfer_end(rf_raft *r, int status)
{
    if (!r->transfer_target)
        return;
    if (r->transfer_reply)
        rf_rft_reply(r, r->transfer_request, status, NULL, 0);
    r->transfer_target = 0;
    r->transfer_reply = false;
    r->timeout_now_sent = false;
}

/* node_push: the metadata leader pushes its state to the nodes that hold no metadata replica. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "fleet/node_int.h"

/* Raft caps a group at RF_RAFT_MEMBERS_MAX members, so in a larger cluster
 * some nodes hold no replica of the metadata (voters and learners are the
 * first that fit, fleet/node_rebal.c). The leader sends each of them its
 * applied state whenever it is newer than what the node acknowledged, and
 * again after an election timeout without acknowledgement (a push may be
 * lost). A node keeps the newest state it was pushed, by applied index: the
 * index of committed state only grows, whichever leader sends it, so an
 * older push (from a deposed leader, or late) never replaces a newer one.
 * The cost is one state transfer per metadata change per such node; the
 * metadata changes with node and group events, not with commands. */

static node_push *push_find(rf_node *n, uint64_t peer, bool add)
{
    node_push *p = n->pushes.p;
    size_t at = 0;
    while (at < n->pushes.n && p[at].peer < peer)
        at++;
    if (at < n->pushes.n && p[at].peer == peer)
        return &p[at];
    node_push *np = add ? rf_node__vec_insert(&n->pushes, sizeof *p, at) : NULL;
    if (np != NULL)
        np->peer = peer;
    return np;
}

/* The metadata state as a record body: u64 applied index, then the
 * model's encoding. NULL when it cannot be encoded (no memory). */
static uint8_t *encode_state(const rf_raft *mr, size_t *len)
{
    const void *st = rf_raft_model_state(mr);
    size_t need = 0;
    int rc = rf_model_fleet_meta.encode(st, NULL, 0, &need);
    if ((rc != RF_OK && rc != RF_ETOOBIG) ||
        need > RF_NODE_FRAME_BYTES_MAX - NODE_FRAME_HEAD - NODE_REC_HEAD - NODE_META_HEAD)
        return NULL; /* past one envelope: such metadata is not pushed (README.md) */
    uint8_t *buf = malloc(NODE_META_HEAD + need);
    if (buf == NULL)
        return NULL;
    size_t got = 0;
    if (rf_model_fleet_meta.encode(st, buf + NODE_META_HEAD, need, &got) != RF_OK) {
        free(buf);
        return NULL;
    }
    rf_node__put(buf, rf_raft_applied_index(mr), 8);
    *len = NODE_META_HEAD + got;
    return buf;
}

/* On the metadata leader, once per tick: push to every registered node
 * that is not a member of the metadata group and is behind. */
void rf_node__push_tick(rf_node *n)
{
    const rf_raft *mr = rf_node__meta_raft(n);
    if (mr != NULL && n->meta_pushed != NULL &&
        rf_raft_applied_index(mr) >= n->meta_pushed_index) {
        /* The node's own replica caught up: the pushed state is history. */
        rf_model_fleet_meta.destroy(n->meta_pushed);
        n->meta_pushed = NULL;
    }
    if (mr == NULL || rf_raft_role(mr) != RF_ROLE_LEADER) {
        n->pushes.n = 0; /* a new leader starts over: pushing twice is harmless */
        return;
    }
    const rf_meta *m = rf_raft_model_state(mr);
    const rf_membership *mem = rf_raft_membership(mr);
    uint64_t applied = rf_raft_applied_index(mr);
    uint8_t *state = NULL;
    size_t len = 0;
    for (size_t i = 0; i < rf_meta_node_count(m); i++) {
        uint64_t peer = rf_meta_node_at(m, i)->id;
        if (peer == n->cfg.node_id || rf_membership_find(mem, peer) != NULL)
            continue;
        node_push *p = push_find(n, peer, true);
        if (p == NULL || p->acked >= applied)
            continue;
        if (p->sent >= applied && n->now - p->sent_at < n->cfg.raft.election_timeout_ns)
            continue;
        if (state == NULL && (state = encode_state(mr, &len)) == NULL) {
            n->ctr.meta_pushes_failed++;
            return;
        }
        if (rf_node__frame_append(n, peer, NODE_REC_META, NULL, 0, state, len)) {
            p->sent = applied;
            p->sent_at = n->now;
            n->ctr.meta_pushes_sent++;
        }
    }
    free(state);
}

/* The node time of the next rf_node__push_tick with work (0: at once). */
uint64_t rf_node__push_due(rf_node *n)
{
    const rf_raft *mr = rf_node__meta_raft(n);
    if (mr != NULL && n->meta_pushed != NULL &&
        rf_raft_applied_index(mr) >= n->meta_pushed_index)
        return 0; /* a pushed state to drop */
    if (mr == NULL || rf_raft_role(mr) != RF_ROLE_LEADER)
        return n->pushes.n > 0 ? 0 : UINT64_MAX; /* the table to clear */
    const rf_meta *m = rf_raft_model_state(mr);
    const rf_membership *mem = rf_raft_membership(mr);
    uint64_t applied = rf_raft_applied_index(mr), due = UINT64_MAX;
    for (size_t i = 0; i < rf_meta_node_count(m); i++) {
        uint64_t peer = rf_meta_node_at(m, i)->id;
        if (peer == n->cfg.node_id || rf_membership_find(mem, peer) != NULL)
            continue;
        const node_push *p = push_find(n, peer, false);
        if (p == NULL)
            return 0;
        if (p->acked >= applied)
            continue;
        if (p->sent < applied || n->now - p->sent_at >= n->cfg.raft.election_timeout_ns)
            return 0;
        uint64_t at = p->sent_at + n->cfg.raft.election_timeout_ns;
        due = at < due ? at : due;
    }
    return due;
}

void rf_node__on_meta_ack(rf_node *n, uint64_t from, const uint8_t *rec)
{
    node_push *p = push_find(n, from, false);
    uint64_t index = rf_node__get(rec, 8);
    if (p != NULL && index > p->acked)
        p->acked = index;
}

/* A pushed state: kept when newer than the one held, acknowledged either
 * way. A node with its own replica ignores pushes (its replica is the
 * authority; a push may come from a leader that does not know it yet); a
 * replica started after pushes came in is used once it has caught up
 * with the last one (rf_node_meta). */
void rf_node__on_meta(rf_node *n, uint64_t from, const uint8_t *rec, size_t len)
{
    if (rf_node__meta_raft(n) != NULL)
        return;
    uint64_t index = rf_node__get(rec, 8);
    if (index > n->meta_pushed_index || n->meta_pushed == NULL) {
        void *st = rf_model_fleet_meta.decode(rec + NODE_META_HEAD, len - NODE_META_HEAD);
        if (st == NULL) {
            n->ctr.frames_rejected++; /* malformed: the held state stays */
            return;
        }
        if (n->meta_pushed != NULL)
            rf_model_fleet_meta.destroy(n->meta_pushed);
        n->meta_pushed = st;
        n->meta_pushed_index = index;
        n->meta_dirty = true; /* acted on at the next tick, as an applied entry */
        n->ctr.meta_pushes_applied++;
    }
    uint8_t ack[NODE_META_ACK_LEN];
    rf_node__put(ack, n->meta_pushed_index, 8);
    (void)rf_node__frame_append(n, from, NODE_REC_META_ACK, ack, sizeof ack, NULL, 0);
}

void rf_node__push_free(rf_node *n)
{
    if (n->meta_pushed != NULL)
        rf_model_fleet_meta.destroy(n->meta_pushed);
    n->meta_pushed = NULL;
    free(n->pushes.p);
    n->pushes.p = NULL;
    n->pushes.n = n->pushes.cap = 0;
}

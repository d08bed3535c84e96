/* node_quiet: idle groups go quiet (no per-group traffic); node-pair heartbeats watch for failures. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "fleet/node_int.h"

/* How it works. A group whose leader has seen nothing but heartbeats for
 * quiesce_after_ns, with everything committed and applied and no learner,
 * goes quiet: the leader tells each follower (QUIESCE record with its
 * term), and every quiet member stops being ticked. Its clock stops too:
 * the node keeps an offset per group, so when the group wakes, its
 * timers resume where they stopped and nobody times out on waking.
 *
 * Any message for the group, any request and any rebalancing step wakes
 * it; a follower that missed the QUIESCE record times out, and its
 * pre-vote wakes the leader. Failures are watched per node pair instead
 * of per group: every node sends every other node one heartbeat record
 * per heartbeat interval (any frame counts), and when a peer stays silent
 * for an election timeout, or the driver reports it unreachable, the quiet
 * followers whose leader is on that peer wake and elect a new leader as
 * usual. A silent peer is also marked unreachable (since its last frame),
 * which feeds the purge; a frame from it marks it reachable again.
 *
 * Reads: a stopped clock would stretch a leader lease over the time the
 * group was quiet, so rf_node_create turns leases off when quiescence is
 * on (lease_drift_ns = election timeout): every read is a ReadIndex round
 * and a stale leader can never answer alone. */

void rf_node__wake(rf_node *n, node_group *g)
{
    if (!g->quiet)
        return;
    g->quiet = false;
    g->clock_offset = n->now - g->frozen_at;
}

void rf_node__touch(rf_node *n, node_group *g)
{
    rf_node__wake(n, g);
    g->last_active = n->now;
    if (!n->in_ready)
        rf_node__dirty(n, g); /* an input follows */
}

static size_t heard_lower(const rf_node *n, uint64_t peer)
{
    const node_heard *h = n->heard.p;
    size_t lo = 0, hi = n->heard.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h[mid].peer < peer)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void rf_node__heard(rf_node *n, uint64_t peer)
{
    size_t at = heard_lower(n, peer);
    node_heard *h = n->heard.p;
    if (at < n->heard.n && h[at].peer == peer) {
        h[at].at = n->now;
        if (h[at].suspected) {
            h[at].suspected = false;
            rf_node_peer_reachable(n, peer);
        }
        return;
    }
    if (!rf_node__vec_reserve(&n->heard, sizeof *h, 1))
        return;
    h = n->heard.p;
    memmove(&h[at + 1], &h[at], (n->heard.n - at) * sizeof *h);
    h[at].peer = peer;
    h[at].at = n->now;
    h[at].suspected = false;
    n->heard.n++;
}

void rf_node__wake_led_by(rf_node *n, uint64_t peer)
{
    for (size_t i = 0; i < n->n_groups; i++) {
        node_group *g = &n->groups[i];
        if (g->quiet && rf_raft_leader(g->raft) == peer)
            rf_node__wake(n, g);
    }
}

static bool peer_down(const rf_node *n, uint64_t peer)
{
    const node_peer_down *d = n->down.p;
    for (size_t i = 0; i < n->down.n; i++)
        if (d[i].peer == peer)
            return true;
    return false;
}

/* A leader's notice that group went quiet in term: a follower of that
 * leader in that term goes quiet too, unless it was told that leader's
 * node is unreachable: that news has already woken it and will not come
 * again, so a notice still in flight when the node died would stop the
 * clock that must time out (fuzz seed 20237). */
void rf_node__on_quiesce(rf_node *n, uint64_t from, const uint8_t *rec)
{
    node_group *g = rf_node__group(n, rf_node__get(rec, 8));
    uint64_t term = rf_node__get(rec + 8, 8);
    if (g == NULL || g->quiet || rf_raft_role(g->raft) != RF_ROLE_FOLLOWER ||
        rf_raft_term(g->raft) != term || rf_raft_leader(g->raft) != from || peer_down(n, from))
        return;
    g->quiet = true;
    rf_raft_release_memory(g->raft); /* idle: no output buffers kept */
    g->frozen_at = n->now - g->clock_offset;
}

static bool may_quiesce(const rf_node *n, const node_group *g)
{
    const rf_raft *r = g->raft;
    if (g->quiet || g->rebal_token != 0 || rf_raft_role(r) != RF_ROLE_LEADER ||
        n->now - g->last_active < n->cfg.quiesce_after_ns)
        return false;
    if (rf_raft_commit_index(r) != rf_raft_last_index(r) ||
        rf_raft_applied_index(r) != rf_raft_commit_index(r))
        return false;
    const rf_membership *m = rf_raft_membership(r);
    return rf_membership_voters(m) == m->count; /* a learner is still catching up */
}

static void quiesce(rf_node *n, node_group *g)
{
    const rf_membership *m = rf_raft_membership(g->raft);
    uint8_t rec[NODE_QUIESCE_LEN];
    rf_node__put(rec, g->id, 8);
    rf_node__put(rec + 8, rf_raft_term(g->raft), 8);
    for (uint32_t i = 0; i < m->count; i++)
        if (m->members[i].id != n->cfg.node_id)
            (void)rf_node__frame_append(n, m->members[i].id, NODE_REC_QUIESCE, rec, sizeof rec,
                                        NULL, 0);
    g->quiet = true;
    rf_raft_release_memory(g->raft); /* idle: no output buffers kept */
    g->frozen_at = n->now - g->clock_offset;
}

/* Node-pair heartbeats to every other node of the metadata, and the
 * suspicion of silent peers. */
static void heartbeats(rf_node *n)
{
    const rf_meta *m = rf_node_meta(n);
    if (m == NULL || n->now < n->next_hb)
        return;
    n->next_hb = n->now + n->cfg.raft.heartbeat_interval_ns;
    for (size_t i = 0; i < rf_meta_node_count(m); i++) {
        uint64_t id = rf_meta_node_at(m, i)->id;
        if (id != n->cfg.node_id)
            (void)rf_node__frame_append(n, id, NODE_REC_HB, NULL, 0, NULL, 0);
    }
    node_heard *h = n->heard.p;
    for (size_t i = 0; i < n->heard.n; i++) {
        if (h[i].suspected || n->now - h[i].at < n->cfg.raft.election_timeout_ns)
            continue;
        h[i].suspected = true;
        n->ctr.peers_suspected++;
        uint64_t peer = h[i].peer, since = h[i].at;
        rf_node_peer_unreachable(n, peer); /* wakes its quiet followers too */
        rf_node__down_since(n, peer, since);
        h = n->heard.p;
    }
}

void rf_node__quiet_tick(rf_node *n)
{
    heartbeats(n);
    if (n->cfg.quiesce_after_ns == 0)
        return;
    for (size_t i = 0; i < n->n_groups; i++)
        if (may_quiesce(n, &n->groups[i]))
            quiesce(n, &n->groups[i]);
}

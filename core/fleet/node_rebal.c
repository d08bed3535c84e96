/* node_rebal: a rebalancing round: boot new groups, clean up removed ones, one safe step per led group. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "fleet/node_int.h"

/* The target of a group: voters (desired leader first) and, for the
 * metadata group only, learners (every other known node, so each node
 * holds a cheap replica of the metadata). */
typedef struct node_target {
    uint64_t voters[RF_META_REPLICAS_MAX];
    uint32_t n_voters;
    uint64_t learners[RF_RAFT_MEMBERS_MAX];
    uint32_t n_learners;
} node_target;

static bool in_list(const uint64_t *ids, uint32_t n, uint64_t id)
{
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static uint32_t zone_count(const rf_meta *m)
{
    uint32_t zones = 0;
    for (size_t i = 0; i < rf_meta_node_count(m); i++) {
        const rf_meta_node *a = rf_meta_node_at(m, i);
        bool seen = a->state != RF_META_NODE_ACTIVE;
        for (size_t j = 0; j < i && !seen; j++) {
            const rf_meta_node *b = rf_meta_node_at(m, j);
            seen = b->state == RF_META_NODE_ACTIVE && strcmp(a->zone, b->zone) == 0;
        }
        zones += !seen;
    }
    return zones;
}

/* A user group's target depends only on its name and replica count (fixed
 * for its id) and on the nodes: it is kept per nodes epoch. */
static bool group_target(const rf_node *n, const rf_meta *m, node_group *ng, node_target *t)
{
    uint64_t ids[RF_META_REPLICAS_MAX], gid = ng->id;
    memset(t, 0, sizeof *t);
    if (gid != RF_META_GROUP_ID && ng->tgt_epoch == rf_meta_nodes_epoch(m) + 1 &&
        rf_meta_group_by_id(m, gid) != NULL) {
        memcpy(t->voters, ng->tgt, ng->tgt_n * sizeof *t->voters);
        t->n_voters = ng->tgt_n;
        return true;
    }
    const char *name = NODE_META_NAME;
    uint32_t replicas = n->cfg.meta_voters;
    if (gid == RF_META_GROUP_ID) {
        /* 5 voters only when they can sit in 3 zones (one zone down keeps 3). */
        if (replicas > 3 && (rf_meta_active_count(m) < replicas || zone_count(m) < 3))
            replicas = 3;
    } else {
        const rf_meta_group *g = rf_meta_group_by_id(m, gid);
        if (g == NULL)
            return false;
        name = g->name;
        replicas = g->replicas;
    }
    if (rf_meta_place(m, name, replicas, ids, RF_META_REPLICAS_MAX) != RF_OK)
        return false;
    for (uint32_t i = 0; i < replicas && ids[i] != 0; i++)
        t->voters[t->n_voters++] = ids[i];
    if (gid != RF_META_GROUP_ID) {
        ng->tgt_epoch = t->n_voters <= NODE_TARGET_KEPT ? rf_meta_nodes_epoch(m) + 1 : 0;
        ng->tgt_n = (uint8_t)(t->n_voters <= NODE_TARGET_KEPT ? t->n_voters : 0);
        memcpy(ng->tgt, t->voters, ng->tgt_n * sizeof *ng->tgt);
        return true;
    }
    for (size_t i = 0; i < rf_meta_node_count(m); i++) {
        uint64_t id = rf_meta_node_at(m, i)->id;
        if (in_list(t->voters, t->n_voters, id) ||
            t->n_voters + t->n_learners >= RF_RAFT_MEMBERS_MAX - 1)
            continue;
        t->learners[t->n_learners++] = id;
    }
    return true;
}

/* Is peer worth handing leadership to: not reported or suspected
 * unreachable, and heard from within an election timeout? A transfer
 * refuses every proposal while it runs (Raft thesis §3.10), so one aimed
 * at a dead node that is not purged yet would block the group for a
 * transfer timeout per round, until the purge. */
static bool peer_live(const rf_node *n, uint64_t peer)
{
    if (rf_node__peer_down(n, peer))
        return false;
    const node_heard *h = n->heard.p;
    for (size_t i = 0; i < n->heard.n; i++)
        if (h[i].peer == peer)
            return n->now - h[i].at < n->cfg.raft.election_timeout_ns;
    return false;
}

/* Where leadership should go, 0: stay. Normally the desired leader, when
 * it is another node and live. A leader the target does not hold hands
 * over to the first live voter of the target instead (it must leave). */
static uint64_t transfer_target(const rf_node *n, const node_target *t, bool self_extra)
{
    uint64_t self = n->cfg.node_id;
    for (uint32_t i = 0; i < t->n_voters; i++) {
        if (t->voters[i] != self && peer_live(n, t->voters[i]))
            return t->voters[i];
        if (!self_extra)
            return 0;
    }
    return 0;
}

/* The next safe step for a group this node leads (DESIGN.md section 4):
 * add a missing member as a learner, else promote a learner that should
 * vote, else remove a member the target does not hold (another node
 * before this one: the leader leaves last, by transferring first), else
 * move leadership to the desired leader when it is live. Raft refuses a promotion of a
 * lagging learner (RF_ELAGGING) and a removal below quorum (RF_EQUORUM). */
static void rebalance_step(rf_node *n, node_group *g, const node_target *t)
{
    const rf_membership *mem = rf_raft_membership(g->raft);
    uint64_t self = n->cfg.node_id;
    node_pending *p = rf_node__pending_new(n, NODE_PEND_REBAL);
    if (p == NULL)
        return;
    p->group_id = g->id;
    p->deadline = n->now + n->cfg.rebalance_interval_ns + n->cfg.attempt_timeout_ns;
    g->rebal_token = p->token;
    n->ctr.rebalance_steps++;
    for (uint32_t i = 0; i < t->n_voters + t->n_learners; i++) {
        uint64_t id = i < t->n_voters ? t->voters[i] : t->learners[i - t->n_voters];
        if (rf_membership_find(mem, id) == NULL) {
            rf_node__touch(n, g);
            (void)rf_raft_add_learner(g->raft, p->token, id);
            return;
        }
    }
    for (uint32_t i = 0; i < t->n_voters; i++) {
        const rf_member *mm = rf_membership_find(mem, t->voters[i]);
        if (mm != NULL && !mm->voter) {
            rf_node__touch(n, g);
            (void)rf_raft_promote(g->raft, p->token, t->voters[i]);
            return;
        }
    }
    bool self_extra = false;
    for (uint32_t i = 0; i < mem->count; i++) {
        const rf_member *mm = &mem->members[i];
        bool keep = in_list(t->voters, t->n_voters, mm->id) ||
                    (!mm->voter && in_list(t->learners, t->n_learners, mm->id));
        if (keep)
            continue;
        if (mm->id == self) {
            self_extra = true;
            continue;
        }
        rf_node__touch(n, g);
        (void)rf_raft_remove(g->raft, p->token, mm->id);
        return;
    }
    uint64_t to = transfer_target(n, t, self_extra);
    if (to != 0) {
        rf_node__touch(n, g);
        (void)rf_raft_transfer(g->raft, p->token, to);
        return;
    }
    /* Nothing to do: the group matches its target. */
    g->rebal_token = 0;
    n->ctr.rebalance_steps--;
    rf_node__pending_drop(n, p->token);
}

/* Members this node holds that the metadata no longer wants here: a
 * removed group, or a group whose configuration and target both lack
 * this node (it was removed while it could not hear about it). A group
 * is removed when the view lists it no more although it has seen its id
 * given out (ids are never reused); a view older than the group's
 * creation says nothing about it. A node whose metadata replica was still
 * empty (a learner not caught up, its view pushed by the leader, and a
 * pushed view is not kept across a restart) restarted with that empty
 * view, stopped every member it held and dropped their logs, acknowledged
 * entries included (fuzz seed 1333). */
static void stop_unwanted(rf_node *n, const rf_meta *m)
{
    uint64_t self = n->cfg.node_id;
    for (size_t i = n->n_groups; i > 0; i--) {
        node_group *g = &n->groups[i - 1];
        if (g->id == RF_META_GROUP_ID || g->id >= rf_meta_next_group_id(m))
            continue;
        if (rf_meta_group_by_id(m, g->id) == NULL) {
            rf_node__stop_group(n, g->id, RF_NODE_REASON_REMOVED);
            continue;
        }
        node_target t;
        if (rf_raft_role(g->raft) == RF_ROLE_LEADER || !group_target(n, m, g, &t))
            continue;
        if (rf_membership_find(rf_raft_membership(g->raft), self) == NULL &&
            !in_list(t.voters, t.n_voters, self))
            rf_node__stop_group(n, g->id, RF_NODE_REASON_REBALANCE);
    }
}

/* Is an internal metadata request of this kind about aux (a group, a node) under way? */
static bool internal_pending(const rf_node *n, uint8_t op, uint64_t aux)
{
    const node_pending *p = n->pending.p;
    for (size_t j = 0; j < n->pending.n; j++)
        if (p[j].role == NODE_PEND_INTERNAL && p[j].meta_op == op && p[j].aux == aux)
            return true;
    return false;
}

/* Acknowledges the clean-up of removed groups this node still owes. */
static void ack_cleanups(rf_node *n, const rf_meta *m)
{
    for (size_t i = 0; i < rf_meta_removed_count(m); i++) {
        const rf_meta_removed *r = rf_meta_removed_at(m, i);
        if (!rf_meta_removed_pending(r, n->cfg.node_id) || rf_node_group(n, r->id) != NULL)
            continue;
        if (internal_pending(n, RF_META_OP_CLEANED, r->id))
            continue;
        uint8_t cmd[RF_META_CMD_BYTES_MAX];
        size_t len = 0;
        if (rf_meta_cmd_cleaned(cmd, sizeof cmd, &len, r->id, n->cfg.node_id) == RF_OK)
            (void)rf_node__submit_meta(n, NODE_PEND_INTERNAL, 0, cmd, len, r->id);
    }
}

/* A deactivating node leaves the metadata once it hosts no group and no
 * longer votes in the metadata: it stops its members when it has left, and
 * a metadata voter stopped before the vote moved could take the quorum
 * with it (another voter dead and not purged yet; fuzz seed 20338). */
static void maybe_leave(rf_node *n, const rf_meta *m)
{
    const rf_meta_node *me = rf_meta_node_by_id(m, n->cfg.node_id);
    if (me == NULL || me->state != RF_META_NODE_DEACTIVATING || n->leaving)
        return;
    for (size_t i = 0; i < n->n_groups; i++) {
        const rf_member *mm = rf_membership_find(rf_raft_membership(n->groups[i].raft),
                                                 n->cfg.node_id);
        if (mm != NULL && (n->groups[i].id != RF_META_GROUP_ID || mm->voter))
            return; /* still a member somewhere: leaders are moving it away */
    }
    uint8_t cmd[RF_META_CMD_BYTES_MAX];
    size_t len = 0;
    if (rf_meta_cmd_remove_node(cmd, sizeof cmd, &len, n->name) == RF_OK &&
        rf_node__submit_meta(n, NODE_PEND_INTERNAL, 0, cmd, len, 0) == RF_OK)
        n->leaving = true;
}

/* The metadata leader purges nodes unreachable for longer than the window
 * (RaftFleet waits 10 minutes and only checks connections; the window is
 * configurable and fed by the driver's failure detection). */
static void purge_unreachable(rf_node *n, const rf_meta *m)
{
    rf_raft *mr = rf_node__meta_raft(n);
    if (n->cfg.purge_window_ns == 0 || mr == NULL || rf_raft_role(mr) != RF_ROLE_LEADER)
        return;
    const node_peer_down *d = n->down.p;
    for (size_t i = 0; i < n->down.n; i++) {
        const rf_meta_node *victim = rf_meta_node_by_id(m, d[i].peer);
        if (victim == NULL || n->now - d[i].since < n->cfg.purge_window_ns)
            continue;
        bool asked = internal_pending(n, RF_META_OP_REMOVE_NODE, d[i].peer);
        uint8_t cmd[RF_META_CMD_BYTES_MAX];
        size_t len = 0;
        if (asked || rf_meta_cmd_remove_node(cmd, sizeof cmd, &len, victim->name) != RF_OK)
            continue;
        (void)rf_node__submit_meta(n, NODE_PEND_INTERNAL, 0, cmd, len, d[i].peer);
    }
}

/* New groups this node is to boot: one voter, itself, exactly once. The
 * boot is claimed in the metadata first; the claim's commit, applied here
 * like any entry, is what starts the member (rf_meta_cmd_claim says why). */
static void boot_groups(rf_node *n, const rf_meta *m)
{
    for (size_t i = 0; i < rf_meta_group_count(m); i++) {
        const rf_meta_group *g = rf_meta_group_at(m, i);
        if (g->boot_node != n->cfg.node_id || rf_node__hosted_ever(n, g->id))
            continue;
        if (g->claimed) {
            (void)rf_node__start_group(n, g->id, true, RF_NODE_REASON_BOOT);
            continue;
        }
        uint8_t cmd[RF_META_CMD_BYTES_MAX];
        size_t len = 0;
        if (!internal_pending(n, RF_META_OP_CLAIM, g->id) &&
            rf_meta_cmd_claim(cmd, sizeof cmd, &len, g->id, n->cfg.node_id) == RF_OK)
            (void)rf_node__submit_meta(n, NODE_PEND_INTERNAL, 0, cmd, len, g->id);
    }
}

/* Forgets groups it once hosted that can never come back: ids are never
 * reused, so a group below the metadata's next id that the metadata no
 * longer lists, even as a removal pending clean-up, is gone for good and
 * can never be booted again. (A stale view only knows fewer ids, so it
 * forgets less.) Keeps the set, and the journal's snapshots of it, within
 * a bound of the groups alive instead of every group ever hosted. */
static void prune_hosted(rf_node *n, const rf_meta *m)
{
    if (n->hosted.n <= 2 * n->n_groups + 64)
        return;
    uint64_t *h = n->hosted.p, next = rf_meta_next_group_id(m);
    size_t kept = 0;
    for (size_t i = 0; i < n->hosted.n; i++)
        if (h[i] == RF_META_GROUP_ID || h[i] >= next || rf_meta_group_by_id(m, h[i]) != NULL ||
            rf_meta_removed_by_id(m, h[i]) != NULL || rf_node__group(n, h[i]) != NULL)
            h[kept++] = h[i];
    n->hosted.n = kept;
    /* The terms of stopped members go with them: no member of such a
     * group starts again (node_frame.c may_start). */
    node_tomb *t = n->tombs.p;
    kept = 0;
    for (size_t i = 0; i < n->tombs.n; i++)
        if (t[i].group == RF_META_GROUP_ID || t[i].group >= next ||
            rf_meta_group_by_id(m, t[i].group) != NULL ||
            rf_meta_removed_by_id(m, t[i].group) != NULL)
            t[kept++] = t[i];
    n->tombs.n = kept;
}

/* What follows a metadata change at once rather than at the next round:
 * booting new groups, stopping removed ones, acknowledging clean-ups, and
 * (on the metadata leader) growing the metadata group to a new node, which
 * needs its replica to route requests. */
void rf_node__meta_changed(rf_node *n)
{
    const rf_meta *m = rf_node_meta(n);
    if (m == NULL)
        return;
    const rf_meta_node *me = rf_meta_node_by_id(m, n->cfg.node_id);
    if (me != NULL && me->state == RF_META_NODE_DEACTIVATING && n->zone[0] != '\0') {
        n->zone[0] = '\0'; /* its deactivation is committed: a purge is then final */
        rf_node__journal_zone(n);
    }
    if (rf_meta_nodes_epoch(m) != n->seen_epoch) {
        n->seen_epoch = rf_meta_nodes_epoch(m);
        rf_node__obs(n, RF_NODE_OBS_PLACEMENT, RF_NODE_REASON_NONE, 0, rf_meta_nodes_epoch(m), 0);
    }
    boot_groups(n, m);
    stop_unwanted(n, m);
    ack_cleanups(n, m);
    prune_hosted(n, m);
    node_group *g = rf_node__group(n, RF_META_GROUP_ID);
    node_target t;
    if (g != NULL && g->rebal_token == 0 && rf_raft_role(g->raft) == RF_ROLE_LEADER &&
        group_target(n, m, g, &t))
        rebalance_step(n, g, &t);
}

/* A step's outcome. A committed change is followed by the next step at
 * the next tick, not the next round, so a new group reaches its target in
 * a few commit rounds (add, promote, add, promote...) while still taking
 * one single-server change at a time (Raft thesis §4.1). A promotion
 * refused because the learner still lags, or a change refused because the
 * previous one is not committed yet, is tried again a heartbeat later,
 * at most NODE_REBAL_WAITS_MAX times in a row. A transfer's outcome or any
 * other refusal waits for the next round. */
void rf_node__rebal_done(rf_node *n, node_group *g, int status)
{
    g->rebal_soon = false;
    if (status == RF_OK) {
        g->rebal_waits = 0;
        g->rebal_soon = true;
        g->rebal_soon_at = n->now;
    } else if ((status == RF_ELAGGING || status == RF_ECONFCHANGE) &&
               g->rebal_waits < NODE_REBAL_WAITS_MAX) {
        g->rebal_waits++;
        g->rebal_soon = true;
        g->rebal_soon_at = n->now + n->cfg.raft.heartbeat_interval_ns;
    }
    n->rebal_any = n->rebal_any || g->rebal_soon;
}

/* Runs the follow-up steps that are due, on groups this node leads. A
 * member that knows no leader yet (a booted group before its first
 * election) keeps its follow-up; one that knows another leader drops it. */
void rf_node__rebal_followups(rf_node *n)
{
    const rf_meta *m = rf_node_meta(n);
    if (m == NULL || !n->rebal_any)
        return; /* no group has a follow-up: no scan at every tick */
    n->rebal_any = false;
    for (size_t i = 0; i < n->n_groups; i++) {
        node_group *g = &n->groups[i];
        n->rebal_any = n->rebal_any || g->rebal_soon; /* may be set again below */
        if (!g->rebal_soon || n->now < g->rebal_soon_at || g->rebal_token != 0)
            continue;
        if (rf_raft_role(g->raft) != RF_ROLE_LEADER) {
            g->rebal_soon = rf_raft_leader(g->raft) == 0;
            continue;
        }
        g->rebal_soon = false;
        node_target t;
        if (group_target(n, m, g, &t))
            rebalance_step(n, g, &t);
    }
}

void rf_node__round(rf_node *n)
{
    n->rebal_any = true; /* a full look at the follow-ups once a round, whatever set them */
    rf_node__meta_changed(n);
    const rf_meta *m = rf_node_meta(n);
    if (m == NULL)
        return;
    maybe_leave(n, m);
    purge_unreachable(n, m);
    for (size_t i = 0; i < n->n_groups; i++) {
        node_group *g = &n->groups[i];
        node_target t;
        if (g->rebal_token != 0 || rf_raft_role(g->raft) != RF_ROLE_LEADER ||
            !group_target(n, m, g, &t))
            continue;
        rebalance_step(n, g, &t);
    }
}

/* Does this node hold a member its group's configuration still names? */
static bool holds_a_member(const rf_node *n)
{
    for (size_t i = 0; i < n->n_groups; i++)
        if (n->groups[i].id != RF_META_GROUP_ID &&
            rf_membership_find(rf_raft_membership(n->groups[i].raft), n->cfg.node_id) != NULL)
            return true;
    return false;
}

/* The metadata leader confirmed this node is no longer registered. A node
 * whose deactivation was committed and that has drained stops every member
 * it holds and is inactive; it may activate again. Otherwise stopping its
 * members could take a group's majority with them (a zone cut off longer
 * than the purge window holds the majority of the groups placed 2 to 1
 * there), which DESIGN.md section 4 forbids. A node purged while it was
 * cut off and never asked to leave (the purge was a failure guess) keeps
 * its members and registers again with its zone; the placement then
 * counts it again and rebalancing moves only what it must (a deactivate
 * that failed leaves it active). One purged while it drained keeps its
 * members and its (stale) metadata, so it keeps handing leadership away
 * while the groups' leaders remove its members; a later eviction stops
 * the rest (fuzz seed 100336). */
void rf_node__evict(rf_node *n)
{
    ASSERT(!n->in_ready);
    n->evicted = false;
    if (n->zone[0] == '\0' && !n->leaving && holds_a_member(n))
        return; /* still draining */
    if (n->zone[0] != '\0' && !n->leaving) {
        if (internal_pending(n, RF_META_OP_ACTIVATE, 0))
            return; /* registering again already */
        rf_node__obs(n, RF_NODE_OBS_NODE_PURGED, RF_NODE_REASON_NONE, 0, 0, n->cfg.node_id);
        uint8_t cmd[RF_META_CMD_BYTES_MAX];
        size_t len = 0;
        if (rf_meta_cmd_activate(cmd, sizeof cmd, &len, n->name, n->zone, n->cfg.node_id) ==
            RF_OK)
            (void)rf_node__submit_meta(n, NODE_PEND_INTERNAL, 0, cmd, len, 0);
        return;
    }
    while (n->n_groups > 0)
        rf_node__stop_group(n, n->groups[n->n_groups - 1].id, RF_NODE_REASON_REMOVED);
    n->leaving = false;
    n->seen_epoch = 0;
    rf_node__obs(n, RF_NODE_OBS_NODE_PURGED, RF_NODE_REASON_NONE, 0, 0, n->cfg.node_id);
}

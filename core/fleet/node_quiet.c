/* node_quiet: idle groups go quiet (no per-group traffic); node-pair heartbeats watch for failures. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_lower.h"
#include "fleet/node_int.h"

/* How it works. A leader goes quiet as soon as it is settled, after the
 * batch or the answer that settled it (rf_raft_settled: every follower not
 * reported unreachable holds every entry, all committed and applied), or
 * at a tick once it has seen nothing but heartbeats for quiesce_after_ns
 * with everything committed and applied and no learner (a follower may be
 * behind). It tells each follower (QUIESCE record with its term and the
 * commit index a heartbeat would carry, which the follower takes as from a
 * heartbeat and applies), and every quiet member stops being ticked. So a
 * client operation on an idle group costs its own round trips and one
 * notice per follower, not the heartbeats of an idle timeout. Its clock
 * stops too: the node keeps an offset per group, so when the group wakes,
 * its timers resume where they stopped and nobody times out on waking.
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
    if (g->quiet) {
        g->quiet = false;
        g->clock_offset = n->now - g->frozen_at;
    }
    rf_node__clock(n, g); /* an input follows */
}

void rf_node__touch(rf_node *n, node_group *g)
{
    rf_node__wake(n, g);
    g->last_active = n->now;
    if (!n->in_ready)
        rf_node__dirty(n, g); /* an input follows */
}

_Static_assert(offsetof(node_heard, peer) == 0, "rf_lower_u64 key");
static size_t heard_lower(const rf_node *n, uint64_t peer)
{
    return rf_lower_u64(n->heard.p, n->heard.n, sizeof(node_heard), peer);
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
    node_heard *nh = rf_node__vec_insert(&n->heard, sizeof *h, at);
    if (nh == NULL)
        return;
    nh->peer = peer;
    nh->at = n->now;
}

void rf_node__wake_led_by(rf_node *n, uint64_t peer)
{
    for (size_t i = 0; i < n->n_groups; i++) {
        node_group *g = &n->groups[i];
        if (g->quiet && rf_raft_leader(g->raft) == peer)
            rf_node__wake(n, g);
    }
}


static void due_cancel(rf_node *n, node_group *g);

/* g stops: its group time and its ticks. Its output buffers are
 * freed now, or after the batch that applies what it still has to apply. */
static void go_quiet(rf_node *n, node_group *g)
{
    due_cancel(n, g); /* else a tick would run for it, to find it quiet */
    g->quiet = true;
    rf_node__due_update(n, g); /* what a quiet group still has: a rebalancing follow-up */
    g->frozen_at = n->now - g->clock_offset;
    if (rf_raft_has_ready(g->raft))
        rf_node__dirty(n, g); /* rf_node_advance frees the buffers after */
    else
        rf_raft_release_memory(g->raft); /* idle: no output buffers kept */
}

/* A leader's notice that group went quiet in term: a follower of that
 * leader in that term goes quiet too, unless it was told that leader's
 * node is unreachable: that news has already woken it and will not come
 * again, so a notice still in flight when the node died would stop the
 * clock that must time out (fuzz seed 20237). */
void rf_node__on_quiesce(rf_node *n, uint64_t from, const uint8_t *rec, size_t len)
{
    node_group *g = rf_node__group(n, rf_node__get(rec, 8));
    uint64_t term = rf_node__get(rec + 8, 8);
    if (g == NULL || g->quiet || rf_raft_role(g->raft) != RF_ROLE_FOLLOWER ||
        rf_raft_term(g->raft) != term || rf_raft_leader(g->raft) != from || rf_node__peer_down(n, from))
        return;
    rf_node__clock(n, g); /* an input follows */
    if (len >= NODE_QUIESCE_LEN)
        rf_raft_leader_commit(g->raft, from, term, rf_node__get(rec + 16, 8));
    go_quiet(n, g);
}

/* The node time from which g's leader may go quiet: at once (0, and
 * *settled) when settled; once idle for quiesce_after_ns with everything
 * committed and applied, no learner and a reachable majority (a follower
 * may be behind; without a majority it stays awake, for check-quorum to
 * step it down); else never (UINT64_MAX). */
static uint64_t quiesce_at(const rf_node *n, const node_group *g, bool *settled)
{
    const rf_raft *r = g->raft;
    *settled = false;
    if (n->cfg.quiesce_after_ns == 0 || g->quiet || g->rebal_token != 0 ||
        rf_raft_role(r) != RF_ROLE_LEADER)
        return UINT64_MAX;
    if (rf_raft_settled(r)) {
        *settled = true;
        return 0;
    }
    const rf_membership *m = rf_raft_membership(r);
    if (!rf_raft_quorum_reachable(r) || rf_raft_commit_index(r) != rf_raft_last_index(r) ||
        rf_raft_applied_index(r) != rf_raft_commit_index(r) ||
        rf_membership_voters(m) != m->count) /* a learner is still catching up */
        return UINT64_MAX;
    return g->last_active + n->cfg.quiesce_after_ns;
}

/* Do the followers already know, and sleep? Quiet followers answer their
 * leader's heartbeats without waking (node_frame.c), so a leader woken for
 * a read, whose round was heartbeats only, goes quiet again without a new
 * notice. Any other message either way (an append, a follower's pre-vote:
 * it woke) clears the record, and so does a follower out of reach. */
static bool followers_told(const node_group *g, bool settled)
{
    const rf_raft *r = g->raft;
    return settled && g->notice_term != 0 && g->notice_term == rf_raft_term(r) &&
           g->notice_commit == rf_raft_commit_index(r);
}

/* settled: rf_raft_settled, as quiesce_at found it. */
static void quiesce(rf_node *n, node_group *g, bool settled)
{
    if (followers_told(g, settled)) {
        go_quiet(n, g);
        return;
    }
    const rf_membership *m = rf_raft_membership(g->raft);
    bool all = settled;
    uint8_t rec[NODE_QUIESCE_LEN];
    rf_node__put(rec, g->id, 8);
    rf_node__put(rec + 8, rf_raft_term(g->raft), 8);
    for (uint32_t i = 0; i < m->count; i++) {
        uint64_t to = m->members[i].id;
        if (to == n->cfg.node_id)
            continue;
        /* As a heartbeat: up to its match (past it, its log may differ). */
        uint64_t commit = rf_raft_commit_for(g->raft, to);
        all = all && commit == rf_raft_commit_index(g->raft);
        rf_node__put(rec + 16, commit, 8);
        n->ctr.quiet_notices_sent +=
            rf_node__frame_append(n, to, NODE_REC_QUIESCE, rec, sizeof rec, NULL, 0);
    }
    g->notice_term = all ? rf_raft_term(g->raft) : 0;
    g->notice_commit = rf_raft_commit_index(g->raft);
    go_quiet(n, g);
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

void rf_node__settling_add(rf_node *n, const node_group *g)
{
    if (!g->quiet && rf_raft_role(g->raft) == RF_ROLE_LEADER &&
        rf_node__vec_reserve(&n->settling, sizeof(uint64_t), 1))
        ((uint64_t *)n->settling.p)[n->settling.n++] = g->id;
}

void rf_node__quiet_settled(rf_node *n)
{
    const uint64_t *ids = n->settling.p;
    for (size_t i = 0; i < n->settling.n; i++) {
        node_group *g = rf_node__group(n, ids[i]);
        bool settled;
        if (g != NULL && quiesce_at(n, g, &settled) == 0)
            quiesce(n, g, true);
    }
    n->settling.n = 0;
}

static void maybe_quiesce(rf_node *n, node_group *g)
{
    bool settled;
    if (quiesce_at(n, g, &settled) <= n->now)
        quiesce(n, g, settled);
}

void rf_node__quiet_tick(rf_node *n)
{
    heartbeats(n);
    if (n->cfg.quiesce_after_ns == 0)
        return;
    if (n->all_dirty) {
        /* A peer hint touched every group: look at them all. */
        for (size_t i = 0; i < n->n_groups; i++)
            maybe_quiesce(n, &n->groups[i]);
        return;
    }
    /* A group may go quiet only once it is due (group_due): the groups
     * this tick looked at, in id order as a full scan would take them. */
    const uint64_t *ids = n->ticking.p;
    for (size_t i = 0; i < n->ticking.n; i++) {
        node_group *g = rf_node__group(n, ids[i]);
        if (g != NULL)
            maybe_quiesce(n, g);
    }
}

/* ---- ticking only the groups whose timers have work ---------------------------
 *
 * Ticking every member at every node tick costs O(groups hosted), and most
 * of them have nothing due: a follower waits an election timeout, a leader
 * a heartbeat interval. So each group has the node time at which a tick
 * next has work for it (group_due: its member's timers, the leaderless
 * watch, going quiet) in a timing wheel, and a tick looks only at the
 * groups due. It is the same as ticking them all, event for event:
 *  - a member not due would only have moved its clock: rf_node__clock
 *    ticks it to the node's time before any other input reaches it (once
 *    per node tick), so every input still runs at the last tick's time;
 *  - a due time moves only with an input or a tick, and every input marks
 *    its group dirty: the due times of dirty groups are refreshed in
 *    rf_node_advance and at the start of each tick, before the wheel is read;
 *  - a group whose batch left output behind (rf_raft_has_ready after
 *    rf_raft_advance) waits in n->carry for the next tick, where the full
 *    scan used to find it. */

/* The wheel: slot s (node time >> NODE_WHEEL_SHIFT) holds the entries due
 * in it, for the NODE_WHEEL_SLOTS slots from the cursor on; entries due
 * later wait in `far` until they come within reach. A tick takes every entry
 * due by its time; their order does not matter (the ticking list is sorted
 * by id), so the wheel gives the same ticks as any exact priority queue, at
 * a constant cost per entry instead of a heap's logarithmic one. */
static node_vec *wheel_slot(rf_node *n, uint64_t slot)
{
    return &n->due.slots[slot % NODE_WHEEL_SLOTS];
}

static void due_append(node_vec *v, uint64_t at, uint64_t id)
{
    bool ok = rf_node__vec_reserve(v, sizeof(node_due), 1);
    ASSERT(ok); /* a lost entry would stop the group's timers */
    node_due *d = (node_due *)v->p + v->n++;
    d->at = at;
    d->id = id;
}

static void due_push(rf_node *n, uint64_t at, uint64_t id)
{
    node_wheel *w = &n->due;
    if (w->slots == NULL) {
        w->slots = calloc(NODE_WHEEL_SLOTS, sizeof *w->slots);
        ASSERT(w->slots != NULL);
        w->far_min = UINT64_MAX;
    }
    if (w->next_ok && at < w->next)
        w->next = at;
    uint64_t slot = at >> NODE_WHEEL_SHIFT;
    if (slot < w->cursor)
        slot = w->cursor; /* due already: the next tick takes it */
    if (slot - w->cursor >= NODE_WHEEL_SLOTS) {
        due_append(&w->far, at, id);
        w->far_min = at < w->far_min ? at : w->far_min;
        return;
    }
    due_append(wheel_slot(n, slot), at, id);
    w->used[(slot % NODE_WHEEL_SLOTS) / 64] |= (uint64_t)1 << (slot % 64);
}

/* Takes g's entry out of the wheel. It sits in its time's slot, or in the
 * cursor's if it was due when pushed (the next tick takes those), or in
 * far; one not found there is left, stale (due_take skips it). */
static void due_cancel(rf_node *n, node_group *g)
{
    node_wheel *w = &n->due;
    if (g->due_at == 0 || w->slots == NULL)
        return;
    uint64_t at = g->due_at - 1, slot = at >> NODE_WHEEL_SHIFT;
    g->due_at = 0;
    if (slot < w->cursor)
        slot = w->cursor;
    node_vec *v = slot - w->cursor < NODE_WHEEL_SLOTS ? wheel_slot(n, slot) : &w->far;
    node_due *d = v->p;
    for (size_t i = 0; i < v->n; i++) {
        if (d[i].id != g->id || d[i].at != at)
            continue;
        d[i] = d[--v->n];
        if (v->n == 0 && v != &w->far)
            w->used[(slot % NODE_WHEEL_SLOTS) / 64] &= ~((uint64_t)1 << (slot % 64));
        return;
    }
}

/* Moves the entries of v due by now to the ticking list (if live), keeps
 * the others in place. */
static void due_take(rf_node *n, node_vec *v)
{
    node_due *d = v->p;
    size_t keep = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (d[i].at > n->now) {
            d[keep++] = d[i];
            continue;
        }
        node_group *g = rf_node__group(n, d[i].id);
        if (g == NULL || g->due_at != d[i].at + 1)
            continue; /* stale: the group left, or moved its time */
        g->due_at = 0;
        bool ok = rf_node__vec_reserve(&n->ticking, sizeof(uint64_t), 1);
        ASSERT(ok);
        ((uint64_t *)n->ticking.p)[n->ticking.n++] = d[i].id;
    }
    v->n = keep;
}

/* Every entry due by n->now goes to the ticking list. */
static void due_collect(rf_node *n)
{
    node_wheel *w = &n->due;
    if (w->slots == NULL)
        return;
    uint64_t now_slot = n->now >> NODE_WHEEL_SHIFT;
    ASSERT(now_slot >= w->cursor); /* node time never goes back */
    w->next_ok = false;
    uint64_t last = now_slot - w->cursor >= NODE_WHEEL_SLOTS ? w->cursor + NODE_WHEEL_SLOTS - 1
                                                             : now_slot;
    for (uint64_t s = w->cursor; s <= last; s++) {
        node_vec *v = wheel_slot(n, s);
        due_take(n, v);
        if (v->n == 0)
            w->used[(s % NODE_WHEEL_SLOTS) / 64] &= ~((uint64_t)1 << (s % 64));
    }
    w->cursor = now_slot;
    if (w->far.n == 0 || (w->far_min >> NODE_WHEEL_SHIFT) >= w->cursor + NODE_WHEEL_SLOTS)
        return;
    /* Some waiting entries came within reach (or are due). */
    due_take(n, &w->far);
    node_due *d = w->far.p;
    size_t keep = 0;
    w->far_min = UINT64_MAX;
    for (size_t i = 0; i < w->far.n; i++) {
        uint64_t slot = d[i].at >> NODE_WHEEL_SHIFT;
        if (slot - w->cursor < NODE_WHEEL_SLOTS) {
            due_append(wheel_slot(n, slot), d[i].at, d[i].id);
            w->used[(slot % NODE_WHEEL_SLOTS) / 64] |= (uint64_t)1 << (slot % 64);
            continue;
        }
        w->far_min = d[i].at < w->far_min ? d[i].at : w->far_min;
        d[keep++] = d[i];
    }
    w->far.n = keep;
}

/* The earliest time of any entry (stale ones included: a bound). The slots
 * hold their times in order, slot by slot; entries already due sit in the
 * cursor's. Recounted after a collection, kept up by due_push. */
static uint64_t wheel_next(rf_node *n)
{
    node_wheel *w = &n->due;
    if (w->slots == NULL)
        return UINT64_MAX;
    if (w->next_ok)
        return w->next;
    uint64_t next = w->far.n > 0 ? w->far_min : UINT64_MAX;
    /* The first slot in use from the cursor on, 64 slots per word. */
    for (uint64_t s = w->cursor; s < w->cursor + NODE_WHEEL_SLOTS;) {
        uint64_t word = w->used[(s % NODE_WHEEL_SLOTS) / 64] >> (s % 64);
        if (word == 0) {
            s += 64 - s % 64;
            continue;
        }
        s += (uint64_t)__builtin_ctzll(word);
        if (s >= w->cursor + NODE_WHEEL_SLOTS)
            break;
        const node_vec *v = wheel_slot(n, s);
        const node_due *d = v->p;
        for (size_t i = 0; i < v->n; i++)
            next = d[i].at < next ? d[i].at : next;
        break;
    }
    w->next = next;
    w->next_ok = true;
    return next;
}

void rf_node__due_free(rf_node *n)
{
    for (size_t i = 0; n->due.slots != NULL && i < NODE_WHEEL_SLOTS; i++)
        free(n->due.slots[i].p);
    free(n->due.slots);
    free(n->due.far.p);
    memset(&n->due, 0, sizeof n->due);
}

static uint64_t at_least(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* The node time of the next tick with work for g (UINT64_MAX: none). */
static uint64_t group_due(const rf_node *n, const node_group *g)
{
    /* rf_node__rebal_followups: a follow-up step, quiet or not (the scan
     * takes it, keeps it or drops it). */
    uint64_t follow = g->rebal_soon ? g->rebal_soon_at : UINT64_MAX;
    if (g->quiet)
        return follow;
    const rf_raft *r = g->raft;
    uint64_t due = rf_raft_tick_due_ns(r); /* group time */
    if (due != UINT64_MAX)
        due = due > UINT64_MAX - g->clock_offset ? UINT64_MAX : due + g->clock_offset;
    due = at_least(due, follow);
    /* rf_node__watch_leader: a reset pending, or a leaderless episode to time. */
    if (rf_raft_leader(r) != 0 || rf_raft_membership(r)->count == 0) {
        if (g->leaderless_since != 0 || g->leaderless_told)
            due = 0;
    } else if (g->leaderless_since == 0) {
        due = 0;
    } else if (!g->leaderless_told) {
        due = at_least(due, g->leaderless_since + 2 * n->cfg.raft.election_timeout_ns);
    }
    bool settled; /* maybe_quiesce */
    return at_least(due, quiesce_at(n, g, &settled));
}

void rf_node__due_update(rf_node *n, node_group *g)
{
    uint64_t due = group_due(n, g);
    if (due == UINT64_MAX || (g->due_at != 0 && due >= g->due_at - 1))
        return; /* an earlier entry is in the wheel: it looks again then */
    due_push(n, due, g->id);
    g->due_at = due + 1;
}

void rf_node__clock(rf_node *n, node_group *g)
{
    if (g->quiet || g->in_ready || g->ticked_at == n->now)
        return;
    uint64_t now = n->now - g->clock_offset;
    /* Work due: the next tick's (a member created since this tick). */
    if (rf_raft_tick_due_ns(g->raft) <= now)
        return;
    rf_raft_tick(g->raft, now); /* only moves its clock */
    g->ticked_at = n->now;
}

static int cmp_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void rf_node__sort_ids(uint64_t *ids, size_t n)
{
    if (n > 32) {
        qsort(ids, n, sizeof *ids, cmp_id);
        return;
    }
    /* Short lists (most batches and ticks): insertion sort, no calls. */
    for (size_t i = 1; i < n; i++) {
        uint64_t v = ids[i];
        size_t j = i;
        for (; j > 0 && ids[j - 1] > v; j--)
            ids[j] = ids[j - 1];
        ids[j] = v;
    }
}

uint64_t rf_node__groups_due(rf_node *n)
{
    if (n->all_dirty || n->carry.n > 0)
        return 0; /* every group to look at, or output left behind */
    const uint64_t *ids = n->dirty.p;
    for (size_t i = 0; i < n->dirty.n; i++) {
        node_group *g = rf_node__group(n, ids[i]);
        if (g != NULL)
            rf_node__due_update(n, g);
    }
    uint64_t due = wheel_next(n);
    if (rf_node_meta(n) != NULL) /* heartbeats(): the rounds, and the silent peers with them */
        due = at_least(due, n->next_hb);
    return due;
}

/* The groups this tick looks at: those due and those carried, in id order. */
static void collect_ticking(rf_node *n)
{
    if (n->all_dirty) {
        for (size_t i = 0; i < n->n_groups; i++)
            rf_node__due_update(n, &n->groups[i]);
    } else {
        const uint64_t *ids = n->dirty.p;
        for (size_t i = 0; i < n->dirty.n; i++) {
            node_group *g = rf_node__group(n, ids[i]);
            if (g != NULL)
                rf_node__due_update(n, g);
        }
    }
    n->ticking.n = 0;
    bool ok = rf_node__vec_reserve(&n->ticking, sizeof(uint64_t), n->carry.n);
    ASSERT(ok);
    if (n->carry.n > 0)
        memcpy(n->ticking.p, n->carry.p, n->carry.n * sizeof(uint64_t));
    n->ticking.n = n->carry.n;
    n->carry.n = 0;
    due_collect(n);
    uint64_t *ids = n->ticking.p;
    rf_node__sort_ids(ids, n->ticking.n);
    size_t k = 0;
    for (size_t i = 0; i < n->ticking.n; i++)
        if (k == 0 || ids[k - 1] != ids[i])
            ids[k++] = ids[i];
    n->ticking.n = k;
}

void rf_node__tick_groups(rf_node *n)
{
    collect_ticking(n);
    const uint64_t *ids = n->ticking.p;
    for (size_t i = 0; i < n->ticking.n; i++) {
        node_group *g = rf_node__group(n, ids[i]);
        if (g == NULL || g->quiet)
            continue;
        rf_raft_tick(g->raft, n->now - g->clock_offset);
        g->ticked_at = n->now;
        rf_node__watch_leader(n, g);
        rf_node__dirty(n, g); /* its due time moves; it may have output */
    }
}

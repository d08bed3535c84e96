/* node: rf_node's life cycle, shared outputs, time, durability and local views (the table of
 * hosted groups: node_groups.c). */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "fleet/node_int.h"

void rf_node_config_defaults(rf_node_config *cfg)
{
    static const rf_model *const builtin[] = {&rf_model_int, &rf_model_kv};
    memset(cfg, 0, sizeof *cfg);
    rf_raft_config_defaults(&cfg->raft);
    cfg->models = builtin;
    cfg->n_models = 2;
    cfg->meta_voters = 3;
    cfg->rebalance_interval_ns = 60ull * 1000 * 1000 * 1000;
    cfg->attempt_timeout_ns = 500ull * 1000 * 1000;
    cfg->retry_interval_ns = 1000ull * 1000 * 1000;
    cfg->retries_max = 3;
    cfg->purge_window_ns = 600ull * 1000 * 1000 * 1000;
    cfg->quiesce_after_ns = 10ull * 1000 * 1000 * 1000;
}

bool rf_node__vec_reserve(node_vec *v, size_t elem, size_t more)
{
    if (v->n + more <= v->cap)
        return true;
    size_t cap = v->cap == 0 ? 16 : v->cap;
    while (cap < v->n + more)
        cap *= 2;
    void *p = realloc(v->p, cap * elem);
    if (p == NULL)
        return false;
    v->p = p;
    v->cap = cap;
    return true;
}

void *rf_node__vec_insert(node_vec *v, size_t elem, size_t at)
{
    if (!rf_node__vec_reserve(v, elem, 1))
        return NULL;
    uint8_t *p = v->p;
    memmove(p + (at + 1) * elem, p + at * elem, (v->n - at) * elem);
    memset(p + at * elem, 0, elem);
    v->n++;
    return p + at * elem;
}

int rf_node__new(const rf_node_config *cfg, rf_node **out)
{
    if (cfg->node_id == 0 || cfg->node_id > RF_NODE_ID_MAX || cfg->n_models > RF_NODE_MODELS_MAX)
        return RF_EINVAL;
    if (cfg->meta_voters == 0 || cfg->meta_voters > RF_META_REPLICAS_MAX ||
        cfg->rebalance_interval_ns == 0 || cfg->attempt_timeout_ns == 0)
        return RF_EINVAL;
    if (cfg->quiesce_after_ns != 0 && cfg->quiesce_after_ns < cfg->raft.election_timeout_ns)
        return RF_EINVAL;
    if (cfg->name == NULL || rf_placement_check_name(cfg->name) != RF_OK)
        return RF_EBADNAME;
    rf_node *n = calloc(1, sizeof *n);
    if (n == NULL)
        return RF_ENOMEM;
    n->cfg = *cfg;
    for (uint32_t i = 0; i < cfg->n_models; i++)
        n->models[i] = cfg->models[i];
    n->cfg.models = n->models;
    n->cfg.name = n->name;
    if (cfg->quiesce_after_ns != 0) /* see node_quiet.c: no lease over a stopped clock */
        n->cfg.raft.lease_drift_ns = cfg->raft.election_timeout_ns;
    memcpy(n->name, cfg->name, strlen(cfg->name) + 1);
    n->scratch_entries = malloc(RF_MSG_ENTRIES_MAX * sizeof *n->scratch_entries);
    if (n->scratch_entries == NULL) {
        free(n);
        return RF_ENOMEM;
    }
    *out = n;
    return RF_OK;
}

int rf_node_create(const rf_node_config *cfg, rf_node **out)
{
    rf_node *n = NULL;
    int rc = rf_node__new(cfg, &n);
    if (rc == RF_OK && (rc = rf_node__journal_fresh(n)) != RF_OK) {
        rf_node_close(n);
        return rc;
    }
    if (rc == RF_OK)
        *out = n;
    return rc;
}

void rf_node_close(rf_node *n)
{
    if (n == NULL)
        return;
    ASSERT(!n->in_ready);
    for (size_t i = 0; i < n->n_groups; i++)
        rf_raft_close(n->groups[i].raft);
    node_pending *p = n->pending.p;
    for (size_t i = 0; i < n->pending.n; i++)
        rf_node__pending_free_copies(&p[i]);
    rf_node__frames_free(n);
    free(n->groups);
    free(n->hosted.p);
    free(n->tombs.p);
    free(n->pending.p);
    rf_node__session_free(n);
    free(n->cache.p);
    free(n->down.p);
    free(n->heard.p);
    free(n->dirty.p);
    free(n->readied.p);
    rf_node__due_free(n);
    free(n->carry.p);
    free(n->settling.p);
    free(n->ticking.p);
    free(n->replies.p);
    free(n->arena);
    free(n->obs.p);
    free(n->writes.p);
    free(n->applied.p);
    free(n->toks.p);
    free(n->env.p);
    free(n->rep.p);
    free(n->scratch_entries);
    free(n->jrec.p);
    free(n->jents.p);
    free(n->jsnap);
    free(n->drops.p);
    rf_node__push_free(n);
    free(n);
}

/* ---- outputs shared by the files ------------------------------------------ */

void rf_node__obs(rf_node *n, uint8_t kind, uint8_t reason, uint64_t group, uint64_t term,
                  uint64_t node)
{
    if (!rf_node__vec_reserve(&n->obs, sizeof(rf_node_obs), 1))
        return; /* observations are best effort under memory pressure */
    rf_node_obs *o = (rf_node_obs *)n->obs.p + n->obs.n++;
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->reason = reason;
    o->group_id = group;
    o->term = term;
    o->node_id = node;
}

void rf_node__reply(rf_node *n, uint64_t request_id, int status, const uint8_t *data,
                    size_t len)
{
    /* A reply must never be lost: growth failures are fatal here. */
    bool ok = rf_node__vec_reserve(&n->replies, sizeof(node_reply_rec), 1);
    ASSERT(ok);
    if (n->arena_len + len > n->arena_cap) {
        size_t cap = n->arena_cap == 0 ? 4096 : n->arena_cap;
        while (cap < n->arena_len + len)
            cap *= 2;
        uint8_t *a = realloc(n->arena, cap);
        ASSERT(a != NULL);
        n->arena = a;
        n->arena_cap = cap;
    }
    if (len > 0)
        memcpy(n->arena + n->arena_len, data, len);
    node_reply_rec *r = (node_reply_rec *)n->replies.p + n->replies.n++;
    r->request_id = request_id;
    r->status = status;
    r->off = n->arena_len;
    r->len = (uint32_t)len;
    n->arena_len += len;
}

/* ---- inputs ---------------------------------------------------------------- */

/* A member that knows no leader for two election timeouts (longer than
 * any election takes) reports it once: its group may have lost its
 * majority. Members not yet added (no configuration) stay silent. */
void rf_node__watch_leader(rf_node *n, node_group *g)
{
    if (rf_raft_leader(g->raft) != 0 || rf_raft_membership(g->raft)->count == 0) {
        g->leaderless_since = 0;
        g->leaderless_told = false;
        return;
    }
    if (g->leaderless_since == 0)
        g->leaderless_since = n->now;
    if (!g->leaderless_told &&
        n->now - g->leaderless_since >= 2 * n->cfg.raft.election_timeout_ns) {
        g->leaderless_told = true;
        rf_node__obs(n, RF_NODE_OBS_LEADERLESS, RF_NODE_REASON_NONE, g->id,
                     rf_raft_term(g->raft), 0);
    }
}

/* The first tick gives the node its time; until then its clock read 0.
 * A peer reported unreachable before it (a restored node told at once of
 * the peers it cannot reach), or last heard before it, would look silent
 * since time 0, and a metadata leader purges at once a node silent for
 * longer than the window (fuzz seed 81: live nodes cut off for 9 s purged
 * by a node restarted 14 s into the run). Their silence counts from here. */
static void clock_starts(rf_node *n)
{
    node_peer_down *d = n->down.p;
    for (size_t i = 0; i < n->down.n; i++)
        d[i].since = n->now;
    node_heard *h = n->heard.p;
    for (size_t i = 0; i < n->heard.n; i++)
        h[i].at = n->now;
    n->clock_known = true;
}

/* The node time of the next tick with work: a tick before it would do
 * nothing but move the clock. Each part mirrors what rf_node_tick runs;
 * any part may answer early (a stale entry of the due wheel), never late. */
static uint64_t tick_due(rf_node *n)
{
    if (!n->clock_known || n->evicted || !n->meta_synced || n->meta_dirty)
        return 0;
    uint64_t due = rf_node__groups_due(n), at = rf_node__pending_due(n);
    due = at < due ? at : due;
    at = rf_node__push_due(n);
    due = at < due ? at : due;
    return n->next_round < due ? n->next_round : due;
}

bool rf_node_tick(rf_node *n, uint64_t now)
{
    ASSERT(!n->in_ready);
    if (now > n->now)
        n->now = now;
    if (n->clock_known && !n->cfg.full_ticks && n->now < tick_due(n))
        return false; /* only the clock moved */
    if (!n->clock_known)
        clock_starts(n);
    rf_node__tick_groups(n); /* the groups whose timers have work (node_quiet.c) */
    rf_node__pending_tick(n);
    rf_node__quiet_tick(n);
    if (n->evicted)
        rf_node__evict(n);
    rf_node__push_tick(n);
    /* Nothing acts on a restored metadata view before it caught up. */
    rf_node__meta_sync_tick(n);
    if (!n->meta_synced)
        return true;
    if (n->meta_dirty) {
        n->meta_dirty = false;
        rf_node__meta_changed(n);
    }
    if (n->now >= n->next_round) {
        n->next_round = n->now + n->cfg.rebalance_interval_ns;
        rf_node__round(n);
    }
    rf_node__rebal_followups(n);
    return true;
}

void rf_node_rebalance_now(rf_node *n)
{
    ASSERT(!n->in_ready);
    if (n->meta_synced)
        rf_node__round(n);
}

void rf_node_persisted(rf_node *n, uint64_t token)
{
    ASSERT(!n->in_ready);
    node_tok *t = n->toks.p;
    size_t done = 0;
    while (done < n->toks.n && t[done].node_token <= token) {
        node_group *g = rf_node__group(n, t[done].group_id);
        if (g != NULL) {
            rf_node__clock(n, g);
            rf_raft_persisted(g->raft, t[done].raft_token);
            rf_node__dirty(n, g);
        }
        done++;
    }
    if (done > 0) {
        memmove(t, t + done, (n->toks.n - done) * sizeof *t);
        n->toks.n -= done;
    }
    rf_node__journal_persisted(n, token);
}

void rf_node_peer_unreachable(rf_node *n, uint64_t peer)
{
    ASSERT(!n->in_ready);
    node_peer_down *d = n->down.p;
    size_t at = 0;
    while (at < n->down.n && d[at].peer < peer)
        at++;
    if (at < n->down.n && d[at].peer == peer)
        return;
    node_peer_down *nd = rf_node__vec_insert(&n->down, sizeof *d, at);
    if (nd == NULL)
        return;
    nd->peer = peer;
    nd->since = n->now;
    rf_node__wake_led_by(n, peer);
    n->all_dirty = true;
    for (size_t i = 0; i < n->n_groups; i++) {
        node_group *g = &n->groups[i];
        /* A quiet leader that lost a follower looks again: without a
         * majority it must stay awake for check-quorum to step it down. */
        if (g->quiet && rf_raft_role(g->raft) == RF_ROLE_LEADER &&
            rf_membership_find(rf_raft_membership(g->raft), peer) != NULL)
            rf_node__wake(n, g);
        rf_node__clock(n, g);
        rf_raft_peer_unreachable(g->raft, peer);
    }
}

/* Backdates the unreachability of peer (known silent since then). */
void rf_node__down_since(rf_node *n, uint64_t peer, uint64_t since)
{
    node_peer_down *d = n->down.p;
    for (size_t i = 0; i < n->down.n; i++)
        if (d[i].peer == peer && since < d[i].since)
            d[i].since = since;
}

void rf_node_peer_reachable(rf_node *n, uint64_t peer)
{
    ASSERT(!n->in_ready);
    node_peer_down *d = n->down.p;
    for (size_t at = 0; at < n->down.n; at++) {
        if (d[at].peer != peer)
            continue;
        memmove(&d[at], &d[at + 1], (n->down.n - at - 1) * sizeof *d);
        n->down.n--;
        break;
    }
    n->all_dirty = true;
    for (size_t i = 0; i < n->n_groups; i++) {
        rf_node__clock(n, &n->groups[i]);
        rf_raft_peer_reachable(n->groups[i].raft, peer);
    }
}

/* ---- local views ------------------------------------------------------------ */

bool rf_node__peer_down(const rf_node *n, uint64_t peer)
{
    const node_peer_down *d = n->down.p;
    for (size_t i = 0; i < n->down.n; i++)
        if (d[i].peer == peer)
            return true;
    return false;
}

uint64_t rf_node_id(const rf_node *n)
{
    return n->cfg.node_id;
}

/* The node's replica; until it has caught up with the state that was
 * pushed to the node before it had one, that state (never an older view:
 * a new replica starts empty). */
const rf_meta *rf_node_meta(const rf_node *n)
{
    const rf_raft *r = rf_node__meta_raft(n);
    if (r != NULL && (n->meta_pushed == NULL || rf_raft_applied_index(r) >= n->meta_pushed_index))
        return rf_raft_model_state(r);
    return n->meta_pushed;
}

bool rf_node_is_active(const rf_node *n)
{
    const rf_meta *m = rf_node_meta(n);
    const rf_meta_node *me = m == NULL ? NULL : rf_meta_node_by_id(m, n->cfg.node_id);
    return me != NULL && me->state == RF_META_NODE_ACTIVE;
}

const rf_raft *rf_node_group(const rf_node *n, uint64_t group_id)
{
    node_group *g = rf_node__group((rf_node *)n, group_id);
    return g == NULL ? NULL : g->raft;
}

size_t rf_node_group_count(const rf_node *n)
{
    return n->n_groups;
}

const rf_raft *rf_node_group_at(const rf_node *n, size_t i)
{
    ASSERT(i < n->n_groups);
    return n->groups[i].raft;
}

size_t rf_node_hosted_ever_count(const rf_node *n)
{
    return n->hosted.n;
}

size_t rf_node_quiet_count(const rf_node *n)
{
    size_t q = 0;
    for (size_t i = 0; i < n->n_groups; i++)
        q += n->groups[i].quiet;
    return q;
}

uint64_t rf_node_whereis_leader(const rf_node *n, const char *group, uint64_t *term)
{
    const rf_meta *m = rf_node_meta(n);
    const rf_meta_group *g = m == NULL || group == NULL ? NULL : rf_meta_group_by_name(m, group);
    if (g == NULL)
        return 0;
    const rf_raft *r = rf_node_group(n, g->id);
    const node_cache *c = rf_node__cache_get(n, g->id);
    uint64_t leader = c == NULL ? 0 : c->leader, t = c == NULL ? 0 : c->term;
    if (r != NULL && rf_raft_leader(r) != 0 && rf_raft_term(r) >= t) {
        leader = rf_raft_leader(r);
        t = rf_raft_term(r);
    }
    if (term != NULL)
        *term = t;
    return leader;
}

int rf_node_status_get(const rf_node *n, const char *group, rf_node_status *out)
{
    memset(out, 0, sizeof *out);
    if (group == NULL || rf_placement_check_group(group) != RF_OK)
        return RF_EBADNAME;
    const rf_meta *m = rf_node_meta(n);
    const rf_meta_group *g = m == NULL ? NULL : rf_meta_group_by_name(m, group);
    if (g == NULL)
        return RF_ENOTFOUND;
    uint64_t ids[RF_META_REPLICAS_MAX];
    out->group_id = g->id;
    out->replicas = g->replicas;
    out->leader = rf_node_whereis_leader(n, group, &out->term);
    if (rf_meta_place(m, g->name, g->replicas, ids, RF_META_REPLICAS_MAX) == RF_OK)
        out->desired_leader = ids[0];
    const rf_raft *r = rf_node_group(n, g->id);
    if (r != NULL) {
        out->hosted = true;
        out->role = (uint8_t)rf_raft_role(r);
        out->commit_index = rf_raft_commit_index(r);
        out->applied_index = rf_raft_applied_index(r);
        out->membership = *rf_raft_membership(r);
    }
    return RF_OK;
}

size_t rf_node_leaderless(const rf_node *n, uint64_t *out, size_t cap)
{
    size_t count = 0;
    for (size_t i = 0; i < n->n_groups; i++) {
        if (rf_raft_leader(n->groups[i].raft) != 0)
            continue;
        if (count < cap)
            out[count] = n->groups[i].id;
        count++;
    }
    return count;
}

size_t rf_node_unreachable(const rf_node *n, uint64_t *peers, uint64_t *since, size_t cap)
{
    const node_peer_down *d = n->down.p;
    for (size_t i = 0; i < n->down.n && i < cap; i++) {
        peers[i] = d[i].peer;
        since[i] = d[i].since;
    }
    return n->down.n;
}

void rf_node_counters_get(const rf_node *n, rf_node_counters *out)
{
    *out = n->ctr;
}

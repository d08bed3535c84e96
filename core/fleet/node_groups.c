/* node_groups: rf_node's table of hosted groups: lookups, the groups ever hosted, starting and
 * stopping members, and the dirty list that batches read. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_lower.h"
#include "fleet/node_int.h"

/* ---- groups --------------------------------------------------------------- */

/* Batches look only at groups that had an input since the last one (a
 * tick or a peer hint touches them all), so a step costs O(groups it
 * concerns), not O(groups hosted). */
void rf_node__dirty(rf_node *n, node_group *g)
{
    if (g->dirty || n->all_dirty)
        return;
    if (!rf_node__vec_reserve(&n->dirty, sizeof(uint64_t), 1)) {
        n->all_dirty = true; /* correct, only slower */
        return;
    }
    ((uint64_t *)n->dirty.p)[n->dirty.n++] = g->id;
    g->dirty = true;
}

_Static_assert(offsetof(node_group, id) == 0, "rf_lower_u64 key");
static size_t group_lower(const rf_node *n, uint64_t id)
{
    return rf_lower_u64(n->groups, n->n_groups, sizeof *n->groups, id);
}

/* Lookups are the hottest path of a node with many groups: a small
 * direct-mapped memo of id -> position answers most of them in one probe.
 * It checks itself (the position must still hold the id), so inserts and
 * removals never need to update it. Ids the node never hosted (a harness
 * asking every node about a group) are mostly turned away by a bit map of
 * ids ever inserted, folded modulo its size, before the binary search. */
node_group *rf_node__group(rf_node *n, uint64_t id)
{
    uint32_t *hint = &n->group_hint[id % NODE_GROUP_HINTS];
    if (*hint < n->n_groups && n->groups[*hint].id == id)
        return &n->groups[*hint];
    uint64_t bit = id % NODE_GROUP_SEEN_BITS;
    if (!(n->group_seen[bit / 64] >> (bit % 64) & 1))
        return NULL;
    size_t at = group_lower(n, id);
    if (at < n->n_groups && n->groups[at].id == id) {
        *hint = (uint32_t)at;
        return &n->groups[at];
    }
    return NULL;
}

const rf_model *rf_node__model(const rf_node *n, const char *name)
{
    for (uint32_t i = 0; i < n->cfg.n_models; i++)
        if (strcmp(n->models[i]->name, name) == 0)
            return n->models[i];
    return NULL;
}

rf_raft *rf_node__meta_raft(const rf_node *n)
{
    return n->n_groups > 0 && n->groups[0].id == RF_META_GROUP_ID ? n->groups[0].raft : NULL;
}

bool rf_node__hosted_ever(const rf_node *n, uint64_t id)
{
    const uint64_t *h = n->hosted.p;
    size_t lo = 0, hi = n->hosted.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n->hosted.n && h[lo] == id;
}

bool rf_node__hosted_add(rf_node *n, uint64_t id)
{
    if (rf_node__hosted_ever(n, id))
        return true;
    if (!rf_node__vec_reserve(&n->hosted, sizeof(uint64_t), 1))
        return false;
    uint64_t *h = n->hosted.p;
    size_t at = n->hosted.n;
    while (at > 0 && h[at - 1] > id) {
        h[at] = h[at - 1];
        at--;
    }
    h[at] = id;
    n->hosted.n++;
    return true;
}

/* The configuration of this node's member of group id. Each incarnation
 * draws its own timeouts: a restarted member does not replay the last
 * life's random choices. */
void rf_node__raft_config(const rf_node *n, uint64_t id, const rf_model *model,
                          rf_raft_config *rc)
{
    *rc = n->cfg.raft;
    rc->group_id = id;
    rc->node_id = n->cfg.node_id;
    rc->model = model;
    /* Only the metadata's follower replicas are consulted, as each node's
     * view of the cluster: a user group's followers learn a commit with the next
     * append, heartbeat or quiet notice, one message fewer per follower
     * and commit. */
    rc->lazy_commit = id != RF_META_GROUP_ID;
    uint64_t life = n->incarnation > 1 ? (n->incarnation - 1) << 32 : 0;
    rf_pcg32_derive(&rc->rng, (n->cfg.seed ^ n->cfg.node_id) + life, "group", id);
}

/* Starts a member of group id: bootstrapped with this node as the only
 * voter, or empty, waiting to be added. Not between ready and advance. */
int rf_node__start_group(rf_node *n, uint64_t id, bool bootstrap, uint8_t reason)
{
    ASSERT(!n->in_ready);
    ASSERT(rf_node__group(n, id) == NULL);
    const rf_model *model = &rf_model_fleet_meta;
    if (id != RF_META_GROUP_ID) {
        const rf_meta *m = rf_node_meta(n);
        const rf_meta_group *g = m == NULL ? NULL : rf_meta_group_by_id(m, id);
        model = g == NULL ? NULL : rf_node__model(n, g->model);
        if (model == NULL)
            return RF_ENOMODEL;
    }
    if (n->n_groups >= RF_NODE_GROUPS_MAX)
        return RF_EFULL;
    rf_raft_config rc;
    rf_node__raft_config(n, id, model, &rc);
    rf_raft *r = NULL;
    int err;
    if (bootstrap) {
        rf_membership m;
        memset(&m, 0, sizeof m);
        m.count = 1;
        m.members[0].id = n->cfg.node_id;
        m.members[0].voter = 1;
        err = rf_raft_bootstrap(&rc, &m, &r);
    } else {
        err = rf_raft_create(&rc, &r);
        if (err == RF_OK) /* a member stopped here knew this term */
            rf_raft_resume_term(r, rf_node__tomb_term(n, id));
    }
    if (err != RF_OK)
        return err;
    if (!rf_node__hosted_add(n, id)) {
        rf_raft_close(r);
        return RF_ENOMEM;
    }
    err = rf_node__insert_group(n, id, r, model);
    if (err != RF_OK) {
        rf_raft_close(r);
        return err;
    }
    node_group *g = rf_node__group(n, id);
    /* A booted group grows as soon as it has elected itself. */
    g->rebal_soon = bootstrap;
    g->rebal_soon_at = n->now;
    n->rebal_any = n->rebal_any || bootstrap;
    rf_node__journal_started(n, id, model);
    n->ctr.groups_started++;
    rf_node__obs(n, RF_NODE_OBS_GROUP_STARTED, reason, id, 0, n->cfg.node_id);
    return RF_OK;
}

/* Adds member r of group id to the table (no journal record: the caller
 * writes one, or restores what one said). */
int rf_node__insert_group(rf_node *n, uint64_t id, rf_raft *r, const rf_model *model)
{
    if (n->n_groups >= RF_NODE_GROUPS_MAX)
        return RF_EFULL;
    if (n->n_groups == n->cap_groups) {
        size_t cap = n->cap_groups == 0 ? 16 : n->cap_groups * 2;
        node_group *p = realloc(n->groups, cap * sizeof *p);
        if (p == NULL)
            return RF_ENOMEM;
        n->groups = p;
        n->cap_groups = cap;
    }
    size_t at = group_lower(n, id);
    ASSERT(at == n->n_groups || n->groups[at].id != id);
    memmove(&n->groups[at + 1], &n->groups[at], (n->n_groups - at) * sizeof *n->groups);
    memset(&n->groups[at], 0, sizeof n->groups[at]);
    n->groups[at].id = id;
    n->groups[at].raft = r;
    n->groups[at].model = model;
    n->groups[at].last_active = n->now;
    n->n_groups++;
    uint64_t bit = id % NODE_GROUP_SEEN_BITS;
    n->group_seen[bit / 64] |= (uint64_t)1 << (bit % 64); /* never cleared */
    rf_node__dirty(n, &n->groups[at]);
    return RF_OK;
}

void rf_node__stop_group(rf_node *n, uint64_t id, uint8_t reason)
{
    ASSERT(!n->in_ready);
    size_t at = group_lower(n, id);
    if (at == n->n_groups || n->groups[at].id != id)
        return;
    uint64_t term = rf_raft_term(n->groups[at].raft);
    rf_node__tomb_set(n, id, term);
    rf_raft_close(n->groups[at].raft);
    memmove(&n->groups[at], &n->groups[at + 1], (n->n_groups - at - 1) * sizeof *n->groups);
    n->n_groups--;
    rf_node__journal_stopped(n, id, term);
    n->ctr.groups_stopped++;
    rf_node__obs(n, RF_NODE_OBS_GROUP_STOPPED, reason, id, 0, n->cfg.node_id);
}

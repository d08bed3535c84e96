/* sim/fleet_requests: the fleet harness's requests to its nodes (activate, groups, commands,
 * queries, waiting for replies) and its cluster-wide views (metadata, leaders, convergence). */
#include <string.h>

#include "base/rf_err.h"
#include "sim/fleet_int.h"

/* ---- requests ---------------------------------------------------------------------- */

/* A new harness request id for a live node, or 0. */
static uint64_t new_request(rf_sim_fleet *f, uint32_t index)
{
    if (index >= f->cfg.nodes || f->nodes[index].node == NULL ||
        f->n_requests >= f->cfg.requests_max)
        return 0;
    f->replies[f->n_requests].node = index;
    return ++f->n_requests;
}

uint64_t rf_sim_fleet_activate(rf_sim_fleet *f, uint32_t index, const char *zone, int via)
{
    uint64_t req = new_request(f, index);
    if (req == 0)
        return 0;
    (void)rf_node_activate(f->nodes[index].node, req, zone, via < 0 ? 0 : (uint64_t)via + 1);
    fleet_drain(f, index);
    return req;
}

uint64_t rf_sim_fleet_deactivate(rf_sim_fleet *f, uint32_t index)
{
    uint64_t req = new_request(f, index);
    if (req == 0)
        return 0;
    (void)rf_node_deactivate(f->nodes[index].node, req);
    fleet_drain(f, index);
    return req;
}

uint64_t rf_sim_fleet_add_group(rf_sim_fleet *f, uint32_t index, const char *name,
                                uint32_t replicas, const char *model)
{
    uint64_t req = new_request(f, index);
    if (req == 0)
        return 0;
    (void)rf_node_add_group(f->nodes[index].node, req, name, replicas, model);
    fleet_drain(f, index);
    return req;
}

uint64_t rf_sim_fleet_remove_group(rf_sim_fleet *f, uint32_t index, const char *name)
{
    uint64_t req = new_request(f, index);
    if (req == 0)
        return 0;
    (void)rf_node_remove_group(f->nodes[index].node, req, name);
    fleet_drain(f, index);
    return req;
}

static uint64_t user_op(rf_sim_fleet *f, uint32_t index, const char *group, const char *text,
                        bool query)
{
    uint64_t req = new_request(f, index);
    if (req == 0)
        return 0;
    size_t len = strlen(text);
    if (query)
        (void)rf_node_query(f->nodes[index].node, req, group, (const uint8_t *)text, len);
    else
        (void)rf_node_command(f->nodes[index].node, req, group, (const uint8_t *)text, len);
    fleet_drain(f, index);
    return req;
}

uint64_t rf_sim_fleet_command(rf_sim_fleet *f, uint32_t index, const char *group,
                              const char *text)
{
    return user_op(f, index, group, text, false);
}

uint64_t rf_sim_fleet_query(rf_sim_fleet *f, uint32_t index, const char *group,
                            const char *text)
{
    return user_op(f, index, group, text, true);
}

bool rf_sim_fleet_replied(const rf_sim_fleet *f, uint64_t req, int *status)
{
    if (req == 0 || req > f->n_requests || !f->replies[req - 1].done)
        return false;
    if (status != NULL)
        *status = f->replies[req - 1].status;
    return true;
}

void rf_sim_fleet_set_hooks(rf_sim_fleet *f, const rf_sim_fleet_hooks *hooks)
{
    if (hooks == NULL)
        memset(&f->hooks, 0, sizeof f->hooks);
    else
        f->hooks = *hooks;
}

void rf_sim_fleet_poke(rf_sim_fleet *f, uint32_t index, void (*fn)(rf_node *, void *),
                       void *ctx)
{
    if (index >= f->cfg.nodes || f->nodes[index].node == NULL)
        return;
    fn(f->nodes[index].node, ctx);
    fleet_drain(f, index);
}

bool rf_sim_fleet_wait(rf_sim_fleet *f, uint64_t req, uint64_t timeout_ns, int *status,
                       char *text)
{
    if (req == 0 || req > f->n_requests)
        return false;
    const fleet_reply *r = &f->replies[req - 1];
    uint64_t end = f->eng.now_ns + timeout_ns;
    while (!r->done && rf_sim_engine_step(&f->eng, end))
        ;
    if (!r->done)
        return false;
    if (status != NULL)
        *status = r->status;
    if (text != NULL)
        memcpy(text, r->text, sizeof r->text);
    return true;
}

/* ---- cluster-wide views -------------------------------------------------------------- */

const rf_meta *rf_sim_fleet_meta(const rf_sim_fleet *f)
{
    const rf_meta *best = NULL;
    uint64_t best_applied = 0;
    for (uint32_t i = 0; i < f->cfg.nodes; i++) {
        const rf_node *n = f->nodes[i].node;
        const rf_raft *r = n == NULL ? NULL : rf_node_group(n, RF_META_GROUP_ID);
        if (r != NULL && (best == NULL || rf_raft_applied_index(r) > best_applied)) {
            best = rf_raft_model_state(r);
            best_applied = rf_raft_applied_index(r);
        }
    }
    return best;
}

int rf_sim_fleet_leader(const rf_sim_fleet *f, uint64_t group_id)
{
    int best = -1;
    uint64_t term = 0;
    for (uint32_t i = 0; i < f->cfg.nodes; i++) {
        const rf_node *n = f->nodes[i].node;
        const rf_raft *r = n == NULL ? NULL : rf_node_group(n, group_id);
        if (r != NULL && rf_raft_role(r) == RF_ROLE_LEADER && rf_raft_term(r) >= term) {
            best = (int)i;
            term = rf_raft_term(r);
        }
    }
    return best;
}

static bool group_converged(const rf_sim_fleet *f, const rf_meta *m, const rf_meta_group *g)
{
    uint64_t ids[RF_META_REPLICAS_MAX];
    if (rf_meta_place(m, g->name, g->replicas, ids, RF_META_REPLICAS_MAX) != RF_OK)
        return false;
    int li = rf_sim_fleet_leader(f, g->id);
    if (li < 0 || (uint64_t)li + 1 != ids[0])
        return false;
    const rf_membership *mem = rf_raft_membership(rf_node_group(f->nodes[li].node, g->id));
    uint32_t want = 0;
    while (want < g->replicas && ids[want] != 0)
        want++;
    if (mem->count != want)
        return false;
    for (uint32_t i = 0; i < want; i++) {
        const rf_member *mm = rf_membership_find(mem, ids[i]);
        if (mm == NULL || !mm->voter)
            return false;
    }
    return true;
}

bool rf_sim_fleet_converged(const rf_sim_fleet *f)
{
    const rf_meta *m = rf_sim_fleet_meta(f);
    if (m == NULL || rf_sim_fleet_leader(f, RF_META_GROUP_ID) < 0)
        return false;
    for (size_t i = 0; i < rf_meta_group_count(m); i++)
        if (!group_converged(f, m, rf_meta_group_at(m, i)))
            return false;
    return true;
}

bool rf_sim_fleet_run_until_converged(rf_sim_fleet *f, uint64_t timeout_ns)
{
    uint64_t end = f->eng.now_ns + timeout_ns;
    const uint64_t step = 50u * 1000u * 1000u;
    while (!rf_sim_fleet_converged(f)) {
        if (f->eng.now_ns >= end)
            return false;
        uint64_t next = f->eng.now_ns + step < end ? f->eng.now_ns + step : end;
        rf_sim_engine_run_until(&f->eng, next);
    }
    return true;
}

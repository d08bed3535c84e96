/* sim/run_setup: building the fleet from the scenario tree, the setup at time 0 (nodes
 * activated, groups added), and the runner's own engine events (timeline, undo, clients,
 * monitor). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/fleet_check.h"
#include "sim/run_int.h"

#define MS (1000ull * 1000)
#define SEC (1000ull * MS)

/* ---- building ---------------------------------------------------------------------------- */

static int add_group(rf_sim_runner *r, const char *name, const rf_scn_group *g)
{
    if (run_group_by_name(r, name) >= 0)
        return RF_OK; /* added again on the timeline: same entry */
    if (r->n_groups == r->cap_groups) {
        uint32_t cap = r->cap_groups == 0 ? 16 : r->cap_groups * 2;
        run_group *n = realloc(r->groups, (size_t)cap * sizeof *n);
        if (n == NULL)
            return RF_ENOMEM;
        r->groups = n;
        r->cap_groups = cap;
    }
    run_group *gr = &r->groups[r->n_groups++];
    memset(gr, 0, sizeof *gr);
    snprintf(gr->name, sizeof gr->name, "%s", name);
    snprintf(gr->model, sizeof gr->model, "%s", g->model);
    gr->replicas = g->replicas;
    gr->leader = -1;
    gr->hist_ok = rf_history_init(&gr->hist, name) == RF_OK; /* names over 64 bytes: no history */
    return RF_OK;
}

int run_build_groups(rf_sim_runner *r)
{
    const rf_scenario *s = r->scn;
    char name[RF_SCN_GROUP_NAME_MAX + 1];
    int rc = RF_OK;
    for (uint32_t i = 0; i < s->group_count && rc == RF_OK; i++)
        for (uint32_t k = 0; k < rf_scn_pattern_count(&s->groups[i].names) && rc == RF_OK; k++) {
            rf_scn_pattern_name(&s->groups[i].names, k, name, sizeof name);
            rc = add_group(r, name, &s->groups[i]);
        }
    uint32_t initial = r->n_groups;
    for (uint32_t i = 0; i < s->event_count && rc == RF_OK; i++)
        if (s->events[i].kind == RF_SCN_EV_ADD_GROUP)
            rc = add_group(r, s->events[i].group.names.prefix, &s->events[i].group);
    for (uint32_t i = initial; i < r->n_groups; i++)
        r->groups[i].removed = true; /* not there until added */
    return rc;
}

static void on_timeline(void *ctx, rf_sim_engine *e, const rf_sim_event *ev);
static void on_undo(void *ctx, rf_sim_engine *e, const rf_sim_event *ev);
static void on_client(void *ctx, rf_sim_engine *e, const rf_sim_event *ev);
static void on_monitor(void *ctx, rf_sim_engine *e, const rf_sim_event *ev);

int run_build_fleet(rf_sim_runner *r)
{
    const rf_scenario *s = r->scn;
    rf_sim_fleet_config cfg;
    rf_sim_fleet_config_defaults(&cfg, s->node_count);
    rf_node_config defaults;
    rf_node_config_defaults(&defaults);
    cfg.seed = r->seed;
    /* Raft's timeout is drawn in [T, 2T): `election lo..hi` gives T = lo. */
    cfg.node.raft.heartbeat_interval_ns = s->heartbeat_ns;
    cfg.node.raft.election_timeout_ns = s->election.lo;
    cfg.node.raft.transfer_timeout_ns = s->election.lo;
    cfg.node.full_ticks = r->opts->full_ticks;
    cfg.node.rebalance_interval_ns = s->rebalance_ns;
    cfg.node.purge_window_ns = s->purge_ns;
    cfg.node.attempt_timeout_ns = defaults.attempt_timeout_ns;
    cfg.node.retry_interval_ns = defaults.retry_interval_ns;
    cfg.node.retries_max = defaults.retries_max;
    /* Idle groups go quiet after one election timeout, the least rf_node
     * allows (rf_node.h): with a client every few seconds per group, most
     * groups are quiet most of the time, and their heartbeats were most of
     * the traffic (scale-1000-groups: 5 election timeouts ran 3x the raft
     * messages of 1). */
    if (cfg.node.quiesce_after_ns < s->election.lo)
        cfg.node.quiesce_after_ns = s->election.lo;
    if (s->append_batch != 0) /* `replication batch N` */
        cfg.node.raft.append_entries_max = s->append_batch;
    /* `leases margin P%`: rf_node turns leases off while groups may go
     * quiet (a stopped clock would stretch a lease), so they never do. */
    if (s->lease_margin_ppm != 0) {
        cfg.node.quiesce_after_ns = 0;
        cfg.node.raft.lease_drift_ns = s->election.lo / 1000000u * s->lease_margin_ppm +
                                       s->election.lo % 1000000u * s->lease_margin_ppm / 1000000u;
    }
    cfg.node.models = r->models;
    cfg.node.n_models = r->n_models;
    cfg.net.latency_ns_base = s->net.latency_ns;
    cfg.net.latency_ns_jitter = s->net.jitter_ns;
    cfg.net.tail_ppm = s->net.tail_ppm;
    cfg.net.tail_ns_max = s->net.tail_ns;
    cfg.net.loss_ppm = s->net.loss_ppm;
    cfg.net.dup_ppm = s->net.dup_ppm;
    cfg.net.reorder_ppm = s->net.reorder_ppm;
    cfg.disk_ns = (s->disk_latency.lo + s->disk_latency.hi) / 2; /* fixed: the harness draws none */
    cfg.tick_ns = s->heartbeat_ns / 4 < 10 * MS ? (s->heartbeat_ns / 4 > 0 ? s->heartbeat_ns / 4 : 1)
                                                : 10 * MS;
    double ops = rf_scenario_ops_per_s(s) * ((double)s->run_ns / 1e9) * 1.25;
    uint64_t req = (uint64_t)ops + 4096 + 2ull * s->event_count + 2ull * r->n_groups + s->node_count;
    cfg.requests_max = req > RUN_REQUESTS_MAX ? RUN_REQUESTS_MAX : (uint32_t)req;
    cfg.events_max = 1u << 22;
    /* One node batch holds every hosted group's writes of a step: with many
     * groups it outgrows the harness's 1 MiB segments (scale-1000-groups
     * wrote a 1.1 MB one after a heal), and a store refuses a commit larger
     * than a segment. 8 KiB of segment per group keeps a margin. */
    uint64_t seg = (uint64_t)r->n_groups * 8192u;
    cfg.segment_bytes = seg > RF_SIM_FLEET_SEGMENT_BYTES ? seg : 0;
    /* sim/check's Raft invariants on every group after every batch. */
    cfg.check_safety = r->n_groups + 1 <= RF_SIM_FLEET_CHECK_GROUPS_MAX;
    r->checking = cfg.check_safety;
    r->requests_max = cfg.requests_max;
    r->req_map = malloc((size_t)r->requests_max * sizeof *r->req_map);
    if (r->req_map == NULL)
        return RF_ENOMEM;
    memset(r->req_map, 0xff, (size_t)r->requests_max * sizeof *r->req_map); /* RUN_NO_REQ */
    int rc = rf_sim_fleet_create(&cfg, &r->fleet);
    if (rc != RF_OK)
        return rc;
    r->eng = rf_sim_fleet_engine(r->fleet);
    r->net_base = rf_sim_fleet_net(r->fleet)->cfg;
    r->n_nodes = s->node_count;
    for (uint32_t i = 0; i < r->n_nodes; i++) {
        r->nodes[i].up = true;
        rc = rf_sim_net_set_zone_name(rf_sim_fleet_net(r->fleet), i, s->zones[s->nodes[i].zone]);
        if (rc != RF_OK)
            return rc;
    }
    rf_sim_fleet_hooks h = {.ctx = r, .reply = run_on_reply, .obs = run_on_obs,
                            .applied = run_on_applied, .down = run_on_down,
                            .groups = run_on_groups};
    rf_sim_fleet_set_hooks(r->fleet, &h);
    rf_sim_engine_on(r->eng, RK_TIMELINE, on_timeline, NULL, r);
    rf_sim_engine_on(r->eng, RK_UNDO, on_undo, NULL, r);
    rf_sim_engine_on(r->eng, RK_CLIENT, on_client, NULL, r);
    rf_sim_engine_on(r->eng, RK_MONITOR, on_monitor, NULL, r);
    return RF_OK;
}

/* Group ids come from the metadata once an add is committed. */
static void learn_group_ids(rf_sim_runner *r)
{
    const rf_meta *m = NULL;
    for (uint32_t i = 0; i < r->n_groups; i++) {
        run_group *g = &r->groups[i];
        int st;
        if (g->id != 0 || g->add_req == 0 || !rf_sim_fleet_replied(r->fleet, g->add_req, &st))
            continue;
        g->add_req = 0;
        if (st != RF_OK) {
            run_log(r, "add group %s: %s", g->name, run_err_label(st));
            continue;
        }
        if (m == NULL)
            m = rf_sim_fleet_meta(r->fleet);
        const rf_meta_group *mg = m == NULL ? NULL : rf_meta_group_by_name(m, g->name);
        if (mg == NULL)
            continue;
        g->id = mg->id;
        if (r->rec != NULL)
            (void)rf_rec_group(r->rec, (int64_t)g->id, g->name, g->replicas, g->model,
                               rf_sim_fleet_now(r->fleet));
    }
}

/* The declared groups, added from the first active node all at once. As a
 * RaftFleet client would, an add that finds no leader (the metadata is
 * still electing or moving its leader) is retried until the setup's
 * deadline; one that was applied after all replies already_added. */
static int setup_groups(rf_sim_runner *r)
{
    uint64_t end = rf_sim_fleet_now(r->fleet) + RUN_SETUP_NS_MAX;
    uint32_t left = 0;
    bool *done = calloc(r->n_groups + 1, sizeof *done);
    if (done == NULL)
        return RF_ENOMEM;
    for (uint32_t i = 0; i < r->n_groups; i++)
        left += !r->groups[i].removed;
    int st = RF_ETIMEDOUT;
    const char *failed = NULL;
    while (left > 0 && failed == NULL && rf_sim_fleet_now(r->fleet) < end) {
        int32_t via = run_via(r, UINT32_MAX);
        for (uint32_t i = 0; i < r->n_groups && via >= 0; i++)
            if (!r->groups[i].removed && !done[i])
                r->groups[i].add_req = rf_sim_fleet_add_group(
                    r->fleet, (uint32_t)via, r->groups[i].name, r->groups[i].replicas,
                    r->groups[i].model);
        for (uint32_t i = 0; i < r->n_groups && failed == NULL; i++) {
            run_group *g = &r->groups[i];
            uint64_t now = rf_sim_fleet_now(r->fleet);
            if (g->removed || done[i])
                continue;
            st = RF_ETIMEDOUT;
            if (g->add_req != 0)
                (void)rf_sim_fleet_wait(r->fleet, g->add_req, end > now ? end - now : 0, &st, NULL);
            if (st == RF_OK || st == RF_EALREADYADDED) {
                done[i] = true;
                left--;
                if (st == RF_EALREADYADDED)
                    g->add_req = 0;
            } else if (st != RF_ENOLEADER && st != RF_ETIMEDOUT) {
                failed = g->name;
            }
        }
        if (left > 0 && failed == NULL)
            rf_sim_fleet_run_until(r->fleet, rf_sim_fleet_now(r->fleet) + 100 * MS);
    }
    for (uint32_t i = 0; i < r->n_groups && failed == NULL && left > 0; i++)
        if (!r->groups[i].removed && !done[i])
            failed = r->groups[i].name;
    free(done);
    if (failed != NULL) {
        run_fail(r, "setup: adding group %s failed: %s", failed, run_err_label(st));
        return RF_ECHECK;
    }
    /* Ids of groups whose add replied already_added are read now. */
    const rf_meta *m = rf_sim_fleet_meta(r->fleet);
    for (uint32_t i = 0; i < r->n_groups && m != NULL; i++) {
        const rf_meta_group *mg = rf_meta_group_by_name(m, r->groups[i].name);
        if (!r->groups[i].removed && r->groups[i].add_req == 0 && r->groups[i].id == 0 && mg != NULL) {
            r->groups[i].id = mg->id;
            if (r->rec != NULL)
                (void)rf_rec_group(r->rec, (int64_t)mg->id, r->groups[i].name, r->groups[i].replicas,
                                   r->groups[i].model, rf_sim_fleet_now(r->fleet));
        }
    }
    return RF_OK;
}

/* Time 0: the declared nodes are activated in file order (the first one
 * bootstraps the cluster), then the declared groups are added. */
int run_setup(rf_sim_runner *r)
{
    const rf_scenario *s = r->scn;
    for (uint32_t i = 0; i < s->node_count; i++) {
        if (s->nodes[i].inactive || s->nodes[i].added)
            continue;
        int st = RF_ETIMEDOUT;
        uint64_t req = rf_sim_fleet_activate(r->fleet, i, s->zones[s->nodes[i].zone], run_via(r, i));
        if (!rf_sim_fleet_wait(r->fleet, req, RUN_SETUP_NS_MAX, &st, NULL) || st != RF_OK) {
            run_fail(r, "setup: activating %s failed: %s", s->nodes[i].name, run_err_label(st));
            return RF_ECHECK;
        }
        r->nodes[i].active = true;
        if (r->rec != NULL)
            (void)rf_rec_node_event(r->rec, rf_sim_fleet_now(r->fleet), (int64_t)i + 1,
                                    RF_REC_NODE_ACTIVATE, -1, "start", NULL);
    }
    int rc = setup_groups(r);
    if (rc != RF_OK)
        return rc;
    learn_group_ids(r);
    r->setup_end_ns = rf_sim_fleet_now(r->fleet);
    run_log(r, "setup done: %u nodes active, %u groups", s->node_count, r->n_groups);
    return RF_OK;
}

/* ---- the runner's engine events ------------------------------------------------------------ */

static void on_timeline(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    (void)e;
    run_timeline_fire(ctx, (uint32_t)ev->arg);
}

static void on_undo(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    (void)e;
    run_timeline_undo(ctx, (uint32_t)ev->arg);
}

static void on_client(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    (void)e;
    run_client_fire(ctx, (uint32_t)ev->arg);
}

static void on_monitor(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    rf_sim_runner *r = ctx;
    (void)ev;
    learn_group_ids(r);
    run_monitor(r);
    int rc = rf_sim_engine_after(e, r->monitor_ns, RK_MONITOR, 0, 0, NULL);
    ASSERT(rc == RF_OK);
}

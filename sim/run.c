/* sim/run: the scenario runner: builds the cluster, plays the timeline in virtual time, judges and records the run. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/fleet_check.h"
#include "sim/history_jsonl.h"
#include "sim/run_int.h"

#define MS (1000ull * 1000)
#define SEC (1000ull * MS)

uint64_t run_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

void run_log(rf_sim_runner *r, const char *fmt, ...)
{
    if (r->opts->log == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(r->opts->log, "[%12.6fs] ", (double)rf_sim_fleet_now(r->fleet) / 1e9);
    vfprintf(r->opts->log, fmt, ap);
    fputc('\n', r->opts->log);
    va_end(ap);
}

/* A check failed: the first failure is the run's violation. */
void run_fail(rf_sim_runner *r, const char *fmt, ...)
{
    char buf[RF_SIM_RUN_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    run_log(r, "FAIL %s", buf);
    if (r->failed)
        return;
    r->failed = true;
    r->res->violation_ns = rf_sim_fleet_now(r->fleet);
    memcpy(r->res->violation, buf, sizeof buf);
}

bool run_group_matches(const rf_scn_pattern *p, const char *name)
{
    if (!p->is_range)
        return strcmp(p->prefix, name) == 0;
    size_t np = strlen(p->prefix), ns = strlen(p->suffix), n = strlen(name);
    if (n <= np + ns || strncmp(name, p->prefix, np) != 0 || strcmp(name + n - ns, p->suffix) != 0)
        return false;
    const char *d = name + np;
    size_t len = n - np - ns;
    if (len > 9 || (d[0] == '0' && len > 1))
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (d[i] < '0' || d[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(d[i] - '0');
    }
    return v >= p->lo && v <= p->hi;
}

int run_group_by_name(const rf_sim_runner *r, const char *name)
{
    for (uint32_t i = 0; i < r->n_groups; i++)
        if (strcmp(r->groups[i].name, name) == 0)
            return (int)i;
    return -1;
}

const rf_model *run_model(const rf_sim_runner *r, const char *name)
{
    for (uint32_t i = 0; i < r->n_models; i++)
        if (strcmp(r->models[i]->name, name) == 0)
            return r->models[i];
    return NULL;
}

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

static int build_groups(rf_sim_runner *r)
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

static int build_fleet(rf_sim_runner *r)
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
static int setup(rf_sim_runner *r)
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
    run_log(r, "setup done: %u nodes active, %u groups", s->node_count, r->n_groups);
    return RF_OK;
}

/* ---- the loop ------------------------------------------------------------------------------ */

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

const char *rf_sim_run_kind_name(uint32_t kind)
{
    switch (kind) {
    case 32: return "deliver";
    case 33: return "tick";
    case 34: return "disk";
    case RK_TIMELINE: return "timeline";
    case RK_UNDO: return "fault-end";
    case RK_CLIENT: return "client";
    case RK_MONITOR: return "monitor";
    default: return "event";
    }
}

void run_status_line(rf_sim_runner *r, bool last)
{
    uint64_t wall = run_wall_ns();
    if (!last && wall - r->status_wall_ns < 200 * MS)
        return;
    uint32_t led = 0, groups = 0, faults = 0;
    for (uint32_t i = 0; i < r->n_groups; i++)
        if (!r->groups[i].removed) {
            groups++;
            led += r->groups[i].leader >= 0;
        }
    for (uint32_t i = 0; i < r->n_insts; i++)
        faults += r->insts[i].active;
    for (uint32_t i = 0; i < r->n_nodes; i++)
        faults += !r->nodes[i].up && !r->nodes[i].removed;
    double dt = (double)(wall - r->status_wall_ns) / 1e9;
    double rate = dt > 0 ? (double)(r->eng->events_run - r->status_events) / dt : 0;
    fprintf(r->opts->status, "\r%10.3fs simulated  %9.0f events/s  groups with a leader %u/%u  "
                             "faults active %u \033[K%s",
            (double)rf_sim_fleet_now(r->fleet) / 1e9, rate, led, groups, faults, last ? "\n" : "");
    fflush(r->opts->status);
    r->status_wall_ns = wall;
    r->status_events = r->eng->events_run;
}

static void trail_step(rf_sim_runner *r, const rf_sim_event *ev)
{
    rf_sim_run_step st = {.time_ns = ev->time_ns, .hash = r->eng->trace.h, .kind = ev->kind,
                          .node = ev->node};
    rf_sim_run_trail *t = r->opts->trail;
    /* Indexed by the loop's events: the setup's waits run before it, and
     * their effect is in the cumulative hash of the first step. */
    uint64_t n = r->loop_events++;
    if (t != NULL) {
        if (t->len < t->steps_max)
            t->steps[t->len++] = st;
        t->events++;
    }
    const rf_sim_run_trail *c = r->opts->compare;
    if (c != NULL && !r->res->diverged && n < c->len &&
        memcmp(&c->steps[n], &st, sizeof st) != 0) {
        r->res->diverged = true;
        r->res->diverged_event = r->eng->events_run;
        r->res->diverged_step = st;
        r->res->expected_step = c->steps[n];
        r->stop_now = true;
    }
}

static void safety_verdict(rf_sim_runner *r)
{
    const char *text = NULL;
    if (r->checking && !r->safety_failed && rf_sim_fleet_violations(r->fleet, NULL) > 0) {
        (void)rf_sim_fleet_violations(r->fleet, &text);
        run_fail(r, "safety: %s", text != NULL ? text : "a Raft invariant broke");
        r->safety_failed = true;
        r->stop_now = true;
    }
    if (rf_sim_fleet_failures(r->fleet, NULL) > 0) {
        (void)rf_sim_fleet_failures(r->fleet, &text);
        run_fail(r, "durability: %s", text);
        r->safety_failed = true;
        r->stop_now = true;
    }
}

static void run_loop(rf_sim_runner *r)
{
    const uint64_t end = r->scn->run_ns;
    while (!r->stop_now) {
        const rf_sim_event *top = rf_sim_evq_peek(&r->eng->q);
        if (top == NULL || top->time_ns > end)
            break;
        rf_sim_event ev = *top;
        if (!rf_sim_engine_step(r->eng, end))
            break;
        safety_verdict(r); /* O(1): the counts are kept up to date */
        if (r->opts->trail != NULL || r->opts->compare != NULL) {
            /* The trace after the event includes the event itself. */
            trail_step(r, &ev);
        }
        if (r->opts->status != NULL && (r->eng->events_run & 0x3fff) == 0)
            run_status_line(r, false);
    }
    if (!r->stop_now)
        rf_sim_engine_run_until(r->eng, end);
    /* After each batch the checkers look at the groups with output; at the
     * end they go over every member once. */
    if (!r->stop_now && r->checking) {
        rf_sim_fleet_sweep(r->fleet);
        safety_verdict(r);
    }
}

static int schedule_all(rf_sim_runner *r)
{
    uint64_t now = rf_sim_fleet_now(r->fleet);
    int rc = run_timeline_plan(r);
    for (uint32_t i = 0; i < r->n_insts && rc == RF_OK; i++)
        rc = rf_sim_engine_at(r->eng, r->insts[i].at_ns > now ? r->insts[i].at_ns : now,
                              RK_TIMELINE, 0, i, NULL);
    if (rc == RF_OK)
        rc = run_clients_plan(r);
    uint64_t gn = (uint64_t)r->n_groups * r->n_nodes;
    r->monitor_ns = gn <= 2000 ? RUN_MONITOR_NS_MIN : gn <= 20000 ? 10 * RUN_MONITOR_NS_MIN
                                                                  : 100 * RUN_MONITOR_NS_MIN;
    if (rc == RF_OK)
        rc = rf_sim_engine_after(r->eng, 0, RK_MONITOR, 0, 0, NULL);
    return rc;
}

/* ---- a run ---------------------------------------------------------------------------------- */

static int load(rf_sim_runner *r)
{
    rf_scn_error err;
    int rc = rf_scenario_load(r->path, &r->scn, &err);
    if (rc != RF_OK) {
        snprintf(r->res->error, sizeof r->res->error, "%s", err.text);
        return rc;
    }
    /* The text again, for positions of what the runner refuses. */
    FILE *f = fopen(r->path, "rb");
    if (f == NULL)
        return RF_EIO;
    r->text = malloc(RF_SCN_FILE_BYTES_MAX + 1);
    if (r->text != NULL)
        r->text_len = fread(r->text, 1, RF_SCN_FILE_BYTES_MAX, f);
    fclose(f);
    return r->text == NULL ? RF_ENOMEM : RF_OK;
}

static int open_models(rf_sim_runner *r)
{
    r->models[r->n_models++] = &rf_model_int;
    r->models[r->n_models++] = &rf_model_kv;
    for (uint32_t i = 0; i < r->opts->n_models && i < RF_SIM_RUN_MODELS_MAX; i++) {
        if (run_model(r, r->opts->models[i]->name) != NULL) {
            snprintf(r->res->error, sizeof r->res->error,
                     "model %s is defined twice (built in or loaded twice)",
                     r->opts->models[i]->name);
            return RF_EEXIST;
        }
        r->models[r->n_models++] = r->opts->models[i];
    }
    return RF_OK;
}

static int open_record(rf_sim_runner *r)
{
    char err[512];
    int rc = rf_rec_open(&r->rec, r->opts->db_path, err, sizeof err);
    if (rc != RF_OK) {
        snprintf(r->res->error, sizeof r->res->error, "%s", err);
        return rc;
    }
    rf_rec_run_info info = {.kind = "run", .scenario = r->path, .seed = r->seed,
                            .build = r->opts->build};
    rc = rf_rec_run_begin(r->rec, &info, &r->res->run_id);
    for (uint32_t i = 0; i < r->scn->node_count && rc == RF_OK; i++)
        rc = rf_rec_node(r->rec, (int64_t)i + 1, r->scn->nodes[i].name,
                         r->scn->zones[r->scn->nodes[i].zone]);
    if (rc != RF_OK)
        snprintf(r->res->error, sizeof r->res->error, "%s: cannot record the run: %s",
                 r->opts->db_path, rf_rec_errmsg(r->rec));
    return rc;
}

static void runner_close(rf_sim_runner *r)
{
    rf_rec_close(r->rec);
    rf_sim_fleet_close(r->fleet);
    for (uint32_t i = 0; i < r->n_groups; i++)
        rf_history_close(&r->groups[i].hist);
    free(r->groups);
    free(r->insts);
    free(r->clients);
    free(r->pending);
    free(r->req_map);
    rf_sim_u64map_close(&r->leaders);
    rf_sim_u64map_close(&r->group_index);
    rf_sim_u64map_close(&r->applied);
    rf_scenario_free(r->scn);
    free(r->text);
}

int rf_sim_run(const rf_sim_run_opts *opts, rf_sim_run_result *res)
{
    rf_sim_runner r;
    memset(&r, 0, sizeof r);
    memset(res, 0, sizeof *res);
    r.opts = opts;
    r.res = res;
    r.path = opts->scenario_path;
    r.issuing = RUN_NO_REQ;
    r.last_node_event = RF_REC_NONE;
    r.last_moves_min = -1;
    r.wall_start_ns = r.status_wall_ns = run_wall_ns();
    res->exit_code = RF_SIM_RUN_EXIT_USAGE;
    int rc = load(&r);
    if (rc == RF_OK) {
        r.seed = opts->has_seed ? opts->seed : r.scn->seed;
        res->seed = r.seed;
        rc = open_models(&r);
    }
    if (rc == RF_OK)
        rc = run_check_support(&r);
    if (rc == RF_OK && opts->report_dir != NULL && opts->db_path == NULL) {
        snprintf(res->error, sizeof res->error, "--report needs a history database (--db)");
        rc = RF_EINVAL;
    }
    if (rc == RF_OK)
        rc = rf_sim_u64map_init(&r.leaders, 1u << 24);
    if (rc == RF_OK)
        rc = rf_sim_u64map_init(&r.applied, RUN_APPLIED_MAX);
    if (rc == RF_OK)
        rc = rf_sim_u64map_init(&r.group_index, RF_SCN_GROUPS_MAX);
    if (rc == RF_OK)
        rc = build_groups(&r);
    if (rc == RF_OK && (rc = build_fleet(&r)) != RF_OK)
        snprintf(res->error, sizeof res->error, "%s: cannot build the cluster: %s", r.path,
                 rf_strerror(rc));
    if (rc == RF_OK && opts->db_path != NULL)
        rc = open_record(&r);
    if (rc != RF_OK) {
        if (res->error[0] == '\0')
            snprintf(res->error, sizeof res->error, "%s: %s", r.path, rf_strerror(rc));
        runner_close(&r);
        return rc == RF_ENOMEM ? RF_ENOMEM : RF_OK;
    }
    res->exit_code = RF_SIM_RUN_EXIT_OK;
    if (setup(&r) == RF_OK) {
        run_rec_snapshot(&r, "start");
        rc = schedule_all(&r);
        if (rc != RF_OK)
            run_fail(&r, "cannot schedule the run: %s", rf_strerror(rc));
        run_expect_init(&r);
        if (rc == RF_OK)
            run_loop(&r);
    }
    rc = run_finish(&r);
    runner_close(&r);
    return rc;
}

void rf_sim_run_trail_init(rf_sim_run_trail *t, uint64_t steps_max)
{
    memset(t, 0, sizeof *t);
    t->steps = steps_max == 0 ? NULL : malloc((size_t)steps_max * sizeof *t->steps);
    t->steps_max = t->steps == NULL ? 0 : steps_max;
}

void rf_sim_run_trail_close(rf_sim_run_trail *t)
{
    free(t->steps);
    memset(t, 0, sizeof *t);
}

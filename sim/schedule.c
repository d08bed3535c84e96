/* sim/schedule: draws a fault schedule from the seed's "faults" stream and runs it on the cluster harness. */
#include "sim/schedule.h"

#include <inttypes.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/history.h"
#include "sim/history_jsonl.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

/* Event kinds of the schedule (32 and up, see sim/engine.h). */
enum { K_ACTION = 32, K_PHASE = 33 };

typedef enum action {
    A_PARTITION, A_ONEWAY, A_ISOLATE, A_ZONE, A_FLAP, A_CLOG, A_CRASH, A_PAUSE, A_DRIFT,
    A_NETCFG, A_ADD, A_PROMOTE, A_REMOVE, A_TRANSFER,
    A_COUNT,
    /* follow-ups scheduled by the actions above */
    A_HEAL_CUT, A_RESTART, A_RESUME,
} action;

enum phase { P_HEAL = 1, P_DRAIN, P_CHECK };

/* Clients stop issuing 3 s after the heal; an op gives up 3 s after its
 * call at the first retry decision after that (timeout 300 ms), so by 7 s
 * nothing may be pending. */
#define CHECK_AFTER_HEAL_NS (7 * SEC)

typedef struct sched {
    rf_sim_cluster *c;
    rf_sim_engine *e;
    rf_pcg32 rng; /* the "faults" stream */
    uint32_t nodes;
    uint64_t heal_ns;
    bool healed;
    uint32_t faults;
    rf_sim_linz linz;
} sched;

static uint64_t draw(sched *s, uint64_t lo, uint64_t hi)
{
    uint64_t v = rf_pcg32_range64(&s->rng, lo, hi);
    rf_sim_trace_u64(&s->e->trace, v);
    return v;
}

static void later(sched *s, uint64_t delay, action a, uint32_t node)
{
    if (s->e->now_ns + delay >= s->heal_ns)
        return; /* the heal at the end of the fault phase undoes it anyway */
    if (rf_sim_engine_after(s->e, delay, K_ACTION, node, a, NULL) != RF_OK)
        rf_sim_cluster_fail(s->c, RF_SIM_V_HARNESS, "event queue full");
}

/* A non-empty proper subset of the nodes. */
static rf_sim_nodeset random_side(sched *s)
{
    rf_sim_nodeset all = ((rf_sim_nodeset)1 << s->nodes) - 1;
    return draw(s, 1, all - 1);
}

/* A random node that, in the leader's configuration, is no member
 * (want_voter -1), a learner (0) or a voter (1); UINT32_MAX when there is
 * none or no leader. */
static uint32_t member_with(const rf_sim_cluster *c, sched *s, int want_voter)
{
    int l = rf_sim_cluster_leader(c);
    const rf_membership *m = l >= 0 ? rf_raft_membership(rf_sim_cluster_raft(c, (uint32_t)l)) : NULL;
    uint32_t picks[RF_SIM_NODES_MAX], n = 0;
    for (uint32_t i = 0; i < s->nodes; i++) {
        const rf_member *mb = m != NULL ? rf_membership_find(m, i + 1) : NULL;
        bool ok = want_voter < 0 ? mb == NULL : (mb != NULL && mb->voter == (uint8_t)want_voter);
        if (ok)
            picks[n++] = i;
    }
    return n == 0 ? UINT32_MAX : picks[draw(s, 0, n - 1)];
}

static void admin(sched *s, rf_sim_admin what, int want)
{
    uint32_t node = member_with(s->c, s, want);
    if (node != UINT32_MAX)
        (void)rf_sim_cluster_admin(s->c, what, node);
}

static void net_action(sched *s, action a, rf_sim_net *net)
{
    uint64_t hold = draw(s, 200 * MS, 1500 * MS); /* a partition lasts at least this */
    rf_sim_nodeset side = random_side(s);
    rf_sim_nodeset all = rf_sim_net_all(net);
    uint32_t node = (uint32_t)draw(s, 0, s->nodes - 1);
    uint32_t cut = RF_SIM_CUT_NONE;
    switch (a) {
    case A_PARTITION: cut = rf_sim_net_partition(net, side, all & ~side); break;
    case A_ONEWAY: cut = rf_sim_net_cut_oneway(net, side, all & ~side); break;
    case A_ISOLATE: cut = rf_sim_net_isolate(net, node); break;
    case A_ZONE: cut = rf_sim_net_cut_zone(net, net->zone[node]); break;
    case A_FLAP:
        (void)rf_sim_net_flap(net, side, all & ~side, s->e->now_ns, draw(s, 50 * MS, 400 * MS),
                              s->e->now_ns + hold);
        return; /* a flap ends by itself */
    case A_CLOG:
        rf_sim_net_clog(net, node, (node + 1 + (uint32_t)draw(s, 0, s->nodes - 2)) % s->nodes,
                        s->e->now_ns + hold / 2);
        return; /* a clog ends by itself */
    default: UNREACHABLE();
    }
    /* Each cut is healed on its own: an overlapping cut keeps its time. */
    if (cut != RF_SIM_CUT_NONE)
        later(s, hold, A_HEAL_CUT, cut);
}

/* Half the crashes hit a node with writes in flight (when there is one),
 * so lost and torn unsynced writes are common, not luck. */
static uint32_t crash_target(sched *s)
{
    uint32_t node = (uint32_t)draw(s, 0, s->nodes - 1);
    if (draw(s, 0, 1) == 0)
        return node;
    for (uint32_t k = 0; k < s->nodes; k++) {
        uint32_t i = (node + k) % s->nodes;
        if (rf_sim_cluster_writes_in_flight(s->c, i) > 0)
            return i;
    }
    return node;
}

static void do_action(sched *s, action a, uint32_t node)
{
    rf_sim_cluster *c = s->c;
    rf_sim_net *net = rf_sim_cluster_net(c);
    s->faults++;
    switch (a) {
    case A_PARTITION: case A_ONEWAY: case A_ISOLATE: case A_ZONE: case A_FLAP: case A_CLOG:
        net_action(s, a, net);
        break;
    case A_CRASH:
        node = crash_target(s);
        rf_sim_cluster_crash(c, node);
        later(s, draw(s, 50 * MS, 1500 * MS), A_RESTART, node);
        break;
    case A_PAUSE:
        node = (uint32_t)draw(s, 0, s->nodes - 1);
        rf_sim_cluster_pause(c, node);
        later(s, draw(s, 20 * MS, 800 * MS), A_RESUME, node);
        break;
    case A_DRIFT:
        (void)rf_sim_cluster_set_drift(c, (uint32_t)draw(s, 0, s->nodes - 1),
                                 (int32_t)draw(s, 0, 40000) - 20000);
        break;
    case A_NETCFG:
        net->cfg.loss_ppm = draw(s, 0, 3) == 0 ? 0 : (uint32_t)draw(s, 0, 200000);
        net->cfg.dup_ppm = (uint32_t)draw(s, 0, 100000);
        break;
    case A_ADD: admin(s, RF_SIM_ADD_LEARNER, -1); break;
    case A_PROMOTE: admin(s, RF_SIM_PROMOTE, 0); break;
    case A_REMOVE: admin(s, RF_SIM_REMOVE, 1); break;
    case A_TRANSFER: admin(s, RF_SIM_TRANSFER, 1); break;
    case A_HEAL_CUT: rf_sim_net_heal_cut(net, node); break;
    case A_RESTART: (void)rf_sim_cluster_restart(c, node); break;
    case A_RESUME: rf_sim_cluster_resume(c, node); break;
    default: UNREACHABLE();
    }
}

static void on_action(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    (void)e;
    sched *s = ctx;
    if (!s->healed)
        do_action(s, (action)ev->arg, ev->node);
}

static void liveness(sched *s)
{
    const rf_sim_cluster *c = s->c;
    uint64_t n_ops, ok_after = 0;
    const rf_sim_op *ops = rf_sim_cluster_ops(c, &n_ops);
    char text[160];
    for (uint64_t i = 0; i < n_ops; i++) {
        const rf_sim_op *op = &ops[i];
        if (op->status == RF_SIM_OP_PENDING) {
            snprintf(text, sizeof(text), "client %u op '%s' invoked at %" PRIu64 " ms still pending 7 s after the heal",
                     op->client + 1, op->op, op->call_ns / MS);
            rf_sim_cluster_fail(s->c, RF_SIM_V_LIVENESS, text);
            return;
        }
        if (op->call_ns < s->heal_ns + 2 * SEC)
            continue;
        if (op->status != RF_SIM_OP_OK) {
            snprintf(text, sizeof(text), "client %u op '%s' invoked at %" PRIu64 " ms, 2 s after the heal, did not succeed",
                     op->client + 1, op->op, op->call_ns / MS);
            rf_sim_cluster_fail(s->c, RF_SIM_V_LIVENESS, text);
            return;
        }
        ok_after++;
    }
    int l = rf_sim_cluster_leader(c);
    if (l < 0) {
        rf_sim_cluster_fail(s->c, RF_SIM_V_LIVENESS, "no leader 7 s after the heal");
        return;
    }
    /* 4 s after the clients stopped, every member has caught up. */
    const rf_raft *lr = rf_sim_cluster_raft(c, (uint32_t)l);
    const rf_membership *m = rf_raft_membership(lr);
    for (uint32_t i = 0; i < m->count; i++) {
        uint32_t node = (uint32_t)(m->members[i].id - 1);
        const rf_raft *r = rf_sim_cluster_raft(c, node);
        if (r != NULL && rf_raft_commit_index(r) != rf_raft_commit_index(lr)) {
            snprintf(text, sizeof(text), "n%u commit index %" PRIu64 " behind leader n%d's %" PRIu64
                     " 4 s after the clients stopped", node + 1, rf_raft_commit_index(r), l + 1,
                     rf_raft_commit_index(lr));
            rf_sim_cluster_fail(s->c, RF_SIM_V_LIVENESS, text);
            return;
        }
    }
    if (ok_after == 0 && n_ops > 0)
        rf_sim_cluster_fail(s->c, RF_SIM_V_LIVENESS, "no operation succeeded after the heal");
}

static void on_phase(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    (void)e;
    sched *s = ctx;
    switch (ev->arg) {
    case P_HEAL:
        s->healed = true;
        rf_sim_cluster_heal_all(s->c);
        break;
    case P_DRAIN: rf_sim_cluster_clients_drain(s->c, true); break;
    case P_CHECK:
        liveness(s);
        if (rf_sim_cluster_violations(s->c) == 0)
            s->linz = rf_sim_cluster_check_linearizable(s->c);
        break;
    default: UNREACHABLE();
    }
}

uint32_t rf_sim_schedule_members(uint64_t seed)
{
    rf_pcg32 r;
    rf_pcg32_derive(&r, seed, "members", 0);
    return RF_SIM_SCHEDULE_MEMBERS_MIN +
           rf_pcg32_bounded(&r, RF_SIM_SCHEDULE_MEMBERS_MAX - RF_SIM_SCHEDULE_MEMBERS_MIN + 1);
}

/* The cluster's shape and settings, drawn from the seed. */
static void draw_config(rf_pcg32 *r, uint32_t members, rf_sim_cluster_config *cfg)
{
    cfg->nodes = members;
    cfg->voters = members >= 4 && rf_pcg32_bounded(r, 2) == 0 ? members - 1 : members;
    cfg->clients = 1 + rf_pcg32_bounded(r, 4);
    cfg->net.latency_ns_base = rf_pcg32_range64(r, 100000, 2 * MS);
    cfg->net.latency_ns_jitter = rf_pcg32_range64(r, 0, rf_pcg32_bounded(r, 4) == 0 ? 30 * MS : 5 * MS);
    /* A long tail delivers messages from terms long gone. */
    cfg->net.tail_ppm = rf_pcg32_bounded(r, 2) == 0 ? 0 : rf_pcg32_bounded(r, 20000);
    cfg->net.tail_ns_max = rf_pcg32_range64(r, 10 * MS, 1000 * MS);
    cfg->raft.election_timeout_ns = rf_pcg32_range64(r, 50 * MS, 300 * MS);
    cfg->raft.heartbeat_interval_ns =
        cfg->raft.election_timeout_ns / (2 + rf_pcg32_bounded(r, 5));
    /* Clocks drift by at most 2% (A_DRIFT): a lease margin of 20% of the
     * election timeout covers it (Raft thesis §6.4.1). */
    cfg->raft.lease_drift_ns = cfg->raft.election_timeout_ns / 5;
    cfg->raft.transfer_timeout_ns = 2 * cfg->raft.election_timeout_ns;
    cfg->net.loss_ppm = rf_pcg32_bounded(r, 3) == 0 ? 0 : rf_pcg32_bounded(r, 50000);
    cfg->net.dup_ppm = rf_pcg32_bounded(r, 3) == 0 ? 0 : rf_pcg32_bounded(r, 50000);
    cfg->disk_ns_max = rf_pcg32_range64(r, cfg->disk_ns_min, 20 * MS);
    cfg->torn_ppm = rf_pcg32_bounded(r, 1000001);
    /* Small snapshot thresholds and chunks exercise compaction, install
     * and chunking in short runs. */
    cfg->raft.snapshot_threshold = rf_pcg32_bounded(r, 2) == 0 ? 0 : rf_pcg32_range64(r, 8, 200);
    cfg->raft.snapshot_chunk_bytes_max = (uint32_t)rf_pcg32_range64(r, 4, 512);
    cfg->raft.inflight_max = 1 + rf_pcg32_bounded(r, 8);
    cfg->raft.append_entries_max = 1 + rf_pcg32_bounded(r, 64);
}

/* How often each action is drawn, relative to the others: crashes and
 * partitions find the most bugs, so they come most often. */
static const uint8_t action_weight[A_COUNT] = {
    [A_PARTITION] = 3, [A_ONEWAY] = 2, [A_ISOLATE] = 2, [A_ZONE] = 1, [A_FLAP] = 1,
    [A_CLOG] = 1, [A_CRASH] = 4, [A_PAUSE] = 2, [A_DRIFT] = 1, [A_NETCFG] = 1,
    [A_ADD] = 2, [A_PROMOTE] = 2, [A_REMOVE] = 2, [A_TRANSFER] = 2,
};

static action draw_action(sched *s)
{
    uint32_t total = 0;
    for (int a = 0; a < A_COUNT; a++)
        total += action_weight[a];
    uint32_t r = (uint32_t)draw(s, 0, total - 1);
    for (int a = 0; a < A_COUNT; a++) {
        if (r < action_weight[a])
            return (action)a;
        r -= action_weight[a];
    }
    UNREACHABLE();
}

static void schedule_faults(sched *s)
{
    uint32_t k = (uint32_t)draw(s, 3, 16);
    for (uint32_t i = 0; i < k; i++) {
        uint64_t at = draw(s, 300 * MS, s->heal_ns - 1);
        action a = draw_action(s);
        if (rf_sim_engine_at(s->e, at, K_ACTION, 0, a, NULL) != RF_OK)
            rf_sim_cluster_fail(s->c, RF_SIM_V_HARNESS, "event queue full");
    }
    rf_sim_engine_at(s->e, s->heal_ns, K_PHASE, 0, P_HEAL, NULL);
    rf_sim_engine_at(s->e, s->heal_ns + 3 * SEC, K_PHASE, 0, P_DRAIN, NULL);
    rf_sim_engine_at(s->e, s->heal_ns + CHECK_AFTER_HEAL_NS, K_PHASE, 0, P_CHECK, NULL);
}

int rf_sim_schedule_run(const rf_sim_schedule_opts *opts, rf_sim_schedule_result *res)
{
    memset(res, 0, sizeof(*res));
    uint32_t members = opts->members != 0 ? opts->members : rf_sim_schedule_members(opts->seed);
    if (members < 1 || members > RF_SIM_NODES_MAX || members > RF_RAFT_MEMBERS_MAX)
        return RF_EINVAL;
    rf_sim_cluster_config cfg;
    rf_sim_cluster_config_defaults(&cfg);
    cfg.seed = opts->seed;
    cfg.log = opts->log;
    cfg.disk_acks_early = opts->broken_disk;
    rf_pcg32 shape;
    rf_pcg32_derive(&shape, opts->seed, "shape", 0);
    draw_config(&shape, members, &cfg);
    if (opts->log != NULL)
        fprintf(opts->log,
                "schedule seed %" PRIu64 ": %u nodes (%u voters), %u clients; net latency %" PRIu64
                "+%" PRIu64 " us, tail %u ppm up to %" PRIu64 " ms, loss %u ppm, dup %u ppm; disk %" PRIu64
                "..%" PRIu64 " us, torn %u ppm; raft election %" PRIu64 " ms, heartbeat %" PRIu64
                " ms, lease margin %" PRIu64 " ms, inflight %u, append entries %u, snapshot every %" PRIu64
                " (chunks of %u bytes)\n",
                opts->seed, cfg.nodes, cfg.voters, cfg.clients, cfg.net.latency_ns_base / 1000,
                cfg.net.latency_ns_jitter / 1000, cfg.net.tail_ppm, cfg.net.tail_ns_max / MS,
                cfg.net.loss_ppm, cfg.net.dup_ppm, cfg.disk_ns_min / 1000, cfg.disk_ns_max / 1000,
                cfg.torn_ppm, cfg.raft.election_timeout_ns / MS, cfg.raft.heartbeat_interval_ns / MS,
                cfg.raft.lease_drift_ns / MS, cfg.raft.inflight_max, cfg.raft.append_entries_max,
                cfg.raft.snapshot_threshold, cfg.raft.snapshot_chunk_bytes_max);
    rf_sim_cluster *c;
    int rc = rf_sim_cluster_create(&cfg, &c);
    if (rc != RF_OK)
        return rc;
    sched s = {.c = c, .e = rf_sim_cluster_engine(c), .nodes = members, .linz = RF_SIM_LINZ_OK};
    rf_sim_engine_stream(s.e, &s.rng, "faults", 0);
    rf_sim_net *net = rf_sim_cluster_net(c);
    static const char *zones[3] = {"zone1", "zone2", "zone3"};
    for (uint32_t i = 0; i < members; i++)
        (void)rf_sim_net_set_zone_name(net, i, zones[i % 3]);
    rf_sim_engine_on(s.e, K_ACTION, on_action, NULL, &s);
    rf_sim_engine_on(s.e, K_PHASE, on_phase, NULL, &s);
    s.heal_ns = draw(&s, 1 * SEC, 4 * SEC);
    schedule_faults(&s);
    rf_sim_cluster_run_until(c, s.heal_ns + CHECK_AFTER_HEAL_NS + 1);

    if (opts->history != NULL) {
        rf_history h;
        rc = rf_sim_cluster_history(c, &h);
        if (rc == RF_OK)
            rc = rf_history_jsonl_write(opts->history, &h);
        rf_history_close(&h);
    }
    if (opts->log != NULL && rf_sim_cluster_violations(c) > 0) {
        fprintf(opts->log, "state at the violation:\n");
        rf_sim_cluster_dump(c, opts->log);
    }
    res->seed = opts->seed;
    res->members = members;
    res->violations = rf_sim_cluster_violations(c);
    if (res->violations > 0) {
        res->first = *rf_sim_cluster_first_violation(c);
        res->violation_ns = s.e->now_ns;
    }
    res->trace_hash = s.e->trace.h;
    res->events = s.e->events_run;
    res->sim_ns = s.e->now_ns;
    res->faults = s.faults;
    res->linz_unknown = s.linz == RF_SIM_LINZ_UNKNOWN;
    rf_sim_cluster_stats_get(c, &res->stats);
    rf_sim_cluster_close(c);
    return rc;
}

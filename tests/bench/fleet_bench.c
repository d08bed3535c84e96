/* fleet_bench: the fleet through its API on the in-memory harness: command rate, idle cost, rebalancing round time. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/rf_err.h"
#include "sim/fleet_cluster.h"

#define MS (1000ull * 1000ull)
#define SEC (1000ull * MS)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "fleet_bench: %s\n", what);
    exit(1);
}

/* A cluster of `nodes` nodes over 3 zones (raft timings of the argument),
 * every node active, `groups` groups of 3 int replicas, converged. */
static rf_sim_fleet *cluster(uint32_t nodes, uint32_t groups, uint64_t election_ns,
                             uint64_t heartbeat_ns)
{
    static const char *const zones[] = {"a", "b", "c"};
    rf_sim_fleet_config cfg;
    rf_sim_fleet_config_defaults(&cfg, nodes);
    cfg.node.raft.election_timeout_ns = election_ns;
    cfg.node.raft.heartbeat_interval_ns = heartbeat_ns;
    cfg.node.raft.lease_drift_ns = election_ns / 5;
    cfg.node.raft.transfer_timeout_ns = 3 * election_ns;
    cfg.node.rebalance_interval_ns = 2 * election_ns;
    cfg.node.attempt_timeout_ns = 3 * election_ns;
    cfg.node.retry_interval_ns = election_ns / 2; /* a first election fits in the retries */
    cfg.node.quiesce_after_ns = 5 * election_ns;
    cfg.events_max = 1u << 24;
    cfg.check_safety = false; /* measured without the checkers' cost */
    rf_sim_fleet *f = NULL;
    if (rf_sim_fleet_create(&cfg, &f) != RF_OK)
        die("create");
    for (uint32_t i = 0; i < nodes; i++) {
        int st = -1;
        if (!rf_sim_fleet_wait(f, rf_sim_fleet_activate(f, i, zones[i % 3], i == 0 ? -1 : 0),
                               60 * SEC, &st, NULL) || st != RF_OK)
            die("activate");
    }
    uint32_t added = 0;
    while (added < groups) {
        uint64_t reqs[2048];
        uint32_t batch = groups - added < 2048 ? groups - added : 2048;
        for (uint32_t i = 0; i < batch; i++) {
            char name[32];
            snprintf(name, sizeof name, "group%u", added + i);
            reqs[i] = rf_sim_fleet_add_group(f, (added + i) % nodes, name, 3, "int");
        }
        for (uint32_t i = 0; i < batch; i++) {
            int st = -1;
            if (!rf_sim_fleet_wait(f, reqs[i], 60 * SEC, &st, NULL) || st != RF_OK)
                die("add_group");
        }
        added += batch;
    }
    if (!rf_sim_fleet_run_until_converged(f, 600 * SEC))
        die("no convergence");
    return f;
}

/* Commands through the fleet API: 64 groups on 3 nodes, one command in
 * flight per group, issued from the three nodes in turn. */
static void bench_commands(void)
{
    enum { GROUPS = 64, PER_GROUP = 100 };
    rf_sim_fleet *f = cluster(3, GROUPS, 100 * MS, 20 * MS);
    uint64_t inflight[GROUPS];
    uint32_t done[GROUPS] = {0}, total = 0;
    double t0 = now_s();
    uint64_t s0 = rf_sim_fleet_now(f);
    for (uint32_t g = 0; g < GROUPS; g++) {
        char name[32];
        snprintf(name, sizeof name, "group%u", g);
        inflight[g] = rf_sim_fleet_command(f, g % 3, name, "inc");
    }
    while (total < GROUPS * PER_GROUP) {
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + MS / 4);
        for (uint32_t g = 0; g < GROUPS; g++) {
            int st = -1;
            if (done[g] == PER_GROUP || !rf_sim_fleet_replied(f, inflight[g], &st))
                continue;
            if (st != RF_OK)
                die("command failed");
            done[g]++;
            total++;
            if (done[g] < PER_GROUP) {
                char name[32];
                snprintf(name, sizeof name, "group%u", g);
                inflight[g] = rf_sim_fleet_command(f, (g + done[g]) % 3, name, "inc");
            }
        }
    }
    double wall = now_s() - t0, sim = (double)(rf_sim_fleet_now(f) - s0) / 1e9;
    printf("bench fleet.command_rate %.0f cmd/s (wall clock, 64 groups x3 on 3 in-memory nodes, "
           "one in flight per group, 2/3 forwarded)\n", total / wall);
    printf("bench fleet.command_rate_sim %.0f cmd/s (simulated time, 1 ms links, 0.5 ms disk)\n",
           total / sim);
    rf_sim_fleet_close(f);
}

static void round_now(rf_node *n, void *ctx)
{
    double *secs = ctx;
    double t0 = now_s();
    rf_node_rebalance_now(n);
    *secs = now_s() - t0;
}

/* Idle groups on 5 nodes: message rate and memory per group, and the time
 * of one rebalancing round on a converged node. */
static void bench_idle(uint32_t groups)
{
    rf_sim_fleet *f = cluster(5, groups, 1000 * MS, 100 * MS);
    rf_node_counters c0[5], c1[5];
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 10 * SEC); /* idle long enough to go quiet */
    size_t quiet = 0;
    for (uint32_t i = 0; i < 5; i++)
        quiet += rf_node_quiet_count(rf_sim_fleet_node(f, i));
    for (uint32_t i = 0; i < 5; i++)
        rf_node_counters_get(rf_sim_fleet_node(f, i), &c0[i]);
    uint64_t window = 60 * SEC;
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + window);
    uint64_t msgs = 0, envs = 0, all = 0;
    size_t bytes = 0, members = 0;
    for (uint32_t i = 0; i < 5; i++) {
        const rf_node *n = rf_sim_fleet_node(f, i);
        rf_node_counters_get(n, &c1[i]);
        msgs += c1[i].user_msgs_sent - c0[i].user_msgs_sent;
        all += c1[i].raft_msgs_sent - c0[i].raft_msgs_sent;
        envs += c1[i].envelopes_sent - c0[i].envelopes_sent;
        for (uint64_t g = RF_META_FIRST_GROUP_ID; g < RF_META_FIRST_GROUP_ID + groups; g++) {
            const rf_raft *r = rf_node_group(n, g);
            if (r != NULL) {
                bytes += rf_raft_memory(r);
                members++;
            }
        }
    }
    double secs_window = (double)window / 1e9;
    printf("bench fleet.idle_msgs_per_group %.4f msg/s (%u idle groups x3 on 5 nodes, %zu of "
           "%u members quiet, 100 ms heartbeats, over %.0f s; target <= 0.01, RaftFleet ~10)\n",
           (double)msgs / groups / secs_window, groups, quiet, 3 * groups, secs_window);
    printf("bench fleet.idle_node_pair_envelopes %.1f envelope/s per ordered node pair (node "
           "heartbeats + the metadata group's %.1f msg/s in all, independent of group count)\n",
           (double)envs / 20.0 / secs_window, (double)(all - msgs) / secs_window);
    printf("bench fleet.idle_bytes_per_member %.0f B (rf_raft memory, model state excluded, "
           "%zu members)\n", (double)bytes / (double)members, members);
    double secs = 0;
    int leader = rf_sim_fleet_leader(f, RF_META_GROUP_ID);
    rf_sim_fleet_poke(f, leader < 0 ? 0 : (uint32_t)leader, round_now, &secs);
    printf("bench fleet.rebalance_round %.2f ms (one node's round over %u groups, converged)\n",
           secs * 1e3, groups);
    rf_sim_fleet_close(f);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* one line per figure, as it is measured */
    bench_commands();
    bench_idle(1000);
    bench_idle(10000);
    return 0;
}

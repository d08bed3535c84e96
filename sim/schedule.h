/* sim/schedule: seeded random fault schedules run against the cluster harness, then a liveness check. */
#ifndef SIM_SCHEDULE_H
#define SIM_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/check.h"
#include "sim/cluster.h"

/* One schedule, fully determined by (seed, members):
 *  1. a cluster of `members` nodes (3..7; all voters, or one spare node
 *     that waits to be added), 1-4 clients, a drawn network (latency,
 *     jitter, long tail, loss, duplication) and snapshot settings;
 *  2. a fault phase of 1-4 s of virtual time: partitions (explicit sets,
 *     one-way, isolated node, zone), flapping, clogged links, crashes with
 *     restarts (unsynced writes lost, the last one maybe torn), pauses,
 *     clock drift, loss/duplication changes, membership changes (add
 *     learner, promote, remove) and leadership transfers, each at a drawn
 *     time, partitions lasting a drawn minimum;
 *  3. heal everything at the end of the fault phase, then the liveness
 *     bounds: every operation invoked from 2 s after the heal succeeds, at
 *     least one does, nothing is pending 7 s after the heal (clients stop
 *     issuing at 3 s and give an op up 3 s after its call) and a leader
 *     exists then, with every member of its configuration at its commit
 *     index (4 s after the clients stopped).
 * The safety checkers run after every step throughout; at the end the
 * clients' history is checked for linearizability (sim/linz). */

#define RF_SIM_SCHEDULE_MEMBERS_MIN 3u
#define RF_SIM_SCHEDULE_MEMBERS_MAX 7u

typedef struct rf_sim_schedule_opts {
    uint64_t seed;
    uint32_t members; /* 0: drawn from the seed */
    FILE *log;        /* the event log (--verbose); NULL: quiet */
    FILE *history;    /* receives the client history as JSON lines (DESIGN.md §5); NULL: none */
    bool broken_disk; /* the disk acknowledges writes before they are durable
                       * (tests that the checkers catch what follows) */
} rf_sim_schedule_opts;

typedef struct rf_sim_schedule_result {
    uint64_t seed;
    uint32_t members;
    uint64_t violations;
    rf_sim_violation first;
    uint64_t violation_ns; /* virtual time of the first violation */
    uint64_t trace_hash;
    uint64_t events;
    uint64_t sim_ns;
    uint32_t faults; /* fault actions injected */
    bool linz_unknown; /* the linearizability checker ran out of budget */
    rf_sim_cluster_stats stats;
} rf_sim_schedule_result;

/* Runs one schedule. Returns 0 when it ran (violations or not: see res),
 * or an error code when the cluster could not even be built. */
int rf_sim_schedule_run(const rf_sim_schedule_opts *opts, rf_sim_schedule_result *res);

/* The members a schedule uses when opts.members is 0. */
uint32_t rf_sim_schedule_members(uint64_t seed);

#endif

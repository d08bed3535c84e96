/* sim/cluster: the deterministic in-memory cluster harness: Raft members on simulated nodes, disks and clients. */
#ifndef SIM_CLUSTER_H
#define SIM_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "model/rf_model.h"
#include "raft/raft.h"
#include "sim/check.h"
#include "sim/engine.h"
#include "sim/net.h"

/* One consensus group hosted on `nodes` simulated nodes (ids 1..nodes,
 * indexes 0..nodes-1). The first `voters` nodes bootstrap the group; the
 * others host an empty member that waits to be added. Everything a node
 * does goes through the engine's events:
 *  - messages travel as encoded bytes (rf_msg_encode at send, decode at
 *    delivery) through the network model;
 *  - each rf_ready's writes go to the node's simulated disk and become
 *    durable after a drawn latency, in order; only then is rf_raft_persisted
 *    called. A crash drops every write not yet durable, and the oldest one
 *    in flight may be torn: its snapshot and truncation land with only a
 *    prefix of its entries and without its hard state (the order raft.h
 *    fixes for one batch);
 *  - ticks come every tick_ns of virtual time, and the node's clock is
 *    also passed (rf_raft_tick) before every other input, as an event loop
 *    reads the clock before dispatching; a node's clock runs at
 *    (1 + drift_ppm / 10^6) times virtual time;
 *  - simulated clients issue int-model commands (inc, set N) with (client,
 *    seq) and queries (get), retry with the same seq on timeout or
 *    redirect, and record every operation.
 * The checkers of sim/check.h run after every step. */

#define RF_SIM_CLIENTS_MAX 32
#define RF_SIM_OPS_MAX (1u << 20)     /* recorded client operations per run */
#define RF_SIM_DEFERRED_MAX 4096u     /* events held for a paused node */
#define RF_SIM_OP_TEXT_MAX 24
#define RF_SIM_REPLY_TEXT_MAX 24

typedef struct rf_sim_cluster_config {
    uint64_t seed;
    uint32_t nodes;  /* 1..RF_SIM_NODES_MAX, <= RF_RAFT_MEMBERS_MAX */
    uint32_t voters; /* 1..nodes: nodes 0..voters-1 bootstrap the group */
    uint64_t group_id;
    const rf_model *model;  /* the clients speak the int model's commands */
    rf_raft_config raft;    /* timings and bounds; ids, model, rng set per node */
    rf_sim_net_config net;
    uint64_t tick_ns;
    uint64_t disk_ns_min, disk_ns_max; /* latency of one write */
    uint32_t torn_ppm;                 /* chance a crash tears the write in flight */
    uint32_t clients;                  /* 0..RF_SIM_CLIENTS_MAX */
    uint64_t client_latency_ns_max;    /* client <-> node one way, uniform in [1/4, 1] of it */
    uint64_t client_timeout_ns;        /* an attempt with no reply by then is retried */
    uint64_t client_op_ns_max;         /* an op not done by then is given up */
    uint64_t client_think_ns_max;      /* pause between two ops */
    uint32_t query_ppm;                /* share of ops that are queries */
    uint32_t events_max;               /* bound on pending events */
    bool disk_acks_early; /* a broken disk for testing the checkers: reports
                           * writes durable when submitted, loses them on crash */
    FILE *log;                         /* event log (faults, leaders, violations); NULL: quiet */
} rf_sim_cluster_config;

/* Defaults for a fast small cluster: 3 voters, 1 ms links, 100 ms election
 * timeout, 10 ms ticks, 0.2-2 ms disk writes, 3 clients. */
void rf_sim_cluster_config_defaults(rf_sim_cluster_config *cfg);

typedef enum rf_sim_op_status {
    RF_SIM_OP_PENDING = 0,
    RF_SIM_OP_OK,
    RF_SIM_OP_FAIL,    /* surely not applied */
    RF_SIM_OP_UNKNOWN, /* may or may not have been applied */
} rf_sim_op_status;

/* One client operation as the client saw it. */
typedef struct rf_sim_op {
    uint32_t client;
    bool is_query;
    uint64_t seq; /* commands: the (client, seq) of every attempt; 0 for queries */
    char op[RF_SIM_OP_TEXT_MAX];
    char reply[RF_SIM_REPLY_TEXT_MAX];
    uint64_t call_ns, return_ns; /* return_ns 0 while pending or when unknown */
    uint32_t attempts;
    rf_sim_op_status status;
} rf_sim_op;

typedef struct rf_sim_cluster_stats {
    uint64_t ops_ok, ops_fail, ops_unknown, ops_pending;
    uint64_t crashes, restarts, torn_writes, writes_lost, pauses;
    uint64_t admin_ok, admin_failed;
    uint64_t leader_changes;
    uint64_t snapshots_taken, snapshots_installed;
    uint64_t msgs_rejected; /* raft's count over every incarnation */
    uint64_t max_commit;
} rf_sim_cluster_stats;

typedef struct rf_sim_cluster rf_sim_cluster;

/* Builds the cluster, bootstraps the group and starts ticks and clients.
 * Returns 0, RF_EINVAL (bad config) or RF_ENOMEM; *out is set on success. */
int rf_sim_cluster_create(const rf_sim_cluster_config *cfg, rf_sim_cluster **out);
void rf_sim_cluster_close(rf_sim_cluster *c);

rf_sim_engine *rf_sim_cluster_engine(rf_sim_cluster *c);
rf_sim_net *rf_sim_cluster_net(rf_sim_cluster *c);
const rf_sim_check *rf_sim_cluster_check(const rf_sim_cluster *c);
uint64_t rf_sim_cluster_now(const rf_sim_cluster *c);

/* Runs events up to until_ns or until a checker finds a violation.
 * Returns the number of violations found so far. */
uint64_t rf_sim_cluster_run_until(rf_sim_cluster *c, uint64_t until_ns);

/* ---- node faults ---- */
void rf_sim_cluster_crash(rf_sim_cluster *c, uint32_t node);
/* Restarts a crashed node from its durable state (RF_EINVAL if it is up). */
int rf_sim_cluster_restart(rf_sim_cluster *c, uint32_t node);
void rf_sim_cluster_pause(rf_sim_cluster *c, uint32_t node);
void rf_sim_cluster_resume(rf_sim_cluster *c, uint32_t node);
/* The node's clock runs at (1 + drift_ppm / 10^6) times virtual time from
 * now on. RF_ERANGE (nothing changes) unless |drift_ppm| < RF_SIM_DRIFT_PPM_MAX. */
#define RF_SIM_DRIFT_PPM_MAX 500000
int rf_sim_cluster_set_drift(rf_sim_cluster *c, uint32_t node, int32_t drift_ppm);
bool rf_sim_cluster_is_up(const rf_sim_cluster *c, uint32_t node);
bool rf_sim_cluster_is_paused(const rf_sim_cluster *c, uint32_t node);
/* Restarts every crashed node, resumes every paused one, zeroes drift and
 * heals the network (cuts, clogs, flaps, loss, duplication). */
void rf_sim_cluster_heal_all(rf_sim_cluster *c);

/* ---- membership and leadership (sent to the current leader) ---- */
typedef enum rf_sim_admin { RF_SIM_ADD_LEARNER, RF_SIM_PROMOTE, RF_SIM_REMOVE, RF_SIM_TRANSFER } rf_sim_admin;
/* Returns 0 when a leader accepted the request for later, RF_ENOLEADER
 * when no node is leader, else the leader's immediate refusal. */
int rf_sim_cluster_admin(rf_sim_cluster *c, rf_sim_admin what, uint32_t node);

/* ---- observation ---- */
/* The node index of the leader with the highest term among up nodes, or -1. */
int rf_sim_cluster_leader(const rf_sim_cluster *c);
/* The member on node (NULL when crashed). Read-only use: accessors only. */
const rf_raft *rf_sim_cluster_raft(const rf_sim_cluster *c, uint32_t node);
/* Durable state of a node's member: its last durable log index and term. */
uint64_t rf_sim_cluster_durable_last(const rf_sim_cluster *c, uint32_t node);
uint64_t rf_sim_cluster_durable_term(const rf_sim_cluster *c, uint32_t node);
/* Writes the node's disk has not made durable yet. */
uint32_t rf_sim_cluster_writes_in_flight(const rf_sim_cluster *c, uint32_t node);
void rf_sim_cluster_stats_get(const rf_sim_cluster *c, rf_sim_cluster_stats *out);

/* ---- clients ---- */
/* Stops issuing new operations (pending ones still finish). */
void rf_sim_cluster_clients_drain(rf_sim_cluster *c, bool drain);
/* The recorded operations, in invocation order. */
const rf_sim_op *rf_sim_cluster_ops(const rf_sim_cluster *c, uint64_t *n);

/* The clients' operations as a history for sim/linz (h is initialised
 * here; close it with rf_history_close). Pending ops are recorded as
 * unknown. Returns 0 or RF_ENOMEM. */
struct rf_history;
int rf_sim_cluster_history(const rf_sim_cluster *c, struct rf_history *h);

typedef enum rf_sim_linz {
    RF_SIM_LINZ_OK = 0,
    RF_SIM_LINZ_VIOLATION, /* recorded as a violation */
    RF_SIM_LINZ_UNKNOWN,   /* the checker's budget ran out: no verdict */
} rf_sim_linz;

/* Checks the clients' history for linearizability against the group's
 * model (sim/linz); a violation is recorded with its explanation. */
rf_sim_linz rf_sim_cluster_check_linearizable(rf_sim_cluster *c);

/* Writes one line per node: up/paused, role, term, leader, commit,
 * applied, log range, durable last, configuration. */
void rf_sim_cluster_dump(const rf_sim_cluster *c, FILE *f);

/* The violations found so far and the first one. */
uint64_t rf_sim_cluster_violations(const rf_sim_cluster *c);
const rf_sim_violation *rf_sim_cluster_first_violation(const rf_sim_cluster *c);
/* Records a violation found by the caller (a liveness bound...). */
void rf_sim_cluster_fail(rf_sim_cluster *c, rf_sim_violation_kind kind, const char *text);

#endif

/* fuzz_world: swarm testing's world drawing: a seed becomes a whole scenario (cluster, groups, workload, faults, liveness phase). */
#ifndef SIM_FUZZ_WORLD_H
#define SIM_FUZZ_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "sim/scenario.h"

/* Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012): each seed
 * draws its own world and, from the fault kinds switched on, its own
 * subset of them, each with its own intensity, so that a seed stresses a
 * few kinds hard instead of every kind a little. A world is
 *   - 3 to 9 nodes in 1 to 4 zones (maybe a spare that starts inactive);
 *   - 1 to 6 groups of 1, 3 or 5 replicas of the `int` or `kv` model;
 *   - a workload on every group (1-2 clients, 2-10 ops/s, a drawn mix);
 *   - a fault phase of 10-30 s: the drawn faults, each at a drawn time,
 *     a partition holding for at least its kind's drawn minimum;
 *   - a liveness phase: `heal` ends every network fault, the faults stop,
 *     and the expectations ask for safety, linearizability, a leader in
 *     every group and the placement converged within stated bounds.
 * Only worlds whose expectations a correct fleet meets are drawn: at most
 * one node is lost for good (crash without restart or `remove node`),
 * groups then have 3 or 5 replicas and `purge-after` is short enough for
 * the placement to converge, and the faults that keep nodes apart never
 * last, in a row, as long as the purge window (a live node purged on top
 * of the loss: sim/fuzz_cuts.h); drains never leave fewer than 3 active
 * nodes.
 * Any number of nodes may be down at once (restarts, failed disks), but
 * every one of them is back by the end of the fault phase.
 *
 * The world is built as scenario text and parsed, so it is exactly what a
 * scenario file can say; rf_scenario_write gives its canonical text. The
 * same seed and kinds give the same text on every build and machine. */

typedef enum {
    RF_FUZZ_K_PARTITION,  /* explicit sets or a random minority */
    RF_FUZZ_K_CUT,        /* one way */
    RF_FUZZ_K_ISOLATE,    /* one node */
    RF_FUZZ_K_ZONE,       /* a whole zone */
    RF_FUZZ_K_FLAP,       /* a flapping partition */
    RF_FUZZ_K_CLOG,       /* a clogged link */
    RF_FUZZ_K_NETWORK,    /* loss, duplication, latency for a while */
    RF_FUZZ_K_REORDER,    /* `network reorder` */
    RF_FUZZ_K_CRASH,      /* a crash for good (no restart) */
    RF_FUZZ_K_RESTART,    /* crash ... for D, `restart`: back from its disk */
    RF_FUZZ_K_PAUSE,
    RF_FUZZ_K_DRIFT,      /* clock drift */
    RF_FUZZ_K_DISK,       /* failed writes/syncs, full disk, flipped bits */
    RF_FUZZ_K_JOIN,       /* `add node` */
    RF_FUZZ_K_LEAVE,      /* `remove node` */
    RF_FUZZ_K_DEACTIVATE,
    RF_FUZZ_K_ACTIVATE,   /* a spare node that starts inactive */
    RF_FUZZ_K_COUNT
} rf_fuzz_kind;

#define RF_FUZZ_KINDS_ALL ((1u << RF_FUZZ_K_COUNT) - 1u)
/* Every kind: `fleet-sim run` executes them all. */
#define RF_FUZZ_KINDS_DEFAULT RF_FUZZ_KINDS_ALL

#define RF_FUZZ_NODES_MIN 3u
#define RF_FUZZ_NODES_MAX 9u
#define RF_FUZZ_ZONES_MAX 4u
#define RF_FUZZ_GROUPS_MAX 6u
#define RF_FUZZ_FAULTS_MAX 24u
#define RF_FUZZ_PARAMS_JSON_MAX 1024u

/* What a seed drew, for the trends table (fuzz_seeds.params). */
typedef struct rf_fuzz_params {
    uint64_t seed;
    uint32_t kinds_on;   /* the kinds this seed drew from (a subset of the enabled) */
    uint32_t nodes, zones, spares, groups;
    uint32_t replicas[RF_FUZZ_GROUPS_MAX];
    uint32_t faults;     /* timeline lines drawn, heal excluded */
    uint32_t per_kind[RF_FUZZ_K_COUNT];
    uint64_t fault_phase_ns, run_ns;
    uint64_t election_ns, heartbeat_ns;
    uint32_t loss_ppm, dup_ppm; /* of the base network */
    double ops_per_s;
    uint32_t lease_margin_ppm; /* `leases margin`, 0: no leases (groups go quiet) */
    uint32_t append_batch;     /* `replication batch`, 0: raft's default */
} rf_fuzz_params;

/* The name of a kind ("partition", "crash"...). */
const char *rf_fuzz_kind_name(rf_fuzz_kind k);

/* Parses a comma-separated list of kind names, or `all` / `default`, into
 * a mask. RF_EINVAL names the bad word in err. */
int rf_fuzz_kinds_parse(const char *list, uint32_t *mask, char *err, size_t err_len);

/* Draws seed's world from the kinds in `kinds` (0: RF_FUZZ_KINDS_DEFAULT).
 * On success *out is a new tree (rf_scenario_free) whose seed is `seed`,
 * and *params (may be NULL) what was drawn. RF_ENOMEM, or RF_ESCENARIO if
 * the drawn text did not parse (a bug here, with the message in err). */
int rf_fuzz_world_draw(uint64_t seed, uint32_t kinds, rf_scenario **out, rf_fuzz_params *params,
                       char *err, size_t err_len);

/* The params as one JSON object, NUL-terminated, into buf (truncated
 * objects are never written: RF_ETOOBIG). */
int rf_fuzz_params_json(const rf_fuzz_params *p, char *buf, size_t cap);

#endif

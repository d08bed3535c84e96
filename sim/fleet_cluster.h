/* sim/fleet_cluster: the in-memory multi-node fleet harness: rf_node instances on the sim engine and network. */
#ifndef SIM_FLEET_CLUSTER_H
#define SIM_FLEET_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet/rf_node.h"
#include "sim/engine.h"
#include "sim/net.h"
#include "sim/simdisk.h"

/* Nodes are indexes 0..nodes-1 with ids index+1 and names "n<id>". Every
 * envelope a node sends goes through the simulated network (sim/net.h:
 * latency, loss, partitions) as bytes; ticks come every tick_ns; a
 * partition cut both ways is reported to both sides as unreachability by
 * rf_sim_fleet_isolate. Requests are made with the functions below, which
 * return a harness request id; rf_sim_fleet_wait runs the simulation until
 * its reply arrives. All of it is deterministic for a seed.
 *
 * Durable state (sim/fleet_disk.c). Each node owns a simulated disk
 * (sim/simdisk.h, kept across its crashes) holding a core/storage rf_store.
 * Every rf_node_ready's writes go into an rf_batch (rf_node_store_add); one
 * commit is in flight per node at a time and takes disk_ns, the node
 * batches that arrive meanwhile accumulating into the next rf_batch (group
 * commit, as prod/persist.c); when it ends, rf_node_persisted(token).
 * A crash closes the node and its store without flushing, drops everything
 * in flight to it and power-cycles the disk: unsynced bytes are lost, the
 * I/O in flight may tear. A restart opens the store again (recovery) and
 * restores the node from it (rf_node_restore; a fresh store: rf_node_create).
 * Disk faults are simdisk's knobs; a commit that fails leaves the store
 * read-only, and the harness then takes the node down as a crashed one
 * (a fleetd stops when its store fails): no acknowledgement without a durable
 * write, ever. */

#define RF_SIM_FLEET_REPLY_TEXT_MAX 64
#define RF_SIM_FLEET_REQUESTS_MAX 65536u
#define RF_SIM_FLEET_FAILURE_TEXT_MAX 256
#define RF_SIM_FLEET_SEGMENT_BYTES (1u << 20) /* store segments: compaction has work */

typedef struct rf_sim_fleet_config {
    uint64_t seed;
    uint32_t nodes;        /* 1..RF_SIM_NODES_MAX */
    rf_node_config node;   /* template: node_id, name and seed set per node */
    rf_sim_net_config net;
    uint64_t tick_ns;
    uint64_t disk_ns;      /* latency of one commit */
    uint64_t segment_bytes; /* the stores' segments; 0: RF_SIM_FLEET_SEGMENT_BYTES */
    bool hint_unreachable; /* kill/isolate tell the other nodes (a transport
                            * noticing); false: they must find out alone */
    bool check_safety;     /* run sim/check's safety checkers on every group
                            * after every batch (sim/fleet_check.h) */
    uint32_t events_max;
    uint32_t requests_max; /* harness requests in a run; 0: RF_SIM_FLEET_REQUESTS_MAX */
} rf_sim_fleet_config;

/* A fast cluster: 1 ms links, 10 ms ticks, 100 ms election timeout, 20 ms
 * heartbeats, 200 ms rebalancing rounds, 300 ms attempts, 100 ms between
 * retries, 5 retries, purge after 2 s, quiet after 500 ms idle, 0.5 ms disk. */
void rf_sim_fleet_config_defaults(rf_sim_fleet_config *cfg, uint32_t nodes);

typedef struct rf_sim_fleet rf_sim_fleet;

typedef struct rf_sim_fleet_stats {
    uint64_t obs[16];         /* count per rf_node_obs_kind */
    uint64_t obs_user[16];    /* the same for user groups only (not the metadata) */
    uint64_t envelopes, envelope_bytes, persist_batches;
    uint64_t receive_errors;  /* frames a node refused */
    uint64_t commits;         /* rf_batch commits that ended durable */
    uint64_t compactions;     /* store compaction steps */
    uint64_t crashes, restarts;
    uint64_t store_failures;  /* commits that failed: the node went down */
} rf_sim_fleet_stats;

int rf_sim_fleet_create(const rf_sim_fleet_config *cfg, rf_sim_fleet **out);
void rf_sim_fleet_close(rf_sim_fleet *f);

rf_sim_engine *rf_sim_fleet_engine(rf_sim_fleet *f);
rf_sim_net *rf_sim_fleet_net(rf_sim_fleet *f);
uint64_t rf_sim_fleet_now(const rf_sim_fleet *f);
void rf_sim_fleet_run_until(rf_sim_fleet *f, uint64_t until_ns);
/* The node at index (NULL once killed). Read-only use between events. */
const rf_node *rf_sim_fleet_node(const rf_sim_fleet *f, uint32_t index);
void rf_sim_fleet_stats_get(const rf_sim_fleet *f, rf_sim_fleet_stats *out);

/* A crash: the node's process and store are closed without flushing,
 * everything in flight to it is dropped, its disk loses what was not synced
 * (the I/O in flight may tear); requests made to it get an RF_ENODEDOWN
 * reply. With hint_unreachable the other nodes are told, as a transport that
 * loses its connection would. rf_sim_fleet_restart brings it back. */
void rf_sim_fleet_crash(rf_sim_fleet *f, uint32_t index);
/* The same crash, for a node that never comes back. */
void rf_sim_fleet_kill(rf_sim_fleet *f, uint32_t index);
/* Starts a crashed node from its disk: rf_store_open (recovery), then
 * rf_node_restore (rf_node_create on a fresh store). Returns RF_OK, or the
 * error with what failed in why (the store refused to open, the restore
 * failed); RF_EINVAL when the node is running. The checkers' mirror of the
 * node's logs restarts from what was restored. */
int rf_sim_fleet_restart(rf_sim_fleet *f, uint32_t index, char *why, size_t cap);
/* Whether the node is down (crashed, or its store failed). */
bool rf_sim_fleet_down(const rf_sim_fleet *f, uint32_t index);
/* Whether the node went down because a commit failed (cleared at restart). */
bool rf_sim_fleet_store_failed(const rf_sim_fleet *f, uint32_t index);
/* The node's disk faults from now on (kept across crashes until changed). */
void rf_sim_fleet_disk_faults(rf_sim_fleet *f, uint32_t index, const rf_simdisk_faults *faults);
/* Bytes on the node's disk now (to fill it: capacity_bytes). */
uint64_t rf_sim_fleet_disk_used(const rf_sim_fleet *f, uint32_t index);
/* Changes with every crash and restart of a node: a view cached between
 * events is stale when it moved. */
uint64_t rf_sim_fleet_lives(const rf_sim_fleet *f);
/* Pauses node index (a stopped process): it neither ticks nor takes
 * messages or disk completions; they wait and come in after the resume.
 * Requests made to a paused node are still taken (callers avoid that). */
void rf_sim_fleet_pause(rf_sim_fleet *f, uint32_t index, bool paused);
bool rf_sim_fleet_paused(const rf_sim_fleet *f, uint32_t index);
/* From now on node index's clock (the time its ticks pass) runs ppm parts
 * per million fast (+) or slow (-); |ppm| < 10^6. The clock stays
 * monotonic across changes. */
void rf_sim_fleet_drift(rf_sim_fleet *f, uint32_t index, int32_t ppm);

/* Isolates node index from every other node (both ways) or heals it, and
 * tells both sides. */
void rf_sim_fleet_isolate(rf_sim_fleet *f, uint32_t index, bool isolated);

/* ---- requests: each returns a harness request id (0: the node is dead) ---- */
/* via: index of a node in the cluster, or -1 to start a new cluster. */
uint64_t rf_sim_fleet_activate(rf_sim_fleet *f, uint32_t index, const char *zone, int via);
uint64_t rf_sim_fleet_deactivate(rf_sim_fleet *f, uint32_t index);
uint64_t rf_sim_fleet_add_group(rf_sim_fleet *f, uint32_t index, const char *name,
                                uint32_t replicas, const char *model);
uint64_t rf_sim_fleet_remove_group(rf_sim_fleet *f, uint32_t index, const char *name);
uint64_t rf_sim_fleet_command(rf_sim_fleet *f, uint32_t index, const char *group,
                              const char *text);
uint64_t rf_sim_fleet_query(rf_sim_fleet *f, uint32_t index, const char *group,
                            const char *text);

/* Has request req been answered? *status set when so. */
bool rf_sim_fleet_replied(const rf_sim_fleet *f, uint64_t req, int *status);

/* What a recording driver (fleet-sim run) is told as it happens. Called
 * from inside event handlers: a hook may schedule engine events but must
 * not make requests, kill, isolate or run the engine. Any may be NULL. */
typedef struct rf_sim_fleet_hooks {
    void *ctx;
    void (*reply)(void *ctx, uint64_t req, int status, const uint8_t *data, uint32_t len);
    void (*obs)(void *ctx, uint32_t index, const rf_node_obs *o);
    void (*applied)(void *ctx, uint32_t index, const rf_node_applied *a);
    /* The harness took the node down on its own: a commit failed (status). */
    void (*down)(void *ctx, uint32_t index, int status, const char *why);
    /* The groups whose members on node index had output in a batch
     * (rf_node_batch.groups): the others' state has not moved. */
    void (*groups)(void *ctx, uint32_t index, const uint64_t *ids, size_t n);
} rf_sim_fleet_hooks;

/* Installs hooks (copied; NULL removes them). */
void rf_sim_fleet_set_hooks(rf_sim_fleet *f, const rf_sim_fleet_hooks *hooks);

/* Calls fn on the live node at index (between events), then performs
 * whatever the node has to output. For benchmarks and fault injection. */
void rf_sim_fleet_poke(rf_sim_fleet *f, uint32_t index, void (*fn)(rf_node *, void *),
                       void *ctx);

/* Runs until request req has its reply or timeout_ns of virtual time has
 * passed. True when replied: *status and text (NUL-terminated, cut to
 * RF_SIM_FLEET_REPLY_TEXT_MAX - 1 bytes) are set. */
bool rf_sim_fleet_wait(rf_sim_fleet *f, uint64_t req, uint64_t timeout_ns, int *status,
                       char *text);

/* Every observation so far, in order, with the node that reported it
 * (at most RF_SIM_FLEET_OBS_MAX are kept; *n is the total). */
#define RF_SIM_FLEET_OBS_MAX 65536u
typedef struct rf_sim_fleet_obs {
    uint64_t time_ns;
    uint32_t node; /* the reporting node's index */
    rf_node_obs obs;
} rf_sim_fleet_obs;
const rf_sim_fleet_obs *rf_sim_fleet_observations(const rf_sim_fleet *f, uint64_t *n);

/* Safety violations the checkers found so far; *first_text (when not
 * NULL) gets the first one's description, or NULL. */
uint64_t rf_sim_fleet_violations(const rf_sim_fleet *f, const char **first_text);
/* The checkers go over every member of every live node once (after each
 * batch they look only at the groups with output); the end of a run. */
void rf_sim_fleet_sweep(rf_sim_fleet *f);
/* Failures of the harness itself so far: a node batch the store refused
 * (a write sequence no store accepts), a durable state that does not give
 * back what was acknowledged. *first_text gets the first one, or NULL. */
uint64_t rf_sim_fleet_failures(const rf_sim_fleet *f, const char **first_text);
/* Comparisons the checkers made so far (0 without check_safety). */
uint64_t rf_sim_fleet_checks(const rf_sim_fleet *f);

/* ---- cluster-wide views ---- */
/* The metadata replica with the most applied entries among live nodes. */
const rf_meta *rf_sim_fleet_meta(const rf_sim_fleet *f);
/* The live leader of group id with the highest term, or -1. */
int rf_sim_fleet_leader(const rf_sim_fleet *f, uint64_t group_id);
/* True when every user group of the metadata has a leader on its desired
 * leader and exactly its placement target as voters, no learners. */
bool rf_sim_fleet_converged(const rf_sim_fleet *f);
/* Runs until converged or timeout; true when converged. */
bool rf_sim_fleet_run_until_converged(rf_sim_fleet *f, uint64_t timeout_ns);

#endif

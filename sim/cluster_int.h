/* sim/cluster_int: the cluster harness's internal structures, shared by cluster.c, disk.c and clients.c. */
#ifndef SIM_CLUSTER_INT_H
#define SIM_CLUSTER_INT_H

#include "sim/cluster.h"

/* Event kinds of the cluster (below 32, see sim/engine.h). */
enum {
    SIM_K_DELIVER = 1,   /* node = to, ptr = sim_packet */
    SIM_K_TICK = 2,      /* node, arg = tick chain */
    SIM_K_DISK = 3,      /* node, arg = epoch: the oldest write is durable */
    SIM_K_CLIENT_REQ = 4,   /* node, ptr = sim_request */
    SIM_K_CLIENT_REPLY = 5, /* node = client index, ptr = sim_creply */
    SIM_K_CLIENT_TIMEOUT = 6, /* node = client index, arg = request id */
    SIM_K_CLIENT_START = 7,   /* node = client index */
};

/* Request ids: client id (1-based) in the high bits, a counter below; the
 * admin actor is client 0. */
#define SIM_REQ_SHIFT 40

typedef struct sim_packet {
    uint32_t from;
    uint32_t len;
    uint8_t bytes[];
} sim_packet;

typedef struct sim_request {
    uint32_t client;
    uint64_t request_id;
    uint64_t seq; /* 0: a query */
    uint32_t len;
    char text[RF_SIM_OP_TEXT_MAX];
} sim_request;

typedef struct sim_creply {
    uint64_t request_id;
    int status;
    uint64_t leader_hint;
    bool definite; /* refused before it could enter the log */
    uint64_t reply_hash;
    char text[RF_SIM_REPLY_TEXT_MAX];
} sim_creply;

/* One rf_ready's writes, copied, on their way to the disk. */
typedef struct sim_write {
    struct sim_write *next;
    uint64_t token;
    bool has_snapshot;
    rf_snapshot_out snap; /* data owned */
    uint64_t truncate_from;
    rf_entry *entries;    /* data owned, one block per entry */
    size_t n_entries;
    bool has_hard_state;
    uint64_t term, vote;
} sim_write;

/* What survives a crash. */
typedef struct sim_durable {
    uint64_t term, vote;
    bool has_snapshot;
    rf_snapshot_out snap; /* data owned */
    rf_entry *entries;    /* data owned; indexes snap.index+1 .. contiguous */
    size_t n_entries, cap;
} sim_durable;

typedef struct sim_node {
    uint32_t index;
    uint64_t id;
    rf_raft *raft;   /* NULL while crashed */
    bool up, paused;
    uint64_t epoch;  /* bumped by each crash: older events are void */
    uint64_t incarnation;
    uint64_t tick_chain; /* ticks carry it: a crash or a resume starts a new chain */
    sim_durable durable;
    sim_write *wq_head, *wq_tail; /* writes in flight, oldest first */
    uint64_t disk_free_ns;
    rf_pcg32 disk_rng;
    int32_t drift_ppm;
    uint64_t local_base_ns, virt_base_ns;
    rf_sim_event *deferred; /* held while paused */
    uint32_t n_deferred;
    uint64_t sync_refused; /* request id refused synchronously in this drain */
    uint64_t rejected_before; /* raft's msgs_rejected of earlier incarnations */
    uint64_t last_leader_term;
    uint64_t ack_term, ack_index; /* highest append ack sent, and its term */
} sim_node;

typedef struct sim_client {
    uint32_t id; /* 1-based, the raft client id */
    uint64_t seq;
    int64_t op; /* index into ops of the pending op, -1 when idle */
    uint64_t request_id;
    uint64_t attempts_total;
    uint32_t target;
    bool maybe_applied;
    uint64_t deadline_ns;
    rf_pcg32 rng;
} sim_client;

struct rf_sim_cluster {
    rf_sim_cluster_config cfg;
    rf_sim_engine eng;
    rf_sim_net net;
    rf_sim_net_config net_cfg0; /* the configured network, restored by heal */
    rf_sim_check check;
    sim_node nodes[RF_SIM_NODES_MAX];
    sim_client clients[RF_SIM_CLIENTS_MAX];
    bool draining;
    rf_sim_op *ops;
    uint64_t n_ops, cap_ops;
    uint64_t admin_counter;
    rf_sim_cluster_stats stats;
    rf_membership initial;
    uint8_t *encode_buf;
    size_t encode_cap;
};

/* disk.c */
int sim_disk_submit(rf_sim_cluster *c, sim_node *n, const rf_ready *rd);
void sim_disk_complete(rf_sim_cluster *c, sim_node *n);
void sim_disk_crash(rf_sim_cluster *c, sim_node *n);
void sim_disk_close(sim_node *n);
/* Fills st from the durable state (pointers into it). */
void sim_disk_state(const sim_node *n, rf_raft_state *st);
bool sim_disk_empty(const sim_node *n);

/* clients.c */
void sim_clients_start(rf_sim_cluster *c);
void sim_clients_register(rf_sim_cluster *c);
void sim_clients_close(rf_sim_cluster *c);
/* A node handles a client's request (the node is up and not paused). */
void sim_clients_request(rf_sim_cluster *c, sim_node *n, const sim_request *req);
/* A node's rf_ready carried this reply. */
void sim_clients_reply(rf_sim_cluster *c, sim_node *n, const rf_reply *rp);

/* cluster.c */
void sim_node_drain(rf_sim_cluster *c, sim_node *n);
/* Gives the member the node's current clock. Called before every input,
 * as a real event loop reads the clock before it dispatches: without it a
 * node resuming from a pause would judge its lease by a stale time. */
void sim_node_clock(rf_sim_cluster *c, sim_node *n);
/* Starts a new tick chain (the old one's pending tick becomes void). */
void sim_node_ticks(rf_sim_cluster *c, sim_node *n, uint64_t first_delay_ns);
/* Starts a crashed node's member again from its durable state. */
int sim_node_start(rf_sim_cluster *c, sim_node *n);
void sim_log(rf_sim_cluster *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

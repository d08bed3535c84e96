/* sim/fleet_int: the fleet harness's internal state, shared by sim/fleet_cluster.c and sim/fleet_disk.c. */
#ifndef SIM_FLEET_INT_H
#define SIM_FLEET_INT_H

#include "fleet/rf_node_store.h"
#include "sim/fleet_check.h"
#include "sim/fleet_cluster.h"
#include "sim/simdisk.h"
#include "storage/rf_store.h"

/* Event kinds: this harness owns its engine, so the numbers are its own. */
enum { FK_DELIVER = 32, FK_TICK = 33, FK_DISK = 34 };

typedef struct fleet_packet {
    uint32_t from;
    uint32_t len;
    uint64_t to_inc; /* the receiver's incarnation when sent: a crash drops it */
    uint8_t bytes[];
} fleet_packet;

/* Packets of up to this many bytes (nearly all of them) are recycled
 * through a free list rather than malloc'd one by one. */
#define FLEET_PACKET_SMALL (512u - sizeof(fleet_packet))

/* A free small packet (its bytes hold the link). */
typedef struct fleet_spare {
    struct fleet_spare *next;
} fleet_spare;

/* What one rf_node_write did to a group's durable state (fleet_durable.c). */
typedef struct fleet_wsum {
    uint64_t group;
    uint64_t term, vote;          /* has_hard_state */
    uint64_t snap_index, snap_term;
    uint64_t truncate_from;       /* 0: none */
    uint64_t last_index, last_term; /* of its entries, when n_entries > 0 */
    bool drop, has_hard_state, has_snapshot, has_entries;
} fleet_wsum;

/* A group's durable state as the acknowledged batches left it. */
typedef struct fleet_dgroup {
    uint64_t group;
    uint64_t term, vote;
    uint64_t last_index, last_term;
    bool has_hard_state;
    bool last_known; /* false after a truncation or a snapshot inside the log */
    bool uncertain;  /* written by the batch a crash interrupted */
} fleet_dgroup;

/* One rf_batch waiting for the disk or being committed, with the node
 * batches it holds (their highest persist token) and the memory it points to. */
typedef struct fleet_batch {
    rf_batch b;
    rf_node_store_buf buf;
    uint64_t token; /* 0: none (a batch of drops only) */
    fleet_wsum *ws; /* what its writes do, in order */
    size_t n_ws, cap_ws;
} fleet_batch;

enum { FLEET_IO_NONE = 0, FLEET_IO_COMMIT = 1, FLEET_IO_COMPACT = 2 };

typedef struct fleet_node {
    rf_node *node; /* NULL while crashed */
    char name[16];
    uint64_t incarnation; /* bumped at every crash: older events are dropped */
    bool paused;          /* inputs wait in `held` until the resume */
    rf_sim_event *held;   /* messages and disk completions held, in order */
    uint32_t n_held, cap_held;
    int32_t drift_ppm;    /* the node's clock runs this much fast (+) or slow (-) */
    uint64_t clock_sim0;  /* simulated time of the last drift change */
    uint64_t clock_node0; /* the node's clock then */
    /* durable state (sim/fleet_disk.c) */
    rf_simdisk *disk;     /* survives crashes */
    rf_store *st;         /* NULL while crashed */
    rf_simdisk_faults faults; /* in force (a crash clears the disk's: set again) */
    rf_pcg32 crash_rng;   /* where a crash cuts the I/O in flight */
    fleet_batch **q;      /* FIFO q[0..q_len), q[0] committing when io == COMMIT;
                           * spares up to q_cap (a batch never moves: the store
                           * points to it during its commit) */
    uint32_t q_len, q_cap;
    int io;               /* FLEET_IO_* in flight */
    bool store_failed;    /* down because a commit failed (rf_store.h "Failures") */
    fleet_dgroup *dur;    /* by group id: what a restart must give back */
    size_t n_dur, cap_dur;
    bool dur_lost;        /* the account ran out of memory: no check at the next restart */
    uint64_t commits, restarts;
} fleet_node;

typedef struct fleet_reply {
    bool done;
    int status;
    uint32_t node; /* the node the request was made to */
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
} fleet_reply;

struct rf_sim_fleet {
    rf_sim_fleet_config cfg;
    rf_sim_engine eng;
    rf_sim_net net;
    fleet_node nodes[RF_SIM_NODES_MAX];
    fleet_reply *replies; /* by harness request id - 1 */
    uint64_t n_requests;
    uint64_t replies_low; /* every request below it has its reply */
    rf_sim_fleet_stats stats;
    rf_sim_fleet_hooks hooks;
    rf_sim_fleet_check *check; /* NULL unless cfg.check_safety */
    rf_sim_fleet_obs *obs;     /* RF_SIM_FLEET_OBS_MAX */
    uint64_t n_obs;
    uint64_t failures;         /* harness failures (a refused batch...) */
    char failure[RF_SIM_FLEET_FAILURE_TEXT_MAX];
    fleet_spare *spares;       /* free small packets */
};

/* fleet_cluster.c */
void fleet_drain(rf_sim_fleet *f, uint32_t index);
void fleet_fail(rf_sim_fleet *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool fleet_held(rf_sim_fleet *f, const rf_sim_event *ev);

void fleet_replies_down(rf_sim_fleet *f, uint32_t index);
void fleet_tick_start(rf_sim_fleet *f, uint32_t index, uint64_t delay_ns);

/* fleet_packet.c: a packet of len bytes (its len field is the caller's to
 * set), its release, and the release of the free list at close. */
fleet_packet *fleet_packet_new(rf_sim_fleet *f, size_t len);
void fleet_packet_free(rf_sim_fleet *f, fleet_packet *p);
void fleet_packets_free(rf_sim_fleet *f);

/* fleet_disk.c */
int fleet_disk_open(rf_sim_fleet *f, uint32_t index);
void fleet_disk_close(rf_sim_fleet *f, uint32_t index);
/* Takes a node batch's writes (before rf_node_advance). False when the node
 * cannot go on (it was taken down). */
bool fleet_disk_add(rf_sim_fleet *f, uint32_t index, const rf_node_batch *b);
/* Starts the next commit when the disk is idle and a batch waits. */
void fleet_disk_kick(rf_sim_fleet *f, uint32_t index);
void fleet_on_disk(void *ctx, rf_sim_engine *e, const rf_sim_event *ev);
/* Power loss of the node's process and disk (the I/O in flight may tear). */
void fleet_disk_crash(rf_sim_fleet *f, uint32_t index);

/* fleet_durable.c: the harness's own account of what each node's store
 * acknowledged, checked against what a restart gives back. */
bool fleet_durable_note(fleet_batch *fb, const rf_node_batch *b);
void fleet_durable_apply(fleet_node *fn, const fleet_batch *fb);
/* A crash interrupts fb's commit (NULL: none in flight). */
void fleet_durable_crash(fleet_node *fn, const fleet_batch *fb);
/* After a restore: compares, fails the harness on a loss, then starts
 * again from what was restored. */
void fleet_durable_restarted(rf_sim_fleet *f, uint32_t index);
void fleet_durable_free(fleet_node *fn);
/* Fails the harness when an envelope node index sends acknowledges an
 * append or grants a vote that its acknowledged batches have not made
 * durable (the contract of raft.h's durability tokens). */
void fleet_durable_check_sent(rf_sim_fleet *f, uint32_t index, const uint8_t *buf, size_t len);

#endif

/* tnet: a tiny test-local network and disk for wiring rf_raft instances by hand. */
#ifndef TESTS_TNET_H
#define TESTS_TNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

#define TNET_NODES 8
#define TNET_MS 1000000ull

typedef struct tnet_write {
    uint64_t token;
    bool has_snapshot;
    uint64_t snap_index, snap_term;
    rf_membership snap_conf;
    uint8_t *snap_data;
    size_t snap_len;
    uint64_t truncate_from;
    rf_entry *ents;
    size_t n_ents;
    bool has_hs;
    uint64_t term, vote;
} tnet_write;

/* What a node has on "disk". */
typedef struct tnet_store {
    uint64_t term, vote;
    uint64_t snap_index, snap_term;
    rf_membership snap_conf;
    uint8_t *snap_data;
    size_t snap_len;
    rf_entry *ents; /* snap_index+1 .. */
    size_t n_ents, cap;
} tnet_store;

typedef struct tnet_msg {
    uint64_t from, to;
    uint8_t *bytes;
    size_t len;
} tnet_msg;

typedef struct tnet_reply {
    uint64_t node;
    uint64_t request_id;
    int status;
    uint64_t leader_hint;
    char data[64];
} tnet_reply;

typedef struct tnet tnet;
typedef bool (*tnet_filter)(tnet *t, uint64_t from, uint64_t to, const rf_msg *m);

struct tnet {
    int n;
    uint64_t now;
    rf_raft *r[TNET_NODES + 1]; /* by node id 1..TNET_NODES */
    rf_raft_config cfg[TNET_NODES + 1];
    tnet_store st[TNET_NODES + 1];
    bool manual[TNET_NODES + 1];       /* writes wait for tnet_sync */
    tnet_write *pend[TNET_NODES + 1];
    size_t n_pend[TNET_NODES + 1];
    bool cut[TNET_NODES + 1][TNET_NODES + 1]; /* from -> to dropped */
    tnet_filter filter;                 /* optional: return false to drop */
    tnet_msg *q;
    size_t qn, qcap;
    tnet_reply replies[4096];
    size_t n_replies;
    uint64_t applied_count[TNET_NODES + 1];
    int obs_count[TNET_NODES + 1][8];
    uint64_t msgs_by_type[16];
    uint32_t snap_chunk_max;
    uint64_t trace; /* FNV-1a of every encoded message, in send order */
};

/* The small config every test starts from (T = 100 ms, heartbeat 10 ms). */
void tnet_config(rf_raft_config *c, uint64_t id);

/* Bootstraps voters 1..n (n <= TNET_NODES); cfg tweak may be NULL. */
void tnet_init(tnet *t, int n, void (*tweak)(rf_raft_config *c));
void tnet_free(tnet *t);

/* An empty member id (waits to be added). */
void tnet_add_empty(tnet *t, uint64_t id);

/* Drains every node's ready, delivers queued messages, until quiet. */
void tnet_settle(tnet *t);

/* Advances time by ms in 1 ms ticks, settling after each. */
void tnet_run(tnet *t, uint64_t ms);

/* The leader with the highest term, 0 if none. */
uint64_t tnet_leader(tnet *t);

/* Runs until a leader exists (at most ms); returns it. */
uint64_t tnet_wait_leader(tnet *t, uint64_t ms);

/* Makes node id's pending writes durable and reports them. */
void tnet_sync(tnet *t, uint64_t id);

/* Crash: pending writes are lost; restart from the store. */
void tnet_crash(tnet *t, uint64_t id);
/* Crashes id and starts it again empty: no log, no term, no vote (a
 * member the fleet stopped and started again on demand). */
void tnet_wipe(tnet *t, uint64_t id);
void tnet_restart(tnet *t, uint64_t id);

/* Isolates id from everyone (both ways) or heals it. */
void tnet_isolate(tnet *t, uint64_t id, bool on);

/* The latest reply for request_id, or NULL. */
const tnet_reply *tnet_reply_for(const tnet *t, uint64_t request_id);

/* Proposes at node id and settles; returns the immediate status. The
 * session's floor is seq (one command at a time). */
int tnet_propose(tnet *t, uint64_t id, uint64_t req, uint64_t client, uint64_t seq,
                 const char *cmd);
/* The same with the session's floor given. */
int tnet_propose_floor(tnet *t, uint64_t id, uint64_t req, uint64_t client, uint64_t seq,
                       uint64_t floor, const char *cmd);

#endif

/* history: fleetd's observations recorded in its data directory's SQLite history (sim/history.sql) for fleet-report. */
#ifndef PROD_HISTORY_H
#define PROD_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet/rf_node.h"

/* Each fleetd start is one run (kind 'fleetd', scenario the node's name)
 * in DATA_DIR/history.db, written through sim/record.h, so that
 *   fleet-report DATA_DIR/history.db -o DIR
 * draws the cluster as this node saw it. What one node sees:
 *  - nodes and their zones, and node events (add, deactivate, remove,
 *    purge, activate again), from the local metadata replica;
 *  - groups as they are added and removed, from the metadata too;
 *  - leader changes of every group: at once for the groups this node
 *    leads (rf_node's LEADER observation), by polling the local members
 *    (every RF_HIST_POLL_NS) and the leader cache (every second) for the
 *    others. A group this node never hosts shows the leader its requests
 *    learned, when they learned it;
 *  - membership changes with their reasons, as rf_node reports them: by
 *    the group's leader, so this node records the changes of the groups it
 *    leads (the cluster's full list is the union of the nodes' histories);
 *  - placement snapshots, at most one per RF_HIST_SNAPSHOT_NS after a
 *    change, and one at the end: node states (up, inactive while
 *    deactivating, down while unreachable from here, removed), and per
 *    group its members as the local member sees them (none when it is not
 *    hosted here), its leader and its placement target.
 * Times are monotonic nanoseconds since the node started.
 *
 * Writes never wait for a sync: rows accumulate in one SQLite transaction
 * committed every RF_HIST_FLUSH_NS (WAL mode, synchronous NORMAL: a commit
 * is a write to the WAL file, no fsync), so the loop spends a few
 * microseconds per row and one short write per 100 ms. A failing database
 * is logged once and the node goes on without it: history is not the
 * Raft log. */

#define RF_HIST_FILE "history.db"
#define RF_HIST_FLUSH_NS 100000000ull      /* rows committed at least this often */
#define RF_HIST_POLL_NS 100000000ull       /* local members' leaders polled */
#define RF_HIST_CACHE_POLL_NS 1000000000ull /* every group's known leader polled */
#define RF_HIST_SNAPSHOT_NS 1000000000ull  /* at most one snapshot per second */
#define RF_HIST_GROUPS_MAX (1u << 20)      /* groups tracked (= RF_META_GROUPS_MAX) */

typedef struct rf_hist rf_hist;

typedef struct rf_hist_info {
    const char *data_dir;
    const char *node_name;
    uint64_t node_id;
    uint64_t seed;     /* the node's seed, recorded with the run */
    const char *build; /* "fleetd 0.1.0" */
    bool restored;     /* restored from the data directory: a 'restart' event */
} rf_hist_info;

/* Opens (creating) DATA_DIR/history.db and begins this start's run.
 * now_ns: the node's clock (the zero of every recorded time). Returns RF_OK,
 * or an rf_err with err saying why (a foreign database, a newer schema...). */
int rf_hist_open(rf_hist **out, const rf_hist_info *info, uint64_t now_ns, char *err, size_t cap);

/* The observations of one rf_node batch (between rf_node_ready and
 * rf_node_advance). */
void rf_hist_batch(rf_hist *h, const rf_node *n, const rf_node_batch *b, uint64_t now_ns);

/* Polls metadata and leaders, takes a due snapshot, commits due rows.
 * Call it every loop tick (it does its work at most every RF_HIST_POLL_NS). */
void rf_hist_tick(rf_hist *h, const rf_node *n, uint64_t now_ns);

/* Records a last snapshot ('end'), ends the run (pass, detail) and closes.
 * n may be NULL (no snapshot). Accepts a NULL h. */
void rf_hist_close(rf_hist *h, const rf_node *n, uint64_t now_ns, const char *detail);

/* Rows refused by SQLite so far (logged once). */
uint64_t rf_hist_errors(const rf_hist *h);

#endif

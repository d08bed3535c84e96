/* record: the recorder that writes a run's history into SQLite (sim/history.sql). */
#ifndef RF_SIM_RECORD_H
#define RF_SIM_RECORD_H

#include <stddef.h>
#include <stdint.h>

/* A history database is recognised by its application id ('RFLT') and its
 * schema version (PRAGMA user_version). Readers refuse anything else. */
#define RF_REC_APPLICATION_ID 0x52464C54
#define RF_REC_SCHEMA_VERSION 1

/* Records are written in transactions of at most this many rows; a run's
 * end, rf_rec_flush and rf_rec_close commit what is pending. */
#define RF_REC_BATCH_ROWS_MAX 8192

/* The schema text, identical to sim/history.sql (a test guards it). */
extern const char rf_rec_schema_sql[];

typedef struct rf_rec rf_rec;

typedef enum {
    RF_REC_NODE_ADD,
    RF_REC_NODE_ACTIVATE,
    RF_REC_NODE_DEACTIVATE,
    RF_REC_NODE_REMOVE,
    RF_REC_NODE_PURGE,
    RF_REC_NODE_CRASH,
    RF_REC_NODE_RESTART,
    RF_REC_NODE_PAUSE,
    RF_REC_NODE_RESUME,
    RF_REC_NODE_KIND_COUNT
} rf_rec_node_kind;

typedef enum {
    RF_REC_ADD_LEARNER,
    RF_REC_PROMOTE,
    RF_REC_REMOVE,
    RF_REC_TRANSFER,
    RF_REC_CHANGE_COUNT
} rf_rec_change;

typedef enum {
    RF_REC_BOOTSTRAP,
    RF_REC_PLACEMENT,
    RF_REC_NODE_ADDED,
    RF_REC_NODE_REMOVED,
    RF_REC_PURGE,
    RF_REC_DEACTIVATE,
    RF_REC_GROUP_ADDED,
    RF_REC_GROUP_REMOVED,
    RF_REC_ADMIN,
    RF_REC_REASON_COUNT
} rf_rec_reason;

typedef enum {
    RF_REC_UP,
    RF_REC_DOWN,
    RF_REC_PAUSED,
    RF_REC_ISOLATED,
    RF_REC_INACTIVE,
    RF_REC_REMOVED,
    RF_REC_STATE_COUNT
} rf_rec_node_state;

typedef enum { RF_REC_OP_OK, RF_REC_OP_FAIL, RF_REC_OP_UNKNOWN } rf_rec_op_status;
typedef enum { RF_REC_PASS, RF_REC_FAIL, RF_REC_SKIP, RF_REC_ERROR } rf_rec_outcome;

/* The text stored for each enumerated value (the schema's CHECK lists). */
const char *rf_rec_node_kind_name(rf_rec_node_kind kind);
const char *rf_rec_change_name(rf_rec_change change);
const char *rf_rec_reason_name(rf_rec_reason reason);
const char *rf_rec_node_state_name(rf_rec_node_state state);

/* "No node" (leaderless group, no cause event) in the calls below. */
#define RF_REC_NONE (-1)

typedef struct {
    const char *kind;       /* "run" (default when NULL), "fuzz", "replay", "fleetd"... */
    const char *scenario;   /* scenario path or cluster name */
    uint64_t seed;
    const char *build;      /* build identity; NULL: "unknown" */
    int64_t started_unix_s; /* wall-clock start; 0: now */
} rf_rec_run_info;

typedef struct {
    rf_rec_outcome outcome; /* PASS, FAIL or ERROR */
    const char *detail;     /* first violation or error, or NULL */
    uint64_t trace_hash;
    uint64_t end_ns;        /* simulated time at which the run stopped */
    uint64_t wall_ns;       /* wall-clock duration */
} rf_rec_run_end_info;

typedef struct {
    int64_t group_id;
    uint32_t client;
    int is_query;           /* 0: command, 1: query */
    const char *op;
    const char *arg_json;   /* JSON value, NULL for null */
    const char *result_json;/* JSON value, NULL for null or unknown */
    rf_rec_op_status status;
    uint64_t call_ns;
    uint64_t return_ns;     /* ignored when status is UNKNOWN */
} rf_rec_op;

typedef struct {
    uint64_t seed;
    uint32_t nodes, zones, groups;
    const char *params_json;  /* JSON object of every parameter drawn */
    rf_rec_outcome outcome;   /* PASS, FAIL or ERROR */
    const char *detail;       /* failing check, or NULL */
    uint64_t wall_ns;
    uint64_t trace_hash;
    int reran;                /* 1 when rerun_hash is meaningful */
    uint64_t rerun_hash;
} rf_rec_seed_info;

/* Opens the history database at path, creating it and applying the schema
 * when the file is new or empty. A database that is not a raftfleet history
 * (another application id, tables of its own, or not SQLite at all) is
 * refused with RF_EFOREIGNDB; a newer schema with RF_EVERSION. On failure
 * *out is NULL and err holds a sentence naming the path. */
int rf_rec_open(rf_rec **out, const char *path, char *err, size_t err_len);

/* Commits what is pending and closes. A run still open is left with the
 * outcome 'running'. Accepts NULL. */
void rf_rec_close(rf_rec *rec);

/* The last SQLite error message, for logs. */
const char *rf_rec_errmsg(const rf_rec *rec);

/* Starts a run; every record call until rf_rec_run_end belongs to it. */
int rf_rec_run_begin(rf_rec *rec, const rf_rec_run_info *info, int64_t *run_id);
int rf_rec_run_end(rf_rec *rec, const rf_rec_run_end_info *info);
int64_t rf_rec_run_id(const rf_rec *rec); /* 0 when no run is open */

/* The record calls below return RF_OK; RF_EINVAL when no run is open or an
 * argument is bad (nothing is written); or RF_EDB when SQLite refused the
 * row (rf_rec_errmsg says why; the rows before and after it stand). Node and
 * group ids are the driver's own numbers, stable within a run. Times are
 * simulated nanoseconds (fleetd: monotonic since start). */
int rf_rec_node(rf_rec *rec, int64_t node_id, const char *name, const char *zone);
int rf_rec_group(rf_rec *rec, int64_t group_id, const char *name, uint32_t replicas,
                 const char *model, uint64_t added_ns);
int rf_rec_group_removed(rf_rec *rec, int64_t group_id, uint64_t t_ns);

/* A fault starts; *fault_id is what rf_rec_fault_end takes (an id not of
 * this run gives RF_ENOTFOUND). */
int rf_rec_fault_begin(rf_rec *rec, uint64_t t_ns, const char *kind, const char *targets,
                       const char *detail, int64_t *fault_id);
int rf_rec_fault_end(rf_rec *rec, int64_t fault_id, uint64_t t_ns);

/* moves_min < 0: not relevant. *event_id (may be NULL) is what membership
 * changes caused by the event name as their cause. */
int rf_rec_node_event(rf_rec *rec, uint64_t t_ns, int64_t node_id, rf_rec_node_kind kind,
                      int64_t moves_min, const char *detail, int64_t *event_id);

/* leader_id RF_REC_NONE: the group has no leader from t_ns on. */
int rf_rec_leader(rf_rec *rec, uint64_t t_ns, int64_t group_id, uint64_t term,
                  int64_t leader_id);

/* cause_id RF_REC_NONE when no node event caused the change. */
int rf_rec_membership(rf_rec *rec, uint64_t t_ns, int64_t group_id, int64_t node_id,
                      rf_rec_change change, rf_rec_reason reason, int64_t cause_id);

/* A placement snapshot: rf_rec_snapshot_begin, then the state of every node
 * and the placement of every group, which belong to the latest snapshot
 * begun in this run. Drivers take one at the start, at every fault boundary
 * and node event, and at the end (the report draws one graph per snapshot).
 * members[0..members_n) in member order, learners[i] nonzero for a learner
 * (learners may be NULL), leader_id one of the members or RF_REC_NONE,
 * target[0..target_n) the rendezvous target (desired leader first). A call
 * with a node listed twice or a leader outside the members writes nothing
 * and returns RF_EINVAL. */
int rf_rec_snapshot_begin(rf_rec *rec, uint64_t t_ns, const char *label, int64_t *snapshot_id);
int rf_rec_snapshot_node(rf_rec *rec, int64_t node_id, rf_rec_node_state state);
int rf_rec_snapshot_group(rf_rec *rec, int64_t group_id, const int64_t *members,
                          const uint8_t *learners, size_t members_n, int64_t leader_id,
                          const int64_t *target, size_t target_n);

int rf_rec_client_op(rf_rec *rec, const rf_rec_op *op);
int rf_rec_check(rf_rec *rec, const char *checker, rf_rec_outcome outcome, const char *detail,
                 int64_t t_ns /* < 0: none */);
int rf_rec_fuzz_seed(rf_rec *rec, const rf_rec_seed_info *seed);

/* Commits the pending transaction (a reader then sees everything). A
 * long-lived recorder (fleetd) calls it now and then, say every second:
 * rows are otherwise committed only every RF_REC_BATCH_ROWS_MAX rows. */
int rf_rec_flush(rf_rec *rec);

#endif

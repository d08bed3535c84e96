/* record: the recorder that writes a run's history into SQLite (sim/history.sql). */
#include "sim/record.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"

/* One prepared statement per kind of record, prepared once at open. */
enum {
    ST_RUN_BEGIN,
    ST_RUN_END,
    ST_NODE,
    ST_GROUP,
    ST_GROUP_REMOVED,
    ST_FAULT_BEGIN,
    ST_FAULT_END,
    ST_NODE_EVENT,
    ST_LEADER,
    ST_MEMBERSHIP,
    ST_SNAPSHOT,
    ST_SNAPSHOT_NODE,
    ST_PLACEMENT,
    ST_CLIENT_OP,
    ST_CHECK,
    ST_FUZZ_SEED,
    ST_COUNT
};

static const char *const rec_sql[ST_COUNT] = {
    [ST_RUN_BEGIN] = "INSERT INTO runs (kind, scenario, seed, build, started) "
                     "VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%SZ', ?5, 'unixepoch'))",
    [ST_RUN_END] = "UPDATE runs SET outcome = ?2, detail = ?3, trace_hash = ?4, end_ns = ?5, "
                   "wall_ns = ?6 WHERE id = ?1",
    [ST_NODE] = "INSERT INTO nodes (run_id, node_id, name, zone) VALUES (?1, ?2, ?3, ?4)",
    [ST_GROUP] = "INSERT INTO groups (run_id, group_id, name, replicas, model, added_ns) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_GROUP_REMOVED] = "UPDATE groups SET removed_ns = ?3 WHERE run_id = ?1 AND group_id = ?2",
    [ST_FAULT_BEGIN] = "INSERT INTO faults (run_id, kind, start_ns, targets, detail) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_FAULT_END] = "UPDATE faults SET end_ns = ?3 WHERE run_id = ?1 AND id = ?2",
    [ST_NODE_EVENT] = "INSERT INTO node_events (run_id, t_ns, node_id, kind, moves_min, detail) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_LEADER] = "INSERT INTO leader_changes (run_id, group_id, t_ns, term, leader_id) "
                  "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_MEMBERSHIP] = "INSERT INTO membership_changes "
                      "(run_id, group_id, t_ns, node_id, change, reason, cause_id) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_SNAPSHOT] = "INSERT INTO snapshots (run_id, t_ns, label) VALUES (?1, ?2, ?3)",
    [ST_SNAPSHOT_NODE] = "INSERT INTO snapshot_nodes (snapshot_id, node_id, state) "
                         "VALUES (?1, ?2, ?3)",
    [ST_PLACEMENT] = "INSERT INTO placement "
                     "(snapshot_id, group_id, node_id, member_pos, role, is_leader, target_pos) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_CLIENT_OP] = "INSERT INTO client_ops (run_id, group_id, client, kind, op, arg, result, "
                     "status, call_ns, return_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_CHECK] = "INSERT INTO checks (run_id, checker, outcome, detail, t_ns) "
                 "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_FUZZ_SEED] = "INSERT INTO fuzz_seeds (run_id, seed, nodes, zones, groups, params, "
                     "outcome, detail, wall_ns, trace_hash, rerun_hash) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
};

struct rf_rec {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    int in_txn;
    uint32_t txn_rows;  /* rows written in the open transaction */
    int64_t run_id;     /* 0 when no run is open */
    int64_t snapshot_id; /* 0 when no snapshot was begun in this run */
};

static const char *const node_kind_names[RF_REC_NODE_KIND_COUNT] = {
    "add", "activate", "deactivate", "remove", "purge", "crash", "restart", "pause", "resume",
};
static const char *const change_names[RF_REC_CHANGE_COUNT] = {
    "add_learner", "promote", "remove", "transfer",
};
static const char *const reason_names[RF_REC_REASON_COUNT] = {
    "bootstrap", "placement", "node_added", "node_removed", "purge",
    "deactivate", "group_added", "group_removed", "admin",
};
static const char *const state_names[RF_REC_STATE_COUNT] = {
    "up", "down", "paused", "isolated", "inactive", "removed",
};
static const char *const outcome_names[] = {"pass", "fail", "skip", "error"};
static const char *const op_status_names[] = {"ok", "fail", "unknown"};

const char *rf_rec_node_kind_name(rf_rec_node_kind kind)
{
    ASSERT((unsigned)kind < RF_REC_NODE_KIND_COUNT);
    return node_kind_names[kind];
}

const char *rf_rec_change_name(rf_rec_change change)
{
    ASSERT((unsigned)change < RF_REC_CHANGE_COUNT);
    return change_names[change];
}

const char *rf_rec_reason_name(rf_rec_reason reason)
{
    ASSERT((unsigned)reason < RF_REC_REASON_COUNT);
    return reason_names[reason];
}

const char *rf_rec_node_state_name(rf_rec_node_state state)
{
    ASSERT((unsigned)state < RF_REC_STATE_COUNT);
    return state_names[state];
}

static void rec_errf(char *err, size_t err_len, const char *fmt, ...)
{
    if (err == NULL || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* ---- opening: recognise our databases, refuse the others ------------------ */

/* One integer from a single-row query; -1 when the query fails. */
static int64_t db_int(sqlite3 *db, const char *sql, int *rc_out)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            v = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    *rc_out = rc;
    return v;
}

/* Decides whether db is ours, empty (fresh) or foreign. */
static int rec_identify(sqlite3 *db, const char *path, int *fresh, char *err, size_t err_len)
{
    int rc;
    int64_t app = db_int(db, "PRAGMA application_id", &rc);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_NOTADB) {
            rec_errf(err, err_len, "%s: not a raftfleet history database (not SQLite)", path);
            return RF_EFOREIGNDB;
        }
        rec_errf(err, err_len, "%s: cannot open: %s", path, sqlite3_errmsg(db));
        return RF_EDB;
    }
    int64_t version = db_int(db, "PRAGMA user_version", &rc);
    int64_t objects = db_int(db, "SELECT count(*) FROM sqlite_master", &rc);
    if (rc != SQLITE_OK) {
        rec_errf(err, err_len, "%s: %s", path, sqlite3_errmsg(db));
        return RF_EDB;
    }
    *fresh = 0;
    if (app == 0 && objects == 0 && version == 0) {
        *fresh = 1;
        return RF_OK;
    }
    if (app != RF_REC_APPLICATION_ID) {
        rec_errf(err, err_len,
                 "%s: not a raftfleet history database (application id %" PRId64
                 ", %" PRId64 " schema objects)",
                 path, app, objects);
        return RF_EFOREIGNDB;
    }
    if (version > RF_REC_SCHEMA_VERSION || version < 1) {
        rec_errf(err, err_len, "%s: history schema version %" PRId64 ", this build reads %d",
                 path, version, RF_REC_SCHEMA_VERSION);
        return RF_EVERSION;
    }
    return RF_OK;
}

static int rec_exec(sqlite3 *db, const char *sql, const char *path, char *err, size_t err_len)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return RF_OK;
    rec_errf(err, err_len, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return RF_EDB;
}

static int rec_setup(rf_rec *rec, const char *path, char *err, size_t err_len)
{
    int fresh = 0;
    int rc = rec_identify(rec->db, path, &fresh, err, err_len);
    if (rc != RF_OK)
        return rc;
    /* WAL keeps a reader (fleet-report) and a writer apart; NORMAL sync is
     * safe against corruption in WAL mode, and history is not the Raft log. */
    rc = rec_exec(rec->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;", path,
                  err, err_len);
    if (rc != RF_OK)
        return rc;
    if (fresh) {
        rc = rec_exec(rec->db, "BEGIN IMMEDIATE", path, err, err_len);
        if (rc == RF_OK)
            rc = rec_exec(rec->db, rf_rec_schema_sql, path, err, err_len);
        if (rc == RF_OK)
            rc = rec_exec(rec->db, "COMMIT", path, err, err_len);
        if (rc != RF_OK) {
            sqlite3_exec(rec->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(rec->db, rec_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &rec->st[i],
                               NULL) != SQLITE_OK) {
            rec_errf(err, err_len, "%s: %s", path, sqlite3_errmsg(rec->db));
            return RF_EDB;
        }
    }
    return RF_OK;
}

int rf_rec_open(rf_rec **out, const char *path, char *err, size_t err_len)
{
    ASSERT(out != NULL);
    *out = NULL;
    if (path == NULL || path[0] == '\0') {
        rec_errf(err, err_len, "no history database path given");
        return RF_EINVAL;
    }
    rf_rec *rec = calloc(1, sizeof *rec);
    if (rec == NULL) {
        rec_errf(err, err_len, "%s: out of memory", path);
        return RF_ENOMEM;
    }
    int rc = sqlite3_open_v2(path, &rec->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rec_errf(err, err_len, "%s: cannot open: %s", path,
                 rec->db ? sqlite3_errmsg(rec->db) : sqlite3_errstr(rc));
        rf_rec_close(rec);
        return RF_EDB;
    }
    sqlite3_busy_timeout(rec->db, 5000);
    rc = rec_setup(rec, path, err, err_len);
    if (rc != RF_OK) {
        rf_rec_close(rec);
        return rc;
    }
    *out = rec;
    return RF_OK;
}

void rf_rec_close(rf_rec *rec)
{
    if (rec == NULL)
        return;
    if (rec->db != NULL)
        (void)rf_rec_flush(rec);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(rec->st[i]);
    sqlite3_close(rec->db);
    free(rec);
}

const char *rf_rec_errmsg(const rf_rec *rec)
{
    return rec && rec->db ? sqlite3_errmsg(rec->db) : "no database";
}

/* ---- writing: statements stepped inside batched transactions -------------- */

int rf_rec_flush(rf_rec *rec)
{
    ASSERT(rec != NULL);
    if (!rec->in_txn)
        return RF_OK;
    rec->in_txn = 0;
    rec->txn_rows = 0;
    return sqlite3_exec(rec->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? RF_OK : RF_EDB;
}

/* Steps statement i (already bound) inside the open transaction, opening
 * one if needed and committing once RF_REC_BATCH_ROWS_MAX rows are pending:
 * one transaction per row would cost a sync per row. */
static int rec_step(rf_rec *rec, int i)
{
    sqlite3_stmt *st = rec->st[i];
    if (!rec->in_txn) {
        if (sqlite3_exec(rec->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
            return RF_EDB;
        rec->in_txn = 1;
    }
    /* Every record function binds every parameter, so bindings are not
     * cleared between rows. */
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return RF_EDB;
    if (++rec->txn_rows >= RF_REC_BATCH_ROWS_MAX)
        return rf_rec_flush(rec);
    return RF_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Simulated times and seeds are uint64; SQLite stores int64. Times beyond
 * 2^63 ns (292 years) do not occur; seeds keep their bits. */
static void bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

static void bind_hash(sqlite3_stmt *st, int i, uint64_t h)
{
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, h);
    sqlite3_bind_text(st, i, hex, -1, SQLITE_TRANSIENT);
}

static void bind_opt_id(sqlite3_stmt *st, int i, int64_t id)
{
    if (id == RF_REC_NONE)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, id);
}

int rf_rec_run_begin(rf_rec *rec, const rf_rec_run_info *info, int64_t *run_id)
{
    ASSERT(rec != NULL);
    ASSERT(info != NULL);
    if (rec->run_id != 0)
        return RF_EBUSY;
    if (info->scenario == NULL)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_RUN_BEGIN];
    bind_text(st, 1, info->kind ? info->kind : "run");
    bind_text(st, 2, info->scenario);
    bind_u64(st, 3, info->seed);
    bind_text(st, 4, info->build ? info->build : "unknown");
    sqlite3_bind_int64(st, 5, info->started_unix_s ? info->started_unix_s : (int64_t)time(NULL));
    int rc = rec_step(rec, ST_RUN_BEGIN);
    if (rc != RF_OK)
        return rc;
    rec->run_id = sqlite3_last_insert_rowid(rec->db);
    rec->snapshot_id = 0;
    if (run_id != NULL)
        *run_id = rec->run_id;
    return RF_OK;
}

int rf_rec_run_end(rf_rec *rec, const rf_rec_run_end_info *info)
{
    ASSERT(rec != NULL);
    ASSERT(info != NULL);
    if (rec->run_id == 0)
        return RF_EINVAL;
    ASSERT(info->outcome == RF_REC_PASS || info->outcome == RF_REC_FAIL ||
           info->outcome == RF_REC_ERROR);
    sqlite3_stmt *st = rec->st[ST_RUN_END];
    sqlite3_bind_int64(st, 1, rec->run_id);
    bind_text(st, 2, outcome_names[info->outcome]);
    bind_text(st, 3, info->detail);
    bind_hash(st, 4, info->trace_hash);
    bind_u64(st, 5, info->end_ns);
    bind_u64(st, 6, info->wall_ns);
    int rc = rec_step(rec, ST_RUN_END);
    rec->run_id = 0;
    rec->snapshot_id = 0;
    if (rc != RF_OK)
        return rc;
    return rf_rec_flush(rec);
}

int64_t rf_rec_run_id(const rf_rec *rec)
{
    return rec->run_id;
}

int rf_rec_node(rf_rec *rec, int64_t node_id, const char *name, const char *zone)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || name == NULL || zone == NULL)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_NODE];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, node_id);
    bind_text(st, 3, name);
    bind_text(st, 4, zone);
    return rec_step(rec, ST_NODE);
}

int rf_rec_group(rf_rec *rec, int64_t group_id, const char *name, uint32_t replicas,
                 const char *model, uint64_t added_ns)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || name == NULL || model == NULL)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_GROUP];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, group_id);
    bind_text(st, 3, name);
    sqlite3_bind_int64(st, 4, replicas);
    bind_text(st, 5, model);
    bind_u64(st, 6, added_ns);
    return rec_step(rec, ST_GROUP);
}

int rf_rec_group_removed(rf_rec *rec, int64_t group_id, uint64_t t_ns)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_GROUP_REMOVED];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, group_id);
    bind_u64(st, 3, t_ns);
    return rec_step(rec, ST_GROUP_REMOVED);
}

int rf_rec_fault_begin(rf_rec *rec, uint64_t t_ns, const char *kind, const char *targets,
                       const char *detail, int64_t *fault_id)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || kind == NULL || targets == NULL)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_FAULT_BEGIN];
    sqlite3_bind_int64(st, 1, rec->run_id);
    bind_text(st, 2, kind);
    bind_u64(st, 3, t_ns);
    bind_text(st, 4, targets);
    bind_text(st, 5, detail);
    int rc = rec_step(rec, ST_FAULT_BEGIN);
    if (rc == RF_OK && fault_id != NULL)
        *fault_id = sqlite3_last_insert_rowid(rec->db);
    return rc;
}

int rf_rec_fault_end(rf_rec *rec, int64_t fault_id, uint64_t t_ns)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_FAULT_END];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, fault_id);
    bind_u64(st, 3, t_ns);
    int rc = rec_step(rec, ST_FAULT_END);
    if (rc == RF_OK && sqlite3_changes(rec->db) != 1)
        return RF_ENOTFOUND;
    return rc;
}

int rf_rec_node_event(rf_rec *rec, uint64_t t_ns, int64_t node_id, rf_rec_node_kind kind,
                      int64_t moves_min, const char *detail, int64_t *event_id)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || (unsigned)kind >= RF_REC_NODE_KIND_COUNT)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_NODE_EVENT];
    sqlite3_bind_int64(st, 1, rec->run_id);
    bind_u64(st, 2, t_ns);
    sqlite3_bind_int64(st, 3, node_id);
    bind_text(st, 4, node_kind_names[kind]);
    if (moves_min < 0)
        sqlite3_bind_null(st, 5);
    else
        sqlite3_bind_int64(st, 5, moves_min);
    bind_text(st, 6, detail);
    int rc = rec_step(rec, ST_NODE_EVENT);
    if (rc == RF_OK && event_id != NULL)
        *event_id = sqlite3_last_insert_rowid(rec->db);
    return rc;
}

int rf_rec_leader(rf_rec *rec, uint64_t t_ns, int64_t group_id, uint64_t term,
                  int64_t leader_id)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_LEADER];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, group_id);
    bind_u64(st, 3, t_ns);
    bind_u64(st, 4, term);
    bind_opt_id(st, 5, leader_id);
    return rec_step(rec, ST_LEADER);
}

int rf_rec_membership(rf_rec *rec, uint64_t t_ns, int64_t group_id, int64_t node_id,
                      rf_rec_change change, rf_rec_reason reason, int64_t cause_id)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || (unsigned)change >= RF_REC_CHANGE_COUNT ||
        (unsigned)reason >= RF_REC_REASON_COUNT)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_MEMBERSHIP];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, group_id);
    bind_u64(st, 3, t_ns);
    sqlite3_bind_int64(st, 4, node_id);
    bind_text(st, 5, change_names[change]);
    bind_text(st, 6, reason_names[reason]);
    bind_opt_id(st, 7, cause_id);
    return rec_step(rec, ST_MEMBERSHIP);
}

int rf_rec_snapshot_begin(rf_rec *rec, uint64_t t_ns, const char *label, int64_t *snapshot_id)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || label == NULL)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_SNAPSHOT];
    sqlite3_bind_int64(st, 1, rec->run_id);
    bind_u64(st, 2, t_ns);
    bind_text(st, 3, label);
    int rc = rec_step(rec, ST_SNAPSHOT);
    if (rc != RF_OK)
        return rc;
    rec->snapshot_id = sqlite3_last_insert_rowid(rec->db);
    if (snapshot_id != NULL)
        *snapshot_id = rec->snapshot_id;
    return RF_OK;
}

int rf_rec_snapshot_node(rf_rec *rec, int64_t node_id, rf_rec_node_state state)
{
    ASSERT(rec != NULL);
    if (rec->snapshot_id == 0 || (unsigned)state >= RF_REC_STATE_COUNT)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_SNAPSHOT_NODE];
    sqlite3_bind_int64(st, 1, rec->snapshot_id);
    sqlite3_bind_int64(st, 2, node_id);
    bind_text(st, 3, state_names[state]);
    return rec_step(rec, ST_SNAPSHOT_NODE);
}

static int rec_placement_row(rf_rec *rec, int64_t group_id, int64_t node_id, int64_t member_pos,
                             int learner, int is_leader, int64_t target_pos)
{
    sqlite3_stmt *st = rec->st[ST_PLACEMENT];
    sqlite3_bind_int64(st, 1, rec->snapshot_id);
    sqlite3_bind_int64(st, 2, group_id);
    sqlite3_bind_int64(st, 3, node_id);
    bind_opt_id(st, 4, member_pos);
    bind_text(st, 5, member_pos == RF_REC_NONE ? NULL : learner ? "learner" : "voter");
    sqlite3_bind_int(st, 6, is_leader);
    bind_opt_id(st, 7, target_pos);
    return rec_step(rec, ST_PLACEMENT);
}

static int64_t find_pos(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return (int64_t)i;
    return RF_REC_NONE;
}

int rf_rec_snapshot_group(rf_rec *rec, int64_t group_id, const int64_t *members,
                          const uint8_t *learners, size_t members_n, int64_t leader_id,
                          const int64_t *target, size_t target_n)
{
    ASSERT(rec != NULL);
    if (rec->snapshot_id == 0 || (members_n > 0 && members == NULL) ||
        (target_n > 0 && target == NULL))
        return RF_EINVAL;
    if (leader_id != RF_REC_NONE && find_pos(members, members_n, leader_id) == RF_REC_NONE)
        return RF_EINVAL;
    /* Validate everything before writing a row, so a refused call leaves
     * no partial placement behind. */
    for (size_t i = 0; i < members_n; i++)
        if (find_pos(members, i, members[i]) != RF_REC_NONE)
            return RF_EINVAL; /* a node listed twice */
    for (size_t i = 0; i < target_n; i++)
        if (find_pos(target, i, target[i]) != RF_REC_NONE)
            return RF_EINVAL;
    for (size_t i = 0; i < members_n; i++) {
        int rc = rec_placement_row(rec, group_id, members[i], (int64_t)i,
                                   learners != NULL && learners[i], members[i] == leader_id,
                                   find_pos(target, target_n, members[i]));
        if (rc != RF_OK)
            return rc;
    }
    for (size_t i = 0; i < target_n; i++) {
        if (find_pos(members, members_n, target[i]) != RF_REC_NONE)
            continue;
        int rc = rec_placement_row(rec, group_id, target[i], RF_REC_NONE, 0, 0, (int64_t)i);
        if (rc != RF_OK)
            return rc;
    }
    return RF_OK;
}

int rf_rec_client_op(rf_rec *rec, const rf_rec_op *op)
{
    ASSERT(rec != NULL);
    ASSERT(op != NULL);
    if (rec->run_id == 0 || op->op == NULL || (unsigned)op->status > RF_REC_OP_UNKNOWN)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_CLIENT_OP];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, op->group_id);
    sqlite3_bind_int64(st, 3, op->client);
    bind_text(st, 4, op->is_query ? "query" : "command");
    bind_text(st, 5, op->op);
    bind_text(st, 6, op->arg_json);
    bind_text(st, 7, op->status == RF_REC_OP_UNKNOWN ? NULL : op->result_json);
    bind_text(st, 8, op_status_names[op->status]);
    bind_u64(st, 9, op->call_ns);
    if (op->status == RF_REC_OP_UNKNOWN)
        sqlite3_bind_null(st, 10);
    else
        bind_u64(st, 10, op->return_ns);
    return rec_step(rec, ST_CLIENT_OP);
}

int rf_rec_check(rf_rec *rec, const char *checker, rf_rec_outcome outcome, const char *detail,
                 int64_t t_ns)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || checker == NULL || (unsigned)outcome > RF_REC_SKIP)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_CHECK];
    sqlite3_bind_int64(st, 1, rec->run_id);
    bind_text(st, 2, checker);
    bind_text(st, 3, outcome_names[outcome]);
    bind_text(st, 4, detail);
    if (t_ns < 0)
        sqlite3_bind_null(st, 5);
    else
        sqlite3_bind_int64(st, 5, t_ns);
    return rec_step(rec, ST_CHECK);
}

int rf_rec_fuzz_seed(rf_rec *rec, const rf_rec_seed_info *seed)
{
    ASSERT(rec != NULL);
    ASSERT(seed != NULL);
    if (rec->run_id == 0 || seed->params_json == NULL || seed->outcome == RF_REC_SKIP ||
        (unsigned)seed->outcome > RF_REC_ERROR)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_FUZZ_SEED];
    sqlite3_bind_int64(st, 1, rec->run_id);
    bind_u64(st, 2, seed->seed);
    sqlite3_bind_int64(st, 3, seed->nodes);
    sqlite3_bind_int64(st, 4, seed->zones);
    sqlite3_bind_int64(st, 5, seed->groups);
    bind_text(st, 6, seed->params_json);
    bind_text(st, 7, outcome_names[seed->outcome]);
    bind_text(st, 8, seed->detail);
    bind_u64(st, 9, seed->wall_ns);
    bind_hash(st, 10, seed->trace_hash);
    if (seed->reran)
        bind_hash(st, 11, seed->rerun_hash);
    else
        sqlite3_bind_null(st, 11);
    return rec_step(rec, ST_FUZZ_SEED);
}

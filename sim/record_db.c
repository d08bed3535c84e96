/* record_db: opening a history database, recognising it, and batching writes. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/record_int.h"

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
     * safe against corruption in WAL mode, and history is not the Raft log;
     * the page cache may grow to 64 MiB (a bound, not an allocation). */
    rc = rec_exec(rec->db,
                  "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                  "PRAGMA cache_size = -65536;",
                  path, err, err_len);
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
    /* One thread per recorder: SQLite's mutexes are not needed. */
    int rc = sqlite3_open_v2(path, &rec->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
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
    /* A COMMIT that fails while SQLite keeps the transaction open (busy past
     * the timeout) is retried by a later flush, instead of every record
     * failing on a nested BEGIN. */
    if (sqlite3_exec(rec->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        if (sqlite3_get_autocommit(rec->db))
            rec->in_txn = 0; /* SQLite rolled it back itself */
        return RF_EDB;
    }
    rec->in_txn = 0;
    rec->txn_rows = 0;
    return RF_OK;
}

/* Steps statement i (already bound) inside the open transaction, opening
 * one if needed and committing once RF_REC_BATCH_ROWS_MAX rows are pending:
 * one transaction per row would cost a sync per row. */
int record_step(rf_rec *rec, int i)
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
    if (rc != SQLITE_DONE) {
        /* A constraint failure undoes only its row; an I/O error or a full
         * disk rolls the whole batch back, and the next row starts anew. */
        if (sqlite3_get_autocommit(rec->db)) {
            rec->in_txn = 0;
            rec->txn_rows = 0;
        }
        return RF_EDB;
    }
    if (++rec->txn_rows >= RF_REC_BATCH_ROWS_MAX)
        return rf_rec_flush(rec);
    return RF_OK;
}


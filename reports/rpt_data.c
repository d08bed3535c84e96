/* rpt_data: one run's history, read from the SQLite database for the report. */
#include "reports/rpt_data.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "reports/rpt_queries.h"
#include "sim/record.h"

static void errf(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t err_len, const char *fmt, ...)
{
    if (err == NULL || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static char *col_str(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (t == NULL)
        return NULL;
    size_t n = strlen((const char *)t);
    char *s = malloc(n + 1);
    if (s != NULL)
        memcpy(s, t, n + 1);
    return s;
}

static int64_t col_opt(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? RPT_NONE : sqlite3_column_int64(st, i);
}

/* Grows *p (of *cap elements of elem bytes) to hold n + 1 elements. */
static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n >= RPT_ROWS_MAX)
        return RF_ETOOBIG;
    if (n < *cap)
        return RF_OK;
    size_t cap2 = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, cap2 * elem);
    if (q == NULL)
        return RF_ENOMEM;
    memset((char *)q + *cap * elem, 0, (cap2 - *cap) * elem);
    *p = q;
    *cap = cap2;
    return RF_OK;
}

static int prep(sqlite3 *db, const char *sql, int64_t id, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
        return RF_EDB;
    int idx = sqlite3_bind_parameter_index(*st, ":run");
    sqlite3_bind_int64(*st, idx > 0 ? idx : 1, id);
    return RF_OK;
}

/* ---- opening and identity ---------------------------------------------- */

static int64_t one_int(sqlite3 *db, const char *sql, int64_t id, int *rc)
{
    sqlite3_stmt *st = NULL;
    int64_t v = RPT_NONE;
    *rc = prep(db, sql, id, &st);
    if (*rc == RF_OK) {
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW)
            v = col_opt(st, 0);
        else if (s != SQLITE_DONE)
            *rc = sqlite3_errcode(db) == SQLITE_NOTADB ? RF_EFOREIGNDB : RF_EDB;
    } else if (sqlite3_errcode(db) == SQLITE_NOTADB) {
        *rc = RF_EFOREIGNDB;
    }
    sqlite3_finalize(st);
    return v;
}

static int identify(sqlite3 *db, const char *path, char *err, size_t err_len)
{
    int rc;
    int64_t app = one_int(db, "PRAGMA application_id", 0, &rc);
    if (rc == RF_EFOREIGNDB) {
        errf(err, err_len, "%s: not a raftfleet history database (not SQLite)", path);
        return rc;
    }
    if (rc != RF_OK) {
        errf(err, err_len, "%s: cannot read: %s", path, sqlite3_errmsg(db));
        return rc;
    }
    if (app != RF_REC_APPLICATION_ID) {
        errf(err, err_len, "%s: not a raftfleet history database (application id %" PRId64 ")",
             path, app);
        return RF_EFOREIGNDB;
    }
    int64_t version = one_int(db, "PRAGMA user_version", 0, &rc);
    if (rc != RF_OK || version < 1 || version > RF_REC_SCHEMA_VERSION) {
        errf(err, err_len, "%s: history schema version %" PRId64 ", this build reads %d", path,
             version, RF_REC_SCHEMA_VERSION);
        return RF_EVERSION;
    }
    return RF_OK;
}

/* ---- loading ------------------------------------------------------------- */

static int load_run_row(rpt_run *run, char *err, size_t err_len, const char *path)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(run->db,
                  "SELECT kind, scenario, seed, build, started, outcome, detail, trace_hash, "
                  "end_ns, wall_ns FROM runs WHERE id = ?1",
                  run->id, &st);
    if (rc != RF_OK)
        return rc;
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        errf(err, err_len, "%s: no run with id %" PRId64, path, run->id);
        return RF_ENOTFOUND;
    }
    run->kind = col_str(st, 0);
    run->scenario = col_str(st, 1);
    run->seed = sqlite3_column_int64(st, 2);
    run->build = col_str(st, 3);
    run->started = col_str(st, 4);
    run->outcome = col_str(st, 5);
    run->detail = col_str(st, 6);
    run->trace_hash = col_str(st, 7);
    run->end_ns = col_opt(st, 8);
    run->wall_ns = col_opt(st, 9);
    sqlite3_finalize(st);
    if (run->end_ns == RPT_NONE) {
        /* A run still going (or cut short) ends, for the report, at its
         * last recorded moment. */
        run->end_ns = one_int(run->db,
                              "SELECT max(t) FROM (SELECT max(t_ns) t FROM leader_changes "
                              "WHERE run_id = ?1 UNION ALL SELECT max(t_ns) FROM node_events "
                              "WHERE run_id = ?1 UNION ALL SELECT max(coalesce(end_ns, "
                              "start_ns)) FROM faults WHERE run_id = ?1 UNION ALL SELECT "
                              "max(t_ns) FROM snapshots WHERE run_id = ?1 UNION ALL SELECT "
                              "max(t_ns) FROM membership_changes WHERE run_id = ?1)",
                              run->id, &rc);
        if (run->end_ns == RPT_NONE)
            run->end_ns = 0;
    }
    return rc;
}

static int load_nodes(rpt_run *run)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = prep(run->db, "SELECT DISTINCT zone FROM nodes WHERE run_id = ?1 ORDER BY zone",
                  run->id, &st);
    while (rc == RF_OK && sqlite3_step(st) == SQLITE_ROW) {
        rc = grow((void **)&run->zones, &cap, run->zones_n, sizeof *run->zones);
        if (rc == RF_OK && (run->zones[run->zones_n++] = col_str(st, 0)) == NULL)
            rc = RF_ENOMEM;
    }
    sqlite3_finalize(st);
    st = NULL;
    cap = 0;
    if (rc == RF_OK)
        rc = prep(run->db, "SELECT node_id, name, zone FROM nodes WHERE run_id = ?1 "
                           "ORDER BY node_id", run->id, &st);
    while (rc == RF_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (run->nodes_n >= RPT_NODES_MAX) {
            rc = RF_ETOOBIG;
            break;
        }
        rc = grow((void **)&run->nodes, &cap, run->nodes_n, sizeof *run->nodes);
        if (rc != RF_OK)
            break;
        rpt_node *n = &run->nodes[run->nodes_n++];
        n->id = sqlite3_column_int64(st, 0);
        n->name = col_str(st, 1);
        n->zone = col_str(st, 2);
        if (n->name == NULL || n->zone == NULL)
            rc = RF_ENOMEM;
        for (size_t z = 0; rc == RF_OK && z < run->zones_n; z++)
            if (strcmp(run->zones[z], n->zone) == 0)
                n->zone_idx = (int)z;
    }
    sqlite3_finalize(st);
    return rc;
}

static int load_groups(rpt_run *run)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = prep(run->db, "SELECT group_id, name, model, replicas FROM groups "
                           "WHERE run_id = ?1 ORDER BY group_id", run->id, &st);
    while (rc == RF_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (run->groups_n >= RPT_GROUPS_MAX) {
            rc = RF_ETOOBIG;
            break;
        }
        rc = grow((void **)&run->groups, &cap, run->groups_n, sizeof *run->groups);
        if (rc != RF_OK)
            break;
        rpt_group *g = &run->groups[run->groups_n++];
        g->id = sqlite3_column_int64(st, 0);
        g->name = col_str(st, 1);
        g->model = col_str(st, 2);
        g->replicas = sqlite3_column_int64(st, 3);
        g->availability = -1.0;
        if (g->name == NULL || g->model == NULL)
            rc = RF_ENOMEM;
    }
    sqlite3_finalize(st);
    /* Availability per group: the documented query, verbatim. */
    if (rc == RF_OK)
        rc = prep(run->db, rpt_sql_availability, run->id, &st);
    while (rc == RF_OK && sqlite3_step(st) == SQLITE_ROW) {
        int gi = rpt_group_index(run, sqlite3_column_int64(st, 0));
        if (gi >= 0 && sqlite3_column_type(st, 2) != SQLITE_NULL)
            run->groups[gi].availability = sqlite3_column_double(st, 2);
    }
    sqlite3_finalize(st);
    return rc;
}

static int load_faults(rpt_run *run)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    /* Time to recovery after each fault: the documented query, verbatim. */
    int rc = prep(run->db, rpt_sql_recovery, run->id, &st);
    while (rc == RF_OK && sqlite3_step(st) == SQLITE_ROW) {
        rc = grow((void **)&run->faults, &cap, run->faults_n, sizeof *run->faults);
        if (rc != RF_OK)
            break;
        rpt_fault *f = &run->faults[run->faults_n++];
        f->id = sqlite3_column_int64(st, 0);
        f->kind = col_str(st, 1);
        f->targets = col_str(st, 2);
        f->start_ns = sqlite3_column_int64(st, 3);
        f->end_ns = col_opt(st, 4);
        f->recovery_ns = col_opt(st, 5);
        if (f->kind == NULL || f->targets == NULL)
            rc = RF_ENOMEM;
    }
    sqlite3_finalize(st);
    return rc;
}

static int load_events(rpt_run *run)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = prep(run->db,
                  "SELECT e.id, e.t_ns, e.node_id, e.kind, e.detail, e.moves_min, "
                  "(SELECT COUNT(*) FROM membership_changes m WHERE m.cause_id = e.id "
                  "AND m.change = 'add_learner') FROM node_events e WHERE e.run_id = ?1 "
                  "ORDER BY e.t_ns, e.id",
                  run->id, &st);
    while (rc == RF_OK && sqlite3_step(st) == SQLITE_ROW) {
        rc = grow((void **)&run->events, &cap, run->events_n, sizeof *run->events);
        if (rc != RF_OK)
            break;
        rpt_event *e = &run->events[run->events_n++];
        e->id = sqlite3_column_int64(st, 0);
        e->t_ns = sqlite3_column_int64(st, 1);
        e->node_id = sqlite3_column_int64(st, 2);
        e->kind = col_str(st, 3);
        e->detail = col_str(st, 4);
        e->moves_min = col_opt(st, 5);
        e->moves = sqlite3_column_int64(st, 6);
        if (e->kind == NULL)
            rc = RF_ENOMEM;
    }
    sqlite3_finalize(st);
    return rc;
}

static int load_leaders(rpt_run *run)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = prep(run->db, "SELECT group_id, t_ns, term, leader_id FROM leader_changes "
                           "WHERE run_id = ?1 ORDER BY group_id, t_ns, id", run->id, &st);
    while (rc == RF_OK && sqlite3_step(st) == SQLITE_ROW) {
        rc = grow((void **)&run->leaders, &cap, run->leaders_n, sizeof *run->leaders);
        if (rc != RF_OK)
            break;
        rpt_leader *l = &run->leaders[run->leaders_n++];
        l->group_id = sqlite3_column_int64(st, 0);
        l->t_ns = sqlite3_column_int64(st, 1);
        l->term = sqlite3_column_int64(st, 2);
        l->leader_id = col_opt(st, 3);
    }
    sqlite3_finalize(st);
    /* Each group's slice of the (group, time)-ordered list. */
    for (size_t i = 0; rc == RF_OK && i < run->leaders_n;) {
        size_t j = i;
        while (j < run->leaders_n && run->leaders[j].group_id == run->leaders[i].group_id)
            j++;
        int gi = rpt_group_index(run, run->leaders[i].group_id);
        if (gi >= 0) {
            run->groups[gi].leaders_first = i;
            run->groups[gi].leaders_n = j - i;
        }
        i = j;
    }
    return rc;
}

static int load_snapshots_checks(rpt_run *run)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = prep(run->db, "SELECT id, t_ns, label FROM snapshots WHERE run_id = ?1 "
                           "ORDER BY t_ns, id", run->id, &st);
    while (rc == RF_OK && sqlite3_step(st) == SQLITE_ROW) {
        rc = grow((void **)&run->snapshots, &cap, run->snapshots_n, sizeof *run->snapshots);
        if (rc != RF_OK)
            break;
        rpt_snapshot *s = &run->snapshots[run->snapshots_n++];
        s->id = sqlite3_column_int64(st, 0);
        s->t_ns = sqlite3_column_int64(st, 1);
        if ((s->label = col_str(st, 2)) == NULL)
            rc = RF_ENOMEM;
    }
    sqlite3_finalize(st);
    st = NULL;
    cap = 0;
    if (rc == RF_OK)
        rc = prep(run->db, "SELECT checker, outcome, detail, t_ns FROM checks "
                           "WHERE run_id = ?1 ORDER BY id", run->id, &st);
    while (rc == RF_OK && sqlite3_step(st) == SQLITE_ROW) {
        rc = grow((void **)&run->checks, &cap, run->checks_n, sizeof *run->checks);
        if (rc != RF_OK)
            break;
        rpt_check *c = &run->checks[run->checks_n++];
        c->checker = col_str(st, 0);
        c->outcome = col_str(st, 1);
        c->detail = col_str(st, 2);
        c->t_ns = col_opt(st, 3);
        if (c->checker == NULL || c->outcome == NULL)
            rc = RF_ENOMEM;
    }
    sqlite3_finalize(st);
    return rc;
}

int rpt_db_open(const char *db_path, sqlite3 **db, char *err, size_t err_len)
{
    *db = NULL;
    struct stat sb;
    if (stat(db_path, &sb) != 0) {
        errf(err, err_len, "%s: no such database", db_path);
        return RF_ENOTFOUND;
    }
    if (!S_ISREG(sb.st_mode)) {
        errf(err, err_len, "%s: not a raftfleet history database (not a file)", db_path);
        return RF_EFOREIGNDB;
    }
    if (sqlite3_open_v2(db_path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        errf(err, err_len, "%s: cannot open: %s", db_path,
             *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return RF_EDB;
    }
    int rc = identify(*db, db_path, err, err_len);
    if (rc != RF_OK) {
        sqlite3_close(*db);
        *db = NULL;
    }
    return rc;
}

int rpt_run_open(rpt_run *run, const char *db_path, int64_t run_id, char *err, size_t err_len)
{
    memset(run, 0, sizeof *run);
    if (db_path == NULL || run_id < 0) {
        errf(err, err_len, "invalid arguments");
        return RF_EINVAL;
    }
    int rc = rpt_db_open(db_path, &run->db, err, err_len);
    if (rc != RF_OK)
        return rc;
    run->id = run_id;
    if (run_id == 0) {
        run->id = one_int(run->db, "SELECT max(id) FROM runs", 0, &rc);
        if (rc == RF_OK && run->id == RPT_NONE) {
            errf(err, err_len, "%s: the database holds no run yet", db_path);
            return RF_ENOTFOUND;
        }
    }
    if (rc == RF_OK)
        rc = load_run_row(run, err, err_len, db_path);
    if (rc == RF_ENOTFOUND)
        return rc;
    if (rc == RF_OK)
        rc = load_nodes(run);
    if (rc == RF_OK)
        rc = load_groups(run);
    if (rc == RF_OK)
        rc = load_faults(run);
    if (rc == RF_OK)
        rc = load_events(run);
    if (rc == RF_OK)
        rc = load_leaders(run);
    if (rc == RF_OK)
        rc = load_snapshots_checks(run);
    if (rc != RF_OK)
        errf(err, err_len, "%s: reading run %" PRId64 ": %s (%s)", db_path, run->id,
             rf_strerror(rc), sqlite3_errmsg(run->db));
    return rc;
}

void rpt_run_close(rpt_run *run)
{
    free(run->kind);
    free(run->scenario);
    free(run->build);
    free(run->started);
    free(run->outcome);
    free(run->detail);
    free(run->trace_hash);
    for (size_t i = 0; i < run->zones_n; i++)
        free(run->zones[i]);
    free(run->zones);
    for (size_t i = 0; i < run->nodes_n; i++) {
        free(run->nodes[i].name);
        free(run->nodes[i].zone);
    }
    free(run->nodes);
    for (size_t i = 0; i < run->groups_n; i++) {
        free(run->groups[i].name);
        free(run->groups[i].model);
    }
    free(run->groups);
    for (size_t i = 0; i < run->faults_n; i++) {
        free(run->faults[i].kind);
        free(run->faults[i].targets);
        free(run->faults[i].detail);
    }
    free(run->faults);
    for (size_t i = 0; i < run->events_n; i++) {
        free(run->events[i].kind);
        free(run->events[i].detail);
    }
    free(run->events);
    free(run->leaders);
    for (size_t i = 0; i < run->snapshots_n; i++)
        free(run->snapshots[i].label);
    free(run->snapshots);
    for (size_t i = 0; i < run->checks_n; i++) {
        free(run->checks[i].checker);
        free(run->checks[i].outcome);
        free(run->checks[i].detail);
    }
    free(run->checks);
    sqlite3_close(run->db);
    memset(run, 0, sizeof *run);
}

/* Binary search over arrays sorted by id. */
int rpt_node_index(const rpt_run *run, int64_t node_id)
{
    size_t lo = 0, hi = run->nodes_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (run->nodes[mid].id < node_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < run->nodes_n && run->nodes[lo].id == node_id ? (int)lo : -1;
}

int rpt_group_index(const rpt_run *run, int64_t group_id)
{
    size_t lo = 0, hi = run->groups_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (run->groups[mid].id < group_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < run->groups_n && run->groups[lo].id == group_id ? (int)lo : -1;
}

static int state_code(const char *s)
{
    static const char *const names[] = {"up", "down", "paused", "isolated", "inactive",
                                        "removed"};
    for (int i = 0; s != NULL && i < 6; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return RPT_UP;
}

int rpt_placement_load(const rpt_run *run, size_t idx, rpt_placement *out)
{
    ASSERT(idx < run->snapshots_n);
    memset(out, 0, sizeof *out);
    out->node_state = calloc(run->nodes_n + 1, sizeof *out->node_state);
    if (out->node_state == NULL)
        return RF_ENOMEM;
    int64_t snap = run->snapshots[idx].id;
    sqlite3_stmt *st = NULL;
    int rc = prep(run->db, "SELECT node_id, state FROM snapshot_nodes WHERE snapshot_id = ?1",
                  snap, &st);
    while (rc == RF_OK && sqlite3_step(st) == SQLITE_ROW) {
        int ni = rpt_node_index(run, sqlite3_column_int64(st, 0));
        if (ni >= 0)
            out->node_state[ni] = state_code((const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    st = NULL;
    size_t cap = 0;
    if (rc == RF_OK)
        rc = prep(run->db, "SELECT group_id, node_id, member_pos, role, is_leader, target_pos "
                           "FROM placement WHERE snapshot_id = ?1 ORDER BY group_id, node_id",
                  snap, &st);
    while (rc == RF_OK && sqlite3_step(st) == SQLITE_ROW) {
        rc = grow((void **)&out->rows, &cap, out->rows_n, sizeof *out->rows);
        if (rc != RF_OK)
            break;
        rpt_place *p = &out->rows[out->rows_n++];
        p->group_id = sqlite3_column_int64(st, 0);
        p->node_id = sqlite3_column_int64(st, 1);
        p->member_pos = col_opt(st, 2);
        const unsigned char *role = sqlite3_column_text(st, 3);
        p->learner = role != NULL && strcmp((const char *)role, "learner") == 0;
        p->leader = sqlite3_column_int(st, 4) != 0;
        p->target_pos = col_opt(st, 5);
    }
    sqlite3_finalize(st);
    if (rc != RF_OK)
        rpt_placement_free(out);
    return rc;
}

void rpt_placement_free(rpt_placement *p)
{
    free(p->rows);
    free(p->node_state);
    memset(p, 0, sizeof *p);
}

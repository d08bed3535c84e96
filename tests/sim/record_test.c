/* Tests of sim/record.c: the history schema and the recorder. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/rf_err.h"
#include "sim/record.h"

static char tmp_dir[64];
static char db_path[128];

static void setup(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/rf-record-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
    snprintf(db_path, sizeof db_path, "%s/h.db", tmp_dir);
}

static void teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Reads a whole file into a NUL-terminated buffer (caller frees). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static sqlite3 *open_raw(const char *path)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    return db;
}

/* The first column of the first row of sql, as text ("NULL" for null). */
static void query_text(sqlite3 *db, const char *sql, char *out, size_t out_len)
{
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, out_len, "%s", t ? (const char *)t : "NULL");
    sqlite3_finalize(st);
}

static long long query_int(sqlite3 *db, const char *sql)
{
    char buf[64];
    query_text(db, sql, buf, sizeof buf);
    return atoll(buf);
}

static rf_rec *open_rec(void)
{
    rf_rec *rec = NULL;
    char err[256] = "";
    int rc = rf_rec_open(&rec, db_path, err, sizeof err);
    ck_assert_msg(rc == RF_OK, "open: %s", err);
    return rec;
}

static int64_t begin_run(rf_rec *rec, uint64_t seed)
{
    rf_rec_run_info info = {.scenario = "quickstart.scn", .seed = seed, .build = "test",
                            .started_unix_s = 1700000000};
    int64_t run = 0;
    ck_assert_int_eq(rf_rec_run_begin(rec, &info, &run), RF_OK);
    ck_assert_int_gt(run, 0);
    return run;
}

START_TEST(test_history_sql_matches_embedded_schema)
{
    char *file = slurp("sim/history.sql");
    ck_assert_msg(file != NULL, "sim/history.sql not readable from the repository root");
    ck_assert_msg(strcmp(file, rf_rec_schema_sql) == 0,
                  "sim/history.sql differs from the schema in sim/record_schema.c: "
                  "run tools/gen-schema.sh after editing sim/history.sql");
    free(file);
}
END_TEST

START_TEST(test_open_applies_schema_and_identity)
{
    rf_rec *rec = open_rec();
    rf_rec_close(rec);
    sqlite3 *db = open_raw(db_path);
    ck_assert_int_eq(query_int(db, "PRAGMA application_id"), RF_REC_APPLICATION_ID);
    ck_assert_int_eq(query_int(db, "PRAGMA user_version"), RF_REC_SCHEMA_VERSION);
    static const char *tables[] = {"runs", "nodes", "groups", "faults", "node_events",
                                   "leader_changes", "membership_changes", "snapshots",
                                   "snapshot_nodes", "placement", "client_ops", "checks",
                                   "fuzz_seeds"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'",
                 tables[i]);
        ck_assert_msg(query_int(db, sql) == 1, "table %s missing", tables[i]);
    }
    sqlite3_close(db);
}
END_TEST

START_TEST(test_open_refuses_foreign_sqlite_database)
{
    sqlite3 *db = open_raw(db_path);
    ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE accounts (id INTEGER)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    rf_rec *rec = (rf_rec *)1;
    char err[256] = "";
    ck_assert_int_eq(rf_rec_open(&rec, db_path, err, sizeof err), RF_EFOREIGNDB);
    ck_assert_ptr_null(rec);
    ck_assert_ptr_nonnull(strstr(err, "not a raftfleet history"));
    ck_assert_ptr_nonnull(strstr(err, db_path));
    /* The foreign database is left untouched. */
    db = open_raw(db_path);
    ck_assert_int_eq(query_int(db, "SELECT count(*) FROM sqlite_master"), 1);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_open_refuses_file_that_is_not_sqlite)
{
    FILE *f = fopen(db_path, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 64; i++)
        fputs("this is a scenario file, not a database\n", f);
    fclose(f);
    rf_rec *rec = NULL;
    char err[256] = "";
    ck_assert_int_eq(rf_rec_open(&rec, db_path, err, sizeof err), RF_EFOREIGNDB);
    ck_assert_ptr_null(rec);
    ck_assert_ptr_nonnull(strstr(err, "not a raftfleet history"));
}
END_TEST

START_TEST(test_open_refuses_newer_schema_version)
{
    rf_rec_close(open_rec());
    sqlite3 *db = open_raw(db_path);
    ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    rf_rec *rec = NULL;
    char err[256] = "";
    ck_assert_int_eq(rf_rec_open(&rec, db_path, err, sizeof err), RF_EVERSION);
    ck_assert_ptr_nonnull(strstr(err, "version 99"));
}
END_TEST

START_TEST(test_open_reports_unopenable_path)
{
    rf_rec *rec = NULL;
    char err[256] = "";
    ck_assert_int_eq(rf_rec_open(&rec, "/nonexistent-dir/x/h.db", err, sizeof err), RF_EDB);
    ck_assert_ptr_nonnull(strstr(err, "cannot open"));
    ck_assert_int_eq(rf_rec_open(&rec, "", err, sizeof err), RF_EINVAL);
}
END_TEST

START_TEST(test_reopen_appends_runs)
{
    rf_rec *rec = open_rec();
    int64_t r1 = begin_run(rec, 1);
    rf_rec_run_end_info end = {.outcome = RF_REC_PASS, .trace_hash = 0xabcdef, .end_ns = 10};
    ck_assert_int_eq(rf_rec_run_end(rec, &end), RF_OK);
    rf_rec_close(rec);
    rec = open_rec();
    int64_t r2 = begin_run(rec, 2);
    ck_assert_int_gt(r2, r1);
    /* A second run cannot begin while one is open. */
    rf_rec_run_info info = {.scenario = "x"};
    ck_assert_int_eq(rf_rec_run_begin(rec, &info, NULL), RF_EBUSY);
    rf_rec_close(rec);
    sqlite3 *db = open_raw(db_path);
    ck_assert_int_eq(query_int(db, "SELECT count(*) FROM runs"), 2);
    char buf[64];
    query_text(db, "SELECT trace_hash FROM runs WHERE id = 1", buf, sizeof buf);
    ck_assert_str_eq(buf, "0000000000abcdef");
    query_text(db, "SELECT outcome FROM runs ORDER BY id DESC LIMIT 1", buf, sizeof buf);
    ck_assert_str_eq(buf, "running");
    query_text(db, "SELECT started FROM runs WHERE id = 1", buf, sizeof buf);
    ck_assert_str_eq(buf, "2023-11-14T22:13:20Z");
    sqlite3_close(db);
}
END_TEST

START_TEST(test_round_trip_of_every_record_kind)
{
    rf_rec *rec = open_rec();
    int64_t run = begin_run(rec, 42);
    ck_assert_int_eq(rf_rec_node(rec, 1, "n1", "zone1"), RF_OK);
    ck_assert_int_eq(rf_rec_node(rec, 2, "n2", "zone2"), RF_OK);
    ck_assert_int_eq(rf_rec_group(rec, 7, "g7", 3, "int", 0), RF_OK);
    int64_t fault = 0, ev = 0;
    ck_assert_int_eq(rf_rec_fault_begin(rec, 100, "partition", "{n1} | {n2}", NULL, &fault),
                     RF_OK);
    ck_assert_int_eq(rf_rec_fault_end(rec, fault, 300), RF_OK);
    ck_assert_int_eq(rf_rec_fault_end(rec, fault + 99, 300), RF_ENOTFOUND);
    ck_assert_int_eq(rf_rec_node_event(rec, 400, 2, RF_REC_NODE_REMOVE, 3, "drained", &ev),
                     RF_OK);
    ck_assert_int_eq(rf_rec_leader(rec, 50, 7, 1, 1), RF_OK);
    ck_assert_int_eq(rf_rec_leader(rec, 150, 7, 1, RF_REC_NONE), RF_OK);
    ck_assert_int_eq(rf_rec_membership(rec, 410, 7, 1, RF_REC_ADD_LEARNER, RF_REC_NODE_REMOVED,
                                       ev), RF_OK);
    rf_rec_op op = {.group_id = 7, .client = 3, .op = "inc", .result_json = "41",
                    .status = RF_REC_OP_OK, .call_ns = 1200000, .return_ns = 1350000};
    ck_assert_int_eq(rf_rec_client_op(rec, &op), RF_OK);
    op.status = RF_REC_OP_UNKNOWN;
    ck_assert_int_eq(rf_rec_client_op(rec, &op), RF_OK);
    ck_assert_int_eq(rf_rec_check(rec, "linearizable", RF_REC_PASS, NULL, -1), RF_OK);
    rf_rec_seed_info fs = {.seed = 9, .nodes = 5, .zones = 2, .groups = 4,
                           .params_json = "{\"loss\":0.1}", .outcome = RF_REC_FAIL,
                           .trace_hash = 1, .reran = 1, .rerun_hash = 2};
    ck_assert_int_eq(rf_rec_fuzz_seed(rec, &fs), RF_OK);
    rf_rec_run_end_info end = {.outcome = RF_REC_FAIL, .detail = "boom", .end_ns = 500,
                               .wall_ns = 77};
    ck_assert_int_eq(rf_rec_run_end(rec, &end), RF_OK);
    ck_assert_int_eq(rf_rec_node(rec, 3, "n3", "z"), RF_EINVAL); /* no run open */
    rf_rec_close(rec);

    sqlite3 *db = open_raw(db_path);
    char buf[128];
    query_text(db, "SELECT group_concat(name || '@' || zone, ',') FROM "
                   "(SELECT * FROM nodes ORDER BY node_id)", buf, sizeof buf);
    ck_assert_str_eq(buf, "n1@zone1,n2@zone2");
    ck_assert_int_eq(query_int(db, "SELECT count(*) FROM zones"), 2);
    query_text(db, "SELECT kind || ' ' || start_ns || '-' || end_ns FROM faults", buf,
               sizeof buf);
    ck_assert_str_eq(buf, "partition 100-300");
    query_text(db, "SELECT kind || ' ' || moves_min FROM node_events", buf, sizeof buf);
    ck_assert_str_eq(buf, "remove 3");
    query_text(db, "SELECT leader_id FROM leader_changes ORDER BY t_ns DESC LIMIT 1", buf,
               sizeof buf);
    ck_assert_str_eq(buf, "NULL");
    query_text(db, "SELECT change || ' ' || reason || ' ' || (cause_id = (SELECT id FROM "
                   "node_events)) FROM membership_changes", buf, sizeof buf);
    ck_assert_str_eq(buf, "add_learner node_removed 1");
    query_text(db, "SELECT group_concat(status || ':' || ifnull(result, 'null') || ':' || "
                   "ifnull(return_ns, 'null'), ',') FROM client_ops", buf, sizeof buf);
    ck_assert_str_eq(buf, "ok:41:1350000,unknown:null:null");
    query_text(db, "SELECT checker || ' ' || outcome FROM checks", buf, sizeof buf);
    ck_assert_str_eq(buf, "linearizable pass");
    query_text(db, "SELECT json_extract(params, '$.loss') || ' ' || rerun_hash FROM fuzz_seeds",
               buf, sizeof buf);
    ck_assert_str_eq(buf, "0.1 0000000000000002");
    query_text(db, "SELECT outcome || ' ' || detail || ' ' || end_ns FROM runs", buf,
               sizeof buf);
    ck_assert_str_eq(buf, "fail boom 500");
    ck_assert_int_eq(query_int(db, "SELECT count(*) FROM runs WHERE id != (SELECT run_id FROM "
                                   "leader_changes LIMIT 1)"), 0);
    (void)run;
    sqlite3_close(db);
}
END_TEST

START_TEST(test_snapshot_records_members_leader_and_target)
{
    rf_rec *rec = open_rec();
    begin_run(rec, 1);
    ck_assert_int_eq(rf_rec_snapshot_node(rec, 1, RF_REC_UP), RF_EINVAL); /* no snapshot */
    int64_t snap = 0;
    ck_assert_int_eq(rf_rec_snapshot_begin(rec, 0, "start", &snap), RF_OK);
    ck_assert_int_eq(rf_rec_snapshot_node(rec, 1, RF_REC_UP), RF_OK);
    ck_assert_int_eq(rf_rec_snapshot_node(rec, 4, RF_REC_ISOLATED), RF_OK);
    int64_t members[] = {2, 1, 4};
    uint8_t learners[] = {0, 0, 1};
    int64_t target[] = {1, 3, 2};
    ck_assert_int_eq(rf_rec_snapshot_group(rec, 5, members, learners, 3, 1, target, 3), RF_OK);
    /* A leader that is not a member, or a node listed twice, is refused. */
    ck_assert_int_eq(rf_rec_snapshot_group(rec, 6, members, NULL, 3, 9, target, 3), RF_EINVAL);
    int64_t twice[] = {1, 1};
    ck_assert_int_eq(rf_rec_snapshot_group(rec, 6, twice, NULL, 2, 1, NULL, 0), RF_EINVAL);
    rf_rec_close(rec);

    sqlite3 *db = open_raw(db_path);
    char buf[256];
    query_text(db,
               "SELECT group_concat(node_id || ':' || ifnull(member_pos, '-') || ':' || "
               "ifnull(role, '-') || ':' || is_leader || ':' || ifnull(target_pos, '-'), ' ') "
               "FROM (SELECT * FROM placement WHERE group_id = 5 ORDER BY node_id)",
               buf, sizeof buf);
    ck_assert_str_eq(buf, "1:1:voter:1:0 2:0:voter:0:2 3:-:-:0:1 4:2:learner:0:-");
    query_text(db, "SELECT group_concat(node_id || state, ' ') FROM snapshot_nodes", buf,
               sizeof buf);
    ck_assert_str_eq(buf, "1up 4isolated");
    ck_assert_int_eq(query_int(db, "SELECT count(*) FROM placement WHERE group_id = 6"), 0);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_refused_row_leaves_the_batch_intact)
{
    rf_rec *rec = open_rec();
    begin_run(rec, 1);
    ck_assert_int_eq(rf_rec_node(rec, 1, "n1", "z1"), RF_OK);
    ck_assert_int_eq(rf_rec_node(rec, 1, "again", "z1"), RF_EDB); /* same node id */
    ck_assert_ptr_nonnull(strstr(rf_rec_errmsg(rec), "UNIQUE"));
    ck_assert_int_eq(rf_rec_node(rec, 2, "n2", "z2"), RF_OK);
    rf_rec_run_end_info end = {.outcome = RF_REC_PASS};
    ck_assert_int_eq(rf_rec_run_end(rec, &end), RF_OK);
    rf_rec_close(rec);
    sqlite3 *db = open_raw(db_path);
    ck_assert_int_eq(query_int(db, "SELECT count(*) FROM nodes"), 2);
    ck_assert_int_eq(query_int(db, "SELECT count(*) FROM runs WHERE outcome = 'pass'"), 1);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_batched_records_are_visible_after_flush)
{
    rf_rec *rec = open_rec();
    begin_run(rec, 1);
    for (int i = 0; i < 3 * RF_REC_BATCH_ROWS_MAX + 5; i++)
        ck_assert_int_eq(rf_rec_leader(rec, (uint64_t)i, i % 5, 1, i % 3), RF_OK);
    ck_assert_int_eq(rf_rec_flush(rec), RF_OK);
    sqlite3 *db = open_raw(db_path);
    ck_assert_int_eq(query_int(db, "SELECT count(*) FROM leader_changes"),
                     3 * RF_REC_BATCH_ROWS_MAX + 5);
    sqlite3_close(db);
    rf_rec_close(rec);
}
END_TEST

Suite *record_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("recorder");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_history_sql_matches_embedded_schema);
    tcase_add_test(tc, test_open_applies_schema_and_identity);
    tcase_add_test(tc, test_open_refuses_foreign_sqlite_database);
    tcase_add_test(tc, test_open_refuses_file_that_is_not_sqlite);
    tcase_add_test(tc, test_open_refuses_newer_schema_version);
    tcase_add_test(tc, test_open_reports_unopenable_path);
    tcase_add_test(tc, test_reopen_appends_runs);
    tcase_add_test(tc, test_round_trip_of_every_record_kind);
    tcase_add_test(tc, test_snapshot_records_members_leader_and_target);
    tcase_add_test(tc, test_batched_records_are_visible_after_flush);
    tcase_add_test(tc, test_refused_row_leaves_the_batch_intact);
    suite_add_tcase(s, tc);
    return s;
}

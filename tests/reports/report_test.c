/* Tests of reports/report.c: the whole report, its files, and bad input. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/rf_err.h"
#include "reports/report.h"
#include "sim/record.h"
#include "tests/reports/history_fixture.h"

static char dir[64];
static char db[128];
static char out[128];
static int64_t run_id;

static void setup(void)
{
    ck_assert_int_eq(fixture_tmpdir(dir, sizeof dir), 0);
    snprintf(db, sizeof db, "%s/h.db", dir);
    snprintf(out, sizeof out, "%s/report", dir);
    run_id = fixture_write_history(db);
    ck_assert_int_gt(run_id, 0);
}

static void teardown(void)
{
    fixture_rmdir(dir);
}

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

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

START_TEST(test_report_writes_page_timeline_and_one_graph_per_snapshot)
{
    char err[512] = "";
    ck_assert_msg(rf_report_write(db, 0, out, err, sizeof err) == RF_OK, "%s", err);
    char path[256];
    for (int i = 1; i <= 7; i++) {
        snprintf(path, sizeof path, "%s/placement-%03d.svg", out, i);
        char *svg = slurp(path);
        ck_assert_msg(svg != NULL, "%s missing", path);
        ck_assert_ptr_nonnull(strstr(svg, "<svg"));
        free(svg);
    }
    snprintf(path, sizeof path, "%s/placement-008.svg", out);
    ck_assert_ptr_null(slurp(path));
    snprintf(path, sizeof path, "%s/timeline.svg", out);
    char *timeline = slurp(path);
    ck_assert_ptr_nonnull(timeline);
    snprintf(path, sizeof path, "%s/index.html", out);
    char *html = slurp(path);
    ck_assert_ptr_nonnull(html);
    /* Summary: scenario, seed, build, outcome, trace hash, checks. */
    ck_assert_ptr_nonnull(strstr(html, "fixture.scn"));
    ck_assert_ptr_nonnull(strstr(html, "<td>7</td>"));
    ck_assert_ptr_nonnull(strstr(html, "id=\"outcome\">pass"));
    ck_assert_ptr_nonnull(strstr(html, "0123456789abcdef"));
    ck_assert_ptr_nonnull(strstr(html, "leader in every group within 1s after heal"));
    ck_assert_int_eq(count(html, "<img src=\"placement-"), 7);
    /* The timeline is inlined, and nothing is loaded from the network. */
    ck_assert_ptr_nonnull(strstr(html, "class=\"timeline\""));
    ck_assert_ptr_null(strstr(html, "src=\"http"));
    ck_assert_ptr_null(strstr(html, "<script"));
    /* Availability: g1 led 0.1-1.0 and 1.3-6.0 s of 6 s = 93.33%. */
    ck_assert_ptr_nonnull(strstr(html, "<td>g1</td><td>int</td><td class=\"num\">3</td>"
                                       "<td class=\"num\">93.33%</td>"));
    /* Recovery: isolation healed at 2 s with every group led: 0; the crash
     * ended at 4 s, also with every group led: 0. */
    ck_assert_ptr_nonnull(strstr(html, "<td>isolate</td><td>n1</td>"));
    /* Rebalancing: n4's removal caused 4 moves against 4 minimal. */
    ck_assert_ptr_nonnull(strstr(html, "<td>n4</td><td>remove</td><td class=\"num\">4</td>"
                                       "<td class=\"num\">4</td>"));
    ck_assert_int_eq(count(html, "<td>node_removed</td>"), 12 + 1);
    ck_assert_ptr_nonnull(strstr(html, "<tr><td>node_removed</td><td class=\"num\">4</td>"
                                       "<td class=\"num\">4</td><td class=\"num\">4</td>"
                                       "<td class=\"num\">0</td></tr>"));
    free(html);
    free(timeline);
}
END_TEST

START_TEST(test_report_of_latest_run_and_of_given_run)
{
    /* A second, empty run becomes the latest. */
    rf_rec *rec = NULL;
    char err[512] = "";
    ck_assert_int_eq(rf_rec_open(&rec, db, err, sizeof err), RF_OK);
    rf_rec_run_info info = {.scenario = "second.scn", .seed = 99, .build = "test"};
    int64_t second = 0;
    ck_assert_int_eq(rf_rec_run_begin(rec, &info, &second), RF_OK);
    rf_rec_close(rec);
    ck_assert_int_eq(rf_report_write(db, 0, out, err, sizeof err), RF_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/index.html", out);
    char *html = slurp(path);
    ck_assert_ptr_nonnull(strstr(html, "second.scn"));
    ck_assert_ptr_nonnull(strstr(html, "id=\"outcome\">running"));
    free(html);
    ck_assert_int_eq(rf_report_write(db, run_id, out, err, sizeof err), RF_OK);
    html = slurp(path);
    ck_assert_ptr_nonnull(strstr(html, "fixture.scn"));
    free(html);
}
END_TEST

START_TEST(test_report_refuses_missing_database)
{
    char err[512] = "", missing[160];
    snprintf(missing, sizeof missing, "%s/nope.db", dir);
    int rc = rf_report_write(missing, 0, out, err, sizeof err);
    ck_assert_int_eq(rc, RF_ENOTFOUND);
    ck_assert(rf_report_bad_input(rc));
    ck_assert_ptr_nonnull(strstr(err, "no such database"));
    struct stat sb;
    ck_assert_int_ne(stat(missing, &sb), 0); /* not created */
}
END_TEST

START_TEST(test_report_refuses_foreign_database)
{
    char err[512] = "", foreign[160];
    snprintf(foreign, sizeof foreign, "%s/other.db", dir);
    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open(foreign, &h), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(h, "CREATE TABLE runs (id INTEGER)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    int rc = rf_report_write(foreign, 0, out, err, sizeof err);
    ck_assert_int_eq(rc, RF_EFOREIGNDB);
    ck_assert(rf_report_bad_input(rc));
    ck_assert_ptr_nonnull(strstr(err, "not a raftfleet history"));
    /* Not SQLite at all. */
    FILE *f = fopen(foreign, "w");
    for (int i = 0; i < 100; i++)
        fputs("plain text, not a database\n", f);
    fclose(f);
    ck_assert_int_eq(rf_report_write(foreign, 0, out, err, sizeof err), RF_EFOREIGNDB);
    /* A folder. */
    ck_assert_int_eq(rf_report_write(dir, 0, out, err, sizeof err), RF_EFOREIGNDB);
    ck_assert_ptr_nonnull(strstr(err, "not a file"));
}
END_TEST

START_TEST(test_report_refuses_unknown_run)
{
    char err[512] = "";
    int rc = rf_report_write(db, run_id + 5, out, err, sizeof err);
    ck_assert_int_eq(rc, RF_ENOTFOUND);
    ck_assert(rf_report_bad_input(rc));
    ck_assert_ptr_nonnull(strstr(err, "no run with id"));
}
END_TEST

START_TEST(test_report_refuses_unwritable_folder)
{
    char err[512] = "", blocked[160];
    /* A regular file where the folder should be. */
    snprintf(blocked, sizeof blocked, "%s/file", dir);
    FILE *f = fopen(blocked, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    char target[200];
    snprintf(target, sizeof target, "%s/sub", blocked);
    int rc = rf_report_write(db, 0, target, err, sizeof err);
    ck_assert_int_eq(rc, RF_EIO);
    ck_assert(rf_report_bad_input(rc));
    ck_assert_ptr_nonnull(strstr(err, "cannot create or write"));
    ck_assert_int_eq(rf_report_write(db, 0, "", err, sizeof err), RF_EINVAL);
    ck_assert_int_eq(rf_report_write(NULL, 0, out, err, sizeof err), RF_EINVAL);
}
END_TEST


START_TEST(test_same_history_gives_byte_identical_report)
{
    char err[512] = "", out2[160], a[256], b[256];
    snprintf(out2, sizeof out2, "%s/again", dir);
    ck_assert_int_eq(rf_report_write(db, 0, out, err, sizeof err), RF_OK);
    ck_assert_int_eq(rf_report_write(db, 0, out2, err, sizeof err), RF_OK);
    static const char *const files[] = {"index.html", "timeline.svg", "placement-001.svg",
                                        "placement-007.svg"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(a, sizeof a, "%s/%s", out, files[i]);
        snprintf(b, sizeof b, "%s/%s", out2, files[i]);
        char *x = slurp(a), *y = slurp(b);
        ck_assert_ptr_nonnull(x);
        ck_assert_ptr_nonnull(y);
        ck_assert_msg(strcmp(x, y) == 0, "%s differs between two reports", files[i]);
        free(x);
        free(y);
    }
}
END_TEST

START_TEST(test_fuzz_campaign_lists_its_failing_seeds)
{
    rf_rec *rec = NULL;
    char err[512] = "";
    ck_assert_int_eq(rf_rec_open(&rec, db, err, sizeof err), RF_OK);
    rf_rec_run_info info = {.kind = "fuzz", .scenario = "(swarm)", .seed = 1000, .build = "t"};
    int64_t campaign = 0;
    ck_assert_int_eq(rf_rec_run_begin(rec, &info, &campaign), RF_OK);
    for (uint64_t seed = 1000; seed < 1005; seed++) {
        rf_rec_seed_info si = {.seed = seed, .nodes = 5, .zones = 2, .groups = 3,
                               .params_json = "{}", .wall_ns = 1000000, .trace_hash = seed,
                               .outcome = seed == 1003 ? RF_REC_FAIL : RF_REC_PASS,
                               .detail = seed == 1003 ? "linearizable: g2 op 17" : NULL,
                               .reran = seed == 1001, .rerun_hash = seed};
        ck_assert_int_eq(rf_rec_fuzz_seed(rec, &si), RF_OK);
    }
    rf_rec_run_end_info end = {.outcome = RF_REC_FAIL, .detail = "1 of 5 seeds failed"};
    ck_assert_int_eq(rf_rec_run_end(rec, &end), RF_OK);
    rf_rec_close(rec);
    ck_assert_int_eq(rf_report_write(db, campaign, out, err, sizeof err), RF_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/index.html", out);
    char *html = slurp(path);
    ck_assert_ptr_nonnull(strstr(html, "<h3 id=\"fuzz\">Fuzz seeds</h3>"));
    ck_assert_ptr_nonnull(strstr(html, "<tr><td>pass</td><td class=\"num\">4</td>"));
    ck_assert_ptr_nonnull(strstr(html, "<tr><td class=\"num\">1003</td><td>fail</td>"
                                       "<td>linearizable: g2 op 17</td>"));
    ck_assert_int_eq(count(html, "<tr><td class=\"num\">100"), 1);
    free(html);
    /* A plain run has no fuzz section. */
    ck_assert_int_eq(rf_report_write(db, run_id, out, err, sizeof err), RF_OK);
    html = slurp(path);
    ck_assert_ptr_null(strstr(html, "Fuzz seeds"));
    free(html);
}
END_TEST

/* The command line maps bad input to exit 2 (through rf_report_bad_input). */
static int run_cmd(const char *args)
{
    const char *build = getenv("RF_BUILD");
    char cmd[512];
    /* Leaks are checked in-process by this runner (with graphviz's own
     * suppressed); the child is only asked for its exit status. */
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=detect_leaks=0 %s/bin/fleet-report %s >/dev/null 2>&1",
             build ? build : "build", args);
    int status = system(cmd);
    ck_assert(status != -1 && WIFEXITED(status));
    return WEXITSTATUS(status);
}

START_TEST(test_command_exits_2_on_bad_input_and_0_on_success)
{
    char args[400];
    snprintf(args, sizeof args, "'%s' -o '%s'", db, out);
    ck_assert_int_eq(run_cmd(args), 0);
    snprintf(args, sizeof args, "'%s' --run %lld -o '%s'", db, (long long)run_id, out);
    ck_assert_int_eq(run_cmd(args), 0);
    snprintf(args, sizeof args, "'%s/missing.db' -o '%s'", dir, out);
    ck_assert_int_eq(run_cmd(args), 2);
    snprintf(args, sizeof args, "'%s' --run 999 -o '%s'", db, out);
    ck_assert_int_eq(run_cmd(args), 2);
    snprintf(args, sizeof args, "'%s' --run zero -o '%s'", db, out);
    ck_assert_int_eq(run_cmd(args), 2);
    snprintf(args, sizeof args, "'%s'", db);
    ck_assert_int_eq(run_cmd(args), 2); /* no -o */
    snprintf(args, sizeof args, "'%s' -o /proc/rf-cannot-write", db);
    ck_assert_int_eq(run_cmd(args), 2);
    snprintf(args, sizeof args, "'%s' --list", db);
    ck_assert_int_eq(run_cmd(args), 0);
    snprintf(args, sizeof args, "'%s/missing.db' --list", dir);
    ck_assert_int_eq(run_cmd(args), 2);
}
END_TEST

START_TEST(test_list_prints_one_line_per_run)
{
    char path[200], err[256] = "";
    snprintf(path, sizeof path, "%s/list.txt", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(rf_report_list(db, f, err, sizeof err), RF_OK);
    fclose(f);
    char *text = slurp(path);
    ck_assert_str_eq(text, "1 run pass seed 7 fixture.scn (2023-11-14T22:13:20Z)\n");
    free(text);
    ck_assert_int_eq(rf_report_list(path, stdout, err, sizeof err), RF_EFOREIGNDB);
}
END_TEST

/* A run past the readable size: 60 nodes in 3 zones, 1000 groups, 50
 * snapshots, written with the recorder. */
static void write_big_history(const char *path)
{
    rf_rec *rec = NULL;
    char err[256];
    ck_assert_int_eq(rf_rec_open(&rec, path, err, sizeof err), RF_OK);
    rf_rec_run_info info = {.scenario = "big.scn", .seed = 3, .build = "test"};
    ck_assert_int_eq(rf_rec_run_begin(rec, &info, NULL), RF_OK);
    for (int n = 0; n < 60; n++) {
        char name[16], zone[16];
        snprintf(name, sizeof name, "n%d", n);
        snprintf(zone, sizeof zone, "zone%d", n % 3);
        ck_assert_int_eq(rf_rec_node(rec, n, name, zone), RF_OK);
    }
    for (int g = 0; g < 1000; g++) {
        char name[16];
        snprintf(name, sizeof name, "g%d", g);
        ck_assert_int_eq(rf_rec_group(rec, g, name, 3, "kv", 0), RF_OK);
        if (g < 900 || g >= 910) /* g900..g909 never get a leader */
            ck_assert_int_eq(rf_rec_leader(rec, 1000, g, 1, g % 60), RF_OK);
    }
    for (int s = 0; s < 50; s++) {
        ck_assert_int_eq(rf_rec_snapshot_begin(rec, (uint64_t)s * 1000000, "tick", NULL), RF_OK);
        for (int n = 0; n < 60; n++)
            ck_assert_int_eq(rf_rec_snapshot_node(rec, n, n == s ? RF_REC_DOWN : RF_REC_UP),
                             RF_OK);
        for (int g = 0; g < 1000; g++) {
            int64_t m[3] = {g % 60, (g + 1) % 60, (g + 2) % 60};
            ck_assert_int_eq(rf_rec_snapshot_group(rec, g, m, NULL, 3, m[0], m, 3), RF_OK);
        }
    }
    rf_rec_run_end_info end = {.outcome = RF_REC_PASS, .end_ns = 50000000};
    ck_assert_int_eq(rf_rec_run_end(rec, &end), RF_OK);
    rf_rec_close(rec);
}

START_TEST(test_large_run_gets_aggregated_graphs_and_bounded_output)
{
    char bigdir[64], path[256], err[512] = "";
    ck_assert_int_eq(fixture_tmpdir(bigdir, sizeof bigdir), 0);
    snprintf(path, sizeof path, "%s/big.db", bigdir);
    write_big_history(path);
    char outdir[128];
    snprintf(outdir, sizeof outdir, "%s/out", bigdir);
    ck_assert_msg(rf_report_write(path, 0, outdir, err, sizeof err) == RF_OK, "%s", err);
    snprintf(path, sizeof path, "%s/index.html", outdir);
    char *html = slurp(path);
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_nonnull(strstr(html, "60 nodes and 1000 groups, beyond a readable graph"));
    ck_assert_ptr_nonnull(strstr(html, "40 of 50 snapshots are drawn"));
    ck_assert_int_eq(count(html, "<img src=\"placement-"), RF_REPORT_GRAPHS_MAX);
    ck_assert_ptr_nonnull(strstr(html, "800 more groups not drawn (the 200 least available"));
    /* The timeline's rows: the 10 never-led groups, then g0..g189. */
    ck_assert_ptr_nonnull(strstr(html, "class=\"row-label\">g905<"));
    ck_assert_ptr_nonnull(strstr(html, "class=\"row-label\">g189<"));
    ck_assert_ptr_null(strstr(html, "class=\"row-label\">g190<"));
    ck_assert_int_eq(count(html, "class=\"row-label\">g"), 200);
    free(html);
    snprintf(path, sizeof path, "%s/placement-040.svg", outdir);
    char *svg = slurp(path);
    ck_assert_ptr_nonnull(svg);
    /* Aggregated: nodes with their counts, no group ellipses. Each group's
     * members are three consecutive nodes, one per zone, so every zone holds
     * 1000 members. The last graph is the last snapshot (49), where n49 is
     * down. */
    ck_assert_ptr_null(strstr(svg, "class=\"node group\""));
    ck_assert_ptr_nonnull(strstr(svg, "zone0: 1000 members"));
    ck_assert_ptr_nonnull(strstr(svg, "zone2: 1000 members"));
    ck_assert_ptr_nonnull(strstr(svg, "n49 (down)"));
    ck_assert_ptr_null(strstr(svg, "n48 (down)"));
    free(svg);
    snprintf(path, sizeof path, "%s/placement-041.svg", outdir);
    ck_assert_ptr_null(slurp(path));
    fixture_rmdir(bigdir);
}
END_TEST

Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_report_writes_page_timeline_and_one_graph_per_snapshot);
    tcase_add_test(tc, test_report_of_latest_run_and_of_given_run);
    tcase_add_test(tc, test_report_refuses_missing_database);
    tcase_add_test(tc, test_report_refuses_foreign_database);
    tcase_add_test(tc, test_report_refuses_unknown_run);
    tcase_add_test(tc, test_report_refuses_unwritable_folder);
    tcase_add_test(tc, test_command_exits_2_on_bad_input_and_0_on_success);
    tcase_add_test(tc, test_list_prints_one_line_per_run);
    tcase_add_test(tc, test_same_history_gives_byte_identical_report);
    tcase_add_test(tc, test_fuzz_campaign_lists_its_failing_seeds);
    suite_add_tcase(s, tc);
    TCase *large = tcase_create("large");
    tcase_set_timeout(large, 60);
    tcase_add_test(large, test_large_run_gets_aggregated_graphs_and_bounded_output);
    suite_add_tcase(s, large);
    return s;
}

/* Tests of reports/rpt_timeline.c and reports/rpt_queries.c: the leader timeline and the documented queries. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "reports/rpt_buf.h"
#include "reports/rpt_data.h"
#include "reports/rpt_queries.h"
#include "reports/rpt_timeline.h"
#include "sim/record.h"
#include "tests/reports/history_fixture.h"

#define MS 1000000LL

static char dir[64];
static char db[128];
static rpt_run run;
static rpt_buf svg;

static void setup(void)
{
    ck_assert_int_eq(fixture_tmpdir(dir, sizeof dir), 0);
    snprintf(db, sizeof db, "%s/h.db", dir);
    ck_assert_int_gt(fixture_write_history(db), 0);
    char err[256];
    ck_assert_int_eq(rpt_run_open(&run, db, 0, err, sizeof err), RF_OK);
    rpt_buf_init(&svg);
    ck_assert_int_eq(rpt_timeline_svg(&run, &svg), RF_OK);
}

static void teardown(void)
{
    rpt_buf_free(&svg);
    rpt_run_close(&run);
    fixture_rmdir(dir);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

START_TEST(test_timeline_shades_every_leaderless_gap)
{
    const char *s = rpt_buf_str(&svg);
    ck_assert_ptr_nonnull(strstr(s, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    ck_assert_ptr_nonnull(strstr(s, "</svg>"));
    /* 5 groups leaderless 0-0.1 s, g1 and g5 during the isolation, g4 and
     * g5 after the crash: 9 gaps, plus the legend's swatch. */
    ck_assert_int_eq(count(s, "<rect class=\"gap\""), 9);
    ck_assert_ptr_nonnull(strstr(s, "<title>g1: no leader, 1.000 s to 1.300 s</title>"));
    ck_assert_ptr_nonnull(strstr(s, "<title>g5: no leader, 3.000 s to 3.400 s</title>"));
    ck_assert_ptr_nonnull(strstr(s, "<title>g4: no leader, 3.000 s to 3.300 s</title>"));
}
END_TEST

START_TEST(test_timeline_shows_who_led_when)
{
    const char *s = rpt_buf_str(&svg);
    /* g1: n1 (term 1) then n2 (term 2) until the end; g5: n1, n4, n3. */
    ck_assert_ptr_nonnull(strstr(s, "<title>g1: n1 leads (term 1), 100 ms to 1.000 s</title>"));
    ck_assert_ptr_nonnull(strstr(s, "<title>g1: n2 leads (term 2), 1.300 s to 6.000 s</title>"));
    ck_assert_ptr_nonnull(strstr(s, "<title>g5: n4 leads (term 2), 1.250 s to 3.000 s</title>"));
    ck_assert_ptr_nonnull(strstr(s, "<title>g5: n3 leads (term 3), 3.400 s to 6.000 s</title>"));
    /* 5 groups: g1 2 terms, g2 1, g3 1, g4 2, g5 3. */
    ck_assert_int_eq(count(s, "<rect class=\"lead\""), 9);
    /* Each node keeps its colour: n2 is the second node. */
    ck_assert_ptr_nonnull(strstr(s, rpt_node_color(1)));
}
END_TEST

START_TEST(test_timeline_overlays_faults_and_node_events)
{
    const char *s = rpt_buf_str(&svg);
    ck_assert_int_eq(count(s, "<rect class=\"fault\""), 2);
    ck_assert_ptr_nonnull(strstr(s, "<title>isolate n1: 1.000 s to 2.000 s</title>"));
    ck_assert_ptr_nonnull(strstr(s, "<title>crash n4: 3.000 s to 4.000 s</title>"));
    ck_assert_int_eq(count(s, "<line class=\"event\""), 3);
    ck_assert_ptr_nonnull(strstr(s, "<title>n4 crash at 3.000 s</title>"));
    ck_assert_ptr_nonnull(strstr(s, "<title>n4 remove at 5.000 s</title>"));
}
END_TEST

START_TEST(test_timeline_counts_groups_with_a_leader)
{
    const char *s = rpt_buf_str(&svg);
    ck_assert_int_eq(count(s, "<path class=\"led-count\""), 1);
    /* Isolating n1 at 1 s leaves 3 of 5 groups led; the crash at 3 s also
     * leaves 3, later, so the earliest low point is named. */
    ck_assert_ptr_nonnull(strstr(s, "<title>groups with a leader, out of 5; lowest 3 of 5 "
                                    "after all were first led, at 1.000 s</title>"));
    /* 5 elections, 2 losses and 2 recoveries twice: 13 steps. */
    const char *d = strstr(s, "class=\"led-count\"");
    const char *end = strstr(d, "\">");
    int steps = 0;
    for (const char *p = d; p < end; p++)
        steps += *p == 'V';
    ck_assert_int_eq(steps, 13);
}
END_TEST

START_TEST(test_documented_queries_give_availability_and_recovery)
{
    /* g1 led 0.1-1.0 and 1.3-6.0 s: 5.6 of 6 s. g5: 0.1-1.0, 1.25-3.0, 3.4-6.0. */
    ck_assert_uint_eq(run.groups_n, 5);
    ck_assert_double_eq_tol(run.groups[0].availability, 5.6 / 6.0, 1e-9);
    ck_assert_double_eq_tol(run.groups[4].availability, (0.9 + 1.75 + 2.6) / 6.0, 1e-9);
    ck_assert_double_eq_tol(run.groups[1].availability, 5.9 / 6.0, 1e-9);
    /* Both faults ended with every group led again. */
    ck_assert_uint_eq(run.faults_n, 2);
    ck_assert_int_eq(run.faults[0].recovery_ns, 0);
    ck_assert_int_eq(run.faults[1].recovery_ns, 0);
    ck_assert_uint_eq(run.events_n, 3);
    ck_assert_int_eq(run.events[2].moves, 4);
    ck_assert_int_eq(run.events[2].moves_min, 4);
}
END_TEST

START_TEST(test_recovery_measures_time_until_every_group_is_led)
{
    /* A fault that ends while groups are leaderless: recovery is the time
     * to the latest group's new leader; a group never led again: NULL. */
    rpt_run_close(&run);
    char db2[160], err[256];
    snprintf(db2, sizeof db2, "%s/r.db", dir);
    rf_rec *rec = NULL;
    ck_assert_int_eq(rf_rec_open(&rec, db2, err, sizeof err), RF_OK);
    rf_rec_run_info info = {.scenario = "r.scn", .seed = 1, .build = "t"};
    ck_assert_int_eq(rf_rec_run_begin(rec, &info, NULL), RF_OK);
    ck_assert_int_eq(rf_rec_node(rec, 1, "n1", "z"), RF_OK);
    ck_assert_int_eq(rf_rec_group(rec, 1, "a", 1, "int", 0), RF_OK);
    ck_assert_int_eq(rf_rec_group(rec, 2, "b", 1, "int", 0), RF_OK);
    int64_t f1 = 0, f2 = 0;
    ck_assert_int_eq(rf_rec_leader(rec, 0, 1, 1, 1), RF_OK);
    ck_assert_int_eq(rf_rec_leader(rec, 0, 2, 1, 1), RF_OK);
    ck_assert_int_eq(rf_rec_fault_begin(rec, 100 * MS, "partition", "x", NULL, &f1), RF_OK);
    ck_assert_int_eq(rf_rec_leader(rec, 150 * MS, 1, 1, RF_REC_NONE), RF_OK);
    ck_assert_int_eq(rf_rec_leader(rec, 160 * MS, 2, 1, RF_REC_NONE), RF_OK);
    ck_assert_int_eq(rf_rec_fault_end(rec, f1, 200 * MS), RF_OK);
    ck_assert_int_eq(rf_rec_leader(rec, 250 * MS, 1, 2, 1), RF_OK);
    ck_assert_int_eq(rf_rec_leader(rec, 320 * MS, 2, 2, 1), RF_OK);
    ck_assert_int_eq(rf_rec_fault_begin(rec, 500 * MS, "crash", "n1", NULL, &f2), RF_OK);
    ck_assert_int_eq(rf_rec_leader(rec, 500 * MS, 2, 2, RF_REC_NONE), RF_OK);
    rf_rec_run_end_info end = {.outcome = RF_REC_FAIL, .end_ns = 1000 * MS};
    ck_assert_int_eq(rf_rec_run_end(rec, &end), RF_OK);
    rf_rec_close(rec);
    ck_assert_int_eq(rpt_run_open(&run, db2, 0, err, sizeof err), RF_OK);
    ck_assert_uint_eq(run.faults_n, 2);
    ck_assert_int_eq(run.faults[0].recovery_ns, 120 * MS);
    ck_assert_int_eq(run.faults[1].recovery_ns, RPT_NONE);
    ck_assert_int_eq(run.faults[1].end_ns, RPT_NONE);
    /* b: led 0-0.16 s and 0.32-0.5 s of 1 s. */
    ck_assert_double_eq_tol(run.groups[1].availability, 0.34, 1e-9);
}
END_TEST

/* Each query the report runs is the one documented in sim/history.sql,
 * where every line is prefixed with "--   ". */
static void assert_documented(const char *doc, const char *query)
{
    char *expect = malloc(strlen(query) * 2 + 64);
    ck_assert_ptr_nonnull(expect);
    char *o = expect;
    for (const char *line = query; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        memcpy(o, "--   ", 5);
        memcpy(o + 5, line, n);
        o += 5 + n;
        *o++ = '\n';
        line += n + (nl ? 1 : 0);
    }
    *o = '\0';
    ck_assert_msg(strstr(doc, expect) != NULL, "query not documented verbatim:\n%s", expect);
    free(expect);
}

START_TEST(test_report_queries_are_the_documented_ones)
{
    FILE *f = fopen("sim/history.sql", "rb");
    ck_assert_ptr_nonnull(f);
    static char doc[1 << 16];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    doc[n] = '\0';
    fclose(f);
    assert_documented(doc, rpt_sql_availability);
    assert_documented(doc, rpt_sql_recovery);
    assert_documented(doc, rpt_sql_moves);
}
END_TEST

Suite *rpt_timeline_suite(void)
{
    Suite *s = suite_create("rpt_timeline");
    TCase *tc = tcase_create("timeline");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_timeline_shades_every_leaderless_gap);
    tcase_add_test(tc, test_timeline_shows_who_led_when);
    tcase_add_test(tc, test_timeline_overlays_faults_and_node_events);
    tcase_add_test(tc, test_timeline_counts_groups_with_a_leader);
    tcase_add_test(tc, test_documented_queries_give_availability_and_recovery);
    tcase_add_test(tc, test_recovery_measures_time_until_every_group_is_led);
    tcase_add_test(tc, test_report_queries_are_the_documented_ones);
    suite_add_tcase(s, tc);
    return s;
}

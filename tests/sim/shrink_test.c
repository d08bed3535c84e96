/* Tests of sim/shrink.c with synthetic predicates: the result still fails, is 1-minimal in its timeline, and is much smaller. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/fuzz_world.h"
#include "sim/shrink.h"

#define SEC 1000000000ull

/* Fails ("synthetic") when n2 crashes and some partition starts after 10s. */
static int crash_and_partition(void *ctx, const rf_scenario *s, uint64_t seed, rf_fuzz_outcome *out)
{
    (void)seed;
    if (ctx != NULL)
        (*(uint32_t *)ctx)++;
    memset(out, 0, sizeof *out);
    bool crash = false, part = false;
    for (uint32_t i = 0; i < s->event_count; i++) {
        const rf_scn_event *e = &s->events[i];
        if (e->kind == RF_SCN_EV_CRASH && e->node >= 0 && strcmp(s->nodes[e->node].name, "n2") == 0)
            crash = true;
        if (e->kind == RF_SCN_EV_PARTITION && e->at.lo > 10 * SEC)
            part = true;
    }
    out->verdict = crash && part ? RF_FUZZ_FAIL : RF_FUZZ_PASS;
    snprintf(out->check, sizeof out->check, "%s", crash && part ? "synthetic" : "");
    return RF_OK;
}

static const char big[] =
    "seed 5\nrun for 80s\n"
    "nodes n{1..7} zones z1 z2 z3\n"
    "group g1 replicas 3\ngroup g2 replicas 5 model kv\ngroup g3 replicas 1\n"
    "workload g1 clients 3 rate 5/s mix inc 50% get 50%\n"
    "workload g2 clients 2 rate 5/s mix \"put k 1\" 50% \"get k\" 50%\n"
    "at 2s isolate n4 for 3s\nat 3s clog n1 n3 for 2s\nat 4s crash n5\n"
    "at 5s partition n1 n2 | n3 n4 for 4s\nat 6s network loss 5% for 10s\n"
    "at 8s flap n6 | n7 every 1s for 5s\nat 12s partition zone z2 for 6s\n"
    "at 14s crash n2\nat 15s cut n1 -> n3 for 2s\nat 16s isolate n6 for 20s\n"
    "at 18s partition n1 | n3 n5 for 8s\nat 20s clog n3 n4 for 1s\nat 30s heal\n"
    "expect safety\nexpect leader in every group within 10s after faults\n";

static rf_scenario *parse_big(void)
{
    rf_scenario *s;
    rf_scn_error e;
    ck_assert_int_eq(rf_scenario_parse(big, strlen(big), "big", &s, &e), RF_OK);
    return s;
}

START_TEST(test_shrunk_scenario_still_fails_and_is_much_smaller)
{
    rf_scenario *in = parse_big(), *out;
    uint32_t calls = 0;
    rf_shrink_opts o = {.pred = crash_and_partition, .ctx = &calls, .seed = 5};
    rf_shrink_stats st;
    ck_assert_int_eq(rf_shrink(&o, in, &out, &st), RF_OK);
    ck_assert_str_eq(st.check, "synthetic");
    rf_fuzz_outcome r;
    ck_assert_int_eq(crash_and_partition(NULL, out, 5, &r), RF_OK);
    ck_assert_int_eq(r.verdict, RF_FUZZ_FAIL);
    /* Exactly the crash of n2 and one late partition are left. */
    ck_assert_uint_eq(st.events_before, 13);
    ck_assert_uint_eq(out->event_count, 2);
    ck_assert_uint_eq(st.events_after, 2);
    ck_assert_uint_lt(out->node_count, 7);
    ck_assert_uint_eq(out->group_count, 0);
    ck_assert_uint_eq(out->workload_count, 0);
    ck_assert_uint_lt(out->run_ns, 80 * SEC);
    ck_assert_uint_le(st.bytes_after * 2, st.bytes_before);
    ck_assert_uint_eq(st.runs, calls);
    char sum[300];
    rf_shrink_summary(&st, sum, sizeof sum);
    ck_assert_ptr_nonnull(strstr(sum, "13 -> 2"));
    ck_assert_ptr_nonnull(strstr(sum, "smaller"));
    /* The input is left as it was. */
    ck_assert_uint_eq(in->event_count, 13);
    rf_scenario_free(in);
    rf_scenario_free(out);
}
END_TEST

/* Fails when at least 3 of the network-fault lines remain: ddmin must stop
 * at exactly 3 (1-minimal), whichever 3 it keeps. */
static int three_faults(void *ctx, const rf_scenario *s, uint64_t seed, rf_fuzz_outcome *out)
{
    (void)ctx;
    (void)seed;
    memset(out, 0, sizeof *out);
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->event_count; i++)
        n += s->events[i].kind == RF_SCN_EV_PARTITION || s->events[i].kind == RF_SCN_EV_CLOG;
    out->verdict = n >= 3 ? RF_FUZZ_FAIL : RF_FUZZ_PASS;
    snprintf(out->check, sizeof out->check, "three");
    return RF_OK;
}

START_TEST(test_shrunk_timeline_is_one_minimal)
{
    rf_scenario *in = parse_big(), *out;
    rf_shrink_opts o = {.pred = three_faults, .seed = 5};
    rf_shrink_stats st;
    ck_assert_int_eq(rf_shrink(&o, in, &out, &st), RF_OK);
    ck_assert_uint_eq(out->event_count, 3);
    for (uint32_t i = 0; i < out->event_count; i++) {
        rf_scenario *c = rf_shrink_clone(out);
        ck_assert_int_eq(rf_scenario_remove_event(c, i), RF_OK);
        rf_fuzz_outcome r;
        three_faults(NULL, c, 5, &r);
        ck_assert_int_eq(r.verdict, RF_FUZZ_PASS);
        rf_scenario_free(c);
    }
    rf_scenario_free(in);
    rf_scenario_free(out);
}
END_TEST

/* A different check failing does not count as the same failure. */
static int changes_check(void *ctx, const rf_scenario *s, uint64_t seed, rf_fuzz_outcome *out)
{
    (void)ctx;
    (void)seed;
    memset(out, 0, sizeof *out);
    out->verdict = RF_FUZZ_FAIL;
    snprintf(out->check, sizeof out->check, "%s", s->event_count >= 10 ? "first" : "other");
    return RF_OK;
}

START_TEST(test_shrinking_keeps_the_same_check_failing)
{
    rf_scenario *in = parse_big(), *out;
    rf_shrink_opts o = {.pred = changes_check, .seed = 5};
    rf_shrink_stats st;
    ck_assert_int_eq(rf_shrink(&o, in, &out, &st), RF_OK);
    ck_assert_str_eq(st.check, "first");
    ck_assert_uint_eq(out->event_count, 10);
    rf_scenario_free(out);
    /* A scenario that passes cannot be shrunk. */
    o.pred = three_faults;
    rf_scenario *none;
    rf_scn_error e;
    ck_assert_int_eq(rf_scenario_parse("node n1 zone z1\n", 16, "one", &none, &e), RF_OK);
    ck_assert_int_eq(rf_shrink(&o, none, &out, &st), RF_EINVAL);
    ck_assert_ptr_null(out);
    rf_scenario_free(none);
    rf_scenario_free(in);
}
END_TEST

START_TEST(test_shrinking_stops_at_its_run_budget)
{
    rf_scenario *in = parse_big(), *out;
    uint32_t calls = 0;
    rf_shrink_opts o = {.pred = crash_and_partition, .ctx = &calls, .seed = 5, .runs_max = 6};
    rf_shrink_stats st;
    ck_assert_int_eq(rf_shrink(&o, in, &out, &st), RF_OK);
    ck_assert_uint_le(calls, 6);
    ck_assert(st.budget_out);
    rf_fuzz_outcome r;
    crash_and_partition(NULL, out, 5, &r);
    ck_assert_int_eq(r.verdict, RF_FUZZ_FAIL);
    rf_scenario_free(in);
    rf_scenario_free(out);
}
END_TEST

/* A drawn world with a planted failure shrinks to the lines that cause it. */
static int drops_on_clog(void *ctx, const rf_scenario *s, uint64_t seed, rf_fuzz_outcome *out)
{
    (void)ctx;
    (void)seed;
    memset(out, 0, sizeof *out);
    bool clog = false;
    for (uint32_t i = 0; i < s->event_count; i++)
        clog |= s->events[i].kind == RF_SCN_EV_CLOG;
    out->verdict = clog && s->group_count > 0 ? RF_FUZZ_FAIL : RF_FUZZ_PASS;
    snprintf(out->check, sizeof out->check, "clog");
    return RF_OK;
}

START_TEST(test_drawn_worlds_shrink_to_the_lines_that_fail)
{
    uint32_t shrunk = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        rf_scenario *w, *out;
        char err[600];
        ck_assert_int_eq(rf_fuzz_world_draw(seed, 0, &w, NULL, err, sizeof err), RF_OK);
        rf_fuzz_outcome r;
        drops_on_clog(NULL, w, seed, &r);
        if (r.verdict == RF_FUZZ_FAIL) {
            rf_shrink_opts o = {.pred = drops_on_clog, .seed = seed};
            rf_shrink_stats st;
            ck_assert_int_eq(rf_shrink(&o, w, &out, &st), RF_OK);
            ck_assert_uint_eq(out->event_count, 1);
            ck_assert_int_eq(out->events[0].kind, RF_SCN_EV_CLOG);
            ck_assert_uint_eq(out->group_count, 1);
            ck_assert_uint_lt(st.bytes_after, st.bytes_before);
            rf_scenario_free(out);
            shrunk++;
        }
        rf_scenario_free(w);
    }
    ck_assert_uint_gt(shrunk, 3);
}
END_TEST

/* "No leader" whenever a node crashes for good. */
static int liveness_on_crash(void *ctx, const rf_scenario *s, uint64_t seed, rf_fuzz_outcome *out)
{
    (void)ctx;
    (void)seed;
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < s->event_count; i++)
        if (s->events[i].kind == RF_SCN_EV_CRASH)
            out->verdict = RF_FUZZ_FAIL;
    snprintf(out->check, sizeof out->check, "expect leader");
    return RF_OK;
}

START_TEST(test_shrinking_never_loses_half_the_nodes_for_good)
{
    static const char text[] = "nodes n{1..5} zones z1 z2\ngroup g1 replicas 3\n"
                               "at 5s crash n5\nat 6s isolate n1 for 2s\n";
    rf_scenario *in, *out;
    rf_scn_error e;
    ck_assert_int_eq(rf_scenario_parse(text, strlen(text), "t", &in, &e), RF_OK);
    rf_shrink_opts o = {.pred = liveness_on_crash, .seed = 1};
    rf_shrink_stats st;
    ck_assert_int_eq(rf_shrink(&o, in, &out, &st), RF_OK);
    /* The crash stays, and 3 nodes with it: 2 would lose half for good. */
    ck_assert_uint_eq(out->event_count, 1);
    ck_assert_uint_eq(out->node_count, 3);
    rf_scenario_free(out);
    rf_scenario_free(in);
}
END_TEST

Suite *sim_shrink_suite(void)
{
    Suite *s = suite_create("sim_shrink");
    TCase *tc = tcase_create("shrink");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_shrunk_scenario_still_fails_and_is_much_smaller);
    tcase_add_test(tc, test_shrunk_timeline_is_one_minimal);
    tcase_add_test(tc, test_shrinking_keeps_the_same_check_failing);
    tcase_add_test(tc, test_shrinking_stops_at_its_run_budget);
    tcase_add_test(tc, test_drawn_worlds_shrink_to_the_lines_that_fail);
    tcase_add_test(tc, test_shrinking_never_loses_half_the_nodes_for_good);
    suite_add_tcase(s, tc);
    return s;
}

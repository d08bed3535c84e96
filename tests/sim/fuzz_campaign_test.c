/* Tests of `fleet-sim fuzz` (sim/fuzz_campaign.c) with planted predicates and, end to end, with fleet-sim run. */
#include <check.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/rf_err.h"
#include "base/rf_hash.h"
#include "sim/fuzz.h"
#include "sim/fuzz_campaign.h"
#include "sim/scenario.h"

static uint64_t text_hash(const rf_scenario *s)
{
    static const uint8_t key[16] = "fuzz-test-hash-1";
    char *text;
    size_t len;
    ck_assert_int_eq(rf_scenario_write(s, &text, &len), RF_OK);
    uint64_t h = rf_siphash24(key, text, len);
    free(text);
    return h;
}

static int always_pass(void *ctx, const rf_scenario *s, uint64_t seed, rf_fuzz_outcome *out)
{
    (void)ctx;
    (void)seed;
    memset(out, 0, sizeof *out);
    out->verdict = RF_FUZZ_PASS;
    out->trace_hash = text_hash(s);
    return RF_OK;
}

/* The planted bug: any clogged link "loses" data. */
static int fails_on_clog(void *ctx, const rf_scenario *s, uint64_t seed, rf_fuzz_outcome *out)
{
    always_pass(ctx, s, seed, out);
    for (uint32_t i = 0; i < s->event_count; i++)
        if (s->events[i].kind == RF_SCN_EV_CLOG) {
            out->verdict = RF_FUZZ_FAIL;
            snprintf(out->check, sizeof out->check, "planted");
            snprintf(out->detail, sizeof out->detail, "planted: a clog at %llu ns",
                     (unsigned long long)s->events[i].at.lo);
        }
    return RF_OK;
}

/* A simulator that is not deterministic: every run hashes differently. */
static int drifting(void *ctx, const rf_scenario *s, uint64_t seed, rf_fuzz_outcome *out)
{
    static uint64_t runs;
    always_pass(ctx, s, seed, out);
    out->trace_hash ^= ++runs;
    return RF_OK;
}

/* A simulator process that dies on seed 5 (a worker lost mid-seed). */
static int dies_on_5(void *ctx, const rf_scenario *s, uint64_t seed, rf_fuzz_outcome *out)
{
    if (seed == 5)
        _exit(9);
    return always_pass(ctx, s, seed, out);
}

/* Runs the command with stdout into out_path. */
static int fuzz(const char *out_path, rf_fuzz_pred pred, char *args)
{
    char *argv[32];
    int argc = 0;
    for (char *t = strtok(args, " "); t != NULL && argc < 32; t = strtok(NULL, " "))
        argv[argc++] = t;
    fflush(stdout);
    fflush(stderr);
    int saved = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO); /* usage messages too */
    close(fd);
    int rc = rf_fuzz_cmd_fuzz_with(argc, argv, pred, NULL);
    fflush(stdout);
    fflush(stderr);
    dup2(saved, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved);
    close(saved_err);
    return rc;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int64_t query_i64(const char *db, const char *sql)
{
    sqlite3 *h;
    ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static void fresh_dir(char *dir, size_t cap, const char *name)
{
    snprintf(dir, cap, "build/test-fuzz-%s", name);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_campaign_of_passing_seeds_exits_0_and_records_every_seed)
{
    char dir[200], args[400], out[300], db[300];
    fresh_dir(dir, sizeof dir, "pass");
    snprintf(args, sizeof args, "--seeds 40 --from 7 --jobs 2 --out %s --json", dir);
    snprintf(out, sizeof out, "%s.out", dir);
    ck_assert_int_eq(fuzz(out, always_pass, args), 0);
    const char *json = slurp(out);
    ck_assert_ptr_nonnull(strstr(json, "\"seeds\":40,\"passed\":40,\"failed\":0"));
    ck_assert_ptr_nonnull(strstr(json, "\"failures\":[]"));
    snprintf(db, sizeof db, "%s/fuzz.db", dir);
    ck_assert_int_eq(query_i64(db, "SELECT count(*) FROM fuzz_seeds"), 40);
    ck_assert_int_eq(query_i64(db, "SELECT min(seed) FROM fuzz_seeds"), 7);
    ck_assert_int_eq(query_i64(db, "SELECT count(*) FROM fuzz_seeds WHERE outcome = 'pass'"), 40);
    /* at least 5% rerun, and their hashes agree */
    int64_t reran = query_i64(db, "SELECT count(*) FROM fuzz_seeds WHERE rerun_hash IS NOT NULL");
    ck_assert_int_ge(reran * 20, 40);
    ck_assert_int_eq(query_i64(db, "SELECT count(*) FROM fuzz_seeds WHERE rerun_hash IS NOT NULL "
                                   "AND rerun_hash != trace_hash"), 0);
    ck_assert_int_eq(query_i64(db, "SELECT count(*) FROM fuzz_seeds WHERE params LIKE '{\"nodes\":%'"), 40);
}
END_TEST

START_TEST(test_failing_seeds_exit_1_with_a_shrunk_scenario_and_replay_command)
{
    char dir[200], args[400], out[300], path[400];
    fresh_dir(dir, sizeof dir, "fail");
    snprintf(args, sizeof args, "--seeds 12 --jobs 2 --out %s", dir);
    snprintf(out, sizeof out, "%s.out", dir);
    ck_assert_int_eq(fuzz(out, fails_on_clog, args), 1);
    const char *text = slurp(out);
    const char *fail = strstr(text, "FAIL seed ");
    ck_assert_ptr_nonnull(fail);
    unsigned long long seed = strtoull(fail + 10, NULL, 10);
    ck_assert_ptr_nonnull(strstr(text, "smaller"));
    char replay[500];
    snprintf(replay, sizeof replay, "replay: build/bin/fleet-sim replay %s/fail-%llu.scn --seed %llu",
             dir, seed, seed);
    ck_assert_ptr_nonnull(strstr(text, replay));
    /* The shrunk file is the clog alone, and it still fails. */
    snprintf(path, sizeof path, "%s/fail-%llu.scn", dir, seed);
    rf_scenario *s;
    rf_scn_error e;
    ck_assert_int_eq(rf_scenario_load(path, &s, &e), RF_OK);
    ck_assert_uint_eq(s->event_count, 1);
    ck_assert_int_eq(s->events[0].kind, RF_SCN_EV_CLOG);
    rf_fuzz_outcome o;
    fails_on_clog(NULL, s, seed, &o);
    ck_assert_int_eq(o.verdict, RF_FUZZ_FAIL);
    rf_scenario_free(s);
    snprintf(path, sizeof path, "%s/world-%llu.scn", dir, seed);
    ck_assert_int_eq(access(path, R_OK), 0);
}
END_TEST

START_TEST(test_a_rerun_with_another_trace_hash_is_a_failure)
{
    char dir[200], args[400], out[300];
    fresh_dir(dir, sizeof dir, "nondet");
    snprintf(args, sizeof args, "--seeds 20 --from 3 --jobs 2 --out %s --json", dir);
    snprintf(out, sizeof out, "%s.out", dir);
    ck_assert_int_eq(fuzz(out, drifting, args), 1);
    const char *json = slurp(out);
    /* indexes 0 and 16 are rerun: seeds 3 and 19 */
    ck_assert_ptr_nonnull(strstr(json, "\"nondeterministic\":2"));
    ck_assert_ptr_nonnull(strstr(json, "{\"seed\":3,\"outcome\":\"nondeterministic\""));
    ck_assert_ptr_nonnull(strstr(json, "{\"seed\":19,\"outcome\":\"nondeterministic\""));
    ck_assert_ptr_nonnull(strstr(json, "on the second"));
}
END_TEST

START_TEST(test_a_worker_that_dies_fails_its_seed_and_the_others_go_on)
{
    char dir[200], args[400], out[300];
    fresh_dir(dir, sizeof dir, "died");
    snprintf(args, sizeof args, "--seeds 10 --jobs 2 --out %s --json", dir);
    snprintf(out, sizeof out, "%s.out", dir);
    ck_assert_int_eq(fuzz(out, dies_on_5, args), 1);
    const char *json = slurp(out);
    ck_assert_ptr_nonnull(strstr(json, "\"seeds\":10,\"passed\":9,\"failed\":0,\"errors\":1"));
    ck_assert_ptr_nonnull(strstr(json, "{\"seed\":5,\"outcome\":\"error\",\"check\":\"worker\""));
}
END_TEST

START_TEST(test_results_do_not_depend_on_the_number_of_jobs)
{
    char dir[200], args[400], out[300], db[300];
    fresh_dir(dir, sizeof dir, "jobs");
    snprintf(out, sizeof out, "%s.out", dir);
    snprintf(args, sizeof args, "--seeds 30 --jobs 1 --shrink-max 0 --out %s", dir);
    ck_assert_int_eq(fuzz(out, fails_on_clog, args), 1);
    char *one = strdup(slurp(out));
    snprintf(args, sizeof args, "--seeds 30 --jobs 3 --shrink-max 0 --out %s", dir);
    ck_assert_int_eq(fuzz(out, fails_on_clog, args), 1);
    const char *three = slurp(out);
    /* Failures are printed in seed order, identically (up to the summary line). */
    ck_assert_int_eq(strncmp(one, three, (size_t)(strstr(one, "fuzz: ") - one)), 0);
    free(one);
    snprintf(db, sizeof db, "%s/fuzz.db", dir);
    ck_assert_int_eq(query_i64(db, "SELECT count(*) FROM fuzz_seeds a JOIN fuzz_seeds b ON "
                                   "a.seed = b.seed AND a.run_id < b.run_id WHERE "
                                   "a.trace_hash = b.trace_hash AND a.outcome = b.outcome"), 30);
}
END_TEST

START_TEST(test_usage_errors_exit_2)
{
    /* and say what was wrong */
    static const char *bad[] = {"--jobs 0", "--seeds x", "--seeds", "--bogus 1", "--kinds nope",
                                "--time-budget 0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char args[100];
        snprintf(args, sizeof args, "%s", bad[i]);
        ck_assert_int_eq(fuzz("build/test-fuzz-usage.out", always_pass, args), 2);
        ck_assert_ptr_nonnull(strstr(slurp("build/test-fuzz-usage.out"), "usage: fleet-sim fuzz"));
    }
}
END_TEST

/* End to end with fleet-sim run: the worlds of these seeds run, rerun and
 * pass on the fleet harness (network faults only). */
START_TEST(test_drawn_worlds_run_end_to_end_on_the_runner)
{
    char dir[200], args[400], out[300], db[300];
    fresh_dir(dir, sizeof dir, "e2e");
    snprintf(args, sizeof args, "--seeds 2 --from 100 --kinds partition,clog --jobs 2 --out %s --json",
             dir);
    snprintf(out, sizeof out, "%s.out", dir);
    ck_assert_int_eq(fuzz(out, NULL, args), 0);
    snprintf(db, sizeof db, "%s/fuzz.db", dir);
    ck_assert_int_eq(query_i64(db, "SELECT count(*) FROM fuzz_seeds WHERE outcome = 'pass' AND "
                                   "trace_hash IS NOT NULL"), 2);
    ck_assert_int_eq(query_i64(db, "SELECT count(*) FROM fuzz_seeds WHERE seed = 100 AND "
                                   "rerun_hash = trace_hash"), 1);
}
END_TEST

/* A run that goes on past its CPU budget is stopped and fails with check
 * `timeout` (a campaign once hung for minutes on a message storm). */
START_TEST(test_a_run_past_its_cpu_budget_fails_with_timeout)
{
    rf_scenario *s = NULL;
    rf_scn_error e;
    ck_assert_int_eq(rf_scenario_load("scenarios/scale-1000-groups.scn", &s, &e), RF_OK);
    rf_fuzz_runner r;
    ck_assert_int_eq(rf_fuzz_runner_init(&r, "build"), RF_OK);
    r.cpu_s_max = 1; /* the scenario takes tens of seconds */
    rf_fuzz_outcome out;
    ck_assert_int_eq(rf_fuzz_runner_pred(&r, s, 1, &out), RF_OK);
    ck_assert_int_eq(out.verdict, RF_FUZZ_FAIL);
    ck_assert_str_eq(out.check, "timeout");
    ck_assert_ptr_nonnull(strstr(out.detail, "more than 1 s of CPU"));
    rf_fuzz_runner_close(&r);
    rf_scenario_free(s);
}
END_TEST

Suite *sim_fuzz_campaign_suite(void)
{
    Suite *s = suite_create("sim_fuzz_campaign");
    TCase *tc = tcase_create("campaign");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_campaign_of_passing_seeds_exits_0_and_records_every_seed);
    tcase_add_test(tc, test_failing_seeds_exit_1_with_a_shrunk_scenario_and_replay_command);
    tcase_add_test(tc, test_a_rerun_with_another_trace_hash_is_a_failure);
    tcase_add_test(tc, test_a_worker_that_dies_fails_its_seed_and_the_others_go_on);
    tcase_add_test(tc, test_results_do_not_depend_on_the_number_of_jobs);
    tcase_add_test(tc, test_usage_errors_exit_2);
    tcase_add_test(tc, test_drawn_worlds_run_end_to_end_on_the_runner);
    tcase_add_test(tc, test_a_run_past_its_cpu_budget_fails_with_timeout);
    suite_add_tcase(s, tc);
    return s;
}

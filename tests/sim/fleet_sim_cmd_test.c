/* Tests of sim/cmd/fleet-sim.c: subcommand dispatch, the schedule command's output and exit codes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Runs fleet-sim from the build folder (RF_BUILD, set by make test) with
 * args; returns its exit code and the first `cap` bytes of its stdout. */
static int fleet_sim(const char *args, char *out, size_t cap)
{
    const char *build = getenv("RF_BUILD");
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "%s/bin/fleet-sim %s 2>/dev/null", build ? build : "build", args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    ck_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

START_TEST(test_fleet_sim_schedule_runs_a_seed_and_prints_its_trace_hash)
{
    char a[4096], b[4096];
    ck_assert_int_eq(fleet_sim("schedule --seed 5 --members 3", a, sizeof(a)), 0);
    ck_assert_ptr_nonnull(strstr(a, "schedule seed 5 members 3"));
    ck_assert_ptr_nonnull(strstr(a, "0 violations"));
    ck_assert_ptr_nonnull(strstr(a, "trace hash "));
    ck_assert_int_eq(fleet_sim("schedule --seed 5 --members 3", b, sizeof(b)), 0);
    ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(test_fleet_sim_verbose_prints_the_event_log)
{
    char a[65536];
    ck_assert_int_eq(fleet_sim("schedule --seed 9 --members 4 --verbose", a, sizeof(a)), 0);
    ck_assert_ptr_nonnull(strstr(a, "leader elected"));
}
END_TEST

START_TEST(test_fleet_sim_schedule_writes_the_client_history_as_json_lines)
{
    char a[4096];
    const char *build = getenv("RF_BUILD");
    char path[256], args[512];
    snprintf(path, sizeof(path), "%s/tests/schedule_history_test.jsonl", build ? build : "build");
    snprintf(args, sizeof(args), "schedule --seed 3 --members 3 --history %s", path);
    ck_assert_int_eq(fleet_sim(args, a, sizeof(a)), 0);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
    ck_assert_ptr_nonnull(strstr(line, "{\"group\":\"g1\",\"client\":"));
    ck_assert_ptr_nonnull(strstr(line, "\"call_ns\":"));
    fclose(f);
    remove(path);
    ck_assert_int_eq(fleet_sim("schedule --seed 3 --history /nonexistent/dir/h.jsonl", a, sizeof(a)), 2);
}
END_TEST

START_TEST(test_fleet_sim_schedules_runs_a_range_of_seeds)
{
    char a[4096];
    ck_assert_int_eq(fleet_sim("schedules --from 40 --count 5", a, sizeof(a)), 0);
    ck_assert_ptr_nonnull(strstr(a, "schedules: 5 ran (seeds 40..44), 0 violations"));
    ck_assert_int_eq(fleet_sim("schedules --from 40", a, sizeof(a)), 2);
    ck_assert_int_eq(fleet_sim("schedules --from 40 --count 0", a, sizeof(a)), 2);
}
END_TEST

START_TEST(test_fleet_sim_usage_errors_exit_2)
{
    char a[4096];
    ck_assert_int_eq(fleet_sim("", a, sizeof(a)), 2);
    ck_assert_int_eq(fleet_sim("nosuchcommand", a, sizeof(a)), 2);
    ck_assert_int_eq(fleet_sim("schedule", a, sizeof(a)), 2);
    ck_assert_int_eq(fleet_sim("schedule --seed", a, sizeof(a)), 2);
    ck_assert_int_eq(fleet_sim("schedule --seed x1", a, sizeof(a)), 2);
    ck_assert_int_eq(fleet_sim("schedule --seed 1 --members 2", a, sizeof(a)), 2);
    ck_assert_int_eq(fleet_sim("schedule --seed 1 --members 8", a, sizeof(a)), 2);
    ck_assert_int_eq(fleet_sim("schedule --seed 1 --bogus", a, sizeof(a)), 2);
    ck_assert_int_eq(fleet_sim("--help", a, sizeof(a)), 0);
    ck_assert_ptr_nonnull(strstr(a, "schedule --seed N"));
}
END_TEST

Suite *fleet_sim_cmd_suite(void)
{
    Suite *s = suite_create("fleet_sim_cmd");
    TCase *tc = tcase_create("cmd");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_fleet_sim_schedule_runs_a_seed_and_prints_its_trace_hash);
    tcase_add_test(tc, test_fleet_sim_verbose_prints_the_event_log);
    tcase_add_test(tc, test_fleet_sim_schedule_writes_the_client_history_as_json_lines);
    tcase_add_test(tc, test_fleet_sim_schedules_runs_a_range_of_seeds);
    tcase_add_test(tc, test_fleet_sim_usage_errors_exit_2);
    suite_add_tcase(s, tc);
    return s;
}

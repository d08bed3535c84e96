/* Tests of sim/run.c through `fleet-sim run`: verdicts, exit codes, replay, determinism, recording, report. */
#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/rf_err.h"
#include "model/rf_model.h"
#include "sim/history_jsonl.h"
#include "sim/run.h"
#include "sim/scenario.h"

#define OUT_MAX (1u << 16)

static const char *build_dir(void)
{
    const char *b = getenv("RF_BUILD");
    return b != NULL && *b != '\0' ? b : "build";
}

/* Runs a shell command line; returns its exit code and its stdout and
 * stderr (merged) in out. */
static int sh(const char *cmd, char *out, size_t cap)
{
    char full[4096];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    ck_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static int fleet_sim(const char *args, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/bin/fleet-sim run %s", build_dir(), args);
    return sh(cmd, out, cap);
}

static char tmp[64];

static void tmp_setup(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/rf-run-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void tmp_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "run_test: could not remove %s\n", tmp);
}

/* Writes text to tmp/name; the path goes to path. */
static void write_file(const char *name, const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

/* The trace hash a run printed ("trace hash 0123..."), 0 when none. */
static unsigned long long trace_hash(const char *out)
{
    const char *t = strstr(out, "trace hash ");
    return t == NULL ? 0 : strtoull(t + 11, NULL, 16);
}

/* A small cluster with a workload: 3 nodes, 4 groups, a partition. */
static const char small_scn[] =
    "seed 3\n"
    "run for 30s\n"
    "raft heartbeat 50ms election 300ms..600ms\n"
    "fleet rebalance 500ms purge-after 1m\n"
    "nodes n{1..3} zones a b c\n"
    "groups g{1..4} replicas 3 model int\n"
    "workload all clients 2 rate 10/s mix inc 40% get 40% \"set 3\" 20%\n"
    "at 12s partition n1 | n2 n3 for 5s as split\n"
    "expect safety\n"
    "expect linearizable\n"
    "expect leader in every group within 5s after faults\n"
    "expect placement converged within 10s after faults\n";

START_TEST(test_quickstart_runs_and_every_expectation_holds)
{
    static char out[OUT_MAX];
    ck_assert_int_eq(fleet_sim("scenarios/quickstart.scn --no-db", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "FAIL") == NULL, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "ok   expect linearizable"));
    ck_assert_ptr_nonnull(strstr(out, "ok   expect moves at most 0 over minimal after joined"));
    ck_assert_ptr_nonnull(strstr(out, "ok   expect placement converged within 20.000s after drained"));
    ck_assert_uint_ne(trace_hash(out), 0);
}
END_TEST

START_TEST(test_workload_with_partition_passes_and_records_ops)
{
    static char out[OUT_MAX];
    char scn[256], args[512];
    write_file("small.scn", small_scn, scn, sizeof scn);
    snprintf(args, sizeof args, "%s --no-db", scn);
    ck_assert_msg(fleet_sim(args, out, sizeof out) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "ok   expect linearizable (4 groups"));
    /* Clients ran: some hundreds of operations completed. */
    const char *ops = strstr(out, "ops ok ");
    ck_assert_ptr_nonnull(ops);
    ck_assert_int_gt(atoi(ops + 7), 500);
}
END_TEST

START_TEST(test_expectation_that_cannot_hold_exits_1_with_a_replay_command)
{
    static char out[OUT_MAX], again[OUT_MAX];
    char scn[256], args[512];
    /* consensus1 holds 0, never 5. */
    write_file("wrong.scn",
               "seed 4\nrun for 20s\nraft heartbeat 100ms election 500ms..1s\n"
               "nodes n{1..3} zones z1 z2 z3\ngroups consensus{1..2}\n"
               "at 10s query consensus1 get from n2 expect 5\n"
               "expect leader in every group within 10s after start\n",
               scn, sizeof scn);
    snprintf(args, sizeof args, "%s --no-db --seed 9", scn);
    ck_assert_int_eq(fleet_sim(args, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "VIOLATION at 10."));
    ck_assert_ptr_nonnull(strstr(out, "(seed 9)"));
    ck_assert_ptr_nonnull(strstr(out, "expected 5, got {ok, \"0\"}"));
    const char *replay = strstr(out, "replay: ");
    ck_assert_ptr_nonnull(replay);
    char cmd[1024];
    size_t n = strcspn(replay + 8, "\n");
    snprintf(cmd, sizeof cmd, "%.*s --no-db", (int)n, replay + 8);
    ck_assert_ptr_nonnull(strstr(cmd, "--seed 9"));
    /* The replay command fails the same way, with the same trace. */
    ck_assert_int_eq(sh(cmd, again, sizeof again), 1);
    ck_assert_ptr_nonnull(strstr(again, "expected 5, got {ok, \"0\"}"));
    ck_assert_uint_eq(trace_hash(again), trace_hash(out));
}
END_TEST

START_TEST(test_deadline_expectation_that_is_missed_exits_1)
{
    static char out[OUT_MAX];
    char scn[256], args[512];
    /* A joining node reaches the metadata through at least one commit
     * round over the network: the placement cannot count it within 1ms. */
    write_file("slow.scn",
               "run for 20s\nraft heartbeat 100ms election 500ms..1s\nfleet rebalance 5s\n"
               "nodes n{1..3} zones z1 z2 z3\ngroups g{1..3}\nat 3s add node n4 zone z1 as joined\n"
               "expect placement converged within 1ms after joined\n",
               scn, sizeof scn);
    snprintf(args, sizeof args, "%s --no-db", scn);
    ck_assert_int_eq(fleet_sim(args, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "FAIL expect placement converged within 0.001s after joined"));
    ck_assert_ptr_nonnull(strstr(out, "replay: "));
}
END_TEST

START_TEST(test_unsupported_directive_exits_2_with_its_position)
{
    static char out[OUT_MAX];
    char scn[256];
    /* More nodes than the harness simulates. */
    write_file("big.scn", "run for 10s\n\n  nodes n{1..65} zones z1 z2 z3\ngroup g1\n", scn,
               sizeof scn);
    ck_assert_int_eq(fleet_sim(scn, out, sizeof out), 2);
    char want[400];
    snprintf(want, sizeof want, "%s:3:3: more than 64 nodes: not supported yet by fleet-sim run", scn);
    ck_assert_msg(strstr(out, want) != NULL, "%s", out);
}
END_TEST

/* Crashes with restarts, explicit restarts (of a crashed node, of a
 * running one, of a random crashed one) and every kind of disk fault run
 * and keep the cluster safe and linearizable. */
START_TEST(test_crashes_restarts_and_disk_faults_run_and_stay_safe)
{
    static char out[OUT_MAX];
    char scn[256], args[512];
    write_file("restarts.scn",
               "seed 8\nrun for 40s\nraft heartbeat 50ms election 300ms..600ms\n"
               "fleet rebalance 500ms\nnodes n{1..5} zones a b c\n"
               "groups g{1..6} replicas 3 model kv\n"
               "workload all clients 1 rate 3/s mix \"put k 1\" 40% \"put k 2\" 30% \"get k\" 30%\n"
               "at 5s crash leader-of g1 for 2s\n"
               "at 9s crash n2\n"
               "at 11s restart n2 as back\n"
               "at 13s restart n3\n"
               "at 15s crash n4\nat 17s restart random\n"
               "at 19s disk n1 fail writes for 2s\n"
               "at 22s disk n2 fail syncs for 2s\n"
               "at 25s disk n3 full for 2s\n"
               "at 28s disk n5 flip bits 50% for 3s\nat 29s crash n5 for 1s\n"
               "every 4s..6s from 31s until 36s crash random for 500ms..1s\n"
               "expect safety\nexpect linearizable\n"
               "expect leader in every group within 5s after back\n"
               "expect leader in every group within 8s after faults\n",
               scn, sizeof scn);
    snprintf(args, sizeof args, "%s --no-db --verbose", scn);
    ck_assert_msg(fleet_sim(args, out, sizeof out) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "ok   expect linearizable (6 groups"));
    ck_assert_ptr_nonnull(strstr(out, "restart n2"));
    ck_assert_ptr_nonnull(strstr(out, "restart n3"));
    ck_assert_ptr_nonnull(strstr(out, "restart n4"));
    ck_assert_ptr_nonnull(strstr(out, "n1 goes down: n1: a commit failed: RF_EIO"));
    ck_assert_ptr_nonnull(strstr(out, "n3 goes down: n3: a commit failed: RF_ENOSPC"));
    ck_assert_ptr_nonnull(strstr(out, "restart n5"));
    /* Crashes, torn writes and disk faults replay bit for bit. */
    snprintf(args, sizeof args, "%s --no-db --check-determinism", scn);
    static char again[OUT_MAX];
    ck_assert_msg(fleet_sim(args, again, sizeof again) == 0, "%s", again);
    ck_assert_msg(strstr(again, "determinism: two runs, same ") != NULL, "%s", again);
    ck_assert_uint_eq(trace_hash(again), trace_hash(out));
}
END_TEST

START_TEST(test_scenario_and_usage_errors_exit_2)
{
    static char out[OUT_MAX];
    ck_assert_int_eq(fleet_sim("tests/scenarios/bad/duration-without-unit.scn", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "duration-without-unit.scn:2:9: expected a duration"));
    ck_assert_int_eq(fleet_sim("/nonexistent/x.scn", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "/nonexistent/x.scn:0:0:"));
    ck_assert_int_eq(fleet_sim("", out, sizeof out), 2);
    ck_assert_int_eq(fleet_sim("scenarios/quickstart.scn --seed", out, sizeof out), 2);
    ck_assert_int_eq(fleet_sim("scenarios/quickstart.scn --bogus", out, sizeof out), 2);
    ck_assert_int_eq(fleet_sim("scenarios/quickstart.scn --no-db --model-lib /nonexistent.so", out,
                               sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "cannot load"));
    ck_assert_int_eq(fleet_sim("scenarios/bank-transfers.scn --no-db", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "bank is neither built in nor loaded with --model-lib"));
}
END_TEST

/* Every malformed file of tests/scenarios/bad/ names its error on its
 * first line ("# expect-error: L:C: message"); fleet-sim run prints
 * exactly that position and message and exits 2. */
START_TEST(test_every_malformed_scenario_exits_2_at_its_position)
{
    static char out[OUT_MAX];
    char list[OUT_MAX];
    ck_assert_int_eq(sh("ls tests/scenarios/bad/*.scn", list, sizeof list), 0);
    int files = 0;
    for (char *line = strtok(list, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char path[256], want[600], first[512], args[300];
        snprintf(path, sizeof path, "%s", line);
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(fgets(first, sizeof first, f));
        fclose(f);
        const char *tag = strstr(first, "expect-error: ");
        ck_assert_msg(tag != NULL, "%s has no expect-error line", path);
        first[strcspn(first, "\n")] = '\0';
        snprintf(want, sizeof want, "%s:%s", path, tag + 14);
        snprintf(args, sizeof args, "%s --no-db", path);
        ck_assert_int_eq(fleet_sim(args, out, sizeof out), 2);
        ck_assert_msg(strstr(out, want) != NULL, "want \"%s\", got \"%s\"", want, out);
        files++;
    }
    ck_assert_int_ge(files, 20);
}
END_TEST

START_TEST(test_same_seed_same_trace_hash_and_determinism_check)
{
    static char a[OUT_MAX], b[OUT_MAX];
    char scn[256], args[512];
    write_file("small.scn", small_scn, scn, sizeof scn);
    snprintf(args, sizeof args, "%s --no-db", scn);
    ck_assert_int_eq(fleet_sim(args, a, sizeof a), 0);
    ck_assert_int_eq(fleet_sim(args, b, sizeof b), 0);
    ck_assert_uint_ne(trace_hash(a), 0);
    ck_assert_uint_eq(trace_hash(a), trace_hash(b));
    snprintf(args, sizeof args, "%s --no-db --seed 4", scn);
    ck_assert_int_eq(fleet_sim(args, b, sizeof b), 0);
    ck_assert_uint_ne(trace_hash(a), trace_hash(b));
    snprintf(args, sizeof args, "%s --no-db --check-determinism", scn);
    ck_assert_int_eq(fleet_sim(args, b, sizeof b), 0);
    ck_assert_msg(strstr(b, "determinism: two runs, same ") != NULL, "%s", b);
    ck_assert_uint_eq(trace_hash(a), trace_hash(b));
}
END_TEST

/* A trail that differs from the run at one event is reported there. */
START_TEST(test_determinism_check_reports_the_first_divergence)
{
    rf_sim_run_trail trail;
    rf_sim_run_trail_init(&trail, 1u << 20);
    FILE *sink = fopen("/dev/null", "w");
    rf_sim_run_opts o = {.scenario_path = "scenarios/quickstart.scn", .out = sink, .trail = &trail};
    rf_sim_run_result res;
    ck_assert_int_eq(rf_sim_run(&o, &res), RF_OK);
    ck_assert_int_eq(res.exit_code, 0);
    ck_assert_uint_gt(trail.len, 1000);
    trail.steps[1000].hash ^= 1; /* as if the first run had differed there */
    rf_sim_run_opts o2 = {.scenario_path = "scenarios/quickstart.scn", .out = sink, .compare = &trail};
    rf_sim_run_result res2;
    ck_assert_int_eq(rf_sim_run(&o2, &res2), RF_OK);
    ck_assert(res2.diverged);
    ck_assert_uint_eq(res2.diverged_step.time_ns, trail.steps[1000].time_ns);
    ck_assert_uint_lt(res2.events, res.events); /* stopped there */
    fclose(sink);
    rf_sim_run_trail_close(&trail);
}
END_TEST

START_TEST(test_db_history_and_report_are_written)
{
    static char out[OUT_MAX];
    char scn[256], args[1024], path[512];
    write_file("small.scn", small_scn, scn, sizeof scn);
    snprintf(args, sizeof args, "%s --db %s/h.db --history %s/h.jsonl --report %s/report", scn,
             tmp, tmp, tmp);
    ck_assert_msg(fleet_sim(args, out, sizeof out) == 0, "%s", out);
    struct stat st;
    snprintf(path, sizeof path, "%s/report/index.html", tmp);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_gt(st.st_size, 1000);
    snprintf(path, sizeof path, "%s/report/timeline.svg", tmp);
    ck_assert_int_eq(stat(path, &st), 0);
    /* The JSON-lines history reads back: four groups, ok ops among them. */
    rf_history_set set;
    rf_history_set_init(&set);
    char err[256];
    snprintf(path, sizeof path, "%s/h.jsonl", tmp);
    ck_assert_int_eq(rf_history_jsonl_read_file(path, &set, err, sizeof err), RF_OK);
    ck_assert_uint_eq(set.count, 4);
    ck_assert_uint_gt(set.groups[0].count, 50);
    rf_history_set_close(&set);
    /* The database holds the run with its outcome and checks. */
    snprintf(args, sizeof args,
             "sqlite3 %s/h.db \"SELECT outcome FROM runs; SELECT count(*) FROM checks;"
             " SELECT count(*) > 100 FROM client_ops; SELECT count(*) > 0 FROM leader_changes;"
             " SELECT count(*) FROM faults;\"",
             tmp);
    ck_assert_int_eq(sh(args, out, sizeof out), 0);
    ck_assert_str_eq(out, "pass\n4\n1\n1\n1\n");
}
END_TEST

/* The lease check (sim/fleet_check.c): clocks 7% slow on n1 and 7% fast
 * elsewhere need a lease margin of 2r/(1+r) = 13.1% of the election
 * timeout (Raft thesis §6.4.1). With almost none, a follower's vote
 * refusal ends before the lease of n1's leaders, and isolating n1 lets a
 * newer leader in while that lease runs: the run fails with the check
 * named. With 16% it passes. */
START_TEST(test_a_lease_without_its_drift_margin_is_caught)
{
    static char out[OUT_MAX];
    static const char *margin[2] = {"0.01%", "16%"};
    for (int i = 0; i < 2; i++) {
        char text[1024], name[32], scn[256], args[1024];
        snprintf(text, sizeof text,
                 "seed 1\nrun for 30s\nraft heartbeat 50ms election 300ms..600ms\n"
                 "fleet rebalance 500ms purge-after 1m\nleases margin %s\n"
                 "nodes n{1..3} zones a b c\ngroups g{1..30} replicas 3 model int\n"
                 "workload all clients 1 rate 5/s mix inc 40%% get 40%% \"set 3\" 20%%\n"
                 "at 0s drift n1 -70000ppm\nat 0s drift n2 +70000ppm\n"
                 "at 0s drift n3 +70000ppm\n"
                 "at 5s isolate n1 for 2s\nat 10s isolate n1 for 2s\n"
                 "at 15s isolate n1 for 2s\nat 20s isolate n1 for 2s\n"
                 "expect safety\nexpect linearizable\n",
                 margin[i]);
        snprintf(name, sizeof name, "lease%d.scn", i);
        write_file(name, text, scn, sizeof scn);
        snprintf(args, sizeof args, "%s --no-db --quiet", scn);
        int rc = fleet_sim(args, out, sizeof out);
        if (i == 0) {
            ck_assert_msg(rc == 1, "%s", out);
            ck_assert_msg(strstr(out, "leader lease: n") != NULL,
                          "%s", out);
        } else {
            ck_assert_msg(rc == 0, "%s", out);
        }
    }
}
END_TEST

/* A paused node's inputs wait for the resume; a drifting clock changes
 * when its timers fire; the run stays safe, linearizable and repeatable. */
START_TEST(test_pause_resume_and_drift_keep_the_cluster_safe)
{
    static char out[OUT_MAX];
    char scn[256], args[1024];
    write_file("pause.scn",
               "seed 3\nrun for 40s\nraft heartbeat 50ms election 300ms..600ms\n"
               "fleet rebalance 500ms purge-after 1m\nnodes n{1..3} zones a b c\n"
               "groups g{1..4} replicas 3 model int\n"
               "workload all clients 2 rate 10/s mix inc 40% get 40% \"set 3\" 20%\n"
               "at 10s pause leader-of g1 for 3s as paused\n"
               "at 15s pause n2\nat 18s resume n2\n"
               "at 20s drift n3 +50000ppm for 10s\nat 22s drift n1 -50000ppm\n"
               "expect safety\nexpect linearizable\n"
               "expect leader in every group within 5s after paused\n"
               "expect leader in every group within 5s after faults\n",
               scn, sizeof scn);
    snprintf(args, sizeof args, "%s --db %s/p.db --check-determinism", scn, tmp);
    ck_assert_msg(fleet_sim(args, out, sizeof out) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "determinism: two runs, same "));
    snprintf(args, sizeof args,
             "sqlite3 %s/p.db \"SELECT kind, targets, (end_ns - start_ns) / 1000000"
             " FROM faults ORDER BY start_ns; SELECT count(*) FROM node_events WHERE kind IN"
             " ('pause', 'resume');\"",
             tmp);
    ck_assert_int_eq(sh(args, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "|3000\npause|n2|3000\ndrift|n3|10000\ndrift|n1|0\n4\n") != NULL, "%s", out);
}
END_TEST

/* Every directive the runner executes, in one run: it passes, under ASan
 * too, and gives the same trace twice. */
START_TEST(test_every_supported_directive_runs_and_repeats)
{
    static char out[OUT_MAX];
    char scn[256], args[1024];
    write_file("all.scn",
               "seed 11\n"
               "run for 90s\n"
               "raft heartbeat 50ms election 300ms..600ms\n"
               "fleet rebalance 1s purge-after 20s\n"
               "network latency 1ms jitter 2ms tail 1% 30ms loss 0.5% dup 0.5% reorder 1%\n"
               "nodes n{1..5} zones z1 z2 z3\n"
               "node n6 zone z1 inactive\n"
               "groups g{1..6} replicas 3 model kv\n"
               "group solo replicas 1 model int\n"
               "workload g{1..3} clients 2 rate 10/s mix \"put k 1\" 30% \"get k\" 30% \"cas k 1 2\" 20% \"del k\" 20% until 80s\n"
               "workload solo clients 1 rate 5/s mix inc 50% get 50%\n"
               "at 5s cut n1 -> n2 n3 for 3s\n"
               "at 9s clog n2 n3 for 2s\n"
               "at 12s clog n4 -> n5 for 2s\n"
               "at 15s flap zone z2 every 1s for 6s\n"
               "at 22s isolate random for 3s\n"
               "at 26s partition random for 3s\n"
               "at 30s network latency 5ms loss 2% reorder 10% for 5s\n"
               "at 36s add group orders replicas 3 model kv\n"
               "at 37s command orders \"put a 1\" expect ok\n"
               "at 40s query orders \"get a\" from n3 expect 1\n"
               "at 42s remove group orders\n"
               "at 43s query orders \"get a\" expect error no_leader\n"
               "at 45s activate random as act\n"
               "at 50s deactivate random as deact\n"
               "at 55s partition n1 n2 | n3 n4 | n5 for 4s\n"
               "at 60s isolate leader-of g1\n"
               "at 63s heal\n"
               "at 65s crash leader-of g2\n"
               "at 70s pause random for 2s\n"
               "at 73s drift random -20000ppm for 5s\n"
               "every 7s from 75s until 85s isolate random for 1s\n"
               "expect safety\n"
               "expect linearizable\n"
               "expect leader in every group within 10s after faults\n"
               "expect placement converged within 30s after faults\n",
               scn, sizeof scn);
    snprintf(args, sizeof args, "%s --db %s/a.db --report %s/rep --check-determinism", scn, tmp, tmp);
    ck_assert_msg(fleet_sim(args, out, sizeof out) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "determinism: two runs, same "));
    ck_assert_ptr_nonnull(strstr(out, "ok   expect linearizable (5 groups"));
    snprintf(args, sizeof args,
             "sqlite3 %s/a.db \"SELECT group_concat(DISTINCT kind) FROM (SELECT kind FROM faults"
             " ORDER BY start_ns);\"",
             tmp);
    ck_assert_int_eq(sh(args, out, sizeof out), 0);
    ck_assert_str_eq(out, "one-way,clog,flapping,isolate,partition,network,crash,pause,drift\n");
}
END_TEST

START_TEST(test_user_model_library_runs_under_faults)
{
    static char out[OUT_MAX];
    char scn[256], args[1024];
    write_file("bank.scn",
               "seed 5\nrun for 30s\nraft heartbeat 50ms election 300ms..600ms\n"
               "fleet rebalance 500ms\nnodes n{1..3} zones a b c\n"
               "groups bank{1..2} replicas 3 model bank\n"
               "workload all clients 3 rate 10/s mix \"transfer a b 7\" 40% \"transfer b a 5\" 30% "
               "query total 30%\n"
               "at 10s partition n1 | n2 n3 for 5s\n"
               "at 25s query bank1 total from n1 expect 800\n"
               "expect linearizable\nexpect leader in every group within 5s after faults\n",
               scn, sizeof scn);
    snprintf(args, sizeof args, "%s --no-db --model-lib %s/models/bank.so", scn, build_dir());
    ck_assert_msg(fleet_sim(args, out, sizeof out) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "ok   expect linearizable (2 groups"));
}
END_TEST

/* A model whose result depends on something outside its state (here a
 * counter of the process, which every replica shares): replicas that
 * apply the same index disagree. */
static uint64_t g_flaky_calls;
static int flaky_command(void *state, const uint8_t *cmd, size_t cmd_len, uint8_t *reply,
                         size_t reply_cap, size_t *reply_len)
{
    int rc = rf_model_int.command(state, cmd, cmd_len, reply, reply_cap, reply_len);
    if (rc == RF_OK && reply_cap > 0 && ++g_flaky_calls % 2 == 0)
        reply[0] ^= 1;
    return rc;
}

START_TEST(test_a_model_that_is_not_deterministic_is_reported_with_group_and_index)
{
    rf_model flaky = rf_model_int;
    flaky.name = "flaky";
    flaky.command = flaky_command;
    const rf_model *models[] = {&flaky};
    char scn[256];
    write_file("flaky.scn",
               "seed 3\nrun for 10s\nraft heartbeat 50ms election 300ms..600ms\n"
               "nodes n{1..3} zones a b c\ngroups g{1..2} replicas 3 model flaky\n"
               "workload all clients 1 rate 5/s mix inc 100%\nexpect safety\n",
               scn, sizeof scn);
    FILE *sink = fopen("/dev/null", "w");
    rf_sim_run_opts o = {.scenario_path = scn, .out = sink, .models = models, .n_models = 1};
    rf_sim_run_result res;
    ck_assert_int_eq(rf_sim_run(&o, &res), RF_OK);
    fclose(sink);
    ck_assert_int_eq(res.exit_code, 1);
    ck_assert_msg(strstr(res.violation, "applied different entries or results at index") != NULL,
                  "%s", res.violation);
    ck_assert_msg(strstr(res.violation, "group ") != NULL, "%s", res.violation);
}
END_TEST

/* Every shipped scenario runs and passes, or is refused as a whole with
 * "not supported yet" (a directive the runner cannot execute): once the
 * runner learns a directive, the scenarios using it are held to their
 * expectations here without anyone having to list them. Scenarios that
 * simulate more than 10 minutes (scale-1000-groups: an hour, about 30 s of
 * CPU) run in the plain build; under the sanitizers, which make them
 * several times slower, only when RF_TEST_SLOW is set. */
START_TEST(test_shipped_scenarios_the_runner_supports_pass)
{
    static char out[OUT_MAX];
    DIR *d = opendir("scenarios");
    ck_assert_ptr_nonnull(d);
    const struct dirent *e;
    int passed = 0, unsupported = 0, slow = 0;
    const char *all = getenv("RF_TEST_SLOW");
    bool sanitized = strstr(build_dir(), "asan") != NULL;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= 4 || strcmp(e->d_name + n - 4, ".scn") != 0)
            continue;
        char args[1200], path[512];
        snprintf(path, sizeof path, "scenarios/%s", e->d_name);
        rf_scenario *scn = NULL;
        rf_scn_error err;
        ck_assert_msg(rf_scenario_load(path, &scn, &err) == RF_OK, "%s", err.text);
        bool long_run = scn->run_ns > 600ull * 1000 * 1000 * 1000;
        rf_scenario_free(scn);
        if (long_run && sanitized && (all == NULL || *all == '\0')) {
            printf("run: %s simulates more than 10 minutes: skipped under the sanitizers "
                   "(set RF_TEST_SLOW=1)\n", e->d_name);
            slow++;
            continue;
        }
        snprintf(args, sizeof args, "%s --no-db --model-lib %s/models/bank.so", path, build_dir());
        int rc = fleet_sim(args, out, sizeof out);
        if (rc == 2 && strstr(out, "not supported yet") != NULL) {
            printf("run: %s is not supported yet by fleet-sim run\n", e->d_name);
            unsupported++;
            continue;
        }
        ck_assert_msg(rc == 0, "%s: exit %d: %s", e->d_name, rc, out);
        passed++;
    }
    closedir(d);
    printf("run: shipped scenarios: %d passed, %d not supported yet, %d slow ones skipped\n",
           passed, unsupported, slow);
    ck_assert_int_ge(passed, 10);
    ck_assert_int_eq(unsupported, 0);
}
END_TEST

START_TEST(test_demo_writes_the_quickstart_report)
{
    static char out[OUT_MAX];
    char cmd[512], path[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s/demo && sh tools/demo.sh %s", build_dir(), build_dir());
    ck_assert_msg(sh(cmd, out, sizeof out) == 0, "%s", out);
    struct stat st;
    snprintf(path, sizeof path, "%s/demo/index.html", build_dir());
    ck_assert_int_eq(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/demo/placement-001.svg", build_dir());
    ck_assert_int_eq(stat(path, &st), 0);
}
END_TEST

Suite *run_suite(void)
{
    Suite *s = suite_create("run");
    TCase *tc = tcase_create("run");
    tcase_set_timeout(tc, 900);
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, test_quickstart_runs_and_every_expectation_holds);
    tcase_add_test(tc, test_workload_with_partition_passes_and_records_ops);
    tcase_add_test(tc, test_expectation_that_cannot_hold_exits_1_with_a_replay_command);
    tcase_add_test(tc, test_deadline_expectation_that_is_missed_exits_1);
    tcase_add_test(tc, test_unsupported_directive_exits_2_with_its_position);
    tcase_add_test(tc, test_crashes_restarts_and_disk_faults_run_and_stay_safe);
    tcase_add_test(tc, test_scenario_and_usage_errors_exit_2);
    tcase_add_test(tc, test_every_malformed_scenario_exits_2_at_its_position);
    tcase_add_test(tc, test_same_seed_same_trace_hash_and_determinism_check);
    tcase_add_test(tc, test_determinism_check_reports_the_first_divergence);
    tcase_add_test(tc, test_db_history_and_report_are_written);
    tcase_add_test(tc, test_pause_resume_and_drift_keep_the_cluster_safe);
    tcase_add_test(tc, test_a_lease_without_its_drift_margin_is_caught);
    tcase_add_test(tc, test_every_supported_directive_runs_and_repeats);
    tcase_add_test(tc, test_user_model_library_runs_under_faults);
    tcase_add_test(tc, test_a_model_that_is_not_deterministic_is_reported_with_group_and_index);
    tcase_add_test(tc, test_shipped_scenarios_the_runner_supports_pass);
    tcase_add_test(tc, test_demo_writes_the_quickstart_report);
    suite_add_tcase(s, tc);
    return s;
}

/* sim_bench: how many events per second the simulator's engine and cluster harness handle. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "base/rf_err.h"
#include "sim/engine.h"
#include "sim/run.h"
#include "sim/schedule.h"

/* CPU time of this process: the figures are per core-second, whatever
 * else the machine runs meanwhile. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct bench_ctx {
    rf_pcg32 rng;
    uint64_t left;
} bench_ctx;

/* Each event schedules one more at a random delay: a steady population of
 * pending events, as in a busy simulation. */
static void hop(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    bench_ctx *b = ctx;
    if (b->left == 0)
        return;
    b->left--;
    uint64_t d = 1 + rf_pcg32_bounded(&b->rng, 1000000);
    if (rf_sim_engine_after(e, d, 1, ev->node, d, NULL) != RF_OK)
        b->left = 0;
}

static void bench_engine(void)
{
    const uint32_t pending = 10000;
    const uint64_t total = 20000000;
    rf_sim_engine e;
    if (rf_sim_engine_init(&e, 1, pending * 2) != RF_OK)
        return;
    bench_ctx b = {.left = total};
    rf_sim_engine_stream(&e, &b.rng, "bench", 0);
    rf_sim_engine_on(&e, 1, hop, NULL, &b);
    for (uint32_t i = 0; i < pending; i++)
        (void)rf_sim_engine_at(&e, rf_pcg32_bounded(&b.rng, 1000000), 1, i, 0, NULL);
    double t0 = now_s();
    rf_sim_engine_run_until(&e, UINT64_MAX);
    double dt = now_s() - t0;
    printf("bench sim.events_rate %.0f events/s (bare engine: heap of %u pending events, "
           "trace hash on, %" PRIu64 " events, CPU time)\n",
           (double)e.events_run / dt, pending, e.events_run);
    rf_sim_engine_close(&e);
}

static void bench_cluster(void)
{
    uint64_t events = 0, sim_ns = 0, violations = 0;
    const uint32_t n = 200;
    double t0 = now_s();
    for (uint32_t i = 0; i < n; i++) {
        rf_sim_schedule_opts o = {.seed = 100000 + i, .members = 3 + i % 5};
        rf_sim_schedule_result r;
        if (rf_sim_schedule_run(&o, &r) != RF_OK)
            continue;
        events += r.events;
        sim_ns += r.sim_ns;
        violations += r.violations;
    }
    double dt = now_s() - t0;
    printf("bench sim.cluster_events_rate %.0f events/s (Raft cluster harness, %u random "
           "schedules of 3-7 members with faults and checkers, %" PRIu64 " violations, CPU time)\n",
           (double)events / dt, n, violations);
    printf("bench sim.schedule_speedup %.0f x (virtual/CPU time over those schedules, "
           "%.0f simulated s in %.2f CPU s)\n",
           (double)sim_ns / 1e9 / dt, (double)sim_ns / 1e9, dt);
}

/* Issue 6's speed target: scenarios/scale-1000-groups.scn (5 nodes, 1,000
 * groups of 3, one simulated hour of faults and 133 client operations per
 * second, every checker on) at 1,000 times real time on one core. When
 * fleet-sim run refuses it (exit 2) or it fails (exit 1: the figure is then
 * for the part that ran, and says so), the same scenario without its
 * restarts (`crash ... for`) is measured as well. */
static int scale_run(const char *path, rf_sim_run_result *res, double *dt)
{
    FILE *sink = fopen("/dev/null", "w");
    rf_sim_run_opts o = {.scenario_path = path, .out = sink};
    double t0 = now_s();
    int rc = rf_sim_run(&o, res);
    *dt = now_s() - t0;
    if (sink != NULL)
        fclose(sink);
    return rc;
}

static void scale_print(const char *name, const char *what, const rf_sim_run_result *res,
                        double dt)
{
    double sim_s = (double)res->end_ns / 1e9;
    char failed[RF_SIM_RUN_TEXT_MAX + 64] = "";
    if (res->exit_code != 0)
        snprintf(failed, sizeof failed, "; the run FAILED at %.0f s simulated: %s", sim_s,
                 res->violation);
    printf("bench %s %.0f x (%s: simulated/CPU time of one core, %.0f s simulated in %.2f s, "
           "every checker on; target 1000 x%s)\n",
           name, sim_s / dt, what, sim_s, dt, failed);
    printf("bench %s_events_rate %.0f events/s (%" PRIu64 " events)\n", name,
           (double)res->events / dt, res->events);
}

static int bench_scale(void)
{
    rf_sim_run_result res;
    double dt = 0;
    int rc = scale_run("scenarios/scale-1000-groups.scn", &res, &dt);
    bool ran = rc == RF_OK && res.exit_code != RF_SIM_RUN_EXIT_USAGE;
    if (ran)
        scale_print("sim.speedup", "scale-1000-groups", &res, dt);
    if (ran && res.exit_code == 0)
        return 0;
    rc = scale_run("tests/bench/scenarios/scale-1000-groups-norestart.scn", &res, &dt);
    if (rc != RF_OK || res.exit_code == RF_SIM_RUN_EXIT_USAGE) {
        fprintf(stderr, "sim_bench: scale-1000-groups: %s\n", res.error);
        return 1;
    }
    scale_print(ran ? "sim.speedup_norestart" : "sim.speedup",
                "scale-1000-groups without its restarts (crash ... for)", &res, dt);
    return 0;
}

int main(void)
{
    bench_engine();
    bench_cluster();
    return bench_scale();
}

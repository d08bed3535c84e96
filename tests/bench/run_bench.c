/* run_bench: how fast `fleet-sim run` plays shipped scenarios: simulated time per CPU second, events per second. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "base/rf_err.h"
#include "sim/run.h"

/* CPU time of this process: the machine is shared, so figures are per
 * core-second whatever else runs meanwhile. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_scenario(const char *name, const char *what)
{
    char path[256];
    snprintf(path, sizeof path, "scenarios/%s.scn", name);
    FILE *sink = fopen("/dev/null", "w");
    rf_sim_run_opts o = {.scenario_path = path, .out = sink};
    rf_sim_run_result res;
    double t0 = cpu_s();
    int rc = rf_sim_run(&o, &res);
    double dt = cpu_s() - t0;
    if (sink != NULL)
        fclose(sink);
    if (rc != RF_OK || res.exit_code != 0) {
        fprintf(stderr, "run_bench: %s: exit %d %s\n", name, res.exit_code, res.error);
        return 1;
    }
    if (dt <= 0)
        dt = 1e-9;
    printf("bench sim.run_speedup.%s %.0f x (%s, simulated/CPU time, %.0f s simulated in %.2f s, "
           "every safety checker on; scale-1000-groups: sim_bench)\n",
           name, (double)res.end_ns / 1e9 / dt, what, (double)res.end_ns / 1e9, dt);
    printf("bench sim.run_events_rate.%s %.0f events/s (%" PRIu64 " events)\n", name,
           (double)res.events / dt, res.events);
    return 0;
}

int main(void)
{
    int failed = bench_scenario("quickstart", "5 nodes, 5 groups, churn");
    failed |= bench_scenario("zone-outage", "6 nodes, 30 kv groups, 30 clients at 5/s, zone cut 40 s");
    return failed;
}

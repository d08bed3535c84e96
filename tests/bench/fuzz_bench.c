/* bench fuzz.seeds_per_s: drawn worlds run end to end by fleet-sim run on one core (no shrinking, no reruns). */
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "base/rf_err.h"
#include "sim/fuzz.h"
#include "sim/fuzz_world.h"

#define SEEDS 40u

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process and its finished children (each run is a
 * child): on a shared machine the wall rate understates the fuzzer. */
static double cpu_s(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
                    kids.ru_stime.tv_sec) +
           (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
                    kids.ru_stime.tv_usec) / 1e6;
}

int main(void)
{
    rf_fuzz_runner run;
    if (rf_fuzz_runner_init(&run, "/tmp") != RF_OK)
        return 1;
    unsigned passed = 0, failed = 0;
    double t0 = now_s(), c0 = cpu_s();
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        rf_scenario *w;
        char err[600];
        if (rf_fuzz_world_draw(seed, 0, &w, NULL, err, sizeof err) != RF_OK)
            return 1;
        rf_fuzz_outcome out;
        if (rf_fuzz_runner_pred(&run, w, seed, &out) != RF_OK)
            return 1;
        passed += out.verdict == RF_FUZZ_PASS;
        failed += out.verdict != RF_FUZZ_PASS;
        rf_scenario_free(w);
    }
    double dt = now_s() - t0, cpu = cpu_s() - c0;
    rf_fuzz_runner_close(&run);
    double rate = (double)SEEDS / dt, cpu_rate = (double)SEEDS / cpu;
    printf("bench fuzz.seeds_per_s %.2f seeds/s (one process, wall clock, seeds 1..%u: %u passed, "
           "%u failed; %.2f seeds per CPU second, so two idle cores run about %.0f seeds in a "
           "5-minute campaign; target 2000)\n",
           rate, SEEDS, passed, failed, cpu_rate, 2 * cpu_rate * 300);
    return 0;
}

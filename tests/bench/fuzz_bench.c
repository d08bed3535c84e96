/* bench fuzz.seeds_per_s: drawn worlds run end to end by fleet-sim run on one core (no shrinking, no reruns). */
#include <stdio.h>
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

int main(void)
{
    rf_fuzz_runner run;
    if (rf_fuzz_runner_init(&run, "/tmp") != RF_OK)
        return 1;
    unsigned passed = 0, failed = 0;
    double t0 = now_s();
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
    double dt = now_s() - t0;
    rf_fuzz_runner_close(&run);
    double rate = (double)SEEDS / dt;
    printf("bench fuzz.seeds_per_s %.2f seeds/s (one core, seeds 1..%u, %u passed, %u failed; "
           "two jobs: about %.0f seeds in a 5-minute campaign, target 2000)\n",
           rate, SEEDS, passed, failed, 2 * rate * 300);
    return 0;
}

/* linz_bench: time to check a 10,000-op linearizable history of one int group. */
#include <stdio.h>
#include <time.h>

#include "sim/linz.h"
#include "tests/sim/linz_gen.h"

#define BENCH_OPS 10000
#define BENCH_CLIENTS 8
#define BENCH_ROUNDS 5

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Checks one generated history; returns the wall time in ms, or -1. */
static double check_once(const rf_model *m, uint64_t seed, unsigned unknown_permille,
                         double *concurrency, uint64_t *steps)
{
    rf_history h;
    rf_linz_result r;
    gen_cfg cfg = {.model = m, .ops = BENCH_OPS, .clients = BENCH_CLIENTS,
                   .unknown_permille = unknown_permille, .fail_permille = 10, .seed = seed,
                   .make_op = m == &rf_model_int ? gen_int_op : gen_kv_op};
    rf_history_init(&h, "g1");
    gen_history(&cfg, &h);
    /* Mean number of ok ops in flight at each call: the overlap measure. */
    double inflight = 0;
    size_t oks = 0;
    for (size_t i = 0; i < h.count; i++) {
        if (h.ops[i].status != RF_OP_OK)
            continue;
        oks++;
        for (size_t j = i; j-- > 0 && i - j < 64;)
            if (h.ops[j].status == RF_OP_OK && h.ops[j].return_ns >= h.ops[i].call_ns)
                inflight++;
    }
    *concurrency = oks > 0 ? 1.0 + inflight / (double)oks : 0;
    double t0 = now_ms();
    int rc = rf_linz_check(m, &h, NULL, &r);
    double t = now_ms() - t0;
    *steps = r.steps;
    int good = rc == 0 && r.verdict == RF_LINZ_LINEARIZABLE;
    rf_linz_result_close(&r);
    rf_history_close(&h);
    return good ? t : -1;
}

static void bench(const char *name, const rf_model *m, unsigned unknown_permille)
{
    double best = 1e18, worst = 0, conc = 0;
    uint64_t steps = 0;
    for (int i = 0; i < BENCH_ROUNDS; i++) {
        double t = check_once(m, 1000 + (uint64_t)i, unknown_permille, &conc, &steps);
        if (t < 0) {
            printf("bench %s FAILED (seed %d not accepted)\n", name, 1000 + i);
            return;
        }
        best = t < best ? t : best;
        worst = t > worst ? t : worst;
    }
    printf("bench %s %.1f ms (median-free best of %d; worst %.1f ms; %s model, %d ops, "
           "%d clients, mean %.1f ok ops in flight, %.1f%% unknown, 1%% fail, %llu steps; "
           "target < 1000 ms)\n",
           name, best, BENCH_ROUNDS, worst, m->name, BENCH_OPS, BENCH_CLIENTS, conc,
           unknown_permille / 10.0, (unsigned long long)steps);
}

int main(void)
{
    bench("linz.check_10k_ops", &rf_model_int, 0);
    bench("linz.check_10k_ops_unknown", &rf_model_int, 5);
    bench("linz.check_10k_ops_kv", &rf_model_kv, 5);
    return 0;
}

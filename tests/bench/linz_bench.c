/* linz_bench: time to check a 10,000-op linearizable history of one int group. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim/linz.h"
#include "tests/sim/linz_gen.h"

#define BENCH_OPS 10000
#define BENCH_CLIENTS 8
#define BENCH_ROUNDS 5

/* Milliseconds of the given clock: CPU time measures the checker's work
 * even when other processes share the cores; wall time is printed beside. */
static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct bench_run {
    double ms;      /* CPU time */
    double wall_ms;
    double in_flight; /* mean ok ops in flight at each ok call */
    uint64_t steps;
    rf_linz_verdict verdict;
} bench_run;

/* Mean number of ok ops in flight when an ok op is called: the overlap. */
static double in_flight(const rf_history *h)
{
    double sum = 0;
    size_t oks = 0;
    for (size_t i = 0; i < h->count; i++) {
        if (h->ops[i].status != RF_OP_OK)
            continue;
        oks++;
        for (size_t j = i; j-- > 0 && i - j < 64;)
            if (h->ops[j].status == RF_OP_OK && h->ops[j].return_ns >= h->ops[i].call_ns)
                sum++;
    }
    return oks > 0 ? 1.0 + sum / (double)oks : 0;
}

/* Checks one generated history, corrupted in one reply when asked. */
static bench_run check_once(const rf_model *m, unsigned clients, uint64_t seed,
                            unsigned unknown_permille, int corrupt)
{
    rf_history h;
    rf_linz_result r;
    bench_run run;
    gen_cfg cfg = {.model = m, .ops = BENCH_OPS, .clients = clients,
                   .unknown_permille = unknown_permille, .fail_permille = 10, .seed = seed,
                   .make_op = m == &rf_model_int ? gen_int_op : gen_kv_op};
    rf_history_init(&h, "g1");
    gen_history(&cfg, &h);
    for (size_t i = h.count / 2; corrupt && i < h.count; i++) {
        if (h.ops[i].status == RF_OP_OK && h.ops[i].reply_len > 0) {
            h.ops[i].reply[0] = 'x'; /* no state of either model replies this */
            break;
        }
    }
    run.in_flight = in_flight(&h);
    double c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_ms(CLOCK_MONOTONIC);
    int rc = rf_linz_check(m, &h, NULL, &r);
    run.ms = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    run.wall_ms = clock_ms(CLOCK_MONOTONIC) - w0;
    run.steps = r.steps;
    run.verdict = rc == 0 ? r.verdict : RF_LINZ_UNKNOWN;
    rf_linz_result_close(&r);
    rf_history_close(&h);
    return run;
}

static int by_ms(const void *a, const void *b)
{
    const bench_run *x = a, *y = b;
    return x->ms < y->ms ? -1 : x->ms > y->ms;
}

static void bench(const char *name, const rf_model *m, unsigned clients, unsigned unknown_permille,
                  int corrupt)
{
    bench_run runs[BENCH_ROUNDS];
    rf_linz_verdict want = corrupt ? RF_LINZ_VIOLATION : RF_LINZ_LINEARIZABLE;
    for (int i = 0; i < BENCH_ROUNDS; i++) {
        runs[i] = check_once(m, clients, 1000 + (uint64_t)i, unknown_permille, corrupt);
        if (runs[i].verdict != want) {
            printf("bench %s FAILED (seed %d: verdict %d, want %d)\n", name, 1000 + i,
                   runs[i].verdict, want);
            return;
        }
    }
    qsort(runs, BENCH_ROUNDS, sizeof runs[0], by_ms);
    const bench_run *med = &runs[BENCH_ROUNDS / 2];
    printf("bench %s %.1f ms (CPU, median of %d histories, max %.1f ms, wall %.1f ms; %s model, "
           "%d ops, %u clients, "
           "%.1f ok ops in flight, %.1f%% unknown, 1%% fail, %llu steps; %s)\n",
           name, med->ms, BENCH_ROUNDS, runs[BENCH_ROUNDS - 1].ms, med->wall_ms, m->name, BENCH_OPS,
           clients, med->in_flight, unknown_permille / 10.0,
           (unsigned long long)med->steps, corrupt ? "one reply corrupted: a proof of violation, no target"
                   : "target < 1000 ms");
}

int main(void)
{
    bench("linz.check_10k_ops", &rf_model_int, BENCH_CLIENTS, 0, 0);
    bench("linz.check_10k_ops_unknown", &rf_model_int, BENCH_CLIENTS, 5, 0);
    bench("linz.check_10k_ops_kv", &rf_model_kv, BENCH_CLIENTS, 5, 0);
    bench("linz.check_10k_ops_32_clients", &rf_model_int, 32, 0, 0);
    bench("linz.reject_10k_ops", &rf_model_int, BENCH_CLIENTS, 0, 1);
    bench("linz.reject_10k_ops_unknown", &rf_model_int, BENCH_CLIENTS, 5, 1);
    return 0;
}

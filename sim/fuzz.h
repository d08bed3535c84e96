/* fuzz: the predicate that the fuzzer and the shrinker ask ("run this scenario with this seed"), and the runner behind it. */
#ifndef SIM_FUZZ_H
#define SIM_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/run.h"
#include "sim/scenario.h"

#define RF_FUZZ_CHECK_MAX 64u
#define RF_FUZZ_DETAIL_MAX RF_SIM_RUN_TEXT_MAX

typedef enum {
    RF_FUZZ_PASS,  /* every expectation held */
    RF_FUZZ_FAIL,  /* a check failed: `check` says which */
    RF_FUZZ_ERROR, /* the scenario could not run (refused, exit 2) */
} rf_fuzz_verdict;

typedef struct rf_fuzz_outcome {
    rf_fuzz_verdict verdict;
    char check[RF_FUZZ_CHECK_MAX];   /* FAIL: the check's key (rf_fuzz_check_key) */
    char detail[RF_FUZZ_DETAIL_MAX]; /* FAIL: the violation; ERROR: the error */
    uint64_t trace_hash;
    uint64_t violation_ns;
    uint64_t events;
    uint64_t wall_ns;
} rf_fuzz_outcome;

/* The one thing the fuzzer and the shrinker need from a simulator: run s
 * with seed and say what happened. Returns RF_OK (the verdict is in *out)
 * or an error of the predicate itself (out of memory, cannot write). */
typedef int (*rf_fuzz_pred)(void *ctx, const rf_scenario *s, uint64_t seed, rf_fuzz_outcome *out);

/* The key of a violation, what "the same check" means when shrinking:
 * `expect leader`, `expect placement`, `expect linearizable`, `expect moves`,
 * `expect unavailability`, `expect safety`, `safety election`, `safety
 * agreement`, `setup`, `operation` (a timeline operation's expected reply),
 * or the violation's first word. Numbers and names in the text (times,
 * groups) are not part of the key, so a smaller scenario can fail the same
 * check at another time or in another group. */
void rf_fuzz_check_key(const char *violation, char *key, size_t cap);

/* ---- fleet-sim run as the predicate ---- */

typedef struct rf_fuzz_runner {
    char path[512];  /* the scenario text is written here for each run */
    FILE *sink;      /* the runner's report goes here (/dev/null) */
    const rf_model *const *models;
    uint32_t n_models;
    FILE *log;       /* --verbose event log of every run, NULL: none */
    uint32_t cpu_s_max; /* CPU seconds per run before check `timeout` (0: 60) */
    uint64_t runs;
} rf_fuzz_runner;

/* dir: where the scenario text is written (a file named after the pid). */
int rf_fuzz_runner_init(rf_fuzz_runner *r, const char *dir);
void rf_fuzz_runner_close(rf_fuzz_runner *r);

/* rf_fuzz_pred over rf_sim_run; ctx is an rf_fuzz_runner. */
int rf_fuzz_runner_pred(void *ctx, const rf_scenario *s, uint64_t seed, rf_fuzz_outcome *out);

/* Runs s twice with seed and compares the runs event by event. *first is
 * the first run's outcome, *rerun_hash the second's trace hash. On a
 * mismatch *same is false and divergence (cap bytes) names the first event
 * that differs: its index, simulated time, kind and node, both hashes. */
int rf_fuzz_runner_twice(rf_fuzz_runner *r, const rf_scenario *s, uint64_t seed,
                         rf_fuzz_outcome *first, uint64_t *rerun_hash, bool *same,
                         char *divergence, size_t cap);

/* Writes s's canonical text to path. */
int rf_fuzz_write_scenario(const rf_scenario *s, const char *path);

#endif

/* shrink: delta debugging of a failing scenario down to a small one that fails the same check. */
#ifndef SIM_SHRINK_H
#define SIM_SHRINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/fuzz.h"
#include "sim/scenario.h"

/* The shrinker is generic over the predicate (sim/fuzz.h): a candidate
 * "still fails" when the predicate says FAIL with the same check key as
 * the original failure. Candidates are edited trees whose written text
 * parses (an edit that leaves a dangling name is simply not a candidate)
 * and, when the input loses fewer than half of its nodes for good (crash
 * without restart, remove node), that still does: a shrink must not fail
 * a liveness check merely by crashing the last node.
 *
 * Passes, repeated while any of them makes progress:
 *  1. Zeller and Hildebrandt's ddmin ("Simplifying and Isolating
 *     Failure-Inducing Input", TSE 2002) over the timeline lines; its
 *     result is 1-minimal: removing any one remaining line makes the
 *     failure go away (or the text invalid).
 *  2. nodes, one at a time (those no remaining line names);
 *  3. groups, each with the workloads and lines that name it;
 *  4. workloads (clients), then one client per workload;
 *  5. durations: the run's length, then each line's `for`, shortened.
 * Every predicate call counts against runs_max and the wall deadline. */

typedef struct rf_shrink_opts {
    rf_fuzz_pred pred;
    void *ctx;
    uint64_t seed;
    uint32_t runs_max;    /* 0: 500 */
    uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0: none */
    FILE *log;            /* one line per accepted step, NULL: quiet */
} rf_shrink_opts;

typedef struct rf_shrink_stats {
    char check[RF_FUZZ_CHECK_MAX]; /* the check that keeps failing */
    uint32_t runs;
    bool budget_out;               /* stopped by runs_max or the deadline */
    uint32_t events_before, events_after;
    uint32_t nodes_before, nodes_after;
    uint32_t groups_before, groups_after;
    uint32_t workloads_before, workloads_after;
    uint64_t run_ns_before, run_ns_after;
    size_t bytes_before, bytes_after; /* canonical text */
} rf_shrink_stats;

/* Shrinks `in`, which must fail with opts->seed. On RF_OK *out is the
 * smallest failing tree found (rf_scenario_free), failing the same check
 * as `in`. RF_EINVAL when `in` does not fail (st->check empty); a
 * predicate error is returned as is. `in` is not changed. */
int rf_shrink(const rf_shrink_opts *opts, const rf_scenario *in, rf_scenario **out,
              rf_shrink_stats *st);

/* "events 14 -> 2, nodes 7 -> 3, ..., 1534 -> 312 bytes (80% smaller), 123 runs". */
void rf_shrink_summary(const rf_shrink_stats *st, char *buf, size_t cap);

/* A copy of s (through its canonical text). NULL when out of memory. */
rf_scenario *rf_shrink_clone(const rf_scenario *s);

#endif

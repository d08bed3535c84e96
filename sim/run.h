/* sim/run: `fleet-sim run`, a scenario file executed on the in-memory fleet harness. */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/rf_model.h"

/* A run parses the scenario, builds the cluster it describes on
 * sim/fleet_cluster (rf_node instances on the simulated network), plays
 * its timeline and workloads in virtual time, checks its expectations
 * (and election safety and state-machine agreement after every step),
 * checks every group's client history for linearizability (sim/linz), and
 * optionally records everything in a SQLite history (sim/record.h), a
 * JSON-lines client history and an HTML report (reports/report.h).
 *
 * Exit codes (rf_sim_run_result.exit_code):
 *   0  every expectation holds
 *   1  a check failed: violation, its simulated time, the seed and the
 *      replay command are printed
 *   2  usage or scenario error, printed as file:line:column: message;
 *      also for a directive the runner cannot execute yet. */

#define RF_SIM_RUN_EXIT_OK 0
#define RF_SIM_RUN_EXIT_FAIL 1
#define RF_SIM_RUN_EXIT_USAGE 2

#define RF_SIM_RUN_MODELS_MAX 16u
#define RF_SIM_RUN_TEXT_MAX 1024u

/* One entry of a run's event trail: what --check-determinism compares. */
typedef struct rf_sim_run_step {
    uint64_t time_ns;
    uint64_t hash; /* the trace hash after the event */
    uint32_t kind;
    uint32_t node;
} rf_sim_run_step;

/* The events of a run, kept for comparison with another run (bounded:
 * beyond steps_max only the count and the final hash are compared). */
typedef struct rf_sim_run_trail {
    rf_sim_run_step *steps;
    uint64_t len;       /* steps recorded */
    uint64_t steps_max; /* capacity */
    uint64_t events;    /* events seen in all */
} rf_sim_run_trail;

typedef struct rf_sim_run_opts {
    const char *scenario_path;
    bool has_seed;
    uint64_t seed;               /* overrides the scenario's seed when has_seed */
    const char *db_path;         /* SQLite history, NULL: none */
    const char *history_path;    /* JSON-lines client history, NULL: none */
    const char *report_dir;      /* HTML report (needs db_path), NULL: none */
    const rf_model *const *models; /* models beyond the built-ins (--model-lib) */
    uint32_t n_models;
    const char *build;           /* build identity recorded with the run */
    const char *replay;          /* command that replays this run, without its seed
                                    ("build/bin/fleet-sim run FILE"): printed on failure
                                    with " --seed N --verbose" */
    FILE *out;                   /* summary and verdicts; NULL: stdout */
    FILE *log;                   /* event log (--verbose), NULL: none */
    FILE *status;                /* in-place status line (a terminal), NULL: none */
    rf_sim_run_trail *trail;     /* when set, every event is appended (record) */
    const rf_sim_run_trail *compare; /* when set, the run stops at the first event
                                        that differs from this trail */
    bool full_ticks;             /* every node tick runs every timer (rf_node_config):
                                    must give the same run */
} rf_sim_run_opts;

typedef struct rf_sim_run_result {
    int exit_code;
    uint64_t seed;
    uint64_t trace_hash;
    uint64_t end_ns;
    uint64_t events;
    uint64_t wall_ns;
    uint32_t checks_passed, checks_failed, checks_unknown;
    int64_t run_id;            /* in the SQLite history, 0 without --db */
    uint64_t violation_ns;
    char violation[RF_SIM_RUN_TEXT_MAX]; /* the first failed check */
    char error[RF_SIM_RUN_TEXT_MAX];     /* exit 2: file:line:column: message */
    /* --check-determinism: the first event that differs from `compare`. */
    bool diverged;
    uint64_t diverged_event;
    rf_sim_run_step diverged_step, expected_step;
} rf_sim_run_result;

/* Runs one scenario. Always fills *res (res->exit_code is the verdict).
 * Returns RF_OK, or RF_ENOMEM when the runner itself ran out of memory
 * (exit code 2 then). */
int rf_sim_run(const rf_sim_run_opts *opts, rf_sim_run_result *res);

void rf_sim_run_trail_init(rf_sim_run_trail *t, uint64_t steps_max);
void rf_sim_run_trail_close(rf_sim_run_trail *t);

/* The name of an engine event kind in a run ("deliver", "tick"...). */
const char *rf_sim_run_kind_name(uint32_t kind);

#endif

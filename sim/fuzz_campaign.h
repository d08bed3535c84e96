/* fuzz_campaign: `fleet-sim fuzz`, `replay` and `shrink`: seeds run by worker processes, failures shrunk, trends in SQLite. */
#ifndef SIM_FUZZ_CAMPAIGN_H
#define SIM_FUZZ_CAMPAIGN_H

#include <stdint.h>

#include "sim/fuzz.h"

/* Seeds whose index in the campaign is a multiple of this are run twice
 * and their trace hashes compared (1 in 16: 6.25%, the first seed always). */
#define RF_FUZZ_RERUN_EVERY 16u
#define RF_FUZZ_JOBS_MAX 64u
#define RF_FUZZ_SHRINK_RUNS_MAX 150u /* predicate runs per shrink, default */
#define RF_FUZZ_SHRINK_DEFAULT 4u     /* failures shrunk, the first in seed order */
#define RF_FUZZ_SHRINK_MAX 64u

/* Each takes the arguments after the command's name and returns the exit
 * status: fuzz 0 every seed passed, 1 a seed failed, 2 usage error;
 * replay the verdict of fleet-sim run; shrink 0 written, 1 the scenario
 * does not fail with that seed, 2 usage error. */
int rf_fuzz_cmd_fuzz(int argc, char **argv);

/* The same with another predicate than fleet-sim run (tests plant
 * failures through it). pred NULL: fleet-sim run. */
int rf_fuzz_cmd_fuzz_with(int argc, char **argv, rf_fuzz_pred pred, void *ctx);
int rf_fuzz_cmd_replay(int argc, char **argv);
int rf_fuzz_cmd_shrink(int argc, char **argv);

#endif

/* fuzz_worker: what a campaign's worker does with one seed, and the fixed-size result it sends back. */
#ifndef SIM_FUZZ_WORKER_H
#define SIM_FUZZ_WORKER_H

#include <stdint.h>

#include "sim/fuzz.h"
#include "sim/fuzz_campaign.h"

#define FZ_PATH_MAX 256u
#define FZ_DETAIL_MAX 1024u
#define FZ_SHRINK_TEXT_MAX 300u

typedef enum { FZ_PASS, FZ_FAIL, FZ_ERROR, FZ_NONDET } fz_verdict;

typedef struct fz_job {
    uint64_t from;
    uint32_t kinds;
    char out_dir[FZ_PATH_MAX];
    uint32_t shrink_runs_max; /* per failure */
    uint64_t shrink_ns_max;   /* wall time one shrink may take */
    /* The predicate; NULL: fleet-sim run (rf_fuzz_runner_pred, reruns
     * compared event by event). Tests plant failures through it. */
    rf_fuzz_pred pred;
    void *pred_ctx;
} fz_job;

/* Sent whole through a pipe from the worker to the parent. */
typedef struct fz_result {
    uint64_t seed;
    uint32_t verdict; /* fz_verdict */
    uint32_t nodes, zones, groups;
    uint32_t reran;
    uint64_t wall_ns;
    uint64_t trace_hash, rerun_hash;
    char check[RF_FUZZ_CHECK_MAX];
    char detail[FZ_DETAIL_MAX];
    char params[1024];
    char shrink[FZ_SHRINK_TEXT_MAX]; /* how much smaller, or why not shrunk */
    char world[FZ_PATH_MAX + 32];    /* the drawn world of a failing seed */
    char file[FZ_PATH_MAX + 32];     /* the shrunk scenario, "" when not shrunk */
} fz_result;

uint64_t fz_mono_ns(void);

/* Seed from + index: drawn and run (twice every RF_FUZZ_RERUN_EVERY); a
 * failing seed's world is written as OUT/world-SEED.scn. */
void fz_run_seed(const fz_job *job, rf_fuzz_runner *run, uint64_t index, fz_result *res);

/* Shrinks failing seed res->seed to OUT/fail-SEED.scn; fills res->shrink
 * and res->file. */
void fz_shrink_seed(const fz_job *job, rf_fuzz_runner *run, fz_result *res);

#endif

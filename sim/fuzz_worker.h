/* fuzz_worker: what a campaign's worker does with one seed, and the fixed-size result it sends back. */
#ifndef SIM_FUZZ_WORKER_H
#define SIM_FUZZ_WORKER_H

#include <stdint.h>

#include "sim/fuzz.h"
#include "sim/fuzz_campaign.h"

#define FZ_PATH_MAX 256u
#define FZ_DETAIL_MAX 1024u

typedef enum { FZ_PASS, FZ_FAIL, FZ_ERROR, FZ_NONDET } fz_verdict;

typedef struct fz_job {
    uint64_t from;
    uint32_t kinds;
    char out_dir[FZ_PATH_MAX];
    uint32_t shrink_runs_max; /* 0: failures are not shrunk */
    uint64_t shrink_ns_max;   /* wall time one shrink may take */
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
    char shrink[300];
    char file[FZ_PATH_MAX + 32]; /* the shrunk scenario */
} fz_result;

uint64_t fz_mono_ns(void);

/* Seed from + index: drawn, run (twice every RF_FUZZ_RERUN_EVERY), and on
 * a failure written as OUT/world-SEED.scn and shrunk to OUT/fail-SEED.scn. */
void fz_run_seed(const fz_job *job, rf_fuzz_runner *run, uint64_t index, fz_result *res);

#endif

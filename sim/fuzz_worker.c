/* fuzz_worker: one seed of a campaign in a worker process: draw, run (maybe twice), shrink a failure, write its files. */
#include "sim/fuzz_worker.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/rf_err.h"
#include "sim/fuzz_world.h"
#include "sim/shrink.h"

#define SEC UINT64_C(1000000000)

uint64_t fz_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void shrink_failure(const fz_job *job, rf_fuzz_runner *run, const rf_scenario *w,
                           fz_result *res)
{
    rf_scenario *small = NULL;
    rf_shrink_stats st;
    rf_shrink_opts o = {.pred = rf_fuzz_runner_pred, .ctx = run, .seed = res->seed,
                        .runs_max = job->shrink_runs_max,
                        .deadline_ns = fz_mono_ns() + job->shrink_ns_max};
    int rc = rf_shrink(&o, w, &small, &st);
    snprintf(res->file, sizeof res->file, "%s/fail-%" PRIu64 ".scn", job->out_dir, res->seed);
    if (rc == RF_OK) {
        rf_shrink_summary(&st, res->shrink, sizeof res->shrink);
        rc = rf_fuzz_write_scenario(small, res->file);
        rf_scenario_free(small);
    } else {
        /* Flaky under shrinking (the first rerun passed) or out of memory:
         * the whole world is the failing scenario. */
        snprintf(res->shrink, sizeof res->shrink, "not shrunk: %s", rf_strerror(rc));
        rc = rf_fuzz_write_scenario(w, res->file);
    }
    if (rc != RF_OK)
        snprintf(res->file, sizeof res->file, "(cannot write %s/fail-%" PRIu64 ".scn)",
                 job->out_dir, res->seed);
}

void fz_run_seed(const fz_job *job, rf_fuzz_runner *run, uint64_t index, fz_result *res)
{
    memset(res, 0, sizeof *res);
    res->seed = job->from + index;
    uint64_t t0 = fz_mono_ns();
    rf_scenario *w;
    rf_fuzz_params p;
    char err[600];
    int rc = rf_fuzz_world_draw(res->seed, job->kinds, &w, &p, err, sizeof err);
    if (rc != RF_OK) {
        res->verdict = FZ_ERROR;
        snprintf(res->detail, sizeof res->detail, "drawing the world: %s %.900s", rf_strerror(rc), err);
        return;
    }
    res->nodes = p.nodes;
    res->zones = p.zones;
    res->groups = p.groups;
    (void)rf_fuzz_params_json(&p, res->params, sizeof res->params);
    rf_fuzz_outcome out;
    bool same = true;
    char div[FZ_DETAIL_MAX];
    if (index % RF_FUZZ_RERUN_EVERY == 0) {
        res->reran = 1;
        rc = rf_fuzz_runner_twice(run, w, res->seed, &out, &res->rerun_hash, &same, div,
                                  sizeof div);
    } else {
        rc = rf_fuzz_runner_pred(run, w, res->seed, &out);
    }
    res->trace_hash = out.trace_hash;
    if (rc != RF_OK) {
        res->verdict = FZ_ERROR;
        snprintf(res->detail, sizeof res->detail, "the runner failed: %s", rf_strerror(rc));
    } else if (!same) {
        res->verdict = FZ_NONDET;
        snprintf(res->check, sizeof res->check, "determinism");
        snprintf(res->detail, sizeof res->detail, "%s", div);
    } else if (out.verdict == RF_FUZZ_PASS) {
        res->verdict = FZ_PASS;
    } else {
        res->verdict = out.verdict == RF_FUZZ_FAIL ? FZ_FAIL : FZ_ERROR;
        snprintf(res->check, sizeof res->check, "%s", out.check);
        snprintf(res->detail, sizeof res->detail, "%s", out.detail);
    }
    if (res->verdict != FZ_PASS) {
        char path[FZ_PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/world-%" PRIu64 ".scn", job->out_dir, res->seed);
        (void)rf_fuzz_write_scenario(w, path);
    }
    if (res->verdict == FZ_FAIL && job->shrink_runs_max > 0)
        shrink_failure(job, run, w, res);
    rf_scenario_free(w);
    res->wall_ns = fz_mono_ns() - t0;
}

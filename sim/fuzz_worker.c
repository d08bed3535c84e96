/* fuzz_worker: one seed of a campaign in a worker process: draw, run (maybe twice), and shrink a failure. */
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

static rf_fuzz_pred pred_of(const fz_job *job, rf_fuzz_runner *run, void **ctx)
{
    *ctx = job->pred != NULL ? job->pred_ctx : run;
    return job->pred != NULL ? job->pred : rf_fuzz_runner_pred;
}

/* Twice; with fleet-sim run event by event (the first divergence), with
 * another predicate by trace hash. */
static int run_twice(const fz_job *job, rf_fuzz_runner *run, const rf_scenario *w, fz_result *res,
                     rf_fuzz_outcome *out, bool *same, char *div, size_t cap)
{
    if (job->pred == NULL)
        return rf_fuzz_runner_twice(run, w, res->seed, out, &res->rerun_hash, same, div, cap);
    rf_fuzz_outcome again;
    memset(&again, 0, sizeof again);
    int rc = job->pred(job->pred_ctx, w, res->seed, out);
    if (rc == RF_OK)
        rc = job->pred(job->pred_ctx, w, res->seed, &again);
    res->rerun_hash = again.trace_hash;
    *same = rc != RF_OK || again.trace_hash == out->trace_hash;
    if (!*same)
        snprintf(div, cap, "trace hash %016" PRIx64 " on the first run, %016" PRIx64 " on the second",
                 out->trace_hash, again.trace_hash);
    return rc;
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
    memset(&out, 0, sizeof out);
    bool same = true;
    char div[FZ_DETAIL_MAX];
    if (index % RF_FUZZ_RERUN_EVERY == 0) {
        res->reran = 1;
        rc = run_twice(job, run, w, res, &out, &same, div, sizeof div);
    } else {
        void *ctx;
        rf_fuzz_pred pred = pred_of(job, run, &ctx);
        rc = pred(ctx, w, res->seed, &out);
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
        snprintf(res->world, sizeof res->world, "%s/world-%" PRIu64 ".scn", job->out_dir, res->seed);
        if (rf_fuzz_write_scenario(w, res->world) != RF_OK)
            res->world[0] = '\0';
    }
    rf_scenario_free(w);
    res->wall_ns = fz_mono_ns() - t0;
}

void fz_shrink_seed(const fz_job *job, rf_fuzz_runner *run, fz_result *res)
{
    rf_scenario *w = NULL, *small = NULL;
    char err[600];
    int rc = rf_fuzz_world_draw(res->seed, job->kinds, &w, NULL, err, sizeof err);
    rf_shrink_stats st;
    void *ctx;
    rf_fuzz_pred pred = pred_of(job, run, &ctx);
    rf_shrink_opts o = {.pred = pred, .ctx = ctx, .seed = res->seed,
                        .runs_max = job->shrink_runs_max,
                        .deadline_ns = fz_mono_ns() + job->shrink_ns_max};
    if (rc == RF_OK)
        rc = rf_shrink(&o, w, &small, &st);
    snprintf(res->file, sizeof res->file, "%s/fail-%" PRIu64 ".scn", job->out_dir, res->seed);
    if (rc == RF_OK) {
        rf_shrink_summary(&st, res->shrink, sizeof res->shrink);
        rc = rf_fuzz_write_scenario(small, res->file);
    } else {
        snprintf(res->shrink, sizeof res->shrink, "not shrunk: %s%s", rf_strerror(rc),
                 rc == RF_EINVAL ? " (the seed passed when run again)" : "");
        res->file[0] = '\0';
        rc = RF_OK;
    }
    if (rc != RF_OK)
        res->file[0] = '\0';
    rf_scenario_free(small);
    rf_scenario_free(w);
}

/* fuzz_run: fleet-sim run as the fuzzer's predicate, the check keys of violations, and the determinism rerun. */
#include "sim/fuzz.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/rf_err.h"

/* Steps compared one by one by the rerun; beyond them the final hash. */
#define TRAIL_STEPS_MAX (1u << 20)

void rf_fuzz_check_key(const char *v, char *key, size_t cap)
{
    static const struct {
        const char *prefix, *contains, *key;
    } keys[] = {
        {"expect leader", NULL, "expect leader"},
        {"expect placement", NULL, "expect placement"},
        {"expect linearizable", NULL, "expect linearizable"},
        {"expect moves", NULL, "expect moves"},
        {"expect unavailability", NULL, "expect unavailability"},
        {"expect safety", NULL, "expect safety"},
        {"safety:", "two leaders", "safety election"},
        {"safety:", "applied different", "safety agreement"},
        {"setup:", NULL, "setup"},
        {"`", NULL, "operation"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strncmp(v, keys[i].prefix, strlen(keys[i].prefix)) == 0 &&
            (keys[i].contains == NULL || strstr(v, keys[i].contains) != NULL)) {
            snprintf(key, cap, "%s", keys[i].key);
            return;
        }
    size_t n = strcspn(v, " :");
    snprintf(key, cap, "%.*s", (int)(n > 40 ? 40 : n), v);
}

int rf_fuzz_write_scenario(const rf_scenario *s, const char *path)
{
    char *text;
    size_t len;
    int rc = rf_scenario_write(s, &text, &len);
    if (rc != RF_OK)
        return rc;
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        free(text);
        return RF_EIO;
    }
    size_t put = fwrite(text, 1, len, f);
    free(text);
    if (fclose(f) != 0 || put != len)
        return RF_EIO;
    return RF_OK;
}

int rf_fuzz_runner_init(rf_fuzz_runner *r, const char *dir)
{
    memset(r, 0, sizeof *r);
    int n = snprintf(r->path, sizeof r->path, "%s/.fuzz-run-%ld.scn", dir, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof r->path)
        return RF_ETOOBIG;
    r->sink = fopen("/dev/null", "w");
    return r->sink == NULL ? RF_EIO : RF_OK;
}

void rf_fuzz_runner_close(rf_fuzz_runner *r)
{
    if (r->sink != NULL)
        fclose(r->sink);
    if (r->path[0] != '\0')
        (void)unlink(r->path);
    memset(r, 0, sizeof *r);
}

static void outcome_of(const rf_sim_run_result *res, rf_fuzz_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->trace_hash = res->trace_hash;
    out->events = res->events;
    out->wall_ns = res->wall_ns;
    out->violation_ns = res->violation_ns;
    if (res->exit_code == RF_SIM_RUN_EXIT_OK) {
        out->verdict = RF_FUZZ_PASS;
    } else if (res->exit_code == RF_SIM_RUN_EXIT_FAIL) {
        out->verdict = RF_FUZZ_FAIL;
        rf_fuzz_check_key(res->violation, out->check, sizeof out->check);
        snprintf(out->detail, sizeof out->detail, "%s", res->violation);
    } else {
        out->verdict = RF_FUZZ_ERROR;
        snprintf(out->check, sizeof out->check, "error");
        snprintf(out->detail, sizeof out->detail, "%s", res->error);
    }
}

static int run_once(rf_fuzz_runner *r, uint64_t seed, rf_sim_run_trail *trail,
                    const rf_sim_run_trail *compare, rf_sim_run_result *res)
{
    rf_sim_run_opts o;
    memset(&o, 0, sizeof o);
    o.scenario_path = r->path;
    o.has_seed = true;
    o.seed = seed;
    o.models = r->models;
    o.n_models = r->n_models;
    o.build = "fuzz";
    o.out = r->sink;
    o.log = r->log;
    o.trail = trail;
    o.compare = compare;
    r->runs++;
    return rf_sim_run(&o, res);
}

int rf_fuzz_runner_pred(void *ctx, const rf_scenario *s, uint64_t seed, rf_fuzz_outcome *out)
{
    rf_fuzz_runner *r = ctx;
    int rc = rf_fuzz_write_scenario(s, r->path);
    if (rc != RF_OK)
        return rc;
    rf_sim_run_result *res = malloc(sizeof *res);
    if (res == NULL)
        return RF_ENOMEM;
    rc = run_once(r, seed, NULL, NULL, res);
    outcome_of(res, out);
    free(res);
    return rc;
}

int rf_fuzz_runner_twice(rf_fuzz_runner *r, const rf_scenario *s, uint64_t seed,
                         rf_fuzz_outcome *first, uint64_t *rerun_hash, bool *same,
                         char *divergence, size_t cap)
{
    *same = true;
    divergence[0] = '\0';
    int rc = rf_fuzz_write_scenario(s, r->path);
    if (rc != RF_OK)
        return rc;
    rf_sim_run_result *res = malloc(2 * sizeof *res);
    if (res == NULL)
        return RF_ENOMEM;
    rf_sim_run_trail trail;
    rf_sim_run_trail_init(&trail, TRAIL_STEPS_MAX);
    rc = run_once(r, seed, &trail, NULL, &res[0]);
    outcome_of(&res[0], first);
    if (rc == RF_OK)
        rc = run_once(r, seed, NULL, &trail, &res[1]);
    *rerun_hash = res[1].trace_hash;
    if (rc == RF_OK && res[1].diverged) {
        const rf_sim_run_step *d = &res[1].diverged_step, *x = &res[1].expected_step;
        *same = false;
        snprintf(divergence, cap,
                 "first divergence at event %" PRIu64 ": t=%" PRIu64 " ns %s on n%u (hash %016" PRIx64
                 "), the first run had t=%" PRIu64 " ns %s on n%u (hash %016" PRIx64 ")",
                 res[1].diverged_event, d->time_ns, rf_sim_run_kind_name(d->kind), d->node + 1,
                 d->hash, x->time_ns, rf_sim_run_kind_name(x->kind), x->node + 1, x->hash);
    } else if (rc == RF_OK && (res[1].trace_hash != res[0].trace_hash ||
                               res[1].events != res[0].events)) {
        *same = false;
        snprintf(divergence, cap,
                 "the runs agree on their first %" PRIu64 " events, then differ: %" PRIu64
                 " events, hash %016" PRIx64 " vs %" PRIu64 " events, hash %016" PRIx64,
                 trail.len, res[0].events, res[0].trace_hash, res[1].events,
                 res[1].trace_hash);
    }
    rf_sim_run_trail_close(&trail);
    free(res);
    return rc;
}

/* fuzz_cmd: `fleet-sim replay FILE --seed N` and `fleet-sim shrink FILE --seed N [--out FILE]`. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/fuzz.h"
#include "sim/fuzz_campaign.h"
#include "sim/shrink.h"

typedef struct file_args {
    const char *file, *out;
    uint64_t seed;
    bool have_seed, verbose;
    uint32_t runs;
} file_args;

static int parse_file_args(const char *cmd, int argc, char **argv, file_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(argv[i], "--seed") == 0 && v != NULL && *v >= '0' && *v <= '9') {
            errno = 0;
            a->seed = strtoull(v, &end, 10);
            if (errno != 0 || *end != '\0')
                break;
            a->have_seed = true;
            i++;
        } else if (strcmp(argv[i], "--runs") == 0 && v != NULL && *v >= '1' && *v <= '9') {
            a->runs = (uint32_t)strtoul(v, &end, 10);
            i++;
        } else if (strcmp(argv[i], "--out") == 0 && v != NULL) {
            a->out = v;
            i++;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            a->verbose = true;
        } else if (argv[i][0] != '-' && a->file == NULL) {
            a->file = argv[i];
        } else {
            a->file = NULL;
            break;
        }
    }
    if (a->file == NULL || !a->have_seed) {
        fprintf(stderr, "usage: fleet-sim %s FILE --seed N%s\n", cmd,
                strcmp(cmd, "shrink") == 0 ? " [--out FILE] [--runs N] [--verbose]" : " [--verbose]");
        return 2;
    }
    return 0;
}

int rf_fuzz_cmd_replay(int argc, char **argv)
{
    file_args a;
    int rc = parse_file_args("replay", argc, argv, &a);
    if (rc != 0)
        return rc;
    char replay[600];
    snprintf(replay, sizeof replay, "build/bin/fleet-sim replay %s", a.file);
    rf_sim_run_opts o;
    memset(&o, 0, sizeof o);
    o.scenario_path = a.file;
    o.has_seed = true;
    o.seed = a.seed;
    o.build = "replay";
    o.replay = replay;
    o.log = a.verbose ? stdout : NULL;
    rf_sim_run_result *res = malloc(sizeof *res);
    if (res == NULL)
        return 2;
    rc = rf_sim_run(&o, res);
    int exit = res->exit_code;
    if (exit == RF_SIM_RUN_EXIT_USAGE)
        fprintf(stderr, "%s\n", res->error);
    free(res);
    return rc == RF_OK ? exit : 2;
}

int rf_fuzz_cmd_shrink(int argc, char **argv)
{
    file_args a;
    int rc = parse_file_args("shrink", argc, argv, &a);
    if (rc != 0)
        return rc;
    rf_scenario *s;
    rf_scn_error e;
    if (rf_scenario_load(a.file, &s, &e) != RF_OK) {
        fprintf(stderr, "%s\n", e.text);
        return 2;
    }
    char out[1024];
    size_t n = strlen(a.file);
    if (a.out != NULL)
        snprintf(out, sizeof out, "%s", a.out);
    else
        snprintf(out, sizeof out, "%.*s.shrunk.scn",
                 (int)(n > 4 && strcmp(a.file + n - 4, ".scn") == 0 ? n - 4 : n), a.file);
    rf_fuzz_runner run;
    if (rf_fuzz_runner_init(&run, "/tmp") != RF_OK) {
        rf_scenario_free(s);
        return 2;
    }
    rf_shrink_opts o = {.pred = rf_fuzz_runner_pred, .ctx = &run, .seed = a.seed,
                        .runs_max = a.runs != 0 ? a.runs : 1000, .log = a.verbose ? stdout : NULL};
    rf_scenario *small = NULL;
    rf_shrink_stats st;
    rc = rf_shrink(&o, s, &small, &st);
    rf_fuzz_runner_close(&run);
    rf_scenario_free(s);
    if (rc == RF_EINVAL) {
        printf("%s with seed %" PRIu64 " does not fail: nothing to shrink\n", a.file, a.seed);
        return 1;
    }
    if (rc == RF_OK)
        rc = rf_fuzz_write_scenario(small, out);
    rf_scenario_free(small);
    if (rc != RF_OK) {
        fprintf(stderr, "fleet-sim shrink: %s\n", rf_strerror(rc));
        return 2;
    }
    char sum[400];
    rf_shrink_summary(&st, sum, sizeof sum);
    printf("shrunk (still fails `%s`): %s\nwrote %s\nreplay: build/bin/fleet-sim replay %s --seed %" PRIu64 "\n",
           st.check, sum, out, out, a.seed);
    return 0;
}

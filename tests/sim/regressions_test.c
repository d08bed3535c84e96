/* Runs every .scn file of scenarios/regressions with its own seed: the shrunk scenarios of fixed bugs must pass, and the same with every node tick in full. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/run.h"

#define DIR_PATH "scenarios/regressions"

START_TEST(test_every_regression_scenario_passes)
{
    DIR *d = opendir(DIR_PATH);
    ck_assert_ptr_nonnull(d);
    const struct dirent *e;
    FILE *sink = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(sink);
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= 4 || strcmp(e->d_name + n - 4, ".scn") != 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", DIR_PATH, e->d_name);
        rf_sim_run_opts o;
        memset(&o, 0, sizeof o);
        o.scenario_path = path;
        o.out = sink;
        rf_sim_run_result *res = malloc(sizeof *res);
        ck_assert_ptr_nonnull(res);
        ck_assert_int_eq(rf_sim_run(&o, res), RF_OK);
        ck_assert_msg(res->exit_code == RF_SIM_RUN_EXIT_OK, "%s: exit %d: %s%s", path,
                      res->exit_code, res->violation, res->error);
        /* rf_node_tick skips a tick with nothing due: running every timer
         * at every tick instead must give the same run, event for event. */
        rf_sim_run_result *full = malloc(sizeof *full);
        ck_assert_ptr_nonnull(full);
        o.full_ticks = true;
        ck_assert_int_eq(rf_sim_run(&o, full), RF_OK);
        ck_assert_msg(full->trace_hash == res->trace_hash && full->events == res->events,
                      "%s: full ticks changed the run: trace %016llx, %llu events instead of "
                      "%016llx, %llu",
                      path, (unsigned long long)full->trace_hash,
                      (unsigned long long)full->events, (unsigned long long)res->trace_hash,
                      (unsigned long long)res->events);
        free(full);
        free(res);
    }
    fclose(sink);
    closedir(d);
}
END_TEST

Suite *sim_regressions_suite(void)
{
    Suite *s = suite_create("sim_regressions");
    TCase *tc = tcase_create("regressions");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_every_regression_scenario_passes);
    suite_add_tcase(s, tc);
    return s;
}

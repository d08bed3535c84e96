/* Tests of core/fleet/node*.c: rf_node on the in-memory multi-node harness (sim/fleet_cluster). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/fleet_cluster.h"

#define MS (1000ull * 1000ull)
#define SEC (1000ull * MS)

/* Waits for a request's reply and returns its status (fails the test on
 * no reply at all: every request must get one). */
static int wait_status(rf_sim_fleet *f, uint64_t req, char *text)
{
    int status = -1;
    char buf[RF_SIM_FLEET_REPLY_TEXT_MAX];
    ck_assert_uint_ne(req, 0);
    ck_assert_msg(rf_sim_fleet_wait(f, req, 20 * SEC, &status, text != NULL ? text : buf),
                  "request %llu got no reply", (unsigned long long)req);
    return status;
}

static rf_sim_fleet *fleet_new(uint32_t nodes, uint64_t seed)
{
    rf_sim_fleet_config cfg;
    rf_sim_fleet_config_defaults(&cfg, nodes);
    cfg.seed = seed;
    rf_sim_fleet *f = NULL;
    ck_assert_int_eq(rf_sim_fleet_create(&cfg, &f), RF_OK);
    return f;
}

/* Activates nodes 0..n-1 in the zones given, the first one starting the
 * cluster and the others joining through it. */
static void activate_all(rf_sim_fleet *f, const char *const *zones, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_activate(f, i, zones[i], i == 0 ? -1 : 0), NULL),
                         RF_OK);
}

START_TEST(test_node_readme_example_four_nodes_five_groups)
{
    static const char *const zones[] = {"zone1", "zone2", "zone1", "zone2"};
    rf_sim_fleet *f = fleet_new(4, 42);
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    activate_all(f, zones, 4);
    for (int i = 1; i <= 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "consensus%d", i);
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 0, name, 3, "int"), NULL), RF_OK);
    }
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, 1, "consensus1", "get"), text), RF_OK);
    ck_assert_str_eq(text, "0");
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 2, "consensus1", "inc"), text), RF_OK);
    ck_assert_str_eq(text, "0");
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, 3, "consensus1", "get"), text), RF_OK);
    ck_assert_str_eq(text, "1");
    rf_sim_fleet_close(f);
}
END_TEST

Suite *fleet_node_suite(void)
{
    Suite *s = suite_create("fleet_node");
    TCase *tc = tcase_create("node");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_node_readme_example_four_nodes_five_groups);
    suite_add_tcase(s, tc);
    return s;
}

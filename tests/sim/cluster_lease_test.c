/* Tests of clock drift in sim/cluster*.c, seen through lease reads and the linearizability check. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>

#include "base/rf_err.h"
#include "sim/cluster.h"

#define MS UINT64_C(1000000)

/* Ten rounds of: slow the leader's clock by 40%, speed the others up by
 * 40%, cut the leader off for 400 ms while clients (90% reads) keep
 * talking to every node, heal. Returns the violation kind found, or
 * RF_SIM_V_NONE. */
static rf_sim_violation_kind drifting_leader_run(uint64_t seed, uint64_t lease_drift_ns)
{
    rf_sim_cluster_config cfg;
    rf_sim_cluster_config_defaults(&cfg);
    cfg.seed = seed;
    cfg.clients = 8;
    cfg.query_ppm = 900000;
    cfg.client_think_ns_max = 2 * MS;
    cfg.client_timeout_ns = 50 * MS;
    cfg.raft.lease_drift_ns = lease_drift_ns;
    rf_sim_cluster *c = NULL;
    ck_assert_int_eq(rf_sim_cluster_create(&cfg, &c), RF_OK);
    rf_sim_cluster_run_until(c, 500 * MS);
    for (int round = 0; round < 10; round++) {
        int l = rf_sim_cluster_leader(c);
        uint32_t cut = RF_SIM_CUT_NONE;
        if (l >= 0) {
            for (uint32_t i = 0; i < 3; i++)
                ck_assert_int_eq(rf_sim_cluster_set_drift(c, i, (int)i == l ? -400000 : 400000),
                                 RF_OK);
            cut = rf_sim_net_isolate(rf_sim_cluster_net(c), (uint32_t)l);
        }
        rf_sim_cluster_run_until(c, rf_sim_cluster_now(c) + 400 * MS);
        rf_sim_net_heal_cut(rf_sim_cluster_net(c), cut);
        rf_sim_cluster_run_until(c, rf_sim_cluster_now(c) + 400 * MS);
    }
    if (rf_sim_cluster_violations(c) == 0)
        (void)rf_sim_cluster_check_linearizable(c);
    rf_sim_violation_kind k = rf_sim_cluster_violations(c) > 0
                                  ? rf_sim_cluster_first_violation(c)->kind
                                  : RF_SIM_V_NONE;
    rf_sim_cluster_close(c);
    return k;
}

START_TEST(test_stale_lease_reads_are_caught_when_drift_exceeds_the_margin)
{
    /* No drift margin: the slow old leader believes its lease for 1/0.6
     * of the election timeout while fast followers elect a new leader
     * after 1/1.4 of it. Some run must read stale data, and the
     * linearizability check must say so. */
    uint64_t seed = 1, caught = 0;
    for (; seed <= 40 && caught == 0; seed++)
        caught = drifting_leader_run(seed, 0) == RF_SIM_V_LINEARIZABILITY;
    ck_assert_uint_eq(caught, 1);
    printf("drift beyond the lease margin: stale read caught by seed %" PRIu64 "\n", seed - 1);
}
END_TEST

START_TEST(test_drift_out_of_range_is_refused)
{
    rf_sim_cluster_config cfg;
    rf_sim_cluster_config_defaults(&cfg);
    rf_sim_cluster *c = NULL;
    ck_assert_int_eq(rf_sim_cluster_create(&cfg, &c), RF_OK);
    ck_assert_int_eq(rf_sim_cluster_set_drift(c, 0, RF_SIM_DRIFT_PPM_MAX), RF_ERANGE);
    ck_assert_int_eq(rf_sim_cluster_set_drift(c, 0, -RF_SIM_DRIFT_PPM_MAX), RF_ERANGE);
    ck_assert_int_eq(rf_sim_cluster_set_drift(c, 0, 250000), RF_OK);
    rf_sim_cluster_close(c);
}
END_TEST

START_TEST(test_lease_reads_stay_linearizable_when_the_margin_covers_drift)
{
    /* Raft thesis §6.4.1: with clocks within +-40%, a margin of 60% of the
     * election timeout (>= 2 * 0.4 / 1.4) keeps lease reads safe. */
    for (uint64_t seed = 1; seed <= 10; seed++)
        ck_assert_int_eq(drifting_leader_run(seed, 60 * MS), RF_SIM_V_NONE);
}
END_TEST

Suite *sim_cluster_lease_suite(void)
{
    Suite *s = suite_create("sim_cluster_lease");
    TCase *tc = tcase_create("drift");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_stale_lease_reads_are_caught_when_drift_exceeds_the_margin);
    tcase_add_test(tc, test_lease_reads_stay_linearizable_when_the_margin_covers_drift);
    tcase_add_test(tc, test_drift_out_of_range_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

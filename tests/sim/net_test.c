/* Tests of sim/net.c: loss, duplication, latency, partitions, one-way cuts, zones, flaps, clogs. */
#include <check.h>

#include "base/rf_err.h"
#include "sim/net.h"

static rf_sim_engine eng;

static void net_setup(rf_sim_net *net, uint32_t nodes, const rf_sim_net_config *cfg)
{
    ck_assert_int_eq(rf_sim_engine_init(&eng, 99, 16), RF_OK);
    rf_sim_net_init(net, &eng, nodes, cfg);
}

START_TEST(test_net_loses_and_duplicates_at_the_configured_rates)
{
    rf_sim_net net;
    rf_sim_net_config cfg = {.latency_ns_base = 1000, .latency_ns_jitter = 500,
                             .loss_ppm = 100000, .dup_ppm = 200000};
    net_setup(&net, 3, &cfg);
    uint64_t at[2], delivered = 0, n = 100000;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t k = rf_sim_net_send(&net, 10, 0, 1, at);
        for (uint32_t j = 0; j < k; j++) {
            ck_assert_uint_ge(at[j], 10 + 1000);
            ck_assert_uint_le(at[j], 10 + 1500);
        }
        delivered += k;
    }
    /* 10% lost, 20% of the rest doubled: 0.9 * 1.2 = 1.08 copies each. */
    ck_assert_uint_gt(net.stats.lost, n / 10 - 1000);
    ck_assert_uint_lt(net.stats.lost, n / 10 + 1000);
    ck_assert_uint_gt(delivered, n * 108 / 100 - 1500);
    ck_assert_uint_lt(delivered, n * 108 / 100 + 1500);
    rf_sim_engine_close(&eng);
}
END_TEST

START_TEST(test_net_jitter_reorders_messages)
{
    rf_sim_net net;
    rf_sim_net_config cfg = {.latency_ns_base = 1000, .latency_ns_jitter = 5000};
    net_setup(&net, 2, &cfg);
    uint64_t at[2], prev = 0;
    int reordered = 0;
    for (uint64_t t = 0; t < 1000; t += 10) {
        ck_assert_uint_eq(rf_sim_net_send(&net, t, 0, 1, at), 1);
        reordered += at[0] < prev;
        prev = at[0];
    }
    ck_assert_int_gt(reordered, 10);
    rf_sim_engine_close(&eng);
}
END_TEST

START_TEST(test_net_partition_cuts_both_ways_between_sets_only)
{
    rf_sim_net net;
    rf_sim_net_config cfg = {.latency_ns_base = 10};
    net_setup(&net, 5, &cfg);
    rf_sim_net_partition(&net, 0x3, 0x1c); /* {n1,n2} | {n3,n4,n5} */
    uint64_t at[2];
    ck_assert_uint_eq(rf_sim_net_send(&net, 0, 0, 2, at), 0);
    ck_assert_uint_eq(rf_sim_net_send(&net, 0, 4, 1, at), 0);
    ck_assert_uint_eq(rf_sim_net_send(&net, 0, 0, 1, at), 1);
    ck_assert_uint_eq(rf_sim_net_send(&net, 0, 3, 4, at), 1);
    ck_assert(rf_sim_net_faulty(&net, 0));
    rf_sim_net_heal(&net);
    ck_assert_uint_eq(rf_sim_net_send(&net, 0, 0, 2, at), 1);
    ck_assert(!rf_sim_net_faulty(&net, 0));
    rf_sim_engine_close(&eng);
}
END_TEST

START_TEST(test_net_oneway_cut_drops_one_direction)
{
    rf_sim_net net;
    rf_sim_net_config cfg = {.latency_ns_base = 10};
    net_setup(&net, 3, &cfg);
    rf_sim_net_cut_oneway(&net, 0x1, 0x6);
    uint64_t at[2];
    ck_assert_uint_eq(rf_sim_net_send(&net, 0, 0, 1, at), 0);
    ck_assert_uint_eq(rf_sim_net_send(&net, 0, 1, 0, at), 1);
    ck_assert(rf_sim_net_is_cut(&net, 0, 2, 0));
    ck_assert(!rf_sim_net_is_cut(&net, 2, 0, 0));
    rf_sim_engine_close(&eng);
}
END_TEST

START_TEST(test_net_isolate_and_zone_cut)
{
    rf_sim_net net;
    rf_sim_net_config cfg = {.latency_ns_base = 10};
    net_setup(&net, 4, &cfg);
    rf_sim_net_isolate(&net, 2);
    for (uint32_t i = 0; i < 4; i++) {
        if (i == 2)
            continue;
        ck_assert(rf_sim_net_is_cut(&net, 2, i, 0));
        ck_assert(rf_sim_net_is_cut(&net, i, 2, 0));
    }
    ck_assert(!rf_sim_net_is_cut(&net, 0, 1, 0));
    rf_sim_net_heal(&net);
    rf_sim_net_set_zone(&net, 1, 7);
    rf_sim_net_set_zone(&net, 3, 7);
    rf_sim_net_cut_zone(&net, 7);
    ck_assert(rf_sim_net_is_cut(&net, 0, 1, 0));
    ck_assert(rf_sim_net_is_cut(&net, 3, 2, 0));
    ck_assert(!rf_sim_net_is_cut(&net, 1, 3, 0));
    ck_assert(!rf_sim_net_is_cut(&net, 0, 2, 0));
    rf_sim_engine_close(&eng);
}
END_TEST

START_TEST(test_net_healing_one_cut_keeps_an_overlapping_one)
{
    rf_sim_net net;
    rf_sim_net_config cfg = {.latency_ns_base = 10};
    net_setup(&net, 3, &cfg);
    uint32_t a = rf_sim_net_isolate(&net, 0);
    uint32_t b = rf_sim_net_partition(&net, 0x3, 0x4);
    ck_assert_uint_ne(a, RF_SIM_CUT_NONE);
    ck_assert_uint_ne(b, RF_SIM_CUT_NONE);
    ck_assert(rf_sim_net_is_cut(&net, 0, 2, 0));
    rf_sim_net_heal_cut(&net, a);
    ck_assert(rf_sim_net_is_cut(&net, 0, 2, 0)); /* b still cuts it */
    ck_assert(!rf_sim_net_is_cut(&net, 0, 1, 0));
    rf_sim_net_heal_cut(&net, b);
    rf_sim_net_heal_cut(&net, b);
    ck_assert(!rf_sim_net_is_cut(&net, 0, 2, 0));
    ck_assert(!rf_sim_net_faulty(&net, 0));
    for (uint32_t i = 0; i < RF_SIM_CUTS_MAX; i++)
        ck_assert_uint_ne(rf_sim_net_cut_oneway(&net, 0x1, 0x2), RF_SIM_CUT_NONE);
    ck_assert_uint_eq(rf_sim_net_cut_oneway(&net, 0x1, 0x2), RF_SIM_CUT_NONE);
    rf_sim_engine_close(&eng);
}
END_TEST

START_TEST(test_net_zone_names_map_to_zones_that_can_be_cut)
{
    rf_sim_net net;
    rf_sim_net_config cfg = {.latency_ns_base = 10};
    net_setup(&net, 4, &cfg);
    ck_assert_int_eq(rf_sim_net_set_zone_name(&net, 0, "zone1"), RF_OK);
    ck_assert_int_eq(rf_sim_net_set_zone_name(&net, 1, "zone2"), RF_OK);
    ck_assert_int_eq(rf_sim_net_set_zone_name(&net, 2, "zone1"), RF_OK);
    ck_assert_int_eq(rf_sim_net_set_zone_name(&net, 3, "zone2"), RF_OK);
    ck_assert_int_eq(rf_sim_net_set_zone_name(&net, 3, ""), RF_EBADNAME);
    uint32_t z1, z2, z;
    ck_assert_int_eq(rf_sim_net_zone_id(&net, "zone1", &z1), RF_OK);
    ck_assert_int_eq(rf_sim_net_zone_id(&net, "zone2", &z2), RF_OK);
    ck_assert_int_eq(rf_sim_net_zone_id(&net, "zone3", &z), RF_ENOTFOUND);
    ck_assert_uint_eq(rf_sim_net_zone_nodes(&net, z1), 0x5);
    ck_assert_uint_eq(rf_sim_net_zone_nodes(&net, z2), 0xa);
    rf_sim_net_cut_zone(&net, z2);
    ck_assert(rf_sim_net_is_cut(&net, 0, 1, 0));
    ck_assert(!rf_sim_net_is_cut(&net, 1, 3, 0));
    ck_assert(!rf_sim_net_is_cut(&net, 0, 2, 0));
    rf_sim_engine_close(&eng);
}
END_TEST

START_TEST(test_net_flap_alternates_and_clog_delays_until_unclogged)
{
    rf_sim_net net;
    rf_sim_net_config cfg = {.latency_ns_base = 10};
    net_setup(&net, 2, &cfg);
    ck_assert_int_eq(rf_sim_net_flap(&net, 0x1, 0x2, 100, 1, 1000), RF_EINVAL);
    ck_assert_int_eq(rf_sim_net_flap(&net, 0x1, 0x2, 100, 100, 1000), RF_OK);
    ck_assert(!rf_sim_net_is_cut(&net, 0, 1, 50));
    ck_assert(rf_sim_net_is_cut(&net, 0, 1, 120));
    ck_assert(rf_sim_net_is_cut(&net, 1, 0, 120));
    ck_assert(!rf_sim_net_is_cut(&net, 0, 1, 170));
    ck_assert(rf_sim_net_is_cut(&net, 0, 1, 220));
    ck_assert(!rf_sim_net_is_cut(&net, 0, 1, 1020));
    rf_sim_net_heal(&net);
    rf_sim_net_clog(&net, 0, 1, 5000);
    uint64_t at[2];
    ck_assert_uint_eq(rf_sim_net_send(&net, 100, 0, 1, at), 1);
    ck_assert_uint_eq(at[0], 5010);
    ck_assert_uint_eq(rf_sim_net_send(&net, 100, 1, 0, at), 1);
    ck_assert_uint_eq(at[0], 110);
    rf_sim_engine_close(&eng);
}
END_TEST

Suite *sim_net_suite(void)
{
    Suite *s = suite_create("sim_net");
    TCase *tc = tcase_create("faults");
    tcase_add_test(tc, test_net_loses_and_duplicates_at_the_configured_rates);
    tcase_add_test(tc, test_net_jitter_reorders_messages);
    tcase_add_test(tc, test_net_partition_cuts_both_ways_between_sets_only);
    tcase_add_test(tc, test_net_oneway_cut_drops_one_direction);
    tcase_add_test(tc, test_net_isolate_and_zone_cut);
    tcase_add_test(tc, test_net_healing_one_cut_keeps_an_overlapping_one);
    tcase_add_test(tc, test_net_zone_names_map_to_zones_that_can_be_cut);
    tcase_add_test(tc, test_net_flap_alternates_and_clog_delays_until_unclogged);
    suite_add_tcase(s, tc);
    return s;
}

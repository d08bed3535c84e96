/* Tests of sim/net.c's reordering: a share of messages held back past the ones sent after them. */
#include <check.h>

#include "base/rf_err.h"
#include "sim/net.h"

START_TEST(test_net_reorder_holds_back_the_configured_share_past_later_messages)
{
    rf_sim_engine eng;
    rf_sim_net net;
    rf_sim_net_config cfg = {.latency_ns_base = 1000, .latency_ns_jitter = 500,
                             .reorder_ppm = 250000};
    ck_assert_int_eq(rf_sim_engine_init(&eng, 7, 16), RF_OK);
    rf_sim_net_init(&net, &eng, 2, &cfg);
    const uint64_t n = 100000, hold = 1000 + 500 + 1;
    uint64_t at[2], held = 0, overtaken = 0, prev_at = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t now = i * 100; /* a message every 100 ns on one link */
        ck_assert_uint_eq(rf_sim_net_send(&net, now, 0, 1, at), 1);
        ck_assert_uint_ge(at[0], now + 1000);
        ck_assert_uint_le(at[0], now + 1500 + 2 * hold);
        if (at[0] >= now + 1000 + hold)
            held++;
        if (i > 0 && at[0] < prev_at)
            overtaken++;
        prev_at = at[0];
    }
    /* 25% held back; a held message is overtaken by the ones after it. */
    ck_assert_uint_eq(held, net.stats.reordered);
    ck_assert_uint_gt(held, n / 4 - 1500);
    ck_assert_uint_lt(held, n / 4 + 1500);
    ck_assert_uint_gt(overtaken, n / 10);
    rf_sim_engine_close(&eng);
}
END_TEST

Suite *net_reorder_suite(void)
{
    Suite *s = suite_create("net_reorder");
    TCase *tc = tcase_create("reorder");
    tcase_add_test(tc, test_net_reorder_holds_back_the_configured_share_past_later_messages);
    suite_add_tcase(s, tc);
    return s;
}

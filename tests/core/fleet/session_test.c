/* Tests of core/fleet/node_session.c on the fleet harness: a node's commands are applied exactly once under load and lost replies. */
#include "tests/core/fleet/fleet_helpers.h"

enum { COMMANDS = 3000 };

/* Node 4 hosts no replica of consensus1 (3 replicas on 4 nodes), so all its
 * commands are forwarded. It sends 3,000 commands within 100 ms, far faster
 * than the retry window, while the leader's node cannot reach it: every
 * command is applied but its reply is lost, and every command is retried.
 * The cut heals after 900 ms, before the retries run out. Each command must
 * then get its original reply (the value before its own inc: all of 0 ..
 * 2999 once) and the group's value must be 3,000. With one client per
 * request and 1,024 clients remembered, most of them were applied twice. */
START_TEST(test_fleet_commands_under_load_with_lost_replies_apply_exactly_once)
{
    static const char *const zones[] = {"a", "b", "c", "a"};
    rf_sim_fleet *f = fleet_new(4, 77);
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    activate_all(f, zones, 4);
    add_groups(f, 0, 1, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    uint64_t gid = rf_meta_group_by_name(rf_sim_fleet_meta(f), "consensus1")->id;
    uint32_t origin = 4;
    for (uint32_t i = 0; i < 4; i++)
        if (rf_node_group(rf_sim_fleet_node(f, i), gid) == NULL)
            origin = i;
    ck_assert_uint_lt(origin, 4);
    int leader = rf_sim_fleet_leader(f, gid);
    ck_assert_int_ge(leader, 0);
    /* Warm the origin's leader cache: the commands go straight there. */
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, origin, "consensus1", "get"), text),
                     RF_OK);
    ck_assert_str_eq(text, "0");

    uint32_t cut = rf_sim_net_cut_oneway(rf_sim_fleet_net(f), 1ull << leader, 1ull << origin);
    ck_assert_uint_ne(cut, RF_SIM_CUT_NONE);
    static uint64_t req[COMMANDS];
    for (int i = 0; i < COMMANDS; i++) {
        req[i] = rf_sim_fleet_command(f, origin, "consensus1", "inc");
        ck_assert_uint_ne(req[i], 0);
        if (i % 300 == 299)
            rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 10 * MS);
    }
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 800 * MS);
    /* Everything applied, nothing answered yet. */
    rf_node_counters ctr;
    rf_node_counters_get(rf_sim_fleet_node(f, origin), &ctr);
    ck_assert_uint_ge(ctr.requests_retried, COMMANDS);
    for (int i = 0; i < COMMANDS; i++)
        ck_assert(!rf_sim_fleet_replied(f, req[i], NULL));
    ck_assert_int_eq(rf_sim_fleet_leader(f, gid), leader);
    const rf_raft *lr = rf_node_group(rf_sim_fleet_node(f, (uint32_t)leader), gid);
    ck_assert_uint_ge(rf_raft_applied_index(lr), (uint64_t)COMMANDS);
    rf_sim_net_heal_cut(rf_sim_fleet_net(f), cut);

    static bool seen[COMMANDS];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < COMMANDS; i++) {
        ck_assert_int_eq(wait_status(f, req[i], text), RF_OK);
        long v = atol(text);
        ck_assert_msg(v >= 0 && v < COMMANDS && !seen[v], "command %d: reply %s", i, text);
        seen[v] = true;
    }
    rf_node_counters_get(rf_sim_fleet_node(f, origin), &ctr);
    ck_assert_uint_eq(ctr.requests_timed_out, 0);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, origin, "consensus1", "get"), text),
                     RF_OK);
    ck_assert_str_eq(text, "3000");
    rf_raft_counters rc;
    rf_raft_counters_get(rf_node_group(rf_sim_fleet_node(f, (uint32_t)leader), gid), &rc);
    ck_assert_uint_ge(rc.dedup_hits, COMMANDS); /* every command was retried */
    ck_assert_uint_eq(rc.dedup_evictions, 0);
    fleet_done(f);
}
END_TEST

Suite *fleet_session_suite(void)
{
    Suite *s = suite_create("fleet_session");
    TCase *tc = tcase_create("fleet_session");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fleet_commands_under_load_with_lost_replies_apply_exactly_once);
    suite_add_tcase(s, tc);
    return s;
}

/* Tests of sim/cluster*.c and sim/disk.c: the harness drives real Raft members through faults. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/rf_err.h"
#include "sim/cluster.h"
#include "sim/history.h"
#include "sim/linz.h"
#include "sim/schedule.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

static rf_sim_cluster *make(uint64_t seed, uint32_t nodes, uint32_t voters,
                            void (*tweak)(rf_sim_cluster_config *))
{
    rf_sim_cluster_config cfg;
    rf_sim_cluster_config_defaults(&cfg);
    cfg.seed = seed;
    cfg.nodes = nodes;
    cfg.voters = voters;
    if (tweak != NULL)
        tweak(&cfg);
    rf_sim_cluster *c = NULL;
    ck_assert_int_eq(rf_sim_cluster_create(&cfg, &c), RF_OK);
    return c;
}

/* Runs until a leader exists (at most 5 s more); returns it. */
static int run_to_leader(rf_sim_cluster *c)
{
    uint64_t end = rf_sim_cluster_now(c) + 5 * SEC;
    while (rf_sim_cluster_leader(c) < 0 && rf_sim_cluster_now(c) < end)
        rf_sim_cluster_run_until(c, rf_sim_cluster_now(c) + 10 * MS);
    int l = rf_sim_cluster_leader(c);
    ck_assert_int_ge(l, 0);
    return l;
}

START_TEST(test_cluster_elects_a_leader_and_serves_clients)
{
    rf_sim_cluster *c = make(11, 3, 3, NULL);
    ck_assert_uint_eq(rf_sim_cluster_run_until(c, 2 * SEC), 0);
    ck_assert_int_ge(rf_sim_cluster_leader(c), 0);
    rf_sim_cluster_stats st;
    rf_sim_cluster_stats_get(c, &st);
    ck_assert_uint_gt(st.ops_ok, 50);
    ck_assert_uint_eq(st.ops_fail + st.ops_unknown, 0);
    ck_assert_uint_gt(st.max_commit, 50);
    uint64_t n;
    const rf_sim_op *ops = rf_sim_cluster_ops(c, &n);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_ge(ops[0].return_ns, ops[0].call_ns);
    rf_sim_cluster_close(c);
}
END_TEST

static void slow_disk(rf_sim_cluster_config *cfg)
{
    cfg->disk_ns_min = 40 * MS;
    cfg->disk_ns_max = 40 * MS;
    cfg->torn_ppm = 0;
}

START_TEST(test_crash_loses_unsynced_writes)
{
    rf_sim_cluster *c = make(12, 3, 3, slow_disk);
    int l = run_to_leader(c);
    /* Wait for the leader to hold entries its disk has not made durable. */
    uint64_t end = rf_sim_cluster_now(c) + 5 * SEC;
    while (rf_sim_cluster_now(c) < end &&
           rf_raft_last_index(rf_sim_cluster_raft(c, (uint32_t)l)) <=
               rf_sim_cluster_durable_last(c, (uint32_t)l))
        rf_sim_cluster_run_until(c, rf_sim_cluster_now(c) + 1 * MS);
    uint64_t volatile_last = rf_raft_last_index(rf_sim_cluster_raft(c, (uint32_t)l));
    uint64_t durable_last = rf_sim_cluster_durable_last(c, (uint32_t)l);
    ck_assert_uint_gt(volatile_last, durable_last);
    ck_assert_uint_gt(rf_sim_cluster_writes_in_flight(c, (uint32_t)l), 0);
    rf_sim_cluster_crash(c, (uint32_t)l);
    ck_assert(!rf_sim_cluster_is_up(c, (uint32_t)l));
    ck_assert_ptr_null(rf_sim_cluster_raft(c, (uint32_t)l));
    ck_assert_uint_eq(rf_sim_cluster_durable_last(c, (uint32_t)l), durable_last);
    ck_assert_int_eq(rf_sim_cluster_restart(c, (uint32_t)l), RF_OK);
    /* The restarted member knows only what was durable. */
    ck_assert_uint_eq(rf_raft_last_index(rf_sim_cluster_raft(c, (uint32_t)l)), durable_last);
    rf_sim_cluster_stats st;
    rf_sim_cluster_stats_get(c, &st);
    ck_assert_uint_gt(st.writes_lost, 0);
    ck_assert_uint_eq(st.torn_writes, 0);
    ck_assert_uint_eq(rf_sim_cluster_run_until(c, rf_sim_cluster_now(c) + 2 * SEC), 0);
    ck_assert_int_ge(rf_sim_cluster_leader(c), 0);
    rf_sim_cluster_close(c);
}
END_TEST

static void tearing_disk(rf_sim_cluster_config *cfg)
{
    slow_disk(cfg);
    cfg->torn_ppm = 1000000;
    cfg->clients = 8;
    cfg->client_think_ns_max = 1 * MS;
}

START_TEST(test_crash_tears_the_write_in_flight_to_a_prefix)
{
    rf_sim_cluster *c = make(13, 3, 3, tearing_disk);
    int l = run_to_leader(c);
    uint64_t end = rf_sim_cluster_now(c) + 5 * SEC;
    const rf_raft *r = rf_sim_cluster_raft(c, (uint32_t)l);
    while (rf_sim_cluster_now(c) < end &&
           (rf_sim_cluster_writes_in_flight(c, (uint32_t)l) < 2 ||
            rf_raft_last_index(r) <= rf_sim_cluster_durable_last(c, (uint32_t)l)))
        rf_sim_cluster_run_until(c, rf_sim_cluster_now(c) + 1 * MS);
    uint64_t volatile_last = rf_raft_last_index(r);
    uint64_t durable_last = rf_sim_cluster_durable_last(c, (uint32_t)l);
    ck_assert_uint_gt(volatile_last, durable_last);
    rf_sim_cluster_crash(c, (uint32_t)l);
    rf_sim_cluster_stats st;
    rf_sim_cluster_stats_get(c, &st);
    ck_assert_uint_eq(st.torn_writes, 1);
    ck_assert_uint_ge(st.writes_lost, 2);
    /* Some of what was in flight may have landed, never all of it. */
    uint64_t after = rf_sim_cluster_durable_last(c, (uint32_t)l);
    ck_assert_uint_ge(after, durable_last);
    ck_assert_uint_lt(after, volatile_last);
    ck_assert_int_eq(rf_sim_cluster_restart(c, (uint32_t)l), RF_OK);
    ck_assert_uint_eq(rf_raft_last_index(rf_sim_cluster_raft(c, (uint32_t)l)), after);
    ck_assert_uint_eq(rf_sim_cluster_run_until(c, rf_sim_cluster_now(c) + 2 * SEC), 0);
    rf_sim_cluster_close(c);
}
END_TEST

START_TEST(test_isolated_leader_is_replaced)
{
    rf_sim_cluster *c = make(14, 5, 5, NULL);
    int l = run_to_leader(c);
    uint64_t term = rf_raft_term(rf_sim_cluster_raft(c, (uint32_t)l));
    rf_sim_net_isolate(rf_sim_cluster_net(c), (uint32_t)l);
    ck_assert_uint_eq(rf_sim_cluster_run_until(c, rf_sim_cluster_now(c) + 2 * SEC), 0);
    int l2 = rf_sim_cluster_leader(c);
    ck_assert_int_ge(l2, 0);
    ck_assert_int_ne(l2, l);
    ck_assert_uint_gt(rf_raft_term(rf_sim_cluster_raft(c, (uint32_t)l2)), term);
    /* Check-quorum: the isolated one stepped down. */
    ck_assert_int_ne(rf_raft_role(rf_sim_cluster_raft(c, (uint32_t)l)), RF_ROLE_LEADER);
    rf_sim_cluster_close(c);
}
END_TEST

START_TEST(test_paused_node_falls_behind_then_catches_up)
{
    rf_sim_cluster *c = make(15, 3, 3, NULL);
    int l = run_to_leader(c);
    uint32_t f = ((uint32_t)l + 1) % 3;
    rf_sim_cluster_pause(c, f);
    ck_assert(rf_sim_cluster_is_paused(c, f));
    uint64_t before = rf_raft_commit_index(rf_sim_cluster_raft(c, f));
    ck_assert_uint_eq(rf_sim_cluster_run_until(c, rf_sim_cluster_now(c) + 1 * SEC), 0);
    ck_assert_uint_eq(rf_raft_commit_index(rf_sim_cluster_raft(c, f)), before);
    int l2 = rf_sim_cluster_leader(c);
    ck_assert_int_ge(l2, 0);
    ck_assert_uint_gt(rf_raft_commit_index(rf_sim_cluster_raft(c, (uint32_t)l2)), before);
    rf_sim_cluster_resume(c, f);
    ck_assert_uint_eq(rf_sim_cluster_run_until(c, rf_sim_cluster_now(c) + 1 * SEC), 0);
    ck_assert_uint_gt(rf_raft_commit_index(rf_sim_cluster_raft(c, f)), before);
    rf_sim_cluster_close(c);
}
END_TEST

START_TEST(test_learner_is_added_and_promoted_through_the_leader)
{
    rf_sim_cluster *c = make(16, 4, 3, NULL);
    int l = run_to_leader(c);
    const rf_membership *m = rf_raft_membership(rf_sim_cluster_raft(c, (uint32_t)l));
    ck_assert_ptr_null(rf_membership_find(m, 4));
    ck_assert_int_eq(rf_sim_cluster_admin(c, RF_SIM_ADD_LEARNER, 3), RF_OK);
    ck_assert_uint_eq(rf_sim_cluster_run_until(c, rf_sim_cluster_now(c) + 1 * SEC), 0);
    /* Promotion waits until the learner has caught up (RF_ELAGGING until
     * then; under client load that is a matter of timing): retry, as an
     * operator would. */
    int rc = RF_ELAGGING;
    for (int i = 0; i < 100 && rc != RF_OK; i++) {
        run_to_leader(c);
        rc = rf_sim_cluster_admin(c, RF_SIM_PROMOTE, 3);
        ck_assert(rc == RF_OK || rc == RF_ELAGGING);
        ck_assert_uint_eq(rf_sim_cluster_run_until(c, rf_sim_cluster_now(c) + 20 * MS), 0);
    }
    ck_assert_int_eq(rc, RF_OK);
    ck_assert_uint_eq(rf_sim_cluster_run_until(c, rf_sim_cluster_now(c) + 1 * SEC), 0);
    l = run_to_leader(c);
    m = rf_raft_membership(rf_sim_cluster_raft(c, (uint32_t)l));
    ck_assert_ptr_nonnull(rf_membership_find(m, 4));
    ck_assert_uint_eq(rf_membership_find(m, 4)->voter, 1);
    ck_assert_uint_eq(rf_membership_voters(m), 4);
    rf_sim_cluster_close(c);
}
END_TEST

START_TEST(test_schedule_trace_hash_is_the_same_for_a_seed_and_differs_across_seeds)
{
    rf_sim_schedule_opts o = {.seed = 77, .members = 5};
    rf_sim_schedule_result a, b, d;
    ck_assert_int_eq(rf_sim_schedule_run(&o, &a), RF_OK);
    ck_assert_int_eq(rf_sim_schedule_run(&o, &b), RF_OK);
    o.seed = 78;
    ck_assert_int_eq(rf_sim_schedule_run(&o, &d), RF_OK);
    ck_assert_uint_eq(a.trace_hash, b.trace_hash);
    ck_assert_uint_eq(a.events, b.events);
    ck_assert_uint_eq(a.stats.ops_ok, b.stats.ops_ok);
    ck_assert_uint_ne(a.trace_hash, d.trace_hash);
}
END_TEST

START_TEST(test_checkers_catch_a_disk_that_acknowledges_unsynced_writes)
{
    /* With writes reported durable before they are, crashes lose votes
     * and acknowledged entries: the checkers must notice in some seeds. */
    uint32_t caught = 0, ran = 0;
    for (uint64_t seed = 1; seed <= 400 && caught == 0; seed++) {
        rf_sim_schedule_opts o = {.seed = seed, .members = 3 + (uint32_t)(seed % 5),
                                  .broken_disk = true};
        rf_sim_schedule_result r;
        ck_assert_int_eq(rf_sim_schedule_run(&o, &r), RF_OK);
        ran++;
        caught += r.violations > 0;
    }
    ck_assert_uint_gt(caught, 0);
    printf("broken disk: a violation caught after %u schedules\n", ran);
}
END_TEST

START_TEST(test_client_history_is_linearizable_and_a_changed_reply_is_not)
{
    rf_sim_cluster *c = make(17, 3, 3, NULL);
    ck_assert_uint_eq(rf_sim_cluster_run_until(c, 1 * SEC), 0);
    rf_history h;
    ck_assert_int_eq(rf_sim_cluster_history(c, &h), RF_OK);
    ck_assert_uint_gt(h.count, 20);
    rf_linz_result r;
    ck_assert_int_eq(rf_linz_check(&rf_model_int, &h, NULL, &r), RF_OK);
    ck_assert_int_eq(r.verdict, RF_LINZ_LINEARIZABLE);
    rf_linz_result_close(&r);
    /* A read that returns a value no write ever produced. */
    size_t i = 0;
    while (i < h.count && !(h.ops[i].kind == RF_OP_QUERY && h.ops[i].status == RF_OP_OK))
        i++;
    ck_assert_uint_lt(i, h.count);
    ck_assert_uint_ge(h.ops[i].reply_len, 1);
    h.ops[i].reply[0] = '-';
    ck_assert_int_eq(rf_linz_check(&rf_model_int, &h, NULL, &r), RF_OK);
    ck_assert_int_eq(r.verdict, RF_LINZ_VIOLATION);
    rf_linz_result_close(&r);
    rf_history_close(&h);
    ck_assert_int_eq(rf_sim_cluster_check_linearizable(c), RF_SIM_LINZ_OK);
    rf_sim_cluster_close(c);
}
END_TEST

START_TEST(test_cluster_refuses_a_bad_config)
{
    rf_sim_cluster_config cfg;
    rf_sim_cluster_config_defaults(&cfg);
    rf_sim_cluster *c = NULL;
    cfg.nodes = 0;
    ck_assert_int_eq(rf_sim_cluster_create(&cfg, &c), RF_EINVAL);
    cfg.nodes = 3;
    cfg.voters = 4;
    ck_assert_int_eq(rf_sim_cluster_create(&cfg, &c), RF_EINVAL);
    cfg.voters = 3;
    cfg.clients = RF_SIM_CLIENTS_MAX + 1;
    ck_assert_int_eq(rf_sim_cluster_create(&cfg, &c), RF_EINVAL);
    ck_assert_ptr_null(c);
}
END_TEST

Suite *sim_cluster_suite(void)
{
    Suite *s = suite_create("sim_cluster");
    TCase *tc = tcase_create("cluster");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cluster_elects_a_leader_and_serves_clients);
    tcase_add_test(tc, test_crash_loses_unsynced_writes);
    tcase_add_test(tc, test_crash_tears_the_write_in_flight_to_a_prefix);
    tcase_add_test(tc, test_isolated_leader_is_replaced);
    tcase_add_test(tc, test_paused_node_falls_behind_then_catches_up);
    tcase_add_test(tc, test_learner_is_added_and_promoted_through_the_leader);
    tcase_add_test(tc, test_schedule_trace_hash_is_the_same_for_a_seed_and_differs_across_seeds);
    tcase_add_test(tc, test_checkers_catch_a_disk_that_acknowledges_unsynced_writes);
    tcase_add_test(tc, test_client_history_is_linearizable_and_a_changed_reply_is_not);
    tcase_add_test(tc, test_cluster_refuses_a_bad_config);
    suite_add_tcase(s, tc);
    return s;
}

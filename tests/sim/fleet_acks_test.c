/* Tests of sim/fleet_durable.c's check of what nodes send: no append acknowledged and no vote granted before it is durable. */
#include <check.h>

#include "sim/fleet_int.h"
#include "tests/core/fleet/fleet_helpers.h"

static const char *const zones3[] = {"a", "b", "c"};

/* One frame from node id `from` holding one raft message. */
static size_t frame_of(const rf_msg *m, uint64_t from, uint8_t *out, size_t cap)
{
    size_t mlen;
    ck_assert_int_eq(rf_msg_encode(m, out + 21, cap - 21, &mlen), RF_OK);
    memset(out, 0, 21);
    out[0] = 'R';
    out[1] = 'N';
    out[2] = RF_NODE_WIRE_VERSION;
    for (int i = 0; i < 8; i++)
        out[4 + i] = (uint8_t)(from >> (8 * i));
    out[12] = 1; /* one record */
    out[16] = 1; /* a raft message */
    for (int i = 0; i < 4; i++)
        out[17 + i] = (uint8_t)(mlen >> (8 * i));
    return 21 + mlen;
}

static uint64_t group_id(const rf_sim_fleet *f, const char *name)
{
    const rf_meta_group *g = rf_meta_group_by_name(rf_sim_fleet_meta(f), name);
    ck_assert_ptr_nonnull(g);
    return g->id;
}

START_TEST(test_a_correct_fleet_acknowledges_only_what_is_durable_through_crashes)
{
    rf_sim_fleet *f = fleet_new(3, 21);
    activate_all(f, zones3, 3);
    add_groups(f, 0, 2, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 20 * SEC));
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 10; i++)
            (void)rf_sim_fleet_command(f, (uint32_t)i % 3, "consensus1", "inc");
        rf_sim_fleet_crash(f, (uint32_t)round % 3);
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + SEC);
        char why[200];
        ck_assert_int_eq(rf_sim_fleet_restart(f, (uint32_t)round % 3, why, sizeof why), RF_OK);
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 2 * SEC);
    }
    const char *text = NULL;
    ck_assert_msg(rf_sim_fleet_failures(f, &text) == 0, "%s", text);
    fleet_done(f);
}
END_TEST

START_TEST(test_an_ack_or_a_vote_ahead_of_the_disk_fails_the_harness)
{
    rf_sim_fleet *f = fleet_new(3, 22);
    activate_all(f, zones3, 3);
    add_groups(f, 0, 1, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 20 * SEC));
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + SEC);
    const rf_raft *r = rf_node_group(rf_sim_fleet_node(f, 1), group_id(f, "consensus1"));
    ck_assert_ptr_nonnull(r);
    static uint8_t buf[4096];
    rf_msg m;
    memset(&m, 0, sizeof m);
    m.type = RF_MSG_APPEND_RESP;
    m.group_id = rf_raft_group(r);
    m.from = 2;
    m.to = 1;
    m.term = rf_raft_term(r);
    m.index = rf_raft_last_index(r); /* durable: fine */
    fleet_durable_check_sent(f, 1, buf, frame_of(&m, 2, buf, sizeof buf));
    m.reject = 1;
    m.index = rf_raft_last_index(r) + 5; /* a rejection promises nothing */
    fleet_durable_check_sent(f, 1, buf, frame_of(&m, 2, buf, sizeof buf));
    ck_assert_uint_eq(rf_sim_fleet_failures(f, NULL), 0);

    m.reject = 0;
    fleet_durable_check_sent(f, 1, buf, frame_of(&m, 2, buf, sizeof buf));
    const char *text = NULL;
    ck_assert_uint_eq(rf_sim_fleet_failures(f, &text), 1);
    ck_assert_ptr_nonnull(strstr(text, "n2 acknowledged entries of group"));
    ck_assert_ptr_nonnull(strstr(text, "before they were durable"));

    m.type = RF_MSG_VOTE_RESP;
    m.term = rf_raft_term(r) + 1;
    m.index = 0;
    fleet_durable_check_sent(f, 1, buf, frame_of(&m, 2, buf, sizeof buf));
    ck_assert_uint_eq(rf_sim_fleet_failures(f, NULL), 2);
    rf_sim_fleet_close(f);
}
END_TEST

Suite *fleet_acks_suite(void)
{
    Suite *s = suite_create("fleet_acks");
    TCase *tc = tcase_create("fleet_acks");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_a_correct_fleet_acknowledges_only_what_is_durable_through_crashes);
    tcase_add_test(tc, test_an_ack_or_a_vote_ahead_of_the_disk_fails_the_harness);
    suite_add_tcase(s, tc);
    return s;
}

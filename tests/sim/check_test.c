/* Tests of sim/check.c: each checker accepts a correct history and catches an injected violation. */
#include <check.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/check.h"

static rf_sim_check c;

static void setup(void)
{
    ck_assert_int_eq(rf_sim_check_init(&c, 1, 3, 1u << 16), RF_OK);
}

static void teardown(void)
{
    rf_sim_check_close(&c);
}

/* Appends entries of the given terms with payload hashes 1000*term+index. */
static bool append(uint32_t node, uint64_t from, const uint64_t *terms, uint64_t n)
{
    uint64_t ph[16];
    for (uint64_t i = 0; i < n; i++)
        ph[i] = 1000 * terms[i] + from + i;
    return rf_sim_check_append(&c, node, from, terms, ph, n);
}

START_TEST(test_check_accepts_a_correct_replicated_history)
{
    static const uint64_t t[3] = {1, 1, 2};
    for (uint32_t n = 0; n < 3; n++) {
        ck_assert(append(n, 1, t, 3));
        ck_assert(rf_sim_check_commit(&c, n, 3, 2));
        for (uint64_t i = 1; i <= 3; i++)
            ck_assert(rf_sim_check_apply(&c, n, i, t[i - 1], 1000 * t[i - 1] + i, true, 7, i, 50 + i));
        ck_assert(rf_sim_check_digest(&c, n, 3, 0xabc));
        ck_assert(rf_sim_check_last(&c, n, 3, 2));
    }
    ck_assert(rf_sim_check_leader(&c, 0, 2));
    ck_assert(rf_sim_check_leader(&c, 0, 2));
    ck_assert(rf_sim_check_ack(&c, 7, 2, 52));
    ck_assert(rf_sim_check_snapshot(&c, 1, 2, 1));
    ck_assert(rf_sim_check_last(&c, 1, 3, 2));
    ck_assert_uint_eq(c.violations, 0);
}
END_TEST

/* A command that reached the log twice: its second application must give
 * the first reply back or be refused as forgotten (RF_ESESSION, no reply);
 * any other reply is a second application. */
START_TEST(test_check_catches_a_retried_command_applied_again)
{
    static const uint64_t t[3] = {1, 1, 1};
    uint64_t refused = rf_sim_check_hash("", 0) ^ (uint64_t)(uint32_t)RF_ESESSION;
    ck_assert(append(0, 1, t, 3));
    ck_assert(rf_sim_check_commit(&c, 0, 3, 1));
    ck_assert(rf_sim_check_apply(&c, 0, 1, 1, 1001, true, 7, 4, 50));
    ck_assert(rf_sim_check_apply(&c, 0, 2, 1, 1002, true, 7, 4, refused));
    ck_assert_uint_eq(c.violations, 0);
    ck_assert(!rf_sim_check_apply(&c, 0, 3, 1, 1003, true, 7, 4, 51));
    ck_assert_uint_eq(c.violations, 1);
}
END_TEST

START_TEST(test_check_catches_a_leader_committing_an_older_terms_entry_by_counting)
{
    /* Figure 8: n1, leader of term 3, holds 1/1, 2/2 and its no-op 3/3. */
    static const uint64_t t[3] = {1, 2, 3};
    ck_assert(append(0, 1, t, 3));
    ck_assert(append(1, 1, t, 2));
    /* Committing through its own term's entry is the rule. */
    ck_assert(rf_sim_check_leader_commit(&c, 0, 3, 3));
    /* Committing 2/2 alone in term 3 is not. */
    ck_assert(!rf_sim_check_leader_commit(&c, 0, 2, 3));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_COMMIT_RULE);
    ck_assert_ptr_nonnull(strstr(c.first.text, "n1, leader of term 3, commits up to 2/2"));
}
END_TEST

START_TEST(test_check_leader_commit_judges_only_indexes_nobody_committed)
{
    static const uint64_t t[3] = {1, 2, 3};
    ck_assert(append(0, 1, t, 3));
    ck_assert(append(1, 1, t, 3));
    ck_assert(rf_sim_check_commit(&c, 1, 2, 2)); /* committed in term 2 by n2 */
    /* n1 leads term 3 with commit 2: nothing new is committed. */
    ck_assert(rf_sim_check_leader_commit(&c, 0, 2, 3));
    ck_assert(rf_sim_check_commit(&c, 0, 2, 3));
    ck_assert_uint_eq(c.violations, 0);
}
END_TEST

START_TEST(test_check_catches_two_leaders_in_one_term)
{
    ck_assert(rf_sim_check_leader(&c, 0, 5));
    ck_assert(!rf_sim_check_leader(&c, 1, 5));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_ELECTION);
}
END_TEST

START_TEST(test_check_catches_same_index_and_term_with_different_prefix)
{
    /* n1: 1/1, 2/2; n2: 1/2, 2/2 with the same entry 2: same (index,
     * term) at 2 but different prefixes. */
    static const uint64_t a[2] = {1, 2}, b[2] = {2, 2};
    ck_assert(append(0, 1, a, 2));
    uint64_t ph[2] = {999, 2002};
    ck_assert(rf_sim_check_append(&c, 1, 1, b, ph, 1));
    ck_assert(!rf_sim_check_append(&c, 1, 2, b + 1, ph + 1, 1));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_LOG_MATCHING);
}
END_TEST

START_TEST(test_check_catches_same_index_and_term_with_different_payload)
{
    static const uint64_t a[1] = {1};
    ck_assert(append(0, 1, a, 1));
    uint64_t ph[1] = {5};
    ck_assert(!rf_sim_check_append(&c, 1, 1, a, ph, 1));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_LOG_MATCHING);
}
END_TEST

START_TEST(test_check_catches_a_leader_without_a_committed_entry)
{
    static const uint64_t t[3] = {1, 1, 1};
    ck_assert(append(0, 1, t, 3));
    ck_assert(append(1, 1, t, 3));
    ck_assert(append(2, 1, t, 1));
    ck_assert(rf_sim_check_commit(&c, 0, 3, 1));
    ck_assert(!rf_sim_check_leader(&c, 2, 2));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_LEADER_COMPLETENESS);
}
END_TEST

START_TEST(test_check_lets_a_late_leader_of_an_older_term_miss_newer_commits)
{
    /* n1 commits entry 3 as leader of term 5; n3 then wins term 4 late
     * (its votes were granted before term 5 began) with only 1..2. */
    static const uint64_t t[3] = {1, 1, 1};
    ck_assert(append(0, 1, t, 3));
    ck_assert(append(2, 1, t, 2));
    ck_assert(rf_sim_check_commit(&c, 0, 2, 3));
    ck_assert(rf_sim_check_commit(&c, 0, 3, 5));
    ck_assert(rf_sim_check_leader(&c, 2, 4));
    ck_assert(!rf_sim_check_leader(&c, 1, 6));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_LEADER_COMPLETENESS);
}
END_TEST

START_TEST(test_check_catches_a_truncated_committed_entry)
{
    static const uint64_t t[3] = {1, 1, 1}, t2[1] = {2};
    ck_assert(append(0, 1, t, 3));
    ck_assert(rf_sim_check_commit(&c, 0, 2, 1));
    ck_assert(!append(0, 2, t2, 1));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_COMMITTED_CHANGED);
}
END_TEST

START_TEST(test_check_catches_a_different_entry_committed_at_an_index)
{
    static const uint64_t t[2] = {1, 1}, u[2] = {1, 2};
    ck_assert(append(0, 1, t, 2));
    ck_assert(append(1, 1, u, 2));
    ck_assert(rf_sim_check_commit(&c, 0, 2, 1));
    ck_assert(!rf_sim_check_commit(&c, 1, 2, 1));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_COMMITTED_CHANGED);
}
END_TEST

START_TEST(test_check_catches_commit_past_the_last_entry_and_going_back)
{
    static const uint64_t t[2] = {1, 1};
    ck_assert(append(0, 1, t, 2));
    ck_assert(rf_sim_check_commit(&c, 0, 2, 1));
    ck_assert(!rf_sim_check_commit(&c, 0, 1, 1));
    ck_assert(!rf_sim_check_commit(&c, 1, 1, 1));
    ck_assert_uint_eq(c.violations, 2);
}
END_TEST

START_TEST(test_check_catches_different_replies_or_digests_at_an_index)
{
    static const uint64_t t[1] = {1};
    ck_assert(append(0, 1, t, 1));
    ck_assert(append(1, 1, t, 1));
    ck_assert(rf_sim_check_commit(&c, 0, 1, 1));
    ck_assert(rf_sim_check_commit(&c, 1, 1, 1));
    ck_assert(rf_sim_check_apply(&c, 0, 1, 1, 1001, true, 3, 1, 77));
    ck_assert(!rf_sim_check_apply(&c, 1, 1, 1, 1001, true, 3, 1, 78));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_STATE_MACHINE);
    ck_assert(rf_sim_check_digest(&c, 0, 1, 5));
    ck_assert(!rf_sim_check_digest(&c, 1, 1, 6));
    ck_assert_uint_eq(c.violations, 2);
}
END_TEST

START_TEST(test_check_catches_an_uncommitted_or_out_of_order_apply)
{
    static const uint64_t t[2] = {1, 1};
    ck_assert(append(0, 1, t, 2));
    ck_assert(rf_sim_check_commit(&c, 0, 1, 1));
    ck_assert(!rf_sim_check_apply(&c, 0, 2, 1, 1002, false, 0, 0, 0));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_STATE_MACHINE);
}
END_TEST

START_TEST(test_check_catches_a_retry_that_replies_differently)
{
    static const uint64_t t[2] = {1, 1};
    uint64_t ph[2] = {42, 42}; /* the same command, appended twice */
    ck_assert(rf_sim_check_append(&c, 0, 1, t, ph, 2));
    ck_assert(rf_sim_check_commit(&c, 0, 2, 1));
    ck_assert(rf_sim_check_apply(&c, 0, 1, 1, 42, true, 9, 4, 100));
    ck_assert(!rf_sim_check_apply(&c, 0, 2, 1, 42, true, 9, 4, 101));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_STATE_MACHINE);
}
END_TEST

START_TEST(test_check_catches_an_ack_never_applied_or_with_another_reply)
{
    static const uint64_t t[1] = {1};
    ck_assert(append(0, 1, t, 1));
    ck_assert(rf_sim_check_commit(&c, 0, 1, 1));
    ck_assert(rf_sim_check_apply(&c, 0, 1, 1, 1001, true, 9, 1, 100));
    ck_assert(!rf_sim_check_ack(&c, 9, 2, 100));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_ACK);
    ck_assert(!rf_sim_check_ack(&c, 9, 1, 55));
    ck_assert(rf_sim_check_ack(&c, 9, 1, 100));
    ck_assert_uint_eq(c.violations, 2);
}
END_TEST

START_TEST(test_check_catches_a_snapshot_of_an_uncommitted_entry)
{
    static const uint64_t t[3] = {1, 1, 1};
    ck_assert(append(0, 1, t, 3));
    ck_assert(rf_sim_check_commit(&c, 0, 1, 1));
    ck_assert(!rf_sim_check_snapshot(&c, 1, 3, 1));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_COMMITTED_CHANGED);
    ck_assert(!rf_sim_check_node_reset(&c, 2, 2, 1));
}
END_TEST

START_TEST(test_check_restarted_node_continues_from_its_snapshot)
{
    static const uint64_t t[4] = {1, 1, 1, 2};
    ck_assert(append(0, 1, t, 4));
    ck_assert(rf_sim_check_commit(&c, 0, 3, 1));
    ck_assert(rf_sim_check_node_reset(&c, 1, 2, 1));
    ck_assert(append(1, 3, t + 2, 2));
    ck_assert(rf_sim_check_commit(&c, 1, 4, 1));
    ck_assert(rf_sim_check_leader(&c, 1, 3));
    ck_assert_uint_eq(c.violations, 0);
    ck_assert_uint_eq(rf_sim_check_last_index(&c, 1), 4);
}
END_TEST

START_TEST(test_check_catches_a_mirror_that_diverges_from_the_node)
{
    static const uint64_t t[2] = {1, 1};
    ck_assert(append(0, 1, t, 2));
    ck_assert(!rf_sim_check_last(&c, 0, 3, 1));
    ck_assert_int_eq(c.first.kind, RF_SIM_V_HARNESS);
    ck_assert(!append(1, 2, t, 1)); /* a gap */
}
END_TEST

Suite *sim_check_suite(void)
{
    Suite *s = suite_create("sim_check");
    TCase *tc = tcase_create("checkers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_check_accepts_a_correct_replicated_history);
    tcase_add_test(tc, test_check_catches_a_retried_command_applied_again);
    tcase_add_test(tc, test_check_catches_two_leaders_in_one_term);
    tcase_add_test(tc, test_check_catches_same_index_and_term_with_different_prefix);
    tcase_add_test(tc, test_check_catches_same_index_and_term_with_different_payload);
    tcase_add_test(tc, test_check_catches_a_leader_without_a_committed_entry);
    tcase_add_test(tc, test_check_lets_a_late_leader_of_an_older_term_miss_newer_commits);
    tcase_add_test(tc, test_check_catches_a_truncated_committed_entry);
    tcase_add_test(tc, test_check_catches_a_different_entry_committed_at_an_index);
    tcase_add_test(tc, test_check_catches_commit_past_the_last_entry_and_going_back);
    tcase_add_test(tc, test_check_catches_different_replies_or_digests_at_an_index);
    tcase_add_test(tc, test_check_catches_an_uncommitted_or_out_of_order_apply);
    tcase_add_test(tc, test_check_catches_a_retry_that_replies_differently);
    tcase_add_test(tc, test_check_catches_an_ack_never_applied_or_with_another_reply);
    tcase_add_test(tc, test_check_catches_a_snapshot_of_an_uncommitted_entry);
    tcase_add_test(tc, test_check_restarted_node_continues_from_its_snapshot);
    tcase_add_test(tc, test_check_catches_a_mirror_that_diverges_from_the_node);
    tcase_add_test(tc, test_check_catches_a_leader_committing_an_older_terms_entry_by_counting);
    tcase_add_test(tc, test_check_leader_commit_judges_only_indexes_nobody_committed);
    suite_add_tcase(s, tc);
    return s;
}

/* Tests of core/raft membership changes and leadership transfer. */
#include <check.h>
#include <string.h>

#include "base/rf_err.h"
#include "raft/raft.h"
#include "tests/core/raft/tnet.h"

static bool is_voter(rf_raft *r, uint64_t id)
{
    const rf_member *m = rf_membership_find(rf_raft_membership(r), id);
    return m && m->voter;
}

/* `voters` voters with `entries` commands applied; node voters + 1 (empty)
 * added as a learner by request 100. Returns the leader. */
static uint64_t voters_and_a_learner(tnet *t, int voters, uint64_t entries)
{
    tnet_init(t, voters, NULL);
    uint64_t l = tnet_wait_leader(t, 1000);
    for (uint64_t i = 1; i <= entries; i++)
        rf_raft_propose(t->r[l], i, 1, i, i, (const uint8_t *)"inc", 3);
    tnet_run(t, 20);
    tnet_add_empty(t, (uint64_t)voters + 1);
    ck_assert_int_eq(rf_raft_add_learner(t->r[l], 100, (uint64_t)voters + 1), RF_OK);
    return l;
}

static uint64_t three_and_a_learner(tnet *t, uint64_t entries)
{
    return voters_and_a_learner(t, 3, entries);
}

START_TEST(test_learner_added_catches_up_then_promoted)
{
    tnet t;
    uint64_t l = three_and_a_learner(&t, 20);
    /* One change at a time: a second one waits for the first to commit. */
    ck_assert_int_eq(rf_raft_add_learner(t.r[l], 101, 5), RF_ECONFCHANGE);
    tnet_isolate(&t, 4, true); /* the learner cannot catch up for now */
    tnet_run(&t, 20);
    ck_assert_int_eq(tnet_reply_for(&t, 100)->status, RF_OK); /* committed by the voters */
    /* Not caught up: promotion refused. */
    ck_assert_int_eq(rf_raft_promote(t.r[l], 102, 4), RF_ELAGGING);
    tnet_settle(&t);
    ck_assert_int_eq(tnet_reply_for(&t, 102)->status, RF_ELAGGING);
    tnet_isolate(&t, 4, false);
    tnet_run(&t, 50);
    ck_assert_int_eq(tnet_reply_for(&t, 100)->status, RF_OK);
    ck_assert(!is_voter(t.r[l], 4));
    ck_assert_uint_eq(rf_raft_applied_index(t.r[4]), rf_raft_applied_index(t.r[l]));
    ck_assert_uint_eq(rf_raft_digest(t.r[4]), rf_raft_digest(t.r[l]));
    ck_assert_int_eq(rf_raft_promote(t.r[l], 103, 4), RF_OK);
    tnet_run(&t, 50);
    ck_assert_int_eq(tnet_reply_for(&t, 103)->status, RF_OK);
    for (uint64_t id = 1; id <= 4; id++)
        ck_assert(is_voter(t.r[id], 4));
    ck_assert_int_ge(t.obs_count[l][RF_OBS_MEMBER_ADDED], 1);
    ck_assert_int_ge(t.obs_count[l][RF_OBS_MEMBER_PROMOTED], 1);
    /* The new voter counts: with two of four cut off, nothing commits. */
    uint64_t a = l == 1 ? 2 : 1;
    uint64_t b = 6 - l - a;
    tnet_isolate(&t, a, true);
    tnet_isolate(&t, b, true);
    uint64_t c0 = rf_raft_commit_index(t.r[l]);
    rf_raft_propose(t.r[l], 104, 1, 100, 100, (const uint8_t *)"inc", 3);
    tnet_run(&t, 30);
    ck_assert_uint_eq(rf_raft_commit_index(t.r[l]), c0);
    tnet_free(&t);
}
END_TEST

/* A learner that acknowledged entries and came back empty (core/fleet
 * stops a member it finds unwanted and starts it again on demand) says its
 * log ends before its match: the leader falls back and sends it everything
 * again, instead of probing past its end for ever (fuzz seed 5116). */
START_TEST(test_learner_back_empty_below_its_match_is_sent_everything_again)
{
    tnet t;
    uint64_t l = three_and_a_learner(&t, 10);
    tnet_run(&t, 50);
    ck_assert_uint_gt(rf_raft_applied_index(t.r[4]), 10);
    tnet_wipe(&t, 4);
    ck_assert_uint_eq(rf_raft_last_index(t.r[4]), 0);
    rf_raft_propose(t.r[l], 11, 1, 11, 11, (const uint8_t *)"inc", 3);
    tnet_run(&t, 100);
    ck_assert_uint_eq(rf_raft_applied_index(t.r[4]), rf_raft_applied_index(t.r[l]));
    ck_assert_uint_eq(rf_raft_digest(t.r[4]), rf_raft_digest(t.r[l]));
    ck_assert_int_eq(rf_raft_promote(t.r[l], 101, 4), RF_OK);
    tnet_run(&t, 50);
    ck_assert_int_eq(tnet_reply_for(&t, 101)->status, RF_OK);
    tnet_free(&t);
}
END_TEST

/* The same learner promoted before its empty log said anything: the
 * leader still holds the match the old member acknowledged. Four voters
 * and the learner; two voters cut off, so an entry reaches the leader,
 * one voter and the learner: not committed (2 of 4). The learner comes
 * back empty, cut off too, and is promoted: five voters, quorum 3. Its
 * stale match must not make the third copy: the entry would be committed
 * on two real copies of five, and the other three could elect a leader
 * without it. Its match counts once it acknowledges the promotion. */
START_TEST(test_promoted_learner_counts_only_once_it_acknowledges_its_promotion)
{
    tnet t;
    uint64_t l = voters_and_a_learner(&t, 4, 0);
    tnet_run(&t, 50);
    ck_assert_int_eq(tnet_reply_for(&t, 100)->status, RF_OK);
    uint64_t a = l % 4 + 1, b = a % 4 + 1, c = b % 4 + 1;
    tnet_isolate(&t, b, true);
    tnet_isolate(&t, c, true);
    uint64_t c0 = rf_raft_commit_index(t.r[l]);
    rf_raft_propose(t.r[l], 101, 1, 1, 1, (const uint8_t *)"inc", 3);
    tnet_run(&t, 20);
    uint64_t x = rf_raft_last_index(t.r[l]);
    ck_assert_uint_eq(rf_raft_last_index(t.r[a]), x);
    ck_assert_uint_eq(rf_raft_last_index(t.r[5]), x);
    ck_assert_uint_eq(rf_raft_commit_index(t.r[l]), c0); /* 2 of 4 voters */
    tnet_wipe(&t, 5);
    tnet_isolate(&t, 5, true);
    ck_assert_int_eq(rf_raft_promote(t.r[l], 102, 5), RF_OK);
    tnet_run(&t, 20);
    ck_assert(is_voter(t.r[l], 5));
    ck_assert_uint_lt(rf_raft_commit_index(t.r[l]), x); /* two real copies of five */
    tnet_isolate(&t, 5, false);
    tnet_run(&t, 100);
    ck_assert_uint_ge(rf_raft_commit_index(t.r[l]), x + 1); /* the promotion too */
    ck_assert_uint_eq(rf_raft_last_index(t.r[5]), rf_raft_last_index(t.r[l]));
    ck_assert_int_eq(tnet_reply_for(&t, 102)->status, RF_OK);
    tnet_free(&t);
}
END_TEST

static uint64_t g_hold_from; /* appends to node 2 carrying this index or later are lost */

static bool hold_appends_to_2(tnet *t, uint64_t from, uint64_t to, const rf_msg *m)
{
    (void)t;
    (void)from;
    return to != 2 || m->type != RF_MSG_APPEND || m->n_entries == 0 ||
           m->index + m->n_entries < g_hold_from;
}

static void one_entry_per_append(rf_raft_config *c)
{
    c->append_entries_max = 1;
}

/* A learner within a window of the commit index but without the entry that
 * added it knows no configuration, and a member that knows none never
 * votes (it may be a voter's wiped replacement). Promoted then, a group of
 * one voter becomes two; if the leader lost its quorum before the new
 * voter caught up, neither could ever be elected again (fuzz seed 405009:
 * a draining node's group of one, its new member cut off by a flap). So a
 * learner is promoted only once it holds the configuration in force; then
 * the leader, stepped down, is elected again with the new voter's vote. */
START_TEST(test_learner_promoted_only_once_it_holds_the_configuration)
{
    tnet t;
    tnet_init(&t, 1, one_entry_per_append);
    ck_assert_uint_eq(tnet_wait_leader(&t, 1000), 1);
    for (uint64_t i = 1; i <= 4; i++)
        rf_raft_propose(t.r[1], i, 1, i, i, (const uint8_t *)"inc", 3);
    tnet_run(&t, 20);
    g_hold_from = rf_raft_last_index(t.r[1]) + 1; /* the configuration adding node 2 */
    t.filter = hold_appends_to_2;
    tnet_add_empty(&t, 2);
    ck_assert_int_eq(rf_raft_add_learner(t.r[1], 100, 2), RF_OK);
    tnet_settle(&t); /* no tick: the learner streams, the lost append not yet noticed */
    ck_assert_int_eq(tnet_reply_for(&t, 100)->status, RF_OK);
    ck_assert_uint_eq(rf_raft_last_index(t.r[2]), g_hold_from - 1);
    ck_assert_int_eq(rf_raft_promote(t.r[1], 101, 2), RF_ELAGGING);
    /* It gets the configuration, not the promotion; the leader then loses it. */
    g_hold_from = rf_raft_last_index(t.r[1]) + 1;
    tnet_run(&t, 50);
    ck_assert_uint_eq(rf_raft_last_index(t.r[2]), g_hold_from - 1);
    ck_assert_int_eq(rf_raft_promote(t.r[1], 102, 2), RF_OK);
    tnet_run(&t, 5);
    tnet_isolate(&t, 2, true);
    tnet_run(&t, 300); /* check-quorum: two voters, one heard */
    ck_assert_int_ne(rf_raft_role(t.r[1]), RF_ROLE_LEADER);
    t.filter = NULL;
    tnet_isolate(&t, 2, false);
    ck_assert_uint_ne(tnet_wait_leader(&t, 2000), 0);
    tnet_run(&t, 50);
    ck_assert(is_voter(t.r[2], 2));
    tnet_free(&t);
}
END_TEST

START_TEST(test_removal_refused_when_it_breaks_live_quorum)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    uint64_t a = l == 1 ? 2 : 1;
    uint64_t dead = 6 - l - a;
    tnet_isolate(&t, dead, true);
    tnet_run(&t, 150);
    ck_assert_uint_eq(tnet_leader(&t), l);
    /* Removing the live follower would leave {leader, dead}: no live quorum. */
    ck_assert_int_eq(rf_raft_remove(t.r[l], 1, a), RF_EQUORUM);
    /* Removing the dead member leaves {leader, a}, both live. */
    ck_assert_int_eq(rf_raft_remove(t.r[l], 2, dead), RF_OK);
    tnet_run(&t, 30);
    ck_assert_int_eq(tnet_reply_for(&t, 2)->status, RF_OK);
    ck_assert_uint_eq(rf_raft_membership(t.r[l])->count, 2);
    ck_assert_int_ge(t.obs_count[a][RF_OBS_MEMBER_REMOVED], 1);
    tnet_free(&t);
}
END_TEST

START_TEST(test_leader_removed_only_after_leadership_moved)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    ck_assert_int_eq(rf_raft_remove(t.r[l], 1, l), RF_ETRANSFER);
    ck_assert(is_voter(t.r[l], l)); /* still a member */
    tnet_run(&t, 100);
    uint64_t l2 = tnet_leader(&t);
    ck_assert_uint_ne(l2, 0);
    ck_assert_uint_ne(l2, l);
    ck_assert_int_eq(rf_raft_remove(t.r[l2], 2, l), RF_OK);
    tnet_run(&t, 50);
    ck_assert_int_eq(tnet_reply_for(&t, 2)->status, RF_OK);
    ck_assert_ptr_null(rf_membership_find(rf_raft_membership(t.r[l2]), l));
    /* The removed member never disrupts the rest. */
    uint64_t term = rf_raft_term(t.r[l2]);
    tnet_run(&t, 1000);
    ck_assert_uint_eq(tnet_leader(&t), l2);
    ck_assert_uint_eq(rf_raft_term(t.r[l2]), term);
    tnet_free(&t);
}
END_TEST

START_TEST(test_transfer_moves_leadership_to_target)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    uint64_t target = l == 3 ? 1 : l + 1;
    for (uint64_t i = 1; i <= 10; i++)
        rf_raft_propose(t.r[l], i, 1, i, i, (const uint8_t *)"inc", 3);
    ck_assert_int_eq(rf_raft_transfer(t.r[l], 50, target), RF_OK);
    /* Proposals are refused while leadership moves. */
    ck_assert_int_eq(rf_raft_propose(t.r[l], 51, 1, 11, 11, (const uint8_t *)"inc", 3), RF_ETRANSFER);
    tnet_run(&t, 20);
    ck_assert_uint_eq(tnet_leader(&t), target);
    ck_assert_int_eq(tnet_reply_for(&t, 50)->status, RF_OK);
    ck_assert_int_eq(tnet_reply_for(&t, 10)->status, RF_OK); /* committed before the move */
    tnet_free(&t);
}
END_TEST

START_TEST(test_transfer_aborts_when_target_unreachable_past_timeout)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    uint64_t target = l == 3 ? 1 : l + 1;
    tnet_isolate(&t, target, true);
    tnet_run(&t, 5);
    rf_raft_propose(t.r[l], 1, 1, 1, 1, (const uint8_t *)"inc", 3); /* target lags now */
    tnet_run(&t, 5);
    ck_assert_int_eq(rf_raft_transfer(t.r[l], 50, target), RF_OK);
    tnet_run(&t, 150);
    ck_assert_ptr_null(tnet_reply_for(&t, 50));
    tnet_run(&t, 100); /* transfer_timeout = 200 ms */
    ck_assert_int_eq(tnet_reply_for(&t, 50)->status, RF_ETIMEDOUT);
    ck_assert_uint_eq(tnet_leader(&t), l);
    ck_assert_int_eq(tnet_propose(&t, l, 60, 1, 2, "inc"), RF_OK);
    tnet_run(&t, 10);
    ck_assert_int_eq(tnet_reply_for(&t, 60)->status, RF_OK);
    tnet_free(&t);
}
END_TEST

START_TEST(test_follower_refuses_requests_with_leader_hint)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    uint64_t f = l == 1 ? 2 : 1;
    ck_assert_int_eq(rf_raft_propose(t.r[f], 9, 1, 1, 1, (const uint8_t *)"inc", 3), RF_ENOTLEADER);
    ck_assert_int_eq(rf_raft_add_learner(t.r[f], 10, 7), RF_ENOTLEADER);
    tnet_settle(&t);
    ck_assert_uint_eq(tnet_reply_for(&t, 9)->leader_hint, l);
    ck_assert_uint_eq(tnet_reply_for(&t, 10)->leader_hint, l);
    tnet_free(&t);
}
END_TEST

START_TEST(test_learner_never_campaigns)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    tnet_add_empty(&t, 4);
    ck_assert_int_eq(rf_raft_add_learner(t.r[l], 1, 4), RF_OK);
    tnet_run(&t, 50);
    tnet_isolate(&t, 4, true);
    tnet_run(&t, 1000);
    rf_raft_counters c;
    rf_raft_counters_get(t.r[4], &c);
    ck_assert_uint_eq(c.elections_started, 0);
    ck_assert_int_eq(rf_raft_role(t.r[4]), RF_ROLE_FOLLOWER);
    tnet_free(&t);
}
END_TEST

START_TEST(test_unreachable_hint_counts_against_removal)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    uint64_t a = l == 1 ? 2 : 1;
    uint64_t b = 6 - l - a;
    /* b is reported unreachable by the transport: removing a would leave
     * {leader, b} with only the leader live. */
    rf_raft_peer_unreachable(t.r[l], b);
    ck_assert_int_eq(rf_raft_remove(t.r[l], 1, a), RF_EQUORUM);
    rf_raft_peer_reachable(t.r[l], b);
    ck_assert_int_eq(rf_raft_remove(t.r[l], 2, a), RF_OK);
    tnet_run(&t, 30);
    ck_assert_int_eq(tnet_reply_for(&t, 2)->status, RF_OK);
    tnet_free(&t);
}
END_TEST

Suite *raft_membership_suite(void)
{
    Suite *s = suite_create("raft_membership");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_learner_added_catches_up_then_promoted);
    tcase_add_test(tc, test_removal_refused_when_it_breaks_live_quorum);
    tcase_add_test(tc, test_leader_removed_only_after_leadership_moved);
    tcase_add_test(tc, test_transfer_moves_leadership_to_target);
    tcase_add_test(tc, test_transfer_aborts_when_target_unreachable_past_timeout);
    tcase_add_test(tc, test_follower_refuses_requests_with_leader_hint);
    tcase_add_test(tc, test_learner_never_campaigns);
    tcase_add_test(tc, test_learner_back_empty_below_its_match_is_sent_everything_again);
    tcase_add_test(tc, test_promoted_learner_counts_only_once_it_acknowledges_its_promotion);
    tcase_add_test(tc, test_learner_promoted_only_once_it_holds_the_configuration);
    tcase_add_test(tc, test_unreachable_hint_counts_against_removal);
    suite_add_tcase(s, tc);
    return s;
}

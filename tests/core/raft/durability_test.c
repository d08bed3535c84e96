/* Tests of core/raft's durability contract and of restart from durable state. */
#include <check.h>
#include <string.h>

#include "base/rf_err.h"
#include "raft/raft.h"
#include "tests/core/raft/tnet.h"

static int count_type(const rf_ready *rd, uint8_t type)
{
    int n = 0;
    for (size_t i = 0; i < rd->n_msgs; i++)
        n += rd->msgs[i].msg.type == type;
    return n;
}

START_TEST(test_append_ack_held_until_entries_persisted)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    uint64_t f = l == 1 ? 2 : 1;
    t.manual[f] = true; /* f's writes wait for tnet_sync */
    uint64_t commit0 = rf_raft_commit_index(t.r[l]);
    uint64_t other = 6 - l - f;
    tnet_isolate(&t, other, true); /* commit needs f's ack */
    ck_assert_int_eq(tnet_propose(&t, l, 1, 1, 1, "inc"), RF_OK);
    tnet_run(&t, 30);
    ck_assert_uint_eq(rf_raft_last_index(t.r[f]), rf_raft_last_index(t.r[l]));
    ck_assert_uint_eq(rf_raft_commit_index(t.r[l]), commit0); /* no ack left f */
    ck_assert_ptr_null(tnet_reply_for(&t, 1));
    tnet_sync(&t, f);
    tnet_run(&t, 5);
    ck_assert_uint_gt(rf_raft_commit_index(t.r[l]), commit0);
    ck_assert_ptr_nonnull(tnet_reply_for(&t, 1));
    tnet_free(&t);
}
END_TEST

START_TEST(test_vote_grant_held_until_term_and_vote_persisted)
{
    rf_raft_config c;
    tnet_config(&c, 1);
    rf_membership m = {.count = 3};
    for (uint32_t i = 0; i < 3; i++)
        m.members[i] = (rf_member){i + 1, 1};
    rf_raft *r = NULL;
    ck_assert_int_eq(rf_raft_bootstrap(&c, &m, &r), RF_OK);
    rf_raft_tick(r, 0);
    rf_raft_tick(r, 50 * TNET_MS);
    rf_ready rd;
    rf_raft_ready(r, &rd);
    uint64_t boot = rd.persist_token;
    rf_raft_advance(r);
    rf_raft_persisted(r, boot);
    rf_raft_tick(r, 150 * TNET_MS); /* out of the start-up lease */
    while (rf_raft_has_ready(r)) {
        rf_raft_ready(r, &rd);
        uint64_t tok = rd.persist_token;
        rf_raft_advance(r);
        rf_raft_persisted(r, tok);
    }
    rf_msg v;
    memset(&v, 0, sizeof(v));
    v.type = RF_MSG_VOTE;
    v.group_id = 77;
    v.from = 2;
    v.to = 1;
    v.term = 9;
    ck_assert_int_eq(rf_raft_receive(r, &v), RF_OK);
    rf_raft_ready(r, &rd);
    ck_assert(rd.has_hard_state);
    ck_assert_uint_eq(rd.term, 9);
    ck_assert_uint_eq(rd.vote, 2);
    ck_assert_int_eq(count_type(&rd, RF_MSG_VOTE_RESP), 0); /* held */
    uint64_t tok = rd.persist_token;
    ck_assert_uint_ne(tok, 0);
    rf_raft_advance(r);
    ck_assert(!rf_raft_has_ready(r));
    rf_raft_persisted(r, tok);
    ck_assert(rf_raft_has_ready(r));
    rf_raft_ready(r, &rd);
    ck_assert_int_eq(count_type(&rd, RF_MSG_VOTE_RESP), 1);
    ck_assert_uint_eq(rd.msgs[0].msg.reject, 0);
    rf_raft_advance(r);
    rf_raft_close(r);
}
END_TEST

START_TEST(test_leader_counts_own_entry_only_once_durable)
{
    tnet t;
    tnet_init(&t, 1, NULL);
    tnet_wait_leader(&t, 500);
    t.manual[1] = true;
    uint64_t c0 = rf_raft_commit_index(t.r[1]);
    ck_assert_int_eq(tnet_propose(&t, 1, 5, 1, 1, "inc"), RF_OK);
    tnet_run(&t, 10);
    ck_assert_uint_eq(rf_raft_commit_index(t.r[1]), c0);
    ck_assert_ptr_null(tnet_reply_for(&t, 5));
    tnet_sync(&t, 1);
    tnet_settle(&t);
    ck_assert_uint_eq(rf_raft_commit_index(t.r[1]), c0 + 1);
    ck_assert_ptr_nonnull(tnet_reply_for(&t, 5));
    tnet_free(&t);
}
END_TEST

START_TEST(test_candidate_counts_own_vote_only_once_durable)
{
    tnet t;
    /* Restarted: a brand-new lone voter would campaign at its first tick. */
    tnet_init(&t, 1, NULL);
    ck_assert_uint_eq(tnet_wait_leader(&t, 5), 1);
    tnet_crash(&t, 1);
    tnet_restart(&t, 1);
    t.manual[1] = true;
    tnet_run(&t, 400);
    ck_assert_int_eq(rf_raft_role(t.r[1]), RF_ROLE_CANDIDATE);
    tnet_sync(&t, 1);
    tnet_settle(&t);
    ck_assert_int_eq(rf_raft_role(t.r[1]), RF_ROLE_LEADER);
    tnet_free(&t);
}
END_TEST

static void small_snapshots(rf_raft_config *c)
{
    c->snapshot_threshold = 30;
}

START_TEST(test_restart_recovers_term_vote_log_snapshot_and_membership)
{
    tnet t;
    tnet_init(&t, 3, small_snapshots);
    uint64_t l = tnet_wait_leader(&t, 1000);
    tnet_add_empty(&t, 4);
    ck_assert_int_eq(rf_raft_add_learner(t.r[l], 100, 4), RF_OK);
    tnet_run(&t, 50);
    for (uint64_t i = 1; i <= 45; i++)
        ck_assert_int_eq(rf_raft_propose(t.r[l], i, 3, i, i, (const uint8_t *)"inc", 3), RF_OK);
    tnet_run(&t, 50);
    uint64_t f = l == 1 ? 2 : 1;
    rf_raft *r = t.r[f];
    ck_assert_uint_gt(rf_raft_snapshot_index(r), 0);
    uint64_t term = rf_raft_term(r), vote = rf_raft_vote(r), last = rf_raft_last_index(r);
    uint64_t snap = rf_raft_snapshot_index(r), digest = rf_raft_digest(r);
    rf_membership m = *rf_raft_membership(r);
    ck_assert_uint_eq(m.count, 4);
    uint64_t terms[128];
    for (uint64_t i = snap; i <= last; i++)
        terms[i - snap] = rf_raft_term_at(r, i);
    tnet_crash(&t, f);
    tnet_restart(&t, f);
    r = t.r[f];
    ck_assert_uint_eq(rf_raft_term(r), term);
    ck_assert_uint_eq(rf_raft_vote(r), vote);
    ck_assert_uint_eq(rf_raft_last_index(r), last);
    ck_assert_uint_eq(rf_raft_snapshot_index(r), snap);
    for (uint64_t i = snap; i <= last; i++)
        ck_assert_uint_eq(rf_raft_term_at(r, i), terms[i - snap]);
    ck_assert_mem_eq(rf_raft_membership(r), &m, sizeof(m));
    ck_assert_int_eq(rf_raft_role(r), RF_ROLE_FOLLOWER);
    /* It rejoins as itself: catches up and applies to the same state. */
    tnet_run(&t, 100);
    ck_assert_uint_eq(rf_raft_applied_index(r), rf_raft_applied_index(t.r[l]));
    ck_assert_uint_eq(rf_raft_digest(r), digest);
    ck_assert_uint_eq(tnet_leader(&t), l);
    tnet_free(&t);
}
END_TEST

START_TEST(test_crash_loses_unsynced_entries_but_not_acknowledged_ones)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    ck_assert_int_eq(tnet_propose(&t, l, 1, 1, 1, "inc"), RF_OK);
    tnet_run(&t, 20);
    ck_assert_ptr_nonnull(tnet_reply_for(&t, 1));
    /* Every member now holds writes that never reach the disk. */
    for (uint64_t id = 1; id <= 3; id++)
        t.manual[id] = true;
    ck_assert_int_eq(tnet_propose(&t, l, 2, 1, 2, "inc"), RF_OK);
    tnet_run(&t, 20);
    ck_assert_ptr_null(tnet_reply_for(&t, 2));
    for (uint64_t id = 1; id <= 3; id++) {
        tnet_crash(&t, id);
        t.manual[id] = false;
    }
    for (uint64_t id = 1; id <= 3; id++)
        tnet_restart(&t, id);
    uint64_t l2 = tnet_wait_leader(&t, 3000);
    ck_assert_uint_ne(l2, 0);
    ck_assert_int_eq(rf_raft_read(t.r[l2], 50, (const uint8_t *)"get", 3), RF_OK);
    tnet_run(&t, 50);
    const tnet_reply *p = tnet_reply_for(&t, 50);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->data, "1"); /* the acknowledged inc survived, the unsynced one did not */
    tnet_free(&t);
}
END_TEST

Suite *raft_durability_suite(void)
{
    Suite *s = suite_create("raft_durability");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_append_ack_held_until_entries_persisted);
    tcase_add_test(tc, test_vote_grant_held_until_term_and_vote_persisted);
    tcase_add_test(tc, test_leader_counts_own_entry_only_once_durable);
    tcase_add_test(tc, test_candidate_counts_own_vote_only_once_durable);
    tcase_add_test(tc, test_restart_recovers_term_vote_log_snapshot_and_membership);
    tcase_add_test(tc, test_crash_loses_unsynced_entries_but_not_acknowledged_ones);
    suite_add_tcase(s, tc);
    return s;
}

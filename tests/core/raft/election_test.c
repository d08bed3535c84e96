/* Tests of core/raft elections: timeouts, the vote rules, pre-vote, check-quorum. */
#include <check.h>
#include <string.h>

#include "base/rf_err.h"
#include "raft/raft.h"
#include "tests/core/raft/tnet.h"

START_TEST(test_single_member_elects_itself_and_commits)
{
    tnet t;
    tnet_init(&t, 1, NULL);
    uint64_t l = tnet_wait_leader(&t, 500);
    ck_assert_uint_eq(l, 1);
    ck_assert_int_eq(tnet_propose(&t, 1, 10, 5, 1, "inc"), RF_OK);
    const tnet_reply *p = tnet_reply_for(&t, 10);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->status, RF_OK);
    ck_assert_str_eq(p->data, "0");
    tnet_free(&t);
}
END_TEST

static void long_timeouts(rf_raft_config *c)
{
    c->election_timeout_ns = 2000 * TNET_MS;
}

/* A brand-new group's lone voter elects itself at its first tick, not
 * after a (here 2 s) election timeout; a new group of three still waits. */
START_TEST(test_new_lone_voter_elects_itself_without_waiting_a_timeout)
{
    tnet t;
    tnet_init(&t, 1, long_timeouts);
    ck_assert_uint_eq(tnet_wait_leader(&t, 20), 1);
    ck_assert_uint_eq(rf_raft_term(t.r[1]), 1);
    tnet_free(&t);
    tnet_init(&t, 3, long_timeouts);
    tnet_run(&t, 1000);
    ck_assert_uint_eq(tnet_leader(&t), 0);
    ck_assert_uint_ne(tnet_wait_leader(&t, 4000), 0);
    tnet_free(&t);
}
END_TEST

START_TEST(test_three_members_elect_exactly_one_leader)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    ck_assert_uint_ne(l, 0);
    int leaders = 0;
    for (uint64_t id = 1; id <= 3; id++) {
        leaders += rf_raft_role(t.r[id]) == RF_ROLE_LEADER;
        ck_assert_uint_eq(rf_raft_leader(t.r[id]), l);
        ck_assert_uint_eq(rf_raft_term(t.r[id]), rf_raft_term(t.r[l]));
    }
    ck_assert_int_eq(leaders, 1);
    ck_assert_int_ge(t.obs_count[l][RF_OBS_LEADER_ELECTED], 1);
    tnet_free(&t);
}
END_TEST

/* Sends m to node r and returns the first message of type `type` that
 * the next ready carries (0 when none). */
static int step_and_find(rf_raft *r, const rf_msg *m, uint8_t type, rf_msg *out)
{
    ck_assert_int_eq(rf_raft_receive(r, m), RF_OK);
    rf_ready rd;
    rf_raft_ready(r, &rd);
    int found = 0;
    for (size_t i = 0; i < rd.n_msgs; i++)
        if (rd.msgs[i].msg.type == type && !found) {
            *out = rd.msgs[i].msg;
            found = 1;
        }
    uint64_t token = rd.persist_token;
    rf_raft_advance(r);
    if (token)
        rf_raft_persisted(r, token);
    if (!found && rf_raft_has_ready(r)) {
        rf_raft_ready(r, &rd);
        for (size_t i = 0; i < rd.n_msgs; i++)
            if (rd.msgs[i].msg.type == type && !found) {
                *out = rd.msgs[i].msg;
                found = 1;
            }
        rf_raft_advance(r);
    }
    return found;
}

/* A voter of {1,2,3} whose log is [t1, t2, t2] (restored). */
static rf_raft *voter_with_log(uint64_t id)
{
    rf_raft_config c;
    tnet_config(&c, id);
    static const rf_entry ents[3] = {
        {.index = 1, .term = 1, .kind = RF_ENTRY_NOOP},
        {.index = 2, .term = 2, .kind = RF_ENTRY_NOOP},
        {.index = 3, .term = 2, .kind = RF_ENTRY_NOOP},
    };
    rf_raft_state st = {0};
    st.term = 2;
    st.snapshot_membership.count = 3;
    for (uint32_t i = 0; i < 3; i++)
        st.snapshot_membership.members[i] = (rf_member){i + 1, 1};
    st.entries = ents;
    st.n_entries = 3;
    rf_raft *r = NULL;
    ck_assert_int_eq(rf_raft_restore(&c, &st, &r), RF_OK);
    rf_raft_tick(r, 0);
    rf_raft_tick(r, 1000 * TNET_MS); /* out of the start-up lease */
    return r;
}

static rf_msg vote_req(uint64_t from, uint64_t term, uint64_t last_index, uint64_t last_term)
{
    rf_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RF_MSG_VOTE;
    m.group_id = 77;
    m.from = from;
    m.to = 1;
    m.term = term;
    m.index = last_index;
    m.log_term = last_term;
    return m;
}

START_TEST(test_vote_refused_to_candidate_with_older_last_term)
{
    rf_raft *r = voter_with_log(1);
    rf_msg m = vote_req(2, 5, 10, 1), resp;
    ck_assert(step_and_find(r, &m, RF_MSG_VOTE_RESP, &resp));
    ck_assert_uint_eq(resp.reject, 1);
    ck_assert_uint_eq(rf_raft_term(r), 5); /* the term still moves on */
    ck_assert_uint_eq(rf_raft_vote(r), 0);
    rf_raft_close(r);
}
END_TEST

START_TEST(test_vote_refused_to_candidate_with_shorter_log_same_term)
{
    rf_raft *r = voter_with_log(1);
    rf_msg m = vote_req(2, 5, 2, 2), resp;
    ck_assert(step_and_find(r, &m, RF_MSG_VOTE_RESP, &resp));
    ck_assert_uint_eq(resp.reject, 1);
    rf_raft_close(r);
}
END_TEST

START_TEST(test_vote_granted_to_up_to_date_candidate_once_per_term)
{
    rf_raft *r = voter_with_log(1);
    rf_msg m = vote_req(2, 5, 3, 2), resp;
    ck_assert(step_and_find(r, &m, RF_MSG_VOTE_RESP, &resp));
    ck_assert_uint_eq(resp.reject, 0);
    ck_assert_uint_eq(rf_raft_vote(r), 2);
    /* Another candidate of the same term, even more up to date: refused. */
    m = vote_req(3, 5, 9, 3);
    ck_assert(step_and_find(r, &m, RF_MSG_VOTE_RESP, &resp));
    ck_assert_uint_eq(resp.reject, 1);
    /* The same candidate asking again gets the same answer. */
    m = vote_req(2, 5, 3, 2);
    ck_assert(step_and_find(r, &m, RF_MSG_VOTE_RESP, &resp));
    ck_assert_uint_eq(resp.reject, 0);
    rf_raft_close(r);
}
END_TEST

/* Thesis §6.4.1: a member whose answer to a leader may extend that
 * leader's lease refuses other candidates for an election timeout, also
 * when the leader's first message brings a newer term (that acknowledgement
 * counts toward the lease like any other; fuzz seed 26). */
START_TEST(test_append_of_a_newer_term_is_a_leader_contact)
{
    rf_raft *r = voter_with_log(1); /* term 2, no leader heard for a while */
    uint64_t now = 1000 * TNET_MS;
    rf_msg m, resp;
    memset(&m, 0, sizeof(m));
    m.type = RF_MSG_APPEND;
    m.group_id = 77;
    m.from = 2;
    m.to = 1;
    m.term = 3;
    m.index = 3; /* prev index and term: the member's last entry */
    m.log_term = 2;
    ck_assert(step_and_find(r, &m, RF_MSG_APPEND_RESP, &resp));
    ck_assert_uint_eq(resp.reject, 0);
    ck_assert_uint_eq(rf_raft_leader(r), 2);
    rf_raft_tick(r, now + 10 * TNET_MS); /* dates the contact */
    ck_assert_uint_eq(rf_raft_votes_refused_until_ns(r), now + 10 * TNET_MS + 100 * TNET_MS);
    /* An up-to-date candidate of a newer term, within the timeout: no vote. */
    m = vote_req(3, 4, 3, 2);
    ck_assert_int_eq(rf_raft_receive(r, &m), RF_OK);
    ck_assert_uint_eq(rf_raft_term(r), 3);
    ck_assert_uint_ne(rf_raft_vote(r), 3);
    rf_raft_close(r);
}
END_TEST

START_TEST(test_prevote_does_not_disrupt_healthy_leader)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    uint64_t term = rf_raft_term(t.r[l]);
    uint64_t other = l == 3 ? 2 : 3;
    /* One follower is cut off long enough to time out many times. */
    tnet_isolate(&t, other, true);
    tnet_run(&t, 2000);
    ck_assert_uint_eq(rf_raft_term(t.r[other]), term); /* pre-vote never won */
    rf_raft_counters c;
    rf_raft_counters_get(t.r[other], &c);
    ck_assert_uint_gt(c.elections_started, 3);
    tnet_isolate(&t, other, false);
    tnet_run(&t, 500);
    ck_assert_uint_eq(tnet_leader(&t), l);
    ck_assert_uint_eq(rf_raft_term(t.r[l]), term);
    ck_assert_uint_eq(rf_raft_leader(t.r[other]), l);
    tnet_free(&t);
}
END_TEST

START_TEST(test_leader_steps_down_without_quorum)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    tnet_isolate(&t, l, true);
    tnet_run(&t, 250); /* more than two election timeouts */
    ck_assert_int_ne(rf_raft_role(t.r[l]), RF_ROLE_LEADER);
    ck_assert_int_ge(t.obs_count[l][RF_OBS_LEADER_LOST], 1);
    uint64_t l2 = tnet_leader(&t);
    ck_assert_uint_ne(l2, 0);
    ck_assert_uint_ne(l2, l);
    tnet_isolate(&t, l, false);
    tnet_run(&t, 300);
    ck_assert_uint_eq(rf_raft_leader(t.r[l]), l2);
    tnet_free(&t);
}
END_TEST

static uint64_t g_seed;
static void seed_tweak(rf_raft_config *c)
{
    rf_pcg32_seed(&c->rng, g_seed, 1);
}

static void seed_tweak_per_node(rf_raft_config *c)
{
    rf_pcg32_seed(&c->rng, g_seed, c->node_id);
}

START_TEST(test_election_timeouts_are_randomized_per_member)
{
    /* Single-member groups seeded differently time out at different
     * moments, always within [T, 2T). Restarted ones: a brand-new lone
     * voter elects itself at once. */
    uint64_t seen[8];
    int distinct = 0;
    for (int k = 0; k < 8; k++) {
        tnet t;
        g_seed = (uint64_t)k * 7919 + 1;
        tnet_init(&t, 1, seed_tweak);
        ck_assert_uint_eq(tnet_wait_leader(&t, 5), 1);
        tnet_crash(&t, 1);
        tnet_restart(&t, 1);
        seen[k] = 0;
        for (uint64_t ms = 1; ms <= 300 && !seen[k]; ms++) {
            tnet_run(&t, 1);
            if (rf_raft_role(t.r[1]) == RF_ROLE_LEADER)
                seen[k] = ms;
        }
        ck_assert_uint_ge(seen[k], 100);
        ck_assert_uint_le(seen[k], 200);
        int dup = 0;
        for (int j = 0; j < k; j++)
            dup |= seen[j] == seen[k];
        distinct += !dup;
        tnet_free(&t);
    }
    ck_assert_int_ge(distinct, 5);
}
END_TEST

static uint64_t run_trace(uint64_t seed)
{
    g_seed = seed;
    tnet t;
    tnet_init(&t, 3, seed_tweak_per_node);
    uint64_t l = tnet_wait_leader(&t, 1000);
    for (uint64_t i = 1; i <= 30; i++)
        rf_raft_propose(t.r[l], i, i % 4 + 1, i, i, (const uint8_t *)"inc", 3);
    tnet_isolate(&t, l, true);
    tnet_run(&t, 400);
    tnet_isolate(&t, l, false);
    tnet_run(&t, 200);
    uint64_t h = t.trace ^ rf_raft_digest(t.r[1]);
    tnet_free(&t);
    return h;
}

START_TEST(test_same_seeds_give_the_same_messages_byte_for_byte)
{
    uint64_t a = run_trace(11), b = run_trace(11), c = run_trace(12);
    ck_assert_uint_eq(a, b);
    ck_assert_uint_ne(a, c);
}
END_TEST

/* A member created empty where one of the group was stopped resumes the
 * term that one knew, as having voted in it: the first ready persists
 * term and vote, older terms are ignored, and no candidate of that term
 * gets its vote. */
START_TEST(test_resumed_member_keeps_its_predecessor_term_and_vote)
{
    rf_raft_config c;
    tnet_config(&c, 1);
    rf_raft *r = NULL;
    ck_assert_int_eq(rf_raft_create(&c, &r), RF_OK);
    rf_raft_resume_term(r, 5);
    rf_raft_resume_term(r, 3); /* never back */
    ck_assert_uint_eq(rf_raft_term(r), 5);
    ck_assert_uint_eq(rf_raft_vote(r), 1);
    rf_raft_tick(r, 0);
    ck_assert(rf_raft_has_ready(r));
    rf_ready rd;
    rf_raft_ready(r, &rd);
    ck_assert(rd.has_hard_state);
    ck_assert_uint_eq(rd.term, 5);
    ck_assert_uint_eq(rd.vote, 1);
    uint64_t token = rd.persist_token;
    rf_raft_advance(r);
    rf_raft_persisted(r, token);
    /* A leader of term 4: stale. */
    rf_msg m, resp;
    memset(&m, 0, sizeof(m));
    m.type = RF_MSG_HEARTBEAT;
    m.group_id = 77;
    m.from = 2;
    m.to = 1;
    m.term = 4;
    ck_assert_int_eq(rf_raft_receive(r, &m), RF_OK);
    ck_assert_uint_eq(rf_raft_term(r), 5);
    ck_assert_uint_eq(rf_raft_leader(r), 0);
    /* A candidate of term 5: refused. */
    m = vote_req(3, 5, 10, 5);
    ck_assert(step_and_find(r, &m, RF_MSG_VOTE_RESP, &resp));
    ck_assert_uint_eq(resp.reject, 1);
    ck_assert_uint_eq(rf_raft_vote(r), 1);
    rf_raft_close(r);
}
END_TEST

Suite *raft_election_suite(void)
{
    Suite *s = suite_create("raft_election");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_single_member_elects_itself_and_commits);
    tcase_add_test(tc, test_new_lone_voter_elects_itself_without_waiting_a_timeout);
    tcase_add_test(tc, test_three_members_elect_exactly_one_leader);
    tcase_add_test(tc, test_vote_refused_to_candidate_with_older_last_term);
    tcase_add_test(tc, test_vote_refused_to_candidate_with_shorter_log_same_term);
    tcase_add_test(tc, test_append_of_a_newer_term_is_a_leader_contact);
    tcase_add_test(tc, test_vote_granted_to_up_to_date_candidate_once_per_term);
    tcase_add_test(tc, test_prevote_does_not_disrupt_healthy_leader);
    tcase_add_test(tc, test_leader_steps_down_without_quorum);
    tcase_add_test(tc, test_election_timeouts_are_randomized_per_member);
    tcase_add_test(tc, test_same_seeds_give_the_same_messages_byte_for_byte);
    tcase_add_test(tc, test_resumed_member_keeps_its_predecessor_term_and_vote);
    suite_add_tcase(s, tc);
    return s;
}

/* Tests of core/raft log replication: Figure 7 repair, Figure 8 commit rule, truncation. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "raft/raft.h"
#include "tests/core/raft/tnet.h"

/* Puts a log of NOOP entries with the given terms in id's store and starts
 * the member from it. */
static void restore_node(tnet *t, uint64_t id, const uint64_t *terms, size_t n, uint64_t term,
                         const rf_membership *m, uint64_t timeout_ms)
{
    tnet_config(&t->cfg[id], id);
    t->cfg[id].election_timeout_ns = timeout_ms * TNET_MS;
    tnet_store *s = &t->st[id];
    s->term = term;
    s->snap_conf = *m;
    s->cap = n + 1;
    s->ents = calloc(s->cap, sizeof(rf_entry));
    for (size_t i = 0; i < n; i++) {
        s->ents[i].index = i + 1;
        s->ents[i].term = terms[i];
        s->ents[i].kind = RF_ENTRY_NOOP;
    }
    s->n_ents = n;
    tnet_restart(t, id);
}

static const uint64_t fig7_leader[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
static const uint64_t fig7_a[] = {1, 1, 1, 4, 4, 5, 5, 6, 6};
static const uint64_t fig7_b[] = {1, 1, 1, 4};
static const uint64_t fig7_c[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6};
static const uint64_t fig7_d[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7};
static const uint64_t fig7_e[] = {1, 1, 1, 4, 4, 4, 4};
static const uint64_t fig7_f[] = {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3};

static const struct {
    const uint64_t *terms;
    size_t n;
} fig7_cases[6] = {
    {fig7_a, 9}, {fig7_b, 4}, {fig7_c, 11}, {fig7_d, 12}, {fig7_e, 7}, {fig7_f, 11},
};

static int g_rejects;
static bool count_rejects(tnet *t, uint64_t from, uint64_t to, const rf_msg *m)
{
    (void)t;
    (void)to;
    if (from == 3 && m->type == RF_MSG_APPEND_RESP && m->reject)
        g_rejects++;
    return true;
}

START_TEST(test_figure7_follower_logs_converge_to_leader)
{
    /* Raft paper Figure 7: whatever the follower's log (missing entries,
     * extra uncommitted entries, entries of other terms), the leader of
     * term 8 brings it to its own log. The follower is a learner here so
     * that the case under test cannot win an election itself. */
    int i = _i;
    tnet t;
    memset(&t, 0, sizeof(t));
    rf_membership m = {.count = 3};
    m.members[0] = (rf_member){1, 1};
    m.members[1] = (rf_member){2, 1};
    m.members[2] = (rf_member){3, 0};
    restore_node(&t, 1, fig7_leader, 10, 7, &m, 100);
    restore_node(&t, 2, fig7_leader, 10, 7, &m, 5000);
    restore_node(&t, 3, fig7_cases[i].terms, fig7_cases[i].n, 7, &m, 5000);
    g_rejects = 0;
    t.filter = count_rejects;
    /* Restarted members refuse votes for one of their election timeouts
     * (the start-up lease), so member 1 wins once member 2's has passed. */
    uint64_t l = tnet_wait_leader(&t, 6000);
    ck_assert_uint_eq(l, 1);
    ck_assert_uint_eq(rf_raft_term(t.r[1]), 8);
    tnet_run(&t, 100);
    ck_assert_uint_eq(rf_raft_last_index(t.r[3]), rf_raft_last_index(t.r[1]));
    for (uint64_t idx = 1; idx <= rf_raft_last_index(t.r[1]); idx++)
        ck_assert_uint_eq(rf_raft_term_at(t.r[3], idx), rf_raft_term_at(t.r[1], idx));
    ck_assert_uint_eq(rf_raft_commit_index(t.r[3]), rf_raft_commit_index(t.r[1]));
    ck_assert_uint_eq(rf_raft_commit_index(t.r[1]), 11);
    /* Back-off by term (§5.3): at most two refusals per case, where one
     * index at a time would need up to seven for (f). */
    ck_assert_int_le(g_rejects, 2);
    tnet_free(&t);
}
END_TEST

static bool g_drop_acks;

static bool drop_append_acks(tnet *t, uint64_t from, uint64_t to, const rf_msg *m)
{
    (void)t;
    (void)from;
    (void)to;
    return !(g_drop_acks && m->type == RF_MSG_APPEND_RESP);
}

/* Both followers store the leader's last entry but their acknowledgements
 * are lost, and nothing more is proposed: the heartbeat replies (a
 * follower's last index) make the leader ask again, and it commits. */
START_TEST(test_lost_append_acks_are_recovered_without_new_proposals)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    ck_assert_uint_ne(l, 0);
    tnet_run(&t, 30);
    t.filter = drop_append_acks;
    g_drop_acks = true;
    ck_assert_int_eq(tnet_propose(&t, l, 7, 9, 1, "inc"), RF_OK);
    uint64_t last = rf_raft_last_index(t.r[l]);
    for (uint64_t id = 1; id <= 3; id++)
        ck_assert_uint_eq(rf_raft_last_index(t.r[id]), last);
    ck_assert_uint_lt(rf_raft_commit_index(t.r[l]), last);
    g_drop_acks = false;
    tnet_run(&t, 50); /* five heartbeat intervals */
    ck_assert_uint_eq(rf_raft_commit_index(t.r[l]), last);
    const tnet_reply *rp = tnet_reply_for(&t, 7);
    ck_assert_ptr_nonnull(rp);
    ck_assert_int_eq(rp->status, RF_OK);
    tnet_free(&t);
}
END_TEST

/* ---- a single member driven by hand ------------------------------------ */

typedef struct hand {
    rf_raft *r;
    rf_msg out[64];
    int n_out;
    uint64_t token;
} hand;

/* Drains ready, remembers the messages (no entries), persists unless held. */
static void hand_drain(hand *h, bool persist)
{
    h->n_out = 0;
    while (rf_raft_has_ready(h->r)) {
        rf_ready rd;
        rf_raft_ready(h->r, &rd);
        for (size_t i = 0; i < rd.n_msgs && h->n_out < 64; i++) {
            h->out[h->n_out] = rd.msgs[i].msg;
            h->out[h->n_out].entries = NULL;
            h->n_out++;
        }
        if (rd.persist_token)
            h->token = rd.persist_token;
        uint64_t tok = rd.persist_token;
        rf_raft_advance(h->r);
        if (tok && persist)
            rf_raft_persisted(h->r, tok);
        if (!persist)
            break;
    }
}

static const rf_msg *hand_find(const hand *h, uint8_t type, uint64_t to)
{
    for (int i = 0; i < h->n_out; i++)
        if (h->out[i].type == type && (to == 0 || h->out[i].to == to))
            return &h->out[i];
    return NULL;
}

static rf_msg msg_from(uint64_t from, uint8_t type, uint64_t term)
{
    rf_msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.group_id = 77;
    m.from = from;
    m.to = 1;
    m.term = term;
    return m;
}

static rf_raft *member_with_log(const uint64_t *terms, size_t n, uint64_t term, uint32_t voters)
{
    rf_raft_config c;
    tnet_config(&c, 1);
    rf_entry ents[16];
    memset(ents, 0, sizeof(ents));
    for (size_t i = 0; i < n; i++) {
        ents[i].index = i + 1;
        ents[i].term = terms[i];
        ents[i].kind = RF_ENTRY_NOOP;
    }
    rf_raft_state st = {0};
    st.term = term;
    st.snapshot_membership.count = voters;
    for (uint32_t i = 0; i < voters; i++)
        st.snapshot_membership.members[i] = (rf_member){i + 1, 1};
    st.entries = ents;
    st.n_entries = n;
    rf_raft *r = NULL;
    ck_assert_int_eq(rf_raft_restore(&c, &st, &r), RF_OK);
    rf_raft_tick(r, 0);
    return r;
}

START_TEST(test_figure8_old_term_entry_not_committed_by_counting)
{
    /* Raft paper Figure 8 (c): S1 leads term 4 with [1, 2]; the term-2
     * entry at index 2 reaches a majority (S1, S2, S3) but may still be
     * overwritten by S5 ([1, 3]) unless an entry of term 4 is committed on
     * top of it. So counting replicas of index 2 must not commit it. */
    static const uint64_t log1[] = {1, 2};
    hand h = {.r = member_with_log(log1, 2, 3, 5)};
    rf_raft_tick(h.r, 1000 * TNET_MS); /* time out: pre-vote */
    hand_drain(&h, true);
    ck_assert_ptr_nonnull(hand_find(&h, RF_MSG_PREVOTE, 2));
    for (uint64_t from = 2; from <= 3; from++) {
        rf_msg m = msg_from(from, RF_MSG_PREVOTE_RESP, 4);
        ck_assert_int_eq(rf_raft_receive(h.r, &m), RF_OK);
    }
    hand_drain(&h, true);
    ck_assert_int_eq(rf_raft_role(h.r), RF_ROLE_CANDIDATE);
    ck_assert_uint_eq(rf_raft_term(h.r), 4);
    for (uint64_t from = 2; from <= 3; from++) {
        rf_msg m = msg_from(from, RF_MSG_VOTE_RESP, 4);
        ck_assert_int_eq(rf_raft_receive(h.r, &m), RF_OK);
    }
    hand_drain(&h, true);
    ck_assert_int_eq(rf_raft_role(h.r), RF_ROLE_LEADER);
    ck_assert_uint_eq(rf_raft_last_index(h.r), 3); /* its term-4 no-op */
    for (uint64_t from = 2; from <= 3; from++) {
        rf_msg m = msg_from(from, RF_MSG_APPEND_RESP, 4);
        m.index = 2;
        ck_assert_int_eq(rf_raft_receive(h.r, &m), RF_OK);
    }
    hand_drain(&h, true);
    ck_assert_uint_eq(rf_raft_commit_index(h.r), 0); /* index 2 is on 3 of 5, yet not committed */
    rf_msg m = msg_from(2, RF_MSG_APPEND_RESP, 4);
    m.index = 3;
    ck_assert_int_eq(rf_raft_receive(h.r, &m), RF_OK);
    ck_assert_uint_eq(rf_raft_commit_index(h.r), 0); /* index 3 on 2 of 5 */
    m.from = 3;
    ck_assert_int_eq(rf_raft_receive(h.r, &m), RF_OK);
    ck_assert_uint_eq(rf_raft_commit_index(h.r), 3); /* now 2 and 3 commit together */
    hand_drain(&h, true);
    rf_raft_close(h.r);
}
END_TEST

static rf_msg append_from_leader(uint64_t term, uint64_t prev, uint64_t prev_term, uint64_t commit,
                                 rf_entry *ents, uint32_t n)
{
    rf_msg m = msg_from(2, RF_MSG_APPEND, term);
    m.index = prev;
    m.log_term = prev_term;
    m.commit = commit;
    m.entries = ents;
    m.n_entries = n;
    return m;
}

START_TEST(test_follower_keeps_entries_a_stale_append_repeats)
{
    static const uint64_t log1[] = {1, 1, 1, 1, 1};
    hand h = {.r = member_with_log(log1, 5, 1, 3)};
    rf_entry e[2] = {{.index = 2, .term = 1, .kind = RF_ENTRY_NOOP},
                     {.index = 3, .term = 1, .kind = RF_ENTRY_NOOP}};
    rf_msg m = append_from_leader(1, 1, 1, 0, e, 2);
    ck_assert_int_eq(rf_raft_receive(h.r, &m), RF_OK);
    hand_drain(&h, true);
    ck_assert_uint_eq(rf_raft_last_index(h.r), 5); /* nothing truly conflicted */
    const rf_msg *resp = hand_find(&h, RF_MSG_APPEND_RESP, 2);
    ck_assert_ptr_nonnull(resp);
    ck_assert_uint_eq(resp->reject, 0);
    ck_assert_uint_eq(resp->index, 3);
    rf_raft_close(h.r);
}
END_TEST

START_TEST(test_follower_truncates_conflict_and_commit_stops_at_last_new_entry)
{
    static const uint64_t log1[] = {1, 1, 1, 1, 1};
    hand h = {.r = member_with_log(log1, 5, 1, 3)};
    rf_entry e[1] = {{.index = 3, .term = 2, .kind = RF_ENTRY_NOOP}};
    rf_msg m = append_from_leader(2, 2, 1, 5, e, 1);
    ck_assert_int_eq(rf_raft_receive(h.r, &m), RF_OK);
    ck_assert_uint_eq(rf_raft_last_index(h.r), 3);
    ck_assert_uint_eq(rf_raft_term_at(h.r, 3), 2);
    ck_assert_uint_eq(rf_raft_commit_index(h.r), 3); /* min(leader commit 5, last new 3) */
    rf_ready rd;
    rf_raft_ready(h.r, &rd);
    ck_assert_uint_eq(rd.truncate_from, 3);
    ck_assert_uint_eq(rd.n_entries, 1);
    rf_raft_advance(h.r);
    rf_raft_close(h.r);
}
END_TEST

START_TEST(test_follower_reject_hints_first_index_of_conflicting_term)
{
    static const uint64_t log1[] = {1, 2, 2, 2, 2};
    hand h = {.r = member_with_log(log1, 5, 2, 3)};
    rf_msg m = append_from_leader(3, 5, 3, 0, NULL, 0);
    ck_assert_int_eq(rf_raft_receive(h.r, &m), RF_OK);
    hand_drain(&h, true);
    const rf_msg *resp = hand_find(&h, RF_MSG_APPEND_RESP, 2);
    ck_assert_ptr_nonnull(resp);
    ck_assert_uint_eq(resp->reject, 1);
    ck_assert_uint_eq(resp->log_term, 2);
    ck_assert_uint_eq(resp->offset, 2); /* skip the whole term at once */
    rf_raft_close(h.r);
}
END_TEST

START_TEST(test_snapshot_covering_own_log_keeps_later_entries)
{
    /* Raft paper Figure 13 step 6: a follower whose log holds the
     * snapshot's last entry keeps the entries after it (it may have
     * acknowledged them already). */
    static const uint64_t log1[] = {1, 1, 1, 1, 1};
    hand h = {.r = member_with_log(log1, 5, 1, 3)};
    static const uint8_t junk[4] = {1, 2, 3, 4};
    rf_msg m = msg_from(2, RF_MSG_SNAPSHOT, 1);
    m.index = 3;
    m.log_term = 1;
    m.total = 4;
    m.data = junk;
    m.len = 4;
    m.flags = RF_MSG_FLAG_DONE;
    m.membership.count = 3;
    for (uint32_t i = 0; i < 3; i++)
        m.membership.members[i] = (rf_member){i + 1, 1};
    ck_assert_int_eq(rf_raft_receive(h.r, &m), RF_OK);
    hand_drain(&h, true);
    ck_assert_uint_eq(rf_raft_last_index(h.r), 5);
    ck_assert_uint_eq(rf_raft_commit_index(h.r), 3);
    const rf_msg *resp = hand_find(&h, RF_MSG_SNAPSHOT_RESP, 2);
    ck_assert_ptr_nonnull(resp);
    ck_assert_uint_eq(resp->reject, 0);
    ck_assert_uint_eq(resp->offset, 4);
    rf_raft_close(h.r);
}
END_TEST

static void pipelined(rf_raft_config *c)
{
    c->inflight_max = 4;
    c->append_entries_max = 8;
}

START_TEST(test_leader_pipelines_several_batched_appends)
{
    tnet t;
    tnet_init(&t, 3, pipelined);
    uint64_t l = tnet_wait_leader(&t, 1000);
    tnet_run(&t, 20); /* followers in replicate state */
    for (uint64_t i = 1; i <= 100; i++)
        rf_raft_propose(t.r[l], i, 1, i, i, (const uint8_t *)"inc", 3);
    rf_ready rd;
    rf_raft_ready(t.r[l], &rd);
    uint64_t f = l == 1 ? 2 : 1;
    int appends = 0;
    for (size_t k = 0; k < rd.n_msgs; k++)
        if (rd.msgs[k].to == f && rd.msgs[k].msg.type == RF_MSG_APPEND) {
            appends++;
            ck_assert_uint_eq(rd.msgs[k].msg.n_entries, 8);
        }
    ck_assert_int_eq(appends, 4); /* inflight_max batches of 8, before any ack */
    rf_raft_advance(t.r[l]);
    tnet_free(&t);
}
END_TEST

START_TEST(test_held_ack_dropped_when_term_moves_on_before_persist)
{
    /* An ack held for a write of term 1 must not leave once the member is
     * in term 2 (its leader is deposed, and the entry may be replaced). */
    static const uint64_t log1[] = {1};
    hand h = {.r = member_with_log(log1, 1, 1, 3)};
    rf_entry e[1] = {{.index = 2, .term = 1, .kind = RF_ENTRY_NOOP}};
    rf_msg m = append_from_leader(1, 1, 1, 0, e, 1);
    ck_assert_int_eq(rf_raft_receive(h.r, &m), RF_OK);
    hand_drain(&h, false); /* the write is handed out, not yet durable */
    ck_assert_ptr_null(hand_find(&h, RF_MSG_APPEND_RESP, 2));
    uint64_t tok = h.token;
    rf_msg hb = msg_from(3, RF_MSG_HEARTBEAT, 2); /* a leader of term 2 */
    ck_assert_int_eq(rf_raft_receive(h.r, &hb), RF_OK);
    hand_drain(&h, true); /* persists everything, the term-1 write too */
    ck_assert_ptr_null(hand_find(&h, RF_MSG_APPEND_RESP, 2));
    ck_assert_ptr_nonnull(hand_find(&h, RF_MSG_HEARTBEAT_RESP, 3));
    rf_raft_persisted(h.r, tok);
    hand_drain(&h, true);
    ck_assert_ptr_null(hand_find(&h, RF_MSG_APPEND_RESP, 2));
    ck_assert_uint_eq(rf_raft_term(h.r), 2);
    rf_raft_close(h.r);
}
END_TEST

static void narrow_pipe(rf_raft_config *c)
{
    c->inflight_max = 2;
    c->append_entries_max = 8;
}

START_TEST(test_acks_keep_the_pipeline_moving_between_heartbeats)
{
    /* Each acknowledgement must make room for the next appends at once,
     * not at the next heartbeat. */
    tnet t;
    tnet_init(&t, 3, narrow_pipe);
    uint64_t l = tnet_wait_leader(&t, 1000);
    uint64_t f = l == 1 ? 2 : 1;
    tnet_isolate(&t, f, true);
    for (uint64_t i = 1; i <= 200; i++)
        rf_raft_propose(t.r[l], i, 1, i, i, (const uint8_t *)"inc", 3);
    tnet_run(&t, 20);
    tnet_isolate(&t, f, false);
    /* One heartbeat round (10 ms) tells the leader the follower lacks
     * entries; from there acknowledgements alone carry the catch-up. */
    tnet_run(&t, 11);
    ck_assert_uint_eq(rf_raft_last_index(t.r[f]), rf_raft_last_index(t.r[l]));
    tnet_free(&t);
}
END_TEST

START_TEST(test_replication_commits_many_commands_on_all_members)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    for (uint64_t i = 1; i <= 500; i++)
        ck_assert_int_eq(rf_raft_propose(t.r[l], i, 1, i, i, (const uint8_t *)"inc", 3), RF_OK);
    tnet_run(&t, 50);
    for (uint64_t id = 1; id <= 3; id++) {
        ck_assert_uint_eq(rf_raft_applied_index(t.r[id]), rf_raft_last_index(t.r[l]));
        ck_assert_uint_eq(rf_raft_digest(t.r[id]), rf_raft_digest(t.r[l]));
    }
    const tnet_reply *p = tnet_reply_for(&t, 500);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->data, "499");
    tnet_free(&t);
}
END_TEST

static void lazy(rf_raft_config *c)
{
    c->lazy_commit = true;
}

static uint64_t other_follower(uint64_t l, uint64_t not)
{
    for (uint64_t id = 1; id <= 3; id++)
        if (id != l && id != not)
            return id;
    return 0;
}

/* With lazy_commit a new commit index reaches the followers with the next
 * heartbeat, not with an append of its own; without, at once. */
START_TEST(test_lazy_commit_rides_on_the_next_heartbeat)
{
    for (int on = 0; on < 2; on++) {
        tnet t;
        memset(&t, 0, sizeof(t));
        tnet_init(&t, 3, on ? lazy : NULL);
        uint64_t l = tnet_wait_leader(&t, 1000);
        tnet_run(&t, 30);
        uint64_t appends = t.msgs_by_type[RF_MSG_APPEND];
        ck_assert_int_eq(tnet_propose(&t, l, 1, 9, 1, "inc"), RF_OK);
        uint64_t last = rf_raft_last_index(t.r[l]);
        ck_assert_uint_eq(rf_raft_commit_index(t.r[l]), last);
        uint64_t f = other_follower(l, 0);
        if (on) {
            ck_assert_uint_eq(t.msgs_by_type[RF_MSG_APPEND] - appends, 2); /* the entry only */
            ck_assert_uint_lt(rf_raft_commit_index(t.r[f]), last);
            tnet_run(&t, 11); /* a heartbeat interval */
        } else {
            ck_assert_uint_eq(t.msgs_by_type[RF_MSG_APPEND] - appends, 4);
        }
        ck_assert_uint_eq(rf_raft_commit_index(t.r[f]), last);
        ck_assert_uint_eq(rf_raft_applied_index(t.r[f]), last);
        tnet_free(&t);
    }
}
END_TEST

/* rf_raft_settled holds once every follower holds every entry and all is
 * applied; a follower that misses an entry keeps it false, unless it is
 * reported unreachable and the others still make a majority. A follower
 * takes a commit from rf_raft_leader_commit only from its leader, in its
 * term, and never past its last entry. */
START_TEST(test_settled_leader_and_the_commit_it_hands_out)
{
    tnet t;
    memset(&t, 0, sizeof(t));
    tnet_init(&t, 3, lazy);
    uint64_t l = tnet_wait_leader(&t, 1000);
    tnet_run(&t, 30);
    ck_assert(rf_raft_settled(t.r[l]));
    uint64_t a = other_follower(l, 0), b = other_follower(l, a);
    ck_assert(!rf_raft_settled(t.r[a]));
    /* b misses an entry: committed by l and a, but not settled. */
    t.cut[l][b] = true;
    ck_assert_int_eq(tnet_propose(&t, l, 1, 9, 1, "inc"), RF_OK);
    uint64_t last = rf_raft_last_index(t.r[l]);
    ck_assert_uint_eq(rf_raft_commit_index(t.r[l]), last);
    ck_assert(!rf_raft_settled(t.r[l]));
    /* The heartbeat's commit for b stops at b's match. */
    ck_assert_uint_eq(rf_raft_commit_for(t.r[l], a), last);
    ck_assert_uint_eq(rf_raft_commit_for(t.r[l], b), rf_raft_last_index(t.r[b]));
    ck_assert_uint_lt(rf_raft_commit_for(t.r[l], b), last);
    ck_assert_uint_eq(rf_raft_commit_for(t.r[a], l), 0); /* not a leader */
    /* b reported unreachable: a and l, a majority, hold it all. */
    rf_raft_peer_unreachable(t.r[l], b);
    ck_assert(rf_raft_quorum_reachable(t.r[l]));
    ck_assert(rf_raft_settled(t.r[l]));
    /* a too: no majority left, neither settled nor reachable. */
    rf_raft_peer_unreachable(t.r[l], a);
    ck_assert(!rf_raft_quorum_reachable(t.r[l]));
    ck_assert(!rf_raft_settled(t.r[l]));
    rf_raft_peer_reachable(t.r[l], a);
    rf_raft_peer_reachable(t.r[l], b);
    t.cut[l][b] = false;
    ck_assert_int_eq(tnet_propose(&t, l, 2, 9, 2, "inc"), RF_OK);
    last = rf_raft_last_index(t.r[l]);
    ck_assert_uint_eq(rf_raft_last_index(t.r[b]), last);
    ck_assert(rf_raft_settled(t.r[l]));
    ck_assert_uint_lt(rf_raft_commit_index(t.r[b]), last);
    /* Not from another member, nor of another term. */
    uint64_t term = rf_raft_term(t.r[l]);
    rf_raft_leader_commit(t.r[b], a, term, last);
    rf_raft_leader_commit(t.r[b], l, term + 1, last);
    ck_assert_uint_lt(rf_raft_commit_index(t.r[b]), last);
    /* From its leader: taken, but never past its own last entry. */
    rf_raft_leader_commit(t.r[b], l, term, last + 5);
    ck_assert_uint_eq(rf_raft_commit_index(t.r[b]), last);
    tnet_settle(&t);
    ck_assert_uint_eq(rf_raft_applied_index(t.r[b]), last);
    /* A proposal in flight unsettles the leader. */
    ck_assert_int_eq(rf_raft_propose(t.r[l], 3, 9, 3, 3, (const uint8_t *)"inc", 3), RF_OK);
    ck_assert(!rf_raft_settled(t.r[l]));
    tnet_settle(&t);
    ck_assert(rf_raft_settled(t.r[l]));
    tnet_free(&t);
}
END_TEST

Suite *raft_replication_suite(void)
{
    Suite *s = suite_create("raft_replication");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_figure7_follower_logs_converge_to_leader, 0, 6);
    tcase_add_test(tc, test_figure8_old_term_entry_not_committed_by_counting);
    tcase_add_test(tc, test_follower_keeps_entries_a_stale_append_repeats);
    tcase_add_test(tc, test_follower_truncates_conflict_and_commit_stops_at_last_new_entry);
    tcase_add_test(tc, test_follower_reject_hints_first_index_of_conflicting_term);
    tcase_add_test(tc, test_replication_commits_many_commands_on_all_members);
    tcase_add_test(tc, test_snapshot_covering_own_log_keeps_later_entries);
    tcase_add_test(tc, test_leader_pipelines_several_batched_appends);
    tcase_add_test(tc, test_held_ack_dropped_when_term_moves_on_before_persist);
    tcase_add_test(tc, test_acks_keep_the_pipeline_moving_between_heartbeats);
    tcase_add_test(tc, test_lost_append_acks_are_recovered_without_new_proposals);
    tcase_add_test(tc, test_lazy_commit_rides_on_the_next_heartbeat);
    tcase_add_test(tc, test_settled_leader_and_the_commit_it_hands_out);
    suite_add_tcase(s, tc);
    return s;
}

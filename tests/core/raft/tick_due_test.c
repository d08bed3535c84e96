/* Tests of rf_raft_tick_due_ns: before it, a tick only moves the clock; at it, the tick has work. */
#include <check.h>
#include <stdint.h>

#include "base/rf_err.h"
#include "raft/raft.h"
#include "tests/core/raft/tnet.h"

typedef struct seen {
    uint64_t term, leader, commit;
    rf_role role;
} seen;

static seen look(const rf_raft *r)
{
    seen s = {rf_raft_term(r), rf_raft_leader(r), rf_raft_commit_index(r), rf_raft_role(r)};
    return s;
}

/* Ticks every member 1 ms at a time like tnet_run, and checks each tick
 * against the due time read just before it. Returns the ticks that had work. */
static int run_checked(tnet *t, uint64_t ms)
{
    int busy = 0;
    for (uint64_t i = 0; i < ms; i++) {
        t->now += TNET_MS;
        for (uint64_t id = 1; id <= TNET_NODES; id++) {
            rf_raft *r = t->r[id];
            if (r == NULL || rf_raft_has_ready(r))
                continue;
            uint64_t due = rf_raft_tick_due_ns(r);
            seen before = look(r);
            rf_raft_tick(r, t->now);
            seen after = look(r);
            if (due > t->now) {
                /* Not due: nothing but the clock moved. */
                ck_assert_msg(!rf_raft_has_ready(r), "n%lu had output at %lu before its due time %lu",
                              (unsigned long)id, (unsigned long)t->now, (unsigned long)due);
                ck_assert_uint_eq(after.term, before.term);
                ck_assert_uint_eq(after.leader, before.leader);
                ck_assert_uint_eq(after.commit, before.commit);
                ck_assert_int_eq(after.role, before.role);
            } else {
                busy++;
            }
        }
        tnet_settle(t);
    }
    return busy;
}

/* A heartbeat interval that does not divide the election timeout, so the
 * leader's timers (heartbeat, check-quorum) fall on different ticks. */
static void odd_heartbeat(rf_raft_config *c)
{
    c->heartbeat_interval_ns = 7 * TNET_MS;
}

START_TEST(test_tick_before_due_time_only_moves_the_clock)
{
    tnet t;
    tnet_init(&t, 3, odd_heartbeat);
    ck_assert_int_gt(run_checked(&t, 400), 0);
    uint64_t l = tnet_leader(&t);
    ck_assert_uint_ne(l, 0);
    ck_assert_int_eq(tnet_propose(&t, l, 1, 9, 1, "inc"), RF_OK);
    run_checked(&t, 100);
    /* The leader cut off: check-quorum, elections, a new leader. */
    tnet_isolate(&t, l, true);
    run_checked(&t, 600);
    tnet_isolate(&t, l, false);
    run_checked(&t, 400);
    ck_assert_uint_ne(tnet_leader(&t), 0);
    tnet_free(&t);
}
END_TEST

START_TEST(test_due_time_follows_role)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    ck_assert_uint_ne(l, 0);
    for (uint64_t id = 1; id <= 3; id++) {
        /* A follower that heard from its leader since its last tick is due
         * at once (the contact is timed at the next tick); tick it first. */
        if (id != l && rf_raft_tick_due_ns(t.r[id]) == 0) {
            rf_raft_tick(t.r[id], t.now);
            ck_assert(!rf_raft_has_ready(t.r[id]));
        }
        uint64_t due = rf_raft_tick_due_ns(t.r[id]);
        ck_assert_uint_gt(due, t.now);
        /* A leader's next heartbeat, a follower's election deadline. */
        uint64_t horizon = id == l ? 10 * TNET_MS : 200 * TNET_MS;
        ck_assert_uint_le(due, t.now + horizon);
    }
    /* At its due time the leader's tick has work: a heartbeat round. */
    uint64_t due = rf_raft_tick_due_ns(t.r[l]);
    rf_raft_tick(t.r[l], due);
    ck_assert(rf_raft_has_ready(t.r[l]));
    tnet_settle(&t);
    /* An empty member waiting to be added never campaigns: no timer. */
    tnet_add_empty(&t, 4);
    rf_raft_tick(t.r[4], t.now); /* its first tick starts the clock */
    tnet_settle(&t);
    ck_assert_uint_eq(rf_raft_tick_due_ns(t.r[4]), UINT64_MAX);
    tnet_free(&t);
}
END_TEST

Suite *raft_tick_due_suite(void)
{
    Suite *s = suite_create("raft_tick_due");
    TCase *tc = tcase_create("tick_due");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_tick_before_due_time_only_moves_the_clock);
    tcase_add_test(tc, test_due_time_follows_role);
    suite_add_tcase(s, tc);
    return s;
}

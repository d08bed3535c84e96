/* Tests of core/raft client paths: snapshots, ReadIndex and lease reads, de-duplication. */
#include <check.h>
#include <string.h>

#include "base/rf_err.h"
#include "model/rf_model.h"
#include "raft/raft.h"
#include "tests/core/raft/tnet.h"

static void small_chunks(rf_raft_config *c)
{
    c->snapshot_threshold = 20;
    c->snapshot_chunk_bytes_max = 16;
}

START_TEST(test_lagging_member_installs_snapshot_in_bounded_chunks)
{
    tnet t;
    tnet_init(&t, 3, small_chunks);
    uint64_t l = tnet_wait_leader(&t, 1000);
    uint64_t f = l == 1 ? 2 : 1;
    tnet_isolate(&t, f, true);
    /* Many clients, so the snapshot (de-dup table + model) spans chunks. */
    for (uint64_t i = 1; i <= 100; i++)
        ck_assert_int_eq(rf_raft_propose(t.r[l], i, i, 1, 1, (const uint8_t *)"inc", 3), RF_OK);
    tnet_run(&t, 50);
    ck_assert_uint_gt(rf_raft_snapshot_index(t.r[l]), rf_raft_last_index(t.r[f]));
    t.snap_chunk_max = 0;
    uint64_t before = t.msgs_by_type[RF_MSG_SNAPSHOT];
    tnet_isolate(&t, f, false);
    tnet_run(&t, 300);
    ck_assert_uint_gt(t.msgs_by_type[RF_MSG_SNAPSHOT] - before, 10);
    ck_assert_uint_le(t.snap_chunk_max, 16);
    ck_assert_int_ge(t.obs_count[f][RF_OBS_SNAPSHOT_INSTALLED], 1);
    ck_assert_uint_eq(rf_raft_applied_index(t.r[f]), rf_raft_applied_index(t.r[l]));
    ck_assert_uint_eq(rf_raft_digest(t.r[f]), rf_raft_digest(t.r[l]));
    /* The de-dup table came with the snapshot: a retry at the caught-up
     * member, once leader, is answered from it. */
    ck_assert_int_eq(rf_raft_transfer(t.r[l], 500, f), RF_OK);
    tnet_run(&t, 50);
    ck_assert_uint_eq(tnet_leader(&t), f);
    ck_assert_int_eq(tnet_propose(&t, f, 501, 7, 1, "inc"), RF_OK);
    ck_assert_str_eq(tnet_reply_for(&t, 501)->data, tnet_reply_for(&t, 7)->data);
    tnet_free(&t);
}
END_TEST

START_TEST(test_new_member_joins_from_snapshot)
{
    tnet t;
    tnet_init(&t, 3, small_chunks);
    uint64_t l = tnet_wait_leader(&t, 1000);
    for (uint64_t i = 1; i <= 60; i++)
        rf_raft_propose(t.r[l], i, 1, i, i, (const uint8_t *)"inc", 3);
    tnet_run(&t, 50);
    ck_assert_uint_gt(rf_raft_snapshot_index(t.r[l]), 0);
    tnet_add_empty(&t, 5);
    ck_assert_int_eq(rf_raft_add_learner(t.r[l], 100, 5), RF_OK);
    tnet_run(&t, 300);
    ck_assert_int_ge(t.obs_count[5][RF_OBS_SNAPSHOT_INSTALLED], 1);
    ck_assert_uint_eq(rf_raft_digest(t.r[5]), rf_raft_digest(t.r[l]));
    ck_assert_int_eq(rf_raft_promote(t.r[l], 101, 5), RF_OK);
    tnet_run(&t, 50);
    ck_assert_int_eq(tnet_reply_for(&t, 101)->status, RF_OK);
    tnet_free(&t);
}
END_TEST

static int count_type(const rf_ready *rd, uint8_t type)
{
    int n = 0;
    for (size_t i = 0; i < rd->n_msgs; i++)
        n += rd->msgs[i].msg.type == type;
    return n;
}

/* A 3-node group whose leader applied "set 41" and heard a heartbeat
 * round acknowledged since (its lease holds, unless tweak turns it off). */
static uint64_t leader_holding_41(tnet *t, void (*tweak)(rf_raft_config *))
{
    tnet_init(t, 3, tweak);
    uint64_t l = tnet_wait_leader(t, 1000);
    tnet_propose(t, l, 1, 1, 1, "set 41");
    tnet_run(t, 15);
    return l;
}

/* The batch holds exactly one reply: request 2's "41". */
static void assert_one_reply_41(const rf_ready *rd)
{
    ck_assert_uint_eq(rd->n_replies, 1);
    ck_assert_uint_eq(rd->replies[0].request_id, 2);
    ck_assert_int_eq(rd->replies[0].status, RF_OK);
    ck_assert_mem_eq(rd->replies[0].data, "41", 2);
}

START_TEST(test_read_within_lease_answers_without_a_heartbeat_round)
{
    tnet t;
    uint64_t l = leader_holding_41(&t, NULL);
    ck_assert_int_eq(rf_raft_read(t.r[l], 2, (const uint8_t *)"get", 3), RF_OK);
    ck_assert(!rf_raft_has_ready(t.r[l])); /* waits for a fresh clock */
    rf_raft_tick(t.r[l], t.now + TNET_MS);
    rf_ready rd;
    rf_raft_ready(t.r[l], &rd);
    ck_assert_int_eq(count_type(&rd, RF_MSG_HEARTBEAT), 0);
    assert_one_reply_41(&rd);
    rf_raft_advance(t.r[l]);
    tnet_free(&t);
}
END_TEST

/* A driver frees an idle member's buffers when its group goes quiet, which
 * may come between an input that queued a reply and the next batch (fuzz
 * seed 478: rf_node's tick queued a reply of the metadata leader, then the
 * same tick put the group to sleep): what is queued must survive it. */
START_TEST(test_release_memory_keeps_the_outputs_not_taken_yet)
{
    tnet t;
    uint64_t l = leader_holding_41(&t, NULL);
    ck_assert_int_eq(rf_raft_read(t.r[l], 2, (const uint8_t *)"get", 3), RF_OK);
    rf_raft_tick(t.r[l], t.now + TNET_MS); /* the lease read is answered: a reply is queued */
    ck_assert(rf_raft_has_ready(t.r[l]));
    rf_raft_release_memory(t.r[l]);
    rf_ready rd;
    rf_raft_ready(t.r[l], &rd);
    assert_one_reply_41(&rd);
    rf_raft_advance(t.r[l]);
    rf_raft_release_memory(t.r[l]); /* nothing queued: everything goes */
    tnet_free(&t);
}
END_TEST

static void no_lease(rf_raft_config *c)
{
    c->lease_drift_ns = c->election_timeout_ns; /* disables the lease */
}

/* A command's or a read's reply takes its own bytes in the output arena, not
 * the model's maximum: a driver frees an idle member's buffers, and each
 * wake-up would otherwise allocate (and fault in) 128 KiB per member. */
START_TEST(test_replies_take_only_their_bytes_in_the_arena)
{
    tnet t;
    uint64_t l = leader_holding_41(&t, NULL);
    size_t before[TNET_NODES + 1];
    for (uint64_t i = 1; i <= 3; i++) {
        ck_assert(!rf_raft_has_ready(t.r[i]));
        rf_raft_release_memory(t.r[i]);
        before[i] = rf_raft_memory(t.r[i]);
    }
    ck_assert_int_eq(tnet_propose(&t, l, 2, 1, 2, "inc"), RF_OK);
    tnet_run(&t, 15); /* the followers learn the commit and apply it too */
    ck_assert_str_eq(tnet_reply_for(&t, 2)->data, "41"); /* the old value */
    ck_assert_int_eq(rf_raft_read(t.r[l], 3, (const uint8_t *)"get", 3), RF_OK);
    tnet_run(&t, 15);
    ck_assert_str_eq(tnet_reply_for(&t, 3)->data, "42");
    for (uint64_t i = 1; i <= 3; i++) {
        ck_assert_uint_eq(rf_raft_applied_index(t.r[i]), rf_raft_applied_index(t.r[l]));
        size_t after = rf_raft_memory(t.r[i]);
        ck_assert_uint_lt(after > before[i] ? after - before[i] : 0, RF_MODEL_REPLY_MAX / 4);
    }
    tnet_free(&t);
}
END_TEST

START_TEST(test_read_without_lease_waits_for_quorum_round)
{
    tnet t;
    uint64_t l = leader_holding_41(&t, no_lease);
    ck_assert_int_eq(rf_raft_read(t.r[l], 2, (const uint8_t *)"get", 3), RF_OK);
    rf_ready rd;
    rf_raft_ready(t.r[l], &rd);
    ck_assert_int_eq(count_type(&rd, RF_MSG_HEARTBEAT), 2); /* a round to confirm */
    ck_assert_uint_eq(rd.n_replies, 0);
    rf_raft_advance(t.r[l]); /* (those heartbeats are dropped here) */
    tnet_settle(&t);
    ck_assert_ptr_null(tnet_reply_for(&t, 2));
    tnet_run(&t, 12); /* the next round confirms it */
    ck_assert_str_eq(tnet_reply_for(&t, 2)->data, "41");
    /* A leader cut off from its quorum never answers a read; it steps
     * down and the read fails (retry elsewhere). */
    tnet_isolate(&t, l, true);
    ck_assert_int_eq(rf_raft_read(t.r[l], 3, (const uint8_t *)"get", 3), RF_OK);
    tnet_run(&t, 50);
    ck_assert_ptr_null(tnet_reply_for(&t, 3));
    tnet_run(&t, 200);
    ck_assert_int_eq(tnet_reply_for(&t, 3)->status, RF_ENOTLEADER);
    tnet_free(&t);
}
END_TEST

START_TEST(test_stale_leader_in_minority_serves_no_lease_read_after_new_election)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    tnet_propose(&t, l, 1, 1, 1, "set 1");
    tnet_run(&t, 15);
    tnet_isolate(&t, l, true);
    tnet_run(&t, 100); /* lease = T - drift = 90 ms: expired */
    ck_assert_int_eq(rf_raft_read(t.r[l], 2, (const uint8_t *)"get", 3), RF_OK);
    tnet_settle(&t);
    ck_assert_ptr_null(tnet_reply_for(&t, 2));
    tnet_free(&t);
}
END_TEST

START_TEST(test_lease_read_after_a_pause_is_not_answered_from_a_stale_clock)
{
    /* The leader's process stalls: a read is stepped before any tick tells
     * it how much time passed. It must not trust its lease then. */
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    tnet_propose(&t, l, 1, 1, 1, "set 7");
    tnet_run(&t, 15);
    /* The others move on without it for a long time (its ticks stop). */
    tnet_isolate(&t, l, true);
    rf_raft *paused = t.r[l];
    t.r[l] = NULL;
    tnet_run(&t, 400);
    t.r[l] = paused;
    ck_assert_int_eq(rf_raft_read(paused, 2, (const uint8_t *)"get", 3), RF_OK);
    tnet_settle(&t);
    ck_assert_ptr_null(tnet_reply_for(&t, 2));
    tnet_run(&t, 1); /* the tick brings the real time: lease expired */
    ck_assert_ptr_null(tnet_reply_for(&t, 2));
    tnet_run(&t, 300);
    ck_assert_int_eq(tnet_reply_for(&t, 2)->status, RF_ENOTLEADER);
    tnet_free(&t);
}
END_TEST

START_TEST(test_retry_across_leader_change_applies_once)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    tnet_propose(&t, l, 1, 42, 1, "set 10");
    tnet_run(&t, 10);
    ck_assert_int_eq(tnet_propose(&t, l, 2, 42, 2, "inc"), RF_OK);
    tnet_run(&t, 10);
    ck_assert_str_eq(tnet_reply_for(&t, 2)->data, "10");
    /* The client did not see the reply; meanwhile leadership moves. */
    uint64_t target = l == 3 ? 1 : l + 1;
    rf_raft_transfer(t.r[l], 3, target);
    tnet_run(&t, 30);
    ck_assert_uint_eq(tnet_leader(&t), target);
    ck_assert_int_eq(tnet_propose(&t, target, 4, 42, 2, "inc"), RF_OK);
    tnet_run(&t, 10);
    ck_assert_int_eq(tnet_reply_for(&t, 4)->status, RF_OK);
    ck_assert_str_eq(tnet_reply_for(&t, 4)->data, "10"); /* the original reply */
    rf_raft_read(t.r[target], 5, (const uint8_t *)"get", 3);
    tnet_run(&t, 10);
    ck_assert_str_eq(tnet_reply_for(&t, 5)->data, "11"); /* applied once */
    tnet_free(&t);
}
END_TEST

START_TEST(test_retry_before_commit_is_logged_twice_but_applied_once)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    uint64_t last0 = rf_raft_last_index(t.r[l]);
    rf_raft_propose(t.r[l], 1, 9, 1, 1, (const uint8_t *)"inc", 3);
    rf_raft_propose(t.r[l], 2, 9, 1, 1, (const uint8_t *)"inc", 3);
    tnet_run(&t, 10);
    ck_assert_uint_eq(rf_raft_last_index(t.r[l]), last0 + 2);
    ck_assert_str_eq(tnet_reply_for(&t, 1)->data, "0");
    ck_assert_str_eq(tnet_reply_for(&t, 2)->data, "0");
    rf_raft_read(t.r[l], 3, (const uint8_t *)"get", 3);
    tnet_run(&t, 10);
    ck_assert_str_eq(tnet_reply_for(&t, 3)->data, "1");
    tnet_free(&t);
}
END_TEST

static void tiny_dedup(rf_raft_config *c)
{
    c->dedup_sessions_max = 4;
}

START_TEST(test_dedup_table_is_bounded_and_evicts_least_recent_client)
{
    tnet t;
    tnet_init(&t, 1, tiny_dedup);
    tnet_wait_leader(&t, 500);
    for (uint64_t c = 1; c <= 6; c++)
        tnet_propose(&t, 1, c, c, 1, "inc");
    rf_raft_counters ctr;
    rf_raft_counters_get(t.r[1], &ctr);
    ck_assert_uint_eq(ctr.dedup_evictions, 2);
    /* A recent client's retry is still recognised. */
    tnet_propose(&t, 1, 100, 6, 1, "inc");
    ck_assert_str_eq(tnet_reply_for(&t, 100)->data, "5");
    /* An older sequence than the last one is refused. */
    tnet_propose(&t, 1, 101, 6, 2, "inc");
    tnet_propose(&t, 1, 102, 6, 1, "inc");
    ck_assert_int_eq(tnet_reply_for(&t, 102)->status, RF_ESESSION);
    tnet_free(&t);
}
END_TEST

/* Many clients re-applying in a scrambled order: the table keeps exactly
 * the dedup_sessions_max sessions applied most recently (the eviction order
 * is kept in apply order, not found by a scan), through many evictions. */
START_TEST(test_dedup_eviction_follows_apply_order_over_many_clients)
{
    tnet t;
    tnet_init(&t, 1, tiny_dedup);
    tnet_wait_leader(&t, 500);
    enum { CLIENTS = 12, OPS = 300 };
    uint64_t seq[CLIENTS + 1] = {0}, last[CLIENTS + 1] = {0};
    uint32_t x = 12345;
    uint64_t evictions = 0, remembered = 0;
    for (uint64_t op = 1; op <= OPS; op++) {
        x = x * 1103515245u + 12345u;
        uint64_t c = 1 + (x >> 16) % CLIENTS;
        /* The model: a client not among the 4 most recent is evicted
         * when a fifth one is stored. */
        bool known = last[c] != 0 && remembered > 0;
        if (known) {
            size_t newer = 0;
            for (uint64_t k = 1; k <= CLIENTS; k++)
                newer += last[k] > last[c];
            known = newer < 4;
        }
        if (!known && remembered == 4)
            evictions++;
        else if (!known)
            remembered++;
        last[c] = op;
        tnet_propose(&t, 1, op, c, ++seq[c], "inc");
    }
    rf_raft_counters ctr;
    rf_raft_counters_get(t.r[1], &ctr);
    ck_assert_uint_eq(ctr.dedup_evictions, evictions);
    /* Retries: the 4 most recent clients are recognised, the others not. */
    uint64_t hits0 = ctr.dedup_hits;
    for (uint64_t c = 1; c <= CLIENTS; c++) {
        size_t newer = 0;
        for (uint64_t k = 1; k <= CLIENTS; k++)
            newer += last[k] > last[c];
        if (last[c] == 0 || newer != 3)
            continue;
        tnet_propose(&t, 1, 1000 + c, c, seq[c], "inc");
    }
    rf_raft_counters_get(t.r[1], &ctr);
    ck_assert_uint_eq(ctr.dedup_hits, hits0 + 1);
    uint64_t oldest = 0;
    for (uint64_t c = 1; c <= CLIENTS; c++) {
        size_t newer = 0;
        for (uint64_t k = 1; k <= CLIENTS; k++)
            newer += last[k] > last[c];
        if (last[c] != 0 && newer == 4)
            oldest = c;
    }
    ck_assert_uint_ne(oldest, 0);
    tnet_propose(&t, 1, 2000, oldest, seq[oldest], "inc");
    rf_raft_counters_get(t.r[1], &ctr);
    ck_assert_uint_eq(ctr.dedup_hits, hits0 + 1); /* evicted: applied again */
    tnet_free(&t);
}
END_TEST

Suite *raft_client_suite(void)
{
    Suite *s = suite_create("raft_client");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_lagging_member_installs_snapshot_in_bounded_chunks);
    tcase_add_test(tc, test_new_member_joins_from_snapshot);
    tcase_add_test(tc, test_read_within_lease_answers_without_a_heartbeat_round);
    tcase_add_test(tc, test_release_memory_keeps_the_outputs_not_taken_yet);
    tcase_add_test(tc, test_replies_take_only_their_bytes_in_the_arena);
    tcase_add_test(tc, test_read_without_lease_waits_for_quorum_round);
    tcase_add_test(tc, test_stale_leader_in_minority_serves_no_lease_read_after_new_election);
    tcase_add_test(tc, test_lease_read_after_a_pause_is_not_answered_from_a_stale_clock);
    tcase_add_test(tc, test_retry_across_leader_change_applies_once);
    tcase_add_test(tc, test_retry_before_commit_is_logged_twice_but_applied_once);
    tcase_add_test(tc, test_dedup_table_is_bounded_and_evicts_least_recent_client);
    tcase_add_test(tc, test_dedup_eviction_follows_apply_order_over_many_clients);
    suite_add_tcase(s, tc);
    return s;
}

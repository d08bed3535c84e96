/* Tests of core/raft/session.c: client sessions with many commands in flight, the acknowledged floor, eviction, encodings. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "raft/raft.h"
#include "raft/raft_int.h"
#include "tests/core/raft/tnet.h"

/* ---- a one-member group driven by hand, with room for many replies ---- */

#define SOLO_REQS 40000u

typedef struct solo {
    rf_raft *r;
    uint64_t now;
    bool got[SOLO_REQS];
    int status[SOLO_REQS];
    long value[SOLO_REQS];   /* the int model's reply, -1 when empty */
    uint64_t fresh_commands; /* commands applied to the model (not duplicates) */
} solo;

static void solo_drain(solo *s)
{
    while (rf_raft_has_ready(s->r)) {
        rf_ready rd;
        rf_raft_ready(s->r, &rd);
        for (size_t i = 0; i < rd.n_replies; i++) {
            const rf_reply *p = &rd.replies[i];
            ck_assert_uint_lt(p->request_id, SOLO_REQS);
            ck_assert_msg(!s->got[p->request_id], "two replies for %llu",
                          (unsigned long long)p->request_id);
            char buf[32] = {0};
            memcpy(buf, p->data, p->len < 31 ? p->len : 31);
            s->got[p->request_id] = true;
            s->status[p->request_id] = p->status;
            s->value[p->request_id] = p->len ? atol(buf) : -1;
        }
        for (size_t i = 0; i < rd.n_applied; i++)
            s->fresh_commands += rd.applied[i].kind == RF_ENTRY_COMMAND && !rd.applied[i].duplicate;
        uint64_t token = rd.persist_token;
        rf_raft_advance(s->r);
        if (token)
            rf_raft_persisted(s->r, token);
    }
}

static solo *solo_new(uint32_t sessions_max)
{
    solo *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    rf_raft_config c;
    tnet_config(&c, 1);
    c.snapshot_threshold = 0;
    if (sessions_max)
        c.dedup_sessions_max = sessions_max;
    rf_membership m = {.count = 1, .members = {{.id = 1, .voter = 1}}};
    ck_assert_int_eq(rf_raft_bootstrap(&c, &m, &s->r), RF_OK);
    for (int i = 0; i < 1000 && rf_raft_role(s->r) != RF_ROLE_LEADER; i++) {
        rf_raft_tick(s->r, s->now += TNET_MS);
        solo_drain(s);
    }
    ck_assert_int_eq(rf_raft_role(s->r), RF_ROLE_LEADER);
    return s;
}

static void solo_free(solo *s)
{
    rf_raft_close(s->r);
    free(s);
}

static void propose(solo *s, uint64_t req, uint64_t client, uint64_t seq, uint64_t floor)
{
    (void)rf_raft_propose(s->r, req, client, seq, floor, (const uint8_t *)"inc", 3);
}

/* The group's value through a read (request req). */
static long solo_get(solo *s, uint64_t req)
{
    ck_assert_int_eq(rf_raft_read(s->r, req, (const uint8_t *)"get", 3), RF_OK);
    rf_raft_tick(s->r, s->now += TNET_MS);
    solo_drain(s);
    ck_assert(s->got[req]);
    ck_assert_int_eq(s->status[req], RF_OK);
    return s->value[req];
}

static uint64_t hits(const solo *s)
{
    rf_raft_counters c;
    rf_raft_counters_get(s->r, &c);
    return c.dedup_hits;
}

/* ---- sessions ---------------------------------------------------------- */

/* One session, 5,000 commands in flight at once (nothing acknowledged: the
 * floor stays 1). Retries of all of them while they are still in the log
 * (answered at apply), then again after all applied (answered at
 * propose): each command applied once, every retry gets the original
 * reply. One command at a time per client would refuse all but the last. */
START_TEST(test_session_many_in_flight_apply_once_and_retries_get_original_replies)
{
    enum { N = 5000 };
    solo *s = solo_new(0);
    for (uint64_t k = 1; k <= N; k++)
        propose(s, k, 7, k, 1);
    for (uint64_t k = 1; k <= N; k++)
        propose(s, N + k, 7, k, 1); /* retries before anything applied */
    solo_drain(s);
    ck_assert_uint_eq(s->fresh_commands, N);
    ck_assert_uint_eq(hits(s), N);
    for (uint64_t k = 1; k <= N; k++) {
        ck_assert(s->got[k] && s->got[N + k]);
        ck_assert_int_eq(s->status[k], RF_OK);
        ck_assert_int_eq(s->value[k], (long)k - 1);
        ck_assert_int_eq(s->status[N + k], RF_OK);
        ck_assert_int_eq(s->value[N + k], (long)k - 1);
    }
    for (uint64_t k = 1; k <= N; k++)
        propose(s, 2 * N + k, 7, k, 1); /* retries after all applied */
    solo_drain(s);
    for (uint64_t k = 1; k <= N; k++) {
        ck_assert(s->got[2 * N + k]);
        ck_assert_int_eq(s->status[2 * N + k], RF_OK);
        ck_assert_int_eq(s->value[2 * N + k], (long)k - 1);
    }
    ck_assert_uint_eq(hits(s), 2 * N);
    ck_assert_uint_eq(s->fresh_commands, N);
    ck_assert_int_eq(solo_get(s, 3 * N + 1), N);
    solo_free(s);
}
END_TEST

/* The floor: replies below it are forgotten, and a sequence below it is
 * refused with RF_ESESSION and never applied, at propose and at apply.
 * Replies at or above it stay. */
START_TEST(test_session_floor_forgets_replies_below_it_and_refuses_them)
{
    solo *s = solo_new(0);
    for (uint64_t k = 1; k <= 10; k++)
        propose(s, k, 9, k, 1);
    solo_drain(s);
    propose(s, 11, 9, 11, 6); /* the client has the replies of 1..5 */
    solo_drain(s);
    ck_assert_int_eq(s->value[11], 10);
    ck_assert_int_eq(rf_raft_propose(s->r, 12, 9, 3, 6, (const uint8_t *)"inc", 3), RF_ESESSION);
    solo_drain(s);
    ck_assert_int_eq(s->status[12], RF_ESESSION);
    propose(s, 13, 9, 8, 6); /* kept: at or above the floor */
    solo_drain(s);
    ck_assert_int_eq(s->status[13], RF_OK);
    ck_assert_int_eq(s->value[13], 7);
    propose(s, 14, 9, 5, 1); /* a lower floor does not bring 5 back */
    solo_drain(s);
    ck_assert_int_eq(s->status[14], RF_ESESSION);
    /* At apply: 15 is logged before 20 applies, whose floor is above it. */
    propose(s, 20, 9, 20, 20);
    propose(s, 21, 9, 15, 12);
    solo_drain(s);
    ck_assert_int_eq(s->status[20], RF_OK);
    ck_assert_int_eq(s->value[20], 11);
    ck_assert_int_eq(s->status[21], RF_ESESSION);
    ck_assert_uint_eq(s->fresh_commands, 12);
    ck_assert_int_eq(solo_get(s, 30), 12);
    /* A floor above the sequence counts as the sequence: its own reply is
     * kept for its retries. */
    propose(s, 31, 9, 25, 40);
    propose(s, 32, 9, 25, 40);
    solo_drain(s);
    ck_assert_int_eq(s->value[31], 12);
    ck_assert_int_eq(s->value[32], 12);
    ck_assert_int_eq(solo_get(s, 33), 13);
    solo_free(s);
}
END_TEST

/* At the bound a whole session goes, the least recently applied: the
 * others keep every kept reply. */
START_TEST(test_session_eviction_is_whole_sessions_least_recently_applied_first)
{
    solo *s = solo_new(4);
    uint64_t req = 1;
    for (uint64_t c = 1; c <= 4; c++)
        for (uint64_t k = 1; k <= 3; k++)
            propose(s, req++, c, k, 1); /* requests 1..12: session c's k-th at 3(c-1)+k */
    solo_drain(s);
    propose(s, req++, 1, 4, 1); /* session 1 applied last now: 2 is the oldest */
    solo_drain(s);
    rf_raft_counters ctr;
    rf_raft_counters_get(s->r, &ctr);
    ck_assert_uint_eq(ctr.dedup_evictions, 0);
    propose(s, 100, 5, 1, 1); /* a fifth session */
    solo_drain(s);
    rf_raft_counters_get(s->r, &ctr);
    ck_assert_uint_eq(ctr.dedup_evictions, 1);
    /* Sessions 1, 3 and 4 keep all their replies. */
    static const uint64_t kept[] = {1, 3, 4};
    for (size_t i = 0; i < 3; i++)
        for (uint64_t k = 1; k <= 3; k++) {
            uint64_t orig = 3 * (kept[i] - 1) + k;
            propose(s, 200 + orig, kept[i], k, 1);
            solo_drain(s);
            ck_assert_int_eq(s->status[200 + orig], RF_OK);
            ck_assert_int_eq(s->value[200 + orig], s->value[orig]);
        }
    ck_assert_uint_eq(s->fresh_commands, 14);
    /* Session 2 went whole: a retry of it starts afresh (raft.h: size the
     * table above the sessions in use). */
    propose(s, 300, 2, 1, 1);
    solo_drain(s);
    ck_assert_uint_eq(s->fresh_commands, 15);
    rf_raft_counters_get(s->r, &ctr);
    ck_assert_uint_eq(ctr.dedup_evictions, 2);
    solo_free(s);
}
END_TEST

/* Past RF_RAFT_SESSION_REPLIES_MAX kept replies the oldest goes and the
 * floor rises above it: a retry of it is refused, never applied again. */
START_TEST(test_session_reply_bound_raises_the_floor)
{
    enum { N = RF_RAFT_SESSION_REPLIES_MAX + 2 };
    solo *s = solo_new(0);
    for (uint64_t k = 1; k <= N; k++)
        propose(s, k, 3, k, 1);
    solo_drain(s);
    ck_assert_uint_eq(s->fresh_commands, N);
    propose(s, N + 1, 3, 1, 1);
    propose(s, N + 2, 3, 2, 1);
    propose(s, N + 3, 3, 3, 1);
    solo_drain(s);
    ck_assert_int_eq(s->status[N + 1], RF_ESESSION);
    ck_assert_int_eq(s->status[N + 2], RF_ESESSION);
    ck_assert_int_eq(s->status[N + 3], RF_OK);
    ck_assert_int_eq(s->value[N + 3], 2);
    ck_assert_uint_eq(s->fresh_commands, N);
    solo_free(s);
}
END_TEST

/* ---- the table's encodings --------------------------------------------- */

static void small_snapshots(rf_raft_config *c)
{
    c->snapshot_threshold = 20;
    c->snapshot_chunk_bytes_max = 64;
}

/* A member that missed everything installs the leader's snapshot; once
 * leader, it answers retries from the sessions the snapshot carried:
 * original replies above the floor, RF_ESESSION below it. */
START_TEST(test_session_table_round_trips_through_a_snapshot)
{
    tnet t;
    tnet_init(&t, 3, small_snapshots);
    uint64_t l = tnet_wait_leader(&t, 1000);
    uint64_t f = l == 1 ? 2 : 1;
    tnet_isolate(&t, f, true);
    for (uint64_t k = 1; k <= 30; k++) /* pipelined: nothing acknowledged */
        ck_assert_int_eq(rf_raft_propose(t.r[l], k, 7, k, 1, (const uint8_t *)"inc", 3), RF_OK);
    for (uint64_t k = 1; k <= 5; k++)
        ck_assert_int_eq(rf_raft_propose(t.r[l], 40 + k, 8, k, 1, (const uint8_t *)"inc", 3), RF_OK);
    tnet_settle(&t);
    ck_assert_int_eq(tnet_propose_floor(&t, l, 31, 7, 31, 11, "inc"), RF_OK);
    tnet_run(&t, 50);
    ck_assert_uint_gt(rf_raft_snapshot_index(t.r[l]), rf_raft_last_index(t.r[f]));
    tnet_isolate(&t, f, false);
    tnet_run(&t, 300);
    ck_assert_int_ge(t.obs_count[f][RF_OBS_SNAPSHOT_INSTALLED], 1);
    ck_assert_uint_eq(rf_raft_applied_index(t.r[f]), rf_raft_applied_index(t.r[l]));
    /* The same sessions on both, to the byte. */
    uint8_t *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    ck_assert_int_eq(rf_rft_dedup_encode(t.r[l], &a, &al), RF_OK);
    ck_assert_int_eq(rf_rft_dedup_encode(t.r[f], &b, &bl), RF_OK);
    ck_assert_uint_eq(al, bl);
    ck_assert_mem_eq(a, b, al);
    ck_assert_uint_eq(al, 8 + 2 * 32 + (21 + 5) * 24 + (21 + 5) * 2); /* replies "10".."35" */
    rf_rft_free(t.r[l]->a, a);
    rf_rft_free(t.r[f]->a, b);

    ck_assert_int_eq(rf_raft_transfer(t.r[l], 500, f), RF_OK);
    tnet_run(&t, 50);
    ck_assert_uint_eq(tnet_leader(&t), f);
    ck_assert_int_eq(tnet_propose_floor(&t, f, 501, 7, 15, 11, "inc"), RF_OK);
    ck_assert_int_eq(tnet_reply_for(&t, 501)->status, RF_OK);
    ck_assert_str_eq(tnet_reply_for(&t, 501)->data, tnet_reply_for(&t, 15)->data);
    ck_assert_int_eq(tnet_propose_floor(&t, f, 502, 7, 5, 11, "inc"), RF_ESESSION);
    ck_assert_int_eq(tnet_propose_floor(&t, f, 503, 8, 2, 1, "inc"), RF_OK);
    ck_assert_str_eq(tnet_reply_for(&t, 503)->data, tnet_reply_for(&t, 42)->data);
    rf_raft_read(t.r[f], 504, (const uint8_t *)"get", 3);
    tnet_run(&t, 20);
    ck_assert_str_eq(tnet_reply_for(&t, 504)->data, "36"); /* 31 + 5: nothing twice */
    tnet_free(&t);
}
END_TEST

static uint8_t *put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return p + 8;
}

/* Snapshots of earlier builds hold version 1 of the table (one reply per
 * client): they are still read, each client a session whose floor is its
 * last sequence. */
START_TEST(test_session_reads_version_1_tables_of_earlier_snapshots)
{
    solo *s = solo_new(0);
    propose(s, 1, 4, 1, 1);
    solo_drain(s);
    uint8_t *snap = NULL;
    size_t len = 0;
    ck_assert_int_eq(rf_rft_snap_encode(s->r, &snap, &len), RF_OK);
    ck_assert_uint_eq(snap[2], 2);
    /* The same snapshot with a version 1 table: clients 5 (sequence 9,
     * reply "8") and 6 (sequence 3, status -3, no reply). */
    uint8_t v1[8 + 40 + 1 + 40], *p = v1;
    p = put64(p, 2);
    p = put64(p, 5), p = put64(p, 9), p = put64(p, 100), p = put64(p, 0), p = put64(p, 1);
    *p++ = '8';
    p = put64(p, 6), p = put64(p, 3), p = put64(p, 101), p = put64(p, (uint64_t)-3),
    p = put64(p, 0);
    ck_assert_uint_eq((size_t)(p - v1), sizeof v1);
    uint64_t dl = 0;
    for (int i = 0; i < 8; i++)
        dl |= (uint64_t)snap[8 + i] << (8 * i);
    size_t ml = len - 24 - dl;
    uint8_t *old = malloc(24 + sizeof v1 + ml);
    memcpy(old, snap, 8);
    old[2] = 1;
    put64(old + 8, sizeof v1);
    memcpy(old + 16, v1, sizeof v1);
    memcpy(old + 16 + sizeof v1, snap + 16 + dl, 8 + ml);
    ck_assert_int_eq(rf_rft_snap_load(s->r, old, 24 + sizeof v1 + ml), RF_OK);
    const dedup_reply *d = NULL;
    ck_assert_int_eq(rf_rft_dedup_check(s->r, 5, 9, &d), DEDUP_KEPT);
    ck_assert_int_eq(d->status, 0);
    ck_assert_uint_eq(d->len, 1);
    ck_assert_mem_eq(rf_rft_dedup_reply(d), "8", 1);
    ck_assert_int_eq(rf_rft_dedup_check(s->r, 5, 8, &d), DEDUP_FORGOTTEN);
    ck_assert_int_eq(rf_rft_dedup_check(s->r, 5, 10, &d), DEDUP_NEW);
    ck_assert_int_eq(rf_rft_dedup_check(s->r, 6, 3, &d), DEDUP_KEPT);
    ck_assert_int_eq(d->status, -3);
    ck_assert_int_eq(rf_rft_dedup_check(s->r, 4, 1, &d), DEDUP_NEW); /* replaced */
    /* Version 1 bytes read as version 2, and a version never written, are
     * refused; the table stays as it was. */
    ck_assert_int_eq(rf_rft_dedup_decode(s->r, v1, sizeof v1, 2), RF_EBADMSG);
    ck_assert_int_eq(rf_rft_dedup_decode(s->r, v1, sizeof v1, 3), RF_EBADMSG);
    old[2] = 3;
    ck_assert_int_eq(rf_rft_snap_load(s->r, old, 24 + sizeof v1 + ml), RF_EBADMSG);
    ck_assert_int_eq(rf_rft_dedup_check(s->r, 5, 9, &d), DEDUP_KEPT);
    free(old);
    rf_rft_free(s->r->a, snap);
    solo_free(s);
}
END_TEST

/* Version 2 bytes: a round trip, then damaged copies are refused whole
 * (RF_EBADMSG, the table unchanged), never half-read. */
START_TEST(test_session_table_decode_refuses_damaged_bytes)
{
    solo *s = solo_new(0);
    for (uint64_t k = 1; k <= 6; k++)
        propose(s, k, 11, k, 1);
    propose(s, 7, 12, 1, 1);
    solo_drain(s);
    propose(s, 8, 11, 7, 3);
    solo_drain(s);
    uint8_t *e = NULL, *e2 = NULL;
    size_t el = 0, el2 = 0;
    ck_assert_int_eq(rf_rft_dedup_encode(s->r, &e, &el), RF_OK);
    ck_assert_int_eq(rf_rft_dedup_decode(s->r, e, el, 2), RF_OK);
    ck_assert_int_eq(rf_rft_dedup_encode(s->r, &e2, &el2), RF_OK);
    ck_assert_uint_eq(el, el2);
    ck_assert_mem_eq(e, e2, el);
    /* Session 11 (sorted first): floor 3, replies 3..7. */
    ck_assert_uint_eq(el, 8 + 2 * 32 + 6 * 24 + 6);
    uint8_t *bad = malloc(el);
    for (size_t cut = 0; cut < el; cut++) /* every truncation */
        ck_assert_int_eq(rf_rft_dedup_decode(s->r, e, cut, 2), RF_EBADMSG);
    const size_t first_reply = 8 + 32;
    memcpy(bad, e, el);
    put64(bad + first_reply, 2); /* a kept sequence below the floor */
    ck_assert_int_eq(rf_rft_dedup_decode(s->r, bad, el, 2), RF_EBADMSG);
    memcpy(bad, e, el);
    put64(bad + first_reply + 25, 3); /* the second reply's sequence: not increasing */
    ck_assert_int_eq(rf_rft_dedup_decode(s->r, bad, el, 2), RF_EBADMSG);
    memcpy(bad, e, el);
    put64(bad + 8 + 32 + 5 * 25, 11); /* session 12 renamed 11: twice the same */
    ck_assert_int_eq(rf_rft_dedup_decode(s->r, bad, el, 2), RF_EBADMSG);
    memcpy(bad, e, el);
    put64(bad + 8 + 24, (uint64_t)1 << 40); /* a reply count beyond the bytes */
    ck_assert_int_eq(rf_rft_dedup_decode(s->r, bad, el, 2), RF_EBADMSG);
    const dedup_reply *d = NULL;
    ck_assert_int_eq(rf_rft_dedup_check(s->r, 11, 4, &d), DEDUP_KEPT);
    ck_assert_int_eq(rf_rft_dedup_check(s->r, 11, 2, &d), DEDUP_FORGOTTEN);
    ck_assert_int_eq(rf_rft_dedup_check(s->r, 12, 1, &d), DEDUP_KEPT);
    free(bad);
    rf_rft_free(s->r->a, e);
    rf_rft_free(s->r->a, e2);
    solo_free(s);
}
END_TEST

Suite *raft_session_suite(void)
{
    Suite *s = suite_create("raft_session");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_session_many_in_flight_apply_once_and_retries_get_original_replies);
    tcase_add_test(tc, test_session_floor_forgets_replies_below_it_and_refuses_them);
    tcase_add_test(tc, test_session_eviction_is_whole_sessions_least_recently_applied_first);
    tcase_add_test(tc, test_session_reply_bound_raises_the_floor);
    tcase_add_test(tc, test_session_table_round_trips_through_a_snapshot);
    tcase_add_test(tc, test_session_reads_version_1_tables_of_earlier_snapshots);
    tcase_add_test(tc, test_session_table_decode_refuses_damaged_bytes);
    suite_add_tcase(s, tc);
    return s;
}

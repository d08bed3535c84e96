/* Tests of core/raft/codec.c and of how receive treats malformed input. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "base/rf_pcg.h"
#include "raft/raft.h"
#include "tests/core/raft/tnet.h"

static rf_msg sample(uint8_t type)
{
    static const uint8_t a[] = "set 42";
    static const uint8_t chunk[] = {1, 2, 3, 4, 5, 6, 7};
    static rf_entry ents[3];
    ents[0] = (rf_entry){.index = 8, .term = 3, .kind = RF_ENTRY_COMMAND, .client_id = 9,
                         .sequence = 4, .floor = 2, .data = a, .len = 6};
    ents[1] = (rf_entry){.index = 9, .term = 3, .kind = RF_ENTRY_NOOP};
    ents[2] = (rf_entry){.index = 10, .term = 4, .kind = RF_ENTRY_COMMAND, .data = a, .len = 3};
    rf_msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.group_id = 77;
    m.from = 2;
    m.to = 1;
    m.term = 4;
    m.index = 7;
    m.log_term = 3;
    m.commit = 6;
    m.ctx = 99;
    m.reject = type == RF_MSG_APPEND_RESP;
    m.flags = type == RF_MSG_VOTE ? RF_MSG_FLAG_TRANSFER : 0;
    if (type == RF_MSG_APPEND) {
        m.entries = ents;
        m.n_entries = 3;
    }
    if (type == RF_MSG_APPEND_RESP || type == RF_MSG_SNAPSHOT_RESP)
        m.offset = 5;
    if (type == RF_MSG_SNAPSHOT) {
        m.offset = 10;
        m.total = 17;
        m.data = chunk;
        m.len = 7;
        m.flags = RF_MSG_FLAG_DONE;
        m.membership.count = 2;
        m.membership.members[0] = (rf_member){1, 1};
        m.membership.members[1] = (rf_member){5, 0};
    }
    return m;
}

START_TEST(test_codec_round_trips_every_message_type)
{
    for (uint8_t type = RF_MSG_PREVOTE; type <= RF_MSG_TIMEOUT_NOW; type++) {
        rf_msg m = sample(type), d;
        uint8_t buf[512];
        size_t len = 0;
        ck_assert_int_eq(rf_msg_encode(&m, buf, sizeof(buf), &len), RF_OK);
        ck_assert_uint_eq(len, rf_msg_encoded_size(&m));
        rf_entry ents[8];
        ck_assert_int_eq(rf_msg_decode(buf, len, &d, ents, 8), RF_OK);
        ck_assert_uint_eq(d.type, m.type);
        ck_assert_uint_eq(d.flags, m.flags);
        ck_assert_uint_eq(d.reject, m.reject);
        ck_assert_uint_eq(d.group_id, m.group_id);
        ck_assert_uint_eq(d.from, m.from);
        ck_assert_uint_eq(d.to, m.to);
        ck_assert_uint_eq(d.term, m.term);
        ck_assert_uint_eq(d.index, m.index);
        ck_assert_uint_eq(d.log_term, m.log_term);
        ck_assert_uint_eq(d.commit, m.commit);
        ck_assert_uint_eq(d.ctx, m.ctx);
        ck_assert_uint_eq(d.offset, m.offset);
        ck_assert_uint_eq(d.n_entries, m.n_entries);
        for (uint32_t i = 0; i < m.n_entries; i++) {
            ck_assert_uint_eq(d.entries[i].index, m.entries[i].index);
            ck_assert_uint_eq(d.entries[i].term, m.entries[i].term);
            ck_assert_uint_eq(d.entries[i].kind, m.entries[i].kind);
            ck_assert_uint_eq(d.entries[i].client_id, m.entries[i].client_id);
            ck_assert_uint_eq(d.entries[i].sequence, m.entries[i].sequence);
            ck_assert_uint_eq(d.entries[i].floor, m.entries[i].floor);
            ck_assert_uint_eq(d.entries[i].len, m.entries[i].len);
            if (m.entries[i].len)
                ck_assert_mem_eq(d.entries[i].data, m.entries[i].data, m.entries[i].len);
        }
        if (type == RF_MSG_SNAPSHOT) {
            ck_assert_uint_eq(d.total, 17);
            ck_assert_uint_eq(d.len, 7);
            ck_assert_mem_eq(d.data, m.data, 7);
            ck_assert_mem_eq(&d.membership, &m.membership, sizeof(m.membership));
        }
        /* A buffer one byte short is refused with the size needed. */
        size_t need = 0;
        ck_assert_int_eq(rf_msg_encode(&m, buf, len - 1, &need), RF_ETOOBIG);
        ck_assert_uint_eq(need, len);
    }
}
END_TEST

START_TEST(test_codec_rejects_every_truncation_and_trailing_bytes)
{
    for (uint8_t type = RF_MSG_PREVOTE; type <= RF_MSG_TIMEOUT_NOW; type++) {
        rf_msg m = sample(type), d;
        uint8_t buf[512];
        size_t len = 0;
        ck_assert_int_eq(rf_msg_encode(&m, buf, sizeof(buf) - 1, &len), RF_OK);
        rf_entry ents[8];
        for (size_t cut = 0; cut < len; cut++)
            ck_assert_int_eq(rf_msg_decode(buf, cut, &d, ents, 8), RF_EBADMSG);
        buf[len] = 0;
        ck_assert_int_eq(rf_msg_decode(buf, len + 1, &d, ents, 8), RF_EBADMSG);
    }
}
END_TEST

START_TEST(test_codec_rejects_bad_version_counts_and_lengths)
{
    rf_msg m = sample(RF_MSG_APPEND), d;
    uint8_t buf[512], bad[512];
    size_t len = 0;
    rf_entry ents[8];
    ck_assert_int_eq(rf_msg_encode(&m, buf, sizeof(buf), &len), RF_OK);
    memcpy(bad, buf, len);
    bad[2] = 9; /* version */
    ck_assert_int_eq(rf_msg_decode(bad, len, &d, ents, 8), RF_EVERSION);
    memcpy(bad, buf, len);
    bad[0] = 'X';
    ck_assert_int_eq(rf_msg_decode(bad, len, &d, ents, 8), RF_EBADMSG);
    memcpy(bad, buf, len);
    bad[3] = 200; /* type */
    ck_assert_int_eq(rf_msg_decode(bad, len, &d, ents, 8), RF_EBADMSG);
    memcpy(bad, buf, len);
    bad[70] = 0xff; /* entry count: 255 + ... far more than the bytes hold */
    bad[71] = 0xff;
    ck_assert_int_eq(rf_msg_decode(bad, len, &d, ents, 8), RF_EBADMSG);
    /* More entries than the caller's array: RF_ETOOBIG, not an overflow. */
    ck_assert_int_eq(rf_msg_decode(buf, len, &d, ents, 2), RF_ETOOBIG);
    /* An entry length pointing past the end. */
    memcpy(bad, buf, len);
    bad[74 + 33] = 0xff; /* term client seq floor: u64, kind: u8, then len */
    ck_assert_int_eq(rf_msg_decode(bad, len, &d, ents, 8), RF_EBADMSG);
}
END_TEST

START_TEST(test_codec_survives_random_bytes_and_bit_flips)
{
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 5, 6);
    uint8_t buf[600];
    rf_entry ents[16];
    rf_msg d;
    for (int i = 0; i < 20000; i++) {
        size_t len;
        if (i % 2 == 0) {
            len = rf_pcg32_bounded(&rng, sizeof(buf));
            for (size_t k = 0; k < len; k++)
                buf[k] = (uint8_t)rf_pcg32_next(&rng);
        } else {
            rf_msg m = sample((uint8_t)(1 + rf_pcg32_bounded(&rng, 11)));
            ck_assert_int_eq(rf_msg_encode(&m, buf, sizeof(buf), &len), RF_OK);
            for (int f = 0; f < 3; f++)
                buf[rf_pcg32_bounded(&rng, (uint32_t)len)] ^= (uint8_t)(1u << rf_pcg32_bounded(&rng, 8));
        }
        int rc = rf_msg_decode(buf, len, &d, ents, 16);
        ck_assert(rc == RF_OK || rc == RF_EBADMSG || rc == RF_EVERSION || rc == RF_ETOOBIG);
        if (rc == RF_OK && d.type == RF_MSG_APPEND)
            for (uint32_t k = 0; k < d.n_entries; k++)
                ck_assert(d.entries[k].len == 0 ||
                          (d.entries[k].data >= buf && d.entries[k].data + d.entries[k].len <= buf + len));
    }
}
END_TEST

START_TEST(test_receive_rejects_and_counts_malformed_or_impossible_messages)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    uint64_t f = l == 1 ? 2 : 1;
    rf_raft *r = t.r[f];
    rf_raft_counters before, after;
    rf_raft_counters_get(r, &before);
    uint8_t junk[40] = {'R', 'F', 1, 5};
    ck_assert_int_eq(rf_raft_receive_bytes(r, junk, sizeof(junk)), RF_EBADMSG);
    rf_msg m = sample(RF_MSG_HEARTBEAT);
    m.to = f;
    m.from = l;
    m.group_id = 12345; /* unknown group */
    ck_assert_int_eq(rf_raft_receive(r, &m), RF_EINVAL);
    /* An index gap inside an append. */
    m = sample(RF_MSG_APPEND);
    m.to = f;
    m.from = l;
    rf_entry gap[2] = {{.index = 8, .term = 3, .kind = RF_ENTRY_NOOP},
                       {.index = 10, .term = 3, .kind = RF_ENTRY_NOOP}};
    m.entries = gap;
    m.n_entries = 2;
    ck_assert_int_eq(rf_raft_receive(r, &m), RF_EINDEXGAP);
    /* An oversized batch. */
    m.n_entries = RF_MSG_ENTRIES_MAX + 1;
    ck_assert_int_eq(rf_raft_receive(r, &m), RF_ETOOBIG);
    /* Entry terms going backwards. */
    rf_entry back[2] = {{.index = 8, .term = 4, .kind = RF_ENTRY_NOOP},
                        {.index = 9, .term = 3, .kind = RF_ENTRY_NOOP}};
    m.entries = back;
    m.n_entries = 2;
    ck_assert_int_eq(rf_raft_receive(r, &m), RF_EBADMSG);
    /* Addressed to someone else, or from ourselves. */
    m = sample(RF_MSG_HEARTBEAT);
    m.to = 7;
    ck_assert_int_eq(rf_raft_receive(r, &m), RF_EINVAL);
    m.to = f;
    m.from = f;
    ck_assert_int_eq(rf_raft_receive(r, &m), RF_EINVAL);
    rf_raft_counters_get(r, &after);
    ck_assert_uint_eq(after.msgs_rejected - before.msgs_rejected, 7);
    ck_assert_uint_eq(after.msgs_decode_failed - before.msgs_decode_failed, 1);
    ck_assert_uint_eq(after.msgs_bad_group - before.msgs_bad_group, 1);
    /* Nothing changed: the group keeps working. */
    tnet_run(&t, 50);
    ck_assert_uint_eq(tnet_leader(&t), l);
    ck_assert_int_eq(tnet_propose(&t, l, 1, 1, 1, "inc"), RF_OK);
    tnet_run(&t, 20);
    ck_assert_uint_eq(rf_raft_applied_index(r), rf_raft_applied_index(t.r[l]));
    tnet_free(&t);
}
END_TEST

/* ---- hostile messages: mutated real traffic never trips an assertion ---- */

static rf_pcg32 g_rng;
static int g_injected;

static uint64_t mutate_u64(uint64_t v)
{
    switch (rf_pcg32_bounded(&g_rng, 6)) {
    case 0: return 0;
    case 1: return v + 1;
    case 2: return v ? v - 1 : 0;
    case 3: return v + rf_pcg32_bounded(&g_rng, 50);
    case 4: return UINT64_MAX - rf_pcg32_bounded(&g_rng, 3);
    default: return rf_pcg32_next64(&g_rng);
    }
}

static bool hostile(tnet *t, uint64_t from, uint64_t to, const rf_msg *m)
{
    (void)from;
    if (rf_pcg32_bounded(&g_rng, 4) != 0)
        return true;
    rf_msg x = *m;
    rf_entry ents[64];
    if (x.n_entries > 64)
        x.n_entries = 64;
    for (uint32_t i = 0; i < x.n_entries; i++)
        ents[i] = m->entries[i];
    x.entries = x.n_entries ? ents : NULL;
    switch (rf_pcg32_bounded(&g_rng, 10)) {
    case 0: x.term = mutate_u64(x.term); break;
    case 1: x.index = mutate_u64(x.index); break;
    case 2: x.log_term = mutate_u64(x.log_term); break;
    case 3: x.commit = mutate_u64(x.commit); break;
    case 4: x.offset = mutate_u64(x.offset); break;
    case 5: x.ctx = mutate_u64(x.ctx); break;
    case 6: x.reject ^= 1; break;
    case 7: x.type = (uint8_t)(1 + rf_pcg32_bounded(&g_rng, 11)); break;
    case 8:
        if (x.n_entries)
            ents[rf_pcg32_bounded(&g_rng, x.n_entries)].term = mutate_u64(ents[0].term);
        break;
    default: x.total = mutate_u64(x.total); break;
    }
    rf_raft_receive(t->r[to], &x); /* any error is fine; a crash is not */
    g_injected++;
    return rf_pcg32_bounded(&g_rng, 2) == 0;
}

START_TEST(test_mutated_messages_never_trip_an_assertion)
{
    rf_pcg32_seed(&g_rng, 99, (uint64_t)_i);
    g_injected = 0;
    tnet t;
    tnet_init(&t, 3, NULL);
    tnet_wait_leader(&t, 1000);
    t.filter = hostile;
    for (int round = 0; round < 40; round++) {
        uint64_t l = tnet_leader(&t);
        if (l)
            for (uint64_t k = 0; k < 5; k++)
                rf_raft_propose(t.r[l], (uint64_t)round * 10 + k, 1 + k, (uint64_t)round + 1,
                                (uint64_t)round + 1, (const uint8_t *)"inc", 3);
        tnet_run(&t, 5);
    }
    /* The point is that nothing aborted; the injection really happened. */
    ck_assert_int_gt(g_injected, 0);
    tnet_free(&t);
}
END_TEST

START_TEST(test_malformed_snapshot_bytes_are_refused_and_change_nothing)
{
    tnet t;
    tnet_init(&t, 3, NULL);
    uint64_t l = tnet_wait_leader(&t, 1000);
    uint64_t f = l == 1 ? 2 : 1;
    tnet_propose(&t, l, 1, 1, 1, "set 5");
    tnet_run(&t, 20);
    uint64_t digest = rf_raft_digest(t.r[f]), last = rf_raft_last_index(t.r[f]);
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 3, 3);
    uint8_t data[300];
    for (int i = 0; i < 500; i++) {
        uint32_t len = 16 + rf_pcg32_bounded(&rng, 280);
        for (uint32_t k = 0; k < len; k++)
            data[k] = (uint8_t)rf_pcg32_next(&rng);
        if (i % 2) { /* a plausible header with random lengths inside */
            memcpy(data, "RS\1\0\0\0\0\0", 8);
            if (i % 4 == 1)
                memset(data + 8, 0, 8);
        }
        rf_msg m;
        memset(&m, 0, sizeof(m));
        m.type = RF_MSG_SNAPSHOT;
        m.group_id = 77;
        m.from = l;
        m.to = f;
        m.term = rf_raft_term(t.r[f]);
        m.index = 1000;
        m.log_term = m.term;
        m.total = len;
        m.len = len;
        m.data = data;
        m.flags = RF_MSG_FLAG_DONE;
        m.membership = *rf_raft_membership(t.r[f]);
        int rc = rf_raft_receive(t.r[f], &m);
        ck_assert_int_eq(rc, RF_EBADMSG);
        ck_assert_uint_eq(rf_raft_last_index(t.r[f]), last);
        ck_assert_uint_eq(rf_raft_digest(t.r[f]), digest);
    }
    tnet_free(&t);
}
END_TEST

Suite *raft_codec_suite(void)
{
    Suite *s = suite_create("raft_codec");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_codec_round_trips_every_message_type);
    tcase_add_test(tc, test_codec_rejects_every_truncation_and_trailing_bytes);
    tcase_add_test(tc, test_codec_rejects_bad_version_counts_and_lengths);
    tcase_add_test(tc, test_codec_survives_random_bytes_and_bit_flips);
    tcase_add_test(tc, test_receive_rejects_and_counts_malformed_or_impossible_messages);
    tcase_add_loop_test(tc, test_mutated_messages_never_trip_an_assertion, 0, 20);
    tcase_add_test(tc, test_malformed_snapshot_bytes_are_refused_and_change_nothing);
    suite_add_tcase(s, tc);
    return s;
}


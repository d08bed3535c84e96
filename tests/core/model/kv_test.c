/* Tests of core/model/kv.c: the built-in "kv" model. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "base/rf_pcg.h"
#include "model/rf_kv.h"
#include "model/rf_model.h"
#include "tests/core/model/model_helpers.h"

static const rf_model *M = &rf_model_kv;

static void expect(void *st, int is_query, const char *in, int rc, const char *reply)
{
    char r[2048];
    int got = mh_run(M, st, is_query, in, r);
    ck_assert_msg(got == rc, "'%s' returned %d, want %d", in, got, rc);
    if (reply != NULL)
        ck_assert_msg(strcmp(r, reply) == 0, "'%s' replied '%s', want '%s'", in, r, reply);
}

START_TEST(test_kv_put_get_del)
{
    void *st = M->create();
    expect(st, 1, "get a", RF_OK, "nil");
    expect(st, 0, "put a 1", RF_OK, "ok");
    expect(st, 0, "put b two", RF_OK, "ok");
    expect(st, 1, "get a", RF_OK, "1");
    expect(st, 1, "get b", RF_OK, "two");
    expect(st, 0, "put a x", RF_OK, "ok");
    expect(st, 1, "get a", RF_OK, "x");
    expect(st, 0, "del a", RF_OK, "1");
    expect(st, 0, "del a", RF_OK, "0");
    expect(st, 1, "get a", RF_OK, "nil");
    expect(st, 1, "get b", RF_OK, "two");
    M->destroy(st);
}
END_TEST

START_TEST(test_kv_cas_follows_the_nil_convention)
{
    void *st = M->create();
    expect(st, 0, "cas k 1 2", RF_OK, "fail");   /* absent is not "1" */
    expect(st, 0, "cas k nil 1", RF_OK, "ok");   /* create when absent */
    expect(st, 0, "cas k nil 5", RF_OK, "fail"); /* present now */
    expect(st, 1, "get k", RF_OK, "1");
    expect(st, 0, "cas k 2 3", RF_OK, "fail");
    expect(st, 0, "cas k 1 3", RF_OK, "ok");
    expect(st, 1, "get k", RF_OK, "3");
    expect(st, 0, "cas k 1 nil", RF_OK, "fail");
    expect(st, 0, "cas k 3 nil", RF_OK, "ok");   /* delete when it matches */
    expect(st, 1, "get k", RF_OK, "nil");
    expect(st, 0, "cas k nil nil", RF_OK, "ok"); /* absent stays absent */
    expect(st, 1, "get k", RF_OK, "nil");
    M->destroy(st);
}
END_TEST

START_TEST(test_kv_rejects_malformed_input_and_keeps_state)
{
    static const char *bad[] = {
        "", "put", "put a", "put a b c", "put  a b", "put a b ", " put a b", "put a nil",
        "del", "del a b", "cas a b", "cas a b c d", "get a", "PUT a b", "frob",
    };
    void *st = M->create();
    expect(st, 0, "put a 1", RF_OK, "ok");
    uint64_t d = M->digest(st);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char r[2048];
        ck_assert_msg(mh_run(M, st, 0, bad[i], r) == RF_EINVAL, "'%s'", bad[i]);
        ck_assert_msg(strncmp(r, "error: ", 7) == 0, "'%s' replied %s", bad[i], r);
    }
    expect(st, 1, "get", RF_EINVAL, NULL);
    expect(st, 1, "get a b", RF_EINVAL, NULL);
    expect(st, 1, "put a 2", RF_EINVAL, NULL);
    ck_assert_uint_eq(M->digest(st), d);
    expect(st, 1, "get a", RF_OK, "1");
    M->destroy(st);
}
END_TEST

START_TEST(test_kv_enforces_key_and_value_bounds)
{
    static char cmd[4096];
    void *st = M->create();
    memset(cmd, 0, sizeof cmd);
    memcpy(cmd, "put ", 4);
    memset(cmd + 4, 'k', RF_KV_KEY_MAX);
    memcpy(cmd + 4 + RF_KV_KEY_MAX, " v", 3);
    expect(st, 0, cmd, RF_OK, "ok");
    memset(cmd + 4, 'k', RF_KV_KEY_MAX + 1);
    memcpy(cmd + 5 + RF_KV_KEY_MAX, " v", 3);
    expect(st, 0, cmd, RF_EINVAL, NULL);
    memcpy(cmd, "put k ", 6);
    memset(cmd + 6, 'v', RF_KV_VALUE_MAX);
    cmd[6 + RF_KV_VALUE_MAX] = '\0';
    expect(st, 0, cmd, RF_OK, "ok");
    memset(cmd + 6, 'v', RF_KV_VALUE_MAX + 1);
    cmd[7 + RF_KV_VALUE_MAX] = '\0';
    expect(st, 0, cmd, RF_EINVAL, NULL);
    M->destroy(st);
}
END_TEST

START_TEST(test_kv_full_map_refuses_new_keys_only)
{
    char cmd[64], r[2048];
    void *st = M->create();
    for (int i = 0; i < RF_KV_ENTRIES_MAX; i++) {
        snprintf(cmd, sizeof cmd, "put k%d v", i);
        ck_assert_int_eq(mh_run(M, st, 0, cmd, r), RF_OK);
    }
    expect(st, 0, "put new v", RF_EFULL, NULL);
    expect(st, 0, "cas new nil v", RF_EFULL, NULL);
    expect(st, 0, "put k5 w", RF_OK, "ok");
    expect(st, 0, "del k5", RF_OK, "1");
    expect(st, 0, "put new v", RF_OK, "ok");
    M->destroy(st);
}
END_TEST

/* Builds the same map by different command orders. */
static void *build(const char *const *cmds, size_t n)
{
    void *st = M->create();
    char r[2048];
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(mh_run(M, st, 0, cmds[i], r), RF_OK);
    return st;
}

START_TEST(test_kv_encoding_is_sorted_and_round_trips)
{
    static const char *c1[] = {"put b 2", "put a 1", "put ab 3", "put zz 9", "del zz"};
    static const char *c2[] = {"put ab 3", "put a 0", "put b 2", "cas a 0 1"};
    void *a = build(c1, 5), *b = build(c2, 4);
    size_t la = 0, lb = 0;
    uint8_t *ea = mh_encode(M, a, &la), *eb = mh_encode(M, b, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(ea, eb, la);
    ck_assert_uint_eq(M->digest(a), M->digest(b));
    /* The documented layout: format, count 3, then a, ab, b. */
    static const uint8_t want[] = {1, 3, 0, 0, 0,
                                   1, 0, 1, 0, 0, 0, 'a', '1',
                                   2, 0, 1, 0, 0, 0, 'a', 'b', '3',
                                   1, 0, 1, 0, 0, 0, 'b', '2'};
    ck_assert_uint_eq(la, sizeof want);
    ck_assert_mem_eq(ea, want, sizeof want);
    void *c = M->decode(ea, la);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(M->digest(c), M->digest(a));
    expect(c, 1, "get ab", RF_OK, "3");
    expect(c, 0, "put a 2", RF_OK, "ok");
    ck_assert_uint_ne(M->digest(c), M->digest(a));
    free(ea);
    free(eb);
    M->destroy(a);
    M->destroy(b);
    M->destroy(c);
}
END_TEST

START_TEST(test_kv_digest_distinguishes_nearby_states)
{
    static const char *s1[] = {"put a bc"}, *s2[] = {"put ab c"}, *s3[] = {"put a b", "put c d"};
    static const char *s4[] = {"put a d", "put c b"};
    void *st[5] = {M->create(), build(s1, 1), build(s2, 1), build(s3, 2), build(s4, 2)};
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            ck_assert_uint_ne(M->digest(st[i]), M->digest(st[j]));
    for (int i = 0; i < 5; i++)
        M->destroy(st[i]);
}
END_TEST

START_TEST(test_kv_decode_refuses_non_canonical_encodings)
{
    /* Keys out of order, a repeated key, a nil value, a space, trailing byte. */
    static const uint8_t unsorted[] = {1, 2, 0, 0, 0, 1, 0, 1, 0, 0, 0, 'b', '1',
                                       1, 0, 1, 0, 0, 0, 'a', '1'};
    static const uint8_t repeated[] = {1, 2, 0, 0, 0, 1, 0, 1, 0, 0, 0, 'a', '1',
                                       1, 0, 1, 0, 0, 0, 'a', '2'};
    static const uint8_t nilval[] = {1, 1, 0, 0, 0, 1, 0, 3, 0, 0, 0, 'a', 'n', 'i', 'l'};
    static const uint8_t space[] = {1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 'a', ' '};
    static const uint8_t trailing[] = {1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 'a', '1', 0};
    static const uint8_t empty_key[] = {1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, '1'};
    static const uint8_t ok[] = {1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 'a', '1'};
    ck_assert_ptr_null(M->decode(unsorted, sizeof unsorted));
    ck_assert_ptr_null(M->decode(repeated, sizeof repeated));
    ck_assert_ptr_null(M->decode(nilval, sizeof nilval));
    ck_assert_ptr_null(M->decode(space, sizeof space));
    ck_assert_ptr_null(M->decode(trailing, sizeof trailing));
    ck_assert_ptr_null(M->decode(empty_key, sizeof empty_key));
    ck_assert_ptr_null(M->decode(ok, sizeof ok - 1));
    void *st = M->decode(ok, sizeof ok);
    ck_assert_ptr_nonnull(st);
    M->destroy(st);
}
END_TEST

START_TEST(test_kv_decode_of_random_and_mutated_bytes_never_crashes)
{
    static const char *cmds[] = {"put a 1", "put bb 22", "put c 333"};
    void *good = build(cmds, 3);
    size_t len = 0;
    uint8_t *enc = mh_encode(M, good, &len);
    uint8_t buf[64];
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 6, 1);
    for (int i = 0; i < 50000; i++) {
        size_t n;
        if (i & 1) { /* flip a few bytes of a valid encoding */
            n = len;
            memcpy(buf, enc, len);
            for (int k = 0; k < 1 + (int)(rf_pcg32_next(&rng) % 3); k++)
                buf[rf_pcg32_next(&rng) % len] = (uint8_t)rf_pcg32_next(&rng);
        } else {
            n = rf_pcg32_next(&rng) % sizeof buf;
            for (size_t j = 0; j < n; j++)
                buf[j] = (uint8_t)rf_pcg32_next(&rng);
        }
        void *st = M->decode(buf, n);
        if (st != NULL) { /* what decodes re-encodes to the same bytes */
            size_t l2 = 0;
            uint8_t *e2 = mh_encode(M, st, &l2);
            ck_assert_uint_eq(l2, n);
            ck_assert_mem_eq(e2, buf, n);
            free(e2);
            M->destroy(st);
        }
    }
    free(enc);
    M->destroy(good);
}
END_TEST

/* Digests are part of the stable format: these values must never change. */
START_TEST(test_kv_digest_golden_values)
{
    static const char *cmds[] = {"put b xy", "put a 1"};
    void *empty = M->create(), *ab = build(cmds, 2);
    ck_assert_uint_eq(M->digest(empty), 0x65ba06b9527be68aULL);
    ck_assert_uint_eq(M->digest(ab), 0x36b361533c5deab9ULL);
    M->destroy(empty);
    M->destroy(ab);
}
END_TEST

Suite *model_kv_suite(void)
{
    Suite *s = suite_create("model_kv");
    TCase *tc = tcase_create("kv");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_kv_put_get_del);
    tcase_add_test(tc, test_kv_cas_follows_the_nil_convention);
    tcase_add_test(tc, test_kv_rejects_malformed_input_and_keeps_state);
    tcase_add_test(tc, test_kv_enforces_key_and_value_bounds);
    tcase_add_test(tc, test_kv_full_map_refuses_new_keys_only);
    tcase_add_test(tc, test_kv_encoding_is_sorted_and_round_trips);
    tcase_add_test(tc, test_kv_digest_distinguishes_nearby_states);
    tcase_add_test(tc, test_kv_decode_refuses_non_canonical_encodings);
    tcase_add_test(tc, test_kv_decode_of_random_and_mutated_bytes_never_crashes);
    tcase_add_test(tc, test_kv_digest_golden_values);
    suite_add_tcase(s, tc);
    return s;
}

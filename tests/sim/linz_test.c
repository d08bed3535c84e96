/* Tests of sim/linz.c: histories the checker must accept and must reject. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/history.h"
#include "sim/linz.h"
#include "tests/sim/linz_gen.h"

#define NR RF_HISTORY_NO_RETURN

/* One op of a hand-written history: kind 'c'ommand or 'q'uery, status
 * 'o'k, 'f'ail or 'u'nknown; ret is ignored for unknown ops. */
typedef struct spec {
    unsigned client;
    char kind;
    const char *in;
    char status;
    const char *reply;
    uint64_t call, ret;
} spec;

static void build(rf_history *h, const spec *ops, size_t n)
{
    ck_assert_int_eq(rf_history_init(h, "g1"), RF_OK);
    for (size_t i = 0; i < n; i++) {
        const spec *s = &ops[i];
        rf_op op = {
            .client = s->client,
            .kind = s->kind == 'q' ? RF_OP_QUERY : RF_OP_COMMAND,
            .status = s->status == 'o' ? RF_OP_OK : s->status == 'f' ? RF_OP_FAIL : RF_OP_UNKNOWN,
            .call_ns = s->call,
            .return_ns = s->status == 'u' ? NR : s->ret,
            .input = (uint8_t *)s->in,
            .input_len = strlen(s->in),
            .reply = (uint8_t *)s->reply,
            .reply_len = s->reply != NULL ? strlen(s->reply) : 0,
        };
        ck_assert_int_eq(rf_history_append(h, &op), RF_OK);
    }
}

static rf_linz_verdict check_specs(const rf_model *m, const spec *ops, size_t n)
{
    rf_history h;
    rf_linz_result r;
    build(&h, ops, n);
    ck_assert_int_eq(rf_linz_check(m, &h, NULL, &r), RF_OK);
    rf_linz_verdict v = r.verdict;
    rf_linz_result_close(&r);
    rf_history_close(&h);
    return v;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ACCEPT(m, a) ck_assert_int_eq(check_specs(m, a, N(a)), RF_LINZ_LINEARIZABLE)
#define REJECT(m, a) ck_assert_int_eq(check_specs(m, a, N(a)), RF_LINZ_VIOLATION)

START_TEST(test_linz_accepts_empty_and_sequential_histories)
{
    static const spec seq[] = {
        {1, 'c', "inc", 'o', "0", 0, 10}, {1, 'c', "inc", 'o', "1", 20, 30},
        {2, 'q', "get", 'o', "2", 40, 50}, {2, 'c', "set 7", 'o', "2", 60, 70},
        {1, 'q', "get", 'o', "7", 80, 90},
    };
    rf_history h;
    rf_linz_result r;
    ck_assert_int_eq(rf_history_init(&h, "g1"), RF_OK);
    ck_assert_int_eq(rf_linz_check(&rf_model_int, &h, NULL, &r), RF_OK);
    ck_assert_int_eq(r.verdict, RF_LINZ_LINEARIZABLE);
    rf_linz_result_close(&r);
    rf_history_close(&h);
    ACCEPT(&rf_model_int, seq);
}
END_TEST

START_TEST(test_linz_rejects_sequential_wrong_reply)
{
    static const spec bad[] = {
        {1, 'c', "inc", 'o', "0", 0, 10}, {1, 'c', "inc", 'o', "0", 20, 30},
    };
    REJECT(&rf_model_int, bad);
}
END_TEST

START_TEST(test_linz_accepts_concurrent_ops_in_either_order)
{
    /* B's inc returned 0, so B went first although A called first. */
    static const spec incs[] = {
        {1, 'c', "inc", 'o', "1", 0, 10}, {2, 'c', "inc", 'o', "0", 5, 15},
        {3, 'q', "get", 'o', "2", 20, 30},
    };
    /* A read overlapping a write may see either value. */
    static const spec old[] = {{1, 'c', "set 5", 'o', "0", 0, 10}, {2, 'q', "get", 'o', "0", 5, 8}};
    static const spec new[] = {{1, 'c', "set 5", 'o', "0", 0, 10}, {2, 'q', "get", 'o', "5", 5, 8}};
    /* A return and a call at the same instant count as concurrent. */
    static const spec tie[] = {{1, 'c', "set 5", 'o', "0", 0, 10}, {2, 'q', "get", 'o', "0", 10, 12}};
    ACCEPT(&rf_model_int, incs);
    ACCEPT(&rf_model_int, old);
    ACCEPT(&rf_model_int, new);
    ACCEPT(&rf_model_int, tie);
}
END_TEST

START_TEST(test_linz_rejects_stale_read_after_completed_write)
{
    static const spec stale[] = {
        {1, 'c', "set 5", 'o', "0", 0, 10}, {2, 'q', "get", 'o', "0", 11, 20},
    };
    /* New-then-old inversion between two reads that do not overlap. */
    static const spec inversion[] = {
        {1, 'c', "set 1", 'o', "0", 0, 100}, {2, 'q', "get", 'o', "1", 10, 20},
        {3, 'q', "get", 'o', "0", 30, 40},
    };
    REJECT(&rf_model_int, stale);
    REJECT(&rf_model_int, inversion);
}
END_TEST

START_TEST(test_linz_unknown_inc_that_must_have_happened)
{
    static const spec ok[] = {
        {1, 'c', "inc", 'u', NULL, 0, 0}, {2, 'q', "get", 'o', "1", 10, 20},
        {2, 'c', "inc", 'o', "1", 30, 40},
    };
    /* It may take effect long after the client gave up on it. */
    static const spec late[] = {
        {1, 'c', "inc", 'u', NULL, 5, 0}, {2, 'q', "get", 'o', "0", 10, 20},
        {2, 'q', "get", 'o', "0", 30, 40}, {2, 'q', "get", 'o', "1", 50, 60},
    };
    /* But never before its call. */
    static const spec before_call[] = {
        {2, 'q', "get", 'o', "1", 10, 20}, {1, 'c', "inc", 'u', NULL, 50, 0},
    };
    /* And at most once. */
    static const spec twice[] = {
        {1, 'c', "inc", 'u', NULL, 0, 0}, {2, 'q', "get", 'o', "2", 10, 20},
    };
    ACCEPT(&rf_model_int, ok);
    ACCEPT(&rf_model_int, late);
    REJECT(&rf_model_int, before_call);
    REJECT(&rf_model_int, twice);
}
END_TEST

START_TEST(test_linz_unknown_inc_that_must_not_have_happened)
{
    static const spec never[] = {
        {1, 'c', "inc", 'u', NULL, 0, 0}, {2, 'q', "get", 'o', "0", 10, 20},
        {2, 'c', "set 9", 'o', "0", 30, 40}, {2, 'q', "get", 'o', "9", 50, 60},
    };
    /* Two unknown incs, one read of 1: exactly one happened. */
    static const spec one_of_two[] = {
        {1, 'c', "inc", 'u', NULL, 0, 0}, {3, 'c', "inc", 'u', NULL, 1, 0},
        {2, 'q', "get", 'o', "1", 10, 20}, {2, 'q', "get", 'o', "1", 30, 40},
    };
    /* Read 0 after a read of 1 cannot be explained by an unknown inc. */
    static const spec undo[] = {
        {1, 'c', "inc", 'u', NULL, 0, 0}, {2, 'q', "get", 'o', "1", 10, 20},
        {2, 'q', "get", 'o', "0", 30, 40},
    };
    ACCEPT(&rf_model_int, never);
    ACCEPT(&rf_model_int, one_of_two);
    REJECT(&rf_model_int, undo);
}
END_TEST

START_TEST(test_linz_fail_ops_surely_did_not_happen)
{
    static const spec dropped[] = {
        {1, 'c', "inc", 'f', "error: no leader", 0, 10}, {2, 'q', "get", 'o', "0", 20, 30},
    };
    static const spec happened[] = {
        {1, 'c', "inc", 'f', NULL, 0, 10}, {2, 'q', "get", 'o', "1", 20, 30},
    };
    /* An unknown query constrains nothing. */
    static const spec unknown_query[] = {
        {1, 'q', "get", 'u', NULL, 0, 0}, {2, 'q', "get", 'o', "0", 20, 30},
    };
    ACCEPT(&rf_model_int, dropped);
    REJECT(&rf_model_int, happened);
    ACCEPT(&rf_model_int, unknown_query);
}
END_TEST

START_TEST(test_linz_kv_cas_cases)
{
    /* Two concurrent cas from a to different values cannot both win. */
    static const spec both_win[] = {
        {1, 'c', "put k a", 'o', "ok", 0, 10}, {2, 'c', "cas k a b", 'o', "ok", 20, 30},
        {3, 'c', "cas k a c", 'o', "ok", 20, 30},
    };
    static const spec one_wins[] = {
        {1, 'c', "put k a", 'o', "ok", 0, 10}, {2, 'c', "cas k a b", 'o', "fail", 20, 30},
        {3, 'c', "cas k a c", 'o', "ok", 21, 29}, {1, 'q', "get k", 'o', "c", 40, 50},
    };
    static const spec wrong_winner[] = {
        {1, 'c', "put k a", 'o', "ok", 0, 10}, {2, 'c', "cas k a b", 'o', "fail", 20, 30},
        {3, 'c', "cas k a c", 'o', "ok", 21, 29}, {1, 'q', "get k", 'o', "b", 40, 50},
    };
    /* An unknown create explains a later read, and a failed cas after it. */
    static const spec unknown_create[] = {
        {1, 'c', "cas k nil x", 'u', NULL, 0, 0}, {2, 'c', "cas k nil y", 'o', "fail", 10, 20},
        {2, 'q', "get k", 'o', "x", 30, 40}, {2, 'c', "del k", 'o', "1", 50, 60},
        {2, 'q', "get k", 'o', "nil", 70, 80},
    };
    ACCEPT(&rf_model_kv, one_wins);
    ACCEPT(&rf_model_kv, unknown_create);
    REJECT(&rf_model_kv, both_win);
    REJECT(&rf_model_kv, wrong_winner);
}
END_TEST

START_TEST(test_linz_kv_checks_each_key_and_reports_whole_history_positions)
{
    /* Keys a and c are fine; b's read is stale. */
    static const spec ops[] = {
        {1, 'c', "put a 1", 'o', "ok", 0, 10},  {2, 'c', "put b 1", 'o', "ok", 0, 10},
        {3, 'c', "put c 1", 'o', "ok", 0, 10},  {1, 'c', "put b 2", 'o', "ok", 20, 30},
        {2, 'q', "get a", 'o', "1", 40, 50},    {3, 'q', "get b", 'o', "1", 40, 50},
        {1, 'q', "get c", 'o', "1", 40, 50},
    };
    /* Ops without a key, or rejected, are checked on the whole history. */
    static const spec keyless_ok[] = {
        {1, 'c', "put a nil", 'o', "error: nil is not a value", 0, 10},
        {2, 'q', "get a", 'o', "nil", 20, 30},
    };
    static const spec keyless_bad[] = {
        {1, 'c', "put a 1", 'o', "ok", 0, 10}, {2, 'q', "get", 'o', "nil", 20, 30},
    };
    rf_history h;
    rf_linz_result r;
    build(&h, ops, N(ops));
    ck_assert_int_eq(rf_linz_check(&rf_model_kv, &h, NULL, &r), RF_OK);
    ck_assert_int_eq(r.verdict, RF_LINZ_VIOLATION);
    ck_assert(r.has_blocking);
    ck_assert_uint_eq(r.blocking, 5);
    ck_assert_uint_eq(r.prefix_len, 2);
    ck_assert_uint_eq(r.prefix[0], 1);
    ck_assert_uint_eq(r.prefix[1], 3);
    ck_assert(r.has_expected);
    ck_assert_mem_eq(r.expected, "2", 1);
    rf_linz_result_close(&r);
    rf_history_close(&h);
    ACCEPT(&rf_model_kv, keyless_ok);
    REJECT(&rf_model_kv, keyless_bad);
}
END_TEST

START_TEST(test_linz_explains_a_violation)
{
    static const spec stale[] = {
        {1, 'c', "inc", 'o', "0", 0, 10}, {1, 'c', "inc", 'o', "1", 20, 30},
        {2, 'q', "get", 'o', "1", 40, 50}, {3, 'c', "inc", 'o', "2", 45, 55},
    };
    rf_history h;
    rf_linz_result r;
    char text[4096];
    build(&h, stale, N(stale));
    ck_assert_int_eq(rf_linz_check(&rf_model_int, &h, NULL, &r), RF_OK);
    ck_assert_int_eq(r.verdict, RF_LINZ_VIOLATION);
    /* inc, inc, then at 40 the state is 2: the get cannot reply 1. The
     * deepest attempt also linearizes the concurrent inc (reply 2) before
     * it, after which the model replies 3 to the get. */
    ck_assert(r.has_blocking);
    ck_assert_uint_eq(r.blocking, 2);
    ck_assert_uint_eq(r.prefix_len, 3);
    ck_assert_uint_eq(r.prefix[0], 0);
    ck_assert_uint_eq(r.prefix[1], 1);
    ck_assert_uint_eq(r.prefix[2], 3);
    ck_assert_uint_eq(r.candidates_len, 1);
    ck_assert_uint_eq(r.candidates[0], 2);
    ck_assert(r.has_expected);
    ck_assert_uint_eq(r.expected_len, 1);
    ck_assert_int_eq(r.expected[0], '3');
    rf_linz_explain(&h, &r, text, sizeof text);
    ck_assert_msg(strstr(text, "NOT linearizable") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "#2 client 2 query \"get\" -> \"1\"") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "model replies \"3\"") != NULL, "%s", text);
    rf_linz_result_close(&r);
    rf_history_close(&h);
}
END_TEST

START_TEST(test_linz_refuses_malformed_histories)
{
    rf_history h;
    rf_linz_result r;
    ck_assert_int_eq(rf_history_init(&h, "g1"), RF_OK);
    size_t id = 0;
    ck_assert_int_eq(rf_history_invoke(&h, 1, RF_OP_COMMAND, (const uint8_t *)"inc", 3, 10, &id),
                     RF_OK);
    /* The history refuses a return before the call... */
    ck_assert_int_eq(rf_history_complete(&h, id, RF_OP_OK, (const uint8_t *)"0", 1, 5), RF_EINVAL);
    /* ...so corrupt the record directly, as a buggy producer could. */
    h.ops[0].status = RF_OP_OK;
    h.ops[0].return_ns = 5;
    ck_assert_int_eq(rf_linz_check(&rf_model_int, &h, NULL, &r), RF_EINVAL);
    ck_assert_int_ne(r.verdict, RF_LINZ_LINEARIZABLE);
    rf_linz_result_close(&r);
    h.ops[0].return_ns = NR; /* ok without a return time */
    ck_assert_int_eq(rf_linz_check(&rf_model_int, &h, NULL, &r), RF_EINVAL);
    rf_linz_result_close(&r);
    rf_history_close(&h);
}
END_TEST

static void gen(rf_history *h, const rf_model *m, size_t n, unsigned unknown, uint64_t seed)
{
    gen_cfg cfg = {.model = m, .ops = n, .clients = 8, .unknown_permille = unknown,
                   .fail_permille = 10, .seed = seed,
                   .make_op = m == &rf_model_int ? gen_int_op : gen_kv_op};
    ck_assert_int_eq(rf_history_init(h, "g1"), RF_OK);
    gen_history(&cfg, h);
}

/* An ok op whose reply the corruption changes to something never held. */
static void corrupt_one_reply(rf_history *h, size_t from)
{
    for (size_t i = from; i < h->count; i++) {
        rf_op *op = &h->ops[i];
        if (op->status != RF_OP_OK || op->reply_len == 0)
            continue;
        free(op->reply);
        op->reply = (uint8_t *)strdup("99999999");
        op->reply_len = 8;
        return;
    }
    ck_abort_msg("no ok op to corrupt");
}

START_TEST(test_linz_accepts_large_random_history_and_rejects_one_corrupted_reply)
{
    rf_history h;
    rf_linz_result r;
    /* The last run keeps a state only every other frame and rebuilds. */
    rf_linz_config cfg = {.state_stride = _i == 2 ? 2 : 0};
    gen(&h, &rf_model_int, 10000, 2, 1 + (uint64_t)_i);
    ck_assert_int_eq(rf_linz_check(&rf_model_int, &h, &cfg, &r), RF_OK);
    ck_assert_int_eq(r.verdict, RF_LINZ_LINEARIZABLE);
    rf_linz_result_close(&r);
    corrupt_one_reply(&h, h.count / 2);
    ck_assert_int_eq(rf_linz_check(&rf_model_int, &h, &cfg, &r), RF_OK);
    ck_assert_int_eq(r.verdict, RF_LINZ_VIOLATION);
    rf_linz_result_close(&r);
    rf_history_close(&h);
}
END_TEST

START_TEST(test_linz_accepts_random_kv_histories_with_unknowns)
{
    rf_history h;
    rf_linz_result r;
    gen(&h, &rf_model_kv, 2000, 10, 100 + (uint64_t)_i);
    ck_assert_int_eq(rf_linz_check(&rf_model_kv, &h, NULL, &r), RF_OK);
    ck_assert_msg(r.verdict == RF_LINZ_LINEARIZABLE, "seed %d: verdict %d after %llu steps", _i,
                  r.verdict, (unsigned long long)r.steps);
    rf_linz_result_close(&r);
    rf_history_close(&h);
}
END_TEST

START_TEST(test_linz_budget_exhausted_is_unknown_never_yes)
{
    rf_history h;
    rf_linz_result r;
    rf_linz_config cfg = {.steps_max = 50};
    gen(&h, &rf_model_int, 1000, 0, 9);
    ck_assert_int_eq(rf_linz_check(&rf_model_int, &h, &cfg, &r), RF_OK);
    ck_assert_int_eq(r.verdict, RF_LINZ_UNKNOWN);
    ck_assert_uint_eq(r.steps, 50);
    rf_linz_result_close(&r);
    rf_history_close(&h);
}
END_TEST

START_TEST(test_linz_tiny_memo_still_gives_the_right_verdict)
{
    rf_history h;
    rf_linz_result r;
    rf_linz_config cfg = {.memo_bytes_max = 1};
    gen(&h, &rf_model_int, 2000, 0, 5);
    ck_assert_int_eq(rf_linz_check(&rf_model_int, &h, &cfg, &r), RF_OK);
    ck_assert_int_eq(r.verdict, RF_LINZ_LINEARIZABLE);
    ck_assert_uint_eq(r.memo_entries, 0);
    rf_linz_result_close(&r);
    rf_history_close(&h);
}
END_TEST

/* A model that is not deterministic: each command adds a different amount. */
static int64_t flaky_counter;
static void *flaky_create(void) { return calloc(1, sizeof(int64_t)); }
static void flaky_destroy(void *st) { free(st); }
static int flaky_command(void *st, const uint8_t *c, size_t n, uint8_t *r, size_t cap, size_t *len)
{
    (void)c;
    (void)n;
    (void)cap;
    *(int64_t *)st += ++flaky_counter;
    memcpy(r, "ok", 2);
    *len = 2;
    return 0;
}
static int flaky_query(const void *st, const uint8_t *q, size_t n, uint8_t *r, size_t cap, size_t *len)
{
    (void)st;
    (void)q;
    (void)n;
    (void)cap;
    memcpy(r, "?", 1);
    *len = 1;
    return 0;
}
static int flaky_encode(const void *st, uint8_t *out, size_t cap, size_t *len)
{
    *len = 8;
    if (cap < 8)
        return RF_ETOOBIG;
    memcpy(out, st, 8);
    return 0;
}
static void *flaky_decode(const uint8_t *d, size_t n)
{
    int64_t *st = n == 8 ? malloc(8) : NULL;
    if (st != NULL)
        memcpy(st, d, 8);
    return st;
}
static uint64_t flaky_digest(const void *st) { return (uint64_t)*(const int64_t *)st; }
static const rf_model flaky_model = {RF_MODEL_ABI_VERSION, "flaky", flaky_create, flaky_destroy,
                                     flaky_command, flaky_query, flaky_encode, flaky_decode,
                                     flaky_digest};

START_TEST(test_linz_reports_a_nondeterministic_model_when_a_replay_differs)
{
    /* Six sequential commands, then a query whose reply cannot match: the
     * search backtracks over frames whose states were dropped, replays,
     * and sees different digests. */
    static const spec ops[] = {
        {1, 'c', "x", 'o', "ok", 0, 1}, {1, 'c', "x", 'o', "ok", 2, 3},
        {1, 'c', "x", 'o', "ok", 4, 5}, {1, 'c', "x", 'o', "ok", 6, 7},
        {1, 'c', "x", 'o', "ok", 8, 9}, {1, 'c', "x", 'o', "ok", 10, 11},
        {1, 'q', "y", 'o', "!", 12, 13},
    };
    rf_history h;
    rf_linz_result r;
    rf_linz_config cfg = {.state_stride = 2};
    build(&h, ops, N(ops));
    ck_assert_int_eq(rf_linz_check(&flaky_model, &h, &cfg, &r), RF_ENONDET);
    ck_assert_int_eq(r.verdict, RF_LINZ_UNKNOWN);
    rf_linz_result_close(&r);
    rf_history_close(&h);
}
END_TEST

Suite *linz_suite(void)
{
    Suite *s = suite_create("linz");
    TCase *tc = tcase_create("hand_written");
    tcase_add_test(tc, test_linz_accepts_empty_and_sequential_histories);
    tcase_add_test(tc, test_linz_rejects_sequential_wrong_reply);
    tcase_add_test(tc, test_linz_accepts_concurrent_ops_in_either_order);
    tcase_add_test(tc, test_linz_rejects_stale_read_after_completed_write);
    tcase_add_test(tc, test_linz_unknown_inc_that_must_have_happened);
    tcase_add_test(tc, test_linz_unknown_inc_that_must_not_have_happened);
    tcase_add_test(tc, test_linz_fail_ops_surely_did_not_happen);
    tcase_add_test(tc, test_linz_kv_cas_cases);
    tcase_add_test(tc, test_linz_explains_a_violation);
    tcase_add_test(tc, test_linz_kv_checks_each_key_and_reports_whole_history_positions);
    tcase_add_test(tc, test_linz_refuses_malformed_histories);
    tcase_add_test(tc, test_linz_reports_a_nondeterministic_model_when_a_replay_differs);
    suite_add_tcase(s, tc);
    TCase *big = tcase_create("random");
    tcase_set_timeout(big, 60);
    tcase_add_loop_test(big, test_linz_accepts_large_random_history_and_rejects_one_corrupted_reply, 0, 3);
    tcase_add_loop_test(big, test_linz_accepts_random_kv_histories_with_unknowns, 0, 5);
    tcase_add_test(big, test_linz_budget_exhausted_is_unknown_never_yes);
    tcase_add_test(big, test_linz_tiny_memo_still_gives_the_right_verdict);
    suite_add_tcase(s, big);
    return s;
}

/* Tests of sim/linz.c against a brute-force search on small histories. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/history.h"
#include "sim/linz.h"
#include "tests/sim/linz_gen.h"

#define BF_OPS_MAX 8

/* Every order of every subset of the ops (fail ops and unknown queries
 * excluded; unknown commands optional) that respects real time: an op may
 * go next unless some unplaced ok op returned before it was called. */
static bool bf_search(const rf_model *m, const rf_history *h, const void *st, unsigned used)
{
    bool all_ok_placed = true;
    for (size_t i = 0; i < h->count; i++)
        if (h->ops[i].status == RF_OP_OK && !(used & (1u << i)))
            all_ok_placed = false;
    if (all_ok_placed)
        return true;
    for (size_t i = 0; i < h->count; i++) {
        const rf_op *op = &h->ops[i];
        if ((used & (1u << i)) || op->status == RF_OP_FAIL ||
            (op->status == RF_OP_UNKNOWN && op->kind == RF_OP_QUERY))
            continue;
        bool blocked = false;
        for (size_t j = 0; j < h->count; j++)
            if (j != i && !(used & (1u << j)) && h->ops[j].status == RF_OP_OK &&
                h->ops[j].return_ns < op->call_ns)
                blocked = true;
        if (blocked)
            continue;
        uint8_t enc[4096], reply[256];
        size_t len = 0, rlen = 0;
        ck_assert_int_eq(m->encode(st, enc, sizeof enc, &len), RF_OK);
        void *next = m->decode(enc, len);
        if (op->kind == RF_OP_QUERY)
            m->query(next, op->input, op->input_len, reply, sizeof reply, &rlen);
        else
            m->command(next, op->input, op->input_len, reply, sizeof reply, &rlen);
        bool match = op->status == RF_OP_UNKNOWN ||
                     (rlen == op->reply_len && memcmp(reply, op->reply, rlen) == 0);
        bool found = match && bf_search(m, h, next, used | (1u << i));
        m->destroy(next);
        if (found)
            return true;
    }
    return false;
}

static void small_int_op(rf_pcg32 *rng, char *in, rf_op_kind *kind)
{
    uint32_t r = rf_pcg32_bounded(rng, 10);
    *kind = r < 4 ? RF_OP_QUERY : RF_OP_COMMAND;
    if (r < 4)
        strcpy(in, "get");
    else if (r < 8)
        strcpy(in, "inc");
    else
        snprintf(in, 64, "set %u", rf_pcg32_bounded(rng, 3));
}

/* Two keys, so that the key-by-key check is compared with brute force on
 * the whole history. */
static void small_kv_op(rf_pcg32 *rng, char *in, rf_op_kind *kind)
{
    uint32_t r = rf_pcg32_bounded(rng, 10), a = rf_pcg32_bounded(rng, 3), b = rf_pcg32_bounded(rng, 3);
    uint32_t k = rf_pcg32_bounded(rng, 2);
    *kind = r < 3 ? RF_OP_QUERY : RF_OP_COMMAND;
    if (r < 3)
        snprintf(in, 64, "get k%u", k);
    else if (r < 6)
        snprintf(in, 64, "put k%u v%u", k, a);
    else if (r < 7)
        snprintf(in, 64, "del k%u", k);
    else if (a == 0)
        snprintf(in, 64, "cas k%u nil v%u", k, b);
    else
        snprintf(in, 64, "cas k%u v%u v%u", k, a, b);
}

/* A small random history, replies from a random execution, then perhaps
 * one reply swapped for another plausible one. */
static void small_history(rf_history *h, const rf_model *m, rf_pcg32 *rng, unsigned unknown)
{
    gen_cfg cfg = {.model = m, .ops = 2 + rf_pcg32_bounded(rng, BF_OPS_MAX - 1),
                   .clients = 1 + rf_pcg32_bounded(rng, 4), .unknown_permille = unknown,
                   .fail_permille = 100, .seed = rf_pcg32_next64(rng),
                   .make_op = m == &rf_model_int ? small_int_op : small_kv_op};
    ck_assert_int_eq(rf_history_init(h, "g"), RF_OK);
    gen_history(&cfg, h);
    if (rf_pcg32_bounded(rng, 2) == 0) {
        rf_op *op = &h->ops[rf_pcg32_bounded(rng, (uint32_t)h->count)];
        static const char *alts[] = {"0", "1", "2", "nil", "ok", "fail", "v1", "v2"};
        const char *alt = alts[rf_pcg32_bounded(rng, 8)];
        if (op->status == RF_OP_OK) {
            free(op->reply);
            op->reply = (uint8_t *)strdup(alt);
            op->reply_len = strlen(alt);
        }
    }
}

START_TEST(test_linz_agrees_with_brute_force_on_small_histories)
{
    /* int and kv, with a fifth or nearly half of the ops unknown. */
    const rf_model *m = _i % 2 == 0 ? &rf_model_int : &rf_model_kv;
    unsigned unknown = _i < 2 ? 200 : 450;
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 2024, (uint64_t)_i);
    int yes = 0, no = 0;
    for (int t = 0; t < 3000; t++) {
        rf_history h;
        rf_linz_result r;
        small_history(&h, m, &rng, unknown);
        void *st = m->create();
        bool want = bf_search(m, &h, st, 0);
        m->destroy(st);
        /* Every other history keeps few states, so backtracking rebuilds them. */
        rf_linz_config cfg = {.state_stride = t % 2 == 0 ? 0 : 2};
        ck_assert_int_eq(rf_linz_check(m, &h, &cfg, &r), RF_OK);
        if (want != (r.verdict == RF_LINZ_LINEARIZABLE) || r.verdict == RF_LINZ_UNKNOWN) {
            char text[8192];
            rf_linz_explain(&h, &r, text, sizeof text);
            ck_abort_msg("history %d: brute force says %d, checker %d\n%s", t, want, r.verdict, text);
        }
        want ? yes++ : no++;
        rf_linz_result_close(&r);
        rf_history_close(&h);
    }
    /* Both verdicts were exercised. */
    ck_assert_int_gt(yes, 500);
    ck_assert_int_gt(no, 200);
}
END_TEST

Suite *linz_brute_suite(void)
{
    Suite *s = suite_create("linz_brute");
    TCase *tc = tcase_create("brute_force");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_linz_agrees_with_brute_force_on_small_histories, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

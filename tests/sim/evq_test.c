/* Tests of sim/evq.c and sim/engine.c: event order, bounds, trace hash, seed streams. */
#include <check.h>
#include <stdlib.h>

#include "base/rf_err.h"
#include "sim/engine.h"
#include "sim/evq.h"

START_TEST(test_evq_pops_in_time_order_and_ties_in_push_order)
{
    rf_sim_evq q;
    ck_assert_int_eq(rf_sim_evq_init(&q, 100000), RF_OK);
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 1, 2);
    /* Few distinct times, so most events tie; arg records push order. */
    for (uint64_t i = 0; i < 50000; i++) {
        rf_sim_event ev = {.time_ns = rf_pcg32_bounded(&rng, 64), .arg = i};
        ck_assert_int_eq(rf_sim_evq_push(&q, &ev), RF_OK);
    }
    rf_sim_event prev = {0}, ev;
    uint64_t n = 0;
    while (rf_sim_evq_pop(&q, &ev)) {
        if (n > 0) {
            ck_assert_uint_ge(ev.time_ns, prev.time_ns);
            if (ev.time_ns == prev.time_ns)
                ck_assert_uint_gt(ev.arg, prev.arg);
        }
        prev = ev;
        n++;
    }
    ck_assert_uint_eq(n, 50000);
    rf_sim_evq_close(&q);
}
END_TEST

START_TEST(test_evq_refuses_pushes_beyond_its_bound)
{
    rf_sim_evq q;
    ck_assert_int_eq(rf_sim_evq_init(&q, 3), RF_OK);
    rf_sim_event ev = {.time_ns = 5};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(rf_sim_evq_push(&q, &ev), RF_OK);
    ck_assert_int_eq(rf_sim_evq_push(&q, &ev), RF_EFULL);
    ck_assert_uint_eq(rf_sim_evq_len(&q), 3);
    ck_assert_ptr_nonnull(rf_sim_evq_peek(&q));
    rf_sim_evq_close(&q);
}
END_TEST

typedef struct chain_ctx {
    rf_pcg32 rng;
    uint64_t fired;
    uint64_t last_time;
} chain_ctx;

/* Each event schedules two more at random delays until 20000 have fired. */
static void chain_handle(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    chain_ctx *c = ctx;
    ck_assert_uint_ge(ev->time_ns, c->last_time);
    c->last_time = ev->time_ns;
    c->fired++;
    for (int i = 0; i < 2 && c->fired < 20000; i++) {
        uint64_t d = rf_pcg32_bounded(&c->rng, 1000);
        rf_sim_trace_u64(&e->trace, d);
        ck_assert_int_eq(rf_sim_engine_after(e, d, 1, ev->node + 1, d, NULL), RF_OK);
    }
}

static uint64_t run_chain(uint64_t seed, uint64_t *fired)
{
    rf_sim_engine e;
    ck_assert_int_eq(rf_sim_engine_init(&e, seed, 1u << 20), RF_OK);
    chain_ctx c = {0};
    rf_sim_engine_stream(&e, &c.rng, "workload", 0);
    rf_sim_engine_on(&e, 1, chain_handle, NULL, &c);
    ck_assert_int_eq(rf_sim_engine_at(&e, 0, 1, 0, 0, NULL), RF_OK);
    rf_sim_engine_run_until(&e, UINT64_MAX);
    *fired = c.fired;
    uint64_t h = e.trace.h;
    rf_sim_engine_close(&e);
    return h;
}

START_TEST(test_trace_hash_same_seed_same_hash_other_seed_other_hash)
{
    uint64_t f1, f2, f3;
    uint64_t h1 = run_chain(7, &f1);
    uint64_t h2 = run_chain(7, &f2);
    uint64_t h3 = run_chain(8, &f3);
    ck_assert_uint_eq(h1, h2);
    ck_assert_uint_eq(f1, f2);
    ck_assert_uint_ne(h1, h3);
    ck_assert_uint_ge(f1, 20000);
}
END_TEST

START_TEST(test_streams_are_independent_per_subsystem_and_index)
{
    rf_sim_engine e;
    ck_assert_int_eq(rf_sim_engine_init(&e, 42, 16), RF_OK);
    rf_pcg32 a, b, c, a2;
    rf_sim_engine_stream(&e, &a, "node", 1);
    rf_sim_engine_stream(&e, &b, "node", 2);
    rf_sim_engine_stream(&e, &c, "network", 0);
    rf_sim_engine_stream(&e, &a2, "node", 1);
    uint32_t va = rf_pcg32_next(&a), vb = rf_pcg32_next(&b), vc = rf_pcg32_next(&c);
    ck_assert_uint_ne(va, vb);
    ck_assert_uint_ne(va, vc);
    ck_assert_uint_eq(va, rf_pcg32_next(&a2));
    rf_sim_engine_close(&e);
}
END_TEST

static int dropped;
static void count_handle(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    (void)e;
    (void)ev;
    (*(int *)ctx)++;
}
static void free_drop(void *ctx, const rf_sim_event *ev)
{
    (void)ctx;
    free(ev->ptr);
    dropped++;
}

START_TEST(test_engine_runs_until_a_time_and_drops_the_rest_on_close)
{
    rf_sim_engine e;
    int handled = 0;
    ck_assert_int_eq(rf_sim_engine_init(&e, 1, 16), RF_OK);
    rf_sim_engine_on(&e, 3, count_handle, free_drop, &handled);
    ck_assert_int_eq(rf_sim_engine_at(&e, 100, 3, 0, 0, NULL), RF_OK);
    ck_assert_int_eq(rf_sim_engine_at(&e, 200, 3, 0, 0, NULL), RF_OK);
    ck_assert_int_eq(rf_sim_engine_at(&e, 300, 3, 0, 0, malloc(8)), RF_OK);
    ck_assert_uint_eq(rf_sim_engine_run_until(&e, 250), 2);
    ck_assert_uint_eq(e.now_ns, 250);
    ck_assert_int_eq(handled, 2);
    dropped = 0;
    rf_sim_engine_close(&e);
    ck_assert_int_eq(dropped, 1);
}
END_TEST

Suite *sim_evq_suite(void)
{
    Suite *s = suite_create("sim_evq");
    TCase *tc = tcase_create("engine");
    tcase_add_test(tc, test_evq_pops_in_time_order_and_ties_in_push_order);
    tcase_add_test(tc, test_evq_refuses_pushes_beyond_its_bound);
    tcase_add_test(tc, test_trace_hash_same_seed_same_hash_other_seed_other_hash);
    tcase_add_test(tc, test_streams_are_independent_per_subsystem_and_index);
    tcase_add_test(tc, test_engine_runs_until_a_time_and_drops_the_rest_on_close);
    suite_add_tcase(s, tc);
    return s;
}

/* Tests of core/fleet/node_req.c's pending table: lookups by token across drops and sweeps. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "fleet/node_int.h"

enum { ROUNDS = 6, PER_ROUND = 700, TOKENS = ROUNDS * PER_ROUND + 1 };

/* Every token ever handed out is found exactly when its entry is alive. */
static void check_all(rf_node *n, const bool *alive, uint64_t issued)
{
    ck_assert_ptr_null(rf_node__pending(n, 0));
    ck_assert_ptr_null(rf_node__pending(n, issued + 1));
    for (uint64_t t = 1; t <= issued; t++) {
        node_pending *p = rf_node__pending(n, t);
        if (alive[t]) {
            ck_assert_ptr_nonnull(p);
            ck_assert_uint_eq(p->token, t);
        } else {
            ck_assert_ptr_null(p);
        }
    }
}

/* Entries are added, some dropped (left dead in place), and the dead swept
 * out at each tick, round after round: the lookup narrows its search to
 * the window the token can be in, which must hold it in every state. */
START_TEST(test_pending_lookup_finds_exactly_the_live_tokens_across_sweeps)
{
    rf_node *n = calloc(1, sizeof *n);
    ck_assert_ptr_nonnull(n);
    n->next_token = 1;
    static bool alive[TOKENS];
    uint64_t issued = 0, rng = 12345;
    check_all(n, alive, issued);
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < PER_ROUND; i++) {
            node_pending *p = rf_node__pending_new(n, NODE_PEND_SERVE);
            ck_assert_ptr_nonnull(p);
            p->deadline = UINT64_MAX; /* never times out at the tick */
            issued = p->token;
            alive[issued] = true;
        }
        check_all(n, alive, issued);
        /* Drop about half of the live ones, the first and last included
         * in some rounds. */
        for (uint64_t t = 1; t <= issued; t++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            bool edge = (round % 2 == 0) && (t == 1 || t == issued);
            if (alive[t] && (edge || (rng >> 62) < 2)) {
                rf_node__pending_drop(n, t);
                alive[t] = false;
            }
        }
        check_all(n, alive, issued);
        rf_node__pending_tick(n); /* sweeps the dead */
        ck_assert_uint_eq(n->pending_dead, 0);
        check_all(n, alive, issued);
    }
    free(n->pending.p);
    free(n);
}
END_TEST

Suite *fleet_node_pending_suite(void)
{
    Suite *s = suite_create("fleet_node_pending");
    TCase *tc = tcase_create("node_pending");
    tcase_add_test(tc, test_pending_lookup_finds_exactly_the_live_tokens_across_sweeps);
    suite_add_tcase(s, tc);
    return s;
}

/* Tests of sim/zone_check.c: placement's zone rule, checked without the placement code. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "base/rf_pcg.h"
#include "placement/rf_placement.h"
#include "sim/zone_check.h"
#include "tests/core/fleet/fleet_helpers.h"

#define NODES_MAX 16

/* A cluster given as one zone letter per node ("aabbc": n1 n2 in a, ...);
 * '-' marks a draining node of zone d (in no placement). Ids are 1..n. */
typedef struct cluster {
    rf_sim_zone_node nodes[NODES_MAX];
    char zones[NODES_MAX][2];
    size_t n;
} cluster;

static void cluster_init(cluster *c, const char *spec)
{
    c->n = strlen(spec);
    ck_assert_uint_le(c->n, NODES_MAX);
    for (size_t i = 0; i < c->n; i++) {
        c->zones[i][0] = spec[i] == '-' ? 'd' : spec[i];
        c->zones[i][1] = '\0';
        c->nodes[i] = (rf_sim_zone_node){i + 1, c->zones[i], spec[i] != '-'};
    }
}

static bool spread(const char *spec, uint32_t replicas, const uint64_t *members, size_t n,
                   char *why, size_t cap)
{
    cluster c;
    cluster_init(&c, spec);
    return rf_sim_zone_spread_ok(c.nodes, c.n, replicas, members, n, why, cap);
}

START_TEST(test_one_member_per_zone_holds_and_two_in_a_zone_with_a_free_zone_fails)
{
    char why[300];
    /* n1 a, n2 b, n3 c, n4 a, n5 b, n6 c */
    ck_assert(spread("abcabc", 3, (uint64_t[]){1, 2, 3}, 3, why, sizeof why));
    ck_assert(spread("abcabc", 3, (uint64_t[]){4, 5, 3}, 3, why, sizeof why));
    ck_assert(!spread("abcabc", 3, (uint64_t[]){1, 4, 2}, 3, why, sizeof why));
    ck_assert_msg(strstr(why, "2 members in zone a") != NULL, "%s", why);
    ck_assert_msg(strstr(why, "zone c has 0 of its 2") != NULL, "%s", why);
    /* Five over three zones of two: 2, 2, 1 in any order; 2, 2, 1 only. */
    ck_assert(spread("abcabc", 5, (uint64_t[]){1, 2, 3, 4, 5}, 5, why, sizeof why));
    ck_assert(spread("abcabc", 5, (uint64_t[]){6, 2, 3, 4, 5}, 5, why, sizeof why));
}
END_TEST

START_TEST(test_unequal_zones_let_the_large_zone_take_what_the_small_ones_cannot)
{
    char why[300];
    /* a: one node, b: four. Five replicas: 1 + 4, more than ceil(5/2) in b. */
    ck_assert_msg(spread("abbbb", 5, (uint64_t[]){1, 2, 3, 4, 5}, 5, why, sizeof why), "%s", why);
    /* Three replicas: a's node first, then two of b. */
    ck_assert(spread("abbbb", 3, (uint64_t[]){1, 3, 5}, 3, why, sizeof why));
    /* Three of b and none of a breaks it: a has a free node. */
    ck_assert(!spread("abbbb", 3, (uint64_t[]){2, 3, 4}, 3, why, sizeof why));
    /* Zones a, b of three and c of one, four replicas: (2,1,1) or (1,2,1), never (2,2,0). */
    ck_assert(spread("abcabab", 4, (uint64_t[]){1, 4, 2, 3}, 4, why, sizeof why));
    ck_assert(!spread("abcabab", 4, (uint64_t[]){1, 4, 2, 5}, 4, why, sizeof why));
    /* Seven replicas: every node (3, 3, 1). */
    ck_assert(spread("abcabab", 7, (uint64_t[]){1, 2, 3, 4, 5, 6, 7}, 7, why, sizeof why));
}
END_TEST

START_TEST(test_members_on_inactive_nodes_twice_or_miscounted_fail)
{
    char why[300];
    /* n3 drains (zone d): not a placement candidate. */
    ck_assert(spread("ab-ab", 3, (uint64_t[]){1, 2, 4}, 3, why, sizeof why));
    ck_assert(!spread("ab-ab", 3, (uint64_t[]){1, 2, 3}, 3, why, sizeof why));
    ck_assert_msg(strstr(why, "node 3 is not an active node") != NULL, "%s", why);
    ck_assert(!spread("ab-ab", 3, (uint64_t[]){1, 2, 9}, 3, why, sizeof why));
    ck_assert(!spread("abab", 3, (uint64_t[]){1, 2, 1}, 3, why, sizeof why));
    ck_assert_msg(strstr(why, "twice") != NULL, "%s", why);
    /* Too few, too many: min(replicas, active nodes). */
    ck_assert(!spread("abab", 3, (uint64_t[]){1, 2}, 2, why, sizeof why));
    ck_assert_msg(strstr(why, "2 members where min(replicas 3, active nodes 4) is 3") != NULL,
                  "%s", why);
    ck_assert(spread("ab-", 3, (uint64_t[]){1, 2}, 2, why, sizeof why));
    ck_assert(!spread("ab", 1, (uint64_t[]){1, 2}, 2, why, sizeof why));
    /* One zone: any members. */
    ck_assert(spread("aaaa", 3, (uint64_t[]){4, 2, 3}, 3, why, sizeof why));
}
END_TEST

/* The checker against core/placement over random clusters: every target
 * placement computes follows the rule, and the ranking without zones
 * (by score alone, what a placement ignoring zones gives) often does not. */
START_TEST(test_every_placement_target_follows_the_rule_and_zone_blind_ranking_breaks_it)
{
    rf_pcg32 rng;
    rf_pcg32_derive(&rng, 7, "zone-check-test", 0);
    uint32_t blind_broken = 0;
    for (int round = 0; round < 400; round++) {
        uint32_t n = 1 + rf_pcg32_bounded(&rng, NODES_MAX), zones = 1 + rf_pcg32_bounded(&rng, 4);
        char spec[NODES_MAX + 1], names[NODES_MAX][16];
        rf_placement_node pn[NODES_MAX];
        for (uint32_t i = 0; i < n; i++) {
            spec[i] = (char)('a' + rf_pcg32_bounded(&rng, zones));
            snprintf(names[i], sizeof names[i], "n%u", i + 1);
        }
        spec[n] = '\0';
        cluster c;
        cluster_init(&c, spec);
        for (uint32_t i = 0; i < n; i++)
            pn[i] = (rf_placement_node){names[i], c.zones[i]};
        rf_placement *p;
        ck_assert_int_eq(rf_placement_init(&p, pn, n), RF_OK);
        char group[16], why[300];
        snprintf(group, sizeof group, "g%d", round);
        uint32_t replicas = 1 + rf_pcg32_bounded(&rng, 7), idx[NODES_MAX];
        size_t k;
        ck_assert_int_eq(rf_placement_members(p, group, replicas, idx, NODES_MAX, &k), RF_OK);
        rf_placement_close(p);
        uint64_t ids[NODES_MAX];
        for (size_t i = 0; i < k; i++)
            ids[i] = idx[i] + 1;
        ck_assert_msg(rf_sim_zone_spread_ok(c.nodes, n, replicas, ids, k, why, sizeof why),
                      "%s: %s", spec, why);
        /* Zone-blind: the k lowest scores. */
        bool taken[NODES_MAX] = {false};
        for (size_t i = 0; i < k; i++) {
            uint32_t best = UINT32_MAX;
            for (uint32_t j = 0; j < n; j++)
                if (!taken[j] && (best == UINT32_MAX || rf_placement_hash(names[j], group) <
                                                            rf_placement_hash(names[best], group)))
                    best = j;
            taken[best] = true;
            ids[i] = best + 1;
        }
        blind_broken += !rf_sim_zone_spread_ok(c.nodes, n, replicas, ids, k, why, sizeof why);
    }
    ck_assert_uint_gt(blind_broken, 40);
}
END_TEST

START_TEST(test_a_converged_fleet_follows_the_rule)
{
    static const char *const zones[] = {"z1", "z2", "z3", "z1", "z2", "z3", "z1"};
    rf_sim_fleet *f = fleet_new(7, 5);
    activate_all(f, zones, 7);
    add_groups(f, 0, 6, 3);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 0, "five", 5, "int"), NULL), RF_OK);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    char why[320] = "";
    ck_assert_msg(rf_sim_fleet_zone_rule(f, why, sizeof why), "%s", why);
    fleet_done(f);
}
END_TEST

Suite *zone_check_suite(void)
{
    Suite *s = suite_create("zone_check");
    TCase *tc = tcase_create("zone_check");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_one_member_per_zone_holds_and_two_in_a_zone_with_a_free_zone_fails);
    tcase_add_test(tc, test_unequal_zones_let_the_large_zone_take_what_the_small_ones_cannot);
    tcase_add_test(tc, test_members_on_inactive_nodes_twice_or_miscounted_fail);
    tcase_add_test(tc, test_every_placement_target_follows_the_rule_and_zone_blind_ranking_breaks_it);
    tcase_add_test(tc, test_a_converged_fleet_follows_the_rule);
    suite_add_tcase(s, tc);
    return s;
}

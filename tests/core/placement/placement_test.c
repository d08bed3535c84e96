/* Tests of core/placement/rf_placement.c: golden placements, placement properties, balance. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/rf_err.h"
#include "base/rf_pcg.h"
#include "placement/rf_placement.h"

#define MEMBERS_MAX 16

/* Places group and returns the member names (pointers into nodes). */
static size_t place(const rf_placement_node *nodes, size_t n, const char *group,
                    uint32_t replicas, const char **names)
{
    rf_placement *p;
    ck_assert_int_eq(rf_placement_init(&p, nodes, n), RF_OK);
    uint32_t idx[MEMBERS_MAX];
    size_t count;
    ck_assert_int_eq(rf_placement_members(p, group, replicas, idx, MEMBERS_MAX, &count), RF_OK);
    for (size_t i = 0; i < count; i++)
        names[i] = nodes[idx[i]].name;
    rf_placement_close(p);
    return count;
}

/* ---- golden values: any change to the hash or the algorithm shows here ---- */

START_TEST(test_hash_matches_documented_vectors)
{
    static const struct {
        const char *node, *group;
        uint64_t h;
    } v[] = {
        {"n1", "consensus1", 0x616b3c1cea187f24ULL},
        {"n2", "consensus1", 0x9922af49bc295693ULL},
        {"zone-node@host.example", "g", 0x0037e2e5d5e9a3afULL},
        {"a", "bc", 0xafda0315f176e631ULL},
        {"ab", "c", 0x6ed6546e665ffcbcULL},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        ck_assert_msg(rf_placement_hash(v[i].node, v[i].group) == v[i].h, "vector %zu", i);
}
END_TEST

START_TEST(test_golden_quickstart_placement)
{
    /* RaftFleet's README cluster: n1, n3 in zone1; n2, n4 in zone2. */
    static const rf_placement_node nodes[] = {
        {"n1", "zone1"}, {"n2", "zone2"}, {"n3", "zone1"}, {"n4", "zone2"}};
    static const char *want[5][3] = {
        {"n4", "n1", "n3"}, {"n2", "n1", "n3"}, {"n2", "n3", "n4"},
        {"n3", "n4", "n2"}, {"n4", "n3", "n2"}};
    for (int g = 0; g < 5; g++) {
        char group[32];
        snprintf(group, sizeof group, "consensus%d", g + 1);
        const char *got[MEMBERS_MAX];
        ck_assert_uint_eq(place(nodes, 4, group, 3, got), 3);
        for (int i = 0; i < 3; i++)
            ck_assert_str_eq(got[i], want[g][i]);
    }
}
END_TEST

START_TEST(test_golden_seven_nodes_three_zones)
{
    static const rf_placement_node nodes[] = {{"n1", "z1"}, {"n2", "z2"}, {"n3", "z3"},
                                              {"n4", "z1"}, {"n5", "z2"}, {"n6", "z3"},
                                              {"n7", "z1"}};
    static const struct {
        const char *group;
        const char *members[5];
    } want[] = {
        {"users", {"n7", "n6", "n5", "n1", "n3"}},
        {"orders", {"n3", "n2", "n4", "n6", "n1"}},
        {"consensus1", {"n6", "n4", "n2", "n1", "n3"}},
        {"consensus2", {"n2", "n7", "n6", "n5", "n1"}},
        {"metadata", {"n7", "n2", "n6", "n1", "n5"}},
        {"a", {"n7", "n6", "n2", "n1", "n5"}},
        {"group-with-a-longer-name-0001", {"n3", "n1", "n5", "n2", "n7"}},
    };
    for (size_t g = 0; g < sizeof want / sizeof want[0]; g++) {
        const char *got[MEMBERS_MAX];
        ck_assert_uint_eq(place(nodes, 7, want[g].group, 5, got), 5);
        for (int i = 0; i < 5; i++)
            ck_assert_msg(strcmp(got[i], want[g].members[i]) == 0, "%s member %d: %s", want[g].group,
                          i, got[i]);
    }
}
END_TEST

START_TEST(test_placement_ignores_node_array_order)
{
    static const rf_placement_node a[] = {{"n1", "z1"}, {"n2", "z2"}, {"n3", "z3"},
                                          {"n4", "z1"}, {"n5", "z2"}};
    static const rf_placement_node b[] = {{"n5", "z2"}, {"n3", "z3"}, {"n1", "z1"},
                                          {"n4", "z1"}, {"n2", "z2"}};
    for (int g = 0; g < 200; g++) {
        char group[32];
        snprintf(group, sizeof group, "g%d", g);
        const char *x[MEMBERS_MAX], *y[MEMBERS_MAX];
        ck_assert_uint_eq(place(a, 5, group, 4, x), 4);
        ck_assert_uint_eq(place(b, 5, group, 4, y), 4);
        for (int i = 0; i < 4; i++)
            ck_assert_str_eq(x[i], y[i]);
    }
}
END_TEST

/* ---- properties over random clusters ---- */

/* A random cluster of n nodes over z zones; names live in the buffers. */
typedef struct cluster {
    rf_placement_node nodes[64];
    char names[64][32];
    char zones[8][32];
    size_t n;
} cluster;

static void cluster_make(cluster *c, rf_pcg32 *rng, size_t n, size_t z)
{
    c->n = n;
    for (size_t i = 0; i < z; i++)
        snprintf(c->zones[i], sizeof c->zones[i], "zone%zu", i);
    for (size_t i = 0; i < n; i++) {
        snprintf(c->names[i], sizeof c->names[i], "node%zu", i);
        c->nodes[i].name = c->names[i];
        /* the first z nodes cover every zone, the rest land anywhere */
        size_t zone = i < z ? i : rf_pcg32_bounded(rng, (uint32_t)z);
        c->nodes[i].zone = c->zones[zone];
    }
}

START_TEST(test_members_round_robin_over_zones_and_head_is_lowest_hash)
{
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 2024, 1);
    for (int trial = 0; trial < 200; trial++) {
        cluster c;
        size_t z = 1 + rf_pcg32_bounded(&rng, 4);
        cluster_make(&c, &rng, z + rf_pcg32_bounded(&rng, 9), z);
        uint32_t replicas = 1 + rf_pcg32_bounded(&rng, 7);
        char group[32];
        snprintf(group, sizeof group, "group-%d", trial);
        const char *m[MEMBERS_MAX];
        size_t k = place(c.nodes, c.n, group, replicas, m);
        ck_assert_uint_eq(k, replicas < c.n ? replicas : c.n);

        /* The head has the lowest score of all nodes. */
        for (size_t i = 0; i < c.n; i++)
            ck_assert(rf_placement_hash(m[0], group) <= rf_placement_hash(c.names[i], group));
        /* Every prefix is round-robin: no zone gets a second member while
         * another zone that still has unused nodes has fewer. */
        size_t per_zone[8] = {0}, zone_size[8] = {0};
        for (size_t i = 0; i < c.n; i++)
            zone_size[c.nodes[i].zone[4] - '0']++;
        for (size_t i = 0; i < k; i++) {
            size_t zi = 0;
            for (size_t j = 0; j < c.n; j++)
                if (c.nodes[j].name == m[i])
                    zi = (size_t)(c.nodes[j].zone[4] - '0');
            for (size_t other = 0; other < z; other++)
                if (per_zone[other] < zone_size[other])
                    ck_assert_uint_le(per_zone[zi], per_zone[other]);
            per_zone[zi]++;
        }
        /* Fewer replicas give a prefix of the same list. */
        if (k > 1) {
            const char *shorter[MEMBERS_MAX];
            ck_assert_uint_eq(place(c.nodes, c.n, group, (uint32_t)k - 1, shorter), k - 1);
            for (size_t i = 0; i + 1 < k; i++)
                ck_assert_ptr_eq(shorter[i], m[i]);
        }
    }
}
END_TEST

#define CHURN_GROUPS 10000

/* Members of CHURN_GROUPS groups of 3 as bitmasks over node indexes. */
static void place_all(const rf_placement_node *nodes, size_t n, uint32_t *masks)
{
    rf_placement *p;
    ck_assert_int_eq(rf_placement_init(&p, nodes, n), RF_OK);
    for (int g = 0; g < CHURN_GROUPS; g++) {
        char group[32];
        snprintf(group, sizeof group, "g%05d", g);
        uint32_t idx[3];
        size_t count;
        ck_assert_int_eq(rf_placement_members(p, group, 3, idx, 3, &count), RF_OK);
        masks[g] = 0;
        for (size_t i = 0; i < count; i++)
            masks[g] |= 1u << idx[i];
    }
    rf_placement_close(p);
}

/* Adds node `n` (the last of the array) to the first n nodes and checks
 * that members move only onto it, as many as it ends up holding, and that
 * this count is within 10% of its fair share `expected`. */
static void check_add_moves_only_into_new_node(const rf_placement_node *nodes, size_t n,
                                               double expected)
{
    static uint32_t before[CHURN_GROUPS], after[CHURN_GROUPS];
    place_all(nodes, n, before);
    place_all(nodes, n + 1, after);
    uint32_t new_bit = 1u << n;
    long moved_in = 0, held = 0;
    for (int g = 0; g < CHURN_GROUPS; g++) {
        uint32_t in = after[g] & ~before[g];
        ck_assert_msg((in & ~new_bit) == 0, "group %d gained an old node", g);
        moved_in += __builtin_popcount(in);
        held += (after[g] & new_bit) != 0;
    }
    /* The minimum is what the new node must hold; nothing more moved. */
    ck_assert_int_eq(moved_in, held);
    ck_assert_msg(moved_in >= 0.9 * expected && moved_in <= 1.1 * expected,
                  "moved %ld, fair share %.0f", moved_in, expected);

    /* Removing it again is the same change backwards: members leave only
     * the removed node, and each is replaced by exactly one other. */
    long moved_out = 0;
    for (int g = 0; g < CHURN_GROUPS; g++) {
        uint32_t leaving = after[g] & ~before[g];
        uint32_t joining = before[g] & ~after[g];
        ck_assert((leaving & ~new_bit) == 0);
        moved_out += __builtin_popcount(leaving);
        ck_assert_int_eq(__builtin_popcount(joining), __builtin_popcount(leaving));
    }
    ck_assert_int_eq(moved_out, held);
}

START_TEST(test_adding_node_to_one_zone_moves_its_fair_share_only_into_it)
{
    rf_placement_node nodes[10];
    char names[10][16];
    for (int i = 0; i < 10; i++) {
        snprintf(names[i], sizeof names[i], "n%d", i);
        nodes[i].name = names[i];
        nodes[i].zone = "z";
    }
    /* One zone, 9 -> 10 nodes: the new node holds 3/10 of 30,000 members. */
    check_add_moves_only_into_new_node(nodes, 9, CHURN_GROUPS * 3.0 / 10.0);
}
END_TEST

START_TEST(test_adding_node_to_three_zones_moves_its_fair_share_only_into_it)
{
    rf_placement_node nodes[10];
    char names[10][16];
    static const char *zones[3] = {"za", "zb", "zc"};
    for (int i = 0; i < 10; i++) {
        snprintf(names[i], sizeof names[i], "n%d", i);
        nodes[i].name = names[i];
        nodes[i].zone = zones[i % 3];
    }
    /* 3 zones of 3, the 10th node joins zone za: every group has one member
     * in za, and the new node wins it for 1/4 of the groups. */
    check_add_moves_only_into_new_node(nodes, 9, CHURN_GROUPS / 4.0);
}
END_TEST

START_TEST(test_removing_node_moves_members_only_out_of_it)
{
    rf_placement_node nodes[10];
    char names[10][16];
    static const char *zones[3] = {"za", "zb", "zc"};
    for (int i = 0; i < 10; i++) {
        snprintf(names[i], sizeof names[i], "n%d", i);
        nodes[i].name = names[i];
        nodes[i].zone = zones[i % 3];
    }
    static uint32_t full[CHURN_GROUPS], less[CHURN_GROUPS];
    place_all(nodes, 10, full);
    /* Remove n4 (zone zb): move the last node into its slot. */
    rf_placement_node smaller[10];
    memcpy(smaller, nodes, sizeof nodes);
    smaller[4] = nodes[9];
    place_all(smaller, 9, less);
    long lost = 0, gained_total = 0;
    for (int g = 0; g < CHURN_GROUPS; g++) {
        /* translate `less` back to the original indexes */
        uint32_t m = less[g] & ~(1u << 4);
        if (less[g] & (1u << 4))
            m |= 1u << 9;
        uint32_t out = full[g] & ~m, in = m & ~full[g];
        ck_assert_msg((out & ~(1u << 4)) == 0, "group %d lost a surviving node", g);
        lost += __builtin_popcount(out);
        gained_total += __builtin_popcount(in);
    }
    ck_assert_int_eq(lost, gained_total);
    ck_assert_msg(lost >= 0.9 * CHURN_GROUPS / 3.0 && lost <= 1.1 * CHURN_GROUPS / 3.0,
                  "moved %ld", lost);
}
END_TEST

START_TEST(test_added_members_counts_only_the_new_nodes_share)
{
    rf_placement_node nodes[6];
    char names[6][16];
    static const char *zones[3] = {"za", "zb", "zc"};
    for (int i = 0; i < 6; i++) {
        snprintf(names[i], sizeof names[i], "n%d", i);
        nodes[i].name = names[i];
        nodes[i].zone = zones[i % 3];
    }
    /* `after` lists the nodes in another order: names, not indexes, count */
    rf_placement_node shuffled[6] = {nodes[5], nodes[2], nodes[0], nodes[4], nodes[1], nodes[3]};
    rf_placement *before, *after, *empty;
    ck_assert_int_eq(rf_placement_init(&before, nodes, 5), RF_OK);
    ck_assert_int_eq(rf_placement_init(&after, shuffled, 6), RF_OK);
    ck_assert_int_eq(rf_placement_init(&empty, NULL, 0), RF_OK);
    uint32_t total = 0;
    int holding = 0;
    for (int g = 0; g < 2000; g++) {
        char group[32];
        snprintf(group, sizeof group, "g%d", g);
        uint32_t added, idx[3];
        size_t count;
        ck_assert_int_eq(rf_placement_added_members(before, after, group, 3, &added), RF_OK);
        ck_assert_int_eq(rf_placement_members(after, group, 3, idx, 3, &count), RF_OK);
        bool has_new = false;
        for (size_t i = 0; i < count; i++)
            has_new = has_new || strcmp(shuffled[idx[i]].name, "n5") == 0;
        ck_assert_uint_eq(added, has_new ? 1 : 0);
        total += added;
        holding += has_new;
        ck_assert_int_eq(rf_placement_added_members(empty, after, group, 3, &added), RF_OK);
        ck_assert_uint_eq(added, 3);
    }
    ck_assert_int_eq((int)total, holding);
    uint32_t added = 9;
    ck_assert_int_eq(rf_placement_added_members(before, empty, "g", 3, &added), RF_ENOACTIVENODE);
    ck_assert_uint_eq(added, 0);
    rf_placement_close(before);
    rf_placement_close(after);
    rf_placement_close(empty);
}
END_TEST

/* ---- edges and errors ---- */

START_TEST(test_more_replicas_than_nodes_gives_all_nodes)
{
    static const rf_placement_node nodes[] = {{"a", "z1"}, {"b", "z2"}, {"c", "z1"}};
    const char *m[MEMBERS_MAX];
    ck_assert_uint_eq(place(nodes, 3, "g", 9, m), 3);
    int seen = 0;
    for (int i = 0; i < 3; i++)
        seen |= 1 << (m[i][0] - 'a');
    ck_assert_int_eq(seen, 7);
}
END_TEST

START_TEST(test_no_nodes_is_no_active_node)
{
    rf_placement *p;
    ck_assert_int_eq(rf_placement_init(&p, NULL, 0), RF_OK);
    uint32_t idx[3] = {7, 7, 7};
    size_t count = 99;
    ck_assert_int_eq(rf_placement_members(p, "g", 3, idx, 3, &count), RF_ENOACTIVENODE);
    ck_assert_uint_eq(count, 0);
    rf_placement_close(p);
}
END_TEST

START_TEST(test_bad_names_are_rejected)
{
    char long_node[RF_PLACEMENT_NAME_MAX + 2];
    memset(long_node, 'x', sizeof long_node);
    long_node[RF_PLACEMENT_NAME_MAX + 1] = '\0';
    ck_assert_int_eq(rf_placement_check_name(long_node), RF_EBADNAME);
    long_node[RF_PLACEMENT_NAME_MAX] = '\0';
    ck_assert_int_eq(rf_placement_check_name(long_node), RF_OK);
    ck_assert_int_eq(rf_placement_check_name(""), RF_EBADNAME);
    ck_assert_int_eq(rf_placement_check_name("has space"), RF_EBADNAME);
    ck_assert_int_eq(rf_placement_check_name("a/b"), RF_EBADNAME);
    ck_assert_int_eq(rf_placement_check_name("n1@host.example-2_x"), RF_OK);

    char group[RF_GROUP_NAME_MAX + 2];
    memset(group, 'g', sizeof group);
    group[RF_GROUP_NAME_MAX + 1] = '\0';
    ck_assert_int_eq(rf_placement_check_group(group), RF_EBADNAME);
    group[RF_GROUP_NAME_MAX] = '\0';
    ck_assert_int_eq(rf_placement_check_group(group), RF_OK);
    ck_assert_int_eq(rf_placement_check_group(""), RF_EBADNAME);

    rf_placement *p = (rf_placement *)1;
    rf_placement_node bad_zone[] = {{"n1", "zone 1"}};
    ck_assert_int_eq(rf_placement_init(&p, bad_zone, 1), RF_EBADNAME);
    ck_assert_ptr_null(p);
    rf_placement_node dup[] = {{"n1", "z"}, {"n2", "z"}, {"n1", "y"}};
    ck_assert_int_eq(rf_placement_init(&p, dup, 3), RF_EEXIST);
    ck_assert_ptr_null(p);

    rf_placement_node ok[] = {{"n1", "z"}, {"n2", "z"}};
    ck_assert_int_eq(rf_placement_init(&p, ok, 2), RF_OK);
    uint32_t idx[2];
    size_t count;
    ck_assert_int_eq(rf_placement_members(p, group, 2, idx, 2, &count), RF_OK);
    group[RF_GROUP_NAME_MAX] = 'g';
    ck_assert_int_eq(rf_placement_members(p, group, 2, idx, 2, &count), RF_EBADNAME);
    ck_assert_int_eq(rf_placement_members(p, "g", 0, idx, 2, &count), RF_EINVAL);
    ck_assert_int_eq(rf_placement_members(p, "g", 2, idx, 1, &count), RF_EINVAL);
    ck_assert_uint_eq(count, 0);
    rf_placement_close(p);
}
END_TEST

/* ---- balance ---- */

START_TEST(test_balance_1000_groups_of_3_over_10_nodes_in_3_zones)
{
    rf_placement_node nodes[10];
    char names[10][16];
    static const char *zones[3] = {"za", "zb", "zc"};
    for (int i = 0; i < 10; i++) {
        snprintf(names[i], sizeof names[i], "n%d", i);
        nodes[i].name = names[i];
        nodes[i].zone = zones[i % 3];
    }
    rf_placement *p;
    ck_assert_int_eq(rf_placement_init(&p, nodes, 10), RF_OK);
    int members[10] = {0}, leaders[10] = {0};
    for (int g = 0; g < 1000; g++) {
        char group[32];
        snprintf(group, sizeof group, "group%d", g);
        uint32_t idx[3];
        size_t count;
        ck_assert_int_eq(rf_placement_members(p, group, 3, idx, 3, &count), RF_OK);
        for (size_t i = 0; i < count; i++)
            members[idx[i]]++;
        leaders[idx[0]]++;
    }
    rf_placement_close(p);
    int max_m = 0, max_l = 0;
    for (int i = 0; i < 10; i++) {
        max_m = members[i] > max_m ? members[i] : max_m;
        max_l = leaders[i] > max_l ? leaders[i] : max_l;
    }
    double bm = max_m / 300.0, bl = max_l / 100.0;
    printf("placement balance (1000 groups x3, 10 nodes, zones 4/3/3): "
           "members max/mean %.3f, leaders max/mean %.3f\n", bm, bl);
    /* The 1.15 target is measured by tests/bench/placement_bench.c; zone
     * sizes 4/3/3 alone put the 3-node zones at 1.11. This guards against
     * a gross regression only. */
    ck_assert(bm < 1.3);
    ck_assert(bl < 1.4);
}
END_TEST

Suite *placement_suite(void)
{
    Suite *s = suite_create("placement");
    TCase *golden = tcase_create("golden");
    tcase_add_test(golden, test_hash_matches_documented_vectors);
    tcase_add_test(golden, test_golden_quickstart_placement);
    tcase_add_test(golden, test_golden_seven_nodes_three_zones);
    tcase_add_test(golden, test_placement_ignores_node_array_order);
    suite_add_tcase(s, golden);

    TCase *props = tcase_create("properties");
    tcase_set_timeout(props, 30);
    tcase_add_test(props, test_members_round_robin_over_zones_and_head_is_lowest_hash);
    tcase_add_test(props, test_adding_node_to_one_zone_moves_its_fair_share_only_into_it);
    tcase_add_test(props, test_adding_node_to_three_zones_moves_its_fair_share_only_into_it);
    tcase_add_test(props, test_removing_node_moves_members_only_out_of_it);
    tcase_add_test(props, test_added_members_counts_only_the_new_nodes_share);
    suite_add_tcase(s, props);

    TCase *edges = tcase_create("edges");
    tcase_add_test(edges, test_more_replicas_than_nodes_gives_all_nodes);
    tcase_add_test(edges, test_no_nodes_is_no_active_node);
    tcase_add_test(edges, test_bad_names_are_rejected);
    tcase_add_test(edges, test_balance_1000_groups_of_3_over_10_nodes_in_3_zones);
    suite_add_tcase(s, edges);
    return s;
}

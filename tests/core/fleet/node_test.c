/* Tests of core/fleet/node*.c: rf_node on the in-memory multi-node harness (sim/fleet_cluster). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "base/rf_pcg.h"
#include "sim/fleet_cluster.h"

#define MS (1000ull * 1000ull)
#define SEC (1000ull * MS)

/* Waits for a request's reply and returns its status (fails the test on
 * no reply at all: every request must get one). */
static int wait_status(rf_sim_fleet *f, uint64_t req, char *text)
{
    int status = -1;
    char buf[RF_SIM_FLEET_REPLY_TEXT_MAX];
    ck_assert_uint_ne(req, 0);
    ck_assert_msg(rf_sim_fleet_wait(f, req, 20 * SEC, &status, text != NULL ? text : buf),
                  "request %llu got no reply", (unsigned long long)req);
    return status;
}

static rf_sim_fleet *fleet_new(uint32_t nodes, uint64_t seed)
{
    rf_sim_fleet_config cfg;
    rf_sim_fleet_config_defaults(&cfg, nodes);
    cfg.seed = seed;
    rf_sim_fleet *f = NULL;
    ck_assert_int_eq(rf_sim_fleet_create(&cfg, &f), RF_OK);
    return f;
}

/* Activates nodes 0..n-1 in the zones given, the first one starting the
 * cluster and the others joining through it. */
static void activate_all(rf_sim_fleet *f, const char *const *zones, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_activate(f, i, zones[i], i == 0 ? -1 : 0), NULL),
                         RF_OK);
}

START_TEST(test_node_readme_example_four_nodes_five_groups)
{
    static const char *const zones[] = {"zone1", "zone2", "zone1", "zone2"};
    rf_sim_fleet *f = fleet_new(4, 42);
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    activate_all(f, zones, 4);
    for (int i = 1; i <= 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "consensus%d", i);
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 0, name, 3, "int"), NULL), RF_OK);
    }
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, 1, "consensus1", "get"), text), RF_OK);
    ck_assert_str_eq(text, "0");
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 2, "consensus1", "inc"), text), RF_OK);
    ck_assert_str_eq(text, "0");
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, 3, "consensus1", "get"), text), RF_OK);
    ck_assert_str_eq(text, "1");
    /* Every node finds the leader, and the views agree with the metadata. */
    const rf_meta *m = rf_node_meta(rf_sim_fleet_node(f, 3));
    ck_assert_uint_eq(rf_meta_group_count(m), 5);
    ck_assert_uint_eq(rf_meta_active_count(m), 4);
    int leader = rf_sim_fleet_leader(f, rf_meta_group_by_name(m, "consensus1")->id);
    for (uint32_t i = 0; i < 4; i++) {
        rf_node_status st;
        ck_assert_int_eq(rf_node_status_get(rf_sim_fleet_node(f, i), "consensus1", &st), RF_OK);
        ck_assert_uint_eq(st.replicas, 3);
        ck_assert_uint_eq(st.desired_leader, (uint64_t)leader + 1);
        if (st.hosted || st.leader != 0)
            ck_assert_uint_eq(st.leader, (uint64_t)leader + 1);
    }
    rf_node_status st;
    ck_assert_int_eq(rf_node_status_get(rf_sim_fleet_node(f, 0), "nope", &st), RF_ENOTFOUND);
    rf_sim_fleet_close(f);
}
END_TEST


/* The placement targets of every user group, as (group, node) membership
 * bits: bit j of out[i] = node j+1 is in group i's target. */
static void targets(rf_sim_fleet *f, uint64_t *out, size_t n)
{
    const rf_meta *m = rf_sim_fleet_meta(f);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(rf_meta_group_count(m), n);
    for (size_t i = 0; i < n; i++) {
        const rf_meta_group *g = rf_meta_group_at(m, i);
        uint64_t ids[RF_META_REPLICAS_MAX];
        ck_assert_int_eq(rf_meta_place(m, g->name, g->replicas, ids, RF_META_REPLICAS_MAX), RF_OK);
        out[i] = 0;
        for (uint32_t j = 0; j < g->replicas && ids[j] != 0; j++)
            out[i] |= 1ull << (ids[j] - 1);
    }
}

static void add_groups(rf_sim_fleet *f, uint32_t via, int count, uint32_t replicas)
{
    for (int i = 1; i <= count; i++) {
        char name[32];
        snprintf(name, sizeof name, "consensus%d", i);
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, via, name, replicas, "int"), NULL),
                         RF_OK);
    }
}

START_TEST(test_node_errors_match_raftfleet)
{
    static const char *const zones[] = {"a", "b", "c"};
    rf_sim_fleet *f = fleet_new(3, 7);
    char long_name[300];
    memset(long_name, 'x', sizeof long_name);
    long_name[256] = '\0';
    /* Never activated: inactive. */
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_deactivate(f, 2), NULL), RF_EINACTIVE);
    activate_all(f, zones, 3);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_activate(f, 0, "a", -1), NULL), RF_ENOTINACTIVE);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_activate(f, 1, "b", 0), NULL), RF_ENOTINACTIVE);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 1, "g", 3, "int"), NULL), RF_OK);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 2, "g", 3, "kv"), NULL),
                     RF_EALREADYADDED);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_remove_group(f, 0, "nope"), NULL), RF_ENOTFOUND);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 0, long_name, 3, "int"), NULL),
                     RF_EBADNAME);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 0, "h", 3, "nosuch"), NULL),
                     RF_ENOMODEL);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 0, "h", 0, "int"), NULL), RF_EINVAL);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 0, long_name, "inc"), NULL),
                     RF_EBADNAME);
    /* An unknown group has no leader (RaftFleet's answer), after the retries. */
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 0, "unknown", "inc"), NULL),
                     RF_ENOLEADER);
    /* A removed group's name is blocked until every node has cleaned up. */
    ck_assert(rf_sim_fleet_run_until_converged(f, 10 * SEC));
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_remove_group(f, 2, "g"), NULL), RF_OK);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 0, "g", 3, "int"), NULL),
                     RF_ECLEANUP);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 3 * SEC);
    ck_assert_uint_eq(rf_meta_removed_count(rf_sim_fleet_meta(f)), 0);
    for (uint32_t i = 0; i < 3; i++)
        ck_assert_uint_eq(rf_node_group_count(rf_sim_fleet_node(f, i)), 1); /* metadata only */
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 0, "g", 3, "int"), NULL), RF_OK);
    /* A model's own error comes back as it is. */
    ck_assert(rf_sim_fleet_run_until_converged(f, 10 * SEC));
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 1, "g", "dance"), NULL), RF_EINVAL);
    rf_sim_fleet_close(f);
}
END_TEST

START_TEST(test_node_add_group_without_active_node_is_no_active_node)
{
    rf_sim_fleet *f = fleet_new(1, 3);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_activate(f, 0, "z", -1), NULL), RF_OK);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_deactivate(f, 0), NULL), RF_OK);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_deactivate(f, 0), NULL), RF_EINACTIVE);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 0, "g", 3, "int"), NULL),
                     RF_ENOACTIVENODE);
    rf_sim_fleet_close(f);
}
END_TEST

START_TEST(test_node_activating_a_node_moves_only_what_placement_moves)
{
    static const char *const zones[] = {"a", "b", "c", "a"};
    enum { GROUPS = 12 };
    rf_sim_fleet *f = fleet_new(4, 11);
    uint64_t before[GROUPS], after[GROUPS];
    rf_sim_fleet_stats s0, s1;
    activate_all(f, zones, 3);
    add_groups(f, 0, GROUPS, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    targets(f, before, GROUPS);
    rf_sim_fleet_stats_get(f, &s0);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_activate(f, 3, zones[3], 1), NULL), RF_OK);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + SEC); /* let removed members stop */
    targets(f, after, GROUPS);
    rf_sim_fleet_stats_get(f, &s1);
    uint64_t moved = 0;
    for (int i = 0; i < GROUPS; i++) {
        /* Only into the new node (bit 3), only out of the old ones. */
        ck_assert_uint_eq(after[i] & ~before[i] & ~(1ull << 3), 0);
        moved += (uint64_t)__builtin_popcountll(before[i] & ~after[i]);
    }
    ck_assert_uint_gt(moved, 0);
    ck_assert_uint_eq(s1.obs_user[RF_NODE_OBS_MEMBER_ADDED] - s0.obs_user[RF_NODE_OBS_MEMBER_ADDED],
                      moved);
    ck_assert_uint_eq(
        s1.obs_user[RF_NODE_OBS_MEMBER_REMOVED] - s0.obs_user[RF_NODE_OBS_MEMBER_REMOVED], moved);
    ck_assert_uint_eq(
        s1.obs_user[RF_NODE_OBS_GROUP_STOPPED] - s0.obs_user[RF_NODE_OBS_GROUP_STOPPED], moved);
    ck_assert_uint_eq(rf_node_group_count(rf_sim_fleet_node(f, 3)), 1 + moved);
    rf_sim_fleet_close(f);
}
END_TEST

START_TEST(test_node_deactivate_drains_the_node_then_it_leaves)
{
    static const char *const zones[] = {"zone1", "zone2", "zone1", "zone2"};
    rf_sim_fleet *f = fleet_new(4, 5);
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    activate_all(f, zones, 4);
    add_groups(f, 0, 5, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 0, "consensus2", "set 7"), NULL), RF_OK);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_deactivate(f, 2), NULL), RF_OK);
    ck_assert(!rf_node_is_active(rf_sim_fleet_node(f, 2)));
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    /* Drained, then gone from the metadata. */
    uint64_t end = rf_sim_fleet_now(f) + 10 * SEC;
    while (rf_meta_node_by_id(rf_sim_fleet_meta(f), 3) != NULL && rf_sim_fleet_now(f) < end)
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 100 * MS);
    ck_assert_ptr_null(rf_meta_node_by_id(rf_sim_fleet_meta(f), 3));
    ck_assert_uint_eq(rf_meta_node_count(rf_sim_fleet_meta(f)), 3);
    for (uint64_t g = RF_META_FIRST_GROUP_ID; g < RF_META_FIRST_GROUP_ID + 5; g++)
        ck_assert_ptr_null(rf_node_group(rf_sim_fleet_node(f, 2), g));
    /* Data survived the moves. */
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, 3, "consensus2", "get"), text), RF_OK);
    ck_assert_str_eq(text, "7");
    rf_sim_fleet_close(f);
}
END_TEST

START_TEST(test_node_killed_node_is_purged_and_its_members_replaced)
{
    static const char *const zones[] = {"zone1", "zone2", "zone1", "zone2"};
    rf_sim_fleet *f = fleet_new(4, 9);
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    rf_sim_fleet_stats st;
    activate_all(f, zones, 4);
    add_groups(f, 0, 5, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    for (int i = 1; i <= 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "consensus%d", i);
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 0, name, "inc"), NULL), RF_OK);
    }
    rf_sim_fleet_kill(f, 1);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    ck_assert_ptr_null(rf_meta_node_by_id(rf_sim_fleet_meta(f), 2));
    rf_sim_fleet_stats_get(f, &st);
    ck_assert_uint_eq(st.obs[RF_NODE_OBS_NODE_PURGED], 1);
    for (int i = 1; i <= 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "consensus%d", i);
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, 3, name, "get"), text), RF_OK);
        ck_assert_str_eq(text, "1");
    }
    rf_sim_fleet_close(f);
}
END_TEST

START_TEST(test_node_metadata_leader_loss_and_recovery)
{
    static const char *const zones[] = {"a", "b", "c", "a", "b"};
    rf_sim_fleet *f = fleet_new(5, 13);
    activate_all(f, zones, 5);
    add_groups(f, 0, 3, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    int ml = rf_sim_fleet_leader(f, RF_META_GROUP_ID);
    ck_assert_int_ge(ml, 0);
    rf_sim_fleet_kill(f, (uint32_t)ml);
    /* Requests keep working through a new metadata leader. */
    uint32_t other = ml == 0 ? 1u : 0u;
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, other, "after", 3, "int"), NULL),
                     RF_OK);
    int ml2 = rf_sim_fleet_leader(f, RF_META_GROUP_ID);
    ck_assert_int_ge(ml2, 0);
    ck_assert_int_ne(ml2, ml);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    /* The dead node is purged and the metadata is back to 3 voters. */
    const rf_meta *m = rf_sim_fleet_meta(f);
    ck_assert_uint_eq(rf_meta_node_count(m), 4);
    ml2 = rf_sim_fleet_leader(f, RF_META_GROUP_ID);
    uint64_t end = rf_sim_fleet_now(f) + 10 * SEC;
    const rf_membership *mm = rf_raft_membership(rf_node_group(rf_sim_fleet_node(f, (uint32_t)ml2),
                                                               RF_META_GROUP_ID));
    while ((rf_membership_voters(mm) != 3 || mm->count != 4) && rf_sim_fleet_now(f) < end) {
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 100 * MS);
        ml2 = rf_sim_fleet_leader(f, RF_META_GROUP_ID);
        mm = rf_raft_membership(rf_node_group(rf_sim_fleet_node(f, (uint32_t)ml2),
                                              RF_META_GROUP_ID));
    }
    ck_assert_uint_eq(rf_membership_voters(mm), 3);
    ck_assert_uint_eq(mm->count, 4); /* 3 voters + 1 learner on the 4 live nodes */
    rf_sim_fleet_close(f);
}
END_TEST

START_TEST(test_node_group_without_majority_is_reported_not_rebuilt)
{
    static const char *const zones[] = {"a", "b", "c"};
    rf_sim_fleet *f = fleet_new(3, 17);
    uint64_t ids[4];
    activate_all(f, zones, 3);
    add_groups(f, 0, 1, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    rf_sim_fleet_kill(f, 1);
    rf_sim_fleet_kill(f, 2);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 10 * SEC);
    const rf_node *n = rf_sim_fleet_node(f, 0);
    /* Both the metadata and consensus1 are leaderless and listed. */
    ck_assert_uint_eq(rf_node_leaderless(n, ids, 4), 2);
    ck_assert_uint_eq(ids[0], RF_META_GROUP_ID);
    ck_assert_uint_eq(ids[1], RF_META_FIRST_GROUP_ID);
    /* Nothing was reshaped around the survivor. */
    const rf_membership *mm = rf_raft_membership(rf_node_group(n, RF_META_FIRST_GROUP_ID));
    ck_assert_uint_eq(rf_membership_voters(mm), 3);
    ck_assert_uint_eq(wait_status(f, rf_sim_fleet_command(f, 0, "consensus1", "inc"), NULL),
                      RF_ENOLEADER);
    uint64_t peers[4], since[4];
    ck_assert_uint_eq(rf_node_unreachable(n, peers, since, 4), 2);
    ck_assert_uint_eq(peers[0], 2);
    ck_assert_uint_eq(peers[1], 3);
    ck_assert_uint_gt(since[0], 0);
    rf_sim_fleet_close(f);
}
END_TEST

START_TEST(test_node_refuses_malformed_frames)
{
    rf_sim_fleet *f = fleet_new(1, 1);
    rf_node_config cfg;
    rf_node_config_defaults(&cfg);
    cfg.node_id = 9;
    cfg.name = "n9";
    rf_node *n = NULL;
    ck_assert_int_eq(rf_node_create(&cfg, &n), RF_OK);
    uint8_t buf[64];
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 3, 3);
    for (int i = 0; i < 2000; i++) {
        size_t len = rf_pcg32_bounded(&rng, sizeof buf);
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rf_pcg32_next(&rng);
        if (i & 1) { /* a plausible header, then garbage */
            memcpy(buf, "RN\x01\x00\x02\0\0\0\0\0\0\0", 12);
        }
        ck_assert_int_ne(rf_node_receive(n, 2, buf, len), RF_OK);
    }
    memcpy(buf, "RN\x02\x00\x02\0\0\0\0\0\0\0\0\0\0\0", 16);
    ck_assert_int_eq(rf_node_receive(n, 2, buf, 16), RF_EVERSION);
    buf[2] = 1;
    ck_assert_int_eq(rf_node_receive(n, 2, buf, 16), RF_OK);  /* empty, valid */
    ck_assert_int_eq(rf_node_receive(n, 3, buf, 16), RF_EBADMSG); /* wrong sender */
    ck_assert(!rf_node_has_ready(n));
    rf_node_close(n);
    /* Bad configurations are refused. */
    cfg.name = "bad name";
    ck_assert_int_eq(rf_node_create(&cfg, &n), RF_EBADNAME);
    cfg.name = "n9";
    cfg.node_id = 0;
    ck_assert_int_eq(rf_node_create(&cfg, &n), RF_EINVAL);
    rf_sim_fleet_close(f);
}
END_TEST

/* Runs the README example and returns the engine's trace hash. */
static uint64_t readme_trace(uint64_t seed)
{
    static const char *const zones[] = {"zone1", "zone2", "zone1", "zone2"};
    rf_sim_fleet *f = fleet_new(4, seed);
    activate_all(f, zones, 4);
    add_groups(f, 0, 5, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 2, "consensus3", "inc"), NULL), RF_OK);
    uint64_t h = rf_sim_fleet_engine(f)->trace.h;
    rf_sim_fleet_close(f);
    return h;
}

START_TEST(test_node_same_seed_same_run)
{
    ck_assert_uint_eq(readme_trace(21), readme_trace(21));
    ck_assert_uint_ne(readme_trace(21), readme_trace(22));
}
END_TEST

/* A command whose leader dies while it is in flight is retried with the
 * same (client, sequence): it is applied exactly once whatever the moment
 * of the crash, and the caller sees one reply. */
START_TEST(test_node_command_retried_across_leader_crash_applies_once)
{
    static const char *const zones[] = {"a", "b", "c", "a"};
    static const uint64_t delays_us[] = {200, 1000, 1500, 2000, 2500, 3000, 4000, 6000};
    for (size_t d = 0; d < sizeof delays_us / sizeof delays_us[0]; d++) {
        rf_sim_fleet *f = fleet_new(4, 100 + d);
        char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
        activate_all(f, zones, 4);
        add_groups(f, 0, 1, 3);
        ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
        uint64_t gid = rf_meta_group_by_name(rf_sim_fleet_meta(f), "consensus1")->id;
        int leader = rf_sim_fleet_leader(f, gid);
        uint32_t from = 0;
        while ((int)from == leader)
            from++;
        /* Warm the origin's leader cache, so the command goes straight there. */
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, from, "consensus1", "get"), text),
                         RF_OK);
        uint64_t req = rf_sim_fleet_command(f, from, "consensus1", "inc");
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + delays_us[d] * 1000);
        rf_sim_fleet_kill(f, (uint32_t)leader);
        int st = wait_status(f, req, text);
        ck_assert_msg(st == RF_OK, "delay %llu us: status %d", (unsigned long long)delays_us[d], st);
        ck_assert_str_eq(text, "0");
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, from, "consensus1", "get"), text),
                         RF_OK);
        ck_assert_msg(strcmp(text, "1") == 0, "delay %llu us: value %s",
                      (unsigned long long)delays_us[d], text);
        rf_sim_fleet_close(f);
    }
}
END_TEST

static uint64_t user_msgs(rf_sim_fleet *f, uint32_t nodes)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < nodes; i++) {
        const rf_node *n = rf_sim_fleet_node(f, i);
        rf_node_counters c;
        if (n == NULL)
            continue;
        rf_node_counters_get(n, &c);
        sum += c.user_msgs_sent;
    }
    return sum;
}

/* Idle groups go quiet and send nothing; work wakes them; the death of a
 * quiet group's leader node is noticed by the node-pair heartbeats and a
 * new leader is elected. */
START_TEST(test_node_idle_groups_quiesce_and_wake_on_work_or_failure)
{
    static const char *const zones[] = {"zone1", "zone2", "zone1", "zone2"};
    rf_sim_fleet_config cfg;
    rf_sim_fleet_config_defaults(&cfg, 4);
    cfg.seed = 23;
    cfg.hint_unreachable = false; /* the node-pair heartbeats must notice */
    rf_sim_fleet *f = NULL;
    ck_assert_int_eq(rf_sim_fleet_create(&cfg, &f), RF_OK);
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    activate_all(f, zones, 4);
    add_groups(f, 0, 5, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 3 * SEC);
    size_t quiet = 0;
    for (uint32_t i = 0; i < 4; i++)
        quiet += rf_node_quiet_count(rf_sim_fleet_node(f, i));
    ck_assert_uint_eq(quiet, 15); /* 5 groups x 3 members; the metadata stays awake */
    uint64_t m0 = user_msgs(f, 4);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 10 * SEC);
    ck_assert_uint_eq(user_msgs(f, 4) - m0, 0);
    /* A command wakes its group and is served. */
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 1, "consensus4", "inc"), text), RF_OK);
    ck_assert_str_eq(text, "0");
    ck_assert_uint_gt(user_msgs(f, 4) - m0, 0);
    /* Back to quiet, then the leader's node dies. */
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 3 * SEC);
    uint64_t gid = rf_meta_group_by_name(rf_sim_fleet_meta(f), "consensus4")->id;
    int leader = rf_sim_fleet_leader(f, gid);
    ck_assert_int_ge(leader, 0);
    ck_assert(rf_node_quiet_count(rf_sim_fleet_node(f, (uint32_t)leader)) > 0);
    uint32_t from = leader == 0 ? 1u : 0u;
    rf_sim_fleet_kill(f, (uint32_t)leader);
    uint64_t t0 = rf_sim_fleet_now(f);
    int leader2 = -1;
    while ((leader2 = rf_sim_fleet_leader(f, gid)) < 0 && rf_sim_fleet_now(f) - t0 < 5 * SEC)
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + MS);
    /* Within the usual bounds: the silence is noticed after one election
     * timeout T (100 ms) and a heartbeat interval, then the woken followers
     * elect within 2T, as after any leader crash. */
    ck_assert_int_ge(leader2, 0);
    ck_assert_int_ne(leader2, leader);
    ck_assert_uint_lt(rf_sim_fleet_now(f) - t0, 400 * MS);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, from, "consensus4", "inc"), text),
                     RF_OK);
    ck_assert_str_eq(text, "1");
    rf_node_counters c;
    rf_node_counters_get(rf_sim_fleet_node(f, from), &c);
    ck_assert_uint_eq(c.peers_suspected, 1);
    /* The silence also feeds the purge: the dead node leaves the metadata. */
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    ck_assert_ptr_null(rf_meta_node_by_id(rf_sim_fleet_meta(f), (uint64_t)leader + 1));
    rf_sim_fleet_close(f);
}
END_TEST

Suite *fleet_node_suite(void)
{
    Suite *s = suite_create("fleet_node");
    TCase *tc = tcase_create("node");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_node_readme_example_four_nodes_five_groups);
    tcase_add_test(tc, test_node_errors_match_raftfleet);
    tcase_add_test(tc, test_node_add_group_without_active_node_is_no_active_node);
    tcase_add_test(tc, test_node_activating_a_node_moves_only_what_placement_moves);
    tcase_add_test(tc, test_node_deactivate_drains_the_node_then_it_leaves);
    tcase_add_test(tc, test_node_killed_node_is_purged_and_its_members_replaced);
    tcase_add_test(tc, test_node_metadata_leader_loss_and_recovery);
    tcase_add_test(tc, test_node_group_without_majority_is_reported_not_rebuilt);
    tcase_add_test(tc, test_node_refuses_malformed_frames);
    tcase_add_test(tc, test_node_same_seed_same_run);
    tcase_add_test(tc, test_node_command_retried_across_leader_crash_applies_once);
    tcase_add_test(tc, test_node_idle_groups_quiesce_and_wake_on_work_or_failure);
    suite_add_tcase(s, tc);
    return s;
}

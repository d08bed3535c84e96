/* Tests of core/fleet/node*.c: rf_node's API on the in-memory multi-node harness (sim/fleet_cluster). */
#include "tests/core/fleet/fleet_helpers.h"
#include "fleet/rf_node_store.h"

START_TEST(test_node_readme_example_four_nodes_five_groups)
{
    static const char *const zones[] = {"zone1", "zone2", "zone1", "zone2"};
    rf_sim_fleet *f = fleet_new(4, 42);
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    activate_all(f, zones, 4);
    for (int i = 1; i <= 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "consensus%d", i);
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 0, name, 3, "int"), text), RF_OK);
        /* As RaftFleet's: the reply (the new id) comes once a leader is up. */
        uint64_t gid = (uint64_t)(uint8_t)text[0];
        ck_assert_uint_eq(gid, RF_META_FIRST_GROUP_ID + (uint64_t)i - 1);
        ck_assert_int_ge(rf_sim_fleet_leader(f, gid), 0);
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
    fleet_done(f);
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
    fleet_done(f);
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
    fleet_done(f);
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
    fleet_done(f);
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
    /* Leadership left before membership: every removal of n3 from a group
     * was reported by that group's leader on another node. */
    uint64_t n_obs = 0, removals = 0;
    const rf_sim_fleet_obs *obs = rf_sim_fleet_observations(f, &n_obs);
    ck_assert_uint_le(n_obs, RF_SIM_FLEET_OBS_MAX);
    for (uint64_t i = 0; i < n_obs; i++) {
        if (obs[i].obs.kind != RF_NODE_OBS_MEMBER_REMOVED || obs[i].obs.node_id != 3 ||
            obs[i].obs.group_id == RF_META_GROUP_ID)
            continue;
        removals++;
        ck_assert_uint_ne(obs[i].node, 2);
        ck_assert_uint_eq(obs[i].obs.reason, RF_NODE_REASON_DRAIN);
    }
    ck_assert_uint_gt(removals, 0);
    /* Data survived the moves. */
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, 3, "consensus2", "get"), text), RF_OK);
    ck_assert_str_eq(text, "7");
    fleet_done(f);
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
    /* A fresh node's first batch records its identity in its journal. */
    ck_assert(rf_node_has_ready(n));
    rf_node_batch rd;
    rf_node_ready(n, &rd);
    ck_assert_uint_ne(rd.persist_token, 0);
    ck_assert_uint_eq(rd.n_writes, 1);
    ck_assert_uint_eq(rd.writes[0].group_id, RF_NODE_JOURNAL_GROUP);
    ck_assert_uint_eq(rd.n_envelopes + rd.n_replies + rd.n_obs, 0);
    rf_node_advance(n);
    rf_node_persisted(n, rd.persist_token);
    ck_assert(!rf_node_has_ready(n));
    uint8_t buf[64];
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 3, 3);
    for (int i = 0; i < 2000; i++) {
        size_t len = rf_pcg32_bounded(&rng, sizeof buf);
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rf_pcg32_next(&rng);
        if (i & 1) { /* a plausible header, then garbage */
            memcpy(buf, "RN\x02\x00\x02\0\0\0\0\0\0\0", 12);
        }
        ck_assert_int_ne(rf_node_receive(n, 2, buf, len), RF_OK);
    }
    memcpy(buf, "RN\x03\x00\x02\0\0\0\0\0\0\0\0\0\0\0", 16);
    ck_assert_int_eq(rf_node_receive(n, 2, buf, 16), RF_EVERSION);
    buf[2] = 1; /* version 1 (no floor in forwards) is refused too */
    ck_assert_int_eq(rf_node_receive(n, 2, buf, 16), RF_EVERSION);
    buf[2] = RF_NODE_WIRE_VERSION;
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
    fleet_done(f);
    return h;
}

START_TEST(test_node_same_seed_same_run)
{
    ck_assert_uint_eq(readme_trace(21), readme_trace(21));
    ck_assert_uint_ne(readme_trace(21), readme_trace(22));
}
END_TEST

/* The metadata runs on 5 voters once 5 active nodes span 3 zones (one
 * zone down still leaves a majority), the other nodes follow as learners. */
START_TEST(test_node_metadata_grows_to_five_voters_over_three_zones)
{
    static const char *const zones[] = {"a", "b", "c", "a", "b", "c"};
    rf_sim_fleet_config cfg;
    rf_sim_fleet_config_defaults(&cfg, 6);
    cfg.seed = 31;
    cfg.node.meta_voters = 5;
    rf_sim_fleet *f = NULL;
    ck_assert_int_eq(rf_sim_fleet_create(&cfg, &f), RF_OK);
    activate_all(f, zones, 4);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 2 * SEC);
    int ml = rf_sim_fleet_leader(f, RF_META_GROUP_ID);
    const rf_membership *mm = rf_raft_membership(rf_node_group(rf_sim_fleet_node(f, (uint32_t)ml),
                                                               RF_META_GROUP_ID));
    ck_assert_uint_eq(rf_membership_voters(mm), 3); /* 4 nodes: 3 voters, 1 learner */
    ck_assert_uint_eq(mm->count, 4);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_activate(f, 4, zones[4], 0), NULL), RF_OK);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_activate(f, 5, zones[5], 0), NULL), RF_OK);
    uint64_t end = rf_sim_fleet_now(f) + 10 * SEC;
    do {
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 100 * MS);
        ml = rf_sim_fleet_leader(f, RF_META_GROUP_ID);
        mm = rf_raft_membership(rf_node_group(rf_sim_fleet_node(f, (uint32_t)ml), RF_META_GROUP_ID));
    } while ((rf_membership_voters(mm) != 5 || mm->count != 6) && rf_sim_fleet_now(f) < end);
    ck_assert_uint_eq(rf_membership_voters(mm), 5);
    ck_assert_uint_eq(mm->count, 6);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 5, "g", 3, "kv"), NULL), RF_OK);
    fleet_done(f);
}
END_TEST

/* A new group boots with one voter and grows to its target one
 * single-server change at a time, each step following the commit of the
 * previous one rather than waiting for the next rebalancing round: with
 * 5 s rounds, 3 voters are reached within 2 s of the group's creation
 * (four steps: add, promote, add, promote). */
START_TEST(test_node_new_group_grows_to_its_target_without_waiting_for_rounds)
{
    static const char *const zones[] = {"a", "b", "c"};
    rf_sim_fleet_config cfg;
    rf_sim_fleet_config_defaults(&cfg, 3);
    cfg.seed = 23;
    cfg.node.rebalance_interval_ns = 5 * SEC;
    rf_sim_fleet *f = NULL;
    ck_assert_int_eq(rf_sim_fleet_create(&cfg, &f), RF_OK);
    activate_all(f, zones, 3);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 12 * SEC); /* the metadata settles */
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 0, "grow", 3, "int"), NULL),
                     RF_OK);
    uint64_t gid = rf_meta_group_by_name(rf_sim_fleet_meta(f), "grow")->id;
    uint64_t end = rf_sim_fleet_now(f) + 2 * SEC;
    const rf_membership *mm = NULL;
    while (rf_sim_fleet_now(f) < end) {
        int l = rf_sim_fleet_leader(f, gid);
        ck_assert_int_ge(l, 0);
        mm = rf_raft_membership(rf_node_group(rf_sim_fleet_node(f, (uint32_t)l), gid));
        if (rf_membership_voters(mm) == 3 && mm->count == 3)
            break;
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 10 * MS);
    }
    if (mm == NULL || rf_membership_voters(mm) != 3)
        dump_groups(f, 3);
    ck_assert_ptr_nonnull(mm);
    ck_assert_uint_eq(rf_membership_voters(mm), 3);
    ck_assert_uint_eq(mm->count, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 12 * SEC));
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 1, "grow", "inc"), NULL), RF_OK);
    fleet_done(f);
}
END_TEST


/* Raft caps the metadata group at 16 members: in a cluster of 20 the
 * nodes past it get the metadata pushed by its leader, route requests,
 * boot and host groups like the others, and learn of later changes. */
START_TEST(test_node_cluster_larger_than_a_raft_group_gets_metadata_pushed)
{
    enum { NODES = 20 };
    static const char *const zones[] = {"a", "b", "c"};
    rf_sim_fleet_config cfg;
    rf_sim_fleet_config_defaults(&cfg, NODES);
    cfg.seed = 29;
    rf_sim_fleet *f = NULL;
    ck_assert_int_eq(rf_sim_fleet_create(&cfg, &f), RF_OK);
    for (uint32_t i = 0; i < NODES; i++)
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_activate(f, i, zones[i % 3], i == 0 ? -1 : 0),
                                     NULL), RF_OK);
    add_groups(f, NODES - 1, 12, 3); /* asked on a node without a replica */
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    const rf_meta *truth = rf_sim_fleet_meta(f);
    ck_assert_uint_eq(rf_meta_node_count(truth), NODES);
    uint32_t pushed = 0, hosting = 0;
    for (uint32_t i = 0; i < NODES; i++) {
        const rf_node *n = rf_sim_fleet_node(f, i);
        const rf_meta *m = rf_node_meta(n);
        ck_assert_ptr_nonnull(m);
        ck_assert_uint_eq(rf_meta_group_count(m), 12);
        ck_assert_uint_eq(rf_meta_node_count(m), NODES);
        ck_assert(rf_node_is_active(n));
        if (rf_node_group(n, RF_META_GROUP_ID) != NULL)
            continue;
        rf_node_counters c;
        rf_node_counters_get(n, &c);
        ck_assert_uint_gt(c.meta_pushes_applied, 0);
        pushed++;
        hosting += rf_node_group_count(n) > 0;
    }
    ck_assert_uint_ge(pushed, NODES - RF_RAFT_MEMBERS_MAX);
    ck_assert_uint_gt(hosting, 0); /* placement put members on them too */
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, NODES - 1, "consensus3", "inc"), text),
                     RF_OK);
    ck_assert_str_eq(text, "0");
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, NODES - 2, "consensus3", "get"), text),
                     RF_OK);
    ck_assert_str_eq(text, "1");
    /* A later change reaches them too. */
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 0, "late", 3, "int"), NULL), RF_OK);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 2 * SEC);
    for (uint32_t i = 0; i < NODES; i++)
        ck_assert_ptr_nonnull(rf_meta_group_by_name(rf_node_meta(rf_sim_fleet_node(f, i)), "late"));
    fleet_done(f);
}
END_TEST

/* The metadata leader is drained while another metadata voter is dead
 * and not purged yet (a 10 minute window) and the learners that must take
 * the vote over are cut off for a while. With no user group to move it
 * could leave at once; it leaves only once its vote has moved, so the
 * metadata keeps a quorum of live voters and still commits (fuzz seed
 * 20338). */
START_TEST(test_node_drained_metadata_voter_leaves_only_after_its_vote_moved)
{
    static const char *const zones[] = {"a", "b", "c", "a", "b"};
    rf_sim_fleet_config cfg;
    rf_sim_fleet_config_defaults(&cfg, 5);
    cfg.seed = 23;
    cfg.node.purge_window_ns = 600 * SEC;
    rf_sim_fleet *f = NULL;
    ck_assert_int_eq(rf_sim_fleet_create(&cfg, &f), RF_OK);
    activate_all(f, zones, 5);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    int ml = -1;
    const rf_membership *mm = NULL;
    for (uint64_t end = rf_sim_fleet_now(f) + 10 * SEC; rf_sim_fleet_now(f) < end;) {
        ml = rf_sim_fleet_leader(f, RF_META_GROUP_ID);
        mm = ml < 0 ? NULL
                    : rf_raft_membership(rf_node_group(rf_sim_fleet_node(f, (uint32_t)ml),
                                                       RF_META_GROUP_ID));
        if (mm != NULL && rf_membership_voters(mm) == 3 && mm->count == 5)
            break;
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 100 * MS);
    }
    ck_assert_ptr_nonnull(mm);
    ck_assert_uint_eq(rf_membership_voters(mm), 3);
    uint32_t dead = UINT32_MAX, via = UINT32_MAX;
    for (uint32_t k = 0; k < mm->count && dead == UINT32_MAX; k++)
        if (mm->members[k].voter && mm->members[k].id != (uint64_t)ml + 1)
            dead = (uint32_t)mm->members[k].id - 1;
    ck_assert_uint_ne(dead, UINT32_MAX);
    for (uint32_t i = 0; i < 5 && via == UINT32_MAX; i++)
        if (i != dead && (int)i != ml)
            via = i;
    /* The learners, which must take the vote over, lag for a while. */
    rf_sim_fleet_kill(f, dead);
    for (uint32_t k = 0; k < mm->count; k++)
        if (!mm->members[k].voter)
            rf_sim_fleet_isolate(f, (uint32_t)mm->members[k].id - 1, true);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_deactivate(f, (uint32_t)ml), NULL), RF_OK);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 3 * SEC);
    for (uint32_t i = 0; i < 5; i++)
        rf_sim_fleet_isolate(f, i, false);
    uint64_t end = rf_sim_fleet_now(f) + 20 * SEC;
    while (rf_meta_node_by_id(rf_sim_fleet_meta(f), (uint64_t)ml + 1) != NULL &&
           rf_sim_fleet_now(f) < end)
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 100 * MS);
    ck_assert_ptr_null(rf_meta_node_by_id(rf_sim_fleet_meta(f), (uint64_t)ml + 1));
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 5 * SEC);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, via, "after", 3, "int"), NULL),
                     RF_OK);
    fleet_done(f);
}
END_TEST

/* A group {X, Y, Z}: Z dies, X is deactivated and at once cut off past
 * the purge window, so nothing moves meanwhile (no quorum) and X is purged
 * while draining. Back, X must keep its member until the group's leader
 * removes it: stopping it would leave Y alone (fuzz seed 100336). */
START_TEST(test_node_purged_while_draining_keeps_the_members_its_groups_need)
{
    static const char *const zones[] = {"a", "b", "c", "a", "b"};
    enum { GROUPS = 6 };
    rf_sim_fleet *f = fleet_new(5, 31);
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    activate_all(f, zones, 5);
    add_groups(f, 0, GROUPS, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 2 * SEC);
    int ml = rf_sim_fleet_leader(f, RF_META_GROUP_ID);
    ck_assert_int_ge(ml, 0);
    const rf_membership *meta =
        rf_raft_membership(rf_node_group(rf_sim_fleet_node(f, (uint32_t)ml), RF_META_GROUP_ID));
    /* X and Z: two members of one group, neither the metadata leader, at
     * most one of them a metadata voter (the metadata keeps a quorum). */
    const rf_meta *m = rf_sim_fleet_meta(f);
    uint64_t gid = 0, x = 0, z = 0;
    for (size_t g = 0; g < rf_meta_group_count(m) && gid == 0; g++) {
        uint64_t id = rf_meta_group_at(m, g)->id;
        const rf_membership *mm = rf_raft_membership(
            rf_node_group(rf_sim_fleet_node(f, (uint32_t)rf_sim_fleet_leader(f, id)), id));
        for (uint32_t i = 0; i < mm->count && gid == 0; i++)
            for (uint32_t j = 0; j < mm->count && gid == 0; j++) {
                uint64_t a = mm->members[i].id, b = mm->members[j].id;
                const rf_member *va = rf_membership_find(meta, a), *vb = rf_membership_find(meta, b);
                bool voters2 = va != NULL && va->voter && vb != NULL && vb->voter;
                if (a != b && (int)a - 1 != ml && (int)b - 1 != ml && !voters2) {
                    gid = id;
                    x = a;
                    z = b;
                }
            }
    }
    ck_assert_uint_ne(gid, 0);
    const char *name = rf_meta_group_by_id(m, gid)->name;
    char gname[RF_GROUP_NAME_MAX + 1];
    snprintf(gname, sizeof gname, "%s", name);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, (uint32_t)ml, gname, "set 5"), NULL),
                     RF_OK);
    rf_sim_fleet_kill(f, (uint32_t)z - 1);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_deactivate(f, (uint32_t)x - 1), NULL), RF_OK);
    rf_sim_fleet_isolate(f, (uint32_t)x - 1, true);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 5 * SEC);
    ck_assert_ptr_null(rf_meta_node_by_id(rf_sim_fleet_meta(f), x)); /* purged */
    rf_sim_fleet_isolate(f, (uint32_t)x - 1, false);
    bool converged = rf_sim_fleet_run_until_converged(f, 30 * SEC);
    if (!converged)
        dump_groups(f, 5);
    ck_assert(converged);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, (uint32_t)ml, gname, "get"), text),
                     RF_OK);
    ck_assert_str_eq(text, "5");
    fleet_done(f);
}
END_TEST

/* A restarted node is told at once of the peers it cannot reach, before
 * its first tick gives it the time (fuzz seed 81). Their unreachability
 * counts from that tick, not from time 0: a node cut off for less than
 * the purge window is not purged by a metadata leader that just restarted,
 * and one cut off for longer still is. */
START_TEST(test_node_restarted_before_its_first_tick_dates_unreachable_peers_from_it)
{
    static const char *const zones[] = {"a", "b", "c"};
    rf_sim_fleet *f = fleet_new_hinted(3, 81, 10 * SEC);
    activate_all(f, zones, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    rf_sim_fleet_run_until(f, 30 * SEC); /* the clock is well past one window */
    ck_assert_uint_eq(rf_meta_node_count(rf_sim_fleet_meta(f)), 3);
    /* n3 is cut off; n1 and n2, the metadata majority, restart. */
    rf_sim_net_partition(rf_sim_fleet_net(f), 0x3u, 0x4u);
    char why[RF_SIM_FLEET_FAILURE_TEXT_MAX];
    for (uint32_t i = 0; i < 2; i++)
        rf_sim_fleet_crash(f, i);
    for (uint32_t i = 0; i < 2; i++)
        ck_assert_int_eq(rf_sim_fleet_restart(f, i, why, sizeof why), RF_OK);
    uint64_t back = rf_sim_fleet_now(f);
    rf_sim_fleet_run_until(f, back + 6 * SEC);
    int ml = rf_sim_fleet_leader(f, RF_META_GROUP_ID);
    ck_assert(ml == 0 || ml == 1); /* the metadata is led again, by a restarted node */
    ck_assert_uint_eq(rf_meta_node_count(rf_sim_fleet_meta(f)), 3); /* n3 not purged yet */
    rf_sim_fleet_run_until(f, back + 14 * SEC);
    ck_assert_uint_eq(rf_meta_node_count(rf_sim_fleet_meta(f)), 2); /* past the window: purged */
    rf_sim_net_heal(rf_sim_fleet_net(f));
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    fleet_done(f);
}
END_TEST

Suite *fleet_node_suite(void)
{
    Suite *s = suite_create("fleet_node");
    TCase *tc = tcase_create("node");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_node_readme_example_four_nodes_five_groups);
    tcase_add_test(tc, test_node_cluster_larger_than_a_raft_group_gets_metadata_pushed);
    tcase_add_test(tc, test_node_errors_match_raftfleet);
    tcase_add_test(tc, test_node_add_group_without_active_node_is_no_active_node);
    tcase_add_test(tc, test_node_activating_a_node_moves_only_what_placement_moves);
    tcase_add_test(tc, test_node_deactivate_drains_the_node_then_it_leaves);
    tcase_add_test(tc, test_node_refuses_malformed_frames);
    tcase_add_test(tc, test_node_same_seed_same_run);
    tcase_add_test(tc, test_node_metadata_grows_to_five_voters_over_three_zones);
    tcase_add_test(tc, test_node_new_group_grows_to_its_target_without_waiting_for_rounds);
    tcase_add_test(tc, test_node_drained_metadata_voter_leaves_only_after_its_vote_moved);
    tcase_add_test(tc, test_node_purged_while_draining_keeps_the_members_its_groups_need);
    tcase_add_test(tc, test_node_restarted_before_its_first_tick_dates_unreachable_peers_from_it);
    suite_add_tcase(s, tc);
    return s;
}

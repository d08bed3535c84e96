/* Tests of core/fleet/node*.c under failures: crashes, partitions, purges, quiescence, on the fleet harness. */
#include "tests/core/fleet/fleet_helpers.h"

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
    fleet_done(f);
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
    fleet_done(f);
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
    rf_sim_fleet_stats st;
    rf_sim_fleet_stats_get(f, &st);
    ck_assert_uint_eq(st.obs_user[RF_NODE_OBS_LEADERLESS], 1); /* once, by the survivor */
    uint64_t peers[4], since[4];
    ck_assert_uint_eq(rf_node_unreachable(n, peers, since, 4), 2);
    ck_assert_uint_eq(peers[0], 2);
    ck_assert_uint_eq(peers[1], 3);
    ck_assert_uint_gt(since[0], 0);
    fleet_done(f);
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
        fleet_done(f);
    }
}
END_TEST

/* The node of a group's leader (its desired leader) dies and stays in the
 * metadata (long purge window): the new leader must not keep transferring
 * leadership back to the dead node, or every proposal is refused while the
 * transfer runs. Commands through another node flow again within a few
 * seconds of the crash and keep flowing across many rebalancing rounds,
 * whether the transport reports the crash or the node-pair heartbeats
 * have to find it. */
START_TEST(test_node_commands_flow_after_leader_node_dies_before_purge)
{
    static const char *const zones[] = {"a", "b", "c"};
    for (int hint = 0; hint <= 1; hint++) {
        rf_sim_fleet_config cfg;
        rf_sim_fleet_config_defaults(&cfg, 3);
        cfg.seed = 41 + (uint64_t)hint;
        cfg.hint_unreachable = hint != 0;
        cfg.node.purge_window_ns = 600 * SEC;
        /* Raft's default transfer timeout (2 s, as in production): a
         * transfer toward the dead node would block proposals that long. */
        cfg.node.raft.transfer_timeout_ns = 2 * SEC;
        rf_sim_fleet *f = NULL;
        ck_assert_int_eq(rf_sim_fleet_create(&cfg, &f), RF_OK);
        char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
        activate_all(f, zones, 3);
        add_groups(f, 0, 1, 3);
        ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
        uint64_t gid = rf_meta_group_by_name(rf_sim_fleet_meta(f), "consensus1")->id;
        int leader = rf_sim_fleet_leader(f, gid);
        ck_assert_int_ge(leader, 0);
        uint32_t via = leader == 0 ? 1u : 0u;
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, via, "consensus1", "inc"), text),
                         RF_OK);
        uint64_t killed_at = rf_sim_fleet_now(f);
        rf_sim_fleet_kill(f, (uint32_t)leader);
        /* Commands succeed again within 3 s of the crash... */
        int st = -1;
        long done = 1;
        while (st != RF_OK && rf_sim_fleet_now(f) < killed_at + 3 * SEC) {
            st = wait_status(f, rf_sim_fleet_command(f, via, "consensus1", "inc"), text);
            done += st == RF_OK;
        }
        ck_assert_msg(st == RF_OK, "hint %d: no command succeeded within 3 s (last status %d)",
                      hint, st);
        /* ... and every later one does, straight to the new leader too,
         * over 25 rebalancing rounds. */
        uint64_t until = rf_sim_fleet_now(f) + 5 * SEC;
        while (rf_sim_fleet_now(f) < until) {
            int nl = rf_sim_fleet_leader(f, gid);
            ck_assert_int_ge(nl, 0);
            ck_assert_int_ne(nl, leader);
            uint32_t to = (uint32_t)(done % 2 == 0 ? nl : (int)via);
            st = wait_status(f, rf_sim_fleet_command(f, to, "consensus1", "inc"), text);
            ck_assert_msg(st == RF_OK, "hint %d: command %ld refused: %d", hint, done, st);
            done++;
            rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 50 * MS);
        }
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, via, "consensus1", "get"), text),
                         RF_OK);
        ck_assert_int_eq(atol(text), done);
        /* The dead node was not purged: this is the window the bug lived in. */
        ck_assert_ptr_nonnull(rf_meta_node_by_id(rf_sim_fleet_meta(f), (uint64_t)leader + 1));
        fleet_done(f);
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

/* A quiet leader whose followers both die is not left believing it leads:
 * the node-pair heartbeats wake it, check-quorum steps it down, and the
 * group is listed as leaderless, with no request to stir it. */
START_TEST(test_node_quiet_leader_that_loses_its_majority_is_listed_leaderless)
{
    static const char *const zones[] = {"a", "b", "c"};
    rf_sim_fleet *f = fleet_new_unhinted(3, 29); /* the node-pair heartbeats must notice */
    activate_all(f, zones, 3);
    add_groups(f, 0, 1, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 3 * SEC);
    uint64_t gid = rf_meta_group_by_name(rf_sim_fleet_meta(f), "consensus1")->id;
    int li = rf_sim_fleet_leader(f, gid);
    ck_assert_int_ge(li, 0);
    uint32_t l = (uint32_t)li;
    const rf_node *n = rf_sim_fleet_node(f, l);
    ck_assert_uint_ge(rf_node_quiet_count(n), 1); /* consensus1's leader is quiet */
    for (uint32_t i = 0; i < 3; i++)
        if (i != l)
            rf_sim_fleet_kill(f, i);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 10 * SEC);
    ck_assert_uint_eq(rf_raft_leader(rf_node_group(n, gid)), 0);
    uint64_t ids[4];
    size_t k = rf_node_leaderless(n, ids, 4);
    bool listed = false;
    for (size_t i = 0; i < k && i < 4; i++)
        listed = listed || ids[i] == gid;
    ck_assert(listed);
    fleet_done(f);
}
END_TEST

static uint64_t notices(rf_sim_fleet *f, uint32_t nodes)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < nodes; i++) {
        rf_node_counters c;
        rf_node_counters_get(rf_sim_fleet_node(f, i), &c);
        sum += c.quiet_notices_sent;
    }
    return sum;
}

/* A write on a quiet group costs its own round trips and one notice per
 * follower, whose commit the followers apply; a read's round is answered
 * by followers that stay asleep, and the leader goes quiet again without a
 * notice. */
START_TEST(test_node_quiet_group_costs_a_notice_per_write_and_none_per_read)
{
    static const char *const zones[] = {"zone1", "zone2", "zone1", "zone2"};
    rf_sim_fleet *f = fleet_new(4, 31);
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    activate_all(f, zones, 4);
    add_groups(f, 0, 2, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 3 * SEC);
    uint64_t gid = rf_meta_group_by_name(rf_sim_fleet_meta(f), "consensus1")->id;
    uint32_t l = (uint32_t)rf_sim_fleet_leader(f, gid);
    size_t quiet = 0;
    for (uint32_t i = 0; i < 4; i++)
        quiet += rf_node_quiet_count(rf_sim_fleet_node(f, i));
    ck_assert_uint_eq(quiet, 6);
    /* A write: two notices, and the followers apply it. */
    uint64_t n0 = notices(f, 4);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, l, "consensus1", "inc"), text), RF_OK);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + SEC);
    ck_assert_uint_eq(notices(f, 4) - n0, 2);
    const rf_membership *mm = rf_raft_membership(rf_node_group(rf_sim_fleet_node(f, l), gid));
    uint64_t last = rf_raft_last_index(rf_node_group(rf_sim_fleet_node(f, l), gid));
    for (uint32_t k = 0; k < mm->count; k++) {
        const rf_raft *r = rf_node_group(rf_sim_fleet_node(f, (uint32_t)mm->members[k].id - 1), gid);
        ck_assert_uint_eq(rf_raft_applied_index(r), last);
    }
    /* A read: a heartbeat round, no notice, everyone quiet again. */
    uint64_t m0 = user_msgs(f, 4);
    n0 = notices(f, 4);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, l, "consensus1", "get"), text), RF_OK);
    ck_assert_str_eq(text, "1");
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + SEC);
    ck_assert_uint_eq(notices(f, 4) - n0, 0);
    ck_assert_uint_eq(user_msgs(f, 4) - m0, 4); /* two heartbeats, two answers */
    quiet = 0;
    for (uint32_t i = 0; i < 4; i++)
        quiet += rf_node_quiet_count(rf_sim_fleet_node(f, i));
    ck_assert_uint_eq(quiet, 6);
    fleet_done(f);
}
END_TEST

/* Idle groups go quiet and send nothing; work wakes them; the death of a
 * quiet group's leader node is noticed by the node-pair heartbeats and a
 * new leader is elected. */
START_TEST(test_node_idle_groups_quiesce_and_wake_on_work_or_failure)
{
    static const char *const zones[] = {"zone1", "zone2", "zone1", "zone2"};
    rf_sim_fleet *f = fleet_new_unhinted(4, 23); /* the node-pair heartbeats must notice */
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    activate_all(f, zones, 4);
    add_groups(f, 0, 5, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 3 * SEC);
    size_t quiet = 0;
    for (uint32_t i = 0; i < 4; i++)
        quiet += rf_node_quiet_count(rf_sim_fleet_node(f, i));
    ck_assert_uint_eq(quiet, 15); /* 5 groups x 3 members; the metadata stays awake */
    /* A quiet member keeps no output buffers: a few KB, not tens. */
    for (uint32_t i = 0; i < 4; i++) {
        const rf_node *n = rf_sim_fleet_node(f, i);
        for (size_t k = 0; k < rf_node_group_count(n); k++) {
            const rf_raft *r = rf_node_group_at(n, k);
            if (rf_raft_group(r) != RF_META_GROUP_ID)
                ck_assert_uint_lt(rf_raft_memory(r), 8192);
        }
    }
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
    fleet_done(f);
}
END_TEST

/* A node cut off while a group is removed cleans up when it is back, and
 * only then is the name free again. */
START_TEST(test_node_removed_group_is_cleaned_up_on_a_node_that_was_away)
{
    static const char *const zones[] = {"zone1", "zone2", "zone1", "zone2"};
    rf_sim_fleet *f = fleet_new(4, 29);
    activate_all(f, zones, 4);
    add_groups(f, 0, 5, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    const rf_meta *m = rf_sim_fleet_meta(f);
    uint64_t gid = 0;
    uint32_t away = 0;
    /* A group with a member on a node that is not the metadata leader. */
    int ml = rf_sim_fleet_leader(f, RF_META_GROUP_ID);
    for (size_t i = 0; i < rf_meta_group_count(m) && gid == 0; i++) {
        uint64_t id = rf_meta_group_at(m, i)->id;
        for (uint32_t k = 0; k < 4 && gid == 0; k++)
            if ((int)k != ml && rf_node_group(rf_sim_fleet_node(f, k), id) != NULL &&
                rf_sim_fleet_leader(f, id) != (int)k) {
                gid = id;
                away = k;
            }
    }
    ck_assert_uint_ne(gid, 0);
    char name[RF_GROUP_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", rf_meta_group_by_id(m, gid)->name);
    rf_sim_fleet_isolate(f, away, true);
    uint32_t via = (uint32_t)ml;
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_remove_group(f, via, name), NULL), RF_OK);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 500 * MS);
    /* The others cleaned up; the absent node still owes its acknowledgement. */
    const rf_meta_removed *r = rf_meta_removed_by_id(rf_sim_fleet_meta(f), gid);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->n_pending, 1);
    ck_assert(rf_meta_removed_pending(r, (uint64_t)away + 1));
    ck_assert_ptr_nonnull(rf_node_group(rf_sim_fleet_node(f, away), gid));
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, via, name, 3, "int"), NULL),
                     RF_ECLEANUP);
    rf_sim_fleet_isolate(f, away, false);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 2 * SEC);
    ck_assert_ptr_null(rf_node_group(rf_sim_fleet_node(f, away), gid));
    ck_assert_ptr_null(rf_meta_removed_by_id(rf_sim_fleet_meta(f), gid));
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, via, name, 3, "int"), NULL), RF_OK);
    fleet_done(f);
}
END_TEST

/* Is node index in the freshest metadata (its own view may be stale)? */
static bool registered(rf_sim_fleet *f, uint32_t index)
{
    const rf_meta *m = rf_sim_fleet_meta(f);
    return m != NULL && rf_meta_node_by_id(m, (uint64_t)index + 1) != NULL;
}

/* Random partitions of one node (0.3 to 3.3 s: some outlast the 2 s purge
 * window, so the node is purged, replaced, and evicted when it is back)
 * while commands flow, over several seeds: no safety violation, every
 * group converges after the heal, and each counter holds every
 * acknowledged increment once (plus at most the ones whose outcome the
 * caller could not know). */
START_TEST(test_node_random_partitions_keep_groups_safe_and_converging)
{
    static const char *const zones[] = {"a", "b", "c", "a", "b"};
    enum { GROUPS = 6, STEPS = 40 };
    for (uint64_t seed = 1; seed <= 20; seed++) {
        rf_sim_fleet *f = fleet_new(5, 1000 + seed);
        rf_pcg32 rng;
        rf_pcg32_seed(&rng, seed, 77);
        activate_all(f, zones, 5);
        add_groups(f, 0, GROUPS, 3);
        ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
        uint64_t req[GROUPS] = {0};
        uint32_t ok[GROUPS] = {0}, unknown[GROUPS] = {0};
        int isolated = -1;
        uint64_t heal_at = 0;
        for (int step = 0; step < STEPS; step++) {
            for (uint32_t g = 0; g < GROUPS; g++) {
                int st = -1;
                if (req[g] != 0 && !rf_sim_fleet_replied(f, req[g], &st))
                    continue;
                if (req[g] != 0) {
                    ok[g] += st == RF_OK;
                    unknown[g] += st != RF_OK;
                }
                char name[32];
                snprintf(name, sizeof name, "consensus%u", g + 1);
                /* From a registered node on the majority side. */
                uint32_t via = rf_pcg32_bounded(&rng, 5);
                while ((int)via == isolated || !registered(f, via))
                    via = (via + 1) % 5;
                req[g] = rf_sim_fleet_command(f, via, name, "inc");
            }
            if (isolated < 0 && rf_pcg32_bounded(&rng, 4) == 0) {
                isolated = (int)rf_pcg32_bounded(&rng, 5);
                rf_sim_fleet_isolate(f, (uint32_t)isolated, true);
                heal_at = rf_sim_fleet_now(f) + 300 * MS + rf_pcg32_bounded(&rng, 3000) * MS;
            } else if (isolated >= 0 && rf_sim_fleet_now(f) >= heal_at) {
                rf_sim_fleet_isolate(f, (uint32_t)isolated, false);
                isolated = -1;
            }
            rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 100 * MS);
        }
        if (isolated >= 0)
            rf_sim_fleet_isolate(f, (uint32_t)isolated, false);
        for (uint32_t g = 0; g < GROUPS; g++) {
            int st = wait_status(f, req[g], NULL);
            ok[g] += st == RF_OK;
            unknown[g] += st != RF_OK;
        }
        bool converged = rf_sim_fleet_run_until_converged(f, 30 * SEC);
        if (!converged)
            dump_groups(f, 5);
        ck_assert_msg(converged, "seed %llu", (unsigned long long)seed);
        for (uint32_t g = 0; g < GROUPS; g++) {
            char name[32], text[RF_SIM_FLEET_REPLY_TEXT_MAX];
            snprintf(name, sizeof name, "consensus%u", g + 1);
            uint32_t via = g % 5; /* a node still registered (a purged one is evicted) */
            while (!registered(f, via))
                via = (via + 1) % 5;
            int qs = wait_status(f, rf_sim_fleet_query(f, via, name, "get"), text);
            if (qs != RF_OK)
                dump_groups(f, 5);
            ck_assert_msg(qs == RF_OK, "seed %llu %s via n%u: status %d",
                          (unsigned long long)seed, name, via + 1, qs);
            long v = strtol(text, NULL, 10);
            ck_assert_msg(v >= (long)ok[g] && v <= (long)(ok[g] + unknown[g]),
                          "seed %llu %s: value %ld, %u ok, %u unknown", (unsigned long long)seed,
                          name, v, ok[g], unknown[g]);
            ck_assert_msg(ok[g] > 0, "seed %llu %s: no command succeeded (%u unknown)",
                          (unsigned long long)seed, name, unknown[g]);
        }
        fleet_done(f);
    }
}
END_TEST

/* Zone "a" (n1, n3) cut off from zone "b" (n2, n4) for 3x the purge
 * window: the side of the metadata majority purges the other side's
 * nodes, though groups hold their majority there (2 of 3 members). Once
 * the network heals, the purged nodes register again and keep their
 * members: every group converges with every node and keeps its data. */
START_TEST(test_node_zone_cut_off_past_the_purge_window_keeps_its_groups)
{
    static const char *const zones[] = {"a", "b", "a", "b"};
    enum { GROUPS = 6 };
    rf_sim_fleet *f = fleet_new(4, 41);
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    activate_all(f, zones, 4);
    add_groups(f, 0, GROUPS, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    for (int i = 1; i <= GROUPS; i++) {
        char name[32];
        snprintf(name, sizeof name, "consensus%d", i);
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 0, name, "inc"), NULL), RF_OK);
    }
    /* The zone without the metadata leader is the one purged. */
    int ml = rf_sim_fleet_leader(f, RF_META_GROUP_ID);
    ck_assert_int_ge(ml, 0);
    rf_sim_nodeset lead_side = ml % 2 == 0 ? 0x5u : 0xau, cut_side = 0xfu ^ lead_side;
    /* Some group has 2 of its 3 members on the side to be purged. */
    const rf_meta *m = rf_sim_fleet_meta(f);
    uint32_t held = 0;
    for (size_t g = 0; g < rf_meta_group_count(m); g++) {
        uint64_t gid = rf_meta_group_at(m, g)->id;
        const rf_membership *mm = rf_raft_membership(
            rf_node_group(rf_sim_fleet_node(f, (uint32_t)rf_sim_fleet_leader(f, gid)), gid));
        uint32_t on_cut = 0;
        for (uint32_t k = 0; k < mm->count; k++)
            on_cut += (cut_side >> (mm->members[k].id - 1)) & 1u;
        held += on_cut >= 2;
    }
    ck_assert_uint_ge(held, 1);
    rf_sim_net_partition(rf_sim_fleet_net(f), lead_side, cut_side);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 6 * SEC);
    ck_assert_uint_eq(rf_meta_node_count(rf_sim_fleet_meta(f)), 2); /* purged */
    rf_sim_net_heal(rf_sim_fleet_net(f));
    bool converged = rf_sim_fleet_run_until_converged(f, 30 * SEC);
    if (!converged)
        dump_groups(f, 4);
    ck_assert(converged);
    ck_assert_uint_eq(rf_meta_node_count(rf_sim_fleet_meta(f)), 4); /* registered again */
    for (int i = 1; i <= GROUPS; i++) {
        char name[32];
        snprintf(name, sizeof name, "consensus%d", i);
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, (uint32_t)i % 4, name, "get"), text),
                         RF_OK);
        ck_assert_str_eq(text, "1");
    }
    fleet_done(f);
}
END_TEST

static void hint_down(rf_node *n, void *ctx)
{
    rf_node_peer_unreachable(n, *(const uint64_t *)ctx);
}

/* Both followers of a group were told its leader's node is unreachable
 * while frames from it still arrive (fuzz seed 20237: a QUIESCE still in
 * flight when the leader's node crashed and was reported down). Such a
 * QUIESCE must not stop their clocks: the report they already had wakes
 * nobody when the node really is gone, and the group stays leaderless. */
START_TEST(test_node_follower_of_a_leader_reported_down_never_goes_quiet)
{
    static const char *const zones[] = {"a", "b", "c"};
    rf_sim_fleet *f = fleet_new(3, 29);
    activate_all(f, zones, 3);
    add_groups(f, 0, 1, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    uint64_t gid = rf_meta_group_by_name(rf_sim_fleet_meta(f), "consensus1")->id;
    int leader = rf_sim_fleet_leader(f, gid);
    ck_assert_int_ge(leader, 0);
    uint64_t lid = (uint64_t)leader + 1;
    for (uint32_t i = 0; i < 3; i++)
        if ((int)i != leader)
            rf_sim_fleet_poke(f, i, hint_down, &lid);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 3 * SEC); /* idle: the leader quiesces */
    rf_sim_fleet_kill(f, (uint32_t)leader);
    uint64_t t0 = rf_sim_fleet_now(f);
    int leader2 = -1;
    while ((leader2 = rf_sim_fleet_leader(f, gid)) < 0 && rf_sim_fleet_now(f) - t0 < 5 * SEC)
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 10 * MS);
    ck_assert_int_ge(leader2, 0);
    fleet_done(f);
}
END_TEST

/* A group removed while commands to it are in flight: every command gets
 * exactly one reply (ok before the removal, no_leader after), every node
 * stops its member, and the name can be reused for a fresh group. */
START_TEST(test_node_group_removed_under_load_is_cleaned_everywhere)
{
    static const char *const zones[] = {"a", "b", "c"};
    rf_sim_fleet *f = fleet_new(3, 37);
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    activate_all(f, zones, 3);
    add_groups(f, 0, 2, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    uint64_t gid = rf_meta_group_by_name(rf_sim_fleet_meta(f), "consensus1")->id;
    uint64_t reqs[30];
    for (int i = 0; i < 30; i++) {
        reqs[i] = rf_sim_fleet_command(f, (uint32_t)i % 3, "consensus1", "inc");
        if (i == 15)
            ck_assert_uint_ne(rf_sim_fleet_remove_group(f, 1, "consensus1"), 0);
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + MS);
    }
    uint32_t ok = 0, no_leader = 0;
    for (int i = 0; i < 30; i++) {
        int st = wait_status(f, reqs[i], NULL);
        ok += st == RF_OK;
        no_leader += st == RF_ENOLEADER;
        ck_assert(st == RF_OK || st == RF_ENOLEADER);
    }
    ck_assert_uint_gt(ok, 0);
    ck_assert_uint_gt(no_leader, 0);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 2 * SEC);
    for (uint32_t i = 0; i < 3; i++)
        ck_assert_ptr_null(rf_node_group(rf_sim_fleet_node(f, i), gid));
    ck_assert_uint_eq(rf_meta_removed_count(rf_sim_fleet_meta(f)), 0);
    /* The name again: a new group, new id, fresh state. */
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, 2, "consensus1", 3, "int"), NULL),
                     RF_OK);
    ck_assert_uint_gt(rf_meta_group_by_name(rf_sim_fleet_meta(f), "consensus1")->id, gid);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, 0, "consensus1", "get"), text), RF_OK);
    ck_assert_str_eq(text, "0");
    /* The other group never noticed. */
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 1, "consensus2", "inc"), text), RF_OK);
    ck_assert_str_eq(text, "0");
    fleet_done(f);
}
END_TEST


/* A group whose boot node died before it booted it: once the dead node is
 * purged, the boot passes to the group's next placement head, which
 * claims and boots it; the group then serves. Without the hand-over it
 * would have no member, ever. */
START_TEST(test_node_group_whose_boot_node_died_is_booted_elsewhere)
{
    static const char *const zones[] = {"zone1", "zone2", "zone3"};
    rf_sim_fleet *f = fleet_new(3, 31);
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    activate_all(f, zones, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    char name[32] = "";
    for (int i = 0; i < 100 && name[0] == 0; i++) {
        char cand[32];
        uint64_t head = 0;
        snprintf(cand, sizeof cand, "orphan%d", i);
        ck_assert_int_eq(rf_meta_place(rf_sim_fleet_meta(f), cand, 1, &head, 1), RF_OK);
        if (head == 3)
            memcpy(name, cand, sizeof name);
    }
    ck_assert_msg(name[0] != 0, "no group name with n3 as placement head");
    rf_sim_fleet_kill(f, 2); /* n3, before it hears of the group */
    int st = wait_status(f, rf_sim_fleet_add_group(f, 0, name, 3, "int"), NULL);
    ck_assert(st == RF_OK || st == RF_ENOLEADER);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    const rf_meta_group *g = rf_meta_group_by_name(rf_sim_fleet_meta(f), name);
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_ne(g->boot_node, 3);
    ck_assert(g->claimed);
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_command(f, 1, name, "inc"), text), RF_OK);
    ck_assert_str_eq(text, "0");
    fleet_done(f);
}
END_TEST

Suite *fleet_node_faults_suite(void)
{
    Suite *s = suite_create("fleet_node_faults");
    TCase *tc = tcase_create("node_faults");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_node_killed_node_is_purged_and_its_members_replaced);
    tcase_add_test(tc, test_node_metadata_leader_loss_and_recovery);
    tcase_add_test(tc, test_node_group_without_majority_is_reported_not_rebuilt);
    tcase_add_test(tc, test_node_command_retried_across_leader_crash_applies_once);
    tcase_add_test(tc, test_node_commands_flow_after_leader_node_dies_before_purge);
    tcase_add_test(tc, test_node_idle_groups_quiesce_and_wake_on_work_or_failure);
    tcase_add_test(tc, test_node_removed_group_is_cleaned_up_on_a_node_that_was_away);
    tcase_add_test(tc, test_node_random_partitions_keep_groups_safe_and_converging);
    tcase_add_test(tc, test_node_group_removed_under_load_is_cleaned_everywhere);
    tcase_add_test(tc, test_node_group_whose_boot_node_died_is_booted_elsewhere);
    tcase_add_test(tc, test_node_zone_cut_off_past_the_purge_window_keeps_its_groups);
    tcase_add_test(tc, test_node_follower_of_a_leader_reported_down_never_goes_quiet);
    tcase_add_test(tc, test_node_quiet_leader_that_loses_its_majority_is_listed_leaderless);
    tcase_add_test(tc, test_node_quiet_group_costs_a_notice_per_write_and_none_per_read);
    suite_add_tcase(s, tc);
    return s;
}

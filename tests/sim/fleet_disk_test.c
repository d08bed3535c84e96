/* Tests of sim/fleet_disk.c: fleet nodes persisting through core/storage on simulated disks, crashes, restarts, disk faults. */
#include <check.h>

#include "tests/core/fleet/fleet_helpers.h"

static const char *const zones3[] = {"a", "b", "c"};

/* A 3-node cluster with consensus1 on every node, converged. */
static rf_sim_fleet *cluster3(uint64_t seed)
{
    rf_sim_fleet *f = fleet_new(3, seed);
    activate_all(f, zones3, 3);
    add_groups(f, 0, 1, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 20 * SEC));
    return f;
}

/* What a member holds that must survive a restart. */
typedef struct member_view {
    uint64_t group, term, vote, last, last_term;
} member_view;

static size_t views(const rf_sim_fleet *f, uint32_t index, member_view *out, size_t cap)
{
    const rf_node *n = rf_sim_fleet_node(f, index);
    ck_assert_ptr_nonnull(n);
    size_t k = rf_node_group_count(n);
    ck_assert_uint_le(k, cap);
    for (size_t i = 0; i < k; i++) {
        const rf_raft *r = rf_node_group_at(n, i);
        out[i] = (member_view){rf_raft_group(r), rf_raft_term(r), rf_raft_vote(r),
                               rf_raft_last_index(r), rf_raft_term_at(r, rf_raft_last_index(r))};
    }
    return k;
}

static int inc(rf_sim_fleet *f, uint32_t via)
{
    return wait_status(f, rf_sim_fleet_command(f, via, "consensus1", "inc"), NULL);
}

static long get_value(rf_sim_fleet *f, uint32_t via)
{
    char text[RF_SIM_FLEET_REPLY_TEXT_MAX];
    ck_assert_int_eq(wait_status(f, rf_sim_fleet_query(f, via, "consensus1", "get"), text), RF_OK);
    return strtol(text, NULL, 10);
}

START_TEST(test_restarted_node_gets_back_its_terms_votes_and_logs)
{
    rf_sim_fleet *f = cluster3(3);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(inc(f, (uint32_t)i % 3), RF_OK);
    /* Quiet: every write of n2 is durable. */
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 2 * SEC);
    member_view before[16], after[16];
    size_t nb = views(f, 1, before, 16);
    ck_assert_uint_ge(nb, 2); /* the metadata and consensus1 at least */
    rf_sim_fleet_crash(f, 1);
    ck_assert(rf_sim_fleet_down(f, 1));
    ck_assert_ptr_null(rf_sim_fleet_node(f, 1));
    char why[RF_SIM_FLEET_FAILURE_TEXT_MAX];
    ck_assert_int_eq(rf_sim_fleet_restart(f, 1, why, sizeof why), RF_OK);
    ck_assert_int_eq(rf_sim_fleet_restart(f, 1, why, sizeof why), RF_EINVAL); /* running */
    size_t na = views(f, 1, after, 16);
    ck_assert_uint_eq(na, nb);
    for (size_t i = 0; i < nb; i++) {
        ck_assert_uint_eq(after[i].group, before[i].group);
        ck_assert_uint_eq(after[i].term, before[i].term);
        ck_assert_uint_eq(after[i].vote, before[i].vote);
        ck_assert_uint_eq(after[i].last, before[i].last);
        ck_assert_uint_eq(after[i].last_term, before[i].last_term);
    }
    /* It rejoins: commands through it work and it catches up. */
    ck_assert_int_eq(inc(f, 1), RF_OK);
    ck_assert_int_eq(get_value(f, 1), 21);
    rf_sim_fleet_stats st;
    rf_sim_fleet_stats_get(f, &st);
    ck_assert_uint_eq(st.crashes, 1);
    ck_assert_uint_eq(st.restarts, 1);
    ck_assert_uint_gt(st.commits, 0);
    ck_assert_uint_eq(rf_sim_fleet_failures(f, NULL), 0);
    fleet_done(f);
}
END_TEST

/* Every node loses power at once, some commands still in flight: every
 * acknowledged increment is still there after the restarts, and nothing
 * that was never issued. */
START_TEST(test_acknowledged_writes_survive_a_whole_cluster_power_loss)
{
    for (uint64_t seed = 1; seed <= 8; seed++) {
        rf_sim_fleet *f = cluster3(seed);
        int acked = 0;
        for (int i = 0; i < 30; i++)
            acked += inc(f, (uint32_t)i % 3) == RF_OK;
        ck_assert_int_ge(acked, 25);
        uint64_t pending[3];
        for (uint32_t i = 0; i < 3; i++)
            pending[i] = rf_sim_fleet_command(f, i, "consensus1", "inc");
        /* Part way through the last commands' persistence. */
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + seed * MS * 7 / 10);
        for (uint32_t i = 0; i < 3; i++) {
            int st = 0;
            if (rf_sim_fleet_replied(f, pending[i], &st) && st == RF_OK)
                acked++;
            rf_sim_fleet_crash(f, i);
        }
        for (uint32_t i = 0; i < 3; i++) {
            int st = 0;
            /* Requests to a crashed node are answered: node down. */
            ck_assert(rf_sim_fleet_replied(f, pending[i], &st));
        }
        char why[RF_SIM_FLEET_FAILURE_TEXT_MAX];
        for (uint32_t i = 0; i < 3; i++)
            ck_assert_msg(rf_sim_fleet_restart(f, i, why, sizeof why) == RF_OK, "%s", why);
        long v = get_value(f, seed % 3);
        ck_assert_int_ge(v, acked);
        ck_assert_int_le(v, 33);
        ck_assert_uint_eq(rf_sim_fleet_failures(f, NULL), 0);
        fleet_done(f);
    }
}
END_TEST

/* A disk that fails writes, fails syncs or is full: the node's first
 * commit fails, its store turns read-only, and the node goes down without
 * acknowledging anything more; the others go on; once the fault is gone
 * the node restarts from its disk and catches up. */
START_TEST(test_failing_disk_takes_the_node_down_until_it_restarts)
{
    for (int kind = 0; kind < 3; kind++) {
        rf_sim_fleet *f = cluster3(10 + (uint64_t)kind);
        ck_assert_int_eq(inc(f, 0), RF_OK);
        rf_simdisk_faults fl;
        memset(&fl, 0, sizeof fl);
        if (kind == 0)
            fl.write_fail_ppm = 1000000;
        else if (kind == 1)
            fl.sync_fail_ppm = 1000000;
        else
            fl.capacity_bytes = rf_sim_fleet_disk_used(f, 2);
        rf_sim_fleet_disk_faults(f, 2, &fl);
        for (int i = 0; i < 5; i++)
            ck_assert_int_eq(inc(f, (uint32_t)i % 2), RF_OK);
        ck_assert_msg(rf_sim_fleet_down(f, 2), "fault kind %d", kind);
        ck_assert(rf_sim_fleet_store_failed(f, 2));
        rf_sim_fleet_stats st;
        rf_sim_fleet_stats_get(f, &st);
        ck_assert_uint_ge(st.store_failures, 1);
        memset(&fl, 0, sizeof fl);
        rf_sim_fleet_disk_faults(f, 2, &fl);
        char why[RF_SIM_FLEET_FAILURE_TEXT_MAX];
        ck_assert_msg(rf_sim_fleet_restart(f, 2, why, sizeof why) == RF_OK, "%s", why);
        ck_assert(!rf_sim_fleet_store_failed(f, 2));
        ck_assert_int_eq(get_value(f, 2), 6);
        ck_assert(rf_sim_fleet_run_until_converged(f, 20 * SEC));
        ck_assert_uint_eq(rf_sim_fleet_failures(f, NULL), 0);
        fleet_done(f);
    }
}
END_TEST

/* Every read returns a flipped bit: the restart is refused (reads that do
 * not agree, or a checksum), never a node built from bad bytes, and nothing
 * is cut; once reads are clean again the node restarts with every member's
 * term, vote and log as they were before the crash. */
START_TEST(test_restart_through_flipped_bits_is_refused_by_checksums)
{
    for (uint64_t seed = 21; seed < 25; seed++) {
        rf_sim_fleet *f = cluster3(seed);
        for (int i = 0; i < 10; i++)
            ck_assert_int_eq(inc(f, (uint32_t)i % 3), RF_OK);
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 2 * SEC);
        member_view before[16], after[16];
        size_t nb = views(f, 2, before, 16);
        ck_assert_uint_ge(nb, 2);
        rf_simdisk_faults fl;
        memset(&fl, 0, sizeof fl);
        fl.read_flip_ppm = 1000000;
        rf_sim_fleet_disk_faults(f, 2, &fl);
        rf_sim_fleet_crash(f, 2);
        char why[RF_SIM_FLEET_FAILURE_TEXT_MAX];
        int rc = rf_sim_fleet_restart(f, 2, why, sizeof why);
        ck_assert_msg(rc == RF_ECHECKSUM || rc == RF_ECORRUPT || rc == RF_EIO, "%s: %s",
                      rf_errname(rc), why);
        ck_assert(rf_sim_fleet_down(f, 2));
        memset(&fl, 0, sizeof fl);
        rf_sim_fleet_disk_faults(f, 2, &fl);
        ck_assert_msg(rf_sim_fleet_restart(f, 2, why, sizeof why) == RF_OK, "%s", why);
        ck_assert_uint_eq(views(f, 2, after, 16), nb);
        for (size_t i = 0; i < nb; i++) {
            ck_assert_uint_eq(after[i].group, before[i].group);
            ck_assert_uint_eq(after[i].term, before[i].term);
            ck_assert_uint_eq(after[i].last, before[i].last);
            ck_assert_uint_eq(after[i].last_term, before[i].last_term);
        }
        rf_sim_fleet_close(f);
    }
}
END_TEST

/* Crashes at random moments under load, each node restarted a little
 * later: the checkers (which restart each member's mirror from what it
 * restored) find nothing, and the values only grow by acknowledged steps. */
START_TEST(test_random_crashes_and_restarts_under_load_stay_safe)
{
    rf_sim_fleet *f = cluster3(31);
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 31, 1);
    int acked = 0, issued = 0;
    char why[RF_SIM_FLEET_FAILURE_TEXT_MAX];
    for (int round = 0; round < 12; round++) {
        uint32_t victim = rf_pcg32_bounded(&rng, 3);
        uint64_t req[6];
        for (int i = 0; i < 6; i++) {
            uint32_t via = (victim + 1 + (uint32_t)i % 2) % 3;
            req[i] = rf_sim_fleet_command(f, via, "consensus1", "inc");
            issued += req[i] != 0;
            rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + rf_pcg32_bounded(&rng, 3) * MS);
        }
        rf_sim_fleet_crash(f, victim);
        rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 300 * MS);
        ck_assert_msg(rf_sim_fleet_restart(f, victim, why, sizeof why) == RF_OK, "%s", why);
        for (int i = 0; i < 6; i++) {
            int st = -1;
            if (req[i] != 0 && rf_sim_fleet_wait(f, req[i], 10 * SEC, &st, NULL) && st == RF_OK)
                acked++;
        }
    }
    long v = get_value(f, 0);
    ck_assert_int_ge(v, acked);
    ck_assert_int_le(v, issued);
    ck_assert_uint_eq(rf_sim_fleet_failures(f, NULL), 0);
    fleet_done(f);
}
END_TEST

/* Small segments and frequent snapshots: the stores compact (the log
 * behind each snapshot is garbage) while nodes crash and restart, and
 * every restart still gives back what was acknowledged. */
START_TEST(test_stores_compact_and_restarts_still_recover_everything)
{
    rf_sim_fleet_config cfg;
    rf_sim_fleet_config_defaults(&cfg, 3);
    cfg.seed = 41;
    cfg.segment_bytes = 16384;
    cfg.node.raft.snapshot_threshold = 20;
    rf_sim_fleet *f = NULL;
    ck_assert_int_eq(rf_sim_fleet_create(&cfg, &f), RF_OK);
    activate_all(f, zones3, 3);
    add_groups(f, 0, 1, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 20 * SEC));
    char why[RF_SIM_FLEET_FAILURE_TEXT_MAX];
    int acked = 0;
    for (int i = 0; i < 1500; i++) {
        acked += inc(f, (uint32_t)i % 3) == RF_OK;
        if (i % 300 == 150) {
            uint32_t victim = (uint32_t)(i / 300) % 3;
            rf_sim_fleet_crash(f, victim);
            ck_assert_msg(rf_sim_fleet_restart(f, victim, why, sizeof why) == RF_OK, "%s", why);
        }
    }
    rf_sim_fleet_stats st;
    rf_sim_fleet_stats_get(f, &st);
    ck_assert_uint_gt(st.compactions, 0);
    ck_assert_uint_eq(st.restarts, 5);
    ck_assert_int_eq(get_value(f, 1), acked);
    const char *text = NULL;
    ck_assert_msg(rf_sim_fleet_failures(f, &text) == 0, "%s", text);
    fleet_done(f);
}
END_TEST

Suite *fleet_disk_suite(void)
{
    Suite *s = suite_create("fleet_disk");
    TCase *tc = tcase_create("fleet_disk");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_restarted_node_gets_back_its_terms_votes_and_logs);
    tcase_add_test(tc, test_acknowledged_writes_survive_a_whole_cluster_power_loss);
    tcase_add_test(tc, test_failing_disk_takes_the_node_down_until_it_restarts);
    tcase_add_test(tc, test_restart_through_flipped_bits_is_refused_by_checksums);
    tcase_add_test(tc, test_random_crashes_and_restarts_under_load_stay_safe);
    tcase_add_test(tc, test_stores_compact_and_restarts_still_recover_everything);
    suite_add_tcase(s, tc);
    return s;
}

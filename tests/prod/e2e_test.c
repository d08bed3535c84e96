/* End-to-end tests of fleetd and fleetctl: real processes on loopback, the README example, a leader killed under load, deactivation, history. */
#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/prod/e2e_cluster.h"

#define GROUPS 5
#define WAIT_MS_MAX 20000

static const char *const group_names[GROUPS] = {"g1", "g2", "g3", "g4", "g5"};

/* Polls cond until it holds or WAIT_MS_MAX passed. */
#define WAIT_FOR(cond, what)                                                  \
    do {                                                                      \
        uint64_t end_ = e2e_now_ms() + WAIT_MS_MAX;                           \
        while (!(cond)) {                                                     \
            ck_assert_msg(e2e_now_ms() < end_, "timed out waiting: %s", what); \
            e2e_sleep_ms(100);                                                \
        }                                                                     \
    } while (0)

/* RaftFleet's README: n1 and n3 in zone1, n2 and n4 in zone2; n1
 * bootstraps, the others join through it. */
static void start_four(e2e_cluster *c)
{
    static const char *const zones[4] = {"zone1", "zone2", "zone1", "zone2"};
    e2e_start(c, 0, zones[0], -1, NULL);
    WAIT_FOR(e2e_node_count(c, 0) == 1, "n1 active");
    for (int i = 1; i < 4; i++)
        e2e_start(c, i, zones[i], 0, NULL);
    for (int i = 0; i < 4; i++)
        WAIT_FOR(e2e_node_count(c, i) == 4, "every node sees 4 nodes");
}

static bool all_replicated(const e2e_cluster *c, int voters)
{
    for (int g = 0; g < GROUPS; g++)
        if (e2e_voters(c, group_names[g]) < voters)
            return false;
    return true;
}

/* FLEET.CMD name inc through port; 1 acknowledged, 0 refused with an
 * error (its effect unknown), -1 no answer. */
static int inc(int fd, const char *name)
{
    rf_ctl_reply r;
    const char *argv[] = {"FLEET.CMD", name, "inc"};
    if (e2e_call(fd, &r, 3, argv) != 0)
        return -1;
    int ok = r.kind == RF_CTL_BULK;
    rf_ctl_reply_free(&r);
    return ok;
}

static int64_t get(int port, const char *name)
{
    rf_ctl_reply r;
    const char *argv[] = {"FLEET.QUERY", name, "get"};
    if (e2e_call_port(port, &r, 3, argv) != 0)
        return INT64_MIN;
    int64_t v = e2e_int(&r);
    rf_ctl_reply_free(&r);
    return v;
}

/* A numeric field of FLEET.STATUS name on node i; -1 when missing. */
static int64_t status_field(const e2e_cluster *c, int i, const char *name, const char *field)
{
    rf_ctl_reply r;
    const char *argv[] = {"FLEET.STATUS", name};
    if (e2e_call_port(c->n[i].client_port, &r, 2, argv) != 0)
        return -1;
    int64_t v = -1;
    for (int64_t k = 0; r.kind == RF_CTL_ARRAY && k + 1 < r.n; k += 2)
        if (r.elems[k].str && strcmp(r.elems[k].str, field) == 0)
            v = e2e_int(&r.elems[k + 1]);
    rf_ctl_reply_free(&r);
    return v;
}

static int64_t sql_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* After a clean stop, each node's history holds its run, the cluster's
 * nodes and groups, leaders and snapshots; the nodes together recorded
 * every group's growth; fleet-report draws it. */
static void check_histories(const e2e_cluster *c, int nodes)
{
    int64_t added = 0;
    for (int i = 0; i < nodes; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/history.db", c->n[i].data);
        sqlite3 *db;
        ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM runs WHERE kind = 'fleetd' AND "
                                     "outcome = 'pass' AND end_ns > 0"),
                         1);
        ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM nodes"), nodes);
        ck_assert_int_eq(sql_int(db, "SELECT count(DISTINCT zone) FROM nodes"), 2);
        ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM groups WHERE replicas = 3 AND "
                                     "model = 'int'"),
                         GROUPS);
        ck_assert_int_ge(sql_int(db, "SELECT count(DISTINCT group_id) FROM leader_changes "
                                     "WHERE leader_id IS NOT NULL"),
                         GROUPS);
        ck_assert_int_ge(sql_int(db, "SELECT count(*) FROM snapshots"), 2);
        /* The end snapshot: every group this node hosts has 3 voters. */
        ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM (SELECT group_id, count(*) AS v "
                                     "FROM placement WHERE snapshot_id = (SELECT max(id) FROM "
                                     "snapshots) AND role = 'voter' GROUP BY group_id) "
                                     "WHERE v != 3"),
                         0);
        added += sql_int(db, "SELECT count(*) FROM membership_changes WHERE change = "
                             "'add_learner' AND reason = 'placement'");
        sqlite3_close(db);
    }
    /* Each group grew from its boot member to 3: two learners added. */
    ck_assert_int_ge(added, 2 * GROUPS);
    char cmd[512];
    /* Graphviz's own leaks (fontconfig) are not fleet-report's: an ASan
     * build is only asked for its exit status, as in tests/reports. */
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=detect_leaks=0 %s/fleet-report %s/history.db -o %s/report >/dev/null",
             c->bin,
             c->n[0].data, c->dir);
    ck_assert_int_eq(system(cmd), 0);
    char index[256];
    snprintf(index, sizeof index, "%s/report/placement-001.svg", c->dir);
    struct stat st;
    ck_assert_int_eq(stat(index, &st), 0);
    ck_assert_int_gt(st.st_size, 0);
}

START_TEST(test_e2e_readme_example_four_nodes_five_groups)
{
    e2e_cluster c;
    e2e_init(&c);
    start_four(&c);
    char out[8192];
    /* Groups through fleetctl and through a pipelined RESP burst. */
    ck_assert_int_eq(e2e_fleetctl(&c, 0, out, sizeof out, "add-group g1 --replicas 3 --model int"),
                     0);
    ck_assert_int_eq(e2e_fleetctl(&c, 1, out, sizeof out, "add-group g1 --replicas 3 --model int"),
                     1);
    ck_assert_ptr_nonnull(strstr(out, "already_added"));
    ck_assert(e2e_add_groups(&c, 2, group_names + 1, GROUPS - 1, 3, "int"));
    WAIT_FOR(all_replicated(&c, 3), "every group has 3 voters");
    /* inc through every node's RESP port, get through fleetctl elsewhere. */
    int64_t want[GROUPS] = {0};
    for (int i = 0; i < 4; i++) {
        int fd = e2e_connect(c.n[i].client_port);
        ck_assert_int_ge(fd, 0);
        for (int g = 0; g < GROUPS; g++)
            for (int k = 0; k <= g; k++) {
                ck_assert_int_eq(inc(fd, group_names[g]), 1);
                want[g]++;
            }
        close(fd);
    }
    for (int g = 0; g < GROUPS; g++) {
        char args[64];
        snprintf(args, sizeof args, "query %s get", group_names[g]);
        ck_assert_int_eq(e2e_fleetctl(&c, (g + 1) % 4, out, sizeof out, args), 0);
        ck_assert_int_eq(atoll(out), want[g]);
        ck_assert_int_eq(get(c.n[g % 4].client_port, group_names[g]), want[g]);
    }
    /* redis-cli, when installed, speaks to the same port. */
    if (system("command -v redis-cli >/dev/null 2>&1") == 0) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "redis-cli -p %d FLEET.CMD g1 inc", c.n[3].client_port);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        ck_assert_int_eq(pclose(p), 0);
        ck_assert_int_eq(atoll(out), want[0]); /* inc replies the old value */
        want[0]++;
    }
    /* Every fleetctl listing, as a table and as JSON. */
    ck_assert_int_eq(e2e_fleetctl(&c, 3, out, sizeof out, "groups"), 0);
    ck_assert_ptr_nonnull(strstr(out, "NAME"));
    ck_assert_ptr_nonnull(strstr(out, "g5"));
    ck_assert_int_eq(e2e_fleetctl(&c, 3, out, sizeof out, "--json nodes"), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"zone\":\"zone2\""));
    ck_assert_int_eq(e2e_fleetctl(&c, 2, out, sizeof out, "--json leader g2"), 0);
    ck_assert(out[0] == '"');
    ck_assert_int_eq(e2e_fleetctl(&c, 2, out, sizeof out, "--json status g2"), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"voters\":"));
    ck_assert_int_eq(e2e_fleetctl(&c, 1, out, sizeof out, "--json cmd g2 inc"), 0);
    ck_assert_int_eq(atoll(out + 1), want[1]);
    ck_assert_int_eq(e2e_fleetctl(&c, 1, out, sizeof out, "placement --format dot"), 0);
    ck_assert_ptr_nonnull(strstr(out, "digraph placement"));
    ck_assert_ptr_nonnull(strstr(out, "label=zone2"));
    ck_assert_int_eq(e2e_fleetctl(&c, 1, out, sizeof out, "query nosuchgroup get"), 1);
    ck_assert_int_eq(e2e_fleetctl(&c, 1, out, sizeof out, "frobnicate"), 2);
    for (int i = 3; i >= 0; i--)
        ck_assert_int_eq(e2e_kill(&c, i, SIGTERM), 0);
    check_histories(&c, 4);
    e2e_stop(&c);
}
END_TEST

/* A leader killed with SIGKILL while a client keeps sending incs through
 * another node: after the re-election, incs succeed again, and the value
 * holds every acknowledged one (and no more than were sent). The killed
 * node restarts from its data directory and catches up; then the node that
 * led after it is killed too, so the group's majority is the restarted node
 * and the third one: still no acknowledged inc is lost. */
START_TEST(test_e2e_leader_killed_under_load_then_restarted_loses_no_acknowledged_write)
{
    e2e_cluster c;
    e2e_init(&c);
    e2e_start(&c, 0, "zone1", -1, NULL);
    WAIT_FOR(e2e_node_count(&c, 0) == 1, "n1 active");
    e2e_start(&c, 1, "zone2", 0, NULL);
    e2e_start(&c, 2, "zone3", 0, NULL);
    WAIT_FOR(e2e_node_count(&c, 0) == 3, "3 nodes");
    const char *g[] = {"hot"};
    ck_assert(e2e_add_groups(&c, 0, g, 1, 3, "int"));
    WAIT_FOR(e2e_voters(&c, "hot") == 3, "3 voters");
    char out[256];
    WAIT_FOR(e2e_fleetctl(&c, 0, out, sizeof out, "leader hot") == 0 && out[0] == 'n', "a leader");
    int victim = out[1] - '1';
    ck_assert(victim >= 0 && victim < 3);
    int via = (victim + 1) % 3;
    int fd = e2e_connect(c.n[via].client_port);
    ck_assert_int_ge(fd, 0);
    int64_t acked = 0, sent = 0, acked_after = 0;
    uint64_t killed_at = 0, end = e2e_now_ms() + 20000;
    while (e2e_now_ms() < end) {
        if (killed_at == 0 && sent == 200) {
            e2e_kill(&c, victim, SIGKILL);
            killed_at = e2e_now_ms();
        }
        int r = inc(fd, "hot");
        ck_assert_int_ge(r, 0); /* the node asked stays up and answers */
        sent++;
        acked += r;
        if (killed_at && r == 1 && ++acked_after == 200)
            break;
    }
    close(fd);
    ck_assert_msg(acked_after == 200, "only %lld incs acknowledged after the leader died",
                  (long long)acked_after);
    ck_assert_int_eq(e2e_fleetctl(&c, via, out, sizeof out, "leader hot"), 0);
    ck_assert_str_ne(out, c.n[victim].name);
    int64_t v = get(c.n[via].client_port, "hot");
    ck_assert_msg(v >= acked && v <= sent, "value %lld, %lld acknowledged of %lld sent",
                  (long long)v, (long long)acked, (long long)sent);

    /* The victim comes back from its data directory and catches up. */
    e2e_start(&c, victim, c.n[victim].zone, -1, NULL);
    WAIT_FOR(get(c.n[victim].client_port, "hot") == v, "the restarted node reads the value");
    WAIT_FOR(status_field(&c, victim, "hot", "commit_index") >=
                 status_field(&c, via, "hot", "commit_index"),
             "the restarted member caught up");
    /* The leader of the moment dies: the restarted node and the third
     * one elect a leader whose log holds every acknowledged inc. */
    ck_assert_int_eq(e2e_fleetctl(&c, victim, out, sizeof out, "leader hot"), 0);
    int second = out[1] - '1';
    ck_assert(second >= 0 && second < 3);
    int left = second == victim ? via : victim;
    e2e_kill(&c, second, SIGKILL);
    WAIT_FOR(get(c.n[left].client_port, "hot") != INT64_MIN, "a leader again");
    int64_t w = get(c.n[left].client_port, "hot");
    ck_assert_msg(w == v, "value %lld after the second kill, %lld before", (long long)w,
                  (long long)v);
    fd = e2e_connect(c.n[left].client_port);
    ck_assert_int_eq(inc(fd, "hot"), 1);
    close(fd);
    ck_assert_int_eq(get(c.n[left].client_port, "hot"), v + 1);
    e2e_stop(&c);
}
END_TEST

/* Deactivating a node drains it: leaders move its members to the others,
 * it leaves the metadata once it hosts none, and the data stays. */
START_TEST(test_e2e_deactivated_node_members_move_away)
{
    e2e_cluster c;
    e2e_init(&c);
    start_four(&c);
    ck_assert(e2e_add_groups(&c, 0, group_names, GROUPS, 3, "int"));
    WAIT_FOR(all_replicated(&c, 3), "every group has 3 voters");
    int fd = e2e_connect(c.n[0].client_port);
    for (int g = 0; g < GROUPS; g++)
        ck_assert_int_eq(inc(fd, group_names[g]), 1);
    close(fd);
    char out[8192];
    ck_assert_int_eq(e2e_fleetctl(&c, 3, out, sizeof out, "deactivate"), 0);
    WAIT_FOR(e2e_node_count(&c, 0) == 3, "n4 leaves the metadata");
    /* No running node lists n4 as a member of any group. */
    for (int i = 0; i < 3; i++) {
        WAIT_FOR(e2e_fleetctl(&c, i, out, sizeof out, "--json placement") == 0 &&
                     strstr(out, "{\"node\":\"n4\"") == NULL,
                 "n4 in no member list");
        ck_assert_ptr_null(strstr(out, "\"name\":\"n4\""));
    }
    WAIT_FOR(all_replicated(&c, 3), "every group has 3 voters again");
    for (int g = 0; g < GROUPS; g++)
        ck_assert_int_eq(get(c.n[1].client_port, group_names[g]), 1);
    ck_assert(e2e_alive(&c, 3));
    e2e_stop(&c);
}
END_TEST

/* Every node killed at once (SIGKILL: no clean shutdown) and started
 * again from its data directory: the groups, their members and every
 * acknowledged inc are there, and the cluster takes commands again. Each
 * node's history holds both runs, the second with its restart. */
START_TEST(test_e2e_every_node_restarts_with_state_intact)
{
    e2e_cluster c;
    e2e_init(&c);
    static const char *const zones[3] = {"zone1", "zone2", "zone3"};
    e2e_start(&c, 0, zones[0], -1, NULL);
    WAIT_FOR(e2e_node_count(&c, 0) == 1, "n1 active");
    e2e_start(&c, 1, zones[1], 0, NULL);
    e2e_start(&c, 2, zones[2], 0, NULL);
    WAIT_FOR(e2e_node_count(&c, 0) == 3, "3 nodes");
    ck_assert(e2e_add_groups(&c, 1, group_names, GROUPS, 3, "int"));
    WAIT_FOR(all_replicated(&c, 3), "every group has 3 voters");
    int fd = e2e_connect(c.n[2].client_port);
    for (int g = 0; g < GROUPS; g++)
        for (int k = 0; k < 10 + g; k++)
            ck_assert_int_eq(inc(fd, group_names[g]), 1);
    close(fd);
    for (int i = 0; i < 3; i++)
        e2e_kill(&c, i, SIGKILL);
    e2e_start(&c, 0, zones[0], -1, NULL);
    e2e_start(&c, 1, zones[1], 0, NULL);
    e2e_start(&c, 2, zones[2], 0, NULL);
    for (int g = 0; g < GROUPS; g++)
        WAIT_FOR(get(c.n[g % 3].client_port, group_names[g]) == 10 + g, "the value after restart");
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(e2e_node_count(&c, i), 3);
    char out[4096];
    ck_assert_int_eq(e2e_fleetctl(&c, 0, out, sizeof out, "--json groups"), 0);
    ck_assert_ptr_nonnull(strstr(out, "{\"name\":\"g5\",\"replicas\":3,\"model\":\"int\"}"));
    WAIT_FOR(all_replicated(&c, 3), "every group has 3 voters");
    fd = e2e_connect(c.n[1].client_port);
    for (int g = 0; g < GROUPS; g++)
        ck_assert_int_eq(inc(fd, group_names[g]), 1);
    close(fd);
    for (int g = 0; g < GROUPS; g++)
        ck_assert_int_eq(get(c.n[0].client_port, group_names[g]), 11 + g);
    for (int i = 2; i >= 0; i--)
        ck_assert_int_eq(e2e_kill(&c, i, SIGTERM), 0);
    for (int i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/history.db", c.n[i].data);
        sqlite3 *db;
        ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM runs"), 2);
        ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM node_events e JOIN runs r ON "
                                     "r.id = e.run_id WHERE r.id = (SELECT max(id) FROM runs) "
                                     "AND e.kind = 'restart'"),
                         1);
        sqlite3_close(db);
    }
    e2e_stop(&c);
}
END_TEST

Suite *prod_e2e_suite(void)
{
    Suite *s = suite_create("prod_e2e");
    TCase *tc = tcase_create("cluster");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, e2e_fixture_setup, e2e_fixture_teardown);
    tcase_add_test(tc, test_e2e_readme_example_four_nodes_five_groups);
    tcase_add_test(tc, test_e2e_leader_killed_under_load_then_restarted_loses_no_acknowledged_write);
    tcase_add_test(tc, test_e2e_deactivated_node_members_move_away);
    tcase_add_test(tc, test_e2e_every_node_restarts_with_state_intact);
    suite_add_tcase(s, tc);
    return s;
}

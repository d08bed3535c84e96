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
    snprintf(cmd, sizeof cmd, "%s/fleet-report %s/history.db -o %s/report >/dev/null", c->bin,
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
 * another node: after the re-election, incs succeed again, and the final
 * value holds every acknowledged one (and no more than were sent). */
START_TEST(test_e2e_leader_killed_under_load_commands_continue)
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

Suite *prod_e2e_suite(void)
{
    Suite *s = suite_create("prod_e2e");
    TCase *tc = tcase_create("cluster");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, e2e_fixture_setup, e2e_fixture_teardown);
    tcase_add_test(tc, test_e2e_readme_example_four_nodes_five_groups);
    tcase_add_test(tc, test_e2e_leader_killed_under_load_commands_continue);
    tcase_add_test(tc, test_e2e_deactivated_node_members_move_away);
    suite_add_tcase(s, tc);
    return s;
}

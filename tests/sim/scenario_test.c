/* Tests of sim/scenario*.c: shipped scenarios, malformed files, round trips and robustness. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "base/rf_pcg.h"
#include "sim/scenario.h"

#define PATHS_MAX 128

static int cmp_path(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The sorted paths of the .scn files in dir; returns how many. */
static int list_scn(const char *dir, char paths[][256])
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL && n < PATHS_MAX) {
        size_t len = strlen(e->d_name);
        if (len <= 4 || strcmp(e->d_name + len - 4, ".scn") != 0)
            continue;
        int w = snprintf(paths[n], 256, "%s/%s", dir, e->d_name);
        if (w > 0 && w < 256)
            n++;
    }
    closedir(d);
    qsort(paths, (size_t)n, 256, cmp_path);
    return n;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *buf = malloc(RF_SCN_FILE_BYTES_MAX + 1);
    ck_assert_ptr_nonnull(buf);
    *len = fread(buf, 1, RF_SCN_FILE_BYTES_MAX, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static rf_scenario *parse_text(const char *text)
{
    rf_scenario *s;
    rf_scn_error err;
    int rc = rf_scenario_parse(text, strlen(text), "test.scn", &s, &err);
    ck_assert_msg(rc == RF_OK, "%s", err.text);
    return s;
}

/* Checks parse(write(s)) == s, and that writing again gives the same text. */
static void check_round_trip(const rf_scenario *s, const char *what)
{
    char *text, *again;
    size_t len, len2;
    ck_assert_int_eq(rf_scenario_write(s, &text, &len), RF_OK);
    rf_scenario *back;
    rf_scn_error err;
    int rc = rf_scenario_parse(text, len, "written.scn", &back, &err);
    ck_assert_msg(rc == RF_OK, "%s: written text does not parse: %s\n%s", what, err.text, text);
    ck_assert_msg(rf_scenario_equal(s, back), "%s: round trip differs\n%s", what, text);
    ck_assert_int_eq(rf_scenario_write(back, &again, &len2), RF_OK);
    ck_assert_uint_eq(len, len2);
    ck_assert_msg(memcmp(text, again, len) == 0, "%s: canonical text is not stable", what);
    free(text);
    free(again);
    rf_scenario_free(back);
}

START_TEST(test_every_shipped_scenario_parses_and_round_trips)
{
    static char paths[PATHS_MAX][256];
    int n = list_scn("scenarios", paths);
    static const char *required[] = {
        "quickstart", "partition-heal", "leader-crash", "zone-outage", "rolling-restart",
        "churn", "flapping-partition", "asymmetric-partition", "scale-1000-groups"};
    for (size_t r = 0; r < sizeof required / sizeof required[0]; r++) {
        char want[256];
        snprintf(want, sizeof want, "scenarios/%s.scn", required[r]);
        bool found = false;
        for (int i = 0; i < n; i++)
            found = found || strcmp(paths[i], want) == 0;
        ck_assert_msg(found, "%s is missing", want);
    }
    static char regress[PATHS_MAX][256];
    int m = list_scn("scenarios/regressions", regress);
    for (int i = 0; i < m && n < PATHS_MAX; i++)
        memcpy(paths[n++], regress[i], 256);
    for (int i = 0; i < n; i++) {
        rf_scenario *s;
        rf_scn_error err;
        ck_assert_msg(rf_scenario_load(paths[i], &s, &err) == RF_OK, "%s", err.text);
        ck_assert_uint_gt(s->node_count, 0);
        ck_assert_uint_gt(s->expect_count, 0);
        check_round_trip(s, paths[i]);
        rf_scenario_free(s);
    }
}
END_TEST

START_TEST(test_quickstart_is_raftfleets_readme_example)
{
    rf_scenario *s;
    rf_scn_error err;
    ck_assert_msg(rf_scenario_load("scenarios/quickstart.scn", &s, &err) == RF_OK, "%s", err.text);
    /* 4 nodes in zone1/zone2/zone1/zone2, then n5 added by the timeline */
    ck_assert_uint_eq(s->node_count, 5);
    static const char *zone_of[4] = {"zone1", "zone2", "zone1", "zone2"};
    for (int i = 0; i < 4; i++) {
        ck_assert(!s->nodes[i].added);
        ck_assert_str_eq(s->zones[s->nodes[i].zone], zone_of[i]);
    }
    ck_assert(s->nodes[4].added);
    /* consensus1..5, 3 replicas of int */
    ck_assert_uint_eq(s->group_count, 1);
    ck_assert_uint_eq(rf_scenario_group_total(s), 5);
    ck_assert_uint_eq(s->groups[0].replicas, 3);
    ck_assert_str_eq(s->groups[0].model, "int");
    char name[64];
    rf_scn_pattern_name(&s->groups[0].names, 4, name, sizeof name);
    ck_assert_str_eq(name, "consensus5");
    /* query get -> 0, command inc -> 0, query get -> 1, from different nodes */
    static const struct {
        rf_scn_event_kind kind;
        const char *op, *reply;
    } calls[3] = {{RF_SCN_EV_QUERY, "get", "0"},
                  {RF_SCN_EV_COMMAND, "inc", "0"},
                  {RF_SCN_EV_QUERY, "get", "1"}};
    for (int i = 0; i < 3; i++) {
        const rf_scn_event *e = &s->events[i];
        ck_assert_int_eq(e->kind, calls[i].kind);
        ck_assert_str_eq(e->group.names.prefix, "consensus1");
        ck_assert_str_eq(e->op, calls[i].op);
        ck_assert_int_eq(e->expect, RF_SCN_EXPECT_REPLY);
        ck_assert_str_eq(e->reply, calls[i].reply);
        ck_assert_int_eq(e->node, i);
    }
    ck_assert_int_eq(s->events[3].kind, RF_SCN_EV_ADD_NODE);
    ck_assert_str_eq(s->events[3].label, "joined");
    rf_scenario_free(s);
}
END_TEST

START_TEST(test_scale_scenario_has_the_size_issue_6_asks_for)
{
    rf_scenario *s;
    rf_scn_error err;
    ck_assert_msg(rf_scenario_load("scenarios/scale-1000-groups.scn", &s, &err) == RF_OK, "%s",
                  err.text);
    ck_assert_uint_eq(s->node_count, 5);
    ck_assert_uint_eq(s->zone_count, 3);
    ck_assert_uint_eq(rf_scenario_group_total(s), 1000);
    for (uint32_t i = 0; i < s->group_count; i++)
        ck_assert_uint_eq(s->groups[i].replicas, 3);
    ck_assert_uint_eq(s->run_ns, 3600ull * 1000000000ull);
    ck_assert(rf_scenario_ops_per_s(s) >= 100.0);
    /* churn and partitions, then a quiet liveness phase */
    bool crash = false, partition = false, churn = false;
    for (uint32_t i = 0; i < s->event_count; i++) {
        rf_scn_event_kind k = s->events[i].kind;
        crash = crash || k == RF_SCN_EV_CRASH;
        partition = partition || k == RF_SCN_EV_PARTITION;
        churn = churn || k == RF_SCN_EV_DEACTIVATE || k == RF_SCN_EV_ACTIVATE;
    }
    ck_assert(crash && partition && churn);
    uint64_t end = rf_scenario_faults_end_max_ns(s);
    ck_assert_uint_gt(end, 0);
    ck_assert_uint_le(end + 5ull * 60 * 1000000000ull, s->run_ns);
    rf_scenario_free(s);
}
END_TEST

START_TEST(test_faults_end_takes_the_latest_bound)
{
    rf_scenario *s = parse_text("run for 10m\nnode a zone z\nnode b zone z\ngroup g\n"
                                "at 1m crash a for 10s..30s\n"
                                "every 10s until 2m isolate random for 5s\n"
                                "at 9m command g inc\n");
    /* the every line: last start before 2m, plus 5s */
    ck_assert_uint_eq(rf_scenario_faults_end_max_ns(s), 125ull * 1000000000ull);
    rf_scenario_free(s);
    s = parse_text("node a zone z\n");
    ck_assert_uint_eq(rf_scenario_faults_end_max_ns(s), 0);
    rf_scenario_free(s);
}
END_TEST

/* A cluster that every example of the reference can name: what an example
 * line declares itself (`add node n5`, `as joined`) is left out. */
static const struct {
    const char *line, *defines;
} readme_prelude[] = {
    {"run for 2h", ""},
    {"node n1 zone zone1", "n1"}, {"node n2 zone zone2", "n2"}, {"node n3 zone zone1", "n3"},
    {"node n4 zone zone2", "n4"}, {"node n5 zone z1", "n5"},    {"node n6 zone z2", "n6"},
    {"node n7 zone north", "n7"}, {"node n8 zone east", "n8"},  {"node n9 zone west", "n9"},
    {"groups consensus{1..5}", ""}, {"groups g{1..20}", ""}, {"group orders", ""},
    {"group ledger model bank", ""},
    {"at 1s heal as healed", "healed"}, {"at 1s heal as split", "split"},
    {"at 1s add node extra zone zone1 as joined", "joined"},
    {"at 1s deactivate n8 as drained", "drained"},
};

static bool line_defines(const char *line, const char *name)
{
    char add[96], as[96];
    snprintf(add, sizeof add, "add node %s ", name);
    snprintf(as, sizeof as, " as %s", name);
    size_t n = strlen(line), m = strlen(as);
    return strstr(line, add) != NULL || (n >= m && strcmp(line + n - m, as) == 0);
}

/* A line of the reference's syntax summaries (`at TIME ACTION ...`). */
static bool has_placeholder(const char *line)
{
    for (const char *c = line; *c; c++)
        if (c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] >= 'A' && c[2] <= 'Z')
            return true;
    return false;
}

START_TEST(test_every_example_line_of_the_reference_parses)
{
    size_t len;
    char *doc = read_all("scenarios/README.md", &len);
    static const char *timeline[] = {"at ", "every ", "expect ", "workload "};
    static const char *settings[] = {"seed ", "run ", "raft ", "fleet ", "disk ", "network ",
                                     "leases ", "replication ", "node ", "nodes ", "group ", "groups "};
    bool in_code = false;
    int checked = 0;
    static char text[8192];
    for (char *line = strtok(doc, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (strncmp(line, "```", 3) == 0) {
            in_code = !in_code;
            continue;
        }
        bool is_timeline = false, is_setting = false;
        for (size_t i = 0; i < sizeof timeline / sizeof timeline[0]; i++)
            is_timeline = is_timeline || strncmp(line, timeline[i], strlen(timeline[i])) == 0;
        for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
            is_setting = is_setting || strncmp(line, settings[i], strlen(settings[i])) == 0;
        if (!in_code || (!is_timeline && !is_setting) || has_placeholder(line))
            continue;
        size_t n = 0;
        if (is_timeline) {
            for (size_t i = 0; i < sizeof readme_prelude / sizeof readme_prelude[0]; i++)
                if (readme_prelude[i].defines[0] == '\0' ||
                    !line_defines(line, readme_prelude[i].defines))
                    n += (size_t)snprintf(text + n, sizeof text - n, "%s\n", readme_prelude[i].line);
        } else if (strncmp(line, "node", 4) != 0) {
            n += (size_t)snprintf(text + n, sizeof text - n, "node solo zone solo\n");
        }
        snprintf(text + n, sizeof text - n, "%s\n", line);
        rf_scenario *s;
        rf_scn_error err;
        ck_assert_msg(rf_scenario_parse(text, strlen(text), "README.md", &s, &err) == RF_OK,
                      "example `%s`: %s", line, err.text);
        check_round_trip(s, line);
        rf_scenario_free(s);
        checked++;
    }
    free(doc);
    ck_assert_int_ge(checked, 60);
}
END_TEST

START_TEST(test_malformed_files_report_exact_position_and_message)
{
    static char paths[PATHS_MAX][256];
    int n = list_scn("tests/scenarios/bad", paths);
    ck_assert_int_ge(n, 20);
    for (int i = 0; i < n; i++) {
        size_t len;
        char *text = read_all(paths[i], &len);
        static const char tag[] = "# expect-error: ";
        ck_assert_msg(strncmp(text, tag, strlen(tag)) == 0, "%s: no expect-error line", paths[i]);
        const char *want = text + strlen(tag);
        const char *eol = strchr(want, '\n');
        ck_assert_ptr_nonnull(eol);
        static char expected[RF_SCN_ERROR_MAX + 300];
        ck_assert_uint_lt((size_t)(eol - want), RF_SCN_ERROR_MAX);
        int wn = (int)(eol - want);
        ck_assert_int_gt(snprintf(expected, sizeof expected, "%s:%.*s", paths[i], wn, want), 0);

        rf_scenario *s = (rf_scenario *)&s;
        rf_scn_error err;
        ck_assert_int_eq(rf_scenario_parse(text, len, paths[i], &s, &err), RF_ESCENARIO);
        ck_assert_ptr_null(s);
        ck_assert_str_eq(err.text, expected);
        /* the structured fields agree with the text */
        char pos[64];
        snprintf(pos, sizeof pos, "%u:%u: ", err.line, err.column);
        ck_assert(strncmp(want, pos, strlen(pos)) == 0);
        ck_assert_uint_ge(err.line, 2);
        ck_assert_uint_ge(err.column, 1);
        free(text);
    }
}
END_TEST

START_TEST(test_missing_file_is_an_error_not_a_crash)
{
    rf_scenario *s;
    rf_scn_error err;
    ck_assert_int_eq(rf_scenario_load("tests/scenarios/no-such-file.scn", &s, &err), RF_ESCENARIO);
    ck_assert_ptr_null(s);
    ck_assert(strstr(err.text, "tests/scenarios/no-such-file.scn:0:0: cannot open") == err.text);
}
END_TEST

START_TEST(test_units_percentages_and_rates_are_exact)
{
    rf_scenario *s = parse_text("run for 3h\n"
                                "raft heartbeat 250us election 3s\n"
                                "network latency 2ms jitter 500us tail 0.25% 40ms loss 0.0001%\n"
                                "node a zone z\n"
                                "at 1h..2h crash a for 90m\n");
    ck_assert_uint_eq(s->run_ns, 3ull * 3600 * 1000000000ull);
    ck_assert_uint_eq(s->heartbeat_ns, 250000ull);
    ck_assert_uint_eq(s->election.lo, 3000000000ull);
    ck_assert_uint_eq(s->election.hi, 6000000000ull); /* a single value T means T..2T */
    ck_assert_uint_eq(s->net.jitter_ns, 500000ull);
    ck_assert_uint_eq(s->net.tail_ppm, 2500);
    ck_assert_uint_eq(s->net.tail_ns, 40000000ull);
    ck_assert_uint_eq(s->net.loss_ppm, 1);
    ck_assert_uint_eq(s->events[0].at.lo, 3600000000000ull);
    ck_assert_uint_eq(s->events[0].at.hi, 7200000000000ull);
    ck_assert_uint_eq(s->events[0].lasts.lo, 5400000000000ull);
    rf_scenario_free(s);

    s = parse_text("run for 1.5s\nnode a zone z\ngroup g\n"
                   "workload g clients 3 rate 30/m mix inc 33.3333% get 66.6667%\n");
    ck_assert_uint_eq(s->run_ns, 1500000000ull);
    ck_assert_uint_eq(s->workloads[0].rate, 30);
    ck_assert_uint_eq(s->workloads[0].rate_per_ns, 60000000000ull);
    ck_assert_uint_eq(s->workloads[0].mix[0].ppm, 333333);
    ck_assert_uint_eq(s->workloads[0].mix[1].ppm, 666667);
    ck_assert(!s->workloads[0].mix[0].query); /* inc */
    ck_assert(s->workloads[0].mix[1].query);  /* get */
    check_round_trip(s, "units");
    rf_scenario_free(s);

    s = parse_text("node a zone z\ngroup g model bank\n"
                   "workload g clients 1 rate 1/s mix command get 10% query balance 20% "
                   "\"get x\" 30% \"query\" 40%\n");
    const rf_scn_mix *m = s->workloads[0].mix;
    ck_assert(!m[0].query);
    ck_assert(m[1].query);
    ck_assert(m[2].query);
    ck_assert(!m[3].query);
    ck_assert_str_eq(m[3].op, "query");
    check_round_trip(s, "units");
    rf_scenario_free(s);
}
END_TEST

START_TEST(test_leases_are_off_by_default_and_their_margin_is_a_share_of_the_timeout)
{
    rf_scenario *s = parse_text("node a zone z\n");
    ck_assert_uint_eq(s->lease_margin_ppm, 0);
    char *text;
    size_t len;
    ck_assert_int_eq(rf_scenario_write(s, &text, &len), RF_OK);
    ck_assert_ptr_null(strstr(text, "leases"));
    free(text);
    rf_scenario_free(s);
    s = parse_text("leases margin 12.5%\nnode a zone z\n");
    ck_assert_uint_eq(s->lease_margin_ppm, 125000);
    ck_assert_int_eq(rf_scenario_write(s, &text, &len), RF_OK);
    ck_assert_ptr_nonnull(strstr(text, "\nleases margin 12.5%\n"));
    free(text);
    check_round_trip(s, "leases");
    rf_scenario_free(s);
    s = parse_text("replication batch 3\nnode a zone z\n");
    ck_assert_uint_eq(s->append_batch, 3);
    check_round_trip(s, "replication");
    rf_scenario_free(s);
}
END_TEST

START_TEST(test_every_action_round_trips)
{
    rf_scenario *s = parse_text(
        "seed 99\nrun for 10m\n"
        "nodes n{1..4} zones za zb\nnode spare zone zc inactive\n"
        "group solo replicas 1 model kv\ngroups shard-{1..3}-x replicas 5 model bank\n"
        "workload all clients 2 rate 100/h mix \"set 5\" 25% \"say \\\"hi\\\"\" 25% \"until\" 50% until 9m\n"
        "at 1s partition n1 n2 | n3 | n4 for 1s..2s as p1\n"
        "at 2s partition zone zb\nat 3s partition random for 5s\nat 4s isolate leader-of solo\n"
        "at 5s cut n1 -> n2 n3\nat 6s flap random every 1s..3s for 1m\nat 7s clog n1 -> n2 for 2s\n"
        "at 8s clog n3 n4\nat 9s heal\nat 10s network loss 3% reorder 0.5% for 30s\n"
        "at 11s crash random for 1s\nat 12s restart n1\nat 13s pause n2 for 3s\nat 14s resume n2\n"
        "at 15s drift n3 -250ppm for 1m\nat 16s add node late zone zc as joined\n"
        "at 17s activate spare\nat 18s deactivate n4 as left\nat 19s remove node n4\n"
        "at 20s disk n1 fail writes\nat 21s disk n2 fail syncs for 1s\nat 22s disk n3 full\n"
        "at 23s disk leader-of shard-2-x flip bits 0.01%\nat 24s add group extra replicas 3 model int\n"
        "at 25s remove group solo\nat 26s command shard-1-x \"\" from late expect error no_leader\n"
        "at 27s query extra get expect \"until\"\nevery 30s from 1m until 5m crash random for 5s\n"
        "every 1m..2m isolate random\nnode after-timeline zone za\n"
        "expect linearizable\nexpect safety\nexpect leader in every group within 5s after p1\n"
        "expect leader in every group within 5s\nexpect placement converged within 1m after start\n"
        "expect moves at most 4 after joined\nexpect moves at most 0 over minimal after left\n"
        "expect unavailability at most 0s per group\n");
    ck_assert_uint_eq(s->event_count, 29);
    /* `node after-timeline` is written before the timeline; nodes are
     * renumbered so the tree still compares equal. */
    ck_assert_str_eq(s->nodes[5].name, "after-timeline");
    ck_assert_str_eq(s->nodes[6].name, "late");
    ck_assert_str_eq(s->workloads[0].mix[1].op, "say \"hi\"");
    ck_assert_str_eq(s->workloads[0].mix[2].op, "until");
    ck_assert(!s->workloads[0].mix[0].query);
    ck_assert_int_eq(s->events[3].part.node, RF_SCN_LEADER_OF);
    ck_assert_int_eq(s->events[10].drift_ppm, 0); /* crash has no drift */
    ck_assert_int_eq(s->events[14].drift_ppm, -250);
    check_round_trip(s, "every action");
    rf_scenario_free(s);
}
END_TEST

START_TEST(test_hand_built_tree_round_trips)
{
    /* What the fuzzer does: build a tree with the edit API, write it. */
    rf_scenario *s = rf_scenario_new();
    ck_assert_ptr_nonnull(s);
    s->seed = 123456789;
    s->run_ns = 90ull * 1000000000ull;
    int32_t idx, late;
    /* the added node first: canonical numbering puts it last */
    ck_assert_int_eq(rf_scenario_add_node(s, "late", "c", false, true, &late), RF_OK);
    for (uint32_t i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "node%u", i);
        ck_assert_int_eq(rf_scenario_add_node(s, name, i % 2 ? "b" : "a", false, false, &idx),
                         RF_OK);
    }
    ck_assert_int_eq(rf_scenario_add_node(s, "node1", "a", false, false, &idx), RF_EEXIST);
    ck_assert_int_eq(rf_scenario_add_node(s, "bad name", "a", false, false, &idx), RF_EBADNAME);
    rf_scn_group *g = rf_scenario_add_group(s);
    strcpy(g->names.prefix, "g");
    g->names.is_range = true;
    g->names.lo = 1;
    g->names.hi = 7;
    rf_scn_event *e = rf_scenario_add_event(s, RF_SCN_EV_CUT);
    e->at.lo = e->at.hi = 5000000000ull;
    e->lasts.lo = e->lasts.hi = 1000000000ull;
    e->part.set_count = 2;
    e->part.sets[0].bits[0] = 1u << 1;             /* node0 */
    e->part.sets[1].bits[0] = (1u << 2) | (1u << 3); /* node1 node2 */
    e = rf_scenario_add_event(s, RF_SCN_EV_CRASH);
    e->repeat = true;
    e->period.lo = 1000000000ull;
    e->period.hi = 3000000000ull;
    e->node = RF_SCN_RANDOM_NODE;
    e = rf_scenario_add_event(s, RF_SCN_EV_ADD_NODE);
    e->at.lo = e->at.hi = 7000000000ull;
    e->node = late;
    rf_scn_expect *x = rf_scenario_add_expect(s, RF_SCN_EXP_LEADERS);
    x->within_ns = 7000000ull;

    rf_scenario_canonicalize(s);
    ck_assert_str_eq(s->nodes[3].name, "late");
    ck_assert_str_eq(s->nodes[0].name, "node0");
    ck_assert_str_eq(s->zones[0], "a");
    ck_assert_int_eq(s->events[2].node, 3);
    ck_assert(rf_scn_nodeset_has(&s->events[0].part.sets[0], 0));
    ck_assert(rf_scn_nodeset_has(&s->events[0].part.sets[1], 2));
    check_round_trip(s, "hand built");
    rf_scenario_free(s);
}
END_TEST

START_TEST(test_shrinking_edits_keep_trees_writable)
{
    /* What the shrinker does: remove items one at a time; an edit whose
     * text no longer parses (a group still referenced...) is undone. */
    static char paths[PATHS_MAX][256];
    int n = list_scn("scenarios", paths);
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 0x5412, 3);
    int kept = 0, undone = 0, busy = 0;
    for (int f = 0; f < n; f++) {
        rf_scenario *s;
        rf_scn_error err;
        ck_assert_int_eq(rf_scenario_load(paths[f], &s, &err), RF_OK);
        for (int step = 0; step < 60; step++) {
            char *before;
            size_t before_len;
            ck_assert_int_eq(rf_scenario_write(s, &before, &before_len), RF_OK);
            uint32_t what = rf_pcg32_bounded(&rng, 5);
            if (what == 0 && s->event_count > 0)
                busy += rf_scenario_remove_event(s, rf_pcg32_bounded(&rng, s->event_count)) ==
                        RF_EBUSY;
            else if (what == 1 && s->group_count > 0)
                rf_scenario_remove_group(s, rf_pcg32_bounded(&rng, s->group_count));
            else if (what == 2 && s->workload_count > 0)
                rf_scenario_remove_workload(s, rf_pcg32_bounded(&rng, s->workload_count));
            else if (what == 3 && s->expect_count > 0)
                rf_scenario_remove_expect(s, rf_scenario_group_total(s) % s->expect_count);
            else if (what == 4 && s->node_count > 1) {
                uint32_t i = rf_pcg32_bounded(&rng, s->node_count);
                bool named = false;
                for (uint32_t k = 0; k < s->event_count; k++)
                    named = named || rf_scn_event_names_node(&s->events[k], i);
                int rc = rf_scenario_remove_node(s, i);
                ck_assert_int_eq(rc, named ? RF_EBUSY : rc);
                busy += rc == RF_EBUSY;
            }
            char *text;
            size_t len;
            ck_assert_int_eq(rf_scenario_write(s, &text, &len), RF_OK);
            rf_scenario *back;
            if (rf_scenario_parse(text, len, "edited.scn", &back, &err) == RF_OK) {
                ck_assert_msg(rf_scenario_equal(s, back), "edited tree differs\n%s", text);
                rf_scenario_free(back);
                kept++;
            } else {
                rf_scenario_free(s);
                ck_assert_int_eq(rf_scenario_parse(before, before_len, "before.scn", &s, &err),
                                 RF_OK);
                undone++;
            }
            free(text);
            free(before);
        }
        rf_scenario_free(s);
    }
    printf("scenario shrink edits: %d kept, %d undone, %d refused as busy\n", kept, undone, busy);
    ck_assert_int_gt(kept, 100);
    ck_assert_int_gt(undone, 0);
    ck_assert_int_gt(busy, 0);
}
END_TEST

/* One random edit of text: flip, delete, insert or duplicate bytes, or
 * splice in a word of the language, so mutants get deep into the parser. */
static size_t mutate(rf_pcg32 *rng, char *buf, size_t len, size_t cap)
{
    static const char *words[] = {" ", "\n", "..", "{", "}", "|", "->", "\"", "#", "%", "0",
                                  "99999999999999999999", "1s..", "random", "leader-of ",
                                  "for ", "as x ", "at 1s ", "every 1ms ", "expect ", "zone ",
                                  "{1..100000}", "\\", "\t", "\r", "\x01", "\xff", "ppm", "/s"};
    if (len == 0)
        return 0;
    size_t at = rf_pcg32_bounded(rng, (uint32_t)len);
    switch (rf_pcg32_bounded(rng, 5)) {
    case 0:
        buf[at] = (char)rf_pcg32_next(rng);
        return len;
    case 1: {
        size_t n = 1 + rf_pcg32_bounded(rng, 16);
        n = n > len - at ? len - at : n;
        memmove(buf + at, buf + at + n, len - at - n);
        return len - n;
    }
    case 2: {
        const char *w = words[rf_pcg32_bounded(rng, sizeof words / sizeof words[0])];
        size_t n = strlen(w);
        if (len + n > cap)
            return len;
        memmove(buf + at + n, buf + at, len - at);
        memcpy(buf + at, w, n);
        return len + n;
    }
    case 3: {
        size_t n = 1 + rf_pcg32_bounded(rng, 64);
        size_t from = rf_pcg32_bounded(rng, (uint32_t)len);
        n = n > len - from ? len - from : n;
        if (len + n > cap)
            return len;
        memmove(buf + at + n, buf + at, len - at);
        memmove(buf + at, buf + (from >= at ? from + n : from), n);
        return len + n;
    }
    default:
        return at; /* truncate */
    }
}

START_TEST(test_mutated_scenarios_never_crash_and_accepted_ones_round_trip)
{
    static char paths[PATHS_MAX][256];
    int n = list_scn("scenarios", paths);
    ck_assert_int_gt(n, 0);
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 0x5eed, 7);
    int accepted = 0, rejected = 0;
    for (int i = 0; i < n; i++) {
        size_t len;
        char *orig = read_all(paths[i], &len);
        size_t cap = len + 4096;
        char *buf = malloc(cap);
        ck_assert_ptr_nonnull(buf);
        for (int round = 0; round < 1000; round++) {
            memcpy(buf, orig, len);
            size_t m = len;
            int edits = 1 + (int)rf_pcg32_bounded(&rng, 4);
            for (int k = 0; k < edits; k++)
                m = mutate(&rng, buf, m, cap);
            rf_scenario *s;
            rf_scn_error err;
            if (rf_scenario_parse(buf, m, "mutant.scn", &s, &err) == RF_OK) {
                accepted++;
                check_round_trip(s, "mutant");
                rf_scenario_free(s);
            } else {
                rejected++;
                ck_assert_ptr_null(s);
                ck_assert(strncmp(err.text, "mutant.scn:", 11) == 0);
                ck_assert_uint_gt(strlen(err.message), 0);
            }
        }
        free(buf);
        free(orig);
    }
    printf("scenario mutants: %d accepted and round-tripped, %d rejected with an error\n",
           accepted, rejected);
    /* Both paths must really be exercised. */
    ck_assert_int_gt(accepted, 50);
    ck_assert_int_gt(rejected, 50);
}
END_TEST

Suite *scenario_suite(void)
{
    Suite *s = suite_create("scenario");
    TCase *files = tcase_create("files");
    tcase_set_timeout(files, 30);
    tcase_add_test(files, test_every_shipped_scenario_parses_and_round_trips);
    tcase_add_test(files, test_quickstart_is_raftfleets_readme_example);
    tcase_add_test(files, test_scale_scenario_has_the_size_issue_6_asks_for);
    tcase_add_test(files, test_malformed_files_report_exact_position_and_message);
    tcase_add_test(files, test_every_example_line_of_the_reference_parses);
    tcase_add_test(files, test_missing_file_is_an_error_not_a_crash);
    suite_add_tcase(s, files);

    TCase *lang = tcase_create("language");
    tcase_add_test(lang, test_units_percentages_and_rates_are_exact);
    tcase_add_test(lang, test_leases_are_off_by_default_and_their_margin_is_a_share_of_the_timeout);
    tcase_add_test(lang, test_every_action_round_trips);
    tcase_add_test(lang, test_faults_end_takes_the_latest_bound);
    tcase_add_test(lang, test_hand_built_tree_round_trips);
    tcase_add_test(lang, test_shrinking_edits_keep_trees_writable);
    suite_add_tcase(s, lang);

    TCase *robust = tcase_create("robustness");
    tcase_set_timeout(robust, 120);
    tcase_add_test(robust, test_mutated_scenarios_never_crash_and_accepted_ones_round_trip);
    suite_add_tcase(s, robust);
    return s;
}

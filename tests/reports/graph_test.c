/* Tests of reports/rpt_graph.c: clusters, edges and highlights of placement graphs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "reports/rpt_data.h"
#include "reports/rpt_graph.h"
#include "tests/reports/history_fixture.h"

static char dir[64];
static char db[128];
static rpt_run run;

static void setup(void)
{
    ck_assert_int_eq(fixture_tmpdir(dir, sizeof dir), 0);
    snprintf(db, sizeof db, "%s/h.db", dir);
    ck_assert_int_gt(fixture_write_history(db), 0);
    char err[256];
    ck_assert_int_eq(rpt_run_open(&run, db, 0, err, sizeof err), RF_OK);
    ck_assert_uint_eq(run.snapshots_n, 7);
}

static void teardown(void)
{
    rpt_run_close(&run);
    fixture_rmdir(dir);
}

/* The graph of snapshot idx, highlighted against snapshot prev_idx (-1: none). */
static Agraph_t *graph_of(int idx, int prev_idx)
{
    rpt_placement cur, prev;
    ck_assert_int_eq(rpt_placement_load(&run, (size_t)idx, &cur), RF_OK);
    if (prev_idx >= 0)
        ck_assert_int_eq(rpt_placement_load(&run, (size_t)prev_idx, &prev), RF_OK);
    Agraph_t *g = rpt_graph_build(&run, &cur, prev_idx >= 0 ? &prev : NULL, "t");
    ck_assert_ptr_nonnull(g);
    rpt_placement_free(&cur);
    if (prev_idx >= 0)
        rpt_placement_free(&prev);
    return g;
}

static Agedge_t *edge(Agraph_t *g, const char *from, const char *to)
{
    Agnode_t *t = agnode(g, (char *)from, 0), *h = agnode(g, (char *)to, 0);
    ck_assert_msg(t != NULL && h != NULL, "%s or %s missing", from, to);
    return agedge(g, t, h, NULL, 0);
}

static const char *attr(void *obj, const char *name)
{
    const char *v = agget(obj, (char *)name);
    return v ? v : "";
}

START_TEST(test_zones_are_clusters_holding_their_nodes)
{
    Agraph_t *g = graph_of(0, -1);
    Agraph_t *z1 = agsubg(g, (char *)"cluster_z0", 0), *z2 = agsubg(g, (char *)"cluster_z1", 0);
    ck_assert_ptr_nonnull(z1);
    ck_assert_ptr_nonnull(z2);
    ck_assert_str_eq(attr(z1, "label"), "zone1");
    ck_assert_str_eq(attr(z2, "label"), "zone2");
    ck_assert_ptr_nonnull(agnode(z1, (char *)"n1", 0));
    ck_assert_ptr_nonnull(agnode(z1, (char *)"n3", 0));
    ck_assert_ptr_null(agnode(z1, (char *)"n2", 0));
    ck_assert_ptr_nonnull(agnode(z2, (char *)"n2", 0));
    ck_assert_ptr_nonnull(agnode(z2, (char *)"n4", 0));
    ck_assert_int_eq(agnnodes(z1), 2);
    ck_assert_str_eq(attr(agnode(g, (char *)"n1", 0), "shape"), "box");
    /* Groups sit outside the clusters. */
    ck_assert_ptr_nonnull(agnode(g, (char *)"g1", 0));
    ck_assert_ptr_null(agnode(z1, (char *)"g1", 0));
    ck_assert_int_eq(agnnodes(g), 9);
    agclose(g);
}
END_TEST

START_TEST(test_groups_have_an_edge_per_member_and_the_leader_emphasised)
{
    Agraph_t *g = graph_of(0, -1); /* at 0 s, before any leader */
    ck_assert_int_eq(agnedges(g), 15);
    ck_assert_str_eq(attr(edge(g, "g1", "n1"), "class"), "member");
    agclose(g);
    g = graph_of(2, -1); /* 2 s: g1 led by n2, g5 by n4 */
    ck_assert_int_eq(agnedges(g), 15);
    Agedge_t *lead = edge(g, "g1", "n2");
    ck_assert_ptr_nonnull(lead);
    ck_assert_str_eq(attr(lead, "class"), "member leader");
    ck_assert_str_eq(attr(lead, "penwidth"), "3");
    ck_assert_str_eq(attr(edge(g, "g1", "n1"), "penwidth"), "1");
    ck_assert_str_eq(attr(edge(g, "g5", "n4"), "class"), "member leader");
    ck_assert_ptr_null(edge(g, "g1", "n4")); /* not a member */
    /* Exactly one leader edge per group. */
    int leaders = 0;
    for (Agnode_t *v = agfstnode(g); v; v = agnxtnode(g, v))
        for (Agedge_t *e = agfstout(g, v); e; e = agnxtout(g, e))
            leaders += strstr(attr(e, "class"), "leader") != NULL;
    ck_assert_int_eq(leaders, 5);
    agclose(g);
}
END_TEST

START_TEST(test_members_added_and_removed_since_previous_graph_are_highlighted)
{
    Agraph_t *g = graph_of(6, 5); /* end vs the snapshot when n4 was removed */
    static const char *const gained[][2] = {{"g2", "n1"}, {"g3", "n2"}, {"g4", "n3"},
                                            {"g5", "n2"}};
    for (size_t i = 0; i < 4; i++) {
        Agedge_t *e = edge(g, gained[i][0], gained[i][1]);
        ck_assert_msg(e != NULL, "%s-%s missing", gained[i][0], gained[i][1]);
        ck_assert_ptr_nonnull(strstr(attr(e, "class"), "added"));
        ck_assert_str_eq(attr(e, "color"), "#1a9850");
    }
    for (int grp = 2; grp <= 5; grp++) {
        char name[16];
        snprintf(name, sizeof name, "g%d", grp);
        Agedge_t *e = edge(g, name, "n4");
        ck_assert_msg(e != NULL, "%s-n4 (removed) missing", name);
        ck_assert_str_eq(attr(e, "class"), "removed");
        ck_assert_str_eq(attr(e, "style"), "dotted");
    }
    /* Unchanged members are not highlighted; g1 did not change at all. */
    ck_assert_str_eq(attr(edge(g, "g1", "n3"), "class"), "member");
    ck_assert_int_eq(agnedges(g), 15 + 4);
    agclose(g);
    /* The same snapshot drawn first highlights nothing. */
    g = graph_of(6, -1);
    ck_assert_int_eq(agnedges(g), 15);
    ck_assert_str_eq(attr(edge(g, "g2", "n1"), "class"), "member");
    agclose(g);
}
END_TEST

START_TEST(test_groups_off_their_placement_target_are_marked)
{
    /* At 5 s the target already excludes n4 but g2..g5 still hold it. */
    Agraph_t *g = graph_of(5, -1);
    ck_assert_str_eq(attr(agnode(g, (char *)"g1", 0), "class"), "group");
    for (int grp = 2; grp <= 5; grp++) {
        char name[16];
        snprintf(name, sizeof name, "g%d", grp);
        Agnode_t *v = agnode(g, name, 0);
        ck_assert_str_eq(attr(v, "class"), "group off-target");
        ck_assert_ptr_nonnull(strstr(attr(v, "style"), "dashed"));
    }
    ck_assert_str_eq(attr(agnode(g, (char *)"g2", 0), "tooltip"), "target: n2 n3 n1");
    agclose(g);
    /* At the end every group sits on its target. */
    g = graph_of(6, 5);
    for (Agnode_t *v = agfstnode(g); v; v = agnxtnode(g, v))
        ck_assert_ptr_null(strstr(attr(v, "class"), "off-target"));
    agclose(g);
}
END_TEST

START_TEST(test_nodes_down_isolated_and_removed_are_marked)
{
    Agraph_t *g = graph_of(1, -1); /* n1 isolated */
    Agnode_t *n1 = agnode(g, (char *)"n1", 0);
    ck_assert_str_eq(attr(n1, "class"), "node-isolated");
    ck_assert_ptr_nonnull(strstr(attr(n1, "label"), "isolated"));
    ck_assert_ptr_nonnull(strstr(attr(n1, "style"), "dashed"));
    ck_assert_str_eq(attr(agnode(g, (char *)"n2", 0), "class"), "node-up");
    agclose(g);
    g = graph_of(3, -1); /* n4 down */
    Agnode_t *n4 = agnode(g, (char *)"n4", 0);
    ck_assert_str_eq(attr(n4, "class"), "node-down");
    ck_assert_ptr_nonnull(strstr(attr(n4, "style"), "filled"));
    ck_assert_ptr_nonnull(strstr(attr(n4, "label"), "down"));
    agclose(g);
    g = graph_of(6, -1);
    ck_assert_str_eq(attr(agnode(g, (char *)"n4", 0), "class"), "node-removed");
    agclose(g);
}
END_TEST

START_TEST(test_aggregated_view_counts_members_and_leaders)
{
    ck_assert_int_eq(rpt_graph_aggregated(&run), 0);
    rpt_placement cur;
    ck_assert_int_eq(rpt_placement_load(&run, 2, &cur), RF_OK);
    Agraph_t *g = rpt_graph_build_aggregated(&run, &cur, NULL, "t");
    rpt_placement_free(&cur);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(agnnodes(g), 4); /* nodes only */
    /* No group edges; invisible ones lay bigger zones out in a grid, but
     * 2 nodes per zone fit one row. */
    int visible = 0, grid = 0;
    for (Agnode_t *v = agfstnode(g); v; v = agnxtnode(g, v))
        for (Agedge_t *e = agfstout(g, v); e; e = agnxtout(g, e)) {
            grid += strcmp(attr(e, "style"), "invis") == 0;
            visible += strcmp(attr(e, "style"), "invis") != 0;
        }
    ck_assert_int_eq(visible, 0);
    ck_assert_int_eq(grid, 0);
    /* At 2 s: n2 leads g1 and g2 and is a member of g1, g2, g4. */
    ck_assert_str_eq(attr(agnode(g, (char *)"n2", 0), "label"), "n2\n3 members\n2 leaders");
    /* zone2 (n2, n4) holds 7 members and 4 leaders (n2: g1 g2, n4: g4 g5). */
    ck_assert_str_eq(attr(agsubg(g, (char *)"cluster_z1", 0), "label"),
                     "zone2: 7 members, 4 leaders");
    agclose(g);
}
END_TEST

START_TEST(test_aggregated_view_shows_members_gained_and_lost)
{
    rpt_placement cur, prev;
    ck_assert_int_eq(rpt_placement_load(&run, 6, &cur), RF_OK);
    ck_assert_int_eq(rpt_placement_load(&run, 5, &prev), RF_OK);
    Agraph_t *g = rpt_graph_build_aggregated(&run, &cur, &prev, "t");
    rpt_placement_free(&cur);
    rpt_placement_free(&prev);
    ck_assert_ptr_nonnull(g);
    /* n4's four members went to n1 (g2), n2 (g3, g5) and n3 (g4). */
    ck_assert_str_eq(attr(agnode(g, (char *)"n4", 0), "label"),
                     "n4 (removed)\n0 members (+0 -4)\n0 leaders");
    ck_assert_str_eq(attr(agnode(g, (char *)"n2", 0), "label"),
                     "n2\n5 members (+2 -0)\n2 leaders");
    ck_assert_str_eq(attr(agnode(g, (char *)"n2", 0), "color"), "#1a9850");
    agclose(g);
}
END_TEST

START_TEST(test_graph_renders_to_svg_with_classes)
{
    Agraph_t *g = graph_of(6, 5);
    char path[160];
    snprintf(path, sizeof path, "%s/g.svg", dir);
    ck_assert_int_eq(rpt_graph_render(rpt_gvc(), g, path), RF_OK);
    agclose(g);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "<svg"));
    ck_assert_ptr_nonnull(strstr(buf, "class=\"cluster\""));
    ck_assert_ptr_nonnull(strstr(buf, "class=\"edge member leader\""));
    ck_assert_ptr_nonnull(strstr(buf, "class=\"edge removed\""));
    ck_assert_ptr_nonnull(strstr(buf, ">zone2<"));
}
END_TEST

Suite *rpt_graph_suite(void)
{
    Suite *s = suite_create("rpt_graph");
    TCase *tc = tcase_create("graph");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_zones_are_clusters_holding_their_nodes);
    tcase_add_test(tc, test_groups_have_an_edge_per_member_and_the_leader_emphasised);
    tcase_add_test(tc, test_members_added_and_removed_since_previous_graph_are_highlighted);
    tcase_add_test(tc, test_nodes_down_isolated_and_removed_are_marked);
    tcase_add_test(tc, test_groups_off_their_placement_target_are_marked);
    tcase_add_test(tc, test_aggregated_view_counts_members_and_leaders);
    tcase_add_test(tc, test_graph_renders_to_svg_with_classes);
    tcase_add_test(tc, test_aggregated_view_shows_members_gained_and_lost);
    suite_add_tcase(s, tc);
    return s;
}

/* rpt_html: the report page (index.html): summary, graphs, timeline, rebalancing. */
#include "reports/rpt_html.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "base/rf_err.h"
#include "reports/report.h"
#include "reports/rpt_graph.h"
#include "reports/rpt_queries.h"
#include "reports/rpt_timeline.h"

static const char page_css[] =
    "body{font-family:Helvetica,Arial,sans-serif;margin:1.5em auto;max-width:1200px;"
    "color:#222;padding:0 1em}"
    "h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:2em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ddd;padding:2px 8px;text-align:left;font-size:.9em}"
    "th{background:#f3f3f3}td.num{text-align:right}"
    ".pass{color:#1a7f37;font-weight:bold}.fail,.error{color:#c62828;font-weight:bold}"
    ".running,.skip{color:#8a6d00;font-weight:bold}"
    "figure{margin:1em 0;border:1px solid #eee;padding:.5em}"
    "figure img{max-width:100%;height:auto}figcaption{font-size:.9em;color:#555}"
    ".legend span{display:inline-block;margin-right:1.2em}"
    ".scroll{overflow-x:auto}nav a{margin-right:1em}";

static void cell_text(rpt_buf *b, const char *s)
{
    rpt_buf_puts(b, "<td>");
    rpt_buf_esc(b, s ? s : "");
    rpt_buf_puts(b, "</td>");
}

static void cell_dur(rpt_buf *b, int64_t ns)
{
    rpt_buf_puts(b, "<td class=\"num\">");
    if (ns == RPT_NONE)
        rpt_buf_puts(b, "&ndash;");
    else
        rpt_buf_dur(b, ns);
    rpt_buf_puts(b, "</td>");
}

static const char *node_label(const rpt_run *run, int64_t id, char *buf, size_t len)
{
    int ni = rpt_node_index(run, id);
    if (ni >= 0)
        return run->nodes[ni].name;
    snprintf(buf, len, "node %" PRId64, id);
    return buf;
}

static const char *group_label(const rpt_run *run, int64_t id, char *buf, size_t len)
{
    int gi = rpt_group_index(run, id);
    if (gi >= 0)
        return run->groups[gi].name;
    snprintf(buf, len, "group %" PRId64, id);
    return buf;
}

static void html_run(rpt_buf *b, const rpt_run *run)
{
    rpt_buf_puts(b, "<h2 id=\"summary\">Summary</h2>\n<table class=\"run\">\n");
    rpt_buf_printf(b, "<tr><th>run</th><td>%" PRId64 " (", run->id);
    rpt_buf_esc(b, run->kind);
    rpt_buf_puts(b, ")</td></tr>\n<tr><th>scenario</th>");
    cell_text(b, run->scenario);
    rpt_buf_printf(b, "</tr>\n<tr><th>seed</th><td>%" PRIu64 "</td></tr>\n<tr><th>build</th>",
                   (uint64_t)run->seed);
    cell_text(b, run->build);
    rpt_buf_puts(b, "</tr>\n<tr><th>started</th>");
    cell_text(b, run->started);
    rpt_buf_puts(b, "</tr>\n<tr><th>outcome</th><td class=\"");
    rpt_buf_esc(b, run->outcome);
    rpt_buf_puts(b, "\" id=\"outcome\">");
    rpt_buf_esc(b, run->outcome);
    if (run->detail != NULL) {
        rpt_buf_puts(b, ": ");
        rpt_buf_esc(b, run->detail);
    }
    rpt_buf_puts(b, "</td></tr>\n<tr><th>trace hash</th>");
    cell_text(b, run->trace_hash ? run->trace_hash : "(run not ended)");
    rpt_buf_puts(b, "</tr>\n<tr><th>simulated time</th>");
    cell_dur(b, run->end_ns);
    rpt_buf_puts(b, "</tr>\n<tr><th>wall time</th>");
    cell_dur(b, run->wall_ns);
    rpt_buf_printf(b, "</tr>\n<tr><th>cluster</th><td>%zu nodes in %zu zones, %zu groups, "
                      "%zu faults, %zu node events, %zu leader changes</td></tr>\n",
                   run->nodes_n, run->zones_n, run->groups_n, run->faults_n, run->events_n,
                   run->leaders_n);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(run->db,
                           "SELECT status, count(*) FROM client_ops WHERE run_id = ?1 "
                           "GROUP BY status ORDER BY status",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, run->id);
        rpt_buf_puts(b, "<tr><th>client operations</th><td>");
        int any = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            rpt_buf_printf(b, "%s%lld ", any ? ", " : "", sqlite3_column_int64(st, 1));
            rpt_buf_esc(b, (const char *)sqlite3_column_text(st, 0));
            any = 1;
        }
        rpt_buf_puts(b, any ? "</td></tr>\n" : "none recorded</td></tr>\n");
    }
    sqlite3_finalize(st);
    rpt_buf_puts(b, "</table>\n");
}

static void html_checks(rpt_buf *b, const rpt_run *run)
{
    rpt_buf_puts(b, "<h3 id=\"checks\">Checks</h3>\n");
    if (run->checks_n == 0) {
        rpt_buf_puts(b, "<p>No check results recorded.</p>\n");
        return;
    }
    rpt_buf_puts(b, "<table class=\"checks\"><tr><th>checker</th><th>result</th>"
                    "<th>detail</th><th>at</th></tr>\n");
    for (size_t i = 0; i < run->checks_n; i++) {
        const rpt_check *c = &run->checks[i];
        rpt_buf_puts(b, "<tr>");
        cell_text(b, c->checker);
        rpt_buf_puts(b, "<td class=\"");
        rpt_buf_esc(b, c->outcome);
        rpt_buf_puts(b, "\">");
        rpt_buf_esc(b, c->outcome);
        rpt_buf_puts(b, "</td>");
        cell_text(b, c->detail);
        cell_dur(b, c->t_ns);
        rpt_buf_puts(b, "</tr>\n");
    }
    rpt_buf_puts(b, "</table>\n");
}

static void html_availability(rpt_buf *b, const rpt_run *run)
{
    rpt_buf_puts(b, "<h3 id=\"availability\">Leader availability per group</h3>\n"
                    "<p>Share of the run's simulated time during which the group had a "
                    "leader.</p>\n<table class=\"availability\"><tr><th>group</th>"
                    "<th>model</th><th>replicas</th><th>availability</th>"
                    "<th>leader changes</th></tr>\n");
    for (size_t i = 0; i < run->groups_n; i++) {
        const rpt_group *g = &run->groups[i];
        rpt_buf_puts(b, "<tr>");
        cell_text(b, g->name);
        cell_text(b, g->model);
        rpt_buf_printf(b, "<td class=\"num\">%" PRId64 "</td>", g->replicas);
        if (g->availability < 0)
            rpt_buf_puts(b, "<td class=\"num\">&ndash;</td>");
        else
            rpt_buf_printf(b, "<td class=\"num\">%.2f%%</td>", 100.0 * g->availability);
        rpt_buf_printf(b, "<td class=\"num\">%zu</td></tr>\n", g->leaders_n);
    }
    rpt_buf_puts(b, "</table>\n");
}

static void html_recovery(rpt_buf *b, const rpt_run *run)
{
    rpt_buf_puts(b, "<h3 id=\"recovery\">Faults and time to recover</h3>\n"
                    "<p>Recovery is measured from the fault's end (its start when it never "
                    "ended) to the moment every group has a leader again.</p>\n");
    if (run->faults_n == 0) {
        rpt_buf_puts(b, "<p>No faults recorded.</p>\n");
        return;
    }
    rpt_buf_puts(b, "<table class=\"recovery\"><tr><th>fault</th><th>targets</th>"
                    "<th>start</th><th>end</th><th>time to recover</th></tr>\n");
    for (size_t i = 0; i < run->faults_n; i++) {
        const rpt_fault *f = &run->faults[i];
        rpt_buf_puts(b, "<tr>");
        cell_text(b, f->kind);
        cell_text(b, f->targets);
        cell_dur(b, f->start_ns);
        cell_dur(b, f->end_ns);
        if (f->recovery_ns == RPT_NONE)
            rpt_buf_puts(b, "<td class=\"fail\">not recovered</td>");
        else
            cell_dur(b, f->recovery_ns);
        rpt_buf_puts(b, "</tr>\n");
    }
    rpt_buf_puts(b, "</table>\n");
}

/* A fuzz campaign's seeds: outcomes, time, and the failing seeds. */
static int html_fuzz(rpt_buf *b, const rpt_run *run)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(run->db,
                           "SELECT outcome, count(*), sum(wall_ns), "
                           "sum(rerun_hash IS NOT NULL), sum(rerun_hash != trace_hash) "
                           "FROM fuzz_seeds WHERE run_id = ?1 GROUP BY outcome ORDER BY outcome",
                           -1, &st, NULL) != SQLITE_OK)
        return RF_EDB;
    sqlite3_bind_int64(st, 1, run->id);
    int rc, any = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!any)
            rpt_buf_puts(b, "<h3 id=\"fuzz\">Fuzz seeds</h3>\n<table class=\"fuzz\"><tr>"
                            "<th>outcome</th><th>seeds</th><th>wall time</th>"
                            "<th>re-run</th><th>hash mismatches</th></tr>\n");
        any = 1;
        rpt_buf_puts(b, "<tr>");
        cell_text(b, (const char *)sqlite3_column_text(st, 0));
        rpt_buf_printf(b, "<td class=\"num\">%lld</td>", sqlite3_column_int64(st, 1));
        cell_dur(b, sqlite3_column_int64(st, 2));
        rpt_buf_printf(b, "<td class=\"num\">%lld</td><td class=\"num\">%lld</td></tr>\n",
                       sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return RF_EDB;
    if (!any)
        return RF_OK;
    rpt_buf_puts(b, "</table>\n");
    if (sqlite3_prepare_v2(run->db,
                           "SELECT seed, outcome, detail, trace_hash FROM fuzz_seeds "
                           "WHERE run_id = ?1 AND outcome != 'pass' ORDER BY seed LIMIT 100",
                           -1, &st, NULL) != SQLITE_OK)
        return RF_EDB;
    sqlite3_bind_int64(st, 1, run->id);
    any = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!any)
            rpt_buf_puts(b, "<table class=\"fuzz-failures\"><tr><th>seed</th><th>outcome</th>"
                            "<th>detail</th><th>trace hash</th></tr>\n");
        any = 1;
        rpt_buf_printf(b, "<tr><td class=\"num\">%llu</td>",
                       (unsigned long long)sqlite3_column_int64(st, 0));
        cell_text(b, (const char *)sqlite3_column_text(st, 1));
        cell_text(b, (const char *)sqlite3_column_text(st, 2));
        cell_text(b, (const char *)sqlite3_column_text(st, 3));
        rpt_buf_puts(b, "</tr>\n");
    }
    sqlite3_finalize(st);
    if (any)
        rpt_buf_puts(b, "</table>\n<p>At most 100 failing seeds are listed.</p>\n");
    return rc == SQLITE_DONE ? RF_OK : RF_EDB;
}

static void html_graphs(rpt_buf *b, const rpt_run *run, const rpt_page *page)
{
    rpt_buf_puts(b, "<h2 id=\"placement\">Placement</h2>\n");
    if (page->aggregated)
        rpt_buf_printf(b, "<p>The run has %zu nodes and %zu groups, beyond a readable graph "
                          "(%d nodes, %d groups): each node shows its member and leader "
                          "counts, each zone its totals.</p>\n",
                       run->nodes_n, run->groups_n, RPT_GRAPH_NODES_MAX, RPT_GRAPH_GROUPS_MAX);
    else
        rpt_buf_puts(b, "<p class=\"legend\"><span>zones: clusters</span><span>nodes: "
                        "boxes (grey: down, orange dashed: isolated, yellow: paused, dotted: "
                        "inactive or removed)</span><span>groups: ellipses</span><span>thick "
                        "edge: leader</span><span>dashed: learner</span><span>orange dashed "
                        "group: members differ from the placement target</span><span>green: member "
                        "added since the previous graph</span><span>red dotted: member "
                        "removed since the previous graph</span></p>\n");
    if (page->figures_n == 0)
        rpt_buf_puts(b, "<p>No placement snapshots recorded.</p>\n");
    if (page->figures_n < run->snapshots_n)
        rpt_buf_printf(b, "<p>%zu of %zu snapshots are drawn (the first, the last, and an "
                          "even sample between).</p>\n",
                       page->figures_n, run->snapshots_n);
    for (size_t i = 0; i < page->figures_n; i++) {
        const rpt_figure *f = &page->figures[i];
        const rpt_snapshot *s = &run->snapshots[f->snapshot];
        rpt_buf_printf(b, "<figure class=\"placement\"><img src=\"%s\" alt=\"placement at ",
                       f->file);
        rpt_buf_dur(b, s->t_ns);
        rpt_buf_puts(b, "\"><figcaption>");
        rpt_buf_dur(b, s->t_ns);
        rpt_buf_puts(b, ": ");
        rpt_buf_esc(b, s->label);
        rpt_buf_printf(b, " (<a href=\"%s\">%s</a>)</figcaption></figure>\n", f->file, f->file);
    }
}

/* Membership changes counted by reason and kind of change. */
static int html_change_totals(rpt_buf *b, const rpt_run *run)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(run->db,
                           "SELECT reason, sum(change = 'add_learner'), sum(change = 'promote'), "
                           "sum(change = 'remove'), sum(change = 'transfer') "
                           "FROM membership_changes WHERE run_id = ?1 GROUP BY reason "
                           "ORDER BY reason", -1, &st, NULL) != SQLITE_OK)
        return RF_EDB;
    sqlite3_bind_int64(st, 1, run->id);
    int rc, any = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!any)
            rpt_buf_puts(b, "<table class=\"change-totals\"><tr><th>reason</th>"
                            "<th>add learner</th><th>promote</th><th>remove</th>"
                            "<th>transfer</th></tr>\n");
        any = 1;
        rpt_buf_puts(b, "<tr>");
        cell_text(b, (const char *)sqlite3_column_text(st, 0));
        for (int i = 1; i <= 4; i++)
            rpt_buf_printf(b, "<td class=\"num\">%lld</td>", sqlite3_column_int64(st, i));
        rpt_buf_puts(b, "</tr>\n");
    }
    sqlite3_finalize(st);
    if (any)
        rpt_buf_puts(b, "</table>\n");
    return rc == SQLITE_DONE ? RF_OK : RF_EDB;
}

/* Every membership change with its reason, at most RF_REPORT_CHANGES_ROWS_MAX. */
static int html_changes(rpt_buf *b, const rpt_run *run)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(run->db,
                           "SELECT m.t_ns, m.group_id, m.node_id, m.change, m.reason, "
                           "e.node_id, e.kind FROM membership_changes m LEFT JOIN node_events e "
                           "ON e.id = m.cause_id WHERE m.run_id = ?1 ORDER BY m.t_ns, m.id",
                           -1, &st, NULL) != SQLITE_OK)
        return RF_EDB;
    sqlite3_bind_int64(st, 1, run->id);
    rpt_buf_puts(b, "<h3 id=\"changes\">Membership changes</h3>\n");
    int totals = html_change_totals(b, run);
    if (totals != RF_OK) {
        sqlite3_finalize(st);
        return totals;
    }
    rpt_buf_puts(b, "<table class=\"changes\">"
                    "<tr><th>at</th><th>group</th><th>node</th><th>change</th><th>reason</th>"
                    "<th>caused by</th></tr>\n");
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (++n > RF_REPORT_CHANGES_ROWS_MAX)
            continue;
        char gb[32], nb[32], cb[32];
        rpt_buf_puts(b, "<tr>");
        cell_dur(b, sqlite3_column_int64(st, 0));
        cell_text(b, group_label(run, sqlite3_column_int64(st, 1), gb, sizeof gb));
        cell_text(b, node_label(run, sqlite3_column_int64(st, 2), nb, sizeof nb));
        cell_text(b, (const char *)sqlite3_column_text(st, 3));
        cell_text(b, (const char *)sqlite3_column_text(st, 4));
        rpt_buf_puts(b, "<td>");
        if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
            rpt_buf_esc(b, node_label(run, sqlite3_column_int64(st, 5), cb, sizeof cb));
            rpt_buf_puts(b, " ");
            rpt_buf_esc(b, (const char *)sqlite3_column_text(st, 6));
        }
        rpt_buf_puts(b, "</td></tr>\n");
    }
    sqlite3_finalize(st);
    rpt_buf_puts(b, "</table>\n");
    if (n == 0)
        rpt_buf_puts(b, "<p>No membership changes recorded.</p>\n");
    if (n > RF_REPORT_CHANGES_ROWS_MAX)
        rpt_buf_printf(b, "<p>%zu more changes not listed.</p>\n", n - RF_REPORT_CHANGES_ROWS_MAX);
    return rc == SQLITE_DONE ? RF_OK : RF_EDB;
}

/* Moves each node event caused against the placement's minimal count. */
static int html_moves(rpt_buf *b, const rpt_run *run)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(run->db, rpt_sql_moves, -1, &st, NULL) != SQLITE_OK)
        return RF_EDB;
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":run"), run->id);
    rpt_buf_puts(b, "<h3 id=\"moves\">Member moves per node event</h3>\n<p>A move is one "
                    "member placed on another node. The minimal count is what the placement "
                    "function itself moves.</p>\n<table class=\"moves\"><tr><th>at</th>"
                    "<th>node</th><th>event</th><th>moves</th><th>minimal</th><th>excess</th>"
                    "</tr>\n");
    int rc, any = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char nb[32];
        int64_t min = sqlite3_column_int64(st, 4), moves = sqlite3_column_int64(st, 5);
        rpt_buf_puts(b, "<tr>");
        cell_dur(b, sqlite3_column_int64(st, 1));
        cell_text(b, node_label(run, sqlite3_column_int64(st, 2), nb, sizeof nb));
        cell_text(b, (const char *)sqlite3_column_text(st, 3));
        rpt_buf_printf(b, "<td class=\"num\">%" PRId64 "</td><td class=\"num\">%" PRId64
                          "</td><td class=\"num %s\">%" PRId64 "</td></tr>\n",
                       moves, min, moves > min ? "fail" : "pass", moves - min);
        any = 1;
    }
    sqlite3_finalize(st);
    rpt_buf_puts(b, "</table>\n");
    if (!any)
        rpt_buf_puts(b, "<p>No node was added or removed.</p>\n");
    return rc == SQLITE_DONE ? RF_OK : RF_EDB;
}

int rpt_html_page(const rpt_run *run, const rpt_page *page, rpt_buf *out)
{
    rpt_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<title>raftfleet report: ");
    rpt_buf_esc(out, run->scenario);
    rpt_buf_printf(out, " (seed %" PRIu64 ")</title>\n<style>%s</style>\n</head>\n<body>\n"
                        "<h1>raftfleet report: ", (uint64_t)run->seed, page_css);
    rpt_buf_esc(out, run->scenario);
    rpt_buf_printf(out, ", seed %" PRIu64 "</h1>\n<nav><a href=\"#summary\">summary</a>"
                        "<a href=\"#placement\">placement</a><a href=\"#timeline\">leader "
                        "timeline</a><a href=\"#rebalancing\">rebalancing</a></nav>\n",
                   (uint64_t)run->seed);
    html_run(out, run);
    html_checks(out, run);
    html_availability(out, run);
    html_recovery(out, run);
    int rc = html_fuzz(out, run);
    html_graphs(out, run, page);
    rpt_buf_puts(out, "<h2 id=\"timeline\">Leader timeline</h2>\n<p>One row per group: who "
                      "led when (colour per node), leaderless time hatched red, fault "
                      "intervals as orange bands, node events as black lines. Hover for "
                      "details; also in <a href=\"timeline.svg\">timeline.svg</a>.</p>\n"
                      "<div class=\"scroll\">\n");
    rpt_buf_puts(out, rpt_buf_str(page->timeline));
    rpt_buf_puts(out, "</div>\n<h2 id=\"rebalancing\">Rebalancing</h2>\n");
    if (rc == RF_OK)
        rc = html_moves(out, run);
    if (rc == RF_OK)
        rc = html_changes(out, run);
    rpt_buf_puts(out, "</body>\n</html>\n");
    if (rc == RF_OK && out->failed)
        rc = RF_ENOMEM;
    return rc;
}

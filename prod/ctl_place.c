/* ctl_place: fleetctl placement: FLEET.PLACEMENT's reply as a table, JSON, or a graphviz dot graph drawn by reports/rpt_graph. */
#include "prod/ctl_place.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "reports/rpt_graph.h"

enum { NODE_FIELDS = 5, GROUP_FIELDS = 9 };

static bool is_str(const rf_ctl_reply *r)
{
    return r->kind == RF_CTL_BULK || r->kind == RF_CTL_SIMPLE;
}

static bool is_list(const rf_ctl_reply *r, int64_t n)
{
    return r->kind == RF_CTL_ARRAY && (n < 0 || r->n == n);
}

static bool node_ok(const rf_ctl_reply *x)
{
    return is_list(x, NODE_FIELDS) && is_str(&x->elems[0]) && is_str(&x->elems[1]) &&
           is_str(&x->elems[2]) && x->elems[3].kind == RF_CTL_INT &&
           x->elems[4].kind == RF_CTL_INT;
}

static bool group_ok(const rf_ctl_reply *g)
{
    if (!is_list(g, GROUP_FIELDS) || !is_str(&g->elems[0]) || g->elems[1].kind != RF_CTL_INT ||
        g->elems[2].kind != RF_CTL_INT || !is_str(&g->elems[3]) ||
        !(is_str(&g->elems[4]) || g->elems[4].kind == RF_CTL_NULL) ||
        g->elems[5].kind != RF_CTL_INT || g->elems[6].kind != RF_CTL_INT ||
        !is_list(&g->elems[7], -1) || !is_list(&g->elems[8], -1))
        return false;
    for (int64_t k = 0; k < g->elems[7].n; k++) {
        const rf_ctl_reply *m = &g->elems[7].elems[k];
        if (!is_list(m, 2) || !is_str(&m->elems[0]) || !is_str(&m->elems[1]))
            return false;
    }
    for (int64_t k = 0; k < g->elems[8].n; k++)
        if (!is_str(&g->elems[8].elems[k]))
            return false;
    return true;
}

static bool shape_ok(const rf_ctl_reply *r)
{
    if (!is_list(r, 2) || !is_list(&r->elems[0], -1) || !is_list(&r->elems[1], -1))
        return false;
    for (int64_t i = 0; i < r->elems[0].n; i++)
        if (!node_ok(&r->elems[0].elems[i]))
            return false;
    for (int64_t i = 0; i < r->elems[1].n; i++)
        if (!group_ok(&r->elems[1].elems[i]))
            return false;
    return true;
}

/* ---- table and JSON ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 32)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void print_json(FILE *f, const rf_ctl_reply *r)
{
    const rf_ctl_reply *nodes = &r->elems[0], *groups = &r->elems[1];
    fputs("{\"nodes\":[", f);
    for (int64_t i = 0; i < nodes->n; i++) {
        const rf_ctl_reply *x = nodes->elems[i].elems;
        fputs(i ? ",{\"name\":" : "{\"name\":", f);
        json_str(f, x[0].str);
        fputs(",\"zone\":", f);
        json_str(f, x[1].str);
        fputs(",\"state\":", f);
        json_str(f, x[2].str);
        fprintf(f, ",\"id\":%" PRId64 ",\"reachable\":%s}", x[3].n, x[4].n ? "true" : "false");
    }
    fputs("],\"groups\":[", f);
    for (int64_t i = 0; i < groups->n; i++) {
        const rf_ctl_reply *g = groups->elems[i].elems;
        fputs(i ? ",{\"name\":" : "{\"name\":", f);
        json_str(f, g[0].str);
        fprintf(f, ",\"id\":%" PRId64 ",\"replicas\":%" PRId64 ",\"model\":", g[1].n, g[2].n);
        json_str(f, g[3].str);
        fputs(",\"leader\":", f);
        if (g[4].kind == RF_CTL_NULL)
            fputs("null", f);
        else
            json_str(f, g[4].str);
        fprintf(f, ",\"term\":%" PRId64 ",\"hosted\":%s,\"members\":[", g[5].n,
                g[6].n ? "true" : "false");
        for (int64_t k = 0; k < g[7].n; k++) {
            fputs(k ? ",{\"node\":" : "{\"node\":", f);
            json_str(f, g[7].elems[k].elems[0].str);
            fputs(",\"role\":", f);
            json_str(f, g[7].elems[k].elems[1].str);
            fputc('}', f);
        }
        fputs("],\"target\":[", f);
        for (int64_t k = 0; k < g[8].n; k++) {
            fputs(k ? "," : "", f);
            json_str(f, g[8].elems[k].str);
        }
        fputs("]}", f);
    }
    fputs("]}\n", f);
}

static void print_table(FILE *f, const rf_ctl_reply *r)
{
    const rf_ctl_reply *nodes = &r->elems[0], *groups = &r->elems[1];
    fprintf(f, "%-16s %-12s %-13s %s\n", "NODE", "ZONE", "STATE", "REACHABLE");
    for (int64_t i = 0; i < nodes->n; i++) {
        const rf_ctl_reply *x = nodes->elems[i].elems;
        fprintf(f, "%-16s %-12s %-13s %s\n", x[0].str, x[1].str, x[2].str,
                x[4].n ? "yes" : "no");
    }
    fprintf(f, "\n%-16s %-16s %-40s %s\n", "GROUP", "LEADER", "MEMBERS (here)", "TARGET");
    for (int64_t i = 0; i < groups->n; i++) {
        const rf_ctl_reply *g = groups->elems[i].elems;
        char members[512] = "", target[512] = "";
        size_t n = 0;
        for (int64_t k = 0; k < g[7].n && n < sizeof members; k++) {
            const rf_ctl_reply *m = g[7].elems[k].elems;
            int w = snprintf(members + n, sizeof members - n, "%s%s%s", k ? "," : "", m[0].str,
                             strcmp(m[1].str, "learner") == 0 ? "(learner)" : "");
            n += w > 0 ? (size_t)w : 0;
        }
        if (!g[6].n)
            snprintf(members, sizeof members, "(not hosted here)");
        n = 0;
        for (int64_t k = 0; k < g[8].n && n < sizeof target; k++) {
            int w = snprintf(target + n, sizeof target - n, "%s%s", k ? "," : "", g[8].elems[k].str);
            n += w > 0 ? (size_t)w : 0;
        }
        fprintf(f, "%-16s %-16s %-40s %s\n", g[0].str,
                g[4].kind == RF_CTL_NULL ? "(none)" : g[4].str, members, target);
    }
}

/* ---- dot, through the report's graph ---- */

static int node_cmp(const void *a, const void *b)
{
    const rpt_node *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int place_cmp(const void *a, const void *b)
{
    const rpt_place *x = a, *y = b;
    if (x->group_id != y->group_id)
        return x->group_id < y->group_id ? -1 : 1;
    return x->node_id < y->node_id ? -1 : x->node_id > y->node_id;
}

static int64_t node_id_of(const rpt_run *run, const char *name)
{
    for (size_t i = 0; i < run->nodes_n; i++)
        if (strcmp(run->nodes[i].name, name) == 0)
            return run->nodes[i].id;
    return RPT_NONE;
}

/* The row of (group, node) in rows[first, *n), appended when missing. */
static rpt_place *row_for(rpt_place *rows, size_t first, size_t *n, int64_t group, int64_t node)
{
    for (size_t i = first; i < *n; i++)
        if (rows[i].node_id == node)
            return &rows[i];
    rpt_place *p = &rows[(*n)++];
    *p = (rpt_place){.group_id = group, .node_id = node, .member_pos = RPT_NONE,
                     .target_pos = RPT_NONE};
    return p;
}

static void fill_rows(const rpt_run *run, const rf_ctl_reply *groups, rpt_placement *pl)
{
    for (int64_t i = 0; i < groups->n; i++) {
        const rf_ctl_reply *g = groups->elems[i].elems;
        size_t first = pl->rows_n;
        for (int64_t k = 0; k < g[7].n; k++) {
            const rf_ctl_reply *m = g[7].elems[k].elems;
            int64_t id = node_id_of(run, m[0].str);
            if (id == RPT_NONE)
                continue;
            rpt_place *p = row_for(pl->rows, first, &pl->rows_n, g[1].n, id);
            p->member_pos = k;
            p->learner = strcmp(m[1].str, "learner") == 0;
            p->leader = g[4].kind != RF_CTL_NULL && strcmp(g[4].str, m[0].str) == 0;
        }
        for (int64_t k = 0; k < g[8].n; k++) {
            int64_t id = node_id_of(run, g[8].elems[k].str);
            if (id != RPT_NONE)
                row_for(pl->rows, first, &pl->rows_n, g[1].n, id)->target_pos = k;
        }
    }
    qsort(pl->rows, pl->rows_n, sizeof *pl->rows, place_cmp);
}

static int print_dot(FILE *f, const rf_ctl_reply *r, const char *title)
{
    const rf_ctl_reply *nodes = &r->elems[0], *groups = &r->elems[1];
    size_t nn = (size_t)nodes->n, ng = (size_t)groups->n, rows = 0;
    for (size_t i = 0; i < ng; i++)
        rows += (size_t)(groups->elems[i].elems[7].n + groups->elems[i].elems[8].n);
    rpt_run run;
    memset(&run, 0, sizeof run);
    rpt_placement pl = {0};
    run.nodes = calloc(nn + 1, sizeof *run.nodes);
    run.zones = calloc(nn + 1, sizeof *run.zones);
    run.groups = calloc(ng + 1, sizeof *run.groups);
    pl.rows = calloc(rows + 1, sizeof *pl.rows);
    pl.node_state = calloc(nn + 1, sizeof *pl.node_state);
    int rc = -1;
    if (run.nodes && run.zones && run.groups && pl.rows && pl.node_state) {
        for (size_t i = 0; i < nn; i++) {
            const rf_ctl_reply *x = nodes->elems[i].elems;
            size_t z = 0;
            while (z < run.zones_n && strcmp(run.zones[z], x[1].str) != 0)
                z++;
            if (z == run.zones_n)
                run.zones[run.zones_n++] = x[1].str;
            run.nodes[i] = (rpt_node){.id = x[3].n, .name = x[0].str, .zone = x[1].str,
                                      .zone_idx = (int)z};
        }
        run.nodes_n = nn;
        qsort(run.nodes, nn, sizeof *run.nodes, node_cmp);
        for (size_t i = 0; i < nn; i++) {
            const rf_ctl_reply *x = nodes->elems[i].elems;
            int at = rpt_node_index(&run, x[3].n);
            if (at >= 0)
                pl.node_state[at] = strcmp(x[2].str, "active") != 0 ? RPT_INACTIVE
                                    : x[4].n                        ? RPT_UP
                                                                    : RPT_DOWN;
        }
        for (size_t i = 0; i < ng; i++) {
            const rf_ctl_reply *g = groups->elems[i].elems;
            run.groups[i] = (rpt_group){.id = g[1].n, .name = g[0].str, .model = g[3].str,
                                        .replicas = g[2].n};
        }
        run.groups_n = ng;
        fill_rows(&run, groups, &pl);
        Agraph_t *gr = rpt_graph_aggregated(&run)
                           ? rpt_graph_build_aggregated(&run, &pl, NULL, title)
                           : rpt_graph_build(&run, &pl, NULL, title);
        if (gr != NULL) {
            rc = agwrite(gr, f) == 0 ? 0 : -1;
            agclose(gr);
        }
    }
    free(run.nodes);
    free(run.zones);
    free(run.groups);
    free(pl.rows);
    free(pl.node_state);
    return rc;
}

int rf_ctl_place_print(FILE *f, const rf_ctl_reply *r, rf_ctl_place_format fmt,
                       const char *title)
{
    if (!shape_ok(r))
        return -1;
    if (fmt == RF_CTL_PLACE_DOT)
        return print_dot(f, r, title);
    if (fmt == RF_CTL_PLACE_JSON)
        print_json(f, r);
    else
        print_table(f, r);
    return 0;
}

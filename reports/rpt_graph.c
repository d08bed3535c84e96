/* rpt_graph: placement graphs built with cgraph and rendered to SVG through gvc. */
#include "reports/rpt_graph.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"

/* cgraph's API takes char * for strings it only reads. */
static void set(void *obj, const char *name, const char *value)
{
    agsafeset(obj, (char *)name, (char *)value, (char *)"");
}

static const char *const state_class[] = {"node-up",       "node-down",     "node-paused",
                                          "node-isolated", "node-inactive", "node-removed"};
static const char *const state_word[] = {"", "down", "paused", "isolated", "inactive",
                                         "removed"};

int rpt_graph_aggregated(const rpt_run *run)
{
    return run->nodes_n > RPT_GRAPH_NODES_MAX || run->groups_n > RPT_GRAPH_GROUPS_MAX;
}

/* Object ids. cgraph's default discipline uses the address of an
 * object's interned name as its id, and keeps subgraphs ordered by id: the
 * order of the zone clusters, and so the layout, would follow heap
 * addresses. This discipline numbers names in creation order instead, so
 * the same history always gives the same SVG. Even ids are named objects
 * (2 * (index + 1)), odd ids anonymous ones. */
typedef struct {
    char **names;
    size_t names_n, names_cap;
    IDTYPE anon_next;
} ids_state;

static void *ids_open(Agraph_t *g, Agdisc_t *disc)
{
    (void)g;
    (void)disc;
    ids_state *st = calloc(1, sizeof *st);
    if (st != NULL)
        st->anon_next = 1;
    return st;
}

static long ids_map(void *state, int objtype, char *str, IDTYPE *id, int createflag)
{
    ids_state *st = state;
    (void)objtype;
    if (str == NULL) {
        *id = st->anon_next;
        st->anon_next += 2;
        return 1;
    }
    for (size_t i = 0; i < st->names_n; i++)
        if (strcmp(st->names[i], str) == 0) {
            *id = (IDTYPE)(i + 1) * 2;
            return 1;
        }
    if (!createflag)
        return 0;
    if (st->names_n == st->names_cap) {
        size_t cap = st->names_cap ? st->names_cap * 2 : 64;
        char **p = realloc(st->names, cap * sizeof *p);
        if (p == NULL)
            return 0;
        st->names = p;
        st->names_cap = cap;
    }
    size_t n = strlen(str);
    char *copy = malloc(n + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, str, n + 1);
    st->names[st->names_n++] = copy;
    *id = (IDTYPE)st->names_n * 2;
    return 1;
}

static long ids_alloc(void *state, int objtype, IDTYPE id)
{
    (void)state;
    (void)objtype;
    (void)id;
    return 0; /* ids are only handed out by ids_map */
}

static void ids_free(void *state, int objtype, IDTYPE id)
{
    (void)state;
    (void)objtype;
    (void)id; /* names live until the graph closes */
}

static char *ids_print(void *state, int objtype, IDTYPE id)
{
    ids_state *st = state;
    (void)objtype;
    if (id % 2 != 0 || id == 0 || id / 2 > st->names_n)
        return NULL;
    return st->names[id / 2 - 1];
}

static void ids_close(void *state)
{
    ids_state *st = state;
    for (size_t i = 0; i < st->names_n; i++)
        free(st->names[i]);
    free(st->names);
    free(st);
}

static void ids_register(void *state, int objtype, void *obj)
{
    (void)state;
    (void)objtype;
    (void)obj;
}

static Agiddisc_t ids_disc = {ids_open, ids_map,   ids_alloc,   ids_free,
                              ids_print, ids_close, ids_register};

static Agraph_t *graph_open(const char *title)
{
    static Agdisc_t disc = {&AgMemDisc, &ids_disc, &AgIoDisc};
    Agraph_t *g = agopen((char *)"placement", Agdirected, &disc);
    if (g == NULL)
        return NULL;
    set(g, "rankdir", "LR");
    set(g, "label", title);
    set(g, "labelloc", "t");
    set(g, "fontname", "Helvetica");
    set(g, "nodesep", "0.15");
    set(g, "ranksep", "1.2");
    agattr(g, AGNODE, (char *)"fontname", (char *)"Helvetica");
    agattr(g, AGEDGE, (char *)"arrowhead", (char *)"none");
    return g;
}

/* The zone clusters and node boxes; labels[i] overrides node i's label. */
static int add_nodes(Agraph_t *g, const rpt_run *run, const rpt_placement *cur,
                     char *const *labels)
{
    for (size_t z = 0; z < run->zones_n; z++) {
        char name[32];
        snprintf(name, sizeof name, "cluster_z%zu", z);
        Agraph_t *c = agsubg(g, name, 1);
        if (c == NULL)
            return RF_ENOMEM;
        set(c, "label", run->zones[z]);
        set(c, "style", "rounded");
        set(c, "color", "#6b6b6b");
    }
    for (size_t i = 0; i < run->nodes_n; i++) {
        const rpt_node *n = &run->nodes[i];
        char name[32];
        snprintf(name, sizeof name, "z%d", n->zone_idx);
        char cname[40];
        snprintf(cname, sizeof cname, "cluster_%s", name);
        Agraph_t *c = agsubg(g, cname, 0);
        ASSERT(c != NULL);
        snprintf(name, sizeof name, "n%" PRId64, n->id);
        Agnode_t *v = agnode(c, name, 1);
        if (v == NULL)
            return RF_ENOMEM;
        int st = cur->node_state[i];
        ASSERT(st >= RPT_UP && st <= RPT_REMOVED);
        char label[256];
        if (labels != NULL)
            snprintf(label, sizeof label, "%s", labels[i]);
        else if (st == RPT_UP)
            snprintf(label, sizeof label, "%s", n->name);
        else
            snprintf(label, sizeof label, "%s\n(%s)", n->name, state_word[st]);
        set(v, "shape", "box");
        set(v, "label", label);
        set(v, "class", state_class[st]);
        if (st == RPT_DOWN) {
            set(v, "style", "filled,bold");
            set(v, "fillcolor", "#bdbdbd");
            set(v, "fontcolor", "#4d4d4d");
        } else if (st == RPT_ISOLATED) {
            set(v, "style", "dashed,bold");
            set(v, "color", "#e66101");
        } else if (st == RPT_PAUSED) {
            set(v, "style", "filled");
            set(v, "fillcolor", "#fee08b");
        } else if (st == RPT_INACTIVE || st == RPT_REMOVED) {
            set(v, "style", "dotted");
            set(v, "fontcolor", "#7f7f7f");
        }
    }
    return RF_OK;
}

/* Whether (group, node) is a member in p. */
static const rpt_place *find_member(const rpt_placement *p, int64_t group_id, int64_t node_id)
{
    if (p == NULL)
        return NULL;
    size_t lo = 0, hi = p->rows_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const rpt_place *r = &p->rows[mid];
        if (r->group_id < group_id || (r->group_id == group_id && r->node_id < node_id))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < p->rows_n && p->rows[lo].group_id == group_id && p->rows[lo].node_id == node_id &&
        p->rows[lo].member_pos != RPT_NONE)
        return &p->rows[lo];
    return NULL;
}

static Agnode_t *node_of(Agraph_t *g, char prefix, int64_t id)
{
    char name[32];
    snprintf(name, sizeof name, "%c%" PRId64, prefix, id);
    return agnode(g, name, 0);
}

static int add_member_edge(Agraph_t *g, Agnode_t *gv, const rpt_place *r,
                           const rpt_placement *prev)
{
    Agnode_t *nv = node_of(g, 'n', r->node_id);
    if (nv == NULL)
        return RF_OK; /* a member on a node the run never declared: skip it */
    Agedge_t *e = agedge(g, gv, nv, NULL, 1);
    if (e == NULL)
        return RF_ENOMEM;
    int added = prev != NULL && find_member(prev, r->group_id, r->node_id) == NULL;
    char cls[64];
    snprintf(cls, sizeof cls, "member%s%s%s", r->leader ? " leader" : "",
             r->learner ? " learner" : "", added ? " added" : "");
    set(e, "class", cls);
    set(e, "color", added ? "#1a9850" : r->leader ? "#08306b" : "#737373");
    set(e, "penwidth", r->leader ? "3" : added ? "2" : "1");
    if (r->learner)
        set(e, "style", "dashed");
    if (r->leader)
        set(e, "tooltip", "leader");
    return RF_OK;
}

/* Whether a group's members differ from its placement target (only when
 * a target was recorded): rebalancing has not converged for it yet. */
static int off_target(const rpt_placement *p, int64_t group_id)
{
    int has_target = 0, differs = 0;
    for (size_t i = 0; i < p->rows_n; i++) {
        const rpt_place *r = &p->rows[i];
        if (r->group_id != group_id)
            continue;
        has_target |= r->target_pos != RPT_NONE;
        differs |= (r->target_pos == RPT_NONE) != (r->member_pos == RPT_NONE);
    }
    return has_target && differs;
}

/* "target: n1 n3 n2" in target order. */
static void target_text(const rpt_run *run, const rpt_placement *p, int64_t group_id, char *out,
                        size_t len)
{
    size_t used = (size_t)snprintf(out, len, "target:");
    for (int64_t pos = 0; used < len; pos++) {
        const rpt_place *hit = NULL;
        for (size_t i = 0; i < p->rows_n && hit == NULL; i++)
            if (p->rows[i].group_id == group_id && p->rows[i].target_pos == pos)
                hit = &p->rows[i];
        if (hit == NULL)
            break;
        int ni = rpt_node_index(run, hit->node_id);
        int n = snprintf(out + used, len - used, " %s", ni >= 0 ? run->nodes[ni].name : "?");
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static int add_group(Agraph_t *g, const rpt_run *run, const rpt_group *grp,
                     const rpt_placement *cur, const rpt_placement *prev)
{
    char name[32];
    snprintf(name, sizeof name, "g%" PRId64, grp->id);
    Agnode_t *gv = agnode(g, name, 1);
    if (gv == NULL)
        return RF_ENOMEM;
    set(gv, "label", grp->name);
    set(gv, "shape", "ellipse");
    if (run->groups_n > RPT_GRAPH_GROUPS_COLUMN_MAX) {
        set(gv, "fontsize", "9");
        set(gv, "height", "0.2");
        set(gv, "width", "0.4");
        set(gv, "margin", "0.02");
    }
    int off = off_target(cur, grp->id);
    set(gv, "style", off ? "filled,dashed" : "filled");
    set(gv, "fillcolor", off ? "#fdd0a2" : "#deebf7");
    set(gv, "class", off ? "group off-target" : "group");
    if (off) {
        char tip[256];
        target_text(run, cur, grp->id, tip, sizeof tip);
        set(gv, "tooltip", tip);
    }
    for (size_t i = 0; i < cur->rows_n; i++) {
        const rpt_place *r = &cur->rows[i];
        if (r->group_id != grp->id || r->member_pos == RPT_NONE)
            continue;
        int rc = add_member_edge(g, gv, r, prev);
        if (rc != RF_OK)
            return rc;
    }
    /* Members that left since the previous graph, drawn dotted red. */
    for (size_t i = 0; prev != NULL && i < prev->rows_n; i++) {
        const rpt_place *r = &prev->rows[i];
        if (r->group_id != grp->id || r->member_pos == RPT_NONE ||
            find_member(cur, r->group_id, r->node_id) != NULL)
            continue;
        Agnode_t *nv = node_of(g, 'n', r->node_id);
        if (nv == NULL)
            continue;
        Agedge_t *e = agedge(g, gv, nv, NULL, 1);
        if (e == NULL)
            return RF_ENOMEM;
        set(e, "class", "removed");
        set(e, "style", "dotted");
        set(e, "color", "#d73027");
        set(e, "penwidth", "2");
    }
    return RF_OK;
}

Agraph_t *rpt_graph_build(const rpt_run *run, const rpt_placement *cur,
                          const rpt_placement *prev, const char *title)
{
    ASSERT(cur != NULL);
    Agraph_t *g = graph_open(title);
    if (g == NULL)
        return NULL;
    /* Beyond a screenful of groups, compact group marks keep the column
     * (and the graph) about a third as tall. */
    if (run->groups_n > RPT_GRAPH_GROUPS_COLUMN_MAX) {
        set(g, "nodesep", "0.04");
        agattr(g, AGNODE, (char *)"fontsize", (char *)"14");
        agattr(g, AGNODE, (char *)"height", (char *)"0.5");
        agattr(g, AGNODE, (char *)"width", (char *)"0.75");
    }
    int rc = add_nodes(g, run, cur, NULL);
    for (size_t i = 0; rc == RF_OK && i < run->groups_n; i++)
        rc = add_group(g, run, &run->groups[i], cur, prev);
    if (rc != RF_OK) {
        agclose(g);
        return NULL;
    }
    return g;
}

/* Lays each zone's nodes out as a near-square grid: top to bottom, with an
 * invisible edge from each node to the one a row below, so that a zone of
 * hundreds of nodes is not one long column. */
static int grid_zones(Agraph_t *g, const rpt_run *run)
{
    set(g, "rankdir", "TB");
    set(g, "ranksep", "0.2");
    for (size_t z = 0; z < run->zones_n; z++) {
        size_t in_zone = 0;
        for (size_t i = 0; i < run->nodes_n; i++)
            in_zone += run->nodes[i].zone_idx == (int)z;
        size_t cols = 1;
        while (cols * cols < in_zone)
            cols++;
        Agnode_t *above[64] = {0}; /* per column: the last node placed */
        if (cols > sizeof above / sizeof above[0])
            cols = sizeof above / sizeof above[0];
        size_t k = 0;
        for (size_t i = 0; i < run->nodes_n; i++) {
            if (run->nodes[i].zone_idx != (int)z)
                continue;
            Agnode_t *v = node_of(g, 'n', run->nodes[i].id);
            ASSERT(v != NULL);
            Agnode_t **col = &above[k++ % cols];
            if (*col != NULL) {
                Agedge_t *e = agedge(g, *col, v, NULL, 1);
                if (e == NULL)
                    return RF_ENOMEM;
                set(e, "style", "invis");
                set(e, "class", "grid");
            }
            *col = v;
        }
    }
    return RF_OK;
}

/* Members and leaders per node index in p. */
static void count_members(const rpt_run *run, const rpt_placement *p, int64_t *members,
                          int64_t *leaders)
{
    for (size_t i = 0; i < p->rows_n; i++) {
        const rpt_place *r = &p->rows[i];
        int ni = rpt_node_index(run, r->node_id);
        if (ni < 0 || r->member_pos == RPT_NONE)
            continue;
        members[ni]++;
        leaders[ni] += r->leader;
    }
}

/* Members each node gained (cur but not prev) and lost (prev but not cur). */
static void count_moves(const rpt_run *run, const rpt_placement *cur,
                        const rpt_placement *prev, int64_t *gained, int64_t *lost)
{
    for (size_t i = 0; i < cur->rows_n; i++) {
        const rpt_place *r = &cur->rows[i];
        int ni = rpt_node_index(run, r->node_id);
        if (ni >= 0 && r->member_pos != RPT_NONE &&
            find_member(prev, r->group_id, r->node_id) == NULL)
            gained[ni]++;
    }
    for (size_t i = 0; i < prev->rows_n; i++) {
        const rpt_place *r = &prev->rows[i];
        int ni = rpt_node_index(run, r->node_id);
        if (ni >= 0 && r->member_pos != RPT_NONE &&
            find_member(cur, r->group_id, r->node_id) == NULL)
            lost[ni]++;
    }
}

Agraph_t *rpt_graph_build_aggregated(const rpt_run *run, const rpt_placement *cur,
                                     const rpt_placement *prev, const char *title)
{
    size_t n = run->nodes_n;
    /* members, leaders, gained, lost: four counters per node. */
    int64_t *counts = calloc(4 * (n + 1), sizeof *counts);
    char **labels = calloc(n + 1, sizeof *labels);
    Agraph_t *g = NULL;
    if (counts == NULL || labels == NULL)
        goto out;
    int64_t *members = counts, *leaders = counts + (n + 1);
    int64_t *gained = counts + 2 * (n + 1), *lost = counts + 3 * (n + 1);
    count_members(run, cur, members, leaders);
    if (prev != NULL)
        count_moves(run, cur, prev, gained, lost);
    for (size_t i = 0; i < n; i++) {
        labels[i] = malloc(256);
        if (labels[i] == NULL)
            goto out;
        int st = cur->node_state[i];
        char delta[64] = "";
        if (gained[i] || lost[i])
            snprintf(delta, sizeof delta, " (+%" PRId64 " -%" PRId64 ")", gained[i], lost[i]);
        snprintf(labels[i], 256, "%s%s%s%s\n%" PRId64 " members%s\n%" PRId64 " leaders",
                 run->nodes[i].name, st ? " (" : "", state_word[st], st ? ")" : "",
                 members[i], delta, leaders[i]);
    }
    g = graph_open(title);
    if (g != NULL && add_nodes(g, run, cur, labels) != RF_OK) {
        agclose(g);
        g = NULL;
    }
    for (size_t i = 0; g != NULL && i < n; i++)
        if (gained[i] || lost[i]) {
            Agnode_t *v = node_of(g, 'n', run->nodes[i].id);
            set(v, "color", "#1a9850");
            set(v, "penwidth", "2");
        }
    if (g != NULL && grid_zones(g, run) != RF_OK) {
        agclose(g);
        g = NULL;
    }
    /* Zone totals in the cluster labels. */
    for (size_t z = 0; g != NULL && z < run->zones_n; z++) {
        int64_t zm = 0, zl = 0;
        for (size_t i = 0; i < n; i++)
            if (run->nodes[i].zone_idx == (int)z) {
                zm += members[i];
                zl += leaders[i];
            }
        char name[32], label[256];
        snprintf(name, sizeof name, "cluster_z%zu", z);
        snprintf(label, sizeof label, "%s: %" PRId64 " members, %" PRId64 " leaders",
                 run->zones[z], zm, zl);
        set(agsubg(g, name, 0), "label", label);
    }
out:
    for (size_t i = 0; labels != NULL && i < n; i++)
        free(labels[i]);
    free(labels);
    free(counts);
    return g;
}

GVC_t *rpt_gvc(void)
{
    static GVC_t *gvc;
    if (gvc == NULL)
        gvc = gvContext();
    return gvc;
}

int rpt_graph_render(GVC_t *gvc, Agraph_t *g, const char *path)
{
    if (gvLayout(gvc, g, "dot") != 0)
        return RF_EIO;
    int rc = gvRenderFilename(gvc, g, "svg", path) == 0 ? RF_OK : RF_EIO;
    gvFreeLayout(gvc, g);
    return rc;
}

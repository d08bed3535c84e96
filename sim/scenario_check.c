/* scenario_check: group-name bookkeeping and the checks that need the whole scenario file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_hash.h"
#include "sim/scenario_int.h"

uint32_t rf_scn_pattern_count(const rf_scn_pattern *p)
{
    return p->is_range ? p->hi - p->lo + 1 : 1;
}

void rf_scn_pattern_name(const rf_scn_pattern *p, uint32_t i, char *buf, size_t cap)
{
    if (p->is_range)
        snprintf(buf, cap, "%s%u%s", p->prefix, p->lo + i, p->suffix);
    else
        snprintf(buf, cap, "%s", p->prefix);
}

uint64_t rf_scenario_group_total(const rf_scenario *s)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < s->group_count; i++)
        n += rf_scn_pattern_count(&s->groups[i].names);
    return n;
}

/* ---- the group-name set ---- */

static uint64_t name_hash(const char *name)
{
    static const uint8_t key[16] = "rf-scn-groupset1";
    return rf_siphash24(key, name, strlen(name));
}

static const rf_scn_pattern *slot_pattern(const scn_parser *p, const scn_gslot *g)
{
    if (g->source & SCN_FROM_EVENT)
        return &p->s->events[g->source & ~SCN_FROM_EVENT].group.names;
    return &p->s->groups[g->source].names;
}

/* The slot holding name, or the empty slot where it would go. */
static scn_gslot *gset_find(const scn_parser *p, const char *name, uint64_t h)
{
    uint32_t mask = p->gslot_cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        scn_gslot *g = &p->gslots[i];
        if (!g->used)
            return g;
        if (g->hash == h) {
            char other[RF_SCN_GROUP_NAME_MAX + 16];
            rf_scn_pattern_name(slot_pattern(p, g), g->index, other, sizeof other);
            if (strcmp(other, name) == 0)
                return g;
        }
    }
}

static bool gset_reserve(scn_parser *p, uint32_t more, uint32_t col)
{
    uint64_t need = (uint64_t)(p->gslot_count + more) * 2;
    if (need <= p->gslot_cap)
        return true;
    uint32_t cap = p->gslot_cap == 0 ? 64 : p->gslot_cap;
    while (cap < need)
        cap *= 2;
    scn_gslot *old = p->gslots;
    uint32_t old_cap = p->gslot_cap;
    p->gslots = calloc(cap, sizeof *p->gslots);
    if (p->gslots == NULL) {
        p->gslots = old;
        return scn_fail_col(p, col, "out of memory");
    }
    p->gslot_cap = cap;
    for (uint32_t i = 0; i < old_cap; i++) {
        if (!old[i].used)
            continue;
        uint32_t mask = cap - 1;
        uint32_t j = (uint32_t)old[i].hash & mask;
        while (p->gslots[j].used)
            j = (j + 1) & mask;
        p->gslots[j] = old[i];
    }
    free(old);
    return true;
}

bool scn_register_groups(scn_parser *p, uint32_t source, uint32_t col)
{
    bool top = (source & SCN_FROM_EVENT) == 0;
    const rf_scn_pattern *pat = top ? &p->s->groups[source].names
                                    : &p->s->events[source & ~SCN_FROM_EVENT].group.names;
    uint32_t n = rf_scn_pattern_count(pat);
    if (top && p->group_names + n > RF_SCN_GROUPS_MAX)
        return scn_fail_col(p, col, "expected at most %u groups in all", RF_SCN_GROUPS_MAX);
    if (!gset_reserve(p, n, col))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        char name[RF_SCN_GROUP_NAME_MAX + 16];
        rf_scn_pattern_name(pat, i, name, sizeof name);
        uint64_t h = name_hash(name);
        scn_gslot *g = gset_find(p, name, h);
        if (g->used) {
            if (top)
                return scn_fail_col(p, col, "expected a new group name: %s is already declared",
                                    name);
            continue;
        }
        g->used = true;
        g->hash = h;
        g->source = source;
        g->index = i;
        p->gslot_count++;
    }
    if (top)
        p->group_names += n;
    return true;
}

static bool group_declared(const scn_parser *p, const char *name)
{
    return p->gslot_cap > 0 && gset_find(p, name, name_hash(name))->used;
}

/* ---- whole-file checks ---- */

static const rf_scn_event *labelled(const rf_scenario *s, const char *label)
{
    for (uint32_t i = 0; i < s->event_count; i++)
        if (strcmp(s->events[i].label, label) == 0)
            return &s->events[i];
    return NULL;
}

static bool check_ref(scn_parser *p, const scn_ref *r)
{
    p->line = r->line;
    if (r->is_label) {
        const rf_scn_event *e = labelled(p->s, r->pattern.prefix);
        if (e == NULL)
            return scn_fail_col(p, r->col, "expected the label of an `at` line: %s is not defined",
                                r->pattern.prefix);
        return true;
    }
    uint32_t n = rf_scn_pattern_count(&r->pattern);
    for (uint32_t i = 0; i < n; i++) {
        char name[RF_SCN_GROUP_NAME_MAX + 16];
        rf_scn_pattern_name(&r->pattern, i, name, sizeof name);
        if (!group_declared(p, name))
            return scn_fail_col(p, r->col, "expected a declared group: %s is not declared", name);
    }
    return true;
}

static bool is_node_change(rf_scn_event_kind k)
{
    return k == RF_SCN_EV_ADD_NODE || k == RF_SCN_EV_REMOVE_NODE || k == RF_SCN_EV_ACTIVATE ||
           k == RF_SCN_EV_DEACTIVATE;
}

static bool check_moves_labels(scn_parser *p)
{
    for (uint32_t r = 0; r < p->ref_count; r++) {
        const scn_ref *ref = &p->refs[r];
        if (!ref->is_label)
            continue;
        for (uint32_t x = 0; x < p->s->expect_count; x++) {
            const rf_scn_expect *ex = &p->s->expects[x];
            if (ex->kind != RF_SCN_EXP_MOVES || strcmp(ex->label, ref->pattern.prefix) != 0)
                continue;
            const rf_scn_event *e = labelled(p->s, ex->label);
            if (e != NULL && !is_node_change(e->kind)) {
                p->line = ref->line;
                return scn_fail_col(p, ref->col,
                                    "expected the label of an add, remove, activate or "
                                    "deactivate node line: %s labels another action",
                                    ex->label);
            }
        }
    }
    return true;
}

static bool check_times(scn_parser *p)
{
    const rf_scenario *s = p->s;
    char run[32];
    scn_format_duration(s->run_ns, run, sizeof run);
    for (uint32_t i = 0; i < s->event_count; i++) {
        const rf_scn_event *e = &s->events[i];
        uint64_t last = e->repeat ? (e->at.hi != 0 ? e->at.hi : e->at.lo) : e->at.hi;
        if (last > s->run_ns || (e->repeat && e->at.lo >= s->run_ns)) {
            p->line = p->event_line[i];
            return scn_fail_col(p, p->event_col[i],
                                "expected a time within the run (run for %s)", run);
        }
    }
    return true;
}

bool scn_check_file(scn_parser *p)
{
    uint32_t end_line = p->line;
    bool any = false;
    for (uint32_t i = 0; i < p->s->node_count; i++)
        any = any || !p->s->nodes[i].added;
    if (!any)
        return scn_fail_col(p, 1, "expected at least one `node` or `nodes` line in the file");
    for (uint32_t r = 0; r < p->ref_count; r++)
        if (!check_ref(p, &p->refs[r]))
            return false;
    if (!check_moves_labels(p) || !check_times(p))
        return false;
    p->line = end_line;
    rf_scenario_canonicalize(p->s);
    return true;
}

/* ---- canonical numbering ---- */

static int32_t remap_node(const int32_t *map, int32_t n)
{
    return n < 0 ? n : map[n];
}

static void remap_set(const int32_t *map, rf_scn_nodeset *set, uint32_t count)
{
    rf_scn_nodeset out;
    memset(&out, 0, sizeof out);
    for (uint32_t i = 0; i < count; i++)
        if (rf_scn_nodeset_has(set, i))
            out.bits[map[i] / 64] |= 1ull << (map[i] % 64);
    *set = out;
}

/* Numbers nodes as the writer lays them out: the nodes of `node` lines
 * first, then those of timeline `add node` lines in timeline order; zones
 * by first appearance in that order, dropping zones without nodes. So
 * parse(write(s)) == s even when a `node` line follows an `add node`. */
void rf_scenario_canonicalize(rf_scenario *s)
{
    int32_t map[RF_SCN_NODES_MAX], zmap[RF_SCN_ZONES_MAX];
    rf_scn_node nodes[RF_SCN_NODES_MAX];
    char zones[RF_SCN_ZONES_MAX][RF_SCN_NAME_MAX + 1];
    uint32_t next = 0, znext = 0;
    for (uint32_t i = 0; i < s->node_count; i++)
        map[i] = s->nodes[i].added ? -1 : (int32_t)next++;
    for (uint32_t k = 0; k < s->event_count; k++) {
        const rf_scn_event *e = &s->events[k];
        if (e->kind == RF_SCN_EV_ADD_NODE && e->node >= 0 && map[e->node] < 0)
            map[e->node] = (int32_t)next++;
    }
    for (uint32_t i = 0; i < s->node_count; i++)
        if (map[i] < 0)
            map[i] = (int32_t)next++;
    for (uint32_t z = 0; z < RF_SCN_ZONES_MAX; z++)
        zmap[z] = -1;
    memset(nodes, 0, sizeof nodes);
    memset(zones, 0, sizeof zones);
    for (uint32_t i = 0; i < s->node_count; i++)
        nodes[map[i]] = s->nodes[i];
    for (uint32_t i = 0; i < s->node_count; i++) {
        uint32_t z = nodes[i].zone;
        if (zmap[z] < 0) {
            zmap[z] = (int32_t)znext;
            memcpy(zones[znext++], s->zones[z], sizeof zones[0]);
        }
        nodes[i].zone = (uint32_t)zmap[z];
    }
    memcpy(s->nodes, nodes, sizeof nodes);
    memcpy(s->zones, zones, sizeof zones);
    s->zone_count = znext;
    for (uint32_t i = 0; i < s->event_count; i++) {
        rf_scn_event *e = &s->events[i];
        e->node = remap_node(map, e->node);
        e->node2 = remap_node(map, e->node2);
        e->part.node = remap_node(map, e->part.node);
        if (e->part.kind == RF_SCN_PART_ZONE &&
            (e->kind == RF_SCN_EV_PARTITION || e->kind == RF_SCN_EV_FLAP)) {
            ASSERT(e->part.zone < RF_SCN_ZONES_MAX);
            ASSERT(zmap[e->part.zone] >= 0); /* a zone named by a partition has nodes */
            e->part.zone = (uint32_t)zmap[e->part.zone];
        }
        for (uint32_t k = 0; k < RF_SCN_SETS_MAX; k++)
            remap_set(map, &e->part.sets[k], s->node_count);
    }
}

/* ---- figures the simulator and the tests read off a tree ---- */

bool rf_scn_event_is_fault(rf_scn_event_kind kind)
{
    return kind != RF_SCN_EV_COMMAND && kind != RF_SCN_EV_QUERY &&
           kind != RF_SCN_EV_ADD_GROUP && kind != RF_SCN_EV_REMOVE_GROUP;
}

uint64_t rf_scenario_faults_end_max_ns(const rf_scenario *s)
{
    uint64_t end = 0;
    for (uint32_t i = 0; i < s->event_count; i++) {
        const rf_scn_event *e = &s->events[i];
        if (!rf_scn_event_is_fault(e->kind))
            continue;
        /* an `every` line's last start is before its `until` */
        uint64_t last = e->repeat ? (e->at.hi != 0 ? e->at.hi : s->run_ns) : e->at.hi;
        uint64_t t = last + e->lasts.hi;
        if (e->kind == RF_SCN_EV_FLAP && e->lasts.hi == 0)
            t = s->run_ns; /* flaps until healed: the heal line bounds it */
        end = t > end ? t : end;
    }
    return end < s->run_ns ? end : s->run_ns;
}

double rf_scenario_ops_per_s(const rf_scenario *s)
{
    double total = 0;
    for (uint32_t i = 0; i < s->workload_count; i++) {
        const rf_scn_workload *w = &s->workloads[i];
        double groups = w->all_groups ? (double)rf_scenario_group_total(s)
                                      : (double)rf_scn_pattern_count(&w->groups);
        total += groups * w->clients * (double)w->rate * 1e9 / (double)w->rate_per_ns;
    }
    return total;
}

/* scenario_edit: building and editing scenario trees, for the parser, the fuzzer and the shrinker. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "placement/rf_placement.h"
#include "sim/scenario_int.h"

void *scn_reserve(void **arr, uint32_t *cap, uint32_t count, size_t size, uint32_t max)
{
    ASSERT(count <= *cap);
    if (count >= max)
        return NULL;
    if (count == *cap) {
        uint32_t n = *cap == 0 ? 4 : *cap * 2;
        n = n > max ? max : n;
        void *grown = realloc(*arr, (size_t)n * size);
        if (grown == NULL)
            return NULL;
        *arr = grown;
        *cap = n;
    }
    void *slot = (char *)*arr + (size_t)count * size;
    memset(slot, 0, size);
    return slot;
}

void rf_scn_event_init(rf_scn_event *e, rf_scn_event_kind kind)
{
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->node = RF_SCN_NO_NODE;
    e->node2 = RF_SCN_NO_NODE;
    e->part.node = RF_SCN_NO_NODE;
}

rf_scn_group *rf_scenario_add_group(rf_scenario *s)
{
    rf_scn_group *g = scn_reserve((void **)&s->groups, &s->group_cap, s->group_count,
                                  sizeof *s->groups, RF_SCN_GROUP_ITEMS_MAX);
    if (g == NULL)
        return NULL;
    g->replicas = 3;
    memcpy(g->model, "int", 4);
    s->group_count++;
    return g;
}

rf_scn_workload *rf_scenario_add_workload(rf_scenario *s)
{
    rf_scn_workload *w = scn_reserve((void **)&s->workloads, &s->workload_cap,
                                     s->workload_count, sizeof *s->workloads, RF_SCN_WORKLOADS_MAX);
    if (w != NULL)
        s->workload_count++;
    return w;
}

rf_scn_event *rf_scenario_add_event(rf_scenario *s, rf_scn_event_kind kind)
{
    rf_scn_event *e = scn_reserve((void **)&s->events, &s->event_cap, s->event_count,
                                  sizeof *s->events, RF_SCN_EVENTS_MAX);
    if (e == NULL)
        return NULL;
    rf_scn_event_init(e, kind);
    s->event_count++;
    return e;
}

rf_scn_expect *rf_scenario_add_expect(rf_scenario *s, rf_scn_expect_kind kind)
{
    if (s->expect_count == RF_SCN_EXPECTS_MAX)
        return NULL;
    rf_scn_expect *x = &s->expects[s->expect_count++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    return x;
}

int rf_scenario_add_node(rf_scenario *s, const char *name, const char *zone, bool inactive,
                         bool added, int32_t *index)
{
    if (rf_placement_check_name(name) != 0 || rf_placement_check_name(zone) != 0)
        return RF_EBADNAME;
    for (uint32_t i = 0; i < s->node_count; i++)
        if (strcmp(s->nodes[i].name, name) == 0)
            return RF_EEXIST;
    if (s->node_count == RF_SCN_NODES_MAX)
        return RF_EFULL;
    uint32_t z = 0;
    while (z < s->zone_count && strcmp(s->zones[z], zone) != 0)
        z++;
    if (z == s->zone_count) {
        if (z == RF_SCN_ZONES_MAX)
            return RF_EFULL;
        memset(s->zones[z], 0, sizeof s->zones[z]);
        memcpy(s->zones[z], zone, strlen(zone));
        s->zone_count++;
    }
    rf_scn_node *n = &s->nodes[s->node_count];
    memset(n, 0, sizeof *n);
    memcpy(n->name, name, strlen(name));
    n->zone = z;
    n->inactive = inactive;
    n->added = added;
    *index = (int32_t)s->node_count++;
    return RF_OK;
}

static void remove_item(void *arr, uint32_t *count, size_t size, uint32_t i)
{
    ASSERT(i < *count);
    char *base = arr;
    memmove(base + (size_t)i * size, base + (size_t)(i + 1) * size,
            (size_t)(*count - i - 1) * size);
    (*count)--;
}

void rf_scenario_remove_group(rf_scenario *s, uint32_t i)
{
    remove_item(s->groups, &s->group_count, sizeof *s->groups, i);
}

void rf_scenario_remove_workload(rf_scenario *s, uint32_t i)
{
    remove_item(s->workloads, &s->workload_count, sizeof *s->workloads, i);
}

int rf_scenario_remove_event(rf_scenario *s, uint32_t i)
{
    ASSERT(i < s->event_count);
    const rf_scn_event *e = &s->events[i];
    if (e->kind != RF_SCN_EV_ADD_NODE || e->node < 0) {
        remove_item(s->events, &s->event_count, sizeof *s->events, i);
        return RF_OK;
    }
    /* The node exists only through this event: it goes too, unless
     * another event still names it. */
    uint32_t node = (uint32_t)e->node;
    for (uint32_t k = 0; k < s->event_count; k++)
        if (k != i && rf_scn_event_names_node(&s->events[k], node))
            return RF_EBUSY;
    remove_item(s->events, &s->event_count, sizeof *s->events, i);
    int rc = rf_scenario_remove_node(s, node);
    ASSERT(rc == RF_OK);
    return RF_OK;
}

void rf_scenario_remove_expect(rf_scenario *s, uint32_t i)
{
    remove_item(s->expects, &s->expect_count, sizeof *s->expects, i);
}

bool rf_scn_event_names_node(const rf_scn_event *e, uint32_t i)
{
    if (e->node == (int32_t)i || e->node2 == (int32_t)i || e->part.node == (int32_t)i)
        return true;
    if (e->kind == RF_SCN_EV_PARTITION || e->kind == RF_SCN_EV_CUT || e->kind == RF_SCN_EV_FLAP)
        for (uint32_t k = 0; k < e->part.set_count && k < RF_SCN_SETS_MAX; k++)
            if (rf_scn_nodeset_has(&e->part.sets[k], i))
                return true;
    return false;
}

int rf_scenario_remove_node(rf_scenario *s, uint32_t i)
{
    ASSERT(i < s->node_count);
    uint32_t zone = s->nodes[i].zone, zone_nodes = 0;
    for (uint32_t n = 0; n < s->node_count; n++)
        zone_nodes += s->nodes[n].zone == zone;
    for (uint32_t k = 0; k < s->event_count; k++) {
        const rf_scn_event *e = &s->events[k];
        if (rf_scn_event_names_node(e, i))
            return RF_EBUSY;
        bool names_zone = (e->kind == RF_SCN_EV_PARTITION || e->kind == RF_SCN_EV_FLAP) &&
                          e->part.kind == RF_SCN_PART_ZONE && e->part.zone == zone;
        if (names_zone && zone_nodes == 1)
            return RF_EBUSY;
    }
    /* Every node after i moves down by one; rf_scenario_canonicalize renumbers
     * the event fields and drops the zone if it is left empty. */
    memmove(&s->nodes[i], &s->nodes[i + 1], (s->node_count - i - 1) * sizeof s->nodes[0]);
    s->node_count--;
    for (uint32_t k = 0; k < s->event_count; k++) {
        rf_scn_event *e = &s->events[k];
        int32_t *fields[3] = {&e->node, &e->node2, &e->part.node};
        for (int f = 0; f < 3; f++)
            if (*fields[f] > (int32_t)i)
                (*fields[f])--;
        for (uint32_t set = 0; set < RF_SCN_SETS_MAX; set++) {
            rf_scn_nodeset out;
            memset(&out, 0, sizeof out);
            for (uint32_t n = 0; n <= s->node_count; n++)
                if (n != i && rf_scn_nodeset_has(&e->part.sets[set], n)) {
                    uint32_t m = n > i ? n - 1 : n;
                    out.bits[m / 64] |= 1ull << (m % 64);
                }
            e->part.sets[set] = out;
        }
    }
    rf_scenario_canonicalize(s);
    return RF_OK;
}

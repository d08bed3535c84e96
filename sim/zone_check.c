/* sim/zone_check: placement's zone rule checked on the members a group has, independently of core/placement. */
#include "sim/zone_check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "fleet/rf_meta.h"

typedef struct zone_tally {
    uint32_t *zone_of;  /* per node: its zone's index (active nodes only) */
    uint32_t *nodes;    /* per zone: active nodes */
    uint32_t *members;  /* per zone: members */
    const char **name;  /* per zone: its name */
    uint32_t zones;
} zone_tally;

static bool tally_init(zone_tally *t, const rf_sim_zone_node *nodes, size_t n)
{
    size_t cap = n > 0 ? n : 1;
    t->zone_of = calloc(cap, sizeof *t->zone_of);
    t->nodes = calloc(cap, sizeof *t->nodes);
    t->members = calloc(cap, sizeof *t->members);
    t->name = calloc(cap, sizeof *t->name);
    t->zones = 0;
    if (t->zone_of == NULL || t->nodes == NULL || t->members == NULL || t->name == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!nodes[i].active)
            continue;
        uint32_t z = 0;
        while (z < t->zones && strcmp(t->name[z], nodes[i].zone) != 0)
            z++;
        if (z == t->zones)
            t->name[t->zones++] = nodes[i].zone;
        t->zone_of[i] = z;
        t->nodes[z]++;
    }
    return true;
}

static void tally_close(zone_tally *t)
{
    free(t->zone_of);
    free(t->nodes);
    free(t->members);
    free(t->name);
}

static bool fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *why, size_t cap, const char *fmt, ...)
{
    if (cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* Counts the members per zone; false (with why) for a member that is not
 * an active node or is named twice. */
static bool count_members(zone_tally *t, const rf_sim_zone_node *nodes, size_t n_nodes,
                          const uint64_t *members, size_t n_members, char *why, size_t cap)
{
    for (size_t k = 0; k < n_members; k++) {
        for (size_t j = 0; j < k; j++)
            if (members[j] == members[k])
                return fail(why, cap, "node %" PRIu64 " is a member twice", members[k]);
        size_t i = 0;
        while (i < n_nodes && nodes[i].id != members[k])
            i++;
        if (i == n_nodes || !nodes[i].active)
            return fail(why, cap, "member node %" PRIu64 " is not an active node", members[k]);
        t->members[t->zone_of[i]]++;
    }
    return true;
}

/* Round robin: a zone with a free node (m_z < c_z) holds at most one
 * member fewer than any other zone. */
static bool round_robin(const zone_tally *t, char *why, size_t cap)
{
    uint32_t lo = UINT32_MAX, lo_z = 0, hi = 0, hi_z = 0;
    for (uint32_t z = 0; z < t->zones; z++) {
        ASSERT(t->members[z] <= t->nodes[z]);
        if (t->members[z] < t->nodes[z] && t->members[z] < lo) {
            lo = t->members[z];
            lo_z = z;
        }
        if (t->members[z] > hi) {
            hi = t->members[z];
            hi_z = z;
        }
    }
    if (lo == UINT32_MAX || hi <= lo + 1)
        return true;
    return fail(why, cap,
                "%u members in zone %.64s while zone %.64s has %u of its %u active nodes as "
                "members (round robin over zones allows at most %u)",
                hi, t->name[hi_z], t->name[lo_z], lo, t->nodes[lo_z], lo + 1);
}

bool rf_sim_zone_spread_ok(const rf_sim_zone_node *nodes, size_t n_nodes, uint32_t replicas,
                           const uint64_t *members, size_t n_members, char *why, size_t cap)
{
    ASSERT(n_nodes <= RF_SIM_ZONE_NODES_MAX);
    ASSERT(n_members <= RF_SIM_ZONE_NODES_MAX);
    if (cap > 0)
        why[0] = '\0';
    size_t active = 0;
    for (size_t i = 0; i < n_nodes; i++)
        active += nodes[i].active;
    size_t want = replicas < active ? replicas : active;
    if (n_members != want)
        return fail(why, cap, "%zu members where min(replicas %u, active nodes %zu) is %zu",
                    n_members, replicas, active, want);
    zone_tally t;
    bool ok = tally_init(&t, nodes, n_nodes);
    if (!ok)
        fail(why, cap, "out of memory");
    ok = ok && count_members(&t, nodes, n_nodes, members, n_members, why, cap);
    ok = ok && round_robin(&t, why, cap);
    tally_close(&t);
    return ok;
}

/* The voters of group id as its leader sees them; false when it has none. */
static bool leader_voters(const rf_sim_fleet *f, uint64_t id, uint64_t *ids, size_t *n)
{
    int li = rf_sim_fleet_leader(f, id);
    if (li < 0)
        return false;
    const rf_membership *mem =
        rf_raft_membership(rf_node_group(rf_sim_fleet_node(f, (uint32_t)li), id));
    *n = 0;
    for (uint32_t i = 0; i < mem->count; i++)
        if (mem->members[i].voter)
            ids[(*n)++] = mem->members[i].id;
    return true;
}

bool rf_sim_fleet_zone_rule(const rf_sim_fleet *f, char *why, size_t cap)
{
    const rf_meta *m = rf_sim_fleet_meta(f);
    if (m == NULL)
        return true;
    size_t n = rf_meta_node_count(m);
    if (n > RF_SIM_ZONE_NODES_MAX)
        n = RF_SIM_ZONE_NODES_MAX;
    rf_sim_zone_node *nodes = calloc(n > 0 ? n : 1, sizeof *nodes);
    if (nodes == NULL)
        return fail(why, cap, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const rf_meta_node *mn = rf_meta_node_at(m, i);
        nodes[i] = (rf_sim_zone_node){mn->id, mn->zone, mn->state == RF_META_NODE_ACTIVE};
    }
    bool ok = true;
    for (size_t g = 0; g < rf_meta_group_count(m) && ok; g++) {
        const rf_meta_group *mg = rf_meta_group_at(m, g);
        uint64_t ids[RF_RAFT_MEMBERS_MAX];
        size_t k;
        char sub[200];
        if (!leader_voters(f, mg->id, ids, &k) ||
            rf_sim_zone_spread_ok(nodes, n, mg->replicas, ids, k, sub, sizeof sub))
            continue;
        ok = fail(why, cap, "group %.64s (replicas %u): %s", mg->name, mg->replicas, sub);
    }
    free(nodes);
    return ok;
}

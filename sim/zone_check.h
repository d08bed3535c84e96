/* sim/zone_check: placement's zone rule checked on the members a group has, independently of core/placement. */
#ifndef SIM_ZONE_CHECK_H
#define SIM_ZONE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/fleet_cluster.h"

/* The rule (DESIGN.md section 4, core/placement/rf_placement.h): within each
 * zone the active nodes are ranked, and members are taken rank by rank over
 * all zones, so every zone's first node comes before any zone's second.
 * What that says about the member count of each zone, whatever the hashes
 * (the ranking) are: with c_z active nodes and m_z members in zone z,
 *   - there are min(replicas, active nodes) members, all on active nodes;
 *   - m_z <= c_z;
 *   - a zone that still has an active node without a member (m_z < c_z)
 *     has at most one member fewer than any other zone: m_w <= m_z + 1
 *     for every zone w.
 * The last rule is exactly "round robin": as many distinct zones as
 * possible, and no zone gets a (k+2)-th member while another zone with a
 * free node has k. With equal zones it gives at most ceil(replicas/zones)
 * per zone; with unequal zones a large zone takes what the small ones
 * cannot. Which node of a zone is taken (the hash) is not checked here:
 * the convergence check compares the members with placement's target.
 *
 * This code uses no placement function, so a broken placement that the
 * fleet converged to is still caught. */

typedef struct rf_sim_zone_node {
    uint64_t id;
    const char *zone; /* compared as strings */
    bool active;      /* in every placement (not draining) */
} rf_sim_zone_node;

/* Whether members (node ids, count n_members) of a group of `replicas`
 * follow the rule over nodes[0..n_nodes). When not, why (NUL-terminated,
 * cut to cap) says which rule and which zones. n_nodes and n_members at
 * most RF_SIM_ZONE_NODES_MAX. */
#define RF_SIM_ZONE_NODES_MAX 4096u
bool rf_sim_zone_spread_ok(const rf_sim_zone_node *nodes, size_t n_nodes, uint32_t replicas,
                           const uint64_t *members, size_t n_members, char *why, size_t cap);

/* The rule for every user group of the fleet's metadata (rf_sim_fleet_meta),
 * on the voters of the group's leader (rf_sim_fleet_leader). Groups without
 * a leader are skipped (no membership to judge). True when every group
 * holds; else why names the first group that breaks it. */
bool rf_sim_fleet_zone_rule(const rf_sim_fleet *f, char *why, size_t cap);

#endif

/* server_views: fleetd's answers read from the local node alone: groups, nodes, leader, status, placement. */
#include <stdio.h>
#include <string.h>

#include "base/rf_err.h"
#include "fleet/rf_meta.h"
#include "prod/server_int.h"

static const char *node_name(const rf_meta *m, uint64_t id)
{
    const rf_meta_node *n = m ? rf_meta_node_by_id(m, id) : NULL;
    return n ? n->name : NULL;
}

static void write_status(rf_server *s, const char *group, rf_resp_out *o)
{
    const rf_meta *m = rf_node_meta(s->node);
    if (group == NULL) {
        uint64_t ids[1];
        rf_resp_array(o, 10);
        rf_resp_bulk_str(o, "node");
        rf_resp_bulk_str(o, s->cfg.name);
        rf_resp_bulk_str(o, "active");
        rf_resp_int(o, rf_node_is_active(s->node));
        rf_resp_bulk_str(o, "groups_hosted");
        rf_resp_int(o, (int64_t)rf_node_group_count(s->node));
        rf_resp_bulk_str(o, "groups_leaderless");
        rf_resp_int(o, (int64_t)rf_node_leaderless(s->node, ids, 0));
        rf_resp_bulk_str(o, "peers_connected");
        rf_resp_int(o, (int64_t)s->n_peers);
        return;
    }
    rf_node_status st;
    int rc = rf_node_status_get(s->node, group, &st);
    if (rc != RF_OK) {
        rf_client_reply_status(o, rc, NULL, 0);
        return;
    }
    const char *leader = node_name(m, st.leader);
    const char *desired = node_name(m, st.desired_leader);
    uint32_t voters = st.hosted ? rf_membership_voters(&st.membership) : 0;
    rf_resp_array(o, 16);
    rf_resp_bulk_str(o, "group_id");
    rf_resp_int(o, (int64_t)st.group_id);
    rf_resp_bulk_str(o, "replicas");
    rf_resp_int(o, st.replicas);
    rf_resp_bulk_str(o, "leader");
    if (leader)
        rf_resp_bulk_str(o, leader);
    else
        rf_resp_null(o);
    rf_resp_bulk_str(o, "term");
    rf_resp_int(o, (int64_t)st.term);
    rf_resp_bulk_str(o, "desired_leader");
    if (desired)
        rf_resp_bulk_str(o, desired);
    else
        rf_resp_null(o);
    rf_resp_bulk_str(o, "hosted");
    rf_resp_int(o, st.hosted);
    rf_resp_bulk_str(o, "commit_index");
    rf_resp_int(o, (int64_t)st.commit_index);
    rf_resp_bulk_str(o, "voters"); /* in the local member's view, 0 when not hosted */
    rf_resp_int(o, voters);
}

static bool peer_down(const uint64_t *down, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (down[i] == id)
            return true;
    return false;
}

/* FLEET.PLACEMENT: [nodes, groups], as this node knows them:
 *   node:  [name, zone, state, id, reachable (0 when this node finds it
 *           unreachable)]
 *   group: [name, id, replicas, model, leader name or nil, term, hosted,
 *           members ([name, "voter"|"learner"] as the local member sees
 *           them; empty when not hosted here), target (names, desired
 *           leader first)] */
static void write_placement(rf_server *s, rf_resp_out *o)
{
    const rf_meta *m = rf_node_meta(s->node);
    uint64_t down[SRV_PEERS_MAX], since[SRV_PEERS_MAX];
    size_t n_down = rf_node_unreachable(s->node, down, since, SRV_PEERS_MAX);
    size_t nn = m ? rf_meta_node_count(m) : 0, ng = m ? rf_meta_group_count(m) : 0;
    rf_resp_array(o, 2);
    rf_resp_array(o, (uint32_t)nn);
    for (size_t i = 0; i < nn; i++) {
        const rf_meta_node *nd = rf_meta_node_at(m, i);
        rf_resp_array(o, 5);
        rf_resp_bulk_str(o, nd->name);
        rf_resp_bulk_str(o, nd->zone);
        rf_resp_bulk_str(o, nd->state == RF_META_NODE_ACTIVE ? "active" : "deactivating");
        rf_resp_int(o, (int64_t)nd->id);
        rf_resp_int(o, !peer_down(down, n_down < SRV_PEERS_MAX ? n_down : SRV_PEERS_MAX, nd->id));
    }
    rf_resp_array(o, (uint32_t)ng);
    for (size_t i = 0; i < ng; i++) {
        const rf_meta_group *g = rf_meta_group_at(m, i);
        uint64_t term = 0, leader = rf_node_whereis_leader(s->node, g->name, &term);
        const rf_raft *r = rf_node_group(s->node, g->id);
        const char *lname = node_name(m, leader);
        rf_resp_array(o, 9);
        rf_resp_bulk_str(o, g->name);
        rf_resp_int(o, (int64_t)g->id);
        rf_resp_int(o, g->replicas);
        rf_resp_bulk_str(o, g->model);
        if (lname)
            rf_resp_bulk_str(o, lname);
        else
            rf_resp_null(o);
        rf_resp_int(o, (int64_t)term);
        rf_resp_int(o, r != NULL);
        const rf_membership *mem = r ? rf_raft_membership(r) : NULL;
        uint32_t count = mem ? mem->count : 0;
        rf_resp_array(o, count);
        for (uint32_t k = 0; k < count; k++) {
            const char *mn = node_name(m, mem->members[k].id);
            char idtext[24];
            snprintf(idtext, sizeof idtext, "%llu", (unsigned long long)mem->members[k].id);
            rf_resp_array(o, 2);
            rf_resp_bulk_str(o, mn ? mn : idtext);
            rf_resp_bulk_str(o, mem->members[k].voter ? "voter" : "learner");
        }
        uint64_t ids[RF_META_REPLICAS_MAX];
        uint32_t reps = g->replicas < RF_META_REPLICAS_MAX ? g->replicas : RF_META_REPLICAS_MAX;
        uint32_t nt = 0;
        if (rf_meta_place(m, g->name, reps, ids, RF_META_REPLICAS_MAX) == RF_OK)
            while (nt < reps && ids[nt] != 0)
                nt++;
        rf_resp_array(o, nt);
        for (uint32_t k = 0; k < nt; k++) {
            const char *tn = node_name(m, ids[k]);
            rf_resp_bulk_str(o, tn ? tn : "?");
        }
    }
}

void srv_write_view(rf_server *s, const rf_fleet_req *req, rf_resp_out *o)
{
    const rf_meta *m = rf_node_meta(s->node);
    if (req->id == RF_CMD_FLEET_GROUPS) {
        size_t n = m ? rf_meta_group_count(m) : 0;
        rf_resp_array(o, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            const rf_meta_group *g = rf_meta_group_at(m, i);
            rf_resp_array(o, 3);
            rf_resp_bulk_str(o, g->name);
            rf_resp_int(o, g->replicas);
            rf_resp_bulk_str(o, g->model);
        }
    } else if (req->id == RF_CMD_FLEET_NODES) {
        size_t n = m ? rf_meta_node_count(m) : 0;
        rf_resp_array(o, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            const rf_meta_node *nd = rf_meta_node_at(m, i);
            rf_resp_array(o, 4);
            rf_resp_bulk_str(o, nd->name);
            rf_resp_bulk_str(o, nd->zone);
            rf_resp_bulk_str(o, nd->state == RF_META_NODE_ACTIVE ? "active" : "deactivating");
            rf_resp_int(o, (int64_t)nd->id);
        }
    } else if (req->id == RF_CMD_FLEET_LEADER) {
        const char *name = node_name(m, rf_node_whereis_leader(s->node, req->name, NULL));
        if (name)
            rf_resp_bulk_str(o, name);
        else
            rf_resp_null(o);
    } else if (req->id == RF_CMD_FLEET_PLACEMENT) {
        write_placement(s, o);
    } else {
        write_status(s, req->name, o);
    }
}

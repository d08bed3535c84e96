/* sim/run_timeline: the scenario's timeline planned in virtual time and its actions performed on the fleet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "placement/rf_placement.h"
#include "sim/run_int.h"

static uint64_t draw(rf_pcg32 *rng, rf_scn_range rg)
{
    return rg.lo == rg.hi ? rg.lo : rf_pcg32_range64(rng, rg.lo, rg.hi);
}

static int add_inst(rf_sim_runner *r, uint32_t event, uint64_t at_ns, uint64_t for_ns,
                    uint64_t flap_ns)
{
    if (r->n_insts == r->cap_insts) {
        uint32_t cap = r->cap_insts == 0 ? 64 : r->cap_insts * 2;
        run_inst *n = realloc(r->insts, (size_t)cap * sizeof *n);
        if (n == NULL)
            return RF_ENOMEM;
        r->insts = n;
        r->cap_insts = cap;
    }
    run_inst *in = &r->insts[r->n_insts++];
    memset(in, 0, sizeof *in);
    in->event = event;
    in->at_ns = at_ns;
    in->for_ns = for_ns;
    in->flap_ns = flap_ns;
    in->node = -1;
    return RF_OK;
}

static int inst_cmp(const void *a, const void *b)
{
    const run_inst *x = a, *y = b;
    if (x->at_ns != y->at_ns)
        return x->at_ns < y->at_ns ? -1 : 1;
    if (x->event != y->event)
        return x->event < y->event ? -1 : 1;
    return 0; /* one event's instances have distinct times */
}

static bool is_net_fault(rf_scn_event_kind k)
{
    return k == RF_SCN_EV_PARTITION || k == RF_SCN_EV_CUT || k == RF_SCN_EV_FLAP ||
           k == RF_SCN_EV_CLOG;
}

/* When instance i's fault ends: its `for`, else the next heal (network
 * faults), else the run's end for network faults and its own time for the
 * rest (churn lines, a permanent crash, a lasting network change). */
static uint64_t inst_end(const rf_sim_runner *r, uint32_t i)
{
    const run_inst *in = &r->insts[i];
    const rf_scn_event *e = &r->scn->events[in->event];
    if (in->for_ns > 0)
        return in->at_ns + in->for_ns < r->scn->run_ns ? in->at_ns + in->for_ns : r->scn->run_ns;
    if (!is_net_fault(e->kind))
        return in->at_ns;
    for (uint32_t j = i + 1; j < r->n_insts; j++)
        if (r->scn->events[r->insts[j].event].kind == RF_SCN_EV_HEAL)
            return r->insts[j].at_ns;
    return r->scn->run_ns;
}

/* Draws every time and duration of the timeline up front from the
 * ("faults", 0) stream, in file order, so the end of the faults (and so
 * `after faults`) is known before the run starts. */
int run_timeline_plan(rf_sim_runner *r)
{
    const rf_scenario *s = r->scn;
    rf_pcg32 rng;
    rf_sim_engine_stream(r->eng, &rng, "faults", 0);
    rf_sim_engine_stream(r->eng, &r->picks, "faults", 1);
    for (uint32_t i = 0; i < s->event_count; i++) {
        const rf_scn_event *e = &s->events[i];
        int rc = RF_OK;
        if (!e->repeat) {
            uint64_t at = draw(&rng, e->at);
            uint64_t lasts = e->lasts.hi > 0 ? draw(&rng, e->lasts) : 0;
            rc = add_inst(r, i, at, lasts, draw(&rng, e->flap_period));
        } else {
            uint64_t until = e->at.hi == 0 || e->at.hi > s->run_ns ? s->run_ns : e->at.hi;
            uint64_t t = e->at.lo + draw(&rng, e->period);
            while (rc == RF_OK && t <= until) {
                uint64_t lasts = e->lasts.hi > 0 ? draw(&rng, e->lasts) : 0;
                rc = add_inst(r, i, t, lasts, draw(&rng, e->flap_period));
                uint64_t p = draw(&rng, e->period);
                t += p > 0 ? p : 1;
            }
        }
        if (rc != RF_OK)
            return rc;
    }
    if (r->n_insts > 1)
        qsort(r->insts, r->n_insts, sizeof *r->insts, inst_cmp);
    r->faults_end_ns = 0;
    for (uint32_t i = 0; i < r->n_insts; i++) {
        if (!rf_scn_event_is_fault(s->events[r->insts[i].event].kind))
            continue;
        uint64_t end = inst_end(r, i);
        if (end > r->faults_end_ns)
            r->faults_end_ns = end;
    }
    return RF_OK;
}

/* ---- nodes --------------------------------------------------------------------------- */

bool run_node_live(const rf_sim_runner *r, uint32_t i)
{
    return i < r->n_nodes && r->nodes[i].up && rf_sim_fleet_node(r->fleet, i) != NULL;
}

typedef enum { PICK_LIVE, PICK_ACTIVE, PICK_INACTIVE } pick_kind;

static bool pick_ok(const rf_sim_runner *r, uint32_t i, pick_kind k)
{
    if (!run_node_live(r, i))
        return false;
    if (k == PICK_ACTIVE)
        return r->nodes[i].active;
    if (k == PICK_INACTIVE)
        return !r->nodes[i].active;
    return true;
}

/* A node for a `random` target among those the action makes sense for, or -1. */
static int32_t pick_random(rf_sim_runner *r, pick_kind k)
{
    uint32_t cand[RF_SIM_NODES_MAX], n = 0;
    for (uint32_t i = 0; i < r->n_nodes; i++)
        if (pick_ok(r, i, k))
            cand[n++] = i;
    if (n == 0)
        return -1;
    return (int32_t)cand[rf_pcg32_bounded(&r->picks, n)];
}

static int32_t resolve(rf_sim_runner *r, const rf_scn_event *e, int32_t node, pick_kind k)
{
    if (node == RF_SCN_RANDOM_NODE)
        return pick_random(r, k);
    if (node == RF_SCN_LEADER_OF) {
        int g = run_group_by_name(r, e->group.names.prefix);
        if (g < 0 || r->groups[g].id == 0)
            return -1;
        int li = rf_sim_fleet_leader(r->fleet, r->groups[g].id);
        return li >= 0 && pick_ok(r, (uint32_t)li, k) ? li : -1;
    }
    return node >= 0 && pick_ok(r, (uint32_t)node, k) ? node : -1;
}

/* A live active node other than self to join through, or -1 (bootstrap). */
int32_t run_via(const rf_sim_runner *r, uint32_t self)
{
    for (uint32_t i = 0; i < r->n_nodes; i++)
        if (i != self && pick_ok(r, i, PICK_ACTIVE))
            return (int32_t)i;
    return -1;
}

/* The minimal member additions that changing node `idx` to `active`
 * forces on the placement of every group (rf_placement_added_members over
 * the metadata's active nodes before and after), or -1 when unknown. */
static int64_t minimal_moves(rf_sim_runner *r, uint32_t idx, bool active)
{
    const rf_meta *m = rf_sim_fleet_meta(r->fleet);
    if (m == NULL)
        return -1;
    rf_placement_node before[RF_SIM_NODES_MAX + 1], after[RF_SIM_NODES_MAX + 1];
    size_t nb = 0, na = 0;
    const char *name = r->scn->nodes[idx].name;
    for (size_t i = 0; i < rf_meta_node_count(m) && nb < RF_SIM_NODES_MAX; i++) {
        const rf_meta_node *mn = rf_meta_node_at(m, i);
        if (mn->state != RF_META_NODE_ACTIVE)
            continue;
        before[nb++] = (rf_placement_node){mn->name, mn->zone};
        if (strcmp(mn->name, name) != 0)
            after[na++] = before[nb - 1];
    }
    if (active)
        after[na++] = (rf_placement_node){name, r->scn->zones[r->scn->nodes[idx].zone]};
    rf_placement *pb = NULL, *pa = NULL;
    int64_t total = -1;
    if (rf_placement_init(&pb, before, nb) == RF_OK && rf_placement_init(&pa, after, na) == RF_OK) {
        total = 0;
        for (uint32_t g = 0; g < r->n_groups; g++) {
            uint32_t c = 0;
            if (r->groups[g].id == 0 || r->groups[g].removed)
                continue;
            if (rf_placement_added_members(pb, pa, r->groups[g].name, r->groups[g].replicas, &c) ==
                RF_OK)
                total += c;
        }
    }
    rf_placement_close(pb);
    rf_placement_close(pa);
    return total;
}

static void node_event(rf_sim_runner *r, const rf_scn_event *e, uint32_t idx,
                       rf_rec_node_kind kind, int64_t moves_min)
{
    run_log(r, "%s %s", rf_rec_node_kind_name(kind), r->scn->nodes[idx].name);
    if (r->rec != NULL) {
        int64_t id = RF_REC_NONE;
        (void)rf_rec_node_event(r->rec, rf_sim_fleet_now(r->fleet), (int64_t)idx + 1, kind,
                                moves_min, e->label[0] ? e->label : NULL, &id);
        r->last_node_event = id;
    }
    r->last_moves_min = moves_min;
}

/* ---- the network -------------------------------------------------------------------- */

static void hint(rf_node *n, void *ctx)
{
    const uint64_t *a = ctx; /* peer id, reachable */
    if (a[1])
        rf_node_peer_reachable(n, a[0]);
    else
        rf_node_peer_unreachable(n, a[0]);
}

/* Rebuilds the network's cuts from the faults in force (a heal or an
 * expiry removes one without disturbing the others), then tells nodes on
 * both sides of a link cut both ways that the peer is unreachable, as a
 * transport losing its connection would, and reachable again after. */
void run_net_apply(rf_sim_runner *r)
{
    rf_sim_net *net = rf_sim_fleet_net(r->fleet);
    rf_sim_net_heal(net);
    for (uint32_t i = 0; i < r->n_insts; i++) {
        const run_inst *in = &r->insts[i];
        if (!in->active)
            continue;
        const rf_scn_event *e = &r->scn->events[in->event];
        uint64_t end = in->for_ns > 0 ? in->at_ns + in->for_ns : r->scn->run_ns;
        if (e->kind == RF_SCN_EV_PARTITION) {
            for (uint32_t a = 0; a < in->n_sets; a++)
                for (uint32_t b = a + 1; b < in->n_sets; b++)
                    rf_sim_net_partition(net, in->sets[a], in->sets[b]);
        } else if (e->kind == RF_SCN_EV_CUT) {
            rf_sim_net_cut_oneway(net, in->sets[0], in->sets[1]);
        } else if (e->kind == RF_SCN_EV_FLAP) {
            /* A phase lasts the period: cut for one, healed for the next. */
            (void)rf_sim_net_flap(net, in->sets[0], in->sets[1], in->at_ns, 2 * in->flap_ns, end);
        } else if (e->kind == RF_SCN_EV_CLOG) {
            rf_sim_net_clog(net, (uint32_t)e->node, (uint32_t)e->node2, end);
            if (!e->one_way)
                rf_sim_net_clog(net, (uint32_t)e->node2, (uint32_t)e->node, end);
        }
    }
    for (uint32_t i = 0; i < r->n_nodes; i++) {
        bool iso = r->n_nodes > 1;
        for (uint32_t j = 0; j < r->n_nodes; j++) {
            if (i == j)
                continue;
            bool cut = net->cut_count[i][j] > 0 && net->cut_count[j][i] > 0;
            if (!cut)
                iso = false;
            if (cut == r->unreach[i][j] || !run_node_live(r, i) || !run_node_live(r, j))
                continue;
            r->unreach[i][j] = cut;
            uint64_t a[2] = {(uint64_t)j + 1, cut ? 0u : 1u};
            rf_sim_fleet_poke(r->fleet, i, hint, a);
        }
        r->nodes[i].isolated = iso;
    }
}

static rf_sim_nodeset all_nodes(const rf_sim_runner *r)
{
    return r->n_nodes >= 64 ? ~0ull : (1ull << r->n_nodes) - 1;
}

static rf_sim_nodeset scn_set(const rf_scn_nodeset *s, uint32_t n)
{
    rf_sim_nodeset out = 0;
    for (uint32_t i = 0; i < n; i++)
        if (rf_scn_nodeset_has(s, i))
            out |= 1ull << i;
    return out;
}

/* The sets a partition or flap cuts apart, drawn now for `random`. */
static bool part_sets(rf_sim_runner *r, const rf_scn_event *e, run_inst *in)
{
    const rf_scn_partition *p = &e->part;
    rf_sim_nodeset all = all_nodes(r), a = 0;
    in->n_sets = 2;
    switch (p->kind) {
    case RF_SCN_PART_SETS:
        if (p->set_count == 1)
            break;
        in->n_sets = p->set_count;
        for (uint32_t i = 0; i < p->set_count; i++)
            in->sets[i] = scn_set(&p->sets[i], r->n_nodes);
        return true;
    case RF_SCN_PART_ZONE:
        for (uint32_t i = 0; i < r->n_nodes; i++)
            if (r->scn->nodes[i].zone == p->zone)
                a |= 1ull << i;
        in->sets[0] = a;
        in->sets[1] = all & ~a;
        return true;
    case RF_SCN_PART_NODE: {
        int32_t n = resolve(r, e, p->node, PICK_LIVE);
        if (n < 0)
            return false;
        in->node = n;
        in->sets[0] = 1ull << n;
        in->sets[1] = all & ~in->sets[0];
        return true;
    }
    case RF_SCN_PART_RANDOM: {
        uint32_t k = r->n_nodes < 3 ? 1 : 1 + rf_pcg32_bounded(&r->picks, (r->n_nodes - 1) / 2);
        for (uint32_t c = 0; c < k; c++) {
            uint32_t left = 0, pick;
            for (uint32_t i = 0; i < r->n_nodes; i++)
                left += !((a >> i) & 1u);
            pick = rf_pcg32_bounded(&r->picks, left);
            for (uint32_t i = 0; i < r->n_nodes; i++)
                if (!((a >> i) & 1u) && pick-- == 0) {
                    a |= 1ull << i;
                    break;
                }
        }
        in->sets[0] = a;
        in->sets[1] = all & ~a;
        return true;
    }
    }
    in->sets[0] = scn_set(&p->sets[0], r->n_nodes);
    in->sets[1] = all & ~in->sets[0];
    return true;
}

static void set_text(const rf_sim_runner *r, const run_inst *in, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t s = 0; s < in->n_sets && n + 2 < cap; s++) {
        n += (size_t)snprintf(buf + n, cap - n, "%s{", s ? " | " : "");
        bool first = true;
        for (uint32_t i = 0; i < r->n_nodes && n + 2 < cap; i++)
            if ((in->sets[s] >> i) & 1u) {
                n += (size_t)snprintf(buf + n, cap - n, "%s%s", first ? "" : ",",
                                      r->scn->nodes[i].name);
                first = false;
            }
        if (n + 2 < cap)
            n += (size_t)snprintf(buf + n, cap - n, "}");
    }
}

static const char *fault_kind(const rf_scn_event *e)
{
    switch (e->kind) {
    case RF_SCN_EV_PARTITION:
        return e->part.kind == RF_SCN_PART_NODE ? "isolate"
               : e->part.kind == RF_SCN_PART_ZONE ? "zone-outage"
                                                  : "partition";
    case RF_SCN_EV_CUT: return "one-way";
    case RF_SCN_EV_FLAP: return "flapping";
    case RF_SCN_EV_CLOG: return "clog";
    case RF_SCN_EV_NETWORK: return "network";
    default: return "crash";
    }
}

static void fault_begin(rf_sim_runner *r, run_inst *in, const char *targets, const char *detail)
{
    const rf_scn_event *e = &r->scn->events[in->event];
    run_log(r, "fault %s %s%s%s", fault_kind(e), targets, detail ? " " : "", detail ? detail : "");
    if (r->rec != NULL)
        (void)rf_rec_fault_begin(r->rec, rf_sim_fleet_now(r->fleet), fault_kind(e), targets,
                                 detail, &in->fault_id);
}

static void fault_end(rf_sim_runner *r, run_inst *in)
{
    run_log(r, "fault %s ends", fault_kind(&r->scn->events[in->event]));
    if (r->rec != NULL && in->fault_id != 0)
        (void)rf_rec_fault_end(r->rec, in->fault_id, rf_sim_fleet_now(r->fleet));
    in->fault_id = 0;
}

static void fire_net(rf_sim_runner *r, run_inst *in, const rf_scn_event *e)
{
    char targets[512];
    rf_sim_nodeset all = all_nodes(r);
    if (e->kind == RF_SCN_EV_PARTITION || e->kind == RF_SCN_EV_FLAP) {
        if (!part_sets(r, e, in)) {
            in->skipped = true;
            run_log(r, "skipped: no node to isolate");
            return;
        }
    } else if (e->kind == RF_SCN_EV_CUT) {
        in->n_sets = 2;
        in->sets[0] = scn_set(&e->part.sets[0], r->n_nodes);
        in->sets[1] = scn_set(&e->part.sets[1], r->n_nodes);
    } else {
        in->n_sets = 2;
        in->sets[0] = 1ull << e->node;
        in->sets[1] = (1ull << e->node2) & all;
    }
    set_text(r, in, targets, sizeof targets);
    if (e->kind == RF_SCN_EV_CUT || (e->kind == RF_SCN_EV_CLOG && e->one_way)) {
        char *bar = strstr(targets, " | ");
        if (bar != NULL)
            memcpy(bar, " ->", 3);
    }
    in->active = true;
    fault_begin(r, in, targets, NULL);
    run_net_apply(r);
    if (r->rec != NULL)
        run_rec_snapshot(r, e->label[0] ? e->label : fault_kind(e));
}

static void fire_network(rf_sim_runner *r, run_inst *in, const rf_scn_event *e)
{
    rf_sim_net *net = rf_sim_fleet_net(r->fleet);
    in->prev = net->cfg;
    if (e->net.set & RF_SCN_NET_LATENCY)
        net->cfg.latency_ns_base = e->net.latency_ns;
    if (e->net.set & RF_SCN_NET_JITTER)
        net->cfg.latency_ns_jitter = e->net.jitter_ns;
    if (e->net.set & RF_SCN_NET_TAIL) {
        net->cfg.tail_ppm = e->net.tail_ppm;
        net->cfg.tail_ns_max = e->net.tail_ns;
    }
    if (e->net.set & RF_SCN_NET_LOSS)
        net->cfg.loss_ppm = e->net.loss_ppm;
    if (e->net.set & RF_SCN_NET_DUP)
        net->cfg.dup_ppm = e->net.dup_ppm;
    char detail[160];
    snprintf(detail, sizeof detail, "latency %lluns jitter %lluns loss %uppm dup %uppm",
             (unsigned long long)net->cfg.latency_ns_base,
             (unsigned long long)net->cfg.latency_ns_jitter, net->cfg.loss_ppm, net->cfg.dup_ppm);
    fault_begin(r, in, "network", detail);
    if (in->for_ns == 0)
        fault_end(r, in); /* a lasting change of quality, not a fault that heals */
}

static void fire_heal(rf_sim_runner *r, const rf_scn_event *e)
{
    for (uint32_t i = 0; i < r->n_insts; i++)
        if (r->insts[i].active) {
            r->insts[i].active = false;
            fault_end(r, &r->insts[i]);
        }
    run_log(r, "heal");
    run_net_apply(r);
    if (r->rec != NULL)
        run_rec_snapshot(r, e->label[0] ? e->label : "heal");
}

static void fire_node(rf_sim_runner *r, run_inst *in, const rf_scn_event *e)
{
    pick_kind k = e->kind == RF_SCN_EV_ACTIVATE || e->kind == RF_SCN_EV_ADD_NODE ? PICK_INACTIVE
                  : e->kind == RF_SCN_EV_DEACTIVATE                              ? PICK_ACTIVE
                                                                                 : PICK_LIVE;
    int32_t n = resolve(r, e, e->node, k);
    if (n < 0) {
        in->skipped = true;
        run_log(r, "skipped: no node fits");
        return;
    }
    in->node = n;
    uint32_t idx = (uint32_t)n;
    switch (e->kind) {
    case RF_SCN_EV_CRASH:
    case RF_SCN_EV_REMOVE_NODE: {
        bool crash = e->kind == RF_SCN_EV_CRASH;
        node_event(r, e, idx, crash ? RF_REC_NODE_CRASH : RF_REC_NODE_REMOVE,
                   r->nodes[idx].active ? minimal_moves(r, idx, false) : -1);
        rf_sim_fleet_kill(r->fleet, idx);
        r->nodes[idx].up = false;
        r->nodes[idx].removed = !crash;
        break;
    }
    case RF_SCN_EV_ADD_NODE:
    case RF_SCN_EV_ACTIVATE: {
        bool add = e->kind == RF_SCN_EV_ADD_NODE;
        bool activate = !add || !r->scn->nodes[idx].inactive;
        node_event(r, e, idx, add ? RF_REC_NODE_ADD : RF_REC_NODE_ACTIVATE,
                   activate ? minimal_moves(r, idx, true) : -1);
        if (activate) {
            (void)rf_sim_fleet_activate(r->fleet, idx, r->scn->zones[r->scn->nodes[idx].zone],
                                        run_via(r, idx));
            r->nodes[idx].active = true;
        }
        break;
    }
    case RF_SCN_EV_DEACTIVATE:
        node_event(r, e, idx, RF_REC_NODE_DEACTIVATE, minimal_moves(r, idx, false));
        (void)rf_sim_fleet_deactivate(r->fleet, idx);
        r->nodes[idx].active = false;
        break;
    default:
        ASSERT(false);
    }
    if (r->rec != NULL)
        run_rec_snapshot(r, e->label[0] ? e->label : r->scn->nodes[idx].name);
}

static void fire_group(rf_sim_runner *r, const rf_scn_event *e)
{
    int g = run_group_by_name(r, e->group.names.prefix);
    int32_t via = pick_random(r, PICK_ACTIVE);
    if (g < 0 || via < 0) {
        run_log(r, "skipped: %s (no active node)", e->group.names.prefix);
        return;
    }
    run_group *gr = &r->groups[g];
    if (e->kind == RF_SCN_EV_ADD_GROUP) {
        run_log(r, "add group %s", gr->name);
        gr->removed = false;
        gr->add_req = rf_sim_fleet_add_group(r->fleet, (uint32_t)via, gr->name, gr->replicas,
                                             gr->model);
    } else {
        run_log(r, "remove group %s", gr->name);
        (void)rf_sim_fleet_remove_group(r->fleet, (uint32_t)via, gr->name);
        gr->removed = true;
        if (r->rec != NULL && gr->id != 0)
            (void)rf_rec_group_removed(r->rec, (int64_t)gr->id, rf_sim_fleet_now(r->fleet));
    }
}

void run_timeline_fire(rf_sim_runner *r, uint32_t i)
{
    run_inst *in = &r->insts[i];
    const rf_scn_event *e = &r->scn->events[in->event];
    switch (e->kind) {
    case RF_SCN_EV_PARTITION:
    case RF_SCN_EV_CUT:
    case RF_SCN_EV_FLAP:
    case RF_SCN_EV_CLOG:
        fire_net(r, in, e);
        break;
    case RF_SCN_EV_NETWORK:
        fire_network(r, in, e);
        break;
    case RF_SCN_EV_HEAL:
        fire_heal(r, e);
        break;
    case RF_SCN_EV_CRASH:
    case RF_SCN_EV_REMOVE_NODE:
    case RF_SCN_EV_ADD_NODE:
    case RF_SCN_EV_ACTIVATE:
    case RF_SCN_EV_DEACTIVATE:
        fire_node(r, in, e);
        break;
    case RF_SCN_EV_ADD_GROUP:
    case RF_SCN_EV_REMOVE_GROUP:
        fire_group(r, e);
        break;
    case RF_SCN_EV_COMMAND:
    case RF_SCN_EV_QUERY: {
        int g = run_group_by_name(r, e->group.names.prefix);
        int32_t n = e->node >= 0 ? e->node : pick_random(r, PICK_LIVE);
        if (g >= 0)
            (void)run_op_issue(r, (uint32_t)g, UINT32_MAX, in->event, n, e->op,
                               e->kind == RF_SCN_EV_QUERY);
        break;
    }
    default:
        ASSERT(false); /* run_check_support refused it */
    }
    bool node_change = e->kind == RF_SCN_EV_ADD_NODE || e->kind == RF_SCN_EV_REMOVE_NODE ||
                       e->kind == RF_SCN_EV_ACTIVATE || e->kind == RF_SCN_EV_DEACTIVATE;
    if (e->label[0] != '\0')
        run_expect_label(r, e->label, node_change && !in->skipped,
                         node_change ? r->last_moves_min : -1);
    if (in->for_ns > 0 && !in->skipped) {
        int rc = rf_sim_engine_at(r->eng, in->at_ns + in->for_ns, RK_UNDO, 0, i, NULL);
        ASSERT(rc == RF_OK);
    }
}

void run_timeline_undo(rf_sim_runner *r, uint32_t i)
{
    run_inst *in = &r->insts[i];
    const rf_scn_event *e = &r->scn->events[in->event];
    if (e->kind == RF_SCN_EV_NETWORK) {
        rf_sim_fleet_net(r->fleet)->cfg = in->prev;
        fault_end(r, in);
        return;
    }
    if (!in->active)
        return; /* healed earlier */
    in->active = false;
    fault_end(r, in);
    run_net_apply(r);
    if (r->rec != NULL)
        run_rec_snapshot(r, "fault ends");
}

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

bool run_is_net_fault(rf_scn_event_kind k)
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
    if (e->kind == RF_SCN_EV_PAUSE) {
        for (uint32_t j = i + 1; j < r->n_insts; j++)
            if (r->scn->events[r->insts[j].event].kind == RF_SCN_EV_RESUME)
                return r->insts[j].at_ns;
        return r->scn->run_ns;
    }
    if (e->kind == RF_SCN_EV_DISK)
        return r->scn->run_ns; /* no line undoes a disk fault */
    if (!run_is_net_fault(e->kind))
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

typedef run_pick pick_kind;

static bool pick_ok(const rf_sim_runner *r, uint32_t i, pick_kind k)
{
    if (k == PICK_CRASHED)
        return i < r->n_nodes && !r->nodes[i].up && !r->nodes[i].removed;
    if (k == PICK_DISK)
        return i < r->n_nodes && !r->nodes[i].removed;
    if (!run_node_live(r, i))
        return false;
    if (k == PICK_ACTIVE)
        return r->nodes[i].active;
    if (k == PICK_INACTIVE)
        return !r->nodes[i].active;
    if (k == PICK_RUNNING)
        return !r->nodes[i].paused;
    if (k == PICK_PAUSED)
        return r->nodes[i].paused;
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

int32_t run_resolve(rf_sim_runner *r, const rf_scn_event *e, int32_t node, run_pick k)
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

int32_t run_resolve_live(rf_sim_runner *r, const rf_scn_event *e, int32_t node)
{
    return run_resolve(r, e, node, PICK_LIVE);
}

/* A live active node other than self to join through, or -1 (bootstrap). */
int32_t run_via(const rf_sim_runner *r, uint32_t self)
{
    for (uint32_t i = 0; i < r->n_nodes; i++)
        if (i != self && pick_ok(r, i, PICK_ACTIVE))
            return (int32_t)i;
    return -1;
}

/* The node a node activated on the timeline joins through: a live active
 * one, else an active one that is down (crashed, or its disk failed): the
 * join then waits for it or fails, as a join through a seed node that is
 * down does. Never -1 while the cluster exists: that would bootstrap a
 * second cluster beside it (fuzz seed 577: every node down when one was
 * added). */
static int32_t join_via(const rf_sim_runner *r, uint32_t self)
{
    int32_t via = run_via(r, self);
    for (uint32_t i = 0; i < r->n_nodes && via < 0; i++)
        if (i != self && r->nodes[i].active && !r->nodes[i].removed)
            via = (int32_t)i;
    return via;
}

/* The minimal member additions that changing node `idx` to `active`
 * forces on the placement of every group (rf_placement_added_members over
 * the metadata's active nodes before and after), or -1 when unknown. */
int64_t run_minimal_moves(rf_sim_runner *r, uint32_t idx, bool active)
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

void run_node_event(rf_sim_runner *r, const rf_scn_event *e, uint32_t idx, rf_rec_node_kind kind,
                    int64_t moves_min)
{
    run_log(r, "%s %s", rf_rec_node_kind_name(kind), r->scn->nodes[idx].name);
    if (r->rec != NULL) {
        int64_t id = RF_REC_NONE;
        (void)rf_rec_node_event(r->rec, rf_sim_fleet_now(r->fleet), (int64_t)idx + 1, kind,
                                moves_min, e->label[0] ? e->label : NULL, &id);
        r->last_node_event = id;
        const rf_meta *m = rf_sim_fleet_meta(r->fleet);
        r->cause_epoch = m != NULL ? rf_meta_nodes_epoch(m) : 0;
    }
    r->last_moves_min = moves_min;
}

static void fire_node(rf_sim_runner *r, run_inst *in, const rf_scn_event *e)
{
    pick_kind k = e->kind == RF_SCN_EV_ACTIVATE || e->kind == RF_SCN_EV_ADD_NODE ? PICK_INACTIVE
                  : e->kind == RF_SCN_EV_DEACTIVATE                              ? PICK_ACTIVE
                                                                                 : PICK_LIVE;
    int32_t n = run_resolve(r, e, e->node, k);
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
        run_node_event(r, e, idx, crash ? RF_REC_NODE_CRASH : RF_REC_NODE_REMOVE,
                   r->nodes[idx].active ? run_minimal_moves(r, idx, false) : -1);
        if (crash) {
            /* Until its `for` runs out, a `restart`, or the end of the run. */
            run_fault_begin(r, in, r->scn->nodes[idx].name, in->for_ns > 0 ? NULL : "no restart");
            in->active = true;
        }
        rf_sim_fleet_crash(r->fleet, idx);
        r->nodes[idx].up = false;
        r->nodes[idx].paused = false;
        for (uint32_t i = 0; i < r->n_insts; i++)
            if (r->insts[i].active && r->insts[i].node == n &&
                r->scn->events[r->insts[i].event].kind == RF_SCN_EV_PAUSE) {
                r->insts[i].active = false; /* a crash ends the pause */
                run_fault_end(r, &r->insts[i]);
            }
        r->nodes[idx].removed = !crash;
        break;
    }
    case RF_SCN_EV_ADD_NODE:
    case RF_SCN_EV_ACTIVATE: {
        bool add = e->kind == RF_SCN_EV_ADD_NODE;
        bool activate = !add || !r->scn->nodes[idx].inactive;
        run_node_event(r, e, idx, add ? RF_REC_NODE_ADD : RF_REC_NODE_ACTIVATE,
                   activate ? run_minimal_moves(r, idx, true) : -1);
        if (activate) {
            (void)rf_sim_fleet_activate(r->fleet, idx, r->scn->zones[r->scn->nodes[idx].zone],
                                        join_via(r, idx));
            r->nodes[idx].active = true;
        }
        break;
    }
    case RF_SCN_EV_DEACTIVATE:
        run_node_event(r, e, idx, RF_REC_NODE_DEACTIVATE, run_minimal_moves(r, idx, false));
        (void)rf_sim_fleet_deactivate(r->fleet, idx);
        r->nodes[idx].active = false;
        break;
    default:
        ASSERT(false);
    }
    if (r->rec != NULL)
        run_rec_snapshot(r, e->label[0] ? e->label : r->scn->nodes[idx].name);
}

/* pause, resume and drift: faults of a node's process and clock. */
static void fire_process(rf_sim_runner *r, run_inst *in, const rf_scn_event *e)
{
    pick_kind k = e->kind == RF_SCN_EV_RESUME ? PICK_PAUSED
                  : e->kind == RF_SCN_EV_PAUSE ? PICK_RUNNING
                                               : PICK_LIVE;
    int32_t n = run_resolve(r, e, e->node, k);
    if (n < 0) {
        in->skipped = true;
        run_log(r, "skipped: no node fits");
        return;
    }
    in->node = n;
    uint32_t idx = (uint32_t)n;
    const char *name = r->scn->nodes[idx].name;
    if (e->kind == RF_SCN_EV_DRIFT) {
        char detail[48];
        in->prev_ppm = r->nodes[idx].drift_ppm;
        r->nodes[idx].drift_ppm = e->drift_ppm;
        rf_sim_fleet_drift(r->fleet, idx, e->drift_ppm);
        snprintf(detail, sizeof detail, "%+dppm", e->drift_ppm);
        run_fault_begin(r, in, name, detail);
        if (in->for_ns == 0)
            run_fault_end(r, in); /* a lasting change of the clock's rate */
        return;
    }
    bool pause = e->kind == RF_SCN_EV_PAUSE;
    rf_sim_fleet_pause(r->fleet, idx, pause);
    r->nodes[idx].paused = pause;
    run_node_event(r, e, idx, pause ? RF_REC_NODE_PAUSE : RF_REC_NODE_RESUME, -1);
    if (pause) {
        in->active = true;
        run_fault_begin(r, in, name, NULL);
    } else {
        for (uint32_t i = 0; i < r->n_insts; i++) {
            run_inst *p = &r->insts[i];
            if (p->active && p->node == n && r->scn->events[p->event].kind == RF_SCN_EV_PAUSE) {
                p->active = false;
                run_fault_end(r, p);
            }
        }
    }
    if (r->rec != NULL)
        run_rec_snapshot(r, e->label[0] ? e->label : name);
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

/* A node lost (removed, or crashed with no `for`) by a line timed before
 * the setup ended waits until the header's groups have their replicas (at
 * most RUN_SETUP_NS_MAX more): a group still growing from one voter to
 * three has two, and losing one of them loses its majority for good, which
 * no scenario means by a loss timed before its cluster even stood (fuzz
 * seed 608495). True when the line is put off. */
static bool loss_waits_for_growth(rf_sim_runner *r, uint32_t i, const run_inst *in,
                                  const rf_scn_event *e)
{
    bool loss = e->kind == RF_SCN_EV_REMOVE_NODE || (e->kind == RF_SCN_EV_CRASH && in->for_ns == 0);
    uint64_t now = rf_sim_fleet_now(r->fleet);
    if (!loss || in->at_ns >= r->setup_end_ns || now >= r->setup_end_ns + RUN_SETUP_NS_MAX ||
        rf_sim_fleet_converged(r->fleet))
        return false;
    int rc = rf_sim_engine_after(r->eng, RUN_GROWN_POLL_NS, RK_TIMELINE, 0, i, NULL);
    ASSERT(rc == RF_OK);
    return true;
}

void run_timeline_fire(rf_sim_runner *r, uint32_t i)
{
    run_inst *in = &r->insts[i];
    const rf_scn_event *e = &r->scn->events[in->event];
    if (loss_waits_for_growth(r, i, in, e))
        return;
    switch (e->kind) {
    case RF_SCN_EV_PARTITION:
    case RF_SCN_EV_CUT:
    case RF_SCN_EV_FLAP:
    case RF_SCN_EV_CLOG:
        run_fire_net(r, in, e);
        break;
    case RF_SCN_EV_NETWORK:
        run_fire_network(r, in, e);
        break;
    case RF_SCN_EV_HEAL:
        run_fire_heal(r, e);
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
    case RF_SCN_EV_PAUSE:
    case RF_SCN_EV_RESUME:
    case RF_SCN_EV_DRIFT:
        fire_process(r, in, e);
        break;
    case RF_SCN_EV_RESTART:
        run_fire_restart(r, in, e);
        break;
    case RF_SCN_EV_DISK:
        run_fire_disk(r, in, e);
        break;
    case RF_SCN_EV_COMMAND:
    case RF_SCN_EV_QUERY: {
        int g = run_group_by_name(r, e->group.names.prefix);
        int32_t n = e->node >= 0 ? e->node : pick_random(r, PICK_RUNNING);
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
        /* A fault holds for its whole stated time from when it really began:
         * a line timed before the setup ended starts late, and ends late. */
        int rc = rf_sim_engine_after(r->eng, in->for_ns, RK_UNDO, 0, i, NULL);
        ASSERT(rc == RF_OK);
    }
}

void run_timeline_undo(rf_sim_runner *r, uint32_t i)
{
    run_inst *in = &r->insts[i];
    const rf_scn_event *e = &r->scn->events[in->event];
    if (e->kind == RF_SCN_EV_NETWORK) {
        in->active = false;
        run_net_quality(r);
        run_fault_end(r, in);
        return;
    }
    if (e->kind == RF_SCN_EV_DRIFT && in->node >= 0 && run_node_live(r, (uint32_t)in->node)) {
        r->nodes[in->node].drift_ppm = in->prev_ppm;
        rf_sim_fleet_drift(r->fleet, (uint32_t)in->node, in->prev_ppm);
        run_fault_end(r, in);
        return;
    }
    if (e->kind == RF_SCN_EV_CRASH || e->kind == RF_SCN_EV_DISK) {
        run_undo_node(r, in, e);
        return;
    }
    if (e->kind == RF_SCN_EV_PAUSE && in->node >= 0) {
        if (!in->active)
            return; /* resumed earlier */
        in->active = false;
        rf_sim_fleet_pause(r->fleet, (uint32_t)in->node, false);
        r->nodes[in->node].paused = false;
        run_node_event(r, e, (uint32_t)in->node, RF_REC_NODE_RESUME, -1);
        run_fault_end(r, in);
        if (r->rec != NULL)
            run_rec_snapshot(r, "resume");
        return;
    }
    if (!in->active)
        return; /* healed earlier */
    in->active = false;
    run_fault_end(r, in);
    run_net_apply(r);
    if (r->rec != NULL)
        run_rec_snapshot(r, "fault ends");
}

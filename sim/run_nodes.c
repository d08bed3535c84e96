/* sim/run_nodes: restarts from durable state and disk faults on the scenario's timeline. */
#include <stdio.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/run_int.h"

/* What a scenario's disk fault means on the simulated disk (sim/simdisk.h).
 * `fail writes` and `fail syncs` fail every one; `full` keeps the disk at
 * the size it had when it filled; `flip bits P%` flips one bit of a read
 * with probability P (a transient fault: the store reads again before it
 * believes a bad checksum). */
static void disk_apply(rf_sim_runner *r, uint32_t idx)
{
    rf_simdisk_faults fl;
    memset(&fl, 0, sizeof fl);
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->n_insts; i++) {
        const run_inst *in = &r->insts[i];
        const rf_scn_event *e = &r->scn->events[in->event];
        if (!in->active || e->kind != RF_SCN_EV_DISK || in->node != (int32_t)idx)
            continue;
        n++;
        if (e->disk == RF_SCN_DISK_FAIL_WRITES)
            fl.write_fail_ppm = 1000000;
        else if (e->disk == RF_SCN_DISK_FAIL_SYNCS)
            fl.sync_fail_ppm = 1000000;
        else if (e->disk == RF_SCN_DISK_FULL)
            fl.capacity_bytes = fl.capacity_bytes == 0 || in->disk_bytes < fl.capacity_bytes
                                    ? in->disk_bytes
                                    : fl.capacity_bytes;
        else if (e->flip_ppm > fl.read_flip_ppm)
            fl.read_flip_ppm = e->flip_ppm;
    }
    r->nodes[idx].disk_faults = n;
    rf_sim_fleet_disk_faults(r->fleet, idx, &fl);
}

/* The node's crash lines end: a restart (or a removal) ends them. */
static void end_crashes(rf_sim_runner *r, uint32_t idx)
{
    for (uint32_t i = 0; i < r->n_insts; i++) {
        run_inst *in = &r->insts[i];
        if (in->active && in->node == (int32_t)idx &&
            r->scn->events[in->event].kind == RF_SCN_EV_CRASH) {
            in->active = false;
            run_fault_end(r, in);
        }
    }
}

/* Starts a down node from its disk. A failure while a disk fault is in
 * force on it leaves it down until the fault ends (a fleetd whose disk
 * fails stops, and its supervisor starts it again later); any other
 * failure fails the run: the durable state does not give the node back. */
static void try_restart(rf_sim_runner *r, const rf_scn_event *e, uint32_t idx)
{
    char why[RF_SIM_FLEET_FAILURE_TEXT_MAX];
    const char *name = r->scn->nodes[idx].name;
    if (r->nodes[idx].removed || !rf_sim_fleet_down(r->fleet, idx))
        return;
    int rc = rf_sim_fleet_restart(r->fleet, idx, why, sizeof why);
    if (rc != RF_OK && r->nodes[idx].disk_faults > 0) {
        run_log(r, "%s stays down until its disk fault ends: %s", name, why);
        return;
    }
    if (rc != RF_OK) {
        run_fail(r, "restart: %s", why);
        r->stop_now = true;
        return;
    }
    /* The harness told the restarted node and its peers what a transport
     * would: the runner's own hints start again from there. */
    rf_sim_net *net = rf_sim_fleet_net(r->fleet);
    for (uint32_t j = 0; j < r->n_nodes; j++) {
        bool cut = j != idx && net->cut_count[idx][j] > 0 && net->cut_count[j][idx] > 0;
        r->unreach[idx][j] = cut;
        r->unreach[j][idx] = cut;
    }
    r->nodes[idx].paused = false;
    /* A label names the `restart` line's moment, not a crash's or a fault's. */
    const char *label = e->kind == RF_SCN_EV_RESTART && e->label[0] ? e->label : NULL;
    run_log(r, "restart %s", name);
    if (r->rec != NULL) {
        (void)rf_rec_node_event(r->rec, rf_sim_fleet_now(r->fleet), (int64_t)idx + 1,
                                RF_REC_NODE_RESTART, -1, label, NULL);
        run_rec_snapshot(r, label != NULL ? label : name);
    }
}

void run_fire_restart(rf_sim_runner *r, run_inst *in, const rf_scn_event *e)
{
    /* A named running node is crashed and restarted at once; `random`
     * picks among the crashed ones. */
    int32_t n = e->node == RF_SCN_RANDOM_NODE ? run_resolve(r, e, e->node, PICK_CRASHED)
                                              : run_resolve(r, e, e->node, PICK_DISK);
    if (n < 0) {
        in->skipped = true;
        run_log(r, "skipped: no node fits");
        return;
    }
    in->node = n;
    uint32_t idx = (uint32_t)n;
    if (run_node_live(r, idx)) {
        run_node_event(r, e, idx, RF_REC_NODE_CRASH, -1);
        rf_sim_fleet_crash(r->fleet, idx);
    }
    end_crashes(r, idx);
    r->nodes[idx].up = true;
    try_restart(r, e, idx);
}

void run_fire_disk(rf_sim_runner *r, run_inst *in, const rf_scn_event *e)
{
    static const char *what[] = {"fail writes", "fail syncs", "full", "flip bits"};
    int32_t n = run_resolve(r, e, e->node, PICK_DISK);
    if (n < 0) {
        in->skipped = true;
        run_log(r, "skipped: no node fits");
        return;
    }
    in->node = n;
    uint32_t idx = (uint32_t)n;
    in->disk_bytes = rf_sim_fleet_disk_used(r->fleet, idx);
    if (in->disk_bytes == 0)
        in->disk_bytes = 1; /* 0 would mean no limit */
    in->active = true;
    char detail[48];
    if (e->disk == RF_SCN_DISK_FLIP_BITS)
        snprintf(detail, sizeof detail, "flip bits %u ppm", e->flip_ppm);
    else
        snprintf(detail, sizeof detail, "%s", what[e->disk]);
    run_fault_begin(r, in, r->scn->nodes[idx].name, detail);
    disk_apply(r, idx);
    if (r->rec != NULL)
        run_rec_snapshot(r, e->label[0] ? e->label : "disk fault");
}

void run_undo_node(rf_sim_runner *r, run_inst *in, const rf_scn_event *e)
{
    if (!in->active || in->node < 0)
        return; /* restarted earlier, or skipped */
    uint32_t idx = (uint32_t)in->node;
    in->active = false;
    run_fault_end(r, in);
    if (e->kind == RF_SCN_EV_DISK)
        disk_apply(r, idx);
    else
        r->nodes[idx].up = true; /* the crash's `for` ran out */
    /* A node down by a crash or a failed store comes back once no crash
     * keeps it down, even under a disk fault (recovery reads through
     * flipped bits; a store that fails again takes it down again); a
     * restart refused under a disk fault waits for the fault's end. */
    if (r->nodes[idx].up && !r->nodes[idx].removed)
        try_restart(r, e, idx);
}

void run_on_down(void *ctx, uint32_t index, int status, const char *why)
{
    rf_sim_runner *r = ctx;
    run_log(r, "%s goes down: %s (%s)", r->scn->nodes[index].name, why, rf_errname(status));
    if (r->rec != NULL)
        (void)rf_rec_node_event(r->rec, rf_sim_fleet_now(r->fleet), (int64_t)index + 1,
                                RF_REC_NODE_CRASH, -1, "store failed", NULL);
}

/* sim/fleet_disk: each fleet node's simulated disk and rf_store: group commit, compaction, crashes, restarts, disk faults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/fleet_int.h"

static uint64_t segment_bytes(const rf_sim_fleet *f)
{
    return f->cfg.segment_bytes != 0 ? f->cfg.segment_bytes : RF_SIM_FLEET_SEGMENT_BYTES;
}

static rf_store_config store_config(const rf_sim_fleet *f)
{
    /* No tail cache: every read (a restore, a compaction) goes to the disk,
     * its faults and its checksums. */
    rf_store_config sc = {.segment_bytes = segment_bytes(f), .cache_bytes = 0, .groups_max = 0};
    return sc;
}

int fleet_disk_open(rf_sim_fleet *f, uint32_t index)
{
    fleet_node *fn = &f->nodes[index];
    rf_pcg32 rng;
    rf_sim_engine_stream(&f->eng, &rng, "simdisk", (uint64_t)index + 1);
    rf_sim_engine_stream(&f->eng, &fn->crash_rng, "crash", (uint64_t)index + 1);
    fn->disk = rf_simdisk_new(&rng);
    return fn->disk == NULL ? RF_ENOMEM : RF_OK;
}

static void queue_clear(fleet_node *fn)
{
    for (uint32_t k = 0; k < fn->q_len; k++) {
        rf_batch_reset(&fn->q[k]->b);
        rf_node_store_buf_release(&fn->q[k]->buf);
        fn->q[k]->token = 0;
        fn->q[k]->n_ws = 0;
    }
    fn->q_len = 0;
}

/* Ends the I/O in flight on the harness's side (teardown, crash). */
static void io_abandon(fleet_node *fn)
{
    bool empty = fn->io == FLEET_IO_COMMIT && rf_batch_empty(&fn->q[0]->b);
    if (fn->io != FLEET_IO_NONE && !empty) {
        (void)rf_store_io_run(fn->st);
        (void)rf_store_commit_end(fn->st);
    }
    fn->io = FLEET_IO_NONE;
}

void fleet_disk_close(rf_sim_fleet *f, uint32_t index)
{
    fleet_node *fn = &f->nodes[index];
    if (fn->st != NULL) {
        io_abandon(fn);
        rf_store_close(fn->st);
        fn->st = NULL;
    }
    queue_clear(fn);
    /* Spare batches live past q_len up to q_cap. */
    for (uint32_t k = 0; k < fn->q_cap; k++) {
        rf_batch_close(&fn->q[k]->b);
        rf_node_store_buf_close(&fn->q[k]->buf);
        free(fn->q[k]->ws);
        free(fn->q[k]);
    }
    free(fn->q);
    fn->q = NULL;
    fn->q_cap = 0;
    rf_simdisk_free(fn->disk);
    fn->disk = NULL;
    fleet_durable_free(fn);
}

/* A new empty batch at the end of the queue, NULL when out of memory. */
static fleet_batch *queue_push(fleet_node *fn)
{
    if (fn->q_len == fn->q_cap) {
        fleet_batch **q = realloc(fn->q, ((size_t)fn->q_cap + 1) * sizeof *q);
        if (q == NULL)
            return NULL;
        fn->q = q;
        fleet_batch *b = calloc(1, sizeof *b);
        if (b == NULL)
            return NULL;
        rf_batch_init(&b->b);
        rf_node_store_buf_init(&b->buf);
        fn->q[fn->q_cap++] = b;
    }
    return fn->q[fn->q_len++];
}

/* Drops the oldest batch (its commit ended); it becomes a spare. */
static void queue_pop(fleet_node *fn)
{
    fleet_batch *b = fn->q[0];
    rf_batch_reset(&b->b);
    rf_node_store_buf_release(&b->buf);
    b->token = 0;
    b->n_ws = 0;
    memmove(&fn->q[0], &fn->q[1], (size_t)(fn->q_len - 1) * sizeof *fn->q);
    fn->q[--fn->q_len] = b;
}

/* The batch a node batch goes into: the newest one unless it is being
 * committed, is large, or the node batch carries a snapshot and must start
 * an empty one (rf_node_store.h). */
static fleet_batch *accumulating(const rf_sim_fleet *f, fleet_node *fn, bool snapshot)
{
    /* A batch that grew past a quarter of a segment is sealed, so that one
     * commit stays well inside a segment (the store refuses one that does
     * not fit). */
    size_t soft = (size_t)(segment_bytes(f) / 4);
    bool in_flight_only = fn->q_len == 1 && fn->io == FLEET_IO_COMMIT;
    if (fn->q_len > 0 && !in_flight_only) {
        fleet_batch *b = fn->q[fn->q_len - 1];
        if (!(snapshot && !rf_batch_empty(&b->b)) && rf_batch_bytes(&b->b) < soft)
            return b;
    }
    return queue_push(fn);
}

/* The harness takes the node down by itself: its store failed. */
static void store_down(rf_sim_fleet *f, uint32_t index, int status, const char *why)
{
    fleet_node *fn = &f->nodes[index];
    f->stats.store_failures++;
    rf_sim_fleet_crash(f, index);
    fn->store_failed = true;
    if (f->hooks.down != NULL)
        f->hooks.down(f->hooks.ctx, index, status, why);
}

bool fleet_disk_add(rf_sim_fleet *f, uint32_t index, const rf_node_batch *b)
{
    fleet_node *fn = &f->nodes[index];
    fleet_batch *acc = accumulating(f, fn, rf_node_batch_has_snapshot(b));
    int rc = acc == NULL ? RF_ENOMEM : rf_node_store_add(&acc->b, &acc->buf, b);
    if (rc != RF_OK) {
        char why[RF_SIM_FLEET_FAILURE_TEXT_MAX];
        snprintf(why, sizeof why, "n%u: a node batch cannot be written to the store: %s",
                 index + 1, rf_errname(rc));
        fleet_fail(f, "%s", why);
        store_down(f, index, rc, why);
        return false;
    }
    if (!fleet_durable_note(acc, b))
        fn->dur_lost = true;
    ASSERT(b->persist_token > acc->token); /* tokens grow */
    acc->token = b->persist_token;
    return true;
}

static void compact_kick(rf_sim_fleet *f, uint32_t index)
{
    fleet_node *fn = &f->nodes[index];
    bool started = false;
    int rc = rf_store_compact_begin(fn->st, &started);
    if (rc == RF_ECHECKSUM || rc == RF_EIO)
        return; /* a bad read, caught by its checksum: compaction waits for later */
    if (rc != RF_OK) {
        fleet_fail(f, "n%u: store compaction failed: %s (%s)", index + 1, rf_errname(rc),
                   rf_store_message(fn->st));
        return;
    }
    if (!started)
        return;
    fn->io = FLEET_IO_COMPACT;
    rc = rf_sim_engine_after(&f->eng, f->cfg.disk_ns, FK_DISK, index, fn->incarnation, NULL);
    ASSERT(rc == RF_OK);
}

void fleet_disk_kick(rf_sim_fleet *f, uint32_t index)
{
    fleet_node *fn = &f->nodes[index];
    if (fn->node == NULL || fn->st == NULL || fn->io != FLEET_IO_NONE)
        return;
    if (fn->q_len == 0) {
        compact_kick(f, index);
        return;
    }
    fleet_batch *b = fn->q[0];
    bool empty = rf_batch_empty(&b->b);
    int rc = empty ? RF_OK : rf_store_commit_begin(fn->st, &b->b);
    if (rc != RF_OK) {
        /* The node wrote something no store accepts (an index gap, an
         * overlap without truncation...): a bug, reported. */
        char why[RF_SIM_FLEET_FAILURE_TEXT_MAX];
        snprintf(why, sizeof why, "n%u: the store refused a node batch: %s (%s; %zu bytes, %zu records)",
                 index + 1, rf_errname(rc), rf_store_message(fn->st), rf_batch_bytes(&b->b),
                 rf_batch_records(&b->b));
        fleet_fail(f, "%s", why);
        store_down(f, index, rc, why);
        return;
    }
    fn->io = FLEET_IO_COMMIT;
    rc = rf_sim_engine_after(&f->eng, empty ? 0 : f->cfg.disk_ns, FK_DISK, index, fn->incarnation,
                             NULL);
    ASSERT(rc == RF_OK);
}

void fleet_on_disk(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    rf_sim_fleet *f = ctx;
    (void)e;
    fleet_node *fn = &f->nodes[ev->node];
    if (fn->node == NULL || ev->arg != fn->incarnation || fn->io == FLEET_IO_NONE)
        return; /* the node crashed meanwhile */
    if (fleet_held(f, ev))
        return;
    int io = fn->io;
    bool empty = io == FLEET_IO_COMMIT && rf_batch_empty(&fn->q[0]->b);
    int rc = RF_OK;
    if (!empty) {
        (void)rf_store_io_run(fn->st);
        rc = rf_store_commit_end(fn->st);
    }
    fn->io = FLEET_IO_NONE;
    if (rc != RF_OK) {
        /* rf_store.h "Failures": read-only from now on, and nothing of the
         * batch is acknowledged (it may or may not be on the disk). A
         * fleetd stops; so does this node. */
        if (io == FLEET_IO_COMMIT)
            fleet_durable_crash(fn, fn->q[0]);
        char why[RF_SIM_FLEET_FAILURE_TEXT_MAX];
        snprintf(why, sizeof why, "n%u: a %s failed: %s (%s)", ev->node + 1,
                 io == FLEET_IO_COMMIT ? "commit" : "compaction", rf_errname(rc),
                 rf_store_message(fn->st));
        store_down(f, ev->node, rc, why);
        return;
    }
    if (io == FLEET_IO_COMPACT) {
        f->stats.compactions++;
        fleet_disk_kick(f, ev->node);
        return;
    }
    uint64_t token = fn->q[0]->token;
    fleet_durable_apply(fn, fn->q[0]);
    queue_pop(fn);
    f->stats.commits++;
    fn->commits++;
    if (token != 0)
        rf_node_persisted(fn->node, token);
    fleet_drain(f, ev->node); /* starts the next commit too */
}

void fleet_disk_crash(rf_sim_fleet *f, uint32_t index)
{
    fleet_node *fn = &f->nodes[index];
    if (fn->st != NULL) {
        bool empty = fn->io == FLEET_IO_COMMIT && rf_batch_empty(&fn->q[0]->b);
        if (fn->io != FLEET_IO_NONE && !empty) {
            /* The power goes out during the I/O: one of its first
             * operations does not complete (an append keeps a random
             * prefix), or it all went through but was not acknowledged. */
            uint32_t k = rf_pcg32_bounded(&fn->crash_rng, 4);
            rf_simdisk_crash_at(fn->disk, rf_simdisk_ops(fn->disk) + k);
        }
        fleet_durable_crash(fn, fn->io == FLEET_IO_COMMIT ? fn->q[0] : NULL);
        io_abandon(fn);
    }
    rf_simdisk_crash(fn->disk);
    if (fn->st != NULL) {
        rf_store_close(fn->st); /* closes files; nothing of it reaches the disk */
        fn->st = NULL;
    }
    rf_simdisk_set_faults(fn->disk, &fn->faults); /* a fault outlives the crash */
    queue_clear(fn);
}

/* ---- crashes and restarts ---------------------------------------------------------- */

void rf_sim_fleet_crash(rf_sim_fleet *f, uint32_t index)
{
    if (index >= f->cfg.nodes || f->nodes[index].node == NULL)
        return;
    fleet_node *fn = &f->nodes[index];
    rf_node_close(fn->node);
    fn->node = NULL;
    fn->incarnation++; /* its ticks, disk completions and messages to it are void */
    fleet_disk_crash(f, index);
    for (uint32_t k = 0; k < fn->n_held; k++)
        if (fn->held[k].kind == FK_DELIVER)
            fleet_packet_free(f, fn->held[k].ptr);
    fn->n_held = 0;
    fn->paused = false;
    f->stats.crashes++;
    fleet_replies_down(f, index);
    for (uint32_t i = 0; i < f->cfg.nodes && f->cfg.hint_unreachable; i++) {
        if (f->nodes[i].node == NULL)
            continue;
        rf_node_peer_unreachable(f->nodes[i].node, (uint64_t)index + 1);
        fleet_drain(f, i);
    }
}

void rf_sim_fleet_kill(rf_sim_fleet *f, uint32_t index)
{
    rf_sim_fleet_crash(f, index);
}

/* A restarted node knows nothing of its peers: it is told of those it
 * cannot reach (down, or cut off both ways), and the others learn it is
 * back unless cut off from it, as a transport reconnecting would. */
static void restart_hints(rf_sim_fleet *f, uint32_t index)
{
    rf_node *self = f->nodes[index].node;
    for (uint32_t i = 0; i < f->cfg.nodes && f->cfg.hint_unreachable; i++) {
        if (i == index)
            continue;
        rf_node *peer = f->nodes[i].node;
        bool cut = f->net.cut_count[i][index] > 0 && f->net.cut_count[index][i] > 0;
        if (peer == NULL || cut)
            rf_node_peer_unreachable(self, (uint64_t)i + 1);
        if (peer != NULL && !cut) {
            rf_node_peer_reachable(peer, (uint64_t)index + 1);
            fleet_drain(f, i);
        }
    }
}

int rf_sim_fleet_restart(rf_sim_fleet *f, uint32_t index, char *why, size_t cap)
{
    if (index >= f->cfg.nodes || f->nodes[index].node != NULL)
        return RF_EINVAL;
    fleet_node *fn = &f->nodes[index];
    ASSERT(fn->st == NULL && fn->io == FLEET_IO_NONE && fn->q_len == 0);
    rf_store_config sc = store_config(f);
    rf_store_recovery info;
    memset(&info, 0, sizeof info);
    rf_fs fs = rf_simdisk_fs(fn->disk);
    int rc = rf_store_open(&fn->st, &fs, &sc, &info);
    if (rc != RF_OK) {
        snprintf(why, cap, "n%u: its store refused to open: %s: %s", index + 1, rf_errname(rc),
                 info.message);
        fn->st = NULL;
        return rc;
    }
    rf_node_config nc = f->cfg.node;
    nc.node_id = (uint64_t)index + 1;
    nc.name = fn->name;
    nc.seed = f->cfg.seed ^ (fn->incarnation * 0x9E3779B97F4A7C15ull);
    rf_node_restore_info ri;
    memset(&ri, 0, sizeof ri);
    rc = rf_node_restore(&nc, fn->st, &fn->node, &ri);
    if (rc == RF_ENOTFOUND)
        rc = rf_node_create(&nc, &fn->node);
    if (rc != RF_OK) {
        snprintf(why, cap, "n%u: restoring it from its store failed: %s: %s", index + 1,
                 rf_errname(rc), ri.message);
        fn->node = NULL;
        rf_store_close(fn->st);
        fn->st = NULL;
        return rc;
    }
    fn->store_failed = false;
    fleet_durable_restarted(f, index);
    if (fn->incarnation > 0) {
        f->stats.restarts++;
        fn->restarts++;
        restart_hints(f, index);
    }
    if (f->check != NULL)
        rf_sim_fleet_check_restart(f->check, index, fn->node);
    /* Ticks start staggered so nodes do not move in lockstep. */
    fleet_tick_start(f, index, 1 + (f->cfg.tick_ns * index) / f->cfg.nodes);
    fleet_drain(f, index);
    return RF_OK;
}

bool rf_sim_fleet_down(const rf_sim_fleet *f, uint32_t index)
{
    return index < f->cfg.nodes && f->nodes[index].node == NULL;
}

bool rf_sim_fleet_store_failed(const rf_sim_fleet *f, uint32_t index)
{
    return index < f->cfg.nodes && f->nodes[index].store_failed;
}

void rf_sim_fleet_disk_faults(rf_sim_fleet *f, uint32_t index, const rf_simdisk_faults *faults)
{
    if (index >= f->cfg.nodes)
        return;
    f->nodes[index].faults = *faults;
    rf_simdisk_set_faults(f->nodes[index].disk, faults);
}

uint64_t rf_sim_fleet_disk_used(const rf_sim_fleet *f, uint32_t index)
{
    return index < f->cfg.nodes ? rf_simdisk_used_bytes(f->nodes[index].disk) : 0;
}

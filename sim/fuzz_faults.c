/* fuzz_faults: a drawn world's fault phase: network, process, clock and disk faults, churn, then the heal. */
#include "base/rf_assert.h"
#include "sim/fuzz_world_int.h"

#define PARTITION_NS_MAX (10 * SEC)
/* With a node lost for good, faults never keep nodes apart this long in a
 * row (sim/fuzz_cuts.h): the purge window less the time to hear a node
 * again once they end (heartbeats of at most 200 ms, latency, loss). */
#define CUT_SPAN_NS_MAX (PURGE_NS - 2 * SEC)

/* Notes the line written since `from` as one that may keep nodes apart
 * over [t, t + hold). */
static void note_cut(world *w, size_t from, uint64_t t, uint64_t hold, rf_fuzz_kind k)
{
    ASSERT(w->n_cuts < RF_FUZZ_FAULTS_MAX);
    w->cuts[w->n_cuts++] = (rf_fuzz_cut){.from = from, .to = w->len, .t0 = t, .t1 = t + hold,
                                         .kind = (uint32_t)k};
}

/* The nodes present at the start (0-based), in a drawn order. */
static void shuffle_nodes(world *w, uint32_t order[RF_FUZZ_NODES_MAX])
{
    uint32_t n = w->p->nodes;
    for (uint32_t i = 0; i < n; i++)
        order[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = (uint32_t)range(w, 0, i), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* Splits the nodes present at the start into 2 or 3 non-empty sets. */
static void put_sets(world *w, const char *sep)
{
    uint32_t n = w->p->nodes, order[RF_FUZZ_NODES_MAX];
    shuffle_nodes(w, order);
    uint32_t sets = n >= 3 && coin(w, 3) && sep[0] == '|' ? 3 : 2;
    uint32_t cut1 = (uint32_t)range(w, 1, n - sets + 1);
    uint32_t cut2 = sets == 3 ? (uint32_t)range(w, cut1 + 1, n - 1) : n;
    for (uint32_t i = 0; i < n; i++) {
        if (i == cut1 || (sets == 3 && i == cut2))
            put(w, " %s", sep);
        put(w, " n%u", order[i] + 1);
    }
}

static uint32_t some_node(world *w)
{
    return (uint32_t)range(w, 1, w->p->nodes);
}

/* A node still there that no fault has taken for good (1-based), or 0. */
static uint32_t live_node(world *w)
{
    uint32_t n = w->active, start = (uint32_t)range(w, 0, n - 1);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = (start + k) % n;
        if (!w->gone[i])
            return i + 1;
    }
    return 0;
}

/* A hold of the kind's drawn minimum to three times it, within room. */
static uint64_t draw_hold(world *w, uint64_t room, uint64_t hold_min)
{
    uint64_t hold = range(w, hold_min, 3 * hold_min);
    hold = hold > room ? room : hold;
    hold = hold > PARTITION_NS_MAX ? PARTITION_NS_MAX : hold;
    return hold < MS ? MS : hold;
}

/* One fault of kind k at t lasting at most room; returns false when the
 * world cannot take it (it is then not written). */
static bool draw_fault(world *w, rf_fuzz_kind k, uint64_t t, uint64_t room, uint64_t hold_min)
{
    uint64_t hold = draw_hold(w, room, hold_min);
    uint32_t n = w->p->nodes;
    size_t from = w->len;
    put(w, "at ");
    put_ms(w, t);
    switch (k) {
    case RF_FUZZ_K_PARTITION:
        if (coin(w, 4))
            put(w, " partition random");
        else {
            put(w, " partition");
            put_sets(w, "|");
        }
        break;
    case RF_FUZZ_K_CUT:
        put(w, " cut");
        put_sets(w, "->");
        break;
    case RF_FUZZ_K_ISOLATE:
        if (coin(w, 3))
            put(w, " isolate random");
        else
            put(w, " isolate n%u", some_node(w));
        break;
    case RF_FUZZ_K_ZONE: put(w, " partition zone z%u", (unsigned)range(w, 1, w->zones)); break;
    case RF_FUZZ_K_FLAP:
        if (w->zones > 1 && coin(w, 2))
            put(w, " flap zone z%u", (unsigned)range(w, 1, w->zones));
        else {
            put(w, " flap");
            put_sets(w, "|");
        }
        put(w, " every ");
        put_ms(w, range(w, 200, 2000) * MS);
        break;
    case RF_FUZZ_K_CLOG: {
        uint32_t a = some_node(w), b = a % n + 1;
        put(w, " clog n%u%s n%u", a, coin(w, 2) ? " ->" : "", b);
        hold = hold > 3 * SEC ? 3 * SEC : hold;
        break;
    }
    case RF_FUZZ_K_NETWORK:
        put(w, " network loss ");
        put_percent(w, (uint32_t)range(w, 0, 200000));
        put(w, " dup ");
        put_percent(w, (uint32_t)range(w, 0, 100000));
        if (coin(w, 2))
            put(w, " latency %" PRIu64 "ms jitter %" PRIu64 "ms", range(w, 1, 50), range(w, 0, 50));
        break;
    case RF_FUZZ_K_REORDER:
        put(w, " network reorder ");
        put_percent(w, (uint32_t)range(w, 1000, 200000));
        break;
    case RF_FUZZ_K_PAUSE: put(w, " pause n%u", some_node(w)); break;
    case RF_FUZZ_K_DRIFT:
        put(w, " drift n%u %+dppm", some_node(w), (int)range(w, 0, 40000) - 20000);
        break;
    default: UNREACHABLE();
    }
    put(w, " for ");
    put_ms(w, hold);
    put(w, "\n");
    if (k != RF_FUZZ_K_NETWORK && k != RF_FUZZ_K_REORDER && k != RF_FUZZ_K_DRIFT)
        note_cut(w, from, t, hold, k);
    return true;
}

static void put_crash_for(world *w, uint64_t t, uint32_t node, uint64_t hold, rf_fuzz_kind k)
{
    size_t from = w->len;
    put(w, "at ");
    put_ms(w, t);
    put(w, " crash n%u for ", node);
    put_ms(w, hold);
    put(w, "\n");
    note_cut(w, from, t, hold, k);
}

/* Restarts from durable state: one node, the leader of a group, a reboot
 * (`restart`: crashed and restarted at once), or 2 to all nodes at once (a
 * rack or the whole cluster losing power). Every crash ends within room,
 * by the end of the fault phase, so every node is back for the liveness
 * phase however many were down together. Returns the lines written (at
 * most lines_max, at least 1). */
static uint32_t draw_restart(world *w, uint64_t t, uint64_t room, uint64_t hold_min,
                             uint32_t lines_max)
{
    uint32_t shape = (uint32_t)range(w, 0, 5), order[RF_FUZZ_NODES_MAX];
    if (shape == 0) {
        put(w, "at ");
        put_ms(w, t);
        put(w, " restart n%u\n", some_node(w));
        return 1;
    }
    if (shape == 1) {
        size_t from = w->len;
        put(w, "at ");
        put_ms(w, t);
        put(w, " crash leader-of g%u for ", (unsigned)range(w, 1, w->p->groups));
        uint64_t hold = draw_hold(w, room, hold_min);
        put_ms(w, hold);
        put(w, "\n");
        note_cut(w, from, t, hold, RF_FUZZ_K_RESTART);
        return 1;
    }
    uint32_t count = shape == 2 ? (uint32_t)range(w, 2, w->p->nodes) : 1;
    count = count > lines_max ? lines_max : count;
    shuffle_nodes(w, order);
    for (uint32_t i = 0; i < count; i++)
        put_crash_for(w, t, order[i] + 1, draw_hold(w, room, hold_min), RF_FUZZ_K_RESTART);
    return count;
}

/* Disk faults on one node or on 2 to all of them (a bad batch of disks):
 * every write fails, every sync fails, the disk is full, or reads flip a
 * bit (0.01% to 1% of them). A node whose commit fails goes down and comes
 * back when the fault ends (sim/run_nodes.c); reads happen at recovery and
 * compaction, so a flipping disk's node may also crash within the fault,
 * its recovery then reading through the flips. Returns the lines written
 * (at most lines_max, at least 1). */
static uint32_t draw_disk(world *w, uint64_t t, uint64_t room, uint64_t hold_min,
                          uint32_t lines_max)
{
    static const char *const what[4] = {"fail writes", "fail syncs", "full", "flip bits"};
    uint64_t hold = draw_hold(w, room, hold_min);
    uint32_t fault = (uint32_t)range(w, 0, 3), flip_ppm = (uint32_t)range(w, 100, 10000);
    uint32_t count = coin(w, 4) ? (uint32_t)range(w, 2, w->p->nodes) : 1, order[RF_FUZZ_NODES_MAX];
    count = count > lines_max ? lines_max : count;
    shuffle_nodes(w, order);
    for (uint32_t i = 0; i < count; i++) {
        size_t from = w->len;
        put(w, "at ");
        put_ms(w, t);
        put(w, " disk n%u %s", order[i] + 1, what[fault]);
        if (fault == 3) {
            put(w, " ");
            put_percent(w, flip_ppm);
        }
        put(w, " for ");
        put_ms(w, hold);
        put(w, "\n");
        note_cut(w, from, t, hold, RF_FUZZ_K_DISK);
    }
    if (fault == 3 && count < lines_max && hold >= 2 * MS && coin(w, 2)) {
        uint64_t after = range(w, 0, hold / MS / 2) * MS;
        put_crash_for(w, t + after, order[0] + 1, range(w, 1, (hold - after) / MS) * MS,
                      RF_FUZZ_K_DISK);
        count++;
    }
    return count;
}

/* Churn: lines that change the set of nodes for good. */
static bool draw_churn(world *w, rf_fuzz_kind k, uint64_t t)
{
    uint32_t node;
    bool lossy = k == RF_FUZZ_K_CRASH || k == RF_FUZZ_K_LEAVE;
    /* At most one node lost for good. A lone loss leaves a majority of
     * every group of 3 or 5; beyond it, losses and drains together must
     * leave 3 active nodes, so a drain never waits on a dead member. */
    if (lossy && w->losses >= 1)
        return false;
    bool lone_loss = lossy && w->drains == 0;
    if ((lossy || k == RF_FUZZ_K_DEACTIVATE) && !lone_loss &&
        w->active < 3 + w->losses + w->drains + 1)
        return false;
    switch (k) {
    case RF_FUZZ_K_JOIN:
        if (w->nodes_all >= RF_FUZZ_NODES_MAX + 2)
            return false;
        w->nodes_all++;
        put(w, "at ");
        put_ms(w, t);
        put(w, " add node n%u zone z%u\n", w->nodes_all, (unsigned)range(w, 1, w->zones));
        return true;
    case RF_FUZZ_K_ACTIVATE:
        if (w->spare_next >= w->p->nodes)
            return false;
        put(w, "at ");
        put_ms(w, t);
        put(w, " activate n%u\n", ++w->spare_next);
        return true;
    case RF_FUZZ_K_CRASH: case RF_FUZZ_K_LEAVE: case RF_FUZZ_K_DEACTIVATE:
        node = live_node(w);
        if (node == 0)
            return false;
        w->gone[node - 1] = true;
        if (lossy)
            w->losses++;
        else
            w->drains++;
        put(w, "at ");
        put_ms(w, t);
        put(w, " %s n%u\n",
            k == RF_FUZZ_K_CRASH ? "crash" : k == RF_FUZZ_K_LEAVE ? "remove node" : "deactivate",
            node);
        return true;
    default: UNREACHABLE();
    }
}

static bool is_churn(rf_fuzz_kind k)
{
    return k == RF_FUZZ_K_CRASH || k == RF_FUZZ_K_LEAVE || k == RF_FUZZ_K_DEACTIVATE ||
           k == RF_FUZZ_K_JOIN || k == RF_FUZZ_K_ACTIVATE;
}

/* A world that loses a node for good keeps the faults that keep nodes
 * apart from lasting, one after the other, as long as the purge window:
 * a live node purged and a node lost is two nodes gone, more than a
 * 3-node cluster survives (sim/fuzz_cuts.h; fuzz seeds 300182, 303827,
 * 304850). The lines that would make such a span are dropped, in drawing
 * order, after every draw, so the draws themselves stay as they were. */
static void keep_cuts_short(world *w)
{
    uint32_t dropped[RF_FUZZ_K_COUNT] = {0};
    w->len = rf_fuzz_cuts_keep_short(w->cuts, w->n_cuts, CUT_SPAN_NS_MAX, w->text, w->len,
                                     dropped, RF_FUZZ_K_COUNT);
    for (int k = 0; k < RF_FUZZ_K_COUNT; k++) {
        w->p->faults -= dropped[k];
        w->p->per_kind[k] -= dropped[k];
    }
    w->n_cuts = 0;
}

/* Swarm: each enabled kind is on with probability 1/2 (at least one),
 * with its own count (intensity) and minimum hold. */
void world_draw_faults(world *w, uint32_t kinds)
{
    rf_fuzz_params *p = w->p;
    uint32_t on = 0;
    while (on == 0 && kinds != 0)
        for (int k = 0; k < RF_FUZZ_K_COUNT; k++)
            if ((kinds & (1u << k)) && coin(w, 2))
                on |= 1u << k;
    if (w->zones < 2)
        on &= ~(1u << RF_FUZZ_K_ZONE);
    p->kinds_on = on;
    uint64_t phase = p->fault_phase_ns;
    for (int k = 0; k < RF_FUZZ_K_COUNT; k++) {
        if (!(on & (1u << k)))
            continue;
        uint32_t count = (uint32_t)range(w, 1, is_churn((rf_fuzz_kind)k) ? 2 : 4);
        uint64_t hold_min = range(w, 1000, 4000) * MS;
        for (uint32_t i = 0; i < count && p->faults < RF_FUZZ_FAULTS_MAX; i++) {
            uint64_t t = range(w, 1000, phase / MS - 1000) * MS;
            uint32_t left = RF_FUZZ_FAULTS_MAX - p->faults, lines;
            if (k == RF_FUZZ_K_RESTART)
                lines = draw_restart(w, t, phase - t, hold_min, left);
            else if (k == RF_FUZZ_K_DISK)
                lines = draw_disk(w, t, phase - t, hold_min, left);
            else if (is_churn((rf_fuzz_kind)k))
                lines = draw_churn(w, (rf_fuzz_kind)k, t);
            else
                lines = draw_fault(w, (rf_fuzz_kind)k, t, phase - t, hold_min);
            p->faults += lines;
            p->per_kind[k] += lines;
        }
    }
    if (w->losses > 0)
        keep_cuts_short(w);
    put(w, "at ");
    put_ms(w, phase);
    put(w, " heal\n");
}


/* fuzz_world: draws a seed's world as scenario text (cluster, groups, workload, faults) and parses it. */
#include "sim/fuzz_world.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_pcg.h"
#include "sim/fuzz_cuts.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

#define TEXT_MAX (64u * 1024u)
#define LIVENESS_NS (45 * SEC)   /* after the faults: time to elect, purge, rebalance */
#define LEADER_WITHIN_NS (15 * SEC)
#define PLACED_WITHIN_NS (40 * SEC)
#define PURGE_NS (15 * SEC)      /* when a node is lost for good: longer than any partition */
#define PARTITION_NS_MAX (10 * SEC)
/* With a node lost for good, faults never keep nodes apart this long in a
 * row (sim/fuzz_cuts.h): the purge window less the time to hear a node
 * again once they end (heartbeats of at most 200 ms, latency, loss). */
#define CUT_SPAN_NS_MAX (PURGE_NS - 2 * SEC)

static const char *const kind_names[RF_FUZZ_K_COUNT] = {
    [RF_FUZZ_K_PARTITION] = "partition", [RF_FUZZ_K_CUT] = "cut",
    [RF_FUZZ_K_ISOLATE] = "isolate",     [RF_FUZZ_K_ZONE] = "zone",
    [RF_FUZZ_K_FLAP] = "flap",           [RF_FUZZ_K_CLOG] = "clog",
    [RF_FUZZ_K_NETWORK] = "network",     [RF_FUZZ_K_REORDER] = "reorder",
    [RF_FUZZ_K_CRASH] = "crash",         [RF_FUZZ_K_RESTART] = "restart",
    [RF_FUZZ_K_PAUSE] = "pause",         [RF_FUZZ_K_DRIFT] = "drift",
    [RF_FUZZ_K_DISK] = "disk",           [RF_FUZZ_K_JOIN] = "join",
    [RF_FUZZ_K_LEAVE] = "leave",         [RF_FUZZ_K_DEACTIVATE] = "deactivate",
    [RF_FUZZ_K_ACTIVATE] = "activate",
};

const char *rf_fuzz_kind_name(rf_fuzz_kind k)
{
    return (unsigned)k < RF_FUZZ_K_COUNT ? kind_names[k] : "?";
}

int rf_fuzz_kinds_parse(const char *list, uint32_t *mask, char *err, size_t err_len)
{
    *mask = 0;
    const char *p = list;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        bool found = false;
        if ((n == 3 && strncmp(p, "all", 3) == 0)) {
            *mask |= RF_FUZZ_KINDS_ALL;
            found = true;
        } else if (n == 7 && strncmp(p, "default", 7) == 0) {
            *mask |= RF_FUZZ_KINDS_DEFAULT;
            found = true;
        }
        for (int k = 0; k < RF_FUZZ_K_COUNT && !found; k++)
            if (strlen(kind_names[k]) == n && strncmp(p, kind_names[k], n) == 0) {
                *mask |= 1u << k;
                found = true;
            }
        if (!found) {
            snprintf(err, err_len, "unknown fault kind '%.*s'", (int)(n > 40 ? 40 : n), p);
            return RF_EINVAL;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    if (*mask == 0) {
        snprintf(err, err_len, "no fault kind given");
        return RF_EINVAL;
    }
    return RF_OK;
}

/* ---- drawing ------------------------------------------------------------------------------ */

typedef struct world {
    rf_pcg32 rng;
    char *text;
    size_t len;
    bool overflow;
    rf_fuzz_params *p;
    uint32_t active;     /* nodes active at the start */
    uint32_t nodes_all;  /* declared so far, added ones included */
    uint32_t zones;
    uint32_t losses;     /* crashes for good and removals */
    uint32_t drains;     /* deactivations */
    uint32_t spare_next; /* the next spare to activate (index), or nodes when none */
    bool gone[RF_FUZZ_NODES_MAX + 4];
    rf_fuzz_cut cuts[RF_FUZZ_FAULTS_MAX]; /* lines that may keep nodes apart, in text order */
    uint32_t n_cuts;
} world;

static void put(world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(world *w, const char *fmt, ...)
{
    if (w->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->text + w->len, TEXT_MAX - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= TEXT_MAX - w->len)
        w->overflow = true;
    else
        w->len += (size_t)n;
}

static uint64_t range(world *w, uint64_t lo, uint64_t hi)
{
    return rf_pcg32_range64(&w->rng, lo, hi);
}

static bool coin(world *w, uint32_t one_in)
{
    return rf_pcg32_bounded(&w->rng, one_in) == 0;
}

/* Notes the line written since `from` as one that may keep nodes apart
 * over [t, t + hold). */
static void note_cut(world *w, size_t from, uint64_t t, uint64_t hold, rf_fuzz_kind k)
{
    ASSERT(w->n_cuts < RF_FUZZ_FAULTS_MAX);
    w->cuts[w->n_cuts++] = (rf_fuzz_cut){.from = from, .to = w->len, .t0 = t, .t1 = t + hold,
                                         .kind = (uint32_t)k};
}

/* Durations are written in milliseconds: exact and short. */
static void put_ms(world *w, uint64_t ns)
{
    put(w, "%" PRIu64 "ms", ns / MS);
}

static void put_percent(world *w, uint32_t ppm)
{
    put(w, "%" PRIu32 ".%04" PRIu32 "%%", ppm / 10000, ppm % 10000);
}

static void draw_cluster(world *w, uint32_t kinds)
{
    rf_fuzz_params *p = w->p;
    p->nodes = (uint32_t)range(w, RF_FUZZ_NODES_MIN, RF_FUZZ_NODES_MAX);
    p->zones = (uint32_t)range(w, 1, p->nodes < RF_FUZZ_ZONES_MAX ? p->nodes : RF_FUZZ_ZONES_MAX);
    p->spares = (kinds & (1u << RF_FUZZ_K_ACTIVATE)) && p->nodes >= 5 && coin(w, 2) ? 1 : 0;
    w->active = p->nodes - p->spares;
    w->zones = p->zones;
    for (uint32_t i = 0; i < p->nodes; i++)
        put(w, "node n%u zone z%u%s\n", i + 1, i % p->zones + 1,
            i >= w->active ? " inactive" : "");
    w->nodes_all = p->nodes;
    w->spare_next = w->active;
}

static void draw_settings(world *w, uint64_t seed, bool lossy)
{
    rf_fuzz_params *p = w->p;
    p->fault_phase_ns = range(w, 10, 30) * SEC;
    p->run_ns = p->fault_phase_ns + LIVENESS_NS;
    p->heartbeat_ns = range(w, 5, 20) * 10 * MS;
    p->election_ns = p->heartbeat_ns * range(w, 5, 10);
    put(w, "seed %" PRIu64 "\nrun for %" PRIu64 "s\n", seed, p->run_ns / SEC);
    put(w, "raft heartbeat ");
    put_ms(w, p->heartbeat_ns);
    put(w, " election ");
    put_ms(w, p->election_ns);
    put(w, "..");
    put_ms(w, 2 * p->election_ns);
    put(w, "\nfleet rebalance %" PRIu64 "s purge-after %" PRIu64 "s\n", range(w, 1, 3),
        lossy ? PURGE_NS / SEC : 600);
    p->loss_ppm = coin(w, 2) ? 0 : (uint32_t)range(w, 1, 10000);
    p->dup_ppm = coin(w, 2) ? 0 : (uint32_t)range(w, 1, 10000);
    put(w, "network latency %" PRIu64 "us jitter %" PRIu64 "us loss ", range(w, 200, 3000),
        range(w, 0, 3000));
    put_percent(w, p->loss_ppm);
    put(w, " dup ");
    put_percent(w, p->dup_ppm);
    put(w, "\n");
}

static void draw_groups(world *w, bool lossy)
{
    rf_fuzz_params *p = w->p;
    static const uint32_t reps[6] = {1, 3, 3, 3, 5, 5};
    p->groups = (uint32_t)range(w, 1, RF_FUZZ_GROUPS_MAX);
    for (uint32_t g = 0; g < p->groups; g++) {
        /* A group of one cannot survive losing its node. */
        uint32_t r = reps[range(w, lossy ? 1 : 0, 5)];
        bool kv = coin(w, 3);
        p->replicas[g] = r;
        put(w, "group g%u replicas %u model %s\n", g + 1, r, kv ? "kv" : "int");
        uint32_t clients = (uint32_t)range(w, 1, 2), rate = (uint32_t)range(w, 2, 10);
        uint32_t a = (uint32_t)range(w, 10, 60), b = (uint32_t)range(w, 10, 90 - a);
        p->ops_per_s += (double)clients * rate;
        put(w, "workload g%u clients %u rate %u/s mix ", g + 1, clients, rate);
        if (kv)
            put(w, "\"put k %u\" %u%% \"get k\" %u%% \"cas k 1 2\" %u%%\n",
                (unsigned)range(w, 0, 3), a, b, 100 - a - b);
        else
            put(w, "inc %u%% get %u%% \"set %u\" %u%%\n", a, b, (unsigned)range(w, 0, 9),
                100 - a - b);
    }
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
static void draw_faults(world *w, uint32_t kinds)
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

static void draw_expectations(world *w)
{
    put(w, "expect safety\nexpect linearizable\n");
    put(w, "expect leader in every group within %" PRIu64 "s after faults\n",
        LEADER_WITHIN_NS / SEC);
    put(w, "expect placement converged within %" PRIu64 "s after faults\n",
        PLACED_WITHIN_NS / SEC);
}

/* Leader leases, drawn last so that every earlier draw of a seed stays as
 * it was: in one world of three, `leases margin P%` with P from 5% to 20%
 * of the election timeout, above the 3.9% that clocks within +-2% (the
 * `drift` kind) need (Raft thesis §6.4.1: a lease of T(1 - 2r/(1+r)) for
 * drift rate r). Groups then never go quiet (rf_node turns leases off
 * under quiescence), so lease reads and clock drift meet. */
static void draw_leases(world *w)
{
    if (!coin(w, 3))
        return;
    w->p->lease_margin_ppm = (uint32_t)range(w, 5, 20) * 10000u;
    put(w, "leases margin ");
    put_percent(w, w->p->lease_margin_ppm);
    put(w, "\n");
}

/* Small appends, drawn after the leases for the same reason: in one world
 * of three a leader sends 1 to 4 entries per append, so followers catch
 * up entry by entry and the commit rules meet states whole-log appends
 * skip (an older term's entry counted alone, stale entries past the last
 * one an append vouches for). */
static void draw_batch(world *w)
{
    if (!coin(w, 3))
        return;
    w->p->append_batch = (uint32_t)range(w, 1, 4);
    put(w, "replication batch %u\n", w->p->append_batch);
}

/* Clocks of a lease world, drawn last for the same reason: every node
 * starts drifting by up to 90% of what the margin M covers (drift rate
 * r = M / (2 - M), from M = 2r/(1+r)), at most 10%, each its own way.
 * A lease that forgets its margin then outlives the vote refusal of a
 * fast-clocked follower by up to ~0.9 M of the timeout, and the lease
 * check (sim/fleet_check.c) sees the newer leader it lets in. Drift is a
 * fault kind: only when `kinds` has it. */
static void draw_lease_clocks(world *w, uint32_t kinds)
{
    uint64_t m = w->p->lease_margin_ppm;
    if (m == 0 || !(kinds & (1u << RF_FUZZ_K_DRIFT)))
        return;
    uint64_t r = 900000u * m / (2000000u - m);
    if (r > 100000u)
        r = 100000u;
    for (uint32_t i = 1; i <= w->p->nodes; i++)
        put(w, "at 0s drift n%u %+dppm\n", i, (int)range(w, 0, 2 * r) - (int)r);
}

int rf_fuzz_world_draw(uint64_t seed, uint32_t kinds, rf_scenario **out, rf_fuzz_params *params,
                       char *err, size_t err_len)
{
    *out = NULL;
    if (kinds == 0)
        kinds = RF_FUZZ_KINDS_DEFAULT;
    rf_fuzz_params local = {0};
    world w;
    memset(&w, 0, sizeof w);
    w.p = params != NULL ? params : &local;
    memset(w.p, 0, sizeof *w.p);
    w.p->seed = seed;
    w.text = malloc(TEXT_MAX);
    if (w.text == NULL)
        return RF_ENOMEM;
    rf_pcg32_derive(&w.rng, seed, "fuzz-world", 0);
    /* Whether a node may be lost for good is decided first: it shapes the
     * groups (no group of one) and the purge window. */
    bool lossy = (kinds & ((1u << RF_FUZZ_K_CRASH) | (1u << RF_FUZZ_K_LEAVE))) != 0 && coin(&w, 2);
    if (!lossy)
        kinds &= ~((1u << RF_FUZZ_K_CRASH) | (1u << RF_FUZZ_K_LEAVE));
    put(&w, "# fuzz world of seed %" PRIu64 "\n", seed);
    draw_settings(&w, seed, lossy);
    draw_cluster(&w, kinds);
    draw_groups(&w, lossy);
    draw_faults(&w, kinds);
    draw_expectations(&w);
    draw_leases(&w);
    draw_batch(&w);
    draw_lease_clocks(&w, kinds);
    ASSERT(!w.overflow);
    rf_scn_error e;
    int rc = rf_scenario_parse(w.text, w.len, "fuzz-world", out, &e);
    if (rc != RF_OK)
        snprintf(err, err_len, "%s", e.text);
    free(w.text);
    return rc;
}

int rf_fuzz_params_json(const rf_fuzz_params *p, char *buf, size_t cap)
{
    size_t n = 0;
    int k;
#define J(...)                                                                                \
    do {                                                                                      \
        k = snprintf(buf + n, cap - n, __VA_ARGS__);                                          \
        if (k < 0 || (size_t)k >= cap - n)                                                    \
            return RF_ETOOBIG;                                                                \
        n += (size_t)k;                                                                       \
    } while (0)
    J("{\"nodes\":%u,\"zones\":%u,\"spares\":%u,\"groups\":%u,\"replicas\":[", p->nodes,
      p->zones, p->spares, p->groups);
    for (uint32_t g = 0; g < p->groups; g++)
        J("%s%u", g ? "," : "", p->replicas[g]);
    J("],\"fault_phase_ms\":%" PRIu64 ",\"run_ms\":%" PRIu64 ",\"heartbeat_ms\":%" PRIu64
      ",\"election_ms\":%" PRIu64 ",\"loss_ppm\":%u,\"dup_ppm\":%u,\"ops_per_s\":%.0f,"
      "\"faults\":%u,\"kinds\":{",
      p->fault_phase_ns / MS, p->run_ns / MS, p->heartbeat_ns / MS, p->election_ns / MS,
      p->loss_ppm, p->dup_ppm, p->ops_per_s, p->faults);
    bool first = true;
    for (int i = 0; i < RF_FUZZ_K_COUNT; i++)
        if (p->kinds_on & (1u << i)) {
            J("%s\"%s\":%u", first ? "" : ",", kind_names[i], p->per_kind[i]);
            first = false;
        }
    J("},\"lease_margin_ppm\":%u,\"append_batch\":%u}", p->lease_margin_ppm, p->append_batch);
#undef J
    return RF_OK;
}

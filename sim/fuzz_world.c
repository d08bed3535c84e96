/* fuzz_world: draws a seed's world as scenario text (cluster, groups, workload, expectations; faults: fuzz_faults.c) and parses it. */
#include "sim/fuzz_world.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_pcg.h"
#include "sim/fuzz_world_int.h"

#define LIVENESS_NS (45 * SEC)   /* after the faults: time to elect, purge, rebalance */
#define LEADER_WITHIN_NS (15 * SEC)
#define PLACED_WITHIN_NS (40 * SEC)

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
    world_draw_faults(&w, kinds);
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

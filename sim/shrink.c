/* shrink: ddmin over timeline lines, then nodes, groups, workloads and durations, for as long as the failure persists. */
#include "sim/shrink.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"

#define RUNS_DEFAULT 500u
#define SEC UINT64_C(1000000000)

typedef struct shrinker {
    const rf_shrink_opts *o;
    rf_shrink_stats *st;
    rf_scenario *best; /* the smallest failing tree so far */
    int err;           /* a predicate error: stop */
    bool keep_majority; /* the input keeps a majority of its nodes: so must candidates */
} shrinker;

/* Whether the nodes lost for good (crash without restart, remove node)
 * are fewer than half of the nodes active at the start. A candidate that
 * loses half would fail its liveness expectations by construction (one
 * node left, and it crashes), which says nothing about the bug. */
static bool keeps_majority(const rf_scenario *s)
{
    uint32_t active = 0, lost = 0;
    for (uint32_t i = 0; i < s->node_count; i++)
        active += !s->nodes[i].inactive && !s->nodes[i].added;
    for (uint32_t i = 0; i < s->event_count; i++) {
        const rf_scn_event *e = &s->events[i];
        lost += (e->kind == RF_SCN_EV_CRASH && e->lasts.hi == 0) ||
                e->kind == RF_SCN_EV_REMOVE_NODE;
    }
    return 2 * lost < active;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static rf_scenario *parse_text(const char *text, size_t len)
{
    rf_scenario *s = NULL;
    rf_scn_error e;
    if (rf_scenario_parse(text, len, "shrink", &s, &e) != RF_OK)
        return NULL;
    return s;
}

rf_scenario *rf_shrink_clone(const rf_scenario *s)
{
    char *text;
    size_t len;
    if (rf_scenario_write(s, &text, &len) != RF_OK)
        return NULL;
    rf_scenario *c = parse_text(text, len);
    free(text);
    return c;
}

static size_t text_bytes(const rf_scenario *s)
{
    char *text;
    size_t len;
    if (rf_scenario_write(s, &text, &len) != RF_OK)
        return 0;
    free(text);
    return len;
}

static bool out_of_budget(shrinker *k)
{
    const rf_shrink_opts *o = k->o;
    uint32_t max = o->runs_max != 0 ? o->runs_max : RUNS_DEFAULT;
    if (k->err != RF_OK || k->st->runs >= max ||
        (o->deadline_ns != 0 && mono_ns() >= o->deadline_ns)) {
        k->st->budget_out = k->err == RF_OK;
        return true;
    }
    return false;
}

/* Takes ownership of cand. True when it is valid and still fails the same
 * check; it then becomes the best tree. */
static bool try_candidate(shrinker *k, rf_scenario *cand, const char *what)
{
    if (out_of_budget(k)) {
        rf_scenario_free(cand);
        return false;
    }
    /* Valid means: its text parses. The parsed tree is what runs. */
    rf_scenario *valid = rf_shrink_clone(cand);
    rf_scenario_free(cand);
    if (valid == NULL)
        return false;
    if (k->keep_majority && !keeps_majority(valid)) {
        rf_scenario_free(valid);
        return false;
    }
    rf_fuzz_outcome out;
    k->st->runs++;
    int rc = k->o->pred(k->o->ctx, valid, k->o->seed, &out);
    if (rc != RF_OK)
        k->err = rc;
    if (rc != RF_OK || out.verdict != RF_FUZZ_FAIL || strcmp(out.check, k->st->check) != 0) {
        rf_scenario_free(valid);
        return false;
    }
    rf_scenario_free(k->best);
    k->best = valid;
    if (k->o->log != NULL)
        fprintf(k->o->log, "shrink: %s: %u lines, %u nodes, %u groups, %zu bytes\n", what,
                valid->event_count, valid->node_count, valid->group_count, text_bytes(valid));
    return true;
}

/* ---- 1. ddmin over the timeline -------------------------------------------------------- */

/* The best tree with only the events whose indexes are in keep[0..n). */
static rf_scenario *with_events(shrinker *k, const uint32_t *keep, uint32_t n)
{
    rf_scenario *c = rf_shrink_clone(k->best);
    if (c == NULL)
        return NULL;
    uint32_t j = n;
    for (uint32_t i = c->event_count; i-- > 0;) {
        if (j > 0 && keep[j - 1] == i) {
            j--;
            continue;
        }
        if (rf_scenario_remove_event(c, i) != RF_OK) {
            rf_scenario_free(c); /* an `add node` still named by a kept line */
            return NULL;
        }
    }
    return c;
}

static bool try_events(shrinker *k, const uint32_t *keep, uint32_t n)
{
    rf_scenario *c = with_events(k, keep, n);
    return c != NULL && try_candidate(k, c, "timeline lines");
}

/* Zeller's ddmin: c is the failing set (indexes into best's events, which
 * stay valid because a success replaces best by exactly that subset,
 * renumbered 0..n-1). */
static void ddmin_events(shrinker *k)
{
    uint32_t n_all = k->best->event_count;
    if (n_all == 0)
        return;
    uint32_t *c = malloc((size_t)n_all * sizeof *c), *t = malloc((size_t)n_all * sizeof *t);
    if (c == NULL || t == NULL) {
        free(c);
        free(t);
        k->err = RF_ENOMEM;
        return;
    }
    uint32_t len = n_all, parts = 2;
    for (uint32_t i = 0; i < len; i++)
        c[i] = i;
    if (try_events(k, c, 0))
        len = 0; /* no line is needed at all */
    while (len >= 2 && !out_of_budget(k)) {
        bool reduced = false;
        for (uint32_t p = 0; p < parts && !reduced; p++) {
            uint32_t lo = (uint32_t)((uint64_t)len * p / parts);
            uint32_t hi = (uint32_t)((uint64_t)len * (p + 1) / parts);
            /* the subset first, then its complement */
            if (hi - lo < len && try_events(k, c + lo, hi - lo)) {
                len = hi - lo;
                parts = 2;
                reduced = true;
                break;
            }
            uint32_t m = 0;
            for (uint32_t i = 0; i < len; i++)
                if (i < lo || i >= hi)
                    t[m++] = c[i];
            if (parts > 2 && try_events(k, t, m)) {
                len = m;
                parts = parts - 1 > 2 ? parts - 1 : 2;
                reduced = true;
            }
        }
        if (reduced) {
            for (uint32_t i = 0; i < len; i++)
                c[i] = i; /* best now holds exactly the kept lines */
            continue;
        }
        if (parts >= len)
            break; /* 1-minimal: no single line can go */
        parts = parts * 2 < len ? parts * 2 : len;
    }
    free(c);
    free(t);
}

/* ---- 2-4. nodes, groups, workloads ------------------------------------------------------- */

static bool shrink_nodes(shrinker *k)
{
    bool any = false;
    for (uint32_t i = k->best->node_count; i-- > 0 && !out_of_budget(k);) {
        if (k->best->node_count <= 1)
            break;
        rf_scenario *c = rf_shrink_clone(k->best);
        if (c == NULL || rf_scenario_remove_node(c, i) != RF_OK) {
            rf_scenario_free(c);
            continue;
        }
        rf_scenario_canonicalize(c);
        any |= try_candidate(k, c, "a node");
    }
    return any;
}

static bool pattern_has(const rf_scn_pattern *p, const char *name)
{
    char buf[RF_SCN_GROUP_NAME_MAX + 1];
    uint32_t n = rf_scn_pattern_count(p);
    for (uint32_t i = 0; i < n; i++) {
        rf_scn_pattern_name(p, i, buf, sizeof buf);
        if (strcmp(buf, name) == 0)
            return true;
    }
    return false;
}

/* Removes group item gi and what names its (first) name. */
static void drop_group(rf_scenario *c, uint32_t gi)
{
    char name[RF_SCN_GROUP_NAME_MAX + 1];
    rf_scn_pattern_name(&c->groups[gi].names, 0, name, sizeof name);
    bool single = rf_scn_pattern_count(&c->groups[gi].names) == 1;
    for (uint32_t w = c->workload_count; w-- > 0 && single;)
        if (!c->workloads[w].all_groups && pattern_has(&c->workloads[w].groups, name))
            rf_scenario_remove_workload(c, w);
    for (uint32_t e = c->event_count; e-- > 0 && single;) {
        const rf_scn_event *ev = &c->events[e];
        bool names = (ev->kind == RF_SCN_EV_COMMAND || ev->kind == RF_SCN_EV_QUERY ||
                      ev->kind == RF_SCN_EV_REMOVE_GROUP || ev->node == RF_SCN_LEADER_OF ||
                      ev->part.node == RF_SCN_LEADER_OF) &&
                     pattern_has(&ev->group.names, name);
        if (names)
            (void)rf_scenario_remove_event(c, e);
    }
    rf_scenario_remove_group(c, gi);
}

static bool shrink_groups(shrinker *k)
{
    bool any = false;
    for (uint32_t i = k->best->group_count; i-- > 0 && !out_of_budget(k);) {
        rf_scenario *c = rf_shrink_clone(k->best);
        if (c == NULL)
            continue;
        drop_group(c, i);
        any |= try_candidate(k, c, "a group");
    }
    return any;
}

static bool shrink_workloads(shrinker *k)
{
    bool any = false;
    for (uint32_t i = k->best->workload_count; i-- > 0 && !out_of_budget(k);) {
        rf_scenario *c = rf_shrink_clone(k->best);
        if (c == NULL)
            continue;
        rf_scenario_remove_workload(c, i);
        any |= try_candidate(k, c, "a workload");
    }
    for (uint32_t i = 0; i < k->best->workload_count && !out_of_budget(k); i++) {
        if (k->best->workloads[i].clients <= 1)
            continue;
        rf_scenario *c = rf_shrink_clone(k->best);
        if (c == NULL)
            continue;
        c->workloads[i].clients = 1;
        any |= try_candidate(k, c, "clients");
    }
    return any;
}

/* ---- 5. durations ------------------------------------------------------------------------- */

static uint64_t round_ms(uint64_t ns)
{
    uint64_t ms = ns / 1000000;
    return (ms == 0 ? 1 : ms) * 1000000;
}

static uint64_t run_floor(const rf_scenario *s)
{
    uint64_t within = 0;
    for (uint32_t i = 0; i < s->expect_count; i++)
        if (s->expects[i].within_ns > within)
            within = s->expects[i].within_ns;
    return rf_scenario_faults_end_max_ns(s) + within;
}

static bool shrink_durations(shrinker *k)
{
    bool any = false;
    /* The run: three quarters at a time, never below the end of its faults
     * plus the longest `within` (a shorter run would fail an expectation
     * only because it ended before its deadline). */
    for (int tries = 0; tries < 8 && !out_of_budget(k); tries++) {
        uint64_t shorter = round_ms(k->best->run_ns / 4 * 3);
        if (shorter < SEC || shorter >= k->best->run_ns || shorter < run_floor(k->best))
            break;
        rf_scenario *c = rf_shrink_clone(k->best);
        if (c == NULL)
            break;
        c->run_ns = shorter;
        if (!try_candidate(k, c, "the run's length"))
            break;
        any = true;
    }
    /* Each `for`: halved while the failure persists. */
    for (uint32_t i = 0; i < k->best->event_count && !out_of_budget(k); i++)
        for (int tries = 0; tries < 4; tries++) {
            rf_scn_range r = k->best->events[i].lasts;
            if (r.hi == 0 || r.hi <= 1000000)
                break;
            rf_scenario *c = rf_shrink_clone(k->best);
            if (c == NULL)
                break;
            c->events[i].lasts.lo = round_ms(r.lo / 2);
            c->events[i].lasts.hi = round_ms(r.hi / 2);
            if (!try_candidate(k, c, "a `for`"))
                break;
            any = true;
        }
    return any;
}

/* ---- driver ----------------------------------------------------------------------------------- */

int rf_shrink(const rf_shrink_opts *opts, const rf_scenario *in, rf_scenario **out,
              rf_shrink_stats *st)
{
    ASSERT(opts->pred != NULL);
    memset(st, 0, sizeof *st);
    *out = NULL;
    shrinker k = {.o = opts, .st = st, .best = rf_shrink_clone(in), .err = RF_OK};
    if (k.best == NULL)
        return RF_ENOMEM;
    rf_fuzz_outcome first;
    st->runs = 1;
    int rc = opts->pred(opts->ctx, k.best, opts->seed, &first);
    if (rc != RF_OK || first.verdict != RF_FUZZ_FAIL) {
        rf_scenario_free(k.best);
        return rc != RF_OK ? rc : RF_EINVAL;
    }
    snprintf(st->check, sizeof st->check, "%s", first.check);
    k.keep_majority = keeps_majority(k.best);
    st->events_before = k.best->event_count;
    st->nodes_before = k.best->node_count;
    st->groups_before = k.best->group_count;
    st->workloads_before = k.best->workload_count;
    st->run_ns_before = k.best->run_ns;
    st->bytes_before = text_bytes(k.best);
    for (bool progress = true; progress && !out_of_budget(&k);) {
        uint32_t before = k.best->event_count;
        ddmin_events(&k);
        progress = k.best->event_count < before;
        progress |= shrink_nodes(&k);
        progress |= shrink_groups(&k);
        progress |= shrink_workloads(&k);
        progress |= shrink_durations(&k);
    }
    st->events_after = k.best->event_count;
    st->nodes_after = k.best->node_count;
    st->groups_after = k.best->group_count;
    st->workloads_after = k.best->workload_count;
    st->run_ns_after = k.best->run_ns;
    st->bytes_after = text_bytes(k.best);
    if (k.err != RF_OK) {
        rf_scenario_free(k.best);
        return k.err;
    }
    *out = k.best;
    return RF_OK;
}

void rf_shrink_summary(const rf_shrink_stats *st, char *buf, size_t cap)
{
    double pct = st->bytes_before == 0
                     ? 0
                     : 100.0 * (double)(st->bytes_before - st->bytes_after) /
                           (double)st->bytes_before;
    snprintf(buf, cap,
             "timeline lines %u -> %u, nodes %u -> %u, groups %u -> %u, workloads %u -> %u, "
             "run %.1fs -> %.1fs, %zu -> %zu bytes (%.0f%% smaller), %u runs%s",
             st->events_before, st->events_after, st->nodes_before, st->nodes_after,
             st->groups_before, st->groups_after, st->workloads_before, st->workloads_after,
             (double)st->run_ns_before / 1e9, (double)st->run_ns_after / 1e9, st->bytes_before,
             st->bytes_after, pct, st->runs, st->budget_out ? " (budget reached)" : "");
}

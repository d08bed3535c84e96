/* scenario_write: a scenario tree back to canonical .scn text, and tree equality. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/scenario_int.h"

/* A growing text buffer; `failed` sticks once memory runs out. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    bool failed;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(sbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n + 1;
        char *s = realloc(b->s, cap);
        if (s == NULL) {
            b->failed = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static void put_duration(sbuf *b, uint64_t ns)
{
    char d[32];
    scn_format_duration(ns, d, sizeof d);
    put(b, "%s", d);
}

static void put_range(sbuf *b, rf_scn_range r, bool always_both)
{
    put_duration(b, r.lo);
    if (r.hi != r.lo || always_both) {
        put(b, "..");
        put_duration(b, r.hi);
    }
}

static void put_percent(sbuf *b, uint32_t ppm)
{
    char d[32];
    scn_format_percent(ppm, d, sizeof d);
    put(b, "%s", d);
}

/* Text as a bare word when it reads back as the same single token. */
static void put_text(sbuf *b, const char *t)
{
    static const char *keywords[] = {"error", "until", "from", "expect", "for", "as",
                                     "query", "command"};
    bool word = t[0] != '\0';
    for (const char *c = t; *c && word; c++)
        word = *c > 0x20 && *c < 0x7f && *c != '"' && *c != '#';
    for (size_t i = 0; word && i < sizeof keywords / sizeof keywords[0]; i++)
        word = strcmp(t, keywords[i]) != 0;
    if (word) {
        put(b, "%s", t);
        return;
    }
    put(b, "\"");
    for (const char *c = t; *c; c++)
        put(b, (*c == '"' || *c == '\\') ? "\\%c" : "%c", *c);
    put(b, "\"");
}

static void put_pattern(sbuf *b, const rf_scn_pattern *p)
{
    if (p->is_range)
        put(b, "%s{%u..%u}%s", p->prefix, p->lo, p->hi, p->suffix);
    else
        put(b, "%s", p->prefix);
}

/* A node field of event e, which names the group of a leader-of. */
static void put_node_of(sbuf *b, const rf_scenario *s, const rf_scn_event *e, int32_t n)
{
    if (n >= 0 && (uint32_t)n < s->node_count) {
        put(b, "%s", s->nodes[n].name);
    } else if (n == RF_SCN_LEADER_OF && e != NULL) {
        put(b, "leader-of ");
        put_pattern(b, &e->group.names);
    } else {
        put(b, "random");
    }
}


static void put_set(sbuf *b, const rf_scenario *s, const rf_scn_nodeset *set)
{
    const char *sep = "";
    for (uint32_t i = 0; i < s->node_count; i++) {
        if (rf_scn_nodeset_has(set, i)) {
            put(b, "%s%s", sep, s->nodes[i].name);
            sep = " ";
        }
    }
}

static void put_partition(sbuf *b, const rf_scenario *s, const rf_scn_event *e,
                          const rf_scn_partition *p)
{
    switch (p->kind) {
    case RF_SCN_PART_ZONE:
        put(b, "zone %s", s->zones[p->zone]);
        break;
    case RF_SCN_PART_RANDOM:
        put(b, "random");
        break;
    case RF_SCN_PART_NODE:
        put_node_of(b, s, e, p->node);
        break;
    case RF_SCN_PART_SETS:
        for (uint32_t i = 0; i < p->set_count; i++) {
            put(b, i > 0 ? " | " : "");
            put_set(b, s, &p->sets[i]);
        }
        break;
    }
}

static void put_network(sbuf *b, const rf_scn_network *n)
{
    if (n->set & RF_SCN_NET_LATENCY) {
        put(b, " latency ");
        put_duration(b, n->latency_ns);
    }
    if (n->set & RF_SCN_NET_JITTER) {
        put(b, " jitter ");
        put_duration(b, n->jitter_ns);
    }
    if (n->set & RF_SCN_NET_TAIL) {
        put(b, " tail ");
        put_percent(b, n->tail_ppm);
        put(b, " ");
        put_duration(b, n->tail_ns);
    }
    const struct {
        uint32_t bit;
        const char *word;
        uint32_t ppm;
    } pct[] = {{RF_SCN_NET_LOSS, "loss", n->loss_ppm},
               {RF_SCN_NET_DUP, "dup", n->dup_ppm},
               {RF_SCN_NET_REORDER, "reorder", n->reorder_ppm}};
    for (size_t i = 0; i < 3; i++) {
        if (n->set & pct[i].bit) {
            put(b, " %s ", pct[i].word);
            put_percent(b, pct[i].ppm);
        }
    }
}

static const char *const node_words[] = {
    [RF_SCN_EV_CRASH] = "crash",         [RF_SCN_EV_RESTART] = "restart",
    [RF_SCN_EV_PAUSE] = "pause",         [RF_SCN_EV_RESUME] = "resume",
    [RF_SCN_EV_ACTIVATE] = "activate",   [RF_SCN_EV_DEACTIVATE] = "deactivate",
    [RF_SCN_EV_REMOVE_NODE] = "remove node",
};

static void put_disk(sbuf *b, const rf_scn_event *e)
{
    switch (e->disk) {
    case RF_SCN_DISK_FAIL_WRITES:
        put(b, " fail writes");
        break;
    case RF_SCN_DISK_FAIL_SYNCS:
        put(b, " fail syncs");
        break;
    case RF_SCN_DISK_FULL:
        put(b, " full");
        break;
    case RF_SCN_DISK_FLIP_BITS:
        put(b, " flip bits ");
        put_percent(b, e->flip_ppm);
        break;
    }
}

static void put_client_op(sbuf *b, const rf_scenario *s, const rf_scn_event *e)
{
    put(b, e->kind == RF_SCN_EV_COMMAND ? "command " : "query ");
    put_pattern(b, &e->group.names);
    put(b, " ");
    put_text(b, e->op);
    if (e->node != RF_SCN_RANDOM_NODE) {
        put(b, " from ");
        put_node_of(b, s, e, e->node);
    }
    if (e->expect == RF_SCN_EXPECT_REPLY) {
        put(b, " expect ");
        put_text(b, e->reply);
    } else if (e->expect == RF_SCN_EXPECT_ERROR) {
        put(b, " expect error %s", e->reply);
    }
}

/* The network actions; false for any other kind. */
static bool put_network_action(sbuf *b, const rf_scenario *s, const rf_scn_event *e)
{
    switch (e->kind) {
    case RF_SCN_EV_PARTITION:
        put(b, e->part.kind == RF_SCN_PART_NODE ? "isolate " : "partition ");
        put_partition(b, s, e, &e->part);
        break;
    case RF_SCN_EV_CUT:
        put(b, "cut ");
        put_set(b, s, &e->part.sets[0]);
        put(b, " -> ");
        put_set(b, s, &e->part.sets[1]);
        break;
    case RF_SCN_EV_FLAP:
        put(b, "flap ");
        put_partition(b, s, e, &e->part);
        put(b, " every ");
        put_range(b, e->flap_period, false);
        break;
    case RF_SCN_EV_CLOG:
        ASSERT(e->node >= 0 && (uint32_t)e->node < s->node_count);
        ASSERT(e->node2 >= 0 && (uint32_t)e->node2 < s->node_count);
        put(b, "clog %s%s %s", s->nodes[e->node].name, e->one_way ? " ->" : "",
            s->nodes[e->node2].name);
        break;
    case RF_SCN_EV_HEAL:
        put(b, "heal");
        break;
    case RF_SCN_EV_NETWORK:
        put(b, "network");
        put_network(b, &e->net);
        break;
    default:
        return false;
    }
    return true;
}

static void put_action(sbuf *b, const rf_scenario *s, const rf_scn_event *e)
{
    if (put_network_action(b, s, e))
        return;
    switch (e->kind) {
    case RF_SCN_EV_CRASH:
    case RF_SCN_EV_RESTART:
    case RF_SCN_EV_PAUSE:
    case RF_SCN_EV_RESUME:
    case RF_SCN_EV_ACTIVATE:
    case RF_SCN_EV_DEACTIVATE:
    case RF_SCN_EV_REMOVE_NODE:
        put(b, "%s ", node_words[e->kind]);
        put_node_of(b, s, e, e->node);
        break;
    case RF_SCN_EV_DRIFT:
        put(b, "drift ");
        put_node_of(b, s, e, e->node);
        put(b, " %+dppm", (int)e->drift_ppm);
        break;
    case RF_SCN_EV_ADD_NODE: {
        ASSERT(e->node >= 0 && (uint32_t)e->node < s->node_count);
        const rf_scn_node *n = &s->nodes[e->node];
        ASSERT(n->added);
        put(b, "add node %s zone %s%s", n->name, s->zones[n->zone], n->inactive ? " inactive" : "");
        break;
    }
    case RF_SCN_EV_DISK:
        put(b, "disk ");
        put_node_of(b, s, e, e->node);
        put_disk(b, e);
        break;
    case RF_SCN_EV_ADD_GROUP:
        put(b, "add group ");
        put_pattern(b, &e->group.names);
        put(b, " replicas %u model %s", e->group.replicas, e->group.model);
        break;
    case RF_SCN_EV_REMOVE_GROUP:
        put(b, "remove group ");
        put_pattern(b, &e->group.names);
        break;
    case RF_SCN_EV_COMMAND:
    case RF_SCN_EV_QUERY:
        put_client_op(b, s, e);
        break;
    default:
        UNREACHABLE(); /* the network kinds are written above */
    }
}

static void put_event(sbuf *b, const rf_scenario *s, const rf_scn_event *e)
{
    if (e->repeat) {
        put(b, "every ");
        put_range(b, e->period, false);
        if (e->at.lo != 0) {
            put(b, " from ");
            put_duration(b, e->at.lo);
        }
        if (e->at.hi != 0) {
            put(b, " until ");
            put_duration(b, e->at.hi);
        }
    } else {
        put(b, "at ");
        put_range(b, e->at, false);
    }
    put(b, " ");
    put_action(b, s, e);
    if (e->lasts.hi != 0) {
        put(b, " for ");
        put_range(b, e->lasts, false);
    }
    if (e->label[0] != '\0')
        put(b, " as %s", e->label);
    put(b, "\n");
}

static void put_after(sbuf *b, const rf_scn_expect *x)
{
    if (x->after == RF_SCN_AFTER_START)
        put(b, " after start");
    else if (x->after == RF_SCN_AFTER_LABEL)
        put(b, " after %s", x->label);
    else
        put(b, " after faults");
}

static void put_expect(sbuf *b, const rf_scn_expect *x)
{
    switch (x->kind) {
    case RF_SCN_EXP_LINEARIZABLE:
        put(b, "expect linearizable");
        break;
    case RF_SCN_EXP_SAFETY:
        put(b, "expect safety");
        break;
    case RF_SCN_EXP_LEADERS:
        put(b, "expect leader in every group within ");
        put_duration(b, x->within_ns);
        put_after(b, x);
        break;
    case RF_SCN_EXP_CONVERGED:
        put(b, "expect placement converged within ");
        put_duration(b, x->within_ns);
        put_after(b, x);
        break;
    case RF_SCN_EXP_MOVES:
        put(b, "expect moves at most %u%s after %s", x->moves,
            x->over_minimal ? " over minimal" : "", x->label);
        break;
    case RF_SCN_EXP_UNAVAILABLE:
        put(b, "expect unavailability at most ");
        put_duration(b, x->unavailable_ns);
        put(b, " per group");
        break;
    }
    put(b, "\n");
}

static void put_settings(sbuf *b, const rf_scenario *s)
{
    put(b, "seed %llu\nrun for ", (unsigned long long)s->seed);
    put_duration(b, s->run_ns);
    put(b, "\nraft heartbeat ");
    put_duration(b, s->heartbeat_ns);
    put(b, " election ");
    put_range(b, s->election, true);
    put(b, "\nfleet rebalance ");
    put_duration(b, s->rebalance_ns);
    put(b, " purge-after ");
    put_duration(b, s->purge_ns);
    put(b, "\ndisk latency ");
    put_range(b, s->disk_latency, false);
    put(b, "\nnetwork");
    put_network(b, &s->net);
    if (s->lease_margin_ppm != 0) {
        put(b, "\nleases margin ");
        put_percent(b, s->lease_margin_ppm);
    }
    if (s->append_batch != 0)
        put(b, "\nreplication batch %u", s->append_batch);
    put(b, "\n\n");
}

static void put_workload(sbuf *b, const rf_scn_workload *w)
{
    put(b, "workload ");
    if (w->all_groups)
        put(b, "all");
    else
        put_pattern(b, &w->groups);
    const char *unit = w->rate_per_ns == 3600000000000ull ? "h"
                       : w->rate_per_ns == 60000000000ull ? "m" : "s";
    put(b, " clients %u rate %u/%s mix", w->clients, w->rate, unit);
    for (uint32_t k = 0; k < w->mix_count; k++) {
        const rf_scn_mix *m = &w->mix[k];
        if (m->query != rf_scn_op_is_query_by_default(m->op))
            put(b, m->query ? " query" : " command");
        put(b, " ");
        put_text(b, m->op);
        put(b, " ");
        put_percent(b, w->mix[k].ppm);
    }
    if (w->until_ns != 0) {
        put(b, " until ");
        put_duration(b, w->until_ns);
    }
    put(b, "\n");
}

int rf_scenario_write(const rf_scenario *s, char **text, size_t *len)
{
    sbuf b = {malloc(4096), 0, 4096, false};
    b.failed = b.s == NULL;
    put_settings(&b, s);
    for (uint32_t i = 0; i < s->node_count; i++) {
        const rf_scn_node *n = &s->nodes[i];
        if (!n->added)
            put(&b, "node %s zone %s%s\n", n->name, s->zones[n->zone], n->inactive ? " inactive" : "");
    }
    put(&b, "\n");
    for (uint32_t i = 0; i < s->group_count; i++) {
        const rf_scn_group *g = &s->groups[i];
        put(&b, g->names.is_range ? "groups " : "group ");
        put_pattern(&b, &g->names);
        put(&b, " replicas %u model %s\n", g->replicas, g->model);
    }
    for (uint32_t i = 0; i < s->workload_count; i++)
        put_workload(&b, &s->workloads[i]);
    put(&b, "\n");
    for (uint32_t i = 0; i < s->event_count; i++)
        put_event(&b, s, &s->events[i]);
    if (s->event_count > 0)
        put(&b, "\n");
    for (uint32_t i = 0; i < s->expect_count; i++)
        put_expect(&b, &s->expects[i]);
    if (b.failed) {
        free(b.s);
        *text = NULL;
        *len = 0;
        return RF_ENOMEM;
    }
    *text = b.s;
    *len = b.len;
    return RF_OK;
}

/* Items are compared as bytes: the parser zero-fills every item before
 * setting its fields, and so must any code that builds a tree by hand. */
bool rf_scenario_equal(const rf_scenario *a, const rf_scenario *b)
{
    if (a->seed != b->seed || a->run_ns != b->run_ns || a->heartbeat_ns != b->heartbeat_ns ||
        a->election.lo != b->election.lo || a->election.hi != b->election.hi ||
        a->rebalance_ns != b->rebalance_ns || a->purge_ns != b->purge_ns ||
        a->disk_latency.lo != b->disk_latency.lo || a->disk_latency.hi != b->disk_latency.hi ||
        a->lease_margin_ppm != b->lease_margin_ppm || a->append_batch != b->append_batch ||
        memcmp(&a->net, &b->net, sizeof a->net) != 0)
        return false;
    if (a->zone_count != b->zone_count || a->node_count != b->node_count ||
        a->group_count != b->group_count || a->workload_count != b->workload_count ||
        a->event_count != b->event_count || a->expect_count != b->expect_count)
        return false;
    return memcmp(a->zones, b->zones, sizeof a->zones[0] * a->zone_count) == 0 &&
           memcmp(a->nodes, b->nodes, sizeof a->nodes[0] * a->node_count) == 0 &&
           (a->group_count == 0 ||
            memcmp(a->groups, b->groups, sizeof a->groups[0] * a->group_count) == 0) &&
           (a->workload_count == 0 ||
            memcmp(a->workloads, b->workloads, sizeof a->workloads[0] * a->workload_count) == 0) &&
           (a->event_count == 0 ||
            memcmp(a->events, b->events, sizeof a->events[0] * a->event_count) == 0) &&
           memcmp(a->expects, b->expects, sizeof a->expects[0] * a->expect_count) == 0;
}

/* sim/run_clients: workload clients and timeline operations, their outcomes and per-group histories. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/run_int.h"

/* Client ids in the histories: workload clients count from 1, timeline
 * operations each get their own id from here (one op per "client"). */
#define RUN_TIMELINE_CLIENT_BASE 1000000000ull

int run_clients_plan(rf_sim_runner *r)
{
    const rf_scenario *s = r->scn;
    uint64_t total = 0;
    for (uint32_t w = 0; w < s->workload_count; w++) {
        const rf_scn_workload *wl = &s->workloads[w];
        for (uint32_t g = 0; g < r->n_groups; g++)
            if (wl->all_groups || run_group_matches(&wl->groups, r->groups[g].name))
                total += wl->clients;
    }
    if (total > UINT32_MAX / 2)
        return RF_ETOOBIG;
    r->clients = total == 0 ? NULL : calloc((size_t)total, sizeof *r->clients);
    if (total > 0 && r->clients == NULL)
        return RF_ENOMEM;
    for (uint32_t w = 0; w < s->workload_count; w++) {
        const rf_scn_workload *wl = &s->workloads[w];
        for (uint32_t g = 0; g < r->n_groups; g++) {
            if (!wl->all_groups && !run_group_matches(&wl->groups, r->groups[g].name))
                continue;
            for (uint32_t c = 0; c < wl->clients; c++) {
                run_client *cl = &r->clients[r->n_clients];
                cl->group = g;
                cl->workload = w;
                cl->id = (uint64_t)r->n_clients + 1;
                cl->period_ns = wl->rate_per_ns / wl->rate;
                if (cl->period_ns == 0)
                    cl->period_ns = 1;
                cl->until_ns = wl->until_ns == 0 ? s->run_ns : wl->until_ns;
                rf_sim_engine_stream(r->eng, &cl->rng, "workload", cl->id);
                /* A random phase, so clients do not move in lockstep. */
                uint64_t first = rf_sim_fleet_now(r->fleet) +
                                 rf_pcg32_range64(&cl->rng, 1, cl->period_ns);
                int rc = rf_sim_engine_at(r->eng, first, RK_CLIENT, 0, r->n_clients, NULL);
                if (rc != RF_OK)
                    return rc;
                r->n_clients++;
            }
        }
    }
    return RF_OK;
}

/* One operation of the workload's mix, drawn by its share. */
static const rf_scn_mix *draw_op(run_client *cl, const rf_scn_workload *wl)
{
    uint32_t x = rf_pcg32_bounded(&cl->rng, RF_SCN_PPM_ONE), acc = 0;
    for (uint32_t i = 0; i < wl->mix_count; i++) {
        acc += wl->mix[i].ppm;
        if (x < acc)
            return &wl->mix[i];
    }
    return &wl->mix[wl->mix_count - 1];
}

/* A client issues one operation per period and waits for its reply: a
 * period that finds the previous one still pending passes. */
void run_client_fire(rf_sim_runner *r, uint32_t c)
{
    run_client *cl = &r->clients[c];
    uint64_t now = rf_sim_fleet_now(r->fleet);
    const run_group *g = &r->groups[cl->group];
    if (!cl->busy && g->id != 0 && !g->removed) {
        const rf_scn_mix *m = draw_op(cl, &r->scn->workloads[cl->workload]);
        uint32_t live[RF_SIM_NODES_MAX], n = 0;
        for (uint32_t i = 0; i < r->n_nodes; i++)
            if (run_node_live(r, i) && !r->nodes[i].paused)
                live[n++] = i;
        if (n > 0) {
            int32_t node = (int32_t)live[rf_pcg32_bounded(&cl->rng, n)];
            rf_sim_trace_u64(&r->eng->trace, ((uint64_t)c << 8) | (uint64_t)node);
            cl->busy = true;
            if (run_op_issue(r, cl->group, c, UINT32_MAX, node, m->op, m->query) == 0)
                cl->busy = false;
        }
    }
    if (now + cl->period_ns <= cl->until_ns) {
        int rc = rf_sim_engine_at(r->eng, now + cl->period_ns, RK_CLIENT, 0, c, NULL);
        ASSERT(rc == RF_OK);
    }
}

/* Issues text on group from node; returns the harness request id, 0 when
 * it could not be sent (dead node, request bound reached). */
uint64_t run_op_issue(rf_sim_runner *r, uint32_t group, uint32_t client, uint32_t event,
                      int32_t node, const char *text, bool query)
{
    run_group *g = &r->groups[group];
    uint64_t now = rf_sim_fleet_now(r->fleet);
    if (node < 0 || !run_node_live(r, (uint32_t)node)) {
        if (event != UINT32_MAX)
            run_fail(r, "`%s %s %s` at %.3fs: no live node to call it from", query ? "query" : "command",
                     g->name, text, (double)now / 1e9);
        return 0;
    }
    if (r->n_pending == r->cap_pending) {
        uint32_t cap = r->cap_pending == 0 ? 1024 : r->cap_pending * 2;
        run_pending *p = realloc(r->pending, (size_t)cap * sizeof *p);
        if (p == NULL)
            return 0;
        r->pending = p;
        r->cap_pending = cap;
    }
    run_pending *p = &r->pending[r->n_pending];
    p->group = group;
    p->client = client;
    p->event = event;
    p->query = query;
    p->op = SIZE_MAX;
    if (g->hist_ok) {
        uint64_t cid = client != UINT32_MAX ? r->clients[client].id
                                            : RUN_TIMELINE_CLIENT_BASE + r->n_pending;
        size_t id;
        if (rf_history_invoke(&g->hist, cid, query ? RF_OP_QUERY : RF_OP_COMMAND,
                              (const uint8_t *)text, strlen(text), now, &id) == RF_OK)
            p->op = id;
    }
    /* A reply can come back inside the call (a refused name...): the hook
     * takes it for the op being issued. */
    r->issuing = r->n_pending++;
    uint64_t req = query ? rf_sim_fleet_query(r->fleet, (uint32_t)node, g->name, text)
                         : rf_sim_fleet_command(r->fleet, (uint32_t)node, g->name, text);
    r->issuing = RUN_NO_REQ;
    if (req == 0 || req > r->requests_max) {
        /* Never sent: surely not applied. */
        if (p->op != SIZE_MAX)
            (void)rf_history_complete(&g->hist, p->op, RF_OP_FAIL, NULL, 0, now);
        r->ops_fail++;
        r->ops_unsent++;
        return 0;
    }
    if (r->req_map[req - 1] == RUN_NO_REQ)
        r->req_map[req - 1] = r->n_pending - 1;
    run_log(r, "%s %s \"%s\" from %s (request %llu)", query ? "query" : "command", g->name, text,
            r->scn->nodes[node].name, (unsigned long long)req);
    return req;
}

/* RaftFleet's error names, as scenarios write them after `expect error`. */
const char *run_err_label(int status)
{
    switch (status) {
    case RF_OK: return "ok";
    case RF_ENOLEADER: return "no_leader";
    case RF_ENOTINACTIVE: return "not_inactive";
    case RF_EINACTIVE: return "inactive";
    case RF_EALREADYADDED: return "already_added";
    case RF_ENOACTIVENODE: return "no_active_node";
    case RF_ECLEANUP: return "cleanup_ongoing";
    case RF_ENOTFOUND: return "not_found";
    case RF_ENODEDOWN: return "node_down";
    default: return rf_errname(status);
    }
}

static void check_expected(rf_sim_runner *r, const run_pending *p, int status,
                           const uint8_t *data, uint32_t len)
{
    const rf_scn_event *e = &r->scn->events[p->event];
    char got[RF_SCN_OP_MAX + 64];
    size_t n = len < RF_SCN_OP_MAX ? len : RF_SCN_OP_MAX;
    bool ok;
    if (status == RF_OK)
        snprintf(got, sizeof got, "{ok, \"%.*s\"}", (int)n, (const char *)data);
    else
        snprintf(got, sizeof got, "error %s", run_err_label(status));
    if (e->expect == RF_SCN_EXPECT_REPLY)
        ok = status == RF_OK && strlen(e->reply) == len && memcmp(e->reply, data, len) == 0;
    else if (e->expect == RF_SCN_EXPECT_ERROR)
        ok = status != RF_OK && strcmp(run_err_label(status), e->reply) == 0;
    else
        return;
    const char *what = e->kind == RF_SCN_EV_QUERY ? "query" : "command";
    if (ok) {
        run_log(r, "%s %s \"%s\" replied %s as expected", what, e->group.names.prefix, e->op, got);
        return;
    }
    run_fail(r, "`%s %s \"%s\"` at %.3fs expected %s%s, got %s", what, e->group.names.prefix,
             e->op, (double)e->at.lo / 1e9, e->expect == RF_SCN_EXPECT_ERROR ? "error " : "",
             e->reply, got);
}

/* A fleet reply: the op's outcome. A model's own rejection is a reply
 * (every replica gives it), so it is ok; no_leader and the like leave a
 * command unknown (an attempt may have been applied) and a query failed
 * (a read changes nothing). */
void run_on_reply(void *ctx, uint64_t req, int status, const uint8_t *data, uint32_t len)
{
    rf_sim_runner *r = ctx;
    if (req == 0 || req > r->requests_max)
        return;
    uint32_t pi = r->req_map[req - 1];
    if (pi == RUN_NO_REQ)
        pi = r->issuing; /* the reply to the request being issued */
    if (pi >= r->n_pending)
        return;
    run_pending *p = &r->pending[pi];
    run_group *g = &r->groups[p->group];
    uint64_t now = rf_sim_fleet_now(r->fleet);
    bool answered = status == RF_OK || len > 0;
    rf_op_status st = answered ? RF_OP_OK : p->query ? RF_OP_FAIL : RF_OP_UNKNOWN;
    if (st == RF_OP_OK)
        r->ops_ok++;
    else if (st == RF_OP_FAIL)
        r->ops_fail++;
    else
        r->ops_unknown++;
    if (p->op != SIZE_MAX)
        (void)rf_history_complete(&g->hist, p->op, st, st == RF_OP_OK ? data : NULL,
                                  st == RF_OP_OK ? len : 0,
                                  st == RF_OP_UNKNOWN ? RF_HISTORY_NO_RETURN : now);
    if (p->client != UINT32_MAX)
        r->clients[p->client].busy = false;
    if (p->event != UINT32_MAX)
        check_expected(r, p, status, data, len);
    r->req_map[req - 1] = RUN_NO_REQ - 1;
}

/* At the end: ops still in flight are unknown; a timeline op with an
 * expectation that never got its reply fails it. */
void run_ops_finish(rf_sim_runner *r)
{
    for (uint64_t q = 0; q < r->requests_max; q++) {
        uint32_t pi = r->req_map[q];
        if (pi >= r->n_pending)
            continue;
        const run_pending *p = &r->pending[pi];
        r->ops_unknown++;
        if (p->op != SIZE_MAX)
            (void)rf_history_complete(&r->groups[p->group].hist, p->op, RF_OP_UNKNOWN, NULL, 0,
                                      RF_HISTORY_NO_RETURN);
        if (p->event != UINT32_MAX && r->scn->events[p->event].expect != RF_SCN_EXPECT_NONE) {
            const rf_scn_event *e = &r->scn->events[p->event];
            run_fail(r, "`%s %s \"%s\"` at %.3fs expected a reply and got none by the end of the run",
                     e->kind == RF_SCN_EV_QUERY ? "query" : "command", e->group.names.prefix,
                     e->op, (double)e->at.lo / 1e9);
        }
    }
}

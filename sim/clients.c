/* sim/clients: simulated clients of the int model: one op at a time, retried with the same (client, seq). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/cluster_int.h"

static uint64_t client_latency(rf_sim_cluster *c, sim_client *cl)
{
    uint64_t hi = c->cfg.client_latency_ns_max;
    uint64_t d = rf_pcg32_range64(&cl->rng, hi / 4, hi);
    rf_sim_trace_u64(&c->eng.trace, d);
    return d;
}

static void schedule(rf_sim_cluster *c, uint64_t delay, uint32_t kind, uint32_t node, uint64_t arg,
                     void *ptr)
{
    if (rf_sim_engine_after(&c->eng, delay, kind, node, arg, ptr) != RF_OK) {
        free(ptr);
        rf_sim_check_fail(&c->check, RF_SIM_V_HARNESS, "event queue full");
    }
}

static void attempt(rf_sim_cluster *c, sim_client *cl)
{
    rf_sim_op *op = &c->ops[cl->op];
    cl->request_id = ((uint64_t)cl->id << SIM_REQ_SHIFT) | ++cl->attempts_total;
    op->attempts++;
    sim_request *rq = calloc(1, sizeof(*rq));
    ASSERT(rq != NULL);
    rq->client = cl->id - 1;
    rq->request_id = cl->request_id;
    rq->seq = op->seq;
    rq->len = (uint32_t)strlen(op->op);
    memcpy(rq->text, op->op, rq->len);
    schedule(c, client_latency(c, cl), SIM_K_CLIENT_REQ, cl->target, 0, rq);
    schedule(c, c->cfg.client_timeout_ns, SIM_K_CLIENT_TIMEOUT, cl->id - 1, cl->request_id, NULL);
}

static void next_op_later(rf_sim_cluster *c, sim_client *cl)
{
    cl->op = -1;
    if (c->draining)
        return;
    uint64_t think = 1 + rf_pcg32_range64(&cl->rng, 0, c->cfg.client_think_ns_max);
    schedule(c, think, SIM_K_CLIENT_START, cl->id - 1, 0, NULL);
}

static void finish(rf_sim_cluster *c, sim_client *cl, rf_sim_op_status status, const char *reply)
{
    rf_sim_op *op = &c->ops[cl->op];
    op->status = status;
    op->return_ns = status == RF_SIM_OP_UNKNOWN ? 0 : c->eng.now_ns;
    if (reply != NULL)
        snprintf(op->reply, sizeof(op->reply), "%s", reply);
    next_op_later(c, cl);
}

/* A failed attempt: retry (same seq) elsewhere, or give up at the deadline. */
static void retry_or_give_up(rf_sim_cluster *c, sim_client *cl, uint64_t hint)
{
    rf_sim_op *op = &c->ops[cl->op];
    if (c->eng.now_ns >= cl->deadline_ns) {
        bool unknown = !op->is_query && cl->maybe_applied;
        finish(c, cl, unknown ? RF_SIM_OP_UNKNOWN : RF_SIM_OP_FAIL, NULL);
        return;
    }
    if (hint != 0 && hint <= c->cfg.nodes && hint - 1 != cl->target)
        cl->target = (uint32_t)(hint - 1);
    else
        cl->target = rf_pcg32_bounded(&cl->rng, c->cfg.nodes);
    uint64_t backoff = 1 + rf_pcg32_range64(&cl->rng, 0, c->cfg.client_think_ns_max);
    schedule(c, backoff, SIM_K_CLIENT_START, cl->id - 1, cl->request_id, NULL);
}

static void new_op(rf_sim_cluster *c, sim_client *cl)
{
    if (c->n_ops == c->cap_ops) {
        uint64_t cap = c->cap_ops == 0 ? 1024 : c->cap_ops * 2;
        rf_sim_op *ops = cap <= RF_SIM_OPS_MAX ? realloc(c->ops, cap * sizeof(*ops)) : NULL;
        if (ops == NULL) {
            rf_sim_check_fail(&c->check, RF_SIM_V_HARNESS, "more than %u client ops", RF_SIM_OPS_MAX);
            return;
        }
        c->ops = ops;
        c->cap_ops = cap;
    }
    rf_sim_op *op = &c->ops[c->n_ops];
    memset(op, 0, sizeof(*op));
    op->client = cl->id - 1;
    op->call_ns = c->eng.now_ns;
    uint32_t r = rf_pcg32_bounded(&cl->rng, RF_SIM_PPM);
    if (r < c->cfg.query_ppm) {
        op->is_query = true;
        snprintf(op->op, sizeof(op->op), "get");
    } else {
        op->seq = ++cl->seq;
        if (rf_pcg32_bounded(&cl->rng, 2) == 0)
            snprintf(op->op, sizeof(op->op), "inc");
        else
            snprintf(op->op, sizeof(op->op), "set %u", rf_pcg32_bounded(&cl->rng, 1000));
    }
    rf_sim_trace_u64(&c->eng.trace, r);
    cl->op = (int64_t)c->n_ops++;
    cl->maybe_applied = false;
    cl->deadline_ns = c->eng.now_ns + c->cfg.client_op_ns_max;
    attempt(c, cl);
}

static void on_start(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    (void)e;
    rf_sim_cluster *c = ctx;
    sim_client *cl = &c->clients[ev->node];
    if (ev->arg == 0) {
        if (cl->op < 0 && !c->draining)
            new_op(c, cl);
    } else if (cl->op >= 0 && ev->arg == cl->request_id) {
        attempt(c, cl); /* the retry after a failed attempt */
    }
}

static void on_timeout(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    (void)e;
    rf_sim_cluster *c = ctx;
    sim_client *cl = &c->clients[ev->node];
    if (cl->op < 0 || ev->arg != cl->request_id)
        return;
    cl->maybe_applied = true; /* the request may have reached the log */
    retry_or_give_up(c, cl, 0);
}

static void on_reply(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    (void)e;
    rf_sim_cluster *c = ctx;
    sim_client *cl = &c->clients[ev->node];
    sim_creply *rp = ev->ptr;
    if (cl->op >= 0 && rp->request_id == cl->request_id) {
        rf_sim_op *op = &c->ops[cl->op];
        if (rp->status == RF_OK) {
            if (!op->is_query)
                rf_sim_check_ack(&c->check, cl->id, op->seq, rp->reply_hash);
            finish(c, cl, RF_SIM_OP_OK, rp->text);
        } else {
            if (!rp->definite)
                cl->maybe_applied = true;
            retry_or_give_up(c, cl, rp->leader_hint);
        }
    }
    free(rp);
}

static void on_request(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    (void)e;
    rf_sim_cluster *c = ctx;
    sim_node *n = &c->nodes[ev->node];
    sim_request *rq = ev->ptr;
    if (n->paused && n->n_deferred < RF_SIM_DEFERRED_MAX) {
        n->deferred[n->n_deferred++] = *ev;
        return;
    }
    if (n->raft != NULL && !n->paused) {
        const uint8_t *b = (const uint8_t *)rq->text;
        sim_node_clock(c, n);
        int rc = rq->seq == 0 ? rf_raft_read(n->raft, rq->request_id, b, rq->len)
                              /* one op at a time: every earlier one has ended */
                              : rf_raft_propose(n->raft, rq->request_id, rq->client + 1, rq->seq,
                                                rq->seq, b, rq->len);
        if (rc != RF_OK)
            n->sync_refused = rq->request_id;
        sim_node_drain(c, n);
    }
    free(rq);
}

void sim_clients_reply(rf_sim_cluster *c, sim_node *n, const rf_reply *rp)
{
    uint64_t cid = rp->request_id >> SIM_REQ_SHIFT;
    if (cid == 0) {
        if (rp->status == RF_OK)
            c->stats.admin_ok++;
        else
            c->stats.admin_failed++;
        sim_log(c, "n%u: admin request %" PRIu64 " -> %s", n->index + 1, rp->request_id,
                rf_errname(rp->status));
        return;
    }
    if (cid > c->cfg.clients)
        return;
    sim_creply *q = calloc(1, sizeof(*q));
    ASSERT(q != NULL);
    q->request_id = rp->request_id;
    q->status = rp->status;
    q->leader_hint = rp->leader_hint;
    q->definite = rp->request_id == n->sync_refused;
    /* The same hash the apply checker records for this command's reply. */
    q->reply_hash = rf_sim_check_hash(rp->data, rp->len) ^ (uint64_t)(uint32_t)rp->status;
    size_t len = rp->len < sizeof(q->text) - 1 ? rp->len : sizeof(q->text) - 1;
    if (len > 0)
        memcpy(q->text, rp->data, len);
    sim_client *cl = &c->clients[cid - 1];
    schedule(c, client_latency(c, cl), SIM_K_CLIENT_REPLY, (uint32_t)(cid - 1), 0, q);
}

static void drop_ptr(void *ctx, const rf_sim_event *ev)
{
    (void)ctx;
    free(ev->ptr);
}

void sim_clients_register(rf_sim_cluster *c)
{
    rf_sim_engine_on(&c->eng, SIM_K_CLIENT_REQ, on_request, drop_ptr, c);
    rf_sim_engine_on(&c->eng, SIM_K_CLIENT_REPLY, on_reply, drop_ptr, c);
    rf_sim_engine_on(&c->eng, SIM_K_CLIENT_TIMEOUT, on_timeout, NULL, c);
    rf_sim_engine_on(&c->eng, SIM_K_CLIENT_START, on_start, NULL, c);
}

void sim_clients_start(rf_sim_cluster *c)
{
    for (uint32_t i = 0; i < c->cfg.clients; i++) {
        sim_client *cl = &c->clients[i];
        cl->id = i + 1;
        cl->op = -1;
        rf_sim_engine_stream(&c->eng, &cl->rng, "workload", cl->id);
        cl->target = rf_pcg32_bounded(&cl->rng, c->cfg.nodes);
        next_op_later(c, cl);
    }
}

void sim_clients_close(rf_sim_cluster *c)
{
    free(c->ops);
    c->ops = NULL;
    c->n_ops = c->cap_ops = 0;
}

void rf_sim_cluster_clients_drain(rf_sim_cluster *c, bool drain)
{
    bool was = c->draining;
    c->draining = drain;
    if (!was || drain)
        return;
    for (uint32_t i = 0; i < c->cfg.clients; i++)
        if (c->clients[i].op < 0)
            next_op_later(c, &c->clients[i]);
}

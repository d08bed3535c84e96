/* sim/fleet_cluster: rf_node instances stepped by the sim engine over the simulated network. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/fleet_int.h"

void rf_sim_fleet_config_defaults(rf_sim_fleet_config *cfg, uint32_t nodes)
{
    const uint64_t ms = 1000u * 1000u;
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 1;
    cfg->nodes = nodes;
    rf_node_config_defaults(&cfg->node);
    cfg->node.raft.election_timeout_ns = 100 * ms;
    cfg->node.raft.heartbeat_interval_ns = 20 * ms;
    cfg->node.raft.lease_drift_ns = 20 * ms;
    cfg->node.raft.transfer_timeout_ns = 300 * ms;
    cfg->node.rebalance_interval_ns = 200 * ms;
    cfg->node.attempt_timeout_ns = 300 * ms;
    cfg->node.retry_interval_ns = 100 * ms;
    cfg->node.retries_max = 5;
    cfg->node.purge_window_ns = 2 * 1000 * ms;
    cfg->node.quiesce_after_ns = 500 * ms;
    cfg->net.latency_ns_base = ms;
    cfg->net.latency_ns_jitter = ms / 2;
    cfg->tick_ns = 10 * ms;
    cfg->disk_ns = ms / 2;
    cfg->hint_unreachable = true;
    cfg->check_safety = true;
    cfg->events_max = 1u << 20;
}

/* ---- performing a node's outputs ------------------------------------------------ */

static void send_envelope(rf_sim_fleet *f, uint32_t from, const rf_node_envelope *e)
{
    uint64_t at[2];
    f->stats.envelopes++;
    f->stats.envelope_bytes += e->len;
    /* Every byte a node sends goes into the trace: equal hashes, equal runs. */
    rf_sim_trace_u64(&f->eng.trace, e->to);
    rf_sim_trace_bytes(&f->eng.trace, e->data, e->len);
    fleet_durable_check_sent(f, from, e->data, e->len);
    if (e->to == 0 || e->to > f->cfg.nodes)
        return;
    uint32_t to = (uint32_t)(e->to - 1);
    uint32_t copies = rf_sim_net_send(&f->net, f->eng.now_ns, from, to, at);
    for (uint32_t i = 0; i < copies; i++) {
        fleet_packet *p = fleet_packet_new(f, e->len);
        if (p == NULL)
            return;
        p->from = from;
        p->len = (uint32_t)e->len;
        p->to_inc = f->nodes[to].incarnation;
        memcpy(p->bytes, e->data, e->len);
        if (rf_sim_engine_at(&f->eng, at[i], FK_DELIVER, to, 0, p) != RF_OK)
            fleet_packet_free(f, p);
    }
}

static void record_reply(rf_sim_fleet *f, const rf_node_reply *r)
{
    if (r->request_id == 0 || r->request_id > f->n_requests)
        return;
    fleet_reply *fr = &f->replies[r->request_id - 1];
    ASSERT(!fr->done); /* exactly one reply per request */
    fr->done = true;
    fr->status = r->status;
    size_t n = r->len < RF_SIM_FLEET_REPLY_TEXT_MAX - 1 ? r->len : RF_SIM_FLEET_REPLY_TEXT_MAX - 1;
    if (n > 0)
        memcpy(fr->text, r->data, n);
    fr->text[n] = '\0';
    if (f->hooks.reply != NULL)
        f->hooks.reply(f->hooks.ctx, r->request_id, r->status, r->data, r->len);
}

/* Every request made to a node that crashed gets RF_ENODEDOWN, as a client
 * whose connection breaks: a command may or may not have been applied. */
void fleet_replies_down(rf_sim_fleet *f, uint32_t index)
{
    while (f->replies_low < f->n_requests && f->replies[f->replies_low].done)
        f->replies_low++;
    for (uint64_t q = f->replies_low; q < f->n_requests; q++)
        if (!f->replies[q].done && f->replies[q].node == index) {
            rf_node_reply r = {.request_id = q + 1, .status = RF_ENODEDOWN};
            record_reply(f, &r);
        }
}

/* A harness failure: the first one is kept. */
void fleet_fail(rf_sim_fleet *f, const char *fmt, ...)
{
    if (f->failures++ > 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->failure, sizeof f->failure, fmt, ap);
    va_end(ap);
}

static void record_obs(rf_sim_fleet *f, uint32_t index, const rf_node_obs *o)
{
    if (f->hooks.obs != NULL)
        f->hooks.obs(f->hooks.ctx, index, o);
    if (f->n_obs < RF_SIM_FLEET_OBS_MAX) {
        rf_sim_fleet_obs *so = &f->obs[f->n_obs];
        so->time_ns = f->eng.now_ns;
        so->node = index;
        so->obs = *o;
    }
    f->n_obs++;
    if (o->kind >= 16)
        return;
    f->stats.obs[o->kind]++;
    if (o->group_id > RF_META_GROUP_ID)
        f->stats.obs_user[o->kind]++;
}

/* Drains every batch the node has: persist, send, replies, observations;
 * then starts a commit if the disk is idle. */
void fleet_drain(rf_sim_fleet *f, uint32_t index)
{
    fleet_node *fn = &f->nodes[index];
    while (fn->node != NULL && rf_node_has_ready(fn->node)) {
        rf_node_batch b;
        rf_node_ready(fn->node, &b);
        /* The writes are taken first: what follows may promise them. */
        if (b.persist_token != 0 && !fleet_disk_add(f, index, &b))
            return; /* the node is down */
        f->stats.persist_batches += b.persist_token != 0;
        for (size_t i = 0; i < b.n_envelopes; i++)
            send_envelope(f, index, &b.envelopes[i]);
        for (size_t i = 0; i < b.n_replies; i++)
            record_reply(f, &b.replies[i]);
        for (size_t i = 0; i < b.n_applied && f->hooks.applied != NULL; i++)
            f->hooks.applied(f->hooks.ctx, index, &b.applied[i]);
        for (size_t i = 0; i < b.n_obs; i++)
            record_obs(f, index, &b.obs[i]);
        if (f->check != NULL)
            rf_sim_fleet_check_batch(f->check, index, fn->node, &b);
        if (f->hooks.groups != NULL && b.n_groups > 0)
            f->hooks.groups(f->hooks.ctx, index, b.groups, b.n_groups);
        rf_node_advance(fn->node);
    }
    if (f->check != NULL && fn->node != NULL)
        rf_sim_fleet_check_after(f->check, index, fn->node);
    fleet_disk_kick(f, index);
}

/* ---- events ----------------------------------------------------------------------- */

/* The node's own clock at simulated time now (clock drift). */
static uint64_t node_clock(const fleet_node *fn, uint64_t now)
{
    uint64_t d = now - fn->clock_sim0;
    int64_t skew = (int64_t)(d / 1000000u) * fn->drift_ppm +
                   (int64_t)(d % 1000000u) * fn->drift_ppm / 1000000;
    return fn->clock_node0 + d + (uint64_t)skew; /* |ppm| < 10^6: still increasing */
}

/* rf_sim_fleet_peek: the leader lease check's view of node index. */
static bool peek_node(void *ctx, uint32_t index, const rf_node **n, uint64_t *clock,
                      int32_t *drift_ppm)
{
    const rf_sim_fleet *f = ctx;
    const fleet_node *fn = &f->nodes[index];
    *n = fn->node;
    *clock = node_clock(fn, f->eng.now_ns);
    *drift_ppm = fn->drift_ppm;
    return fn->node != NULL;
}

/* A paused node takes no input: the event waits for the resume, in the
 * order it fired. True when taken (the caller must not touch ev->ptr); a
 * message that finds no room is lost, as a full socket buffer loses it. */
bool fleet_held(rf_sim_fleet *f, const rf_sim_event *ev)
{
    fleet_node *fn = &f->nodes[ev->node];
    if (!fn->paused)
        return false;
    if (fn->n_held == fn->cap_held) {
        uint32_t cap = fn->cap_held == 0 ? 64 : fn->cap_held * 2;
        rf_sim_event *h = realloc(fn->held, (size_t)cap * sizeof *h);
        if (h == NULL) {
            ASSERT(ev->kind == FK_DELIVER); /* a disk completion is never dropped */
            fleet_packet_free(f, ev->ptr);
            return true;
        }
        fn->held = h;
        fn->cap_held = cap;
    }
    fn->held[fn->n_held++] = *ev;
    return true;
}

static void on_deliver(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    rf_sim_fleet *f = ctx;
    fleet_packet *p = ev->ptr;
    fleet_node *fn = &f->nodes[ev->node];
    bool alive = fn->node != NULL && p->to_inc == fn->incarnation;
    if (alive && fleet_held(f, ev))
        return;
    if (alive && !rf_sim_net_is_cut(&f->net, p->from, ev->node, e->now_ns)) {
        if (rf_node_receive(fn->node, p->from + 1, p->bytes, p->len) != RF_OK)
            f->stats.receive_errors++;
        fleet_drain(f, ev->node);
    }
    fleet_packet_free(f, p);
}

static void drop_packet(void *ctx, const rf_sim_event *ev)
{
    fleet_packet_free(ctx, ev->ptr);
}

static void on_tick(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    rf_sim_fleet *f = ctx;
    fleet_node *fn = &f->nodes[ev->node];
    if (fn->node == NULL || ev->arg != fn->incarnation)
        return; /* a crash ended this incarnation's ticks */
    /* A tick with nothing due only moves the node's clock: no output, and
     * nothing for the checkers to look at (every input was drained). */
    if (!fn->paused && rf_node_tick(fn->node, node_clock(fn, e->now_ns)))
        fleet_drain(f, ev->node);
    int rc = rf_sim_engine_after(e, f->cfg.tick_ns, FK_TICK, ev->node, fn->incarnation, NULL);
    ASSERT(rc == RF_OK);
}

void fleet_tick_start(rf_sim_fleet *f, uint32_t index, uint64_t delay_ns)
{
    int rc = rf_sim_engine_after(&f->eng, delay_ns, FK_TICK, index, f->nodes[index].incarnation,
                                 NULL);
    ASSERT(rc == RF_OK);
}

int rf_sim_fleet_create(const rf_sim_fleet_config *cfg, rf_sim_fleet **out)
{
    if (cfg->nodes == 0 || cfg->nodes > RF_SIM_NODES_MAX || cfg->tick_ns == 0)
        return RF_EINVAL;
    rf_sim_fleet *f = calloc(1, sizeof *f);
    if (f == NULL)
        return RF_ENOMEM;
    f->cfg = *cfg;
    if (f->cfg.requests_max == 0)
        f->cfg.requests_max = RF_SIM_FLEET_REQUESTS_MAX;
    f->replies = calloc(f->cfg.requests_max, sizeof *f->replies);
    f->obs = malloc(RF_SIM_FLEET_OBS_MAX * sizeof *f->obs);
    int rc = f->replies == NULL || f->obs == NULL
                 ? RF_ENOMEM
                 : rf_sim_engine_init(&f->eng, cfg->seed, cfg->events_max);
    if (rc != RF_OK) {
        free(f->obs);
        free(f->replies);
        free(f);
        return rc;
    }
    if (cfg->check_safety && (rc = rf_sim_fleet_check_create(cfg->nodes, &f->check)) == RF_OK)
        rf_sim_fleet_check_peek(f->check, peek_node, f);
    if (rc != RF_OK) {
        rf_sim_engine_close(&f->eng);
        free(f->obs);
        free(f->replies);
        free(f);
        return rc;
    }
    rf_sim_net_init(&f->net, &f->eng, cfg->nodes, &cfg->net);
    rf_sim_engine_on(&f->eng, FK_DELIVER, on_deliver, drop_packet, f);
    rf_sim_engine_on(&f->eng, FK_TICK, on_tick, NULL, f);
    rf_sim_engine_on(&f->eng, FK_DISK, fleet_on_disk, NULL, f);
    for (uint32_t i = 0; i < cfg->nodes && rc == RF_OK; i++) {
        snprintf(f->nodes[i].name, sizeof f->nodes[i].name, "n%u", i + 1);
        rc = fleet_disk_open(f, i);
        char why[RF_SIM_FLEET_FAILURE_TEXT_MAX];
        if (rc == RF_OK)
            rc = rf_sim_fleet_restart(f, i, why, sizeof why);
    }
    if (rc != RF_OK) {
        rf_sim_fleet_close(f);
        return rc;
    }
    *out = f;
    return RF_OK;
}

void rf_sim_fleet_close(rf_sim_fleet *f)
{
    if (f == NULL)
        return;
    rf_sim_engine_close(&f->eng);
    for (uint32_t i = 0; i < RF_SIM_NODES_MAX; i++) {
        rf_node_close(f->nodes[i].node);
        fleet_disk_close(f, i);
        for (uint32_t k = 0; k < f->nodes[i].n_held; k++)
            if (f->nodes[i].held[k].kind == FK_DELIVER)
                fleet_packet_free(f, f->nodes[i].held[k].ptr);
        free(f->nodes[i].held);
    }
    fleet_packets_free(f);
    rf_sim_fleet_check_close(f->check);
    free(f->obs);
    free(f->replies);
    free(f);
}

const rf_sim_fleet_obs *rf_sim_fleet_observations(const rf_sim_fleet *f, uint64_t *n)
{
    *n = f->n_obs;
    return f->obs;
}

uint64_t rf_sim_fleet_checks(const rf_sim_fleet *f)
{
    return f->check == NULL ? 0 : rf_sim_fleet_check_count(f->check);
}

void rf_sim_fleet_sweep(rf_sim_fleet *f)
{
    for (uint32_t i = 0; i < f->cfg.nodes && f->check != NULL; i++)
        if (f->nodes[i].node != NULL)
            rf_sim_fleet_check_sweep(f->check, i, f->nodes[i].node);
}

uint64_t rf_sim_fleet_failures(const rf_sim_fleet *f, const char **first_text)
{
    if (first_text != NULL)
        *first_text = f->failures > 0 ? f->failure : NULL;
    return f->failures;
}

uint64_t rf_sim_fleet_violations(const rf_sim_fleet *f, const char **first_text)
{
    const rf_sim_violation *v = NULL;
    uint64_t n = f->check == NULL ? 0 : rf_sim_fleet_check_violations(f->check, &v);
    if (first_text != NULL)
        *first_text = v == NULL ? NULL : v->text;
    return n;
}

uint64_t rf_sim_fleet_lives(const rf_sim_fleet *f)
{
    uint64_t lives = 0;
    for (uint32_t i = 0; i < f->cfg.nodes; i++)
        lives += 2 * f->nodes[i].incarnation + (f->nodes[i].node != NULL);
    return lives;
}
rf_sim_engine *rf_sim_fleet_engine(rf_sim_fleet *f) { return &f->eng; }
rf_sim_net *rf_sim_fleet_net(rf_sim_fleet *f) { return &f->net; }
uint64_t rf_sim_fleet_now(const rf_sim_fleet *f) { return f->eng.now_ns; }

void rf_sim_fleet_run_until(rf_sim_fleet *f, uint64_t until_ns)
{
    rf_sim_engine_run_until(&f->eng, until_ns);
}

const rf_node *rf_sim_fleet_node(const rf_sim_fleet *f, uint32_t index)
{
    return index < f->cfg.nodes ? f->nodes[index].node : NULL;
}

void rf_sim_fleet_stats_get(const rf_sim_fleet *f, rf_sim_fleet_stats *out)
{
    *out = f->stats;
}

void rf_sim_fleet_pause(rf_sim_fleet *f, uint32_t index, bool paused)
{
    if (index >= f->cfg.nodes)
        return;
    fleet_node *fn = &f->nodes[index];
    fn->paused = paused;
    if (paused)
        return;
    /* What waited comes in now, in the order it arrived. */
    for (uint32_t i = 0; i < fn->n_held; i++) {
        const rf_sim_event *ev = &fn->held[i];
        int rc = rf_sim_engine_at(&f->eng, f->eng.now_ns, ev->kind, index, ev->arg, ev->ptr);
        ASSERT(rc == RF_OK);
    }
    fn->n_held = 0;
}

bool rf_sim_fleet_paused(const rf_sim_fleet *f, uint32_t index)
{
    return index < f->cfg.nodes && f->nodes[index].paused;
}

void rf_sim_fleet_drift(rf_sim_fleet *f, uint32_t index, int32_t ppm)
{
    if (index >= f->cfg.nodes || ppm <= -1000000 || ppm >= 1000000)
        return;
    fleet_node *fn = &f->nodes[index];
    fn->clock_node0 = node_clock(fn, f->eng.now_ns);
    fn->clock_sim0 = f->eng.now_ns;
    fn->drift_ppm = ppm;
}

void rf_sim_fleet_isolate(rf_sim_fleet *f, uint32_t index, bool isolated)
{
    if (index >= f->cfg.nodes)
        return;
    if (isolated)
        rf_sim_net_isolate(&f->net, index);
    else
        rf_sim_net_heal(&f->net);
    for (uint32_t i = 0; i < f->cfg.nodes; i++) {
        rf_node *a = f->nodes[i].node, *b = f->nodes[index].node;
        if (i == index || a == NULL || !f->cfg.hint_unreachable)
            continue;
        if (isolated) {
            rf_node_peer_unreachable(a, (uint64_t)index + 1);
            if (b != NULL)
                rf_node_peer_unreachable(b, (uint64_t)i + 1);
        } else {
            rf_node_peer_reachable(a, (uint64_t)index + 1);
            if (b != NULL)
                rf_node_peer_reachable(b, (uint64_t)i + 1);
        }
        fleet_drain(f, i);
    }
    fleet_drain(f, index);
}

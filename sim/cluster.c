/* sim/cluster: nodes hosting Raft members, stepped by engine events, checked after every step. */
#include "sim/cluster_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"

void rf_sim_cluster_config_defaults(rf_sim_cluster_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->seed = 1;
    cfg->nodes = 3;
    cfg->voters = 3;
    cfg->group_id = 1;
    cfg->model = &rf_model_int;
    rf_raft_config_defaults(&cfg->raft);
    cfg->raft.election_timeout_ns = 100000000;
    cfg->raft.heartbeat_interval_ns = 20000000;
    cfg->raft.lease_drift_ns = 20000000;
    cfg->raft.transfer_timeout_ns = 200000000;
    cfg->net = (rf_sim_net_config){.latency_ns_base = 500000, .latency_ns_jitter = 1000000};
    cfg->tick_ns = 10000000;
    cfg->disk_ns_min = 200000;
    cfg->disk_ns_max = 2000000;
    cfg->torn_ppm = 500000;
    cfg->clients = 3;
    cfg->client_latency_ns_max = 1000000;
    cfg->client_timeout_ns = 300000000;
    cfg->client_op_ns_max = 3000000000ULL;
    cfg->client_think_ns_max = 20000000;
    cfg->query_ppm = 300000;
    cfg->events_max = 1u << 20;
}

void sim_log(rf_sim_cluster *c, const char *fmt, ...)
{
    if (c->cfg.log == NULL)
        return;
    uint64_t t = c->eng.now_ns;
    fprintf(c->cfg.log, "%4" PRIu64 ".%06" PRIu64 " ", t / 1000000000u, (t / 1000u) % 1000000u);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->cfg.log, fmt, ap);
    va_end(ap);
    fputc('\n', c->cfg.log);
}

/* The node's clock: virtual time scaled by its drift since the last change. */
static uint64_t local_now(const rf_sim_cluster *c, const sim_node *n)
{
    uint64_t d = c->eng.now_ns - n->virt_base_ns;
    __int128 scaled = (__int128)d * (1000000 + (__int128)n->drift_ppm) / 1000000;
    return n->local_base_ns + (uint64_t)scaled;
}

void sim_node_clock(rf_sim_cluster *c, sim_node *n)
{
    ASSERT(n->raft != NULL);
    rf_raft_tick(n->raft, local_now(c, n));
}

static void after_step_checks(rf_sim_cluster *c, sim_node *n)
{
    const rf_raft *r = n->raft;
    if (r != NULL) {
        if (rf_raft_role(r) == RF_ROLE_LEADER) {
            uint64_t term = rf_raft_term(r);
            rf_sim_check_leader(&c->check, n->index, term);
            if (term != n->last_leader_term) {
                n->last_leader_term = term;
                c->stats.leader_changes++;
            }
        }
        uint64_t last = rf_raft_last_index(r);
        rf_sim_check_last(&c->check, n->index, last, rf_raft_term_at(r, last));
        if (rf_raft_commit_index(r) > c->stats.max_commit)
            c->stats.max_commit = rf_raft_commit_index(r);
    }
    if (c->check.violations > 0 && !c->eng.stopped) {
        sim_log(c, "VIOLATION %s", c->check.first.text);
        rf_sim_engine_stop(&c->eng);
    }
}

/* ---- ready processing ---- */

/* Within one term a follower never drops an entry it acknowledged to that
 * term's leader: the leader may already count it toward a commit (Raft
 * paper §5.3: only entries that conflict are removed, and one leader's
 * entries never conflict with themselves). */
static void check_acked_kept(rf_sim_cluster *c, sim_node *n, uint64_t drop_from)
{
    if (n->ack_term == 0 || n->ack_term != rf_raft_term(n->raft) || drop_from > n->ack_index)
        return;
    rf_sim_check_fail(&c->check, RF_SIM_V_DURABILITY,
                      "n%u drops its log from %" PRIu64 " in term %" PRIu64
                      " after acknowledging up to %" PRIu64 " in that term",
                      n->index + 1, drop_from, n->ack_term, n->ack_index);
}

static void mirror_log(rf_sim_cluster *c, sim_node *n, const rf_ready *rd)
{
    rf_sim_check *k = &c->check;
    uint64_t last = rf_sim_check_last_index(k, n->index);
    if (rd->truncate_from != 0 && rd->truncate_from <= last)
        check_acked_kept(c, n, rd->truncate_from);
    for (size_t i = 0; i < rd->n_entries && rd->entries[i].index <= last; i++) {
        const rf_entry *e = &rd->entries[i];
        if (rf_sim_check_term_at(k, n->index, e->index) != e->term) {
            check_acked_kept(c, n, e->index); /* an overwrite */
            break;
        }
    }
    if (rd->has_snapshot)
        rf_sim_check_snapshot(k, n->index, rd->snapshot.index, rd->snapshot.term);
    uint64_t from = rd->n_entries > 0 ? rd->entries[0].index : 0;
    if (rd->truncate_from != 0 && rd->truncate_from != from &&
        rd->truncate_from <= rf_sim_check_last_index(k, n->index))
        rf_sim_check_append(k, n->index, rd->truncate_from, NULL, NULL, 0);
    if (rd->n_entries == 0)
        return;
    uint64_t terms[256], ph[256];
    for (size_t i = 0; i < rd->n_entries; i += 256) {
        size_t m = rd->n_entries - i < 256 ? rd->n_entries - i : 256;
        for (size_t j = 0; j < m; j++) {
            const rf_entry *e = &rd->entries[i + j];
            terms[j] = e->term;
            ph[j] = rf_sim_check_payload(e->kind, e->client_id, e->sequence, e->data, e->len);
        }
        rf_sim_check_append(k, n->index, rd->entries[i].index, terms, ph, m);
    }
}

/* The durable term of the entry at index, 0 when the disk does not hold it. */
static uint64_t durable_term_at(const sim_durable *d, uint64_t index)
{
    if (d->has_snapshot && d->snap.index == index)
        return d->snap.term;
    if (d->n_entries == 0 || index < d->entries[0].index)
        return 0;
    uint64_t k = index - d->entries[0].index;
    return k < d->n_entries ? d->entries[k].term : 0;
}

/* The durability contract (raft.h; Raft thesis §3.8): a granted vote
 * leaves only once the term and vote are durable, an append is
 * acknowledged only once the entries up to the match index are. */
static void check_durable_before_send(rf_sim_cluster *c, sim_node *n, const rf_msg *m)
{
    const sim_durable *d = &n->durable;
    if (m->reject)
        return;
    if (m->type == RF_MSG_APPEND_RESP && (m->term > n->ack_term || m->index > n->ack_index)) {
        if (m->term > n->ack_term)
            n->ack_index = 0;
        n->ack_term = m->term;
        if (m->index > n->ack_index)
            n->ack_index = m->index;
    }
    if (m->type == RF_MSG_VOTE_RESP && (d->term != m->term || d->vote != m->to)) {
        rf_sim_check_fail(&c->check, RF_SIM_V_DURABILITY,
                          "n%u grants its vote in term %" PRIu64 " to n%" PRIu64
                          " with durable term %" PRIu64 " vote %" PRIu64,
                          n->index + 1, m->term, m->to, d->term, d->vote);
    } else if (m->type == RF_MSG_APPEND_RESP && m->index > rf_raft_snapshot_index(n->raft) &&
               durable_term_at(d, m->index) != rf_raft_term_at(n->raft, m->index) &&
               !(d->has_snapshot && m->index < d->snap.index)) {
        /* (Entries under the member's snapshot are committed and applied:
         * acknowledging them again is harmless.) */
        rf_sim_check_fail(&c->check, RF_SIM_V_DURABILITY,
                          "n%u acknowledges %" PRIu64 "/%" PRIu64 " to n%" PRIu64 " in term %" PRIu64
                          " (its term %" PRIu64 ", last %" PRIu64 ")"
                          " while its disk holds %" PRIu64 "/%" PRIu64 " (durable last %" PRIu64
                          ", %u writes in flight)",
                          n->index + 1, m->index, rf_raft_term_at(n->raft, m->index), m->to,
                          m->term, rf_raft_term(n->raft), rf_raft_last_index(n->raft),
                          m->index, durable_term_at(d, m->index),
                          rf_sim_cluster_durable_last(c, n->index),
                          rf_sim_cluster_writes_in_flight(c, n->index));
    }
}

static void send_msgs(rf_sim_cluster *c, sim_node *n, const rf_ready *rd)
{
    for (size_t i = 0; i < rd->n_msgs; i++) {
        const rf_send *s = &rd->msgs[i];
        check_durable_before_send(c, n, &s->msg);
        if (s->to == 0 || s->to > c->cfg.nodes)
            continue; /* not a node of this cluster */
        size_t len = rf_msg_encoded_size(&s->msg);
        sim_packet *p = malloc(sizeof(*p) + len);
        ASSERT(p != NULL);
        size_t got = 0;
        int rc = rf_msg_encode(&s->msg, p->bytes, len, &got);
        if (rc != RF_OK) {
            free(p);
            rf_sim_check_fail(&c->check, RF_SIM_V_HARNESS, "n%u cannot encode a message: %s",
                              n->index + 1, rf_errname(rc));
            continue;
        }
        p->from = n->index;
        p->len = (uint32_t)got;
        uint64_t at[2];
        uint32_t to = (uint32_t)(s->to - 1);
        uint32_t copies = rf_sim_net_send(&c->net, c->eng.now_ns, n->index, to, at);
        for (uint32_t k = 0; k < copies; k++) {
            sim_packet *q = p;
            if (k + 1 < copies) {
                q = malloc(sizeof(*p) + got);
                ASSERT(q != NULL);
                memcpy(q, p, sizeof(*p) + got);
            }
            if (rf_sim_engine_at(&c->eng, at[k], SIM_K_DELIVER, to, 0, q) != RF_OK)
                free(q);
        }
        if (copies == 0)
            free(p);
    }
}

static void apply_checks(rf_sim_cluster *c, sim_node *n, const rf_ready *rd)
{
    for (size_t i = 0; i < rd->n_applied; i++) {
        const rf_applied *a = &rd->applied[i];
        rf_entry e;
        uint64_t ph = 0;
        /* The applied entry's payload, from the member's log (the checker
         * compares it with the committed one). */
        if (rf_raft_entry(n->raft, a->index, &e) == RF_OK)
            ph = rf_sim_check_payload(e.kind, e.client_id, e.sequence, e.data, e.len);
        else
            ph = c->check.committed_len >= a->index ? c->check.committed[a->index - 1].phash : 0;
        uint64_t rh = rf_sim_check_hash(a->reply, a->reply_len) ^ (uint64_t)(uint32_t)a->status;
        bool is_cmd = a->kind == RF_ENTRY_COMMAND && a->client_id != 0;
        rf_sim_check_apply(&c->check, n->index, a->index, a->term, ph, is_cmd, a->client_id,
                           a->sequence, rh);
    }
}

static void observe(rf_sim_cluster *c, sim_node *n, const rf_ready *rd)
{
    static const char *names[] = {"?", "leader elected", "leader lost", "member added",
                                  "member promoted", "member removed", "snapshot taken",
                                  "snapshot installed"};
    for (size_t i = 0; i < rd->n_obs; i++) {
        const rf_observation *o = &rd->obs[i];
        const char *name = o->kind < 8 ? names[o->kind] : "?";
        /* A follower's word that node_id leads term counts too: it heard
         * from that leader, so the per-term table must agree. */
        if (o->kind == RF_OBS_LEADER_ELECTED && o->node_id >= 1 && o->node_id <= c->cfg.nodes)
            rf_sim_check_leader(&c->check, (uint32_t)(o->node_id - 1), o->term);
        c->stats.snapshots_taken += o->kind == RF_OBS_SNAPSHOT_TAKEN;
        c->stats.snapshots_installed += o->kind == RF_OBS_SNAPSHOT_INSTALLED;
        if (o->kind == RF_OBS_SNAPSHOT_TAKEN ||
            o->kind == RF_OBS_LEADER_LOST)
            continue; /* frequent; the rest is worth a log line */
        sim_log(c, "n%u: %s: term %" PRIu64 " node %" PRIu64 " index %" PRIu64, n->index + 1,
                name, o->term, o->node_id, o->index);
    }
}

void sim_node_drain(rf_sim_cluster *c, sim_node *n)
{
    ASSERT(n->raft != NULL);
    while (rf_raft_has_ready(n->raft)) {
        rf_ready rd;
        rf_raft_ready(n->raft, &rd);
        mirror_log(c, n, &rd);
        if (sim_disk_submit(c, n, &rd) != RF_OK)
            rf_sim_check_fail(&c->check, RF_SIM_V_HARNESS, "event queue full");
        rf_sim_check_commit(&c->check, n->index, rf_raft_commit_index(n->raft),
                            rf_raft_term(n->raft));
        send_msgs(c, n, &rd);
        apply_checks(c, n, &rd);
        observe(c, n, &rd);
        for (size_t i = 0; i < rd.n_replies; i++)
            sim_clients_reply(c, n, &rd.replies[i]);
        uint64_t token = rd.persist_token;
        rf_raft_advance(n->raft);
        if (c->cfg.disk_acks_early && token != 0)
            rf_raft_persisted(n->raft, token);
    }
    rf_sim_check_digest(&c->check, n->index, rf_raft_applied_index(n->raft),
                        rf_raft_digest(n->raft));
    n->sync_refused = 0;
    after_step_checks(c, n);
}

/* ---- event handlers ---- */

/* Holds an event for a paused node; true when held (or dropped, bounded). */
static bool defer_if_paused(rf_sim_cluster *c, sim_node *n, const rf_sim_event *ev)
{
    if (!n->paused)
        return false;
    if (n->n_deferred < RF_SIM_DEFERRED_MAX) {
        n->deferred[n->n_deferred++] = *ev;
    } else if (ev->ptr != NULL) {
        free(ev->ptr);
    }
    (void)c;
    return true;
}

static void on_deliver(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    rf_sim_cluster *c = ctx;
    sim_node *n = &c->nodes[ev->node];
    sim_packet *p = ev->ptr;
    if (defer_if_paused(c, n, ev))
        return;
    bool cut = rf_sim_net_is_cut(&c->net, p->from, n->index, e->now_ns);
    if (n->raft != NULL && !cut) {
        rf_sim_trace_bytes(&e->trace, p->bytes, p->len);
        c->net.stats.delivered++;
        sim_node_clock(c, n);
        (void)rf_raft_receive_bytes(n->raft, p->bytes, p->len);
        sim_node_drain(c, n);
    }
    free(p);
}

static void schedule_tick(rf_sim_cluster *c, sim_node *n, uint64_t delay)
{
    int rc = rf_sim_engine_after(&c->eng, delay, SIM_K_TICK, n->index, n->tick_chain, NULL);
    if (rc != RF_OK)
        rf_sim_check_fail(&c->check, RF_SIM_V_HARNESS, "event queue full");
}

void sim_node_ticks(rf_sim_cluster *c, sim_node *n, uint64_t first_delay_ns)
{
    n->tick_chain++;
    schedule_tick(c, n, first_delay_ns);
}

static void on_tick(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    (void)e;
    rf_sim_cluster *c = ctx;
    sim_node *n = &c->nodes[ev->node];
    if (ev->arg != n->tick_chain || n->raft == NULL || n->paused)
        return; /* an ended chain's tick, or paused: resume starts a new chain */
    sim_node_clock(c, n);
    sim_node_drain(c, n);
    schedule_tick(c, n, c->cfg.tick_ns);
}

static void on_disk(void *ctx, rf_sim_engine *e, const rf_sim_event *ev)
{
    (void)e;
    rf_sim_cluster *c = ctx;
    sim_node *n = &c->nodes[ev->node];
    if (ev->arg != n->epoch || n->raft == NULL)
        return;
    if (defer_if_paused(c, n, ev))
        return;
    sim_disk_complete(c, n);
}

static void drop_ptr(void *ctx, const rf_sim_event *ev)
{
    (void)ctx;
    free(ev->ptr);
}

/* ---- creation ---- */

static int node_start(rf_sim_cluster *c, sim_node *n, bool bootstrap);

int sim_node_start(rf_sim_cluster *c, sim_node *n)
{
    return node_start(c, n, false);
}

static int node_start(rf_sim_cluster *c, sim_node *n, bool bootstrap)
{
    ASSERT(n->raft == NULL);
    rf_raft_config rc = c->cfg.raft;
    rc.group_id = c->cfg.group_id;
    rc.node_id = n->id;
    rc.model = c->cfg.model;
    rf_sim_engine_stream(&c->eng, &rc.rng, "node", n->id | (n->incarnation << 32));
    int err;
    if (bootstrap) {
        err = rf_raft_bootstrap(&rc, &c->initial, &n->raft);
    } else if (sim_disk_empty(n)) {
        err = rf_raft_create(&rc, &n->raft);
    } else {
        rf_raft_state st;
        sim_disk_state(n, &st);
        err = rf_raft_restore(&rc, &st, &n->raft);
    }
    if (err != RF_OK) {
        n->raft = NULL;
        return err;
    }
    n->up = true;
    n->incarnation++;
    const rf_raft *r = n->raft;
    rf_sim_check_node_reset(&c->check, n->index, rf_raft_snapshot_index(r),
                            rf_raft_term_at(r, rf_raft_snapshot_index(r)));
    /* The restored log, as the checker's mirror of it. */
    const sim_durable *d = &n->durable;
    for (size_t i = 0; !bootstrap && i < d->n_entries; i++) {
        const rf_entry *e = &d->entries[i];
        if (e->index <= rf_raft_snapshot_index(r))
            continue;
        uint64_t ph = rf_sim_check_payload(e->kind, e->client_id, e->sequence, e->data, e->len);
        rf_sim_check_append(&c->check, n->index, e->index, &e->term, &ph, 1);
    }
    sim_node_ticks(c, n, 1 + rf_pcg32_bounded(&n->disk_rng, (uint32_t)c->cfg.tick_ns));
    sim_node_drain(c, n);
    return RF_OK;
}

static int cluster_validate(const rf_sim_cluster_config *cfg)
{
    if (cfg->nodes == 0 || cfg->nodes > RF_SIM_NODES_MAX || cfg->nodes > RF_RAFT_MEMBERS_MAX)
        return RF_EINVAL;
    if (cfg->voters == 0 || cfg->voters > cfg->nodes || cfg->clients > RF_SIM_CLIENTS_MAX)
        return RF_EINVAL;
    if (cfg->model == NULL || cfg->tick_ns == 0 || cfg->disk_ns_min > cfg->disk_ns_max)
        return RF_EINVAL;
    if (cfg->client_timeout_ns == 0 || cfg->client_latency_ns_max < 4)
        return RF_EINVAL;
    return RF_OK;
}

int rf_sim_cluster_create(const rf_sim_cluster_config *cfg, rf_sim_cluster **out)
{
    int rc = cluster_validate(cfg);
    if (rc != RF_OK)
        return rc;
    rf_sim_cluster *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return RF_ENOMEM;
    c->cfg = *cfg;
    c->net_cfg0 = cfg->net;
    rc = rf_sim_engine_init(&c->eng, cfg->seed, cfg->events_max);
    if (rc == RF_OK)
        rc = rf_sim_check_init(&c->check, cfg->group_id, cfg->nodes, 1u << 22);
    if (rc != RF_OK) {
        rf_sim_engine_close(&c->eng);
        free(c);
        return rc;
    }
    rf_sim_net_init(&c->net, &c->eng, cfg->nodes, &cfg->net);
    rf_sim_engine_on(&c->eng, SIM_K_DELIVER, on_deliver, drop_ptr, c);
    rf_sim_engine_on(&c->eng, SIM_K_TICK, on_tick, NULL, c);
    rf_sim_engine_on(&c->eng, SIM_K_DISK, on_disk, NULL, c);
    sim_clients_register(c);
    c->initial.count = cfg->voters;
    for (uint32_t i = 0; i < cfg->voters; i++)
        c->initial.members[i] = (rf_member){.id = i + 1, .voter = 1};
    for (uint32_t i = 0; i < cfg->nodes && rc == RF_OK; i++) {
        sim_node *n = &c->nodes[i];
        n->index = i;
        n->id = i + 1;
        n->deferred = malloc(RF_SIM_DEFERRED_MAX * sizeof(*n->deferred));
        rf_sim_engine_stream(&c->eng, &n->disk_rng, "disk", n->id);
        rc = n->deferred == NULL ? RF_ENOMEM : node_start(c, n, i < cfg->voters);
    }
    if (rc != RF_OK) {
        rf_sim_cluster_close(c);
        return rc;
    }
    sim_clients_start(c);
    *out = c;
    return RF_OK;
}

void rf_sim_cluster_close(rf_sim_cluster *c)
{
    if (c == NULL)
        return;
    rf_sim_engine_close(&c->eng);
    for (uint32_t i = 0; i < c->cfg.nodes; i++) {
        sim_node *n = &c->nodes[i];
        rf_raft_close(n->raft);
        for (uint32_t k = 0; k < n->n_deferred; k++)
            free(n->deferred[k].ptr);
        free(n->deferred);
        sim_disk_close(n);
    }
    sim_clients_close(c);
    rf_sim_check_close(&c->check);
    free(c);
}

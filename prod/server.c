/* server: fleetd's libuv event loop: the peer and client ports, the node, the group commit off the loop. */
#include "prod/server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "fleet/rf_node_store.h"
#include "prod/log.h"

#define SRV_VERSION "0.1.0"

uint64_t srv_now_ms(const rf_server *s)
{
    return uv_now(&s->loop);
}

void srv_sockname(const uv_tcp_t *t, bool peer, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int rc = peer ? uv_tcp_getpeername(t, (struct sockaddr *)&ss, &len)
                  : uv_tcp_getsockname(t, (struct sockaddr *)&ss, &len);
    char ip[64] = "?";
    int port = 0;
    if (rc == 0 && ss.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
        uv_ip4_name(a, ip, sizeof ip);
        port = ntohs(a->sin_port);
    } else if (rc == 0 && ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
        uv_ip6_name(a, ip, sizeof ip);
        port = ntohs(a->sin6_port);
    }
    snprintf(buf, cap, "%s:%d", ip, port);
}

/* ---- the group commit, off the loop ---- */

static void persist_work(uv_work_t *w)
{
    rf_server *s = w->data;
    rf_persist_io(&s->persist); /* the only thing done on the worker */
}

static void persist_maybe_begin(rf_server *s);

static void persist_after(uv_work_t *w, int status)
{
    rf_server *s = w->data;
    (void)status;
    uint64_t token;
    int rc = rf_persist_end(&s->persist, &token);
    s->stats.commits++;
    if (rc != RF_OK) {
        rf_log_error("storage: commit failed (%s%s%s): acknowledgements stop",
                     rf_strerror(rc), rf_store_message(s->persist.st)[0] ? ": " : "",
                     rf_store_message(s->persist.st));
        return;
    }
    if (token != 0)
        rf_node_persisted(s->node, token);
    srv_drain_soon(s);
}

static void persist_maybe_begin(rf_server *s)
{
    if (!rf_persist_can_begin(&s->persist))
        return;
    int rc = rf_persist_begin(&s->persist);
    if (rc != RF_OK) {
        if (!s->persist_failure_logged)
            rf_log_error("storage: batch refused (%s%s%s): acknowledgements stop", rf_strerror(rc),
                         rf_store_message(s->persist.st)[0] ? ": " : "",
                         rf_store_message(s->persist.st));
        s->persist_failure_logged = true;
        return;
    }
    s->work.data = s;
    rc = uv_queue_work(&s->loop, &s->work, persist_work, persist_after);
    ASSERT(rc == 0);
}

/* ---- driving the node ---- */

static const char *obs_name(uint8_t kind)
{
    static const char *const names[] = {"?", "leader", "member added", "member promoted",
                                        "member removed", "placement changed", "group started",
                                        "group stopped", "node purged"};
    return kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

static void handle_reply(rf_server *s, const rf_node_reply *r)
{
    if (r->request_id == SRV_REQ_ACTIVATE) {
        s->activating = false;
        if (r->status == RF_OK || r->status == RF_ENOTINACTIVE) {
            s->activated = true;
            rf_log_info("node %s active in zone %s", s->cfg.name, s->cfg.zone);
        } else {
            rf_log_warn("activation failed (%s); retried", rf_strerror(r->status));
        }
        return;
    }
    srv_client_node_reply(s, r);
}

static void stage_writes(rf_server *s, const rf_node_batch *b)
{
    if (b->persist_token != 0)
        rf_persist_add(&s->persist, b);
    if (s->persist.failed && !s->persist_failure_logged) {
        s->persist_failure_logged = true;
        rf_log_error("storage: cannot stage a batch (%s): acknowledgements stop",
                     rf_strerror(s->persist.failed));
    }
}

void srv_drain_soon(rf_server *s)
{
    s->drain_due = true;
}

/* After the loop's I/O callbacks: one node batch for every input of this
 * turn (client requests, peer envelopes, a durable commit), so envelopes
 * to a peer, replies to a client and writes to the store leave together. */
static void on_check(uv_check_t *h)
{
    rf_server *s = h->data;
    if (s->drain_due && !s->stopping)
        srv_drain(s);
}

void srv_drain(rf_server *s)
{
    s->drain_due = false;
    for (;;) {
        while (rf_node_has_ready(s->node)) {
            rf_node_batch b;
            rf_node_ready(s->node, &b);
            stage_writes(s, &b);
            /* Envelopes in this batch are safe to send now (rf_node holds
             * back the ones that wait for a write to be durable). */
            for (size_t i = 0; i < b.n_envelopes; i++)
                srv_peer_send(s, b.envelopes[i].to, b.envelopes[i].data, b.envelopes[i].len);
            for (size_t i = 0; i < b.n_replies; i++)
                handle_reply(s, &b.replies[i]);
            rf_hist_batch(s->hist, s->node, &b, uv_hrtime());
            for (size_t i = 0; i < b.n_obs; i++) {
                const rf_node_obs *o = &b.obs[i];
                rf_log_info("group %llu: %s: node %llu (term %llu)",
                            (unsigned long long)o->group_id, obs_name(o->kind),
                            (unsigned long long)o->node_id, (unsigned long long)o->term);
            }
            rf_node_advance(s->node);
        }
        /* Clients whose replies made room send their waiting requests now,
         * outside the ready/advance pair. */
        if (s->n_resume == 0)
            break;
        srv_client_resume_pending(s);
        if (!rf_node_has_ready(s->node))
            break;
    }
    srv_peer_flush_all(s);
    srv_client_flush_dirty(s);
    persist_maybe_begin(s);
}

static void activate(rf_server *s, uint64_t join_via)
{
    s->activating = true;
    int rc = rf_node_activate(s->node, SRV_REQ_ACTIVATE, s->cfg.zone, join_via);
    if (rc != RF_OK)
        rf_log_warn("activation not started (%s)", rf_strerror(rc));
    srv_drain(s);
}

/* The join address answered and proved itself: activate through it. */
void srv_peer_authenticated(rf_server *s, srv_peer *p)
{
    rf_node_peer_reachable(s->node, p->peer_id);
    if (!s->activated && !s->activating && s->cfg.has_join && p->outbound && p->book == 0)
        activate(s, p->peer_id);
}

static void on_tick(uv_timer_t *t)
{
    rf_server *s = t->data;
    rf_node_tick(s->node, uv_hrtime());
    srv_drain(s);
    rf_hist_tick(s->hist, s->node, uv_hrtime());
    uint64_t now = srv_now_ms(s);
    /* A node whose activation failed tries again every second: a new
     * cluster on its own, a joining node through the join address once
     * that peer is authenticated. */
    if (!s->activated && !s->activating && now - s->last_tick_ms >= 1000) {
        s->last_tick_ms = now;
        uint64_t via = s->cfg.has_join ? s->book[0].id : 0;
        if (!s->cfg.has_join || via != 0)
            activate(s, via);
    }
    srv_peer_dial_due(s);
}

/* ---- lifecycle ---- */

static void on_closed_quiet(uv_handle_t *h)
{
    (void)h;
}

static void shutdown_now(rf_server *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    rf_log_info("shutting down");
    uv_close((uv_handle_t *)&s->peer_listen, on_closed_quiet);
    uv_close((uv_handle_t *)&s->client_listen, on_closed_quiet);
    uv_close((uv_handle_t *)&s->tick, on_closed_quiet);
    uv_close((uv_handle_t *)&s->check, on_closed_quiet);
    uv_close((uv_handle_t *)&s->stop_async, on_closed_quiet);
    if (s->signals) {
        uv_close((uv_handle_t *)&s->sigterm, on_closed_quiet);
        uv_close((uv_handle_t *)&s->sigint, on_closed_quiet);
    }
    srv_client_close_all(s);
    srv_peer_close_all(s);
    /* A commit in flight completes: uv_run returns only after its after-callback. */
}

static void on_stop_async(uv_async_t *a)
{
    shutdown_now(a->data);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    rf_log_info("signal %d received", signum);
    shutdown_now(sig->data);
}

void rf_server_stop(rf_server *s)
{
    uv_async_send(&s->stop_async);
}

/* The node from the data directory's store when it holds one (a restart:
 * every hosted member with its term, vote, log and snapshot), else a new
 * node. Needs the store open. */
static int node_create(rf_server *s, const rf_model *const *models, uint32_t n_models, char *err,
                       size_t cap)
{
    rf_node_config nc;
    rf_node_config_defaults(&nc);
    nc.node_id = s->cfg.node_id;
    nc.name = s->cfg.name;
    nc.models = models;
    nc.n_models = n_models;
    nc.rebalance_interval_ns = (uint64_t)s->cfg.rebalance_ms * 1000000u;
    if (RAND_bytes((unsigned char *)&nc.seed, sizeof nc.seed) != 1) {
        snprintf(err, cap, "random generator failed");
        return RF_EIO;
    }
    s->seed = nc.seed;
    rf_node_restore_info info;
    memset(&info, 0, sizeof info);
    int rc = rf_node_restore(&nc, s->persist.st, &s->node, &info);
    if (rc == RF_OK) {
        s->restored = true;
        rf_log_info("restored from %s: incarnation %llu, %llu groups, %llu log entries%s",
                    s->cfg.data_dir, (unsigned long long)info.incarnation,
                    (unsigned long long)info.groups, (unsigned long long)info.entries,
                    info.orphans ? " (orphan group logs dropped)" : "");
        return RF_OK;
    }
    if (rc != RF_ENOTFOUND) {
        snprintf(err, cap, "%s: cannot restore the node (%s)%s%s", s->cfg.data_dir,
                 rf_strerror(rc), info.message[0] ? ": " : "", info.message);
        return rc;
    }
    rc = rf_node_create(&nc, &s->node);
    if (rc != RF_OK)
        snprintf(err, cap, "node: %s", rf_strerror(rc));
    return rc;
}

static int loop_init(rf_server *s, char *err, size_t cap)
{
    int rc = uv_loop_init(&s->loop);
    if (rc != 0) {
        snprintf(err, cap, "event loop: %s", uv_strerror(rc));
        return RF_EIO;
    }
    s->loop_ready = true;
    uv_timer_init(&s->loop, &s->tick);
    s->tick.data = s;
    uv_check_init(&s->loop, &s->check);
    s->check.data = s;
    uv_async_init(&s->loop, &s->stop_async, on_stop_async);
    s->stop_async.data = s;
    uv_tcp_init(&s->loop, &s->peer_listen);
    uv_tcp_init(&s->loop, &s->client_listen);
    rc = srv_peer_listen(s, err, cap);
    if (rc == RF_OK)
        rc = srv_client_listen(s, err, cap);
    return rc;
}

/* The history is an aid, not the node's state: without it the node runs. */
static void history_open(rf_server *s)
{
    char err[512];
    rf_hist_info hi = {.data_dir = s->cfg.data_dir,
                       .node_name = s->cfg.name,
                       .node_id = s->cfg.node_id,
                       .seed = s->seed,
                       .build = "fleetd " SRV_VERSION,
                       .restored = s->restored};
    int rc = rf_hist_open(&s->hist, &hi, uv_hrtime(), err, sizeof err);
    if (rc != RF_OK)
        rf_log_error("history: %s (%s); running without it", err, rf_strerror(rc));
}

int rf_server_create(const rf_fleetd_config *cfg, const uint8_t *secret, size_t secret_len,
                     const rf_model *const *models, uint32_t n_models, rf_server **out,
                     char *err, size_t cap)
{
    *out = NULL;
    if (secret_len < RF_AUTH_SECRET_BYTES_MIN || secret_len > RF_AUTH_SECRET_BYTES_MAX ||
        n_models == 0) {
        snprintf(err, cap, "bad secret length or no data model");
        return RF_EINVAL;
    }
    rf_server *s = calloc(1, sizeof *s);
    if (s == NULL || (s->pending = calloc(SRV_PENDING_MAX, sizeof *s->pending)) == NULL) {
        free(s);
        snprintf(err, cap, "out of memory");
        return RF_ENOMEM;
    }
    s->cfg = *cfg;
    memcpy(s->secret, secret, secret_len);
    s->secret_len = secret_len;
    s->next_request_id = SRV_REQ_FIRST;
    s->client_cfg.password = cfg->password_len ? (const uint8_t *)s->cfg.password : NULL;
    s->client_cfg.password_len = cfg->password_len;
    s->client_cfg.node_name = s->cfg.name;
    s->client_cfg.zone = s->cfg.zone;
    s->client_cfg.version = SRV_VERSION;
    int rc = rf_persist_open(&s->persist, cfg->data_dir, cfg->fsync, err, cap);
    s->persist_open = rc == RF_OK;
    if (rc == RF_OK)
        rc = node_create(s, models, n_models, err, cap);
    if (rc == RF_OK)
        history_open(s);
    if (rc == RF_OK)
        rc = loop_init(s, err, cap);
    if (rc == RF_OK && cfg->has_join)
        rc = srv_book_add(s, 0, cfg->join.host, cfg->join.port);
    if (rc != RF_OK) {
        rf_server_close(s);
        return rc;
    }
    *out = s;
    return RF_OK;
}

int rf_server_run(rf_server *s, bool signals)
{
    s->signals = signals;
    if (signals) {
        uv_signal_init(&s->loop, &s->sigterm);
        uv_signal_init(&s->loop, &s->sigint);
        s->sigterm.data = s->sigint.data = s;
        uv_signal_start(&s->sigterm, on_signal, SIGTERM);
        uv_signal_start(&s->sigint, on_signal, SIGINT);
    }
    rf_log_info("node %s (id %llu) peer port %u, client port %u%s", s->cfg.name,
                (unsigned long long)s->cfg.node_id, (unsigned)s->peer_port,
                (unsigned)s->client_port, s->cfg.fsync ? "" : ", fsync OFF");
    uv_timer_start(&s->tick, on_tick, s->cfg.tick_ms, s->cfg.tick_ms);
    uv_check_start(&s->check, on_check);
    if (!s->cfg.has_join)
        activate(s, 0);
    else
        srv_peer_dial_due(s);
    s->last_tick_ms = srv_now_ms(s);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    rf_log_info("stopped");
    return RF_OK;
}

void rf_server_close(rf_server *s)
{
    if (s == NULL)
        return;
    if (s->loop_ready) {
        /* Created but never run, or a failed create: close the handles. */
        shutdown_now(s);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        int rc = uv_loop_close(&s->loop);
        ASSERT(rc == 0); /* every handle closed: nothing leaks */
    }
    if (s->persist_open)
        rf_persist_close(&s->persist);
    rf_hist_close(s->hist, s->node, uv_hrtime(), "stopped");
    rf_node_close(s->node);
    OPENSSL_cleanse(s->secret, sizeof s->secret);
    OPENSSL_cleanse(s->cfg.password, sizeof s->cfg.password);
    free(s->pending);
    srv_client_free_spares(s);
    rf_resp_out_close(&s->scratch);
    free(s);
}

uint16_t rf_server_peer_port(const rf_server *s)
{
    return s->peer_port;
}

uint16_t rf_server_client_port(const rf_server *s)
{
    return s->client_port;
}

void rf_server_stats_get(const rf_server *s, rf_server_stats *out)
{
    *out = s->stats;
}

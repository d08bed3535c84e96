/* server_client: fleetd's RESP client connections: bounded reads, pipelined requests, in-order replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "fleet/rf_meta.h"
#include "prod/log.h"
#include "prod/server_int.h"

typedef struct srv_write {
    uv_write_t req;
    size_t len;
    uint8_t bytes[];
} srv_write;

static void client_process(srv_client *c);
static void flush_soon(srv_client *c);

/* A reply goes back to the server's spares while there are few of them:
 * each request would otherwise cost a malloc and a free. */
static void reply_free(rf_server *s, srv_reply *r)
{
    if (r->bytes != r->small)
        free(r->bytes);
    if (s->n_spare >= SRV_REPLY_SPARE_MAX) {
        free(r);
        return;
    }
    r->next = s->spare;
    s->spare = r;
    s->n_spare++;
}

void srv_client_free_spares(rf_server *s)
{
    while (s->spare != NULL) {
        srv_reply *r = s->spare;
        s->spare = r->next;
        free(r);
    }
    s->n_spare = 0;
}

/* Copies a finished reply's bytes into r; false when out of memory. */
static bool reply_set(srv_reply *r, const uint8_t *bytes, size_t len)
{
    r->bytes = len <= sizeof r->small ? r->small : malloc(len);
    if (r->bytes == NULL)
        return false;
    if (len > 0)
        memcpy(r->bytes, bytes, len);
    r->len = len;
    r->done = true;
    return true;
}

static void on_client_closed(uv_handle_t *h)
{
    srv_client *c = h->data;
    rf_server *s = c->srv;
    /* Requests still waiting for the node lose their client. */
    for (srv_reply *r = c->head; r != NULL;) {
        srv_reply *next = r->next;
        if (!r->done) {
            srv_pending *p = &s->pending[r->request_id % SRV_PENDING_MAX];
            if (p->request_id == r->request_id)
                memset(p, 0, sizeof *p);
        }
        reply_free(s, r);
        r = next;
    }
    rf_resp_parser_close(&c->parser);
    rf_resp_out_close(&c->out);
    rf_client_close(&c->session);
    free(c->rbuf);
    free(c);
}

static void client_close(srv_client *c)
{
    if (c->closing)
        return;
    c->closing = true;
    rf_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_clients--;
    s->stats.clients_closed++;
    if (c->resume) {
        c->resume = false;
        s->n_resume--;
    }
    uv_close((uv_handle_t *)&c->tcp, on_client_closed);
}

static void on_written(uv_write_t *req, int status)
{
    srv_write *w = (srv_write *)req;
    srv_client *c = req->data;
    free(w);
    if (status < 0 && !c->closing)
        client_close(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    srv_client *c = req->data;
    (void)status;
    free(req);
    client_close(c);
}

/* Writes c->out: at once as far as the socket takes it (no copy, the
 * common case), the rest queued behind in a copy. False when the client
 * was closed. */
static bool client_write(srv_client *c)
{
    uv_buf_t b = uv_buf_init((char *)c->out.buf, (unsigned)c->out.len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n < 0 && n != UV_EAGAIN) {
        client_close(c);
        return false;
    }
    size_t off = n > 0 ? (size_t)n : 0;
    if (off < c->out.len) {
        size_t len = c->out.len - off;
        srv_write *w = malloc(sizeof *w + len);
        if (w == NULL) {
            client_close(c);
            return false;
        }
        memcpy(w->bytes, c->out.buf + off, len);
        w->len = len;
        w->req.data = c;
        b = uv_buf_init((char *)w->bytes, (unsigned)len);
        if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
            free(w);
            client_close(c);
            return false;
        }
    }
    rf_resp_out_reset(&c->out);
    if (c->out.cap > SRV_OUT_KEEP_BYTES) { /* a big reply's buffer goes back */
        rf_resp_out_close(&c->out);
        rf_resp_out_init(&c->out);
    }
    return true;
}

/* Sends what is ready, in request order: the immediate replies, then the
 * queue's head while its replies are done, in one write. */
static void client_flush(srv_client *c)
{
    if (c->closing)
        return;
    while (c->head != NULL && c->head->done) {
        srv_reply *r = c->head;
        rf_resp_put(&c->out, r->bytes, r->len);
        c->head = r->next;
        if (c->head == NULL)
            c->tail = NULL;
        reply_free(c->srv, r);
    }
    if (c->out.overflow) {
        rf_log_warn("client %s: over %u bytes of replies at once, closing", c->addr,
                    RF_RESP_OUT_BYTES_MAX);
        client_close(c);
        return;
    }
    if (c->out.len > 0 && !client_write(c))
        return;
    /* A client that does not read its replies may not hold unbounded memory. */
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > RF_RESP_OUT_BYTES_MAX) {
        rf_log_warn("client %s: over %u bytes of unread replies, closing", c->addr,
                    RF_RESP_OUT_BYTES_MAX);
        client_close(c);
        return;
    }
    if (c->close_after_flush && c->head == NULL) {
        uv_shutdown_t *req = malloc(sizeof *req);
        if (req == NULL || (req->data = c, uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown)) != 0) {
            free(req);
            client_close(c);
        }
        c->close_after_flush = false;
        c->reading = false;
    }
}

static srv_reply *reply_append(srv_client *c)
{
    rf_server *s = c->srv;
    srv_reply *r = s->spare;
    if (r != NULL) {
        s->spare = r->next;
        s->n_spare--;
        memset(r, 0, sizeof *r);
    } else if ((r = calloc(1, sizeof *r)) == NULL) {
        return NULL;
    }
    if (c->tail)
        c->tail->next = r;
    else
        c->head = r;
    c->tail = r;
    return r;
}

/* Replies written to c->out since mark go behind the queued ones. */
static void keep_order(srv_client *c, size_t mark)
{
    if (c->head == NULL || c->out.len == mark)
        return;
    srv_reply *r = reply_append(c);
    if (r == NULL || !reply_set(r, c->out.buf + mark, c->out.len - mark)) {
        if (r != NULL)
            r->done = true; /* freed with the client */
        client_close(c);
        return;
    }
    c->out.len = mark;
}

/* A FLEET.* request: views answer at once, the rest goes to the node. */
static void client_fleet(srv_client *c, const rf_fleet_req *req)
{
    rf_server *s = c->srv;
    if (req->id == RF_CMD_FLEET_GROUPS || req->id == RF_CMD_FLEET_NODES ||
        req->id == RF_CMD_FLEET_LEADER || req->id == RF_CMD_FLEET_STATUS ||
        req->id == RF_CMD_FLEET_PLACEMENT) {
        srv_write_view(s, req, &c->out);
        return;
    }
    uint64_t id = s->next_request_id++;
    srv_pending *p = &s->pending[id % SRV_PENDING_MAX];
    if (p->request_id != 0) {
        rf_resp_error(&c->out, "BUSY too many requests in flight on this node");
        return;
    }
    srv_reply *r = reply_append(c);
    if (r == NULL) {
        rf_resp_error(&c->out, "ERR out of memory");
        return;
    }
    r->request_id = id;
    p->request_id = id;
    p->client = c;
    p->reply = r;
    p->kind = req->id;
    c->inflight++;
    switch (req->id) {
    case RF_CMD_FLEET_ADD:
        rf_node_add_group(s->node, id, req->name, req->replicas, req->model);
        break;
    case RF_CMD_FLEET_REMOVE:
        rf_node_remove_group(s->node, id, req->name);
        break;
    case RF_CMD_FLEET_CMD:
        rf_node_command(s->node, id, req->name, req->payload, req->payload_len);
        break;
    case RF_CMD_FLEET_QUERY:
        rf_node_query(s->node, id, req->name, req->payload, req->payload_len);
        break;
    case RF_CMD_FLEET_ACTIVATE:
        rf_node_activate(s->node, id, req->name, s->n_book > 0 ? s->book[0].id : 0);
        break;
    case RF_CMD_FLEET_DEACTIVATE:
        rf_node_deactivate(s->node, id);
        break;
    default:
        UNREACHABLE();
    }
    /* Either way a reply comes through rf_node_ready (an immediate refusal too). */
}

static void client_process(srv_client *c)
{
    rf_server *s = c->srv;
    while (!c->closing && !c->close_after_flush && c->inflight < s->cfg.client_inflight_max) {
        rf_resp_cmd cmd;
        int r = rf_resp_next(&c->parser, &cmd);
        if (r == 0)
            break;
        if (r < 0) {
            s->stats.client_protocol_errors++;
            rf_log_info("client %s: %s, closing", c->addr, c->parser.reason);
            size_t mark = c->out.len;
            rf_resp_errorf(&c->out, "ERR %s", c->parser.reason);
            keep_order(c, mark);
            c->close_after_flush = true;
            break;
        }
        size_t mark = c->out.len;
        rf_fleet_req req;
        rf_client_action a = rf_client_handle(&c->session, &cmd, &c->out, &req);
        if (a == RF_CLIENT_FLEET)
            client_fleet(c, &req);
        keep_order(c, mark);
        if (a == RF_CLIENT_CLOSE)
            c->close_after_flush = true;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    srv_client *c = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)c->rbuf, SRV_READ_BYTES);
}

/* Feeds bytes, processing requests as the parser fills; returns how many
 * were taken (fewer when the client has too many requests in flight). */
static size_t client_take(srv_client *c, const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n && !c->closing && !c->close_after_flush) {
        size_t took = rf_resp_feed(&c->parser, p + off, n - off);
        off += took;
        client_process(c);
        if (took == 0 && (c->parser.error == 0))
            break; /* parser full of requests waiting for room in flight */
        if (c->parser.error)
            break;
    }
    return off;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    srv_client *c = st->data;
    (void)buf;
    if (nread < 0) {
        client_close(c);
        return;
    }
    size_t took = client_take(c, c->rbuf, (size_t)nread);
    if (took < (size_t)nread && !c->closing && !c->close_after_flush) {
        /* Back-pressure: stop reading; the rest waits in rbuf's head. */
        memmove(c->rbuf, c->rbuf + took, (size_t)nread - took);
        c->stash = (size_t)nread - took;
        c->srv->stats.client_read_pauses++;
        uv_read_stop(st);
        c->reading = false;
    }
    client_flush(c);
    srv_drain_soon(c->srv);
}

/* Takes up requests left waiting for room in flight: those the parser
 * holds, then the bytes stashed when reading stopped. Called after
 * rf_node_advance only (it sends requests to the node). */
static void client_resume(srv_client *c)
{
    if (c->closing || c->close_after_flush)
        return;
    client_process(c);
    if (c->stash) {
        size_t took = client_take(c, c->rbuf, c->stash);
        memmove(c->rbuf, c->rbuf + took, c->stash - took);
        c->stash -= took;
    }
    if (!c->reading && c->stash == 0 && !c->closing &&
        c->inflight < c->srv->cfg.client_inflight_max)
        c->reading = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0;
    /* Its replies leave with the others in srv_client_flush_dirty, after
     * the peers' envelopes (the writes on the way to a commit go first). */
    flush_soon(c);
}

static void flush_soon(srv_client *c)
{
    rf_server *s = c->srv;
    if (c->flush_queued || c->closing)
        return;
    c->flush_queued = true;
    c->flush_next = s->flush_list;
    s->flush_list = c;
}

void srv_client_flush_dirty(rf_server *s)
{
    while (s->flush_list != NULL) {
        srv_client *c = s->flush_list;
        s->flush_list = c->flush_next;
        c->flush_queued = false;
        c->flush_next = NULL;
        client_flush(c);
    }
}

void srv_client_resume_pending(rf_server *s)
{
    for (srv_client *c = s->clients; c != NULL && s->n_resume > 0;) {
        srv_client *next = c->next;
        if (c->resume) {
            c->resume = false;
            s->n_resume--;
            client_resume(c);
        }
        c = next;
    }
}

void srv_client_node_reply(rf_server *s, const rf_node_reply *nr)
{
    srv_pending *p = &s->pending[nr->request_id % SRV_PENDING_MAX];
    if (p->request_id != nr->request_id || p->client == NULL)
        return; /* its client is gone */
    srv_client *c = p->client;
    srv_reply *r = p->reply;
    /* The first reply awaited goes straight behind the replies ready to
     * send (they all come before it); a later one waits in its slot. */
    bool in_order = r == c->head;
    rf_resp_out *o = in_order ? &c->out : &s->scratch;
    if (!in_order)
        rf_resp_out_reset(o);
    bool data_reply = p->kind == RF_CMD_FLEET_CMD || p->kind == RF_CMD_FLEET_QUERY;
    if (nr->status == RF_OK && !data_reply)
        rf_resp_simple(o, "OK");
    else
        rf_client_reply_status(o, nr->status, nr->data, nr->len);
    memset(p, 0, sizeof *p);
    if (in_order) {
        c->head = r->next;
        if (c->head == NULL)
            c->tail = NULL;
        reply_free(s, r);
    } else if (!reply_set(r, o->buf, o->len)) {
        r->done = true; /* freed with the client */
        if (!c->closing)
            client_close(c);
    }
    ASSERT(c->inflight > 0);
    c->inflight--;
    /* Flushed once at the end of this drain (srv_client_flush_dirty):
     * replies completed together leave in one write. */
    flush_soon(c);
    /* Waiting requests go to the node after rf_node_advance (srv_drain). */
    if (!c->resume && !c->closing) {
        c->resume = true;
        s->n_resume++;
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    rf_server *s = server->data;
    if (status < 0)
        return;
    srv_client *c = calloc(1, sizeof *c);
    if (c == NULL || (c->rbuf = malloc(SRV_READ_BYTES)) == NULL) {
        free(c);
        return; /* the connection stays in the backlog until memory returns */
    }
    c->srv = s;
    uv_tcp_init(&s->loop, &c->tcp);
    c->tcp.data = c;
    rf_resp_parser_init(&c->parser);
    rf_resp_out_init(&c->out);
    rf_client_init(&c->session, &s->client_cfg, ++s->next_client_id);
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    s->n_clients++;
    s->stats.clients_accepted++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        client_close(c);
        return;
    }
    srv_sockname(&c->tcp, true, c->addr, sizeof c->addr);
    if (s->stopping || s->n_clients > s->cfg.clients_max) {
        rf_log_warn("client %s refused: %u connections already", c->addr, s->n_clients - 1);
        client_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    c->reading = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0;
}

int srv_bind(uv_tcp_t *t, const rf_addr *a, uv_connection_cb cb, uint16_t *port, char *err,
             size_t cap)
{
    struct sockaddr_storage ss;
    int rc = strchr(a->host, ':') ? uv_ip6_addr(a->host, a->port, (struct sockaddr_in6 *)&ss)
                                  : uv_ip4_addr(a->host, a->port, (struct sockaddr_in *)&ss);
    if (rc == 0)
        rc = uv_tcp_bind(t, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)t, 511, cb);
    if (rc != 0) {
        snprintf(err, cap, "cannot listen on %s:%u: %s", a->host, (unsigned)a->port,
                 uv_strerror(rc));
        return RF_EIO;
    }
    char name[64];
    srv_sockname(t, false, name, sizeof name);
    const char *colon = strrchr(name, ':');
    *port = (uint16_t)atoi(colon ? colon + 1 : "0");
    return RF_OK;
}

int srv_client_listen(rf_server *s, char *err, size_t cap)
{
    s->client_listen.data = s;
    return srv_bind(&s->client_listen, &s->cfg.client, on_connection, &s->client_port, err, cap);
}

void srv_client_close_all(rf_server *s)
{
    while (s->clients != NULL)
        client_close(s->clients);
}

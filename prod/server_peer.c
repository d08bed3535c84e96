/* server_peer: fleetd's peer connections: authentication, frames, envelopes, address gossip, reconnect with backoff. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "prod/log.h"
#include "prod/server_int.h"
#include "storage/rf_record.h"

/* The bytes of a flush the socket did not take at once. */
typedef struct peer_write {
    uv_write_t req;
    size_t len;
    uint8_t bytes[];
} peer_write;

static void on_peer_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void peer_free_if_closed(uv_handle_t *h)
{
    srv_peer *p = h->data;
    if (--p->handles_open > 0)
        return;
    rf_frame_dec_close(&p->dec);
    rf_auth_close(&p->auth);
    free(p->rbuf);
    free(p->out);
    free(p);
}

static bool peer_ready_to(const rf_server *s, uint64_t id, const srv_peer *except)
{
    for (const srv_peer *q = s->peers; q != NULL; q = q->next)
        if (q != except && q->state == PEER_READY && q->peer_id == id)
            return true;
    return false;
}

static void peer_close(srv_peer *p, const char *why)
{
    if (p->state == PEER_CLOSING)
        return;
    rf_server *s = p->srv;
    bool was_ready = p->state == PEER_READY;
    p->state = PEER_CLOSING;
    if (why != NULL)
        rf_log_info("peer %s: closed: %s", p->addr, why);
    if (p->prev)
        p->prev->next = p->next;
    else
        s->peers = p->next;
    if (p->next)
        p->next->prev = p->prev;
    s->n_peers--;
    if (p->book >= 0) {
        srv_book *b = &s->book[p->book];
        b->dialling = false;
        b->retry_at_ms = srv_now_ms(s) + b->backoff_ms;
        b->backoff_ms = b->backoff_ms * 2 > s->cfg.reconnect_ms_max ? s->cfg.reconnect_ms_max
                                                                     : b->backoff_ms * 2;
    }
    if (was_ready && !s->stopping && !peer_ready_to(s, p->peer_id, p))
        rf_node_peer_unreachable(s->node, p->peer_id);
    uv_close((uv_handle_t *)&p->auth_timer, peer_free_if_closed);
    uv_close((uv_handle_t *)&p->tcp, peer_free_if_closed);
}

static void on_peer_written(uv_write_t *req, int status)
{
    srv_peer *p = req->data;
    free(req); /* the peer_write holding it */
    if (status < 0 && status != UV_ECANCELED)
        peer_close(p, uv_strerror(status));
}

/* Hands the queued frames to the socket: as far as it takes them at once
 * without a copy, the rest queued behind in one write. */
static void peer_flush(srv_peer *p)
{
    if (p->out_len == 0 || p->state == PEER_CLOSING)
        return;
    uv_buf_t b = uv_buf_init((char *)p->out, (unsigned)p->out_len);
    int n = uv_try_write((uv_stream_t *)&p->tcp, &b, 1);
    if (n < 0 && n != UV_EAGAIN) {
        peer_close(p, uv_strerror(n));
        return;
    }
    size_t off = n > 0 ? (size_t)n : 0, len = p->out_len - off;
    p->out_len = 0;
    peer_write *w = len == 0 ? NULL : malloc(sizeof *w + len);
    if (w != NULL)
        memcpy(w->bytes, p->out + off, len);
    if (p->out_cap > SRV_OUT_KEEP_BYTES) { /* a burst's buffer (a snapshot) goes back */
        free(p->out);
        p->out = NULL;
        p->out_cap = 0;
    }
    if (len == 0)
        return;
    if (w == NULL) {
        peer_close(p, "out of memory");
        return;
    }
    w->len = len;
    w->req.data = p;
    b = uv_buf_init((char *)w->bytes, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&p->tcp, &b, 1, on_peer_written) != 0) {
        free(w);
        peer_close(p, "write failed");
    }
}

/* Queues one frame behind the others; false when it could not be. */
static bool peer_queue_frame(srv_peer *p, uint8_t type, const uint8_t *payload, size_t len)
{
    if (p->state == PEER_CLOSING)
        return false;
    size_t need = p->out_len + RF_FRAME_HDR_BYTES + len;
    if (need > p->out_cap) {
        size_t ncap = p->out_cap ? p->out_cap : SRV_READ_BYTES;
        while (ncap < need)
            ncap *= 2;
        uint8_t *nb = realloc(p->out, ncap);
        if (nb == NULL) {
            peer_close(p, "out of memory");
            return false;
        }
        p->out = nb;
        p->out_cap = ncap;
    }
    rf_frame_header(p->out + p->out_len, type, payload, (uint32_t)len);
    if (len)
        memcpy(p->out + p->out_len + RF_FRAME_HDR_BYTES, payload, len);
    p->out_len = need;
    return true;
}

/* A frame of the connection's own (authentication, address book): sent at once. */
static void peer_write_frame(srv_peer *p, uint8_t type, const uint8_t *payload, size_t len)
{
    if (peer_queue_frame(p, type, payload, len))
        peer_flush(p);
}

/* ---- the address book ---- */

int srv_book_add(rf_server *s, uint64_t id, const char *host, uint16_t port)
{
    for (uint32_t i = 0; i < s->n_book; i++) {
        srv_book *b = &s->book[i];
        if ((id != 0 && b->id == id) || (strcmp(b->host, host) == 0 && b->port == port)) {
            if (b->id == 0)
                b->id = id;
            return RF_OK;
        }
    }
    if (s->n_book == SRV_BOOK_MAX)
        return RF_EFULL;
    srv_book *b = &s->book[s->n_book++];
    memset(b, 0, sizeof *b);
    b->id = id;
    snprintf(b->host, sizeof b->host, "%s", host);
    b->port = port;
    b->backoff_ms = s->cfg.reconnect_ms_min;
    return RF_OK;
}

/* PEERS: u16 count, then per entry u64 id, u16 port, u8 host length, host;
 * our own listen address first. */
static void peer_send_book(srv_peer *p)
{
    rf_server *s = p->srv;
    uint8_t buf[2 + (SRV_BOOK_MAX + 1) * (11 + 255)];
    size_t n = 2;
    uint16_t count = 0;
    for (int i = -1; i < (int)s->n_book; i++) {
        uint64_t id = i < 0 ? s->cfg.node_id : s->book[i].id;
        const char *host = i < 0 ? s->cfg.listen.host : s->book[i].host;
        uint16_t port = i < 0 ? s->peer_port : s->book[i].port;
        size_t hl = strlen(host);
        if (id == 0 || id == p->peer_id || hl > 255)
            continue;
        rf_le_put64(buf + n, id);
        buf[n + 8] = (uint8_t)port;
        buf[n + 9] = (uint8_t)(port >> 8);
        buf[n + 10] = (uint8_t)hl;
        memcpy(buf + n + 11, host, hl);
        n += 11 + hl;
        count++;
    }
    buf[0] = (uint8_t)count;
    buf[1] = (uint8_t)(count >> 8);
    peer_write_frame(p, RF_FRAME_PEERS, buf, n);
}

/* Learning an address passes the whole book on to every other ready peer:
 * nodes that joined through the same node at the same moment learn of each
 * other this way (each one's first book predates the other). A node
 * forwards only when it learned something, so the gossip stops once every
 * book is complete. */
static void peer_forward_book(rf_server *s, const srv_peer *from)
{
    for (srv_peer *q = s->peers; q != NULL; q = q->next)
        if (q != from && q->state == PEER_READY)
            peer_send_book(q);
}

static int peer_recv_book(srv_peer *p, const uint8_t *d, uint32_t len)
{
    rf_server *s = p->srv;
    uint32_t known = s->n_book;
    if (len < 2)
        return RF_EBADMSG;
    uint32_t count = (uint32_t)d[0] | (uint32_t)d[1] << 8;
    size_t at = 2;
    for (uint32_t i = 0; i < count; i++) {
        if (len - at < 11)
            return RF_EBADMSG;
        uint64_t id = rf_le_get64(d + at);
        uint16_t port = (uint16_t)(d[at + 8] | d[at + 9] << 8);
        size_t hl = d[at + 10];
        if (len - at - 11 < hl || hl == 0 || hl >= RF_CONF_ADDR_BYTES_MAX)
            return RF_EBADMSG;
        char host[RF_CONF_ADDR_BYTES_MAX];
        memcpy(host, d + at + 11, hl);
        host[hl] = '\0';
        at += 11 + hl;
        rf_addr check;
        char text[RF_CONF_ADDR_BYTES_MAX + 8];
        snprintf(text, sizeof text, "%s:%u", host, (unsigned)port);
        if (id == 0 || id > RF_NODE_ID_MAX || rf_addr_parse(text, true, &check) != RF_OK)
            return RF_EBADMSG;
        if (id != s->cfg.node_id)
            srv_book_add(s, id, check.host, port);
    }
    if (at != len)
        return RF_EBADMSG;
    if (s->n_book > known)
        peer_forward_book(s, p);
    return RF_OK;
}

/* ---- frames ---- */

static void peer_auth_done(srv_peer *p)
{
    rf_server *s = p->srv;
    p->state = PEER_READY;
    p->peer_id = p->auth.peer_id;
    uv_timer_stop(&p->auth_timer);
    rf_frame_dec_set_max(&p->dec, RF_FRAME_PAYLOAD_BYTES_MAX);
    s->stats.peers_authenticated++;
    if (p->book >= 0) {
        s->book[p->book].id = p->peer_id;
        s->book[p->book].backoff_ms = s->cfg.reconnect_ms_min;
    }
    rf_log_info("peer %s: node %s (id %llu) authenticated", p->addr, p->auth.peer_name,
                (unsigned long long)p->peer_id);
    peer_send_book(p);
    srv_peer_authenticated(s, p);
}

static void peer_on_frame(srv_peer *p, const rf_frame *f)
{
    rf_server *s = p->srv;
    if (p->state == PEER_AUTH) {
        rf_auth_out out;
        int rc = rf_auth_recv(&p->auth, f->type, f->payload, f->len, &out);
        if (out.type != 0)
            peer_write_frame(p, out.type, out.buf, out.len);
        if (rc != RF_OK) {
            s->stats.peers_refused++;
            rf_log_warn("peer %s: refused: %s", p->addr, p->auth.reason);
            peer_close(p, NULL);
        } else if (rf_auth_done(&p->auth)) {
            peer_auth_done(p);
        }
        return;
    }
    ASSERT(p->state == PEER_READY);
    int rc = RF_OK;
    if (f->type == RF_FRAME_ENVELOPE) {
        s->stats.envelopes_received++;
        rc = rf_node_receive(s->node, p->peer_id, f->payload, f->len);
    } else if (f->type == RF_FRAME_PEERS) {
        rc = peer_recv_book(p, f->payload, f->len);
    } else if (f->type != RF_FRAME_PING) {
        rc = RF_EPROTO;
    }
    if (rc != RF_OK) {
        s->stats.peer_frame_errors++;
        rf_log_warn("peer %s: bad frame of type %u: %s", p->addr, (unsigned)f->type,
                    rf_strerror(rc));
        peer_close(p, NULL);
    }
}

static void on_peer_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    srv_peer *p = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)p->rbuf, SRV_READ_BYTES);
}

static void on_peer_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    srv_peer *p = st->data;
    (void)buf;
    if (nread < 0) {
        peer_close(p, nread == UV_EOF ? "connection closed by peer" : uv_strerror((int)nread));
        return;
    }
    size_t off = 0;
    for (;;) {
        size_t took = rf_frame_dec_feed(&p->dec, p->rbuf + off, (size_t)nread - off);
        off += took;
        rf_frame f;
        int rc = 0;
        bool any = false;
        while (p->state != PEER_CLOSING && (rc = rf_frame_dec_next(&p->dec, &f)) == 1) {
            peer_on_frame(p, &f);
            any = true;
        }
        if (p->state == PEER_CLOSING)
            break;
        if (rc < 0) {
            p->srv->stats.peer_frame_errors++;
            rf_log_warn("peer %s: bad frame: %s; closing", p->addr, p->dec.reason);
            peer_close(p, NULL);
            break;
        }
        if (off == (size_t)nread)
            break;
        /* The buffer holds a whole frame's worth: a full buffer always
         * yields a frame or an error, so no progress means a bug. */
        ASSERT(took > 0 || any);
    }
    srv_drain_soon(p->srv);
}

static void on_auth_timeout(uv_timer_t *t)
{
    srv_peer *p = t->data;
    p->srv->stats.peers_refused++;
    rf_log_warn("peer %s: authentication not done within %u ms; closing", p->addr,
                RF_AUTH_TIMEOUT_MS);
    peer_close(p, NULL);
}

static srv_peer *peer_new(rf_server *s, bool outbound, int book)
{
    srv_peer *p = calloc(1, sizeof *p);
    if (p == NULL || (p->rbuf = malloc(SRV_READ_BYTES)) == NULL) {
        free(p);
        return NULL;
    }
    p->srv = s;
    p->outbound = outbound;
    p->book = book;
    uv_tcp_init(&s->loop, &p->tcp);
    uv_timer_init(&s->loop, &p->auth_timer);
    p->tcp.data = p->auth_timer.data = p->connect.data = p;
    p->handles_open = 2;
    rf_frame_dec_init(&p->dec, RF_FRAME_AUTH_PAYLOAD_BYTES_MAX);
    p->next = s->peers;
    if (s->peers)
        s->peers->prev = p;
    s->peers = p;
    s->n_peers++;
    return p;
}

static void peer_start(srv_peer *p)
{
    rf_server *s = p->srv;
    p->state = PEER_AUTH;
    srv_sockname(&p->tcp, true, p->addr, sizeof p->addr);
    uv_tcp_nodelay(&p->tcp, 1);
    rf_auth_out out;
    uint64_t expect = p->book >= 0 ? s->book[p->book].id : 0;
    int rc = rf_auth_start(&p->auth, s->secret, s->secret_len, s->cfg.node_id, s->cfg.name,
                           expect, &out);
    if (rc != RF_OK) {
        peer_close(p, p->auth.reason);
        return;
    }
    peer_write_frame(p, out.type, out.buf, out.len);
    uv_timer_start(&p->auth_timer, on_auth_timeout, RF_AUTH_TIMEOUT_MS, 0);
    if (uv_read_start((uv_stream_t *)&p->tcp, on_peer_alloc, on_peer_read) != 0)
        peer_close(p, "cannot read");
}

static void on_peer_connection(uv_stream_t *server, int status)
{
    rf_server *s = server->data;
    if (status < 0)
        return;
    srv_peer *p = peer_new(s, false, -1);
    if (p == NULL)
        return;
    s->stats.peers_accepted++;
    if (uv_accept(server, (uv_stream_t *)&p->tcp) != 0 || s->stopping ||
        s->n_peers > SRV_PEERS_MAX) {
        peer_close(p, "refused: stopping or too many peers");
        return;
    }
    peer_start(p);
}

static void on_connected(uv_connect_t *req, int status)
{
    srv_peer *p = req->data;
    if (p->state == PEER_CLOSING)
        return;
    if (status < 0) {
        srv_book *b = &p->srv->book[p->book];
        rf_log_debug("peer %s:%u: connect failed: %s; retry in %u ms", b->host, (unsigned)b->port,
                     uv_strerror(status), b->backoff_ms);
        snprintf(p->addr, sizeof p->addr, "%s:%u", b->host, (unsigned)b->port);
        peer_close(p, NULL);
        return;
    }
    peer_start(p);
}

void srv_peer_dial_due(rf_server *s)
{
    uint64_t now = srv_now_ms(s);
    for (uint32_t i = 0; i < s->n_book && !s->stopping; i++) {
        srv_book *b = &s->book[i];
        if (b->dialling || now < b->retry_at_ms || b->id == s->cfg.node_id)
            continue;
        if (b->id != 0 && peer_ready_to(s, b->id, NULL))
            continue;
        struct sockaddr_storage ss;
        int rc = strchr(b->host, ':') ? uv_ip6_addr(b->host, b->port, (struct sockaddr_in6 *)&ss)
                                      : uv_ip4_addr(b->host, b->port, (struct sockaddr_in *)&ss);
        if (rc != 0) {
            b->retry_at_ms = now + s->cfg.reconnect_ms_max;
            continue;
        }
        srv_peer *p = peer_new(s, true, (int)i);
        if (p == NULL)
            return;
        b->dialling = true;
        snprintf(p->addr, sizeof p->addr, "%s:%u", b->host, (unsigned)b->port);
        if (uv_tcp_connect(&p->connect, &p->tcp, (const struct sockaddr *)&ss, on_connected) != 0)
            peer_close(p, "connect failed");
    }
}

void srv_peer_send(rf_server *s, uint64_t to, const uint8_t *data, size_t len)
{
    for (srv_peer *p = s->peers; p != NULL; p = p->next) {
        if (p->state != PEER_READY || p->peer_id != to)
            continue;
        if (uv_stream_get_write_queue_size((uv_stream_t *)&p->tcp) + p->out_len >
            SRV_PEER_WRITE_BYTES_MAX)
            break; /* a slow peer: Raft resends what is lost */
        if (!peer_queue_frame(p, RF_FRAME_ENVELOPE, data, len))
            break;
        s->stats.envelopes_sent++;
        return;
    }
    s->stats.envelopes_dropped++;
}

void srv_peer_flush_all(rf_server *s)
{
    for (srv_peer *p = s->peers; p != NULL;) {
        srv_peer *next = p->next; /* a failed write unlinks p */
        peer_flush(p);
        p = next;
    }
}

int srv_peer_listen(rf_server *s, char *err, size_t cap)
{
    s->peer_listen.data = s;
    return srv_bind(&s->peer_listen, &s->cfg.listen, on_peer_connection, &s->peer_port, err, cap);
}

void srv_peer_close_all(rf_server *s)
{
    while (s->peers != NULL)
        peer_close(s->peers, NULL);
}

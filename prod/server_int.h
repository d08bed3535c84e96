/* server_int: the internals shared by server.c, server_client.c and server_peer.c. */
#ifndef PROD_SERVER_INT_H
#define PROD_SERVER_INT_H

#include <uv.h>

#include "fleet/rf_node.h"
#include "prod/auth.h"
#include "prod/client.h"
#include "prod/frame.h"
#include "prod/history.h"
#include "prod/persist.h"
#include "prod/resp.h"
#include "prod/server.h"

#define SRV_READ_BYTES 65536u            /* one read from a socket */
#define SRV_OUT_KEEP_BYTES (256u << 10)  /* a client's reply buffer kept between writes */
#define SRV_PEER_WRITE_BYTES_MAX (64u << 20) /* queued to one peer; past it, drop */
#define SRV_PEERS_MAX 256u               /* peer connections at once */
#define SRV_BOOK_MAX 256u                /* known peer addresses */
#define SRV_PENDING_MAX RF_NODE_PENDING_MAX
#define SRV_REQ_ACTIVATE 1u              /* the request id of our own activation */
#define SRV_REQ_FIRST 16u                /* client request ids start here */

typedef struct srv_reply srv_reply;
typedef struct srv_client srv_client;
typedef struct srv_peer srv_peer;

#define SRV_REPLY_SMALL_BYTES 32u /* a reply this short lives in its srv_reply */
#define SRV_REPLY_SPARE_MAX 4096u /* freed srv_reply kept for reuse, per server */

/* One reply in a client's queue, in request order. */
struct srv_reply {
    srv_reply *next;
    bool done;
    uint64_t request_id; /* while waiting for the node */
    uint8_t *bytes;      /* small, or allocated */
    size_t len;
    uint8_t small[SRV_REPLY_SMALL_BYTES];
};

struct srv_client {
    uv_tcp_t tcp;
    rf_server *srv;
    srv_client *prev, *next;
    rf_resp_parser parser;
    rf_client session;
    rf_resp_out out;      /* replies ready to send, in order */
    srv_reply *head, *tail;
    uint32_t inflight;    /* replies awaited from the node */
    bool reading, closing, close_after_flush;
    bool resume;          /* has requests waiting for room in flight */
    bool flush_queued;    /* on the server's flush list */
    srv_client *flush_next;
    char addr[RF_CONF_ADDR_BYTES_MAX + 8]; /* host:port */
    uint8_t *rbuf;
    size_t stash;         /* unread bytes kept at rbuf's head (back-pressure) */
};

typedef enum srv_peer_state {
    PEER_CONNECTING = 0,
    PEER_AUTH = 1,
    PEER_READY = 2,
    PEER_CLOSING = 3
} srv_peer_state;

struct srv_peer {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_timer_t auth_timer;
    rf_server *srv;
    srv_peer *prev, *next;
    srv_peer_state state;
    bool outbound;
    int book;           /* address book slot dialled, -1 inbound */
    rf_frame_dec dec;
    rf_auth auth;
    uint64_t peer_id;
    char addr[RF_CONF_ADDR_BYTES_MAX + 8]; /* host:port */
    uint8_t *rbuf;
    uint8_t *out;       /* frames not yet handed to the socket, in order */
    size_t out_len, out_cap;
    int handles_open;   /* tcp and timer: freed when both closed */
};

/* A known peer address and the dialling state for it. */
typedef struct srv_book {
    uint64_t id;        /* 0 until learned (the join address) */
    char host[RF_CONF_ADDR_BYTES_MAX];
    uint16_t port;
    bool dialling;      /* a connection attempt or a ready connection exists */
    uint32_t backoff_ms;
    uint64_t retry_at_ms;
} srv_book;

typedef struct srv_pending {
    uint64_t request_id;
    srv_client *client;
    srv_reply *reply;
    rf_cmd_id kind;
} srv_pending;

struct rf_server {
    rf_fleetd_config cfg;
    uv_loop_t loop;
    uv_tcp_t peer_listen, client_listen;
    uv_timer_t tick;
    uv_check_t check; /* drains the node once per loop turn */
    uv_async_t stop_async;
    uv_signal_t sigterm, sigint;
    uv_work_t work;
    bool loop_ready, signals, stopping, activated, activating;
    bool restored; /* the node came back from its data directory */
    bool drain_due; /* inputs since the last drain: on_check drains */
    uint8_t secret[RF_AUTH_SECRET_BYTES_MAX];
    size_t secret_len;
    rf_node *node;
    uint64_t seed;
    rf_hist *hist; /* NULL when the history could not be opened */
    rf_persist persist;
    bool persist_open, persist_failure_logged;
    rf_client_config client_cfg;
    srv_client *clients;
    srv_client *flush_list; /* clients with replies to send at the end of srv_drain */
    srv_reply *spare;       /* freed replies kept for the next requests (one malloc less each) */
    uint32_t n_spare;
    uint32_t n_clients, n_resume;
    uint64_t next_client_id, next_request_id;
    srv_peer *peers;
    uint32_t n_peers;
    srv_book book[SRV_BOOK_MAX];
    uint32_t n_book;
    srv_pending *pending; /* SRV_PENDING_MAX slots, by request id */
    rf_resp_out scratch;  /* one node reply being formatted */
    uint16_t peer_port, client_port;
    rf_server_stats stats;
    uint64_t last_tick_ms;
};

/* server.c */
uint64_t srv_now_ms(const rf_server *s);
void srv_drain(rf_server *s);
/* Inputs were given to the node: drain it at the end of this loop turn. */
void srv_drain_soon(rf_server *s);
void srv_peer_authenticated(rf_server *s, srv_peer *p);

/* server_client.c */
int srv_client_listen(rf_server *s, char *err, size_t cap);
void srv_client_close_all(rf_server *s);
/* Frees the spare replies (server close). */
void srv_client_free_spares(rf_server *s);
void srv_client_node_reply(rf_server *s, const rf_node_reply *r);
void srv_client_resume_pending(rf_server *s);
/* Sends the replies completed during this drain, one write per client. */
void srv_client_flush_dirty(rf_server *s);

/* server_views.c: the FLEET.* answers read from the local node alone
 * (GROUPS, NODES, LEADER, STATUS, PLACEMENT). */
void srv_write_view(rf_server *s, const rf_fleet_req *req, rf_resp_out *o);

/* server_peer.c */
int srv_peer_listen(rf_server *s, char *err, size_t cap);
void srv_peer_close_all(rf_server *s);
/* Queues an envelope; srv_peer_flush_all sends every peer's queue. */
void srv_peer_send(rf_server *s, uint64_t to, const uint8_t *data, size_t len);
/* One write per peer for the frames queued since the last flush. */
void srv_peer_flush_all(rf_server *s);
void srv_peer_dial_due(rf_server *s);
int srv_book_add(rf_server *s, uint64_t id, const char *host, uint16_t port);

int srv_bind(uv_tcp_t *t, const rf_addr *a, uv_connection_cb cb, uint16_t *port, char *err,
             size_t cap);

/* "ip:port" of a peer socket for the log. */
void srv_sockname(const uv_tcp_t *t, bool peer, char *buf, size_t cap);

#endif

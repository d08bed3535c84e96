/* server: fleetd's libuv event loop: the peer and client ports, the node, the group commit off the loop. */
#ifndef PROD_SERVER_H
#define PROD_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "model/rf_model.h"
#include "prod/config.h"

/* One fleetd node in one thread. Everything runs on the loop thread except
 * the storage I/O of a commit (uv_queue_work) and rf_server_stop, which
 * may be called from any thread or a signal handler's context.
 *
 * What works: both ports listen and accept; client connections speak RESP
 * with bounded buffers, pipelining, in-order replies and a bounded number
 * of requests in flight; FLEET.* requests drive rf_node; peer connections
 * authenticate (prod/auth.h) and then carry rf_node envelopes in frames
 * (prod/frame.h); the join address is dialled with backoff and peers tell
 * each other their listen addresses; every node batch goes through the
 * group commit (prod/persist.h) before rf_node hears it is durable;
 * SIGTERM and SIGINT (rf_server_run installs them) stop it cleanly.
 * A data directory that holds a node's store restores it (rf_node_restore:
 * every hosted member with its term, vote, log and snapshot); one of
 * another node is refused (RF_EOTHERNODE). The node's observations go to
 * DATA_DIR/history.db (prod/history.h). */
typedef struct rf_server rf_server;

typedef struct rf_server_stats {
    uint64_t clients_accepted, clients_closed, client_protocol_errors;
    uint64_t client_read_pauses; /* reading stopped: too many requests in flight */
    uint64_t peers_accepted, peers_authenticated, peers_refused, peer_frame_errors;
    uint64_t envelopes_sent, envelopes_dropped, envelopes_received;
    uint64_t commits;
} rf_server_stats;

/* cfg is copied. secret: the cluster secret (copied, wiped on close).
 * models: the data models (built-in and loaded), n_models >= 1. Port 0 in
 * cfg->listen / cfg->client binds an ephemeral port (tests). Returns RF_OK
 * or an rf_err with err saying what failed (bind, data directory...). */
int rf_server_create(const rf_fleetd_config *cfg, const uint8_t *secret, size_t secret_len,
                     const rf_model *const *models, uint32_t n_models, rf_server **out,
                     char *err, size_t cap);

/* Runs the loop until rf_server_stop or SIGTERM/SIGINT (with signals true);
 * returns RF_OK after a clean shutdown. */
int rf_server_run(rf_server *s, bool signals);

/* Asks the loop to shut down; thread-safe. */
void rf_server_stop(rf_server *s);

/* After rf_server_run returned. */
void rf_server_close(rf_server *s);

/* The bound ports (useful with port 0); valid after create. */
uint16_t rf_server_peer_port(const rf_server *s);
uint16_t rf_server_client_port(const rf_server *s);
/* Counters; read them after run returned, or from the loop thread. */
void rf_server_stats_get(const rf_server *s, rf_server_stats *out);

#endif

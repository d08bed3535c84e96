/* client: one client connection's session on fleetd's RESP port: AUTH, the local commands, and what goes to the node. */
#ifndef PROD_CLIENT_H
#define PROD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prod/commands.h"
#include "prod/resp.h"

/* Shared by every session of one server; the driver owns it. */
typedef struct rf_client_config {
    const uint8_t *password; /* NULL: no AUTH required */
    size_t password_len;
    const char *node_name;
    const char *zone;
    const char *version;
    /* Appends fleetd's own INFO sections ("# Fleet\r\n..."); may be NULL.
     * Must not write secrets. Returns the bytes written (< cap). */
    size_t (*info_extra)(void *arg, char *buf, size_t cap);
    void *info_arg;
} rf_client_config;

typedef struct rf_client {
    const rf_client_config *cfg;
    uint64_t id;
    bool authed;
    uint8_t *scratch; /* RF_CMD_SCRATCH_BYTES, for joined model inputs */
    uint64_t commands, errors;
} rf_client;

typedef enum rf_client_action {
    RF_CLIENT_REPLIED = 0, /* the reply is in out */
    RF_CLIENT_FLEET = 1,   /* *req is checked: the driver asks the node and
                            * later writes the answer (rf_client_reply_status
                            * or a view of its own) in this request's turn */
    RF_CLIENT_CLOSE = 2    /* reply written; close once it is sent */
} rf_client_action;

/* Returns RF_OK or RF_ENOMEM. */
int rf_client_init(rf_client *c, const rf_client_config *cfg, uint64_t id);
void rf_client_close(rf_client *c);

/* Handles one parsed request: replies to what the session answers itself
 * (unknown command, wrong arity, NOAUTH, bad arguments, PING, AUTH, INFO,
 * COMMAND ...) and hands FLEET.* requests to the driver through *req. */
rf_client_action rf_client_handle(rf_client *c, const rf_resp_cmd *cmd, rf_resp_out *out,
                                  rf_fleet_req *req);

/* The RESP error word for an rf_err code: RaftFleet's names where it has
 * one (no_leader, already_added, not_found, no_active_node,
 * cleanup_ongoing, not_inactive, inactive), else "ERR". */
const char *rf_client_error_word(int code);

/* Writes a node reply: status RF_OK -> the model's bytes as a bulk string
 * (a simple OK when there are none); otherwise an error "<word> <text>". */
void rf_client_reply_status(rf_resp_out *out, int status, const uint8_t *data, size_t len);

#endif

/* commands: the table of commands fleetd's client port accepts, with their arity and argument rules. */
#ifndef PROD_COMMANDS_H
#define PROD_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prod/resp.h"

typedef enum rf_cmd_id {
    RF_CMD_PING = 1,
    RF_CMD_ECHO,
    RF_CMD_QUIT,
    RF_CMD_AUTH,
    RF_CMD_HELLO,
    RF_CMD_INFO,
    RF_CMD_COMMAND,
    RF_CMD_CONFIG,
    RF_CMD_SELECT,
    RF_CMD_CLIENT,
    RF_CMD_FLEET_ADD,
    RF_CMD_FLEET_REMOVE,
    RF_CMD_FLEET_GROUPS,
    RF_CMD_FLEET_NODES,
    RF_CMD_FLEET_CMD,
    RF_CMD_FLEET_QUERY,
    RF_CMD_FLEET_LEADER,
    RF_CMD_FLEET_STATUS,
    RF_CMD_FLEET_ACTIVATE,
    RF_CMD_FLEET_DEACTIVATE,
    RF_CMD_FLEET_PLACEMENT
} rf_cmd_id;

enum {
    RF_CMDF_NOAUTH = 1u << 0,   /* allowed before AUTH when a password is set */
    RF_CMDF_FLEET = 1u << 1,    /* answered by the node (rf_node), not the session */
    RF_CMDF_WRITE = 1u << 2,    /* changes replicated state */
    RF_CMDF_READONLY = 1u << 3, /* reads only */
    RF_CMDF_ADMIN = 1u << 4     /* changes the cluster's shape */
};

typedef struct rf_cmd_spec {
    const char *name; /* upper case, as documented */
    uint8_t name_len; /* strlen(name): most names are ruled out by length */
    rf_cmd_id id;
    int arity_min;    /* counting the command name itself, as Redis */
    int arity_max;    /* -1: unbounded */
    uint32_t flags;   /* RF_CMDF_* */
    const char *usage;
    const char *summary;
} rf_cmd_spec;

/* The spec of a command name (case-insensitive), NULL when unknown. */
const rf_cmd_spec *rf_cmd_lookup(const char *name, size_t len);
size_t rf_cmd_count(void);
const rf_cmd_spec *rf_cmd_at(size_t i);

/* A request for the node, with its arguments checked. Strings point into
 * the parsed request (valid as rf_resp_cmd's) or into the caller's
 * scratch buffer (payload). */
typedef struct rf_fleet_req {
    rf_cmd_id id;
    const char *name;     /* group (ADD REMOVE CMD QUERY LEADER, STATUS with one), zone (ACTIVATE) */
    uint32_t replicas;    /* ADD */
    const char *model;    /* ADD */
    const uint8_t *payload; /* CMD QUERY: the model input */
    size_t payload_len;
} rf_fleet_req;

#define RF_CMD_ERR_BYTES 256u
#define RF_CMD_SCRATCH_BYTES 65536u /* = RF_MODEL_INPUT_MAX */

/* Checks a FLEET.* request (arity already checked) and fills *req. Model
 * input: a single argument is passed as is (binary-safe); several are
 * joined with single spaces into scratch (RF_CMD_SCRATCH_BYTES), and then
 * none may be empty or hold a space, which would make the join ambiguous.
 * Returns true, or false with the RESP error text in err. */
bool rf_cmd_fleet_args(const rf_cmd_spec *spec, const rf_resp_cmd *cmd, uint8_t *scratch,
                       rf_fleet_req *req, char err[RF_CMD_ERR_BYTES]);

/* Writes COMMAND's reply for one spec (Redis 6 layout: name, arity, flags,
 * first key, last key, step). */
void rf_cmd_write_info(rf_resp_out *o, const rf_cmd_spec *spec);

#endif

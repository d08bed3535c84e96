/* commands: the table of commands fleetd's client port accepts, with their arity and argument rules. */
#include "prod/commands.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "model/rf_model.h"
#include "placement/rf_placement.h"
#include "fleet/rf_meta.h"

#define NOAUTH RF_CMDF_NOAUTH
#define FLEET RF_CMDF_FLEET
#define WRITE RF_CMDF_WRITE
#define READONLY RF_CMDF_READONLY
#define ADMIN RF_CMDF_ADMIN
#define CMD_NAME(s) s, (uint8_t)(sizeof(s) - 1)

/* RaftFleet's API (DESIGN.md section 4) plus what standard clients send on
 * connect: redis-cli (AUTH, COMMAND DOCS, SELECT with -n), redis-benchmark
 * (CONFIG GET save / appendonly), client libraries (HELLO, CLIENT SETNAME,
 * CLIENT SETINFO, PING). */
static const rf_cmd_spec cmd_table[] = {
    {CMD_NAME("PING"), RF_CMD_PING, 1, 2, READONLY, "[message]", "PONG, or the message"},
    {CMD_NAME("ECHO"), RF_CMD_ECHO, 2, 2, READONLY, "message", "the message"},
    {CMD_NAME("QUIT"), RF_CMD_QUIT, 1, -1, NOAUTH, "", "close the connection"},
    {CMD_NAME("AUTH"), RF_CMD_AUTH, 2, 3, NOAUTH, "[username] password", "authenticate (user: default)"},
    {CMD_NAME("HELLO"), RF_CMD_HELLO, 1, 7, NOAUTH, "[2 [AUTH username password] [SETNAME name]]",
     "handshake; RESP2 only"},
    {CMD_NAME("INFO"), RF_CMD_INFO, 1, -1, READONLY, "[section ...]", "server information, no secrets"},
    {CMD_NAME("COMMAND"), RF_CMD_COMMAND, 1, -1, READONLY, "[COUNT | INFO name ... | DOCS ...]",
     "the command table"},
    {CMD_NAME("CONFIG"), RF_CMD_CONFIG, 2, -1, READONLY, "GET parameter", "read-only: save, appendonly"},
    {CMD_NAME("SELECT"), RF_CMD_SELECT, 2, 2, READONLY, "0", "database 0 is the only one"},
    {CMD_NAME("CLIENT"), RF_CMD_CLIENT, 2, -1, READONLY, "SETNAME name | SETINFO key value | ID",
     "connection settings"},
    {CMD_NAME("FLEET.ADD"), RF_CMD_FLEET_ADD, 4, 4, FLEET | WRITE | ADMIN, "name replicas model",
     "add a consensus group"},
    {CMD_NAME("FLEET.REMOVE"), RF_CMD_FLEET_REMOVE, 2, 2, FLEET | WRITE | ADMIN, "name",
     "remove a consensus group"},
    {CMD_NAME("FLEET.GROUPS"), RF_CMD_FLEET_GROUPS, 1, 1, FLEET | READONLY, "",
     "the consensus groups: name, replicas, model"},
    {CMD_NAME("FLEET.NODES"), RF_CMD_FLEET_NODES, 1, 1, FLEET | READONLY, "", "the nodes: name, zone, state"},
    {CMD_NAME("FLEET.CMD"), RF_CMD_FLEET_CMD, 3, -1, FLEET | WRITE, "name args...",
     "a command to a group's data model, through its leader"},
    {CMD_NAME("FLEET.QUERY"), RF_CMD_FLEET_QUERY, 3, -1, FLEET | READONLY, "name args...",
     "a linearizable query to a group's data model"},
    {CMD_NAME("FLEET.LEADER"), RF_CMD_FLEET_LEADER, 2, 2, FLEET | READONLY, "name",
     "the group's leader as this node knows it"},
    {CMD_NAME("FLEET.STATUS"), RF_CMD_FLEET_STATUS, 1, 2, FLEET | READONLY, "[name]",
     "this node's status, or one group's"},
    {CMD_NAME("FLEET.PLACEMENT"), RF_CMD_FLEET_PLACEMENT, 1, 1, FLEET | READONLY, "",
     "nodes (name, zone, state, id, reachable) and groups (name, id, replicas, model, leader, "
     "term, hosted, members, target) as this node knows them"},
    {CMD_NAME("FLEET.ACTIVATE"), RF_CMD_FLEET_ACTIVATE, 2, 2, FLEET | WRITE | ADMIN, "zone",
     "activate this node in a zone"},
    {CMD_NAME("FLEET.DEACTIVATE"), RF_CMD_FLEET_DEACTIVATE, 1, 1, FLEET | WRITE | ADMIN, "",
     "drain this node and leave the cluster"},
};

#define CMD_COUNT (sizeof cmd_table / sizeof cmd_table[0])

const rf_cmd_spec *rf_cmd_lookup(const char *name, size_t len)
{
    if (len == 0)
        return NULL;
    /* The length and the first letter rule most names out before a full
     * compare (this runs for every request). */
    char first = (char)toupper((unsigned char)name[0]);
    for (size_t i = 0; i < CMD_COUNT; i++) {
        const rf_cmd_spec *c = &cmd_table[i];
        if (c->name_len == len && c->name[0] == first && strncasecmp(c->name, name, len) == 0)
            return c;
    }
    return NULL;
}

size_t rf_cmd_count(void)
{
    return CMD_COUNT;
}

const rf_cmd_spec *rf_cmd_at(size_t i)
{
    ASSERT(i < CMD_COUNT);
    return &cmd_table[i];
}

/* A strict decimal in [lo, hi]: no sign, no spaces, no leading zeros. */
static bool parse_u32(const char *s, size_t len, uint32_t lo, uint32_t hi, uint32_t *out)
{
    if (len == 0 || len > 9 || (len > 1 && s[0] == '0'))
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool model_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > RF_MODEL_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* The model input from argv[2..]: see rf_cmd_fleet_args. */
static bool join_input(const rf_resp_cmd *cmd, uint8_t *scratch, rf_fleet_req *req,
                       char err[RF_CMD_ERR_BYTES])
{
    if (cmd->argc == 3) {
        if (cmd->argl[2] > RF_MODEL_INPUT_MAX) {
            snprintf(err, RF_CMD_ERR_BYTES, "ERR model input over %d bytes", RF_MODEL_INPUT_MAX);
            return false;
        }
        req->payload = (const uint8_t *)cmd->argv[2];
        req->payload_len = cmd->argl[2];
        return true;
    }
    size_t n = 0;
    for (uint32_t i = 2; i < cmd->argc; i++) {
        size_t l = cmd->argl[i];
        if (l == 0 || memchr(cmd->argv[i], ' ', l) != NULL) {
            snprintf(err, RF_CMD_ERR_BYTES,
                     "ERR argument %u is empty or holds a space: pass the whole input as one "
                     "argument instead",
                     (unsigned)(i - 1));
            return false;
        }
        if (l + (n ? 1 : 0) > RF_CMD_SCRATCH_BYTES - n) {
            snprintf(err, RF_CMD_ERR_BYTES, "ERR model input over %d bytes", RF_MODEL_INPUT_MAX);
            return false;
        }
        if (n)
            scratch[n++] = ' ';
        memcpy(scratch + n, cmd->argv[i], l);
        n += l;
    }
    req->payload = scratch;
    req->payload_len = n;
    return true;
}

static bool group_ok(const rf_resp_cmd *cmd, char err[RF_CMD_ERR_BYTES])
{
    if (cmd->argl[1] != strlen(cmd->argv[1]) || rf_placement_check_group(cmd->argv[1]) != RF_OK) {
        snprintf(err, RF_CMD_ERR_BYTES, "ERR invalid group name: 1 to %u bytes, no NUL",
                 RF_GROUP_NAME_MAX);
        return false;
    }
    return true;
}

bool rf_cmd_fleet_args(const rf_cmd_spec *spec, const rf_resp_cmd *cmd, uint8_t *scratch,
                       rf_fleet_req *req, char err[RF_CMD_ERR_BYTES])
{
    ASSERT(spec->flags & RF_CMDF_FLEET);
    ASSERT(cmd->argc >= (uint32_t)spec->arity_min);
    memset(req, 0, sizeof *req);
    req->id = spec->id;
    switch (spec->id) {
    case RF_CMD_FLEET_ADD:
        if (!group_ok(cmd, err))
            return false;
        if (!parse_u32(cmd->argv[2], cmd->argl[2], 1, RF_META_REPLICAS_MAX, &req->replicas)) {
            snprintf(err, RF_CMD_ERR_BYTES, "ERR replicas must be an integer from 1 to %u",
                     RF_META_REPLICAS_MAX);
            return false;
        }
        if (!model_name_ok(cmd->argv[3], cmd->argl[3])) {
            snprintf(err, RF_CMD_ERR_BYTES, "ERR invalid model name: 1 to %d bytes of [a-z0-9_-]",
                     RF_MODEL_NAME_MAX);
            return false;
        }
        req->name = cmd->argv[1];
        req->model = cmd->argv[3];
        return true;
    case RF_CMD_FLEET_REMOVE:
    case RF_CMD_FLEET_LEADER:
        if (!group_ok(cmd, err))
            return false;
        req->name = cmd->argv[1];
        return true;
    case RF_CMD_FLEET_STATUS:
        if (cmd->argc == 2) {
            if (!group_ok(cmd, err))
                return false;
            req->name = cmd->argv[1];
        }
        return true;
    case RF_CMD_FLEET_CMD:
    case RF_CMD_FLEET_QUERY:
        if (!group_ok(cmd, err))
            return false;
        req->name = cmd->argv[1];
        return join_input(cmd, scratch, req, err);
    case RF_CMD_FLEET_ACTIVATE:
        if (cmd->argl[1] != strlen(cmd->argv[1]) || rf_placement_check_name(cmd->argv[1]) != RF_OK) {
            snprintf(err, RF_CMD_ERR_BYTES, "ERR invalid zone name: 1 to %u bytes of [A-Za-z0-9._@-]",
                     RF_PLACEMENT_NAME_MAX);
            return false;
        }
        req->name = cmd->argv[1];
        return true;
    case RF_CMD_FLEET_GROUPS:
    case RF_CMD_FLEET_NODES:
    case RF_CMD_FLEET_PLACEMENT:
    case RF_CMD_FLEET_DEACTIVATE:
        return true;
    default:
        UNREACHABLE();
    }
}

void rf_cmd_write_info(rf_resp_out *o, const rf_cmd_spec *spec)
{
    char lower[32];
    size_t n = spec->name_len;
    ASSERT(n < sizeof lower);
    for (size_t i = 0; i <= n; i++) {
        char c = spec->name[i];
        lower[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    rf_resp_array(o, 6);
    rf_resp_bulk_str(o, lower);
    /* Redis: a positive arity is exact, a negative one a minimum. */
    rf_resp_int(o, spec->arity_min == spec->arity_max ? spec->arity_min : -spec->arity_min);
    uint32_t nflags = 0;
    const char *flags[4];
    if (spec->flags & RF_CMDF_WRITE)
        flags[nflags++] = "write";
    if (spec->flags & RF_CMDF_READONLY)
        flags[nflags++] = "readonly";
    if (spec->flags & RF_CMDF_NOAUTH)
        flags[nflags++] = "no_auth";
    if (spec->flags & RF_CMDF_ADMIN)
        flags[nflags++] = "admin";
    rf_resp_array(o, nflags);
    for (uint32_t i = 0; i < nflags; i++)
        rf_resp_simple(o, flags[i]);
    /* The group name plays the role of a key for cluster-aware clients. */
    bool keyed = spec->id == RF_CMD_FLEET_CMD || spec->id == RF_CMD_FLEET_QUERY ||
                 spec->id == RF_CMD_FLEET_ADD || spec->id == RF_CMD_FLEET_REMOVE ||
                 spec->id == RF_CMD_FLEET_LEADER;
    rf_resp_int(o, keyed ? 1 : 0);
    rf_resp_int(o, keyed ? 1 : 0);
    rf_resp_int(o, keyed ? 1 : 0);
}

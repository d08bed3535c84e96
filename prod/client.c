/* client: one client connection's session on fleetd's RESP port: AUTH, the local commands, and what goes to the node. */
#include "prod/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"

#define INFO_BYTES_MAX 8192u

int rf_client_init(rf_client *c, const rf_client_config *cfg, uint64_t id)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->id = id;
    c->authed = cfg->password == NULL;
    return RF_OK;
}

void rf_client_close(rf_client *c)
{
    free(c->scratch);
    c->scratch = NULL;
}

static bool arg_is(const rf_resp_cmd *cmd, uint32_t i, const char *word)
{
    return i < cmd->argc && cmd->argl[i] == strlen(word) && strcasecmp(cmd->argv[i], word) == 0;
}

/* A printable, bounded copy of an argument for an error message. */
static void printable(char *dst, size_t cap, const char *src, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++)
        dst[n++] = (src[i] >= 32 && src[i] < 127 && src[i] != '\'') ? src[i] : '?';
    dst[n] = '\0';
}

static void reply_unknown(rf_resp_out *out, const rf_resp_cmd *cmd)
{
    char name[64], args[160] = "";
    printable(name, sizeof name, cmd->argv[0], cmd->argl[0]);
    size_t n = 0;
    for (uint32_t i = 1; i < cmd->argc && n + 8 < sizeof args; i++) {
        char a[40];
        printable(a, sizeof a, cmd->argv[i], cmd->argl[i]);
        int w = snprintf(args + n, sizeof args - n, "'%s' ", a);
        if (w < 0 || (size_t)w >= sizeof args - n)
            break;
        n += (size_t)w;
    }
    rf_resp_errorf(out, "ERR unknown command '%s', with args beginning with: %s", name, args);
}

/* Compares a password in constant time with respect to its contents: both
 * sides are hashed first so that the comparison has a fixed length. */
static bool password_ok(const rf_client_config *cfg, const char *p, size_t len)
{
    uint8_t want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
    SHA256(cfg->password, cfg->password_len, want);
    SHA256((const uint8_t *)p, len, got);
    bool ok = CRYPTO_memcmp(want, got, sizeof want) == 0;
    OPENSSL_cleanse(want, sizeof want);
    OPENSSL_cleanse(got, sizeof got);
    return ok;
}

/* AUTH [username] password; only the "default" user exists. Returns NULL
 * when authenticated, else the error to reply. argv[user] is the user name
 * when user < pw. */
static const char *auth_try(rf_client *c, const rf_resp_cmd *cmd, uint32_t user, uint32_t pw)
{
    if (c->cfg->password == NULL)
        return "ERR AUTH <password> called without any password configured for the default "
               "user. Are you sure your configuration is correct?";
    bool user_ok = user == pw || arg_is(cmd, user, "default");
    if (user_ok && password_ok(c->cfg, cmd->argv[pw], cmd->argl[pw])) {
        c->authed = true;
        return NULL;
    }
    return "WRONGPASS invalid username-password pair or user is disabled.";
}

static void do_auth(rf_client *c, const rf_resp_cmd *cmd, rf_resp_out *out)
{
    uint32_t pw = cmd->argc == 3 ? 2 : 1;
    const char *err = auth_try(c, cmd, 1, pw);
    if (err)
        rf_resp_error(out, err);
    else
        rf_resp_simple(out, "OK");
}

/* HELLO [protover [AUTH username password] [SETNAME name]], RESP2 only. */
static void do_hello(rf_client *c, const rf_resp_cmd *cmd, rf_resp_out *out)
{
    if (cmd->argc >= 2 && !arg_is(cmd, 1, "2")) {
        if (arg_is(cmd, 1, "3"))
            rf_resp_error(out, "NOPROTO sorry, this protocol version is not supported");
        else
            rf_resp_error(out, "ERR Protocol version is not an integer or out of range");
        return;
    }
    for (uint32_t i = 2; i < cmd->argc; i++) {
        if (arg_is(cmd, i, "AUTH") && i + 2 < cmd->argc) {
            const char *err = auth_try(c, cmd, i + 1, i + 2);
            if (err) {
                rf_resp_error(out, err);
                return;
            }
            i += 2;
        } else if (arg_is(cmd, i, "SETNAME") && i + 1 < cmd->argc) {
            i += 1;
        } else {
            rf_resp_errorf(out, "ERR Syntax error in HELLO option");
            return;
        }
    }
    if (!c->authed) {
        rf_resp_error(out, "NOAUTH HELLO must be called with the client already authenticated, "
                           "otherwise the HELLO <proto> AUTH <user> <pass> option can be used "
                           "to authenticate the client and select the RESP protocol version at "
                           "the same time");
        return;
    }
    rf_resp_array(out, 14);
    rf_resp_bulk_str(out, "server");
    rf_resp_bulk_str(out, "fleetd");
    rf_resp_bulk_str(out, "version");
    rf_resp_bulk_str(out, c->cfg->version);
    rf_resp_bulk_str(out, "proto");
    rf_resp_int(out, 2);
    rf_resp_bulk_str(out, "id");
    rf_resp_int(out, (int64_t)c->id);
    rf_resp_bulk_str(out, "mode");
    rf_resp_bulk_str(out, "standalone");
    rf_resp_bulk_str(out, "role");
    rf_resp_bulk_str(out, "master");
    rf_resp_bulk_str(out, "modules");
    rf_resp_array(out, 0);
}

static void do_info(const rf_client *c, rf_resp_out *out)
{
    char *text = malloc(INFO_BYTES_MAX);
    if (text == NULL) {
        rf_resp_error(out, "ERR out of memory");
        return;
    }
    int n = snprintf(text, INFO_BYTES_MAX,
                     "# Server\r\nredis_version:%s\r\nfleetd_version:%s\r\nnode:%s\r\nzone:%s\r\n"
                     "auth_required:%s\r\n\r\n",
                     c->cfg->version, c->cfg->version, c->cfg->node_name,
                     c->cfg->zone ? c->cfg->zone : "", c->cfg->password ? "yes" : "no");
    size_t len = n > 0 && (size_t)n < INFO_BYTES_MAX ? (size_t)n : 0;
    if (c->cfg->info_extra)
        len += c->cfg->info_extra(c->cfg->info_arg, text + len, INFO_BYTES_MAX - len);
    ASSERT(len < INFO_BYTES_MAX);
    rf_resp_bulk(out, text, len);
    free(text);
}

static void do_command(const rf_resp_cmd *cmd, rf_resp_out *out)
{
    if (cmd->argc == 1) {
        rf_resp_array(out, (uint32_t)rf_cmd_count());
        for (size_t i = 0; i < rf_cmd_count(); i++)
            rf_cmd_write_info(out, rf_cmd_at(i));
    } else if (arg_is(cmd, 1, "COUNT")) {
        rf_resp_int(out, (int64_t)rf_cmd_count());
    } else if (arg_is(cmd, 1, "INFO")) {
        rf_resp_array(out, cmd->argc - 2);
        for (uint32_t i = 2; i < cmd->argc; i++) {
            const rf_cmd_spec *s = rf_cmd_lookup(cmd->argv[i], cmd->argl[i]);
            if (s)
                rf_cmd_write_info(out, s);
            else
                rf_resp_array(out, 0); /* RESP2 null array would be *-1; Redis 7 sends nil */
        }
    } else if (arg_is(cmd, 1, "DOCS")) {
        rf_resp_array(out, 0); /* no docs: clients fall back to plain input */
    } else {
        rf_resp_error(out, "ERR unknown subcommand for 'command'. Try COMMAND HELP.");
    }
}

/* CONFIG GET for the two parameters redis-benchmark asks about. fleetd
 * makes every acknowledged write durable before replying, which is what
 * appendonly yes with appendfsync always means to a Redis user. */
static void do_config(const rf_resp_cmd *cmd, rf_resp_out *out)
{
    if (!arg_is(cmd, 1, "GET") || cmd->argc != 3) {
        rf_resp_error(out, "ERR fleetd supports only CONFIG GET parameter");
        return;
    }
    if (arg_is(cmd, 2, "save")) {
        rf_resp_array(out, 2);
        rf_resp_bulk_str(out, "save");
        rf_resp_bulk_str(out, "");
    } else if (arg_is(cmd, 2, "appendonly")) {
        rf_resp_array(out, 2);
        rf_resp_bulk_str(out, "appendonly");
        rf_resp_bulk_str(out, "yes");
    } else {
        rf_resp_array(out, 0);
    }
}

static void do_client(const rf_client *c, const rf_resp_cmd *cmd, rf_resp_out *out)
{
    if (arg_is(cmd, 1, "ID") && cmd->argc == 2)
        rf_resp_int(out, (int64_t)c->id);
    else if ((arg_is(cmd, 1, "SETNAME") && cmd->argc == 3) ||
             (arg_is(cmd, 1, "SETINFO") && cmd->argc == 4))
        rf_resp_simple(out, "OK");
    else
        rf_resp_error(out, "ERR unknown subcommand or wrong number of arguments for 'client'");
}

/* The commands the session answers itself. */
static rf_client_action do_local(rf_client *c, const rf_cmd_spec *spec, const rf_resp_cmd *cmd,
                                 rf_resp_out *out)
{
    switch (spec->id) {
    case RF_CMD_PING:
        if (cmd->argc == 2)
            rf_resp_bulk(out, cmd->argv[1], cmd->argl[1]);
        else
            rf_resp_simple(out, "PONG");
        break;
    case RF_CMD_ECHO:
        rf_resp_bulk(out, cmd->argv[1], cmd->argl[1]);
        break;
    case RF_CMD_QUIT:
        rf_resp_simple(out, "OK");
        return RF_CLIENT_CLOSE;
    case RF_CMD_AUTH:
        do_auth(c, cmd, out);
        break;
    case RF_CMD_HELLO:
        do_hello(c, cmd, out);
        break;
    case RF_CMD_INFO:
        do_info(c, out);
        break;
    case RF_CMD_COMMAND:
        do_command(cmd, out);
        break;
    case RF_CMD_CONFIG:
        do_config(cmd, out);
        break;
    case RF_CMD_SELECT:
        if (arg_is(cmd, 1, "0"))
            rf_resp_simple(out, "OK");
        else
            rf_resp_error(out, "ERR DB index is out of range");
        break;
    case RF_CMD_CLIENT:
        do_client(c, cmd, out);
        break;
    default:
        UNREACHABLE();
    }
    return RF_CLIENT_REPLIED;
}

rf_client_action rf_client_handle(rf_client *c, const rf_resp_cmd *cmd, rf_resp_out *out,
                                  rf_fleet_req *req)
{
    ASSERT(cmd->argc >= 1);
    c->commands++;
    const rf_cmd_spec *spec = rf_cmd_lookup(cmd->argv[0], cmd->argl[0]);
    if (spec == NULL) {
        c->errors++;
        /* Redis answers NOAUTH before anything else to a client that has not
         * authenticated, so an unauthenticated client learns nothing. */
        if (!c->authed)
            rf_resp_error(out, "NOAUTH Authentication required.");
        else
            reply_unknown(out, cmd);
        return RF_CLIENT_REPLIED;
    }
    if (!c->authed && !(spec->flags & RF_CMDF_NOAUTH)) {
        c->errors++;
        rf_resp_error(out, "NOAUTH Authentication required.");
        return RF_CLIENT_REPLIED;
    }
    if (cmd->argc < (uint32_t)spec->arity_min ||
        (spec->arity_max >= 0 && cmd->argc > (uint32_t)spec->arity_max)) {
        c->errors++;
        char lower[32];
        printable(lower, sizeof lower, spec->name, strlen(spec->name));
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        rf_resp_errorf(out, "ERR wrong number of arguments for '%s' command", lower);
        return RF_CLIENT_REPLIED;
    }
    if (!(spec->flags & RF_CMDF_FLEET))
        return do_local(c, spec, cmd, out);
    if (c->scratch == NULL && (c->scratch = malloc(RF_CMD_SCRATCH_BYTES)) == NULL) {
        rf_resp_error(out, "ERR out of memory");
        return RF_CLIENT_REPLIED;
    }
    char err[RF_CMD_ERR_BYTES];
    if (!rf_cmd_fleet_args(spec, cmd, c->scratch, req, err)) {
        c->errors++;
        rf_resp_error(out, err);
        return RF_CLIENT_REPLIED;
    }
    return RF_CLIENT_FLEET;
}

const char *rf_client_error_word(int code)
{
    switch (code) {
    case RF_ENOLEADER:
        return "no_leader";
    case RF_EALREADYADDED:
        return "already_added";
    case RF_ENOTFOUND:
        return "not_found";
    case RF_ENOACTIVENODE:
        return "no_active_node";
    case RF_ECLEANUP:
        return "cleanup_ongoing";
    case RF_ENOTINACTIVE:
        return "not_inactive";
    case RF_EINACTIVE:
        return "inactive";
    case RF_EFULL:
        return "BUSY";
    default:
        return "ERR";
    }
}

void rf_client_reply_status(rf_resp_out *out, int status, const uint8_t *data, size_t len)
{
    if (status == RF_OK) {
        if (len == 0 && data == NULL)
            rf_resp_simple(out, "OK");
        else
            rf_resp_bulk(out, data, len);
        return;
    }
    char text[256];
    const char *word = rf_client_error_word(status);
    if (len > 0 && strcmp(word, "ERR") == 0) /* a model's own error text */
        printable(text, sizeof text, (const char *)data, len);
    else
        snprintf(text, sizeof text, "%s", rf_strerror(status));
    rf_resp_errorf(out, "%s %s", word, text);
}

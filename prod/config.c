/* config: fleetd's settings from flags and a config file, validated, with errors naming file:line. */
#include "prod/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "base/rf_hash.h"
#include "placement/rf_placement.h"

#define CONF_ID_MAX ((1ull << 24) - 1) /* = RF_NODE_ID_MAX */

static const char usage_text[] =
    "usage: fleetd --name NAME --zone ZONE --listen HOST:PORT --data-dir DIR\n"
    "              --secret-file FILE [options]\n"
    "  --name NAME          this node's name ([A-Za-z0-9._@-], 1..64 bytes)\n"
    "  --zone ZONE          the zone it activates in\n"
    "  --id N               node id 1..16777215 (default: derived from the name)\n"
    "  --listen HOST:PORT   peer port (an IP address)\n"
    "  --client HOST:PORT   RESP client port (default " RF_CONF_CLIENT_DEFAULT ");\n"
    "                       a non-loopback address requires a password\n"
    "  --join IP:PORT       a node of the cluster to join (none: bootstrap a new one)\n"
    "  --data-dir DIR       the write-ahead log, snapshots and history database\n"
    "  --secret-file FILE   the cluster secret (mode 600, at least 16 bytes)\n"
    "  --password PASS      clients must AUTH (prefer password-file: flags show in ps)\n"
    "  --password-file FILE the client password, from a file (mode 600)\n"
    "  --model-lib PATH.so  a user data-model library (repeatable, at most 8)\n"
    "  --config FILE        settings file, same keys without '--' (flags override)\n"
    "  --log-level LEVEL    error | warn | info | debug (default info)\n"
    "  --fsync yes|no       sync every batch before acknowledging it (default yes)\n"
    "  --clients-max N      client connections at once (default 10000)\n"
    "  --client-inflight-max N  requests of one client awaiting replies (default 1024)\n"
    "  --tick-ms N          node tick period (default 10)\n"
    "  --reconnect-ms-min N, --reconnect-ms-max N  peer reconnect backoff (100, 5000)\n"
    "  --rebalance-ms N     a rebalancing round: members move toward placement (60000)\n"
    "  --help, --version\n";

const char *rf_conf_usage(void)
{
    return usage_text;
}

void rf_conf_defaults(rf_fleetd_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    int rc = rf_addr_parse(RF_CONF_CLIENT_DEFAULT, true, &cfg->client);
    (void)rc;
    cfg->log_level = RF_LOG_INFO;
    cfg->fsync = true;
    cfg->clients_max = 10000;
    cfg->client_inflight_max = 1024;
    cfg->tick_ms = 10;
    cfg->reconnect_ms_min = 100;
    cfg->reconnect_ms_max = 5000;
    cfg->rebalance_ms = 60000;
}

uint64_t rf_conf_default_id(const char *name)
{
    static const uint8_t key[16] = "fleetd-node-id-1";
    uint64_t h = rf_siphash24(key, name, strlen(name));
    return 1 + h % CONF_ID_MAX;
}

int rf_addr_parse(const char *text, bool need_ip, rf_addr *out)
{
    memset(out, 0, sizeof *out);
    const char *colon = strrchr(text, ':');
    const char *port_s = colon ? colon + 1 : text;
    size_t host_len = colon ? (size_t)(colon - text) : 0;
    const char *host = text;
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    if (host_len >= sizeof out->host)
        return RF_EINVAL;
    if (host_len == 0) {
        strcpy(out->host, "127.0.0.1");
    } else {
        memcpy(out->host, host, host_len);
        out->host[host_len] = '\0';
    }
    char *end;
    errno = 0;
    if (*port_s < '0' || *port_s > '9')
        return RF_EINVAL;
    unsigned long port = strtoul(port_s, &end, 10);
    if (errno || *end != '\0' || port == 0 || port > 65535)
        return RF_EINVAL;
    out->port = (uint16_t)port;
    uint8_t bin[16];
    bool ip = inet_pton(AF_INET, out->host, bin) == 1 || inet_pton(AF_INET6, out->host, bin) == 1;
    if (ip)
        return RF_OK;
    if (need_ip)
        return RF_EINVAL;
    for (const char *p = out->host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-'))
            return RF_EINVAL;
    return RF_OK;
}

bool rf_addr_is_loopback(const rf_addr *a)
{
    uint8_t b[16];
    if (inet_pton(AF_INET, a->host, b) == 1)
        return b[0] == 127;
    return strcmp(a->host, "::1") == 0 || strcmp(a->host, "localhost") == 0;
}

static int parse_u32(const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    if (*v < '0' || *v > '9')
        return RF_EINVAL;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end != '\0' || x < lo || x > hi)
        return RF_EINVAL;
    *out = (uint32_t)x;
    return RF_OK;
}

static int copy_str(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n >= cap)
        return RF_EINVAL;
    memcpy(dst, v, n + 1);
    return RF_OK;
}

/* A password from a file: the whole file minus one trailing newline. */
static int read_password_file(rf_fleetd_config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return errno == ENOENT ? RF_ENOTFOUND : RF_EIO;
    size_t n = fread(cfg->password, 1, sizeof cfg->password, f);
    fclose(f);
    if (n == sizeof cfg->password)
        return RF_ETOOBIG;
    if (n > 0 && cfg->password[n - 1] == '\n')
        n--;
    if (n > 0 && cfg->password[n - 1] == '\r')
        n--;
    cfg->password[n] = '\0';
    cfg->password_len = n;
    return n == 0 ? RF_EINVAL : RF_OK;
}

#define FAIL(...) (snprintf(err, cap, __VA_ARGS__), RF_EINVAL)

int rf_conf_set(rf_fleetd_config *cfg, const char *key, const char *value, const char *where,
                char *err, size_t cap)
{
    uint32_t u;
    if (strcmp(key, "name") == 0 || strcmp(key, "zone") == 0) {
        char *dst = key[0] == 'n' ? cfg->name : cfg->zone;
        if (rf_placement_check_name(value) != RF_OK || strlen(value) > RF_CONF_NAME_BYTES_MAX)
            return FAIL("%s: expected a %s of 1..64 bytes of [A-Za-z0-9._@-], got '%.64s'", where,
                        key, value);
        strcpy(dst, value);
    } else if (strcmp(key, "id") == 0) {
        if (parse_u32(value, 1, (uint32_t)CONF_ID_MAX, &u) != RF_OK)
            return FAIL("%s: expected a node id from 1 to %llu", where, CONF_ID_MAX);
        cfg->node_id = u;
    } else if (strcmp(key, "listen") == 0 || strcmp(key, "client") == 0) {
        rf_addr *a = key[0] == 'l' ? &cfg->listen : &cfg->client;
        if (rf_addr_parse(value, true, a) != RF_OK)
            return FAIL("%s: expected IP:PORT (e.g. 127.0.0.1:7101), got '%.128s'", where, value);
    } else if (strcmp(key, "join") == 0) {
        /* fleetd dials IP addresses only (no resolver on the loop yet). */
        if (rf_addr_parse(value, true, &cfg->join) != RF_OK)
            return FAIL("%s: expected IP:PORT, got '%.128s'", where, value);
        cfg->has_join = true;
    } else if (strcmp(key, "data-dir") == 0 || strcmp(key, "secret-file") == 0 ||
               strcmp(key, "config") == 0) {
        char *dst = key[0] == 'd' ? cfg->data_dir : key[0] == 's' ? cfg->secret_file
                                                                  : cfg->config_file;
        if (copy_str(dst, RF_CONF_PATH_BYTES_MAX, value) != RF_OK)
            return FAIL("%s: expected a path of 1..%u bytes", where, RF_CONF_PATH_BYTES_MAX - 1);
    } else if (strcmp(key, "model-lib") == 0) {
        if (cfg->n_model_libs == RF_CONF_MODEL_LIBS_MAX)
            return FAIL("%s: at most %u model libraries", where, RF_CONF_MODEL_LIBS_MAX);
        if (copy_str(cfg->model_libs[cfg->n_model_libs], RF_CONF_PATH_BYTES_MAX, value) != RF_OK)
            return FAIL("%s: expected a path of 1..%u bytes", where, RF_CONF_PATH_BYTES_MAX - 1);
        cfg->n_model_libs++;
    } else if (strcmp(key, "password") == 0) {
        if (copy_str(cfg->password, sizeof cfg->password, value) != RF_OK)
            return FAIL("%s: expected a password of 1..%u bytes", where, RF_CONF_PASSWORD_BYTES_MAX);
        cfg->password_len = strlen(value);
    } else if (strcmp(key, "password-file") == 0) {
        int rc = read_password_file(cfg, value);
        if (rc != RF_OK)
            return FAIL("%s: cannot read a password of 1..%u bytes from '%.256s' (%s)", where,
                        RF_CONF_PASSWORD_BYTES_MAX, value, rf_strerror(rc));
    } else if (strcmp(key, "log-level") == 0) {
        if (rf_log_level_parse(value, &cfg->log_level) != RF_OK)
            return FAIL("%s: expected error, warn, info or debug, got '%.32s'", where, value);
    } else if (strcmp(key, "fsync") == 0) {
        if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
            return FAIL("%s: expected yes or no, got '%.32s'", where, value);
        cfg->fsync = value[0] == 'y';
    } else if (strcmp(key, "clients-max") == 0) {
        if (parse_u32(value, 1, 1000000, &cfg->clients_max) != RF_OK)
            return FAIL("%s: expected 1..1000000", where);
    } else if (strcmp(key, "client-inflight-max") == 0) {
        if (parse_u32(value, 1, 65536, &cfg->client_inflight_max) != RF_OK)
            return FAIL("%s: expected 1..65536", where);
    } else if (strcmp(key, "tick-ms") == 0) {
        if (parse_u32(value, 1, 1000, &cfg->tick_ms) != RF_OK)
            return FAIL("%s: expected 1..1000 (milliseconds)", where);
    } else if (strcmp(key, "rebalance-ms") == 0) {
        if (parse_u32(value, 1, 3600000, &cfg->rebalance_ms) != RF_OK)
            return FAIL("%s: expected 1..3600000 (milliseconds)", where);
    } else if (strcmp(key, "reconnect-ms-min") == 0 || strcmp(key, "reconnect-ms-max") == 0) {
        uint32_t *dst = key[14] == 'i' ? &cfg->reconnect_ms_min : &cfg->reconnect_ms_max;
        if (parse_u32(value, 1, 600000, dst) != RF_OK)
            return FAIL("%s: expected 1..600000 (milliseconds)", where);
    } else {
        return FAIL("%s: unknown setting '%.64s' (fleetd --help lists them)", where, key);
    }
    return RF_OK;
}

/* Splits a line into key and value in place; false for blank/comment lines. */
static bool split_line(char *line, char **key, char **value)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
        p[--n] = '\0';
    if (n == 0)
        return false;
    *key = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    if (*p)
        *p++ = '\0';
    while (*p == ' ' || *p == '\t')
        p++;
    *value = p;
    return true;
}

int rf_conf_load_file(rf_fleetd_config *cfg, const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int e = errno;
        snprintf(err, cap, "%s: %s", path, strerror(e));
        return e == ENOENT ? RF_ENOTFOUND : RF_EIO;
    }
    char *line = malloc(RF_CONF_LINE_BYTES_MAX + 2);
    if (line == NULL) {
        fclose(f);
        snprintf(err, cap, "%s: out of memory", path);
        return RF_ENOMEM;
    }
    bool libs_from_file = false;
    int rc = RF_OK;
    unsigned lineno = 0;
    while (rc == RF_OK && fgets(line, RF_CONF_LINE_BYTES_MAX + 2, f) != NULL) {
        lineno++;
        char where[RF_CONF_PATH_BYTES_MAX + 16];
        snprintf(where, sizeof where, "%s:%u", path, lineno);
        size_t len = strlen(line);
        if (lineno > RF_CONF_FILE_LINES_MAX || (len > RF_CONF_LINE_BYTES_MAX && line[len - 1] != '\n')) {
            rc = FAIL("%s: line longer than %u bytes or file over %u lines", where,
                      RF_CONF_LINE_BYTES_MAX, RF_CONF_FILE_LINES_MAX);
            break;
        }
        char *key, *value;
        if (!split_line(line, &key, &value))
            continue;
        if (*value == '\0') {
            rc = FAIL("%s: '%.64s' expects a value", where, key);
        } else if (strcmp(key, "config") == 0) {
            rc = FAIL("%s: a config file cannot name another one", where);
        } else {
            if (strcmp(key, "model-lib") == 0 && !libs_from_file) {
                cfg->n_model_libs = 0;
                libs_from_file = true;
            }
            rc = rf_conf_set(cfg, key, value, where, err, cap);
        }
    }
    if (rc == RF_OK && ferror(f))
        rc = (snprintf(err, cap, "%s: read error", path), RF_EIO);
    free(line);
    fclose(f);
    return rc;
}

int rf_conf_validate(const rf_fleetd_config *cfg, char *err, size_t cap)
{
    if (cfg->name[0] == '\0')
        return FAIL("--name is required");
    if (cfg->zone[0] == '\0')
        return FAIL("--zone is required (the zone this node activates in)");
    if (cfg->listen.port == 0)
        return FAIL("--listen is required (the peer port, e.g. 127.0.0.1:7101)");
    if (strcmp(cfg->listen.host, "0.0.0.0") == 0 || strcmp(cfg->listen.host, "::") == 0)
        return FAIL("--listen %s: peers dial the address this node announces, so give the one "
                    "they reach, not a wildcard",
                    cfg->listen.host);
    if (cfg->data_dir[0] == '\0')
        return FAIL("--data-dir is required");
    if (cfg->secret_file[0] == '\0')
        return FAIL("--secret-file is required: peers authenticate with the cluster secret");
    if (!rf_addr_is_loopback(&cfg->client) && cfg->password_len == 0)
        return FAIL("--client %s:%u is not a loopback address: set a password (password-file) "
                    "so that clients must AUTH",
                    cfg->client.host, (unsigned)cfg->client.port);
    if (strcmp(cfg->listen.host, cfg->client.host) == 0 && cfg->listen.port == cfg->client.port)
        return FAIL("--listen and --client are the same address");
    if (cfg->reconnect_ms_min > cfg->reconnect_ms_max)
        return FAIL("reconnect-ms-min (%u) is over reconnect-ms-max (%u)", cfg->reconnect_ms_min,
                    cfg->reconnect_ms_max);
    return RF_OK;
}

/* Applies the flags; with file_pass only --config is looked at. */
static int apply_flags(rf_fleetd_config *cfg, int argc, char *const *argv, bool file_pass,
                       char *err, size_t cap)
{
    bool libs_from_flags = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "--version") == 0) {
            if (!file_pass)
                *(a[2] == 'v' ? &cfg->version : &cfg->help) = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
            return FAIL("%s: unexpected argument (flags are --key value)", a);
        char key[64];
        const char *eq = strchr(a + 2, '=');
        size_t klen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (klen >= sizeof key)
            return FAIL("%.64s: unknown flag", a);
        memcpy(key, a + 2, klen);
        key[klen] = '\0';
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        char where[80];
        snprintf(where, sizeof where, "--%s", key);
        if (value == NULL)
            return FAIL("%s: expects a value", where);
        if (file_pass != (strcmp(key, "config") == 0))
            continue;
        if (!file_pass && strcmp(key, "model-lib") == 0 && !libs_from_flags) {
            cfg->n_model_libs = 0;
            libs_from_flags = true;
        }
        int rc = rf_conf_set(cfg, key, value, where, err, cap);
        if (rc != RF_OK)
            return rc;
    }
    return RF_OK;
}

int rf_conf_parse(rf_fleetd_config *cfg, int argc, char *const *argv, char *err, size_t cap)
{
    rf_conf_defaults(cfg);
    err[0] = '\0';
    int rc = apply_flags(cfg, argc, argv, true, err, cap);
    if (rc == RF_OK && cfg->config_file[0] != '\0')
        rc = rf_conf_load_file(cfg, cfg->config_file, err, cap);
    if (rc == RF_OK)
        rc = apply_flags(cfg, argc, argv, false, err, cap);
    if (rc != RF_OK || cfg->help || cfg->version)
        return rc;
    if (cfg->node_id == 0 && cfg->name[0] != '\0')
        cfg->node_id = rf_conf_default_id(cfg->name);
    return rf_conf_validate(cfg, err, cap);
}

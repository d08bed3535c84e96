/* config: fleetd's settings from flags and a config file, validated, with errors naming file:line. */
#ifndef PROD_CONFIG_H
#define PROD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prod/log.h"

/* Every setting has a flag (--name n1, or --name=n1) and the same key in
 * the config file (`name n1`, one per line, '#' starts a comment; see
 * prod/fleetd.conf.example). The file is read first, wherever --config
 * appears, and flags override it; a repeatable setting (model-lib) given
 * by flags replaces the file's list. */

#define RF_CONF_NAME_BYTES_MAX 64u  /* = RF_PLACEMENT_NAME_MAX */
#define RF_CONF_ADDR_BYTES_MAX 128u /* "host:port" */
#define RF_CONF_PATH_BYTES_MAX 1024u
#define RF_CONF_MODEL_LIBS_MAX 8u
#define RF_CONF_PASSWORD_BYTES_MAX 512u
#define RF_CONF_LINE_BYTES_MAX 4096u
#define RF_CONF_FILE_LINES_MAX 10000u
#define RF_CONF_ERR_BYTES 512u

#define RF_CONF_CLIENT_DEFAULT "127.0.0.1:6101"

typedef struct rf_addr {
    char host[RF_CONF_ADDR_BYTES_MAX]; /* IPv4/IPv6 literal, or a host name (join only) */
    uint16_t port;
} rf_addr;

typedef struct rf_fleetd_config {
    char name[RF_CONF_NAME_BYTES_MAX + 1];
    char zone[RF_CONF_NAME_BYTES_MAX + 1];
    uint64_t node_id;      /* --id, or derived from the name (rf_conf_default_id) */
    rf_addr listen;        /* peer port, an IP literal */
    rf_addr client;        /* RESP port, an IP literal; loopback by default */
    bool has_join;
    rf_addr join;          /* a node of the cluster to join through, an IP literal */
    char data_dir[RF_CONF_PATH_BYTES_MAX];
    char secret_file[RF_CONF_PATH_BYTES_MAX];
    char model_libs[RF_CONF_MODEL_LIBS_MAX][RF_CONF_PATH_BYTES_MAX];
    uint32_t n_model_libs;
    char password[RF_CONF_PASSWORD_BYTES_MAX + 1]; /* "" : no AUTH */
    size_t password_len;
    char config_file[RF_CONF_PATH_BYTES_MAX];
    rf_log_level log_level;
    bool fsync;                 /* default on; off only for throwaway tests */
    uint32_t clients_max;       /* client connections at once */
    uint32_t client_inflight_max; /* requests of one connection awaiting the node */
    uint32_t tick_ms;           /* rf_node_tick period */
    uint32_t reconnect_ms_min, reconnect_ms_max; /* peer reconnect backoff */
    uint32_t rebalance_ms;      /* a rebalancing round (RaftFleet: 60 s) */
    bool help, version;
} rf_fleetd_config;

/* Fills the defaults: client 127.0.0.1:6101, log info, fsync on, 10000
 * clients, 1024 in flight per client, 10 ms ticks, reconnect 100 ms
 * doubling to 5 s, rebalancing every 60 s. Other settings empty. */
void rf_conf_defaults(rf_fleetd_config *cfg);

/* Parses argv (argv[0] is the program) and the config file it names, then
 * validates. Returns RF_OK; or RF_EINVAL / RF_ENOTFOUND / RF_EIO with err
 * naming the flag or file:line and what was expected. --help and
 * --version only set their field (nothing else is required then). */
int rf_conf_parse(rf_fleetd_config *cfg, int argc, char *const *argv, char *err, size_t cap);

/* Applies one setting (key as in the file, without "--"); where names the
 * source for errors ("--name" or "fleetd.conf:12"). Returns RF_OK or
 * RF_EINVAL with err set. */
int rf_conf_set(rf_fleetd_config *cfg, const char *key, const char *value, const char *where,
                char *err, size_t cap);

/* Reads a config file; errors name path:line. */
int rf_conf_load_file(rf_fleetd_config *cfg, const char *path, char *err, size_t cap);

/* Checks the whole: name, listen, data-dir and secret-file given; zone
 * given when not joining... (see config.c). */
int rf_conf_validate(const rf_fleetd_config *cfg, char *err, size_t cap);

/* "host:port", "[v6]:port", or ":port" / "port" (host 127.0.0.1).
 * need_ip: the host must be an IP literal (an address to listen on). */
int rf_addr_parse(const char *text, bool need_ip, rf_addr *out);
bool rf_addr_is_loopback(const rf_addr *a);

/* The node id fleetd uses without --id: a stable 64-bit hash of the name
 * (SipHash-2-4, fixed key) folded into 1..2^24-1. */
uint64_t rf_conf_default_id(const char *name);

/* The usage text (flags and their defaults). */
const char *rf_conf_usage(void);

#endif

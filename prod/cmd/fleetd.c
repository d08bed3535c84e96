/* fleetd: one raftfleet node on real sockets and disks (DESIGN.md section 8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "prod/auth.h"
#include "prod/config.h"
#include "prod/log.h"
#include "prod/models.h"
#include "prod/server.h"

/* Exit codes: 0 clean shutdown (SIGTERM, SIGINT); 1 a runtime failure
 * (cannot listen, data directory refused, secret unreadable); 2 bad flags
 * or config file. */
enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static void log_assert(const char *expr, const char *file, int line)
{
    rf_log_error("ASSERT failed: %s (%s:%d)", expr, file, line);
}

int main(int argc, char **argv)
{
    rf_assert_set_handler(log_assert);
    static rf_fleetd_config cfg;
    char err[RF_CONF_ERR_BYTES];
    if (rf_conf_parse(&cfg, argc, argv, err, sizeof err) != RF_OK) {
        fprintf(stderr, "fleetd: %s\n", err);
        return EXIT_USAGE;
    }
    if (cfg.help) {
        fputs(rf_conf_usage(), stdout);
        return 0;
    }
    if (cfg.version) {
        puts("fleetd 0.1.0");
        return 0;
    }
    rf_log_set_level(cfg.log_level);
    rf_log_set_name(cfg.name);

    static uint8_t secret[RF_AUTH_SECRET_BYTES_MAX];
    size_t secret_len = 0;
    if (rf_auth_read_secret_file(cfg.secret_file, secret, sizeof secret, &secret_len, err,
                                 sizeof err) != RF_OK) {
        rf_log_error("secret file: %s", err);
        return EXIT_RUNTIME;
    }
    const char *paths[RF_CONF_MODEL_LIBS_MAX];
    for (uint32_t i = 0; i < cfg.n_model_libs; i++)
        paths[i] = cfg.model_libs[i];
    rf_models models;
    if (rf_models_load(&models, paths, cfg.n_model_libs, err, sizeof err) != RF_OK) {
        rf_log_error("model library: %s", err);
        OPENSSL_cleanse(secret, sizeof secret);
        return EXIT_RUNTIME;
    }
    rf_server *srv;
    int rc = rf_server_create(&cfg, secret, secret_len, models.list, models.count, &srv, err,
                              sizeof err);
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(cfg.password, sizeof cfg.password);
    if (rc != RF_OK) {
        rf_log_error("%s", err);
        rf_models_close(&models);
        return EXIT_RUNTIME;
    }
    rc = rf_server_run(srv, true);
    rf_server_close(srv);
    rf_models_close(&models);
    return rc == RF_OK ? 0 : EXIT_RUNTIME;
}

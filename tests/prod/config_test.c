/* Tests of prod/config.c and prod/log.c: flags, the config file, file:line errors, log levels. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/rf_err.h"
#include "prod/config.h"
#include "prod/log.h"

#define BASE "--name", "n1", "--zone", "zone1", "--listen", "127.0.0.1:7101", "--data-dir", \
             "/tmp/d", "--secret-file", "/tmp/s"

static int parse(rf_fleetd_config *cfg, char *err, int argc, char *const *argv)
{
    return rf_conf_parse(cfg, argc, argv, err, RF_CONF_ERR_BYTES);
}

#define PARSE(cfg, err, ...)                                                  \
    parse(cfg, err, (int)(sizeof((char *const[]){"fleetd", __VA_ARGS__}) /    \
                          sizeof(char *)),                                   \
          (char *const[]){"fleetd", __VA_ARGS__})

START_TEST(test_config_flags_and_defaults)
{
    rf_fleetd_config cfg;
    char err[RF_CONF_ERR_BYTES];
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--join=127.0.0.1:7102", "--id", "42"), RF_OK);
    ck_assert_str_eq(cfg.name, "n1");
    ck_assert_str_eq(cfg.zone, "zone1");
    ck_assert_str_eq(cfg.listen.host, "127.0.0.1");
    ck_assert_uint_eq(cfg.listen.port, 7101);
    ck_assert(cfg.has_join);
    ck_assert_uint_eq(cfg.join.port, 7102);
    ck_assert_uint_eq(cfg.node_id, 42);
    /* Defaults. */
    ck_assert_str_eq(cfg.client.host, "127.0.0.1");
    ck_assert_uint_eq(cfg.client.port, 6101);
    ck_assert(cfg.fsync);
    ck_assert_int_eq(cfg.log_level, RF_LOG_INFO);
    ck_assert_uint_eq(cfg.password_len, 0);
    /* Without --id the id is derived from the name, stably. */
    ck_assert_int_eq(PARSE(&cfg, err, BASE), RF_OK);
    ck_assert_uint_eq(cfg.node_id, rf_conf_default_id("n1"));
    ck_assert_uint_ge(cfg.node_id, 1);
    ck_assert_uint_le(cfg.node_id, (1u << 24) - 1);
    ck_assert_uint_ne(rf_conf_default_id("n1"), rf_conf_default_id("n2"));
}
END_TEST

START_TEST(test_config_flag_errors_name_the_flag)
{
    rf_fleetd_config cfg;
    char err[RF_CONF_ERR_BYTES];
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--listen", "nowhere"), RF_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--listen: expected IP:PORT"));
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--client", "127.0.0.1:70000"), RF_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--client"));
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--join", "seed.example:7101"), RF_EINVAL);
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--listen", "0.0.0.0:7101"), RF_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "not a wildcard"));
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--bogus", "1"), RF_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "unknown setting 'bogus'"));
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--name", "bad name"), RF_EINVAL);
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--id", "0"), RF_EINVAL);
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--id", "16777216"), RF_EINVAL);
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--fsync", "maybe"), RF_EINVAL);
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "stray"), RF_EINVAL);
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--zone"), RF_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--zone: expects a value"));
    /* Required settings. */
    ck_assert_int_eq(PARSE(&cfg, err, "--name", "n1"), RF_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--zone is required"));
    ck_assert_int_eq(PARSE(&cfg, err, "--name", "n1", "--zone", "z", "--listen", "127.0.0.1:1",
                           "--data-dir", "/tmp/d"),
                     RF_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--secret-file is required"));
    /* --help needs nothing else. */
    ck_assert_int_eq(PARSE(&cfg, err, "--help"), RF_OK);
    ck_assert(cfg.help);
}
END_TEST

/* The client port stays on loopback unless a password protects it. */
START_TEST(test_config_public_client_port_needs_password)
{
    rf_fleetd_config cfg;
    char err[RF_CONF_ERR_BYTES];
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--client", "0.0.0.0:6101"), RF_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "not a loopback address"));
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--client", "0.0.0.0:6101", "--password", "pw123"),
                     RF_OK);
    ck_assert_uint_eq(cfg.password_len, 5);
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--client", "6102"), RF_OK);
    ck_assert_str_eq(cfg.client.host, "127.0.0.1");
    ck_assert(rf_addr_is_loopback(&cfg.client));
    ck_assert_int_eq(PARSE(&cfg, err, BASE, "--client", "[::1]:6102"), RF_OK);
    ck_assert_str_eq(cfg.client.host, "::1");
    ck_assert(rf_addr_is_loopback(&cfg.client));
}
END_TEST

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/rf-conf-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/f.conf", dir);
    unlink(p);
    rmdir(dir);
}

static char *write_conf(const char *text)
{
    static char p[128];
    snprintf(p, sizeof p, "%s/f.conf", dir);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return p;
}

START_TEST(test_config_file_then_flags_override)
{
    char *path = write_conf("# a node\n"
                                  "name n2\n"
                                  "  zone   zone2   # trailing comment\n"
                                  "\n"
                                  "listen 127.0.0.1:7102\n"
                                  "data-dir /tmp/n2\n"
                                  "secret-file /tmp/secret\n"
                                  "model-lib /a.so\n"
                                  "model-lib /b.so\n"
                                  "fsync no\n");
    rf_fleetd_config cfg;
    char err[RF_CONF_ERR_BYTES];
    ck_assert_int_eq(PARSE(&cfg, err, "--zone", "zone9", "--config", path), RF_OK);
    ck_assert_str_eq(cfg.name, "n2");
    ck_assert_str_eq(cfg.zone, "zone9"); /* the flag wins, wherever it stands */
    ck_assert_uint_eq(cfg.listen.port, 7102);
    ck_assert_uint_eq(cfg.n_model_libs, 2);
    ck_assert_str_eq(cfg.model_libs[1], "/b.so");
    ck_assert(!cfg.fsync);
    ck_assert_int_eq(PARSE(&cfg, err, "--config", path, "--model-lib", "/c.so"), RF_OK);
    ck_assert_uint_eq(cfg.n_model_libs, 1);
    ck_assert_str_eq(cfg.model_libs[0], "/c.so");
}
END_TEST

START_TEST(test_config_file_errors_name_file_and_line)
{
    rf_fleetd_config cfg;
    char err[RF_CONF_ERR_BYTES], want[128];
    char *path = write_conf("name n1\nzone z1\n\nlisten 127.0.0.1\n");
    ck_assert_int_eq(PARSE(&cfg, err, "--config", path), RF_EINVAL);
    snprintf(want, sizeof want, "%s:4: expected IP:PORT", path);
    ck_assert_msg(strstr(err, want) != NULL, "%s", err);

    path = write_conf("name n1\nlog-levle debug\n");
    ck_assert_int_eq(PARSE(&cfg, err, "--config", path), RF_EINVAL);
    snprintf(want, sizeof want, "%s:2: unknown setting 'log-levle'", path);
    ck_assert_msg(strstr(err, want) != NULL, "%s", err);

    path = write_conf("zone\n");
    ck_assert_int_eq(PARSE(&cfg, err, "--config", path), RF_EINVAL);
    snprintf(want, sizeof want, "%s:1: 'zone' expects a value", path);
    ck_assert_msg(strstr(err, want) != NULL, "%s", err);

    ck_assert_int_eq(PARSE(&cfg, err, "--config", "/nonexistent/fleetd.conf"), RF_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/fleetd.conf"));
}
END_TEST

/* The documented example parses as it stands (tests run in the repo root). */
START_TEST(test_config_example_file_is_valid)
{
    rf_fleetd_config cfg;
    char err[RF_CONF_ERR_BYTES];
    int rc = PARSE(&cfg, err, "--config", "prod/fleetd.conf.example");
    ck_assert_msg(rc == RF_OK, "%s", err);
    ck_assert_str_eq(cfg.name, "n1");
    ck_assert_uint_eq(cfg.client.port, 6101);
}
END_TEST

typedef struct captured {
    char text[4096];
    int lines;
} captured;

static void capture(void *arg, rf_log_level level, const char *line, size_t len)
{
    captured *c = arg;
    (void)level;
    size_t have = strlen(c->text);
    if (have + len < sizeof c->text) {
        memcpy(c->text + have, line, len);
        c->text[have + len] = '\0';
    }
    c->lines++;
}

START_TEST(test_log_levels_filter_and_lines_are_safe)
{
    captured c = {{0}, 0};
    rf_log_set_sink(capture, &c);
    rf_log_set_name("n7");
    rf_log_set_level(RF_LOG_WARN);
    rf_log_info("hidden %d", 1);
    rf_log_debug("hidden too");
    rf_log_warn("peer %s: bad frame", "127.0.0.1:7102");
    rf_log_error("forged\nline");
    ck_assert_int_eq(c.lines, 2);
    ck_assert_ptr_nonnull(strstr(c.text, " n7 WARN peer 127.0.0.1:7102: bad frame\n"));
    ck_assert_ptr_nonnull(strstr(c.text, " n7 ERROR forged?line\n"));
    ck_assert_ptr_null(strstr(c.text, "hidden"));
    rf_log_level l;
    ck_assert_int_eq(rf_log_level_parse("debug", &l), RF_OK);
    ck_assert_int_eq(l, RF_LOG_DEBUG);
    ck_assert_int_eq(rf_log_level_parse("loud", &l), RF_EINVAL);
    rf_log_set_sink(NULL, NULL);
    rf_log_set_level(RF_LOG_INFO);
    rf_log_set_name(NULL);
}
END_TEST

Suite *prod_config_suite(void)
{
    Suite *s = suite_create("prod_config");
    TCase *tc = tcase_create("flags");
    tcase_add_test(tc, test_config_flags_and_defaults);
    tcase_add_test(tc, test_config_flag_errors_name_the_flag);
    tcase_add_test(tc, test_config_public_client_port_needs_password);
    tcase_add_test(tc, test_config_example_file_is_valid);
    tcase_add_test(tc, test_log_levels_filter_and_lines_are_safe);
    suite_add_tcase(s, tc);
    TCase *tf = tcase_create("file");
    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_add_test(tf, test_config_file_then_flags_override);
    tcase_add_test(tf, test_config_file_errors_name_file_and_line);
    suite_add_tcase(s, tf);
    return s;
}

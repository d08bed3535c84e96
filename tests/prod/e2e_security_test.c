/* End-to-end tests of fleetd's guards: garbage on both ports, a wrong cluster secret, NOAUTH without AUTH. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/prod/e2e_cluster.h"

/* Reads until the peer closes; returns the bytes read, or -1 when the
 * connection stayed open past the receive timeout. */
static long read_to_close(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        ssize_t got = recv(fd, buf + len, cap - 1 - len, 0);
        if (got == 0 || (got < 0 && errno == ECONNRESET))
            break;
        if (got < 0)
            return -1;
        len += (size_t)got;
        if (len == cap - 1)
            break;
    }
    buf[len] = '\0';
    return (long)len;
}

static bool serves(const e2e_cluster *c, int i)
{
    rf_ctl_reply r;
    const char *ping[] = {"PING"};
    if (e2e_call_port(c->n[i].client_port, &r, 1, ping) != 0)
        return false;
    bool ok = r.kind == RF_CTL_SIMPLE && strcmp(r.str, "PONG") == 0;
    rf_ctl_reply_free(&r);
    return ok && e2e_node_count(c, i) == 1;
}

START_TEST(test_e2e_garbage_on_both_ports_closes_only_that_connection)
{
    e2e_cluster c;
    e2e_init(&c);
    e2e_start(&c, 0, "zone1", -1, NULL);
    uint64_t end = e2e_now_ms() + 10000;
    while (e2e_node_count(&c, 0) != 1 && e2e_now_ms() < end)
        e2e_sleep_ms(50);
    int held = e2e_connect(c.n[0].client_port); /* a client that stays connected */
    ck_assert_int_ge(held, 0);
    char buf[4096];
    /* Peer port: bytes that are no frame. The node closes at once (not
     * at the authentication timeout). */
    for (int round = 0; round < 3; round++) {
        int fd = e2e_connect(c.n[0].peer_port);
        ck_assert_int_ge(fd, 0);
        char junk[512];
        for (size_t k = 0; k < sizeof junk; k++)
            junk[k] = (char)(k * 131 + (size_t)round * 7 + 3);
        ck_assert_int_eq(send(fd, junk, sizeof junk, MSG_NOSIGNAL), (ssize_t)sizeof junk);
        uint64_t t0 = e2e_now_ms();
        ck_assert_int_ge(read_to_close(fd, buf, sizeof buf), 0);
        ck_assert_uint_lt(e2e_now_ms() - t0, 2000);
        close(fd);
    }
    /* Client port: a malformed RESP request gets an error, then the close. */
    static const char *const bad[] = {"*1x\r\n", "*2\r\n$-7\r\nxx\r\n", "*1\r\n$99999999999\r\n"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int fd = e2e_connect(c.n[0].client_port);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(send(fd, bad[k], strlen(bad[k]), MSG_NOSIGNAL), (ssize_t)strlen(bad[k]));
        ck_assert_int_gt(read_to_close(fd, buf, sizeof buf), 0);
        ck_assert_msg(strncmp(buf, "-ERR", 4) == 0, "reply to garbage: %s", buf);
        close(fd);
    }
    /* The node and the other client go on. */
    ck_assert(e2e_alive(&c, 0));
    ck_assert(serves(&c, 0));
    rf_ctl_reply r;
    const char *ping[] = {"PING", "still here"};
    ck_assert_int_eq(e2e_call(held, &r, 2, ping), 0);
    ck_assert_str_eq(r.str, "still here");
    rf_ctl_reply_free(&r);
    close(held);
    e2e_stop(&c);
}
END_TEST

START_TEST(test_e2e_wrong_cluster_secret_cannot_join)
{
    e2e_cluster c;
    e2e_init(&c);
    e2e_start(&c, 0, "zone1", -1, NULL);
    uint64_t end = e2e_now_ms() + 10000;
    while (e2e_node_count(&c, 0) != 1 && e2e_now_ms() < end)
        e2e_sleep_ms(50);
    char other[sizeof c.secret - 16];
    snprintf(other, sizeof other, "%s/other-secret", c.dir);
    FILE *f = fopen(other, "w");
    ck_assert_ptr_nonnull(f);
    fputs("another cluster's secret, just as long\n", f);
    fclose(f);
    chmod(other, 0600);
    char ours[sizeof c.secret];
    memcpy(ours, c.secret, sizeof ours);
    snprintf(c.secret, sizeof c.secret, "%s", other);
    e2e_start(&c, 1, "zone2", 0, NULL);
    memcpy(c.secret, ours, sizeof ours);
    e2e_sleep_ms(3000);
    ck_assert_int_eq(e2e_node_count(&c, 0), 1);
    ck_assert_int_le(e2e_node_count(&c, 1), 0);
    char out[512];
    ck_assert_int_eq(e2e_fleetctl(&c, 1, out, sizeof out, "status"), 0);
    ck_assert_msg(strstr(out, "active               0") != NULL, "%s", out);
    ck_assert(e2e_alive(&c, 0));
    ck_assert(e2e_alive(&c, 1));
    /* n1 said why in its log. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "grep -q 'refused' %s/n1.log", c.dir);
    ck_assert_int_eq(system(cmd), 0);
    e2e_stop(&c);
}
END_TEST

START_TEST(test_e2e_password_requires_auth)
{
    e2e_cluster c;
    e2e_init(&c);
    const char *extra[] = {"--password", "s3cret-pw", NULL};
    e2e_start(&c, 0, "zone1", -1, extra);
    int fd = e2e_connect(c.n[0].client_port);
    ck_assert_int_ge(fd, 0);
    rf_ctl_reply r;
    const char *nodes[] = {"FLEET.NODES"};
    ck_assert_int_eq(e2e_call(fd, &r, 1, nodes), 0);
    ck_assert_int_eq(r.kind, RF_CTL_ERROR);
    ck_assert_msg(strncmp(r.str, "NOAUTH", 6) == 0, "%s", r.str);
    rf_ctl_reply_free(&r);
    const char *wrong[] = {"AUTH", "guess"};
    ck_assert_int_eq(e2e_call(fd, &r, 2, wrong), 0);
    ck_assert_int_eq(r.kind, RF_CTL_ERROR);
    rf_ctl_reply_free(&r);
    const char *right[] = {"AUTH", "s3cret-pw"};
    ck_assert_int_eq(e2e_call(fd, &r, 2, right), 0);
    ck_assert_int_eq(r.kind, RF_CTL_SIMPLE);
    rf_ctl_reply_free(&r);
    ck_assert_int_eq(e2e_call(fd, &r, 1, nodes), 0);
    ck_assert_int_eq(r.kind, RF_CTL_ARRAY);
    rf_ctl_reply_free(&r);
    /* INFO never shows the password. */
    const char *info[] = {"INFO"};
    ck_assert_int_eq(e2e_call(fd, &r, 1, info), 0);
    ck_assert_ptr_null(strstr(r.str, "s3cret-pw"));
    rf_ctl_reply_free(&r);
    close(fd);
    char out[1024];
    ck_assert_int_eq(e2e_fleetctl(&c, 0, out, sizeof out, "nodes"), 1);
    ck_assert_ptr_nonnull(strstr(out, "NOAUTH"));
    ck_assert_int_eq(e2e_fleetctl(&c, 0, out, sizeof out, "-a s3cret-pw nodes"), 0);
    if (system("command -v redis-cli >/dev/null 2>&1") == 0) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "redis-cli -p %d -a s3cret-pw --no-auth-warning PING",
                 c.n[0].client_port);
        FILE *p = popen(cmd, "r");
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        ck_assert_int_eq(pclose(p), 0);
        ck_assert_str_eq(out, "PONG\n");
    }
    e2e_stop(&c);
}
END_TEST

Suite *prod_e2e_security_suite(void)
{
    Suite *s = suite_create("prod_e2e_security");
    TCase *tc = tcase_create("guards");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, e2e_fixture_setup, e2e_fixture_teardown);
    tcase_add_test(tc, test_e2e_garbage_on_both_ports_closes_only_that_connection);
    tcase_add_test(tc, test_e2e_wrong_cluster_secret_cannot_join);
    tcase_add_test(tc, test_e2e_password_requires_auth);
    suite_add_tcase(s, tc);
    return s;
}

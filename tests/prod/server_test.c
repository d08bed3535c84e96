/* Tests of prod/server*.c: fleetd in-process on loopback: RESP, garbage on both ports, peer auth, two nodes. */
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/rf_err.h"
#include "model/rf_model.h"
#include "prod/log.h"
#include "prod/resp.h"
#include "prod/server.h"

#define SECRET "a cluster secret of enough bytes"
#define WAIT_MS_MAX 8000
#define SRV_READ_BYTES_TEST 65536u /* = server_int.h's SRV_READ_BYTES */

typedef struct node {
    rf_server *srv;
    pthread_t thread;
    char dir[64];
} node;

static const rf_model *const models[] = {&rf_model_int, &rf_model_kv};
static uint32_t inflight_max; /* 0: the default */

static void *run_thread(void *arg)
{
    rf_server_run(arg, false);
    return NULL;
}

/* Starts a node on ephemeral loopback ports. join_port 0: a new cluster. */
static void node_start(node *n, const char *name, const char *secret, uint16_t join_port,
                       const char *password)
{
    strcpy(n->dir, "/tmp/rf-srv-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(n->dir));
    rf_fleetd_config cfg;
    rf_conf_defaults(&cfg);
    strcpy(cfg.name, name);
    strcpy(cfg.zone, name); /* one zone per node */
    cfg.node_id = (uint64_t)(name[1] - '0');
    strcpy(cfg.listen.host, "127.0.0.1");
    cfg.listen.port = 0;
    strcpy(cfg.client.host, "127.0.0.1");
    cfg.client.port = 0;
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/data", n->dir);
    if (join_port) {
        cfg.has_join = true;
        strcpy(cfg.join.host, "127.0.0.1");
        cfg.join.port = join_port;
    }
    if (password) {
        strcpy(cfg.password, password);
        cfg.password_len = strlen(password);
    }
    if (inflight_max)
        cfg.client_inflight_max = inflight_max;
    cfg.rebalance_ms = 200;
    cfg.reconnect_ms_min = 50;
    cfg.reconnect_ms_max = 200;
    char err[256];
    int rc = rf_server_create(&cfg, (const uint8_t *)secret, strlen(secret), models, 2, &n->srv,
                              err, sizeof err);
    ck_assert_msg(rc == RF_OK, "%s", err);
    ck_assert_int_eq(pthread_create(&n->thread, NULL, run_thread, n->srv), 0);
}

static void node_stop(node *n, rf_server_stats *stats)
{
    rf_server_stop(n->srv);
    ck_assert_int_eq(pthread_join(n->thread, NULL), 0);
    if (stats)
        rf_server_stats_get(n->srv, stats);
    rf_server_close(n->srv);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", n->dir);
    ck_assert_int_eq(system(cmd), 0);
}

static int dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_str(int fd, const char *s)
{
    size_t n = strlen(s);
    ck_assert_int_eq(send(fd, s, n, 0), (ssize_t)n);
}

/* Reads one line (without CRLF) into buf; false on EOF or timeout. */
static bool read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        char c;
        if (recv(fd, &c, 1, 0) != 1)
            return false;
        if (c == '\n' && n > 0 && buf[n - 1] == '\r') {
            buf[n - 1] = '\0';
            return true;
        }
        buf[n++] = c;
    }
    return false;
}

/* Reads one whole reply, flattened: "+PONG", "$3 abc", "*2 [...]". */
static void read_reply(int fd, char *out, size_t cap)
{
    char line[1024];
    ck_assert_msg(read_line(fd, line, sizeof line), "no reply");
    size_t n = strlen(out);
    if (line[0] == '$' && line[1] != '-') {
        char data[1024];
        ck_assert(read_line(fd, data, sizeof data));
        snprintf(out + n, cap - n, "%s ", data);
    } else if (line[0] == '*') {
        int count = atoi(line + 1);
        snprintf(out + n, cap - n, "[");
        for (int i = 0; i < count; i++)
            read_reply(fd, out, cap);
        n = strlen(out);
        snprintf(out + n, cap - n, "] ");
    } else {
        snprintf(out + n, cap - n, "%s ", line);
    }
}

static void roundtrip(int fd, const char *req, char *out, size_t cap)
{
    send_str(fd, req);
    out[0] = '\0';
    read_reply(fd, out, cap);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Repeats req until the reply starts with want (bounded). An ADD whose
 * first attempt timed out may have gone through: already_added counts. */
static void until(int fd, const char *req, const char *want)
{
    char out[4096];
    uint64_t end = now_ms() + WAIT_MS_MAX;
    do {
        roundtrip(fd, req, out, sizeof out);
        if (strncmp(out, want, strlen(want)) == 0)
            return;
        if (strcmp(want, "+OK") == 0 && strncmp(out, "-already_added", 14) == 0)
            return;
        sleep_ms(50);
    } while (now_ms() < end);
    ck_abort_msg("'%s' never replied '%s' (last: %s)", req, want, out);
}

static void quiet(void)
{
    rf_log_set_level(getenv("RF_TEST_LOG") ? RF_LOG_DEBUG : RF_LOG_ERROR);
}

static void loud(void)
{
    rf_log_set_level(RF_LOG_INFO);
}

START_TEST(test_server_resp_pipelined_commands_in_order)
{
    node n1;
    node_start(&n1, "n1", SECRET, 0, NULL);
    int fd = dial(rf_server_client_port(n1.srv));
    char out[4096];
    /* Three requests in one write, replies in order. */
    send_str(fd, "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n");
    out[0] = '\0';
    read_reply(fd, out, sizeof out);
    read_reply(fd, out, sizeof out);
    read_reply(fd, out, sizeof out);
    ck_assert_str_eq(out, "+PONG hi +PONG ");
    until(fd, "FLEET.ADD g1 1 int\r\n", "+OK");
    /* Commands through the node, pipelined: each reply is the old value. */
    send_str(fd, "FLEET.CMD g1 inc\r\nFLEET.CMD g1 inc\r\nPING\r\nFLEET.CMD g1 inc\r\n");
    out[0] = '\0';
    for (int i = 0; i < 4; i++)
        read_reply(fd, out, sizeof out);
    ck_assert_str_eq(out, "0 1 +PONG 2 ");
    roundtrip(fd, "FLEET.QUERY g1 get\r\n", out, sizeof out);
    ck_assert_str_eq(out, "3 ");
    roundtrip(fd, "FLEET.ADD g1 1 int\r\n", out, sizeof out);
    ck_assert_str_eq(out, "-already_added consensus group already added ");
    roundtrip(fd, "FLEET.GROUPS\r\n", out, sizeof out);
    ck_assert_str_eq(out, "[[g1 :1 int ] ] ");
    roundtrip(fd, "FLEET.LEADER g1\r\n", out, sizeof out);
    ck_assert_str_eq(out, "n1 ");
    roundtrip(fd, "QUIT\r\n", out, sizeof out);
    ck_assert_str_eq(out, "+OK ");
    char c;
    ck_assert_int_eq(recv(fd, &c, 1, 0), 0); /* closed after QUIT */
    close(fd);
    rf_server_stats st;
    node_stop(&n1, &st);
    ck_assert_uint_ge(st.commits, 1);
}
END_TEST

/* Replies of two groups complete in group order within one drain (g1
 * first), not in request order: each still goes out in request order,
 * whether it is sent at once (the first awaited) or waits in its slot. */
START_TEST(test_server_replies_of_several_groups_keep_request_order)
{
    node n1;
    node_start(&n1, "n1", SECRET, 0, NULL);
    int fd = dial(rf_server_client_port(n1.srv));
    char out[4096];
    until(fd, "FLEET.ADD g1 1 int\r\n", "+OK");
    until(fd, "FLEET.ADD g2 1 int\r\n", "+OK");
    until(fd, "FLEET.CMD g2 set 100\r\n", "0");
    for (int round = 0; round < 20; round++) {
        send_str(fd, "FLEET.CMD g2 inc\r\nFLEET.CMD g1 inc\r\nPING\r\nFLEET.CMD g2 inc\r\n"
                     "FLEET.CMD g1 inc\r\n");
        out[0] = '\0';
        for (int i = 0; i < 5; i++)
            read_reply(fd, out, sizeof out);
        char want[128];
        snprintf(want, sizeof want, "%d %d +PONG %d %d ", 100 + 2 * round, 2 * round,
                 101 + 2 * round, 2 * round + 1);
        ck_assert_str_eq(out, want);
    }
    close(fd);
    node_stop(&n1, NULL);
}
END_TEST

START_TEST(test_server_garbage_closes_only_that_connection)
{
    node n1;
    node_start(&n1, "n1", SECRET, 0, NULL);
    int good = dial(rf_server_client_port(n1.srv));
    char out[512];
    /* Client port. */
    int bad = dial(rf_server_client_port(n1.srv));
    roundtrip(bad, "*abc\r\n", out, sizeof out);
    ck_assert_str_eq(out, "-ERR Protocol error: invalid multibulk length ");
    char c;
    ck_assert_int_eq(recv(bad, &c, 1, 0), 0);
    close(bad);
    /* Peer port: an HTTP request is not a frame. */
    bad = dial(rf_server_peer_port(n1.srv));
    send_str(bad, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    ssize_t got;
    char junk[256];
    while ((got = recv(bad, junk, sizeof junk, 0)) > 0)
        ; /* our HELLO, then the close */
    ck_assert_int_eq(got, 0);
    close(bad);
    roundtrip(good, "PING\r\n", out, sizeof out);
    ck_assert_str_eq(out, "+PONG ");
    close(good);
    rf_server_stats st;
    node_stop(&n1, &st);
    ck_assert_uint_eq(st.client_protocol_errors, 1);
    ck_assert_uint_eq(st.peer_frame_errors, 1);
    ck_assert_uint_eq(st.peers_authenticated, 0);
}
END_TEST

START_TEST(test_server_password_requires_auth)
{
    node n1;
    node_start(&n1, "n1", SECRET, 0, "pw-for-clients");
    int fd = dial(rf_server_client_port(n1.srv));
    char out[512];
    roundtrip(fd, "PING\r\n", out, sizeof out);
    ck_assert_str_eq(out, "-NOAUTH Authentication required. ");
    roundtrip(fd, "AUTH nope\r\n", out, sizeof out);
    ck_assert_str_eq(out, "-WRONGPASS invalid username-password pair or user is disabled. ");
    roundtrip(fd, "AUTH pw-for-clients\r\n", out, sizeof out);
    ck_assert_str_eq(out, "+OK ");
    roundtrip(fd, "PING\r\n", out, sizeof out);
    ck_assert_str_eq(out, "+PONG ");
    roundtrip(fd, "INFO\r\n", out, sizeof out);
    ck_assert_ptr_null(strstr(out, "pw-for-clients"));
    close(fd);
    node_stop(&n1, NULL);
}
END_TEST

/* A node with the wrong cluster secret is refused and never joins. */
START_TEST(test_server_wrong_secret_cannot_join)
{
    node n1, n2;
    node_start(&n1, "n1", SECRET, 0, NULL);
    node_start(&n2, "n2", "not the cluster secret at all!!", rf_server_peer_port(n1.srv), NULL);
    int fd = dial(rf_server_client_port(n1.srv));
    until(fd, "FLEET.NODES\r\n", "[[n1");
    sleep_ms(600); /* several dial attempts at 50..200 ms */
    char out[512];
    roundtrip(fd, "FLEET.NODES\r\n", out, sizeof out);
    ck_assert_str_eq(out, "[[n1 n1 active :1 ] ] ");
    close(fd);
    rf_server_stats s1, s2;
    node_stop(&n2, &s2);
    node_stop(&n1, &s1);
    ck_assert_uint_ge(s1.peers_refused, 1);
    ck_assert_uint_eq(s1.peers_authenticated, 0);
    ck_assert_uint_eq(s2.peers_authenticated, 0);
}
END_TEST

/* Two nodes with the same secret: the second joins through the first and a
 * group's commands work from either node. */
START_TEST(test_server_two_nodes_join_and_forward)
{
    node n1, n2;
    node_start(&n1, "n1", SECRET, 0, NULL);
    int fd1 = dial(rf_server_client_port(n1.srv));
    /* The first node bootstraps before others join through it. */
    until(fd1, "FLEET.NODES\r\n", "[[n1 n1 active");
    node_start(&n2, "n2", SECRET, rf_server_peer_port(n1.srv), NULL);
    int fd2 = dial(rf_server_client_port(n2.srv));
    until(fd1, "FLEET.NODES\r\n", "[[n1 n1 active :1 ] [n2 n2 active :2 ] ]");
    until(fd2, "FLEET.ADD g2 2 int\r\n", "+OK");
    until(fd2, "FLEET.CMD g2 inc\r\n", "0");
    char out[512];
    roundtrip(fd1, "FLEET.CMD g2 inc\r\n", out, sizeof out);
    ck_assert_str_eq(out, "1 ");
    roundtrip(fd2, "FLEET.QUERY g2 get\r\n", out, sizeof out);
    ck_assert_str_eq(out, "2 ");
    close(fd1);
    close(fd2);
    rf_server_stats s1, s2;
    node_stop(&n2, &s2);
    node_stop(&n1, &s1);
    ck_assert_uint_ge(s1.peers_authenticated, 1);
    ck_assert_uint_ge(s2.peers_authenticated, 1);
    ck_assert_uint_ge(s2.envelopes_received, 1);
    ck_assert_uint_eq(s1.peer_frame_errors, 0);
}
END_TEST

/* Restoring a node from its data directory is not implemented: a second
 * start over the same directory is refused with a clear error instead of
 * appending a conflicting log. */
static rf_server *server_over(const char *dir, const char *name, uint64_t id, int *rc_out,
                              char *err, size_t cap)
{
    rf_fleetd_config cfg;
    rf_conf_defaults(&cfg);
    strcpy(cfg.name, name);
    strcpy(cfg.zone, name);
    cfg.node_id = id;
    strcpy(cfg.listen.host, "127.0.0.1");
    strcpy(cfg.client.host, "127.0.0.1");
    cfg.listen.port = cfg.client.port = 0;
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/data", dir);
    rf_server *s = NULL;
    *rc_out = rf_server_create(&cfg, (const uint8_t *)SECRET, strlen(SECRET), models, 2, &s, err,
                               cap);
    return s;
}

/* A node stopped and started again over its data directory comes back
 * with its groups and their state; another node's directory is refused. */
START_TEST(test_server_restarts_from_its_data_dir)
{
    node n1;
    node_start(&n1, "n1", SECRET, 0, NULL);
    int fd = dial(rf_server_client_port(n1.srv));
    until(fd, "FLEET.ADD g1 1 int\r\n", "+OK");
    until(fd, "FLEET.CMD g1 set 41\r\n", "0"); /* replies the old value */
    until(fd, "FLEET.CMD g1 inc\r\n", "41");
    close(fd);
    rf_server_stop(n1.srv);
    ck_assert_int_eq(pthread_join(n1.thread, NULL), 0);
    rf_server_close(n1.srv);

    char err[512];
    int rc;
    ck_assert_ptr_null(server_over(n1.dir, "n2", 2, &rc, err, sizeof err));
    ck_assert_int_eq(rc, RF_EOTHERNODE);
    ck_assert_ptr_nonnull(strstr(err, "cannot restore"));
    n1.srv = server_over(n1.dir, "n1", 1, &rc, err, sizeof err);
    ck_assert_msg(rc == RF_OK, "%s", err);
    ck_assert_int_eq(pthread_create(&n1.thread, NULL, run_thread, n1.srv), 0);
    fd = dial(rf_server_client_port(n1.srv));
    until(fd, "FLEET.QUERY g1 get\r\n", "42");
    until(fd, "FLEET.CMD g1 inc\r\n", "42");
    close(fd);
    node_stop(&n1, NULL);
}
END_TEST

/* With at most 2 requests of a client in flight, a burst of 300 pipelined
 * commands waits in the buffers (reading stops, then resumes) and every
 * reply still comes, in order. */
START_TEST(test_server_backpressure_keeps_order)
{
    inflight_max = 2;
    node n1;
    node_start(&n1, "n1", SECRET, 0, NULL);
    inflight_max = 0;
    int fd = dial(rf_server_client_port(n1.srv));
    until(fd, "FLEET.ADD g1 1 int\r\n", "+OK");
    enum { N = 300 };
    static char burst[N * 40];
    size_t n = 0;
    for (int i = 0; i < N; i++)
        n += (size_t)sprintf(burst + n, "*3\r\n$9\r\nFLEET.CMD\r\n$2\r\ng1\r\n$3\r\ninc\r\n");
    ck_assert_int_eq(send(fd, burst, n, 0), (ssize_t)n);
    for (int i = 0; i < N; i++) {
        char out[64], want[32];
        out[0] = '\0';
        read_reply(fd, out, sizeof out);
        snprintf(want, sizeof want, "%d ", i);
        ck_assert_str_eq(out, want);
    }
    close(fd);
    node_stop(&n1, NULL);
}
END_TEST

typedef struct burst {
    int fd;
    const char *bytes;
    size_t len;
} burst;

static void *send_burst(void *arg)
{
    burst *b = arg;
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = send(b->fd, b->bytes + off, b->len - off, 0);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    return NULL;
}

/* More than the parser's 1 MiB arrives while requests wait for room in
 * flight: reading stops with bytes stashed, then resumes, and nothing is
 * lost or reordered. */
START_TEST(test_server_backpressure_stashes_past_the_parser_bound)
{
    inflight_max = 1;
    node n1;
    node_start(&n1, "n1", SECRET, 0, NULL);
    inflight_max = 0;
    int fd = dial(rf_server_client_port(n1.srv));
    until(fd, "FLEET.ADD g1 1 int\r\n", "+OK");
    enum { PINGS = 200000 };
    size_t cap = 64 + PINGS * 6 + 64;
    char *bytes = malloc(cap);
    size_t n = (size_t)sprintf(bytes, "FLEET.CMD g1 inc\r\nFLEET.CMD g1 inc\r\n");
    for (int i = 0; i < PINGS; i++, n += 6)
        memcpy(bytes + n, "PING\r\n", 6);
    n += (size_t)sprintf(bytes + n, "FLEET.QUERY g1 get\r\n");
    ck_assert_uint_gt(n, RF_RESP_QUERY_BYTES_MAX + SRV_READ_BYTES_TEST);
    burst b = {fd, bytes, n};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, send_burst, &b), 0);
    char out[64];
    out[0] = '\0';
    read_reply(fd, out, sizeof out);
    read_reply(fd, out, sizeof out);
    ck_assert_str_eq(out, "0 1 ");
    for (int i = 0; i < PINGS; i++) {
        char line[16];
        ck_assert(read_line(fd, line, sizeof line));
        ck_assert_str_eq(line, "+PONG");
    }
    out[0] = '\0';
    read_reply(fd, out, sizeof out);
    ck_assert_str_eq(out, "2 ");
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    free(bytes);
    close(fd);
    rf_server_stats st;
    node_stop(&n1, &st);
    ck_assert_uint_ge(st.client_read_pauses, 1);
}
END_TEST

Suite *prod_server_suite(void)
{
    Suite *s = suite_create("prod_server");
    TCase *tc = tcase_create("loopback");
    tcase_add_checked_fixture(tc, quiet, loud);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_server_resp_pipelined_commands_in_order);
    tcase_add_test(tc, test_server_replies_of_several_groups_keep_request_order);
    tcase_add_test(tc, test_server_garbage_closes_only_that_connection);
    tcase_add_test(tc, test_server_password_requires_auth);
    tcase_add_test(tc, test_server_wrong_secret_cannot_join);
    tcase_add_test(tc, test_server_two_nodes_join_and_forward);
    tcase_add_test(tc, test_server_restarts_from_its_data_dir);
    tcase_add_test(tc, test_server_backpressure_keeps_order);
    tcase_add_test(tc, test_server_backpressure_stashes_past_the_parser_bound);
    suite_add_tcase(s, tc);
    return s;
}

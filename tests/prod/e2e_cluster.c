/* e2e_cluster: real fleetd processes on loopback for the end-to-end tests: start, kill, RESP calls, fleetctl. */
#include "tests/prod/e2e_cluster.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define E2E_START_MS_MAX 10000
#define E2E_REPLY_BYTES_MAX (1u << 20)

static char dir_prefix[64] = "/tmp/rf-prod-e2e";

void e2e_fixture_setup(void)
{
    snprintf(dir_prefix, sizeof dir_prefix, "/tmp/rf-prod-e2e-%ld", (long)getpid());
}

void e2e_fixture_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s-*", dir_prefix);
    if (system(cmd) != 0)
        fprintf(stderr, "e2e: could not remove %s-*\n", dir_prefix);
}

uint64_t e2e_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void e2e_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void e2e_stop(e2e_cluster *c)
{
    for (int i = 0; i < E2E_NODES_MAX; i++)
        if (c->n[i].pid > 0)
            e2e_kill(c, i, SIGKILL);
}

/* Free loopback ports, all held at once so that no two are the same. */
static void pick_ports(int *ports, int n)
{
    int fds[2 * E2E_NODES_MAX];
    ck_assert_int_le(n, 2 * E2E_NODES_MAX);
    for (int i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ck_assert_int_eq(bind(fds[i], (struct sockaddr *)&a, sizeof a), 0);
        ck_assert_int_eq(getsockname(fds[i], (struct sockaddr *)&a, &len), 0);
        ports[i] = ntohs(a.sin_port);
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

void e2e_init(e2e_cluster *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "%s-XXXXXX", dir_prefix);
    ck_assert_ptr_nonnull(mkdtemp(c->dir));
    const char *build = getenv("RF_BUILD") ? getenv("RF_BUILD") : "build";
    snprintf(c->bin, sizeof c->bin, "%s/bin", build);
    snprintf(c->secret, sizeof c->secret, "%s/secret", c->dir);
    FILE *f = fopen(c->secret, "w");
    ck_assert_ptr_nonnull(f);
    fputs(E2E_SECRET "\n", f);
    fclose(f);
    chmod(c->secret, 0600);
    c->rebalance_ms = 200;
    int ports[2 * E2E_NODES_MAX];
    pick_ports(ports, 2 * E2E_NODES_MAX);
    char dir[sizeof c->dir];
    memcpy(dir, c->dir, sizeof dir);
    for (int i = 0; i < E2E_NODES_MAX; i++) {
        e2e_node *n = &c->n[i];
        snprintf(n->name, sizeof n->name, "n%d", i + 1);
        snprintf(n->data, sizeof n->data, "%s/n%d", dir, i + 1);
        n->peer_port = ports[2 * i];
        n->client_port = ports[2 * i + 1];
    }
}

int e2e_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void exec_node(const e2e_cluster *c, int i, const char *zone, int join,
                      const char *const *extra)
{
    const e2e_node *n = &c->n[i];
    char bin[200], listen[32], client[32], joinaddr[32], log[200], rb[16];
    snprintf(bin, sizeof bin, "%s/fleetd", c->bin);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", n->peer_port);
    snprintf(client, sizeof client, "127.0.0.1:%d", n->client_port);
    snprintf(log, sizeof log, "%s/%s.log", c->dir, n->name);
    snprintf(rb, sizeof rb, "%d", c->rebalance_ms);
    const char *argv[40] = {bin,         "--name",      n->name,   "--zone",        zone,
                            "--listen",  listen,        "--client", client,         "--data-dir",
                            n->data,     "--secret-file", c->secret, "--rebalance-ms", rb,
                            "--reconnect-ms-min", "50", "--reconnect-ms-max", "500"};
    int k = 19;
    if (join >= 0) {
        snprintf(joinaddr, sizeof joinaddr, "127.0.0.1:%d", c->n[join].peer_port);
        argv[k++] = "--join";
        argv[k++] = joinaddr;
    }
    for (int e = 0; extra != NULL && extra[e] != NULL && k < 39; e++)
        argv[k++] = extra[e];
    argv[k] = NULL;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        close(null);
    }
    execv(bin, (char *const *)argv);
    _exit(127);
}

void e2e_start(e2e_cluster *c, int i, const char *zone, int join, const char *const *extra)
{
    e2e_node *n = &c->n[i];
    ck_assert_int_eq(n->pid, 0);
    if (zone != n->zone) /* a restart passes the node's own zone */
        snprintf(n->zone, sizeof n->zone, "%s", zone);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        exec_node(c, i, zone, join, extra);
    n->pid = pid;
    uint64_t end = e2e_now_ms() + E2E_START_MS_MAX;
    for (;;) {
        int fd = e2e_connect(n->client_port);
        if (fd >= 0) {
            close(fd);
            return;
        }
        if (!e2e_alive(c, i)) {
            char log[200], text[1024] = "";
            snprintf(log, sizeof log, "%s/%s.log", c->dir, n->name);
            FILE *f = fopen(log, "r");
            if (f != NULL && fseek(f, -(long)(sizeof text - 1), SEEK_END) != 0)
                rewind(f); /* shorter than that: all of it */
            size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
            text[len] = '\0';
            if (f)
                fclose(f);
            ck_abort_msg("%s exited at start: %s", n->name, text);
        }
        ck_assert_msg(e2e_now_ms() < end, "%s: client port not open", n->name);
        e2e_sleep_ms(20);
    }
}

bool e2e_alive(e2e_cluster *c, int i)
{
    e2e_node *n = &c->n[i];
    if (n->pid <= 0)
        return false;
    int st;
    if (waitpid(n->pid, &st, WNOHANG) == n->pid) {
        n->pid = 0;
        return false;
    }
    return true;
}

int e2e_kill(e2e_cluster *c, int i, int sig)
{
    e2e_node *n = &c->n[i];
    ck_assert_int_gt(n->pid, 0);
    kill(n->pid, sig);
    int st = 0;
    uint64_t end = e2e_now_ms() + 5000;
    while (waitpid(n->pid, &st, sig == SIGKILL ? 0 : WNOHANG) == 0) {
        if (e2e_now_ms() > end) {
            kill(n->pid, SIGKILL);
            waitpid(n->pid, &st, 0);
            break;
        }
        e2e_sleep_ms(10);
    }
    n->pid = 0;
    return st;
}

int e2e_call(int fd, rf_ctl_reply *out, int argc, const char *const *argv)
{
    char req[4096];
    size_t n = rf_ctl_request(req, sizeof req, argc, argv);
    if (n == 0 || send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n)
        return -1;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return -1;
    int rc = -1;
    for (;;) {
        long used = rf_ctl_parse(buf, len, out);
        if (used != 0) {
            rc = used > 0 ? 0 : -1;
            break;
        }
        if (len == cap) {
            uint8_t *nb = cap < E2E_REPLY_BYTES_MAX ? realloc(buf, cap * 2) : NULL;
            if (nb == NULL)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t got = recv(fd, buf + len, cap - len, 0);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    free(buf);
    return rc;
}

int e2e_call_port(int port, rf_ctl_reply *out, int argc, const char *const *argv)
{
    int fd = e2e_connect(port);
    if (fd < 0)
        return -1;
    int rc = e2e_call(fd, out, argc, argv);
    close(fd);
    return rc;
}

int64_t e2e_int(const rf_ctl_reply *r)
{
    if (r->kind == RF_CTL_INT)
        return r->n;
    if (r->kind == RF_CTL_BULK && r->len > 0 && r->len < 20) {
        char *end;
        long long v = strtoll(r->str, &end, 10);
        if (*end == '\0')
            return v;
    }
    return INT64_MIN;
}

int e2e_fleetctl(const e2e_cluster *c, int i, char *out, size_t cap, const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/fleetctl -s 127.0.0.1:%d %s 2>&1", c->bin, c->n[i].client_port,
             args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t len = fread(out, 1, cap - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int e2e_node_count(const e2e_cluster *c, int i)
{
    rf_ctl_reply r;
    const char *argv[] = {"FLEET.NODES"};
    if (e2e_call_port(c->n[i].client_port, &r, 1, argv) != 0)
        return -1;
    int n = r.kind == RF_CTL_ARRAY ? (int)r.n : -1;
    rf_ctl_reply_free(&r);
    return n;
}

int e2e_voters(const e2e_cluster *c, const char *g)
{
    int best = 0;
    for (int i = 0; i < E2E_NODES_MAX; i++) {
        if (c->n[i].pid <= 0)
            continue;
        rf_ctl_reply r;
        const char *argv[] = {"FLEET.STATUS", g};
        if (e2e_call_port(c->n[i].client_port, &r, 2, argv) != 0)
            continue;
        for (int64_t k = 0; r.kind == RF_CTL_ARRAY && k + 1 < r.n; k += 2)
            if (r.elems[k].str && strcmp(r.elems[k].str, "voters") == 0 &&
                r.elems[k + 1].n > best)
                best = (int)r.elems[k + 1].n;
        rf_ctl_reply_free(&r);
    }
    return best;
}

/* One pipelined burst of FLEET.ADD for names[i] where todo[i]; a group
 * whose reply is OK or already_added is done. A no_leader reply (no first
 * leader within the node's wait: a loaded machine) leaves it to do again:
 * the group exists, and the next attempt says already_added or OK. */
static bool add_burst(const e2e_cluster *c, int i, const char *const *names, bool *todo, int n,
                      const char *reps, const char *model)
{
    char req[8192];
    size_t len = 0;
    int sent = 0;
    for (int g = 0; g < n; g++) {
        if (!todo[g])
            continue;
        const char *argv[] = {"FLEET.ADD", names[g], reps, model};
        size_t w = rf_ctl_request(req + len, sizeof req - len, 4, argv);
        ck_assert_uint_gt(w, 0);
        len += w;
        sent++;
    }
    int fd = e2e_connect(c->n[i].client_port);
    if (fd < 0)
        return false;
    bool ok = send(fd, req, len, MSG_NOSIGNAL) == (ssize_t)len;
    uint8_t buf[8192];
    size_t have = 0, off = 0;
    for (int g = 0, got = 0; ok && got < sent;) {
        while (!todo[g])
            g++;
        rf_ctl_reply r;
        long used = rf_ctl_parse(buf + off, have - off, &r);
        if (used > 0) {
            bool done = r.kind == RF_CTL_SIMPLE ||
                        (r.kind == RF_CTL_ERROR && strncmp(r.str, "already_added", 13) == 0);
            bool again = r.kind == RF_CTL_ERROR && strncmp(r.str, "no_leader", 9) == 0;
            if (!done)
                fprintf(stderr, "e2e: FLEET.ADD %s: %s\n", names[g], r.str ? r.str : "?");
            ok = done || again;
            todo[g] = !done;
            rf_ctl_reply_free(&r);
            off += (size_t)used;
            got++;
            g++;
            continue;
        }
        if (off > 0) {
            memmove(buf, buf + off, have - off);
            have -= off;
            off = 0;
        }
        ssize_t more =
            used < 0 || have == sizeof buf ? -1 : recv(fd, buf + have, sizeof buf - have, 0);
        ok = more > 0;
        have += ok ? (size_t)more : 0;
    }
    close(fd);
    return ok;
}

bool e2e_add_groups(const e2e_cluster *c, int i, const char *const *names, int n, int replicas,
                    const char *model)
{
    char reps[8];
    snprintf(reps, sizeof reps, "%d", replicas);
    bool todo[64];
    ck_assert_int_le(n, 64);
    for (int g = 0; g < n; g++)
        todo[g] = true;
    for (int attempt = 0; attempt < 5; attempt++) {
        if (!add_burst(c, i, names, todo, n, reps, model))
            return false;
        bool left = false;
        for (int g = 0; g < n; g++)
            left |= todo[g];
        if (!left)
            return true;
    }
    return false;
}

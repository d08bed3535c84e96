/* prod_bench_etcd: prod_bench's etcd side (3 members on loopback, fsync on, fleetd's load shape) and its loopback dialer.
 * Included once, by prod_bench.c (a benchmark is one .c file). */
#ifndef TESTS_BENCH_PROD_BENCH_ETCD_H
#define TESTS_BENCH_PROD_BENCH_ETCD_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A TCP connection to 127.0.0.1:port whose reads time out after
 * timeout_s; -1 when it cannot be made. */
static int dial_loopback(int port, int timeout_s)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
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

#define ETCD_MEMBERS 3
#define ETCD_CLIENTS 50
#define ETCD_PIPELINE 16
#define ETCD_KEYS 64
#define ETCD_REQUESTS 50000

static pid_t etcd_pids[ETCD_MEMBERS];
static char etcd_req[ETCD_KEYS][256];
static size_t etcd_req_len[ETCD_KEYS];
static int etcd_port;
static long etcd_next; /* requests handed out; guarded by etcd_mu */
static pthread_mutex_t etcd_mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct etcd_worker {
    pthread_t thread;
    double *lat_ms; /* one per acknowledged put */
    long n, cap, errors;
} etcd_worker;

static void b64(const uint8_t *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads one HTTP response from fd (bytes kept in buf across calls); 1 for a
 * 200, 0 for another status, -1 when the connection failed. */
static int http_response(int fd, char *buf, size_t cap, size_t *have)
{
    for (;;) {
        buf[*have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end != NULL) {
            const char *cl = strstr(buf, "Content-Length: ");
            size_t body = cl != NULL && cl < end ? (size_t)atol(cl + 16) : 0;
            size_t total = (size_t)(end + 4 - buf) + body;
            if (*have >= total) {
                int ok = strncmp(buf, "HTTP/1.1 200", 12) == 0;
                memmove(buf, buf + total, *have - total);
                *have -= total;
                return ok;
            }
        }
        if (*have + 1 >= cap)
            return -1;
        ssize_t got = recv(fd, buf + *have, cap - 1 - *have, 0);
        if (got <= 0)
            return -1;
        *have += (size_t)got;
    }
}

/* One client: batches of ETCD_PIPELINE puts written at once, then their
 * responses read in order; latency from the batch's send to each reply. */
static void *etcd_client(void *arg)
{
    etcd_worker *w = arg;
    int fd = dial_loopback(etcd_port, 10);
    if (fd < 0) {
        w->errors++;
        return NULL;
    }
    static __thread char out[ETCD_PIPELINE * 256], in[1 << 16];
    size_t have = 0;
    unsigned seed = (unsigned)(uintptr_t)w;
    for (;;) {
        pthread_mutex_lock(&etcd_mu);
        long take = ETCD_REQUESTS - etcd_next < ETCD_PIPELINE ? ETCD_REQUESTS - etcd_next
                                                              : ETCD_PIPELINE;
        etcd_next += take;
        pthread_mutex_unlock(&etcd_mu);
        if (take <= 0)
            break;
        size_t n = 0;
        for (long k = 0; k < take; k++) {
            int key = (int)(rand_r(&seed) % ETCD_KEYS);
            memcpy(out + n, etcd_req[key], etcd_req_len[key]);
            n += etcd_req_len[key];
        }
        double t0 = now_s();
        if (send(fd, out, n, MSG_NOSIGNAL) != (ssize_t)n) {
            w->errors += take;
            break;
        }
        for (long k = 0; k < take; k++) {
            int r = http_response(fd, in, sizeof in, &have);
            if (r < 0) {
                w->errors += take - k;
                close(fd);
                return NULL;
            }
            if (r == 0) {
                w->errors++;
                continue;
            }
            if (w->n == w->cap) {
                w->cap = w->cap ? w->cap * 2 : 4096;
                w->lat_ms = realloc(w->lat_ms, (size_t)w->cap * sizeof *w->lat_ms);
            }
            w->lat_ms[w->n++] = (now_s() - t0) * 1e3;
        }
    }
    close(fd);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void etcd_stop(void)
{
    for (int i = 0; i < ETCD_MEMBERS; i++)
        if (etcd_pids[i] > 0) {
            kill(etcd_pids[i], SIGTERM);
            waitpid(etcd_pids[i], NULL, 0);
            etcd_pids[i] = 0;
        }
}

static void etcd_start(const char *data_dir, int base)
{
    char cluster[512];
    size_t n = 0;
    for (int i = 0; i < ETCD_MEMBERS; i++)
        n += (size_t)snprintf(cluster + n, sizeof cluster - n, "%se%d=http://127.0.0.1:%d",
                              i ? "," : "", i + 1, base + 100 + i);
    for (int i = 0; i < ETCD_MEMBERS; i++) {
        char name[8], data[96], client[48], peer[48];
        snprintf(name, sizeof name, "e%d", i + 1);
        snprintf(data, sizeof data, "%s/etcd%d", data_dir, i + 1);
        snprintf(client, sizeof client, "http://127.0.0.1:%d", base + 200 + i);
        snprintf(peer, sizeof peer, "http://127.0.0.1:%d", base + 100 + i);
        etcd_pids[i] = fork();
        if (etcd_pids[i] == 0) {
            if (freopen("/dev/null", "w", stderr) == NULL)
                _exit(126);
            char *args[] = {"etcd", "--name", name, "--data-dir", data, "--listen-client-urls",
                            client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
                            "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster,
                            "--initial-cluster-state", "new", "--initial-cluster-token",
                            "rf-bench", "--logger", "zap", "--log-level", "error", NULL};
            execvp("etcd", args);
            _exit(127);
        }
    }
}

/* An HTTP/1.1 connection accepting a put through the JSON gateway. */
static bool etcd_up(void)
{
    int fd = dial_loopback(etcd_port, 2);
    char buf[4096];
    size_t have = 0;
    bool ok = fd >= 0 &&
              send(fd, etcd_req[0], etcd_req_len[0], MSG_NOSIGNAL) == (ssize_t)etcd_req_len[0] &&
              http_response(fd, buf, sizeof buf, &have) == 1;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* etcd's figures for the same shape: 50 clients, 16 requests pipelined on
 * each HTTP/1.1 connection, puts over 64 keys, to one member (the gateway
 * on its client port; a follower forwards to the leader). Returns false
 * when etcd could not be run. */
static bool etcd_bench(const char *data_dir, int base, bool (*wait_up)(bool (*ok)(void)),
                       double *rps, double *p50, double *p99, long *errors)
{
    etcd_port = base + 200;
    for (int k = 0; k < ETCD_KEYS; k++) {
        char key[16], kb[32], body[96];
        snprintf(key, sizeof key, "key%02d", k);
        b64((const uint8_t *)key, strlen(key), kb);
        int bl = snprintf(body, sizeof body, "{\"key\":\"%s\",\"value\":\"MQ==\"}", kb);
        etcd_req_len[k] = (size_t)snprintf(etcd_req[k], sizeof etcd_req[k],
                                           "POST /v3/kv/put HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           "Content-Type: application/json\r\n"
                                           "Content-Length: %d\r\n\r\n%s",
                                           bl, body);
    }
    etcd_start(data_dir, base);
    if (!wait_up(etcd_up)) {
        etcd_stop();
        return false;
    }
    static etcd_worker w[ETCD_CLIENTS];
    double t0 = now_s();
    for (int i = 0; i < ETCD_CLIENTS; i++)
        pthread_create(&w[i].thread, NULL, etcd_client, &w[i]);
    long total = 0;
    *errors = 0;
    for (int i = 0; i < ETCD_CLIENTS; i++) {
        pthread_join(w[i].thread, NULL);
        total += w[i].n;
        *errors += w[i].errors;
    }
    double secs = now_s() - t0;
    etcd_stop();
    double *all = malloc((size_t)(total ? total : 1) * sizeof *all);
    long k = 0;
    for (int i = 0; i < ETCD_CLIENTS; i++) {
        if (w[i].n)
            memcpy(all + k, w[i].lat_ms, (size_t)w[i].n * sizeof *all);
        k += w[i].n;
        free(w[i].lat_ms);
    }
    qsort(all, (size_t)total, sizeof *all, cmp_double);
    *rps = total / secs;
    *p50 = total ? all[total / 2] : 0;
    *p99 = total ? all[total * 99 / 100] : 0;
    free(all);
    return total > 0;
}

#endif

/* prod_bench: 3 fleetd on loopback with fsync on, redis-benchmark FLEET.CMD inc over 64 groups of 3 replicas. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "prod/ctl.h"
#include "prod_bench_etcd.h"

#define NODES 3
#define GROUPS 64
#define REQUESTS 300000
#define WAIT_MS_MAX 60000

#include "prod_bench_perf.h"

static pid_t pids[NODES];
static int client_port[NODES];
static char dir[64];

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* One request to a node's client port; *out holds the reply (free it).
 * Returns 0, or -1 when the node cannot be reached. */
static int call(int port, int argc, const char *const *argv, rf_ctl_reply *out)
{
    int fd = dial_loopback(port, 5);
    char req[512];
    size_t n = rf_ctl_request(req, sizeof req, argc, argv);
    static uint8_t buf[1 << 16];
    size_t len = 0;
    int rc = -1;
    if (fd < 0)
        return -1;
    if (send(fd, req, n, 0) == (ssize_t)n) {
        for (;;) {
            long used = rf_ctl_parse(buf, len, out);
            if (used != 0) {
                rc = used > 0 ? 0 : -1;
                break;
            }
            ssize_t got = recv(fd, buf + len, sizeof buf - len, 0);
            if (got <= 0)
                break;
            len += (size_t)got;
        }
    }
    close(fd);
    return rc;
}

static bool port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* The nodes' peer ports base.., client ports base + 2000.., etcd's
 * base + 100.. and base + 200.. */
static bool ports_free(int base)
{
    for (int i = 0; i < NODES; i++)
        if (!port_free(base + i) || !port_free(base + 2000 + i) || !port_free(base + 100 + i) ||
            !port_free(base + 200 + i))
            return false;
    return true;
}

static void start_node(int i, const char *bin, int peer_base)
{
    char name[8], zone[8], listen[32], client[32], data[96], secret[96], join[32], rb[] = "500";
    snprintf(name, sizeof name, "n%d", i + 1);
    snprintf(zone, sizeof zone, "zone%d", i + 1);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", peer_base + i);
    snprintf(client, sizeof client, "127.0.0.1:%d", client_port[i]);
    snprintf(data, sizeof data, "%s/d%d", dir, i + 1);
    snprintf(secret, sizeof secret, "%s/secret", dir);
    snprintf(join, sizeof join, "127.0.0.1:%d", peer_base);
    char log[128];
    snprintf(log, sizeof log, "%s/n%d.log", dir, i + 1);
    pids[i] = fork();
    if (pids[i] == 0) {
        if (freopen(log, "w", stderr) == NULL)
            _exit(126);
        char *args[] = {(char *)bin, "--name", name, "--zone", zone, "--listen", listen,
                        "--client", client, "--data-dir", data, "--secret-file", secret,
                        "--rebalance-ms", rb, "--log-level", "info",
                        i ? "--join" : NULL, join, NULL};
        execv(bin, args);
        _exit(127);
    }
}

static void stop_all(void)
{
    for (int i = 0; i < NODES; i++) {
        if (pids[i] > 0) {
            kill(pids[i], SIGTERM);
            waitpid(pids[i], NULL, 0);
        }
    }
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "prod_bench: could not remove %s\n", dir);
}

/* A failed setup: what each node logged last, to tell why. */
static int fail(const char *why)
{
    fprintf(stderr, "prod_bench: %s; no figure measured\n", why);
    stop_all();
    for (int i = 0; i < NODES; i++) {
        char cmd[192];
        snprintf(cmd, sizeof cmd, "(echo '-- n%d:'; tail -n 8 %s/n%d.log) >&2", i + 1, dir, i + 1);
        if (system(cmd) != 0)
            continue;
    }
    return 0;
}

static int node_count(int port)
{
    rf_ctl_reply r;
    const char *argv[] = {"FLEET.NODES"};
    if (call(port, 1, argv, &r) != 0)
        return -1;
    int n = r.kind == RF_CTL_ARRAY ? (int)r.n : -1;
    rf_ctl_reply_free(&r);
    return n;
}

/* The most voters any node sees in group g's membership. */
static int voters(const char *g)
{
    int best = 0;
    for (int i = 0; i < NODES; i++) {
        rf_ctl_reply r;
        const char *argv[] = {"FLEET.STATUS", g};
        if (call(client_port[i], 2, argv, &r) != 0)
            continue;
        for (int64_t k = 0; r.kind == RF_CTL_ARRAY && k + 1 < r.n; k += 2)
            if (r.elems[k].str && strcmp(r.elems[k].str, "voters") == 0 && r.elems[k + 1].n > best)
                best = (int)r.elems[k + 1].n;
        rf_ctl_reply_free(&r);
    }
    return best;
}

static bool wait_for(bool (*ok)(void))
{
    long end = now_ms() + WAIT_MS_MAX;
    while (now_ms() < end) {
        if (ok())
            return true;
        sleep_ms(200);
    }
    return false;
}

static bool first_up(void) { return node_count(client_port[0]) == 1; }
static bool all_up(void) { return node_count(client_port[0]) == NODES; }

/* Adds every group in one pipelined burst (each reply waits for the new
 * group's first leader, so one at a time would take a minute). */
static bool groups_added(void)
{
    static char req[GROUPS * 96];
    size_t n = 0;
    for (int g = 0; g < GROUPS; g++) {
        char name[16];
        snprintf(name, sizeof name, "g%012d", g);
        const char *argv[] = {"FLEET.ADD", name, "3", "int"};
        n += rf_ctl_request(req + n, sizeof req - n, 4, argv);
    }
    int fd = dial_loopback(client_port[0], 30);
    if (fd < 0)
        return false;
    bool ok = send(fd, req, n, 0) == (ssize_t)n;
    static uint8_t buf[1 << 16];
    size_t len = 0, off = 0;
    for (int got = 0; ok && got < GROUPS;) {
        rf_ctl_reply r;
        long used = rf_ctl_parse(buf + off, len - off, &r);
        if (used > 0) {
            ok = r.kind == RF_CTL_SIMPLE ||
                 (r.kind == RF_CTL_ERROR && strncmp(r.str, "already_added", 13) == 0);
            rf_ctl_reply_free(&r);
            off += (size_t)used;
            got++;
            continue;
        }
        ssize_t more = used < 0 ? -1 : recv(fd, buf + len, sizeof buf - len, 0);
        ok = more > 0;
        len += ok ? (size_t)more : 0;
    }
    close(fd);
    return ok;
}

static bool groups_replicated(void)
{
    for (int g = 0; g < GROUPS; g++) {
        char name[16];
        snprintf(name, sizeof name, "g%012d", g);
        if (voters(name) < 3)
            return false;
    }
    return true;
}

static long sum_values(void)
{
    long sum = 0;
    for (int g = 0; g < GROUPS; g++) {
        char name[16];
        snprintf(name, sizeof name, "g%012d", g);
        rf_ctl_reply r;
        const char *argv[] = {"FLEET.QUERY", name, "get"};
        if (call(client_port[0], 3, argv, &r) != 0 || r.kind != RF_CTL_BULK)
            return -1;
        sum += atol(r.str);
        rf_ctl_reply_free(&r);
    }
    return sum;
}

/* CPU seconds (user + system, all threads) a process has used so far;
 * -1 when /proc cannot tell. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which ends at the last ')': state is
     * field 3, utime and stime fields 14 and 15. */
    const char *at = strrchr(buf, ')');
    unsigned long ut, st;
    if (at == NULL || sscanf(at + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                             &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Read and write system calls (sockets and files) a process made so far. */
static double proc_syscalls(pid_t pid)
{
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    FILE *f = fopen(path, "r");
    long sum = 0, v;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "syscr: %ld", &v) == 1 || sscanf(line, "syscw: %ld", &v) == 1)
            sum += v;
    fclose(f);
    return (double)sum;
}

/* A per-process figure summed over the nodes; -1 when one cannot tell. */
static double nodes_sum(double (*per)(pid_t))
{
    double sum = 0;
    for (int i = 0; i < NODES; i++) {
        double c = per(pids[i]);
        if (c < 0)
            return -1;
        sum += c;
    }
    return sum;
}

static double children_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int main(void)
{
    const char *build = getenv("RF_BUILD") ? getenv("RF_BUILD") : "build";
    char bin[256];
    snprintf(bin, sizeof bin, "%s/bin/fleetd", build);
    if (system("command -v redis-benchmark >/dev/null 2>&1") != 0) {
        fprintf(stderr, "prod_bench: redis-benchmark not installed (Debian redis-tools); "
                        "prod.writes not measured\n");
        return 0;
    }
    strcpy(dir, "/tmp/rf-prodbench-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    atexit(remove_dir);
    char path[128];
    snprintf(path, sizeof path, "%s/secret", dir);
    FILE *f = fopen(path, "w");
    fputs("bench cluster secret, not for production\n", f);
    fclose(f);
    chmod(path, 0600);
    /* Ports below the ephemeral range (32768 and up, where other jobs'
     * outgoing connections take theirs), checked free: a node that cannot
     * bind would stall the setup for a minute. */
    int base = 21000 + (int)(getpid() % 500) * 4;
    for (int tries = 0; tries < 500 && !ports_free(base); tries++)
        base = 21000 + (base - 21000 + 4) % 2000;
    for (int i = 0; i < NODES; i++)
        client_port[i] = base + 2000 + i;
    start_node(0, bin, base);
    if (!wait_for(first_up))
        return fail("the first node did not activate");
    for (int i = 1; i < NODES; i++)
        start_node(i, bin, base);
    if (!wait_for(all_up))
        return fail("the nodes did not all join");
    if (!wait_for(groups_added))
        return fail("the groups could not be added");
    if (!wait_for(groups_replicated))
        return fail("the groups did not reach 3 voters");

    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "redis-benchmark -p %d -c 50 -P 16 -n %d -r %d --csv FLEET.CMD g__rand_int__ inc "
             "2>/dev/null",
             client_port[0], REQUESTS, GROUPS);
    perf_start(pids);
    double nodes_cpu0 = nodes_sum(proc_cpu_s), client_cpu0 = children_cpu_s();
    double calls0 = nodes_sum(proc_syscalls), switches0 = nodes_sum(proc_switches);
    FILE *p = popen(cmd, "r");
    char line[512];
    double rps = 0, p50 = 0, p99 = 0;
    while (p && fgets(line, sizeof line, p)) {
        char name[128];
        double avg, mn, p95, mx;
        if (sscanf(line, "\"%127[^\"]\",\"%lf\",\"%lf\",\"%lf\",\"%lf\",\"%lf\",\"%lf\",\"%lf\"",
                   name, &rps, &avg, &mn, &p50, &p95, &p99, &mx) == 8)
            break;
    }
    if (p)
        pclose(p);
    /* The client's CPU: the shell and redis-benchmark, both waited for. */
    double client_cpu = children_cpu_s() - client_cpu0;
    double nodes_cpu = nodes_sum(proc_cpu_s) - nodes_cpu0;
    double calls = nodes_sum(proc_syscalls) - calls0;
    double switches = nodes_sum(proc_switches) - switches0;
    perf_stop();
    long sum = sum_values();
    stop_all();
    if (rps <= 0) {
        fprintf(stderr, "prod_bench: redis-benchmark gave no figure\n");
        return 0;
    }
    printf("bench prod.writes %.0f writes/s (3 fleetd on loopback, fsync on, %d groups x 3 "
           "replicas, redis-benchmark -c 50 -P 16 via one node; target 200000; %ld incs applied of "
           "%d sent)\n",
           rps, GROUPS, sum, REQUESTS);
    printf("bench prod.p50_ms %.3f ms (same run)\n", p50);
    printf("bench prod.p99_ms %.3f ms (same run; target <= 10)\n", p99);
    if (nodes_cpu0 >= 0 && nodes_cpu >= 0)
        printf("bench prod.cpu_us_per_write %.2f us (user+sys of the 3 fleetd per write sent, "
               "same run; redis-benchmark's own: %.2f us)\n",
               nodes_cpu * 1e6 / REQUESTS, client_cpu * 1e6 / REQUESTS);
    if (calls0 >= 0 && calls >= 0)
        printf("bench prod.syscalls_per_write %.3f (reads and writes of the 3 fleetd, sockets "
               "and files, per write sent, same run)\n",
               calls / REQUESTS);
    if (switches0 >= 0 && switches >= 0)
        printf("bench prod.switches_per_write %.3f (context switches of the 3 fleetd, every "
               "thread, per write sent, same run)\n",
               switches / REQUESTS);
    perf_stat_print(REQUESTS);
    if (getenv("RF_BENCH_NO_ETCD") != NULL)
        return 0;
    if (system("command -v etcd >/dev/null 2>&1") != 0) {
        fprintf(stderr, "prod_bench: etcd not installed (Debian etcd-server); etcd.writes not "
                        "measured\n");
        return 0;
    }
    double erps, ep50, ep99;
    long eerr;
    if (!etcd_bench(dir, base, wait_for, &erps, &ep50, &ep99, &eerr)) {
        fprintf(stderr, "prod_bench: etcd did not start or answer; etcd.writes not measured\n");
        return 0;
    }
    printf("bench etcd.writes %.0f writes/s (etcd 3 members on loopback, fsync on, 50 HTTP/1.1 "
           "clients x 16 pipelined puts over 64 keys via one member's JSON gateway; %ld "
           "errors)\n",
           erps, eerr);
    printf("bench etcd.p50_ms %.3f ms (same run)\n", ep50);
    printf("bench etcd.p99_ms %.3f ms (same run)\n", ep99);
    printf("bench prod.vs_etcd %.1f x (fleetd writes/s over etcd's; target 40)\n", rps / erps);
    return 0;
}

/* prod_bench_perf: prod_bench's views into the nodes during the measured run: perf record, perf stat, context switches.
 * Included once, by prod_bench.c (a benchmark is one .c file), which defines NODES first. */
#ifndef TESTS_BENCH_PROD_BENCH_PERF_H
#define TESTS_BENCH_PROD_BENCH_PERF_H

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef NODES
#error "prod_bench_perf.h needs NODES"
#endif

/* What RF_BENCH_PERF_STAT counts: the loop's wake-ups and its system calls. */
#define PERF_STAT_EVENTS                                                                     \
    "context-switches,page-faults,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_read,"   \
    "syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_futex,"          \
    "syscalls:sys_enter_pwrite64,syscalls:sys_enter_fdatasync,syscalls:sys_enter_mmap,"     \
    "syscalls:sys_enter_munmap,syscalls:sys_enter_brk"
#define PERF_STAT_MAX 16

static pid_t perf_pids[NODES], stat_pids[NODES];

static pid_t perf_spawn(char *const args[])
{
    pid_t pid = fork();
    if (pid == 0) {
        if (freopen("/dev/null", "w", stderr) == NULL)
            _exit(126);
        execvp("perf", args);
        _exit(127);
    }
    return pid;
}

/* With RF_BENCH_PERF_DIR set, `perf record` follows each node during the
 * measured run into DIR/nK.data (for finding where the CPU goes), with
 * call graphs by frame pointers, or by RF_BENCH_PERF_CALLGRAPH (dwarf, or
 * none), at RF_BENCH_PERF_FREQ samples a second (default 4000).
 * With RF_BENCH_PERF_STAT=DIR, `perf stat` counts PERF_STAT_EVENTS into
 * DIR/nK.stat, and perf_stat_print sums them per write. */
static void perf_start(const pid_t *nodes)
{
    const char *out = getenv("RF_BENCH_PERF_DIR"), *stat = getenv("RF_BENCH_PERF_STAT");
    for (int i = 0; i < NODES; i++) {
        char pid[16], data[256], graph[64], freq[16];
        snprintf(freq, sizeof freq, "%.12s",
                 getenv("RF_BENCH_PERF_FREQ") ? getenv("RF_BENCH_PERF_FREQ") : "4000");
        snprintf(graph, sizeof graph, "--call-graph=%.40s",
                 getenv("RF_BENCH_PERF_CALLGRAPH") ? getenv("RF_BENCH_PERF_CALLGRAPH") : "fp");
        snprintf(pid, sizeof pid, "%d", (int)nodes[i]);
        if (out != NULL) {
            snprintf(data, sizeof data, "%.200s/n%d.data", out, i + 1);
            char *args[] = {"perf", "record", "-F", freq, "-o", data, "-p", pid, graph, NULL};
            if (strcmp(graph, "--call-graph=none") == 0)
                args[8] = NULL; /* self times only: more samples for the same cost */
            perf_pids[i] = perf_spawn(args);
        }
        if (stat != NULL) {
            snprintf(data, sizeof data, "%.200s/n%d.stat", stat, i + 1);
            char *args[] = {"perf", "stat", "-x,", "-e", PERF_STAT_EVENTS, "-o", data,
                            "-p", pid, NULL};
            stat_pids[i] = perf_spawn(args);
        }
    }
    struct timespec attach = {0, 500000000L}; /* perf attached before the load starts */
    if (out != NULL || stat != NULL)
        nanosleep(&attach, NULL);
}

static void perf_stop(void)
{
    for (int i = 0; i < NODES; i++) {
        if (perf_pids[i] > 0) {
            kill(perf_pids[i], SIGINT);
            waitpid(perf_pids[i], NULL, 0);
        }
        if (stat_pids[i] > 0) {
            kill(stat_pids[i], SIGINT);
            waitpid(stat_pids[i], NULL, 0);
        }
    }
}

/* The RF_BENCH_PERF_STAT counts of the 3 nodes, summed, per write sent. */
static void perf_stat_print(long writes)
{
    const char *stat = getenv("RF_BENCH_PERF_STAT");
    char names[PERF_STAT_MAX][64];
    double sums[PERF_STAT_MAX];
    int n = 0;
    for (int i = 0; stat != NULL && i < NODES; i++) {
        char path[256], line[256];
        snprintf(path, sizeof path, "%.200s/n%d.stat", stat, i + 1);
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            fprintf(stderr, "prod_bench: %s: no perf stat output\n", path);
            return;
        }
        /* CSV: count,unit,event,... */
        while (fgets(line, sizeof line, f)) {
            double v;
            char ev[64];
            if (sscanf(line, "%lf,%*[^,],%63[^,]", &v, ev) != 2 &&
                sscanf(line, "%lf,,%63[^,]", &v, ev) != 2)
                continue;
            int k = 0;
            while (k < n && strcmp(names[k], ev) != 0)
                k++;
            if (k == n && n < PERF_STAT_MAX) {
                snprintf(names[n], sizeof names[n], "%s", ev);
                sums[n++] = 0;
            }
            if (k < n)
                sums[k] += v;
        }
        fclose(f);
    }
    for (int k = 0; k < n; k++) {
        const char *colon = strrchr(names[k], ':');
        const char *ev = colon ? colon + 1 : names[k];
        if (strncmp(ev, "sys_enter_", 10) == 0)
            ev += 10;
        printf("bench prod.perf.%.40s %.4f per write (perf stat, the 3 fleetd, same run)\n", ev,
               sums[k] / (double)writes);
    }
}

/* Context switches (voluntary and not, every thread) a process had so far:
 * how often the nodes sleep and wake. -1 when /proc cannot tell. */
static double proc_switches(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    double sum = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char status[128], line[128];
        snprintf(status, sizeof status, "/proc/%d/task/%.32s/status", (int)pid, e->d_name);
        FILE *f = fopen(status, "r");
        long v;
        while (f != NULL && fgets(line, sizeof line, f))
            if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1 ||
                sscanf(line, "nonvoluntary_ctxt_switches: %ld", &v) == 1)
                sum += (double)v;
        if (f != NULL)
            fclose(f);
    }
    closedir(d);
    return sum;
}

#endif

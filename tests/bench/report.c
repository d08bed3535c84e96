/* bench report: how long fleet-report takes on a scale-sized history (reports/report.c). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/rf_err.h"
#include "reports/report.h"
#include "sim/record.h"

#define SNAPSHOTS 60
#define LEADER_CHANGES 20000

/* This process's CPU time: the machine is shared, wall time is noisy. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int rc, const char *what)
{
    if (rc != RF_OK) {
        fprintf(stderr, "bench report: %s: %s\n", what, rf_strerror(rc));
        exit(1);
    }
}

/* A history of an hour: nodes in 3 zones, groups of 3, leader churn, and a
 * snapshot per fault boundary. */
static void write_history(const char *path, int nodes, int groups)
{
    rf_rec *rec = NULL;
    char err[256];
    check(rf_rec_open(&rec, path, err, sizeof err), err);
    rf_rec_run_info info = {.scenario = "scale-1000-groups.scn", .seed = 1, .build = "bench"};
    check(rf_rec_run_begin(rec, &info, NULL), "run");
    for (int n = 0; n < nodes; n++) {
        char name[16], zone[16];
        snprintf(name, sizeof name, "n%d", n + 1);
        snprintf(zone, sizeof zone, "zone%d", n % 3 + 1);
        check(rf_rec_node(rec, n, name, zone), "node");
    }
    uint64_t hour = 3600ULL * 1000000000ULL;
    for (int g = 0; g < groups; g++) {
        char name[16];
        snprintf(name, sizeof name, "g%d", g);
        check(rf_rec_group(rec, g, name, 3, "int", 0), "group");
    }
    for (int i = 0; i < LEADER_CHANGES; i++) {
        uint64_t t = hour / LEADER_CHANGES * (uint64_t)i;
        check(rf_rec_leader(rec, t, i % groups, (uint64_t)i, i % 7 == 3 ? RF_REC_NONE : i % nodes),
              "leader");
    }
    for (int s = 0; s < SNAPSHOTS; s++) {
        uint64_t t = hour / SNAPSHOTS * (uint64_t)s;
        if (s % 2 == 1)
            check(rf_rec_fault_begin(rec, t, "partition", "{n1,n2} | {n3,n4,n5}", NULL, NULL),
                  "fault");
        check(rf_rec_snapshot_begin(rec, t, "fault boundary", NULL), "snapshot");
        for (int n = 0; n < nodes; n++)
            check(rf_rec_snapshot_node(rec, n, RF_REC_UP), "snapshot node");
        for (int g = 0; g < groups; g++) {
            int64_t m[3] = {g % nodes, (g + 1) % nodes, (g + 2) % nodes};
            check(rf_rec_snapshot_group(rec, g, m, NULL, 3, m[0], m, 3), "snapshot group");
        }
    }
    rf_rec_run_end_info end = {.outcome = RF_REC_PASS, .end_ns = hour};
    check(rf_rec_run_end(rec, &end), "end");
    rf_rec_close(rec);
}

static double report_once(const char *dir, const char *tag, int nodes, int groups)
{
    char db[128], out[128], err[512];
    snprintf(db, sizeof db, "%s/%s.db", dir, tag);
    snprintf(out, sizeof out, "%s/%s", dir, tag);
    write_history(db, nodes, groups);
    double t0 = cpu_s();
    check(rf_report_write(db, 0, out, err, sizeof err), err);
    return cpu_s() - t0;
}

int main(void)
{
    char dir[] = "/tmp/rf-bench-report-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    double big = report_once(dir, "scale", 5, 1000);
    printf("bench report.write_s %.2f s (CPU time; scale-1000-groups shape: 1000 groups on 5 nodes, "
           "%d snapshots of which %d drawn aggregated, %d leader changes)\n",
           big, SNAPSHOTS, RF_REPORT_GRAPHS_MAX, LEADER_CHANGES);
    double detailed = report_once(dir, "detailed", 50, 200);
    printf("bench report.detailed_write_s %.2f s (CPU time; the largest detailed graphs: 200 groups on "
           "50 nodes, %d drawn)\n", detailed, RF_REPORT_GRAPHS_MAX);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

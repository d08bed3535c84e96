/* bench record: how fast the recorder writes a history (sim/record.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/rf_err.h"
#include "sim/record.h"

#define GROUPS 1000
#define NODES 5
#define OPS 400000       /* more than scale-1000-groups' 360,000 (100 ops/s for an hour) */
#define SNAPSHOTS 20

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall time, and this process's CPU time: the machine is shared, so the
 * CPU figure is the stable one. */
static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static double cpu_s(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static void check(int rc, const char *what)
{
    if (rc != RF_OK) {
        fprintf(stderr, "bench record: %s: %s\n", what, rf_strerror(rc));
        exit(1);
    }
}

int main(void)
{
    char dir[] = "/tmp/rf-bench-record-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/h.db", dir);
    rf_rec *rec = NULL;
    check(rf_rec_open(&rec, path, err, sizeof err), err);
    rf_rec_run_info info = {.scenario = "bench", .seed = 1, .build = "bench"};
    check(rf_rec_run_begin(rec, &info, NULL), "run");
    for (int n = 0; n < NODES; n++) {
        char name[16], zone[16];
        snprintf(name, sizeof name, "n%d", n + 1);
        snprintf(zone, sizeof zone, "zone%d", n % 3 + 1);
        check(rf_rec_node(rec, n, name, zone), "node");
    }
    for (int g = 0; g < GROUPS; g++) {
        char name[16];
        snprintf(name, sizeof name, "g%d", g);
        check(rf_rec_group(rec, g, name, 3, "int", 0), "group");
    }
    uint64_t rows = 0;
    double t0 = now_s(), c0 = cpu_s();
    for (uint64_t i = 0; i < OPS; i++) {
        uint64_t t = i * 9000000ULL;
        rf_rec_op op = {.group_id = (int64_t)(i % GROUPS), .client = (uint32_t)(i % 7),
                        .op = i % 3 ? "inc" : "get", .result_json = "41",
                        .status = RF_REC_OP_OK, .call_ns = t, .return_ns = t + 1500000};
        check(rf_rec_client_op(rec, &op), "op");
        rows++;
        if (i % 40 == 0) {
            check(rf_rec_leader(rec, t, (int64_t)(i / 40 % GROUPS), i / 40, (int64_t)(i % NODES)),
                  "leader");
            rows++;
        }
    }
    double t1 = now_s(), c1 = cpu_s();
    for (int s = 0; s < SNAPSHOTS; s++) {
        check(rf_rec_snapshot_begin(rec, (uint64_t)s, "bench", NULL), "snapshot");
        for (int n = 0; n < NODES; n++)
            check(rf_rec_snapshot_node(rec, n, RF_REC_UP), "snapshot node");
        for (int g = 0; g < GROUPS; g++) {
            int64_t m[3] = {g % NODES, (g + 1) % NODES, (g + 2) % NODES};
            check(rf_rec_snapshot_group(rec, g, m, NULL, 3, m[0], m, 3), "snapshot group");
        }
    }
    rf_rec_run_end_info end = {.outcome = RF_REC_PASS, .end_ns = OPS * 9000000ULL};
    check(rf_rec_run_end(rec, &end), "end");
    double t2 = now_s(), c2 = cpu_s();
    rf_rec_close(rec);
    printf("bench sim.record_rate %.0f rows/s (CPU time; client ops and leader changes, "
           "WAL, transactions of %d rows; wall clock on this shared machine: %.0f rows/s)\n",
           (double)rows / (c1 - c0), RF_REC_BATCH_ROWS_MAX, (double)rows / (t1 - t0));
    printf("bench sim.record_scale_ops_s %.3f s (CPU time to record 400,000 client ops, "
           "more than scale-1000-groups makes; its whole budget is 3.6 s; wall %.3f s)\n",
           c1 - c0, t1 - t0);
    printf("bench sim.record_snapshot_ms %.2f ms (CPU time of one placement snapshot of %d "
           "groups of 3 on %d nodes; wall %.2f ms)\n",
           1000.0 * (c2 - c1) / SNAPSHOTS, GROUPS, NODES, 1000.0 * (t2 - t1) / SNAPSHOTS);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

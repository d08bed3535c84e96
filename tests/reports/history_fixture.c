/* history_fixture: a small known history written with the recorder, for report tests. */
#include "tests/reports/history_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/record.h"

#define MS 1000000ULL

typedef struct {
    int64_t members[5][3]; /* per group g1..g5 */
    int64_t leader[5];     /* RF_REC_NONE when leaderless */
    rf_rec_node_state state[4];
} fx_place;

static int fx_snapshot(rf_rec *rec, uint64_t t, const char *label, const fx_place *p,
                       const int64_t (*target)[3])
{
    int rc = rf_rec_snapshot_begin(rec, t, label, NULL);
    for (int n = 0; rc == RF_OK && n < 4; n++)
        rc = rf_rec_snapshot_node(rec, n + 1, p->state[n]);
    for (int g = 0; rc == RF_OK && g < 5; g++)
        rc = rf_rec_snapshot_group(rec, g + 1, p->members[g], NULL, 3, p->leader[g], target[g],
                                   3);
    return rc;
}

static int fx_leader(rf_rec *rec, fx_place *p, uint64_t t, int g, uint64_t term, int64_t leader)
{
    p->leader[g - 1] = leader;
    return rf_rec_leader(rec, t, g, term, leader);
}

/* n4 leaves: each of its groups gains a member and drops n4. */
static int fx_remove_n4(rf_rec *rec, fx_place *p, int64_t cause)
{
    static const int64_t gains[5] = {0, 1, 2, 3, 2}; /* per group; 0: not a member */
    int rc = RF_OK;
    for (int g = 1; rc == RF_OK && g < 5; g++) {
        uint64_t t = 5100 * MS + (uint64_t)g * 10 * MS;
        rc = rf_rec_membership(rec, t, g + 1, gains[g], RF_REC_ADD_LEARNER, RF_REC_NODE_REMOVED,
                               cause);
        if (rc == RF_OK)
            rc = rf_rec_membership(rec, t + 50 * MS, g + 1, gains[g], RF_REC_PROMOTE,
                                   RF_REC_NODE_REMOVED, cause);
        if (rc == RF_OK)
            rc = rf_rec_membership(rec, t + 100 * MS, g + 1, 4, RF_REC_REMOVE,
                                   RF_REC_NODE_REMOVED, cause);
        for (int k = 0; k < 3; k++)
            if (p->members[g][k] == 4)
                p->members[g][k] = gains[g];
    }
    return rc;
}

/* 1 s: n1 isolated until 2 s; 3 s: n4 crashes, restarting at 4 s. */
static int fx_faults(rf_rec *rec, fx_place *p, const int64_t (*target0)[3])
{
    /* 1 s: n1 isolated. */
    int64_t iso = 0, crash = 0;
    int rc = RF_OK;
    p->state[0] = RF_REC_ISOLATED;
    if (rc == RF_OK)
        rc = rf_rec_fault_begin(rec, 1000 * MS, "isolate", "n1", NULL, &iso);
    if (rc == RF_OK)
        rc = fx_snapshot(rec, 1000 * MS, "isolate n1 starts", p, target0);
    if (rc == RF_OK)
        rc = fx_leader(rec, p, 1000 * MS, 1, 1, RF_REC_NONE);
    if (rc == RF_OK)
        rc = fx_leader(rec, p, 1000 * MS, 5, 1, RF_REC_NONE);
    if (rc == RF_OK)
        rc = fx_leader(rec, p, 1250 * MS, 5, 2, 4);
    if (rc == RF_OK)
        rc = fx_leader(rec, p, 1300 * MS, 1, 2, 2);
    p->state[0] = RF_REC_UP;
    if (rc == RF_OK)
        rc = rf_rec_fault_end(rec, iso, 2000 * MS);
    if (rc == RF_OK)
        rc = fx_snapshot(rec, 2000 * MS, "isolate n1 ends", p, target0);
    /* 3 s: n4 crashes; 4 s: it restarts. */
    p->state[3] = RF_REC_DOWN;
    if (rc == RF_OK)
        rc = rf_rec_node_event(rec, 3000 * MS, 4, RF_REC_NODE_CRASH, -1, NULL, NULL);
    if (rc == RF_OK)
        rc = rf_rec_fault_begin(rec, 3000 * MS, "crash", "n4", NULL, &crash);
    if (rc == RF_OK)
        rc = fx_leader(rec, p, 3000 * MS, 4, 1, RF_REC_NONE);
    if (rc == RF_OK)
        rc = fx_leader(rec, p, 3000 * MS, 5, 2, RF_REC_NONE);
    if (rc == RF_OK)
        rc = fx_snapshot(rec, 3000 * MS, "n4 crash", p, target0);
    if (rc == RF_OK)
        rc = fx_leader(rec, p, 3300 * MS, 4, 2, 1);
    if (rc == RF_OK)
        rc = fx_leader(rec, p, 3400 * MS, 5, 3, 3);
    p->state[3] = RF_REC_UP;
    if (rc == RF_OK)
        rc = rf_rec_node_event(rec, 4000 * MS, 4, RF_REC_NODE_RESTART, -1, NULL, NULL);
    if (rc == RF_OK)
        rc = rf_rec_fault_end(rec, crash, 4000 * MS);
    if (rc == RF_OK)
        rc = fx_snapshot(rec, 4000 * MS, "n4 restart", p, target0);
    return rc;
}

static int fx_run(rf_rec *rec)
{
    static const int64_t target0[5][3] = {{1, 2, 3}, {2, 3, 4}, {3, 4, 1}, {4, 1, 2}, {1, 4, 3}};
    static const int64_t target1[5][3] = {{1, 2, 3}, {2, 3, 1}, {3, 2, 1}, {1, 2, 3}, {1, 2, 3}};
    static const char *const names[4] = {"n1", "n2", "n3", "n4"};
    static const char *const zones[4] = {"zone1", "zone2", "zone1", "zone2"};
    fx_place p;
    memcpy(p.members, target0, sizeof p.members);
    for (int i = 0; i < 5; i++)
        p.leader[i] = RF_REC_NONE;
    for (int i = 0; i < 4; i++)
        p.state[i] = RF_REC_UP;
    int rc = RF_OK;
    for (int n = 0; rc == RF_OK && n < 4; n++)
        rc = rf_rec_node(rec, n + 1, names[n], zones[n]);
    for (int g = 0; rc == RF_OK && g < 5; g++) {
        char name[16];
        snprintf(name, sizeof name, "g%d", g + 1);
        rc = rf_rec_group(rec, g + 1, name, 3, "int", 0);
    }
    if (rc == RF_OK)
        rc = fx_snapshot(rec, 0, "start", &p, target0);
    for (int g = 1; rc == RF_OK && g <= 5; g++)
        rc = fx_leader(rec, &p, 100 * MS, g, 1, target0[g - 1][0]);
    if (rc == RF_OK)
        rc = fx_faults(rec, &p, target0);
    int64_t ev = 0;
    /* 5 s: n4 removed; its members move, four moves as the placement says. */
    if (rc == RF_OK)
        rc = rf_rec_node_event(rec, 5000 * MS, 4, RF_REC_NODE_REMOVE, 4, NULL, &ev);
    if (rc == RF_OK)
        rc = fx_snapshot(rec, 5000 * MS, "n4 remove", &p, target1);
    if (rc == RF_OK)
        rc = fx_remove_n4(rec, &p, ev);
    p.state[3] = RF_REC_REMOVED;
    if (rc == RF_OK)
        rc = fx_snapshot(rec, 6000 * MS, "end", &p, target1);
    if (rc == RF_OK)
        rc = rf_rec_check(rec, "safety", RF_REC_PASS, NULL, -1);
    if (rc == RF_OK)
        rc = rf_rec_check(rec, "linearizable", RF_REC_PASS, "120 operations", -1);
    if (rc == RF_OK)
        rc = rf_rec_check(rec, "leader in every group within 1s after heal", RF_REC_PASS,
                          "worst 0.4 s", -1);
    return rc;
}

int64_t fixture_write_history(const char *path)
{
    rf_rec *rec = NULL;
    char err[256];
    if (rf_rec_open(&rec, path, err, sizeof err) != RF_OK)
        return -1;
    rf_rec_run_info info = {.scenario = "fixture.scn", .seed = 7, .build = "test",
                            .started_unix_s = 1700000000};
    int64_t run = -1;
    int rc = rf_rec_run_begin(rec, &info, &run);
    if (rc == RF_OK)
        rc = fx_run(rec);
    rf_rec_run_end_info end = {.outcome = RF_REC_PASS, .trace_hash = 0x0123456789abcdefULL,
                               .end_ns = 6000 * MS, .wall_ns = 12 * MS};
    if (rc == RF_OK)
        rc = rf_rec_run_end(rec, &end);
    rf_rec_close(rec);
    return rc == RF_OK ? run : -1;
}

int fixture_tmpdir(char *out, unsigned len)
{
    snprintf(out, len, "/tmp/rf-report-XXXXXX");
    return mkdtemp(out) != NULL ? 0 : -1;
}

void fixture_rmdir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fixture: could not remove %s\n", dir);
}

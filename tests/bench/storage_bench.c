/* storage_bench: entries/s appended and synced by rf_store vs SQLite, and recovery of 1 GiB. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/rf_err.h"
#include "prod/posix_fs.h"
#include "storage/rf_store.h"

#define GROUPS 64
#define BATCH_ENTRIES 1000
#define PAYLOAD_BYTES 32
#define RUN_SECONDS 4.0
#define SLICES 8
#define SLICE_SECONDS 0.5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "storage_bench: %s: %s\n", what, rf_strerror(rc));
    exit(1);
}

/* Removes every file of a flat directory, then the directory. */
static void remove_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "storage_bench: could not remove %s\n", dir);
}

typedef struct workload {
    uint64_t next_index[GROUPS];
    uint64_t counter;
} workload;

static void fill_payload(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < PAYLOAD_BYTES; i += 8)
        memcpy(p + i, &v, 8), v = v * 6364136223846793005ull + 1442695040888963407ull;
}

/* Adds `entries` entries to b, spread round-robin over the groups. */
static void add_entries(workload *w, rf_batch *b, int entries)
{
    unsigned char payload[PAYLOAD_BYTES];
    for (int i = 0; i < entries; i++) {
        uint64_t g = w->counter++ % GROUPS;
        fill_payload(payload, w->counter);
        int rc = rf_batch_entry(b, g + 1, ++w->next_index[g], 1, payload, sizeof payload);
        if (rc != RF_OK)
            die("batch", rc);
    }
}

/* One batch of `entries` entries. */
static void build_batch(workload *w, rf_batch *b, int entries)
{
    rf_batch_reset(b);
    add_entries(w, b, entries);
}

static rf_store *open_store(const char *dir, rf_posix_fs **pfs, rf_store_recovery *info)
{
    int rc = rf_posix_fs_open(pfs, dir, true);
    if (rc != RF_OK)
        die(dir, rc);
    rf_fs fs = rf_posix_fs_fs(*pfs);
    rf_store_config cfg = {.cache_bytes = 8u << 20};
    rf_store *st;
    rc = rf_store_open(&st, &fs, &cfg, info);
    if (rc != RF_OK) {
        fprintf(stderr, "storage_bench: open: %s\n", info->message);
        exit(1);
    }
    return st;
}

/* A system under test, run in slices so that rf_store and SQLite take
 * turns on the disk: on a shared disk whose fdatasync latency drifts by
 * an order of magnitude within a minute, back-to-back runs would compare
 * the disk's moods rather than the two stores. */
typedef struct run {
    uint64_t entries;
    double wall_s;
    double cpu_s;
} run;

typedef struct store_run {
    run r;
    rf_posix_fs *pfs;
    rf_store *st;
    workload w;
    rf_batch b;
} store_run;

static void store_run_open(store_run *sr, const char *dir)
{
    memset(sr, 0, sizeof *sr);
    remove_dir(dir);
    rf_store_recovery info;
    sr->st = open_store(dir, &sr->pfs, &info);
    rf_batch_init(&sr->b);
}

static void store_run_slice(store_run *sr, double seconds)
{
    double c0 = cpu_s(), t0 = now_s(), t;
    do {
        build_batch(&sr->w, &sr->b, BATCH_ENTRIES);
        int rc = rf_store_commit(sr->st, &sr->b);
        if (rc != RF_OK)
            die("commit", rc);
        sr->r.entries += BATCH_ENTRIES;
        t = now_s();
    } while (t - t0 < seconds);
    sr->r.wall_s += t - t0;
    sr->r.cpu_s += cpu_s() - c0;
}

static void store_run_close(store_run *sr, const char *dir)
{
    rf_batch_close(&sr->b);
    rf_store_close(sr->st);
    rf_posix_fs_close(sr->pfs);
    remove_dir(dir);
}

/* The prod driver's shape (rf_store.h threading contract): the owner
 * thread produces node steps of 1000 entries; a worker thread runs the
 * commit's I/O; steps produced while a commit is in flight accumulate
 * into the next batch (at most STEPS_MAX), so one fdatasync covers them. */
#define STEPS_MAX 64

typedef struct worker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state; /* 0 idle, 1 run requested, 2 done, 3 quit */
    rf_store *st;
} worker;

static void *worker_main(void *arg)
{
    worker *wk = arg;
    pthread_mutex_lock(&wk->mu);
    for (;;) {
        while (wk->state != 1 && wk->state != 3)
            pthread_cond_wait(&wk->cv, &wk->mu);
        if (wk->state == 3)
            break;
        pthread_mutex_unlock(&wk->mu);
        rf_store_io_run(wk->st);
        pthread_mutex_lock(&wk->mu);
        wk->state = 2;
        pthread_cond_broadcast(&wk->cv);
    }
    pthread_mutex_unlock(&wk->mu);
    return NULL;
}

static void set_state(worker *wk, int state)
{
    pthread_mutex_lock(&wk->mu);
    wk->state = state;
    pthread_cond_broadcast(&wk->cv);
    pthread_mutex_unlock(&wk->mu);
}

/* Waits for the in-flight commit when `block`; true when it has ended. */
static bool reap(worker *wk, bool block)
{
    pthread_mutex_lock(&wk->mu);
    while (block && wk->state != 2)
        pthread_cond_wait(&wk->cv, &wk->mu);
    bool done = wk->state == 2;
    if (done)
        wk->state = 0;
    pthread_mutex_unlock(&wk->mu);
    if (done) {
        int rc = rf_store_commit_end(wk->st);
        if (rc != RF_OK)
            die("commit", rc);
    }
    return done;
}

static double bench_pipelined(const char *dir, uint64_t *entries_out, double *steps_per_sync)
{
    remove_dir(dir);
    rf_posix_fs *pfs;
    rf_store_recovery info;
    worker wk = {.state = 0};
    pthread_mutex_init(&wk.mu, NULL);
    pthread_cond_init(&wk.cv, NULL);
    wk.st = open_store(dir, &pfs, &info);
    pthread_t th;
    pthread_create(&th, NULL, worker_main, &wk);
    workload w = {0};
    rf_batch batches[2];
    rf_batch_init(&batches[0]);
    rf_batch_init(&batches[1]);
    rf_batch *acc = &batches[0], *flight = &batches[1];
    uint64_t durable = 0, in_flight = 0, acc_steps = 0, syncs = 0;
    double t0 = now_s(), t;
    do {
        if (acc_steps < STEPS_MAX) {
            add_entries(&w, acc, BATCH_ENTRIES);
            acc_steps++;
        }
        if (in_flight > 0 && reap(&wk, acc_steps == STEPS_MAX)) {
            durable += in_flight;
            in_flight = 0;
        }
        if (in_flight == 0 && acc_steps > 0) {
            int rc = rf_store_commit_begin(wk.st, acc);
            if (rc != RF_OK)
                die("commit begin", rc);
            rf_batch *tmp = flight; /* the store keeps using *acc until the end */
            flight = acc;
            acc = tmp;
            rf_batch_reset(acc);
            in_flight = acc_steps * BATCH_ENTRIES;
            acc_steps = 0;
            syncs++;
            set_state(&wk, 1);
        }
        t = now_s();
    } while (t - t0 < RUN_SECONDS);
    if (in_flight > 0 && reap(&wk, true))
        durable += in_flight;
    t = now_s();
    set_state(&wk, 3);
    pthread_join(th, NULL);
    rf_batch_close(&batches[0]);
    rf_batch_close(&batches[1]);
    rf_store_close(wk.st);
    rf_posix_fs_close(pfs);
    remove_dir(dir);
    *entries_out = durable;
    *steps_per_sync = (double)durable / BATCH_ENTRIES / (double)syncs;
    return (double)durable / (t - t0);
}

static void sql(sqlite3 *db, const char *s)
{
    char *err = NULL;
    if (sqlite3_exec(db, s, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "storage_bench: sqlite: %s: %s\n", s, err);
        exit(1);
    }
}

/* The same workload as rows (group, index, term, payload), WAL mode,
 * synchronous=FULL, one transaction per batch; keyed by (group, index) as
 * a log store needs for reads, or a plain rowid table for context. */
typedef struct sqlite_run {
    run r;
    sqlite3 *db;
    sqlite3_stmt *ins;
    uint64_t next[GROUPS];
    uint64_t counter;
} sqlite_run;

static void sqlite_run_open(sqlite_run *q, const char *dir, bool keyed)
{
    memset(q, 0, sizeof *q);
    remove_dir(dir);
    mkdir(dir, 0755);
    char path[600];
    snprintf(path, sizeof path, "%s/log.db", dir);
    if (sqlite3_open(path, &q->db) != SQLITE_OK)
        die("sqlite open", RF_EIO);
    sql(q->db, "PRAGMA journal_mode=WAL");
    sql(q->db, "PRAGMA synchronous=FULL");
    if (keyed)
        sql(q->db, "CREATE TABLE log(grp INTEGER, idx INTEGER, term INTEGER, data BLOB, "
                   "PRIMARY KEY(grp, idx)) WITHOUT ROWID");
    else
        sql(q->db, "CREATE TABLE log(grp INTEGER, idx INTEGER, term INTEGER, data BLOB)");
    if (sqlite3_prepare_v2(q->db, "INSERT INTO log VALUES(?,?,?,?)", -1, &q->ins, NULL) !=
        SQLITE_OK)
        die("sqlite prepare", RF_EIO);
}

static void sqlite_run_slice(sqlite_run *q, double seconds)
{
    unsigned char payload[PAYLOAD_BYTES];
    double c0 = cpu_s(), t0 = now_s(), t;
    do {
        sql(q->db, "BEGIN");
        for (int i = 0; i < BATCH_ENTRIES; i++) {
            uint64_t g = q->counter++ % GROUPS;
            fill_payload(payload, q->counter);
            sqlite3_bind_int64(q->ins, 1, (sqlite3_int64)g + 1);
            sqlite3_bind_int64(q->ins, 2, (sqlite3_int64)++q->next[g]);
            sqlite3_bind_int64(q->ins, 3, 1);
            sqlite3_bind_blob(q->ins, 4, payload, PAYLOAD_BYTES, SQLITE_STATIC);
            if (sqlite3_step(q->ins) != SQLITE_DONE)
                die("sqlite insert", RF_EIO);
            sqlite3_reset(q->ins);
        }
        sql(q->db, "COMMIT");
        q->r.entries += BATCH_ENTRIES;
        t = now_s();
    } while (t - t0 < seconds);
    q->r.wall_s += t - t0;
    q->r.cpu_s += cpu_s() - c0;
}

static void sqlite_run_close(sqlite_run *q, const char *dir)
{
    sqlite3_finalize(q->ins);
    sqlite3_close(q->db);
    remove_dir(dir);
}

static double rate(const run *r)
{
    return (double)r->entries / r->wall_s;
}

static double cpu_ns(const run *r)
{
    return r->cpu_s * 1e9 / (double)r->entries;
}

/* Writes 1 GiB of log (batches of 10,000 entries to get there sooner),
 * then times rf_store_open, the whole recovery scan. */
static void bench_recovery(const char *dir)
{
    remove_dir(dir);
    rf_posix_fs *pfs;
    rf_store_recovery info;
    rf_store *st = open_store(dir, &pfs, &info);
    workload w = {0};
    rf_batch b;
    rf_batch_init(&b);
    rf_store_stats s;
    do {
        build_batch(&w, &b, 10 * BATCH_ENTRIES);
        int rc = rf_store_commit(st, &b);
        if (rc != RF_OK)
            die("commit", rc);
        rf_store_stats_get(st, &s);
    } while (s.disk_bytes < (1ull << 30));
    rf_batch_close(&b);
    rf_store_close(st);
    rf_posix_fs_close(pfs);
    double t0 = now_s();
    st = open_store(dir, &pfs, &info);
    double dt = now_s() - t0;
    rf_store_stats_get(st, &s);
    printf("bench storage.recovery_1gib %.2f s (%.0f MiB in %" PRIu64 " segments, %.1fM entries, "
           "index %.0f MiB, page cache warm)\n",
           dt, (double)s.disk_bytes / (1 << 20), s.segments, (double)s.entries / 1e6,
           (double)s.index_bytes / (1 << 20));
    rf_store_close(st);
    rf_posix_fs_close(pfs);
    remove_dir(dir);
}

int main(void)
{
    const char *build = getenv("RF_BUILD");
    char base[256], dir[300];
    snprintf(base, sizeof base, "%s/tmp", build != NULL ? build : "build");
    mkdir(base, 0755);
    char d_store[300], d_keyed[300], d_rowid[300];
    snprintf(d_store, sizeof d_store, "%s/storage_bench_wal", base);
    snprintf(d_keyed, sizeof d_keyed, "%s/storage_bench_sqlite", base);
    snprintf(d_rowid, sizeof d_rowid, "%s/storage_bench_sqlite_rowid", base);
    store_run sr;
    sqlite_run keyed, rowid;
    store_run_open(&sr, d_store);
    sqlite_run_open(&keyed, d_keyed, true);
    sqlite_run_open(&rowid, d_rowid, false);
    for (int slice = 0; slice < SLICES; slice++) {
        store_run_slice(&sr, SLICE_SECONDS);
        sqlite_run_slice(&keyed, SLICE_SECONDS);
        sqlite_run_slice(&rowid, SLICE_SECONDS);
    }
    store_run_close(&sr, d_store);
    sqlite_run_close(&keyed, d_keyed);
    sqlite_run_close(&rowid, d_rowid);
    printf("bench storage.append_rate %.0f entries/s (32-byte payloads, batches of 1000 across "
           "64 groups, one append + fdatasync per batch, %" PRIu64 " entries, files in %s; "
           "%d slices of %.1f s taking turns with SQLite)\n",
           rate(&sr.r), sr.r.entries, base, SLICES, SLICE_SECONDS);
    printf("bench storage.sqlite_rate %.0f entries/s (same workload: WAL, synchronous=FULL, "
           "one transaction per batch, key (group, index))\n",
           rate(&keyed.r));
    printf("bench storage.ratio %.2f x (rf_store / SQLite; target >= 3)\n",
           rate(&sr.r) / rate(&keyed.r));
    printf("bench storage.sqlite_rate_rowid %.0f entries/s (same, rows appended to a plain rowid "
           "table without the (group, index) key, which a log store needs for reads; "
           "rf_store / this = %.2f x)\n",
           rate(&rowid.r), rate(&sr.r) / rate(&rowid.r));
    printf("bench storage.append_cpu %.0f ns/entry (process CPU time, user + system; SQLite "
           "keyed %.0f, rowid %.0f ns/entry; the rest of the wall time is fdatasync)\n",
           cpu_ns(&sr.r), cpu_ns(&keyed.r), cpu_ns(&rowid.r));
    printf("bench storage.batch_ms %.2f ms (wall time per 1000-entry batch, of which %.2f ms "
           "CPU: the disk's fdatasync latency bounds append_rate at 1000 / batch_ms)\n",
           sr.r.wall_s * 1e3 * BATCH_ENTRIES / (double)sr.r.entries,
           sr.r.cpu_s * 1e3 * BATCH_ENTRIES / (double)sr.r.entries);
    uint64_t n_pipe;
    double steps;
    snprintf(dir, sizeof dir, "%s/storage_bench_pipe", base);
    double r_pipe = bench_pipelined(dir, &n_pipe, &steps);
    printf("bench storage.append_rate_pipelined %.0f entries/s (steps of 1000 entries across 64 "
           "groups; a worker thread runs each commit's I/O while the next steps accumulate: "
           "%.1f steps per fdatasync on average)\n",
           r_pipe, steps);
    snprintf(dir, sizeof dir, "%s/storage_bench_recovery", base);
    bench_recovery(dir);
    return 0;
}

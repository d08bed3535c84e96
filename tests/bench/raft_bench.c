/* raft_bench: commit rate of a 3-member group in memory, bytes allocated per command, idle memory. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rf_err.h"
#include "raft/raft.h"

/* A counting allocator: a size header in front of every block. */
typedef struct counts {
    uint64_t allocated; /* bytes ever requested */
    int64_t live;       /* bytes held now */
} counts;

static void *c_alloc(void *ctx, size_t n)
{
    counts *c = ctx;
    size_t *p = malloc(n + 16);
    if (!p)
        return NULL;
    *p = n;
    c->allocated += n;
    c->live += (int64_t)n;
    return (char *)p + 16;
}

static void c_free(void *ctx, void *q)
{
    if (!q)
        return;
    counts *c = ctx;
    size_t *p = (size_t *)((char *)q - 16);
    c->live -= (int64_t)*p;
    free(p);
}

static void *c_realloc(void *ctx, void *q, size_t n)
{
    counts *c = ctx;
    if (!q)
        return c_alloc(ctx, n);
    size_t *p = (size_t *)((char *)q - 16);
    size_t old = *p;
    size_t *np = realloc(p, n + 16);
    if (!np)
        return NULL;
    *np = n;
    c->allocated += n > old ? n - old : 0;
    c->live += (int64_t)n - (int64_t)old;
    return (char *)np + 16;
}

#define N 3
static rf_raft *g[N + 1];
static counts g_counts[N + 1];
static rf_allocator g_alloc[N + 1];
static uint64_t g_now;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this (single-threaded) process: the work done on one core,
 * whatever else the machine runs meanwhile. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One pass over every member: messages go straight to their target
 * (before the sender's advance, while its pointers are valid), and every
 * write is durable at once. Returns whether anything happened. */
static int g_encode; /* send encoded bytes (as the simulator and prod do) */
static uint8_t *g_wire;
static size_t g_wire_cap;

static void deliver(const rf_send *s)
{
    if (!g_encode) {
        rf_raft_receive(g[s->to], &s->msg);
        return;
    }
    size_t need = rf_msg_encoded_size(&s->msg), len = 0;
    if (need > g_wire_cap) {
        uint8_t *nb = realloc(g_wire, need * 2);
        if (!nb)
            return;
        g_wire = nb;
        g_wire_cap = need * 2;
    }
    if (rf_msg_encode(&s->msg, g_wire, g_wire_cap, &len) == RF_OK)
        rf_raft_receive_bytes(g[s->to], g_wire, len);
}

static int pump(void)
{
    int any = 0;
    for (int i = 1; i <= N; i++) {
        if (!rf_raft_has_ready(g[i]))
            continue;
        any = 1;
        rf_ready rd;
        rf_raft_ready(g[i], &rd);
        for (size_t k = 0; k < rd.n_msgs; k++)
            deliver(&rd.msgs[k]);
        uint64_t tok = rd.persist_token;
        rf_raft_advance(g[i]);
        if (tok)
            rf_raft_persisted(g[i], tok);
    }
    return any;
}

static void tick_all(uint64_t ns)
{
    g_now += ns;
    for (int i = 1; i <= N; i++)
        rf_raft_tick(g[i], g_now);
    while (pump())
        ;
}

static int setup(uint32_t batch)
{
    rf_membership m = {.count = N};
    for (uint32_t i = 0; i < N; i++)
        m.members[i] = (rf_member){i + 1, 1};
    for (int i = 1; i <= N; i++) {
        memset(&g_counts[i], 0, sizeof(g_counts[i]));
        g_alloc[i] = (rf_allocator){c_alloc, c_realloc, c_free, &g_counts[i]};
        rf_raft_config c;
        rf_raft_config_defaults(&c);
        c.group_id = 1;
        c.node_id = (uint64_t)i;
        c.model = &rf_model_int;
        c.allocator = &g_alloc[i];
        c.append_entries_max = batch * 4;
        c.inflight_max = 8;
        rf_pcg32_seed(&c.rng, 7, (uint64_t)i);
        if (rf_raft_bootstrap(&c, &m, &g[i]) != RF_OK)
            return -1;
    }
    g_now = 0;
    for (int k = 0; k < 400; k++)
        tick_all(10u * 1000u * 1000u);
    for (int i = 1; i <= N; i++)
        if (rf_raft_role(g[i]) == RF_ROLE_LEADER)
            return i;
    return -1;
}

static void teardown(void)
{
    for (int i = 1; i <= N; i++) {
        rf_raft_close(g[i]);
        g[i] = NULL;
    }
}

static void bench_commit(uint32_t batch, uint64_t total)
{
    int l = setup(batch);
    if (l < 0) {
        printf("bench raft.commit_rate 0 cmd/s (no leader elected)\n");
        return;
    }
    static const uint8_t cmd[] = "inc";
    uint64_t base = rf_raft_applied_index(g[l]);
    uint64_t seq[16] = {0};
    uint64_t alloc0 = 0;
    for (int i = 1; i <= N; i++)
        alloc0 += g_counts[i].allocated;
    double t0 = now_s(), c0 = cpu_s();
    uint64_t proposed = 0;
    while (proposed < total) {
        /* A client's floor: its first command of this batch (the earlier
         * ones were answered by the pump). */
        uint64_t floor[16];
        for (int c = 0; c < 16; c++)
            floor[c] = seq[c] + 1;
        for (uint32_t b = 0; b < batch; b++, proposed++) {
            uint64_t client = 1 + (proposed & 15);
            uint64_t s = ++seq[client - 1];
            rf_raft_propose(g[l], proposed, client, s, floor[client - 1], cmd, 3);
        }
        while (pump())
            ;
    }
    double dt = now_s() - t0, dc = cpu_s() - c0;
    uint64_t applied = rf_raft_applied_index(g[l]) - base;
    uint64_t alloc1 = 0;
    for (int i = 1; i <= N; i++)
        alloc1 += g_counts[i].allocated;
    int all = 1;
    for (int i = 1; i <= N; i++)
        all &= rf_raft_applied_index(g[i]) == rf_raft_applied_index(g[l]);
    printf("bench raft.commit_rate%s %.0f cmd/s (3 members, in memory, batch %u, int model \"inc\", "
           "%s, %llu commands, per second of CPU time on one core; wall clock %.0f cmd/s%s)\n",
           g_encode ? "_encoded" : "", (double)applied / dc, batch,
           g_encode ? "messages encoded and decoded" : "messages passed as structs",
           (unsigned long long)applied, (double)applied / dt,
           all ? ", all members applied" : ", MEMBERS DIFFER");
    if (!g_encode)
        printf("bench raft.alloc_per_cmd %.1f bytes/cmd (all 3 members' raft allocations, "
               "model excluded, batch %u)\n",
               (double)(alloc1 - alloc0) / (double)applied, batch);
    teardown();
}

static void bench_idle(void)
{
    int l = setup(64);
    if (l < 0)
        return;
    static const uint8_t cmd[] = "inc";
    for (uint64_t i = 1; i <= 100; i++)
        rf_raft_propose(g[l], i, 1, i, i, cmd, 3);
    while (pump())
        ;
    for (int k = 0; k < 1000; k++) /* 10 s of idle heartbeats */
        tick_all(10u * 1000u * 1000u);
    int64_t live = 0;
    size_t self = 0;
    for (int i = 1; i <= N; i++) {
        live += g_counts[i].live;
        self += rf_raft_memory(g[i]);
    }
    printf("bench raft.idle_group_bytes %lld bytes/member (live allocations after 10 s idle, "
           "3-member group, model state excluded; rf_raft_memory says %zu)\n",
           (long long)(live / N), self / N);
    teardown();
}

int main(void)
{
    bench_commit(64, 2000000);
    bench_commit(256, 2000000);
    g_encode = 1;
    bench_commit(64, 2000000);
    g_encode = 0;
    free(g_wire);
    bench_idle();
    return 0;
}

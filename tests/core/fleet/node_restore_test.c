/* node_restore_test: rf_node's durable state in core/storage, written batch by batch and restored after restarts. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "base/rf_le.h"
#include "base/rf_pcg.h"
#include "fleet/node_int.h"
#include "fleet/rf_node.h"
#include "fleet/node_store_int.h"
#include "fleet/rf_node_store.h"
#include "sim/simdisk.h"
#include "storage/rf_store.h"
#include "tests/core/fleet/fleet_helpers.h"

#define MS (1000ull * 1000ull)
#define NODES_MAX 3
#define QUEUE_MAX 4096
#define REPLY_MAX 128

/* A tiny synchronous driver: every batch is committed to the node's store
 * before its messages leave; messages are delivered in order, at once. */
typedef struct tnode {
    rf_node *n;
    rf_simdisk *disk;
    rf_store *st;
    rf_batch bt;
    rf_node_store_buf buf;
} tnode;

typedef struct tmsg {
    uint64_t from, to;
    uint8_t *data;
    size_t len;
} tmsg;

typedef struct tcluster {
    tnode nodes[NODES_MAX];
    uint32_t count;
    uint64_t now;
    tmsg q[QUEUE_MAX];
    size_t qn;
    uint64_t want_req;
    bool got;
    int status;
    char reply[REPLY_MAX];
    const rf_model *const *models;
    uint32_t n_models;
} tcluster;

static rf_node_config node_cfg(const tcluster *c, uint32_t i, char *name)
{
    rf_node_config cfg;
    rf_node_config_defaults(&cfg);
    snprintf(name, 8, "n%u", i + 1);
    cfg.node_id = i + 1;
    cfg.name = name;
    cfg.seed = 7;
    cfg.raft.election_timeout_ns = 100 * MS;
    cfg.raft.heartbeat_interval_ns = 20 * MS;
    cfg.raft.lease_drift_ns = 20 * MS;
    cfg.raft.transfer_timeout_ns = 300 * MS;
    cfg.rebalance_interval_ns = 200 * MS;
    cfg.attempt_timeout_ns = 300 * MS;
    cfg.retry_interval_ns = 100 * MS;
    cfg.retries_max = 5;
    cfg.quiesce_after_ns = 500 * MS;
    if (c->models != NULL) {
        cfg.models = c->models;
        cfg.n_models = c->n_models;
    }
    return cfg;
}

static void store_open(tnode *t)
{
    rf_fs fs = rf_simdisk_fs(t->disk);
    rf_store_config sc = {.segment_bytes = 1u << 20, .cache_bytes = 0, .groups_max = 0};
    rf_store_recovery info;
    int rc = rf_store_open(&t->st, &fs, &sc, &info);
    ck_assert_msg(rc == RF_OK, "store refused: %s", info.message);
}

/* Opens node i: restored from its disk, or new when the disk holds none. */
static int node_start(tcluster *c, uint32_t i, rf_node_restore_info *info)
{
    tnode *t = &c->nodes[i];
    char name[8];
    rf_node_config cfg = node_cfg(c, i, name);
    store_open(t);
    rf_batch_init(&t->bt);
    rf_node_store_buf_init(&t->buf);
    int rc = rf_node_restore(&cfg, t->st, &t->n, info);
    if (rc == RF_ENOTFOUND)
        rc = rf_node_create(&cfg, &t->n);
    if (rc == RF_OK)
        rf_node_tick(t->n, c->now);
    return rc;
}

static void node_stop(tcluster *c, uint32_t i, bool power_loss)
{
    tnode *t = &c->nodes[i];
    rf_node_close(t->n);
    t->n = NULL;
    rf_store_close(t->st);
    t->st = NULL;
    rf_batch_close(&t->bt);
    rf_node_store_buf_close(&t->buf);
    if (power_loss)
        rf_simdisk_crash(t->disk);
}

static void cluster_init(tcluster *c, uint32_t count)
{
    memset(c, 0, sizeof *c);
    c->count = count;
    for (uint32_t i = 0; i < count; i++) {
        rf_pcg32 rng;
        rf_pcg32_seed(&rng, 99 + i, 1);
        c->nodes[i].disk = rf_simdisk_new(&rng);
        rf_node_restore_info info;
        ck_assert_int_eq(node_start(c, i, &info), RF_OK);
    }
}

static void cluster_close(tcluster *c)
{
    for (uint32_t i = 0; i < c->count; i++) {
        if (c->nodes[i].st != NULL)
            node_stop(c, i, false);
        rf_simdisk_free(c->nodes[i].disk);
    }
    for (size_t i = 0; i < c->qn; i++)
        free(c->q[i].data);
}

static void drain(tcluster *c, uint32_t i)
{
    tnode *t = &c->nodes[i];
    while (t->n != NULL && rf_node_has_ready(t->n)) {
        rf_node_batch rd;
        rf_node_ready(t->n, &rd);
        if (rd.persist_token != 0) {
            ck_assert_int_eq(rf_node_store_add(&t->bt, &t->buf, &rd), RF_OK);
            ck_assert_int_eq(rf_store_commit(t->st, &t->bt), RF_OK);
            rf_batch_reset(&t->bt);
            rf_node_store_buf_release(&t->buf);
        }
        for (size_t k = 0; k < rd.n_envelopes && c->qn < QUEUE_MAX; k++) {
            tmsg *m = &c->q[c->qn++];
            m->from = i + 1;
            m->to = rd.envelopes[k].to;
            m->len = rd.envelopes[k].len;
            m->data = malloc(m->len);
            memcpy(m->data, rd.envelopes[k].data, m->len);
        }
        for (size_t k = 0; k < rd.n_replies; k++)
            if (rd.replies[k].request_id == c->want_req) {
                c->got = true;
                c->status = rd.replies[k].status;
                size_t l = rd.replies[k].len < REPLY_MAX - 1 ? rd.replies[k].len : REPLY_MAX - 1;
                if (l > 0)
                    memcpy(c->reply, rd.replies[k].data, l);
                c->reply[l] = 0;
            }
        rf_node_advance(t->n);
        if (rd.persist_token != 0)
            rf_node_persisted(t->n, rd.persist_token);
    }
}

/* One millisecond: deliver what is queued, tick every 10 ms. */
static void step(tcluster *c)
{
    c->now += MS;
    for (uint32_t i = 0; i < c->count; i++)
        drain(c, i);
    size_t n = c->qn;
    for (size_t k = 0; k < n; k++) {
        tmsg *m = &c->q[k];
        tnode *t = m->to >= 1 && m->to <= c->count ? &c->nodes[m->to - 1] : NULL;
        if (t != NULL && t->n != NULL)
            (void)rf_node_receive(t->n, m->from, m->data, m->len);
        free(m->data);
    }
    memmove(c->q, c->q + n, (c->qn - n) * sizeof *c->q);
    c->qn -= n;
    if (c->now % (10 * MS) == 0)
        for (uint32_t i = 0; i < c->count; i++)
            if (c->nodes[i].n != NULL)
                rf_node_tick(c->nodes[i].n, c->now);
    for (uint32_t i = 0; i < c->count; i++)
        drain(c, i);
}

static void run_ms(tcluster *c, uint64_t ms)
{
    for (uint64_t i = 0; i < ms; i++)
        step(c);
}

static uint64_t next_req = 1;

/* Waits up to 5 s for the reply to the request just made. */
static int await(tcluster *c, uint64_t req)
{
    c->want_req = req;
    c->got = false;
    for (int i = 0; i < 5000 && !c->got; i++)
        step(c);
    ck_assert_msg(c->got, "request %llu got no reply", (unsigned long long)req);
    return c->status;
}

static int activate(tcluster *c, uint32_t i, const char *zone, uint64_t via)
{
    uint64_t r = next_req++;
    (void)rf_node_activate(c->nodes[i].n, r, zone, via);
    return await(c, r);
}

static int add_group(tcluster *c, uint32_t i, const char *name, uint32_t replicas,
                     const char *model)
{
    uint64_t r = next_req++;
    (void)rf_node_add_group(c->nodes[i].n, r, name, replicas, model);
    return await(c, r);
}

static int command(tcluster *c, uint32_t i, const char *group, const char *cmd)
{
    uint64_t r = next_req++;
    (void)rf_node_command(c->nodes[i].n, r, group, (const uint8_t *)cmd, strlen(cmd));
    return await(c, r);
}

static int query(tcluster *c, uint32_t i, const char *group, const char *q)
{
    uint64_t r = next_req++;
    (void)rf_node_query(c->nodes[i].n, r, group, (const uint8_t *)q, strlen(q));
    return await(c, r);
}

START_TEST(test_fresh_store_holds_no_node)
{
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 1, 1);
    tnode t;
    memset(&t, 0, sizeof t);
    t.disk = rf_simdisk_new(&rng);
    store_open(&t);
    tcluster c;
    memset(&c, 0, sizeof c);
    char name[8];
    rf_node_config cfg = node_cfg(&c, 0, name);
    rf_node_restore_info info;
    rf_node *n = NULL;
    ck_assert_int_eq(rf_node_restore(&cfg, t.st, &n, &info), RF_ENOTFOUND);
    ck_assert_ptr_null(n);
    rf_store_close(t.st);
    rf_simdisk_free(t.disk);
}
END_TEST

/* The whole state survives a clean stop: members, terms, logs, values;
 * and commands made after the restart are new commands, not retries of
 * the previous life's (client ids carry the incarnation). */
/* Stored entries: the head of this build (version 2, with the session's
 * floor) and the one of earlier builds (version 1, no floor) both decode;
 * a head cut short does not. */
START_TEST(test_store_entry_heads_of_both_versions_decode)
{
    uint8_t d[32];
    rf_entry e;
    memset(d, 0, sizeof d);
    d[0] = RF_ENTRY_COMMAND | NODE_STORE_ENTRY_V2;
    rf_le_put64(d + 1, 5);
    rf_le_put64(d + 9, 9);
    rf_le_put64(d + 17, 7);
    memcpy(d + 25, "inc", 3);
    ck_assert_int_eq(rf_node__store_entry_decode(d, 28, 4, 2, &e), RF_OK);
    ck_assert_uint_eq(e.kind, RF_ENTRY_COMMAND);
    ck_assert_uint_eq(e.client_id, 5);
    ck_assert_uint_eq(e.sequence, 9);
    ck_assert_uint_eq(e.floor, 7);
    ck_assert_uint_eq(e.len, 3);
    ck_assert_mem_eq(e.data, "inc", 3);
    ck_assert_int_eq(rf_node__store_entry_decode(d, 24, 4, 2, &e), RF_EBADMSG);
    d[0] = RF_ENTRY_COMMAND; /* version 1: the payload right after the sequence */
    memcpy(d + 17, "inc", 3);
    ck_assert_int_eq(rf_node__store_entry_decode(d, 20, 4, 2, &e), RF_OK);
    ck_assert_uint_eq(e.client_id, 5);
    ck_assert_uint_eq(e.sequence, 9);
    ck_assert_uint_eq(e.floor, 0);
    ck_assert_uint_eq(e.len, 3);
    ck_assert_mem_eq(e.data, "inc", 3);
    ck_assert_int_eq(rf_node__store_entry_decode(d, 16, 4, 2, &e), RF_EBADMSG);
    d[0] = 9 | NODE_STORE_ENTRY_V2; /* no such kind */
    ck_assert_int_eq(rf_node__store_entry_decode(d, 28, 4, 2, &e), RF_EBADMSG);
}
END_TEST

START_TEST(test_single_node_restarts_with_its_groups_and_values)
{
    tcluster c;
    cluster_init(&c, 1);
    ck_assert_int_eq(activate(&c, 0, "zone1", 0), RF_OK);
    ck_assert_int_eq(add_group(&c, 0, "a", 1, "int"), RF_OK);
    ck_assert_int_eq(add_group(&c, 0, "b", 1, "kv"), RF_OK);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(command(&c, 0, "a", "inc"), RF_OK);
    ck_assert_int_eq(command(&c, 0, "b", "put k v1"), RF_OK);
    size_t groups = rf_node_group_count(c.nodes[0].n);
    ck_assert_uint_eq(groups, 3); /* metadata, a, b */
    uint64_t terms[3], lasts[3];
    for (size_t i = 0; i < groups; i++) {
        terms[i] = rf_raft_term(rf_node_group_at(c.nodes[0].n, i));
        lasts[i] = rf_raft_last_index(rf_node_group_at(c.nodes[0].n, i));
    }
    node_stop(&c, 0, false);

    rf_node_restore_info info;
    ck_assert_int_eq(node_start(&c, 0, &info), RF_OK);
    ck_assert_uint_eq(info.incarnation, 2);
    ck_assert_uint_eq(info.groups, 3);
    ck_assert_uint_gt(info.entries, 7);
    ck_assert_uint_eq(rf_node_group_count(c.nodes[0].n), 3);
    for (size_t i = 0; i < groups; i++) {
        ck_assert_uint_eq(rf_raft_term(rf_node_group_at(c.nodes[0].n, i)), terms[i]);
        ck_assert_uint_eq(rf_raft_last_index(rf_node_group_at(c.nodes[0].n, i)), lasts[i]);
    }
    ck_assert_int_eq(query(&c, 0, "a", "get"), RF_OK);
    ck_assert_str_eq(c.reply, "5");
    for (int i = 5; i < 20; i++) { /* request numbers of the last life come again */
        char want[16];
        snprintf(want, sizeof want, "%d", i);
        ck_assert_int_eq(command(&c, 0, "a", "inc"), RF_OK);
        ck_assert_str_eq(c.reply, want); /* the old value: a new command, applied */
    }
    ck_assert_int_eq(query(&c, 0, "a", "get"), RF_OK);
    ck_assert_str_eq(c.reply, "20");
    ck_assert_int_eq(query(&c, 0, "b", "get k"), RF_OK);
    ck_assert_str_eq(c.reply, "v1");
    rf_node_counters ctr;
    rf_node_counters_get(c.nodes[0].n, &ctr);
    ck_assert_uint_eq(ctr.groups_started, 0); /* nothing bootstrapped a second time */

    node_stop(&c, 0, false); /* and once more: incarnation 3 */
    ck_assert_int_eq(node_start(&c, 0, &info), RF_OK);
    ck_assert_uint_eq(info.incarnation, 3);
    ck_assert_int_eq(query(&c, 0, "a", "get"), RF_OK);
    ck_assert_str_eq(c.reply, "20");
    cluster_close(&c);
}
END_TEST

/* Three nodes; one loses power and comes back: every acknowledged inc is
 * there, on the restarted node's own replica too. */
START_TEST(test_member_restarts_after_power_loss_without_losing_acks)
{
    tcluster c;
    cluster_init(&c, 3);
    static const char *zones[] = {"zone1", "zone2", "zone3"};
    for (uint32_t i = 0; i < 3; i++)
        ck_assert_int_eq(activate(&c, i, zones[i], i == 0 ? 0 : 1), RF_OK);
    ck_assert_int_eq(add_group(&c, 0, "g", 3, "int"), RF_OK);
    run_ms(&c, 2000); /* grows to three voters */
    int acked = 0;
    for (int i = 0; i < 10; i++)
        acked += command(&c, (uint32_t)i % 3, "g", "inc") == RF_OK;
    ck_assert_int_eq(acked, 10);
    uint64_t gid = 0;
    rf_node_status s;
    ck_assert_int_eq(rf_node_status_get(c.nodes[1].n, "g", &s), RF_OK);
    gid = s.group_id;
    ck_assert(s.hosted);
    node_stop(&c, 1, true);
    for (int i = 0; i < 5; i++)
        acked += command(&c, (uint32_t)(i % 2) * 2, "g", "inc") == RF_OK;
    ck_assert_int_eq(acked, 15);
    rf_node_restore_info info;
    ck_assert_int_eq(node_start(&c, 1, &info), RF_OK);
    ck_assert_msg(rf_node_group(c.nodes[1].n, gid) != NULL, "member of g not restored");
    run_ms(&c, 2000);
    ck_assert_int_eq(query(&c, 1, "g", "get"), RF_OK);
    ck_assert_str_eq(c.reply, "15");
    const rf_raft *r = rf_node_group(c.nodes[1].n, gid);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_ge(rf_raft_applied_index(r), 15);
    ck_assert_int_eq(command(&c, 1, "g", "inc"), RF_OK);
    ck_assert_str_eq(c.reply, "15");
    cluster_close(&c);
}
END_TEST

START_TEST(test_restore_refuses_another_nodes_store)
{
    tcluster c;
    cluster_init(&c, 1);
    ck_assert_int_eq(activate(&c, 0, "zone1", 0), RF_OK);
    tnode *t = &c.nodes[0];
    rf_node_close(t->n);
    t->n = NULL;
    char name[8];
    rf_node_config cfg = node_cfg(&c, 1, name); /* n2 on n1's store */
    rf_node_restore_info info;
    rf_node *n = NULL;
    ck_assert_int_eq(rf_node_restore(&cfg, t->st, &n, &info), RF_EOTHERNODE);
    ck_assert_ptr_null(n);
    ck_assert_msg(strstr(info.message, "node 1 'n1'") != NULL, "message: %s", info.message);
    cluster_close(&c);
}
END_TEST

START_TEST(test_restore_refuses_a_missing_model_by_name)
{
    tcluster c;
    cluster_init(&c, 1);
    ck_assert_int_eq(activate(&c, 0, "zone1", 0), RF_OK);
    ck_assert_int_eq(add_group(&c, 0, "b", 1, "kv"), RF_OK);
    node_stop(&c, 0, false);
    static const rf_model *const only_int[] = {&rf_model_int};
    c.models = only_int;
    c.n_models = 1;
    rf_node_restore_info info;
    ck_assert_int_eq(node_start(&c, 0, &info), RF_ENOMODEL);
    ck_assert_msg(strstr(info.message, "'kv'") != NULL, "message: %s", info.message);
    ck_assert_ptr_null(c.nodes[0].n);
    rf_store_close(c.nodes[0].st);
    c.nodes[0].st = NULL;
    rf_batch_close(&c.nodes[0].bt);
    rf_simdisk_free(c.nodes[0].disk);
}
END_TEST

/* Many groups come and go: the journal is compacted by snapshots and the
 * logs of removed groups are dropped, yet a restart finds exactly the
 * live ones. */
START_TEST(test_journal_compaction_keeps_the_live_groups)
{
    tcluster c;
    cluster_init(&c, 1);
    ck_assert_int_eq(activate(&c, 0, "zone1", 0), RF_OK);
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof name, "g%d", i);
        ck_assert_int_eq(add_group(&c, 0, name, 1, "int"), RF_OK);
        ck_assert_int_eq(command(&c, 0, name, "inc"), RF_OK);
        if (i % 2 == 0) {
            uint64_t r = next_req++;
            (void)rf_node_remove_group(c.nodes[0].n, r, name);
            ck_assert_int_eq(await(&c, r), RF_OK);
        }
    }
    run_ms(&c, 1000); /* removed groups stop */
    ck_assert_uint_eq(rf_node_group_count(c.nodes[0].n), 21);
    /* The terms the stopped members knew (node_frame.c may_start) come
     * back from the journal's snapshot and the records after it. */
    node_tomb tombs[32];
    size_t n_tombs = c.nodes[0].n->tombs.n;
    ck_assert_uint_eq(n_tombs, 20);
    memcpy(tombs, c.nodes[0].n->tombs.p, n_tombs * sizeof *tombs);
    for (size_t i = 0; i < n_tombs; i++)
        ck_assert_uint_ge(tombs[i].term, 1);
    rf_store_stats stats;
    rf_store_stats_get(c.nodes[0].st, &stats);
    ck_assert_uint_le(stats.groups, 22); /* 20 user groups, metadata, journal */
    rf_store_group_info ji;
    ck_assert_int_eq(rf_store_group(c.nodes[0].st, RF_NODE_JOURNAL_GROUP, &ji), RF_OK);
    ck_assert(ji.has_snapshot);
    node_stop(&c, 0, true);
    rf_node_restore_info info;
    ck_assert_int_eq(node_start(&c, 0, &info), RF_OK);
    ck_assert_uint_eq(info.groups, 21);
    ck_assert_uint_eq(info.orphans, 0);
    ck_assert_uint_eq(c.nodes[0].n->tombs.n, n_tombs);
    ck_assert(memcmp(c.nodes[0].n->tombs.p, tombs, n_tombs * sizeof *tombs) == 0);
    ck_assert_int_eq(query(&c, 0, "g39", "get"), RF_OK);
    ck_assert_str_eq(c.reply, "1");
    ck_assert_int_eq(query(&c, 0, "g38", "get"), RF_ENOLEADER); /* removed: unknown */
    cluster_close(&c);
}
END_TEST


/* Groups come and go by the hundred: the set of groups the node once
 * hosted keeps only those that may come back, and stays so across a
 * restart; new groups still boot. */
START_TEST(test_groups_gone_for_good_are_forgotten)
{
    tcluster c;
    cluster_init(&c, 1);
    ck_assert_int_eq(activate(&c, 0, "zone1", 0), RF_OK);
    for (int i = 0; i < 150; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        ck_assert_int_eq(add_group(&c, 0, name, 1, "int"), RF_OK);
        uint64_t r = next_req++;
        (void)rf_node_remove_group(c.nodes[0].n, r, name);
        ck_assert_int_eq(await(&c, r), RF_OK);
    }
    run_ms(&c, 1000);
    ck_assert_uint_eq(rf_node_group_count(c.nodes[0].n), 1); /* the metadata */
    ck_assert_uint_lt(rf_node_hosted_ever_count(c.nodes[0].n), 100);
    node_stop(&c, 0, false);
    rf_node_restore_info info;
    ck_assert_int_eq(node_start(&c, 0, &info), RF_OK);
    ck_assert_uint_lt(rf_node_hosted_ever_count(c.nodes[0].n), 100);
    ck_assert_int_eq(add_group(&c, 0, "t0", 1, "int"), RF_OK); /* a new group, a new id */
    ck_assert_int_eq(command(&c, 0, "t0", "inc"), RF_OK);
    ck_assert_str_eq(c.reply, "0");
    cluster_close(&c);
}
END_TEST

/* A node purged while cut off, restarted before it is back: its restored
 * metadata replica is behind and no longer fed (the leader removed it), so
 * its view lists no node. Told by a peer that it is not registered, it asks
 * the metadata leader through that peer, and registers again in the zone it
 * had, which its journal kept (fuzz seed 2822: it asked itself forever, and
 * without its zone it took itself for a drained node). */
START_TEST(test_node_purged_then_restarted_registers_again_in_its_zone)
{
    static const char *const zones[] = {"a", "b", "c"};
    rf_sim_fleet *f = fleet_new_hinted(3, 2822, 0);
    activate_all(f, zones, 3);
    add_groups(f, 0, 2, 3);
    ck_assert(rf_sim_fleet_run_until_converged(f, 30 * SEC));
    rf_sim_net_partition(rf_sim_fleet_net(f), 0x3u, 0x4u);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 6 * SEC); /* 3x the purge window */
    ck_assert_ptr_null(rf_meta_node_by_id(rf_sim_fleet_meta(f), 3)); /* purged */
    rf_sim_fleet_crash(f, 2);
    rf_sim_net_heal(rf_sim_fleet_net(f));
    char why[RF_SIM_FLEET_FAILURE_TEXT_MAX];
    ck_assert_int_eq(rf_sim_fleet_restart(f, 2, why, sizeof why), RF_OK);
    rf_sim_fleet_run_until(f, rf_sim_fleet_now(f) + 10 * SEC);
    const rf_meta_node *back = rf_meta_node_by_id(rf_sim_fleet_meta(f), 3);
    ck_assert_ptr_nonnull(back);
    ck_assert_str_eq(back->zone, "c");
    bool converged = rf_sim_fleet_run_until_converged(f, 30 * SEC);
    if (!converged)
        dump_groups(f, 3);
    ck_assert(converged);
    fleet_done(f);
}
END_TEST

Suite *node_restore_suite(void)
{
    Suite *s = suite_create("node_restore");
    TCase *tc = tcase_create("restore");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fresh_store_holds_no_node);
    tcase_add_test(tc, test_store_entry_heads_of_both_versions_decode);
    tcase_add_test(tc, test_single_node_restarts_with_its_groups_and_values);
    tcase_add_test(tc, test_member_restarts_after_power_loss_without_losing_acks);
    tcase_add_test(tc, test_restore_refuses_another_nodes_store);
    tcase_add_test(tc, test_restore_refuses_a_missing_model_by_name);
    tcase_add_test(tc, test_journal_compaction_keeps_the_live_groups);
    tcase_add_test(tc, test_groups_gone_for_good_are_forgotten);
    tcase_add_test(tc, test_node_purged_then_restarted_registers_again_in_its_zone);
    suite_add_tcase(s, tc);
    return s;
}

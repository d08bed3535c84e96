/* fleet_helpers: what the fleet test suites share: a harness with checks on, waits, activation. */
#ifndef TESTS_FLEET_HELPERS_H
#define TESTS_FLEET_HELPERS_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "base/rf_pcg.h"
#include "placement/rf_placement.h"
#include "sim/fleet_cluster.h"

#define MS (1000ull * 1000ull)
#define SEC (1000ull * MS)

/* Waits for a request's reply and returns its status (fails the test on
 * no reply at all: every request must get one). */
static inline int wait_status(rf_sim_fleet *f, uint64_t req, char *text)
{
    int status = -1;
    char buf[RF_SIM_FLEET_REPLY_TEXT_MAX];
    ck_assert_uint_ne(req, 0);
    ck_assert_msg(rf_sim_fleet_wait(f, req, 20 * SEC, &status, text != NULL ? text : buf),
                  "request %llu got no reply", (unsigned long long)req);
    return status;
}

/* Prints every member's view, for a failing test's log. */
static inline void dump_groups(rf_sim_fleet *f, uint32_t nodes)
{
    const rf_meta *m = rf_sim_fleet_meta(f);
    for (size_t gi = 0; m != NULL && gi <= rf_meta_group_count(m); gi++) {
        uint64_t gid = gi == 0 ? RF_META_GROUP_ID : rf_meta_group_at(m, gi - 1)->id;
        fprintf(stderr, "group %llu:", (unsigned long long)gid);
        for (uint32_t i = 0; i < nodes; i++) {
            const rf_node *n = rf_sim_fleet_node(f, i);
            const rf_raft *r = n == NULL ? NULL : rf_node_group(n, gid);
            if (r == NULL)
                continue;
            const rf_membership *mm = rf_raft_membership(r);
            fprintf(stderr, " n%u(role %d term %llu leader %llu [", i + 1, (int)rf_raft_role(r),
                    (unsigned long long)rf_raft_term(r), (unsigned long long)rf_raft_leader(r));
            for (uint32_t k = 0; k < mm->count; k++)
                fprintf(stderr, " %llu%s", (unsigned long long)mm->members[k].id,
                        mm->members[k].voter ? "" : "L");
            fprintf(stderr, " ])");
        }
        fprintf(stderr, "\n");
    }
}

/* Closes the harness after checking that no group broke Raft's safety. */
static inline void fleet_done(rf_sim_fleet *f)
{
    const char *why = NULL;
    rf_sim_fleet_sweep(f); /* every member once, beyond those with output */
    uint64_t v = rf_sim_fleet_violations(f, &why);
    ck_assert_msg(v == 0, "%llu safety violations, first: %s", (unsigned long long)v,
                  why != NULL ? why : "?");
    ck_assert_uint_gt(rf_sim_fleet_checks(f), 0); /* the checkers did look */
    rf_sim_fleet_close(f);
}

static inline rf_sim_fleet *fleet_new(uint32_t nodes, uint64_t seed)
{
    rf_sim_fleet_config cfg;
    rf_sim_fleet_config_defaults(&cfg, nodes);
    cfg.seed = seed;
    rf_sim_fleet *f = NULL;
    ck_assert_int_eq(rf_sim_fleet_create(&cfg, &f), RF_OK);
    return f;
}

/* A harness whose nodes are told of unreachable peers, as a transport
 * would, with a purge window of purge_ns (0: the harness's). */
static inline rf_sim_fleet *fleet_new_hinted(uint32_t nodes, uint64_t seed, uint64_t purge_ns)
{
    rf_sim_fleet_config cfg;
    rf_sim_fleet_config_defaults(&cfg, nodes);
    cfg.seed = seed;
    cfg.hint_unreachable = true;
    if (purge_ns != 0)
        cfg.node.purge_window_ns = purge_ns;
    rf_sim_fleet *f = NULL;
    ck_assert_int_eq(rf_sim_fleet_create(&cfg, &f), RF_OK);
    return f;
}

/* A harness whose nodes learn of dead peers only from the node-pair
 * heartbeats (no transport hints). */
static inline rf_sim_fleet *fleet_new_unhinted(uint32_t nodes, uint64_t seed)
{
    rf_sim_fleet_config cfg;
    rf_sim_fleet_config_defaults(&cfg, nodes);
    cfg.seed = seed;
    cfg.hint_unreachable = false;
    rf_sim_fleet *f = NULL;
    ck_assert_int_eq(rf_sim_fleet_create(&cfg, &f), RF_OK);
    return f;
}

/* Activates nodes 0..n-1 in the zones given, the first one starting the
 * cluster and the others joining through it. */
static inline void activate_all(rf_sim_fleet *f, const char *const *zones, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_activate(f, i, zones[i], i == 0 ? -1 : 0), NULL),
                         RF_OK);
}


static inline void add_groups(rf_sim_fleet *f, uint32_t via, int count, uint32_t replicas)
{
    for (int i = 1; i <= count; i++) {
        char name[32];
        snprintf(name, sizeof name, "consensus%d", i);
        ck_assert_int_eq(wait_status(f, rf_sim_fleet_add_group(f, via, name, replicas, "int"), NULL),
                         RF_OK);
    }
}

#endif

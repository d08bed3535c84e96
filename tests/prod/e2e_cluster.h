/* e2e_cluster: real fleetd processes on loopback for the end-to-end tests: start, kill, RESP calls, fleetctl. */
#ifndef TESTS_PROD_E2E_CLUSTER_H
#define TESTS_PROD_E2E_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "prod/ctl.h"

#define E2E_NODES_MAX 5
#define E2E_SECRET "an end-to-end test secret, not for production"

typedef struct e2e_node {
    pid_t pid; /* 0 when not running */
    int peer_port, client_port;
    char name[16];
    char zone[16];
    char data[128];
} e2e_node;

/* Nodes n1..nN in a temporary directory DIR (DIR/nI: data, DIR/nI.log:
 * stderr). Ports are free loopback ports picked at init. A test ends with
 * e2e_stop: Check's test process waits for all its children before it
 * exits. A test an assertion ends exits at once: every fleetd dies with it
 * (PR_SET_PDEATHSIG), and the fixture's teardown removes the directory. */
typedef struct e2e_cluster {
    char dir[96];
    char secret[128]; /* the cluster secret file */
    char bin[160];    /* RF_BUILD/bin */
    int rebalance_ms;
    e2e_node n[E2E_NODES_MAX];
} e2e_cluster;

void e2e_init(e2e_cluster *c);
/* Kills (SIGKILL) and reaps every node still running. */
void e2e_stop(e2e_cluster *c);

/* An unchecked fixture (it runs in the test runner): directories are made
 * under a prefix of the runner's pid, and teardown removes them all, also
 * those of a test an assertion ended (which skips the exit handler). */
void e2e_fixture_setup(void);
void e2e_fixture_teardown(void);

/* Starts node i (0-based, named n<i+1>) in zone, joining through node join
 * (-1: bootstraps a new cluster); extra: more flags, NULL-terminated, or
 * NULL. Returns once its client port accepts connections. */
void e2e_start(e2e_cluster *c, int i, const char *zone, int join, const char *const *extra);

/* Sends sig to node i and reaps it (SIGKILL: at once; else waits up to 5 s,
 * then SIGKILL). Returns the exit status as waitpid gives it. */
int e2e_kill(e2e_cluster *c, int i, int sig);
bool e2e_alive(e2e_cluster *c, int i);

/* A RESP connection with a 10 s receive timeout; -1 when refused. */
int e2e_connect(int port);
/* One request on fd; 0 and *out (free with rf_ctl_reply_free), or -1 when
 * the connection failed or the reply did not parse. */
int e2e_call(int fd, rf_ctl_reply *out, int argc, const char *const *argv);
/* Connect, one request, close. */
int e2e_call_port(int port, rf_ctl_reply *out, int argc, const char *const *argv);

/* An integer reply, or the bulk string's value; INT64_MIN on anything else. */
int64_t e2e_int(const rf_ctl_reply *r);

/* Runs `fleetctl -s 127.0.0.1:PORT ARGS` (args: one shell-quoted string)
 * and returns its exit code; its stdout goes to out (NUL-terminated). */
int e2e_fleetctl(const e2e_cluster *c, int i, char *out, size_t cap, const char *args);

/* Number of nodes node i's metadata lists, -1 when unreachable. */
int e2e_node_count(const e2e_cluster *c, int i);
/* The most voters any running node sees in group g, 0 when none hosts it. */
int e2e_voters(const e2e_cluster *c, const char *g);
/* Adds groups names[0..n) through node i in one pipelined burst; true when
 * every reply is OK. */
bool e2e_add_groups(const e2e_cluster *c, int i, const char *const *names, int n,
                    int replicas, const char *model);

uint64_t e2e_now_ms(void);
void e2e_sleep_ms(long ms);

#endif

/* sim/run_int: the scenario runner's internal state, shared by sim/run*.c. */
#ifndef SIM_RUN_INT_H
#define SIM_RUN_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/rf_pcg.h"
#include "sim/fleet_cluster.h"
#include "sim/history.h"
#include "sim/record.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "sim/u64map.h"

/* Engine kinds of the runner (the harness owns 32..34). */
enum {
    RK_TIMELINE = 40, /* arg: instance index */
    RK_UNDO = 41,     /* arg: instance index: its `for` has run out */
    RK_CLIENT = 42,   /* arg: client index */
    RK_MONITOR = 43,
    RK_END = 44,
};

#define RUN_MONITOR_NS_MIN (10ull * 1000 * 1000)
#define RUN_SETUP_NS_MAX (60ull * 1000 * 1000 * 1000)
#define RUN_GROWN_POLL_NS (50ull * 1000 * 1000) /* a loss waiting for the groups to grow */
#define RUN_APPLIED_MAX (64u << 20) /* (group, index) fingerprints the agreement check keeps */
#define RUN_APPLIED_IDS_MAX (1u << 24) /* group ids the agreement check follows */
#define RUN_NO_REQ UINT32_MAX
#define RUN_REQUESTS_MAX (1u << 24) /* harness requests in one run (64 MiB of map) */

/* One firing of a timeline line: `at` lines give one, `every` lines many. */
typedef struct run_inst {
    uint32_t event;   /* index in rf_scenario.events */
    uint64_t at_ns;
    uint64_t for_ns;  /* 0: no `for` */
    uint64_t flap_ns; /* a flap's drawn period */
    int32_t node;     /* the node it acted on (after `random`/leader-of), -1 none */
    int64_t fault_id; /* in the history, 0 none */
    bool active;      /* a network fault in force */
    bool skipped;
    uint32_t n_sets;  /* network faults: the node sets drawn when it fired */
    rf_sim_nodeset sets[RF_SCN_SETS_MAX];
    int32_t prev_ppm;       /* a `drift ... for`: the drift it undoes to */
    uint64_t disk_bytes;    /* a `disk ... full`: the disk's size when it filled */
} run_inst;

/* What the replicas of one group applied, index by index: a fingerprint
 * per index (0: none yet), dense from index 1 on. Replicas apply the same
 * index close together in time, so the end of the array stays in cache. */
typedef struct run_applied {
    uint64_t *fp;
    size_t n, cap;
} run_applied;

typedef struct run_group {
    char name[RF_SCN_GROUP_NAME_MAX + 1];
    char model[RF_SCN_MODEL_MAX + 1];
    uint32_t replicas;
    uint64_t id;         /* the metadata's id, 0 until known */
    uint64_t add_req;    /* pending add request */
    bool removed;
    bool recorded;
    bool indexed;        /* id is in the runner's group_index */
    bool unchanged;      /* no member had output since the monitor looked */
    /* leadership as the monitor saw it */
    int32_t leader;      /* node index, -1 none */
    uint64_t term;
    bool had_leader;
    uint64_t leaderless_since_ns;
    uint64_t gap_ns_max;
    uint64_t gap_at_ns;  /* when the longest gap began */
    rf_history hist;
    bool hist_ok;
} run_group;

/* An operation in flight (workload or timeline). */
typedef struct run_pending {
    uint32_t group;
    uint32_t client; /* workload client index, or UINT32_MAX for timeline ops */
    uint32_t event;  /* timeline event index for explicit ops */
    size_t op;       /* index in the group's history */
    bool query;
} run_pending;

typedef struct run_client {
    uint32_t group;
    uint32_t workload;
    uint64_t id;         /* the client id in the history */
    uint64_t period_ns;
    uint64_t until_ns;
    bool busy;
    rf_pcg32 rng;
} run_client;

/* An expectation's progress. */
typedef struct run_expect {
    uint64_t from_ns;    /* X */
    bool from_known;     /* X has happened (a label fires at run time) */
    uint64_t epoch;      /* metadata nodes epoch at X (node-change labels) */
    bool needs_epoch;
    bool done, ok;
    uint64_t met_ns;     /* when it held */
    uint64_t moves, moves_min;
    uint64_t unknown;    /* linearizable: groups the checker could not decide */
    char detail[256];
} run_expect;

typedef struct run_node {
    bool up;         /* not crashed or removed */
    bool active;     /* activated (as far as the runner asked) */
    bool removed;
    bool isolated;
    bool paused;
    int32_t drift_ppm;
    uint32_t disk_faults; /* disk fault lines in force on it */
} run_node;

typedef struct rf_sim_runner {
    const rf_sim_run_opts *opts;
    rf_sim_run_result *res;
    rf_scenario *scn;
    char *text;          /* the scenario file, for positions in errors */
    size_t text_len;
    const char *path;
    uint64_t seed;

    const rf_model *models[RF_SIM_RUN_MODELS_MAX + 2];
    uint32_t n_models;
    /* The network's quality without the `network ... for` lines in force:
     * the `network` directive, then lasting `network` lines. */
    rf_sim_net_config net_base;

    rf_sim_fleet *fleet;
    rf_sim_engine *eng;
    run_node nodes[RF_SIM_NODES_MAX];
    uint32_t n_nodes;

    run_group *groups;
    uint32_t n_groups, cap_groups;

    run_inst *insts;
    uint32_t n_insts, cap_insts;
    uint64_t faults_end_ns;
    rf_pcg32 picks;      /* `random` nodes at run time */
    bool unreach[RF_SIM_NODES_MAX][RF_SIM_NODES_MAX]; /* hints given to nodes */

    run_client *clients;
    uint32_t n_clients;
    uint32_t *req_map;   /* harness request id -> pending index, RUN_NO_REQ */
    run_pending *pending;
    uint32_t n_pending, cap_pending;
    uint32_t issuing;    /* pending index of the request being issued, RUN_NO_REQ */
    uint64_t requests_max;

    run_expect expects[RF_SCN_EXPECTS_MAX];
    uint64_t monitor_ns;
    uint64_t setup_end_ns;   /* when run_setup was done */
    int64_t last_node_event; /* history id of the latest node event, RF_REC_NONE */
    int64_t last_moves_min;  /* minimal moves of the latest node event, -1 unknown */
    uint64_t cause_epoch;    /* metadata nodes epoch when last_node_event happened */
    uint64_t moves_since_ns; /* additions count from here for `moves` */

    rf_sim_u64map leaders;   /* (group, term) -> node id + 1 */
    rf_sim_u64map group_index; /* (group id, 0) -> index in groups */
    uint64_t monitor_lives;  /* rf_sim_fleet_lives when the monitor last looked */
    run_applied *applied;    /* by group id: the entry fingerprints applied */
    size_t applied_ids;      /* ids 0 .. applied_ids - 1 have a slot */
    uint64_t applied_kept;   /* fingerprints kept, all groups (RUN_APPLIED_MAX) */
    bool applied_full;

    rf_rec *rec;
    bool failed;
    bool safety_failed;
    bool checking;       /* the harness runs sim/check on every group */
    bool stop_now;
    uint64_t ops_ok, ops_fail, ops_unknown;
    uint64_t ops_unsent; /* no live node, or the request bound reached */
    uint64_t loop_events; /* events of the main loop (the trail's index) */
    uint64_t wall_start_ns, status_wall_ns, status_events;
} rf_sim_runner;

/* run.c */
void run_log(rf_sim_runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void run_fail(rf_sim_runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t run_wall_ns(void);
int run_group_by_name(const rf_sim_runner *r, const char *name);
const rf_model *run_model(const rf_sim_runner *r, const char *name);

/* run_setup.c: the groups and the fleet built from the tree (before the
 * record opens), then the setup at time 0 (RF_ECHECK: it failed, logged). */
int run_build_groups(rf_sim_runner *r);
int run_build_fleet(rf_sim_runner *r);
int run_setup(rf_sim_runner *r);

/* run_finish.c: checks at the end, outputs, the verdict. */
int run_finish(rf_sim_runner *r);
void run_status_line(rf_sim_runner *r, bool last);

/* run_support.c: directives the runner cannot execute (exit 2). */
int run_check_support(rf_sim_runner *r);
int run_scenario_error(rf_sim_runner *r, int event, const char *keyword, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* run_timeline.c */
int run_timeline_plan(rf_sim_runner *r);
void run_timeline_fire(rf_sim_runner *r, uint32_t inst);
void run_timeline_undo(rf_sim_runner *r, uint32_t inst);
void run_net_apply(rf_sim_runner *r);
bool run_node_live(const rf_sim_runner *r, uint32_t i);
int32_t run_via(const rf_sim_runner *r, uint32_t self);
bool run_group_matches(const rf_scn_pattern *p, const char *name);

int32_t run_resolve_live(rf_sim_runner *r, const rf_scn_event *e, int32_t node);
typedef enum {
    PICK_LIVE, PICK_ACTIVE, PICK_INACTIVE, PICK_RUNNING, PICK_PAUSED,
    PICK_CRASHED, /* down and not removed: a node to restart */
    PICK_DISK     /* not removed: its disk exists, running or not */
} run_pick;
int32_t run_resolve(rf_sim_runner *r, const rf_scn_event *e, int32_t node, run_pick k);
void run_node_event(rf_sim_runner *r, const rf_scn_event *e, uint32_t idx, rf_rec_node_kind kind,
                    int64_t moves_min);
int64_t run_minimal_moves(rf_sim_runner *r, uint32_t idx, bool active);

/* run_nodes.c: restarts and disk faults. */
void run_fire_restart(rf_sim_runner *r, run_inst *in, const rf_scn_event *e);
void run_fire_disk(rf_sim_runner *r, run_inst *in, const rf_scn_event *e);
/* A crash's `for` or a disk fault's ran out. */
void run_undo_node(rf_sim_runner *r, run_inst *in, const rf_scn_event *e);
void run_on_down(void *ctx, uint32_t index, int status, const char *why);
bool run_is_net_fault(rf_scn_event_kind kind);
/* The network's quality again after a `network ... for` line began or ended. */
void run_net_quality(rf_sim_runner *r);

/* run_net.c: network faults; fault rows of the history. */
void run_fire_net(rf_sim_runner *r, run_inst *in, const rf_scn_event *e);
void run_fire_network(rf_sim_runner *r, run_inst *in, const rf_scn_event *e);
void run_fire_heal(rf_sim_runner *r, const rf_scn_event *e);
void run_fault_begin(rf_sim_runner *r, run_inst *in, const char *targets, const char *detail);
void run_fault_end(rf_sim_runner *r, run_inst *in);

/* run_clients.c */
int run_clients_plan(rf_sim_runner *r);
void run_client_fire(rf_sim_runner *r, uint32_t client);
uint64_t run_op_issue(rf_sim_runner *r, uint32_t group, uint32_t client, uint32_t event,
                      int32_t node, const char *text, bool query);
void run_on_reply(void *ctx, uint64_t req, int status, const uint8_t *data, uint32_t len);
void run_ops_finish(rf_sim_runner *r);
const char *run_err_label(int status);

/* run_expect.c */
void run_expect_init(rf_sim_runner *r);
void run_expect_label(rf_sim_runner *r, const char *label, bool node_change, int64_t moves_min);
const char *run_expect_text(const rf_sim_runner *r, uint32_t i, char *buf, size_t cap);
void run_monitor(rf_sim_runner *r);
void run_expect_finish(rf_sim_runner *r);
void run_linz(rf_sim_runner *r);
void run_on_groups(void *ctx, uint32_t index, const uint64_t *ids, size_t n);
void run_on_obs(void *ctx, uint32_t index, const rf_node_obs *o);
void run_on_applied(void *ctx, uint32_t index, const rf_node_applied *a);

/* run_record.c */
void run_rec_snapshot(rf_sim_runner *r, const char *label);
void run_rec_ops(rf_sim_runner *r);
void run_rec_check(rf_sim_runner *r, const char *name, bool ok, bool unknown, const char *detail,
                   int64_t t_ns);

#endif

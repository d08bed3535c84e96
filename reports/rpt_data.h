/* rpt_data: one run's history, read from the SQLite database for the report. */
#ifndef RF_REPORTS_RPT_DATA_H
#define RF_REPORTS_RPT_DATA_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what one report loads; a run beyond them is refused with
 * RF_ETOOBIG rather than exhausting memory. */
#define RPT_NODES_MAX 4096
#define RPT_GROUPS_MAX 100000
#define RPT_ROWS_MAX 2000000 /* faults, node events, leader changes, snapshots */

#define RPT_NONE (-1) /* no node, no time */

typedef struct {
    int64_t id;
    char *name;
    char *zone;
    int zone_idx; /* index into rpt_run.zones */
} rpt_node;

typedef struct {
    int64_t id;
    char *name;
    char *model;
    int64_t replicas;
    double availability; /* share of the run with a leader, from the documented query */
    size_t leaders_first, leaders_n; /* this group's slice of rpt_run.leaders */
} rpt_group;

typedef struct {
    int64_t id;
    char *kind;
    char *targets;
    char *detail;
    int64_t start_ns;
    int64_t end_ns;      /* RPT_NONE: lasted until the end */
    int64_t recovery_ns; /* RPT_NONE: some group never recovered */
} rpt_fault;

typedef struct {
    int64_t id;
    int64_t t_ns;
    int64_t node_id;
    char *kind;
    char *detail;
    int64_t moves_min; /* RPT_NONE when not relevant */
    int64_t moves;     /* add_learner changes it caused */
} rpt_event;

typedef struct {
    int64_t group_id;
    int64_t t_ns;
    int64_t term;
    int64_t leader_id; /* RPT_NONE: no leader */
} rpt_leader;

typedef struct {
    int64_t id;
    int64_t t_ns;
    char *label;
} rpt_snapshot;

typedef struct {
    char *checker;
    char *outcome;
    char *detail;
    int64_t t_ns; /* RPT_NONE when none */
} rpt_check;

typedef struct rpt_run {
    sqlite3 *db;
    int64_t id;
    char *kind, *scenario, *build, *started, *outcome, *detail, *trace_hash;
    int64_t seed;
    int64_t end_ns;  /* the run's end, or the last recorded time while running */
    int64_t wall_ns; /* RPT_NONE when unknown */
    char **zones;
    size_t zones_n;
    rpt_node *nodes; /* sorted by id */
    size_t nodes_n;
    rpt_group *groups; /* sorted by id */
    size_t groups_n;
    rpt_fault *faults; /* by start */
    size_t faults_n;
    rpt_event *events; /* by time */
    size_t events_n;
    rpt_leader *leaders; /* by group, then time */
    size_t leaders_n;
    rpt_snapshot *snapshots; /* by time */
    size_t snapshots_n;
    rpt_check *checks;
    size_t checks_n;
} rpt_run;

/* One member or target row of a group at a snapshot. */
typedef struct {
    int64_t group_id;
    int64_t node_id;
    int64_t member_pos; /* RPT_NONE: not a member */
    int learner;
    int leader;
    int64_t target_pos; /* RPT_NONE: not in the target */
} rpt_place;

typedef struct {
    rpt_place *rows; /* sorted by group, then node */
    size_t rows_n;
    int *node_state; /* per rpt_run.nodes index: 0 up, 1 down, 2 paused, 3 isolated,
                        4 inactive, 5 removed; up when not recorded */
} rpt_placement;

enum { RPT_UP, RPT_DOWN, RPT_PAUSED, RPT_ISOLATED, RPT_INACTIVE, RPT_REMOVED };

/* Opens db_path read-only after checking it is a raftfleet history of a
 * schema this build reads (errors as rpt_run_open's). *db is NULL on
 * failure; the caller sqlite3_close()s it. */
int rpt_db_open(const char *db_path, sqlite3 **db, char *err, size_t err_len);

/* Opens db_path read-only and loads run run_id (0: the latest run). A
 * missing file gives RF_ENOTFOUND, a foreign database RF_EFOREIGNDB, a newer
 * schema RF_EVERSION, an unknown run RF_ENOTFOUND; err says which. On
 * failure *run is left empty (rpt_run_close is still safe). */
int rpt_run_open(rpt_run *run, const char *db_path, int64_t run_id, char *err, size_t err_len);
void rpt_run_close(rpt_run *run);

/* Index of a node or group id, or -1. */
int rpt_node_index(const rpt_run *run, int64_t node_id);
int rpt_group_index(const rpt_run *run, int64_t group_id);

/* Loads snapshot snapshots[idx] into out (caller frees with rpt_placement_free). */
int rpt_placement_load(const rpt_run *run, size_t idx, rpt_placement *out);
void rpt_placement_free(rpt_placement *p);

#endif

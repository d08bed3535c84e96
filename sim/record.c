/* record: the recorder that writes a run's history into SQLite (sim/history.sql). */
#include "sim/record.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/record_int.h"

static const char *const node_kind_names[RF_REC_NODE_KIND_COUNT] = {
    "add", "activate", "deactivate", "remove", "purge", "crash", "restart", "pause", "resume",
};
static const char *const change_names[RF_REC_CHANGE_COUNT] = {
    "add_learner", "promote", "remove", "transfer",
};
static const char *const reason_names[RF_REC_REASON_COUNT] = {
    "bootstrap", "placement", "node_added", "node_removed", "purge",
    "deactivate", "group_added", "group_removed", "admin",
};
static const char *const state_names[RF_REC_STATE_COUNT] = {
    "up", "down", "paused", "isolated", "inactive", "removed",
};
static const char *const outcome_names[] = {"pass", "fail", "skip", "error"};
static const char *const op_status_names[] = {"ok", "fail", "unknown"};

const char *rf_rec_node_kind_name(rf_rec_node_kind kind)
{
    ASSERT((unsigned)kind < RF_REC_NODE_KIND_COUNT);
    return node_kind_names[kind];
}

const char *rf_rec_change_name(rf_rec_change change)
{
    ASSERT((unsigned)change < RF_REC_CHANGE_COUNT);
    return change_names[change];
}

const char *rf_rec_reason_name(rf_rec_reason reason)
{
    ASSERT((unsigned)reason < RF_REC_REASON_COUNT);
    return reason_names[reason];
}

const char *rf_rec_node_state_name(rf_rec_node_state state)
{
    ASSERT((unsigned)state < RF_REC_STATE_COUNT);
    return state_names[state];
}

int rf_rec_run_begin(rf_rec *rec, const rf_rec_run_info *info, int64_t *run_id)
{
    ASSERT(rec != NULL);
    ASSERT(info != NULL);
    if (rec->run_id != 0)
        return RF_EBUSY;
    if (info->scenario == NULL)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_RUN_BEGIN];
    bind_text(st, 1, info->kind ? info->kind : "run");
    bind_text(st, 2, info->scenario);
    bind_u64(st, 3, info->seed);
    bind_text(st, 4, info->build ? info->build : "unknown");
    sqlite3_bind_int64(st, 5, info->started_unix_s ? info->started_unix_s : (int64_t)time(NULL));
    int rc = record_step(rec, ST_RUN_BEGIN);
    if (rc != RF_OK)
        return rc;
    rec->run_id = sqlite3_last_insert_rowid(rec->db);
    rec->snapshot_id = 0;
    if (run_id != NULL)
        *run_id = rec->run_id;
    return RF_OK;
}

int rf_rec_run_end(rf_rec *rec, const rf_rec_run_end_info *info)
{
    ASSERT(rec != NULL);
    ASSERT(info != NULL);
    if (rec->run_id == 0)
        return RF_EINVAL;
    ASSERT(info->outcome == RF_REC_PASS || info->outcome == RF_REC_FAIL ||
           info->outcome == RF_REC_ERROR);
    sqlite3_stmt *st = rec->st[ST_RUN_END];
    sqlite3_bind_int64(st, 1, rec->run_id);
    bind_text(st, 2, outcome_names[info->outcome]);
    bind_text(st, 3, info->detail);
    bind_hash(st, 4, info->trace_hash);
    bind_u64(st, 5, info->end_ns);
    bind_u64(st, 6, info->wall_ns);
    int rc = record_step(rec, ST_RUN_END);
    rec->run_id = 0;
    rec->snapshot_id = 0;
    if (rc != RF_OK)
        return rc;
    return rf_rec_flush(rec);
}

int64_t rf_rec_run_id(const rf_rec *rec)
{
    return rec->run_id;
}

int rf_rec_node(rf_rec *rec, int64_t node_id, const char *name, const char *zone)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || name == NULL || zone == NULL)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_NODE];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, node_id);
    bind_text(st, 3, name);
    bind_text(st, 4, zone);
    return record_step(rec, ST_NODE);
}

int rf_rec_group(rf_rec *rec, int64_t group_id, const char *name, uint32_t replicas,
                 const char *model, uint64_t added_ns)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || name == NULL || model == NULL)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_GROUP];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, group_id);
    bind_text(st, 3, name);
    sqlite3_bind_int64(st, 4, replicas);
    bind_text(st, 5, model);
    bind_u64(st, 6, added_ns);
    return record_step(rec, ST_GROUP);
}

int rf_rec_group_removed(rf_rec *rec, int64_t group_id, uint64_t t_ns)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_GROUP_REMOVED];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, group_id);
    bind_u64(st, 3, t_ns);
    return record_step(rec, ST_GROUP_REMOVED);
}

int rf_rec_fault_begin(rf_rec *rec, uint64_t t_ns, const char *kind, const char *targets,
                       const char *detail, int64_t *fault_id)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || kind == NULL || targets == NULL)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_FAULT_BEGIN];
    sqlite3_bind_int64(st, 1, rec->run_id);
    bind_text(st, 2, kind);
    bind_u64(st, 3, t_ns);
    bind_text(st, 4, targets);
    bind_text(st, 5, detail);
    int rc = record_step(rec, ST_FAULT_BEGIN);
    if (rc == RF_OK && fault_id != NULL)
        *fault_id = sqlite3_last_insert_rowid(rec->db);
    return rc;
}

int rf_rec_fault_end(rf_rec *rec, int64_t fault_id, uint64_t t_ns)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_FAULT_END];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, fault_id);
    bind_u64(st, 3, t_ns);
    int rc = record_step(rec, ST_FAULT_END);
    if (rc == RF_OK && sqlite3_changes(rec->db) != 1)
        return RF_ENOTFOUND;
    return rc;
}

int rf_rec_node_event(rf_rec *rec, uint64_t t_ns, int64_t node_id, rf_rec_node_kind kind,
                      int64_t moves_min, const char *detail, int64_t *event_id)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || (unsigned)kind >= RF_REC_NODE_KIND_COUNT)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_NODE_EVENT];
    sqlite3_bind_int64(st, 1, rec->run_id);
    bind_u64(st, 2, t_ns);
    sqlite3_bind_int64(st, 3, node_id);
    bind_text(st, 4, node_kind_names[kind]);
    if (moves_min < 0)
        sqlite3_bind_null(st, 5);
    else
        sqlite3_bind_int64(st, 5, moves_min);
    bind_text(st, 6, detail);
    int rc = record_step(rec, ST_NODE_EVENT);
    if (rc == RF_OK && event_id != NULL)
        *event_id = sqlite3_last_insert_rowid(rec->db);
    return rc;
}

int rf_rec_leader(rf_rec *rec, uint64_t t_ns, int64_t group_id, uint64_t term,
                  int64_t leader_id)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_LEADER];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, group_id);
    bind_u64(st, 3, t_ns);
    bind_u64(st, 4, term);
    bind_opt_id(st, 5, leader_id);
    return record_step(rec, ST_LEADER);
}

int rf_rec_membership(rf_rec *rec, uint64_t t_ns, int64_t group_id, int64_t node_id,
                      rf_rec_change change, rf_rec_reason reason, int64_t cause_id)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || (unsigned)change >= RF_REC_CHANGE_COUNT ||
        (unsigned)reason >= RF_REC_REASON_COUNT)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_MEMBERSHIP];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, group_id);
    bind_u64(st, 3, t_ns);
    sqlite3_bind_int64(st, 4, node_id);
    bind_text(st, 5, change_names[change]);
    bind_text(st, 6, reason_names[reason]);
    bind_opt_id(st, 7, cause_id);
    return record_step(rec, ST_MEMBERSHIP);
}

int rf_rec_snapshot_begin(rf_rec *rec, uint64_t t_ns, const char *label, int64_t *snapshot_id)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || label == NULL)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_SNAPSHOT];
    sqlite3_bind_int64(st, 1, rec->run_id);
    bind_u64(st, 2, t_ns);
    bind_text(st, 3, label);
    int rc = record_step(rec, ST_SNAPSHOT);
    if (rc != RF_OK)
        return rc;
    rec->snapshot_id = sqlite3_last_insert_rowid(rec->db);
    if (snapshot_id != NULL)
        *snapshot_id = rec->snapshot_id;
    return RF_OK;
}

int rf_rec_snapshot_node(rf_rec *rec, int64_t node_id, rf_rec_node_state state)
{
    ASSERT(rec != NULL);
    if (rec->snapshot_id == 0 || (unsigned)state >= RF_REC_STATE_COUNT)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_SNAPSHOT_NODE];
    sqlite3_bind_int64(st, 1, rec->snapshot_id);
    sqlite3_bind_int64(st, 2, node_id);
    bind_text(st, 3, state_names[state]);
    return record_step(rec, ST_SNAPSHOT_NODE);
}

static int rec_placement_row(rf_rec *rec, int64_t group_id, int64_t node_id, int64_t member_pos,
                             int learner, int is_leader, int64_t target_pos)
{
    sqlite3_stmt *st = rec->st[ST_PLACEMENT];
    sqlite3_bind_int64(st, 1, rec->snapshot_id);
    sqlite3_bind_int64(st, 2, group_id);
    sqlite3_bind_int64(st, 3, node_id);
    bind_opt_id(st, 4, member_pos);
    bind_text(st, 5, member_pos == RF_REC_NONE ? NULL : learner ? "learner" : "voter");
    sqlite3_bind_int(st, 6, is_leader);
    bind_opt_id(st, 7, target_pos);
    return record_step(rec, ST_PLACEMENT);
}

static int64_t find_pos(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return (int64_t)i;
    return RF_REC_NONE;
}

int rf_rec_snapshot_group(rf_rec *rec, int64_t group_id, const int64_t *members,
                          const uint8_t *learners, size_t members_n, int64_t leader_id,
                          const int64_t *target, size_t target_n)
{
    ASSERT(rec != NULL);
    if (rec->snapshot_id == 0 || (members_n > 0 && members == NULL) ||
        (target_n > 0 && target == NULL))
        return RF_EINVAL;
    if (leader_id != RF_REC_NONE && find_pos(members, members_n, leader_id) == RF_REC_NONE)
        return RF_EINVAL;
    /* Validate everything before writing a row, so a refused call leaves
     * no partial placement behind. */
    for (size_t i = 0; i < members_n; i++)
        if (find_pos(members, i, members[i]) != RF_REC_NONE)
            return RF_EINVAL; /* a node listed twice */
    for (size_t i = 0; i < target_n; i++)
        if (find_pos(target, i, target[i]) != RF_REC_NONE)
            return RF_EINVAL;
    for (size_t i = 0; i < members_n; i++) {
        int rc = rec_placement_row(rec, group_id, members[i], (int64_t)i,
                                   learners != NULL && learners[i], members[i] == leader_id,
                                   find_pos(target, target_n, members[i]));
        if (rc != RF_OK)
            return rc;
    }
    for (size_t i = 0; i < target_n; i++) {
        if (find_pos(members, members_n, target[i]) != RF_REC_NONE)
            continue;
        int rc = rec_placement_row(rec, group_id, target[i], RF_REC_NONE, 0, 0, (int64_t)i);
        if (rc != RF_OK)
            return rc;
    }
    return RF_OK;
}

int rf_rec_client_op(rf_rec *rec, const rf_rec_op *op)
{
    ASSERT(rec != NULL);
    ASSERT(op != NULL);
    if (rec->run_id == 0 || op->op == NULL || (unsigned)op->status > RF_REC_OP_UNKNOWN)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_CLIENT_OP];
    sqlite3_bind_int64(st, 1, rec->run_id);
    sqlite3_bind_int64(st, 2, op->group_id);
    sqlite3_bind_int64(st, 3, op->client);
    bind_text(st, 4, op->is_query ? "query" : "command");
    bind_text(st, 5, op->op);
    bind_text(st, 6, op->arg_json);
    bind_text(st, 7, op->status == RF_REC_OP_UNKNOWN ? NULL : op->result_json);
    bind_text(st, 8, op_status_names[op->status]);
    bind_u64(st, 9, op->call_ns);
    if (op->status == RF_REC_OP_UNKNOWN)
        sqlite3_bind_null(st, 10);
    else
        bind_u64(st, 10, op->return_ns);
    return record_step(rec, ST_CLIENT_OP);
}

int rf_rec_check(rf_rec *rec, const char *checker, rf_rec_outcome outcome, const char *detail,
                 int64_t t_ns)
{
    ASSERT(rec != NULL);
    if (rec->run_id == 0 || checker == NULL || (unsigned)outcome > RF_REC_SKIP)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_CHECK];
    sqlite3_bind_int64(st, 1, rec->run_id);
    bind_text(st, 2, checker);
    bind_text(st, 3, outcome_names[outcome]);
    bind_text(st, 4, detail);
    if (t_ns < 0)
        sqlite3_bind_null(st, 5);
    else
        sqlite3_bind_int64(st, 5, t_ns);
    return record_step(rec, ST_CHECK);
}

int rf_rec_fuzz_seed(rf_rec *rec, const rf_rec_seed_info *seed)
{
    ASSERT(rec != NULL);
    ASSERT(seed != NULL);
    if (rec->run_id == 0 || seed->params_json == NULL || seed->outcome == RF_REC_SKIP ||
        (unsigned)seed->outcome > RF_REC_ERROR)
        return RF_EINVAL;
    sqlite3_stmt *st = rec->st[ST_FUZZ_SEED];
    sqlite3_bind_int64(st, 1, rec->run_id);
    bind_u64(st, 2, seed->seed);
    sqlite3_bind_int64(st, 3, seed->nodes);
    sqlite3_bind_int64(st, 4, seed->zones);
    sqlite3_bind_int64(st, 5, seed->groups);
    bind_text(st, 6, seed->params_json);
    bind_text(st, 7, outcome_names[seed->outcome]);
    bind_text(st, 8, seed->detail);
    bind_u64(st, 9, seed->wall_ns);
    bind_hash(st, 10, seed->trace_hash);
    if (seed->reran)
        bind_hash(st, 11, seed->rerun_hash);
    else
        sqlite3_bind_null(st, 11);
    return record_step(rec, ST_FUZZ_SEED);
}

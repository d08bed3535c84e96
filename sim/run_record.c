/* sim/run_record: what a run writes to its SQLite history beyond single events: snapshots, checks, client ops. */
#include <stdio.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/run_int.h"

static rf_rec_node_state node_state(const rf_sim_runner *r, uint32_t i)
{
    const run_node *n = &r->nodes[i];
    if (n->removed)
        return RF_REC_REMOVED;
    if (!n->up || rf_sim_fleet_down(r->fleet, i))
        return RF_REC_DOWN; /* crashed, or down since its store failed */
    if (n->isolated)
        return RF_REC_ISOLATED;
    return n->active ? RF_REC_UP : RF_REC_INACTIVE;
}

/* The member view to draw: the live member with the highest term (the
 * leader's when there is one). */
static const rf_raft *best_member(const rf_sim_runner *r, uint64_t id)
{
    const rf_raft *best = NULL;
    for (uint32_t i = 0; i < r->n_nodes; i++) {
        const rf_node *n = rf_sim_fleet_node(r->fleet, i);
        const rf_raft *m = n == NULL ? NULL : rf_node_group(n, id);
        if (m == NULL)
            continue;
        if (best == NULL || rf_raft_term(m) > rf_raft_term(best) ||
            (rf_raft_term(m) == rf_raft_term(best) && rf_raft_role(m) == RF_ROLE_LEADER))
            best = m;
    }
    return best;
}

static void snapshot_group(rf_sim_runner *r, const rf_meta *m, const run_group *g)
{
    int64_t members[RF_RAFT_MEMBERS_MAX] = {0}, target[RF_META_REPLICAS_MAX] = {0};
    uint8_t learners[RF_RAFT_MEMBERS_MAX] = {0};
    size_t n = 0, nt = 0;
    int64_t leader = RF_REC_NONE;
    const rf_raft *b = best_member(r, g->id);
    if (b != NULL) {
        const rf_membership *mem = rf_raft_membership(b);
        for (uint32_t i = 0; i < mem->count && n < RF_RAFT_MEMBERS_MAX; i++) {
            members[n] = (int64_t)mem->members[i].id;
            learners[n++] = mem->members[i].voter ? 0 : 1;
        }
        int li = rf_sim_fleet_leader(r->fleet, g->id);
        for (size_t i = 0; i < n && li >= 0; i++)
            if (members[i] == (int64_t)li + 1)
                leader = members[i];
    }
    uint64_t ids[RF_META_REPLICAS_MAX];
    uint32_t reps = g->replicas < RF_META_REPLICAS_MAX ? g->replicas : RF_META_REPLICAS_MAX;
    if (m != NULL && rf_meta_place(m, g->name, reps, ids, RF_META_REPLICAS_MAX) == RF_OK)
        for (uint32_t i = 0; i < reps && ids[i] != 0; i++)
            target[nt++] = (int64_t)ids[i];
    (void)rf_rec_snapshot_group(r->rec, (int64_t)g->id, members, learners, n, leader, target, nt);
}

void run_rec_snapshot(rf_sim_runner *r, const char *label)
{
    if (r->rec == NULL)
        return;
    int64_t id;
    if (rf_rec_snapshot_begin(r->rec, rf_sim_fleet_now(r->fleet), label, &id) != RF_OK)
        return;
    for (uint32_t i = 0; i < r->n_nodes; i++)
        (void)rf_rec_snapshot_node(r->rec, (int64_t)i + 1, node_state(r, i));
    const rf_meta *m = rf_sim_fleet_meta(r->fleet);
    for (uint32_t g = 0; g < r->n_groups; g++)
        if (r->groups[g].id != 0 && !r->groups[g].removed)
            snapshot_group(r, m, &r->groups[g]);
}

void run_rec_check(rf_sim_runner *r, const char *name, bool ok, bool unknown, const char *detail,
                   int64_t t_ns)
{
    if (r->rec == NULL)
        return;
    (void)rf_rec_check(r->rec, name, unknown ? RF_REC_SKIP : ok ? RF_REC_PASS : RF_REC_FAIL,
                       detail, t_ns);
}

/* A JSON value for bytes: a number when they are a canonical decimal, else
 * a string (as the JSON-lines writer does). */
static void json_value(const uint8_t *b, size_t len, char *out, size_t cap)
{
    bool num = len > 0 && len < 20;
    for (size_t i = 0; i < len && num; i++)
        num = (b[i] >= '0' && b[i] <= '9') || (i == 0 && b[i] == '-' && len > 1);
    if (num && ((b[0] == '0' && len > 1) || (b[0] == '-' && (b[1] == '0'))))
        num = false;
    if (num) {
        snprintf(out, cap, "%.*s", (int)len, (const char *)b);
        return;
    }
    size_t n = 0;
    out[n++] = '"';
    for (size_t i = 0; i < len && n + 8 < cap; i++) {
        if (b[i] == '"' || b[i] == '\\') {
            out[n++] = '\\';
            out[n++] = (char)b[i];
        } else if (b[i] < 0x20 || b[i] >= 0x7f) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", b[i]);
        } else {
            out[n++] = (char)b[i];
        }
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* Every client operation into the history's client_ops table. */
void run_rec_ops(rf_sim_runner *r)
{
    if (r->rec == NULL)
        return;
    char op[RF_SCN_OP_MAX + 1], arg[600], res[600];
    for (uint32_t gi = 0; gi < r->n_groups; gi++) {
        const run_group *g = &r->groups[gi];
        for (size_t i = 0; g->hist_ok && i < g->hist.count; i++) {
            const rf_op *o = &g->hist.ops[i];
            size_t sp = 0;
            while (sp < o->input_len && o->input[sp] != ' ')
                sp++;
            snprintf(op, sizeof op, "%.*s", (int)sp, (const char *)o->input);
            if (sp < o->input_len)
                json_value(o->input + sp + 1, o->input_len - sp - 1, arg, sizeof arg);
            bool has_res = o->status == RF_OP_OK && o->reply != NULL;
            if (has_res)
                json_value(o->reply, o->reply_len, res, sizeof res);
            rf_rec_op ro = {
                .group_id = (int64_t)g->id,
                .client = (uint32_t)o->client,
                .is_query = o->kind == RF_OP_QUERY,
                .op = op,
                .arg_json = sp < o->input_len ? arg : NULL,
                .result_json = has_res ? res : NULL,
                .status = o->status == RF_OP_OK     ? RF_REC_OP_OK
                          : o->status == RF_OP_FAIL ? RF_REC_OP_FAIL
                                                    : RF_REC_OP_UNKNOWN,
                .call_ns = o->call_ns,
                .return_ns = o->return_ns == RF_HISTORY_NO_RETURN ? 0 : o->return_ns,
            };
            (void)rf_rec_client_op(r->rec, &ro);
        }
    }
}

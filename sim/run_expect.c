/* sim/run_expect: the scenario's expectations, the leadership monitor, safety and linearizability checks. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/check.h"
#include "sim/linz.h"
#include "sim/run_int.h"
#include "sim/zone_check.h"

static const char *expect_name(const rf_scn_expect *x, char *buf, size_t cap)
{
    const char *after = x->after == RF_SCN_AFTER_START ? "start"
                        : x->after == RF_SCN_AFTER_LABEL ? x->label
                                                         : "faults";
    switch (x->kind) {
    case RF_SCN_EXP_LINEARIZABLE: snprintf(buf, cap, "linearizable"); break;
    case RF_SCN_EXP_SAFETY: snprintf(buf, cap, "safety"); break;
    case RF_SCN_EXP_LEADERS:
        snprintf(buf, cap, "leader in every group within %.3fs after %s",
                 (double)x->within_ns / 1e9, after);
        break;
    case RF_SCN_EXP_CONVERGED:
        snprintf(buf, cap, "placement converged within %.3fs after %s",
                 (double)x->within_ns / 1e9, after);
        break;
    case RF_SCN_EXP_MOVES:
        snprintf(buf, cap, "moves at most %u%s after %s", x->moves,
                 x->over_minimal ? " over minimal" : "", x->label);
        break;
    case RF_SCN_EXP_UNAVAILABLE:
        snprintf(buf, cap, "unavailability at most %.3fs per group",
                 (double)x->unavailable_ns / 1e9);
        break;
    }
    return buf;
}

void run_expect_init(rf_sim_runner *r)
{
    for (uint32_t i = 0; i < r->scn->expect_count; i++) {
        const rf_scn_expect *x = &r->scn->expects[i];
        run_expect *st = &r->expects[i];
        memset(st, 0, sizeof *st);
        st->from_known = x->after != RF_SCN_AFTER_LABEL && x->kind != RF_SCN_EXP_MOVES;
        st->from_ns = x->after == RF_SCN_AFTER_FAULTS ? r->faults_end_ns : 0;
    }
}

void run_expect_label(rf_sim_runner *r, const char *label, bool node_change, int64_t moves_min)
{
    const rf_meta *m = rf_sim_fleet_meta(r->fleet);
    for (uint32_t i = 0; i < r->scn->expect_count; i++) {
        const rf_scn_expect *x = &r->scn->expects[i];
        run_expect *st = &r->expects[i];
        if (strcmp(x->label, label) != 0 ||
            (x->after != RF_SCN_AFTER_LABEL && x->kind != RF_SCN_EXP_MOVES))
            continue;
        st->from_known = true;
        st->from_ns = rf_sim_fleet_now(r->fleet);
        /* Right after a node change the old placement is still in place:
         * convergence counts only once the metadata has the change. */
        st->needs_epoch = node_change && m != NULL;
        st->epoch = m != NULL ? rf_meta_nodes_epoch(m) : 0;
        st->moves = 0;
        st->moves_min = moves_min < 0 ? 0 : (uint64_t)moves_min;
    }
}

/* ---- leadership ---------------------------------------------------------------------- */

/* The node leading group id with a majority of its voters following it
 * in its term, or -1. */
static int established_leader(const rf_sim_runner *r, uint64_t id, uint64_t *term)
{
    int li = rf_sim_fleet_leader(r->fleet, id);
    if (li < 0)
        return -1;
    const rf_raft *lr = rf_node_group(rf_sim_fleet_node(r->fleet, (uint32_t)li), id);
    const rf_membership *mem = rf_raft_membership(lr);
    uint64_t t = rf_raft_term(lr), lid = (uint64_t)li + 1;
    uint32_t voters = 0, following = 0;
    for (uint32_t i = 0; i < mem->count; i++) {
        if (!mem->members[i].voter)
            continue;
        voters++;
        uint64_t nid = mem->members[i].id;
        const rf_node *n = nid >= 1 && nid <= r->n_nodes ? rf_sim_fleet_node(r->fleet, (uint32_t)(nid - 1)) : NULL;
        const rf_raft *m = n == NULL ? NULL : rf_node_group(n, id);
        if (m != NULL && rf_raft_term(m) == t && (nid == lid || rf_raft_leader(m) == lid))
            following++;
    }
    if (following * 2 <= voters)
        return -1;
    *term = t;
    return li;
}

/* For --verbose: what each live member of a leaderless group thinks. */
static void log_leaderless(rf_sim_runner *r, const run_group *g)
{
    char buf[512];
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < r->n_nodes && n + 64 < sizeof buf; i++) {
        const rf_node *nd = rf_sim_fleet_node(r->fleet, i);
        const rf_raft *m = nd == NULL ? NULL : rf_node_group(nd, g->id);
        if (m == NULL)
            continue;
        const rf_member *me = rf_membership_find(rf_raft_membership(m), (uint64_t)i + 1);
        n += (size_t)snprintf(buf + n, sizeof buf - n, " n%u:%s/term %" PRIu64 "/leader %" PRIu64,
                              i + 1, me == NULL ? "gone" : me->voter ? "voter" : "learner",
                              rf_raft_term(m), rf_raft_leader(m));
    }
    run_log(r, "group %s: no established leader;%s", g->name, buf);
}

static void track_leader(rf_sim_runner *r, run_group *g, uint64_t now)
{
    uint64_t term = 0;
    int li = established_leader(r, g->id, &term);
    if (li >= 0 && !g->had_leader)
        g->had_leader = true;
    if (li < 0 && g->leader >= 0)
        g->leaderless_since_ns = now;
    if (li >= 0 && g->leader < 0 && g->had_leader && g->recorded) {
        uint64_t gap = now - g->leaderless_since_ns;
        if (gap > g->gap_ns_max) {
            g->gap_ns_max = gap;
            g->gap_at_ns = g->leaderless_since_ns;
        }
    }
    if (li != g->leader || (li >= 0 && term != g->term)) {
        if (li >= 0)
            run_log(r, "group %s: leader n%d term %" PRIu64, g->name, li + 1, term);
        else
            log_leaderless(r, g);
        if (r->rec != NULL)
            (void)rf_rec_leader(r->rec, now, (int64_t)g->id, li >= 0 ? term : g->term,
                                li >= 0 ? li + 1 : RF_REC_NONE);
        g->leader = li;
        if (li >= 0)
            g->term = term;
    }
    g->recorded = true;
}

static bool all_led(const rf_sim_runner *r, char *missing, size_t cap)
{
    bool ok = true;
    size_t n = 0;
    missing[0] = '\0';
    for (uint32_t i = 0; i < r->n_groups; i++) {
        const run_group *g = &r->groups[i];
        if (g->removed || (g->id != 0 && g->leader >= 0))
            continue;
        ok = false;
        if (n + 40 < cap)
            n += (size_t)snprintf(missing + n, cap - n, "%s%s", n ? ", " : "", g->name);
    }
    return ok;
}

static bool placed(const rf_sim_runner *r, const run_expect *st)
{
    const rf_meta *m = rf_sim_fleet_meta(r->fleet);
    if (m == NULL || (st->needs_epoch && rf_meta_nodes_epoch(m) == st->epoch))
        return false;
    for (uint32_t i = 0; i < r->n_groups; i++)
        if (!r->groups[i].removed && r->groups[i].id == 0)
            return false;
    return rf_sim_fleet_converged(r->fleet);
}

static void expect_done(rf_sim_runner *r, uint32_t i, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void expect_done(rf_sim_runner *r, uint32_t i, bool ok, const char *fmt, ...)
{
    run_expect *st = &r->expects[i];
    char name[160];
    st->done = true;
    st->ok = ok;
    st->met_ns = rf_sim_fleet_now(r->fleet);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->detail, sizeof st->detail, fmt, ap);
    va_end(ap);
    expect_name(&r->scn->expects[i], name, sizeof name);
    if (!ok)
        run_fail(r, "expect %s: %s", name, st->detail);
    else
        run_log(r, "expect %s: holds (%s)", name, st->detail);
}

/* Expectations that hold or fail at a moment: checked every monitor tick. */
static void timed_expects(rf_sim_runner *r, uint64_t now, bool at_end)
{
    char missing[200];
    for (uint32_t i = 0; i < r->scn->expect_count; i++) {
        const rf_scn_expect *x = &r->scn->expects[i];
        run_expect *st = &r->expects[i];
        if (st->done || !st->from_known || now < st->from_ns)
            continue;
        uint64_t deadline = st->from_ns + x->within_ns;
        if (x->kind == RF_SCN_EXP_LEADERS) {
            if (all_led(r, missing, sizeof missing))
                expect_done(r, i, true, "every group led at %.3fs", (double)now / 1e9);
            else if (now > deadline || at_end)
                expect_done(r, i, false, "at %.3fs no established leader in: %s",
                            (double)now / 1e9, missing);
        } else if (x->kind == RF_SCN_EXP_CONVERGED || x->kind == RF_SCN_EXP_MOVES) {
            bool conv = placed(r, st);
            char why[320];
            if (x->kind == RF_SCN_EXP_CONVERGED && conv &&
                !rf_sim_fleet_zone_rule(r->fleet, why, sizeof why))
                expect_done(r, i, false, "converged at %.3fs to a placement that breaks the zone "
                            "rule: %s", (double)now / 1e9, why);
            else if (x->kind == RF_SCN_EXP_CONVERGED && conv)
                expect_done(r, i, true, "converged at %.3fs, zones round robin",
                            (double)now / 1e9);
            else if (x->kind == RF_SCN_EXP_CONVERGED && (now > deadline || at_end))
                expect_done(r, i, false, "placement not converged to the target at %.3fs",
                            (double)now / 1e9);
            else if (x->kind == RF_SCN_EXP_MOVES && (conv || at_end)) {
                uint64_t bound = x->moves + (x->over_minimal ? st->moves_min : 0);
                expect_done(r, i, st->moves <= bound,
                            "%" PRIu64 " member additions (minimal %" PRIu64 ")%s", st->moves,
                            st->moves_min, conv ? "" : ", placement never converged");
            }
        }
    }
}

/* A group whose members had no output since the monitor last looked has
 * the same roles, terms and leaders, so its established leader is the same
 * (the monitor looks again at every group when a node died). */
void run_on_groups(void *ctx, uint32_t index, const uint64_t *ids, size_t n)
{
    rf_sim_runner *r = ctx;
    (void)index;
    for (size_t i = 0; i < n; i++) {
        uint64_t g;
        if (rf_sim_u64map_get(&r->group_index, ids[i], 0, &g))
            r->groups[g].unchanged = false;
    }
}

void run_monitor(rf_sim_runner *r)
{
    uint64_t now = rf_sim_fleet_now(r->fleet);
    bool all = rf_sim_fleet_lives(r->fleet) != r->monitor_lives;
    r->monitor_lives = rf_sim_fleet_lives(r->fleet);
    for (uint32_t i = 0; i < r->n_groups; i++) {
        run_group *g = &r->groups[i];
        if (g->id == 0 || g->removed || (g->unchanged && !all))
            continue;
        if (!g->indexed)
            g->indexed = rf_sim_u64map_put(&r->group_index, g->id, 0, i) == RF_OK;
        g->unchanged = g->indexed; /* unindexed: looked at every time */
        track_leader(r, g, now);
    }
    timed_expects(r, now, false);
    /* Membership changes name the node event that caused them until the
     * placement has converged on the change; later ones have other causes. */
    const rf_meta *m = r->last_node_event != RF_REC_NONE ? rf_sim_fleet_meta(r->fleet) : NULL;
    if (m != NULL && rf_meta_nodes_epoch(m) != r->cause_epoch && rf_sim_fleet_converged(r->fleet))
        r->last_node_event = RF_REC_NONE;
}

/* ---- observation hooks: election safety, moves, agreement ---------------------------- */

void run_on_obs(void *ctx, uint32_t index, const rf_node_obs *o)
{
    rf_sim_runner *r = ctx;
    uint64_t now = rf_sim_fleet_now(r->fleet);
    if (o->kind == RF_NODE_OBS_LEADER) {
        /* Raft thesis §3.6.3 election safety: one leader per term. */
        uint64_t prev;
        if (rf_sim_u64map_get(&r->leaders, o->group_id, o->term, &prev) && prev != o->node_id) {
            run_fail(r, "safety: group %" PRIu64 " has two leaders in term %" PRIu64
                        ": n%" PRIu64 " and n%" PRIu64,
                     o->group_id, o->term, prev, o->node_id);
            r->stop_now = true;
            r->safety_failed = true;
        }
        (void)rf_sim_u64map_put(&r->leaders, o->group_id, o->term, o->node_id);
        return;
    }
    if (o->group_id == RF_META_GROUP_ID)
        return;
    if (o->kind == RF_NODE_OBS_MEMBER_ADDED)
        for (uint32_t i = 0; i < r->scn->expect_count; i++)
            if (r->expects[i].from_known && !r->expects[i].done &&
                r->scn->expects[i].kind == RF_SCN_EXP_MOVES)
                r->expects[i].moves++;
    if (r->rec == NULL)
        return;
    rf_rec_change ch = o->kind == RF_NODE_OBS_MEMBER_ADDED      ? RF_REC_ADD_LEARNER
                       : o->kind == RF_NODE_OBS_MEMBER_PROMOTED ? RF_REC_PROMOTE
                       : o->kind == RF_NODE_OBS_MEMBER_REMOVED  ? RF_REC_REMOVE
                                                                : RF_REC_CHANGE_COUNT;
    if (ch == RF_REC_CHANGE_COUNT)
        return;
    rf_rec_reason why = o->reason == RF_NODE_REASON_DRAIN     ? RF_REC_DEACTIVATE
                        : o->reason == RF_NODE_REASON_BOOT    ? RF_REC_BOOTSTRAP
                        : o->reason == RF_NODE_REASON_REMOVED ? RF_REC_GROUP_REMOVED
                                                              : RF_REC_PLACEMENT;
    (void)index;
    (void)rf_rec_membership(r->rec, now, (int64_t)o->group_id, (int64_t)o->node_id, ch, why,
                            r->last_node_event);
}

/* The fingerprint slot of (group, index), grown as needed; NULL past the
 * limits (the check then runs in part). */
static uint64_t *applied_slot(rf_sim_runner *r, uint64_t group, uint64_t index)
{
    if (group >= RUN_APPLIED_IDS_MAX || index == 0 || index > RUN_APPLIED_MAX)
        return NULL;
    if (group >= r->applied_ids) {
        size_t ids = r->applied_ids == 0 ? 64 : r->applied_ids;
        while (ids <= group)
            ids *= 2;
        run_applied *p = realloc(r->applied, ids * sizeof *p);
        if (p == NULL)
            return NULL;
        memset(p + r->applied_ids, 0, (ids - r->applied_ids) * sizeof *p);
        r->applied = p;
        r->applied_ids = ids;
    }
    run_applied *g = &r->applied[group];
    if (index > g->n) {
        if (index > g->cap) {
            size_t cap = g->cap == 0 ? 64 : g->cap;
            while (cap < index)
                cap *= 2;
            if (r->applied_kept + (cap - g->cap) > RUN_APPLIED_MAX)
                return NULL;
            uint64_t *fp = realloc(g->fp, cap * sizeof *fp);
            if (fp == NULL)
                return NULL;
            memset(fp + g->cap, 0, (cap - g->cap) * sizeof *fp);
            r->applied_kept += cap - g->cap;
            g->fp = fp;
            g->cap = cap;
        }
        g->n = index;
    }
    return &g->fp[index - 1];
}

/* Raft thesis §3.6.3 state machine safety: replicas that apply an index
 * apply the same entry with the same result (which also catches a data
 * model that is not deterministic). */
void run_on_applied(void *ctx, uint32_t index, const rf_node_applied *a)
{
    rf_sim_runner *r = ctx;
    uint8_t head[8 * 4 + 4];
    uint64_t v[4] = {a->a.term, a->a.client_id, a->a.sequence, (uint64_t)(uint32_t)a->a.status};
    memcpy(head, v, sizeof v);
    head[32] = a->a.kind;
    head[33] = a->a.duplicate;
    head[34] = 0;
    head[35] = 0;
    uint64_t fp = rf_sim_check_hash(head, sizeof head) ^
                  rf_sim_check_hash(a->a.reply, a->a.reply_len) * 0x9E3779B97F4A7C15ull;
    fp += fp == 0; /* 0 marks an index nobody applied yet */
    uint64_t *slot = applied_slot(r, a->group_id, a->a.index);
    if (slot == NULL) {
        r->applied_full = true;
        return;
    }
    if (*slot != 0) {
        if (*slot != fp) {
            run_fail(r, "safety: replicas of group %" PRIu64 " applied different entries or "
                        "results at index %" PRIu64 " (n%u differs; a model that is not "
                        "deterministic also shows here)",
                     a->group_id, a->a.index, index + 1);
            r->stop_now = true;
            r->safety_failed = true;
        }
        return;
    }
    *slot = fp;
}

/* ---- the end ---------------------------------------------------------------------------- */

void run_linz(rf_sim_runner *r)
{
    for (uint32_t x = 0; x < r->scn->expect_count; x++) {
        if (r->scn->expects[x].kind != RF_SCN_EXP_LINEARIZABLE)
            continue;
        size_t groups = 0, ops = 0, unknown = 0;
        bool ok = true;
        for (uint32_t i = 0; i < r->n_groups && ok; i++) {
            run_group *g = &r->groups[i];
            if (!g->hist_ok || g->hist.count == 0)
                continue;
            rf_linz_result lr;
            int rc = rf_linz_check(run_model(r, g->model), &g->hist, NULL, &lr);
            groups++;
            ops += g->hist.count;
            if (rc != RF_OK) {
                expect_done(r, x, false, "group %s: the checker failed: %s", g->name,
                            rf_errname(rc));
                ok = false;
            } else if (lr.verdict == RF_LINZ_VIOLATION) {
                char why[200];
                rf_linz_explain(&g->hist, &lr, why, sizeof why);
                expect_done(r, x, false, "group %s (%zu ops): %s", g->name, g->hist.count, why);
                ok = false;
            } else if (lr.verdict == RF_LINZ_UNKNOWN) {
                unknown++;
            }
            rf_linz_result_close(&lr);
        }
        if (ok)
            expect_done(r, x, true, "%zu groups, %zu ops%s", groups, ops,
                        unknown ? " (some groups undecided: step budget)" : "");
        r->expects[x].unknown = unknown;
    }
}

void run_expect_finish(rf_sim_runner *r)
{
    uint64_t now = rf_sim_fleet_now(r->fleet);
    run_monitor(r);
    timed_expects(r, now, true);
    char name[160];
    for (uint32_t i = 0; i < r->scn->expect_count; i++) {
        const rf_scn_expect *x = &r->scn->expects[i];
        run_expect *st = &r->expects[i];
        if (x->kind == RF_SCN_EXP_UNAVAILABLE) {
            uint64_t worst = 0;
            const char *which = "";
            for (uint32_t g = 0; g < r->n_groups; g++) {
                run_group *gr = &r->groups[g];
                uint64_t gap = gr->gap_ns_max;
                if (gr->had_leader && gr->leader < 0 && !gr->removed &&
                    now - gr->leaderless_since_ns > gap)
                    gap = now - gr->leaderless_since_ns;
                if (gap > worst) {
                    worst = gap;
                    which = gr->name;
                }
            }
            expect_done(r, i, worst <= x->unavailable_ns, "longest time without a leader %.3fs%s%s",
                        (double)worst / 1e9, which[0] ? " in " : "", which);
        } else if (x->kind == RF_SCN_EXP_SAFETY) {
            expect_done(r, i, !r->safety_failed, "%s%s",
                        r->checking ? "Raft invariants of every group after every batch (sim/check), "
                                      "one leader per term, equal applied entries at equal indexes"
                                    : "one leader per term, equal applied entries at equal indexes "
                                      "(too many groups for sim/check)",
                        r->applied_full ? " (agreement table full: checked in part)" : "");
        } else if (!st->done && x->kind != RF_SCN_EXP_LINEARIZABLE) {
            expect_done(r, i, false, "%s never happened", x->label[0] ? x->label : "its moment");
        }
        (void)name;
    }
}

const char *run_expect_text(const rf_sim_runner *r, uint32_t i, char *buf, size_t cap)
{
    return expect_name(&r->scn->expects[i], buf, cap);
}

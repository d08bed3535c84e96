/* sim/cluster_ops: faults, membership and leadership requests, and accessors of the cluster harness. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/cluster_int.h"

rf_sim_engine *rf_sim_cluster_engine(rf_sim_cluster *c) { return &c->eng; }
rf_sim_net *rf_sim_cluster_net(rf_sim_cluster *c) { return &c->net; }
const rf_sim_check *rf_sim_cluster_check(const rf_sim_cluster *c) { return &c->check; }
uint64_t rf_sim_cluster_now(const rf_sim_cluster *c) { return c->eng.now_ns; }

uint64_t rf_sim_cluster_run_until(rf_sim_cluster *c, uint64_t until_ns)
{
    rf_sim_engine_run_until(&c->eng, until_ns);
    return c->check.violations;
}

static sim_node *node_at(rf_sim_cluster *c, uint32_t node)
{
    ASSERT(node < c->cfg.nodes);
    return &c->nodes[node];
}

static void drop_deferred(sim_node *n)
{
    for (uint32_t k = 0; k < n->n_deferred; k++)
        free(n->deferred[k].ptr);
    n->n_deferred = 0;
}

void rf_sim_cluster_crash(rf_sim_cluster *c, uint32_t node)
{
    sim_node *n = node_at(c, node);
    if (!n->up)
        return;
    rf_raft_counters ctr;
    rf_raft_counters_get(n->raft, &ctr);
    n->rejected_before += ctr.msgs_rejected;
    rf_raft_close(n->raft);
    n->raft = NULL;
    n->up = false;
    n->paused = false;
    n->epoch++;
    drop_deferred(n);
    sim_disk_crash(c, n);
    c->stats.crashes++;
    sim_log(c, "n%u: crash", node + 1);
}

int rf_sim_cluster_restart(rf_sim_cluster *c, uint32_t node)
{
    sim_node *n = node_at(c, node);
    if (n->up)
        return RF_EINVAL;
    int rc = sim_node_start(c, n);
    if (rc != RF_OK) {
        /* The member refuses its own durable state: a lost durable write
         * the member relied on, or a restore bug. Either breaks safety. */
        rf_sim_check_fail(&c->check, RF_SIM_V_HARNESS, "n%u cannot restart from its durable state: %s",
                          node + 1, rf_errname(rc));
        rf_sim_engine_stop(&c->eng);
        return rc;
    }
    c->stats.restarts++;
    sim_log(c, "n%u: restart (durable last %" PRIu64 ", term %" PRIu64 ")", node + 1,
            rf_sim_cluster_durable_last(c, node), n->durable.term);
    return RF_OK;
}

void rf_sim_cluster_pause(rf_sim_cluster *c, uint32_t node)
{
    sim_node *n = node_at(c, node);
    if (!n->up || n->paused)
        return;
    n->paused = true;
    c->stats.pauses++;
    sim_log(c, "n%u: pause", node + 1);
}

void rf_sim_cluster_resume(rf_sim_cluster *c, uint32_t node)
{
    sim_node *n = node_at(c, node);
    if (!n->paused)
        return;
    n->paused = false;
    /* What arrived meanwhile is handled now, in arrival order. */
    for (uint32_t k = 0; k < n->n_deferred; k++) {
        rf_sim_event ev = n->deferred[k];
        if (rf_sim_engine_at(&c->eng, c->eng.now_ns, ev.kind, ev.node, ev.arg, ev.ptr) != RF_OK)
            free(ev.ptr);
    }
    n->n_deferred = 0;
    sim_node_ticks(c, n, 1);
    sim_log(c, "n%u: resume", node + 1);
}

int rf_sim_cluster_set_drift(rf_sim_cluster *c, uint32_t node, int32_t drift_ppm)
{
    sim_node *n = node_at(c, node);
    if (drift_ppm <= -RF_SIM_DRIFT_PPM_MAX || drift_ppm >= RF_SIM_DRIFT_PPM_MAX)
        return RF_ERANGE;
    /* Rebase so the node's clock stays continuous and monotonic. */
    uint64_t d = c->eng.now_ns - n->virt_base_ns;
    __int128 scaled = (__int128)d * (1000000 + (__int128)n->drift_ppm) / 1000000;
    n->local_base_ns += (uint64_t)scaled;
    n->virt_base_ns = c->eng.now_ns;
    n->drift_ppm = drift_ppm;
    return RF_OK;
}

bool rf_sim_cluster_is_up(const rf_sim_cluster *c, uint32_t node)
{
    ASSERT(node < c->cfg.nodes);
    return c->nodes[node].up;
}

bool rf_sim_cluster_is_paused(const rf_sim_cluster *c, uint32_t node)
{
    ASSERT(node < c->cfg.nodes);
    return c->nodes[node].paused;
}

void rf_sim_cluster_heal_all(rf_sim_cluster *c)
{
    rf_sim_net_heal(&c->net);
    c->net.cfg = c->net_cfg0;
    c->net.cfg.loss_ppm = 0;
    c->net.cfg.dup_ppm = 0;
    c->net.cfg.tail_ppm = 0;
    for (uint32_t i = 0; i < c->cfg.nodes && !c->eng.stopped; i++) {
        if (!c->nodes[i].up)
            rf_sim_cluster_restart(c, i);
        rf_sim_cluster_resume(c, i);
        (void)rf_sim_cluster_set_drift(c, i, 0);
    }
    sim_log(c, "heal everything");
}

int rf_sim_cluster_leader(const rf_sim_cluster *c)
{
    int best = -1;
    uint64_t best_term = 0;
    for (uint32_t i = 0; i < c->cfg.nodes; i++) {
        const rf_raft *r = c->nodes[i].raft;
        if (r == NULL || c->nodes[i].paused || rf_raft_role(r) != RF_ROLE_LEADER)
            continue;
        if (best < 0 || rf_raft_term(r) > best_term) {
            best = (int)i;
            best_term = rf_raft_term(r);
        }
    }
    return best;
}

int rf_sim_cluster_admin(rf_sim_cluster *c, rf_sim_admin what, uint32_t node)
{
    ASSERT(node < c->cfg.nodes);
    int l = rf_sim_cluster_leader(c);
    if (l < 0)
        return RF_ENOLEADER;
    sim_node *n = &c->nodes[l];
    uint64_t req = ++c->admin_counter;
    uint64_t id = node + 1;
    static const char *names[] = {"add learner", "promote", "remove", "transfer to"};
    int rc;
    sim_node_clock(c, n);
    switch (what) {
    case RF_SIM_ADD_LEARNER: rc = rf_raft_add_learner(n->raft, req, id); break;
    case RF_SIM_PROMOTE: rc = rf_raft_promote(n->raft, req, id); break;
    case RF_SIM_REMOVE: rc = rf_raft_remove(n->raft, req, id); break;
    case RF_SIM_TRANSFER: rc = rf_raft_transfer(n->raft, req, id); break;
    default: UNREACHABLE();
    }
    sim_log(c, "admin at n%d: %s n%u -> %s", l + 1, names[what], node + 1, rf_errname(rc));
    sim_node_drain(c, n);
    return rc;
}

const rf_raft *rf_sim_cluster_raft(const rf_sim_cluster *c, uint32_t node)
{
    ASSERT(node < c->cfg.nodes);
    return c->nodes[node].raft;
}

uint64_t rf_sim_cluster_durable_last(const rf_sim_cluster *c, uint32_t node)
{
    ASSERT(node < c->cfg.nodes);
    const sim_durable *d = &c->nodes[node].durable;
    if (d->n_entries > 0)
        return d->entries[d->n_entries - 1].index;
    return d->has_snapshot ? d->snap.index : 0;
}

uint64_t rf_sim_cluster_durable_term(const rf_sim_cluster *c, uint32_t node)
{
    ASSERT(node < c->cfg.nodes);
    return c->nodes[node].durable.term;
}

uint32_t rf_sim_cluster_writes_in_flight(const rf_sim_cluster *c, uint32_t node)
{
    ASSERT(node < c->cfg.nodes);
    uint32_t k = 0;
    for (const sim_write *w = c->nodes[node].wq_head; w != NULL; w = w->next)
        k++;
    return k;
}

void rf_sim_cluster_stats_get(const rf_sim_cluster *c, rf_sim_cluster_stats *out)
{
    *out = c->stats;
    out->ops_ok = out->ops_fail = out->ops_unknown = out->ops_pending = 0;
    for (uint64_t i = 0; i < c->n_ops; i++) {
        switch (c->ops[i].status) {
        case RF_SIM_OP_PENDING: out->ops_pending++; break;
        case RF_SIM_OP_OK: out->ops_ok++; break;
        case RF_SIM_OP_FAIL: out->ops_fail++; break;
        case RF_SIM_OP_UNKNOWN: out->ops_unknown++; break;
        }
    }
    out->msgs_rejected = 0;
    for (uint32_t i = 0; i < c->cfg.nodes; i++) {
        const sim_node *n = &c->nodes[i];
        out->msgs_rejected += n->rejected_before;
        if (n->raft != NULL) {
            rf_raft_counters ctr;
            rf_raft_counters_get(n->raft, &ctr);
            out->msgs_rejected += ctr.msgs_rejected;
        }
    }
}

const rf_sim_op *rf_sim_cluster_ops(const rf_sim_cluster *c, uint64_t *n)
{
    *n = c->n_ops;
    return c->ops;
}

uint64_t rf_sim_cluster_violations(const rf_sim_cluster *c)
{
    return c->check.violations;
}

const rf_sim_violation *rf_sim_cluster_first_violation(const rf_sim_cluster *c)
{
    return c->check.violations > 0 ? &c->check.first : NULL;
}

void rf_sim_cluster_fail(rf_sim_cluster *c, rf_sim_violation_kind kind, const char *text)
{
    rf_sim_check_fail(&c->check, kind, "%s", text);
    sim_log(c, "VIOLATION %s", c->check.first.text);
    rf_sim_engine_stop(&c->eng);
}

void rf_sim_cluster_dump(const rf_sim_cluster *c, FILE *f)
{
    static const char *roles[] = {"?", "follower", "precandidate", "candidate", "leader"};
    for (uint32_t i = 0; i < c->cfg.nodes; i++) {
        const sim_node *n = &c->nodes[i];
        fprintf(f, "  n%u: ", i + 1);
        if (n->raft == NULL) {
            fprintf(f, "down (durable last %" PRIu64 ", term %" PRIu64 ")\n",
                    rf_sim_cluster_durable_last(c, i), n->durable.term);
            continue;
        }
        const rf_raft *r = n->raft;
        rf_role role = rf_raft_role(r);
        fprintf(f,
                "%s%s term %" PRIu64 " leader %" PRIu64 " commit %" PRIu64 " applied %" PRIu64
                " log %" PRIu64 "..%" PRIu64 " durable %" PRIu64 " writes %u config",
                n->paused ? "paused " : "", role <= RF_ROLE_LEADER ? roles[role] : "?",
                rf_raft_term(r), rf_raft_leader(r), rf_raft_commit_index(r),
                rf_raft_applied_index(r), rf_raft_first_index(r), rf_raft_last_index(r),
                rf_sim_cluster_durable_last(c, i), rf_sim_cluster_writes_in_flight(c, i));
        const rf_membership *m = rf_raft_membership(r);
        for (uint32_t k = 0; k < m->count; k++)
            fprintf(f, " %s%" PRIu64, m->members[k].voter ? "v" : "l", m->members[k].id);
        fputc('\n', f);
    }
}

/* sim/fleet_check: per-group Raft safety checkers fed from rf_node batches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/fleet_check.h"

#include "fleet/rf_node_store.h"

#define FLEET_CHECK_ENTRIES_MAX (1u << 20)

typedef struct group_check {
    uint64_t group;
    rf_sim_check check;
} group_check;

struct rf_sim_fleet_check {
    uint32_t nodes;
    group_check **groups; /* sorted by group id */
    size_t n, cap;
    uint64_t violations; /* found outside the per-group checkers */
    rf_sim_violation first;
};

int rf_sim_fleet_check_create(uint32_t nodes, rf_sim_fleet_check **out)
{
    rf_sim_fleet_check *k = calloc(1, sizeof *k);
    if (k == NULL)
        return RF_ENOMEM;
    k->nodes = nodes;
    *out = k;
    return RF_OK;
}

void rf_sim_fleet_check_close(rf_sim_fleet_check *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->n; i++) {
        rf_sim_check_close(&k->groups[i]->check);
        free(k->groups[i]);
    }
    free(k->groups);
    free(k);
}

static void harness_fail(rf_sim_fleet_check *k, const char *text)
{
    if (k->violations++ == 0) {
        k->first.kind = RF_SIM_V_HARNESS;
        snprintf(k->first.text, sizeof k->first.text, "%s", text);
    }
}

/* The checker of group, created on first use; NULL when out of room. */
static rf_sim_check *group_checker(rf_sim_fleet_check *k, uint64_t group)
{
    size_t lo = 0, hi = k->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->groups[mid]->group < group)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < k->n && k->groups[lo]->group == group)
        return &k->groups[lo]->check;
    if (k->n >= RF_SIM_FLEET_CHECK_GROUPS_MAX) {
        harness_fail(k, "too many groups to check");
        return NULL;
    }
    if (k->n == k->cap) {
        size_t cap = k->cap == 0 ? 16 : k->cap * 2;
        group_check **g = realloc(k->groups, cap * sizeof *g);
        if (g == NULL) {
            harness_fail(k, "out of memory");
            return NULL;
        }
        k->groups = g;
        k->cap = cap;
    }
    group_check *gc = calloc(1, sizeof *gc);
    if (gc == NULL || rf_sim_check_init(&gc->check, group, k->nodes, FLEET_CHECK_ENTRIES_MAX) != 0) {
        free(gc);
        harness_fail(k, "out of memory");
        return NULL;
    }
    gc->group = group;
    memmove(&k->groups[lo + 1], &k->groups[lo], (k->n - lo) * sizeof *k->groups);
    k->groups[lo] = gc;
    k->n++;
    return &gc->check;
}

static void mirror_write(rf_sim_check *c, uint32_t node, const rf_node_write *w)
{
    if (w->has_snapshot)
        rf_sim_check_snapshot(c, node, w->snapshot.index, w->snapshot.term);
    uint64_t from = w->n_entries > 0 ? w->entries[0].index : 0;
    if (w->truncate_from != 0 && w->truncate_from != from &&
        w->truncate_from <= rf_sim_check_last_index(c, node))
        rf_sim_check_append(c, node, w->truncate_from, NULL, NULL, 0);
    uint64_t terms[256], ph[256];
    for (size_t i = 0; i < w->n_entries; i += 256) {
        size_t m = w->n_entries - i < 256 ? w->n_entries - i : 256;
        for (size_t j = 0; j < m; j++) {
            const rf_entry *e = &w->entries[i + j];
            terms[j] = e->term;
            ph[j] = rf_sim_check_payload(e->kind, e->client_id, e->sequence, e->data, e->len);
        }
        rf_sim_check_append(c, node, w->entries[i].index, terms, ph, m);
    }
}

static void check_applied(rf_sim_check *c, uint32_t node, const rf_raft *r,
                          const rf_node_applied *na)
{
    const rf_applied *a = &na->a;
    rf_entry e;
    uint64_t ph = 0;
    if (r != NULL && rf_raft_entry(r, a->index, &e) == RF_OK)
        ph = rf_sim_check_payload(e.kind, e.client_id, e.sequence, e.data, e.len);
    else if (c->committed_len >= a->index)
        ph = c->committed[a->index - 1].phash;
    uint64_t rh = rf_sim_check_hash(a->reply, a->reply_len) ^ (uint64_t)(uint32_t)a->status;
    bool is_cmd = a->kind == RF_ENTRY_COMMAND && a->client_id != 0;
    rf_sim_check_apply(c, node, a->index, a->term, ph, is_cmd, a->client_id, a->sequence, rh);
}

void rf_sim_fleet_check_batch(rf_sim_fleet_check *k, uint32_t index, const rf_node *n,
                              const rf_node_batch *b)
{
    /* Members started or stopped since the last batch begin empty. */
    for (size_t i = 0; i < b->n_obs; i++) {
        const rf_node_obs *o = &b->obs[i];
        if (o->kind != RF_NODE_OBS_GROUP_STARTED && o->kind != RF_NODE_OBS_GROUP_STOPPED)
            continue;
        rf_sim_check *c = group_checker(k, o->group_id);
        if (c != NULL)
            rf_sim_check_node_reset(c, index, 0, 0);
    }
    for (size_t i = 0; i < b->n_writes; i++) {
        /* The node's own journal is no Raft log; a drop follows a stop (above). */
        if (b->writes[i].group_id == RF_NODE_JOURNAL_GROUP || b->writes[i].drop)
            continue;
        rf_sim_check *c = group_checker(k, b->writes[i].group_id);
        if (c != NULL)
            mirror_write(c, index, &b->writes[i]);
    }
    for (size_t i = 0; i < b->n_applied; i++) {
        rf_sim_check *c = group_checker(k, b->applied[i].group_id);
        const rf_raft *r = rf_node_group(n, b->applied[i].group_id);
        if (c == NULL)
            continue;
        /* The commit that allowed the application, first (sim/cluster's order). */
        if (r != NULL && (i == 0 || b->applied[i - 1].group_id != b->applied[i].group_id))
            rf_sim_check_commit(c, index, rf_raft_commit_index(r), rf_raft_term(r));
        check_applied(c, index, r, &b->applied[i]);
    }
}

void rf_sim_fleet_check_after(rf_sim_fleet_check *k, uint32_t index, const rf_node *n)
{
    for (size_t i = 0; i < rf_node_group_count(n); i++) {
        const rf_raft *r = rf_node_group_at(n, i);
        rf_sim_check *c = group_checker(k, rf_raft_group(r));
        if (c == NULL)
            continue;
        if (rf_raft_role(r) == RF_ROLE_LEADER)
            rf_sim_check_leader(c, index, rf_raft_term(r));
        rf_sim_check_commit(c, index, rf_raft_commit_index(r), rf_raft_term(r));
        uint64_t last = rf_raft_last_index(r);
        rf_sim_check_last(c, index, last, rf_raft_term_at(r, last));
        rf_sim_check_digest(c, index, rf_raft_applied_index(r), rf_raft_digest(r));
    }
}

uint64_t rf_sim_fleet_check_violations(const rf_sim_fleet_check *k,
                                       const rf_sim_violation **first)
{
    uint64_t v = k->violations;
    const rf_sim_violation *f = k->violations > 0 ? &k->first : NULL;
    for (size_t i = 0; i < k->n; i++) {
        const rf_sim_check *c = &k->groups[i]->check;
        if (c->violations > 0 && f == NULL)
            f = &c->first;
        v += c->violations;
    }
    if (first != NULL)
        *first = f;
    return v;
}

uint64_t rf_sim_fleet_check_count(const rf_sim_fleet_check *k)
{
    uint64_t n = 0;
    for (size_t i = 0; i < k->n; i++)
        n += k->groups[i]->check.checks;
    return n;
}

void rf_sim_fleet_check_restart(rf_sim_fleet_check *k, uint32_t index, const rf_node *n)
{
    /* The crash took every member the node had; the restored ones start
     * from their durable logs (and re-apply from their snapshots). */
    for (size_t i = 0; i < k->n; i++)
        rf_sim_check_node_reset(&k->groups[i]->check, index, 0, 0);
    for (size_t i = 0; i < rf_node_group_count(n); i++) {
        const rf_raft *r = rf_node_group_at(n, i);
        rf_sim_check *c = group_checker(k, rf_raft_group(r));
        if (c == NULL)
            continue;
        uint64_t snap = rf_raft_snapshot_index(r);
        rf_sim_check_node_reset(c, index, snap, rf_raft_term_at(r, snap));
        for (uint64_t x = snap + 1; x <= rf_raft_last_index(r); x++) {
            rf_entry e;
            if (rf_raft_entry(r, x, &e) != RF_OK) {
                harness_fail(k, "a restored member's entry cannot be read back");
                return;
            }
            uint64_t ph = rf_sim_check_payload(e.kind, e.client_id, e.sequence, e.data, e.len);
            rf_sim_check_append(c, index, x, &e.term, &ph, 1);
        }
    }
}

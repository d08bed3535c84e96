/* sim/fleet_check: per-group Raft safety checkers fed from rf_node batches. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/fleet_check.h"

#include "fleet/rf_node_store.h"

#define FLEET_CHECK_ENTRIES_MAX (1u << 20)
#define FLEET_CHECK_HINTS 1024u

typedef struct group_check {
    uint64_t group;
    rf_sim_check check;
    uint64_t mark;    /* == the checker's epoch: in the touched list */
    uint64_t counted; /* violations already in group_violations */
    /* Per node: 1 + the applied index whose model digest was compared, 0
     * none. A model changes only by applying (queries see a const state),
     * so the digest is taken again only when the applied index moves, a
     * snapshot is written or the member starts over. */
    uint64_t digested[RF_SIM_NODES_MAX];
    uint64_t top_term; /* the highest term a leader was seen in */
} group_check;

struct rf_sim_fleet_check {
    uint32_t nodes;
    group_check **groups; /* sorted by group id */
    size_t n, cap;
    uint64_t violations; /* found outside the per-group checkers */
    rf_sim_violation first;
    /* The groups the batches of one node's drain touched, checked after it
     * (rf_sim_fleet_check_after): the others have no output, so nothing a
     * checker compares has moved. */
    group_check **touched;
    size_t n_touched, cap_touched;
    uint32_t touched_node;
    uint64_t epoch;
    uint64_t group_violations; /* sum over the groups, kept up to date */
    uint32_t hint[FLEET_CHECK_HINTS]; /* group id % size -> a likely position in groups */
    rf_sim_fleet_peek peek; /* NULL: leases go unchecked */
    void *peek_ctx;
};

int rf_sim_fleet_check_create(uint32_t nodes, rf_sim_fleet_check **out)
{
    rf_sim_fleet_check *k = calloc(1, sizeof *k);
    if (k == NULL)
        return RF_ENOMEM;
    k->nodes = nodes;
    k->epoch = 1;
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
    free(k->touched);
    free(k);
}

void rf_sim_fleet_check_peek(rf_sim_fleet_check *k, rf_sim_fleet_peek peek, void *ctx)
{
    k->peek = peek;
    k->peek_ctx = ctx;
}

static void harness_fail(rf_sim_fleet_check *k, const char *text)
{
    if (k->violations++ == 0) {
        k->first.kind = RF_SIM_V_HARNESS;
        snprintf(k->first.text, sizeof k->first.text, "%s", text);
    }
}

/* The checker of group, created on first use; NULL when out of room. */
static group_check *group_entry(rf_sim_fleet_check *k, uint64_t group)
{
    /* A self-checking memo first: the position must still hold the id. */
    uint32_t *hint = &k->hint[group % FLEET_CHECK_HINTS];
    if (*hint < k->n && k->groups[*hint]->group == group)
        return k->groups[*hint];
    size_t lo = 0, hi = k->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->groups[mid]->group < group)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < k->n && k->groups[lo]->group == group) {
        *hint = (uint32_t)lo;
        return k->groups[lo];
    }
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
    return gc;
}

/* Group joins the list of what the drain under way touched. */
static group_check *touch(rf_sim_fleet_check *k, uint64_t group)
{
    group_check *gc = group_entry(k, group);
    if (gc == NULL || gc->mark == k->epoch)
        return gc;
    if (k->n_touched == k->cap_touched) {
        size_t cap = k->cap_touched == 0 ? 64 : k->cap_touched * 2;
        group_check **t = realloc(k->touched, cap * sizeof *t);
        if (t == NULL) {
            harness_fail(k, "out of memory");
            return gc;
        }
        k->touched = t;
        k->cap_touched = cap;
    }
    gc->mark = k->epoch;
    k->touched[k->n_touched++] = gc;
    return gc;
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

/* The member's commit index; a leader's advance to a new index is held to
 * the commit rule first. */
static void check_commit(rf_sim_check *c, uint32_t node, const rf_raft *r)
{
    uint64_t commit = rf_raft_commit_index(r);
    if (rf_raft_role(r) == RF_ROLE_LEADER &&
        !rf_sim_check_leader_commit(c, node, commit, rf_raft_term(r)))
        return;
    rf_sim_check_commit(c, node, commit, rf_raft_term(r));
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

/* Adds what group's checker found since it was last counted. */
static void count(rf_sim_fleet_check *k, group_check *gc)
{
    k->group_violations += gc->check.violations - gc->counted;
    gc->counted = gc->check.violations;
}

static void touched_reset(rf_sim_fleet_check *k)
{
    for (size_t i = 0; i < k->n_touched; i++)
        count(k, k->touched[i]);
    k->n_touched = 0;
    k->epoch++;
}

void rf_sim_fleet_check_batch(rf_sim_fleet_check *k, uint32_t index, const rf_node *n,
                              const rf_node_batch *b)
{
    if (k->n_touched > 0 && k->touched_node != index)
        touched_reset(k); /* a drain cut short (its node died) */
    k->touched_node = index;
    /* Members started or stopped since the last batch begin empty. */
    for (size_t i = 0; i < b->n_obs; i++) {
        const rf_node_obs *o = &b->obs[i];
        if (o->kind != RF_NODE_OBS_GROUP_STARTED && o->kind != RF_NODE_OBS_GROUP_STOPPED)
            continue;
        group_check *gc = touch(k, o->group_id);
        if (gc == NULL)
            continue;
        rf_sim_check_node_reset(&gc->check, index, 0, 0);
        gc->digested[index] = 0;
    }
    for (size_t i = 0; i < b->n_groups; i++)
        (void)touch(k, b->groups[i]);
    for (size_t i = 0; i < b->n_writes; i++) {
        /* The node's own journal is no Raft log; a drop follows a stop (above). */
        if (b->writes[i].group_id == RF_NODE_JOURNAL_GROUP || b->writes[i].drop)
            continue;
        group_check *gc = touch(k, b->writes[i].group_id);
        if (gc == NULL)
            continue;
        mirror_write(&gc->check, index, &b->writes[i]);
        if (b->writes[i].has_snapshot)
            gc->digested[index] = 0;
    }
    for (size_t i = 0; i < b->n_applied; i++) {
        group_check *gc = touch(k, b->applied[i].group_id);
        const rf_raft *r = rf_node_group(n, b->applied[i].group_id);
        if (gc == NULL)
            continue;
        /* The commit that allowed the application, first (sim/cluster's order). */
        if (r != NULL && (i == 0 || b->applied[i - 1].group_id != b->applied[i].group_id))
            check_commit(&gc->check, index, r);
        check_applied(&gc->check, index, r, &b->applied[i]);
    }
}

/* Real (simulated) nanoseconds until a clock running drift_ppm fast
 * reads `until`, from `clock` now; 0 when it already does. */
static uint64_t real_until(uint64_t until, uint64_t clock, int32_t drift_ppm)
{
    if (until <= clock)
        return 0;
    if (until == UINT64_MAX)
        return UINT64_MAX;
    return (uint64_t)((unsigned __int128)(until - clock) * 1000000u / (uint64_t)(1000000 + drift_ppm));
}

/* The other side of a lease: the voters that do not refuse votes until
 * the lease ends, in real time, must not be a majority (the leader
 * refuses: it votes for nobody), or a newer leader could be elected under
 * it. A voter counts when
 * its node is down or hosts no member (neither votes before an election
 * timeout from its start) or when its member refuses votes that long
 * (rf_raft_votes_refused_until_ns, on its own clock). This needs no
 * election to happen: it sees a lease that forgets its drift margin as
 * soon as a leader with a slow clock holds one over followers with fast
 * clocks. */
static void check_lease_quorum(rf_sim_fleet_check *k, group_check *gc, uint32_t index,
                               const rf_raft *r, uint64_t until, uint64_t clock, int32_t ppm)
{
    uint64_t lease_left = real_until(until, clock, ppm);
    const rf_membership *m = rf_raft_membership(r);
    uint32_t voters = 0, refusing = 0;
    for (uint32_t i = 0; i < m->count; i++) {
        if (!m->members[i].voter)
            continue;
        voters++;
        uint64_t id = m->members[i].id;
        const rf_node *n;
        uint64_t c;
        int32_t d;
        if (id == (uint64_t)index + 1 || id > k->nodes ||
            !k->peek(k->peek_ctx, (uint32_t)(id - 1), &n, &c, &d)) {
            refusing++;
            continue;
        }
        const rf_raft *v = rf_node_group(n, gc->group);
        if (v == NULL || real_until(rf_raft_votes_refused_until_ns(v), c, d) >= lease_left)
            refusing++;
    }
    if (2 * (voters - refusing) > voters)
        rf_sim_check_fail(&gc->check, RF_SIM_V_LEASE,
                          "n%u leads term %" PRIu64 " with a lease %" PRIu64
                          " ns longer, but %u of %u voters may vote before then",
                          index + 1, rf_raft_term(r), lease_left, voters - refusing, voters);
}

/* The leader lease (Raft thesis §6.4.1): a leader answers reads alone
 * until its lease ends on its own clock, so no newer leader may exist
 * before then. Checked both ways: when a leader of a new highest term
 * shows up, against every older-term leader's lease on that leader's
 * clock now; whenever an older-term leader holds a lease past a newer
 * leader's election (a late acknowledgement must not renew it); and, for
 * the newest leader, that a majority refuses votes until its lease ends
 * (check_lease_quorum). */
static void check_lease(rf_sim_fleet_check *k, group_check *gc, uint32_t index, const rf_raft *r)
{
    uint64_t term = rf_raft_term(r);
    const rf_node *n;
    uint64_t clock;
    int32_t ppm;
    uint64_t until = rf_raft_lease_until_ns(r);
    if (term < gc->top_term) {
        if (until != 0 && k->peek(k->peek_ctx, index, &n, &clock, &ppm) && until > clock)
            rf_sim_check_fail(&gc->check, RF_SIM_V_LEASE,
                              "n%u leads term %" PRIu64 " with a lease %" PRIu64
                              " ns long after a leader of term %" PRIu64 " was elected",
                              index + 1, term, until - clock, gc->top_term);
        return;
    }
    if (term == gc->top_term) {
        if (until != 0 && k->peek(k->peek_ctx, index, &n, &clock, &ppm) && until > clock)
            check_lease_quorum(k, gc, index, r, until, clock, ppm);
        return;
    }
    gc->top_term = term;
    for (uint32_t j = 0; j < k->nodes; j++) {
        if (j == index || !k->peek(k->peek_ctx, j, &n, &clock, &ppm))
            continue;
        const rf_raft *old = rf_node_group(n, gc->group);
        uint64_t old_until = old == NULL ? 0 : rf_raft_lease_until_ns(old);
        if (old_until > clock && rf_raft_term(old) < term)
            rf_sim_check_fail(&gc->check, RF_SIM_V_LEASE,
                              "n%u won term %" PRIu64 " while n%u, leader of term %" PRIu64
                              ", held its lease %" PRIu64 " ns longer",
                              index + 1, term, j + 1, rf_raft_term(old), old_until - clock);
    }
}

/* Leader, lease, commit, last entry and model digest of node index's member. */
static void check_member(rf_sim_fleet_check *k, group_check *gc, uint32_t index, const rf_raft *r,
                         bool digest_always)
{
    rf_sim_check *c = &gc->check;
    if (rf_raft_role(r) == RF_ROLE_LEADER) {
        rf_sim_check_leader(c, index, rf_raft_term(r));
        if (k->peek != NULL)
            check_lease(k, gc, index, r);
    }
    check_commit(c, index, r);
    uint64_t last = rf_raft_last_index(r);
    rf_sim_check_last(c, index, last, rf_raft_term_at(r, last));
    uint64_t applied = rf_raft_applied_index(r);
    if (!digest_always && gc->digested[index] == applied + 1)
        return;
    rf_sim_check_digest(c, index, applied, rf_raft_digest(r));
    gc->digested[index] = applied + 1;
}

void rf_sim_fleet_check_after(rf_sim_fleet_check *k, uint32_t index, const rf_node *n)
{
    if (k->touched_node == index) {
        for (size_t i = 0; i < k->n_touched; i++) {
            group_check *gc = k->touched[i];
            const rf_raft *r = rf_node_group(n, gc->group);
            if (r != NULL)
                check_member(k, gc, index, r, false);
        }
    }
    touched_reset(k);
}

void rf_sim_fleet_check_sweep(rf_sim_fleet_check *k, uint32_t index, const rf_node *n)
{
    touched_reset(k);
    for (size_t i = 0; i < rf_node_group_count(n); i++) {
        const rf_raft *r = rf_node_group_at(n, i);
        group_check *gc = group_entry(k, rf_raft_group(r));
        if (gc == NULL)
            continue;
        check_member(k, gc, index, r, true);
        count(k, gc);
    }
}

uint64_t rf_sim_fleet_check_violations(const rf_sim_fleet_check *k,
                                       const rf_sim_violation **first)
{
    uint64_t v = k->violations + k->group_violations;
    const rf_sim_violation *f = k->violations > 0 ? &k->first : NULL;
    /* Only a failing run pays for the search of the first one. */
    for (size_t i = 0; first != NULL && v > 0 && f == NULL && i < k->n; i++)
        if (k->groups[i]->check.violations > 0)
            f = &k->groups[i]->check.first;
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
    touched_reset(k);
    for (size_t i = 0; i < k->n; i++) {
        rf_sim_check_node_reset(&k->groups[i]->check, index, 0, 0);
        k->groups[i]->digested[index] = 0; /* a restored model is compared again */
    }
    for (size_t i = 0; i < rf_node_group_count(n); i++) {
        const rf_raft *r = rf_node_group_at(n, i);
        group_check *gc = group_entry(k, rf_raft_group(r));
        if (gc == NULL)
            continue;
        rf_sim_check *c = &gc->check;
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

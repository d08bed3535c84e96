/* history: fleetd's observations recorded in its data directory's SQLite history (sim/history.sql) for fleet-report. */
#include "prod/history.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "fleet/rf_meta.h"
#include "prod/log.h"
#include "sim/record.h"

#define HIST_LABEL_BYTES 320u
#define HIST_UNREACHABLE_MAX 256u /* peers looked up per snapshot */

enum { NODE_GONE = 0 }; /* else an rf_meta_node_state */

typedef struct hist_node {
    uint64_t id;
    uint8_t state;    /* NODE_GONE or rf_meta_node_state */
    bool purged;      /* the metadata leader purged it: its removal is a purge */
    uint64_t seen;    /* the sync generation that last saw it */
    char name[RF_PLACEMENT_NAME_MAX + 1];
} hist_node;

typedef struct hist_group {
    uint64_t id;
    uint64_t leader, term; /* as last recorded; leader 0: none */
    uint32_t replicas;
    bool removed;
    char *name;
} hist_group;

struct rf_hist {
    rf_rec *rec;
    uint64_t t0;
    uint64_t self;
    bool restored;
    hist_node *nodes;
    size_t n_nodes, cap_nodes;
    hist_group *groups; /* sorted by id */
    size_t n_groups, cap_groups;
    bool meta_seen;
    uint64_t nodes_epoch, groups_next, groups_count, sync_gen;
    int64_t cause; /* the latest node event, RF_REC_NONE before any */
    bool dirty;
    uint32_t changes; /* since the last snapshot */
    char label[HIST_LABEL_BYTES];
    uint64_t last_poll, last_cache_poll, last_snapshot, last_flush;
    uint64_t errors;
};

static void check(rf_hist *h, int rc)
{
    if (rc == RF_OK)
        return;
    if (h->errors++ == 0)
        rf_log_error("history: a row was refused (%s: %s); the node goes on, later "
                     "refusals are only counted",
                     rf_strerror(rc), rf_rec_errmsg(h->rec));
}

/* A change worth a snapshot; the first one since the last snapshot names it. */
static void changed(rf_hist *h, const char *fmt, const char *a, const char *b)
{
    if (h->changes++ == 0)
        snprintf(h->label, sizeof h->label, fmt, a, b);
    h->dirty = true;
}

int rf_hist_open(rf_hist **out, const rf_hist_info *info, uint64_t now_ns, char *err, size_t cap)
{
    *out = NULL;
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", info->data_dir, RF_HIST_FILE);
    rf_hist *h = calloc(1, sizeof *h);
    if (h == NULL) {
        snprintf(err, cap, "%s: out of memory", path);
        return RF_ENOMEM;
    }
    int rc = rf_rec_open(&h->rec, path, err, cap);
    if (rc == RF_OK) {
        rf_rec_run_info ri = {.kind = "fleetd",
                              .scenario = info->node_name,
                              .seed = info->seed,
                              .build = info->build,
                              .started_unix_s = 0};
        rc = rf_rec_run_begin(h->rec, &ri, NULL);
        if (rc != RF_OK)
            snprintf(err, cap, "%s: cannot begin a run: %s", path, rf_rec_errmsg(h->rec));
    }
    if (rc != RF_OK) {
        rf_rec_close(h->rec);
        free(h);
        return rc;
    }
    h->t0 = now_ns;
    h->self = info->node_id;
    h->restored = info->restored;
    h->cause = RF_REC_NONE;
    h->last_flush = h->last_poll = h->last_cache_poll = now_ns;
    h->last_snapshot = 0;
    *out = h;
    return RF_OK;
}

/* ---- nodes ---- */

static hist_node *node_find(rf_hist *h, uint64_t id)
{
    for (size_t i = 0; i < h->n_nodes; i++)
        if (h->nodes[i].id == id)
            return &h->nodes[i];
    return NULL;
}

static void node_event(rf_hist *h, uint64_t t, const hist_node *hn, rf_rec_node_kind kind,
                       const char *detail)
{
    int64_t id = RF_REC_NONE;
    check(h, rf_rec_node_event(h->rec, t, (int64_t)hn->id, kind, -1, detail, &id));
    if (id != RF_REC_NONE)
        h->cause = id;
    changed(h, "%s %s", hn->name, rf_rec_node_kind_name(kind));
}

static hist_node *node_add(rf_hist *h, const rf_meta_node *mn, uint64_t t)
{
    if (h->n_nodes == h->cap_nodes) {
        size_t c = h->cap_nodes ? h->cap_nodes * 2 : 16;
        hist_node *p = realloc(h->nodes, c * sizeof *p);
        if (p == NULL)
            return NULL;
        h->nodes = p;
        h->cap_nodes = c;
    }
    hist_node *hn = &h->nodes[h->n_nodes++];
    memset(hn, 0, sizeof *hn);
    hn->id = mn->id;
    hn->state = mn->state;
    snprintf(hn->name, sizeof hn->name, "%s", mn->name);
    check(h, rf_rec_node(h->rec, (int64_t)mn->id, mn->name, mn->zone));
    node_event(h, t, hn, RF_REC_NODE_ADD, mn->zone);
    if (mn->state == RF_META_NODE_DEACTIVATING)
        node_event(h, t, hn, RF_REC_NODE_DEACTIVATE, NULL);
    if (mn->id == h->self && h->restored)
        node_event(h, t, hn, RF_REC_NODE_RESTART, "restored from its data directory");
    return hn;
}

/* Node events from the differences between the metadata and what was
 * recorded: runs only when the metadata's node epoch moved. */
static void nodes_sync(rf_hist *h, const rf_meta *m, uint64_t t)
{
    uint64_t gen = ++h->sync_gen;
    for (size_t i = 0; i < rf_meta_node_count(m); i++) {
        const rf_meta_node *mn = rf_meta_node_at(m, i);
        hist_node *hn = node_find(h, mn->id);
        if (hn == NULL) {
            hn = node_add(h, mn, t);
            if (hn == NULL) {
                check(h, RF_ENOMEM);
                continue;
            }
        } else if (hn->state != mn->state) {
            bool deact = mn->state == RF_META_NODE_DEACTIVATING;
            hn->state = mn->state;
            hn->purged = false;
            node_event(h, t, hn, deact ? RF_REC_NODE_DEACTIVATE : RF_REC_NODE_ACTIVATE, NULL);
        }
        hn->seen = gen;
    }
    for (size_t i = 0; i < h->n_nodes; i++) {
        hist_node *hn = &h->nodes[i];
        if (hn->state == NODE_GONE || hn->seen == gen)
            continue;
        hn->state = NODE_GONE;
        node_event(h, t, hn, hn->purged ? RF_REC_NODE_PURGE : RF_REC_NODE_REMOVE, NULL);
    }
}

/* ---- groups ---- */

static hist_group *group_find(rf_hist *h, uint64_t id)
{
    size_t lo = 0, hi = h->n_groups;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->groups[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->n_groups && h->groups[lo].id == id ? &h->groups[lo] : NULL;
}

static int group_cmp(const void *a, const void *b)
{
    const hist_group *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void group_add(rf_hist *h, const rf_meta_group *mg, uint64_t t)
{
    if (h->n_groups == RF_HIST_GROUPS_MAX) {
        check(h, RF_EFULL);
        return;
    }
    if (h->n_groups == h->cap_groups) {
        size_t c = h->cap_groups ? h->cap_groups * 2 : 64;
        hist_group *p = realloc(h->groups, c * sizeof *p);
        if (p == NULL) {
            check(h, RF_ENOMEM);
            return;
        }
        h->groups = p;
        h->cap_groups = c;
    }
    char *name = strdup(mg->name);
    if (name == NULL) {
        check(h, RF_ENOMEM);
        return;
    }
    h->groups[h->n_groups++] =
        (hist_group){.id = mg->id, .replicas = mg->replicas, .name = name};
    check(h, rf_rec_group(h->rec, (int64_t)mg->id, mg->name, mg->replicas, mg->model, t));
    changed(h, "%s added%s", mg->name, "");
}

/* Groups added and removed since the last look; both lists are in id
 * order, and new ids are always above the ones seen before (the metadata
 * hands them out increasing), so appending keeps h->groups sorted. */
static void groups_sync(rf_hist *h, const rf_meta *m, uint64_t t)
{
    size_t gn = rf_meta_group_count(m), i = 0, j = 0, known = h->n_groups;
    bool appended = false;
    while (i < gn || j < known) {
        const rf_meta_group *mg = i < gn ? rf_meta_group_at(m, i) : NULL;
        hist_group *tg = j < known ? &h->groups[j] : NULL;
        if (tg != NULL && (mg == NULL || tg->id < mg->id)) {
            if (!tg->removed) {
                tg->removed = true;
                check(h, rf_rec_group_removed(h->rec, (int64_t)tg->id, t));
                changed(h, "%s removed%s", tg->name, "");
            }
            j++;
        } else if (tg != NULL && tg->id == mg->id) {
            i++, j++;
        } else {
            group_add(h, mg, t);
            appended = true;
            i++;
        }
    }
    if (appended && known > 0 && h->n_groups > known &&
        h->groups[known - 1].id > h->groups[known].id)
        qsort(h->groups, h->n_groups, sizeof *h->groups, group_cmp);
}

static void leader_seen(rf_hist *h, hist_group *g, uint64_t leader, uint64_t term, uint64_t t)
{
    if (leader == g->leader && (leader == 0 || term == g->term))
        return;
    check(h, rf_rec_leader(h->rec, t, (int64_t)g->id, leader ? term : g->term,
                           leader ? (int64_t)leader : RF_REC_NONE));
    g->leader = leader;
    if (leader != 0)
        g->term = term;
}

/* Leaders of the groups hosted here, as their local members know them. */
static void poll_local(rf_hist *h, const rf_node *n, uint64_t t)
{
    for (size_t i = 0; i < rf_node_group_count(n); i++) {
        const rf_raft *r = rf_node_group_at(n, i);
        hist_group *g = group_find(h, rf_raft_group(r));
        if (g != NULL && !g->removed)
            leader_seen(h, g, rf_raft_leader(r), rf_raft_term(r), t);
    }
}

/* The others' leaders as this node's requests learned them. A cache entry
 * dropped on a timeout says nothing about the group: only a known leader
 * is recorded. */
static void poll_cache(rf_hist *h, const rf_node *n, uint64_t t)
{
    for (size_t i = 0; i < h->n_groups; i++) {
        hist_group *g = &h->groups[i];
        if (g->removed || rf_node_group(n, g->id) != NULL)
            continue;
        uint64_t term = 0, leader = rf_node_whereis_leader(n, g->name, &term);
        if (leader != 0)
            leader_seen(h, g, leader, term, t);
    }
}

/* ---- snapshots ---- */

static rf_rec_node_state node_state(const rf_hist *h, const hist_node *hn, const uint64_t *down,
                                    size_t n_down)
{
    if (hn->state == NODE_GONE)
        return RF_REC_REMOVED;
    if (hn->state == RF_META_NODE_DEACTIVATING)
        return RF_REC_INACTIVE;
    for (size_t i = 0; i < n_down && hn->id != h->self; i++)
        if (down[i] == hn->id)
            return RF_REC_DOWN;
    return RF_REC_UP;
}

static void snapshot_group(rf_hist *h, const rf_node *n, const rf_meta *m, const hist_group *g)
{
    int64_t members[RF_RAFT_MEMBERS_MAX], target[RF_META_REPLICAS_MAX];
    uint8_t learners[RF_RAFT_MEMBERS_MAX];
    size_t nm = 0, nt = 0;
    int64_t leader = RF_REC_NONE;
    const rf_raft *r = rf_node_group(n, g->id);
    if (r != NULL) {
        const rf_membership *mem = rf_raft_membership(r);
        for (uint32_t i = 0; i < mem->count && nm < RF_RAFT_MEMBERS_MAX; i++) {
            members[nm] = (int64_t)mem->members[i].id;
            learners[nm] = mem->members[i].voter ? 0 : 1;
            if (mem->members[i].id == g->leader)
                leader = members[nm];
            nm++;
        }
    }
    uint64_t ids[RF_META_REPLICAS_MAX];
    uint32_t reps = g->replicas < RF_META_REPLICAS_MAX ? g->replicas : RF_META_REPLICAS_MAX;
    if (m != NULL && rf_meta_place(m, g->name, reps, ids, RF_META_REPLICAS_MAX) == RF_OK)
        for (uint32_t i = 0; i < reps && ids[i] != 0; i++)
            target[nt++] = (int64_t)ids[i];
    check(h, rf_rec_snapshot_group(h->rec, (int64_t)g->id, members, learners, nm, leader, target,
                                   nt));
}

static void snapshot(rf_hist *h, const rf_node *n, uint64_t t, const char *label)
{
    if (label == NULL) {
        if (h->changes > 1) {
            size_t l = strlen(h->label);
            snprintf(h->label + l, sizeof h->label - l, " (+%u)", h->changes - 1);
        }
        label = h->label;
    }
    int rc = rf_rec_snapshot_begin(h->rec, t, label, NULL);
    check(h, rc);
    h->dirty = false;
    h->changes = 0;
    h->last_snapshot = t + h->t0;
    if (rc != RF_OK)
        return;
    uint64_t down[HIST_UNREACHABLE_MAX], since[HIST_UNREACHABLE_MAX];
    size_t n_down = rf_node_unreachable(n, down, since, HIST_UNREACHABLE_MAX);
    if (n_down > HIST_UNREACHABLE_MAX)
        n_down = HIST_UNREACHABLE_MAX;
    for (size_t i = 0; i < h->n_nodes; i++)
        check(h, rf_rec_snapshot_node(h->rec, (int64_t)h->nodes[i].id,
                                      node_state(h, &h->nodes[i], down, n_down)));
    const rf_meta *m = rf_node_meta(n);
    for (size_t i = 0; i < h->n_groups; i++)
        if (!h->groups[i].removed)
            snapshot_group(h, n, m, &h->groups[i]);
}

/* ---- driving ---- */

static void sync_meta(rf_hist *h, const rf_node *n, uint64_t t)
{
    const rf_meta *m = rf_node_meta(n);
    if (m == NULL)
        return;
    uint64_t epoch = rf_meta_nodes_epoch(m), next = rf_meta_next_group_id(m),
             count = rf_meta_group_count(m);
    if (!h->meta_seen || epoch != h->nodes_epoch)
        nodes_sync(h, m, t);
    if (!h->meta_seen || next != h->groups_next || count != h->groups_count)
        groups_sync(h, m, t);
    h->meta_seen = true;
    h->nodes_epoch = epoch;
    h->groups_next = next;
    h->groups_count = count;
}

static void membership_obs(rf_hist *h, const rf_node_obs *o, uint64_t t)
{
    rf_rec_change ch = o->kind == RF_NODE_OBS_MEMBER_ADDED      ? RF_REC_ADD_LEARNER
                       : o->kind == RF_NODE_OBS_MEMBER_PROMOTED ? RF_REC_PROMOTE
                                                                : RF_REC_REMOVE;
    rf_rec_reason why = o->reason == RF_NODE_REASON_DRAIN     ? RF_REC_DEACTIVATE
                        : o->reason == RF_NODE_REASON_BOOT    ? RF_REC_BOOTSTRAP
                        : o->reason == RF_NODE_REASON_REMOVED ? RF_REC_GROUP_REMOVED
                                                              : RF_REC_PLACEMENT;
    bool caused = why == RF_REC_DEACTIVATE || why == RF_REC_PLACEMENT;
    check(h, rf_rec_membership(h->rec, t, (int64_t)o->group_id, (int64_t)o->node_id, ch, why,
                               caused ? h->cause : RF_REC_NONE));
    const hist_node *hn = node_find(h, o->node_id);
    changed(h, "member %s on %s", rf_rec_change_name(ch), hn ? hn->name : "?");
}

void rf_hist_batch(rf_hist *h, const rf_node *n, const rf_node_batch *b, uint64_t now_ns)
{
    if (h == NULL || b->n_obs == 0)
        return;
    uint64_t t = now_ns - h->t0;
    /* Groups named by the observations must be known first. */
    sync_meta(h, n, t);
    for (size_t i = 0; i < b->n_obs; i++) {
        const rf_node_obs *o = &b->obs[i];
        hist_group *g = group_find(h, o->group_id);
        switch (o->kind) {
        case RF_NODE_OBS_LEADER:
            if (g != NULL && !g->removed)
                leader_seen(h, g, o->node_id, o->term, t);
            break;
        case RF_NODE_OBS_MEMBER_ADDED:
        case RF_NODE_OBS_MEMBER_PROMOTED:
        case RF_NODE_OBS_MEMBER_REMOVED:
            if (o->group_id != RF_META_GROUP_ID)
                membership_obs(h, o, t);
            break;
        case RF_NODE_OBS_NODE_PURGED: {
            hist_node *hn = node_find(h, o->node_id);
            if (hn != NULL && o->node_id != h->self)
                hn->purged = true;
            else if (hn != NULL)
                node_event(h, t, hn, RF_REC_NODE_PURGE, "this node found it was purged");
            break;
        }
        default:
            break;
        }
    }
}

void rf_hist_tick(rf_hist *h, const rf_node *n, uint64_t now_ns)
{
    if (h == NULL || now_ns - h->last_poll < RF_HIST_POLL_NS)
        return;
    uint64_t t = now_ns - h->t0;
    h->last_poll = now_ns;
    sync_meta(h, n, t);
    poll_local(h, n, t);
    if (now_ns - h->last_cache_poll >= RF_HIST_CACHE_POLL_NS) {
        h->last_cache_poll = now_ns;
        poll_cache(h, n, t);
    }
    if (h->dirty && now_ns - h->last_snapshot >= RF_HIST_SNAPSHOT_NS)
        snapshot(h, n, t, NULL);
    if (now_ns - h->last_flush >= RF_HIST_FLUSH_NS) {
        h->last_flush = now_ns;
        check(h, rf_rec_flush(h->rec));
    }
}

void rf_hist_close(rf_hist *h, const rf_node *n, uint64_t now_ns, const char *detail)
{
    if (h == NULL)
        return;
    uint64_t t = now_ns - h->t0;
    if (n != NULL) {
        sync_meta(h, n, t);
        poll_local(h, n, t);
        snapshot(h, n, t, "end");
    }
    rf_rec_run_end_info end = {
        .outcome = RF_REC_PASS, .detail = detail, .trace_hash = 0, .end_ns = t, .wall_ns = t};
    check(h, rf_rec_run_end(h->rec, &end));
    rf_rec_close(h->rec);
    for (size_t i = 0; i < h->n_groups; i++)
        free(h->groups[i].name);
    free(h->groups);
    free(h->nodes);
    free(h);
}

uint64_t rf_hist_errors(const rf_hist *h)
{
    return h ? h->errors : 0;
}

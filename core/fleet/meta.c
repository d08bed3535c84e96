/* meta: the fleet-meta data model's state: its tables, lookups, placement memo and accessors
 * (commands, queries and the model table: meta_cmd.c). */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_hash.h"
#include "base/rf_lower.h"
#include "fleet/meta_int.h"

/* Semantics and formats: fleet/rf_meta.h. */

/* ---- state ---------------------------------------------------------------- */

rf_meta *rf_meta_new(void)
{
    rf_meta *m = calloc(1, sizeof *m);
    if (m != NULL)
        m->next_group_id = RF_META_FIRST_GROUP_ID;
    return m;
}

void rf_meta_free(rf_meta *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_groups; i++)
        free(m->by_id[i]);
    for (size_t i = 0; i < m->n_removed; i++)
        free(m->removed[i].pending);
    rf_placement_close(m->place);
    free(m->place_ids);
    free(m->nodes);
    free(m->by_id);
    free(m->by_name);
    free(m->name_keys);
    free(m->removed);
    free(m);
}

/* Grows an array of elem-sized items to hold one more; false on ENOMEM. */
static bool meta_reserve(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap == 0 ? 8 : *cap * 2;
    void *p = realloc(*arr, ncap * elem);
    if (p == NULL)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

size_t rf_meta__node_lower(const rf_meta *m, const char *name)
{
    size_t lo = 0, hi = m->n_nodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(m->nodes[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* by_name is ordered by (key, name), the key being rf_fnv1a64 of the name
 * (memory only, never stored or sent): the packed keys narrow the search
 * down, names compare only among equal keys. */
size_t rf_meta__group_name_lower(const rf_meta *m, const char *name)
{
    uint64_t key = rf_fnv1a64(name);
    size_t at = rf_lower_u64(m->name_keys, m->n_groups, sizeof *m->name_keys, key);
    while (at < m->n_groups && m->name_keys[at] == key && strcmp(m->by_name[at]->name, name) < 0)
        at++;
    return at;
}

size_t rf_meta__group_id_lower(const rf_meta *m, uint64_t id)
{
    size_t lo = 0, hi = m->n_groups;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->by_id[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

_Static_assert(offsetof(rf_meta_removed, id) == 0, "rf_lower_u64 key");
size_t rf_meta__removed_lower(const rf_meta *m, uint64_t id)
{
    return rf_lower_u64(m->removed, m->n_removed, sizeof *m->removed, id);
}

int rf_meta_insert_node(rf_meta *m, const rf_meta_node *n)
{
    size_t at = rf_meta__node_lower(m, n->name);
    ASSERT(at == m->n_nodes || strcmp(m->nodes[at].name, n->name) != 0);
    if (!meta_reserve((void **)&m->nodes, &m->cap_nodes, m->n_nodes, sizeof *m->nodes))
        return RF_ENOMEM;
    memmove(&m->nodes[at + 1], &m->nodes[at], (m->n_nodes - at) * sizeof *m->nodes);
    m->nodes[at] = *n;
    m->n_nodes++;
    m->nodes_changes++;
    return RF_OK;
}

int rf_meta_insert_group(rf_meta *m, const rf_meta_group *g)
{
    size_t cap_id = m->cap_groups, cap_name = m->cap_groups;
    if (!meta_reserve((void **)&m->by_id, &cap_id, m->n_groups, sizeof *m->by_id))
        return RF_ENOMEM;
    size_t cap_key = m->cap_groups;
    if (!meta_reserve((void **)&m->by_name, &cap_name, m->n_groups, sizeof *m->by_name) ||
        !meta_reserve((void **)&m->name_keys, &cap_key, m->n_groups, sizeof *m->name_keys)) {
        /* Some grew alone: keep the smaller capacity, which all have. */
        return RF_ENOMEM;
    }
    m->cap_groups = cap_id;
    rf_meta_group *copy = malloc(sizeof *copy);
    if (copy == NULL)
        return RF_ENOMEM;
    *copy = *g;
    size_t ai = rf_meta__group_id_lower(m, g->id), an = rf_meta__group_name_lower(m, g->name);
    memmove(&m->by_id[ai + 1], &m->by_id[ai], (m->n_groups - ai) * sizeof *m->by_id);
    memmove(&m->by_name[an + 1], &m->by_name[an], (m->n_groups - an) * sizeof *m->by_name);
    memmove(&m->name_keys[an + 1], &m->name_keys[an], (m->n_groups - an) * sizeof *m->name_keys);
    m->by_id[ai] = copy;
    m->by_name[an] = copy;
    m->name_keys[an] = rf_fnv1a64(g->name);
    m->n_groups++;
    m->groups_sum += rf_meta_group_hash(copy);
    return RF_OK;
}

int rf_meta_insert_removed(rf_meta *m, const rf_meta_removed *r)
{
    size_t at = rf_meta__removed_lower(m, r->id);
    ASSERT(at == m->n_removed || m->removed[at].id != r->id);
    if (!meta_reserve((void **)&m->removed, &m->cap_removed, m->n_removed, sizeof *m->removed))
        return RF_ENOMEM;
    memmove(&m->removed[at + 1], &m->removed[at], (m->n_removed - at) * sizeof *m->removed);
    m->removed[at] = *r;
    m->n_removed++;
    return RF_OK;
}

void rf_meta__remove_group(rf_meta *m, const rf_meta_group *g)
{
    size_t ai = rf_meta__group_id_lower(m, g->id), an = rf_meta__group_name_lower(m, g->name);
    ASSERT(ai < m->n_groups && m->by_id[ai] == g);
    ASSERT(an < m->n_groups && m->by_name[an] == g);
    memmove(&m->by_id[ai], &m->by_id[ai + 1], (m->n_groups - ai - 1) * sizeof *m->by_id);
    memmove(&m->by_name[an], &m->by_name[an + 1], (m->n_groups - an - 1) * sizeof *m->by_name);
    memmove(&m->name_keys[an], &m->name_keys[an + 1],
            (m->n_groups - an - 1) * sizeof *m->name_keys);
    m->n_groups--;
    m->groups_sum -= rf_meta_group_hash(g);
    free((void *)g);
}

static void drop_removed_at(rf_meta *m, size_t at)
{
    free(m->removed[at].pending);
    memmove(&m->removed[at], &m->removed[at + 1], (m->n_removed - at - 1) * sizeof *m->removed);
    m->n_removed--;
}

/* Takes node_id off the pending list of removed[at]; drops the entry when
 * nobody is left. True when the node was pending. */
bool rf_meta__ack_removed(rf_meta *m, size_t at, uint64_t node_id)
{
    rf_meta_removed *r = &m->removed[at];
    for (uint32_t i = 0; i < r->n_pending; i++) {
        if (r->pending[i] != node_id)
            continue;
        memmove(&r->pending[i], &r->pending[i + 1], (r->n_pending - i - 1) * sizeof *r->pending);
        r->n_pending--;
        if (r->n_pending == 0)
            drop_removed_at(m, at);
        return true;
    }
    return false;
}

/* The placement over the active nodes, built once per change of the
 * nodes (the rebalancing asks for every group it hosts, at every round). */
rf_placement *rf_meta__placement(rf_meta *m, int *rc)
{
    if (m->place != NULL && m->place_changes == m->nodes_changes)
        return m->place;
    rf_placement_close(m->place);
    free(m->place_ids);
    m->place = NULL;
    rf_placement_node *pn = malloc((m->n_nodes + 1) * sizeof *pn);
    m->place_ids = malloc((m->n_nodes + 1) * sizeof *m->place_ids);
    *rc = RF_ENOMEM;
    if (pn != NULL && m->place_ids != NULL) {
        size_t n = 0;
        for (size_t i = 0; i < m->n_nodes; i++) {
            if (m->nodes[i].state != RF_META_NODE_ACTIVE)
                continue;
            pn[n].name = m->nodes[i].name;
            pn[n].zone = m->nodes[i].zone;
            m->place_ids[n++] = m->nodes[i].id;
        }
        *rc = rf_placement_init(&m->place, pn, n);
        m->place_changes = m->nodes_changes;
    }
    free(pn);
    return *rc == RF_OK ? m->place : NULL;
}

int rf_meta_place(const rf_meta *m, const char *group, uint32_t replicas, uint64_t *ids,
                  size_t cap)
{
    uint32_t idx[RF_META_REPLICAS_MAX + 2];
    size_t got = 0;
    int rc = RF_ENOMEM;
    if (replicas == 0 || replicas > RF_META_REPLICAS_MAX + 2 || cap < replicas)
        return rc;
    /* The memo is not state: filling it through a const view is safe. */
    rf_placement *p = rf_meta__placement((rf_meta *)m, &rc);
    if (p != NULL)
        rc = rf_placement_members(p, group, replicas, idx, replicas, &got);
    for (size_t i = 0; rc == RF_OK && i < got; i++)
        ids[i] = m->place_ids[idx[i]];
    for (size_t i = rc == RF_OK ? got : 0; i < cap; i++)
        ids[i] = 0;
    return rc;
}

/* ---- accessors ---------------------------------------------------------- */

size_t rf_meta_node_count(const rf_meta *m) { return m->n_nodes; }

const rf_meta_node *rf_meta_node_at(const rf_meta *m, size_t i)
{
    ASSERT(i < m->n_nodes);
    return &m->nodes[i];
}

const rf_meta_node *rf_meta_node_by_name(const rf_meta *m, const char *name)
{
    size_t at = rf_meta__node_lower(m, name);
    return at < m->n_nodes && strcmp(m->nodes[at].name, name) == 0 ? &m->nodes[at] : NULL;
}

const rf_meta_node *rf_meta_node_by_id(const rf_meta *m, uint64_t id)
{
    for (size_t i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].id == id)
            return &m->nodes[i];
    return NULL;
}

size_t rf_meta_active_count(const rf_meta *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_nodes; i++)
        n += m->nodes[i].state == RF_META_NODE_ACTIVE;
    return n;
}

size_t rf_meta_group_count(const rf_meta *m) { return m->n_groups; }

const rf_meta_group *rf_meta_group_at(const rf_meta *m, size_t i)
{
    ASSERT(i < m->n_groups);
    return m->by_id[i];
}

const rf_meta_group *rf_meta_group_by_name(const rf_meta *m, const char *name)
{
    size_t at = rf_meta__group_name_lower(m, name);
    return at < m->n_groups && strcmp(m->by_name[at]->name, name) == 0 ? m->by_name[at] : NULL;
}

const rf_meta_group *rf_meta_group_by_id(const rf_meta *m, uint64_t id)
{
    size_t at = rf_meta__group_id_lower(m, id);
    return at < m->n_groups && m->by_id[at]->id == id ? m->by_id[at] : NULL;
}

size_t rf_meta_removed_count(const rf_meta *m) { return m->n_removed; }

const rf_meta_removed *rf_meta_removed_at(const rf_meta *m, size_t i)
{
    ASSERT(i < m->n_removed);
    return &m->removed[i];
}

const rf_meta_removed *rf_meta_removed_by_id(const rf_meta *m, uint64_t id)
{
    size_t at = rf_meta__removed_lower(m, id);
    return at < m->n_removed && m->removed[at].id == id ? &m->removed[at] : NULL;
}

bool rf_meta_removed_pending(const rf_meta_removed *r, uint64_t node_id)
{
    for (uint32_t i = 0; i < r->n_pending; i++)
        if (r->pending[i] == node_id)
            return true;
    return false;
}

uint64_t rf_meta_nodes_epoch(const rf_meta *m) { return m->nodes_epoch; }
uint64_t rf_meta_next_group_id(const rf_meta *m) { return m->next_group_id; }

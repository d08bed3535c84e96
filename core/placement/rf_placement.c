/* rf_placement: zone-aware rendezvous hashing (RaftFleet's placement, DESIGN.md section 4). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_hash.h"
#include "placement/rf_placement.h"

/* One node as the context keeps it: its name pre-encoded as the first half
 * of the hashed string, its zone as a small index, and its position in
 * byte order of names, the final tie-break. */
typedef struct pl_node {
    uint8_t prefix[2 + RF_PLACEMENT_NAME_MAX];
    size_t prefix_len;
    uint32_t zone;
    uint32_t name_order;
} pl_node;

/* A candidate while placing one group. */
typedef struct pl_cand {
    uint64_t score;
    uint32_t rank;
    uint32_t zone;
    uint32_t name_order;
    uint32_t index;
} pl_cand;

struct rf_placement {
    size_t count;
    pl_node *nodes;
    pl_cand *scratch;
};

static int name_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '@' || c == '-';
}

/* strlen bounded by max + 1, without relying on POSIX strnlen. */
static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n] != '\0')
        n++;
    return n;
}

int rf_placement_check_name(const char *name)
{
    if (name == NULL)
        return RF_EBADNAME;
    size_t n = bounded_len(name, RF_PLACEMENT_NAME_MAX);
    if (n == 0 || n > RF_PLACEMENT_NAME_MAX)
        return RF_EBADNAME;
    for (size_t i = 0; i < n; i++)
        if (!name_char_ok((unsigned char)name[i]))
            return RF_EBADNAME;
    return RF_OK;
}

int rf_placement_check_group(const char *group)
{
    if (group == NULL)
        return RF_EBADNAME;
    size_t n = bounded_len(group, RF_GROUP_NAME_MAX);
    if (n == 0 || n > RF_GROUP_NAME_MAX)
        return RF_EBADNAME;
    return RF_OK;
}

static size_t put_prefixed(uint8_t *out, const char *s, size_t len)
{
    ASSERT(len <= 0xffff);
    out[0] = (uint8_t)(len & 0xff);
    out[1] = (uint8_t)(len >> 8);
    memcpy(out + 2, s, len);
    return 2 + len;
}

/* Scores one node for a group whose encoded half is g (g_len bytes). */
static uint64_t score(const pl_node *node, const uint8_t *g, size_t g_len)
{
    static const uint8_t key[16] = RF_PLACEMENT_KEY;
    uint8_t buf[2 + RF_PLACEMENT_NAME_MAX + 2 + RF_GROUP_NAME_MAX];
    ASSERT(node->prefix_len + g_len <= sizeof buf);
    memcpy(buf, node->prefix, node->prefix_len);
    memcpy(buf + node->prefix_len, g, g_len);
    return rf_siphash24(key, buf, node->prefix_len + g_len);
}

uint64_t rf_placement_hash(const char *node, const char *group)
{
    ASSERT(rf_placement_check_name(node) == RF_OK);
    ASSERT(rf_placement_check_group(group) == RF_OK);
    pl_node n;
    n.prefix_len = put_prefixed(n.prefix, node, strlen(node));
    uint8_t g[2 + RF_GROUP_NAME_MAX];
    size_t g_len = put_prefixed(g, group, strlen(group));
    return score(&n, g, g_len);
}

/* A node name and its index, sorted to find the tie-break order. */
typedef struct pl_named {
    const char *name;
    uint32_t index;
} pl_named;

static int cmp_named(const void *a, const void *b)
{
    const pl_named *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static void assign_zones(pl_node *out, const rf_placement_node *nodes, size_t count)
{
    /* Zone indexes only need to be equal for equal zone names; a quadratic
     * scan is fine at RF_PLACEMENT_NODES_MAX and done once per context. */
    for (size_t i = 0; i < count; i++) {
        out[i].zone = (uint32_t)i;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(nodes[i].zone, nodes[j].zone) == 0) {
                out[i].zone = out[j].zone;
                break;
            }
        }
    }
}

int rf_placement_init(rf_placement **out, const rf_placement_node *nodes, size_t count)
{
    ASSERT(out != NULL);
    *out = NULL;
    if (count > RF_PLACEMENT_NODES_MAX)
        return RF_ETOOBIG;
    for (size_t i = 0; i < count; i++) {
        if (rf_placement_check_name(nodes[i].name) != RF_OK ||
            rf_placement_check_name(nodes[i].zone) != RF_OK)
            return RF_EBADNAME;
    }
    rf_placement *p = calloc(1, sizeof *p);
    pl_named *order = calloc(count + 1, sizeof *order);
    if (p != NULL) {
        p->nodes = calloc(count + 1, sizeof *p->nodes);
        p->scratch = calloc(count + 1, sizeof *p->scratch);
    }
    if (p == NULL || order == NULL || p->nodes == NULL || p->scratch == NULL) {
        free(order);
        rf_placement_close(p);
        return RF_ENOMEM;
    }
    p->count = count;
    for (size_t i = 0; i < count; i++) {
        order[i].name = nodes[i].name;
        order[i].index = (uint32_t)i;
        p->nodes[i].prefix_len =
            put_prefixed(p->nodes[i].prefix, nodes[i].name, strlen(nodes[i].name));
    }
    qsort(order, count, sizeof *order, cmp_named);
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && strcmp(order[i - 1].name, order[i].name) == 0) {
            free(order);
            rf_placement_close(p);
            return RF_EEXIST;
        }
        p->nodes[order[i].index].name_order = (uint32_t)i;
    }
    free(order);
    assign_zones(p->nodes, nodes, count);
    *out = p;
    return RF_OK;
}

void rf_placement_close(rf_placement *p)
{
    if (p == NULL)
        return;
    free(p->nodes);
    free(p->scratch);
    free(p);
}

size_t rf_placement_node_count(const rf_placement *p)
{
    return p->count;
}

/* Total orders on candidates: (zone, score, name) to rank within zones,
 * then (rank, score, name) to pick members. Names are unique, so neither
 * comparison ever reports two distinct nodes equal. */
static int cmp_in_zone(const void *a, const void *b)
{
    const pl_cand *x = a, *y = b;
    if (x->zone != y->zone)
        return x->zone < y->zone ? -1 : 1;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return x->name_order < y->name_order ? -1 : (x->name_order > y->name_order);
}

static int cmp_by_rank(const void *a, const void *b)
{
    const pl_cand *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return x->name_order < y->name_order ? -1 : (x->name_order > y->name_order);
}

/* Insertion sort below this many nodes: a cluster is usually a handful
 * of nodes, where qsort's call overhead dominates. */
#define PL_SMALL_SORT 32

static void sort_cands(pl_cand *c, size_t n, int (*cmp)(const void *, const void *))
{
    if (n > PL_SMALL_SORT) {
        qsort(c, n, sizeof *c, cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        pl_cand x = c[i];
        size_t j = i;
        for (; j > 0 && cmp(&c[j - 1], &x) > 0; j--)
            c[j] = c[j - 1];
        c[j] = x;
    }
}

int rf_placement_members(rf_placement *p, const char *group, uint32_t replicas,
                         uint32_t *members, size_t cap, size_t *count)
{
    ASSERT(p != NULL);
    ASSERT(count != NULL);
    *count = 0;
    if (rf_placement_check_group(group) != RF_OK)
        return RF_EBADNAME;
    if (replicas == 0)
        return RF_EINVAL;
    if (p->count == 0)
        return RF_ENOACTIVENODE;
    size_t want = replicas < p->count ? replicas : p->count;
    if (cap < want || members == NULL)
        return RF_EINVAL;

    uint8_t g[2 + RF_GROUP_NAME_MAX];
    size_t g_len = put_prefixed(g, group, strlen(group));
    pl_cand *c = p->scratch;
    for (size_t i = 0; i < p->count; i++) {
        c[i].score = score(&p->nodes[i], g, g_len);
        c[i].zone = p->nodes[i].zone;
        c[i].name_order = p->nodes[i].name_order;
        c[i].index = (uint32_t)i;
    }
    sort_cands(c, p->count, cmp_in_zone);
    for (size_t i = 0; i < p->count; i++)
        c[i].rank = (i > 0 && c[i - 1].zone == c[i].zone) ? c[i - 1].rank + 1 : 0;
    sort_cands(c, p->count, cmp_by_rank);
    for (size_t i = 0; i < want; i++)
        members[i] = c[i].index;
    *count = want;
    ASSERT(c[0].rank == 0);
    return RF_OK;
}

int rf_placement_added_members(rf_placement *before, rf_placement *after, const char *group,
                               uint32_t replicas, uint32_t *count)
{
    ASSERT(count != NULL);
    *count = 0;
    if (replicas == 0)
        return RF_EINVAL;
    if (replicas > RF_PLACEMENT_NODES_MAX)
        replicas = RF_PLACEMENT_NODES_MAX; /* no placement has more members */
    uint32_t *old = calloc((size_t)replicas, sizeof *old);
    uint32_t *new_ = calloc((size_t)replicas, sizeof *new_);
    size_t n_old = 0, n_new = 0;
    int rc = (old == NULL || new_ == NULL) ? RF_ENOMEM : RF_OK;
    if (rc == RF_OK)
        rc = rf_placement_members(after, group, replicas, new_, replicas, &n_new);
    if (rc == RF_OK && before->count > 0)
        rc = rf_placement_members(before, group, replicas, old, replicas, &n_old);
    for (size_t i = 0; rc == RF_OK && i < n_new; i++) {
        const pl_node *a = &after->nodes[new_[i]];
        bool kept = false;
        for (size_t j = 0; j < n_old && !kept; j++) {
            const pl_node *b = &before->nodes[old[j]];
            kept = a->prefix_len == b->prefix_len &&
                   memcmp(a->prefix, b->prefix, a->prefix_len) == 0;
        }
        *count += !kept;
    }
    free(old);
    free(new_);
    if (rc != RF_OK)
        *count = 0;
    return rc;
}

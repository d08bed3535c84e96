/* sim/u64map: linear probing over a power-of-two table, grown at 50% load. */
#include "sim/u64map.h"

#include <stdlib.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"

struct rf_sim_u64map_slot {
    uint64_t a, b, v;
    bool used;
};

static uint64_t key_hash(uint64_t a, uint64_t b)
{
    uint64_t x = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x7f4a7c159e3779b9ULL);
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    return x;
}

int rf_sim_u64map_init(rf_sim_u64map *m, uint32_t len_max)
{
    ASSERT(len_max > 0);
    m->len = 0;
    m->len_max = len_max;
    m->cap = 64;
    m->slots = calloc(m->cap, sizeof(*m->slots));
    if (m->slots == NULL) {
        m->cap = 0;
        return RF_ENOMEM;
    }
    return RF_OK;
}

void rf_sim_u64map_close(rf_sim_u64map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
}

static struct rf_sim_u64map_slot *find(const rf_sim_u64map *m, uint64_t a, uint64_t b)
{
    uint32_t mask = m->cap - 1;
    for (uint32_t i = (uint32_t)key_hash(a, b) & mask;; i = (i + 1) & mask) {
        struct rf_sim_u64map_slot *s = &m->slots[i];
        if (!s->used || (s->a == a && s->b == b))
            return s;
    }
}

bool rf_sim_u64map_get(const rf_sim_u64map *m, uint64_t a, uint64_t b, uint64_t *v)
{
    if (m->cap == 0)
        return false;
    const struct rf_sim_u64map_slot *s = find(m, a, b);
    if (!s->used)
        return false;
    *v = s->v;
    return true;
}

static int grow(rf_sim_u64map *m)
{
    uint32_t old_cap = m->cap;
    struct rf_sim_u64map_slot *old = m->slots;
    struct rf_sim_u64map_slot *slots = calloc((size_t)old_cap * 2, sizeof(*slots));
    if (slots == NULL)
        return RF_ENOMEM;
    m->slots = slots;
    m->cap = old_cap * 2;
    for (uint32_t i = 0; i < old_cap; i++)
        if (old[i].used)
            *find(m, old[i].a, old[i].b) = old[i];
    free(old);
    return RF_OK;
}

int rf_sim_u64map_put(rf_sim_u64map *m, uint64_t a, uint64_t b, uint64_t v)
{
    if (m->cap == 0)
        return RF_ENOMEM;
    struct rf_sim_u64map_slot *s = find(m, a, b);
    if (s->used) {
        s->v = v;
        return RF_OK;
    }
    if (m->len >= m->len_max)
        return RF_EFULL;
    if ((m->len + 1) * 2 > m->cap) {
        int rc = grow(m);
        if (rc != RF_OK)
            return rc;
        s = find(m, a, b);
    }
    *s = (struct rf_sim_u64map_slot){.a = a, .b = b, .v = v, .used = true};
    m->len++;
    return RF_OK;
}

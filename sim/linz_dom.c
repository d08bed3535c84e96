/* linz_dom: failed configurations that dominate others (see linz_dom.h). */
#include "sim/linz_dom.h"

#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"

bool linz_dom_dominated(linz_dom *d, const linz_set *ok, uint64_t digest, const uint64_t *applied)
{
    const size_t *head = linz_memo_find(&d->table, ok, digest);
    if (head == NULL)
        return false;
    for (size_t off = *head; off != 0; off = d->recs[off]) {
        const uint32_t *r = &d->recs[off];
        bool subset = true;
        for (uint32_t i = 0; i < r[1] && subset; i++)
            subset = linz_bit_get(applied, r[2 + i]);
        if (subset)
            return true;
    }
    return false;
}

static bool dom_reserve(linz_dom *d, size_t more)
{
    if (d->recs_len + more <= d->recs_cap)
        return true;
    size_t cap = d->recs_cap == 0 ? 4096 : d->recs_cap;
    while (cap < d->recs_len + more)
        cap *= 2;
    if (cap * sizeof(uint32_t) > d->bytes_max || cap > UINT32_MAX)
        return false;
    uint32_t *recs = realloc(d->recs, cap * sizeof *recs);
    if (recs == NULL)
        return false;
    d->recs = recs;
    d->recs_cap = cap;
    return true;
}

void linz_dom_add(linz_dom *d, const linz_set *ok, uint64_t digest, const uint64_t *applied,
                  size_t unk_len, size_t count)
{
    if (d->full)
        return;
    if (d->recs_len == 0)
        d->recs_len = 1; /* offset 0 means "none" */
    if (!dom_reserve(d, 2 + count)) {
        d->full = true;
        return;
    }
    size_t off = d->recs_len;
    uint32_t *r = &d->recs[off];
    size_t *head = linz_memo_find(&d->table, ok, digest);
    r[0] = head != NULL ? (uint32_t)*head : 0;
    r[1] = 0;
    for (size_t w = 0; w * 64 < unk_len; w++)
        for (uint64_t b = applied[w]; b != 0; b &= b - 1)
            r[2 + r[1]++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
    ASSERT(r[1] == count);
    if (head != NULL)
        *head = off;
    else if (!linz_memo_add(&d->table, ok, digest, off))
        return; /* table full: the record stays unreachable */
    d->recs_len += 2 + count;
}

void linz_dom_close(linz_dom *d)
{
    linz_memo_close(&d->table);
    free(d->recs);
    memset(d, 0, sizeof *d);
}

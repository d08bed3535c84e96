/* linz_memo: the checker's memo of visited configurations. */
#include "sim/linz_memo.h"

#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"

/* A set S of linearized ops is stored as hi = max(S) + 1, the count k of
 * indices below hi that are NOT in S, and those k indices. The search
 * linearizes ops roughly in call order, so that list is short (the ops
 * pending at the frontier, and unknown ops never applied) where a bitset
 * would take n bits per configuration. */

static uint64_t memo_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static bool memo_key_equal(const uint32_t *key, const linz_set *set)
{
    uint32_t hi = key[0], k = key[1];
    if ((int64_t)hi != (int64_t)set->max + 1 || (size_t)(hi - k) != set->size)
        return false;
    /* Same highest member and same size: equal when no listed index is in
     * the set (then S is inside [0,hi) minus the list, and as large). */
    for (uint32_t i = 0; i < k; i++)
        if (linz_bit_get(set->bits, key[2 + i]))
            return false;
    return true;
}

static bool memo_reserve(linz_memo *mm, size_t more)
{
    if (mm->keys_len + more <= mm->keys_cap)
        return true;
    size_t cap = mm->keys_cap == 0 ? 4096 : mm->keys_cap;
    while (cap < mm->keys_len + more)
        cap *= 2;
    if (mm->slots_len * sizeof(linz_memo_slot) + cap * sizeof(uint32_t) > mm->bytes_max)
        return false;
    uint32_t *keys = realloc(mm->keys, cap * sizeof *keys);
    if (keys == NULL)
        return false;
    mm->keys = keys;
    mm->keys_cap = cap;
    return true;
}

/* Appends the key of a set; SIZE_MAX when memory is refused. */
static size_t memo_key_build(linz_memo *mm, const linz_set *set)
{
    const uint64_t *bits = set->bits;
    uint32_t hi = (uint32_t)(set->max + 1);
    ASSERT(set->size <= hi);
    size_t missing = hi - set->size, off = mm->keys_len;
    if (!memo_reserve(mm, 2 + missing))
        return SIZE_MAX;
    uint32_t *key = mm->keys + off;
    uint32_t k = 0;
    for (size_t w = 0; w * 64 < hi; w++) {
        uint64_t inv = ~bits[w];
        if ((w + 1) * 64 > hi)
            inv &= ((uint64_t)1 << (hi % 64)) - 1;
        while (inv != 0) {
            key[2 + k++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(inv));
            inv &= inv - 1;
        }
    }
    ASSERT(k == missing);
    key[0] = hi;
    key[1] = k;
    mm->keys_len += 2 + k;
    return off;
}

static void memo_grow(linz_memo *mm)
{
    size_t len = mm->slots_len == 0 ? 1024 : mm->slots_len * 2;
    if (len * sizeof(linz_memo_slot) + mm->keys_cap * sizeof(uint32_t) > mm->bytes_max) {
        mm->full = true;
        return;
    }
    linz_memo_slot *slots = malloc(len * sizeof *slots);
    if (slots == NULL) {
        mm->full = true;
        return;
    }
    for (size_t i = 0; i < len; i++)
        slots[i].off = SIZE_MAX;
    for (size_t i = 0; i < mm->slots_len; i++) {
        if (mm->slots[i].off == SIZE_MAX)
            continue;
        size_t j = mm->slots[i].hash & (len - 1);
        while (slots[j].off != SIZE_MAX)
            j = (j + 1) & (len - 1);
        slots[j] = mm->slots[i];
    }
    free(mm->slots);
    mm->slots = slots;
    mm->slots_len = len;
}

static uint64_t memo_hash(const linz_set *set, uint64_t digest)
{
    return memo_mix(set->hash ^ memo_mix(digest ^ (uint64_t)set->size));
}

size_t *linz_memo_find(linz_memo *mm, const linz_set *set, uint64_t digest)
{
    if (mm->slots_len == 0)
        return NULL;
    uint64_t h = memo_hash(set, digest);
    size_t mask = mm->slots_len - 1;
    for (size_t i = h & mask; mm->slots[i].off != SIZE_MAX; i = (i + 1) & mask) {
        linz_memo_slot *sl = &mm->slots[i];
        if (sl->hash == h && sl->digest == digest && memo_key_equal(mm->keys + sl->off, set))
            return &sl->aux;
    }
    return NULL;
}

bool linz_memo_add(linz_memo *mm, const linz_set *set, uint64_t digest, size_t aux)
{
    if (mm->slots_len == 0 && !mm->full)
        memo_grow(mm);
    if (mm->full || mm->slots_len == 0)
        return false;
    size_t off = memo_key_build(mm, set);
    if (off == SIZE_MAX) {
        mm->full = true;
        return false;
    }
    uint64_t h = memo_hash(set, digest);
    size_t mask = mm->slots_len - 1, i = h & mask;
    while (mm->slots[i].off != SIZE_MAX)
        i = (i + 1) & mask;
    mm->slots[i] = (linz_memo_slot){.hash = h, .digest = digest, .off = off, .aux = aux};
    mm->used++;
    if (mm->used * 2 > mm->slots_len)
        memo_grow(mm);
    return true;
}

bool linz_memo_seen_or_add(linz_memo *mm, const linz_set *set, uint64_t digest)
{
    if (linz_memo_find(mm, set, digest) != NULL)
        return true;
    linz_memo_add(mm, set, digest, 0);
    return false;
}

void linz_memo_close(linz_memo *mm)
{
    free(mm->slots);
    free(mm->keys);
    memset(mm, 0, sizeof *mm);
}

/* rf_lower: binary search over arrays sorted by the uint64_t each item starts with. */
#ifndef RF_BASE_LOWER_H
#define RF_BASE_LOWER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The first of the n items (each `size` bytes, from base) whose key, the
 * uint64_t the item starts with, is >= key; n when none is. The items are
 * sorted by that key. Callers assert that the key is at offset 0. */
static inline size_t rf_lower_u64(const void *base, size_t n, size_t size, uint64_t key)
{
    /* Halving the window [lo, lo + n) with arithmetic, not a branch, on the
     * comparison: the keys looked up (group names' hashes, ids) are
     * unpredictable, and a mispredicted branch at every step cost more than
     * the loads. Item lo + half stays in the window when it is below key,
     * so the last comparison says whether the answer is lo or lo + 1. */
    const unsigned char *p = base;
    uint64_t k;
    size_t lo = 0;
    if (n == 0)
        return 0;
    while (n > 1) {
        size_t half = n / 2;
        memcpy(&k, p + (lo + half) * size, sizeof k);
        lo += (size_t)(k < key) * half;
        n -= half;
    }
    memcpy(&k, p + lo * size, sizeof k);
    return lo + (size_t)(k < key);
}

#endif

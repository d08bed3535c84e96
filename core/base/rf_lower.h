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
    const unsigned char *p = base;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t k;
        memcpy(&k, p + mid * size, sizeof k);
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#endif

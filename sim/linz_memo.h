/* linz_memo: the checker's memo of visited configurations (internal to sim/linz). */
#ifndef SIM_LINZ_MEMO_H
#define SIM_LINZ_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct linz_memo_slot {
    uint64_t hash;
    uint64_t digest;
    size_t off; /* into keys; SIZE_MAX when the slot is empty */
    size_t aux; /* the user's value */
} linz_memo_slot;

/* A set of op indices: its bitset, highest member, size and Zobrist hash. */
typedef struct linz_set {
    const uint64_t *bits;
    int32_t max; /* -1 when empty */
    size_t size;
    uint64_t hash;
} linz_set;

/* Zero-initialise, then set bytes_max. */
typedef struct linz_memo {
    linz_memo_slot *slots; /* open addressing, a power of two of them */
    size_t slots_len, used;
    uint32_t *keys; /* the stored sets, see linz_memo.c */
    size_t keys_len, keys_cap;
    size_t bytes_max; /* slots plus keys */
    bool full;        /* stopped recording: over bytes_max or out of memory */
} linz_memo;

static inline bool linz_bit_get(const uint64_t *bits, size_t i)
{
    return (bits[i / 64] >> (i % 64)) & 1u;
}

/* A configuration is a set with a model state of that digest. Returns the
 * aux value of its entry, or NULL when it is not recorded. */
size_t *linz_memo_find(linz_memo *mm, const linz_set *set, uint64_t digest);

/* Records a configuration that linz_memo_find did not find, with aux.
 * Returns false when the memo is full (which only costs search time). */
bool linz_memo_add(linz_memo *mm, const linz_set *set, uint64_t digest, size_t aux);

/* True when the configuration was recorded before; otherwise records it. */
bool linz_memo_seen_or_add(linz_memo *mm, const linz_set *set, uint64_t digest);

void linz_memo_close(linz_memo *mm);

#endif

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
} linz_memo_slot;

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

/* The configuration is the set in bits (set_size members, the highest is
 * max_op, its Zobrist hash set_hash) with a model state of that digest.
 * Returns true when it was recorded before; otherwise records it (unless
 * the memo is full, which only costs search time) and returns false. */
bool linz_memo_seen_or_add(linz_memo *mm, const uint64_t *bits, int32_t max_op, size_t set_size,
                           uint64_t set_hash, uint64_t digest);

void linz_memo_close(linz_memo *mm);

#endif

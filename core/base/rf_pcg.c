/* rf_pcg: PCG32, written from O'Neill's published algorithm. */
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_hash.h"
#include "base/rf_pcg.h"

#define PCG_MULT 6364136223846793005ULL

void rf_pcg32_seed(rf_pcg32 *rng, uint64_t initstate, uint64_t initseq)
{
    rng->state = 0;
    rng->inc = (initseq << 1) | 1u;
    (void)rf_pcg32_next(rng);
    rng->state += initstate;
    (void)rf_pcg32_next(rng);
}

uint32_t rf_pcg32_next(rf_pcg32 *rng)
{
    uint64_t old = rng->state;
    rng->state = old * PCG_MULT + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

uint32_t rf_pcg32_bounded(rf_pcg32 *rng, uint32_t bound)
{
    ASSERT(bound > 0);
    /* Reject the values below 2^32 mod bound: what remains is a whole
     * number of copies of [0, bound), so the modulo is unbiased. */
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t r = rf_pcg32_next(rng);
        if (r >= threshold)
            return r % bound;
    }
}

uint64_t rf_pcg32_next64(rf_pcg32 *rng)
{
    uint64_t hi = rf_pcg32_next(rng);
    return (hi << 32) | rf_pcg32_next(rng);
}

uint64_t rf_pcg32_range64(rf_pcg32 *rng, uint64_t lo, uint64_t hi)
{
    ASSERT(lo <= hi);
    uint64_t span = hi - lo;
    if (span == UINT64_MAX)
        return rf_pcg32_next64(rng);
    uint64_t bound = span + 1;
    if (bound <= UINT32_MAX)
        return lo + rf_pcg32_bounded(rng, (uint32_t)bound);
    uint64_t threshold = (-bound) % bound;
    for (;;) {
        uint64_t r = rf_pcg32_next64(rng);
        if (r >= threshold)
            return lo + r % bound;
    }
}

void rf_pcg32_derive(rf_pcg32 *out, uint64_t master_seed, const char *label, uint64_t index)
{
    static const uint8_t key[16] = "rf-pcg-derive-k1";
    uint8_t buf[256 + 8];
    size_t n = strlen(label);
    ASSERT(n <= 256);
    memcpy(buf, label, n);
    for (int i = 0; i < 8; i++)
        buf[n + (size_t)i] = (uint8_t)(index >> (8 * i));
    uint64_t stream = rf_siphash24(key, buf, n + 8);
    rf_pcg32_seed(out, master_seed ^ (stream * 0x9e3779b97f4a7c15ULL), stream);
}

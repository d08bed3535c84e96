/* rf_pcg: PCG32 random numbers (PCG-XSH-RR 64/32), the only randomness in core. */
#ifndef RF_PCG_H
#define RF_PCG_H

#include <stdint.h>

/* A generator is a 64-bit LCG state plus an odd increment that selects
 * one of 2^63 independent streams. Output permutation: xorshift-high then
 * a random rotation (O'Neill, "PCG: A Family of Simple Fast Space-Efficient
 * Statistically Good Algorithms for Random Number Generation", 2014). */
typedef struct rf_pcg32 {
    uint64_t state;
    uint64_t inc;
} rf_pcg32;

/* Seeds with an initial state and a stream selector, exactly as the
 * reference pcg32_srandom_r, so seed 42 / stream 54 reproduces the
 * published demo output. */
void rf_pcg32_seed(rf_pcg32 *rng, uint64_t initstate, uint64_t initseq);

/* The next uniformly distributed 32-bit value. */
uint32_t rf_pcg32_next(rf_pcg32 *rng);

/* A uniform value in [0, bound) without modulo bias; bound must be > 0. */
uint32_t rf_pcg32_bounded(rf_pcg32 *rng, uint32_t bound);

/* A uniform 64-bit value from two draws (high word first). */
uint64_t rf_pcg32_next64(rf_pcg32 *rng);

/* A uniform value in [lo, hi] (inclusive), 64-bit, without modulo bias. */
uint64_t rf_pcg32_range64(rf_pcg32 *rng, uint64_t lo, uint64_t hi);

/* Derives an independent generator for a named subsystem from a master
 * seed: the stream is taken from a hash of the label, so adding a new
 * subsystem never shifts the numbers another one draws. */
void rf_pcg32_derive(rf_pcg32 *out, uint64_t master_seed, const char *label, uint64_t index);

#endif

/* fuzz_world_int: what the world drawing's files share: the world being drawn as scenario text, and its helpers. */
#ifndef SIM_FUZZ_WORLD_INT_H
#define SIM_FUZZ_WORLD_INT_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/rf_pcg.h"
#include "sim/fuzz_cuts.h"
#include "sim/fuzz_world.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)
#define TEXT_MAX (64u * 1024u)
#define PURGE_NS (15 * SEC)      /* when a node is lost for good: longer than any partition */

typedef struct world {
    rf_pcg32 rng;
    char *text;
    size_t len;
    bool overflow;
    rf_fuzz_params *p;
    uint32_t active;     /* nodes active at the start */
    uint32_t nodes_all;  /* declared so far, added ones included */
    uint32_t zones;
    uint32_t losses;     /* crashes for good and removals */
    uint32_t drains;     /* deactivations */
    uint32_t spare_next; /* the next spare to activate (index), or nodes when none */
    bool gone[RF_FUZZ_NODES_MAX + 4];
    rf_fuzz_cut cuts[RF_FUZZ_FAULTS_MAX]; /* lines that may keep nodes apart, in text order */
    uint32_t n_cuts;
} world;

static inline void put(world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void put(world *w, const char *fmt, ...)
{
    if (w->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->text + w->len, TEXT_MAX - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= TEXT_MAX - w->len)
        w->overflow = true;
    else
        w->len += (size_t)n;
}

static inline uint64_t range(world *w, uint64_t lo, uint64_t hi)
{
    return rf_pcg32_range64(&w->rng, lo, hi);
}

static inline bool coin(world *w, uint32_t one_in)
{
    return rf_pcg32_bounded(&w->rng, one_in) == 0;
}

/* Durations are written in milliseconds: exact and short. */
static inline void put_ms(world *w, uint64_t ns)
{
    put(w, "%" PRIu64 "ms", ns / MS);
}

static inline void put_percent(world *w, uint32_t ppm)
{
    put(w, "%" PRIu32 ".%04" PRIu32 "%%", ppm / 10000, ppm % 10000);
}

/* The fault phase's timeline lines, then `heal` (fuzz_faults.c). */
void world_draw_faults(world *w, uint32_t kinds);

#endif

/* linz_dom: failed configurations that dominate others (internal to sim/linz). */
#ifndef SIM_LINZ_DOM_H
#define SIM_LINZ_DOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/linz_memo.h"

/* A configuration splits into (ok ops linearized, model state) and A, the
 * unknown ops applied. Unknown ops may also never take effect, so a
 * configuration D = (S, st, A_D) that has no completion proves the same of
 * every C = (S, st, A) with A a superset of A_D: anything C can still do,
 * D can too (D merely has more unknown ops left pending). The table keeps,
 * per (S, st), the A of each configuration the search left without
 * finding a completion. */
typedef struct linz_dom {
    linz_memo table; /* (S, digest) -> offset of its newest A record, 0 none */
    uint32_t *recs;  /* records: next offset, count, unknown positions... */
    size_t recs_len, recs_cap;
    size_t bytes_max; /* recs alone; table.bytes_max bounds the table */
    bool full;
} linz_dom;

/* True when a recorded failed configuration with the same ok set and
 * digest applied a subset of the unknown ops in applied (a bitset over
 * unknown positions). */
bool linz_dom_dominated(linz_dom *d, const linz_set *ok, uint64_t digest, const uint64_t *applied);

/* Records a failed configuration: applied holds count bits among the
 * first unk_len unknown positions. Silently stops when over its bounds. */
void linz_dom_add(linz_dom *d, const linz_set *ok, uint64_t digest, const uint64_t *applied,
                  size_t unk_len, size_t count);

void linz_dom_close(linz_dom *d);

#endif

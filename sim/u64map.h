/* sim/u64map: an open-addressing hash map from a pair of uint64 to a uint64, for checker tables. */
#ifndef SIM_U64MAP_H
#define SIM_U64MAP_H

#include <stdbool.h>
#include <stdint.h>

/* Lookups and inserts only: nothing ever iterates the table, so its
 * layout cannot leak into what a run does (determinism). Bounded by
 * len_max entries. */
typedef struct rf_sim_u64map {
    struct rf_sim_u64map_slot *slots;
    uint32_t cap; /* power of two */
    uint32_t len;
    uint32_t len_max;
} rf_sim_u64map;

int rf_sim_u64map_init(rf_sim_u64map *m, uint32_t len_max);
void rf_sim_u64map_close(rf_sim_u64map *m);
/* Finds (a, b); writes its value to *v when found. */
bool rf_sim_u64map_get(const rf_sim_u64map *m, uint64_t a, uint64_t b, uint64_t *v);
/* Inserts or overwrites. Returns 0, RF_EFULL or RF_ENOMEM (map unchanged). */
int rf_sim_u64map_put(rf_sim_u64map *m, uint64_t a, uint64_t b, uint64_t v);

#endif

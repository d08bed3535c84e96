/* fuzz_cuts: the spans during which a drawn world's faults may keep a node from the others, and the lines dropped to keep them short. */
#ifndef SIM_FUZZ_CUTS_H
#define SIM_FUZZ_CUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A world that loses a node for good must not also cut a live node off
 * for as long as the purge window: the fleet rightly takes that node for
 * lost too, purges it and shrinks its groups to the nodes left, and the
 * loss then takes a majority a correct fleet cannot get back (3 nodes:
 * two of them gone). Which node a partition leaves on the metadata
 * leader's far side is only known when the world runs, so every fault
 * that can keep nodes apart (partitions, cuts, flaps, clogs, pauses,
 * crashes with a restart, disk faults) counts for every node, and faults
 * less than RF_FUZZ_CUT_GAP_NS apart count as one span (a node must be
 * heard again to be counted reachable). */
#define RF_FUZZ_CUT_GAP_NS UINT64_C(1000000000)

typedef struct rf_fuzz_cut {
    size_t from, to;    /* the line's bytes in the world's text */
    uint64_t t0, t1;    /* when it is in force: [t0, t1) */
    uint32_t kind;      /* an rf_fuzz_kind, for the counts */
} rf_fuzz_cut;

/* The longest span (gaps under RF_FUZZ_CUT_GAP_NS bridged) of the union
 * of cuts[0..n) with [t0, t1), in ns. */
uint64_t rf_fuzz_cut_span(const rf_fuzz_cut *cuts, size_t n, uint64_t t0, uint64_t t1);

/* Keeps, in order, each of cuts[0..n) that leaves every span shorter
 * than span_max_ns with the ones kept before it, and removes the others'
 * lines from text (in place; the cuts are in text order and do not
 * overlap). Returns the new length; dropped[kind] counts the removed
 * lines. */
size_t rf_fuzz_cuts_keep_short(const rf_fuzz_cut *cuts, size_t n, uint64_t span_max_ns,
                               char *text, size_t len, uint32_t *dropped, size_t kinds);

#endif

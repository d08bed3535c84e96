/* fuzz_cuts: the spans during which a drawn world's faults may keep a node from the others, and the lines dropped to keep them short. */
#include "sim/fuzz_cuts.h"

#include <string.h>

#include "base/rf_assert.h"

#define CUTS_MAX 64u

static int by_start(const void *a, const void *b)
{
    const rf_fuzz_cut *x = a, *y = b;
    return x->t0 < y->t0 ? -1 : x->t0 > y->t0;
}

/* Insertion sort: a few dozen cuts at most. */
static void sort_cuts(rf_fuzz_cut *c, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && by_start(&c[j - 1], &c[j]) > 0; j--) {
            rf_fuzz_cut t = c[j];
            c[j] = c[j - 1];
            c[j - 1] = t;
        }
}

uint64_t rf_fuzz_cut_span(const rf_fuzz_cut *cuts, size_t n, uint64_t t0, uint64_t t1)
{
    ASSERT(n < CUTS_MAX);
    ASSERT(t0 <= t1);
    rf_fuzz_cut c[CUTS_MAX];
    if (n > 0)
        memcpy(c, cuts, n * sizeof *c); /* cuts may be NULL when n is 0 */
    c[n] = (rf_fuzz_cut){.t0 = t0, .t1 = t1};
    sort_cuts(c, n + 1);
    uint64_t start = c[0].t0, end = c[0].t1, longest = 0;
    for (size_t i = 1; i <= n; i++) {
        if (c[i].t0 >= end + RF_FUZZ_CUT_GAP_NS) {
            longest = end - start > longest ? end - start : longest;
            start = c[i].t0;
        }
        end = c[i].t1 > end ? c[i].t1 : end;
    }
    return end - start > longest ? end - start : longest;
}

size_t rf_fuzz_cuts_keep_short(const rf_fuzz_cut *cuts, size_t n, uint64_t span_max_ns,
                               char *text, size_t len, uint32_t *dropped, size_t kinds)
{
    ASSERT(n < CUTS_MAX);
    rf_fuzz_cut kept[CUTS_MAX];
    size_t k = 0, cut_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        ASSERT(cuts[i].from <= cuts[i].to && cuts[i].to <= len);
        ASSERT(i == 0 || cuts[i - 1].to <= cuts[i].from);
        if (rf_fuzz_cut_span(kept, k, cuts[i].t0, cuts[i].t1) < span_max_ns) {
            kept[k++] = cuts[i];
            continue;
        }
        /* Drop the line: what follows it moves up by its length. */
        size_t from = cuts[i].from - cut_bytes, to = cuts[i].to - cut_bytes;
        memmove(text + from, text + to, len - cut_bytes - to);
        cut_bytes += to - from;
        if (cuts[i].kind < kinds)
            dropped[cuts[i].kind]++;
    }
    return len - cut_bytes;
}

/* sim/evq: 4-ary min-heap of events keyed by (time, seq). */
#include "sim/evq.h"

#include <stdlib.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"

/* Four children a node: half the levels of a binary heap, and the
 * children of a node sit side by side in memory. The order (time, seq) is
 * total, so the arity changes nothing of what pops when. */
#define EVQ_ARITY 4u

static inline bool ev_before(const rf_sim_event *a, const rf_sim_event *b)
{
    if (a->time_ns != b->time_ns)
        return a->time_ns < b->time_ns;
    return a->seq < b->seq;
}

int rf_sim_evq_init(rf_sim_evq *q, uint32_t len_max)
{
    ASSERT(len_max > 0);
    q->len = 0;
    q->len_max = len_max;
    q->next_seq = 0;
    q->cap = len_max < 1024 ? len_max : 1024;
    q->heap = malloc(sizeof(*q->heap) * q->cap);
    if (q->heap == NULL) {
        q->cap = 0;
        return RF_ENOMEM;
    }
    return RF_OK;
}

void rf_sim_evq_close(rf_sim_evq *q)
{
    free(q->heap);
    q->heap = NULL;
    q->len = 0;
    q->cap = 0;
}

static int evq_grow(rf_sim_evq *q)
{
    uint64_t cap = q->cap == 0 ? 64 : (uint64_t)q->cap * 2;
    if (cap > q->len_max)
        cap = q->len_max;
    rf_sim_event *h = realloc(q->heap, sizeof(*h) * cap);
    if (h == NULL)
        return RF_ENOMEM;
    q->heap = h;
    q->cap = (uint32_t)cap;
    return RF_OK;
}

int rf_sim_evq_push(rf_sim_evq *q, const rf_sim_event *ev)
{
    if (q->len >= q->len_max)
        return RF_EFULL;
    if (q->len == q->cap) {
        int rc = evq_grow(q);
        if (rc != RF_OK)
            return rc;
    }
    rf_sim_event e = *ev;
    e.seq = q->next_seq++;
    /* Sift up: move parents down until e's slot is found. */
    uint32_t i = q->len++;
    while (i > 0) {
        uint32_t parent = (i - 1) / EVQ_ARITY;
        if (!ev_before(&e, &q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = e;
    return RF_OK;
}

bool rf_sim_evq_pop(rf_sim_evq *q, rf_sim_event *out)
{
    if (q->len == 0)
        return false;
    *out = q->heap[0];
    rf_sim_event last = q->heap[--q->len];
    uint32_t n = q->len;
    uint32_t i = 0;
    /* Sift down the former last element from the root. */
    for (;;) {
        uint32_t first = EVQ_ARITY * i + 1;
        if (first >= n)
            break;
        uint32_t end = n - first < EVQ_ARITY ? n : first + EVQ_ARITY;
        uint32_t child = first;
        for (uint32_t c = first + 1; c < end; c++)
            if (ev_before(&q->heap[c], &q->heap[child]))
                child = c;
        if (!ev_before(&q->heap[child], &last))
            break;
        q->heap[i] = q->heap[child];
        i = child;
    }
    if (n > 0)
        q->heap[i] = last;
    ASSERT(q->len == 0 || !ev_before(&q->heap[0], out));
    return true;
}

const rf_sim_event *rf_sim_evq_peek(const rf_sim_evq *q)
{
    return q->len == 0 ? NULL : &q->heap[0];
}

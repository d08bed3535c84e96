/* sim/evq: the simulator's event queue, a 4-ary heap ordered by (time, insertion sequence). */
#ifndef SIM_EVQ_H
#define SIM_EVQ_H

#include <stdbool.h>
#include <stdint.h>

/* One pending event. The queue copies events by value; ptr is owned by
 * whoever handles (or drops) the event. */
typedef struct rf_sim_event {
    uint64_t time_ns; /* virtual time at which it fires */
    uint64_t seq;     /* insertion sequence: ties on time fire in push order */
    uint32_t kind;    /* what happens; the engine dispatches on it */
    uint32_t node;    /* node index the event concerns (or 0) */
    uint64_t arg;     /* a kind-specific scalar (epoch, write id, client...) */
    void *ptr;        /* kind-specific payload (an encoded message...) */
} rf_sim_event;

/* A bounded min-heap. The order is total: two events never compare equal
 * because seq is unique, so the pop order is the same on every run. */
typedef struct rf_sim_evq {
    rf_sim_event *heap;
    uint32_t len;
    uint32_t cap;      /* allocated slots; grows by doubling up to len_max */
    uint32_t len_max;  /* bound on pending events */
    uint64_t next_seq;
} rf_sim_evq;

/* Initialises an empty queue holding at most len_max events. Returns 0 or
 * RF_ENOMEM (q is then left empty and safe to close). */
int rf_sim_evq_init(rf_sim_evq *q, uint32_t len_max);
void rf_sim_evq_close(rf_sim_evq *q);

/* Adds ev (its seq is assigned here). Returns 0, RF_EFULL when len_max
 * events are pending, or RF_ENOMEM; on failure the queue is unchanged. */
int rf_sim_evq_push(rf_sim_evq *q, const rf_sim_event *ev);

/* Removes the earliest event into *out; false when the queue is empty. */
bool rf_sim_evq_pop(rf_sim_evq *q, rf_sim_event *out);

/* The earliest event without removing it, or NULL when empty. */
const rf_sim_event *rf_sim_evq_peek(const rf_sim_evq *q);

static inline uint32_t rf_sim_evq_len(const rf_sim_evq *q) { return q->len; }

#endif

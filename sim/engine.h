/* sim/engine: the discrete-event loop in virtual time, its seed streams and trace hash. */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rf_pcg.h"
#include "sim/evq.h"

/* Event kinds are small integers; each owner of a kind registers a
 * handler. The cluster harness uses kinds below 32; scenario runners and
 * tests take kinds from 32 up. */
#define RF_SIM_KINDS_MAX 64

/* A 64-bit finaliser (splitmix64's): every input bit flips about half of
 * the output bits, so a running hash separates runs that differ in any one
 * value. */
static inline uint64_t rf_sim_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

typedef struct rf_sim_engine rf_sim_engine;

/* Handles one event at e->now == ev->time_ns. Owns ev->ptr from here on. */
typedef void (*rf_sim_handler_fn)(void *ctx, rf_sim_engine *e, const rf_sim_event *ev);
/* Frees ev->ptr of an event that never fired (the engine was closed). */
typedef void (*rf_sim_drop_fn)(void *ctx, const rf_sim_event *ev);

typedef struct rf_sim_kind {
    rf_sim_handler_fn handle;
    rf_sim_drop_fn drop; /* optional */
    void *ctx;
} rf_sim_kind;

/* The trace hash: a running 64-bit hash of every event executed and of
 * every random draw that decides what happens. Same seed and build ->
 * same hash, so comparing two runs' hashes checks determinism. */
typedef struct rf_sim_trace {
    uint64_t h;
    uint64_t count; /* values mixed in */
} rf_sim_trace;

void rf_sim_trace_u64(rf_sim_trace *t, uint64_t v);
void rf_sim_trace_bytes(rf_sim_trace *t, const void *data, size_t len);

/* Fields are read-only outside engine.c except through the functions. */
struct rf_sim_engine {
    uint64_t now_ns;      /* virtual time of the event being handled */
    uint64_t seed;        /* the master seed every stream derives from */
    uint64_t events_run;  /* events handled so far */
    bool stopped;         /* rf_sim_engine_stop was called */
    rf_sim_evq q;
    rf_sim_trace trace;
    rf_sim_kind kinds[RF_SIM_KINDS_MAX];
};

/* events_max bounds the pending events. Returns 0 or RF_ENOMEM. */
int rf_sim_engine_init(rf_sim_engine *e, uint64_t seed, uint32_t events_max);
/* Drops the pending events through their kinds' drop functions. */
void rf_sim_engine_close(rf_sim_engine *e);

/* Registers the handler of kind (each kind once). */
void rf_sim_engine_on(rf_sim_engine *e, uint32_t kind, rf_sim_handler_fn handle,
                      rf_sim_drop_fn drop, void *ctx);

/* Seeds out with the subsystem's own stream: rf_pcg32_derive(seed, label,
 * index), e.g. ("network", 0), ("node", id), ("workload", 0). */
void rf_sim_engine_stream(const rf_sim_engine *e, rf_pcg32 *out, const char *label,
                          uint64_t index);

/* Schedules an event delay_ns after now. Returns 0 or RF_EFULL/RF_ENOMEM
 * (nothing is scheduled then; the caller still owns ptr). */
int rf_sim_engine_after(rf_sim_engine *e, uint64_t delay_ns, uint32_t kind, uint32_t node,
                        uint64_t arg, void *ptr);
/* Same at an absolute time, which must not be in the past. */
int rf_sim_engine_at(rf_sim_engine *e, uint64_t time_ns, uint32_t kind, uint32_t node,
                     uint64_t arg, void *ptr);

/* Handles the earliest event if it fires at or before until_ns; false
 * when there is none (or the engine was stopped). */
bool rf_sim_engine_step(rf_sim_engine *e, uint64_t until_ns);

/* Handles every event up to until_ns, then sets now to until_ns (unless
 * stopped early). Returns the number of events handled. */
uint64_t rf_sim_engine_run_until(rf_sim_engine *e, uint64_t until_ns);

/* Makes step/run_until return at once (a checker found a violation...). */
void rf_sim_engine_stop(rf_sim_engine *e);

#endif

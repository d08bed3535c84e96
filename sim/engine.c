/* sim/engine: the discrete-event loop: pop the earliest event, hash it into the trace, dispatch. */
#include "sim/engine.h"

#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_le.h"
#include "base/rf_err.h"


void rf_sim_trace_u64(rf_sim_trace *t, uint64_t v)
{
    /* Order matters: h' = mix(h * odd + v) is not symmetric in the inputs. */
    t->h = rf_sim_mix64(t->h * 0x9e3779b97f4a7c15ULL + v + 0x632be59bd9b4e019ULL);
    t->count++;
}

void rf_sim_trace_bytes(rf_sim_trace *t, const void *data, size_t len)
{
    /* Eight bytes a step (every message a run sends passes here): each
     * word is folded in with a multiply and a shift, whose result depends
     * on every bit of it and on the words before; the tail is zero-padded
     * and the length mixed in, so no two lengths collide by padding. */
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        h = (h ^ rf_le_get64(p + i)) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
    }
    if (i < len) {
        uint64_t w = 0;
        for (size_t k = 0; i + k < len; k++)
            w |= (uint64_t)p[i + k] << (8 * k);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
    }
    rf_sim_trace_u64(t, h ^ ((uint64_t)len << 48));
}

int rf_sim_engine_init(rf_sim_engine *e, uint64_t seed, uint32_t events_max)
{
    memset(e, 0, sizeof(*e));
    e->seed = seed;
    e->trace.h = rf_sim_mix64(seed ^ 0x5eed5eed5eed5eedULL);
    return rf_sim_evq_init(&e->q, events_max);
}

void rf_sim_engine_close(rf_sim_engine *e)
{
    rf_sim_event ev;
    while (rf_sim_evq_pop(&e->q, &ev)) {
        const rf_sim_kind *k = &e->kinds[ev.kind];
        if (k->drop != NULL)
            k->drop(k->ctx, &ev);
    }
    rf_sim_evq_close(&e->q);
}

void rf_sim_engine_on(rf_sim_engine *e, uint32_t kind, rf_sim_handler_fn handle,
                      rf_sim_drop_fn drop, void *ctx)
{
    ASSERT(kind < RF_SIM_KINDS_MAX);
    ASSERT(e->kinds[kind].handle == NULL);
    e->kinds[kind].handle = handle;
    e->kinds[kind].drop = drop;
    e->kinds[kind].ctx = ctx;
}

void rf_sim_engine_stream(const rf_sim_engine *e, rf_pcg32 *out, const char *label,
                          uint64_t index)
{
    rf_pcg32_derive(out, e->seed, label, index);
}

int rf_sim_engine_at(rf_sim_engine *e, uint64_t time_ns, uint32_t kind, uint32_t node,
                     uint64_t arg, void *ptr)
{
    ASSERT(time_ns >= e->now_ns);
    ASSERT(kind < RF_SIM_KINDS_MAX);
    ASSERT(e->kinds[kind].handle != NULL);
    rf_sim_event ev = {.time_ns = time_ns, .kind = kind, .node = node, .arg = arg, .ptr = ptr};
    return rf_sim_evq_push(&e->q, &ev);
}

int rf_sim_engine_after(rf_sim_engine *e, uint64_t delay_ns, uint32_t kind, uint32_t node,
                        uint64_t arg, void *ptr)
{
    uint64_t t = e->now_ns + delay_ns;
    if (t < e->now_ns)
        t = UINT64_MAX; /* saturate: "never" rather than wrapping into the past */
    return rf_sim_engine_at(e, t, kind, node, arg, ptr);
}

bool rf_sim_engine_step(rf_sim_engine *e, uint64_t until_ns)
{
    if (e->stopped)
        return false;
    const rf_sim_event *top = rf_sim_evq_peek(&e->q);
    if (top == NULL || top->time_ns > until_ns)
        return false;
    rf_sim_event ev;
    bool ok = rf_sim_evq_pop(&e->q, &ev);
    ASSERT(ok);
    ASSERT(ev.time_ns >= e->now_ns);
    e->now_ns = ev.time_ns;
    e->events_run++;
    rf_sim_trace_u64(&e->trace, ev.time_ns);
    rf_sim_trace_u64(&e->trace, ((uint64_t)ev.kind << 32) | ev.node);
    rf_sim_trace_u64(&e->trace, ev.arg);
    const rf_sim_kind *k = &e->kinds[ev.kind];
    k->handle(k->ctx, e, &ev);
    return true;
}

uint64_t rf_sim_engine_run_until(rf_sim_engine *e, uint64_t until_ns)
{
    uint64_t n = 0;
    while (rf_sim_engine_step(e, until_ns))
        n++;
    if (!e->stopped && until_ns > e->now_ns)
        e->now_ns = until_ns;
    return n;
}

void rf_sim_engine_stop(rf_sim_engine *e)
{
    e->stopped = true;
}

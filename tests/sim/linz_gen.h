/* linz_gen: random linearizable histories for the checker's tests and bench. */
#ifndef TESTS_SIM_LINZ_GEN_H
#define TESTS_SIM_LINZ_GEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_pcg.h"
#include "model/rf_model.h"
#include "sim/history.h"

/* Clients run ops one after another; each op takes effect at a random
 * instant inside its [call, return] interval (the "linearization point").
 * Ops are applied to the model in linearization-point order, which gives
 * the replies, so the history is linearizable by construction. Some ops are
 * recorded as fail (never applied) or unknown (applied or not, possibly
 * after the client gave up; no return, no reply). */
typedef struct gen_cfg {
    const rf_model *model;
    size_t ops;
    unsigned clients;
    unsigned unknown_permille;
    unsigned fail_permille;
    uint64_t seed;
    /* Writes one op's input for this model (NUL-terminated, < 64 bytes). */
    void (*make_op)(rf_pcg32 *rng, char *in, rf_op_kind *kind);
} gen_cfg;

typedef struct gen_op {
    uint64_t client, call, lin, ret;
    rf_op_kind kind;
    rf_op_status status;
    int applied;
    char in[64];
    uint8_t reply[2048];
    size_t reply_len;
} gen_op;

static inline int gen_by_lin(const void *a, const void *b)
{
    const gen_op *x = *(const gen_op *const *)a, *y = *(const gen_op *const *)b;
    if (x->lin != y->lin)
        return x->lin < y->lin ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0;
}

static inline int gen_by_call(const void *a, const void *b)
{
    const gen_op *x = a, *y = b;
    if (x->call != y->call)
        return x->call < y->call ? -1 : 1;
    return x->client < y->client ? -1 : x->client > y->client ? 1 : 0;
}

static inline void gen_int_op(rf_pcg32 *rng, char *in, rf_op_kind *kind)
{
    uint32_t r = rf_pcg32_bounded(rng, 100);
    *kind = r < 50 ? RF_OP_QUERY : RF_OP_COMMAND;
    if (r < 50)
        strcpy(in, "get");
    else if (r < 90)
        strcpy(in, "inc");
    else
        snprintf(in, 64, "set %u", rf_pcg32_bounded(rng, 100));
}

static inline void gen_kv_op(rf_pcg32 *rng, char *in, rf_op_kind *kind)
{
    uint32_t r = rf_pcg32_bounded(rng, 100), k = rf_pcg32_bounded(rng, 3);
    uint32_t a = rf_pcg32_bounded(rng, 4), b = rf_pcg32_bounded(rng, 4);
    *kind = r < 40 ? RF_OP_QUERY : RF_OP_COMMAND;
    if (r < 40)
        snprintf(in, 64, "get k%u", k);
    else if (r < 65)
        snprintf(in, 64, "put k%u v%u", k, a);
    else if (r < 75)
        snprintf(in, 64, "del k%u", k);
    else if (a == 0)
        snprintf(in, 64, "cas k%u nil v%u", k, b);
    else
        snprintf(in, 64, "cas k%u v%u v%u", k, a, b);
}

/* Fills h (already initialised) with cfg->ops operations. */
static inline void gen_history(const gen_cfg *cfg, rf_history *h)
{
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, cfg->seed, 77);
    gen_op *ops = calloc(cfg->ops, sizeof *ops);
    gen_op **order = calloc(cfg->ops, sizeof *order);
    uint64_t *free_at = calloc(cfg->clients, sizeof *free_at);
    for (size_t i = 0; i < cfg->ops; i++) {
        gen_op *op = &ops[i];
        unsigned c = rf_pcg32_bounded(&rng, cfg->clients);
        op->client = c;
        op->call = free_at[c] + rf_pcg32_bounded(&rng, 2000);
        op->ret = op->call + 200 + rf_pcg32_bounded(&rng, 5000);
        op->lin = op->call + rf_pcg32_bounded(&rng, (uint32_t)(op->ret - op->call + 1));
        free_at[c] = op->ret;
        cfg->make_op(&rng, op->in, &op->kind);
        uint32_t r = rf_pcg32_bounded(&rng, 1000);
        op->status = r < cfg->unknown_permille ? RF_OP_UNKNOWN
                     : r < cfg->unknown_permille + cfg->fail_permille ? RF_OP_FAIL
                                                                      : RF_OP_OK;
        op->applied = op->status == RF_OP_OK ||
                      (op->status == RF_OP_UNKNOWN && rf_pcg32_bounded(&rng, 2) == 0);
        if (op->status == RF_OP_UNKNOWN) /* may land long after the client moved on */
            op->lin = op->call + rf_pcg32_bounded(&rng, 20000);
        order[i] = op;
    }
    qsort(order, cfg->ops, sizeof *order, gen_by_lin);
    void *st = cfg->model->create();
    for (size_t i = 0; i < cfg->ops; i++) {
        gen_op *op = order[i];
        if (!op->applied)
            continue;
        const uint8_t *in = (const uint8_t *)op->in;
        if (op->kind == RF_OP_QUERY)
            cfg->model->query(st, in, strlen(op->in), op->reply, sizeof op->reply, &op->reply_len);
        else
            cfg->model->command(st, in, strlen(op->in), op->reply, sizeof op->reply,
                                &op->reply_len);
    }
    cfg->model->destroy(st);
    qsort(ops, cfg->ops, sizeof *ops, gen_by_call);
    for (size_t i = 0; i < cfg->ops; i++) {
        gen_op *op = &ops[i];
        rf_op rec = {.client = op->client, .kind = op->kind, .status = op->status,
                     .call_ns = op->call, .return_ns = op->ret,
                     .input = (uint8_t *)op->in, .input_len = strlen(op->in)};
        if (op->status == RF_OP_OK) {
            rec.reply = op->reply;
            rec.reply_len = op->reply_len;
        }
        if (op->status == RF_OP_UNKNOWN)
            rec.return_ns = RF_HISTORY_NO_RETURN;
        if (rf_history_append(h, &rec) != 0)
            abort();
    }
    free(free_at);
    free(order);
    free(ops);
}

#endif

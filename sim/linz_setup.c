/* linz_setup: builds the linearizability checker's search state from a history. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/linz_search.h"

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* ---- setting up ---------------------------------------------------------- */

typedef struct linz_event {
    uint64_t time;
    uint32_t is_return; /* calls sort before returns at equal times */
    uint32_t op;
} linz_event;

static int linz_event_cmp(const void *a, const void *b)
{
    const linz_event *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    if (x->is_return != y->is_return)
        return x->is_return < y->is_return ? -1 : 1;
    return x->op < y->op ? -1 : x->op > y->op ? 1 : 0;
}

static int linz_op_cmp(const void *a, const void *b)
{
    const linz_op *x = a, *y = b;
    if (x->src->call_ns != y->src->call_ns)
        return x->src->call_ns < y->src->call_ns ? -1 : 1;
    return x->src_index < y->src_index ? -1 : x->src_index > y->src_index ? 1 : 0;
}

/* Keeps the ops that constrain the search (ok ops and unknown commands),
 * in call order, and checks the record is well formed. */
static int linz_select(linz_search *s, const rf_history *h)
{
    if (h->count > RF_HISTORY_OPS_MAX)
        return RF_EINVAL;
    s->ops = malloc((h->count + 1) * sizeof *s->ops);
    if (s->ops == NULL)
        return RF_ENOMEM;
    for (size_t i = 0; i < h->count; i++) {
        const rf_op *op = &h->ops[i];
        if (op->call_ns == RF_HISTORY_NO_RETURN)
            return RF_EINVAL;
        if (op->status == RF_OP_OK &&
            (op->return_ns == RF_HISTORY_NO_RETURN || op->return_ns < op->call_ns))
            return RF_EINVAL;
        if (op->status == RF_OP_FAIL || (op->status == RF_OP_UNKNOWN && op->kind == RF_OP_QUERY))
            continue;
        if (op->status != RF_OP_OK && op->status != RF_OP_UNKNOWN)
            return RF_EINVAL;
        s->ops[s->n++] = (linz_op){.src = op, .src_index = i, .same_prev = -1};
    }
    /* Call order, ties by history position, so that bit indices follow
     * the order in which the search mostly linearizes. */
    qsort(s->ops, s->n, sizeof *s->ops, linz_op_cmp);
    for (size_t i = 0; i < s->n; i++)
        s->ops[i].zob = splitmix64(0x6c696e7aull * 0x10000u + i);
    return RF_OK;
}

typedef struct linz_unk_key {
    const rf_op *src;
    int32_t op;
} linz_unk_key;

/* Unknown ops by input bytes, then call order. */
static int linz_unk_cmp(const void *a, const void *b)
{
    const linz_unk_key *x = a, *y = b;
    size_t n = x->src->input_len < y->src->input_len ? x->src->input_len : y->src->input_len;
    int c = memcmp(x->src->input, y->src->input, n);
    if (c != 0)
        return c;
    if (x->src->input_len != y->src->input_len)
        return x->src->input_len < y->src->input_len ? -1 : 1;
    return x->op < y->op ? -1 : x->op > y->op ? 1 : 0;
}

/* Ranks the ok ops and the unknown ops, each in call order, lists the
 * unknown ops and links each to the previous one with the same input (for
 * the interchangeability reduction). */
static int linz_index_ops(linz_search *s)
{
    size_t ok = 0;
    s->unk = malloc((s->n + 1) * sizeof *s->unk);
    linz_unk_key *keys = malloc((s->n + 1) * sizeof *keys);
    if (s->unk == NULL || keys == NULL) {
        free(keys);
        return RF_ENOMEM;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (s->ops[i].src->status == RF_OP_OK) {
            s->ops[i].rank = (int32_t)ok++;
            continue;
        }
        s->ops[i].rank = (int32_t)s->unk_len;
        keys[s->unk_len] = (linz_unk_key){s->ops[i].src, (int32_t)i};
        s->unk[s->unk_len++] = (int32_t)i;
    }
    qsort(keys, s->unk_len, sizeof *keys, linz_unk_cmp);
    for (size_t i = 1; i < s->unk_len; i++) {
        const rf_op *a = keys[i - 1].src, *b = keys[i].src;
        if (a->input_len == b->input_len && memcmp(a->input, b->input, a->input_len) == 0)
            s->ops[keys[i].op].same_prev = keys[i - 1].op;
    }
    free(keys);
    return RF_OK;
}

/* Builds the entry list of the ok ops: head sentinel, entries in event
 * order, tail sentinel. */
static int linz_build_list(linz_search *s)
{
    size_t nev = 0;
    linz_event *ev = malloc((2 * s->n + 1) * sizeof *ev);
    s->e = malloc((2 * s->n + 2) * sizeof *s->e);
    s->call_entry = malloc((s->n + 1) * sizeof *s->call_entry);
    if (ev == NULL || s->e == NULL || s->call_entry == NULL) {
        free(ev);
        return RF_ENOMEM;
    }
    for (size_t i = 0; i < s->n; i++) {
        s->call_entry[i] = -1;
        if (s->ops[i].src->status != RF_OP_OK)
            continue;
        ev[nev++] = (linz_event){s->ops[i].src->call_ns, 0, (uint32_t)i};
        ev[nev++] = (linz_event){s->ops[i].src->return_ns, 1, (uint32_t)i};
    }
    qsort(ev, nev, sizeof *ev, linz_event_cmp);
    s->head = 0;
    s->tail = (int32_t)nev + 1;
    for (size_t k = 0; k <= nev + 1; k++)
        s->e[k] = (linz_entry){.prev = (int32_t)k - 1, .next = (int32_t)k + 1, .op = -1, .match = -1};
    for (size_t k = 0; k < nev; k++) {
        linz_entry *en = &s->e[k + 1];
        en->op = (int32_t)ev[k].op;
        en->is_call = ev[k].is_return == 0;
        if (en->is_call) {
            s->call_entry[en->op] = (int32_t)k + 1;
        } else { /* a call sorts before its return */
            en->match = s->call_entry[en->op];
            s->e[en->match].match = (int32_t)k + 1;
            s->returns_left++;
        }
    }
    free(ev);
    return RF_OK;
}

void linz_free(linz_search *s)
{
    while (s->depth > 0) {
        linz_frame *f = &s->stack[--s->depth];
        if (f->state != NULL) {
            s->m->destroy(s->cur);
            s->cur = f->state;
        }
    }
    if (s->cur != NULL)
        s->m->destroy(s->cur);
    free(s->ops);
    free(s->e);
    free(s->unk);
    free(s->call_entry);
    free(s->bits);
    free(s->stack);
    free(s->scratch);
    free(s->reply);
    linz_memo_close(&s->memo);
    linz_dom_close(&s->dom);
    free(s->ok_bits);
    free(s->unk_bits);
}

int linz_prepare(linz_search *s, const rf_history *h)
{
    int rc = linz_select(s, h);
    if (rc != RF_OK)
        return rc;
    rc = linz_build_list(s);
    if (rc == RF_OK)
        rc = linz_index_ops(s);
    if (rc != RF_OK)
        return rc;
    s->bits = calloc(s->n / 64 + 1, sizeof *s->bits);
    s->ok_bits = calloc(s->n / 64 + 1, sizeof *s->ok_bits);
    s->unk_bits = calloc(s->n / 64 + 1, sizeof *s->unk_bits);
    s->stack = malloc((s->n + 1) * sizeof *s->stack);
    s->reply = malloc(RF_MODEL_REPLY_MAX);
    s->out->prefix = malloc((s->n + 1) * sizeof *s->out->prefix);
    s->cur = s->m->create();
    if (s->bits == NULL || s->ok_bits == NULL || s->unk_bits == NULL || s->stack == NULL || s->reply == NULL || s->out->prefix == NULL ||
        s->cur == NULL)
        return RF_ENOMEM;
    s->cur_digest = s->m->digest(s->cur);
    s->max_op = -1;
    s->ok_max = -1;
    return RF_OK;
}

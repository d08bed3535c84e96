/* linz: Wing & Gong / Lowe linearizability search with memoization. */
#include "sim/linz.h"

#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/linz_memo.h"

/* Ok ops form one doubly linked list of call and return entries in time
 * order. The search (Lowe 2017, "just-in-time" linearization) walks it from
 * its head: at a call it tries to linearize that op now (apply it to the
 * model; it must reproduce its recorded reply), and on success lifts the
 * op's entries out of the list and starts again from the head. Reaching a
 * return entry (the frontier) means that op was not linearized before it
 * returned: before giving up on this configuration, the pending unknown
 * commands called before the frontier are tried, since one of them may be
 * what the next ok op needs; then the last choice is undone and the next
 * candidate after it is tried. The history is linearizable once no return
 * entry is left: the unknown ops still pending never took effect.
 *
 * A configuration is (set of linearized ops, model state). Two paths that
 * reach the same configuration have the same futures, so each is explored
 * once: the memo keys it by a Zobrist hash of the set and the model digest,
 * and stores the set exactly, compactly (see sim/linz_memo.c).
 *
 * Unknown commands make the search exponential in the number pending, so
 * two reductions keep it small, both sound because an unknown op may also
 * never take effect:
 *  - an unknown op that leaves the state as it is is not applied (the
 *    configuration without it, being explored, allows everything it does);
 *  - unknown ops with identical input are interchangeable, so they are
 *    applied in call order only (one pending "inc" of many stands for all). */

typedef struct linz_op {
    const rf_op *src;
    size_t src_index;
    uint64_t zob;       /* this op's Zobrist value */
    int32_t same_prev;  /* unknown ops: the previous unknown op with the same input, or -1 */
} linz_op;

typedef struct linz_entry {
    int32_t prev, next;
    int32_t op;    /* index into ops */
    int32_t match; /* call: its return entry; return: its call */
    bool is_call;
} linz_entry;

/* Where the walk is: at an entry of the list, or (past the frontier return
 * entry) at position unk of the unknown ops. */
typedef struct linz_pos {
    int32_t entry;
    int32_t frontier; /* -1 while walking the list */
    size_t unk;
} linz_pos;

typedef struct linz_frame {
    int32_t op;       /* the op linearized */
    linz_pos from;    /* where it was chosen, to resume after it is undone */
    int32_t max_prev; /* the highest linearized op before it */
    void *state;      /* the state before a command; NULL for a query */
    uint64_t digest;  /* its digest */
} linz_frame;

typedef struct linz_search {
    const rf_model *m;
    linz_op *ops; /* in call order */
    size_t n;
    int32_t *unk; /* the unknown ops, in call order */
    size_t unk_len;
    int32_t *call_entry; /* per op: its call entry, -1 for unknown ops */
    linz_entry *e;
    int32_t head, tail;
    uint64_t *bits; /* linearized ops */
    linz_frame *stack;
    size_t depth;
    int32_t max_op; /* highest linearized op index, -1 when none */
    uint64_t set_hash;
    void *cur;
    uint64_t cur_digest;
    size_t returns_left;
    uint8_t *scratch; /* encode buffer for cloning states */
    size_t scratch_cap;
    uint8_t *reply;
    linz_memo memo;
    uint64_t steps_max;
    size_t stable; /* stack[0..stable) equals out->prefix[0..stable) */
    rf_linz_result *out;
} linz_search;

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void bit_flip(uint64_t *b, size_t i) { b[i / 64] ^= (uint64_t)1 << (i % 64); }

/* ---- the list of entries ------------------------------------------------- */

static void entry_unlink(linz_entry *e, int32_t i)
{
    e[e[i].prev].next = e[i].next;
    e[e[i].next].prev = e[i].prev;
}

static void entry_relink(linz_entry *e, int32_t i)
{
    e[e[i].prev].next = i;
    e[e[i].next].prev = i;
}

/* Dancing links: lift removes call then return; unlift restores in reverse. */
static void linz_lift(linz_search *s, int32_t call)
{
    entry_unlink(s->e, call);
    entry_unlink(s->e, s->e[call].match);
    s->returns_left--;
}

static void linz_unlift(linz_search *s, int32_t call)
{
    entry_relink(s->e, s->e[call].match);
    s->returns_left++;
    entry_relink(s->e, call);
}

/* ---- model states -------------------------------------------------------- */

/* A copy of st through the model's own encoding (the vtable has no clone). */
static int linz_clone(linz_search *s, const void *st, void **copy)
{
    size_t len = 0;
    int rc = s->m->encode(st, s->scratch, s->scratch_cap, &len);
    if (rc == RF_ETOOBIG && len > s->scratch_cap) {
        size_t cap = len * 2;
        uint8_t *buf = realloc(s->scratch, cap);
        if (buf == NULL)
            return RF_ENOMEM;
        s->scratch = buf;
        s->scratch_cap = cap;
        rc = s->m->encode(st, s->scratch, s->scratch_cap, &len);
    }
    if (rc != RF_OK)
        return rc;
    *copy = s->m->decode(s->scratch, len);
    return *copy == NULL ? RF_ENOMEM : RF_OK;
}

static bool linz_reply_matches(const rf_op *src, const uint8_t *reply, size_t len)
{
    if (src->status == RF_OP_UNKNOWN)
        return true;
    return len <= RF_MODEL_REPLY_MAX && len == src->reply_len &&
           (len == 0 || memcmp(reply, src->reply, len) == 0);
}

/* ---- the search ---------------------------------------------------------- */

static void linz_push(linz_search *s, int32_t op, linz_pos from, void *next, uint64_t digest,
                      uint64_t set_hash, int32_t max_prev)
{
    linz_frame *f = &s->stack[s->depth++];
    ASSERT(s->depth <= s->n);
    f->op = op;
    f->from = from;
    f->max_prev = max_prev;
    f->state = next == NULL ? NULL : s->cur;
    f->digest = s->cur_digest;
    if (next != NULL)
        s->cur = next;
    s->cur_digest = digest;
    s->set_hash = set_hash;
    if (s->call_entry[op] >= 0)
        linz_lift(s, s->call_entry[op]);
}

/* Tries to linearize op now (chosen at position from); *pushed tells
 * whether it was: it matched, and its configuration is new. */
static int linz_try(linz_search *s, int32_t op, linz_pos from, bool *pushed)
{
    const rf_op *src = s->ops[op].src;
    void *next = NULL;
    uint64_t digest = s->cur_digest;
    size_t rlen = 0;
    *pushed = false;
    if (src->kind == RF_OP_QUERY) {
        s->m->query(s->cur, src->input, src->input_len, s->reply, RF_MODEL_REPLY_MAX, &rlen);
    } else {
        int rc = linz_clone(s, s->cur, &next);
        if (rc != RF_OK)
            return rc;
        s->m->command(next, src->input, src->input_len, s->reply, RF_MODEL_REPLY_MAX, &rlen);
        digest = s->m->digest(next);
    }
    bool useful = src->status != RF_OP_UNKNOWN || digest != s->cur_digest;
    if (useful && linz_reply_matches(src, s->reply, rlen)) {
        int32_t max_prev = s->max_op;
        uint64_t set_hash = s->set_hash ^ s->ops[op].zob;
        bit_flip(s->bits, (size_t)op);
        if (op > s->max_op)
            s->max_op = op;
        if (!linz_memo_seen_or_add(&s->memo, s->bits, s->max_op, s->depth + 1, set_hash,
                                   digest)) {
            linz_push(s, op, from, next, digest, set_hash, max_prev);
            *pushed = true;
            return RF_OK;
        }
        bit_flip(s->bits, (size_t)op);
        s->max_op = max_prev;
    }
    if (next != NULL)
        s->m->destroy(next);
    return RF_OK;
}

/* Undoes the last linearization; returns the position after its choice. */
static linz_pos linz_pop(linz_search *s)
{
    ASSERT(s->depth > 0);
    linz_frame *f = &s->stack[--s->depth];
    if (s->call_entry[f->op] >= 0)
        linz_unlift(s, s->call_entry[f->op]);
    bit_flip(s->bits, (size_t)f->op);
    ASSERT(!linz_bit_get(s->bits, (size_t)f->op));
    s->set_hash ^= s->ops[f->op].zob;
    s->max_op = f->max_prev;
    if (f->state != NULL) {
        s->m->destroy(s->cur);
        s->cur = f->state;
    }
    s->cur_digest = f->digest;
    if (s->depth < s->stable)
        s->stable = s->depth;
    linz_pos p = f->from;
    if (p.frontier < 0)
        p.entry = s->e[p.entry].next;
    else
        p.unk++;
    return p;
}

/* At a dead end before return entry ri: remembers the deepest point reached
 * so far, so a violation can be explained by the longest linearizable
 * prefix. Copies only the part of the stack that changed since last time. */
static void linz_note_best(linz_search *s, int32_t ri)
{
    rf_linz_result *out = s->out;
    if (out->has_blocking && s->depth <= out->prefix_len)
        return;
    for (size_t i = s->stable; i < s->depth; i++)
        out->prefix[i] = s->ops[s->stack[i].op].src_index;
    out->prefix_len = s->depth;
    s->stable = s->depth;
    out->has_blocking = true;
    out->blocking = s->ops[s->e[ri].op].src_index;
    out->candidates_len = 0;
    for (int32_t i = s->e[s->head].next; i != ri && out->candidates_len < RF_LINZ_CANDIDATES_MAX;
         i = s->e[i].next)
        if (s->e[i].is_call)
            out->candidates[out->candidates_len++] = s->ops[s->e[i].op].src_index;
}

/* The next unknown op at or after p->unk that may be applied before the
 * frontier: pending, called by then, and first of its identical pending
 * ops. Returns -1 when there is none. */
static int32_t linz_next_unknown(const linz_search *s, linz_pos *p)
{
    uint64_t limit = s->ops[s->e[p->frontier].op].src->return_ns;
    for (; p->unk < s->unk_len; p->unk++) {
        int32_t op = s->unk[p->unk];
        if (s->ops[op].src->call_ns > limit)
            return -1;
        int32_t prev = s->ops[op].same_prev;
        if (!linz_bit_get(s->bits, (size_t)op) &&
            (prev < 0 || linz_bit_get(s->bits, (size_t)prev)))
            return op;
    }
    return -1;
}

static int linz_run(linz_search *s)
{
    linz_pos p = {s->e[s->head].next, -1, 0};
    for (;;) {
        if (s->returns_left == 0) {
            s->out->verdict = RF_LINZ_LINEARIZABLE;
            return RF_OK;
        }
        if (s->out->steps >= s->steps_max) {
            s->out->verdict = RF_LINZ_UNKNOWN;
            return RF_OK;
        }
        s->out->steps++;
        /* A return entry is left, and the walk never passes one. */
        ASSERT(p.entry != s->tail);
        int32_t op = -1;
        if (p.frontier < 0 && !s->e[p.entry].is_call) {
            p.frontier = p.entry; /* reached a return: now the unknown ops */
            p.unk = 0;
        }
        op = p.frontier < 0 ? s->e[p.entry].op : linz_next_unknown(s, &p);
        if (op >= 0) {
            bool pushed = false;
            int rc = linz_try(s, op, p, &pushed);
            if (rc != RF_OK)
                return rc;
            if (pushed)
                p = (linz_pos){s->e[s->head].next, -1, 0};
            else if (p.frontier < 0)
                p.entry = s->e[p.entry].next;
            else
                p.unk++;
            continue;
        }
        linz_note_best(s, p.frontier);
        if (s->depth == 0) {
            s->out->verdict = RF_LINZ_VIOLATION;
            return RF_OK;
        }
        p = linz_pop(s);
    }
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

static const linz_op *linz_sort_ops; /* qsort has no context argument */

/* Unknown ops by input bytes, then call order. */
static int linz_unk_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    const rf_op *ox = linz_sort_ops[x].src, *oy = linz_sort_ops[y].src;
    size_t n = ox->input_len < oy->input_len ? ox->input_len : oy->input_len;
    int c = memcmp(ox->input, oy->input, n);
    if (c != 0)
        return c;
    if (ox->input_len != oy->input_len)
        return ox->input_len < oy->input_len ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Lists the unknown ops in call order and links each to the previous one
 * with the same input (for the interchangeability reduction). */
static int linz_index_unknown(linz_search *s)
{
    s->unk = malloc((s->n + 1) * sizeof *s->unk);
    int32_t *sorted = malloc((s->n + 1) * sizeof *sorted);
    if (s->unk == NULL || sorted == NULL) {
        free(sorted);
        return RF_ENOMEM;
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->ops[i].src->status == RF_OP_UNKNOWN)
            s->unk[s->unk_len++] = (int32_t)i;
    memcpy(sorted, s->unk, s->unk_len * sizeof *sorted);
    linz_sort_ops = s->ops;
    qsort(sorted, s->unk_len, sizeof *sorted, linz_unk_cmp);
    linz_sort_ops = NULL;
    for (size_t i = 1; i < s->unk_len; i++) {
        const rf_op *a = s->ops[sorted[i - 1]].src, *b = s->ops[sorted[i]].src;
        if (a->input_len == b->input_len && memcmp(a->input, b->input, a->input_len) == 0)
            s->ops[sorted[i]].same_prev = sorted[i - 1];
    }
    free(sorted);
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

/* The model's reply to the blocking op after the best prefix: replays the
 * prefix on a fresh state. Best effort: nothing is set on failure. */
static void linz_expected(const rf_model *m, const rf_history *h, rf_linz_result *out,
                          uint8_t *reply)
{
    void *st = m->create();
    if (st == NULL)
        return;
    size_t rlen = 0;
    for (size_t i = 0; i < out->prefix_len; i++) {
        const rf_op *op = &h->ops[out->prefix[i]];
        if (op->kind == RF_OP_COMMAND)
            m->command(st, op->input, op->input_len, reply, RF_MODEL_REPLY_MAX, &rlen);
    }
    const rf_op *b = &h->ops[out->blocking];
    if (b->kind == RF_OP_COMMAND)
        out->expected_rc = m->command(st, b->input, b->input_len, reply, RF_MODEL_REPLY_MAX, &rlen);
    else
        out->expected_rc = m->query(st, b->input, b->input_len, reply, RF_MODEL_REPLY_MAX, &rlen);
    m->destroy(st);
    if (rlen > RF_MODEL_REPLY_MAX)
        return;
    out->expected = malloc(rlen == 0 ? 1 : rlen);
    if (out->expected == NULL)
        return;
    if (rlen > 0)
        memcpy(out->expected, reply, rlen);
    out->expected_len = rlen;
    out->has_expected = true;
}

static void linz_free(linz_search *s)
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
}

static int linz_prepare(linz_search *s, const rf_history *h)
{
    int rc = linz_select(s, h);
    if (rc != RF_OK)
        return rc;
    rc = linz_build_list(s);
    if (rc == RF_OK)
        rc = linz_index_unknown(s);
    if (rc != RF_OK)
        return rc;
    s->bits = calloc(s->n / 64 + 1, sizeof *s->bits);
    s->stack = malloc((s->n + 1) * sizeof *s->stack);
    s->reply = malloc(RF_MODEL_REPLY_MAX);
    s->out->prefix = malloc((s->n + 1) * sizeof *s->out->prefix);
    s->cur = s->m->create();
    if (s->bits == NULL || s->stack == NULL || s->reply == NULL || s->out->prefix == NULL ||
        s->cur == NULL)
        return RF_ENOMEM;
    s->cur_digest = s->m->digest(s->cur);
    s->max_op = -1;
    return RF_OK;
}

int rf_linz_check(const rf_model *model, const rf_history *h, const rf_linz_config *cfg,
                  rf_linz_result *out)
{
    linz_search s;
    memset(out, 0, sizeof *out);
    memset(&s, 0, sizeof s);
    ASSERT(model != NULL);
    ASSERT(h != NULL);
    s.m = model;
    s.out = out;
    s.steps_max = cfg != NULL && cfg->steps_max != 0 ? cfg->steps_max : RF_LINZ_STEPS_DEFAULT;
    s.memo.bytes_max = cfg != NULL && cfg->memo_bytes_max != 0 ? cfg->memo_bytes_max
                                                               : RF_LINZ_MEMO_BYTES_DEFAULT;
    out->verdict = RF_LINZ_UNKNOWN;
    int rc = linz_prepare(&s, h);
    if (rc == RF_OK)
        rc = linz_run(&s);
    out->ops_checked = s.n;
    out->memo_entries = s.memo.used;
    if (rc == RF_OK && out->verdict == RF_LINZ_VIOLATION)
        linz_expected(model, h, out, s.reply);
    if (rc != RF_OK)
        out->verdict = RF_LINZ_UNKNOWN;
    linz_free(&s);
    return rc;
}

void rf_linz_result_close(rf_linz_result *r)
{
    free(r->prefix);
    free(r->expected);
    memset(r, 0, sizeof *r);
}

/* linz: Wing & Gong / Lowe linearizability search with memoization. */
#include "sim/linz.h"

#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/linz_search.h"

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
 * four reductions keep it small, all sound because an unknown op may also
 * never take effect:
 *  - an unknown op that leaves the state as it is is not applied (the
 *    configuration without it, being explored, allows everything it does);
 *  - unknown ops with identical input are interchangeable, so they are
 *    applied in call order only (one pending "inc" of many stands for all);
 *  - a configuration is skipped when one that failed had the same ok ops
 *    and state with a subset of its unknown ops applied (sim/linz_dom.h),
 *    or when one with fewer unknown ops that the search explores anyway
 *    has them (linz_chain_redundant). */

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

/* The search stack keeps the state before each command only for its top
 * state_stride frames and one frame in state_stride below, so a long
 * history of a model with a big state does not hold one copy per op; a
 * dropped state is rebuilt by replaying commands from the nearest kept one
 * (backtracking that deep is rare). */

/* A new copy of the state before frame k. Returns RF_ENONDET when a
 * replay does not reproduce the recorded digest (the model is not
 * deterministic), RF_ENOMEM. */
static int linz_state_before(linz_search *s, size_t k, void **out)
{
    size_t j = k;
    while (j > 0 && s->stack[j].state == NULL)
        j--;
    void *st = NULL;
    int rc = RF_OK;
    if (s->stack[j].state != NULL) {
        rc = linz_clone(s, s->stack[j].state, &st);
    } else { /* nothing kept down to frame 0, a query: the initial state */
        st = s->m->create();
        rc = st == NULL ? RF_ENOMEM : RF_OK;
    }
    for (size_t i = j; rc == RF_OK && i < k; i++) {
        const rf_op *src = s->ops[s->stack[i].op].src;
        size_t rlen = 0;
        if (src->kind == RF_OP_COMMAND)
            s->m->command(st, src->input, src->input_len, s->reply, RF_MODEL_REPLY_MAX, &rlen);
    }
    if (rc == RF_OK && s->m->digest(st) != s->stack[k].digest)
        rc = RF_ENONDET;
    if (rc != RF_OK && st != NULL)
        s->m->destroy(st);
    *out = rc == RF_OK ? st : NULL;
    return rc;
}

/* ---- the search ---------------------------------------------------------- */

/* Adds op to the linearized sets; returns what undoing it needs. */
static void linz_mark(linz_search *s, int32_t op, int32_t *max_prev, int32_t *ok_max_prev)
{
    const linz_op *o = &s->ops[op];
    *max_prev = s->max_op;
    *ok_max_prev = s->ok_max;
    bit_flip(s->bits, (size_t)op);
    s->set_hash ^= o->zob;
    if (op > s->max_op)
        s->max_op = op;
    if (o->src->status == RF_OP_OK) {
        bit_flip(s->ok_bits, (size_t)o->rank);
        s->ok_hash ^= o->zob;
        s->ok_count++;
        if (o->rank > s->ok_max)
            s->ok_max = o->rank;
    } else {
        bit_flip(s->unk_bits, (size_t)o->rank);
        s->unk_count++;
    }
}

static void linz_unmark(linz_search *s, int32_t op, int32_t max_prev, int32_t ok_max_prev)
{
    const linz_op *o = &s->ops[op];
    bit_flip(s->bits, (size_t)op);
    ASSERT(!linz_bit_get(s->bits, (size_t)op));
    s->set_hash ^= o->zob;
    s->max_op = max_prev;
    if (o->src->status == RF_OP_OK) {
        bit_flip(s->ok_bits, (size_t)o->rank);
        s->ok_hash ^= o->zob;
        s->ok_count--;
        s->ok_max = ok_max_prev;
    } else {
        bit_flip(s->unk_bits, (size_t)o->rank);
        s->unk_count--;
    }
}

static linz_set linz_ok_set(const linz_search *s)
{
    return (linz_set){s->ok_bits, s->ok_max, s->ok_count, s->ok_hash};
}

/* True when the configuration just marked, with state digest, need not be
 * explored: seen before (now recorded), or dominated by a failed one. */
static bool linz_known(linz_search *s, uint64_t digest)
{
    linz_set all = {s->bits, s->max_op, s->depth + 1, s->set_hash};
    if (linz_memo_seen_or_add(&s->memo, &all, digest))
        return true;
    linz_set ok = linz_ok_set(s);
    return s->unk_count > 0 && linz_dom_dominated(&s->dom, &ok, digest, s->unk_bits);
}

/* Unknown op u, applied after a chain c1..ck of unknown ops (pushed at this
 * same frontier since the last ok op, from configuration P), gives a state
 * of this digest. That configuration is redundant when an ancestor on the
 * chain (P included) has the same state, or when u alone applied to P
 * does: those have the same ok ops and fewer unknown ops applied, and P's
 * dead end tries u directly too. */
static int linz_chain_redundant(linz_search *s, int32_t op, uint64_t digest, bool *redundant)
{
    size_t k = s->depth;
    *redundant = false;
    while (k > 0 && s->ops[s->stack[k - 1].op].src->status == RF_OP_UNKNOWN) {
        k--;
        if (s->stack[k].digest == digest) {
            *redundant = true;
            return RF_OK;
        }
    }
    if (k == s->depth)
        return RF_OK;
    /* P must allow u: its identical predecessor applied before the chain. */
    int32_t prev = s->ops[op].same_prev;
    for (size_t i = k; prev >= 0 && i < s->depth; i++)
        if (s->stack[i].op == prev)
            return RF_OK;
    const rf_op *src = s->ops[op].src;
    void *alt = NULL;
    size_t rlen = 0;
    int rc = linz_state_before(s, k, &alt);
    if (rc != RF_OK)
        return rc;
    s->m->command(alt, src->input, src->input_len, s->reply, RF_MODEL_REPLY_MAX, &rlen);
    *redundant = s->m->digest(alt) == digest;
    s->m->destroy(alt);
    return RF_OK;
}

typedef enum linz_outcome {
    LINZ_SKIPPED, /* not linearized here: try the next candidate */
    LINZ_PUSHED,  /* linearized: a new configuration */
    LINZ_DEAD,    /* this configuration has no completion */
} linz_outcome;

/* Tries to linearize op now (chosen at position from).
 *
 * An ok query that matches the current state and may go now can always be
 * linearized right here: in any linearization of the rest, moving it to
 * the front keeps its reply (same state) and the real-time order (no ok op
 * still pending returned before its call, or the walk would have stopped
 * at that return). So when that configuration is known to fail, this one
 * fails too (LINZ_DEAD), and undoing such a query undoes its parent too. */
static int linz_try(linz_search *s, int32_t op, linz_pos from, linz_outcome *outcome)
{
    const rf_op *src = s->ops[op].src;
    void *next = NULL;
    uint64_t digest = s->cur_digest;
    size_t rlen = 0;
    *outcome = LINZ_SKIPPED;
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
    if (useful && src->status == RF_OP_UNKNOWN) {
        bool redundant = false;
        int rc = linz_chain_redundant(s, op, digest, &redundant);
        if (rc != RF_OK) {
            s->m->destroy(next);
            return rc;
        }
        useful = !redundant;
    }
    if (useful && linz_reply_matches(src, s->reply, rlen)) {
        int32_t max_prev, ok_max_prev;
        linz_mark(s, op, &max_prev, &ok_max_prev);
        if (!linz_known(s, digest)) {
            linz_frame *f = &s->stack[s->depth++];
            ASSERT(s->depth <= s->n);
            *f = (linz_frame){.op = op, .from = from, .max_prev = max_prev,
                              .ok_max_prev = ok_max_prev, .state = NULL,
                              .digest = s->cur_digest};
            if (next != NULL) {
                f->state = s->cur;
                s->cur = next;
            }
            if (s->depth > s->state_stride) {
                size_t k = s->depth - 1 - s->state_stride;
                linz_frame *old = &s->stack[k];
                if (k % s->state_stride != 0 && old->state != NULL) {
                    s->m->destroy(old->state);
                    old->state = NULL;
                }
            }
            s->cur_digest = digest;
            if (s->call_entry[op] >= 0)
                linz_lift(s, s->call_entry[op]);
            *outcome = LINZ_PUSHED;
            return RF_OK;
        }
        linz_unmark(s, op, max_prev, ok_max_prev);
        if (src->kind == RF_OP_QUERY && src->status == RF_OP_OK)
            *outcome = LINZ_DEAD;
    }
    if (next != NULL)
        s->m->destroy(next);
    return RF_OK;
}

/* Undoes the last linearization, whose configuration has no completion;
 * *p gets the position after its choice. */
static int linz_pop(linz_search *s, linz_pos *p)
{
    ASSERT(s->depth > 0);
    linz_frame *top = &s->stack[s->depth - 1];
    if (s->ops[top->op].src->kind == RF_OP_COMMAND && top->state == NULL) {
        int rc = linz_state_before(s, s->depth - 1, &top->state);
        if (rc != RF_OK)
            return rc;
    }
    linz_set ok = linz_ok_set(s);
    linz_dom_add(&s->dom, &ok, s->cur_digest, s->unk_bits, s->unk_len, s->unk_count);
    linz_frame *f = &s->stack[--s->depth];
    if (s->call_entry[f->op] >= 0)
        linz_unlift(s, s->call_entry[f->op]);
    linz_unmark(s, f->op, f->max_prev, f->ok_max_prev);
    if (f->state != NULL) {
        s->m->destroy(s->cur);
        s->cur = f->state;
    }
    s->cur_digest = f->digest;
    if (s->depth < s->stable)
        s->stable = s->depth;
    *p = f->from;
    if (p->frontier < 0)
        p->entry = s->e[p->entry].next;
    else
        p->unk++;
    return RF_OK;
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

/* Leaves a configuration that has no completion: undoes the last choice,
 * and goes on undoing while the undone op was an ok query (see linz_try).
 * *root_failed when the initial configuration has none. */
static int linz_backtrack(linz_search *s, linz_pos *p, bool *root_failed)
{
    *root_failed = false;
    for (;;) {
        if (s->depth == 0) {
            *root_failed = true;
            return RF_OK;
        }
        const rf_op *undone = s->ops[s->stack[s->depth - 1].op].src;
        int rc = linz_pop(s, p);
        if (rc != RF_OK || undone->kind != RF_OP_QUERY || undone->status != RF_OP_OK)
            return rc;
    }
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
        linz_outcome outcome = LINZ_DEAD;
        if (op >= 0) {
            int rc = linz_try(s, op, p, &outcome);
            if (rc != RF_OK)
                return rc;
            if (outcome == LINZ_PUSHED) {
                p = (linz_pos){s->e[s->head].next, -1, 0};
                continue;
            }
            if (outcome == LINZ_SKIPPED) {
                if (p.frontier < 0)
                    p.entry = s->e[p.entry].next;
                else
                    p.unk++;
                continue;
            }
        } else {
            linz_note_best(s, p.frontier);
        }
        bool root_failed = false;
        int rc = linz_backtrack(s, &p, &root_failed);
        if (rc != RF_OK)
            return rc;
        if (root_failed) {
            s->out->verdict = RF_LINZ_VIOLATION;
            return RF_OK;
        }
    }
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

int linz_check_one(const rf_model *model, const rf_history *h, const rf_linz_config *cfg,
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
    s.state_stride = cfg != NULL && cfg->state_stride != 0 ? cfg->state_stride
                                                           : RF_LINZ_STATE_STRIDE_DEFAULT;
    size_t bytes = cfg != NULL && cfg->memo_bytes_max != 0 ? cfg->memo_bytes_max
                                                           : RF_LINZ_MEMO_BYTES_DEFAULT;
    /* Half for the memo of seen configurations, half for failed ones. */
    s.memo.bytes_max = bytes / 2;
    s.dom.table.bytes_max = bytes / 4;
    s.dom.bytes_max = bytes / 4;
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

int rf_linz_check(const rf_model *model, const rf_history *h, const rf_linz_config *cfg,
                  rf_linz_result *out)
{
    if (model == &rf_model_kv && linz_kv_splittable(h))
        return linz_check_kv(h, cfg, out);
    return linz_check_one(model, h, cfg, out);
}

void rf_linz_result_close(rf_linz_result *r)
{
    free(r->prefix);
    free(r->expected);
    memset(r, 0, sizeof *r);
}

/* linz_search: the checker's search state, shared by linz.c and linz_setup.c. */
#ifndef SIM_LINZ_SEARCH_H
#define SIM_LINZ_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/linz.h"
#include "sim/linz_dom.h"
#include "sim/linz_memo.h"

typedef struct linz_op {
    const rf_op *src;
    size_t src_index;
    uint64_t zob;       /* this op's Zobrist value */
    int32_t same_prev;  /* unknown ops: the previous unknown op with the same input, or -1 */
    int32_t rank;       /* position among the ok ops, or among the unknown ops */
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
    int32_t ok_max_prev; /* the highest linearized ok rank before it */
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
    uint64_t *ok_bits; /* linearized ok ops, by rank */
    uint64_t *unk_bits; /* applied unknown ops, by rank */
    int32_t ok_max;     /* highest linearized ok rank, -1 when none */
    size_t ok_count, unk_count;
    uint64_t ok_hash;
    linz_dom dom;
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
    size_t state_stride; /* see linz.c, "The search stack keeps..." */
    size_t stable; /* stack[0..stable) equals out->prefix[0..stable) */
    rf_linz_result *out;
} linz_search;

/* Selects, orders and indexes the ops of h and allocates the search state
 * (s zeroed, with m and out set). linz_free releases it whatever happened. */
int linz_prepare(linz_search *s, const rf_history *h);
void linz_free(linz_search *s);

/* rf_linz_check on one history, whatever the model. */
int linz_check_one(const rf_model *model, const rf_history *h, const rf_linz_config *cfg,
                   rf_linz_result *out);

/* The built-in kv is a set of independent registers, one per key, and
 * linearizability is local (Herlihy & Wing 1990, theorem 1): a history is
 * linearizable exactly when each key's sub-history is. That holds while
 * no reply depends on other keys, i.e. no ok op was rejected ("error: ...",
 * such as "kv is full"), which linz_kv_splittable checks. linz_check_kv
 * then checks key by key, in key order, and reports in h's indices. */
bool linz_kv_splittable(const rf_history *h);
int linz_check_kv(const rf_history *h, const rf_linz_config *cfg, rf_linz_result *out);

#endif

/* linz: the linearizability checker for one consensus group's client history. */
#ifndef SIM_LINZ_H
#define SIM_LINZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/rf_model.h"
#include "sim/history.h"

/* The search is Wing & Gong's backtracking search, with Lowe's
 * just-in-time linearization ("Testing for linearizability", 2017) and
 * memoization of configurations (set of linearized ops, model state
 * digest). Following Horn & Kroening's P-compositionality, the caller
 * splits a run by group (each group is an independent object) and checks
 * each history on its own.
 *
 * The sequential specification is the group's rf_model itself, so users'
 * models are checked the same way as the built-ins. An ok op must reply
 * exactly its recorded reply; a fail op surely did not take effect and is
 * dropped; an unknown command may take effect at any point after its call,
 * or never (its return time and reply are ignored); an unknown query
 * constrains nothing and is dropped. A call and a return at the same
 * nanosecond are taken as concurrent.
 *
 * The built-in kv model is checked key by key (each key is an independent
 * register and linearizability is local: Herlihy & Wing 1990), unless an
 * ok op has no key or was rejected ("error: ..."); the result still names
 * positions in the whole history.
 *
 * Cost: a linearizable history is usually checked in time close to linear
 * in its length (10,000 int ops: ~15 ms with 8 clients, ~0.4 s with 32;
 * see make bench); the work grows fast with the number of ops in flight
 * (64 clients exceed the default budget). Proving a violation means
 * exhausting every way to linearize the
 * prefix before it; unknown ops that may or may not have taken effect,
 * and whose effect later writes hide, multiply those ways, so such proofs
 * can run out of budget and answer RF_LINZ_UNKNOWN (never "linearizable").
 * Memory: the memo tables (bounded by memo_bytes_max), model states for the
 * top state_stride frames of the search stack and one in state_stride
 * below, O(ops) indexes. */

#define RF_LINZ_STEPS_DEFAULT 5000000ull     /* search steps before "unknown" (~1-10 s) */
#define RF_LINZ_MEMO_BYTES_DEFAULT (256u << 20) /* memo table and key bytes */
#define RF_LINZ_CANDIDATES_MAX 16            /* pending ops listed in a verdict */
#define RF_LINZ_STATE_STRIDE_DEFAULT 64      /* see state_stride */

typedef struct rf_linz_config {
    uint64_t steps_max;     /* 0: RF_LINZ_STEPS_DEFAULT */
    size_t memo_bytes_max;  /* 0: RF_LINZ_MEMO_BYTES_DEFAULT; all memo tables
                               together; when full the search goes on
                               without memoizing more (slower, same verdict) */
    size_t state_stride;    /* 0: RF_LINZ_STATE_STRIDE_DEFAULT; the search keeps
                               model states for its top state_stride frames
                               and one in state_stride below, rebuilding
                               others by replay (memory against time) */
} rf_linz_config;

typedef enum rf_linz_verdict {
    RF_LINZ_LINEARIZABLE = 0,
    RF_LINZ_VIOLATION = 1, /* proven: no linearization exists */
    RF_LINZ_UNKNOWN = 2,   /* the step budget ran out before an answer */
} rf_linz_verdict;

/* What the checker found. For VIOLATION (and UNKNOWN, as "best so far")
 * the explanation fields describe the deepest point the search reached:
 * the longest linearizable prefix it found, the op whose return it could
 * not get past, and the ops still pending there. Indices are positions in
 * the checked rf_history's ops. */
typedef struct rf_linz_result {
    rf_linz_verdict verdict;
    uint64_t steps;        /* search steps used */
    size_t ops_checked;    /* ops the search considered (after dropping) */
    size_t memo_entries;   /* configurations memoized */

    size_t *prefix;        /* linearization order of the longest prefix */
    size_t prefix_len;
    bool has_blocking;
    size_t blocking;       /* the op whose return the prefix cannot pass */
    size_t candidates[RF_LINZ_CANDIDATES_MAX]; /* ops pending at that point */
    size_t candidates_len;
    /* The model's reply to the blocking op after the prefix, when it has one. */
    bool has_expected;
    int expected_rc;
    uint8_t *expected;
    size_t expected_len;
} rf_linz_result;

/* Checks h against model. cfg may be NULL (defaults). Fills *out (release
 * it with rf_linz_result_close, whatever the return). Returns 0 when a
 * verdict was reached, RF_EINVAL for a malformed history (an ok op without
 * a return time, a return before its call, too many ops), RF_ENOMEM when
 * memory runs out or the model cannot decode its own encoding, RF_ENONDET
 * when replaying commands does not give the same state digest again. */
int rf_linz_check(const rf_model *model, const rf_history *h, const rf_linz_config *cfg,
                  rf_linz_result *out);

void rf_linz_result_close(rf_linz_result *r);

/* Writes a human-readable account of r into buf (NUL-terminated,
 * truncated to cap), e.g. "not linearizable: ..." with the ops involved.
 * Returns the length written. */
size_t rf_linz_explain(const rf_history *h, const rf_linz_result *r, char *buf, size_t cap);

#endif

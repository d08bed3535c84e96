/* history: one consensus group's client history, the record shared by the
 * workload, the linearizability checker and the JSON-lines writer/reader. */
#ifndef SIM_HISTORY_H
#define SIM_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#define RF_HISTORY_GROUP_MAX 64        /* bytes of a group name */
#define RF_HISTORY_OPS_MAX (1u << 24)  /* operations in one history */
#define RF_HISTORY_NO_RETURN UINT64_MAX /* return_ns of an op that never returned */

typedef enum rf_op_kind {
    RF_OP_COMMAND = 0, /* may change the state */
    RF_OP_QUERY = 1,   /* reads the state */
} rf_op_kind;

/* An operation's outcome as the client saw it (DESIGN.md §5). */
typedef enum rf_op_status {
    RF_OP_UNKNOWN = 0, /* may have taken effect at any time after its call, or never */
    RF_OP_OK = 1,      /* took effect between call and return; reply is its reply */
    RF_OP_FAIL = 2,    /* surely did not take effect */
} rf_op_status;

/* One client operation. The history owns input and reply. */
typedef struct rf_op {
    uint64_t client;
    rf_op_kind kind;
    rf_op_status status;
    uint64_t call_ns;
    uint64_t return_ns;  /* RF_HISTORY_NO_RETURN when it never returned */
    uint8_t *input;      /* the command or query bytes, e.g. "set 5" */
    size_t input_len;    /* 1..RF_MODEL_INPUT_MAX */
    uint8_t *reply;      /* the reply for ok (and whatever a fail got), else NULL */
    size_t reply_len;    /* 0..RF_MODEL_REPLY_MAX */
} rf_op;

typedef struct rf_history {
    char group[RF_HISTORY_GROUP_MAX + 1];
    rf_op *ops; /* in invocation order as recorded */
    size_t count;
    size_t cap;
} rf_history;

/* An empty history of group (a name of 1..RF_HISTORY_GROUP_MAX bytes).
 * Returns RF_EINVAL for a bad name (h is then still safe to close). */
int rf_history_init(rf_history *h, const char *group);
void rf_history_close(rf_history *h);

/* Records that client invoked input at call_ns: status unknown, no return
 * yet. *id (optional) names the op for rf_history_complete. Returns
 * RF_EINVAL (empty or oversized input), RF_EFULL or RF_ENOMEM. */
int rf_history_invoke(rf_history *h, uint64_t client, rf_op_kind kind, const uint8_t *input,
                      size_t input_len, uint64_t call_ns, size_t *id);

/* Records the outcome of op id. For RF_OP_UNKNOWN, return_ns may be
 * RF_HISTORY_NO_RETURN. Returns RF_EINVAL when return_ns precedes the call,
 * the op is already complete or an ok op has no return time; RF_ENOMEM. */
int rf_history_complete(rf_history *h, size_t id, rf_op_status status, const uint8_t *reply,
                        size_t reply_len, uint64_t return_ns);

/* Appends a copy of a whole record (the reader uses this). Same checks as
 * invoke followed by complete. */
int rf_history_append(rf_history *h, const rf_op *op);

#endif

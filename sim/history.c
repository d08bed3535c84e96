/* history: one consensus group's client history (see sim/history.h). */
#include "sim/history.h"

#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "model/rf_model.h"

int rf_history_init(rf_history *h, const char *group)
{
    memset(h, 0, sizeof *h);
    size_t n = group == NULL ? 0 : strlen(group);
    if (n == 0 || n > RF_HISTORY_GROUP_MAX)
        return RF_EINVAL;
    memcpy(h->group, group, n + 1);
    return RF_OK;
}

void rf_history_close(rf_history *h)
{
    for (size_t i = 0; i < h->count; i++) {
        free(h->ops[i].input);
        free(h->ops[i].reply);
    }
    free(h->ops);
    memset(h, 0, sizeof *h);
}

static uint8_t *history_dup(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n == 0 ? 1 : n);
    if (d != NULL && n > 0)
        memcpy(d, p, n);
    return d;
}

int rf_history_invoke(rf_history *h, uint64_t client, rf_op_kind kind, const uint8_t *input,
                      size_t input_len, uint64_t call_ns, size_t *id)
{
    if (input == NULL || input_len == 0 || input_len > RF_MODEL_INPUT_MAX ||
        (kind != RF_OP_COMMAND && kind != RF_OP_QUERY) || call_ns == RF_HISTORY_NO_RETURN)
        return RF_EINVAL;
    if (h->count == RF_HISTORY_OPS_MAX)
        return RF_EFULL;
    if (h->count == h->cap) {
        size_t cap = h->cap == 0 ? 64 : h->cap * 2;
        rf_op *ops = realloc(h->ops, cap * sizeof *ops);
        if (ops == NULL)
            return RF_ENOMEM;
        h->ops = ops;
        h->cap = cap;
    }
    uint8_t *copy = history_dup(input, input_len);
    if (copy == NULL)
        return RF_ENOMEM;
    rf_op *op = &h->ops[h->count];
    memset(op, 0, sizeof *op);
    op->client = client;
    op->kind = kind;
    op->status = RF_OP_UNKNOWN;
    op->call_ns = call_ns;
    op->return_ns = RF_HISTORY_NO_RETURN;
    op->input = copy;
    op->input_len = input_len;
    if (id != NULL)
        *id = h->count;
    h->count++;
    return RF_OK;
}

int rf_history_complete(rf_history *h, size_t id, rf_op_status status, const uint8_t *reply,
                        size_t reply_len, uint64_t return_ns)
{
    if (id >= h->count || reply_len > RF_MODEL_REPLY_MAX || (reply == NULL && reply_len > 0))
        return RF_EINVAL;
    rf_op *op = &h->ops[id];
    if (op->return_ns != RF_HISTORY_NO_RETURN || op->reply != NULL)
        return RF_EINVAL; /* completed twice */
    if (status != RF_OP_OK && status != RF_OP_FAIL && status != RF_OP_UNKNOWN)
        return RF_EINVAL;
    if (status != RF_OP_UNKNOWN && return_ns == RF_HISTORY_NO_RETURN)
        return RF_EINVAL;
    if (return_ns != RF_HISTORY_NO_RETURN && return_ns < op->call_ns)
        return RF_EINVAL;
    if (reply != NULL) {
        op->reply = history_dup(reply, reply_len);
        if (op->reply == NULL)
            return RF_ENOMEM;
        op->reply_len = reply_len;
    }
    op->status = status;
    op->return_ns = return_ns;
    return RF_OK;
}

int rf_history_append(rf_history *h, const rf_op *op)
{
    size_t id = 0;
    int rc = rf_history_invoke(h, op->client, op->kind, op->input, op->input_len, op->call_ns, &id);
    if (rc != RF_OK)
        return rc;
    rc = rf_history_complete(h, id, op->status, op->reply, op->reply_len, op->return_ns);
    if (rc != RF_OK) {
        /* Undo the invoke so a refused record leaves no trace. */
        h->count--;
        free(h->ops[h->count].input);
        ASSERT(h->ops[h->count].reply == NULL);
    }
    return rc;
}

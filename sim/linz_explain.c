/* linz_explain: the human-readable account of a linearizability verdict. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/linz.h"

#define EXPLAIN_BYTES_MAX 64 /* bytes of an input or reply quoted in full */
#define EXPLAIN_PREFIX_TAIL 8 /* last ops of the prefix that are listed */

typedef struct explain_buf {
    char *p;
    size_t cap, len;
} explain_buf;

static void put(explain_buf *b, const char *fmt, ...)
{
    if (b->len + 1 >= b->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len += (size_t)n < b->cap - b->len ? (size_t)n : b->cap - b->len - 1;
}

/* Quotes bytes: printable ASCII as is, the rest as \xHH. */
static void put_bytes(explain_buf *b, const uint8_t *p, size_t n)
{
    put(b, "\"");
    for (size_t i = 0; i < n && i < EXPLAIN_BYTES_MAX; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
            put(b, "%c", p[i]);
        else
            put(b, "\\x%02x", p[i]);
    }
    put(b, n > EXPLAIN_BYTES_MAX ? "\"..." : "\"");
}

static const char *status_name(rf_op_status s)
{
    return s == RF_OP_OK ? "ok" : s == RF_OP_FAIL ? "fail" : "unknown";
}

static void put_op(explain_buf *b, const rf_history *h, size_t i)
{
    const rf_op *op = &h->ops[i];
    put(b, "#%zu client %llu %s ", i, (unsigned long long)op->client,
        op->kind == RF_OP_QUERY ? "query" : "command");
    put_bytes(b, op->input, op->input_len);
    if (op->status == RF_OP_OK) {
        put(b, " -> ");
        put_bytes(b, op->reply, op->reply_len);
    }
    put(b, " %s [%llu ns, ", status_name(op->status), (unsigned long long)op->call_ns);
    if (op->return_ns == RF_HISTORY_NO_RETURN)
        put(b, "never returned]");
    else
        put(b, "%llu ns]", (unsigned long long)op->return_ns);
}

static void put_violation(explain_buf *b, const rf_history *h, const rf_linz_result *r)
{
    put(b, "  op ");
    put_op(b, h, r->blocking);
    put(b, "\n  could not be linearized before it returned. The longest linearizable "
           "prefix found has %zu ops", r->prefix_len);
    if (r->has_expected) {
        put(b, "; after it the model replies ");
        put_bytes(b, r->expected, r->expected_len);
        put(b, " (code %d) to that op", r->expected_rc);
    }
    put(b, ".\n");
    if (r->prefix_len > 0) {
        size_t from = r->prefix_len > EXPLAIN_PREFIX_TAIL ? r->prefix_len - EXPLAIN_PREFIX_TAIL : 0;
        put(b, "  prefix (last %zu of %zu, in linearization order):\n", r->prefix_len - from,
            r->prefix_len);
        for (size_t i = from; i < r->prefix_len; i++) {
            put(b, "    ");
            put_op(b, h, r->prefix[i]);
            put(b, "\n");
        }
    }
    if (r->candidates_len > 0) {
        put(b, "  ops pending there (called, not linearized):\n");
        for (size_t i = 0; i < r->candidates_len; i++) {
            put(b, "    ");
            put_op(b, h, r->candidates[i]);
            put(b, "\n");
        }
    }
}

size_t rf_linz_explain(const rf_history *h, const rf_linz_result *r, char *buf, size_t cap)
{
    explain_buf b = {buf, cap, 0};
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    const char *g = h->group[0] != '\0' ? h->group : "?";
    switch (r->verdict) {
    case RF_LINZ_LINEARIZABLE:
        put(&b, "group %s: linearizable (%zu ops checked, %llu steps)\n", g, r->ops_checked,
            (unsigned long long)r->steps);
        break;
    case RF_LINZ_VIOLATION:
        put(&b, "group %s: NOT linearizable (%zu ops checked, %llu steps)\n", g,
            r->ops_checked, (unsigned long long)r->steps);
        if (r->has_blocking)
            put_violation(&b, h, r);
        break;
    default:
        put(&b, "group %s: unknown, the search budget ran out after %llu steps (%zu ops)\n", g,
            (unsigned long long)r->steps, r->ops_checked);
        if (r->has_blocking)
            put(&b, "  deepest linearizable prefix so far: %zu ops\n", r->prefix_len);
        break;
    }
    return b.len;
}

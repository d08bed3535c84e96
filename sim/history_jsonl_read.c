/* history_jsonl_read: the reader of JSON-lines client histories. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "model/rf_model.h"
#include "sim/history_jsonl.h"

/* Each line is one flat JSON object (RFC 8259) whose values are strings,
 * numbers, true, false or null; nested objects and arrays are refused.
 * Unknown keys are ignored, so producers may add fields. */

typedef enum { JV_NONE, JV_NULL, JV_STRING, JV_NUMBER, JV_BOOL } jv_type;

typedef struct jv {
    jv_type type;
    size_t off, len; /* bytes in the line's value buffer */
    size_t col;      /* 1-based column where the value starts */
} jv;

enum { K_GROUP, K_CLIENT, K_KIND, K_OP, K_ARG, K_RESULT, K_STATUS, K_CALL, K_RETURN, K_COUNT };
static const char *const jsonl_keys[K_COUNT] = {"group", "client", "kind", "op", "arg",
                                                "result", "status", "call_ns", "return_ns"};

typedef struct jparse {
    const char *p; /* the line */
    size_t n, i;
    uint8_t *buf; /* decoded strings and number texts of the line */
    size_t buf_len;
    jv vals[K_COUNT];
    const char *what; /* set on error */
    size_t col;
} jparse;

static bool jp_fail(jparse *jp, const char *what)
{
    if (jp->what == NULL) {
        jp->what = what;
        jp->col = jp->i + 1;
    }
    return false;
}

static void jp_ws(jparse *jp)
{
    while (jp->i < jp->n && (jp->p[jp->i] == ' ' || jp->p[jp->i] == '\t' || jp->p[jp->i] == '\r'))
        jp->i++;
}

static int jp_hex4(const char *p)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static void jp_put_utf8(jparse *jp, uint32_t cp)
{
    uint8_t *o = jp->buf + jp->buf_len;
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        jp->buf_len += 1;
    } else if (cp < 0x800) {
        o[0] = (uint8_t)(0xc0 | (cp >> 6));
        o[1] = (uint8_t)(0x80 | (cp & 0x3f));
        jp->buf_len += 2;
    } else if (cp < 0x10000) {
        o[0] = (uint8_t)(0xe0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (uint8_t)(0x80 | (cp & 0x3f));
        jp->buf_len += 3;
    } else {
        o[0] = (uint8_t)(0xf0 | (cp >> 18));
        o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (uint8_t)(0x80 | (cp & 0x3f));
        jp->buf_len += 4;
    }
}

/* A \u escape at p[i] (after the backslash and 'u'); advances jp->i. */
static bool jp_unicode(jparse *jp)
{
    size_t start = jp->i - 2; /* errors point at the backslash */
    if (jp->n - jp->i < 4 || jp_hex4(jp->p + jp->i) < 0) {
        jp->i = start;
        return jp_fail(jp, "expected four hex digits after \\u");
    }
    uint32_t cp = (uint32_t)jp_hex4(jp->p + jp->i);
    jp->i += 4;
    if (cp >= 0x80 && cp <= 0xff) { /* a raw byte, see history_jsonl.h */
        jp->buf[jp->buf_len++] = (uint8_t)cp;
        return true;
    }
    bool high = cp >= 0xd800 && cp <= 0xdbff;
    int lo = high && jp->n - jp->i >= 6 && jp->p[jp->i] == '\\' && jp->p[jp->i + 1] == 'u'
                 ? jp_hex4(jp->p + jp->i + 2) : -1;
    if ((cp >= 0xdc00 && cp <= 0xdfff) || (high && (lo < 0xdc00 || lo > 0xdfff))) {
        jp->i = start;
        return jp_fail(jp, "expected a surrogate pair \\uD800-\\uDBFF then \\uDC00-\\uDFFF");
    }
    if (high) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
        jp->i += 6;
    }
    jp_put_utf8(jp, cp);
    return true;
}

static bool jp_string(jparse *jp, jv *v)
{
    v->type = JV_STRING;
    v->off = jp->buf_len;
    jp->i++; /* the opening quote */
    while (jp->i < jp->n && jp->p[jp->i] != '"') {
        uint8_t c = (uint8_t)jp->p[jp->i];
        if (c < 0x20)
            return jp_fail(jp, "expected no control characters inside a string (escape them)");
        jp->i++;
        if (c != '\\') {
            jp->buf[jp->buf_len++] = c;
            continue;
        }
        if (jp->i == jp->n)
            return jp_fail(jp, "expected an escape after \\");
        char e = jp->p[jp->i++];
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *at = strchr(from, e);
        if (e == 'u') {
            if (!jp_unicode(jp))
                return false;
        } else if (e != '\0' && at != NULL) {
            jp->buf[jp->buf_len++] = (uint8_t)to[at - from];
        } else {
            jp->i -= 2; /* point at the backslash */
            return jp_fail(jp, "expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u");
        }
    }
    if (jp->i == jp->n)
        return jp_fail(jp, "expected a closing '\"'");
    jp->i++;
    v->len = jp->buf_len - v->off;
    return true;
}

static size_t jp_digits(jparse *jp)
{
    size_t k = 0;
    while (jp->i < jp->n && jp->p[jp->i] >= '0' && jp->p[jp->i] <= '9') {
        jp->i++;
        k++;
    }
    return k;
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? kept as text. */
static bool jp_number(jparse *jp, jv *v)
{
    size_t start = jp->i;
    v->type = JV_NUMBER;
    if (jp->p[jp->i] == '-')
        jp->i++;
    size_t first = jp->i, k = jp_digits(jp);
    if (k == 0 || (k > 1 && jp->p[first] == '0')) {
        jp->i = start;
        return jp_fail(jp, "expected a number: -?(0|[1-9][0-9]*), no leading zeros");
    }
    if (jp->i < jp->n && jp->p[jp->i] == '.') {
        jp->i++;
        if (jp_digits(jp) == 0)
            return jp_fail(jp, "expected digits after '.'");
    }
    if (jp->i < jp->n && (jp->p[jp->i] == 'e' || jp->p[jp->i] == 'E')) {
        jp->i++;
        if (jp->i < jp->n && (jp->p[jp->i] == '+' || jp->p[jp->i] == '-'))
            jp->i++;
        if (jp_digits(jp) == 0)
            return jp_fail(jp, "expected digits in the exponent");
    }
    v->off = jp->buf_len;
    v->len = jp->i - start;
    memcpy(jp->buf + jp->buf_len, jp->p + start, v->len);
    jp->buf_len += v->len;
    return true;
}

static bool jp_word(jparse *jp, const char *w)
{
    size_t n = strlen(w);
    if (jp->n - jp->i < n || memcmp(jp->p + jp->i, w, n) != 0)
        return false;
    jp->i += n;
    return true;
}

static bool jp_value(jparse *jp, jv *v)
{
    v->col = jp->i + 1;
    if (jp->i == jp->n)
        return jp_fail(jp, "expected a value");
    char c = jp->p[jp->i];
    if (c == '"')
        return jp_string(jp, v);
    if (c == '-' || (c >= '0' && c <= '9'))
        return jp_number(jp, v);
    v->type = c == 'n' ? JV_NULL : JV_BOOL;
    if (jp_word(jp, "null") || jp_word(jp, "true") || jp_word(jp, "false"))
        return true;
    if (c == '{' || c == '[')
        return jp_fail(jp, "expected a string, number or null (nested values are not supported)");
    return jp_fail(jp, "expected a value: string, number, true, false or null");
}

static int jp_key_index(const uint8_t *k, size_t len)
{
    for (int i = 0; i < K_COUNT; i++)
        if (strlen(jsonl_keys[i]) == len && memcmp(jsonl_keys[i], k, len) == 0)
            return i;
    return -1;
}

/* Parses the line's object into jp->vals. */
static bool jp_object(jparse *jp)
{
    jp_ws(jp);
    if (jp->i == jp->n || jp->p[jp->i] != '{')
        return jp_fail(jp, "expected '{' starting an object");
    jp->i++;
    jp_ws(jp);
    if (jp->i < jp->n && jp->p[jp->i] == '}') {
        jp->i++;
    } else {
        for (;;) {
            jv key, val;
            jp_ws(jp);
            if (jp->i == jp->n || jp->p[jp->i] != '"')
                return jp_fail(jp, "expected a '\"' starting a key");
            size_t key_col = jp->i;
            if (!jp_string(jp, &key))
                return false;
            jp_ws(jp);
            if (jp->i == jp->n || jp->p[jp->i] != ':')
                return jp_fail(jp, "expected ':' after the key");
            jp->i++;
            jp_ws(jp);
            if (!jp_value(jp, &val))
                return false;
            int k = jp_key_index(jp->buf + key.off, key.len);
            if (k >= 0 && jp->vals[k].type != JV_NONE) {
                jp->i = key_col;
                return jp_fail(jp, "expected each key once (this one is repeated)");
            }
            if (k >= 0)
                jp->vals[k] = val;
            jp_ws(jp);
            if (jp->i < jp->n && jp->p[jp->i] == ',') {
                jp->i++;
                continue;
            }
            if (jp->i < jp->n && jp->p[jp->i] == '}') {
                jp->i++;
                break;
            }
            return jp_fail(jp, "expected ',' or '}' after a value");
        }
    }
    jp_ws(jp);
    if (jp->i != jp->n)
        return jp_fail(jp, "expected the end of the line after the object");
    return true;
}

/* ---- from values to an op ------------------------------------------------ */

static bool jv_is(const jparse *jp, const jv *v, const char *s)
{
    size_t n = strlen(s);
    return v->type == JV_STRING && v->len == n && memcmp(jp->buf + v->off, s, n) == 0;
}

/* A non-negative integer that fits uint64 (not RF_HISTORY_NO_RETURN). */
static bool jv_u64(const jparse *jp, const jv *v, uint64_t *out)
{
    const uint8_t *p = jp->buf + v->off;
    uint64_t x = 0;
    if (v->type != JV_NUMBER || v->len > 20)
        return false;
    for (size_t i = 0; i < v->len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return false;
        x = x * 10 + d;
    }
    if (x == RF_HISTORY_NO_RETURN)
        return false;
    *out = x;
    return true;
}

static bool jp_bad(jparse *jp, const jv *v, size_t key_col, const char *what)
{
    jp->what = what;
    jp->col = v->type != JV_NONE ? v->col : key_col;
    return false;
}

/* The op bytes: op, or op + " " + arg. Written to the end of jp->buf. */
static bool jp_input(jparse *jp, rf_op *op)
{
    const jv *o = &jp->vals[K_OP], *a = &jp->vals[K_ARG];
    if (o->type != JV_STRING || o->len == 0)
        return jp_bad(jp, o, 1, "expected \"op\": a non-empty string");
    if (a->type != JV_NONE && a->type != JV_NULL && a->type != JV_STRING && a->type != JV_NUMBER)
        return jp_bad(jp, a, 1, "expected \"arg\": a string, a number or null");
    bool has_arg = a->type == JV_STRING || a->type == JV_NUMBER;
    size_t len = o->len + (has_arg ? 1 + a->len : 0);
    if (len > RF_MODEL_INPUT_MAX)
        return jp_bad(jp, o, 1, "expected op and arg of at most RF_MODEL_INPUT_MAX bytes");
    op->input = jp->buf + jp->buf_len;
    memcpy(op->input, jp->buf + o->off, o->len);
    if (has_arg) {
        op->input[o->len] = ' ';
        memcpy(op->input + o->len + 1, jp->buf + a->off, a->len);
    }
    op->input_len = len;
    jp->buf_len += len;
    return true;
}

static bool jp_status_and_times(jparse *jp, rf_op *op)
{
    const jv *st = &jp->vals[K_STATUS], *ret = &jp->vals[K_RETURN];
    if (jv_is(jp, st, "ok"))
        op->status = RF_OP_OK;
    else if (jv_is(jp, st, "fail"))
        op->status = RF_OP_FAIL;
    else if (jv_is(jp, st, "unknown"))
        op->status = RF_OP_UNKNOWN;
    else
        return jp_bad(jp, st, 1, "expected \"status\": \"ok\", \"fail\" or \"unknown\"");
    if (!jv_u64(jp, &jp->vals[K_CALL], &op->call_ns))
        return jp_bad(jp, &jp->vals[K_CALL], 1, "expected \"call_ns\": a non-negative integer");
    op->return_ns = RF_HISTORY_NO_RETURN;
    if (ret->type != JV_NONE && ret->type != JV_NULL && !jv_u64(jp, ret, &op->return_ns))
        return jp_bad(jp, ret, 1, "expected \"return_ns\": a non-negative integer or null");
    if (op->status != RF_OP_UNKNOWN && op->return_ns == RF_HISTORY_NO_RETURN)
        return jp_bad(jp, ret, 1, "expected \"return_ns\" for an ok or fail op");
    if (op->return_ns != RF_HISTORY_NO_RETURN && op->return_ns < op->call_ns)
        return jp_bad(jp, ret, 1, "expected \"return_ns\" not before \"call_ns\"");
    return true;
}

/* Checks the parsed values and fills op (pointing into jp->buf). */
static bool jp_op(jparse *jp, rf_op *op, char *group)
{
    const jv *g = &jp->vals[K_GROUP], *res = &jp->vals[K_RESULT];
    if (g->type != JV_STRING || g->len == 0 || g->len > RF_HISTORY_GROUP_MAX ||
        memchr(jp->buf + g->off, '\0', g->len) != NULL)
        return jp_bad(jp, g, 1, "expected \"group\": a name of 1 to 64 bytes");
    memcpy(group, jp->buf + g->off, g->len);
    group[g->len] = '\0';
    if (!jv_u64(jp, &jp->vals[K_CLIENT], &op->client))
        return jp_bad(jp, &jp->vals[K_CLIENT], 1, "expected \"client\": a non-negative integer");
    if (jv_is(jp, &jp->vals[K_KIND], "command"))
        op->kind = RF_OP_COMMAND;
    else if (jv_is(jp, &jp->vals[K_KIND], "query"))
        op->kind = RF_OP_QUERY;
    else
        return jp_bad(jp, &jp->vals[K_KIND], 1, "expected \"kind\": \"command\" or \"query\"");
    if (!jp_input(jp, op) || !jp_status_and_times(jp, op))
        return false;
    if (res->type != JV_NONE && res->type != JV_NULL && res->type != JV_STRING &&
        res->type != JV_NUMBER)
        return jp_bad(jp, res, 1, "expected \"result\": a string, a number or null");
    op->reply = NULL;
    op->reply_len = 0;
    /* An unknown op has no reply; its result, if any, is ignored. */
    if ((res->type == JV_STRING || res->type == JV_NUMBER) && op->status != RF_OP_UNKNOWN) {
        if (res->len > RF_MODEL_REPLY_MAX)
            return jp_bad(jp, res, 1, "expected a result of at most RF_MODEL_REPLY_MAX bytes");
        op->reply = jp->buf + res->off;
        op->reply_len = res->len;
    }
    return true;
}

/* ---- lines --------------------------------------------------------------- */

/* A buffer that grows by doubling up to a bound. */
typedef struct jsonl_buf {
    char *p;
    size_t cap;
} jsonl_buf;

static bool jsonl_reserve(jsonl_buf *b, size_t n)
{
    if (n <= b->cap)
        return true;
    size_t cap = b->cap == 0 ? 4096 : b->cap;
    while (cap < n)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

/* Reads one line without its '\n' into line; returns its length, SIZE_MAX
 * at end of file, or SIZE_MAX - 1 when memory runs out. A line over the
 * bound is consumed and reported as RF_HISTORY_JSONL_LINE_MAX + 1. */
static size_t jsonl_getline(FILE *in, jsonl_buf *line)
{
    size_t n = 0;
    int c;
    while ((c = getc(in)) != EOF && c != '\n') {
        if (n > RF_HISTORY_JSONL_LINE_MAX)
            continue;
        if (!jsonl_reserve(line, n + 1))
            return SIZE_MAX - 1;
        line->p[n++] = (char)c;
    }
    return c == EOF && n == 0 ? SIZE_MAX : n;
}

static bool jsonl_blank(const char *line, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            return false;
    return true;
}

/* Parses and stores one non-blank line. */
static int jsonl_line(rf_history_set *set, const char *line, size_t n, uint8_t *buf,
                      const char **what, size_t *col)
{
    jparse jp = {.p = line, .n = n, .buf = buf};
    rf_op op;
    char group[RF_HISTORY_GROUP_MAX + 1];
    memset(&op, 0, sizeof op);
    if (memchr(line, '\0', n) != NULL) {
        *what = "expected text without NUL bytes";
        *col = (size_t)((const char *)memchr(line, '\0', n) - line) + 1;
        return RF_EBADMSG;
    }
    if (!jp_object(&jp) || !jp_op(&jp, &op, group)) {
        *what = jp.what;
        *col = jp.col;
        return RF_EBADMSG;
    }
    int rc = RF_OK;
    rf_history *h = rf_history_set_get(set, group, &rc);
    if (h == NULL) {
        *what = rc == RF_EFULL ? "expected at most RF_HISTORY_GROUPS_MAX groups" : "memory";
        *col = jp.vals[K_GROUP].col;
        return rc == RF_EFULL ? RF_EBADMSG : rc;
    }
    rc = rf_history_append(h, &op);
    if (rc != RF_OK) {
        *what = rc == RF_EFULL ? "expected at most RF_HISTORY_OPS_MAX ops in a group" : "memory";
        *col = 1;
        return rc == RF_ENOMEM ? rc : RF_EBADMSG;
    }
    return RF_OK;
}

int rf_history_jsonl_read(FILE *in, const char *name, rf_history_set *set, char *err,
                          size_t err_cap)
{
    /* The line, and its decoded values: never longer than the line, plus
     * the op bytes assembled from op and arg, again at most the line. */
    jsonl_buf line = {NULL, 0}, values = {NULL, 0};
    int rc = RF_OK;
    if (err_cap > 0)
        err[0] = '\0';
    for (size_t lineno = 1;; lineno++) {
        size_t n = jsonl_getline(in, &line);
        if (n == SIZE_MAX)
            break;
        const char *what = NULL;
        size_t col = 1;
        if (n == SIZE_MAX - 1 || !jsonl_reserve(&values, 2 * n + 2)) {
            rc = RF_ENOMEM;
            what = "memory";
        } else if (n > RF_HISTORY_JSONL_LINE_MAX) {
            rc = RF_EBADMSG;
            what = "expected a line of at most RF_HISTORY_JSONL_LINE_MAX (1 MiB) bytes";
        } else if (!jsonl_blank(line.p, n)) {
            rc = jsonl_line(set, line.p, n, (uint8_t *)values.p, &what, &col);
        }
        if (rc != RF_OK) {
            snprintf(err, err_cap, "%s:%zu:%zu: %s", name, lineno, col, what);
            break;
        }
    }
    if (rc == RF_OK && ferror(in)) {
        rc = RF_EIO;
        snprintf(err, err_cap, "%s: read error", name);
    }
    free(line.p);
    free(values.p);
    return rc;
}

int rf_history_jsonl_read_file(const char *path, rf_history_set *set, char *err, size_t err_cap)
{
    FILE *in = fopen(path, "r");
    if (in == NULL) {
        snprintf(err, err_cap, "%s: %s", path, strerror(errno));
        return RF_EIO;
    }
    int rc = rf_history_jsonl_read(in, path, set, err, err_cap);
    fclose(in);
    return rc;
}

/* history_jsonl: the JSON-lines client history writer and per-group sets. */
#include "sim/history_jsonl.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "base/rf_hash.h"

/* ---- writing ------------------------------------------------------------- */

/* A canonical decimal int64: -?(0|[1-9][0-9]*), no "-0", within range. */
static bool jsonl_is_canonical_int(const uint8_t *p, size_t n)
{
    size_t i = 0;
    if (n > 0 && p[0] == '-')
        i = 1;
    if (i == n || n - i > 19 || (p[i] == '0' && n - i > 1) || (i == 1 && p[1] == '0'))
        return false;
    uint64_t mag = 0;
    for (size_t k = i; k < n; k++) {
        if (p[k] < '0' || p[k] > '9')
            return false;
        mag = mag * 10 + (uint64_t)(p[k] - '0');
    }
    return mag <= (uint64_t)INT64_MAX + (i == 1 ? 1u : 0u);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when there is none
 * (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
static size_t jsonl_utf8_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
    if (c >= 0xf5 || len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] > 0x8f))
        return 0;
    return len;
}

static void jsonl_put_string(FILE *out, const uint8_t *p, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c == '\r') {
            fputs("\\r", out);
        } else if (c == '\t') {
            fputs("\\t", out);
        } else if (c < 0x20) {
            fprintf(out, "\\u%04x", c);
        } else if (c < 0x80) {
            fputc(c, out);
        } else {
            size_t len = jsonl_utf8_len(p + i, n - i);
            if (len == 0) {
                fprintf(out, "\\u%04x", c); /* a raw byte, see the header */
            } else {
                fwrite(p + i, 1, len, out);
                i += len;
                continue;
            }
        }
        i++;
    }
    fputc('"', out);
}

/* A number when the bytes are a canonical integer, a string otherwise. */
static void jsonl_put_value(FILE *out, const uint8_t *p, size_t n)
{
    if (jsonl_is_canonical_int(p, n))
        fwrite(p, 1, n, out);
    else
        jsonl_put_string(out, p, n);
}

static void jsonl_put_op(FILE *out, const char *group, const rf_op *op)
{
    static const char *const status_names[] = {"unknown", "ok", "fail"};
    const uint8_t *sp = memchr(op->input, ' ', op->input_len);
    size_t op_len = sp != NULL ? (size_t)(sp - op->input) : op->input_len;
    fputs("{\"group\":", out);
    jsonl_put_string(out, (const uint8_t *)group, strlen(group));
    fprintf(out, ",\"client\":%llu,\"kind\":\"%s\",\"op\":", (unsigned long long)op->client,
            op->kind == RF_OP_QUERY ? "query" : "command");
    jsonl_put_string(out, op->input, op_len);
    fputs(",\"arg\":", out);
    if (sp == NULL)
        fputs("null", out);
    else
        jsonl_put_value(out, sp + 1, op->input_len - op_len - 1);
    fputs(",\"result\":", out);
    if (op->reply == NULL || op->status == RF_OP_UNKNOWN)
        fputs("null", out);
    else
        jsonl_put_value(out, op->reply, op->reply_len);
    fprintf(out, ",\"status\":\"%s\",\"call_ns\":%llu,\"return_ns\":",
            status_names[op->status <= RF_OP_FAIL ? op->status : 0],
            (unsigned long long)op->call_ns);
    if (op->return_ns == RF_HISTORY_NO_RETURN || op->status == RF_OP_UNKNOWN)
        fputs("null}\n", out);
    else
        fprintf(out, "%llu}\n", (unsigned long long)op->return_ns);
}

int rf_history_jsonl_write(FILE *out, const rf_history *h)
{
    for (size_t i = 0; i < h->count; i++)
        jsonl_put_op(out, h->group, &h->ops[i]);
    return ferror(out) ? RF_EIO : RF_OK;
}

/* ---- sets of histories --------------------------------------------------- */

void rf_history_set_init(rf_history_set *set)
{
    memset(set, 0, sizeof *set);
}

void rf_history_set_close(rf_history_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        rf_history_close(&set->groups[i]);
    free(set->groups);
    free(set->index);
    memset(set, 0, sizeof *set);
}

rf_history *rf_history_set_find(const rf_history_set *set, const char *group)
{
    if (set->index_len == 0)
        return NULL;
    size_t mask = set->index_len - 1;
    for (size_t i = rf_fnv1a64(group) & mask; set->index[i] != 0; i = (i + 1) & mask)
        if (strcmp(set->groups[set->index[i] - 1].group, group) == 0)
            return &set->groups[set->index[i] - 1];
    return NULL;
}

static int jsonl_reindex(rf_history_set *set, size_t len)
{
    size_t *index = calloc(len, sizeof *index);
    if (index == NULL)
        return RF_ENOMEM;
    for (size_t g = 0; g < set->count; g++) {
        size_t i = rf_fnv1a64(set->groups[g].group) & (len - 1);
        while (index[i] != 0)
            i = (i + 1) & (len - 1);
        index[i] = g + 1;
    }
    free(set->index);
    set->index = index;
    set->index_len = len;
    return RF_OK;
}

rf_history *rf_history_set_get(rf_history_set *set, const char *group, int *rc)
{
    rf_history *h = rf_history_set_find(set, group);
    if (h != NULL)
        return h;
    *rc = set->count == RF_HISTORY_GROUPS_MAX ? RF_EFULL : RF_ENOMEM;
    if (set->count == RF_HISTORY_GROUPS_MAX)
        return NULL;
    if (set->count == set->cap) {
        size_t cap = set->cap == 0 ? 8 : set->cap * 2;
        rf_history *groups = realloc(set->groups, cap * sizeof *groups);
        if (groups == NULL)
            return NULL;
        set->groups = groups;
        set->cap = cap;
    }
    h = &set->groups[set->count];
    if (rf_history_init(h, group) != RF_OK) {
        *rc = RF_EINVAL;
        return NULL;
    }
    set->count++;
    if (set->count * 2 > set->index_len) {
        if (jsonl_reindex(set, set->index_len == 0 ? 16 : set->index_len * 2) != RF_OK) {
            set->count--;
            rf_history_close(h);
            return NULL;
        }
    } else {
        size_t mask = set->index_len - 1, i = rf_fnv1a64(group) & mask;
        while (set->index[i] != 0)
            i = (i + 1) & mask;
        set->index[i] = set->count;
    }
    *rc = RF_OK;
    return h;
}

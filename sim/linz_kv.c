/* linz_kv: checks a kv history key by key (linearizability is local). */
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/linz_search.h"

typedef struct kv_key_op {
    const uint8_t *key;
    size_t key_len;
    size_t index; /* in the whole history */
} kv_key_op;

/* The key of a kv op: its second token; false when it has none. */
static bool kv_op_key(const rf_op *op, const uint8_t **key, size_t *len)
{
    const uint8_t *sp = memchr(op->input, ' ', op->input_len);
    if (sp == NULL)
        return false;
    *key = sp + 1;
    const uint8_t *end = op->input + op->input_len;
    const uint8_t *sp2 = memchr(*key, ' ', (size_t)(end - *key));
    *len = (size_t)((sp2 != NULL ? sp2 : end) - *key);
    return *len > 0;
}

bool linz_kv_splittable(const rf_history *h)
{
    for (size_t i = 0; i < h->count; i++) {
        const rf_op *op = &h->ops[i];
        const uint8_t *key;
        size_t len;
        if (op->status != RF_OP_OK)
            continue;
        if (!kv_op_key(op, &key, &len) ||
            (op->reply_len >= 6 && memcmp(op->reply, "error:", 6) == 0))
            return false;
    }
    return true;
}

static int kv_key_cmp(const void *a, const void *b)
{
    const kv_key_op *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index ? 1 : 0;
}

/* Adds one key's result to the whole one, in h's indices. */
static void kv_merge(rf_linz_result *out, rf_linz_result *r, const size_t *map)
{
    out->steps += r->steps;
    out->ops_checked += r->ops_checked;
    out->memo_entries += r->memo_entries;
    if (r->verdict == RF_LINZ_LINEARIZABLE)
        return;
    /* The first violation explains the whole; else the first unknown. */
    if (out->verdict == RF_LINZ_VIOLATION ||
        (out->verdict == RF_LINZ_UNKNOWN && r->verdict == RF_LINZ_UNKNOWN))
        return;
    out->verdict = r->verdict;
    free(out->prefix);
    free(out->expected);
    for (size_t i = 0; i < r->prefix_len; i++)
        r->prefix[i] = map[r->prefix[i]];
    out->prefix = r->prefix;
    out->prefix_len = r->prefix_len;
    r->prefix = NULL;
    out->has_blocking = r->has_blocking;
    out->blocking = r->has_blocking ? map[r->blocking] : 0;
    out->candidates_len = r->candidates_len;
    for (size_t i = 0; i < r->candidates_len; i++)
        out->candidates[i] = map[r->candidates[i]];
    out->has_expected = r->has_expected;
    out->expected_rc = r->expected_rc;
    out->expected = r->expected;
    out->expected_len = r->expected_len;
    r->expected = NULL;
}

/* Checks the ops keys[from..to) (one key) as a history of their own. */
static int kv_check_key(const rf_history *h, const kv_key_op *keys, size_t from, size_t to,
                        rf_linz_config *cfg, rf_linz_result *out, size_t *map)
{
    rf_history sub;
    rf_linz_result r;
    int rc = rf_history_init(&sub, h->group);
    for (size_t i = from; rc == RF_OK && i < to; i++) {
        map[i - from] = keys[i].index;
        rc = rf_history_append(&sub, &h->ops[keys[i].index]);
    }
    memset(&r, 0, sizeof r);
    if (rc == RF_OK)
        rc = linz_check_one(&rf_model_kv, &sub, cfg, &r);
    if (rc == RF_OK) {
        kv_merge(out, &r, map);
        cfg->steps_max = cfg->steps_max > r.steps ? cfg->steps_max - r.steps : 1;
    }
    rf_linz_result_close(&r);
    rf_history_close(&sub);
    return rc;
}

int linz_check_kv(const rf_history *h, const rf_linz_config *cfg, rf_linz_result *out)
{
    memset(out, 0, sizeof *out);
    out->verdict = RF_LINZ_LINEARIZABLE;
    kv_key_op *keys = malloc((h->count + 1) * sizeof *keys);
    size_t *map = malloc((h->count + 1) * sizeof *map);
    size_t n = 0;
    int rc = keys == NULL || map == NULL ? RF_ENOMEM : RF_OK;
    /* Ok ops all have a key (linz_kv_splittable). An unknown op without
     * one is rejected by the model, so it never changes the state. */
    for (size_t i = 0; rc == RF_OK && i < h->count; i++) {
        const rf_op *op = &h->ops[i];
        if (op->status == RF_OP_FAIL || (op->status == RF_OP_UNKNOWN && op->kind == RF_OP_QUERY))
            continue;
        keys[n].index = i;
        if (kv_op_key(op, &keys[n].key, &keys[n].key_len))
            n++;
    }
    if (rc == RF_OK)
        qsort(keys, n, sizeof *keys, kv_key_cmp);
    /* The budget is shared: each key gets what the ones before it left. */
    rf_linz_config sub = {.steps_max = RF_LINZ_STEPS_DEFAULT};
    if (cfg != NULL) {
        sub = *cfg;
        if (sub.steps_max == 0)
            sub.steps_max = RF_LINZ_STEPS_DEFAULT;
    }
    for (size_t from = 0, to = 0; rc == RF_OK && from < n && out->verdict != RF_LINZ_VIOLATION;
         from = to) {
        for (to = from + 1; to < n && keys[to].key_len == keys[from].key_len &&
                            memcmp(keys[to].key, keys[from].key, keys[from].key_len) == 0;
             to++) {
        }
        rc = kv_check_key(h, keys, from, to, &sub, out, map);
    }
    if (rc != RF_OK)
        out->verdict = RF_LINZ_UNKNOWN;
    free(keys);
    free(map);
    return rc;
}

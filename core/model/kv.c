/* kv: the built-in "kv" data model, a bounded sorted string map. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_hash.h"
#include "model/rf_model_text.h"
#include "model/rf_kv.h"
#include "model/rf_model.h"

/* Semantics, bounds and formats: model/rf_kv.h. Entries live in an array
 * sorted by key, each as one block holding exactly its encoded bytes
 * (u16 key length, u32 value length, key, value), so encoding is a copy
 * and the digest hashes blocks in place. */

#define KV_ENTRY_HEAD 6
#define KV_ENCODING_HEAD 5

static const uint8_t KV_DIGEST_KEY[16] = "rf-model-kv-v1\0";

typedef struct kv_state {
    uint8_t **entries; /* sorted by key, count of them */
    size_t count;
    size_t cap;
    size_t bytes; /* sum of encoded entry sizes */
} kv_state;

static size_t kv_klen(const uint8_t *e) { return (size_t)rf_model_get_le(e, 2); }
static size_t kv_vlen(const uint8_t *e) { return (size_t)rf_model_get_le(e + 2, 4); }
static const uint8_t *kv_key(const uint8_t *e) { return e + KV_ENTRY_HEAD; }
static const uint8_t *kv_val(const uint8_t *e) { return e + KV_ENTRY_HEAD + kv_klen(e); }
static size_t kv_size(const uint8_t *e) { return KV_ENTRY_HEAD + kv_klen(e) + kv_vlen(e); }

/* Bytewise order, a proper prefix first. */
static int kv_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Binary search: true when found; *at is its index or the insertion point. */
static bool kv_find(const kv_state *s, rf_model_token key, size_t *at)
{
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = s->entries[mid];
        int c = kv_cmp(kv_key(e), kv_klen(e), key.p, key.len);
        if (c == 0) {
            *at = mid;
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return false;
}

static uint8_t *kv_entry_new(rf_model_token key, rf_model_token val)
{
    uint8_t *e = malloc(KV_ENTRY_HEAD + key.len + val.len);
    if (e == NULL)
        return NULL;
    rf_model_put_le(e, key.len, 2);
    rf_model_put_le(e + 2, val.len, 4);
    memcpy(e + KV_ENTRY_HEAD, key.p, key.len);
    memcpy(e + KV_ENTRY_HEAD + key.len, val.p, val.len);
    return e;
}

/* Stores val under key (slot at, found or not). State unchanged on error. */
static int kv_store(kv_state *s, size_t at, bool found, rf_model_token key, rf_model_token val)
{
    if (!found && s->count == s->cap) {
        size_t cap = s->cap == 0 ? 16 : s->cap * 2;
        uint8_t **grown = realloc(s->entries, cap * sizeof *grown);
        if (grown == NULL)
            return RF_ENOMEM;
        s->entries = grown;
        s->cap = cap;
    }
    uint8_t *e = kv_entry_new(key, val);
    if (e == NULL)
        return RF_ENOMEM;
    if (found) {
        s->bytes -= kv_size(s->entries[at]);
        free(s->entries[at]);
    } else {
        memmove(&s->entries[at + 1], &s->entries[at], (s->count - at) * sizeof *s->entries);
        s->count++;
    }
    s->entries[at] = e;
    s->bytes += kv_size(e);
    ASSERT(s->count <= RF_KV_ENTRIES_MAX);
    return RF_OK;
}

static void kv_remove(kv_state *s, size_t at)
{
    ASSERT(at < s->count);
    s->bytes -= kv_size(s->entries[at]);
    free(s->entries[at]);
    memmove(&s->entries[at], &s->entries[at + 1], (s->count - at - 1) * sizeof *s->entries);
    s->count--;
}

static bool kv_key_ok(rf_model_token t) { return t.len <= RF_KV_KEY_MAX; }
static bool kv_val_ok(rf_model_token t) { return t.len <= RF_KV_VALUE_MAX; }

static void *kv_create(void)
{
    return calloc(1, sizeof(kv_state));
}

static void kv_destroy(void *state)
{
    kv_state *s = state;
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->count; i++)
        free(s->entries[i]);
    free(s->entries);
    free(s);
}

#define KV_REPLY(text) rf_model_reply(reply, reply_cap, reply_len, text, sizeof(text) - 1)
#define KV_REJECT(code, why) rf_model_reject(reply, reply_cap, reply_len, code, why)

static int kv_put(kv_state *s, const rf_model_token *tok,
                  uint8_t *reply, size_t reply_cap, size_t *reply_len)
{
    size_t at = 0;
    if (!kv_key_ok(tok[1]) || !kv_val_ok(tok[2]))
        return KV_REJECT(RF_EINVAL, "key or value over its bound");
    if (rf_model_tok_is(tok[2], "nil"))
        return KV_REJECT(RF_EINVAL, "nil is not a value");
    bool found = kv_find(s, tok[1], &at);
    if (!found && s->count == RF_KV_ENTRIES_MAX)
        return KV_REJECT(RF_EFULL, "kv is full");
    int rc = KV_REPLY("ok");
    if (rc != RF_OK)
        return rc;
    if (kv_store(s, at, found, tok[1], tok[2]) != RF_OK)
        return KV_REJECT(RF_ENOMEM, "out of memory");
    return RF_OK;
}

static int kv_cas(kv_state *s, const rf_model_token *tok,
                  uint8_t *reply, size_t reply_cap, size_t *reply_len)
{
    size_t at = 0;
    if (!kv_key_ok(tok[1]) || !kv_val_ok(tok[2]) || !kv_val_ok(tok[3]))
        return KV_REJECT(RF_EINVAL, "key or value over its bound");
    bool found = kv_find(s, tok[1], &at);
    bool match;
    if (rf_model_tok_is(tok[2], "nil"))
        match = !found;
    else
        match = found && kv_cmp(kv_val(s->entries[at]), kv_vlen(s->entries[at]),
                                tok[2].p, tok[2].len) == 0;
    bool del = rf_model_tok_is(tok[3], "nil");
    if (match && !found && !del && s->count == RF_KV_ENTRIES_MAX)
        return KV_REJECT(RF_EFULL, "kv is full");
    int rc = match ? KV_REPLY("ok") : KV_REPLY("fail");
    if (rc != RF_OK || !match)
        return rc;
    if (del) {
        if (found)
            kv_remove(s, at);
    } else if (kv_store(s, at, found, tok[1], tok[3]) != RF_OK) {
        return KV_REJECT(RF_ENOMEM, "out of memory");
    }
    return RF_OK;
}

static int kv_command(void *state, const uint8_t *cmd, size_t cmd_len,
                      uint8_t *reply, size_t reply_cap, size_t *reply_len)
{
    kv_state *s = state;
    rf_model_token tok[RF_MODEL_TOKENS_MAX];
    size_t at = 0;
    int n = rf_model_split(cmd, cmd_len, tok);
    ASSERT(s != NULL);
    if (n == 3 && rf_model_tok_is(tok[0], "put"))
        return kv_put(s, tok, reply, reply_cap, reply_len);
    if (n == 4 && rf_model_tok_is(tok[0], "cas"))
        return kv_cas(s, tok, reply, reply_cap, reply_len);
    if (n == 2 && rf_model_tok_is(tok[0], "del")) {
        if (!kv_key_ok(tok[1]))
            return KV_REJECT(RF_EINVAL, "key over its bound");
        bool found = kv_find(s, tok[1], &at);
        int rc = found ? KV_REPLY("1") : KV_REPLY("0");
        if (rc == RF_OK && found)
            kv_remove(s, at);
        return rc;
    }
    return KV_REJECT(RF_EINVAL, "unknown command (put K V | del K | cas K OLD NEW)");
}

static int kv_query(const void *state, const uint8_t *q, size_t q_len,
                    uint8_t *reply, size_t reply_cap, size_t *reply_len)
{
    const kv_state *s = state;
    rf_model_token tok[RF_MODEL_TOKENS_MAX];
    size_t at = 0;
    int n = rf_model_split(q, q_len, tok);
    ASSERT(s != NULL);
    if (n != 2 || !rf_model_tok_is(tok[0], "get"))
        return KV_REJECT(RF_EINVAL, "unknown query (get K)");
    if (!kv_key_ok(tok[1]))
        return KV_REJECT(RF_EINVAL, "key over its bound");
    if (!kv_find(s, tok[1], &at))
        return KV_REPLY("nil");
    const uint8_t *e = s->entries[at];
    return rf_model_reply(reply, reply_cap, reply_len, kv_val(e), kv_vlen(e));
}

static int kv_encode(const void *state, uint8_t *out, size_t cap, size_t *len)
{
    const kv_state *s = state;
    size_t need = KV_ENCODING_HEAD + s->bytes;
    *len = need;
    if (cap < need)
        return RF_ETOOBIG;
    out[0] = RF_KV_FORMAT_V1;
    rf_model_put_le(out + 1, s->count, 4);
    size_t off = KV_ENCODING_HEAD;
    for (size_t i = 0; i < s->count; i++) {
        size_t n = kv_size(s->entries[i]);
        memcpy(out + off, s->entries[i], n);
        off += n;
    }
    ASSERT(off == need);
    return RF_OK;
}

/* One token of an encoding is valid when a command could have stored it. */
static bool kv_token_valid(const uint8_t *p, size_t len, size_t max)
{
    return len >= 1 && len <= max && memchr(p, ' ', len) == NULL;
}

/* Reads one entry at data[*off]; false when it is malformed. */
static bool kv_decode_entry(const uint8_t *data, size_t len, size_t *off,
                            rf_model_token *key, rf_model_token *val)
{
    if (len - *off < KV_ENTRY_HEAD)
        return false;
    key->len = (size_t)rf_model_get_le(data + *off, 2);
    val->len = (size_t)rf_model_get_le(data + *off + 2, 4);
    if (key->len > RF_KV_KEY_MAX || val->len > RF_KV_VALUE_MAX ||
        len - *off - KV_ENTRY_HEAD < key->len + val->len)
        return false;
    key->p = data + *off + KV_ENTRY_HEAD;
    val->p = key->p + key->len;
    *off += KV_ENTRY_HEAD + key->len + val->len;
    return kv_token_valid(key->p, key->len, RF_KV_KEY_MAX) &&
           kv_token_valid(val->p, val->len, RF_KV_VALUE_MAX) && !rf_model_tok_is(*val, "nil");
}

static void *kv_decode(const uint8_t *data, size_t len)
{
    if (data == NULL || len < KV_ENCODING_HEAD || data[0] != RF_KV_FORMAT_V1)
        return NULL;
    size_t count = (size_t)rf_model_get_le(data + 1, 4), off = KV_ENCODING_HEAD;
    /* Each entry takes at least 8 bytes: refuse impossible counts early. */
    if (count > RF_KV_ENTRIES_MAX || count > (len - off) / (KV_ENTRY_HEAD + 2))
        return NULL;
    kv_state *s = kv_create();
    if (s == NULL)
        return NULL;
    rf_model_token prev = {NULL, 0};
    for (size_t i = 0; i < count; i++) {
        rf_model_token key, val;
        if (!kv_decode_entry(data, len, &off, &key, &val) ||
            (i > 0 && kv_cmp(prev.p, prev.len, key.p, key.len) >= 0) ||
            kv_store(s, s->count, false, key, val) != RF_OK) {
            kv_destroy(s);
            return NULL;
        }
        prev = key;
    }
    if (off != len) {
        kv_destroy(s);
        return NULL;
    }
    return s;
}

static uint64_t kv_digest(const void *state)
{
    const kv_state *s = state;
    uint8_t buf[16];
    buf[0] = RF_KV_FORMAT_V1;
    rf_model_put_le(buf + 1, s->count, 4);
    uint64_t d = rf_siphash24(KV_DIGEST_KEY, buf, KV_ENCODING_HEAD);
    for (size_t i = 0; i < s->count; i++) {
        rf_model_put_le(buf, d, 8);
        rf_model_put_le(buf + 8, rf_siphash24(KV_DIGEST_KEY, s->entries[i], kv_size(s->entries[i])), 8);
        d = rf_siphash24(KV_DIGEST_KEY, buf, sizeof buf);
    }
    return d;
}

const rf_model rf_model_kv = {
    .abi_version = RF_MODEL_ABI_VERSION,
    .name = "kv",
    .create = kv_create,
    .destroy = kv_destroy,
    .command = kv_command,
    .query = kv_query,
    .encode = kv_encode,
    .decode = kv_decode,
    .digest = kv_digest,
};

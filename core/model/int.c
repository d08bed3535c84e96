/* int: the built-in "int" data model, one int64 (RaftFleet's JustAnInt). */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_hash.h"
#include "model/rf_model_text.h"
#include "model/rf_model.h"

/* Commands: "set N" stores N and replies the old value; "inc" stores
 * old+1 and replies the old value. Query: "get" replies the value. Values
 * are decimal int64 text. Anything else is rejected with RF_EINVAL and the
 * reply "error: ..."; "inc" at INT64_MAX is rejected with RF_ERANGE (the
 * value never wraps). A rejected command leaves the state unchanged.
 *
 * Encoding (stable, version 1): 9 bytes, the format byte 0x01 then the
 * value as 8 bytes little-endian two's complement.
 * Digest: SipHash-2-4 of the encoding under the key INT_DIGEST_KEY. */

#define INT_FORMAT_V1 0x01
#define INT_ENCODING_LEN 9

static const uint8_t INT_DIGEST_KEY[16] = "rf-model-int-v1";

typedef struct int_state {
    int64_t value;
} int_state;

static void *int_create(void)
{
    return calloc(1, sizeof(int_state));
}

static void int_destroy(void *state)
{
    free(state);
}

static int int_reply_value(int64_t v, uint8_t *reply, size_t cap, size_t *reply_len)
{
    char text[RF_MODEL_I64_TEXT_MAX];
    size_t n = rf_model_format_i64(v, text);
    return rf_model_reply(reply, cap, reply_len, text, n);
}

static int int_command(void *state, const uint8_t *cmd, size_t cmd_len,
                       uint8_t *reply, size_t reply_cap, size_t *reply_len)
{
    int_state *s = state;
    rf_model_token tok[RF_MODEL_TOKENS_MAX];
    int64_t next = 0;
    int n = rf_model_split(cmd, cmd_len, tok);
    ASSERT(s != NULL);
    if (n == 2 && rf_model_tok_is(tok[0], "set")) {
        if (!rf_model_parse_i64(tok[1], &next))
            return rf_model_reject(reply, reply_cap, reply_len, RF_EINVAL,
                                "set needs a decimal int64");
    } else if (n == 1 && rf_model_tok_is(tok[0], "inc")) {
        if (s->value == INT64_MAX)
            return rf_model_reject(reply, reply_cap, reply_len, RF_ERANGE, "inc overflows int64");
        next = s->value + 1;
    } else {
        return rf_model_reject(reply, reply_cap, reply_len, RF_EINVAL,
                            "unknown command (set N | inc)");
    }
    /* Reply first: a reply that does not fit leaves the state unchanged. */
    int rc = int_reply_value(s->value, reply, reply_cap, reply_len);
    if (rc != RF_OK)
        return rc;
    s->value = next;
    return RF_OK;
}

static int int_query(const void *state, const uint8_t *q, size_t q_len,
                     uint8_t *reply, size_t reply_cap, size_t *reply_len)
{
    const int_state *s = state;
    rf_model_token tok[RF_MODEL_TOKENS_MAX];
    int n = rf_model_split(q, q_len, tok);
    ASSERT(s != NULL);
    if (n != 1 || !rf_model_tok_is(tok[0], "get"))
        return rf_model_reject(reply, reply_cap, reply_len, RF_EINVAL, "unknown query (get)");
    return int_reply_value(s->value, reply, reply_cap, reply_len);
}

static int int_encode(const void *state, uint8_t *out, size_t cap, size_t *len)
{
    const int_state *s = state;
    *len = INT_ENCODING_LEN;
    if (cap < INT_ENCODING_LEN)
        return RF_ETOOBIG;
    out[0] = INT_FORMAT_V1;
    rf_model_put_le(out + 1, (uint64_t)s->value, 8);
    return RF_OK;
}

static void *int_decode(const uint8_t *data, size_t len)
{
    if (data == NULL || len != INT_ENCODING_LEN || data[0] != INT_FORMAT_V1)
        return NULL;
    int_state *s = malloc(sizeof *s);
    if (s == NULL)
        return NULL;
    /* Two's complement read back without implementation-defined casts. */
    uint64_t u = rf_model_get_le(data + 1, 8);
    s->value = u <= (uint64_t)INT64_MAX ? (int64_t)u
                                        : -(int64_t)(~u) - 1;
    return s;
}

static uint64_t int_digest(const void *state)
{
    uint8_t enc[INT_ENCODING_LEN];
    size_t len = 0;
    int rc = int_encode(state, enc, sizeof enc, &len);
    ASSERT(rc == RF_OK);
    return rf_siphash24(INT_DIGEST_KEY, enc, len);
}

const rf_model rf_model_int = {
    .abi_version = RF_MODEL_ABI_VERSION,
    .name = "int",
    .create = int_create,
    .destroy = int_destroy,
    .command = int_command,
    .query = int_query,
    .encode = int_encode,
    .decode = int_decode,
    .digest = int_digest,
};

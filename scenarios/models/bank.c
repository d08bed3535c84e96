/* bank: an example user data model, loaded with --model-lib: transfers between accounts keep the total. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "model/rf_model.h"

/* Eight accounts, "a" to "h", open with 100 each, so the bank always holds
 * 800. A model whose invariant is this easy to state is easy to break: a
 * transfer applied twice, or half applied, or read from a stale replica
 * shows up as a wrong balance or a wrong total, which the simulator's
 * linearizability checker (using this model as its specification) and the
 * replicas' digests catch.
 *
 *   command  transfer FROM TO N  -> "ok" | "insufficient"   (1 <= N <= 10^9)
 *   query    balance ACCOUNT     -> the balance, in decimal
 *   query    total               -> the sum of the balances (always 800)
 *
 * Malformed input is rejected with RF_EINVAL and the reply "error: ...";
 * an insufficient balance is an ordinary outcome that changes nothing.
 * Encoding (version 1): the byte 0x01, then the eight balances as u64
 * little-endian; decode refuses anything else, including a total other
 * than 800. Digest: 64-bit FNV-1a of the encoding.
 *
 * This file uses only the public header model/rf_model.h (and the error
 * codes of base/rf_err.h), as a user's model would: it links nothing from
 * raftfleet. */

#define BANK_ACCOUNTS 8
#define BANK_OPENING 100u
#define BANK_TOTAL (BANK_ACCOUNTS * BANK_OPENING)
#define BANK_AMOUNT_MAX 1000000000u
#define BANK_FORMAT_V1 0x01
#define BANK_ENCODING_LEN (1 + 8 * BANK_ACCOUNTS)
#define BANK_WORDS_MAX 4

typedef struct bank {
    uint64_t balance[BANK_ACCOUNTS];
} bank;

typedef struct word {
    const uint8_t *p;
    size_t len;
} word;

static void *bank_create(void)
{
    bank *b = calloc(1, sizeof *b);
    for (int i = 0; b != NULL && i < BANK_ACCOUNTS; i++)
        b->balance[i] = BANK_OPENING;
    return b;
}

static void bank_destroy(void *state)
{
    free(state);
}

static int reply_text(uint8_t *reply, size_t cap, size_t *len, const char *text)
{
    size_t n = strlen(text);
    *len = n < cap ? n : cap;
    memcpy(reply, text, *len);
    return n <= cap ? RF_OK : RF_ETOOBIG;
}

static int reject(uint8_t *reply, size_t cap, size_t *len, const char *why)
{
    char text[96] = "error: ";
    strncat(text, why, sizeof text - strlen(text) - 1);
    reply_text(reply, cap, len, text);
    return RF_EINVAL;
}

static int reply_number(uint8_t *reply, size_t cap, size_t *len, uint64_t v)
{
    char text[24];
    int i = (int)sizeof text - 1;
    text[i] = '\0';
    do {
        text[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    return reply_text(reply, cap, len, text + i);
}

/* Splits at single spaces; -1 on an empty word or too many words. */
static int split(const uint8_t *in, size_t len, word *w)
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && in[i] != ' ')
            continue;
        if (i == start || n == BANK_WORDS_MAX)
            return -1;
        w[n].p = in + start;
        w[n].len = i - start;
        n++;
        start = i + 1;
    }
    return n;
}

static bool word_is(word w, const char *s)
{
    return w.len == strlen(s) && memcmp(w.p, s, w.len) == 0;
}

/* An account name "a".."h" -> 0..7, or -1. */
static int account(word w)
{
    return w.len == 1 && w.p[0] >= 'a' && w.p[0] < 'a' + BANK_ACCOUNTS ? w.p[0] - 'a' : -1;
}

static bool amount(word w, uint64_t *v)
{
    if (w.len == 0 || w.len > 10 || (w.len > 1 && w.p[0] == '0'))
        return false;
    *v = 0;
    for (size_t i = 0; i < w.len; i++) {
        if (w.p[i] < '0' || w.p[i] > '9')
            return false;
        *v = *v * 10 + (uint64_t)(w.p[i] - '0');
    }
    return *v >= 1 && *v <= BANK_AMOUNT_MAX;
}

static int bank_command(void *state, const uint8_t *cmd, size_t cmd_len, uint8_t *reply,
                        size_t reply_cap, size_t *reply_len)
{
    bank *b = state;
    word w[BANK_WORDS_MAX];
    int n = split(cmd, cmd_len, w);
    if (n != 4 || !word_is(w[0], "transfer"))
        return reject(reply, reply_cap, reply_len, "unknown command (transfer FROM TO N)");
    int from = account(w[1]), to = account(w[2]);
    uint64_t v;
    if (from < 0 || to < 0 || from == to)
        return reject(reply, reply_cap, reply_len, "accounts are a to h, two different ones");
    if (!amount(w[3], &v))
        return reject(reply, reply_cap, reply_len, "the amount is 1 to 1000000000");
    if (b->balance[from] < v)
        return reply_text(reply, reply_cap, reply_len, "insufficient");
    b->balance[from] -= v;
    b->balance[to] += v;
    return reply_text(reply, reply_cap, reply_len, "ok");
}

static int bank_query(const void *state, const uint8_t *q, size_t q_len, uint8_t *reply,
                      size_t reply_cap, size_t *reply_len)
{
    const bank *b = state;
    word w[BANK_WORDS_MAX];
    int n = split(q, q_len, w);
    if (n == 1 && word_is(w[0], "total")) {
        uint64_t sum = 0;
        for (int i = 0; i < BANK_ACCOUNTS; i++)
            sum += b->balance[i];
        return reply_number(reply, reply_cap, reply_len, sum);
    }
    if (n == 2 && word_is(w[0], "balance") && account(w[1]) >= 0)
        return reply_number(reply, reply_cap, reply_len, b->balance[account(w[1])]);
    return reject(reply, reply_cap, reply_len, "unknown query (balance ACCOUNT | total)");
}

static int bank_encode(const void *state, uint8_t *out, size_t cap, size_t *len)
{
    const bank *b = state;
    *len = BANK_ENCODING_LEN;
    if (cap < BANK_ENCODING_LEN)
        return RF_ETOOBIG;
    out[0] = BANK_FORMAT_V1;
    for (int i = 0; i < BANK_ACCOUNTS; i++)
        for (int k = 0; k < 8; k++)
            out[1 + 8 * i + k] = (uint8_t)(b->balance[i] >> (8 * k));
    return RF_OK;
}

static void *bank_decode(const uint8_t *data, size_t len)
{
    if (len != BANK_ENCODING_LEN || data[0] != BANK_FORMAT_V1)
        return NULL;
    bank tmp;
    uint64_t sum = 0;
    for (int i = 0; i < BANK_ACCOUNTS; i++) {
        tmp.balance[i] = 0;
        for (int k = 0; k < 8; k++)
            tmp.balance[i] |= (uint64_t)data[1 + 8 * i + k] << (8 * k);
        if (tmp.balance[i] > BANK_TOTAL)
            return NULL;
        sum += tmp.balance[i];
    }
    if (sum != BANK_TOTAL)
        return NULL;
    bank *b = malloc(sizeof *b);
    if (b != NULL)
        *b = tmp;
    return b;
}

static uint64_t bank_digest(const void *state)
{
    uint8_t enc[BANK_ENCODING_LEN];
    size_t len;
    bank_encode(state, enc, sizeof enc, &len);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= enc[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static const rf_model bank_model = {
    .abi_version = RF_MODEL_ABI_VERSION,
    .name = "bank",
    .create = bank_create,
    .destroy = bank_destroy,
    .command = bank_command,
    .query = bank_query,
    .encode = bank_encode,
    .decode = bank_decode,
    .digest = bank_digest,
};

static const rf_model *const bank_models[] = {&bank_model};

/* The table the drivers look up by RF_MODEL_TABLE_SYMBOL. */
const rf_model_table rf_model_table_v1 = {
    .abi_version = RF_MODEL_ABI_VERSION,
    .count = 1,
    .models = bank_models,
};

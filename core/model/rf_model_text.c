/* rf_model_text: token, number and reply helpers shared by the built-in models. */
#include "model/rf_model_text.h"

#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"

int rf_model_split(const uint8_t *in, size_t len, rf_model_token *tok)
{
    int n = 0;
    size_t start = 0;
    if (len == 0)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && in[i] != ' ')
            continue;
        if (i == start || n == RF_MODEL_TOKENS_MAX)
            return -1;
        tok[n].p = in + start;
        tok[n].len = i - start;
        n++;
        start = i + 1;
    }
    return n;
}

bool rf_model_tok_is(rf_model_token tok, const char *word)
{
    size_t n = strlen(word);
    return tok.len == n && memcmp(tok.p, word, n) == 0;
}

bool rf_model_parse_i64(rf_model_token tok, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    uint64_t mag = 0;
    if (tok.len > 0 && tok.p[0] == '-') {
        neg = true;
        i = 1;
    }
    if (tok.len == i || tok.len - i > 19)
        return false;
    for (; i < tok.len; i++) {
        if (tok.p[i] < '0' || tok.p[i] > '9')
            return false;
        mag = mag * 10 + (uint64_t)(tok.p[i] - '0'); /* 19 digits fit in uint64 */
    }
    /* INT64_MIN's magnitude is one more than INT64_MAX's. */
    if (mag > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return false;
    if (neg)
        *out = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
    else
        *out = (int64_t)mag;
    return true;
}

size_t rf_model_format_i64(int64_t v, char *buf)
{
    char tmp[RF_MODEL_I64_TEXT_MAX];
    size_t n = 0, len = 0;
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag != 0);
    if (v < 0)
        buf[len++] = '-';
    while (n > 0)
        buf[len++] = tmp[--n];
    ASSERT(len <= RF_MODEL_I64_TEXT_MAX);
    return len;
}

int rf_model_reply(uint8_t *reply, size_t cap, size_t *reply_len, const void *text, size_t n)
{
    size_t k = n <= cap ? n : cap;
    if (k > 0)
        memcpy(reply, text, k);
    *reply_len = k;
    return n <= cap ? RF_OK : RF_ETOOBIG;
}

int rf_model_reject(uint8_t *reply, size_t cap, size_t *reply_len, int code, const char *why)
{
    char text[128];
    size_t n = 0;
    ASSERT(code != RF_OK);
    memcpy(text, "error: ", 7);
    n = 7;
    for (size_t i = 0; why[i] != '\0' && n < sizeof text; i++)
        text[n++] = why[i];
    rf_model_reply(reply, cap, reply_len, text, n);
    return code;
}

void rf_model_put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t rf_model_get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

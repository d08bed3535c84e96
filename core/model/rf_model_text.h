/* rf_model_text: token, number and reply helpers shared by the built-in models. */
#ifndef RF_MODEL_TEXT_H
#define RF_MODEL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RF_MODEL_TOKENS_MAX 4 /* the most tokens a built-in command has */

typedef struct rf_model_token {
    const uint8_t *p;
    size_t len;
} rf_model_token;

/* Splits in[0..len) at single spaces into at most RF_MODEL_TOKENS_MAX
 * non-empty tokens. Returns the token count, or -1 when the text has an
 * empty token (leading, trailing or doubled space) or too many tokens. */
int rf_model_split(const uint8_t *in, size_t len, rf_model_token *tok);

/* True when tok equals the NUL-terminated word. */
bool rf_model_tok_is(rf_model_token tok, const char *word);

/* Parses a decimal int64: an optional '-' then 1..19 digits, nothing else.
 * Returns false (leaving *out alone) on any other text or on overflow. */
bool rf_model_parse_i64(rf_model_token tok, int64_t *out);

/* Writes v in decimal to buf (at least RF_MODEL_I64_TEXT_MAX bytes); returns
 * the length. */
#define RF_MODEL_I64_TEXT_MAX 20
size_t rf_model_format_i64(int64_t v, char *buf);

/* Copies n bytes of text to reply when they fit in cap. Returns 0, or
 * RF_ETOOBIG (writing as much as fits) when they do not. */
int rf_model_reply(uint8_t *reply, size_t cap, size_t *reply_len, const void *text, size_t n);

/* Writes the error text "error: WHY" (truncated to cap) and returns code, so
 * that a rejection reads `return rf_model_reject(..., RF_EINVAL, "...")`. */
int rf_model_reject(uint8_t *reply, size_t cap, size_t *reply_len, int code, const char *why);

/* Little-endian fixed-width integers for the state encodings. */
void rf_model_put_le(uint8_t *p, uint64_t v, int bytes);
uint64_t rf_model_get_le(const uint8_t *p, int bytes);

#endif

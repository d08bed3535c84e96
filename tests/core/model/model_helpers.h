/* model_helpers: small wrappers the model tests share (text in, text out). */
#ifndef TESTS_MODEL_HELPERS_H
#define TESTS_MODEL_HELPERS_H

#include <stdlib.h>
#include <string.h>

#include "model/rf_model.h"

/* Runs a command (or query when is_query) given as a C string; the reply is
 * NUL-terminated into out (size at least 2048). Returns the model's code. */
static inline int mh_run(const rf_model *m, void *st, int is_query, const char *in, char *out)
{
    size_t len = 0;
    int rc = is_query ? m->query(st, (const uint8_t *)in, strlen(in), (uint8_t *)out, 2047, &len)
                      : m->command(st, (const uint8_t *)in, strlen(in), (uint8_t *)out, 2047, &len);
    out[len] = '\0';
    return rc;
}

/* Encodes st into a fresh buffer (caller frees); *len gets its size. */
static inline uint8_t *mh_encode(const rf_model *m, const void *st, size_t *len)
{
    size_t need = 0;
    if (m->encode(st, NULL, 0, &need) == 0) {
        *len = need;
        return malloc(1);
    }
    uint8_t *buf = malloc(need);
    if (buf == NULL || m->encode(st, buf, need, len) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

#endif

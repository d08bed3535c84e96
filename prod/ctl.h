/* ctl: fleetctl's pieces: RESP replies read back into a tree, and printed as tables or JSON. */
#ifndef PROD_CTL_H
#define PROD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RF_CTL_DEPTH_MAX 8u        /* nested arrays in one reply */
#define RF_CTL_ELEMS_MAX 1048576u  /* elements of one array */
#define RF_CTL_BULK_BYTES_MAX (64u << 20)

typedef enum rf_ctl_kind {
    RF_CTL_SIMPLE = 1, /* +text */
    RF_CTL_ERROR,      /* -text */
    RF_CTL_INT,        /* :n */
    RF_CTL_BULK,       /* $n text */
    RF_CTL_NULL,       /* $-1 or *-1 */
    RF_CTL_ARRAY       /* *n elements */
} rf_ctl_kind;

typedef struct rf_ctl_reply rf_ctl_reply;
struct rf_ctl_reply {
    rf_ctl_kind kind;
    int64_t n;          /* INT */
    char *str;          /* SIMPLE ERROR BULK, NUL-terminated (len bytes) */
    size_t len;
    rf_ctl_reply *elems; /* ARRAY: n elements */
};

/* Parses one reply at buf[0, len): returns the bytes it used and fills
 * *out (free with rf_ctl_reply_free); 0 when more bytes are needed; -1
 * for a malformed reply or a bound broken. */
long rf_ctl_parse(const uint8_t *buf, size_t len, rf_ctl_reply *out);
void rf_ctl_reply_free(rf_ctl_reply *r);

/* Writes a request as a RESP array of bulk strings into out (cap bytes);
 * returns its length, or 0 when it does not fit. */
size_t rf_ctl_request(char *out, size_t cap, int argc, const char *const *argv);

/* The views fleetctl prints. table: a header then one row per element
 * (each element an array of fields), or key/value lines for a flat
 * key-value array (status); json: the same data as JSON. */
typedef enum rf_ctl_view {
    RF_CTL_VIEW_VALUE = 0,  /* one value (cmd, query, leader, ok) */
    RF_CTL_VIEW_GROUPS,     /* name replicas model */
    RF_CTL_VIEW_NODES,      /* name zone state id */
    RF_CTL_VIEW_MAP         /* key value key value ... */
} rf_ctl_view;

void rf_ctl_print(FILE *f, const rf_ctl_reply *r, rf_ctl_view view, bool json);

#endif

/* resp: the Redis protocol (RESP2) on fleetd's client port: an incremental request parser and a reply writer. */
#ifndef PROD_RESP_H
#define PROD_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Requests come as RESP2 arrays of bulk strings ("*2\r\n$4\r\nPING\r\n...",
 * what every client library and redis-cli send) or as inline commands
 * ("PING\r\n", words separated by spaces or tabs, what a human types into
 * nc). Pipelining: any number of requests may arrive in one read and a
 * request may be split across reads at any byte.
 *
 * Bounds: a request holds at most RF_RESP_ARGS_MAX arguments, a bulk string
 * at most RF_RESP_BULK_BYTES_MAX bytes, an inline line at most
 * RF_RESP_INLINE_BYTES_MAX, and the buffered, undelivered bytes of one
 * connection at most RF_RESP_QUERY_BYTES_MAX (so one request is at most
 * that big). Breaking a bound or the grammar is a protocol error: as Redis
 * does, the server sends "-ERR Protocol error: ..." and closes. */
#define RF_RESP_ARGS_MAX 1024u
#define RF_RESP_BULK_BYTES_MAX (256u << 10)
#define RF_RESP_INLINE_BYTES_MAX (64u << 10)
#define RF_RESP_QUERY_BYTES_MAX (1u << 20)
#define RF_RESP_OUT_BYTES_MAX (8u << 20) /* replies buffered for one connection */

/* One request. argv[i] points at argl[i] bytes followed by a NUL (so
 * arguments read as C strings too; a binary argument may hold NULs of its
 * own, hence argl). Valid until the next rf_resp_feed or rf_resp_close. */
typedef struct rf_resp_cmd {
    uint32_t argc;
    const char *const *argv;
    const size_t *argl;
} rf_resp_cmd;

typedef struct rf_resp_parser {
    uint8_t *buf;
    size_t cap, start, end; /* undelivered bytes: buf[start, end) */
    char **argv;
    size_t *argl;
    uint32_t args_cap;
    int error;              /* sticky: 0 or RF_EPROTO / RF_ENOMEM */
    char reason[96];        /* the text after "-ERR " to send */
    uint64_t requests;      /* requests delivered */
} rf_resp_parser;

void rf_resp_parser_init(rf_resp_parser *p);
void rf_resp_parser_close(rf_resp_parser *p);

/* Takes bytes into the buffer; returns how many (fewer than len when the
 * buffer is full of undelivered requests: deliver them, feed the rest). */
size_t rf_resp_feed(rf_resp_parser *p, const void *data, size_t len);

/* The next whole request: 1 and *out; 0 when more bytes are needed; or
 * -RF_EPROTO / -RF_ENOMEM, after which the parser stays failed and
 * p->reason holds the protocol error text. Empty inline lines and
 * arrays of count <= 0 are skipped, as Redis does. */
int rf_resp_next(rf_resp_parser *p, rf_resp_cmd *out);

size_t rf_resp_pending(const rf_resp_parser *p);

/* ---- replies ---- */

/* An output buffer that grows up to RF_RESP_OUT_BYTES_MAX. Past that it
 * stops growing and sets `overflow`: the connection is then closed (a
 * client that does not read its replies is not allowed to exhaust memory). */
typedef struct rf_resp_out {
    uint8_t *buf;
    size_t len, cap;
    bool overflow;
} rf_resp_out;

void rf_resp_out_init(rf_resp_out *o);
void rf_resp_out_close(rf_resp_out *o);
void rf_resp_out_reset(rf_resp_out *o); /* empties, keeps the memory */
/* Appends n bytes as they are (replies formatted elsewhere). */
void rf_resp_put(rf_resp_out *o, const void *data, size_t n);

void rf_resp_simple(rf_resp_out *o, const char *s);       /* +s */
/* -text: text starts with the error code word ("ERR ...", "NOAUTH ...").
 * CR and LF in text are replaced by spaces. */
void rf_resp_error(rf_resp_out *o, const char *text);
__attribute__((format(printf, 2, 3))) void rf_resp_errorf(rf_resp_out *o, const char *fmt, ...);
void rf_resp_int(rf_resp_out *o, int64_t v);              /* :v */
void rf_resp_bulk(rf_resp_out *o, const void *p, size_t len); /* $len p */
void rf_resp_bulk_str(rf_resp_out *o, const char *s);
void rf_resp_null(rf_resp_out *o);                        /* $-1 */
void rf_resp_array(rf_resp_out *o, uint32_t n);           /* *n, n elements follow */

#endif

/* resp: the Redis protocol (RESP2) on fleetd's client port: an incremental request parser and a reply writer. */
#include "prod/resp.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"

#define RESP_BUF_BYTES_MIN 4096u
#define RESP_ARGS_MIN 16u
#define RESP_COUNT_LINE_MAX 32u /* "*1024\r\n" and "$262144\r\n" are far shorter */

void rf_resp_parser_init(rf_resp_parser *p)
{
    memset(p, 0, sizeof *p);
}

void rf_resp_parser_close(rf_resp_parser *p)
{
    free(p->buf);
    free(p->argv);
    free(p->argl);
    memset(p, 0, sizeof *p);
}

size_t rf_resp_pending(const rf_resp_parser *p)
{
    return p->end - p->start;
}

__attribute__((format(printf, 3, 4))) static int parse_fail(rf_resp_parser *p, int code,
                                                          const char *fmt, ...)
{
    ASSERT(p->error == 0);
    p->error = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
    va_end(ap);
    return -code;
}

size_t rf_resp_feed(rf_resp_parser *p, const void *data, size_t len)
{
    if (p->error || len == 0)
        return 0;
    if (p->start == p->end) {
        p->start = p->end = 0;
    } else if (p->start > 0 && p->cap - p->end < len) {
        memmove(p->buf, p->buf + p->start, p->end - p->start);
        p->end -= p->start;
        p->start = 0;
    }
    size_t held = p->end - p->start;
    if (p->cap - p->end < len && p->cap < RF_RESP_QUERY_BYTES_MAX) {
        size_t need = held + len > RF_RESP_QUERY_BYTES_MAX ? RF_RESP_QUERY_BYTES_MAX : held + len;
        size_t ncap = p->cap ? p->cap : RESP_BUF_BYTES_MIN;
        while (ncap < need)
            ncap *= 2;
        if (ncap > RF_RESP_QUERY_BYTES_MAX)
            ncap = RF_RESP_QUERY_BYTES_MAX;
        uint8_t *nb = realloc(p->buf, ncap);
        if (nb == NULL) {
            parse_fail(p, RF_ENOMEM, "out of memory");
            return 0;
        }
        p->buf = nb;
        p->cap = ncap;
    }
    size_t room = p->cap - p->end;
    size_t take = len < room ? len : room;
    if (take) {
        memcpy(p->buf + p->end, data, take);
        p->end += take;
    }
    return take;
}

/* Room for n arguments; false when memory runs out. */
static bool args_reserve(rf_resp_parser *p, uint32_t n)
{
    ASSERT(n <= RF_RESP_ARGS_MAX);
    if (n <= p->args_cap)
        return true;
    uint32_t ncap = p->args_cap ? p->args_cap : RESP_ARGS_MIN;
    while (ncap < n)
        ncap *= 2;
    char **nv = realloc(p->argv, ncap * sizeof *nv);
    if (nv == NULL)
        return false;
    p->argv = nv;
    size_t *nl = realloc(p->argl, ncap * sizeof *nl);
    if (nl == NULL)
        return false;
    p->argl = nl;
    p->args_cap = ncap;
    return true;
}

/* Reads "<prefix><integer>\r\n" at buf[*pos, end). 1 with *v and *pos past
 * the line, 0 when incomplete, -1 when malformed. */
static int read_count_line(const uint8_t *buf, size_t *pos, size_t end, long long *v)
{
    size_t i = *pos + 1; /* past '*' or '$' */
    size_t lim = end < *pos + RESP_COUNT_LINE_MAX ? end : *pos + RESP_COUNT_LINE_MAX;
    bool neg = false;
    long long n = 0;
    int digits = 0;
    if (i < lim && buf[i] == '-') {
        neg = true;
        i++;
    }
    for (; i < lim && buf[i] >= '0' && buf[i] <= '9'; i++) {
        if (++digits > 12)
            return -1;
        n = n * 10 + (buf[i] - '0');
    }
    if (i + 1 >= lim)
        return end < *pos + RESP_COUNT_LINE_MAX ? 0 : -1;
    if (digits == 0 || buf[i] != '\r' || buf[i + 1] != '\n')
        return -1;
    *v = neg ? -n : n;
    *pos = i + 2;
    return 1;
}

/* A multibulk request at buf[start]; arguments recorded as offsets until the
 * whole request is in. */
static int parse_multibulk(rf_resp_parser *p, rf_resp_cmd *out)
{
    size_t pos = p->start;
    long long count;
    int r = read_count_line(p->buf, &pos, p->end, &count);
    if (r < 0)
        return parse_fail(p, RF_EPROTO, "Protocol error: invalid multibulk length");
    if (r == 0)
        return 0;
    if (count > (long long)RF_RESP_ARGS_MAX)
        return parse_fail(p, RF_EPROTO, "Protocol error: invalid multibulk length");
    if (count <= 0) {
        p->start = pos;
        return 2; /* skipped: look again */
    }
    if (!args_reserve(p, (uint32_t)count))
        return parse_fail(p, RF_ENOMEM, "out of memory");
    for (long long k = 0; k < count; k++) {
        if (pos >= p->end)
            return 0;
        if (p->buf[pos] != '$')
            return parse_fail(p, RF_EPROTO, "Protocol error: expected '$', got '%c'",
                              p->buf[pos] >= 32 && p->buf[pos] < 127 ? p->buf[pos] : '?');
        long long blen;
        r = read_count_line(p->buf, &pos, p->end, &blen);
        if (r < 0 || (r > 0 && (blen < 0 || blen > (long long)RF_RESP_BULK_BYTES_MAX)))
            return parse_fail(p, RF_EPROTO, "Protocol error: invalid bulk length");
        if (r == 0)
            return 0;
        if (p->end - pos < (size_t)blen + 2)
            return 0;
        if (p->buf[pos + blen] != '\r' || p->buf[pos + blen + 1] != '\n')
            return parse_fail(p, RF_EPROTO, "Protocol error: bulk string not followed by CRLF");
        p->argv[k] = (char *)p->buf + pos; /* offsets become pointers: buffer is fixed now */
        p->argl[k] = (size_t)blen;
        pos += (size_t)blen + 2;
    }
    /* Complete: terminate each argument in place over its '\r'. */
    for (long long k = 0; k < count; k++)
        p->argv[k][p->argl[k]] = '\0';
    out->argc = (uint32_t)count;
    p->start = pos;
    return 1;
}

static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* An inline request: one line, words split at spaces and tabs. */
static int parse_inline(rf_resp_parser *p, rf_resp_cmd *out)
{
    uint8_t *b = p->buf + p->start;
    size_t avail = p->end - p->start;
    uint8_t *nl = memchr(b, '\n', avail > RF_RESP_INLINE_BYTES_MAX ? RF_RESP_INLINE_BYTES_MAX : avail);
    if (nl == NULL)
        return avail >= RF_RESP_INLINE_BYTES_MAX
                   ? parse_fail(p, RF_EPROTO, "Protocol error: too big inline request")
                   : 0;
    size_t line = (size_t)(nl - b);
    if (line > 0 && b[line - 1] == '\r')
        line--;
    uint32_t argc = 0;
    size_t i = 0;
    while (i < line) {
        while (i < line && is_blank(b[i]))
            i++;
        if (i == line)
            break;
        if (argc == RF_RESP_ARGS_MAX)
            return parse_fail(p, RF_EPROTO, "Protocol error: too many arguments");
        if (!args_reserve(p, argc + 1))
            return parse_fail(p, RF_ENOMEM, "out of memory");
        size_t s = i;
        while (i < line && !is_blank(b[i]))
            i++;
        p->argv[argc] = (char *)b + s;
        p->argl[argc] = i - s;
        argc++;
    }
    for (uint32_t k = 0; k < argc; k++)
        p->argv[k][p->argl[k]] = '\0'; /* over a blank, '\r' or '\n' */
    p->start += (size_t)(nl - b) + 1;
    if (argc == 0)
        return 2; /* empty line: skipped */
    out->argc = argc;
    return 1;
}

int rf_resp_next(rf_resp_parser *p, rf_resp_cmd *out)
{
    for (;;) {
        if (p->error)
            return -p->error;
        if (p->start == p->end)
            return 0;
        int r = p->buf[p->start] == '*' ? parse_multibulk(p, out) : parse_inline(p, out);
        if (r == 2)
            continue;
        if (r == 0 && p->end - p->start >= RF_RESP_QUERY_BYTES_MAX)
            return parse_fail(p, RF_EPROTO, "Protocol error: request over %u bytes",
                              RF_RESP_QUERY_BYTES_MAX);
        if (r == 1) {
            out->argv = (const char *const *)p->argv;
            out->argl = p->argl;
            p->requests++;
        }
        return r;
    }
}

/* ---- replies ---- */

void rf_resp_out_init(rf_resp_out *o)
{
    memset(o, 0, sizeof *o);
}

void rf_resp_out_close(rf_resp_out *o)
{
    free(o->buf);
    memset(o, 0, sizeof *o);
}

void rf_resp_out_reset(rf_resp_out *o)
{
    o->len = 0;
    o->overflow = false;
}

void rf_resp_put(rf_resp_out *o, const void *data, size_t n)
{
    if (o->overflow)
        return;
    if (n > RF_RESP_OUT_BYTES_MAX - o->len) {
        o->overflow = true;
        return;
    }
    if (o->cap - o->len < n) {
        size_t ncap = o->cap ? o->cap : RESP_BUF_BYTES_MIN;
        while (ncap - o->len < n)
            ncap *= 2;
        uint8_t *nb = realloc(o->buf, ncap);
        if (nb == NULL) {
            o->overflow = true;
            return;
        }
        o->buf = nb;
        o->cap = ncap;
    }
    memcpy(o->buf + o->len, data, n);
    o->len += n;
}

static void out_line(rf_resp_out *o, char kind, const char *text, size_t n)
{
    rf_resp_put(o, &kind, 1);
    size_t s = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || text[i] == '\r' || text[i] == '\n') {
            rf_resp_put(o, text + s, i - s);
            if (i < n)
                rf_resp_put(o, " ", 1);
            s = i + 1;
        }
    }
    rf_resp_put(o, "\r\n", 2);
}

void rf_resp_simple(rf_resp_out *o, const char *s)
{
    out_line(o, '+', s, strlen(s));
}

void rf_resp_error(rf_resp_out *o, const char *text)
{
    out_line(o, '-', text, strlen(text));
}

void rf_resp_errorf(rf_resp_out *o, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    rf_resp_error(o, text);
}

void rf_resp_int(rf_resp_out *o, int64_t v)
{
    char line[32];
    int n = snprintf(line, sizeof line, ":%" PRId64 "\r\n", v);
    rf_resp_put(o, line, (size_t)n);
}

/* "$len\r\n" written by hand: a bulk string is every command's reply. */
void rf_resp_bulk(rf_resp_out *o, const void *p, size_t len)
{
    char line[32];
    size_t n = sizeof line;
    line[--n] = '\n';
    line[--n] = '\r';
    size_t v = len;
    do {
        line[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    line[--n] = '$';
    rf_resp_put(o, line + n, sizeof line - n);
    rf_resp_put(o, p, len);
    rf_resp_put(o, "\r\n", 2);
}

void rf_resp_bulk_str(rf_resp_out *o, const char *s)
{
    rf_resp_bulk(o, s, strlen(s));
}

void rf_resp_null(rf_resp_out *o)
{
    rf_resp_put(o, "$-1\r\n", 5);
}

void rf_resp_array(rf_resp_out *o, uint32_t n)
{
    char line[32];
    int len = snprintf(line, sizeof line, "*%u\r\n", (unsigned)n);
    rf_resp_put(o, line, (size_t)len);
}

/* rpt_buf: a growing text buffer for the report's HTML and SVG. */
#include "reports/rpt_buf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"

void rpt_buf_init(rpt_buf *b)
{
    memset(b, 0, sizeof *b);
}

void rpt_buf_free(rpt_buf *b)
{
    free(b->data);
    rpt_buf_init(b);
}

/* Makes room for extra more bytes plus the NUL; 0 on failure. */
static int buf_reserve(rpt_buf *b, size_t extra)
{
    if (b->failed)
        return 0;
    if (extra > RPT_BUF_BYTES_MAX || b->len + extra + 1 > RPT_BUF_BYTES_MAX) {
        b->failed = 1;
        return 0;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

static void buf_append(rpt_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void rpt_buf_puts(rpt_buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void rpt_buf_printf(rpt_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n)) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void rpt_buf_esc(rpt_buf *b, const char *s)
{
    if (s == NULL)
        return;
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep != NULL) {
            buf_append(b, run, (size_t)(p - run));
            rpt_buf_puts(b, rep);
            run = p + 1;
        }
    }
    buf_append(b, run, strlen(run));
}

void rpt_buf_dur(rpt_buf *b, int64_t ns)
{
    int64_t a = ns < 0 ? -ns : ns;
    if (a >= 1000000000)
        rpt_buf_printf(b, "%.3f s", (double)ns / 1e9);
    else if (a >= 1000000)
        rpt_buf_printf(b, "%.3g ms", (double)ns / 1e6);
    else if (a >= 1000)
        rpt_buf_printf(b, "%.3g us", (double)ns / 1e3);
    else
        rpt_buf_printf(b, "%" PRId64 " ns", ns);
}

const char *rpt_buf_str(const rpt_buf *b)
{
    return b->len ? b->data : "";
}

int rpt_buf_write_file(const rpt_buf *b, const char *path)
{
    if (b->failed)
        return RF_ENOMEM;
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return RF_EIO;
    size_t n = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    int bad = n != b->len;
    if (fclose(f) != 0)
        bad = 1;
    return bad ? RF_EIO : RF_OK;
}

/* rpt_buf: a growing text buffer for the report's HTML and SVG. */
#ifndef RF_REPORTS_RPT_BUF_H
#define RF_REPORTS_RPT_BUF_H

#include <stddef.h>
#include <stdint.h>

/* The buffer refuses to grow past this (a report page is far smaller). */
#define RPT_BUF_BYTES_MAX (256u * 1024u * 1024u)

typedef struct {
    char *data;  /* NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
    int failed;  /* set once an append failed (out of memory or over the bound) */
} rpt_buf;

void rpt_buf_init(rpt_buf *b);
void rpt_buf_free(rpt_buf *b);
void rpt_buf_puts(rpt_buf *b, const char *s);
void rpt_buf_printf(rpt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with &, <, >, " and ' escaped: safe in HTML/SVG text and attributes. */
void rpt_buf_esc(rpt_buf *b, const char *s);
/* Appends a simulated duration in readable units ("1.250 s", "12 ms", "800 ns"). */
void rpt_buf_dur(rpt_buf *b, int64_t ns);
/* The text, "" when empty. */
const char *rpt_buf_str(const rpt_buf *b);
/* Writes the buffer to path; RF_OK, RF_ENOMEM when an append had failed, RF_EIO. */
int rpt_buf_write_file(const rpt_buf *b, const char *path);

#endif

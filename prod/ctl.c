/* ctl: fleetctl's pieces: RESP replies read back into a tree, and printed as tables or JSON. */
#include "prod/ctl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The line at buf[0, len) up to CRLF: its length, or -1 when incomplete. */
static long line_len(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n')
            return (long)i;
    return -1;
}

static bool parse_i64(const uint8_t *p, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = n > 0 && p[0] == '-';
    if (neg)
        i++;
    if (i == n || n - i > 18)
        return false;
    int64_t v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

static long parse_at(const uint8_t *buf, size_t len, rf_ctl_reply *out, unsigned depth)
{
    memset(out, 0, sizeof *out);
    if (depth > RF_CTL_DEPTH_MAX)
        return -1;
    long ll = line_len(buf, len);
    if (ll < 0)
        return len > 4096 ? -1 : 0;
    const uint8_t *body = buf + 1;
    size_t blen = (size_t)ll - 1;
    size_t used = (size_t)ll + 2;
    if (ll == 0)
        return -1;
    if (buf[0] == '+' || buf[0] == '-') {
        out->kind = buf[0] == '+' ? RF_CTL_SIMPLE : RF_CTL_ERROR;
        out->str = malloc(blen + 1);
        if (out->str == NULL)
            return -1;
        memcpy(out->str, body, blen);
        out->str[blen] = '\0';
        out->len = blen;
        return (long)used;
    }
    int64_t n;
    if (!parse_i64(body, blen, &n))
        return -1;
    if (buf[0] == ':') {
        out->kind = RF_CTL_INT;
        out->n = n;
        return (long)used;
    }
    if ((buf[0] == '$' || buf[0] == '*') && n == -1) {
        out->kind = RF_CTL_NULL;
        return (long)used;
    }
    if (buf[0] == '$') {
        if (n < 0 || n > (int64_t)RF_CTL_BULK_BYTES_MAX)
            return -1;
        if (len - used < (size_t)n + 2)
            return 0;
        if (buf[used + (size_t)n] != '\r' || buf[used + (size_t)n + 1] != '\n')
            return -1;
        out->kind = RF_CTL_BULK;
        out->str = malloc((size_t)n + 1);
        if (out->str == NULL)
            return -1;
        memcpy(out->str, buf + used, (size_t)n);
        out->str[n] = '\0';
        out->len = (size_t)n;
        return (long)(used + (size_t)n + 2);
    }
    if (buf[0] != '*' || n < 0 || n > (int64_t)RF_CTL_ELEMS_MAX)
        return -1;
    out->kind = RF_CTL_ARRAY;
    out->n = n;
    out->elems = calloc(n ? (size_t)n : 1, sizeof *out->elems);
    if (out->elems == NULL)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        long r = parse_at(buf + used, len - used, &out->elems[i], depth + 1);
        if (r <= 0) {
            out->n = i; /* elements [0, i) hold memory; i failed clean */
            rf_ctl_reply_free(out);
            return r;
        }
        used += (size_t)r;
    }
    return (long)used;
}

long rf_ctl_parse(const uint8_t *buf, size_t len, rf_ctl_reply *out)
{
    return parse_at(buf, len, out, 0);
}

void rf_ctl_reply_free(rf_ctl_reply *r)
{
    if (r->kind == RF_CTL_ARRAY && r->elems) {
        for (int64_t i = 0; i < r->n; i++)
            rf_ctl_reply_free(&r->elems[i]);
    }
    free(r->elems);
    free(r->str);
    memset(r, 0, sizeof *r);
}

size_t rf_ctl_request(char *out, size_t cap, int argc, const char *const *argv)
{
    size_t n = 0;
    int w = snprintf(out, cap, "*%d\r\n", argc);
    if (w < 0 || (size_t)w >= cap)
        return 0;
    n = (size_t)w;
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]);
        w = snprintf(out + n, cap - n, "$%zu\r\n", l);
        if (w < 0 || (size_t)w >= cap - n || cap - n - (size_t)w < l + 2)
            return 0;
        n += (size_t)w;
        memcpy(out + n, argv[i], l);
        memcpy(out + n + l, "\r\n", 2);
        n += l + 2;
    }
    return n;
}

static void json_str(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 32)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_value(FILE *f, const rf_ctl_reply *r)
{
    switch (r->kind) {
    case RF_CTL_INT:
        fprintf(f, "%" PRId64, r->n);
        break;
    case RF_CTL_NULL:
        fputs("null", f);
        break;
    case RF_CTL_ARRAY:
        fputc('[', f);
        for (int64_t i = 0; i < r->n; i++) {
            if (i)
                fputc(',', f);
            json_value(f, &r->elems[i]);
        }
        fputc(']', f);
        break;
    case RF_CTL_ERROR:
        fputs("{\"error\":", f);
        json_str(f, r->str, r->len);
        fputc('}', f);
        break;
    default:
        json_str(f, r->str, r->len);
    }
}

static void text_value(FILE *f, const rf_ctl_reply *r)
{
    if (r->kind == RF_CTL_INT)
        fprintf(f, "%" PRId64, r->n);
    else if (r->kind == RF_CTL_NULL)
        fputs("(none)", f);
    else if (r->kind == RF_CTL_ARRAY)
        fprintf(f, "(%" PRId64 " items)", r->n);
    else
        fputs(r->str, f);
}

static const char *const groups_cols[] = {"NAME", "REPLICAS", "MODEL"};
static const char *const nodes_cols[] = {"NAME", "ZONE", "STATE", "ID"};

static void print_rows(FILE *f, const rf_ctl_reply *r, const char *const *cols, int ncols, bool json)
{
    if (json) {
        fputc('[', f);
        for (int64_t i = 0; i < r->n; i++) {
            const rf_ctl_reply *row = &r->elems[i];
            fputs(i ? ",{" : "{", f);
            for (int c = 0; c < ncols && row->kind == RF_CTL_ARRAY && c < row->n; c++) {
                char key[16];
                size_t k;
                for (k = 0; cols[c][k] && k + 1 < sizeof key; k++)
                    key[k] = (char)(cols[c][k] - 'A' + 'a');
                key[k] = '\0';
                fprintf(f, "%s\"%s\":", c ? "," : "", key);
                json_value(f, &row->elems[c]);
            }
            fputc('}', f);
        }
        fputs("]\n", f);
        return;
    }
    for (int c = 0; c < ncols; c++)
        fprintf(f, c + 1 < ncols ? "%-24s " : "%s\n", cols[c]);
    for (int64_t i = 0; i < r->n; i++) {
        const rf_ctl_reply *row = &r->elems[i];
        for (int c = 0; c < ncols && row->kind == RF_CTL_ARRAY && c < row->n; c++) {
            char cell[256];
            FILE *m = fmemopen(cell, sizeof cell, "w");
            if (m) {
                text_value(m, &row->elems[c]);
                fclose(m);
            } else {
                cell[0] = '\0';
            }
            fprintf(f, c + 1 < ncols ? "%-24s " : "%s\n", cell);
        }
    }
}

void rf_ctl_print(FILE *f, const rf_ctl_reply *r, rf_ctl_view view, bool json)
{
    bool rows = (view == RF_CTL_VIEW_GROUPS || view == RF_CTL_VIEW_NODES) && r->kind == RF_CTL_ARRAY;
    if (rows) {
        if (view == RF_CTL_VIEW_GROUPS)
            print_rows(f, r, groups_cols, 3, json);
        else
            print_rows(f, r, nodes_cols, 4, json);
        return;
    }
    if (view == RF_CTL_VIEW_MAP && r->kind == RF_CTL_ARRAY && r->n % 2 == 0) {
        fputs(json ? "{" : "", f);
        for (int64_t i = 0; i < r->n; i += 2) {
            if (json) {
                fputs(i ? "," : "", f);
                json_str(f, r->elems[i].str ? r->elems[i].str : "", r->elems[i].len);
                fputc(':', f);
                json_value(f, &r->elems[i + 1]);
            } else {
                fprintf(f, "%-20s ", r->elems[i].str ? r->elems[i].str : "?");
                text_value(f, &r->elems[i + 1]);
                fputc('\n', f);
            }
        }
        fputs(json ? "}\n" : "", f);
        return;
    }
    if (json) {
        json_value(f, r);
        fputc('\n', f);
    } else {
        text_value(f, r);
        fputc('\n', f);
    }
}

/* scenario_lex: the scenario tokenizer and the readers of durations, percentages, rates and names. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/scenario_int.h"

bool scn_fail_col(scn_parser *p, uint32_t col, const char *fmt, ...)
{
    if (p->failed)
        return false;
    p->failed = true;
    rf_scn_error *e = p->err;
    e->line = p->line;
    e->column = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    snprintf(e->text, sizeof e->text, "%s:%u:%u: %s", p->file, e->line, e->column, e->message);
    return false;
}

/* Fails at the current token, or just past the line's end when none is left. */
bool scn_fail(scn_parser *p, const char *fmt, ...)
{
    if (p->failed)
        return false;
    char msg[RF_SCN_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const scn_tok *t = scn_peek(p);
    return scn_fail_col(p, t != NULL ? t->col : p->eol_col, "%s", msg);
}

/* ---- tokenizer ---- */

static bool word_byte(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != '#';
}

static bool read_quoted(scn_parser *p, const char *line, uint32_t len, uint32_t *i, scn_tok *t)
{
    uint32_t start = *i;
    t->quoted = true;
    t->s = p->unescaped + p->unescaped_len;
    t->len = 0;
    for (uint32_t j = start + 1; j < len; j++) {
        unsigned char c = (unsigned char)line[j];
        if (c == '"') {
            *i = j + 1;
            if (*i < len && line[*i] != ' ' && line[*i] != '\t' && line[*i] != '#')
                return scn_fail_col(p, *i + 1, "expected a space after the closing quote");
            return true;
        }
        if (c == '\\') {
            if (j + 1 >= len || (line[j + 1] != '"' && line[j + 1] != '\\'))
                return scn_fail_col(p, j + 1, "expected \\\" or \\\\ after a backslash in quoted text");
            c = (unsigned char)line[++j];
        } else if (c < 0x20 || c == 0x7f) {
            return scn_fail_col(p, j + 1, "expected printable text inside quotes");
        }
        p->unescaped[p->unescaped_len++] = (char)c;
        t->len++;
    }
    return scn_fail_col(p, start + 1, "expected a closing quote for this quoted text");
}

bool scn_tokenize(scn_parser *p, const char *line, uint32_t len)
{
    p->ntok = 0;
    p->pos = 0;
    p->unescaped_len = 0;
    p->eol_col = 1;
    if (len > RF_SCN_LINE_MAX)
        return scn_fail_col(p, RF_SCN_LINE_MAX + 1, "expected a line of at most %u bytes",
                            RF_SCN_LINE_MAX);
    uint32_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)line[i];
        if (c == ' ' || c == '\t') {
            i++;
            continue;
        }
        if (c == '#')
            break; /* a comment runs to the end of the line */
        if (p->ntok == RF_SCN_TOKENS_MAX)
            return scn_fail_col(p, i + 1, "expected at most %u words on a line", RF_SCN_TOKENS_MAX);
        scn_tok *t = &p->toks[p->ntok];
        t->col = i + 1;
        if (c == '"') {
            if (!read_quoted(p, line, len, &i, t))
                return false;
        } else {
            t->quoted = false;
            t->s = line + i;
            while (i < len && word_byte((unsigned char)line[i]))
                i++;
            t->len = (uint32_t)(line + i - t->s);
            if (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '#') {
                unsigned char b = (unsigned char)line[i];
                if (b == '"')
                    return scn_fail_col(p, i + 1, "expected a space before the opening quote");
                return scn_fail_col(p, i + 1,
                                    "expected printable ASCII outside quotes and comments (byte 0x%02x)",
                                    b);
            }
        }
        p->ntok++;
        p->eol_col = i + 1;
    }
    /* Control bytes in a comment are still refused: they hide text. */
    for (; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return scn_fail_col(p, i + 1, "expected printable text in a comment (byte 0x%02x)", c);
    }
    return true;
}

/* ---- cursor ---- */

const scn_tok *scn_peek(const scn_parser *p)
{
    return p->pos < p->ntok ? &p->toks[p->pos] : NULL;
}

bool scn_at_end(const scn_parser *p)
{
    return p->pos >= p->ntok;
}

bool scn_tok_eq(const scn_tok *t, const char *word)
{
    size_t n = strlen(word);
    return t != NULL && !t->quoted && t->len == n && memcmp(t->s, word, n) == 0;
}

bool scn_is(const scn_parser *p, const char *word)
{
    return scn_tok_eq(scn_peek(p), word);
}

bool scn_accept(scn_parser *p, const char *word)
{
    if (!scn_is(p, word))
        return false;
    p->pos++;
    return true;
}

bool scn_expect_word(scn_parser *p, const char *word, const char *what)
{
    if (scn_accept(p, word))
        return true;
    return scn_fail(p, "expected `%s`%s%s", word, what[0] ? " " : "", what);
}

bool scn_expect_end(scn_parser *p)
{
    if (scn_at_end(p))
        return true;
    return scn_fail(p, "expected the end of the line");
}

/* ---- numbers ---- */

/* Reads decimal digits at s[*i..]: at least one, no overflow. */
static bool digits(const char *s, uint32_t len, uint32_t *i, uint64_t *v, uint32_t *count)
{
    *v = 0;
    *count = 0;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        uint64_t d = (uint64_t)(s[*i] - '0');
        if (*v > (UINT64_MAX - d) / 10)
            return false;
        *v = *v * 10 + d;
        (*i)++;
        (*count)++;
    }
    return *count > 0;
}

static const struct {
    const char *unit;
    uint64_t ns;
} units[] = {{"h", 3600000000000ull}, {"m", 60000000000ull}, {"s", 1000000000ull},
             {"ms", 1000000ull},       {"us", 1000ull},        {"ns", 1ull}};

static bool parse_duration(const char *s, uint32_t len, uint64_t *ns)
{
    uint32_t i = 0, nd, fd = 0;
    uint64_t whole, frac = 0;
    if (!digits(s, len, &i, &whole, &nd))
        return false;
    if (i < len && s[i] == '.') {
        i++;
        if (!digits(s, len, &i, &frac, &fd) || fd > 9)
            return false;
    }
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t ul = strlen(units[u].unit);
        if (len - i != ul || memcmp(s + i, units[u].unit, ul) != 0)
            continue;
        uint64_t scale = 1;
        for (uint32_t k = 0; k < fd; k++)
            scale *= 10;
        if (whole > RF_SCN_TIME_NS_MAX / units[u].ns)
            return false;
        /* frac < 10^9 and unit <= 3.6e12, so the product fits in 64 bits
         * only after dividing: split the unit instead. */
        uint64_t part = (units[u].ns / scale) * frac;
        if ((units[u].ns % scale) != 0 && (frac * (units[u].ns % scale)) % scale != 0)
            return false; /* not a whole number of nanoseconds */
        part += frac * (units[u].ns % scale) / scale;
        *ns = whole * units[u].ns + part;
        return *ns <= RF_SCN_TIME_NS_MAX;
    }
    return false;
}

static const char dur_msg[] = "expected a duration such as 5s or 200ms (units ns, us, ms, s, m, h)";

bool scn_read_duration(scn_parser *p, uint64_t *ns, bool allow_zero)
{
    const scn_tok *t = scn_peek(p);
    if (t == NULL || t->quoted || !parse_duration(t->s, t->len, ns))
        return scn_fail(p, "%s", dur_msg);
    if (!allow_zero && *ns == 0)
        return scn_fail(p, "expected a duration greater than zero");
    p->pos++;
    return true;
}

bool scn_read_range(scn_parser *p, rf_scn_range *r, bool allow_zero)
{
    const scn_tok *t = scn_peek(p);
    if (t == NULL || t->quoted)
        return scn_fail(p, "%s", dur_msg);
    const char *dots = NULL;
    for (uint32_t i = 0; i + 1 < t->len; i++)
        if (t->s[i] == '.' && t->s[i + 1] == '.') {
            dots = t->s + i;
            break;
        }
    if (dots == NULL) {
        if (!scn_read_duration(p, &r->lo, allow_zero))
            return false;
        r->hi = r->lo;
        return true;
    }
    uint32_t first = (uint32_t)(dots - t->s);
    if (!parse_duration(t->s, first, &r->lo))
        return scn_fail(p, "expected a duration range such as 1s..5s");
    if (!parse_duration(dots + 2, t->len - first - 2, &r->hi))
        return scn_fail_col(p, t->col + first + 2, "expected a duration after `..`, such as 1s..5s");
    if (r->hi < r->lo)
        return scn_fail(p, "expected a range whose end is not before its start");
    if (!allow_zero && r->lo == 0)
        return scn_fail(p, "expected a duration greater than zero");
    p->pos++;
    return true;
}

bool scn_read_percent(scn_parser *p, uint32_t *ppm)
{
    const scn_tok *t = scn_peek(p);
    uint32_t i = 0, nd, fd = 0;
    uint64_t whole = 0, frac = 0;
    bool ok = t != NULL && !t->quoted && digits(t->s, t->len, &i, &whole, &nd);
    if (ok && i < t->len && t->s[i] == '.') {
        i++;
        ok = digits(t->s, t->len, &i, &frac, &fd) && fd <= 4;
    }
    ok = ok && i + 1 == t->len && t->s[i] == '%' && whole <= 100;
    if (!ok)
        return scn_fail(p, "expected a percentage such as 5%% or 0.25%% (at most 4 decimals)");
    for (uint32_t k = fd; k < 4; k++)
        frac *= 10;
    uint64_t v = whole * 10000 + frac;
    if (v > RF_SCN_PPM_ONE)
        return scn_fail(p, "expected a percentage of at most 100%%");
    *ppm = (uint32_t)v;
    p->pos++;
    return true;
}

bool scn_read_uint(scn_parser *p, uint64_t lo, uint64_t hi, uint64_t *v)
{
    const scn_tok *t = scn_peek(p);
    uint32_t i = 0, nd;
    if (t == NULL || t->quoted || !digits(t->s, t->len, &i, v, &nd) || i != t->len || *v < lo ||
        *v > hi)
        return scn_fail(p, "expected a whole number from %llu to %llu", (unsigned long long)lo,
                        (unsigned long long)hi);
    p->pos++;
    return true;
}

bool scn_read_rate(scn_parser *p, uint32_t *count, uint64_t *per_ns)
{
    const scn_tok *t = scn_peek(p);
    uint32_t i = 0, nd;
    uint64_t v;
    bool ok = t != NULL && !t->quoted && digits(t->s, t->len, &i, &v, &nd) && v >= 1 &&
              v <= RF_SCN_RATE_MAX && i + 2 == t->len && t->s[i] == '/';
    if (ok && t->s[i + 1] == 's')
        *per_ns = 1000000000ull;
    else if (ok && t->s[i + 1] == 'm')
        *per_ns = 60000000000ull;
    else if (ok && t->s[i + 1] == 'h')
        *per_ns = 3600000000000ull;
    else
        return scn_fail(p, "expected a rate such as 10/s, 30/m or 100/h (1 to %u)", RF_SCN_RATE_MAX);
    *count = (uint32_t)v;
    p->pos++;
    return true;
}

bool scn_read_drift(scn_parser *p, int32_t *ppm)
{
    const scn_tok *t = scn_peek(p);
    uint32_t i = 0, nd;
    uint64_t v = 0;
    bool neg = false;
    bool ok = t != NULL && !t->quoted && t->len > 0;
    if (ok && (t->s[0] == '+' || t->s[0] == '-')) {
        neg = t->s[0] == '-';
        i = 1;
    }
    ok = ok && digits(t->s, t->len, &i, &v, &nd) && i + 3 == t->len &&
         memcmp(t->s + i, "ppm", 3) == 0 && v <= RF_SCN_DRIFT_PPM_MAX;
    if (!ok)
        return scn_fail(p, "expected a clock drift such as +200ppm or -50ppm (at most %d)",
                        RF_SCN_DRIFT_PPM_MAX);
    *ppm = neg ? -(int32_t)v : (int32_t)v;
    p->pos++;
    return true;
}

/* ---- names ---- */

static bool node_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '@' || c == '-';
}

static bool lower_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool group_byte(char c)
{
    return node_byte(c) || c == ':' || c == '/';
}

bool scn_read_name(scn_parser *p, char *out, const char *what)
{
    const scn_tok *t = scn_peek(p);
    bool ok = t != NULL && !t->quoted && t->len >= 1 && t->len <= RF_SCN_NAME_MAX;
    for (uint32_t i = 0; ok && i < t->len; i++)
        ok = node_byte(t->s[i]);
    if (!ok)
        return scn_fail(p, "expected %s (1 to %u of A-Z a-z 0-9 . _ @ -)", what, RF_SCN_NAME_MAX);
    memcpy(out, t->s, t->len);
    out[t->len] = '\0';
    p->pos++;
    return true;
}

static bool read_lower(scn_parser *p, char *out, uint32_t max, const char *what)
{
    const scn_tok *t = scn_peek(p);
    bool ok = t != NULL && !t->quoted && t->len >= 1 && t->len <= max && t->s[0] >= 'a' &&
              t->s[0] <= 'z';
    for (uint32_t i = 0; ok && i < t->len; i++)
        ok = lower_byte(t->s[i]);
    if (!ok)
        return scn_fail(p, "expected %s (a-z first, then a-z 0-9 _ -, at most %u)", what, max);
    memcpy(out, t->s, t->len);
    out[t->len] = '\0';
    p->pos++;
    return true;
}

bool scn_read_label(scn_parser *p, char *out)
{
    return read_lower(p, out, RF_SCN_LABEL_MAX, "a label");
}

bool scn_read_model(scn_parser *p, char *out)
{
    return read_lower(p, out, RF_SCN_MODEL_MAX, "a data model name such as int or kv");
}

bool scn_read_text(scn_parser *p, char *out, const char *what)
{
    const scn_tok *t = scn_peek(p);
    if (t == NULL || t->len > RF_SCN_OP_MAX)
        return scn_fail(p, "expected %s: a word or \"quoted text\" of at most %u bytes", what,
                        RF_SCN_OP_MAX);
    if (memchr(t->s, '\0', t->len) != NULL)
        return scn_fail(p, "expected %s without NUL bytes", what);
    memcpy(out, t->s, t->len);
    out[t->len] = '\0';
    p->pos++;
    return true;
}

/* A number in a range: no sign, no leading zero (so names stay unique). */
static bool range_number(const char *s, uint32_t len, uint32_t *v)
{
    if (len == 0 || len > 9 || (len > 1 && s[0] == '0'))
        return false;
    *v = 0;
    for (uint32_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (uint32_t)(s[i] - '0');
    }
    return true;
}

static uint32_t decimal_width(uint32_t v)
{
    uint32_t w = 1;
    while (v >= 10) {
        v /= 10;
        w++;
    }
    return w;
}

bool scn_read_pattern(scn_parser *p, rf_scn_pattern *pat, bool allow_range)
{
    static const char what[] = "expected a group name (A-Z a-z 0-9 . _ @ - : /)";
    const scn_tok *t = scn_peek(p);
    memset(pat, 0, sizeof *pat);
    if (t == NULL || t->quoted || t->len == 0)
        return scn_fail(p, "%s", what);
    const char *open = memchr(t->s, '{', t->len);
    uint32_t pre = open != NULL ? (uint32_t)(open - t->s) : t->len;
    for (uint32_t i = 0; i < pre; i++)
        if (!group_byte(t->s[i]))
            return scn_fail_col(p, t->col + i, "%s", what);
    if (open == NULL) {
        if (t->len > RF_SCN_GROUP_NAME_MAX)
            return scn_fail(p, "expected a group name of at most %u bytes", RF_SCN_GROUP_NAME_MAX);
        memcpy(pat->prefix, t->s, t->len);
        p->pos++;
        return true;
    }
    if (!allow_range)
        return scn_fail_col(p, t->col + pre, "expected one group name here, not a range");
    const char *close = memchr(open, '}', t->len - pre);
    const char *dots = NULL;
    for (const char *c = open + 1; close != NULL && c + 1 < close; c++)
        if (c[0] == '.' && c[1] == '.') {
            dots = c;
            break;
        }
    if (close == NULL || dots == NULL ||
        !range_number(open + 1, (uint32_t)(dots - open - 1), &pat->lo) ||
        !range_number(dots + 2, (uint32_t)(close - dots - 2), &pat->hi))
        return scn_fail_col(p, t->col + pre, "expected a range such as {1..100} in the name");
    if (pat->hi < pat->lo)
        return scn_fail_col(p, t->col + pre, "expected a range whose end is not before its start");
    if (pat->hi - pat->lo >= RF_SCN_GROUPS_MAX)
        return scn_fail_col(p, t->col + pre, "expected a range of at most %u names",
                            RF_SCN_GROUPS_MAX);
    uint32_t suf = (uint32_t)(t->s + t->len - close - 1);
    for (uint32_t i = 0; i < suf; i++)
        if (!group_byte(close[1 + i]))
            return scn_fail_col(p, t->col + (uint32_t)(close + 1 - t->s) + i, "%s", what);
    if (pre + suf + decimal_width(pat->hi) > RF_SCN_GROUP_NAME_MAX)
        return scn_fail(p, "expected group names of at most %u bytes", RF_SCN_GROUP_NAME_MAX);
    memcpy(pat->prefix, t->s, pre);
    memcpy(pat->suffix, close + 1, suf);
    pat->is_range = true;
    p->pos++;
    return true;
}

/* ---- canonical spellings ---- */

void scn_format_duration(uint64_t ns, char *buf, size_t cap)
{
    if (ns == 0) {
        snprintf(buf, cap, "0s");
        return;
    }
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        if (ns % units[u].ns == 0) {
            snprintf(buf, cap, "%llu%s", (unsigned long long)(ns / units[u].ns), units[u].unit);
            return;
        }
    }
}

void scn_format_percent(uint32_t ppm, char *buf, size_t cap)
{
    uint32_t whole = ppm / 10000, frac = ppm % 10000;
    if (frac == 0) {
        snprintf(buf, cap, "%u%%", whole);
        return;
    }
    char f[8];
    snprintf(f, sizeof f, "%04u", frac);
    size_t n = strlen(f);
    while (n > 0 && f[n - 1] == '0')
        f[--n] = '\0';
    snprintf(buf, cap, "%u.%s%%", whole, f);
}

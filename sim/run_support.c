/* sim/run_support: refuses, with file:line:column, the directives the runner cannot execute yet. */
#include <stdio.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/run_int.h"

/* The tree keeps no positions, so they are found again in the text: the
 * parser stores timeline lines in file order, so event i is the i-th line
 * whose first word is `at` or `every`. Within a line the column is that of
 * the first bare word equal to keyword (the line's first word when keyword
 * is NULL or absent). */

typedef struct line_view {
    const char *s;
    size_t len;
    uint32_t line;
} line_view;

static bool next_line(const char *text, size_t text_len, size_t *pos, line_view *lv)
{
    if (*pos >= text_len)
        return false;
    size_t start = *pos, end = start;
    while (end < text_len && text[end] != '\n')
        end++;
    lv->s = text + start;
    lv->len = end - start;
    lv->line++;
    *pos = end < text_len ? end + 1 : end;
    return true;
}

/* Column (1-based) of the k-th bare word of the line equal to word, or of
 * the first word when word is NULL; 0 when absent. Quoted text and
 * comments are skipped. */
static uint32_t word_col(const line_view *lv, const char *word, uint32_t *first_col)
{
    size_t i = 0;
    *first_col = 0;
    while (i < lv->len) {
        while (i < lv->len && (lv->s[i] == ' ' || lv->s[i] == '\t' || lv->s[i] == '\r'))
            i++;
        if (i >= lv->len || lv->s[i] == '#')
            break;
        size_t b = i;
        if (lv->s[i] == '"') {
            for (i++; i < lv->len && lv->s[i] != '"'; i++)
                if (lv->s[i] == '\\')
                    i++;
            i++;
            continue;
        }
        while (i < lv->len && lv->s[i] != ' ' && lv->s[i] != '\t' && lv->s[i] != '\r')
            i++;
        if (*first_col == 0)
            *first_col = (uint32_t)b + 1;
        if (word != NULL && strlen(word) == i - b && memcmp(lv->s + b, word, i - b) == 0)
            return (uint32_t)b + 1;
    }
    return 0;
}

static bool first_word_is(const line_view *lv, const char *w)
{
    size_t i = 0, n = strlen(w);
    while (i < lv->len && (lv->s[i] == ' ' || lv->s[i] == '\t'))
        i++;
    return lv->len - i >= n && memcmp(lv->s + i, w, n) == 0 &&
           (lv->len - i == n || lv->s[i + n] == ' ' || lv->s[i + n] == '\t');
}

static bool plural_is(const line_view *lv, const char *w)
{
    char p[32];
    snprintf(p, sizeof p, "%ss", w);
    return first_word_is(lv, p);
}

/* The position of event (>= 0) or of the first line starting with
 * `directive` (event < 0 and directive passed as keyword's line). */
static void find_pos(const rf_sim_runner *r, int event, const char *directive,
                     const char *keyword, uint32_t *line, uint32_t *col)
{
    size_t pos = 0;
    line_view lv = {0};
    int seen = 0;
    *line = 0;
    *col = 0;
    while (next_line(r->text, r->text_len, &pos, &lv)) {
        bool hit;
        if (event >= 0)
            hit = (first_word_is(&lv, "at") || first_word_is(&lv, "every")) && seen++ == event;
        else
            hit = (first_word_is(&lv, directive) || plural_is(&lv, directive)) &&
                  (keyword == NULL || word_col(&lv, keyword, col) != 0);
        if (!hit)
            continue;
        uint32_t first;
        uint32_t c = word_col(&lv, keyword, &first);
        *line = lv.line;
        *col = c != 0 ? c : first;
        return;
    }
}

static int vfail_at(rf_sim_runner *r, uint32_t line, uint32_t col, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    snprintf(r->res->error, sizeof r->res->error, "%s:%u:%u: %s", r->path, line, col, msg);
    r->res->exit_code = RF_SIM_RUN_EXIT_USAGE;
    return RF_ESCENARIO;
}

int run_scenario_error(rf_sim_runner *r, int event, const char *keyword, const char *fmt, ...)
{
    uint32_t line, col;
    find_pos(r, event, NULL, keyword, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail_at(r, line, col, fmt, ap);
    va_end(ap);
    return rc;
}

static int directive_error(rf_sim_runner *r, const char *directive, const char *keyword,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int directive_error(rf_sim_runner *r, const char *directive, const char *keyword,
                           const char *fmt, ...)
{
    uint32_t line, col;
    find_pos(r, -1, directive, keyword, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail_at(r, line, col, fmt, ap);
    va_end(ap);
    return rc;
}

#define NOT_YET "not supported yet by fleet-sim run"

int run_check_support(rf_sim_runner *r)
{
    const rf_scenario *s = r->scn;
    if (s->node_count > RF_SIM_NODES_MAX)
        return directive_error(r, "nodes", NULL,
                               "more than %d nodes: " NOT_YET, RF_SIM_NODES_MAX);
    for (uint32_t g = 0; g < s->group_count; g++)
        if (run_model(r, s->groups[g].model) == NULL)
            return directive_error(r, "group", s->groups[g].model,
                                   "a known model: %s is neither built in nor loaded with "
                                   "--model-lib",
                                   s->groups[g].model);
    for (uint32_t i = 0; i < s->event_count; i++)
        if (s->events[i].kind == RF_SCN_EV_ADD_GROUP &&
            run_model(r, s->events[i].group.model) == NULL)
            return run_scenario_error(r, (int)i, s->events[i].group.model,
                                      "a known model: %s is neither built in nor loaded with "
                                      "--model-lib",
                                      s->events[i].group.model);
    return RF_OK;
}

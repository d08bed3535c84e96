/* rpt_timeline: the leader timeline of every group, written directly as SVG. */
#include "reports/rpt_timeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"

/* Geometry, in SVG user units (pixels). */
enum {
    TL_LEFT = 130,   /* room for group names */
    TL_WIDTH = 940,  /* the time axis */
    TL_RIGHT = 20,
    TL_TOP = 46,     /* room for node event labels */
    TL_STRIP = 40,   /* the "groups with a leader" strip above the rows */
    TL_ROW = 16,
    TL_ROW_GAP = 4,
    TL_AXIS = 34,
    TL_LEGEND = 24,
    TL_LABEL_SPACING_MIN = 60, /* between two event labels */
};

/* Twelve colours that stay distinct side by side (ColorBrewer Paired). */
static const char *const palette[] = {"#1f78b4", "#33a02c", "#e31a1c", "#ff7f00",
                                      "#6a3d9a", "#b15928", "#a6cee3", "#b2df8a",
                                      "#fb9a99", "#fdbf6f", "#cab2d6", "#8dd3c7"};

const char *rpt_node_color(size_t i)
{
    return palette[i % (sizeof palette / sizeof palette[0])];
}

static double tl_x(const rpt_run *run, int64_t t_ns)
{
    int64_t end = run->end_ns > 0 ? run->end_ns : 1;
    if (t_ns < 0)
        t_ns = 0;
    if (t_ns > end)
        t_ns = end;
    return TL_LEFT + (double)TL_WIDTH * (double)t_ns / (double)end;
}

static const char *node_name(const rpt_run *run, int64_t node_id, char *buf, size_t len)
{
    int ni = rpt_node_index(run, node_id);
    if (ni >= 0)
        return run->nodes[ni].name;
    snprintf(buf, len, "node %" PRId64, node_id);
    return buf;
}

static void span_title(rpt_buf *b, int64_t from_ns, int64_t to_ns)
{
    rpt_buf_dur(b, from_ns);
    rpt_buf_puts(b, " to ");
    rpt_buf_dur(b, to_ns);
}

/* One bar of a group's row: [from, to) led by leader (RPT_NONE: a gap). */
static void tl_segment(rpt_buf *b, const rpt_run *run, const rpt_group *g, double y,
                       int64_t from_ns, int64_t to_ns, int64_t leader, int64_t term)
{
    if (to_ns <= from_ns)
        return;
    double x0 = tl_x(run, from_ns), x1 = tl_x(run, to_ns);
    char nb[32];
    if (leader == RPT_NONE) {
        rpt_buf_printf(b, "<rect class=\"gap\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                          "height=\"%d\" fill=\"url(#gap-hatch)\" stroke=\"#bd0026\" "
                          "stroke-width=\"0.5\"><title>", x0, y, x1 - x0, TL_ROW);
        rpt_buf_esc(b, g->name);
        rpt_buf_puts(b, ": no leader, ");
    } else {
        int ni = rpt_node_index(run, leader);
        rpt_buf_printf(b, "<rect class=\"lead\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                          "height=\"%d\" fill=\"%s\"><title>", x0, y, x1 - x0, TL_ROW,
                       rpt_node_color(ni < 0 ? 0 : (size_t)ni));
        rpt_buf_esc(b, g->name);
        rpt_buf_puts(b, ": ");
        rpt_buf_esc(b, node_name(run, leader, nb, sizeof nb));
        rpt_buf_printf(b, " leads (term %" PRId64 "), ", term);
    }
    span_title(b, from_ns, to_ns);
    rpt_buf_puts(b, "</title></rect>\n");
    if (leader != RPT_NONE && x1 - x0 >= 28) {
        rpt_buf_printf(b, "<text x=\"%.2f\" y=\"%.2f\" class=\"lead-label\">", x0 + 3,
                       y + TL_ROW - 4);
        rpt_buf_esc(b, node_name(run, leader, nb, sizeof nb));
        rpt_buf_puts(b, "</text>\n");
    }
}

static void tl_row(rpt_buf *b, const rpt_run *run, const rpt_group *g, double y)
{
    rpt_buf_printf(b, "<text x=\"%d\" y=\"%.2f\" text-anchor=\"end\" class=\"row-label\">",
                   TL_LEFT - 6, y + TL_ROW - 4);
    rpt_buf_esc(b, g->name);
    rpt_buf_puts(b, "</text>\n");
    /* Before its first record a group has no leader (history.sql). */
    int64_t from = 0, leader = RPT_NONE, term = 0;
    for (size_t i = 0; i < g->leaders_n; i++) {
        const rpt_leader *l = &run->leaders[g->leaders_first + i];
        ASSERT(l->group_id == g->id);
        if (l->t_ns > run->end_ns)
            break;
        tl_segment(b, run, g, y, from, l->t_ns, leader, term);
        from = l->t_ns;
        leader = l->leader_id;
        term = l->term;
    }
    tl_segment(b, run, g, y, from, run->end_ns, leader, term);
}

/* A tick step of 1, 2 or 5 times a power of ten giving about 8 ticks. */
static int64_t tick_step(int64_t end_ns)
{
    int64_t step = 1;
    while (end_ns / step > 8) {
        if (end_ns / (step * 2) <= 8)
            return step * 2;
        if (end_ns / (step * 5) <= 8)
            return step * 5;
        step *= 10;
    }
    return step;
}

static void tl_axis(rpt_buf *b, const rpt_run *run, double y)
{
    rpt_buf_printf(b, "<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" stroke=\"#333\"/>\n",
                   TL_LEFT, y, TL_LEFT + TL_WIDTH, y);
    int64_t end = run->end_ns > 0 ? run->end_ns : 1;
    int64_t step = tick_step(end);
    for (int64_t t = 0; t <= end; t += step) {
        double x = tl_x(run, t);
        rpt_buf_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                          "stroke=\"#333\"/><text x=\"%.2f\" y=\"%.2f\" "
                          "text-anchor=\"middle\" class=\"tick\">",
                       x, y, x, y + 5, x, y + 17);
        rpt_buf_dur(b, t);
        rpt_buf_puts(b, "</text>\n");
    }
}

static void tl_overlays(rpt_buf *b, const rpt_run *run, double span_h)
{
    for (size_t i = 0; i < run->faults_n; i++) {
        const rpt_fault *f = &run->faults[i];
        int64_t end = f->end_ns == RPT_NONE ? run->end_ns : f->end_ns;
        double x0 = tl_x(run, f->start_ns), x1 = tl_x(run, end);
        rpt_buf_printf(b, "<rect class=\"fault\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
                          "height=\"%.2f\" fill=\"#fdae61\" fill-opacity=\"0.3\" "
                          "stroke=\"#f46d43\" stroke-dasharray=\"4 2\"><title>",
                       x0, TL_TOP, x1 - x0 < 1 ? 1 : x1 - x0, span_h);
        rpt_buf_esc(b, f->kind);
        rpt_buf_puts(b, " ");
        rpt_buf_esc(b, f->targets);
        rpt_buf_puts(b, ": ");
        span_title(b, f->start_ns, end);
        rpt_buf_puts(b, "</title></rect>\n");
        rpt_buf_printf(b, "<text x=\"%.2f\" y=\"%.2f\" class=\"fault-label\">", x0 + 2,
                       (double)TL_TOP + 10);
        rpt_buf_esc(b, f->kind);
        rpt_buf_puts(b, " ");
        rpt_buf_esc(b, f->targets);
        rpt_buf_puts(b, "</text>\n");
    }
    double last_label_x = -1e9;
    for (size_t i = 0; i < run->events_n; i++) {
        const rpt_event *e = &run->events[i];
        double x = tl_x(run, e->t_ns);
        char nb[32];
        const char *who = node_name(run, e->node_id, nb, sizeof nb);
        rpt_buf_printf(b, "<line class=\"event\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" "
                          "y2=\"%.2f\" stroke=\"#252525\" stroke-width=\"1.5\"><title>",
                       x, TL_TOP - 8, x, TL_TOP + span_h);
        rpt_buf_esc(b, who);
        rpt_buf_puts(b, " ");
        rpt_buf_esc(b, e->kind);
        rpt_buf_puts(b, " at ");
        rpt_buf_dur(b, e->t_ns);
        rpt_buf_puts(b, "</title></line>\n");
        if (x - last_label_x >= TL_LABEL_SPACING_MIN) {
            rpt_buf_printf(b, "<text x=\"%.2f\" y=\"%d\" class=\"event-label\" "
                              "text-anchor=\"middle\">", x, TL_TOP - 12);
            rpt_buf_esc(b, who);
            rpt_buf_puts(b, " ");
            rpt_buf_esc(b, e->kind);
            rpt_buf_puts(b, "</text>\n");
            last_label_x = x;
        }
    }
}

static void tl_legend(rpt_buf *b, const rpt_run *run, double y)
{
    double x = TL_LEFT;
    for (size_t i = 0; i < run->nodes_n && x < TL_LEFT + TL_WIDTH - 60; i++) {
        rpt_buf_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"12\" height=\"12\" "
                          "fill=\"%s\"/><text x=\"%.2f\" y=\"%.2f\" class=\"legend\">",
                       x, y, rpt_node_color(i), x + 16, y + 10);
        rpt_buf_esc(b, run->nodes[i].name);
        rpt_buf_puts(b, "</text>\n");
        x += 70;
    }
    rpt_buf_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"12\" height=\"12\" "
                      "fill=\"url(#gap-hatch)\" stroke=\"#bd0026\" stroke-width=\"0.5\"/>"
                      "<text x=\"%.2f\" y=\"%.2f\" class=\"legend\">no leader</text>\n",
                   x, y, x + 16, y + 10);
}

/* One step of the count of groups with a leader. */
typedef struct {
    int64_t t_ns;
    int delta; /* +1: a group gained a leader, -1: lost it */
} tl_step;

static int step_cmp(const void *a, const void *b)
{
    const tl_step *x = a, *y = b;
    if (x->t_ns != y->t_ns)
        return x->t_ns < y->t_ns ? -1 : 1;
    return x->delta - y->delta; /* losses first: the count's low point shows */
}

/* Every change of led/leaderless of every group (not only the drawn rows),
 * in time order. Returns the count, or -1 when out of memory. */
static long tl_steps(const rpt_run *run, tl_step **out)
{
    *out = malloc((run->leaders_n + 1) * sizeof **out);
    if (*out == NULL)
        return -1;
    size_t n = 0;
    for (size_t g = 0; g < run->groups_n; g++) {
        const rpt_group *grp = &run->groups[g];
        int led = 0;
        for (size_t i = 0; i < grp->leaders_n; i++) {
            const rpt_leader *l = &run->leaders[grp->leaders_first + i];
            int now = l->leader_id != RPT_NONE;
            if (now != led && l->t_ns <= run->end_ns)
                (*out)[n++] = (tl_step){l->t_ns, now ? 1 : -1};
            led = now;
        }
    }
    qsort(*out, n, sizeof **out, step_cmp);
    return (long)n;
}

/* The count of groups with a leader over time, as a step line, and its low
 * point once every group had first been led. */
static int tl_strip(rpt_buf *b, const rpt_run *run)
{
    tl_step *steps = NULL;
    long n = tl_steps(run, &steps);
    if (n < 0)
        return RF_ENOMEM;
    double total = run->groups_n ? (double)run->groups_n : 1;
    double base = TL_TOP + TL_STRIP - 4, h = TL_STRIP - 10;
    rpt_buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f7f7f7\"/>\n"
                      "<text x=\"%d\" y=\"%.2f\" text-anchor=\"end\" class=\"strip-label\">"
                      "groups led</text>\n<path class=\"led-count\" fill=\"none\" "
                      "stroke=\"#2171b5\" stroke-width=\"1.5\" d=\"M%.2f %.2f",
                   TL_LEFT, TL_TOP, TL_WIDTH, TL_STRIP - 2, TL_LEFT - 6, base - 2,
                   tl_x(run, 0), base);
    long count = 0, low = -1;
    int all_led_once = 0;
    int64_t low_t = 0;
    for (long i = 0; i < n; i++) {
        count += steps[i].delta;
        rpt_buf_printf(b, " H%.2f V%.2f", tl_x(run, steps[i].t_ns),
                       base - h * (double)count / total);
        if (count == (long)run->groups_n)
            all_led_once = 1;
        else if (all_led_once && (low < 0 || count < low)) {
            low = count;
            low_t = steps[i].t_ns;
        }
    }
    rpt_buf_printf(b, " H%.2f\"><title>groups with a leader, out of %zu", tl_x(run, run->end_ns),
                   run->groups_n);
    if (low >= 0) {
        rpt_buf_printf(b, "; lowest %ld of %zu after all were first led, at ", low,
                       run->groups_n);
        rpt_buf_dur(b, low_t);
    }
    rpt_buf_puts(b, "</title></path>\n");
    free(steps);
    return RF_OK;
}

/* Which groups get a row: all of them, or past RPT_TIMELINE_ROWS_MAX the
 * least available ones (ties: lower id), drawn in id order. Fills
 * pick[0..n); returns n, or 0 when out of memory with groups to draw. */
static const rpt_run *avail_run; /* qsort has no context argument */

static int by_availability(const void *a, const void *b)
{
    const rpt_group *x = &avail_run->groups[*(const size_t *)a];
    const rpt_group *y = &avail_run->groups[*(const size_t *)b];
    if (x->availability != y->availability)
        return x->availability < y->availability ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int by_index(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static size_t pick_rows(const rpt_run *run, size_t **pick)
{
    *pick = malloc((run->groups_n + 1) * sizeof **pick);
    if (*pick == NULL)
        return 0;
    for (size_t i = 0; i < run->groups_n; i++)
        (*pick)[i] = i;
    if (run->groups_n <= RPT_TIMELINE_ROWS_MAX)
        return run->groups_n;
    avail_run = run;
    qsort(*pick, run->groups_n, sizeof **pick, by_availability);
    avail_run = NULL;
    qsort(*pick, RPT_TIMELINE_ROWS_MAX, sizeof **pick, by_index);
    return RPT_TIMELINE_ROWS_MAX;
}

int rpt_timeline_svg(const rpt_run *run, rpt_buf *out)
{
    size_t *pick = NULL;
    size_t rows = pick_rows(run, &pick);
    if (pick == NULL)
        return RF_ENOMEM;
    double rows_h = (double)rows * (TL_ROW + TL_ROW_GAP);
    double span_h = TL_STRIP + rows_h; /* strip and rows share the overlays */
    int note = run->groups_n > rows;
    double height = TL_TOP + span_h + TL_AXIS + TL_LEGEND + (note ? 18 : 0);
    rpt_buf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" "
                        "width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
                        "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n",
                   TL_LEFT + TL_WIDTH + TL_RIGHT, height, TL_LEFT + TL_WIDTH + TL_RIGHT,
                   height);
    rpt_buf_puts(out, "<defs><pattern id=\"gap-hatch\" width=\"6\" height=\"6\" "
                      "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
                      "<rect width=\"6\" height=\"6\" fill=\"#fee0d2\"/>"
                      "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#de2d26\" "
                      "stroke-width=\"2\"/></pattern></defs>\n"
                      "<style>.lead-label{fill:#fff;font-size:9px}"
                      ".event-label{font-size:9px}.fault-label{font-size:9px;fill:#a63603}"
                      ".tick{font-size:10px}</style>\n");
    for (size_t i = 0; i < rows; i++)
        tl_row(out, run, &run->groups[pick[i]],
               TL_TOP + TL_STRIP + (double)i * (TL_ROW + TL_ROW_GAP));
    int rc = tl_strip(out, run);
    tl_overlays(out, run, span_h);
    tl_axis(out, run, TL_TOP + span_h + 4);
    tl_legend(out, run, TL_TOP + span_h + TL_AXIS);
    if (note)
        rpt_buf_printf(out, "<text x=\"%d\" y=\"%.2f\" class=\"note\">%zu more groups not "
                            "drawn (the %d least available are shown)</text>\n",
                       TL_LEFT, height - 6, run->groups_n - rows, RPT_TIMELINE_ROWS_MAX);
    rpt_buf_puts(out, "</svg>\n");
    free(pick);
    return rc != RF_OK || out->failed ? RF_ENOMEM : RF_OK;
}

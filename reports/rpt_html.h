/* rpt_html: the report page (index.html): summary, graphs, timeline, rebalancing. */
#ifndef RF_REPORTS_RPT_HTML_H
#define RF_REPORTS_RPT_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "reports/rpt_buf.h"
#include "reports/rpt_data.h"

/* A placement graph written next to the page. */
typedef struct {
    char file[48];      /* "placement-001.svg" */
    size_t snapshot;    /* index into run->snapshots */
} rpt_figure;

typedef struct {
    const rpt_figure *figures;
    size_t figures_n;
    int aggregated;          /* the graphs are the aggregated view */
    const rpt_buf *timeline; /* the timeline SVG, inlined in the page */
} rpt_page;

/* Writes the whole page into out. Returns RF_OK, RF_EDB, or RF_ENOMEM. */
int rpt_html_page(const rpt_run *run, const rpt_page *page, rpt_buf *out);

#endif

/* rpt_timeline: the leader timeline of every group, written directly as SVG. */
#ifndef RF_REPORTS_RPT_TIMELINE_H
#define RF_REPORTS_RPT_TIMELINE_H

#include "reports/rpt_buf.h"
#include "reports/rpt_data.h"

/* Rows drawn. Past this, the least available groups are drawn and the
 * others counted in a note under the chart (the strip above the rows
 * counts every group). */
#define RPT_TIMELINE_ROWS_MAX 200

/* Writes one SVG document: a row per group on a shared time axis
 * [0, run end], each leader's term as a bar in the leader node's colour
 * (class "lead"), leaderless intervals hatched (class "gap"), fault
 * intervals as translucent bands across all rows (class "fault") and node
 * events as vertical lines (class "event"). Every shape has a <title>
 * tooltip. Returns RF_OK, or RF_ENOMEM when out's append failed. */
int rpt_timeline_svg(const rpt_run *run, rpt_buf *out);

/* The colour the report gives node index i (timeline bars, legend). */
const char *rpt_node_color(size_t i);

#endif

/* rpt_graph: placement graphs built with cgraph and rendered to SVG through gvc. */
#ifndef RF_REPORTS_RPT_GRAPH_H
#define RF_REPORTS_RPT_GRAPH_H

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include "reports/rpt_data.h"

/* Beyond these a placement graph stops being readable and the report draws
 * the aggregated view (members and leaders per node, per zone) instead. */
#define RPT_GRAPH_NODES_MAX 50
#define RPT_GRAPH_GROUPS_MAX 200
/* Beyond this many groups their marks in the detailed graph are compact. */
#define RPT_GRAPH_GROUPS_COLUMN_MAX 24

/* Object names in the graph, so tests and styles can find them:
 *   zone z (index into run->zones): subgraph "cluster_z<index>"
 *   node:  "n<node id>", inside its zone's cluster
 *   group: "g<group id>", in the root graph
 *   edges: group -> node, one per member, plus one per member removed since
 *          the previous snapshot.
 * Each object carries a "class" attribute (it becomes the SVG class):
 *   nodes  "node-up|down|paused|isolated|inactive|removed"
 *   groups "group", plus " off-target" when its members differ from its
 *          recorded placement target (drawn dashed, orange)
 *   edges  "member" plus " leader", " learner", " added"; or "removed". */

/* 1 when the run is too large for the detailed graph. */
int rpt_graph_aggregated(const rpt_run *run);

/* The detailed graph of placement cur; prev (NULL for the first graph) is
 * the previous snapshot, against which added and removed members are
 * highlighted. Returns NULL when out of memory. The caller agclose()s it. */
Agraph_t *rpt_graph_build(const rpt_run *run, const rpt_placement *cur,
                          const rpt_placement *prev, const char *title);

/* The aggregated view: zones as clusters, nodes labelled with their member
 * and leader counts, and with the members they gained and lost since prev
 * (NULL for the first graph; such nodes get a green border). */
Agraph_t *rpt_graph_build_aggregated(const rpt_run *run, const rpt_placement *cur,
                                     const rpt_placement *prev, const char *title);

/* The process's graphviz context, created on first use and never freed:
 * graphviz 2.43 keeps font data across contexts, and a second context after
 * gvFreeContext reads freed memory (seen under ASan). NULL when out of
 * memory. Graphviz is not thread-safe: neither is this, nor the report. */
GVC_t *rpt_gvc(void);

/* Lays g out with dot and writes it as SVG to path. RF_OK or RF_EIO. */
int rpt_graph_render(GVC_t *gvc, Agraph_t *g, const char *path);

#endif

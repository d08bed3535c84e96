/* ctl_place: fleetctl placement: FLEET.PLACEMENT's reply as a table, JSON, or a graphviz dot graph drawn by reports/rpt_graph. */
#ifndef PROD_CTL_PLACE_H
#define PROD_CTL_PLACE_H

#include <stdio.h>

#include "prod/ctl.h"

typedef enum rf_ctl_place_format {
    RF_CTL_PLACE_TABLE = 0,
    RF_CTL_PLACE_JSON,
    RF_CTL_PLACE_DOT
} rf_ctl_place_format;

/* Prints FLEET.PLACEMENT's reply r (see prod/server_views.c for its shape).
 * dot: the graph fleet-report draws for a snapshot (zones as clusters,
 * nodes as boxes, groups as ellipses with an edge to each member; leader
 * edges bold, learners dashed, a group whose members differ from its
 * target dashed orange; nodes this node cannot reach drawn as down,
 * deactivating ones as inactive), titled title. Members are the asked
 * node's view: a group it does not host has no edges.
 * Returns 0, or -1 when r does not have the reply's shape (nothing printed)
 * or the graph could not be built. */
int rf_ctl_place_print(FILE *f, const rf_ctl_reply *r, rf_ctl_place_format fmt,
                       const char *title);

#endif

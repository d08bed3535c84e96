/* rpt_queries: the report's documented queries, verbatim from sim/history.sql. */
#ifndef RF_REPORTS_RPT_QUERIES_H
#define RF_REPORTS_RPT_QUERIES_H

/* Each takes the run id as :run. */
extern const char rpt_sql_availability[]; /* group_id, name, availability (0..1 or NULL) */
extern const char rpt_sql_recovery[];     /* fault id, kind, targets, start_ns, end_ns,
                                             recovery_ns (NULL: never recovered) */
extern const char rpt_sql_moves[];        /* event id, t_ns, node_id, kind, moves_min, moves */

#endif

/* rpt_queries: the report's documented queries, verbatim from sim/history.sql. */
#include "reports/rpt_queries.h"

/* A test asserts that each of these appears, line for line, in the query
 * documentation of sim/history.sql; edit both together. */

const char rpt_sql_availability[] =
    "SELECT g.group_id, g.name,\n"
    "       COALESCE(SUM(CASE WHEN i.leader_id IS NOT NULL\n"
    "                         THEN i.until_ns - i.t_ns END), 0) * 1.0\n"
    "         / MAX(r.end_ns, 1) AS availability\n"
    "FROM groups g\n"
    "JOIN runs r ON r.id = g.run_id\n"
    "LEFT JOIN (\n"
    "  SELECT run_id, group_id, t_ns, leader_id,\n"
    "         COALESCE(LEAD(t_ns) OVER (PARTITION BY run_id, group_id\n"
    "                                   ORDER BY t_ns, id),\n"
    "                  (SELECT end_ns FROM runs WHERE id = lc.run_id)) AS until_ns\n"
    "  FROM leader_changes lc\n"
    ") i ON i.run_id = g.run_id AND i.group_id = g.group_id\n"
    "WHERE g.run_id = :run\n"
    "GROUP BY g.group_id ORDER BY g.group_id;\n";

const char rpt_sql_recovery[] =
    "WITH f AS (\n"
    "  SELECT id, kind, targets, start_ns, end_ns,\n"
    "         COALESCE(end_ns, start_ns) AS from_ns\n"
    "  FROM faults WHERE run_id = :run),\n"
    "per_group AS (\n"
    "  SELECT f.id AS fault_id, g.group_id,\n"
    "         CASE WHEN (SELECT leader_id FROM leader_changes lc\n"
    "                    WHERE lc.run_id = :run AND lc.group_id = g.group_id\n"
    "                      AND lc.t_ns <= f.from_ns\n"
    "                    ORDER BY lc.t_ns DESC, lc.id DESC LIMIT 1) IS NOT NULL\n"
    "              THEN f.from_ns\n"
    "              ELSE (SELECT MIN(lc.t_ns) FROM leader_changes lc\n"
    "                    WHERE lc.run_id = :run AND lc.group_id = g.group_id\n"
    "                      AND lc.t_ns > f.from_ns AND lc.leader_id IS NOT NULL)\n"
    "         END AS led_ns\n"
    "  FROM f CROSS JOIN groups g WHERE g.run_id = :run)\n"
    "SELECT f.id, f.kind, f.targets, f.start_ns, f.end_ns,\n"
    "       CASE WHEN COUNT(p.group_id) > COUNT(p.led_ns) THEN NULL\n"
    "            ELSE COALESCE(MAX(p.led_ns), f.from_ns) - f.from_ns\n"
    "       END AS recovery_ns\n"
    "FROM f LEFT JOIN per_group p ON p.fault_id = f.id\n"
    "GROUP BY f.id ORDER BY f.start_ns, f.id;\n";

const char rpt_sql_moves[] =
    "SELECT e.id, e.t_ns, e.node_id, e.kind, e.moves_min,\n"
    "       (SELECT COUNT(*) FROM membership_changes m\n"
    "        WHERE m.cause_id = e.id AND m.change = 'add_learner') AS moves\n"
    "FROM node_events e\n"
    "WHERE e.run_id = :run AND e.moves_min IS NOT NULL\n"
    "ORDER BY e.t_ns, e.id;\n";

/* sim/fleet_check: sim/check's Raft safety checkers run for every group of a fleet harness. */
#ifndef SIM_FLEET_CHECK_H
#define SIM_FLEET_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "fleet/rf_node.h"
#include "sim/check.h"

/* One rf_sim_check per group, created when the group first shows up on a
 * node, fed from every node's batches: election safety, log matching,
 * leader completeness, committed entries never changing and state machine
 * safety hold for every group through bootstraps, rebalancing moves,
 * removals and crashes. A member started or stopped on a node resets that
 * node's mirror of the group's log (a new member starts empty). */

#define RF_SIM_FLEET_CHECK_GROUPS_MAX 4096u

typedef struct rf_sim_fleet_check rf_sim_fleet_check;

int rf_sim_fleet_check_create(uint32_t nodes, rf_sim_fleet_check **out);

/* Node index's rf_node, its own clock now and that clock's drift rate
 * (parts per million fast); false when it is down. */
typedef bool (*rf_sim_fleet_peek)(void *ctx, uint32_t index, const rf_node **n, uint64_t *clock,
                                  int32_t *drift_ppm);
/* Turns on the leader lease check (it needs every node's member and clock). */
void rf_sim_fleet_check_peek(rf_sim_fleet_check *k, rf_sim_fleet_peek peek, void *ctx);
void rf_sim_fleet_check_close(rf_sim_fleet_check *k);

/* A batch of node index (between rf_node_ready and rf_node_advance). */
void rf_sim_fleet_check_batch(rf_sim_fleet_check *k, uint32_t index, const rf_node *n,
                              const rf_node_batch *b);
/* After the node's batches: leaders, commit indexes, last entries and
 * model digests of the groups those batches named (rf_node_batch.groups;
 * the other members had no output, so nothing compared has moved). A
 * digest is taken when the member's applied index moved since the last
 * one, or it restarted or wrote a snapshot. Cost: O(groups in the batches). */
void rf_sim_fleet_check_after(rf_sim_fleet_check *k, uint32_t index, const rf_node *n);
/* The same for every member on the node, digests always taken: a full
 * pass (the end of a run), which also catches a state that moved without
 * output. */
void rf_sim_fleet_check_sweep(rf_sim_fleet_check *k, uint32_t index, const rf_node *n);

/* Node index restarted as n (restored from its durable state): its mirror
 * of every group's log is what n holds now. */
void rf_sim_fleet_check_restart(rf_sim_fleet_check *k, uint32_t index, const rf_node *n);

/* Violations found so far, and the first one (NULL when none). O(1) while
 * there are none. */
uint64_t rf_sim_fleet_check_violations(const rf_sim_fleet_check *k,
                                       const rf_sim_violation **first);

/* Individual comparisons the checkers made (they did run). */
uint64_t rf_sim_fleet_check_count(const rf_sim_fleet_check *k);

#endif

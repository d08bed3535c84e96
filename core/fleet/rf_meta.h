/* rf_meta: the cluster-metadata data model ("fleet-meta"): nodes, groups, removed groups. */
#ifndef RF_META_H
#define RF_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/rf_model.h"
#include "placement/rf_placement.h"

/* The metadata group is a Raft group like any other whose model is
 * rf_model_fleet_meta. Its state holds:
 *  - nodes: name, zone, node id (the Raft member id of that node) and state
 *    (active, or deactivating: being drained, out of every placement);
 *  - groups: name, id (assigned here, increasing, never reused), replica
 *    count, data-model name, and the boot node: the desired leader (the
 *    placement head over the active nodes) when the group was added. Only
 *    that node bootstraps the group, with itself as the only voter, so two
 *    nodes can never start two copies of one group; rebalancing grows it;
 *  - removed groups still being cleaned up: their id and the nodes that have
 *    not yet acknowledged that they stopped their member.
 *
 * Commands and queries are binary (names may hold any byte but NUL, so a
 * text form would need quoting); build them with rf_meta_cmd_*. Every
 * integer is little-endian; a string is a u16 length then its bytes.
 *   ACTIVATE     str name, str zone, u64 id
 *   DEACTIVATE   str name
 *   REMOVE_NODE  str name
 *   ADD_GROUP    str name, u32 replicas, str model   (reply: u64 group id)
 *   REMOVE_GROUP str name
 *   CLEANED      u64 group id, u64 node id
 * Replies to rejected commands are "error: <RaftFleet's value>", and the
 * command's code is the matching rf_err:
 *   ACTIVATE on a known node            RF_ENOTINACTIVE (not_inactive)
 *   ACTIVATE with an id another has     RF_EEXIST
 *   DEACTIVATE on a non-active node     RF_EINACTIVE    (inactive)
 *   REMOVE_NODE / REMOVE_GROUP unknown  RF_ENOTFOUND    (not_found)
 *   ADD_GROUP of an existing name       RF_EALREADYADDED (already_added)
 *   ADD_GROUP with no active node       RF_ENOACTIVENODE (no_active_node)
 *   ADD_GROUP of a name being cleaned   RF_ECLEANUP     (cleanup_ongoing)
 *   CLEANED for an unknown group        RF_ENOTFOUND (harmless: acked twice)
 *   bad names, counts or bytes          RF_EBADNAME / RF_EINVAL
 *
 * Names: node and zone names as rf_placement_check_name ([A-Za-z0-9._@-],
 * 1..64 bytes); group names 1..255 bytes, no NUL; model names 1..32 bytes
 * of [a-z0-9_-]. Replicas 1..RF_META_REPLICAS_MAX.
 *
 * Encoding of the state (version 1), canonical so replicas compare digests:
 *   u8 0x01, u64 next_group_id, u64 nodes_epoch,
 *   u32 n_nodes,   each: str name, str zone, u64 id, u8 state  (by name)
 *   u32 n_groups,  each: u64 id, u64 boot node, u32 replicas, str model,
 *                  str name (by id)
 *   u32 n_removed, each: u64 id, str name, u32 n, n x u64 node id (by id,
 *                  node ids ascending)
 * Digest: SipHash-2-4 of that encoding under the key "rf-fleet-meta-v1". */

#define RF_META_GROUP_ID 1u            /* the metadata group's own id */
#define RF_META_FIRST_GROUP_ID 2u      /* the first id given to a user group */
#define RF_META_NODES_MAX RF_PLACEMENT_NODES_MAX
#define RF_META_GROUPS_MAX (1u << 20)
#define RF_META_REMOVED_MAX 65536u
#define RF_META_REPLICAS_MAX 15u       /* a group's room for one extra learner */
#define RF_META_CMD_BYTES_MAX 640u     /* the largest encoded command */

typedef enum rf_meta_node_state {
    RF_META_NODE_ACTIVE = 1,
    RF_META_NODE_DEACTIVATING = 2
} rf_meta_node_state;

typedef struct rf_meta_node {
    uint64_t id;
    uint8_t state; /* rf_meta_node_state */
    char name[RF_PLACEMENT_NAME_MAX + 1];
    char zone[RF_PLACEMENT_NAME_MAX + 1];
} rf_meta_node;

typedef struct rf_meta_group {
    uint64_t id;
    uint64_t boot_node; /* the node that bootstraps its first member (0: none
                         * active; the next node to activate gets it) */
    bool claimed;       /* the boot node claimed the boot: it is the only one
                         * ever to bootstrap the group (rf_meta_cmd_claim) */
    uint32_t replicas;
    char model[RF_MODEL_NAME_MAX + 1];
    char name[RF_GROUP_NAME_MAX + 1];
} rf_meta_group;

typedef struct rf_meta_removed {
    uint64_t id;
    char name[RF_GROUP_NAME_MAX + 1];
    uint32_t n_pending;
    uint64_t *pending; /* node ids still to acknowledge, ascending */
} rf_meta_removed;

typedef enum rf_meta_op {
    RF_META_OP_ACTIVATE = 1,
    RF_META_OP_DEACTIVATE = 2,
    RF_META_OP_REMOVE_NODE = 3,
    RF_META_OP_ADD_GROUP = 4,
    RF_META_OP_REMOVE_GROUP = 5,
    RF_META_OP_CLEANED = 6,
    RF_META_OP_CLAIM = 7
} rf_meta_op;

/* Queries (binary like the commands; replies little-endian):
 *   GROUP  str name -> u64 id, u32 replicas, str model | RF_ENOTFOUND
 *   COUNTS          -> u32 nodes, u32 active, u32 groups, u32 removed
 *   NODE   u64 id   -> u8 state | RF_ENOTFOUND */
#define RF_META_QUERY_GROUP 1
#define RF_META_QUERY_COUNTS 2
#define RF_META_QUERY_NODE 3

/* The state, opaque. A model state pointer of rf_model_fleet_meta. */
typedef struct rf_meta rf_meta;

extern const rf_model rf_model_fleet_meta; /* name "fleet-meta" */

/* Name checks: 0 or RF_EBADNAME. */
int rf_meta_check_model_name(const char *model);

/* Command builders: write the command to out (cap >= RF_META_CMD_BYTES_MAX
 * always suffices) and its length to *len. RF_EBADNAME for an invalid
 * name, RF_EINVAL for a replica count out of range; out is unspecified
 * then. */
int rf_meta_cmd_activate(uint8_t *out, size_t cap, size_t *len, const char *name,
                         const char *zone, uint64_t id);
int rf_meta_cmd_deactivate(uint8_t *out, size_t cap, size_t *len, const char *name);
int rf_meta_cmd_remove_node(uint8_t *out, size_t cap, size_t *len, const char *name);
int rf_meta_cmd_add_group(uint8_t *out, size_t cap, size_t *len, const char *name,
                          uint32_t replicas, const char *model);
int rf_meta_cmd_remove_group(uint8_t *out, size_t cap, size_t *len, const char *name);
int rf_meta_cmd_cleaned(uint8_t *out, size_t cap, size_t *len, uint64_t group_id,
                        uint64_t node_id);

/* The op of an encoded command, 0 when it is not one. */
/* The boot node claims a new group's boot before it bootstraps it: OK
 * (also when already claimed by it), RF_ENOTBOOT when node is not the
 * group's boot node (any more), RF_ENOTFOUND. Until a claim commits, a boot
 * node that leaves the metadata (removed or purged) hands the boot to the
 * group's placement head among the active nodes; once claimed, never. So a
 * boot node that died before booting does not leave its group without
 * members for good, and no two nodes ever bootstrap one group. */
int rf_meta_cmd_claim(uint8_t *out, size_t cap, size_t *len, uint64_t group_id, uint64_t node_id);

uint8_t rf_meta_cmd_op(const uint8_t *cmd, size_t len);

/* The group id in an ADD_GROUP reply, 0 when reply is not one. */
uint64_t rf_meta_reply_group_id(const uint8_t *reply, size_t len);

/* ---- reading a state (pointers valid until the state changes) ---- */

/* Nodes sorted by name. */
size_t rf_meta_node_count(const rf_meta *m);
const rf_meta_node *rf_meta_node_at(const rf_meta *m, size_t i);
const rf_meta_node *rf_meta_node_by_name(const rf_meta *m, const char *name);
const rf_meta_node *rf_meta_node_by_id(const rf_meta *m, uint64_t id);
/* Nodes in state active. */
size_t rf_meta_active_count(const rf_meta *m);

/* Groups sorted by id, and looked up by name or id. */
size_t rf_meta_group_count(const rf_meta *m);
const rf_meta_group *rf_meta_group_at(const rf_meta *m, size_t i);
const rf_meta_group *rf_meta_group_by_name(const rf_meta *m, const char *name);
const rf_meta_group *rf_meta_group_by_id(const rf_meta *m, uint64_t id);

/* Removed groups pending clean-up, sorted by id. */
size_t rf_meta_removed_count(const rf_meta *m);
const rf_meta_removed *rf_meta_removed_at(const rf_meta *m, size_t i);
const rf_meta_removed *rf_meta_removed_by_id(const rf_meta *m, uint64_t id);
/* Does node still have to acknowledge the clean-up of removed group r? */
bool rf_meta_removed_pending(const rf_meta_removed *r, uint64_t node_id);

/* Counts every change to the set of nodes or their states: a change means
 * the placement target may have moved. */
uint64_t rf_meta_nodes_epoch(const rf_meta *m);

/* The placement target of group over the active nodes (DESIGN.md section
 * 4): ids[0..min(replicas, active)) get node ids, desired leader first, and
 * the rest of ids[0..cap) get 0. cap >= replicas, replicas <=
 * RF_META_REPLICAS_MAX + 2. RF_ENOACTIVENODE without an active node,
 * RF_ENOMEM, RF_EINVAL. */
int rf_meta_place(const rf_meta *m, const char *group, uint32_t replicas, uint64_t *ids,
                  size_t cap);
uint64_t rf_meta_next_group_id(const rf_meta *m);

#endif

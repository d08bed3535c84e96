/* rf_placement: zone-aware rendezvous hashing, which nodes host a group and which one leads. */
#ifndef RF_PLACEMENT_H
#define RF_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

/* The algorithm (RaftFleet's, DESIGN.md section 4). For group g:
 *   1. every node n gets the score h(n, g) (below);
 *   2. within each zone, the zone's nodes are ranked by score, lowest
 *      first: rank 0, 1, 2, ...;
 *   3. all (rank, score, node name) triples of all zones are sorted
 *      (rank first, then score, then node name bytes, so the order is total
 *      even if two scores collide) and the first `replicas` are the members.
 * Every zone's best node comes before any zone's second best, so members are
 * spread round-robin over zones. The head of the list is the desired leader.
 * More replicas than nodes gives every node; no node gives RF_ENOACTIVENODE.
 *
 * The score h(n, g) is SipHash-2-4 (base/rf_hash.h) under the fixed 16-byte
 * key RF_PLACEMENT_KEY, the ASCII bytes "rf-placement-v1!", over this byte
 * string:
 *     u16 little-endian length of the node name, the node name bytes,
 *     u16 little-endian length of the group name, the group name bytes.
 * The length prefixes make the encoding unambiguous: ("ab", "c") and
 * ("a", "bc") hash different strings. The result is the 64-bit
 * little-endian reading of SipHash's output, identical on every machine.
 * Changing the key or the encoding moves members in every running cluster:
 * never do it without a versioned migration.
 *
 * Worked example (a test vector checked in tests/core/placement/):
 *   node "n1", group "consensus1" hashes the 16 bytes
 *     02 00 6e 31 0a 00 63 6f 6e 73 65 6e 73 75 73 31
 *   and h("n1", "consensus1") = 0x616b3c1cea187f24.
 *
 * Names. A node or zone name is 1..RF_PLACEMENT_NAME_MAX bytes of
 * [A-Za-z0-9._@-] (so "n1", "zone-a", "node3@host.example" are fine).
 * A group name is 1..RF_GROUP_NAME_MAX bytes of any value but NUL.
 * Anything else is RF_EBADNAME. */

#define RF_PLACEMENT_NAME_MAX 64u   /* bytes of a node or zone name */
#define RF_GROUP_NAME_MAX 255u      /* bytes of a group name */
#define RF_PLACEMENT_NODES_MAX 4096u /* nodes in one placement context */
#define RF_PLACEMENT_KEY "rf-placement-v1!"

typedef struct rf_placement_node {
    const char *name;
    const char *zone;
} rf_placement_node;

/* An opaque context over a fixed set of nodes: names validated once,
 * scratch space allocated once, so placing many groups costs no malloc. */
typedef struct rf_placement rf_placement;

/* Checks a node or zone name / a group name: 0 or RF_EBADNAME. */
int rf_placement_check_name(const char *name);
int rf_placement_check_group(const char *group);

/* h(node, group) as documented above. Both names must be valid. */
uint64_t rf_placement_hash(const char *node, const char *group);

/* Builds a context over count nodes (count may be 0; the nodes are copied,
 * the caller keeps its array). Errors: RF_EBADNAME for an invalid node or
 * zone name, RF_EEXIST for a node named twice, RF_ETOOBIG over
 * RF_PLACEMENT_NODES_MAX nodes, RF_ENOMEM. On error *out is NULL. */
int rf_placement_init(rf_placement **out, const rf_placement_node *nodes, size_t count);
void rf_placement_close(rf_placement *p);

/* The members of group, best first (members[0] is the desired leader),
 * written as indexes into the node array given to rf_placement_init.
 * Writes min(replicas, node count) indexes; cap must be at least that.
 * Errors: RF_EBADNAME (group), RF_EINVAL (replicas 0 or cap too small),
 * RF_ENOACTIVENODE (no node). On error *count is 0. */
int rf_placement_members(rf_placement *p, const char *group, uint32_t replicas,
                         uint32_t *members, size_t cap, size_t *count);

/* The minimal number of member additions that moving group from the
 * target of `before` to the target of `after` needs: the members under
 * `after` that are not members under `before`, nodes compared by name.
 * This is the "minimal count" that rebalancing moves are measured
 * against. Errors as rf_placement_members, except that an empty `before`
 * counts every member of `after`. */
int rf_placement_added_members(rf_placement *before, rf_placement *after, const char *group,
                               uint32_t replicas, uint32_t *count);

/* The node count of the context. */
size_t rf_placement_node_count(const rf_placement *p);

#endif

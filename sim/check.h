/* sim/check: incremental Raft safety checkers for one group, fed by the harness after every step. */
#ifndef SIM_CHECK_H
#define SIM_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/net.h"
#include "sim/u64map.h"

/* What the checkers verify (Raft paper, Figure 3, and the client's view):
 *  - election safety: at most one leader per term, ever;
 *  - log matching: two logs holding an entry with the same index and term
 *    hold identical prefixes up to it (checked with a chain hash per entry,
 *    chain_i = H(chain_{i-1}, term_i, payload_i), compared through a global
 *    table (index, term) -> chain);
 *  - leader completeness: a leader of term T holds every entry committed
 *    in a term before T (its chain at the highest such index equals the
 *    committed one; entries committed in T or later by other leaders are
 *    not required: a stale leader of an older term may still win late);
 *  - the leader's commit rule (Raft paper §5.4.2): a leader that commits
 *    an index nobody committed before commits an entry of its own term
 *    (replicas of an older term's entry are never counted alone);
 *  - committed entries never change: a global table index -> (term,
 *    payload, chain) that every node's commit advance is compared with; a
 *    node never truncates below its own commit index;
 *  - state machine safety: entries applied at an index are the committed
 *    ones, replies at an index are equal everywhere, model digests are
 *    equal at equal applied indexes;
 *  - acknowledged results: the reply a client got for (client, seq) is
 *    the reply of that command's application, and the entry is committed.
 * Everything is incremental: each call costs O(entries it concerns). */

typedef enum rf_sim_violation_kind {
    RF_SIM_V_NONE = 0,
    RF_SIM_V_ELECTION,
    RF_SIM_V_LOG_MATCHING,
    RF_SIM_V_LEADER_COMPLETENESS,
    RF_SIM_V_COMMITTED_CHANGED,
    RF_SIM_V_STATE_MACHINE,
    RF_SIM_V_ACK,
    RF_SIM_V_DURABILITY, /* a vote or an ack left before its write was durable */
    RF_SIM_V_LIVENESS,
    RF_SIM_V_LINEARIZABILITY, /* the clients' history has no linearization */
    RF_SIM_V_HARNESS, /* the harness's own bookkeeping failed (a table bound...) */
    RF_SIM_V_COMMIT_RULE, /* a leader committed by counting replicas of an older term's entry */
    RF_SIM_V_LEASE, /* a leader's lease ran past the election of a newer leader */
} rf_sim_violation_kind;

const char *rf_sim_violation_name(rf_sim_violation_kind kind);

#define RF_SIM_VIOLATION_TEXT_MAX 256

typedef struct rf_sim_violation {
    rf_sim_violation_kind kind;
    char text[RF_SIM_VIOLATION_TEXT_MAX];
} rf_sim_violation;

typedef struct rf_sim_check_entry {
    uint64_t term, phash, chain;
} rf_sim_check_entry;

/* The checker's mirror of one node's (volatile) log for this group. */
typedef struct rf_sim_check_node {
    uint64_t base_index, base_term, base_chain; /* what a snapshot covers */
    rf_sim_check_entry *log;                    /* entries base_index+1 .. */
    uint64_t len, cap;
    uint64_t commit, applied;
} rf_sim_check_node;

typedef struct rf_sim_committed {
    uint64_t term, phash, chain;
    uint64_t commit_term; /* term of the leader that committed it */
    uint64_t reply_hash, digest;
    bool has_reply, has_digest;
} rf_sim_committed;

typedef struct rf_sim_check {
    uint64_t group;
    uint32_t nodes;
    uint64_t entries_max; /* bound on every table below */
    rf_sim_check_node node[RF_SIM_NODES_MAX];
    rf_sim_committed *committed; /* committed[i - 1] is index i */
    uint64_t committed_len, committed_cap;
    rf_sim_u64map leaders;  /* (term, 0) -> node */
    rf_sim_u64map chains;   /* (index, term) -> chain */
    rf_sim_u64map commands; /* (client, seq) -> index first applied at */
    uint64_t violations;
    rf_sim_violation first; /* the first violation found */
    uint64_t checks;        /* individual comparisons made (for reports) */
} rf_sim_check;

/* A checker for group over `nodes` nodes (indexes 0..nodes-1; messages
 * print them as n<index+1>). Returns 0 or RF_ENOMEM. */
int rf_sim_check_init(rf_sim_check *c, uint64_t group, uint32_t nodes, uint64_t entries_max);
void rf_sim_check_close(rf_sim_check *c);

/* The hash the checkers compare payloads and replies by. */
uint64_t rf_sim_check_hash(const void *data, size_t len);
/* A command entry's payload hash: its kind, (client, seq) and bytes. */
uint64_t rf_sim_check_payload(uint32_t kind, uint64_t client, uint64_t seq, const void *data,
                              size_t len);

/* Each function returns true when everything holds; on a violation it
 * records it (the first one is kept in c->first) and returns false. */

/* A node restarted: its log is what its durable state holds, a snapshot
 * at (base_index, base_term) followed by entries given by _append. */
bool rf_sim_check_node_reset(rf_sim_check *c, uint32_t node, uint64_t base_index,
                             uint64_t base_term);
/* The node's log is truncated after from_index - 1, then n entries are
 * appended from from_index on (terms[i], phash[i]). */
bool rf_sim_check_append(rf_sim_check *c, uint32_t node, uint64_t from_index,
                         const uint64_t *terms, const uint64_t *phashes, uint64_t n);
/* The node's log now starts after a snapshot at (index, term), which must
 * be a committed entry. When the log holds that entry (a local compaction,
 * or an installed snapshot the log agrees with) the entries after it stay;
 * otherwise the log is replaced by the snapshot. */
bool rf_sim_check_snapshot(rf_sim_check *c, uint32_t node, uint64_t index, uint64_t term);
/* The node's commit index is now commit, in the node's current term.
 * The first node to cover an index is the leader that committed it, so
 * its term is recorded as the index's commit term. */
bool rf_sim_check_commit(rf_sim_check *c, uint32_t node, uint64_t commit, uint64_t term);
/* The node, leader of term `term`, has commit index commit: when that
 * commits an index nobody covered before (the leader is the first to),
 * the entry there must be of term `term`. Raft paper §5.4.2 / Figure 8:
 * a leader counts replicas only for an entry of its own term; one of an
 * older term stored on a majority can still be overwritten. Call before
 * rf_sim_check_commit. */
bool rf_sim_check_leader_commit(rf_sim_check *c, uint32_t node, uint64_t commit, uint64_t term);
/* The node applied the entry at index (a command from (client, seq) when
 * is_command) and its model replied reply_hash. */
bool rf_sim_check_apply(rf_sim_check *c, uint32_t node, uint64_t index, uint64_t term,
                        uint64_t phash, bool is_command, uint64_t client, uint64_t seq,
                        uint64_t reply_hash);
/* After applying up to applied, the node's model digest is digest. */
bool rf_sim_check_digest(rf_sim_check *c, uint32_t node, uint64_t applied, uint64_t digest);
/* The node is leader in term. */
bool rf_sim_check_leader(rf_sim_check *c, uint32_t node, uint64_t term);
/* A client got an ok reply for command (client, seq). */
bool rf_sim_check_ack(rf_sim_check *c, uint64_t client, uint64_t seq, uint64_t reply_hash);
/* Cross-checks the mirror against what the node reports of its own log. */
bool rf_sim_check_last(rf_sim_check *c, uint32_t node, uint64_t last_index, uint64_t last_term);

/* The mirror's last index. */
uint64_t rf_sim_check_last_index(const rf_sim_check *c, uint32_t node);
/* The term of the mirror's entry at index, 0 when it does not hold it. */
uint64_t rf_sim_check_term_at(const rf_sim_check *c, uint32_t node, uint64_t index);

/* Records a violation found outside these functions (liveness...). */
void rf_sim_check_fail(rf_sim_check *c, rf_sim_violation_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

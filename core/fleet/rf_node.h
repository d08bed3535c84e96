/* rf_node: one fleet node hosting many Raft groups, stepped by a driver with one output batch per step. */
#ifndef RF_NODE_H
#define RF_NODE_H

/* API stability: additive changes only.
 *
 * A node hosts one member of each of many consensus groups, the metadata
 * group (fleet/rf_meta.h) among them. Like rf_raft it is a deterministic
 * state machine (DESIGN.md sections 2 and 4):
 *
 *   rf_node_create -> loop:
 *     inputs: rf_node_tick, rf_node_receive, rf_node_persisted,
 *             rf_node_peer_unreachable / reachable, and the requests
 *             (rf_node_activate ... rf_node_query), each with a request id
 *     if rf_node_has_ready: rf_node_ready(&rd); perform it; rf_node_advance
 *     when rd's writes are durable: rf_node_persisted(rd.persist_token)
 *
 * One rf_node_ready covers every group on the node: one persist batch (a
 * record per group that has something to write), one envelope per peer
 * node (every group's messages and the node's own records in one
 * versioned frame; a second one only past RF_NODE_FRAME_BYTES_MAX), the replies to requests, and
 * observations. Envelopes are delivered with rf_node_receive(from, bytes).
 *
 * Groups and members.
 *  - The first node activates with join_via 0 and bootstraps the metadata
 *    group with itself as its only voter; every other node activates through
 *    a node already in the cluster.
 *  - A group is created by add_consensus_group: the metadata gives it an id
 *    and a boot node (its desired leader at that moment). Only the boot node
 *    bootstraps it, with ONE voter, itself, after claiming the boot in the
 *    metadata (a boot node that leaves before claiming hands it on:
 *    rf_meta_cmd_claim); rebalancing grows it. No two nodes ever bootstrap
 *    the same group, so it can never split in two.
 *  - Any other member is created on demand, empty (rf_raft_create), when a
 *    peer addresses this node for a group the local metadata says exists.
 *    Messages for unknown or removed groups are dropped (counted).
 *  - The metadata runs on meta_voters voters (3; 5 is used only once 5
 *    active nodes span 3 zones) placed like any group; every other node follows it as a
 *    learner, which costs one heartbeat stream per node, not per group.
 *    Raft caps a group at RF_RAFT_MEMBERS_MAX members, so in a larger
 *    cluster the nodes past it hold no replica: the metadata leader pushes
 *    its applied state to them whenever it changes (fleet/node_push.c).
 *
 * Rebalancing (DESIGN.md section 4). Every rebalance_interval_ns the leader
 * of each group hosted here takes at most one step toward the placement
 * target: add a missing member as a learner; else promote a caught-up
 * learner; else remove a member the target does not hold; else transfer
 * leadership to the desired leader (only when it is live: not reported or
 * suspected unreachable and heard from within an election timeout, since a
 * transfer refuses proposals while it runs). A committed step is followed
 * by the next one at once, not at the next round (a refused promotion of
 * a lagging learner is retried a heartbeat later), so a new group reaches
 * its target in a few commits, still one change at a time. The leader runs the step, not the
 * desired leader's node: it alone knows the followers' progress and can
 * commit the change, so no request crosses the network and a step can never
 * act on a stale view of the membership. Raft itself refuses a removal that
 * would leave fewer live voters than a quorum and a promotion of a lagging
 * learner, so no step puts a quorum at risk.
 *
 * Idle groups. With quiesce_after_ns set, a group goes quiet as soon as
 * its leader is settled (every follower in reach holds every entry), or
 * once idle that long: no per-group message at all until there is work or
 * a failure (fleet/node_quiet.c says how). Failures are then watched by
 * one heartbeat per node pair and heartbeat interval, whatever the number
 * of groups.
 *
 * Failure handling. The driver reports peers it cannot reach
 * (rf_node_peer_unreachable), and a peer silent on the node-pair heartbeats
 * for an election timeout counts as unreachable too. The metadata leader removes from the
 * metadata every node it has found unreachable for purge_window_ns; the
 * placement then leaves it out, and the leaders of its groups replace its
 * members (add the new member first, remove the dead one last, so a group
 * never drops below a quorum of live voters because of it). A group that
 * lost its majority has no leader and is listed by rf_node_leaderless; no
 * step is ever taken without a leader, so nothing is rebuilt around it.
 * A purged node that comes back still believes its stale metadata; the
 * first peer that hears from it and does not know it says so, it confirms
 * with a linearizable query to the metadata leader. A node that asked to
 * leave (deactivate) then stops all its members and is inactive (activate
 * it again to rejoin). One that did not (the purge was a failure guess:
 * it was cut off, not dead) keeps its members, which may hold a group's
 * majority, and registers again with the zone of its last activate.
 *
 * Durability. Every batch's writes go to one store (fleet/rf_node_store.h
 * says how, with the node's own journal); rf_node_restore brings a node
 * back from it after a restart or a crash.
 *
 * Requests (RaftFleet's API, asynchronous). Each gets exactly one
 * rf_node_reply with its request id, in this or a later rf_node_ready:
 *  activate(zone)        RF_OK | RF_ENOTINACTIVE (not_inactive)
 *  deactivate()          RF_OK | RF_EINACTIVE (inactive); the node then
 *                        drains: leaders move its members away, and it
 *                        leaves the metadata once it hosts none.
 *  add_consensus_group   RF_OK (data: the group id, u64 little-endian) |
 *                        RF_EALREADYADDED | RF_ENOACTIVENODE | RF_ECLEANUP |
 *                        RF_ENOLEADER; like RaftFleet's, it replies once the
 *                        new group's first leader answers (RF_ENOLEADER when
 *                        none does within 5 election timeouts: the group
 *                        exists all the same).
 *  remove_consensus_group RF_OK | RF_ENOTFOUND | RF_ENOLEADER
 *  command / query       RF_OK with the model's reply | the model's error |
 *                        RF_ENOLEADER (no leader within the attempts, or an
 *                        unknown group, as RaftFleet).
 * Retries. A request goes to the group's leader: locally when this node
 * hosts it, else forwarded to the node the leader cache names (name ->
 * leader node, term; updated by redirects and elections, dropped on a
 * timeout), else to the desired leader, then attempt after attempt to the
 * target's other members (a live one redirects). A redirect is followed at once; an
 * attempt with no answer within attempt_timeout_ns is retried after
 * retry_interval_ns, at most retries_max times. Exactly once: the node
 * incarnation is one Raft client session (raft.h, rf_raft_propose) in every
 * group; a command gets the session's next sequence at its first attempt and
 * keeps it through its retries, and every attempt carries the session's floor
 * in that group (its oldest command still awaiting an outcome), so the
 * group applies a command at most once and answers a retry with the
 * original reply, however many commands are in flight (up to
 * RF_NODE_SESSION_WINDOW per group) and however long ago the command
 * applied (while the group remembers the session: raft.h). A command whose outcome the node gave up on (no_leader after the
 * last attempt) may still apply once, or be refused with RF_ESESSION. Defaults
 * are RaftFleet's: 500 ms per attempt, 3 retries, 1000 ms between them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet/rf_meta.h"
#include "model/rf_model.h"
#include "raft/raft.h"

#define RF_NODE_WIRE_VERSION 2u
#define RF_NODE_FRAME_BYTES_MAX (RF_MSG_BYTES_MAX + (1u << 20)) /* one envelope */
#define RF_NODE_FRAME_RECORDS_MAX 65536u /* records in one envelope */
#define RF_NODE_GROUPS_MAX (1u << 20)    /* groups hosted by one node */
#define RF_NODE_PENDING_MAX 65536u       /* requests in flight on one node */
/* Commands of one node to one group whose sequences may be in flight at
 * once, counted from the oldest still awaiting its reply: the bound on the
 * replies a group keeps for the node's session (raft.h, rf_raft_propose).
 * A command past it waits, without spending an attempt, for the oldest to
 * end. */
#define RF_NODE_SESSION_WINDOW 8192u
#define RF_NODE_MODELS_MAX 16u           /* models a node can run */
#define RF_NODE_HOPS_MAX 8u              /* redirects followed in one attempt */
#define RF_NODE_ID_MAX ((1ull << 24) - 1) /* node ids are 1..2^24-1 */

typedef struct rf_node rf_node;

typedef struct rf_node_config {
    uint64_t node_id;    /* 1..RF_NODE_ID_MAX, unique in the cluster */
    const char *name;    /* node name (rf_placement_check_name), copied */
    rf_raft_config raft; /* timings and bounds for every group; group_id,
                          * node_id, model and rng are set per group */
    uint64_t seed;       /* every group's PCG32 stream derives from it */
    const rf_model *const *models; /* the data models groups may use */
    uint32_t n_models;
    uint32_t meta_voters;            /* 3 by default; 5 needs 5 nodes, 3 zones */
    uint64_t rebalance_interval_ns;  /* a round of rebalancing steps */
    uint64_t attempt_timeout_ns;     /* one attempt of a request */
    uint64_t retry_interval_ns;      /* pause before the next attempt */
    uint32_t retries_max;            /* attempts after the first */
    uint64_t purge_window_ns;        /* unreachable this long: purged (0: never) */
    uint64_t quiesce_after_ns;       /* quiescence on (0: never; else >= the election
                                      * timeout; turns leases off): settled groups go
                                      * quiet at once, idle ones after this long */
    bool full_ticks;                 /* every tick runs every timer, due or not: the same
                                      * run, slower (checks what rf_node_tick skips) */
} rf_node_config;

/* RaftFleet's defaults (60 s rounds, 500 ms attempts, 3 retries, 1000 ms
 * apart, purge after 10 minutes), groups quiet after 10 s idle (so leases
 * are off: reads take a ReadIndex round), raft's defaults, the built-in
 * models; node_id and name unset. */
void rf_node_config_defaults(rf_node_config *cfg);

/* Returns RF_OK and *out, RF_EINVAL (bad config), RF_EBADNAME (bad name)
 * or RF_ENOMEM. The node is inactive until rf_node_activate. */
int rf_node_create(const rf_node_config *cfg, rf_node **out);
void rf_node_close(rf_node *n);

/* ---- inputs ---- */

/* The time is now: runs every timer due. False when none was (only the
 * clock moved, nothing to output): a driver may tick as often as it likes,
 * a tick with nothing due costs a few comparisons. */
bool rf_node_tick(rf_node *n, uint64_t now);
/* An envelope from peer node `from`. Returns RF_OK, or RF_EBADMSG /
 * RF_EVERSION for a malformed frame (nothing of it is applied). Records for
 * unknown groups are dropped and counted, not errors. */
int rf_node_receive(rf_node *n, uint64_t from, const uint8_t *buf, size_t len);
void rf_node_persisted(rf_node *n, uint64_t token);
void rf_node_peer_unreachable(rf_node *n, uint64_t peer);
void rf_node_peer_reachable(rf_node *n, uint64_t peer);

/* Runs a rebalancing round now (the next one stays on its schedule). */
void rf_node_rebalance_now(rf_node *n);

/* ---- requests (replies come as rf_node_reply) ---- */

/* join_via: a node already in the cluster, or 0 to start a new cluster. */
int rf_node_activate(rf_node *n, uint64_t request_id, const char *zone, uint64_t join_via);
int rf_node_deactivate(rf_node *n, uint64_t request_id);
int rf_node_add_group(rf_node *n, uint64_t request_id, const char *name, uint32_t replicas,
                      const char *model);
int rf_node_remove_group(rf_node *n, uint64_t request_id, const char *name);
int rf_node_command(rf_node *n, uint64_t request_id, const char *group, const uint8_t *cmd,
                    size_t len);
int rf_node_query(rf_node *n, uint64_t request_id, const char *group, const uint8_t *q,
                  size_t len);
/* Each returns RF_OK when the request is under way, else the code of the
 * reply it already queued (RF_EBADNAME, RF_ENOMODEL, RF_EFULL...). */

/* ---- outputs ---- */

/* What one group asks to persist, in the order raft.h fixes. */
typedef struct rf_node_write {
    uint64_t group_id;
    bool drop; /* first forget the group's log, state and snapshot: its
                * member stopped (fleet/rf_node_store.h) */
    bool has_snapshot;
    rf_snapshot_out snapshot;
    uint64_t truncate_from; /* 0: none */
    const rf_entry *entries;
    size_t n_entries;
    bool has_hard_state;
    uint64_t term;
    uint64_t vote;
} rf_node_write;

typedef struct rf_node_envelope {
    uint64_t to;
    const uint8_t *data;
    size_t len;
} rf_node_envelope;

typedef struct rf_node_reply {
    uint64_t request_id;
    int status;
    const uint8_t *data;
    uint32_t len;
} rf_node_reply;

typedef enum rf_node_obs_kind {
    RF_NODE_OBS_LEADER = 1,          /* group's leader is node_id (term): seen by the leader */
    RF_NODE_OBS_MEMBER_ADDED = 2,    /* node_id joined group as a learner */
    RF_NODE_OBS_MEMBER_PROMOTED = 3,
    RF_NODE_OBS_MEMBER_REMOVED = 4,
    RF_NODE_OBS_PLACEMENT = 5,       /* the node set changed: new placement target */
    RF_NODE_OBS_GROUP_STARTED = 6,   /* this node started a member (node_id = self) */
    RF_NODE_OBS_GROUP_STOPPED = 7,   /* this node stopped its member */
    RF_NODE_OBS_NODE_PURGED = 8,     /* node_id was unreachable past the window:
                                      * the metadata leader removed it; or, with
                                      * node_id = self, this node found it was
                                      * purged (it registers again, or stops
                                      * all its members after a deactivate) */
    RF_NODE_OBS_LEADERLESS = 9       /* this node's member has known no leader for
                                      * two election timeouts: the group may have
                                      * lost its majority (once per episode) */
} rf_node_obs_kind;

typedef enum rf_node_reason {
    RF_NODE_REASON_NONE = 0,
    RF_NODE_REASON_REBALANCE = 1, /* a step toward the placement target */
    RF_NODE_REASON_DRAIN = 2,     /* the node is deactivating */
    RF_NODE_REASON_BOOT = 3,      /* a new group's first member */
    RF_NODE_REASON_REMOVED = 4    /* the group was removed */
} rf_node_reason;

typedef struct rf_node_obs {
    uint8_t kind;   /* rf_node_obs_kind */
    uint8_t reason; /* rf_node_reason */
    uint64_t group_id;
    uint64_t term;
    uint64_t node_id;
} rf_node_obs;

typedef struct rf_node_applied {
    uint64_t group_id;
    rf_applied a;
} rf_node_applied;

typedef struct rf_node_batch {
    uint64_t persist_token; /* 0: nothing to persist */
    const rf_node_write *writes;
    size_t n_writes;
    const rf_node_envelope *envelopes;
    size_t n_envelopes;
    const rf_node_reply *replies;
    size_t n_replies;
    const rf_node_obs *obs;
    size_t n_obs;
    const rf_node_applied *applied;
    size_t n_applied;
    /* Ids of the groups whose members had output in this batch, ascending.
     * What a safety checker compares (term, a leader's role, log, commit,
     * applied entries) changes only with output, so it may look at these
     * groups alone. */
    const uint64_t *groups;
    size_t n_groups;
} rf_node_batch;

bool rf_node_has_ready(const rf_node *n);
/* Fills *rd; rf_node_advance must follow before any other input. */
void rf_node_ready(rf_node *n, rf_node_batch *rd);
void rf_node_advance(rf_node *n);

/* ---- local views (read-only, no request needed) ---- */

typedef struct rf_node_counters {
    uint64_t frames_received, frames_rejected, records_unknown_group;
    uint64_t envelopes_sent, raft_msgs_sent, forwards_sent, redirects;
    uint64_t user_msgs_sent; /* raft messages of groups other than the metadata */
    uint64_t requests_retried, requests_timed_out;
    uint64_t groups_started, groups_stopped, rebalance_steps;
    uint64_t peers_suspected; /* node-pair heartbeats missed for an election timeout */
    uint64_t quiet_notices_sent; /* QUIESCE records (one per follower) */
    uint64_t meta_pushes_sent;    /* metadata states pushed (metadata leader) */
    uint64_t meta_pushes_applied; /* pushed states taken (nodes without a replica) */
    uint64_t meta_pushes_failed;  /* states that could not be encoded or were too big */
} rf_node_counters;

uint64_t rf_node_id(const rf_node *n);
bool rf_node_is_active(const rf_node *n); /* the local metadata says active */
/* The local metadata replica's state, NULL before one exists. */
const rf_meta *rf_node_meta(const rf_node *n);
/* The member of group hosted here, NULL when none (accessors only). */
const rf_raft *rf_node_group(const rf_node *n, uint64_t group_id);
size_t rf_node_group_count(const rf_node *n);
/* The i-th hosted member, groups in id order (i < rf_node_group_count). */
const rf_raft *rf_node_group_at(const rf_node *n, size_t i);
/* Groups this node remembers having hosted (so as never to bootstrap one
 * twice): the hosted ones and those that may still come back, not every
 * group it ever hosted (fleet/node_rebal.c prunes the others). */
size_t rf_node_hosted_ever_count(const rf_node *n);
/* Hosted groups that are quiet now. */
size_t rf_node_quiet_count(const rf_node *n);
/* The leader of group as this node knows it (local member or cache), 0 when
 * unknown; *term set when non-NULL. whereis_leader. */
uint64_t rf_node_whereis_leader(const rf_node *n, const char *group, uint64_t *term);
/* status(name): what this node knows of a group. RF_OK, RF_EBADNAME, or
 * RF_ENOTFOUND when the local metadata does not know the group. */
typedef struct rf_node_status {
    uint64_t group_id;
    uint32_t replicas;
    uint64_t leader, term;   /* as rf_node_whereis_leader */
    uint64_t desired_leader; /* the placement head, 0 without active node */
    bool hosted;             /* a member runs on this node; then: */
    uint8_t role;            /* rf_role of the local member */
    uint64_t commit_index, applied_index;
    rf_membership membership; /* the local member's view */
} rf_node_status;

int rf_node_status_get(const rf_node *n, const char *group, rf_node_status *out);

/* consensus_groups() and active_nodes() are read from the local metadata
 * replica: rf_node_meta with rf_meta_group_at / rf_meta_node_at (each node
 * has its zone and state). */

/* Groups hosted here whose member knows no leader: ids written to out,
 * returns the total count. */
size_t rf_node_leaderless(const rf_node *n, uint64_t *out, size_t cap);
/* Peers reported unreachable, with the time they became so; returns the
 * total count. */
size_t rf_node_unreachable(const rf_node *n, uint64_t *peers, uint64_t *since, size_t cap);
void rf_node_counters_get(const rf_node *n, rf_node_counters *out);

#endif

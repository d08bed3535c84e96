/* raft: one Raft consensus group as a deterministic state machine stepped by a driver. */
#ifndef RF_RAFT_H
#define RF_RAFT_H

/* API stability: additive changes only. A breaking change is announced here.
 *
 * How a driver uses this module (DESIGN.md section 2):
 *
 *   rf_raft_bootstrap / rf_raft_restore / rf_raft_create   -> one rf_raft
 *   loop:
 *     feed inputs: rf_raft_tick, rf_raft_receive, rf_raft_propose,
 *                  rf_raft_read, rf_raft_add_learner / promote / remove,
 *                  rf_raft_transfer, rf_raft_persisted, rf_raft_peer_*
 *     if rf_raft_has_ready: rf_raft_ready(&rd); perform rd (persist, send,
 *                  deliver replies, record applied and observations);
 *                  rf_raft_advance
 *     when the writes of rd are durable: rf_raft_persisted(rd.persist_token)
 *
 * Everything is single-threaded and deterministic: the same inputs in the
 * same order give the same outputs byte for byte. Time is a monotonic count
 * of nanoseconds passed in by the driver; randomness is the PCG32 stream in
 * the config. Nothing here calls the OS.
 *
 * Between rf_raft_ready and rf_raft_advance the driver may call only the
 * read-only accessors on that rf_raft (asserted): every pointer in rf_ready
 * stays valid until rf_raft_advance.
 *
 * Durability contract. A message that promises durability (a vote grant, an
 * append or snapshot acknowledgement) is held inside the rf_raft and leaves
 * in a later rf_ready only after rf_raft_persisted covered the write it
 * depends on. A candidate counts its own vote, and a leader its own entries,
 * only once durable. Writes of one rf_ready are applied in this order:
 * snapshot, truncation, entries, hard state. A crash may lose any write not
 * yet reported through rf_raft_persisted. A held acknowledgement that
 * became stale before its write was durable (the term moved on, or its
 * entries were truncated or replaced by a snapshot) is dropped, as if lost.
 *
 * Clock. Inputs other than rf_raft_tick run with the time of the last
 * tick, which may be stale (a paused process steps its queued input before
 * its timers). Decisions whose safety rests on time (the leader lease, a
 * follower's refusal to vote while it hears from a leader) therefore wait
 * for, or are stamped by, the next tick's fresh time. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rf_pcg.h"
#include "model/rf_model.h"

/* ---- bounds ------------------------------------------------------------ */

#define RF_RAFT_MEMBERS_MAX 16u         /* voters + learners of one group */
#define RF_RAFT_WIRE_VERSION 2u         /* first byte after the magic */
#define RF_MSG_ENTRIES_MAX 4096u        /* entries in one append */
#define RF_MSG_BYTES_MAX (16u << 20)    /* one encoded message */
#define RF_ENTRY_BYTES_MAX 65536u       /* payload of one entry (= model input max) */
#define RF_SNAPSHOT_BYTES_MAX (1u << 30) /* one snapshot's data */
#define RF_RAFT_READS_MAX 4096u         /* pending linearizable reads per leader */
#define RF_RAFT_PROPOSALS_MAX 65536u    /* uncommitted proposals per leader */
#define RF_RAFT_SESSION_REPLIES_MAX 16384u /* replies one client session keeps */
#define RF_RAFT_TERM_MAX (1ull << 62)   /* terms and indexes above are refused as impossible */

/* ---- basic types ------------------------------------------------------- */

typedef struct rf_raft rf_raft;

/* Optional allocator; NULL in the config means malloc/realloc/free. Every
 * byte the module allocates goes through it (benchmarks count them). */
typedef struct rf_allocator {
    void *(*alloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} rf_allocator;

typedef enum rf_role {
    RF_ROLE_FOLLOWER = 1,     /* includes learners and not-yet-added members */
    RF_ROLE_PRECANDIDATE = 2, /* pre-vote phase, term not yet incremented */
    RF_ROLE_CANDIDATE = 3,
    RF_ROLE_LEADER = 4
} rf_role;

typedef struct rf_member {
    uint64_t id;   /* cluster node id, non-zero */
    uint8_t voter; /* 1 voter, 0 learner */
} rf_member;

/* A whole configuration (not a delta). Members sorted by id, ids unique. */
typedef struct rf_membership {
    uint32_t count;
    rf_member members[RF_RAFT_MEMBERS_MAX];
} rf_membership;

typedef enum rf_entry_kind {
    RF_ENTRY_NOOP = 1,    /* a new leader's first entry (Raft thesis §6.4) */
    RF_ENTRY_COMMAND = 2, /* a client command for the model */
    RF_ENTRY_CONFIG = 3   /* payload: an encoded rf_membership */
} rf_entry_kind;

/* One log entry. In outputs, data points into the rf_raft (valid until
 * rf_raft_advance); in inputs the rf_raft copies what it keeps. */
typedef struct rf_entry {
    uint64_t index;
    uint64_t term;
    uint64_t client_id; /* the client session; 0: no de-duplication */
    uint64_t sequence;  /* per session, increasing, from 1 */
    uint64_t floor;     /* the session's lowest sequence still awaiting its reply */
    const uint8_t *data;
    uint32_t len;
    uint8_t kind; /* rf_entry_kind */
} rf_entry;

/* ---- messages and their codec ------------------------------------------ */

typedef enum rf_msg_type {
    RF_MSG_PREVOTE = 1,        /* term = proposed term; last_index/last_term */
    RF_MSG_PREVOTE_RESP = 2,   /* reject */
    RF_MSG_VOTE = 3,           /* last_index/last_term; flags TRANSFER */
    RF_MSG_VOTE_RESP = 4,      /* reject */
    RF_MSG_APPEND = 5,         /* prev_index/prev_term, commit, entries, ctx */
    RF_MSG_APPEND_RESP = 6,    /* reject; index = match (ok) or the rejected
                                * prev index; on reject log_term/offset = the
                                * conflict term / its first index (hint); ctx */
    RF_MSG_HEARTBEAT = 7,      /* commit, ctx */
    RF_MSG_HEARTBEAT_RESP = 8, /* ctx, index = follower's last index */
    RF_MSG_SNAPSHOT = 9,       /* snapshot index/term, membership, offset, chunk */
    RF_MSG_SNAPSHOT_RESP = 10, /* reject; index = snapshot index; offset = next */
    RF_MSG_TIMEOUT_NOW = 11    /* leadership transfer (Raft thesis §3.10) */
} rf_msg_type;

#define RF_MSG_FLAG_TRANSFER 1u /* VOTE: campaign after TimeoutNow */
#define RF_MSG_FLAG_DONE 2u     /* SNAPSHOT: last chunk */

/* One message; which fields matter depends on type (see rf_msg_type).
 * entries (APPEND) and data (SNAPSHOT) are borrowed pointers. */
typedef struct rf_msg {
    uint8_t type;  /* rf_msg_type */
    uint8_t flags; /* RF_MSG_FLAG_* */
    uint8_t reject;
    uint64_t group_id;
    uint64_t from;
    uint64_t to;
    uint64_t term;
    uint64_t index;      /* last_index, prev_index, match/hint, snapshot index */
    uint64_t log_term;   /* last_term, prev_term, hint term, snapshot term */
    uint64_t commit;
    uint64_t ctx;        /* heartbeat round echoed back (ReadIndex, lease) */
    uint64_t offset;     /* SNAPSHOT chunk offset / SNAPSHOT_RESP next offset */
    uint64_t total;      /* SNAPSHOT: total data bytes */
    const rf_entry *entries;
    uint32_t n_entries;
    const uint8_t *data; /* SNAPSHOT chunk */
    uint32_t len;
    rf_membership membership; /* SNAPSHOT; other types: count 0, members unset */
} rf_msg;

/* Bytes rf_msg_encode needs for msg. */
size_t rf_msg_encoded_size(const rf_msg *msg);

/* Encodes msg (versioned, little-endian). Returns RF_OK and sets *len;
 * RF_ETOOBIG (with *len = size needed) when cap is too small; RF_EINVAL when
 * msg breaks a bound. out is unspecified on failure. Anyone may call. */
int rf_msg_encode(const rf_msg *msg, uint8_t *out, size_t cap, size_t *len);

/* Decodes len bytes into *msg. Entries are written to entries[0..cap) and
 * their data, like msg->data, point into buf (keep buf alive while msg is
 * used). Never crashes on arbitrary bytes: returns RF_EBADMSG for anything
 * malformed (bad magic, lengths, counts over bounds, trailing bytes),
 * RF_EVERSION for another wire version, RF_ETOOBIG when cap is too small.
 * *msg is unspecified on failure. Anyone may call. */
int rf_msg_decode(const uint8_t *buf, size_t len, rf_msg *msg, rf_entry *entries,
                  size_t entries_cap);

/* ---- configuration and creation ---------------------------------------- */

typedef struct rf_raft_config {
    uint64_t group_id;              /* echoed in every message */
    uint64_t node_id;               /* this member, non-zero */
    uint64_t election_timeout_ns;   /* T: timeouts drawn in [T, 2T) */
    uint64_t heartbeat_interval_ns; /* < T */
    uint64_t lease_drift_ns;        /* lease = T - drift; >= T disables leases */
    uint32_t inflight_max;          /* appends in flight per follower, 1..32 (capped) */
    uint32_t append_entries_max;    /* entries per append, 1..RF_MSG_ENTRIES_MAX */
    uint32_t append_bytes_max;      /* payload bytes per append (one entry always fits) */
    uint64_t snapshot_threshold;    /* applied entries since last snapshot; 0 = never */
    uint32_t snapshot_chunk_bytes_max; /* per SNAPSHOT message, >= 1 */
    uint32_t dedup_sessions_max;    /* client sessions remembered for de-dup, >= 1 */
    uint64_t transfer_timeout_ns;   /* a transfer not done by then is aborted */
    bool lazy_commit;               /* followers learn a new commit index with the next
                                     * append or heartbeat, not from an append at once */
    const rf_model *model;          /* the group's data model */
    const rf_allocator *allocator;  /* NULL: libc */
    rf_pcg32 rng;                   /* seeded by the driver; copied */
} rf_raft_config;

/* Sensible defaults for every field but group_id, node_id, model and rng. */
void rf_raft_config_defaults(rf_raft_config *cfg);

/* Durable state of a member, as a driver recovers it (rf_raft_restore). */
typedef struct rf_raft_state {
    uint64_t term;
    uint64_t vote; /* 0: none */
    uint64_t snapshot_index;
    uint64_t snapshot_term;
    rf_membership snapshot_membership;
    const uint8_t *snapshot_data; /* opaque bytes from an rf_ready snapshot */
    size_t snapshot_len;
    const rf_entry *entries; /* indexes snapshot_index+1 .. contiguous */
    size_t n_entries;
} rf_raft_state;

/* A brand-new group: voters is the initial configuration (every member of
 * it bootstraps with the same set) and must contain only voters. The first
 * rf_ready persists it as a snapshot at index 0. Returns RF_OK and *out, or
 * RF_EINVAL (bad config or set) / RF_ENOMEM with *out unchanged. */
int rf_raft_bootstrap(const rf_raft_config *cfg, const rf_membership *voters, rf_raft **out);

/* A restarted member from its durable state: keeps its identity, term,
 * vote, log, snapshot and membership. The data is copied. The commit and
 * applied indexes restart at the snapshot index: committed entries after it
 * are applied again (and reported in rf_ready.applied) once the member
 * learns the commit index. Returns RF_OK, RF_EINVAL / RF_EBADMSG
 * (inconsistent state or snapshot) or RF_ENOMEM, with *out unchanged. */
int rf_raft_restore(const rf_raft_config *cfg, const rf_raft_state *st, rf_raft **out);

/* An empty member that waits to be added: it never campaigns until a
 * configuration entry or snapshot names it a voter. */
int rf_raft_create(const rf_raft_config *cfg, rf_raft **out);

/* Frees everything. NULL is fine. */
void rf_raft_close(rf_raft *r);

/* ---- inputs ------------------------------------------------------------ */

/* Advances time (monotonic; a smaller now is treated as equal): elections,
 * heartbeats, check-quorum, transfer timeout. Call it once right after
 * creation: the first tick starts the clock. A member refuses (pre-)votes
 * for one election timeout after its first tick, as if it had just heard
 * from a leader: a restarted member cannot help depose a leader whose
 * lease may still run (Raft thesis §6.4.1). */
void rf_raft_tick(rf_raft *r, uint64_t now);

/* The earliest now at which rf_raft_tick does more than advance the clock
 * (an election or heartbeat due, check-quorum, a transfer's timeout, a
 * lease read or the first tick waiting): 0 when the next tick has work,
 * UINT64_MAX when no timer runs (a learner). It moves only with inputs
 * and ticks, so a driver with many members may tick only those due, as
 * long as it ticks every member before giving it any other input. */
uint64_t rf_raft_tick_due_ns(const rf_raft *r);

/* Steps one message. Returns RF_OK, or an error code for a message that is
 * malformed or impossible (RF_EBADMSG, RF_EINVAL wrong group or addressee,
 * RF_EINDEXGAP, RF_ETOOBIG oversized batch, RF_ECOMPACTED ...); a rejected
 * message changes nothing but the counters. Stale messages are not errors.
 * The rf_raft copies what it keeps from msg. */
int rf_raft_receive(rf_raft *r, const rf_msg *msg);

/* Decodes and steps: rf_msg_decode then rf_raft_receive; decode failures
 * are counted as rejected messages too. */
int rf_raft_receive_bytes(rf_raft *r, const uint8_t *buf, size_t len);

/* Every client request (propose, read, membership change, transfer) gets
 * exactly one rf_reply with its request_id, now or later; the function
 * returns RF_OK when the request was accepted for later, else the status of
 * the reply it already queued (RF_ENOTLEADER with a leader hint, RF_EFULL,
 * RF_ETRANSFER during a transfer, RF_ETOOBIG, ...). */

/* Proposes a command (leader only in effect). Client sessions de-duplicate
 * retries (Raft thesis §6.3): client_id names the session (a node
 * incarnation in core/fleet), sequence numbers its commands (increasing;
 * any number may be in flight at once, and a session may skip numbers),
 * and floor is the session's acknowledged floor: the lowest sequence whose
 * reply the client has not received yet (<= sequence; a larger floor counts
 * as sequence). Every attempt of one command carries the same (client_id,
 * sequence); the floor may have risen in between.
 *
 * The group keeps, per session, the replies of its applied sequences at or
 * above the highest floor applied so far, and drops those below it when it
 * applies. A retry of a kept sequence is not applied again and gets its
 * original reply; a sequence below the floor (a retry the client gave up
 * on, or a reply the group forgot) gets RF_ESESSION and is never applied.
 * Bounds: at most dedup_sessions_max sessions, evicted whole, the least
 * recently applied first (an evicted session starts afresh: a retry of
 * one of its commands still awaiting its reply would apply again, so size
 * the table above the number of client sessions active in the group, for
 * core/fleet the node incarnations that write to it); at most
 * RF_RAFT_SESSION_REPLIES_MAX replies per session (past it the oldest is
 * dropped and the floor raised above it: a client whose window of
 * sequences in flight stays below that bound never meets this). Memory per
 * session: about 112 bytes of table (kept at most half full), plus 32 bytes
 * per kept reply and the replies longer than 16 bytes (at most
 * RF_MODEL_REPLY_MAX each). client_id 0
 * turns de-duplication off for that command. len <= RF_ENTRY_BYTES_MAX. */
int rf_raft_propose(rf_raft *r, uint64_t request_id, uint64_t client_id, uint64_t sequence,
                    uint64_t floor, const uint8_t *cmd, size_t len);

/* A linearizable query: ReadIndex (Raft thesis §6.4): confirmed by a
 * quorum's answer to a heartbeat round started after the read arrived.
 * Within the leader lease (§6.4.1, when enabled) it needs no round and is
 * answered at the next rf_raft_tick: the lease is checked against that
 * tick's fresh now, never against the time of an older tick (inputs may be
 * stepped long after it, e.g. after a process pause). */
int rf_raft_read(rf_raft *r, uint64_t request_id, const uint8_t *query, size_t len);

/* Single-server membership changes (Raft thesis §4.1), one at a time:
 * RF_ECONFCHANGE while one is uncommitted. add_learner: a non-voter;
 * promote: only a caught-up learner, i.e. streaming and within one window
 * (inflight_max x append_entries_max entries) of the commit index, else
 * RF_ELAGGING; remove: refuses
 * to leave fewer live voters than a quorum (RF_EQUORUM). Removing the
 * leader itself first transfers leadership to the most up-to-date voter
 * and replies RF_ETRANSFER: retry at the new leader. Replies come when
 * the configuration entry is applied. */
int rf_raft_add_learner(rf_raft *r, uint64_t request_id, uint64_t node_id);
int rf_raft_promote(rf_raft *r, uint64_t request_id, uint64_t node_id);
int rf_raft_remove(rf_raft *r, uint64_t request_id, uint64_t node_id);

/* Leadership transfer to a voter (Raft thesis §3.10): proposals are refused
 * (RF_ETRANSFER) while it runs; TimeoutNow goes once the target is caught
 * up. Replies RF_OK when this leader steps down for a newer term, or
 * RF_ETIMEDOUT after transfer_timeout_ns (the transfer is aborted). */
int rf_raft_transfer(rf_raft *r, uint64_t request_id, uint64_t target);

/* Before any input: a member created empty (rf_raft_create) where a member
 * of the group was stopped resumes the term that one knew, as having voted
 * in it (for itself). It then ignores every older term, and never votes a
 * second time in a term its predecessor may have voted in. The first
 * rf_ready persists the term. */
void rf_raft_resume_term(rf_raft *r, uint64_t term);

/* The writes of every rf_ready whose persist_token <= token are durable.
 * Tokens count from 1 per rf_raft: after a restart (rf_raft_restore) never
 * report a token handed out by the previous incarnation. A token above the
 * last one handed out is treated as that one. */
void rf_raft_persisted(rf_raft *r, uint64_t token);

/* Hints from the transport: an unreachable peer is probed slowly and does
 * not count as live for removal checks; reachable restores it. */
void rf_raft_peer_unreachable(rf_raft *r, uint64_t node_id);
void rf_raft_peer_reachable(rf_raft *r, uint64_t node_id);

/* Quiet groups (a host that stops ticking idle members, fleet/node_quiet.c).
 * rf_raft_settled: this leader has nothing left to do but heartbeats: every
 * entry is committed, applied and held by every other member not reported
 * unreachable, which are a majority with it, all voters (no learner), with
 * no read, proposal, write, transfer or snapshot under way. rf_raft_commit_for: the commit index a
 * heartbeat to peer would carry, min(commit, its match); 0 when not
 * leader. rf_raft_leader_commit: a follower takes a commit index its
 * leader sent outside a message (with the notice that the group went
 * quiet), by a heartbeat's rule: only from the leader it follows in its
 * current term, and never past its own last entry. */
bool rf_raft_settled(const rf_raft *r);
/* A majority of the voters (this member among them) is not reported
 * unreachable. */
bool rf_raft_quorum_reachable(const rf_raft *r);
uint64_t rf_raft_commit_for(const rf_raft *r, uint64_t peer);
void rf_raft_leader_commit(rf_raft *r, uint64_t leader, uint64_t term, uint64_t commit);

/* ---- outputs ----------------------------------------------------------- */

typedef struct rf_send {
    uint64_t to;
    rf_msg msg; /* encode with rf_msg_encode or pass directly */
} rf_send;

typedef struct rf_reply {
    uint64_t request_id;
    int status;           /* RF_OK, model error codes, RF_ENOTLEADER, ... */
    uint64_t leader_hint; /* known leader on RF_ENOTLEADER, else 0 */
    const uint8_t *data;  /* model reply bytes (never NULL, even when len is 0) */
    uint32_t len;
} rf_reply;

/* A committed entry this member applied to its model, in index order. */
typedef struct rf_applied {
    uint64_t index;
    uint64_t term;
    uint64_t client_id;
    uint64_t sequence;
    int status;          /* the model's status (the original one for a duplicate) */
    uint8_t kind;        /* rf_entry_kind */
    uint8_t duplicate;   /* 1: a retried command, not applied again */
    const uint8_t *reply; /* never NULL, even when reply_len is 0 */
    uint32_t reply_len;
} rf_applied;

typedef enum rf_obs_kind {
    RF_OBS_LEADER_ELECTED = 1,   /* node = leader (may be this member) */
    RF_OBS_LEADER_LOST = 2,      /* this member no longer knows a leader;
                                  * node = the one it knew, term = its term now */
    RF_OBS_MEMBER_ADDED = 3,     /* node joined as learner (applied config) */
    RF_OBS_MEMBER_PROMOTED = 4,
    RF_OBS_MEMBER_REMOVED = 5,
    RF_OBS_SNAPSHOT_TAKEN = 6,   /* index */
    RF_OBS_SNAPSHOT_INSTALLED = 7 /* index */
} rf_obs_kind;

typedef struct rf_observation {
    uint8_t kind; /* rf_obs_kind */
    uint64_t term;
    uint64_t node_id;
    uint64_t index;
} rf_observation;

typedef struct rf_snapshot_out {
    uint64_t index;
    uint64_t term;
    rf_membership membership;
    const uint8_t *data; /* opaque: give it back in rf_raft_state */
    size_t len;
} rf_snapshot_out;

/* One batch of work (etcd's "Ready"). Pointers valid until rf_raft_advance. */
typedef struct rf_ready {
    /* To persist, in this order, then report rf_raft_persisted(persist_token).
     * persist_token == 0: nothing to persist in this batch. */
    uint64_t persist_token;
    bool has_snapshot;      /* replace the snapshot; entries <= its index go */
    rf_snapshot_out snapshot;
    uint64_t truncate_from; /* 0: none; else delete entries >= it first */
    const rf_entry *entries;
    size_t n_entries;
    bool has_hard_state;
    uint64_t term;
    uint64_t vote;

    const rf_send *msgs; /* safe to send now */
    size_t n_msgs;
    const rf_reply *replies;
    size_t n_replies;
    const rf_applied *applied;
    size_t n_applied;
    const rf_observation *obs;
    size_t n_obs;
} rf_ready;

/* True when rf_raft_ready would return anything. */
bool rf_raft_has_ready(const rf_raft *r);

/* Fills *rd with everything pending (possibly nothing). Must be followed by
 * rf_raft_advance before any other input. */
void rf_raft_ready(rf_raft *r, rf_ready *rd);

/* Ends the batch: the pointers of the last rf_ready become invalid. */
void rf_raft_advance(rf_raft *r);
/* Frees the member's output buffers now (they grow back on demand), as
 * rf_raft_advance does by itself after a run of idle batches: for a driver
 * that stops ticking an idle member (a quiet group), which then has no
 * batches. Not between rf_raft_ready and rf_raft_advance. */
void rf_raft_release_memory(rf_raft *r);

/* ---- read-only accessors (checkers and drivers) ------------------------ */

typedef struct rf_raft_counters {
    uint64_t msgs_received;
    uint64_t msgs_rejected;    /* malformed or impossible, any reason */
    uint64_t msgs_bad_group;   /* group_id not ours */
    uint64_t msgs_decode_failed;
    uint64_t msgs_stale;       /* older term, ignored (not an error) */
    uint64_t elections_started;
    uint64_t snapshots_taken;
    uint64_t snapshots_installed;
    uint64_t dedup_hits;
    uint64_t dedup_evictions;
} rf_raft_counters;

uint64_t rf_raft_id(const rf_raft *r);
uint64_t rf_raft_group(const rf_raft *r);
uint64_t rf_raft_term(const rf_raft *r);
uint64_t rf_raft_vote(const rf_raft *r);
rf_role rf_raft_role(const rf_raft *r);
uint64_t rf_raft_leader(const rf_raft *r); /* 0 when unknown */
uint64_t rf_raft_commit_index(const rf_raft *r);
uint64_t rf_raft_applied_index(const rf_raft *r);
uint64_t rf_raft_first_index(const rf_raft *r); /* snapshot index + 1 */
uint64_t rf_raft_last_index(const rf_raft *r);
uint64_t rf_raft_snapshot_index(const rf_raft *r);
/* Raft thesis §6.4.1: a leader's lease end, as its own clock reads it;
 * before it, a read is answered without a round. 0 when not leader or
 * holding no lease. */
uint64_t rf_raft_lease_until_ns(const rf_raft *r);
/* Until when, on its own clock, this member refuses (pre-)votes to
 * candidates a transfer did not send (it heard from a leader within the
 * election timeout, §4.2.3): the other side of a leader's lease. 0 when it
 * has heard from no leader; UINT64_MAX for a leader (it votes for nobody),
 * for a contact not yet stamped and for a member not ticked since its
 * start (the next tick dates either, and comes before any input). */
uint64_t rf_raft_votes_refused_until_ns(const rf_raft *r);

/* The entry at index (first_index..last_index): RF_OK and *out (data valid
 * until the next input), RF_ECOMPACTED below first_index, RF_ENOTFOUND
 * above last_index. */
int rf_raft_entry(const rf_raft *r, uint64_t index, rf_entry *out);

/* The term at index (snapshot index included), 0 when unknown. */
uint64_t rf_raft_term_at(const rf_raft *r, uint64_t index);

/* The configuration in effect (the latest one in the log, Raft thesis §4.1). */
const rf_membership *rf_raft_membership(const rf_raft *r);

/* The model state digest (rf_model.digest) at the applied index. */
uint64_t rf_raft_digest(const rf_raft *r);

/* The model state at the applied index, read-only: a host that keeps a
 * replica (the fleet's metadata) reads it in place instead of mirroring.
 * Valid until the next input. */
const void *rf_raft_model_state(const rf_raft *r);

void rf_raft_counters_get(const rf_raft *r, rf_raft_counters *out);

/* Bytes the module currently holds allocated for r (through its allocator,
 * model state excluded). */
size_t rf_raft_memory(const rf_raft *r);

/* rf_membership helpers. */
const rf_member *rf_membership_find(const rf_membership *m, uint64_t id);
uint32_t rf_membership_voters(const rf_membership *m);

#endif

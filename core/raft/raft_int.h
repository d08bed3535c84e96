/* raft_int: the internal state of an rf_raft, shared by the core/raft files. */
#ifndef RF_RAFT_INT_H
#define RF_RAFT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "raft/raft.h"

#define RAFT_INFLIGHT_MAX 32u  /* cap on cfg.inflight_max */
#define RAFT_ROUNDS_KEPT 64u   /* heartbeat rounds whose send time is remembered */
#define RAFT_IDLE_BATCHES 64u  /* batches without applying before buffers are freed */

/* ---- memory ------------------------------------------------------------ */

void *rf_rft_alloc(const rf_allocator *a, size_t size);
void *rf_rft_realloc(const rf_allocator *a, void *p, size_t size);
void rf_rft_free(const rf_allocator *a, void *p);

/* Grows *p (an array of elem bytes, *cap elements) to hold need elements. */
int rf_rft_reserve(const rf_allocator *a, void **p, size_t *cap, size_t need, size_t elem);

/* ---- log (log.c) ------------------------------------------------------- */

typedef struct log_ent {
    uint64_t term;
    uint64_t client_id;
    uint64_t sequence;
    uint64_t floor;
    uint64_t off; /* logical offset of the payload in the data buffer */
    uint32_t len;
    uint8_t kind;
} log_ent;

/* Entries snap_index+1 .. in a ring; payloads in one byte buffer addressed by
 * logical offsets, so appends do not allocate per entry. */
typedef struct raft_log {
    const rf_allocator *a;
    log_ent *ents;
    size_t cap; /* power of two */
    size_t head;
    size_t n;
    uint64_t snap_index;
    uint64_t snap_term;
    uint8_t *buf;
    size_t buf_cap;
    uint64_t buf_base; /* logical offset of buf[0] */
    uint64_t data_head;
    uint64_t data_tail;
} raft_log;

void rf_rft_log_init(raft_log *l, const rf_allocator *a);
void rf_rft_log_free(raft_log *l);
/* The hot accessors are inline: the replication path calls them per entry.
 * rf_rft_log_term is 0 for an index it does not know. */
static inline uint64_t rf_rft_log_last(const raft_log *l)
{
    return l->snap_index + l->n;
}

static inline const log_ent *rf_rft_log_at(const raft_log *l, uint64_t index)
{
    if (index <= l->snap_index || index > rf_rft_log_last(l))
        return NULL;
    size_t i = (size_t)(index - l->snap_index - 1);
    ASSERT(l->cap > 0);
    return &l->ents[(l->head + i) & (l->cap - 1)];
}

static inline uint64_t rf_rft_log_term(const raft_log *l, uint64_t index)
{
    if (index == l->snap_index)
        return l->snap_term;
    const log_ent *e = rf_rft_log_at(l, index);
    return e ? e->term : 0;
}

static inline uint64_t rf_rft_log_last_term(const raft_log *l)
{
    return rf_rft_log_term(l, rf_rft_log_last(l));
}

static inline const uint8_t *rf_rft_log_data(const raft_log *l, const log_ent *e)
{
    if (e->len == 0)
        return NULL;
    ASSERT(e->off >= l->buf_base);
    ASSERT(e->off + e->len <= l->buf_base + l->buf_cap);
    return l->buf + (e->off - l->buf_base);
}

static inline void rf_rft_log_get(const raft_log *l, uint64_t index, rf_entry *out)
{
    const log_ent *e = rf_rft_log_at(l, index);
    ASSERT(e != NULL);
    out->index = index;
    out->term = e->term;
    out->client_id = e->client_id;
    out->sequence = e->sequence;
    out->floor = e->floor;
    out->data = rf_rft_log_data(l, e);
    out->len = e->len;
    out->kind = e->kind;
}

/* client, seq, floor: the entry's session fields (rf_entry). */
int rf_rft_log_append(raft_log *l, uint64_t term, uint8_t kind, uint64_t client, uint64_t seq,
                      uint64_t floor, const uint8_t *data, uint32_t len);
void rf_rft_log_truncate(raft_log *l, uint64_t from);        /* drop >= from */
void rf_rft_log_compact(raft_log *l, uint64_t index, uint64_t term); /* drop <= index */
void rf_rft_log_reset(raft_log *l, uint64_t index, uint64_t term);   /* empty, snapshot at index */
size_t rf_rft_log_memory(const raft_log *l);

/* ---- codec helpers (codec.c) ------------------------------------------- */

#define MEMBERSHIP_BYTES_MAX (4u + RF_RAFT_MEMBERS_MAX * 9u)
size_t rf_rft_membership_encode(const rf_membership *m, uint8_t *out);
int rf_rft_membership_decode(const uint8_t *p, size_t len, rf_membership *m);
bool rf_rft_membership_valid(const rf_membership *m);

/* ---- the rf_raft ------------------------------------------------------- */

enum { PEER_PROBE = 0, PEER_REPLICATE = 1, PEER_SNAPSHOT = 2 };

typedef struct raft_peer {
    uint64_t id;
    uint64_t next;
    uint64_t match;
    uint64_t acked_round; /* highest heartbeat round acknowledged */
    uint64_t hb_match;    /* match at the previous heartbeat reply */
    uint64_t counts_from; /* its match counts for commit from this index on (promotion) */
    uint64_t last_heard_ns;
    uint64_t inflight[RAFT_INFLIGHT_MAX]; /* last index of each append in flight */
    uint32_t inflight_head;
    uint32_t inflight_n;
    uint64_t snap_index; /* snapshot being sent */
    uint64_t snap_offset;
    uint8_t state;
    uint8_t voter;
    bool probe_sent;
    bool active;        /* heard from since the last check-quorum */
    bool unreachable;
    bool need_send;     /* send an append even if empty (commit, probe) */
    bool wake;          /* send new entries, if any */
    bool granted;       /* vote / pre-vote bookkeeping */
    bool rejected;
} raft_peer;

typedef struct held_msg {
    uint64_t token; /* send once persisted >= token */
    rf_send send;
} held_msg;

typedef struct pending_req {
    uint64_t index;
    uint64_t term;
    uint64_t request_id;
} pending_req;

typedef struct pending_read {
    uint64_t request_id;
    uint64_t round;      /* heartbeat round that must be acknowledged */
    uint64_t read_index; /* 0: not yet known (no current-term commit) */
    size_t off;          /* query bytes in read_buf */
    uint32_t len;
} pending_read;

/* Only a snapshot carries a membership (the last field of rf_msg, two
 * thirds of it): other messages set and copy the part before it and keep
 * an empty one; nothing reads the members of a message that is not a
 * snapshot. */
#define RF_MSG_HEAD_BYTES offsetof(rf_msg, membership)

/* Zeroes m but for the members of its (empty) membership. */
static inline void rf_rft_msg_clear(rf_msg *m)
{
    memset(m, 0, RF_MSG_HEAD_BYTES);
    m->membership.count = 0;
}

#define DEDUP_SMALL_BYTES 16u /* a reply this short (an int model's) lives in its record */

/* One kept reply of a session. */
typedef struct dedup_reply {
    uint64_t seq;
    int32_t status;
    uint32_t len;
    union {
        uint8_t small[DEDUP_SMALL_BYTES];
        uint8_t *big; /* len bytes, when len > DEDUP_SMALL_BYTES */
    } u;
} dedup_reply;

static inline const uint8_t *rf_rft_dedup_reply(const dedup_reply *d)
{
    return d->len <= DEDUP_SMALL_BYTES ? d->u.small : d->u.big;
}

/* One client session of the de-dup table (session.c). The table's
 * allocation holds dedup_cap slots followed by dedup_cap client ids: a
 * probe reads ids only, eight to a cache line, and touches a slot on a
 * hit. The kept replies are a ring sorted by sequence, all >= floor. */
typedef struct dedup_slot {
    uint64_t client_id; /* 0: free; the same as the id array's entry */
    uint64_t floor;     /* sequences below it are forgotten (RF_ESESSION) */
    uint64_t index;     /* last applied: LRU order */
    dedup_reply *rep;   /* rep_cap records (a power of two), rep_n from rep_head */
    uint32_t rep_head, rep_n, rep_cap;
} dedup_slot;

/* One entry of the de-dup table's apply order (eviction picks the session
 * applied least recently without scanning the table). */
typedef struct dedup_age {
    uint64_t index;
    uint64_t client_id;
} dedup_age;

typedef struct out_reply {
    uint64_t request_id;
    int status;
    uint64_t leader_hint;
    size_t off;
    uint32_t len;
} out_reply;

typedef struct out_applied {
    rf_applied a; /* reply pointer filled at ready time */
    size_t off;
} out_applied;

typedef struct token_mark {
    uint64_t token;
    uint64_t last_index;
} token_mark;

struct rf_raft {
    rf_raft_config cfg;
    const rf_allocator *a;
    rf_pcg32 rng;
    uint64_t now;
    bool started; /* the first tick was seen */
    bool in_ready;

    /* persistent state (Raft paper Figure 2) */
    uint64_t term;
    uint64_t vote;
    raft_log log;
    uint64_t hs_term; /* last hard state handed to the driver */
    uint64_t hs_vote;

    /* volatile state */
    rf_role role;
    uint64_t leader;
    uint64_t commit;
    uint64_t applied;
    uint64_t election_deadline_ns;
    uint64_t leader_contact_ns; /* last time a leader was heard from */
    bool leader_contact;
    bool contact_untimed; /* heard from a leader since the last tick */

    /* membership (Raft thesis §4.1: the latest entry in the log rules) */
    rf_membership conf;
    uint64_t conf_index;
    rf_membership snap_conf;   /* at log.snap_index */
    rf_membership applied_conf;
    raft_peer *peers;  /* the other members of conf, sized to them: an idle
                        * member of a group of 3 keeps 2, not 15 */
    uint32_t n_peers;  /* other members of conf */
    uint32_t peers_cap;
    bool self_voter;

    /* election */
    bool self_vote_counted;
    uint64_t self_vote_token;

    /* leader */
    uint64_t heartbeat_due_ns;
    uint64_t quorum_check_ns;
    uint64_t round;            /* heartbeat round (ReadIndex, lease) */
    uint64_t round_sent_ns[RAFT_ROUNDS_KEPT];
    uint64_t confirmed_round;
    uint64_t lease_until_ns;
    uint64_t transfer_target;
    uint64_t transfer_deadline_ns;
    uint64_t transfer_request; /* 0: none to reply */
    bool transfer_reply;
    bool timeout_now_sent;
    bool no_lease; /* a TimeoutNow left in this term: ReadIndex only */
    bool bcast;
    pending_req *props; /* ring */
    size_t props_cap, props_head, props_n;
    pending_read *reads;
    size_t reads_cap, reads_n;
    uint8_t *read_buf;
    size_t read_buf_cap, read_buf_len;
    uint64_t round_fresh; /* a round whose heartbeats have not left yet */

    /* durability */
    uint64_t write_seq;
    uint64_t persisted;
    bool pending_write;
    uint64_t persist_from; /* lowest index to (re)write; UINT64_MAX none */
    bool truncated;
    uint64_t durable_index;
    token_mark *marks;
    size_t marks_cap, marks_n;
    bool snap_pending; /* snapshot to hand to the driver */

    /* model, de-dup and snapshots */
    void *model_state;
    dedup_slot *dedup;
    size_t dedup_cap, dedup_n;
    /* The table's clients in apply order, oldest first (a ring; entries
     * whose client applied again later are stale and skipped). Valid only
     * when dedup_q_ok: else rebuilt from the table before an eviction. */
    dedup_age *dedup_q;
    size_t dedup_q_head, dedup_q_n, dedup_q_cap;
    bool dedup_q_ok;
    uint8_t *snap_data; /* latest snapshot's bytes (sent to lagging peers) */
    size_t snap_len;
    rf_membership snap_data_conf;
    uint64_t snap_data_index, snap_data_term;
    uint8_t *recv_buf; /* snapshot being received */
    size_t recv_cap, recv_len;
    uint64_t recv_index, recv_term, recv_total;

    /* outputs */
    rf_send *msgs;
    size_t msgs_cap, msgs_n;
    held_msg *held;
    size_t held_cap, held_n;
    out_reply *replies;
    size_t replies_cap, replies_n;
    out_applied *appl;
    size_t appl_cap, appl_n;
    rf_observation *obs;
    size_t obs_cap, obs_n;
    uint8_t *arena;
    size_t arena_cap, arena_len;
    rf_entry *out_ents;
    size_t out_ents_cap;
    rf_reply *out_replies;
    size_t out_replies_cap;
    rf_applied *out_appl;
    size_t out_appl_cap;
    size_t out_msgs_n; /* messages handed out in the current rf_ready */
    uint32_t idle_batches;
    rf_entry *decode_ents; /* rf_raft_receive_bytes */
    size_t decode_cap;

    rf_raft_counters ctr;
};

/* Leader leases are on: the drift margin leaves some of the election
 * timeout (raft.h lease_drift_ns). */
static inline bool rf_rft_leases_on(const rf_raft *r)
{
    return r->cfg.lease_drift_ns < r->cfg.election_timeout_ns;
}


/* raft.c */
uint32_t rf_rft_quorum(const rf_raft *r);
raft_peer *rf_rft_peer_find(rf_raft *r, uint64_t id);
void rf_rft_sync_peers(rf_raft *r);
void rf_rft_set_conf(rf_raft *r, const rf_membership *m, uint64_t index);
void rf_rft_recompute_conf(rf_raft *r);
int rf_rft_send(rf_raft *r, const rf_msg *m);          /* now */
int rf_rft_send_durable(rf_raft *r, const rf_msg *m);  /* after the pending write */
void rf_rft_msg_init(const rf_raft *r, rf_msg *m, uint8_t type, uint64_t to);
int rf_rft_reply_off(rf_raft *r, uint64_t request_id, int status, size_t off, size_t len);
int rf_rft_reply(rf_raft *r, uint64_t request_id, int status, const uint8_t *data, size_t len);
void rf_rft_observe(rf_raft *r, uint8_t kind, uint64_t node, uint64_t index);
int rf_rft_arena_put(rf_raft *r, const uint8_t *data, size_t len, size_t *off);
void rf_rft_mark_write(rf_raft *r, uint64_t from_index);
int rf_rft_append_local(rf_raft *r, uint8_t kind, uint64_t client, uint64_t seq,
                      const uint8_t *data, uint32_t len);
/* A client command with its session fields (rf_entry). */
int rf_rft_append_command(rf_raft *r, uint64_t client, uint64_t seq, uint64_t floor,
                          const uint8_t *data, uint32_t len);
void rf_rft_truncate_local(rf_raft *r, uint64_t from);
void rf_rft_drop_held(rf_raft *r, uint64_t min_term, uint64_t max_index);

/* election.c */
void rf_rft_election_reset_timer(rf_raft *r);
void rf_rft_election_become_follower(rf_raft *r, uint64_t term, uint64_t leader);
void rf_rft_election_tick(rf_raft *r);
void rf_rft_election_campaign(rf_raft *r, bool pre_vote, bool transfer);
void rf_rft_election_self_vote_durable(rf_raft *r);
int rf_rft_election_gate(rf_raft *r, const rf_msg *m, bool *drop);
int rf_rft_election_recv(rf_raft *r, const rf_msg *m);
bool rf_rft_election_in_lease(const rf_raft *r);
void rf_rft_election_set_leader(rf_raft *r, uint64_t leader);

/* replication.c */
void rf_rft_repl_become_leader_init(rf_raft *r);
void rf_rft_repl_send_append(rf_raft *r, raft_peer *p, bool allow_empty);
void rf_rft_repl_flush(rf_raft *r);
void rf_rft_repl_heartbeat(rf_raft *r);
void rf_rft_repl_maybe_commit(rf_raft *r);
int rf_rft_repl_recv_append(rf_raft *r, const rf_msg *m);
int rf_rft_repl_recv_append_resp(rf_raft *r, const rf_msg *m);
int rf_rft_repl_recv_heartbeat(rf_raft *r, const rf_msg *m);
int rf_rft_repl_recv_heartbeat_resp(rf_raft *r, const rf_msg *m);
void rf_rft_repl_round_acked(rf_raft *r);
void rf_rft_repl_leader_tick(rf_raft *r);
void rf_rft_repl_peer_probe(raft_peer *p, uint64_t next);
void rf_rft_repl_inflight_free_to(raft_peer *p, uint64_t index);

/* membership.c */
int rf_rft_member_change(rf_raft *r, uint64_t request_id, uint64_t node, int op);
void rf_rft_member_transfer_check(rf_raft *r, raft_peer *p);
int rf_rft_member_start_transfer(rf_raft *r, uint64_t request_id, bool reply, uint64_t target);
void rf_rft_member_transfer_end(rf_raft *r, int status);
void rf_rft_member_applied_config(rf_raft *r, const rf_membership *m, uint64_t index);
enum { MEMBER_ADD = 1, MEMBER_PROMOTE = 2, MEMBER_REMOVE = 3 };

/* apply.c */
void rf_rft_apply_committed(rf_raft *r);
void rf_rft_apply_fail_pending(rf_raft *r, int status);
int rf_rft_apply_read(rf_raft *r, uint64_t request_id, const uint8_t *q, size_t len);
void rf_rft_apply_reads(rf_raft *r);
void rf_rft_apply_lease_reads(rf_raft *r);
/* session.c: the client sessions (Raft thesis §6.3; contract in raft.h,
 * rf_raft_propose). Table encoding version 2 (snapshot version 2); version
 * 1 (one reply per client, earlier snapshots) is still read. */
#define DEDUP_NEW 0       /* a sequence the session has not applied */
#define DEDUP_KEPT 1      /* applied: *out is its reply */
#define DEDUP_FORGOTTEN 2 /* below the session's floor: RF_ESESSION */
int rf_rft_dedup_check(const rf_raft *r, uint64_t client, uint64_t seq, const dedup_reply **out);
/* Records an applied command (client != 0) and its reply; the entry's
 * floor first drops the replies below it. */
int rf_rft_dedup_store(rf_raft *r, uint64_t client, uint64_t seq, uint64_t floor,
                       uint64_t index, int status, const uint8_t *reply, uint32_t len);
void rf_rft_dedup_prefetch(const rf_raft *r, uint64_t client);
int rf_rft_dedup_encode(const rf_raft *r, uint8_t **out, size_t *len);
/* Replaces the table with len bytes of encoding version (1 or 2), all of
 * them; on failure (RF_EBADMSG, RF_ENOMEM) the table is left as it was. */
int rf_rft_dedup_decode(rf_raft *r, const uint8_t *p, size_t len, int version);
void rf_rft_dedup_free(rf_raft *r);
size_t rf_rft_dedup_memory(const rf_raft *r);
const dedup_slot *rf_rft_dedup_find(const rf_raft *r, uint64_t client);
int rf_rft_pending_push(rf_raft *r, uint64_t index, uint64_t request_id);

/* snapshot.c */
int rf_rft_snap_encode(rf_raft *r, uint8_t **out, size_t *len);
int rf_rft_snap_load(rf_raft *r, const uint8_t *data, size_t len);
void rf_rft_snap_maybe_take(rf_raft *r);
void rf_rft_snap_send_chunk(rf_raft *r, raft_peer *p);
int rf_rft_snap_recv(rf_raft *r, const rf_msg *m);
int rf_rft_snap_recv_resp(rf_raft *r, const rf_msg *m);

#endif

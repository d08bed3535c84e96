/* node_int: rf_node's internal layout and the functions its files share. */
#ifndef RF_NODE_INT_H
#define RF_NODE_INT_H

#include "base/rf_le.h"
#include "fleet/rf_node.h"

/* Frame: "RN", u8 version, u8 0, u64 from, u32 record count, then records
 * (u8 type, u32 length, bytes). Little-endian. */
#define NODE_FRAME_HEAD 16u
#define NODE_REC_HEAD 5u
#define NODE_REC_RAFT 1u      /* an rf_msg_encode'd message */
#define NODE_REC_FWD 2u       /* u64 token, u8 kind, u64 group, u64 client, seq, floor, payload */
#define NODE_REC_FWD_REPLY 3u /* u64 token, u32 status, u64 leader hint, payload */
#define NODE_REC_STOP 4u      /* u64 group, u64 index of the config that removed the addressee */
#define NODE_REC_QUIESCE 5u   /* u64 group, u64 term[, u64 commit]: the leader went quiet */
#define NODE_REC_HB 6u        /* empty: the node-pair heartbeat */
#define NODE_REC_EVICT 7u     /* empty: "the metadata I know has no node of yours" */
#define NODE_REC_META 8u      /* u64 index, then the metadata state's encoding */
#define NODE_REC_META_ACK 9u  /* u64 index: the pushed state this node holds */
#define NODE_META_HEAD 8u
#define NODE_META_ACK_LEN 8u
#define NODE_QUIESCE_LEN 24u     /* with the commit index */
#define NODE_QUIESCE_LEN_OLD 16u /* without (builds before the commit was sent) */
#define NODE_FWD_HEAD 41u
#define NODE_STOP_LEN 16u
#define NODE_FWD_REPLY_HEAD 20u

#define NODE_GROUP_HINTS 1024u /* entries of the group lookup memo */
#define NODE_TOKEN_LIFE_SHIFT 40u /* tokens of incarnation i start at i << 40 */
#define NODE_FRAME_KEEP_BYTES 65536u /* frame buffers up to this size are kept between batches */
#define NODE_GROUP_SEEN_BITS 4096u /* bits of the map of ids ever inserted */
#define NODE_META_NAME "fleet-meta" /* the metadata group's placement name */
/* Follow-up steps in a row retried a heartbeat later because the learner
 * lagged or a change was still uncommitted; past it, the next round. */
#define NODE_REBAL_WAITS_MAX 64u

typedef enum node_req_kind { NODE_REQ_COMMAND = 1, NODE_REQ_QUERY = 2 } node_req_kind;

typedef enum node_role {
    NODE_PEND_DEAD = 0,     /* dropped: kept in place (the table stays sorted
                             * for the binary search) until compaction */
    NODE_PEND_USER = 1,     /* a request of this node's caller */
    NODE_PEND_INTERNAL = 2, /* a request the node makes itself (clean-up, leave) */
    NODE_PEND_SERVE = 3,    /* a request forwarded here by another node */
    NODE_PEND_REBAL = 4     /* a local membership change or transfer */
} node_role;

#define NODE_TARGET_KEPT 7u /* voters of a group's target kept with it (more: recomputed) */

typedef struct node_group {
    uint64_t id;
    rf_raft *raft;
    const rf_model *model;
    bool in_ready;       /* rf_raft_ready called, rf_raft_advance due */
    bool dirty;          /* had an input since the last batch (in n->dirty) */
    bool quiet;          /* quiesced: not ticked, its clock stopped */
    uint64_t rebal_token; /* the rebalancing step in flight, 0: none */
    bool rebal_soon;     /* a follow-up step is due at rebal_soon_at */
    uint64_t rebal_soon_at; /* node time of the follow-up step */
    uint32_t rebal_waits; /* follow-ups in a row that had to wait (lagging) */
    uint64_t clock_offset; /* group time = node time - offset */
    uint64_t frozen_at;  /* group time when it went quiet */
    uint64_t last_active; /* node time of the last non-heartbeat work */
    uint64_t leaderless_since; /* node time, 0: a leader is known */
    bool leaderless_told; /* RF_NODE_OBS_LEADERLESS sent for this episode */
    uint64_t ticked_at;  /* node time of the member's last rf_raft_tick */
    uint64_t due_at;     /* 1 + node time of its entry in the due heap, 0: none */
    /* Leader: the term and commit of the last QUIESCE notice, sent when
     * settled with every follower in reach; cleared by any message but a
     * heartbeat (or its answer) to or from a member since (notice_term 0). */
    uint64_t notice_term, notice_commit;
    /* Its placement target (voters, desired leader first) for the nodes
     * epoch tgt_epoch - 1 (0: none kept): rounds look at every group. */
    uint64_t tgt_epoch;
    uint8_t tgt_n;
    uint64_t tgt[NODE_TARGET_KEPT];
} node_group;

/* An entry of the due wheel: group id is due at node time at. */
typedef struct node_due {
    uint64_t at, id;
} node_due;

typedef struct node_pending {
    uint64_t token;     /* request id given to rf_raft, and on the wire */
    uint8_t role;       /* node_role */
    uint8_t kind;       /* node_req_kind */
    uint8_t meta_op;    /* rf_meta_op of a metadata command, else 0 */
    bool self_check;    /* INTERNAL: is this node still in the metadata? */
    uint64_t request_id; /* USER: the caller's id; SERVE: the origin's token */
    uint64_t origin;    /* SERVE: the origin node */
    uint64_t group_id;  /* resolved at dispatch (0: not yet) */
    uint64_t aux;       /* INTERNAL: the group a clean-up is about */
    uint64_t client_id, seq, floor; /* commands: the session fields (0: none yet) */
    uint64_t via;       /* non-zero: every attempt goes through this node */
    uint64_t target;    /* node tried now, 0: to pick */
    uint64_t deadline;  /* end of the attempt in flight */
    uint64_t retry_at;  /* 0: in flight; else next attempt at or after it */
    uint64_t give_up_at; /* non-zero: a time budget replaces the attempt count */
    uint32_t attempts, hops;
    uint8_t *payload;
    uint32_t len;
    char *name;         /* the group's name (USER and INTERNAL), owned; with a name,
                         * the payload lives in its block (rf_node__pending_free_copies) */
} node_pending;

/* The sequences of the commands to one group that await an outcome (and
 * the ended ones after the oldest still awaiting), in order: a ring of u64,
 * NODE_SEQ_DONE marking the ended. The first one not ended is the floor. */
#define NODE_SEQ_DONE (1ull << 63)
typedef struct node_session {
    uint64_t group_id;
    uint64_t *seqs;
    uint32_t head, n, cap; /* cap: a power of two */
} node_session;

typedef struct node_cache {
    uint64_t group_id, leader, term;
} node_cache;

typedef struct node_frame {
    uint64_t to;
    uint8_t *buf;
    size_t len, cap;
    uint32_t records;
} node_frame;

typedef struct node_reply_rec {
    uint64_t request_id;
    int status;
    size_t off; /* into the reply arena */
    uint32_t len;
} node_reply_rec;

typedef struct node_tok {
    uint64_t node_token, group_id, raft_token;
} node_tok;

typedef struct node_peer_down {
    uint64_t peer, since;
} node_peer_down;

/* What the metadata leader pushed to a node that holds no replica. */
typedef struct node_push {
    uint64_t peer;
    uint64_t acked;   /* index the peer says it holds */
    uint64_t sent;    /* index last sent */
    uint64_t sent_at; /* node time of that send */
} node_push;

typedef struct node_tomb {
    uint64_t group, term;
} node_tomb;

typedef struct node_heard {
    uint64_t peer, at;
    bool suspected;
} node_heard;

/* A growable array of fixed-size items. */
typedef struct node_vec {
    void *p;
    size_t n, cap;
} node_vec;

#define NODE_WHEEL_SHIFT 23u   /* a slot of the due wheel: 2^23 ns, 8.4 ms */
#define NODE_WHEEL_SLOTS 2048u /* slots: 17 s of node time ahead */
typedef struct node_wheel {
    node_vec *slots;   /* NODE_WHEEL_SLOTS vectors of node_due, NULL: none yet */
    uint64_t cursor;   /* the slot of the last tick: earlier ones are empty */
    node_vec far;      /* node_due beyond the slots' reach */
    uint64_t far_min;  /* the earliest time in far */
    uint64_t next;     /* a bound: no entry is due before it (valid when next_ok) */
    bool next_ok;
    uint64_t used[NODE_WHEEL_SLOTS / 64]; /* bit s % SLOTS: slot s holds entries */
} node_wheel;

struct rf_node {
    rf_node_config cfg;
    char name[RF_PLACEMENT_NAME_MAX + 1];
    char zone[RF_PLACEMENT_NAME_MAX + 1]; /* of the last activate; "" once draining */
    const rf_model *models[RF_NODE_MODELS_MAX];
    uint64_t now;
    bool clock_known;    /* a tick gave the time: before it, now reads 0 */
    uint64_t join_via;
    uint64_t next_token;
    uint64_t next_round;
    uint64_t seen_epoch;
    bool in_ready;
    bool leaving;        /* REMOVE_NODE of self submitted */
    bool meta_dirty;     /* the metadata applied entries since the last tick */
    bool self_checking;  /* a self check is under way */
    bool evicted;        /* the metadata leader says this node was removed */
    bool rebal_any;      /* some group may have rebal_soon set */

    node_group *groups; /* sorted by id */
    size_t n_groups, cap_groups;
    uint32_t group_hint[NODE_GROUP_HINTS]; /* id % size -> a likely position in groups */
    uint64_t group_seen[NODE_GROUP_SEEN_BITS / 64]; /* bit id % size: some id inserted */
    node_vec hosted;    /* u64 ids of every group ever hosted (no re-bootstrap) */
    node_vec tombs;     /* node_tomb sorted by group: the term of each stopped member */
    node_vec pending;   /* node_pending sorted by token */
    node_vec sessions;  /* node_session sorted by group: commands awaiting an outcome */
    uint64_t next_seq;   /* the session's next sequence (one series for all groups) */
    size_t pending_dead; /* entries of role NODE_PEND_DEAD in it */
    bool pending_ticking; /* in rf_node__pending_tick: no compaction */
    node_vec cache;     /* node_cache sorted by group id */
    node_vec down;      /* node_peer_down sorted by peer */
    node_vec heard;     /* node_heard sorted by peer: last frame from each */
    node_vec dirty;     /* u64 ids of groups with an input since the last batch */
    bool all_dirty;     /* a tick or hint touched every group: look at all */
    node_vec readied;   /* u64 ids of groups in the batch under way */
    node_wheel due;     /* when each group's timers have work (node_quiet.c) */
    node_vec carry;     /* u64 ids of groups with output left after their batch */
    node_vec settling;  /* u64 ids: leaders of the last batch that may now be settled */
    node_vec ticking;   /* u64 ids of the groups the tick under way looks at */
    uint64_t next_hb;   /* next node-pair heartbeat round */

    /* outputs of the step under way */
    node_vec frames;    /* node_frame */
    size_t frames_kept; /* slots of frames.p holding a buffer (>= frames.n) */
    node_vec replies;   /* node_reply_rec */
    uint8_t *arena;
    size_t arena_len, arena_cap;
    node_vec obs;       /* rf_node_obs */
    node_vec writes;    /* rf_node_write */
    node_vec applied;   /* rf_node_applied */
    node_vec toks;      /* node_tok, FIFO of writes not yet durable */
    uint64_t persist_token;
    /* ready's arrays handed out (their room kept from batch to batch) */
    node_vec env;       /* rf_node_envelope */
    node_vec rep;       /* rf_node_reply */

    rf_entry *scratch_entries; /* RF_MSG_ENTRIES_MAX, for decoding */
    rf_node_counters ctr;

    /* durable state of the node itself (node_journal.c, rf_node_store.h) */
    uint64_t incarnation;     /* 1 for a fresh node, one more per restore */
    uint64_t incarnation_token; /* persist token of the batch recording it */
    bool incarnation_durable; /* client ids may be used from then on */
    bool meta_synced;         /* the metadata replica can be trusted (a
                               * restored one: once it caught up) */
    uint64_t meta_sync_index; /* restored: the metadata log's last index */
    node_vec jrec;            /* u8: this step's journal records, each u32 length + bytes */
    size_t jrec_count;
    node_vec jents;           /* rf_entry: the journal write handed out */
    uint8_t *jsnap;           /* the journal snapshot handed out */
    size_t jsnap_len;
    uint64_t journal_last;    /* last journal index used */
    uint64_t journal_records; /* records since the last journal snapshot */
    node_vec drops;           /* u64: groups whose logs the next batch forgets */

    /* the metadata of a node that holds no replica (node_push.c) */
    void *meta_pushed;        /* an rf_meta state, NULL: none yet */
    uint64_t meta_pushed_index;
    node_vec pushes;          /* node_push, sorted by peer: on the metadata leader */
};

/* node.c */
int rf_node__new(const rf_node_config *cfg, rf_node **out); /* no journal record */
void rf_node__raft_config(const rf_node *n, uint64_t id, const rf_model *model,
                          rf_raft_config *rc);
bool rf_node__vec_reserve(node_vec *v, size_t elem, size_t more);
/* A zeroed item inserted at index at (the later ones move up), or NULL. */
void *rf_node__vec_insert(node_vec *v, size_t elem, size_t at);
node_group *rf_node__group(rf_node *n, uint64_t id);
int rf_node__start_group(rf_node *n, uint64_t id, bool bootstrap, uint8_t reason);
void rf_node__stop_group(rf_node *n, uint64_t id, uint8_t reason);
rf_raft *rf_node__meta_raft(const rf_node *n);
const rf_model *rf_node__model(const rf_node *n, const char *name);
void rf_node__obs(rf_node *n, uint8_t kind, uint8_t reason, uint64_t group, uint64_t term,
                  uint64_t node);
void rf_node__reply(rf_node *n, uint64_t request_id, int status, const uint8_t *data,
                    size_t len);
bool rf_node__hosted_ever(const rf_node *n, uint64_t id);
/* g had an input: the next batch must look at it. */
void rf_node__dirty(rf_node *n, node_group *g);
void rf_node__down_since(rf_node *n, uint64_t peer, uint64_t since);
/* Was peer reported (or found) unreachable and not reachable since? */
bool rf_node__peer_down(const rf_node *n, uint64_t peer);
void rf_node__watch_leader(rf_node *n, node_group *g);

/* node_journal.c */
int rf_node__journal_fresh(rf_node *n);
void rf_node__journal_started(rf_node *n, uint64_t id, const rf_model *model);
void rf_node__journal_stopped(rf_node *n, uint64_t id, uint64_t term);
void rf_node__journal_zone(rf_node *n);
void rf_node__journal_drop(rf_node *n, uint64_t id);
int rf_node__journal_incarnation(rf_node *n, uint64_t incarnation);
bool rf_node__journal_has_ready(const rf_node *n);
void rf_node__journal_ready(rf_node *n);
void rf_node__journal_advance(rf_node *n);
void rf_node__journal_persisted(rf_node *n, uint64_t token);
void rf_node__meta_sync_tick(rf_node *n);
uint64_t rf_node__client_id(const rf_node *n);
bool rf_node__hosted_add(rf_node *n, uint64_t id);
int rf_node__insert_group(rf_node *n, uint64_t id, rf_raft *r, const rf_model *model);

/* node_session.c */
/* Gives a command its sequence (at its first attempt) and the floor of this
 * attempt; false while the group's window is full (try again later). */
bool rf_node__session_attempt(rf_node *n, node_pending *p);
/* The command's outcome is final (or given up): it leaves the floor. */
void rf_node__session_done(rf_node *n, node_pending *p);
void rf_node__session_free(rf_node *n);

/* node_push.c */
void rf_node__push_tick(rf_node *n);
uint64_t rf_node__push_due(rf_node *n); /* the next push_tick with work (n->now: at once) */
void rf_node__on_meta(rf_node *n, uint64_t from, const uint8_t *rec, size_t len);
void rf_node__on_meta_ack(rf_node *n, uint64_t from, const uint8_t *rec);
void rf_node__push_free(rf_node *n);

/* node_frame.c */
bool rf_node__frame_append(rf_node *n, uint64_t to, uint8_t type, const uint8_t *head,
                           size_t head_len, const uint8_t *body, size_t body_len);
void rf_node__frames_reset(rf_node *n);
void rf_node__frames_free(rf_node *n); /* at close: the kept buffers too */
/* Little-endian fields of `bytes` bytes; the sizes are constants at every
 * call, so the common ones become one load or store. */
static inline void rf_node__put(uint8_t *p, uint64_t v, int bytes)
{
    if (bytes == 8) {
        rf_le_put64(p, v);
        return;
    }
    if (bytes == 4) {
        rf_le_put32(p, (uint32_t)v);
        return;
    }
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t rf_node__get(const uint8_t *p, int bytes)
{
    if (bytes == 8)
        return rf_le_get64(p);
    if (bytes == 4)
        return rf_le_get32(p);
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* node_req.c */
node_pending *rf_node__pending(rf_node *n, uint64_t token);
void rf_node__pending_drop(rf_node *n, uint64_t token);
void rf_node__pending_free_copies(node_pending *p);
node_pending *rf_node__pending_new(rf_node *n, uint8_t role);
void rf_node__dispatch(rf_node *n, node_pending *p);
void rf_node__on_result(rf_node *n, uint64_t token, uint64_t from, int status, uint64_t hint,
                        const uint8_t *data, size_t len);
void rf_node__on_forward(rf_node *n, uint64_t from, const uint8_t *rec, size_t len);
void rf_node__pending_tick(rf_node *n);
uint64_t rf_node__pending_due(const rf_node *n); /* the next pending_tick with work */
void rf_node__cache_set(rf_node *n, uint64_t group, uint64_t leader, uint64_t term);
const node_cache *rf_node__cache_get(const rf_node *n, uint64_t group);
int rf_node__submit_meta(rf_node *n, uint8_t role, uint64_t request_id, const uint8_t *cmd,
                         size_t len, uint64_t aux);

/* node_quiet.c */
void rf_node__touch(rf_node *n, node_group *g);
void rf_node__wake(rf_node *n, node_group *g);
void rf_node__quiet_tick(rf_node *n);
/* g, a leader an input or a batch touched, may be settled now: the next
 * rf_node__quiet_settled (after the frame or the batch) looks. */
void rf_node__settling_add(rf_node *n, const node_group *g);
/* The settled leaders among them go quiet. */
void rf_node__quiet_settled(rf_node *n);
/* The node time of the next tick that has work for the groups or the
 * node-pair heartbeats (tick_groups and quiet_tick); refreshes the due
 * times of the groups inputs touched. */
uint64_t rf_node__groups_due(rf_node *n);
void rf_node__heard(rf_node *n, uint64_t peer);
void rf_node__on_quiesce(rf_node *n, uint64_t from, const uint8_t *rec, size_t len);
void rf_node__wake_led_by(rf_node *n, uint64_t peer);
void rf_node__clock(rf_node *n, node_group *g);
void rf_node__due_update(rf_node *n, node_group *g);
void rf_node__tick_groups(rf_node *n);
void rf_node__due_free(rf_node *n);
void rf_node__sort_ids(uint64_t *ids, size_t n); /* ascending */

/* node_rebal.c */
void rf_node__round(rf_node *n);
void rf_node__self_check(rf_node *n, uint64_t from);
void rf_node__tomb_set(rf_node *n, uint64_t group, uint64_t term);
/* The term a member of group stopped here knew, 0 when none was. */
uint64_t rf_node__tomb_term(const rf_node *n, uint64_t group);
void rf_node__evict(rf_node *n);
void rf_node__meta_changed(rf_node *n);
void rf_node__rebal_followups(rf_node *n);
void rf_node__rebal_done(rf_node *n, node_group *g, int status);

#endif

/* node_frame: the node-level envelope (one versioned, bounded frame per peer) and its receipt. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_lower.h"
#include "fleet/node_int.h"

/* The open frame to `to` with room for need more bytes, or a new one. */
static node_frame *frame_for(rf_node *n, uint64_t to, size_t need)
{
    node_frame *f = n->frames.p;
    for (size_t i = n->frames.n; i > 0; i--) {
        if (f[i - 1].to != to)
            continue;
        if (f[i - 1].len + need <= RF_NODE_FRAME_BYTES_MAX &&
            f[i - 1].records < RF_NODE_FRAME_RECORDS_MAX)
            return &f[i - 1];
        break; /* full: a second frame to the same peer */
    }
    if (!rf_node__vec_reserve(&n->frames, sizeof *f, 1))
        return NULL;
    f = (node_frame *)n->frames.p + n->frames.n;
    /* The slot's buffer from an earlier batch is used again (no malloc and
     * free per envelope); slots past frames_kept have none. */
    uint8_t *buf = n->frames.n < n->frames_kept ? f->buf : NULL;
    size_t cap = buf != NULL ? f->cap : 256;
    if (buf == NULL) {
        buf = malloc(cap);
        if (buf == NULL)
            return NULL;
        ASSERT(n->frames.n == n->frames_kept);
        n->frames_kept++;
    }
    memset(f, 0, sizeof *f);
    f->to = to;
    f->buf = buf;
    f->cap = cap;
    f->buf[0] = 'R';
    f->buf[1] = 'N';
    f->buf[2] = RF_NODE_WIRE_VERSION;
    f->buf[3] = 0;
    rf_node__put(f->buf + 4, n->cfg.node_id, 8);
    rf_node__put(f->buf + 12, 0, 4);
    f->len = NODE_FRAME_HEAD;
    n->frames.n++;
    return f;
}

/* Appends one record (head then body) to the frame for `to`. False when
 * memory runs out: the record is lost like a dropped message, which Raft
 * and the request retries tolerate. */
bool rf_node__frame_append(rf_node *n, uint64_t to, uint8_t type, const uint8_t *head,
                           size_t head_len, const uint8_t *body, size_t body_len)
{
    size_t rec = NODE_REC_HEAD + head_len + body_len;
    ASSERT(rec + NODE_FRAME_HEAD <= RF_NODE_FRAME_BYTES_MAX);
    node_frame *f = frame_for(n, to, rec);
    if (f == NULL)
        return false;
    if (f->len + rec > f->cap) {
        size_t cap = f->cap;
        while (cap < f->len + rec)
            cap *= 2;
        uint8_t *b = realloc(f->buf, cap);
        if (b == NULL)
            return false;
        f->buf = b;
        f->cap = cap;
    }
    uint8_t *p = f->buf + f->len;
    p[0] = type;
    rf_node__put(p + 1, head_len + body_len, 4);
    if (head_len > 0)
        memcpy(p + NODE_REC_HEAD, head, head_len);
    if (body_len > 0)
        memcpy(p + NODE_REC_HEAD + head_len, body, body_len);
    f->len += rec;
    f->records++;
    rf_node__put(f->buf + 12, f->records, 4);
    return true;
}

/* Ends the batch's frames; their buffers stay for the next batch, except
 * large ones (a metadata push), which are not kept for good. */
void rf_node__frames_reset(rf_node *n)
{
    node_frame *f = n->frames.p;
    ASSERT(n->frames.n <= n->frames_kept);
    size_t keep = 0;
    for (size_t i = 0; i < n->frames_kept; i++) {
        if (f[i].cap > NODE_FRAME_KEEP_BYTES) {
            free(f[i].buf);
            continue;
        }
        f[keep++] = f[i]; /* the order of spare slots does not matter */
    }
    n->frames_kept = keep;
    n->frames.n = 0;
}

void rf_node__frames_free(rf_node *n)
{
    rf_node__frames_reset(n);
    node_frame *f = n->frames.p;
    for (size_t i = 0; i < n->frames_kept; i++)
        free(f[i].buf);
    n->frames_kept = 0;
    free(n->frames.p);
    n->frames.p = NULL;
    n->frames.cap = 0;
}

/* ---- receipt ------------------------------------------------------------------ */

/* Checks the whole frame before anything of it is applied. */
static int frame_check(uint64_t from, const uint8_t *buf, size_t len, uint32_t *records)
{
    if (buf == NULL || len < NODE_FRAME_HEAD || len > RF_NODE_FRAME_BYTES_MAX)
        return RF_EBADMSG;
    if (buf[0] != 'R' || buf[1] != 'N' || buf[3] != 0)
        return RF_EBADMSG;
    if (buf[2] != RF_NODE_WIRE_VERSION)
        return RF_EVERSION;
    if (rf_node__get(buf + 4, 8) != from)
        return RF_EBADMSG;
    uint32_t count = (uint32_t)rf_node__get(buf + 12, 4);
    if (count > RF_NODE_FRAME_RECORDS_MAX)
        return RF_EBADMSG;
    size_t off = NODE_FRAME_HEAD;
    for (uint32_t i = 0; i < count; i++) {
        if (len - off < NODE_REC_HEAD)
            return RF_EBADMSG;
        uint8_t type = buf[off];
        size_t rl = (size_t)rf_node__get(buf + off + 1, 4);
        off += NODE_REC_HEAD;
        if (rl > len - off)
            return RF_EBADMSG;
        if (type == NODE_REC_FWD ? rl < NODE_FWD_HEAD
            : type == NODE_REC_FWD_REPLY ? rl < NODE_FWD_REPLY_HEAD
            : type == NODE_REC_STOP ? rl != NODE_STOP_LEN
            : type == NODE_REC_QUIESCE ? rl != NODE_QUIESCE_LEN && rl != NODE_QUIESCE_LEN_OLD
            : type == NODE_REC_HB || type == NODE_REC_EVICT ? rl != 0
            : type == NODE_REC_META ? rl <= NODE_META_HEAD
            : type == NODE_REC_META_ACK ? rl != NODE_META_ACK_LEN
            : type != NODE_REC_RAFT)
            return RF_EBADMSG;
        off += rl;
    }
    if (off != len)
        return RF_EBADMSG;
    *records = count;
    return RF_OK;
}

_Static_assert(offsetof(node_tomb, group) == 0, "rf_lower_u64 key");
static size_t tomb_lower(const rf_node *n, uint64_t group)
{
    return rf_lower_u64(n->tombs.p, n->tombs.n, sizeof(node_tomb), group);
}

uint64_t rf_node__tomb_term(const rf_node *n, uint64_t group)
{
    size_t at = tomb_lower(n, group);
    const node_tomb *t = n->tombs.p;
    return at < n->tombs.n && t[at].group == group ? t[at].term : 0;
}

/* A member stopped here knew this term: the node remembers it, so that a
 * member started again for the group never answers a lower term. */
void rf_node__tomb_set(rf_node *n, uint64_t group, uint64_t term)
{
    size_t at = tomb_lower(n, group);
    node_tomb *t = n->tombs.p;
    if (at < n->tombs.n && t[at].group == group) {
        t[at].term = term > t[at].term ? term : t[at].term;
        return;
    }
    node_tomb *nt = rf_node__vec_insert(&n->tombs, sizeof *t, at);
    if (nt == NULL)
        return;
    nt->group = group;
    nt->term = term;
}

/* May this node start a member for a group a peer addresses in term?
 * Only for a leader's message (an append, heartbeat or snapshot: a member
 * created empty has no vote to give, and one started for a candidate's
 * pre-vote, whose term it does not take, then followed a deposed leader's
 * older term), only for a group the local metadata says exists (the
 * metadata group always does), and, if a member of it was stopped here,
 * only for a term at least the one that member knew; the new member starts
 * in that term (rf_node__start_group). A member starts empty and adopts the
 * term it is sent: started for a deposed leader's older term (a node that
 * had been removed from the group by a newer leader, and had dropped its
 * log), it followed that leader, which counted it in its old
 * configuration and answered a read from its stale state (fuzz seed
 * 205876); committing entries that way would break agreement. */
static bool may_start(const rf_node *n, const rf_msg *msg)
{
    if (msg->type != RF_MSG_APPEND && msg->type != RF_MSG_HEARTBEAT &&
        msg->type != RF_MSG_SNAPSHOT)
        return false;
    uint64_t group = msg->group_id;
    if (msg->term < rf_node__tomb_term(n, group))
        return false;
    if (group == RF_META_GROUP_ID)
        return true;
    const rf_meta *m = rf_node_meta(n);
    return m != NULL && rf_meta_group_by_id(m, group) != NULL;
}

/* A node the metadata removed (purged while cut off) may come back still
 * leading groups by its stale view. A peer whose metadata does not list
 * the sender says so, once per frame; the sender checks with the metadata
 * leader before it believes it (rf_node__self_check). */
static void maybe_evict(rf_node *n, uint64_t from, uint64_t group, bool *told)
{
    const rf_meta *m = rf_node_meta(n);
    if (*told || group == RF_META_GROUP_ID || m == NULL || rf_meta_node_by_id(m, from) != NULL)
        return;
    *told = true;
    (void)rf_node__frame_append(n, from, NODE_REC_EVICT, NULL, 0, NULL, 0);
}

static void recv_raft(rf_node *n, uint64_t from, const uint8_t *rec, size_t len, bool *told)
{
    rf_msg msg;
    if (rf_msg_decode(rec, len, &msg, n->scratch_entries, RF_MSG_ENTRIES_MAX) != RF_OK) {
        n->ctr.frames_rejected++;
        return;
    }
    maybe_evict(n, from, msg.group_id, told);
    node_group *g = rf_node__group(n, msg.group_id);
    if (g == NULL && msg.to == n->cfg.node_id && may_start(n, &msg)) {
        if (rf_node__start_group(n, msg.group_id, false, RF_NODE_REASON_REBALANCE) == RF_OK)
            g = rf_node__group(n, msg.group_id);
    }
    if (g == NULL) {
        n->ctr.records_unknown_group++;
        return;
    }
    bool beat = msg.type == RF_MSG_HEARTBEAT || msg.type == RF_MSG_HEARTBEAT_RESP;
    if (!beat)
        g->notice_term = 0; /* a member that is awake, or is being woken */
    if (g->quiet && msg.type == RF_MSG_HEARTBEAT && msg.term == rf_raft_term(g->raft) &&
        msg.from == rf_raft_leader(g->raft) && rf_raft_role(g->raft) == RF_ROLE_FOLLOWER)
        ; /* its leader's round (a read): answered asleep, the clock stays stopped */
    else if (beat)
        rf_node__wake(n, g); /* a live leader's heartbeat is not work */
    else
        rf_node__touch(n, g);
    rf_node__dirty(n, g);
    (void)rf_raft_receive(g->raft, &msg); /* rejects are counted by raft */
    rf_node__settling_add(n, g);
}

static void recv_fwd_reply(rf_node *n, uint64_t from, const uint8_t *rec, size_t len)
{
    uint64_t token = rf_node__get(rec, 8);
    int status = (int)(int32_t)(uint32_t)rf_node__get(rec + 8, 4);
    uint64_t hint = rf_node__get(rec + 12, 8);
    rf_node__on_result(n, token, from, status, hint, rec + NODE_FWD_REPLY_HEAD,
                       len - NODE_FWD_REPLY_HEAD);
}

/* A leader committed a configuration (at index) without this node. The
 * member stops unless it has entries past that index: then it was added
 * again later and this notice is stale. */
static void recv_stop(rf_node *n, const uint8_t *rec)
{
    uint64_t group = rf_node__get(rec, 8), index = rf_node__get(rec + 8, 8);
    node_group *g = rf_node__group(n, group);
    if (g == NULL || group == RF_META_GROUP_ID || rf_raft_role(g->raft) == RF_ROLE_LEADER ||
        rf_raft_last_index(g->raft) > index)
        return;
    rf_node__stop_group(n, group, RF_NODE_REASON_REBALANCE);
}

int rf_node_receive(rf_node *n, uint64_t from, const uint8_t *buf, size_t len)
{
    ASSERT(!n->in_ready);
    uint32_t count = 0;
    int rc = frame_check(from, buf, len, &count);
    if (rc != RF_OK) {
        n->ctr.frames_rejected++;
        return rc;
    }
    n->ctr.frames_received++;
    rf_node__heard(n, from);
    size_t off = NODE_FRAME_HEAD;
    bool told = false;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t type = buf[off];
        size_t rl = (size_t)rf_node__get(buf + off + 1, 4);
        const uint8_t *rec = buf + off + NODE_REC_HEAD;
        if (type == NODE_REC_RAFT)
            recv_raft(n, from, rec, rl, &told);
        else if (type == NODE_REC_EVICT)
            rf_node__self_check(n, from);
        else if (type == NODE_REC_FWD)
            rf_node__on_forward(n, from, rec, rl);
        else if (type == NODE_REC_STOP)
            recv_stop(n, rec);
        else if (type == NODE_REC_QUIESCE)
            rf_node__on_quiesce(n, from, rec, rl);
        else if (type == NODE_REC_FWD_REPLY)
            recv_fwd_reply(n, from, rec, rl);
        else if (type == NODE_REC_HB) /* the frame was the news; and who sent it? */
            maybe_evict(n, from, 0, &told);
        else if (type == NODE_REC_META)
            rf_node__on_meta(n, from, rec, rl);
        else if (type == NODE_REC_META_ACK)
            rf_node__on_meta_ack(n, from, rec);
        off += NODE_REC_HEAD + rl;
    }
    /* A leader whose follower's answer left it settled, with nothing to
     * send (no batch would follow), goes quiet now, not at the next tick. */
    rf_node__quiet_settled(n);
    return RF_OK;
}

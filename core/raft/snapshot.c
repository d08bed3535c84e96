/* snapshot: compaction, snapshot bytes (de-dup table + model), chunked install. */
#include <string.h>

#include "raft/raft_int.h"

/* Snapshot data, opaque to drivers:
 *   "RS" version:u8 0:u8*5, dedup_len:u64, dedup bytes, model_len:u64, model bytes
 * The version is the de-dup table's encoding (session.c): 2 is written, 1
 * (earlier builds) is still read. */
#define SNAP_HDR 8u
#define SNAP_VERSION 2u

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int model_encode(rf_raft *r, uint8_t **out, size_t *len)
{
    size_t cap = 256;
    for (int tries = 0; tries < 4; tries++) {
        uint8_t *b = rf_rft_alloc(r->a, cap);
        if (!b)
            return RF_ENOMEM;
        size_t n = 0;
        int rc = r->cfg.model->encode(r->model_state, b, cap, &n);
        if (rc == RF_OK && n <= cap) {
            *out = b;
            *len = n;
            return RF_OK;
        }
        rf_rft_free(r->a, b);
        if (rc != RF_ETOOBIG || n > RF_SNAPSHOT_BYTES_MAX)
            return rc == RF_OK ? RF_ETOOBIG : rc;
        cap = n > cap ? n : cap * 2;
    }
    return RF_ETOOBIG;
}

int rf_rft_snap_encode(rf_raft *r, uint8_t **out, size_t *len)
{
    uint8_t *d = NULL, *m = NULL;
    size_t dl = 0, ml = 0;
    int rc = rf_rft_dedup_encode(r, &d, &dl);
    if (rc == RF_OK)
        rc = model_encode(r, &m, &ml);
    uint8_t *p = NULL;
    size_t total = SNAP_HDR + 8 + dl + 8 + ml;
    if (rc == RF_OK && total > RF_SNAPSHOT_BYTES_MAX)
        rc = RF_ETOOBIG;
    if (rc == RF_OK && !(p = rf_rft_alloc(r->a, total)))
        rc = RF_ENOMEM;
    if (rc == RF_OK) {
        memset(p, 0, SNAP_HDR);
        p[0] = 'R';
        p[1] = 'S';
        p[2] = SNAP_VERSION;
        put64(p + SNAP_HDR, dl);
        memcpy(p + SNAP_HDR + 8, d, dl);
        put64(p + SNAP_HDR + 8 + dl, ml);
        if (ml)
            memcpy(p + SNAP_HDR + 16 + dl, m, ml);
        *out = p;
        *len = total;
    }
    rf_rft_free(r->a, d);
    rf_rft_free(r->a, m);
    return rc;
}

/* Replaces the model state and de-dup table from snapshot bytes. On
 * failure (RF_EBADMSG, RF_ENOMEM) both are left as they were. */
int rf_rft_snap_load(rf_raft *r, const uint8_t *data, size_t len)
{
    if (len < SNAP_HDR + 16 || data[0] != 'R' || data[1] != 'S' ||
        (data[2] != 1 && data[2] != SNAP_VERSION))
        return RF_EBADMSG;
    uint64_t dl = get64(data + SNAP_HDR);
    if (dl > len - SNAP_HDR - 16)
        return RF_EBADMSG;
    uint64_t ml = get64(data + SNAP_HDR + 8 + dl);
    if (ml != len - SNAP_HDR - 16 - dl)
        return RF_EBADMSG;
    void *state = r->cfg.model->decode(data + SNAP_HDR + 16 + dl, (size_t)ml);
    if (!state)
        return RF_EBADMSG;
    int rc = rf_rft_dedup_decode(r, data + SNAP_HDR + 8, (size_t)dl, data[2]);
    if (rc != RF_OK) {
        r->cfg.model->destroy(state);
        return rc;
    }
    r->cfg.model->destroy(r->model_state);
    r->model_state = state;
    return RF_OK;
}

/* Called from rf_raft_advance, when no output points into the log: takes a
 * snapshot at the applied index and compacts the log before it. */
void rf_rft_snap_maybe_take(rf_raft *r)
{
    uint64_t th = r->cfg.snapshot_threshold;
    if (th == 0 || r->applied - r->log.snap_index < th)
        return;
    uint8_t *data = NULL;
    size_t len = 0;
    if (rf_rft_snap_encode(r, &data, &len) != RF_OK)
        return; /* retried at the next advance */
    uint64_t idx = r->applied;
    uint64_t term = rf_rft_log_term(&r->log, idx);
    ASSERT(term != 0);
    rf_rft_free(r->a, r->snap_data);
    r->snap_data = data;
    r->snap_len = len;
    r->snap_data_index = idx;
    r->snap_data_term = term;
    r->snap_data_conf = r->applied_conf;
    r->snap_conf = r->applied_conf;
    rf_rft_log_compact(&r->log, idx, term);
    r->snap_pending = true;
    r->pending_write = true;
    r->ctr.snapshots_taken++;
    rf_rft_observe(r, RF_OBS_SNAPSHOT_TAKEN, r->cfg.node_id, idx);
}

/* Leader only: the next chunk (bounded by snapshot_chunk_bytes_max) of the
 * latest snapshot to p; one chunk in flight, resent on heartbeats. */
void rf_rft_snap_send_chunk(rf_raft *r, raft_peer *p)
{
    ASSERT(r->role == RF_ROLE_LEADER);
    ASSERT(p->state == PEER_SNAPSHOT);
    if (p->snap_index != r->snap_data_index) {
        p->snap_index = r->snap_data_index;
        p->snap_offset = 0;
    }
    ASSERT(p->snap_offset <= r->snap_len);
    size_t n = r->snap_len - p->snap_offset;
    if (n > r->cfg.snapshot_chunk_bytes_max)
        n = r->cfg.snapshot_chunk_bytes_max;
    rf_msg m;
    rf_rft_msg_init(r, &m, RF_MSG_SNAPSHOT, p->id);
    m.index = r->snap_data_index;
    m.log_term = r->snap_data_term;
    m.membership = r->snap_data_conf;
    m.offset = p->snap_offset;
    m.total = r->snap_len;
    m.data = n ? r->snap_data + p->snap_offset : NULL;
    m.len = (uint32_t)n;
    m.ctx = r->round;
    if (p->snap_offset + n == r->snap_len)
        m.flags = RF_MSG_FLAG_DONE;
    rf_rft_send(r, &m);
}

static int install(rf_raft *r, const rf_msg *m)
{
    int rc = rf_rft_snap_load(r, r->recv_buf, r->recv_len);
    if (rc != RF_OK)
        return rc;
    rf_rft_drop_held(r, r->term, m->index);
    rf_rft_log_reset(&r->log, m->index, m->log_term);
    r->commit = m->index;
    r->applied = m->index;
    r->snap_conf = m->membership;
    r->applied_conf = m->membership;
    rf_rft_set_conf(r, &m->membership, m->index);
    rf_rft_free(r->a, r->snap_data);
    r->snap_data = r->recv_buf;
    r->snap_len = r->recv_len;
    r->snap_data_index = m->index;
    r->snap_data_term = m->log_term;
    r->snap_data_conf = m->membership;
    r->recv_buf = NULL;
    r->recv_cap = 0;
    r->recv_len = 0;
    r->recv_index = 0;
    /* The whole log goes: entries after the snapshot are written anew. */
    r->snap_pending = true;
    r->truncated = true;
    rf_rft_mark_write(r, m->index + 1);
    if (r->durable_index > m->index)
        r->durable_index = m->index;
    for (size_t i = 0; i < r->marks_n; i++)
        if (r->marks[i].last_index > m->index)
            r->marks[i].last_index = m->index;
    r->ctr.snapshots_installed++;
    rf_rft_observe(r, RF_OBS_SNAPSHOT_INSTALLED, r->cfg.node_id, m->index);
    return RF_OK;
}

int rf_rft_snap_recv(rf_raft *r, const rf_msg *m)
{
    ASSERT(r->role == RF_ROLE_FOLLOWER);
    ASSERT(m->term == r->term);
    rf_msg resp;
    rf_rft_msg_init(r, &resp, RF_MSG_SNAPSHOT_RESP, m->from);
    resp.index = m->index;
    if (m->index <= r->commit) {
        resp.offset = m->total; /* we hold it already */
        return rf_rft_send_durable(r, &resp);
    }
    if (rf_rft_log_term(&r->log, m->index) == m->log_term) {
        /* Raft paper Figure 13 step 6: our log holds the snapshot's last
         * entry, so it holds everything before it (Log Matching) and the
         * entries after it may be acknowledged already: keep them. The
         * snapshot tells us the index is committed. */
        r->commit = m->index;
        r->recv_index = 0;
        r->recv_len = 0;
        resp.offset = m->total;
        return rf_rft_send_durable(r, &resp);
    }
    bool same = r->recv_index == m->index && r->recv_term == m->log_term &&
                r->recv_total == m->total;
    if (!same || m->offset == 0) {
        r->recv_index = m->index;
        r->recv_term = m->log_term;
        r->recv_total = m->total;
        r->recv_len = 0;
    }
    if (m->offset != r->recv_len) {
        resp.reject = 1;
        resp.offset = r->recv_len;
        return rf_rft_send(r, &resp);
    }
    int rc = rf_rft_reserve(r->a, (void **)&r->recv_buf, &r->recv_cap, r->recv_len + m->len, 1);
    if (rc != RF_OK)
        return rc;
    if (m->len)
        memcpy(r->recv_buf + r->recv_len, m->data, m->len);
    r->recv_len += m->len;
    resp.offset = r->recv_len;
    if (!(m->flags & RF_MSG_FLAG_DONE))
        return rf_rft_send(r, &resp);
    if (r->recv_len != r->recv_total) {
        r->recv_len = 0;
        return RF_EBADMSG;
    }
    rc = install(r, m);
    if (rc != RF_OK) {
        r->recv_len = 0;
        r->recv_index = 0;
        return rc;
    }
    /* The acknowledgement waits for the snapshot to be durable. */
    return rf_rft_send_durable(r, &resp);
}

int rf_rft_snap_recv_resp(rf_raft *r, const rf_msg *m)
{
    raft_peer *p = rf_rft_peer_find(r, m->from);
    if (r->role != RF_ROLE_LEADER || !p)
        return RF_OK;
    p->active = true;
    p->last_heard_ns = r->now;
    if (p->state != PEER_SNAPSHOT || m->index != p->snap_index ||
        p->snap_index != r->snap_data_index)
        return RF_OK; /* stale */
    if (m->offset > r->snap_len)
        return RF_EINVAL;
    if (!m->reject && m->offset == r->snap_len) {
        if (p->snap_index > p->match)
            p->match = p->snap_index;
        rf_rft_repl_peer_probe(p, p->match + 1);
        rf_rft_repl_maybe_commit(r);
        return RF_OK;
    }
    if (m->offset == p->snap_offset)
        return RF_OK; /* that chunk is on its way already (or resent on heartbeat) */
    p->snap_offset = m->offset;
    rf_rft_snap_send_chunk(r, p);
    return RF_OK;
}

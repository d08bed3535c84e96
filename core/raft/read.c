/* read: linearizable queries by ReadIndex, with the leader lease as the fast path. */
#include <string.h>

#include "raft/raft_int.h"

#define READ_AWAITS_TICK UINT64_MAX

/* A heartbeat round that starts after now. A round whose heartbeats have
 * not left yet started after any read that arrives meanwhile, so reads
 * share it. */
static uint64_t fresh_round(rf_raft *r)
{
    if (r->round_fresh != r->round || r->round_fresh == 0) {
        rf_rft_repl_heartbeat(r);
        r->round_fresh = r->round;
    }
    return r->round;
}

/* Leader only, from rf_raft_tick with a fresh now: reads waiting for the
 * lease are confirmed by it (thesis §6.4.1), or else get a round. */
void rf_rft_apply_lease_reads(rf_raft *r)
{
    ASSERT(r->role == RF_ROLE_LEADER);
    bool lease = rf_rft_log_term(&r->log, r->commit) == r->term && !r->transfer_target &&
                 r->now < r->lease_until_ns;
    bool any = false;
    for (size_t i = 0; i < r->reads_n; i++) {
        if (r->reads[i].round != READ_AWAITS_TICK)
            continue;
        r->reads[i].round = lease ? 0 : fresh_round(r);
        any = true;
    }
    if (any)
        rf_rft_apply_reads(r);
}

/* Thesis §6.4: record the commit index, confirm leadership with a round of
 * heartbeats acknowledged by a quorum, wait until applied reaches it, then
 * query. §6.4.1: within the lease no round is needed. */
int rf_rft_apply_read(rf_raft *r, uint64_t request_id, const uint8_t *q, size_t len)
{
    if (r->role != RF_ROLE_LEADER)
        return rf_rft_reply(r, request_id, RF_ENOTLEADER, NULL, 0);
    if (len > RF_MODEL_INPUT_MAX || (len && !q))
        return rf_rft_reply(r, request_id, RF_ETOOBIG, NULL, 0);
    if (r->reads_n >= RF_RAFT_READS_MAX)
        return rf_rft_reply(r, request_id, RF_EFULL, NULL, 0);
    int rc = rf_rft_reserve(r->a, (void **)&r->reads, &r->reads_cap, r->reads_n + 1,
                          sizeof(pending_read));
    if (rc == RF_OK)
        rc = rf_rft_reserve(r->a, (void **)&r->read_buf, &r->read_buf_cap, r->read_buf_len + len, 1);
    if (rc != RF_OK)
        return rf_rft_reply(r, request_id, rc, NULL, 0);
    bool current = rf_rft_log_term(&r->log, r->commit) == r->term;
    uint64_t round;
    if (current && !r->transfer_target && r->now < r->lease_until_ns) {
        /* The lease is only trusted against a fresh clock: inputs may be
         * stepped long after the last tick (a paused process). The next
         * rf_raft_tick decides (rf_rft_apply_lease_reads). */
        round = READ_AWAITS_TICK;
    } else {
        round = fresh_round(r);
    }
    pending_read *p = &r->reads[r->reads_n++];
    p->request_id = request_id;
    p->read_index = current ? r->commit : 0;
    p->round = round;
    p->off = r->read_buf_len;
    p->len = (uint32_t)len;
    if (len)
        memcpy(r->read_buf + r->read_buf_len, q, len);
    r->read_buf_len += len;
    rf_rft_apply_reads(r);
    return RF_OK;
}

static bool serve(rf_raft *r, const pending_read *p)
{
    if (p->round > r->confirmed_round || p->read_index == 0 || r->applied < p->read_index)
        return false;
    uint8_t out[RF_MODEL_REPLY_MAX]; /* the arena keeps only what is written (apply.c) */
    size_t rlen = 0, off;
    const uint8_t *q = p->len ? r->read_buf + p->off : NULL;
    int status = r->cfg.model->query(r->model_state, q, p->len, out, sizeof out, &rlen);
    ASSERT(rlen <= sizeof out);
    int rc = rf_rft_arena_put(r, out, rlen, &off);
    ASSERT(rc == RF_OK);
    rf_rft_reply_off(r, p->request_id, status, off, rlen);
    return true;
}

/* Leader only: answers every read whose round is confirmed and whose read
 * index is applied. */
void rf_rft_apply_reads(rf_raft *r)
{
    ASSERT(r->role == RF_ROLE_LEADER);
    if (r->reads_n == 0)
        return;
    if (rf_rft_log_term(&r->log, r->commit) == r->term) {
        for (size_t i = 0; i < r->reads_n; i++)
            if (r->reads[i].read_index == 0)
                r->reads[i].read_index = r->commit;
    }
    size_t keep = 0;
    for (size_t i = 0; i < r->reads_n; i++)
        if (!serve(r, &r->reads[i]))
            r->reads[keep++] = r->reads[i];
    r->reads_n = keep;
    if (keep == 0)
        r->read_buf_len = 0;
}

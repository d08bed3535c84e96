/* raft: creation, the message dispatcher, client entry points and accessors. */
#include <stdlib.h>
#include <string.h>

#include "raft/raft_int.h"

/* ---- memory ------------------------------------------------------------ */

void *rf_rft_alloc(const rf_allocator *a, size_t size)
{
    return a ? a->alloc(a->ctx, size) : malloc(size);
}

void *rf_rft_realloc(const rf_allocator *a, void *p, size_t size)
{
    return a ? a->realloc(a->ctx, p, size) : realloc(p, size);
}

void rf_rft_free(const rf_allocator *a, void *p)
{
    if (!p)
        return;
    if (a)
        a->free(a->ctx, p);
    else
        free(p);
}

int rf_rft_reserve(const rf_allocator *a, void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return RF_OK;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need)
        ncap *= 2;
    void *np = rf_rft_realloc(a, *p, ncap * elem);
    if (!np)
        return RF_ENOMEM;
    *p = np;
    *cap = ncap;
    return RF_OK;
}

/* ---- creation ---------------------------------------------------------- */

void rf_raft_config_defaults(rf_raft_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->election_timeout_ns = 1000u * 1000u * 1000u;
    cfg->heartbeat_interval_ns = 100u * 1000u * 1000u;
    cfg->lease_drift_ns = 100u * 1000u * 1000u;
    cfg->inflight_max = 8;
    cfg->append_entries_max = 256;
    cfg->append_bytes_max = 1u << 20;
    cfg->snapshot_threshold = 10000;
    cfg->snapshot_chunk_bytes_max = 1u << 20;
    cfg->dedup_sessions_max = 1024;
    cfg->transfer_timeout_ns = 2000u * 1000u * 1000u;
}

static bool config_valid(const rf_raft_config *c)
{
    if (c->node_id == 0 || c->model == NULL || c->election_timeout_ns == 0)
        return false;
    if (c->heartbeat_interval_ns == 0 || c->heartbeat_interval_ns >= c->election_timeout_ns)
        return false;
    if (c->inflight_max == 0 || c->append_entries_max == 0 ||
        c->append_entries_max > RF_MSG_ENTRIES_MAX)
        return false;
    if (c->append_bytes_max == 0 || c->append_bytes_max > RF_MSG_BYTES_MAX / 2)
        return false;
    if (c->snapshot_chunk_bytes_max == 0 || c->snapshot_chunk_bytes_max > RF_MSG_BYTES_MAX / 2)
        return false;
    if (c->dedup_sessions_max == 0 || c->dedup_sessions_max > (1u << 24))
        return false;
    return c->model->abi_version == RF_MODEL_ABI_VERSION;
}

static int raft_new(const rf_raft_config *cfg, rf_raft **out)
{
    if (!cfg || !out || !config_valid(cfg))
        return RF_EINVAL;
    rf_raft *r = rf_rft_alloc(cfg->allocator, sizeof(*r));
    if (!r)
        return RF_ENOMEM;
    memset(r, 0, sizeof(*r));
    r->cfg = *cfg;
    if (r->cfg.inflight_max > RAFT_INFLIGHT_MAX)
        r->cfg.inflight_max = RAFT_INFLIGHT_MAX;
    r->a = cfg->allocator;
    r->rng = cfg->rng;
    r->role = RF_ROLE_FOLLOWER;
    r->persist_from = UINT64_MAX;
    rf_rft_log_init(&r->log, r->a);
    r->model_state = cfg->model->create();
    if (!r->model_state) {
        rf_rft_free(r->a, r);
        return RF_ENOMEM;
    }
    *out = r;
    return RF_OK;
}

/* Encodes the current (index 0 or freshly loaded) state as the snapshot
 * held for lagging peers. */
static int raft_snapshot_self(rf_raft *r)
{
    rf_rft_free(r->a, r->snap_data);
    r->snap_data = NULL;
    int rc = rf_rft_snap_encode(r, &r->snap_data, &r->snap_len);
    r->snap_data_index = r->log.snap_index;
    r->snap_data_term = r->log.snap_term;
    r->snap_data_conf = r->snap_conf;
    return rc;
}

int rf_raft_create(const rf_raft_config *cfg, rf_raft **out)
{
    rf_raft *r = NULL;
    int rc = raft_new(cfg, &r);
    if (rc != RF_OK)
        return rc;
    rc = raft_snapshot_self(r);
    if (rc != RF_OK) {
        rf_raft_close(r);
        return rc;
    }
    *out = r;
    return RF_OK;
}

int rf_raft_bootstrap(const rf_raft_config *cfg, const rf_membership *voters, rf_raft **out)
{
    if (!voters || voters->count == 0 || !rf_rft_membership_valid(voters))
        return RF_EINVAL;
    for (uint32_t i = 0; i < voters->count; i++)
        if (!voters->members[i].voter)
            return RF_EINVAL;
    if (!cfg || !rf_membership_find(voters, cfg->node_id))
        return RF_EINVAL;
    rf_raft *r = NULL;
    int rc = raft_new(cfg, &r);
    if (rc != RF_OK)
        return rc;
    r->snap_conf = *voters;
    r->applied_conf = *voters;
    rf_rft_set_conf(r, voters, 0);
    rc = raft_snapshot_self(r);
    if (rc != RF_OK) {
        rf_raft_close(r);
        return rc;
    }
    r->snap_pending = true;
    r->pending_write = true;
    *out = r;
    return RF_OK;
}

static int restore_check(const rf_raft_state *st)
{
    if (!rf_rft_membership_valid(&st->snapshot_membership))
        return RF_EINVAL;
    if (st->snapshot_index > 0 && (st->snapshot_data == NULL || st->snapshot_len == 0))
        return RF_EINVAL;
    uint64_t prev_term = st->snapshot_term;
    for (size_t i = 0; i < st->n_entries; i++) {
        const rf_entry *e = &st->entries[i];
        if (e->index != st->snapshot_index + 1 + i || e->term < prev_term)
            return RF_EINVAL;
        if (e->kind < RF_ENTRY_NOOP || e->kind > RF_ENTRY_CONFIG || e->len > RF_ENTRY_BYTES_MAX)
            return RF_EINVAL;
        if (e->len && !e->data)
            return RF_EINVAL;
        prev_term = e->term;
    }
    return RF_OK;
}

static int restore_fill(rf_raft *r, const rf_raft_state *st)
{
    int rc = RF_OK;
    if (st->snapshot_len > 0)
        rc = rf_rft_snap_load(r, st->snapshot_data, st->snapshot_len);
    if (rc != RF_OK)
        return rc;
    rf_rft_log_reset(&r->log, st->snapshot_index, st->snapshot_term);
    r->snap_conf = st->snapshot_membership;
    r->applied_conf = st->snapshot_membership;
    for (size_t i = 0; i < st->n_entries && rc == RF_OK; i++) {
        const rf_entry *e = &st->entries[i];
        if (e->kind == RF_ENTRY_CONFIG) {
            rf_membership m;
            if (rf_rft_membership_decode(e->data, e->len, &m) != RF_OK)
                return RF_EBADMSG;
        }
        rc = rf_rft_log_append(&r->log, e->term, e->kind, e->client_id, e->sequence, e->floor,
                               e->data, e->len);
    }
    if (rc != RF_OK)
        return rc;
    rf_rft_recompute_conf(r);
    r->commit = r->applied = st->snapshot_index;
    r->durable_index = rf_rft_log_last(&r->log);
    /* A crash may persist entries of a newer term before the hard state. */
    uint64_t lt = rf_rft_log_last_term(&r->log);
    r->hs_term = st->term;
    r->hs_vote = st->vote;
    r->term = st->term > lt ? st->term : lt;
    r->vote = r->term == st->term ? st->vote : 0;
    if (r->term != r->hs_term)
        r->pending_write = true;
    if (st->snapshot_len > 0) {
        r->snap_data = rf_rft_alloc(r->a, st->snapshot_len);
        if (!r->snap_data)
            return RF_ENOMEM;
        memcpy(r->snap_data, st->snapshot_data, st->snapshot_len);
        r->snap_len = st->snapshot_len;
        r->snap_data_index = st->snapshot_index;
        r->snap_data_term = st->snapshot_term;
        r->snap_data_conf = st->snapshot_membership;
        return RF_OK;
    }
    return raft_snapshot_self(r);
}

int rf_raft_restore(const rf_raft_config *cfg, const rf_raft_state *st, rf_raft **out)
{
    if (!st)
        return RF_EINVAL;
    int rc = restore_check(st);
    if (rc != RF_OK)
        return rc;
    rf_raft *r = NULL;
    rc = raft_new(cfg, &r);
    if (rc != RF_OK)
        return rc;
    rc = restore_fill(r, st);
    if (rc != RF_OK) {
        rf_raft_close(r);
        return rc;
    }
    *out = r;
    return RF_OK;
}

void rf_raft_resume_term(rf_raft *r, uint64_t term)
{
    ASSERT(!r->started && !r->in_ready && rf_rft_log_last(&r->log) == 0);
    if (term <= r->term)
        return;
    r->term = term;
    r->vote = r->cfg.node_id;
    r->pending_write = true;
}

void rf_raft_close(rf_raft *r)
{
    if (!r)
        return;
    const rf_allocator *a = r->a;
    if (r->model_state)
        r->cfg.model->destroy(r->model_state);
    rf_rft_dedup_free(r);
    rf_rft_log_free(&r->log);
    void *bufs[] = {r->peers, r->props, r->reads, r->read_buf, r->marks, r->snap_data, r->recv_buf,
                    r->msgs, r->held, r->replies, r->appl, r->obs, r->arena,
                    r->out_ents, r->out_replies, r->out_appl, r->decode_ents};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        rf_rft_free(a, bufs[i]);
    rf_rft_free(a, r);
}

/* ---- membership bookkeeping -------------------------------------------- */

uint32_t rf_rft_quorum(const rf_raft *r)
{
    return rf_membership_voters(&r->conf) / 2 + 1;
}

raft_peer *rf_rft_peer_find(rf_raft *r, uint64_t id)
{
    for (uint32_t i = 0; i < r->n_peers; i++)
        if (r->peers[i].id == id)
            return &r->peers[i];
    return NULL;
}

/* Rebuilds the peer table from conf, keeping the progress of members that
 * stay. */
void rf_rft_sync_peers(rf_raft *r)
{
    raft_peer old[RF_RAFT_MEMBERS_MAX];
    uint32_t n_old = r->n_peers;
    if (n_old > 0)
        memcpy(old, r->peers, n_old * sizeof(*old));
    uint32_t need = r->conf.count;
    if (need > r->peers_cap) {
        raft_peer *p = rf_rft_realloc(r->a, r->peers, need * sizeof(*p));
        /* A few hundred bytes when the configuration grows: without them
         * the member cannot follow its own log. */
        ASSERT(p != NULL);
        r->peers = p;
        r->peers_cap = need;
    }
    r->n_peers = 0;
    r->self_voter = false;
    for (uint32_t i = 0; i < r->conf.count; i++) {
        const rf_member *m = &r->conf.members[i];
        if (m->id == r->cfg.node_id) {
            r->self_voter = m->voter != 0;
            continue;
        }
        raft_peer *p = &r->peers[r->n_peers++];
        memset(p, 0, sizeof(*p));
        for (uint32_t j = 0; j < n_old; j++)
            if (old[j].id == m->id)
                *p = old[j];
        if (p->id == 0) {
            p->id = m->id;
            p->next = rf_rft_log_last(&r->log) + 1;
            p->last_heard_ns = r->now;
            p->active = true;
        } else if (!p->voter && m->voter) {
            /* A learner's match may be stale: its member may have been
             * stopped and started again empty since it acknowledged
             * (core/fleet stops a member it finds unwanted and starts it
             * again on demand), and the rejection saying so may not have
             * come yet. Counted at once, it could make a quorum of the
             * new configuration with copies it no longer holds; counted
             * once it acknowledges the entry that promotes it, it holds
             * everything before (Log Matching). */
            p->counts_from = r->conf_index;
        }
        p->voter = m->voter;
    }
    ASSERT(r->n_peers <= RF_RAFT_MEMBERS_MAX);
}

void rf_rft_set_conf(rf_raft *r, const rf_membership *m, uint64_t index)
{
    ASSERT(rf_rft_membership_valid(m));
    r->conf = *m;
    r->conf_index = index;
    rf_rft_sync_peers(r);
}

/* After a truncation: the latest configuration entry left in the log, or
 * the snapshot's (Raft thesis §4.1: a server uses the latest one it has). */
void rf_rft_recompute_conf(rf_raft *r)
{
    for (uint64_t i = rf_rft_log_last(&r->log); i > r->log.snap_index; i--) {
        const log_ent *e = rf_rft_log_at(&r->log, i);
        if (e->kind != RF_ENTRY_CONFIG)
            continue;
        rf_membership m;
        int rc = rf_rft_membership_decode(rf_rft_log_data(&r->log, e), e->len, &m);
        ASSERT(rc == RF_OK); /* validated before it entered the log */
        rf_rft_set_conf(r, &m, i);
        return;
    }
    rf_rft_set_conf(r, &r->snap_conf, r->log.snap_index);
}

/* ---- outputs ----------------------------------------------------------- */

static void msg_copy(rf_msg *dst, const rf_msg *src)
{
    if (src->type == RF_MSG_SNAPSHOT) {
        *dst = *src;
        return;
    }
    memcpy(dst, src, RF_MSG_HEAD_BYTES);
    dst->membership.count = 0;
}

void rf_rft_msg_init(const rf_raft *r, rf_msg *m, uint8_t type, uint64_t to)
{
    rf_rft_msg_clear(m);
    m->type = type;
    m->group_id = r->cfg.group_id;
    m->from = r->cfg.node_id;
    m->to = to;
    m->term = r->term;
}

int rf_rft_send(rf_raft *r, const rf_msg *m)
{
    ASSERT(m->to != r->cfg.node_id);
    int rc = rf_rft_reserve(r->a, (void **)&r->msgs, &r->msgs_cap, r->msgs_n + 1, sizeof(rf_send));
    if (rc != RF_OK)
        return rc; /* a lost message: the protocol retries */
    r->msgs[r->msgs_n].to = m->to;
    msg_copy(&r->msgs[r->msgs_n].msg, m);
    r->msgs_n++;
    return RF_OK;
}

/* Sends m once every write handed out so far, and the one pending, is
 * durable (the durability contract: no ack or grant before persisted). */
int rf_rft_send_durable(rf_raft *r, const rf_msg *m)
{
    ASSERT(m->type != RF_MSG_APPEND);
    uint64_t tag = r->pending_write ? r->write_seq + 1 : r->write_seq;
    if (tag <= r->persisted)
        return rf_rft_send(r, m);
    int rc = rf_rft_reserve(r->a, (void **)&r->held, &r->held_cap, r->held_n + 1, sizeof(held_msg));
    if (rc != RF_OK)
        return rc;
    r->held[r->held_n].token = tag;
    r->held[r->held_n].send.to = m->to;
    msg_copy(&r->held[r->held_n].send.msg, m);
    r->held_n++;
    return RF_OK;
}

/* Drops held acknowledgements that became stale: those of an older term
 * than min_term (the leader they answer is deposed), and those claiming
 * entries beyond max_index (truncated or replaced by a snapshot). Dropping
 * is safe: it is a message loss, which the protocol recovers from. */
static bool stale_ack(const rf_msg *m, uint64_t min_term, uint64_t max_index)
{
    bool ack = m->type == RF_MSG_APPEND_RESP || m->type == RF_MSG_SNAPSHOT_RESP;
    bool grant = m->type == RF_MSG_VOTE_RESP || ack;
    if (!grant || m->reject)
        return false;
    return m->term < min_term || (ack && m->index > max_index);
}

void rf_rft_drop_held(rf_raft *r, uint64_t min_term, uint64_t max_index)
{
    ASSERT(!r->in_ready);
    size_t keep = 0;
    for (size_t i = 0; i < r->held_n; i++)
        if (!stale_ack(&r->held[i].send.msg, min_term, max_index))
            r->held[keep++] = r->held[i];
    r->held_n = keep;
    /* Released but not yet handed out: the same rule. */
    keep = 0;
    for (size_t i = 0; i < r->msgs_n; i++)
        if (!stale_ack(&r->msgs[i].msg, min_term, max_index))
            r->msgs[keep++] = r->msgs[i];
    r->msgs_n = keep;
}

int rf_rft_arena_put(rf_raft *r, const uint8_t *data, size_t len, size_t *off)
{
    int rc = rf_rft_reserve(r->a, (void **)&r->arena, &r->arena_cap, r->arena_len + len, 1);
    if (rc != RF_OK)
        return rc;
    if (len)
        memcpy(r->arena + r->arena_len, data, len);
    *off = r->arena_len;
    r->arena_len += len;
    return RF_OK;
}

int rf_rft_reply_off(rf_raft *r, uint64_t request_id, int status, size_t off, size_t len)
{
    int rc = rf_rft_reserve(r->a, (void **)&r->replies, &r->replies_cap, r->replies_n + 1,
                          sizeof(out_reply));
    ASSERT(rc == RF_OK); /* a lost reply would leave a client hanging */
    ASSERT(off + len <= r->arena_len);
    out_reply *o = &r->replies[r->replies_n++];
    o->request_id = request_id;
    o->status = status;
    o->leader_hint = status == RF_ENOTLEADER ? r->leader : 0;
    o->off = off;
    o->len = (uint32_t)len;
    return status;
}

int rf_rft_reply(rf_raft *r, uint64_t request_id, int status, const uint8_t *data, size_t len)
{
    size_t off = 0;
    int rc = rf_rft_arena_put(r, data, len, &off);
    ASSERT(rc == RF_OK);
    return rf_rft_reply_off(r, request_id, status, off, len);
}

void rf_rft_observe(rf_raft *r, uint8_t kind, uint64_t node, uint64_t index)
{
    int rc = rf_rft_reserve(r->a, (void **)&r->obs, &r->obs_cap, r->obs_n + 1, sizeof(*r->obs));
    ASSERT(rc == RF_OK);
    rf_observation *o = &r->obs[r->obs_n++];
    o->kind = kind;
    o->term = r->term;
    o->node_id = node;
    o->index = index;
}

void rf_rft_mark_write(rf_raft *r, uint64_t from_index)
{
    r->pending_write = true;
    if (from_index < r->persist_from)
        r->persist_from = from_index;
}

static int append_local(rf_raft *r, uint8_t kind, uint64_t client, uint64_t seq,
                        uint64_t floor, const uint8_t *data, uint32_t len)
{
    ASSERT(r->role == RF_ROLE_LEADER);
    int rc = rf_rft_log_append(&r->log, r->term, kind, client, seq, floor, data, len);
    if (rc != RF_OK)
        return rc;
    rf_rft_mark_write(r, rf_rft_log_last(&r->log));
    r->bcast = true;
    return RF_OK;
}

int rf_rft_append_local(rf_raft *r, uint8_t kind, uint64_t client, uint64_t seq,
                      const uint8_t *data, uint32_t len)
{
    return append_local(r, kind, client, seq, 0, data, len);
}

int rf_rft_append_command(rf_raft *r, uint64_t client, uint64_t seq, uint64_t floor,
                          const uint8_t *data, uint32_t len)
{
    return append_local(r, RF_ENTRY_COMMAND, client, seq, floor, data, len);
}

/* Drops entries >= from (follower only: a leader never overwrites its log,
 * Raft paper §5.3 Leader Append-Only). */
void rf_rft_truncate_local(rf_raft *r, uint64_t from)
{
    ASSERT(r->role != RF_ROLE_LEADER);
    ASSERT(from > r->commit);
    rf_rft_log_truncate(&r->log, from);
    rf_rft_drop_held(r, r->term, from - 1);
    r->truncated = true;
    rf_rft_mark_write(r, from);
    if (r->durable_index >= from)
        r->durable_index = from - 1;
    for (size_t i = 0; i < r->marks_n; i++)
        if (r->marks[i].last_index >= from)
            r->marks[i].last_index = from - 1;
    if (r->conf_index >= from)
        rf_rft_recompute_conf(r);
}

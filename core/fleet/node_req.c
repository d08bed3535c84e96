/* node_req: requests in flight: routing to the leader, forwarding, redirects, retries, the leader cache. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_lower.h"
#include "fleet/node_int.h"

/* ---- the pending table (sorted by token; tokens only grow) ----------------- */

_Static_assert(offsetof(node_pending, token) == 0, "rf_lower_u64 key");
/* Tokens are distinct, sorted and grow by one per entry, so token t sits
 * at most t - first entries after the first and at most last - t before
 * the last: the search runs in that window, which is exact until dead
 * entries are swept out (the common lookup is one probe instead of a
 * binary search over the 144-byte entries, a cache miss each). */
node_pending *rf_node__pending(rf_node *n, uint64_t token)
{
    node_pending *p = n->pending.p;
    size_t count = n->pending.n;
    if (count == 0 || token < p[0].token || token > p[count - 1].token)
        return NULL;
    uint64_t after_first = token - p[0].token, before_last = p[count - 1].token - token;
    size_t lo = before_last < count ? count - 1 - (size_t)before_last : 0;
    size_t hi = after_first < count ? (size_t)after_first + 1 : count;
    ASSERT(lo < hi);
    size_t at = lo + rf_lower_u64(&p[lo], hi - lo, sizeof(node_pending), token);
    return at < n->pending.n && p[at].token == token && p[at].role != NODE_PEND_DEAD ? &p[at]
                                                                                    : NULL;
}

/* The name and payload a request owns: one block when it has a name
 * (submit_via), else the payload alone. */
void rf_node__pending_free_copies(node_pending *p)
{
    free(p->name != NULL ? (void *)p->name : (void *)p->payload);
    p->payload = NULL;
    p->name = NULL;
}

/* A dropped entry stays in place as dead, so that dropping is O(1)
 * instead of moving the entries after it (requests finish roughly in
 * token order: that was a move of the whole table per request); the dead
 * are swept out in one pass at the next tick or when the table is full. */
void rf_node__pending_drop(rf_node *n, uint64_t token)
{
    node_pending *p = rf_node__pending(n, token);
    if (p == NULL)
        return;
    rf_node__session_done(n, p);
    rf_node__pending_free_copies(p);
    p->role = NODE_PEND_DEAD;
    n->pending_dead++;
}

static void pending_compact(rf_node *n)
{
    if (n->pending_dead == 0 || n->pending_ticking)
        return;
    node_pending *p = n->pending.p;
    size_t kept = 0;
    for (size_t i = 0; i < n->pending.n; i++)
        if (p[i].role != NODE_PEND_DEAD)
            p[kept++] = p[i];
    n->pending.n = kept;
    n->pending_dead = 0;
}

/* A new entry with a fresh token, or NULL when the table is full. */
node_pending *rf_node__pending_new(rf_node *n, uint8_t role)
{
    if (n->pending.n >= RF_NODE_PENDING_MAX)
        pending_compact(n);
    if (n->pending.n >= RF_NODE_PENDING_MAX ||
        !rf_node__vec_reserve(&n->pending, sizeof(node_pending), 1))
        return NULL;
    node_pending *p = (node_pending *)n->pending.p + n->pending.n++;
    memset(p, 0, sizeof *p);
    p->token = n->next_token++;
    p->role = role;
    return p;
}

/* ---- the leader cache -------------------------------------------------------- */

_Static_assert(offsetof(node_cache, group_id) == 0, "rf_lower_u64 key");
static size_t cache_lower(const rf_node *n, uint64_t group)
{
    return rf_lower_u64(n->cache.p, n->cache.n, sizeof(node_cache), group);
}

const node_cache *rf_node__cache_get(const rf_node *n, uint64_t group)
{
    size_t at = cache_lower(n, group);
    const node_cache *c = n->cache.p;
    return at < n->cache.n && c[at].group_id == group ? &c[at] : NULL;
}

/* Records (leader, term) unless a newer term is known; leader 0 drops it.
 * term 0 (a redirect's hint or a reply, whose term is not carried)
 * replaces the leader and keeps the known term. */
void rf_node__cache_set(rf_node *n, uint64_t group, uint64_t leader, uint64_t term)
{
    size_t at = cache_lower(n, group);
    node_cache *c = n->cache.p;
    bool found = at < n->cache.n && c[at].group_id == group;
    if (leader == 0) {
        if (found) {
            memmove(&c[at], &c[at + 1], (n->cache.n - at - 1) * sizeof *c);
            n->cache.n--;
        }
        return;
    }
    if (found) {
        if (term == 0) {
            c[at].leader = leader;
        } else if (term >= c[at].term) {
            c[at].leader = leader;
            c[at].term = term;
        }
        return;
    }
    node_cache *nc = rf_node__vec_insert(&n->cache, sizeof *c, at);
    if (nc == NULL)
        return;
    nc->group_id = group;
    nc->leader = leader;
    nc->term = term;
}

/* ---- routing ------------------------------------------------------------------- */

/* Resolves the group name (USER requests may name a group the local
 * metadata learns of later) and picks the node to try. 0: nobody known. */
static uint64_t pick_target(rf_node *n, node_pending *p)
{
    const rf_meta *m = rf_node_meta(n);
    if (p->group_id == 0 && p->name != NULL && m != NULL) {
        const rf_meta_group *g = rf_meta_group_by_name(m, p->name);
        p->group_id = g == NULL ? 0 : g->id;
    }
    if (p->group_id == 0)
        return 0;
    if (p->via != 0)
        return p->via;
    node_group *g = rf_node__group(n, p->group_id);
    if (g != NULL && rf_raft_role(g->raft) == RF_ROLE_LEADER)
        return n->cfg.node_id;
    const node_cache *c = rf_node__cache_get(n, p->group_id);
    if (c != NULL)
        return c->leader;
    if (g != NULL && rf_raft_leader(g->raft) != 0)
        return rf_raft_leader(g->raft);
    if (p->group_id == RF_META_GROUP_ID) {
        /* No metadata leader known: the join node, or attempt after attempt
         * another node of the local view (a live one redirects). */
        size_t count = m == NULL ? 0 : rf_meta_node_count(m);
        if (count == 0 || (n->join_via != 0 && p->attempts == 0))
            return g != NULL && n->join_via == 0 ? n->cfg.node_id : n->join_via;
        return rf_meta_node_at(m, (p->attempts + n->cfg.node_id) % count)->id;
    }
    /* No leader known: the desired leader first, then, attempt after
     * attempt, the other members of the target (one of them may be dead;
     * a live one redirects to the leader). */
    uint64_t ids[RF_META_REPLICAS_MAX];
    const rf_meta_group *mg = m == NULL ? NULL : rf_meta_group_by_id(m, p->group_id);
    if (mg == NULL || rf_meta_place(m, mg->name, mg->replicas, ids, RF_META_REPLICAS_MAX) != RF_OK)
        return 0;
    uint32_t count = 0;
    while (count < mg->replicas && ids[count] != 0)
        count++;
    return ids[p->attempts % count];
}

static void send_forward(rf_node *n, const node_pending *p)
{
    uint8_t head[NODE_FWD_HEAD];
    rf_node__put(head, p->token, 8);
    head[8] = p->kind;
    rf_node__put(head + 9, p->group_id, 8);
    rf_node__put(head + 17, p->client_id, 8);
    rf_node__put(head + 25, p->seq, 8);
    rf_node__put(head + 33, p->floor, 8);
    if (rf_node__frame_append(n, p->target, NODE_REC_FWD, head, sizeof head, p->payload, p->len))
        n->ctr.forwards_sent++;
}

static void local_submit(rf_node *n, node_group *g, const node_pending *p)
{
    rf_node__touch(n, g);
    if (p->kind == NODE_REQ_QUERY)
        (void)rf_raft_read(g->raft, p->token, p->payload, p->len);
    else
        (void)rf_raft_propose(g->raft, p->token, p->client_id, p->seq, p->floor, p->payload,
                              p->len);
    /* Either way the outcome comes back as an rf_reply with the token. */
}

/* Starts one attempt. Local attempts feed rf_raft, so between ready and
 * advance they are deferred to the next tick. */
void rf_node__dispatch(rf_node *n, node_pending *p)
{
    if (p->client_id != 0 && !n->incarnation_durable) {
        p->retry_at = n->now; /* at the next tick; no attempt is spent */
        return;
    }
    if (p->target == 0)
        p->target = pick_target(n, p);
    if (p->target == 0) {
        /* Nobody to ask: counts as a failed attempt. */
        p->attempts++;
        p->retry_at = n->now + n->cfg.retry_interval_ns;
        return;
    }
    node_group *g = p->target == n->cfg.node_id ? rf_node__group(n, p->group_id) : NULL;
    if (p->target == n->cfg.node_id && (g == NULL || n->in_ready)) {
        if (g == NULL) {
            p->target = 0;
            p->attempts++;
        }
        p->retry_at = n->in_ready && g != NULL ? n->now : n->now + n->cfg.retry_interval_ns;
        return;
    }
    if (!rf_node__session_attempt(n, p)) {
        p->retry_at = n->now; /* the group's window is full: a later tick */
        return;
    }
    p->retry_at = 0;
    p->deadline = n->now + n->cfg.attempt_timeout_ns;
    if (g != NULL)
        local_submit(n, g, p);
    else
        send_forward(n, p);
}

static void reply_to_origin(rf_node *n, const node_pending *p, int status, uint64_t hint,
                            const uint8_t *data, size_t len)
{
    uint8_t head[NODE_FWD_REPLY_HEAD];
    rf_node__put(head, p->request_id, 8);
    rf_node__put(head + 8, (uint32_t)(int32_t)status, 4);
    rf_node__put(head + 12, hint, 8);
    (void)rf_node__frame_append(n, p->origin, NODE_REC_FWD_REPLY, head, sizeof head, data, len);
}

static bool is_redirect(int status)
{
    return status == RF_ENOTLEADER || status == RF_ETRANSFER || status == RF_EUNKNOWN ||
           status == RF_ENOLEADER;
}

/* add_consensus_group answers once the new group has a leader, as
 * RaftFleet's does: the request becomes a read of the new group (any
 * answer but a redirect proves a leader; the model's verdict on the empty
 * query does not matter), with the same retry budget. */
static bool await_first_leader(rf_node *n, node_pending *p, int status, const uint8_t *data,
                               size_t len)
{
    uint64_t gid = rf_meta_reply_group_id(data, len);
    if (p->role != NODE_PEND_USER || p->meta_op != RF_META_OP_ADD_GROUP || status != RF_OK ||
        gid == 0)
        return false;
    if (p->name == NULL) /* else the payload lives in the name's block */
        free(p->payload);
    p->payload = NULL;
    p->len = 0;
    p->meta_op = 0;
    p->kind = NODE_REQ_QUERY;
    p->client_id = 0;
    p->seq = 0;
    p->floor = 0;
    p->group_id = gid;
    p->aux = gid;
    p->attempts = 0;
    p->hops = 0;
    p->target = 0;
    p->retry_at = n->now; /* the next tick: the boot node starts it then */
    /* The boot node starts the group at its next tick and its lone voter
     * campaigns within two election timeouts: five is ample. */
    p->give_up_at = n->now + 5 * n->cfg.raft.election_timeout_ns;
    return true;
}

static void finish(rf_node *n, node_pending *p, int status, const uint8_t *data, size_t len)
{
    rf_node__session_done(n, p);
    if (await_first_leader(n, p, status, data, len))
        return;
    if (p->role == NODE_PEND_USER && p->aux != 0 && p->kind == NODE_REQ_QUERY) {
        /* The awaited leader answered (or never came: no_leader). */
        uint8_t id[8];
        rf_node__put(id, p->aux, 8);
        if (status == RF_ENOLEADER)
            rf_node__reply(n, p->request_id, status, NULL, 0);
        else
            rf_node__reply(n, p->request_id, RF_OK, id, sizeof id);
    } else if (p->role == NODE_PEND_USER) {
        rf_node__reply(n, p->request_id, status, data, len);
    } else if (p->self_check) {
        n->self_checking = false;
        /* Linearizable: the metadata leader no longer knows this node. */
        n->evicted = n->evicted || status == RF_ENOTFOUND;
    } else if (p->meta_op == RF_META_OP_REMOVE_NODE && p->aux != 0) {
        if (status == RF_OK) /* a purge (aux: the node) is done */
            rf_node__obs(n, RF_NODE_OBS_NODE_PURGED, RF_NODE_REASON_NONE, 0, 0, p->aux);
    } else if (p->meta_op == RF_META_OP_REMOVE_NODE && status != RF_OK) {
        n->leaving = false; /* leaving failed: try again next round */
    }
    rf_node__pending_drop(n, p->token);
}

/* The outcome of an attempt: from the local member (from == self) or a
 * forwarding node. Redirects are followed; everything else is final. */
void rf_node__on_result(rf_node *n, uint64_t token, uint64_t from, int status, uint64_t hint,
                        const uint8_t *data, size_t len)
{
    node_pending *p = rf_node__pending(n, token);
    if (p == NULL)
        return; /* a late answer to a finished request */
    if (p->role == NODE_PEND_REBAL) {
        node_group *g = rf_node__group(n, p->group_id);
        if (g != NULL && g->rebal_token == token) {
            g->rebal_token = 0;
            rf_node__rebal_done(n, g, status);
        }
        rf_node__pending_drop(n, token);
        return;
    }
    if (p->role == NODE_PEND_SERVE) {
        reply_to_origin(n, p, status, hint, data, len);
        rf_node__pending_drop(n, token);
        return;
    }
    if (from != p->target || p->retry_at != 0)
        return; /* an answer to an attempt already given up */
    if (!is_redirect(status)) {
        if (from != n->cfg.node_id)
            rf_node__cache_set(n, p->group_id, from, 0);
        finish(n, p, status, data, len);
        return;
    }
    n->ctr.redirects++;
    if (hint != 0 && hint != from && p->hops < RF_NODE_HOPS_MAX) {
        rf_node__cache_set(n, p->group_id, hint, 0);
        p->hops++;
        p->target = hint;
        rf_node__dispatch(n, p);
        return;
    }
    rf_node__cache_set(n, p->group_id, 0, 0);
    p->attempts++;
    p->target = 0;
    p->retry_at = n->now + n->cfg.retry_interval_ns;
}

/* A request forwarded here: served by the local member, or redirected. */
void rf_node__on_forward(rf_node *n, uint64_t from, const uint8_t *rec, size_t len)
{
    uint64_t origin_token = rf_node__get(rec, 8);
    uint8_t kind = rec[8];
    uint64_t group = rf_node__get(rec + 9, 8);
    node_group *g = rf_node__group(n, group);
    node_pending tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.request_id = origin_token;
    tmp.origin = from;
    bool bad = (kind != NODE_REQ_COMMAND && kind != NODE_REQ_QUERY) ||
               len - NODE_FWD_HEAD > RF_ENTRY_BYTES_MAX;
    if (bad || g == NULL || rf_raft_role(g->raft) != RF_ROLE_LEADER) {
        const node_cache *c = rf_node__cache_get(n, group);
        uint64_t hint = g != NULL ? rf_raft_leader(g->raft) : c != NULL ? c->leader : 0;
        reply_to_origin(n, &tmp, bad ? RF_EINVAL : RF_ENOTLEADER, bad ? 0 : hint, NULL, 0);
        return;
    }
    node_pending *p = rf_node__pending_new(n, NODE_PEND_SERVE);
    uint8_t *copy = len > NODE_FWD_HEAD ? malloc(len - NODE_FWD_HEAD) : NULL;
    if (p == NULL || (len > NODE_FWD_HEAD && copy == NULL)) {
        free(copy);
        if (p != NULL)
            rf_node__pending_drop(n, p->token);
        reply_to_origin(n, &tmp, RF_EFULL, 0, NULL, 0);
        return;
    }
    p->kind = kind;
    p->request_id = origin_token;
    p->origin = from;
    p->group_id = group;
    p->client_id = rf_node__get(rec + 17, 8);
    p->seq = rf_node__get(rec + 25, 8);
    p->floor = rf_node__get(rec + 33, 8);
    p->payload = copy;
    p->len = (uint32_t)(len - NODE_FWD_HEAD);
    if (copy != NULL)
        memcpy(copy, rec + NODE_FWD_HEAD, p->len);
    p->target = n->cfg.node_id;
    p->deadline = n->now + 2 * n->cfg.attempt_timeout_ns;
    local_submit(n, g, p);
}

/* The node time of the next rf_node__pending_tick with work: an attempt's
 * end, a retry, or giving up (UINT64_MAX: none). */
uint64_t rf_node__pending_due(const rf_node *n)
{
    uint64_t due = UINT64_MAX;
    const node_pending *p = n->pending.p;
    for (size_t i = 0; i < n->pending.n; i++) {
        uint64_t at;
        if (p[i].role == NODE_PEND_DEAD)
            continue;
        if (p[i].role == NODE_PEND_SERVE || p[i].role == NODE_PEND_REBAL) {
            at = p[i].deadline;
        } else {
            at = p[i].retry_at == 0 ? p[i].deadline : p[i].retry_at;
            if (p[i].give_up_at != 0 && p[i].give_up_at < at)
                at = p[i].give_up_at;
            else if (p[i].give_up_at == 0 && p[i].attempts > n->cfg.retries_max)
                at = 0;
        }
        due = at < due ? at : due;
    }
    return due;
}

/* Timeouts and scheduled retries (tick). */
void rf_node__pending_tick(rf_node *n)
{
    pending_compact(n);
    n->pending_ticking = true; /* entries stay where they are during the loop */
    /* Tokens of due entries first: dispatching may append to the table. */
    size_t count = n->pending.n;
    for (size_t i = 0; i < count && i < n->pending.n; i++) {
        node_pending *p = (node_pending *)n->pending.p + i;
        if (p->role == NODE_PEND_DEAD)
            continue;
        if (p->role == NODE_PEND_SERVE || p->role == NODE_PEND_REBAL) {
            if (n->now >= p->deadline) {
                node_group *g = rf_node__group(n, p->group_id);
                if (p->role == NODE_PEND_REBAL && g != NULL && g->rebal_token == p->token)
                    g->rebal_token = 0;
                rf_node__pending_drop(n, p->token);
            }
            continue;
        }
        if (p->retry_at == 0 && n->now >= p->deadline) {
            n->ctr.requests_retried++;
            rf_node__cache_set(n, p->group_id, 0, 0);
            p->attempts++;
            p->target = 0;
            p->retry_at = n->now + n->cfg.retry_interval_ns;
        }
        if (p->give_up_at != 0 ? n->now >= p->give_up_at : p->attempts > n->cfg.retries_max) {
            n->ctr.requests_timed_out++;
            finish(n, p, RF_ENOLEADER, NULL, 0);
            continue;
        }
        if (p->retry_at != 0 && n->now >= p->retry_at)
            rf_node__dispatch(n, p);
    }
    n->pending_ticking = false;
}

/* ---- submissions ------------------------------------------------------------------ */

static int submit_via(rf_node *n, uint8_t role, uint64_t request_id, uint8_t kind,
                      const char *name, uint64_t group_id, const uint8_t *payload, size_t len,
                      uint64_t via)
{
    node_pending *p = rf_node__pending_new(n, role);
    if (p == NULL) {
        if (role == NODE_PEND_USER)
            rf_node__reply(n, request_id, RF_EFULL, NULL, 0);
        return RF_EFULL;
    }
    /* One block for both copies (a malloc and a free less per request):
     * the name first, then the payload; without a name, the payload alone. */
    size_t nl = name == NULL ? 0 : strlen(name) + 1;
    uint8_t *block = nl + len > 0 ? malloc(nl + len) : NULL;
    if (nl + len > 0 && block == NULL) {
        rf_node__pending_drop(n, p->token);
        if (role == NODE_PEND_USER)
            rf_node__reply(n, request_id, RF_ENOMEM, NULL, 0);
        return RF_ENOMEM;
    }
    char *nm = nl > 0 ? (char *)block : NULL;
    uint8_t *copy = len > 0 ? block + nl : NULL;
    if (nl > 0)
        memcpy(nm, name, nl);
    if (len > 0)
        memcpy(copy, payload, len);
    p->kind = kind;
    p->request_id = request_id;
    p->group_id = group_id;
    p->name = nm;
    p->payload = copy;
    p->len = (uint32_t)len;
    /* The incarnation's session; the sequence comes at the first attempt
     * (node_session.c) and stays for the retries: Raft de-duplicates them. */
    p->client_id = kind == NODE_REQ_COMMAND ? rf_node__client_id(n) : 0;
    if (group_id == RF_META_GROUP_ID && len > 0)
        p->meta_op = rf_meta_cmd_op(payload, len);
    p->via = via;
    rf_node__dispatch(n, p);
    return RF_OK;
}

static int submit(rf_node *n, uint8_t role, uint64_t request_id, uint8_t kind, const char *name,
                  uint64_t group_id, const uint8_t *payload, size_t len)
{
    return submit_via(n, role, request_id, kind, name, group_id, payload, len, 0);
}

int rf_node__submit_meta(rf_node *n, uint8_t role, uint64_t request_id, const uint8_t *cmd,
                         size_t len, uint64_t aux)
{
    int rc = submit(n, role, request_id, NODE_REQ_COMMAND, NULL, RF_META_GROUP_ID, cmd, len);
    node_pending *last = n->pending.n == 0 ? NULL : (node_pending *)n->pending.p + n->pending.n - 1;
    if (rc == RF_OK && last != NULL)
        last->aux = aux;
    return rc;
}

static int reject(rf_node *n, uint64_t request_id, int status)
{
    rf_node__reply(n, request_id, status, NULL, 0);
    return status;
}

int rf_node_activate(rf_node *n, uint64_t request_id, const char *zone, uint64_t join_via)
{
    ASSERT(!n->in_ready);
    uint8_t cmd[RF_META_CMD_BYTES_MAX];
    size_t len = 0;
    int rc = rf_meta_cmd_activate(cmd, sizeof cmd, &len, n->name, zone, n->cfg.node_id);
    if (rc != RF_OK)
        return reject(n, request_id, rc);
    if (join_via == n->cfg.node_id || join_via > RF_NODE_ID_MAX)
        return reject(n, request_id, RF_EINVAL);
    if (join_via == 0 && rf_node__meta_raft(n) == NULL) {
        /* The first node: a new metadata group with this node its only
         * voter; rebalancing adds the others as they activate. */
        rc = rf_node__start_group(n, RF_META_GROUP_ID, true, RF_NODE_REASON_BOOT);
        if (rc != RF_OK)
            return reject(n, request_id, rc);
    }
    n->join_via = join_via;
    if (strcmp(n->zone, zone) != 0) {
        memcpy(n->zone, zone, strlen(zone) + 1); /* checked by rf_meta_cmd_activate */
        rf_node__journal_zone(n);
    }
    return submit(n, NODE_PEND_USER, request_id, NODE_REQ_COMMAND, NULL, RF_META_GROUP_ID, cmd,
                  len);
}

int rf_node_deactivate(rf_node *n, uint64_t request_id)
{
    ASSERT(!n->in_ready);
    uint8_t cmd[RF_META_CMD_BYTES_MAX];
    size_t len = 0;
    if (rf_node_meta(n) == NULL)
        return reject(n, request_id, RF_EINACTIVE);
    int rc = rf_meta_cmd_deactivate(cmd, sizeof cmd, &len, n->name);
    ASSERT(rc == RF_OK); /* the name was checked at creation */
    return submit(n, NODE_PEND_USER, request_id, NODE_REQ_COMMAND, NULL, RF_META_GROUP_ID, cmd,
                  len);
}

int rf_node_add_group(rf_node *n, uint64_t request_id, const char *name, uint32_t replicas,
                      const char *model)
{
    ASSERT(!n->in_ready);
    uint8_t cmd[RF_META_CMD_BYTES_MAX];
    size_t len = 0;
    int rc = rf_meta_cmd_add_group(cmd, sizeof cmd, &len, name, replicas, model);
    if (rc != RF_OK)
        return reject(n, request_id, rc);
    if (rf_node__model(n, model) == NULL)
        return reject(n, request_id, RF_ENOMODEL);
    return submit(n, NODE_PEND_USER, request_id, NODE_REQ_COMMAND, NULL, RF_META_GROUP_ID, cmd,
                  len);
}

int rf_node_remove_group(rf_node *n, uint64_t request_id, const char *name)
{
    ASSERT(!n->in_ready);
    uint8_t cmd[RF_META_CMD_BYTES_MAX];
    size_t len = 0;
    int rc = rf_meta_cmd_remove_group(cmd, sizeof cmd, &len, name);
    if (rc != RF_OK)
        return reject(n, request_id, rc);
    return submit(n, NODE_PEND_USER, request_id, NODE_REQ_COMMAND, NULL, RF_META_GROUP_ID, cmd,
                  len);
}

static int user_op(rf_node *n, uint64_t request_id, uint8_t kind, const char *group,
                   const uint8_t *in, size_t len)
{
    ASSERT(!n->in_ready);
    if (group == NULL || rf_placement_check_group(group) != RF_OK)
        return reject(n, request_id, RF_EBADNAME);
    if (len > RF_ENTRY_BYTES_MAX || (len > 0 && in == NULL))
        return reject(n, request_id, RF_ETOOBIG);
    return submit(n, NODE_PEND_USER, request_id, kind, group, 0, in, len);
}

int rf_node_command(rf_node *n, uint64_t request_id, const char *group, const uint8_t *cmd,
                    size_t len)
{
    return user_op(n, request_id, NODE_REQ_COMMAND, group, cmd, len);
}

int rf_node_query(rf_node *n, uint64_t request_id, const char *group, const uint8_t *q,
                  size_t len)
{
    return user_op(n, request_id, NODE_REQ_QUERY, group, q, len);
}

/* Asks the metadata leader (linearizably), through peer `from`, whether
 * this node is still registered; `from` told us it is not. A view that lists no node
 * and knows no metadata leader has no way to the leader but through that
 * peer: a node purged while away, restarted with a metadata replica the
 * leader no longer feeds (fuzz seed 2822), asked itself forever. */
void rf_node__self_check(rf_node *n, uint64_t from)
{
    uint8_t q[9];
    const rf_meta *m = rf_node_meta(n);
    if (n->self_checking || m == NULL)
        return;
    const rf_raft *mr = rf_node__meta_raft(n);
    if (rf_meta_node_count(m) == 0 && (mr == NULL || rf_raft_leader(mr) == 0))
        n->join_via = from;
    q[0] = RF_META_QUERY_NODE;
    rf_node__put(q + 1, n->cfg.node_id, 8);
    /* Through the peer that told us: our own view of the metadata leader
     * is what may be stale (a leader of an old term, a cached leader), and
     * asking it failed with no_leader for good (fuzz seed 7627). */
    if (submit_via(n, NODE_PEND_INTERNAL, 0, NODE_REQ_QUERY, NULL, RF_META_GROUP_ID, q, sizeof q,
                   from) != RF_OK)
        return;
    ((node_pending *)n->pending.p)[n->pending.n - 1].self_check = true;
    n->self_checking = true;
}

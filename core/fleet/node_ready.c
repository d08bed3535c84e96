/* node_ready: one output batch for every group on the node: persist, envelopes, replies, observations. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "fleet/node_int.h"

bool rf_node_has_ready(const rf_node *n)
{
    if (n->frames.n > 0 || n->replies.n > 0 || n->obs.n > 0 || rf_node__journal_has_ready(n))
        return true;
    if (n->all_dirty) {
        for (size_t i = 0; i < n->n_groups; i++)
            if (rf_raft_has_ready(n->groups[i].raft))
                return true;
        return false;
    }
    const uint64_t *ids = n->dirty.p;
    for (size_t i = 0; i < n->dirty.n; i++) {
        node_group *g = rf_node__group((rf_node *)n, ids[i]);
        if (g != NULL && rf_raft_has_ready(g->raft))
            return true;
    }
    return false;
}

static void take_write(rf_node *n, const node_group *g, const rf_ready *rd)
{
    bool ok = rf_node__vec_reserve(&n->writes, sizeof(rf_node_write), 1) &&
              rf_node__vec_reserve(&n->toks, sizeof(node_tok), 1);
    ASSERT(ok); /* a write cannot be dropped: the member waits for it */
    rf_node_write *w = (rf_node_write *)n->writes.p + n->writes.n++;
    memset(w, 0, sizeof *w);
    w->group_id = g->id;
    w->has_snapshot = rd->has_snapshot;
    w->snapshot = rd->snapshot;
    w->truncate_from = rd->truncate_from;
    w->entries = rd->entries;
    w->n_entries = rd->n_entries;
    w->has_hard_state = rd->has_hard_state;
    w->term = rd->term;
    w->vote = rd->vote;
    node_tok *t = (node_tok *)n->toks.p + n->toks.n++;
    t->node_token = n->persist_token;
    t->group_id = g->id;
    t->raft_token = rd->persist_token;
}

static void take_msgs(rf_node *n, node_group *g, const rf_ready *rd)
{
    for (size_t i = 0; i < rd->n_msgs; i++) {
        const rf_send *s = &rd->msgs[i];
        if (s->msg.type != RF_MSG_HEARTBEAT && s->msg.type != RF_MSG_HEARTBEAT_RESP) {
            rf_node__touch(n, g); /* elections, appends, snapshots: not idle */
            g->notice_term = 0;   /* and they wake the members they reach */
        }
        size_t need = rf_msg_encoded_size(&s->msg), len = 0;
        uint8_t stack[512];
        uint8_t *buf = need <= sizeof stack ? stack : malloc(need);
        if (buf == NULL)
            continue; /* lost like a dropped message */
        if (rf_msg_encode(&s->msg, buf, need, &len) == RF_OK &&
            rf_node__frame_append(n, s->to, NODE_REC_RAFT, NULL, 0, buf, len)) {
            n->ctr.raft_msgs_sent++;
            n->ctr.user_msgs_sent += g->id != RF_META_GROUP_ID;
        }
        if (buf != stack)
            free(buf);
    }
}

/* Raft observations become node observations: leadership is reported by
 * the leader itself, membership changes by the group's leader, so each
 * change is reported once in the cluster. */
static void take_obs(rf_node *n, const node_group *g, const rf_ready *rd)
{
    bool leader = rf_raft_role(g->raft) == RF_ROLE_LEADER;
    const rf_meta *m = rf_node_meta(n);
    for (size_t i = 0; i < rd->n_obs; i++) {
        const rf_observation *o = &rd->obs[i];
        uint8_t kind = 0;
        if (o->kind == RF_OBS_LEADER_ELECTED) {
            rf_node__cache_set(n, g->id, o->node_id, o->term);
            if (o->node_id == n->cfg.node_id)
                rf_node__obs(n, RF_NODE_OBS_LEADER, RF_NODE_REASON_NONE, g->id, o->term,
                             o->node_id);
            continue;
        }
        if (!leader)
            continue;
        if (o->kind == RF_OBS_MEMBER_ADDED)
            kind = RF_NODE_OBS_MEMBER_ADDED;
        else if (o->kind == RF_OBS_MEMBER_PROMOTED)
            kind = RF_NODE_OBS_MEMBER_PROMOTED;
        else if (o->kind == RF_OBS_MEMBER_REMOVED)
            kind = RF_NODE_OBS_MEMBER_REMOVED;
        if (kind == 0)
            continue;
        if (kind == RF_NODE_OBS_MEMBER_REMOVED && o->node_id != n->cfg.node_id) {
            /* The removal is committed: tell the removed member, which the
             * leader no longer replicates to, that it may stop. */
            uint8_t rec[NODE_STOP_LEN];
            rf_node__put(rec, g->id, 8);
            rf_node__put(rec + 8, o->index, 8);
            (void)rf_node__frame_append(n, o->node_id, NODE_REC_STOP, rec, sizeof rec, NULL, 0);
        }
        const rf_meta_node *mn = m == NULL ? NULL : rf_meta_node_by_id(m, o->node_id);
        uint8_t reason = mn != NULL && mn->state == RF_META_NODE_DEACTIVATING
                             ? RF_NODE_REASON_DRAIN
                             : RF_NODE_REASON_REBALANCE;
        rf_node__obs(n, kind, reason, g->id, o->term, o->node_id);
    }
}

static void take_applied(rf_node *n, const node_group *g, const rf_ready *rd)
{
    if (g->id == RF_META_GROUP_ID && rd->n_applied > 0)
        n->meta_dirty = true;
    if (rd->n_applied == 0 || !rf_node__vec_reserve(&n->applied, sizeof(rf_node_applied),
                                                    rd->n_applied))
        return;
    for (size_t i = 0; i < rd->n_applied; i++) {
        rf_node_applied *a = (rf_node_applied *)n->applied.p + n->applied.n++;
        a->group_id = g->id;
        a->a = rd->applied[i];
    }
}

static void take_group(rf_node *n, node_group *g)
{
    rf_ready rd;
    bool ok = rf_node__vec_reserve(&n->readied, sizeof(uint64_t), 1);
    ASSERT(ok); /* the batch could not be ended without it */
    ((uint64_t *)n->readied.p)[n->readied.n++] = g->id;
    rf_node__clock(n, g);
    rf_raft_ready(g->raft, &rd);
    g->in_ready = true;
    if (rd.persist_token != 0)
        take_write(n, g, &rd);
    take_msgs(n, g, &rd);
    take_obs(n, g, &rd);
    take_applied(n, g, &rd);
    for (size_t i = 0; i < rd.n_replies; i++) {
        const rf_reply *r = &rd.replies[i];
        rf_node__on_result(n, r->request_id, n->cfg.node_id, r->status, r->leader_hint,
                           r->data, r->len);
    }
}

void rf_node_ready(rf_node *n, rf_node_batch *rd)
{
    ASSERT(!n->in_ready);
    memset(rd, 0, sizeof *rd);
    n->in_ready = true;
    n->persist_token++;
    rf_node__journal_ready(n);
    if (n->all_dirty) {
        for (size_t i = 0; i < n->n_groups; i++)
            if (rf_raft_has_ready(n->groups[i].raft))
                take_group(n, &n->groups[i]);
    } else {
        /* In id order, as the full scan: the batch is the same either way. */
        uint64_t *ids = n->dirty.p;
        rf_node__sort_ids(ids, n->dirty.n);
        for (size_t i = 0; i < n->dirty.n; i++) {
            node_group *g = rf_node__group(n, ids[i]);
            if (g != NULL && rf_raft_has_ready(g->raft))
                take_group(n, g);
        }
    }
    if (n->writes.n == 0)
        n->persist_token--; /* tokens stay dense: one per batch that writes */
    else
        rd->persist_token = n->persist_token;
    rd->writes = n->writes.p;
    rd->n_writes = n->writes.n;

    const node_frame *f = n->frames.p;
    /* The arrays handed out keep their room from batch to batch. */
    n->env.n = 0;
    bool ok = rf_node__vec_reserve(&n->env, sizeof(rf_node_envelope), n->frames.n);
    ASSERT(ok);
    rf_node_envelope *env = n->env.p;
    for (size_t i = 0; i < n->frames.n; i++) {
        env[i].to = f[i].to;
        env[i].data = f[i].buf;
        env[i].len = f[i].len;
    }
    rd->envelopes = n->frames.n == 0 ? NULL : env;
    rd->n_envelopes = n->frames.n;
    n->ctr.envelopes_sent += n->frames.n;

    const node_reply_rec *rr = n->replies.p;
    n->rep.n = 0;
    ok = rf_node__vec_reserve(&n->rep, sizeof(rf_node_reply), n->replies.n);
    ASSERT(ok);
    rf_node_reply *rep = n->rep.p;
    for (size_t i = 0; i < n->replies.n; i++) {
        rep[i].request_id = rr[i].request_id;
        rep[i].status = rr[i].status;
        rep[i].data = n->arena + rr[i].off;
        rep[i].len = rr[i].len;
    }
    rd->replies = n->replies.n == 0 ? NULL : rep;
    rd->n_replies = n->replies.n;
    rd->obs = n->obs.p;
    rd->n_obs = n->obs.n;
    rd->applied = n->applied.p;
    rd->n_applied = n->applied.n;
    rd->groups = n->readied.p;
    rd->n_groups = n->readied.n;
}

void rf_node_advance(rf_node *n)
{
    ASSERT(n->in_ready);
    const uint64_t *ids = n->readied.p;
    for (size_t i = 0; i < n->readied.n; i++) {
        node_group *g = rf_node__group(n, ids[i]);
        ASSERT(g != NULL && g->in_ready); /* no group stops during a batch */
        rf_raft_advance(g->raft);
        g->in_ready = false;
        if (g->quiet) /* a follower that went quiet with entries to apply */
            rf_raft_release_memory(g->raft);
        if (rf_raft_has_ready(g->raft)) {
            /* Output left behind: the next tick looks at it again. */
            bool ok = rf_node__vec_reserve(&n->carry, sizeof(uint64_t), 1);
            ASSERT(ok);
            ((uint64_t *)n->carry.p)[n->carry.n++] = g->id;
        }
    }
    n->readied.n = 0;
    /* Every group with output was taken; none had an input since. Their
     * timers may have moved: refresh their due times (node_quiet.c). */
    if (n->all_dirty)
        for (size_t i = 0; i < n->n_groups; i++)
            rf_node__due_update(n, &n->groups[i]);
    ids = n->dirty.p;
    n->settling.n = 0;
    for (size_t i = 0; i < n->dirty.n; i++) {
        node_group *g = rf_node__group(n, ids[i]);
        if (g == NULL)
            continue;
        g->dirty = false;
        if (!n->all_dirty)
            rf_node__due_update(n, g);
        rf_node__settling_add(n, g);
    }
    n->dirty.n = 0;
    n->all_dirty = false;
    rf_node__frames_reset(n);
    n->writes.n = 0;
    n->replies.n = 0;
    n->arena_len = 0;
    n->obs.n = 0;
    n->applied.n = 0;
    rf_node__journal_advance(n);
    n->in_ready = false;
    /* A leader the batch left settled goes quiet now, not at the next
     * tick: its notices leave with the next batch. */
    rf_node__quiet_settled(n);
}

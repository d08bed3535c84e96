/* node_session: the node incarnation's client session: a sequence per command, a floor per group. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_lower.h"
#include "fleet/node_int.h"

/* Raft keeps RF_RAFT_SESSION_REPLIES_MAX replies per session: a whole
 * window always fits, so the bound there never refuses one of our retries. */
_Static_assert(RF_NODE_SESSION_WINDOW <= RF_RAFT_SESSION_REPLIES_MAX, "window above raft's bound");
_Static_assert(offsetof(node_session, group_id) == 0, "rf_lower_u64 key");

static size_t session_lower(const rf_node *n, uint64_t group)
{
    return rf_lower_u64(n->sessions.p, n->sessions.n, sizeof(node_session), group);
}

static node_session *session_get(rf_node *n, uint64_t group, size_t at)
{
    node_session *s = n->sessions.p;
    return at < n->sessions.n && s[at].group_id == group ? &s[at] : NULL;
}

static uint64_t *seq_at(const node_session *s, uint32_t i)
{
    return &s->seqs[(s->head + i) & (s->cap - 1)];
}

static void session_remove(rf_node *n, size_t at)
{
    node_session *s = n->sessions.p;
    free(s[at].seqs);
    memmove(&s[at], &s[at + 1], (n->sessions.n - at - 1) * sizeof *s);
    n->sessions.n--;
}

static bool session_grow(node_session *s)
{
    uint32_t ncap = s->cap ? s->cap * 2 : 8;
    uint64_t *ns = malloc((size_t)ncap * sizeof *ns);
    if (ns == NULL)
        return false;
    for (uint32_t i = 0; i < s->n; i++)
        ns[i] = *seq_at(s, i);
    free(s->seqs);
    s->seqs = ns;
    s->cap = ncap;
    s->head = 0;
    return true;
}

static bool windowed(const node_pending *p)
{
    return p->kind == NODE_REQ_COMMAND && p->client_id != 0 && p->role != NODE_PEND_SERVE &&
           p->role != NODE_PEND_DEAD;
}

bool rf_node__session_attempt(rf_node *n, node_pending *p)
{
    if (!windowed(p))
        return true;
    ASSERT(p->group_id != 0);
    size_t at = session_lower(n, p->group_id);
    node_session *s = session_get(n, p->group_id, at);
    if (p->seq == 0) {
        if (s != NULL && s->n >= RF_NODE_SESSION_WINDOW)
            return false;
        if (s == NULL) {
            s = rf_node__vec_insert(&n->sessions, sizeof *s, at);
            if (s == NULL)
                return false;
            s->group_id = p->group_id;
        }
        if (s->n == s->cap && !session_grow(s)) {
            if (s->n == 0)
                session_remove(n, at);
            return false;
        }
        p->seq = ++n->next_seq;
        *seq_at(s, s->n++) = p->seq;
    }
    ASSERT(s != NULL && s->n > 0);
    p->floor = *seq_at(s, 0); /* the oldest awaiting an outcome: never an ended one */
    return true;
}

void rf_node__session_done(rf_node *n, node_pending *p)
{
    if (!windowed(p) || p->seq == 0)
        return;
    uint64_t seq = p->seq;
    p->seq = 0;
    size_t at = session_lower(n, p->group_id);
    node_session *s = session_get(n, p->group_id, at);
    ASSERT(s != NULL);
    uint32_t lo = 0, hi = s->n; /* sequences grow along the ring */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((*seq_at(s, mid) & ~NODE_SEQ_DONE) < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    ASSERT(lo < s->n && *seq_at(s, lo) == seq);
    *seq_at(s, lo) |= NODE_SEQ_DONE;
    while (s->n > 0 && (*seq_at(s, 0) & NODE_SEQ_DONE)) {
        s->head = (s->head + 1) & (s->cap - 1);
        s->n--;
    }
    if (s->n == 0)
        session_remove(n, at);
}

void rf_node__session_free(rf_node *n)
{
    node_session *s = n->sessions.p;
    for (size_t i = 0; i < n->sessions.n; i++)
        free(s[i].seqs);
    free(n->sessions.p);
    memset(&n->sessions, 0, sizeof n->sessions);
}

/* node_journal: the node's own durable records (identity, incarnation, groups started and stopped, stopped members' terms) and the gates a restart needs. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_hash.h"
#include "fleet/node_int.h"
#include "fleet/node_journal.h"
#include "fleet/rf_node_store.h"

/* The journal is written as the log of the pseudo-group
 * RF_NODE_JOURNAL_GROUP: one entry per record (term 1), and from time to
 * time a snapshot of the whole manifest at the next index, which replaces
 * every record before it. Formats: fleet/node_journal.h. A record is in the
 * same node batch as the group writes it describes, so a batch that is
 * durable holds both, and one that is not holds neither. */

/* Records since the last snapshot past which the next batch writes a
 * snapshot instead: the journal stays within a small multiple of the
 * manifest's own size. */
static bool snapshot_due(const rf_node *n)
{
    return n->journal_records + n->jrec_count > 16 + (uint64_t)n->hosted.n;
}

static bool rec_add(rf_node *n, const uint8_t *rec, size_t len)
{
    if (!rf_node__vec_reserve(&n->jrec, 1, 4 + len))
        return false;
    uint8_t *p = (uint8_t *)n->jrec.p + n->jrec.n;
    rf_node__put(p, len, 4);
    memcpy(p + 4, rec, len);
    n->jrec.n += 4 + len;
    n->jrec_count++;
    return true;
}

static size_t put_name(uint8_t *p, const char *name)
{
    size_t len = strlen(name);
    ASSERT(len <= NODE_JOURNAL_NAME_MAX);
    p[0] = (uint8_t)len;
    memcpy(p + 1, name, len);
    return 1 + len;
}

/* A fresh node: its identity and incarnation 1 go into its first batch. */
int rf_node__journal_fresh(rf_node *n)
{
    uint8_t rec[NODE_JOURNAL_REC_MAX];
    rec[0] = NODE_JREC_IDENT;
    rf_node__put(rec + 1, n->cfg.node_id, 8);
    size_t len = 9 + put_name(rec + 9, n->name);
    if (!rec_add(n, rec, len))
        return RF_ENOMEM;
    n->meta_synced = true;
    return rf_node__journal_incarnation(n, 1);
}

int rf_node__journal_incarnation(rf_node *n, uint64_t incarnation)
{
    uint8_t rec[9];
    rec[0] = NODE_JREC_INCARNATION;
    rf_node__put(rec + 1, incarnation, 8);
    if (!rec_add(n, rec, sizeof rec))
        return RF_ENOMEM;
    n->incarnation = incarnation;
    n->incarnation_durable = false;
    /* Request tokens are unique across incarnations: a peer may still
     * answer a forward of the last life (held while it was paused or cut
     * off), and a token that life had used would take that answer for
     * another request's (fuzz seed 718757: a put got a get's reply). */
    n->next_token = (incarnation << NODE_TOKEN_LIFE_SHIFT) + 1;
    return RF_OK;
}

/* A write for a new member cannot wait: the node cannot run without it. */
void rf_node__journal_started(rf_node *n, uint64_t id, const rf_model *model)
{
    uint8_t rec[NODE_JOURNAL_REC_MAX];
    rec[0] = NODE_JREC_STARTED;
    rf_node__put(rec + 1, id, 8);
    size_t len = 9 + put_name(rec + 9, model->name);
    bool ok = rec_add(n, rec, len);
    ASSERT(ok); /* out of memory for a few bytes: nothing sensible is left */
}

/* The node's zone changed (an activation, or its deactivation committed):
 * a restarted node must know it, to register again in its zone if it was
 * purged while away, and to tell that from having drained. */
void rf_node__journal_zone(rf_node *n)
{
    uint8_t rec[NODE_JOURNAL_REC_MAX];
    rec[0] = NODE_JREC_ZONE;
    rf_node__put(rec + 1, 0, 8);
    size_t len = 9 + put_name(rec + 9, n->zone);
    bool ok = rec_add(n, rec, len);
    ASSERT(ok);
}

/* The member's log goes in the same batch as the record; its writes
 * still waiting for durability will never be reported to it. The term it
 * knew goes with it: a restarted node must not start a member again for
 * an older term (node_frame.c may_start) any more than a running one. */
void rf_node__journal_stopped(rf_node *n, uint64_t id, uint64_t term)
{
    uint8_t rec[17];
    rec[0] = NODE_JREC_STOPPED;
    rf_node__put(rec + 1, id, 8);
    rf_node__put(rec + 9, term, 8);
    bool ok = rec_add(n, rec, sizeof rec);
    ASSERT(ok);
    rf_node__journal_drop(n, id);
    node_tok *t = n->toks.p;
    size_t kept = 0;
    for (size_t i = 0; i < n->toks.n; i++)
        if (t[i].group_id != id)
            t[kept++] = t[i];
    n->toks.n = kept;
}

void rf_node__journal_drop(rf_node *n, uint64_t id)
{
    bool ok = rf_node__vec_reserve(&n->drops, sizeof(uint64_t), 1);
    ASSERT(ok);
    ((uint64_t *)n->drops.p)[n->drops.n++] = id;
}

bool rf_node__journal_has_ready(const rf_node *n)
{
    return n->jrec_count > 0 || n->drops.n > 0;
}

/* The manifest: everything the records say, as of the end of this step. */
static void build_snapshot(rf_node *n)
{
    size_t cap = 1 + 8 + 1 + NODE_JOURNAL_NAME_MAX + 8 + 8 + 8 * n->hosted.n + 8 +
                 n->n_groups * (9 + NODE_JOURNAL_NAME_MAX) + 1 + NODE_JOURNAL_NAME_MAX + 8 +
                 16 * n->tombs.n;
    uint8_t *p = malloc(cap);
    ASSERT(p != NULL);
    size_t at = 0;
    p[at++] = NODE_JOURNAL_SNAP_VERSION;
    rf_node__put(p + at, n->cfg.node_id, 8);
    at += 8;
    at += put_name(p + at, n->name);
    rf_node__put(p + at, n->incarnation, 8);
    at += 8;
    rf_node__put(p + at, n->hosted.n, 8);
    at += 8;
    for (size_t i = 0; i < n->hosted.n; i++, at += 8)
        rf_node__put(p + at, ((const uint64_t *)n->hosted.p)[i], 8);
    rf_node__put(p + at, n->n_groups, 8);
    at += 8;
    for (size_t i = 0; i < n->n_groups; i++) {
        rf_node__put(p + at, n->groups[i].id, 8);
        at += 8;
        at += put_name(p + at, n->groups[i].model->name);
    }
    at += put_name(p + at, n->zone);
    rf_node__put(p + at, n->tombs.n, 8);
    at += 8;
    for (size_t i = 0; i < n->tombs.n; i++, at += 16) {
        const node_tomb *t = (const node_tomb *)n->tombs.p + i;
        rf_node__put(p + at, t->group, 8);
        rf_node__put(p + at + 8, t->term, 8);
    }
    ASSERT(at <= cap);
    n->jsnap = p;
    n->jsnap_len = at;
}

static rf_node_write *write_new(rf_node *n, uint64_t group)
{
    bool ok = rf_node__vec_reserve(&n->writes, sizeof(rf_node_write), 1);
    ASSERT(ok);
    rf_node_write *w = (rf_node_write *)n->writes.p + n->writes.n++;
    memset(w, 0, sizeof *w);
    w->group_id = group;
    return w;
}

/* The first writes of a batch: the logs to forget, then the journal. */
void rf_node__journal_ready(rf_node *n)
{
    ASSERT(n->writes.n == 0);
    for (size_t i = 0; i < n->drops.n; i++)
        write_new(n, ((const uint64_t *)n->drops.p)[i])->drop = true;
    n->drops.n = 0;
    if (n->jrec_count == 0)
        return;
    rf_node_write *w = write_new(n, RF_NODE_JOURNAL_GROUP);
    if (snapshot_due(n)) {
        build_snapshot(n);
        w->has_snapshot = true;
        w->snapshot.index = ++n->journal_last;
        w->snapshot.term = NODE_JOURNAL_TERM;
        w->snapshot.data = n->jsnap;
        w->snapshot.len = n->jsnap_len;
        n->journal_records = 0;
    } else {
        bool ok = rf_node__vec_reserve(&n->jents, sizeof(rf_entry), n->jrec_count);
        ASSERT(ok);
        rf_entry *e = n->jents.p;
        const uint8_t *p = n->jrec.p;
        for (size_t i = 0, at = 0; i < n->jrec_count; i++) {
            uint32_t len = (uint32_t)rf_node__get(p + at, 4);
            memset(&e[i], 0, sizeof e[i]);
            e[i].index = ++n->journal_last;
            e[i].term = NODE_JOURNAL_TERM;
            e[i].kind = RF_ENTRY_COMMAND;
            e[i].data = p + at + 4;
            e[i].len = len;
            at += 4 + len;
        }
        w->entries = e;
        w->n_entries = n->jrec_count;
        n->journal_records += n->jrec_count;
    }
    if (!n->incarnation_durable && n->incarnation_token == 0)
        n->incarnation_token = n->persist_token;
}

void rf_node__journal_advance(rf_node *n)
{
    n->jrec.n = 0;
    n->jrec_count = 0;
    free(n->jsnap);
    n->jsnap = NULL;
    n->jsnap_len = 0;
}

void rf_node__journal_persisted(rf_node *n, uint64_t token)
{
    if (!n->incarnation_durable && n->incarnation_token != 0 && token >= n->incarnation_token)
        n->incarnation_durable = true;
}

/* A restored metadata replica starts from its snapshot: its view may be
 * older than what the node acted on before the crash (a group it hosts may
 * look unknown). It is trusted again once it knows a leader and has
 * applied everything that leader says is committed, up to the end of the
 * log it restored (or of what is left of it after the leader cut a stale
 * suffix). */
void rf_node__meta_sync_tick(rf_node *n)
{
    if (n->meta_synced)
        return;
    const rf_raft *r = rf_node__meta_raft(n);
    if (r == NULL) {
        n->meta_synced = true;
        return;
    }
    uint64_t last = rf_raft_last_index(r);
    uint64_t need = n->meta_sync_index < last ? n->meta_sync_index : last;
    uint64_t commit = rf_raft_commit_index(r);
    if (rf_raft_leader(r) != 0 && commit >= need && rf_raft_applied_index(r) >= commit)
        n->meta_synced = true;
}

/* The client session of this incarnation (Raft's de-duplication, raft.h):
 * a restarted node numbers its commands from 1 again in a new session, so
 * a new command is never taken for an old one. */
uint64_t rf_node__client_id(const rf_node *n)
{
    static const uint8_t key[16] = "rf-session-id-v2";
    uint8_t in[16];
    rf_node__put(in, n->cfg.node_id, 8);
    rf_node__put(in + 8, n->incarnation, 8);
    uint64_t id = rf_siphash24(key, in, sizeof in);
    return id == 0 ? 1 : id; /* 0 means no de-duplication */
}

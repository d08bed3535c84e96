/* sim/check: the safety checkers: a mirror of each node's log plus global tables of what was committed. */
#include "sim/check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "base/rf_le.h"
#include "sim/engine.h"

const char *rf_sim_violation_name(rf_sim_violation_kind kind)
{
    switch (kind) {
    case RF_SIM_V_NONE: return "none";
    case RF_SIM_V_ELECTION: return "election safety";
    case RF_SIM_V_LOG_MATCHING: return "log matching";
    case RF_SIM_V_LEADER_COMPLETENESS: return "leader completeness";
    case RF_SIM_V_COMMITTED_CHANGED: return "committed entry lost or changed";
    case RF_SIM_V_STATE_MACHINE: return "state machine safety";
    case RF_SIM_V_ACK: return "acknowledged result lost or changed";
    case RF_SIM_V_DURABILITY: return "durability before acknowledgement";
    case RF_SIM_V_LIVENESS: return "liveness";
    case RF_SIM_V_LINEARIZABILITY: return "linearizability";
    case RF_SIM_V_HARNESS: return "harness bookkeeping";
    case RF_SIM_V_COMMIT_RULE: return "leader commit rule";
    case RF_SIM_V_LEASE: return "leader lease";
    }
    return "unknown";
}

/* The checkers compare fingerprints of what they saw, several per entry:
 * no adversary chooses the inputs, so a word-at-a-time mix whose every
 * step is a bijection of the state (splitmix64's finaliser) separates
 * them as well as a keyed hash, at a tenth of the cost. */
static inline uint64_t fold(uint64_t h, uint64_t w)
{
    return rf_sim_mix64((h ^ w) * 0x9e3779b97f4a7c15ULL);
}

uint64_t rf_sim_check_hash(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = fold(0x72662d73696d2d63ULL, (uint64_t)len);
    size_t i = 0;
    for (; i + 8 <= len; i += 8)
        h = fold(h, rf_le_get64(p + i));
    if (i < len) {
        uint64_t w = 0;
        for (size_t k = 0; i + k < len; k++)
            w |= (uint64_t)p[i + k] << (8 * k);
        h = fold(h, w); /* the length, folded first, tells a zero tail from none */
    }
    return h;
}

uint64_t rf_sim_check_payload(uint32_t kind, uint64_t client, uint64_t seq, const void *data,
                              size_t len)
{
    uint64_t h = fold(fold(fold(0x6b2d7061796c6f64ULL, kind), client), seq);
    return fold(h, rf_sim_check_hash(data, len));
}

static uint64_t chain_next(uint64_t prev, uint64_t term, uint64_t phash)
{
    return fold(fold(fold(0x6b2d636861696e73ULL, prev), term), phash);
}

void rf_sim_check_fail(rf_sim_check *c, rf_sim_violation_kind kind, const char *fmt, ...)
{
    ASSERT(kind != RF_SIM_V_NONE);
    c->violations++;
    if (c->violations > 1)
        return;
    c->first.kind = kind;
    int n = snprintf(c->first.text, sizeof(c->first.text), "group %" PRIu64 ": %s: ", c->group,
                     rf_sim_violation_name(kind));
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(c->first.text))
        vsnprintf(c->first.text + n, sizeof(c->first.text) - (size_t)n, fmt, ap);
    va_end(ap);
}

int rf_sim_check_init(rf_sim_check *c, uint64_t group, uint32_t nodes, uint64_t entries_max)
{
    ASSERT(nodes <= RF_SIM_NODES_MAX);
    ASSERT(entries_max > 0 && entries_max <= UINT32_MAX);
    memset(c, 0, sizeof(*c));
    c->group = group;
    c->nodes = nodes;
    c->entries_max = entries_max;
    int rc = rf_sim_u64map_init(&c->leaders, (uint32_t)entries_max);
    if (rc == RF_OK)
        rc = rf_sim_u64map_init(&c->chains, (uint32_t)entries_max);
    if (rc == RF_OK)
        rc = rf_sim_u64map_init(&c->commands, (uint32_t)entries_max);
    if (rc != RF_OK)
        rf_sim_check_close(c);
    return rc;
}

void rf_sim_check_close(rf_sim_check *c)
{
    for (uint32_t i = 0; i < RF_SIM_NODES_MAX; i++)
        free(c->node[i].log);
    free(c->committed);
    rf_sim_u64map_close(&c->leaders);
    rf_sim_u64map_close(&c->chains);
    rf_sim_u64map_close(&c->commands);
    memset(c->node, 0, sizeof(c->node));
    c->committed = NULL;
}

static uint64_t node_last(const rf_sim_check_node *n)
{
    return n->base_index + n->len;
}

uint64_t rf_sim_check_last_index(const rf_sim_check *c, uint32_t node)
{
    ASSERT(node < c->nodes);
    return node_last(&c->node[node]);
}

/* The mirror entry at index, or NULL when the snapshot covers it or the
 * log does not reach it. */
static const rf_sim_check_entry *node_entry(const rf_sim_check_node *n, uint64_t index)
{
    if (index <= n->base_index || index > node_last(n))
        return NULL;
    return &n->log[index - n->base_index - 1];
}

uint64_t rf_sim_check_term_at(const rf_sim_check *c, uint32_t node, uint64_t index)
{
    ASSERT(node < c->nodes);
    const rf_sim_check_node *n = &c->node[node];
    if (index == n->base_index)
        return n->base_term;
    const rf_sim_check_entry *e = node_entry(n, index);
    return e == NULL ? 0 : e->term;
}

static uint64_t node_chain(const rf_sim_check_node *n, uint64_t index)
{
    if (index == n->base_index)
        return n->base_chain;
    const rf_sim_check_entry *e = node_entry(n, index);
    ASSERT(e != NULL);
    return e->chain;
}

static uint64_t node_term(const rf_sim_check_node *n, uint64_t index)
{
    if (index == n->base_index)
        return n->base_term;
    const rf_sim_check_entry *e = node_entry(n, index);
    ASSERT(e != NULL);
    return e->term;
}

static const rf_sim_committed *committed_at(const rf_sim_check *c, uint64_t index)
{
    if (index == 0 || index > c->committed_len)
        return NULL;
    return &c->committed[index - 1];
}

bool rf_sim_check_node_reset(rf_sim_check *c, uint32_t node, uint64_t base_index,
                             uint64_t base_term)
{
    ASSERT(node < c->nodes);
    rf_sim_check_node *n = &c->node[node];
    n->len = 0;
    n->base_index = base_index;
    n->base_term = base_term;
    n->base_chain = 0;
    n->commit = base_index;
    n->applied = base_index;
    if (base_index == 0)
        return true;
    const rf_sim_committed *cm = committed_at(c, base_index);
    if (cm == NULL || cm->term != base_term) {
        rf_sim_check_fail(c, RF_SIM_V_COMMITTED_CHANGED,
                          "n%u restarts from a snapshot at %" PRIu64 "/%" PRIu64
                          " that is not a committed entry",
                          node + 1, base_index, base_term);
        return false;
    }
    n->base_chain = cm->chain;
    return true;
}

static bool log_reserve(rf_sim_check *c, rf_sim_check_node *n, uint64_t len)
{
    if (len <= n->cap)
        return true;
    uint64_t cap = n->cap == 0 ? 256 : n->cap;
    while (cap < len)
        cap *= 2;
    rf_sim_check_entry *log = cap <= c->entries_max ? realloc(n->log, cap * sizeof(*log)) : NULL;
    if (log == NULL) {
        rf_sim_check_fail(c, RF_SIM_V_HARNESS, "log mirror exceeds %" PRIu64 " entries",
                          c->entries_max);
        return false;
    }
    n->log = log;
    n->cap = cap;
    return true;
}

/* Log Matching (Raft paper §5.3): one chain per (index, term), ever. */
static bool match_chain(rf_sim_check *c, uint32_t node, uint64_t index, uint64_t term,
                        uint64_t chain)
{
    uint64_t seen;
    c->checks++;
    if (rf_sim_u64map_get(&c->chains, index, term, &seen)) {
        if (seen == chain)
            return true;
        rf_sim_check_fail(c, RF_SIM_V_LOG_MATCHING,
                          "n%u holds entry %" PRIu64 "/%" PRIu64
                          " with a prefix different from another node's",
                          node + 1, index, term);
        return false;
    }
    if (rf_sim_u64map_put(&c->chains, index, term, chain) != RF_OK) {
        rf_sim_check_fail(c, RF_SIM_V_HARNESS, "chain table full");
        return false;
    }
    return true;
}

/* Entries at or below the node's commit index may be rewritten only with
 * themselves (Raft paper §5.3: a follower truncates only conflicts, and
 * committed entries never conflict). */
static bool check_overwrite(rf_sim_check *c, uint32_t node, uint64_t from_index,
                            const uint64_t *terms, const uint64_t *phashes, uint64_t n)
{
    const rf_sim_check_node *nd = &c->node[node];
    uint64_t last = node_last(nd);
    for (uint64_t i = from_index; i <= last && i <= nd->commit; i++) {
        const rf_sim_check_entry *e = node_entry(nd, i);
        uint64_t k = i - from_index;
        if (k >= n || terms[k] != e->term || phashes[k] != e->phash) {
            rf_sim_check_fail(c, RF_SIM_V_COMMITTED_CHANGED,
                              "n%u truncates its committed entry %" PRIu64 "/%" PRIu64
                              " (commit index %" PRIu64 ")",
                              node + 1, i, e->term, nd->commit);
            return false;
        }
    }
    return true;
}

bool rf_sim_check_append(rf_sim_check *c, uint32_t node, uint64_t from_index,
                         const uint64_t *terms, const uint64_t *phashes, uint64_t n)
{
    ASSERT(node < c->nodes);
    rf_sim_check_node *nd = &c->node[node];
    if (from_index <= nd->base_index || from_index > node_last(nd) + 1) {
        rf_sim_check_fail(c, RF_SIM_V_HARNESS,
                          "n%u appends at %" PRIu64 " to a log holding %" PRIu64 "..%" PRIu64,
                          node + 1, from_index, nd->base_index + 1, node_last(nd));
        return false;
    }
    if (!check_overwrite(c, node, from_index, terms, phashes, n))
        return false;
    nd->len = from_index - 1 - nd->base_index;
    if (!log_reserve(c, nd, nd->len + n))
        return false;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t index = from_index + k;
        uint64_t prev_term = node_term(nd, index - 1);
        if (terms[k] < prev_term) {
            rf_sim_check_fail(c, RF_SIM_V_LOG_MATCHING,
                              "n%u log terms decrease at %" PRIu64 " (%" PRIu64 " after %" PRIu64
                              ")",
                              node + 1, index, terms[k], prev_term);
            return false;
        }
        rf_sim_check_entry e = {.term = terms[k], .phash = phashes[k]};
        e.chain = chain_next(node_chain(nd, index - 1), e.term, e.phash);
        nd->log[nd->len++] = e;
        if (!match_chain(c, node, index, e.term, e.chain))
            return false;
    }
    return true;
}

bool rf_sim_check_snapshot(rf_sim_check *c, uint32_t node, uint64_t index, uint64_t term)
{
    ASSERT(node < c->nodes);
    rf_sim_check_node *n = &c->node[node];
    if (index <= n->base_index)
        return true;
    const rf_sim_committed *cm = committed_at(c, index);
    if (cm == NULL || cm->term != term) {
        rf_sim_check_fail(c, RF_SIM_V_COMMITTED_CHANGED,
                          "n%u snapshots at %" PRIu64 "/%" PRIu64 ", not a committed entry",
                          node + 1, index, term);
        return false;
    }
    const rf_sim_check_entry *e = node_entry(n, index);
    if (e != NULL && e->term == term) {
        uint64_t drop = index - n->base_index;
        memmove(n->log, n->log + drop, (size_t)(n->len - drop) * sizeof(*n->log));
        n->len -= drop;
    } else {
        n->len = 0;
    }
    n->base_index = index;
    n->base_term = term;
    n->base_chain = cm->chain;
    if (n->commit < index)
        n->commit = index;
    if (n->applied < index)
        n->applied = index;
    return true;
}

static bool commit_one(rf_sim_check *c, uint32_t node, uint64_t index, uint64_t term)
{
    const rf_sim_check_entry *e = node_entry(&c->node[node], index);
    ASSERT(e != NULL);
    c->checks++;
    if (index <= c->committed_len) {
        const rf_sim_committed *cm = &c->committed[index - 1];
        if (cm->chain == e->chain)
            return true;
        rf_sim_check_fail(c, RF_SIM_V_COMMITTED_CHANGED,
                          "n%u commits %" PRIu64 "/%" PRIu64 " where %" PRIu64 "/%" PRIu64
                          " was committed",
                          node + 1, index, e->term, index, cm->term);
        return false;
    }
    ASSERT(index == c->committed_len + 1);
    if (c->committed_len == c->committed_cap) {
        uint64_t cap = c->committed_cap == 0 ? 1024 : c->committed_cap * 2;
        rf_sim_committed *t = cap <= c->entries_max ? realloc(c->committed, cap * sizeof(*t)) : NULL;
        if (t == NULL) {
            rf_sim_check_fail(c, RF_SIM_V_HARNESS, "committed table exceeds %" PRIu64 " entries",
                              c->entries_max);
            return false;
        }
        c->committed = t;
        c->committed_cap = cap;
    }
    c->committed[c->committed_len++] =
        (rf_sim_committed){.term = e->term, .phash = e->phash, .chain = e->chain, .commit_term = term};
    return true;
}

bool rf_sim_check_commit(rf_sim_check *c, uint32_t node, uint64_t commit, uint64_t term)
{
    ASSERT(node < c->nodes);
    rf_sim_check_node *n = &c->node[node];
    if (commit < n->commit) {
        rf_sim_check_fail(c, RF_SIM_V_COMMITTED_CHANGED,
                          "n%u commit index goes back from %" PRIu64 " to %" PRIu64, node + 1,
                          n->commit, commit);
        return false;
    }
    if (commit > node_last(n)) {
        rf_sim_check_fail(c, RF_SIM_V_COMMITTED_CHANGED,
                          "n%u commit index %" PRIu64 " passes its last entry %" PRIu64,
                          node + 1, commit, node_last(n));
        return false;
    }
    uint64_t from = n->commit > n->base_index ? n->commit : n->base_index;
    for (uint64_t i = from + 1; i <= commit; i++)
        if (!commit_one(c, node, i, term))
            return false;
    n->commit = commit;
    return true;
}

bool rf_sim_check_leader_commit(rf_sim_check *c, uint32_t node, uint64_t commit, uint64_t term)
{
    ASSERT(node < c->nodes);
    const rf_sim_check_entry *e = node_entry(&c->node[node], commit);
    if (commit <= c->committed_len || e == NULL)
        return true; /* committed before, or not in the mirror: rf_sim_check_commit judges */
    c->checks++;
    if (e->term == term)
        return true;
    rf_sim_check_fail(c, RF_SIM_V_COMMIT_RULE,
                      "n%u, leader of term %" PRIu64 ", commits up to %" PRIu64 "/%" PRIu64
                      ": replicas are counted only for an entry of the leader's term (Raft §5.4.2)",
                      node + 1, term, commit, e->term);
    return false;
}

bool rf_sim_check_apply(rf_sim_check *c, uint32_t node, uint64_t index, uint64_t term,
                        uint64_t phash, bool is_command, uint64_t client, uint64_t seq,
                        uint64_t reply_hash)
{
    ASSERT(node < c->nodes);
    rf_sim_check_node *n = &c->node[node];
    c->checks++;
    if (index != n->applied + 1 || index > n->commit) {
        rf_sim_check_fail(c, RF_SIM_V_STATE_MACHINE,
                          "n%u applies %" PRIu64 " after %" PRIu64 " with commit index %" PRIu64,
                          node + 1, index, n->applied, n->commit);
        return false;
    }
    rf_sim_committed *cm = &c->committed[index - 1];
    ASSERT(index <= c->committed_len); /* follows from index <= n->commit */
    if (cm->term != term || cm->phash != phash) {
        rf_sim_check_fail(c, RF_SIM_V_STATE_MACHINE,
                          "n%u applies %" PRIu64 "/%" PRIu64 ", not the committed entry (term %" PRIu64
                          ")",
                          node + 1, index, term, cm->term);
        return false;
    }
    if (cm->has_reply && cm->reply_hash != reply_hash) {
        rf_sim_check_fail(c, RF_SIM_V_STATE_MACHINE,
                          "n%u replies differently from another node at %" PRIu64, node + 1, index);
        return false;
    }
    cm->has_reply = true;
    cm->reply_hash = reply_hash;
    n->applied = index;
    if (!is_command)
        return true;
    uint64_t first;
    if (!rf_sim_u64map_get(&c->commands, client, seq, &first)) {
        if (rf_sim_u64map_put(&c->commands, client, seq, index) != RF_OK) {
            rf_sim_check_fail(c, RF_SIM_V_HARNESS, "command table full");
            return false;
        }
        return true;
    }
    /* A retry that reached the log twice must not apply again (issue 3,
     * de-duplication): it gets the first reply back, or, applied after its
     * client's floor passed it (the client had its reply or gave up on it:
     * raft.h, rf_raft_propose), RF_ESESSION with no reply. */
    uint64_t refused = rf_sim_check_hash("", 0) ^ (uint64_t)(uint32_t)RF_ESESSION;
    if (first != index && c->committed[first - 1].reply_hash != reply_hash &&
        reply_hash != refused) {
        rf_sim_check_fail(c, RF_SIM_V_STATE_MACHINE,
                          "n%u: retried command (client %" PRIu64 ", seq %" PRIu64
                          ") at %" PRIu64 " replies differently from its first application at %" PRIu64,
                          node + 1, client, seq, index, first);
        return false;
    }
    return true;
}

bool rf_sim_check_digest(rf_sim_check *c, uint32_t node, uint64_t applied, uint64_t digest)
{
    ASSERT(node < c->nodes);
    if (applied == 0)
        return true;
    c->checks++;
    if (applied > c->committed_len) {
        rf_sim_check_fail(c, RF_SIM_V_STATE_MACHINE,
                          "n%u applied %" PRIu64 " past every commit (%" PRIu64 ")", node + 1,
                          applied, c->committed_len);
        return false;
    }
    rf_sim_committed *cm = &c->committed[applied - 1];
    if (cm->has_digest && cm->digest != digest) {
        rf_sim_check_fail(c, RF_SIM_V_STATE_MACHINE,
                          "n%u model digest %016" PRIx64 " at applied index %" PRIu64
                          " differs from another replica's %016" PRIx64,
                          node + 1, digest, applied, cm->digest);
        return false;
    }
    cm->has_digest = true;
    cm->digest = digest;
    return true;
}

bool rf_sim_check_leader(rf_sim_check *c, uint32_t node, uint64_t term)
{
    ASSERT(node < c->nodes);
    uint64_t seen;
    c->checks++;
    if (rf_sim_u64map_get(&c->leaders, term, 0, &seen)) {
        if (seen == node)
            return true;
        rf_sim_check_fail(c, RF_SIM_V_ELECTION, "n%u and n%u are both leaders of term %" PRIu64,
                          (unsigned)seen + 1, node + 1, term);
        return false;
    }
    if (rf_sim_u64map_put(&c->leaders, term, 0, node) != RF_OK) {
        rf_sim_check_fail(c, RF_SIM_V_HARNESS, "leader table full");
        return false;
    }
    /* Leader Completeness (Raft paper §5.4): a new leader's log holds
     * every entry committed before its term. Chains make it one compare. */
    const rf_sim_check_node *n = &c->node[node];
    uint64_t top = c->committed_len;
    while (top > 0 && c->committed[top - 1].commit_term >= term)
        top--;
    if (top == 0 || top < n->base_index)
        return true;
    if (top > node_last(n) || node_chain(n, top) != c->committed[top - 1].chain) {
        rf_sim_check_fail(c, RF_SIM_V_LEADER_COMPLETENESS,
                          "n%u leads term %" PRIu64 " without committed entry %" PRIu64
                          " (its last index %" PRIu64 ")",
                          node + 1, term, top, node_last(n));
        return false;
    }
    return true;
}

bool rf_sim_check_ack(rf_sim_check *c, uint64_t client, uint64_t seq, uint64_t reply_hash)
{
    uint64_t index;
    c->checks++;
    if (!rf_sim_u64map_get(&c->commands, client, seq, &index)) {
        rf_sim_check_fail(c, RF_SIM_V_ACK,
                          "client %" PRIu64 " seq %" PRIu64 " acknowledged but never applied",
                          client, seq);
        return false;
    }
    const rf_sim_committed *cm = &c->committed[index - 1];
    if (!cm->has_reply || cm->reply_hash != reply_hash) {
        rf_sim_check_fail(c, RF_SIM_V_ACK,
                          "client %" PRIu64 " seq %" PRIu64 " got a reply different from what was"
                          " applied at %" PRIu64,
                          client, seq, index);
        return false;
    }
    return true;
}

bool rf_sim_check_last(rf_sim_check *c, uint32_t node, uint64_t last_index, uint64_t last_term)
{
    ASSERT(node < c->nodes);
    const rf_sim_check_node *n = &c->node[node];
    uint64_t mine = node_last(n);
    if (mine == last_index && node_term(n, mine) == last_term)
        return true;
    rf_sim_check_fail(c, RF_SIM_V_HARNESS,
                      "n%u reports last entry %" PRIu64 "/%" PRIu64 " but its outputs built %" PRIu64
                      "/%" PRIu64,
                      node + 1, last_index, last_term, mine, node_term(n, mine));
    return false;
}

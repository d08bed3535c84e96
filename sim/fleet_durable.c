/* sim/fleet_durable: what each node's store acknowledged, kept by the harness and checked at every restart. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/fleet_int.h"

/* The contract a restart is held to: every group the node's acknowledged
 * batches left durable comes back with exactly that term and vote and the
 * same last log entry (index and term), unless the commit a crash
 * interrupted wrote to it (that one may or may not have landed). Raft's
 * safety rests on it: a vote or an acknowledged entry forgotten lets two
 * leaders win one term or a committed entry vanish. */

bool fleet_durable_note(fleet_batch *fb, const rf_node_batch *b)
{
    for (size_t i = 0; i < b->n_writes; i++) {
        const rf_node_write *w = &b->writes[i];
        if (w->group_id == RF_NODE_JOURNAL_GROUP)
            continue;
        if (fb->n_ws == fb->cap_ws) {
            size_t cap = fb->cap_ws == 0 ? 64 : fb->cap_ws * 2;
            fleet_wsum *ws = realloc(fb->ws, cap * sizeof *ws);
            if (ws == NULL)
                return false;
            fb->ws = ws;
            fb->cap_ws = cap;
        }
        fleet_wsum *s = &fb->ws[fb->n_ws++];
        memset(s, 0, sizeof *s);
        s->group = w->group_id;
        s->drop = w->drop;
        s->has_hard_state = w->has_hard_state;
        s->term = w->term;
        s->vote = w->vote;
        s->has_snapshot = w->has_snapshot;
        s->snap_index = w->has_snapshot ? w->snapshot.index : 0;
        s->snap_term = w->has_snapshot ? w->snapshot.term : 0;
        s->truncate_from = w->truncate_from;
        s->has_entries = w->n_entries > 0;
        if (s->has_entries) {
            s->last_index = w->entries[w->n_entries - 1].index;
            s->last_term = w->entries[w->n_entries - 1].term;
        }
    }
    return true;
}

/* The group's entry, created when absent (NULL: no memory). */
static fleet_dgroup *dgroup(fleet_node *fn, uint64_t group, bool create)
{
    size_t lo = 0, hi = fn->n_dur;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fn->dur[mid].group < group)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < fn->n_dur && fn->dur[lo].group == group)
        return &fn->dur[lo];
    if (!create)
        return NULL;
    if (fn->n_dur == fn->cap_dur) {
        size_t cap = fn->cap_dur == 0 ? 16 : fn->cap_dur * 2;
        fleet_dgroup *d = realloc(fn->dur, cap * sizeof *d);
        if (d == NULL)
            return NULL;
        fn->dur = d;
        fn->cap_dur = cap;
    }
    memmove(&fn->dur[lo + 1], &fn->dur[lo], (fn->n_dur - lo) * sizeof *fn->dur);
    fn->n_dur++;
    memset(&fn->dur[lo], 0, sizeof fn->dur[lo]);
    fn->dur[lo].group = group;
    fn->dur[lo].last_known = true;
    return &fn->dur[lo];
}

static void dgroup_remove(fleet_node *fn, uint64_t group)
{
    fleet_dgroup *d = dgroup(fn, group, false);
    if (d == NULL)
        return;
    size_t at = (size_t)(d - fn->dur);
    memmove(&fn->dur[at], &fn->dur[at + 1], (fn->n_dur - at - 1) * sizeof *fn->dur);
    fn->n_dur--;
}

static void apply_one(fleet_node *fn, const fleet_wsum *s)
{
    if (s->drop)
        dgroup_remove(fn, s->group);
    fleet_dgroup *d = dgroup(fn, s->group, true);
    if (d == NULL) {
        fn->dur_lost = true; /* no memory: the check stands down for this node */
        return;
    }
    if (s->has_snapshot) {
        /* A snapshot past the log replaces it; one inside it keeps the
         * entries after it only when their terms agree (not tracked). */
        if (d->last_known && s->snap_index >= d->last_index) {
            d->last_index = s->snap_index;
            d->last_term = s->snap_term;
        } else {
            d->last_known = false;
        }
    }
    if (s->truncate_from != 0)
        d->last_known = false;
    if (s->has_entries) {
        d->last_index = s->last_index;
        d->last_term = s->last_term;
        d->last_known = true;
    }
    if (s->has_hard_state) {
        d->has_hard_state = true;
        d->term = s->term;
        d->vote = s->vote;
    }
}

void fleet_durable_apply(fleet_node *fn, const fleet_batch *fb)
{
    for (size_t i = 0; i < fb->n_ws; i++)
        apply_one(fn, &fb->ws[i]);
}

void fleet_durable_crash(fleet_node *fn, const fleet_batch *fb)
{
    for (size_t i = 0; fb != NULL && i < fb->n_ws; i++) {
        fleet_dgroup *d = dgroup(fn, fb->ws[i].group, true);
        if (d == NULL)
            fn->dur_lost = true;
        else
            d->uncertain = true;
    }
}

static void check_group(rf_sim_fleet *f, uint32_t index, const fleet_dgroup *d, const rf_raft *r)
{
    if (d->uncertain)
        return;
    bool held = d->has_hard_state || d->last_index > 0;
    if (r == NULL) {
        if (held)
            fleet_fail(f, "n%u restarted without group %" PRIu64 ", durable with term %" PRIu64
                          " and last entry %" PRIu64,
                       index + 1, d->group, d->term, d->last_index);
        return;
    }
    if (d->has_hard_state && (rf_raft_term(r) != d->term || rf_raft_vote(r) != d->vote))
        fleet_fail(f, "n%u restarted group %" PRIu64 " with term %" PRIu64 " vote %" PRIu64
                      ", but term %" PRIu64 " vote %" PRIu64 " were durable",
                   index + 1, d->group, rf_raft_term(r), rf_raft_vote(r), d->term, d->vote);
    uint64_t last = rf_raft_last_index(r);
    if (d->last_known && (last != d->last_index || rf_raft_term_at(r, last) != d->last_term))
        fleet_fail(f, "n%u restarted group %" PRIu64 " with last entry %" PRIu64 "/%" PRIu64
                      ", but %" PRIu64 "/%" PRIu64 " was durable",
                   index + 1, d->group, last, rf_raft_term_at(r, last), d->last_index,
                   d->last_term);
}

void fleet_durable_restarted(rf_sim_fleet *f, uint32_t index)
{
    fleet_node *fn = &f->nodes[index];
    const rf_node *n = fn->node;
    if (!fn->dur_lost) {
        for (size_t i = 0; i < fn->n_dur; i++)
            check_group(f, index, &fn->dur[i], rf_node_group(n, fn->dur[i].group));
        for (size_t i = 0; i < rf_node_group_count(n); i++) {
            const rf_raft *r = rf_node_group_at(n, i);
            const fleet_dgroup *d = dgroup(fn, rf_raft_group(r), false);
            if (d == NULL && (rf_raft_term(r) > 0 || rf_raft_last_index(r) > 0))
                fleet_fail(f, "n%u restarted group %" PRIu64 " (term %" PRIu64 ", last entry %" PRIu64
                              ") that no acknowledged batch wrote",
                           index + 1, rf_raft_group(r), rf_raft_term(r), rf_raft_last_index(r));
        }
    }
    /* From here on, what the node restored is what is durable. */
    fn->n_dur = 0;
    fn->dur_lost = false;
    for (size_t i = 0; i < rf_node_group_count(n); i++) {
        const rf_raft *r = rf_node_group_at(n, i);
        fleet_dgroup *d = dgroup(fn, rf_raft_group(r), true);
        if (d == NULL) {
            fn->dur_lost = true;
            return;
        }
        d->has_hard_state = true;
        d->term = rf_raft_term(r);
        d->vote = rf_raft_vote(r);
        d->last_index = rf_raft_last_index(r);
        d->last_term = rf_raft_term_at(r, d->last_index);
    }
}

/* One raft message the node sends, against what its acknowledged batches
 * made durable (Raft paper §5.6 / Figure 2: "respond to RPCs" only after
 * "updating stable storage"): an accepting APPEND_RESP for index i leaves
 * only once entries up to i are durable, a granted VOTE_RESP only once the
 * term and the vote are (or a later term). Groups whose account is not
 * exact (after a truncation, a snapshot inside the log, a commit a crash
 * interrupted) are not judged. */
static void check_sent(rf_sim_fleet *f, uint32_t index, const rf_msg *m)
{
    fleet_node *fn = &f->nodes[index];
    const fleet_dgroup *d = dgroup(fn, m->group_id, false);
    if (m->reject || fn->dur_lost || (d != NULL && d->uncertain))
        return;
    if (m->type == RF_MSG_APPEND_RESP && m->index > 0 && (d == NULL || d->last_known) &&
        (d == NULL ? 0 : d->last_index) < m->index)
        fleet_fail(f, "n%u acknowledged entries of group %" PRIu64 " up to %" PRIu64
                      " (term %" PRIu64 ") before they were durable (durable up to %" PRIu64 ")",
                   index + 1, m->group_id, m->index, m->term, d == NULL ? 0 : d->last_index);
    if (m->type == RF_MSG_VOTE_RESP &&
        (d == NULL || !d->has_hard_state || d->term < m->term ||
         (d->term == m->term && d->vote != m->to)))
        fleet_fail(f, "n%u granted its vote in group %" PRIu64 " term %" PRIu64 " to n%" PRIu64
                      " before the vote was durable",
                   index + 1, m->group_id, m->term, m->to);
}

/* The frame (core/fleet/README.md, node_frame.c): "RN", version, a zero
 * byte, u64 sender, u32 record count, then records of u8 type, u32 length
 * and the body; type 1 holds an rf_msg_encode'd raft message, whose fourth
 * byte is its type. Only the types judged are decoded. */
#define FRAME_HEAD 16u
#define FRAME_REC_HEAD 5u
#define FRAME_REC_RAFT 1u

void fleet_durable_check_sent(rf_sim_fleet *f, uint32_t index, const uint8_t *buf, size_t len)
{
    if (len < FRAME_HEAD || buf[0] != 'R' || buf[1] != 'N')
        return;
    uint32_t count = (uint32_t)buf[12] | (uint32_t)buf[13] << 8 | (uint32_t)buf[14] << 16 |
                     (uint32_t)buf[15] << 24;
    size_t off = FRAME_HEAD;
    for (uint32_t i = 0; i < count && off + FRAME_REC_HEAD <= len; i++) {
        uint8_t type = buf[off];
        size_t rl = (size_t)buf[off + 1] | (size_t)buf[off + 2] << 8 |
                    (size_t)buf[off + 3] << 16 | (size_t)buf[off + 4] << 24;
        const uint8_t *rec = buf + off + FRAME_REC_HEAD;
        off += FRAME_REC_HEAD + rl;
        if (off > len)
            return;
        rf_msg m;
        if (type == FRAME_REC_RAFT && rl > 3 &&
            (rec[3] == RF_MSG_APPEND_RESP || rec[3] == RF_MSG_VOTE_RESP) &&
            rf_msg_decode(rec, rl, &m, NULL, 0) == RF_OK)
            check_sent(f, index, &m);
    }
}

void fleet_durable_free(fleet_node *fn)
{
    free(fn->dur);
    fn->dur = NULL;
    fn->n_dur = fn->cap_dur = 0;
}

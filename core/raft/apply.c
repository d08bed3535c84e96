/* apply: committed entries into the model (through the client sessions), client replies. */
#include <stdlib.h>
#include <string.h>

#include "raft/raft_int.h"

/* ---- pending client requests (leader) ---------------------------------- */

int rf_rft_pending_push(rf_raft *r, uint64_t index, uint64_t request_id)
{
    ASSERT(r->role == RF_ROLE_LEADER);
    if (r->props_n == r->props_cap) {
        size_t ncap = r->props_cap ? r->props_cap * 2 : 16;
        pending_req *np = rf_rft_alloc(r->a, ncap * sizeof(*np));
        if (!np)
            return RF_ENOMEM;
        for (size_t i = 0; i < r->props_n; i++)
            np[i] = r->props[(r->props_head + i) % r->props_cap];
        rf_rft_free(r->a, r->props);
        r->props = np;
        r->props_cap = ncap;
        r->props_head = 0;
    }
    pending_req *p = &r->props[(r->props_head + r->props_n) % r->props_cap];
    p->index = index;
    p->term = r->term;
    p->request_id = request_id;
    r->props_n++;
    return RF_OK;
}

void rf_rft_apply_fail_pending(rf_raft *r, int status)
{
    for (size_t i = 0; i < r->props_n; i++)
        rf_rft_reply(r, r->props[(r->props_head + i) % r->props_cap].request_id, status, NULL, 0);
    r->props_n = 0;
    r->props_head = 0;
    for (size_t i = 0; i < r->reads_n; i++)
        rf_rft_reply(r, r->reads[i].request_id, RF_ENOTLEADER, NULL, 0);
    r->reads_n = 0;
    r->read_buf_len = 0;
}

/* ---- applying committed entries ---------------------------------------- */

/* Runs one command through the client sessions and the model; the reply
 * goes to the output arena at *off. */
static void apply_command(rf_raft *r, const log_ent *e, uint64_t index, out_applied *o)
{
    const dedup_reply *kept = NULL;
    int seen = e->client_id ? rf_rft_dedup_check(r, e->client_id, e->sequence, &kept) : DEDUP_NEW;
    if (seen != DEDUP_NEW) {
        /* A retry, or a sequence the session forgot: never applied twice
         * (thesis §6.3). */
        o->a.duplicate = 1;
        r->ctr.dedup_hits++;
        if (seen == DEDUP_FORGOTTEN) {
            o->a.status = RF_ESESSION;
            return;
        }
        o->a.status = kept->status;
        int rc = rf_rft_arena_put(r, rf_rft_dedup_reply(kept), kept->len, &o->off);
        ASSERT(rc == RF_OK);
        o->a.reply_len = kept->len;
        return;
    }
    /* The model may write its maximum; the arena keeps only what it wrote
     * (reserving the maximum there made every busy group's arena 128 KiB,
     * allocated again each time an idle group's buffers are freed). */
    uint8_t out[RF_MODEL_REPLY_MAX];
    size_t rlen = 0;
    o->a.status = r->cfg.model->command(r->model_state, rf_rft_log_data(&r->log, e), e->len, out,
                                        sizeof out, &rlen);
    ASSERT(rlen <= sizeof out);
    int rc = rf_rft_arena_put(r, out, rlen, &o->off);
    ASSERT(rc == RF_OK);
    o->a.reply_len = (uint32_t)rlen;
    if (e->client_id) {
        rc = rf_rft_dedup_store(r, e->client_id, e->sequence, e->floor, index, o->a.status, out,
                                (uint32_t)rlen);
        ASSERT(rc == RF_OK);
    }
}

static void answer_pending(rf_raft *r, uint64_t index, uint64_t term, const out_applied *o)
{
    if (r->role != RF_ROLE_LEADER || r->props_n == 0)
        return;
    pending_req *p = &r->props[r->props_head];
    ASSERT(p->index >= index); /* answered in index order */
    if (p->index != index)
        return;
    int status = p->term == term ? o->a.status : RF_EUNKNOWN;
    rf_rft_reply_off(r, p->request_id, status, o->off, p->term == term ? o->a.reply_len : 0);
    r->props_head = (r->props_head + 1) % r->props_cap;
    r->props_n--;
}

/* With many groups the de-dup tables outgrow the caches: applying a
 * command misses on its session's id. Asking for the line a few entries
 * ahead lets those misses overlap (no effect on what is computed). */
#define DEDUP_PREFETCH_AHEAD 4u

static void dedup_prefetch(const rf_raft *r, uint64_t idx)
{
    if (r->dedup_cap == 0 || idx > r->commit)
        return;
    const log_ent *e = rf_rft_log_at(&r->log, idx);
    if (e != NULL && e->kind == RF_ENTRY_COMMAND && e->client_id != 0)
        rf_rft_dedup_prefetch(r, e->client_id);
}

void rf_rft_apply_committed(rf_raft *r)
{
    ASSERT(r->commit <= rf_rft_log_last(&r->log));
    for (uint64_t k = 1; k <= DEDUP_PREFETCH_AHEAD; k++)
        dedup_prefetch(r, r->applied + k);
    while (r->applied < r->commit) {
        uint64_t idx = r->applied + 1;
        dedup_prefetch(r, idx + DEDUP_PREFETCH_AHEAD);
        const log_ent *e = rf_rft_log_at(&r->log, idx);
        ASSERT(e != NULL);
        int rc = rf_rft_reserve(r->a, (void **)&r->appl, &r->appl_cap, r->appl_n + 1,
                              sizeof(out_applied));
        ASSERT(rc == RF_OK);
        out_applied *o = &r->appl[r->appl_n];
        memset(o, 0, sizeof(*o));
        o->a.index = idx;
        o->a.term = e->term;
        o->a.kind = e->kind;
        o->a.client_id = e->client_id;
        o->a.sequence = e->sequence;
        o->off = r->arena_len;
        if (e->kind == RF_ENTRY_COMMAND) {
            apply_command(r, e, idx, o);
        } else if (e->kind == RF_ENTRY_CONFIG) {
            rf_membership m;
            rc = rf_rft_membership_decode(rf_rft_log_data(&r->log, e), e->len, &m);
            ASSERT(rc == RF_OK);
            rf_rft_member_applied_config(r, &m, idx);
        }
        r->applied = idx;
        r->appl_n++;
        answer_pending(r, idx, e->term, o);
    }
    if (r->role == RF_ROLE_LEADER)
        rf_rft_apply_reads(r);
}

/* apply: committed entries into the model, client replies, de-duplication and reads. */
#include <stdlib.h>
#include <string.h>

#include "raft/raft_int.h"

/* ---- de-duplication table (Raft thesis §6.3) ---------------------------- */

/* Open addressing keyed by client id (never by address), so the layout is
 * the same on every replica; encoding sorts by client id anyway. */
static size_t dedup_home(const rf_raft *r, uint64_t client)
{
    return (size_t)((client * 0x9E3779B97F4A7C15ull) >> 17) & (r->dedup_cap - 1);
}

static uint64_t *dedup_ids(const rf_raft *r)
{
    return (uint64_t *)(r->dedup + r->dedup_cap);
}

const dedup_slot *rf_rft_dedup_find(const rf_raft *r, uint64_t client)
{
    if (r->dedup_cap == 0 || client == 0)
        return NULL;
    const uint64_t *ids = dedup_ids(r);
    for (size_t i = dedup_home(r, client);; i = (i + 1) & (r->dedup_cap - 1)) {
        if (ids[i] == client)
            return &r->dedup[i];
        if (ids[i] == 0)
            return NULL;
    }
}

static void dedup_erase_at(rf_raft *r, size_t i)
{
    size_t mask = r->dedup_cap - 1;
    uint64_t *ids = dedup_ids(r);
    rf_rft_free(r->a, r->dedup[i].reply);
    for (size_t j = (i + 1) & mask; ids[j] != 0; j = (j + 1) & mask) {
        size_t k = dedup_home(r, ids[j]);
        /* Move j back into the hole when its home is not in (i, j]. */
        bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (stays)
            continue;
        r->dedup[i] = r->dedup[j];
        ids[i] = ids[j];
        i = j;
    }
    memset(&r->dedup[i], 0, sizeof(r->dedup[i]));
    ids[i] = 0;
    r->dedup_n--;
}

static int dedup_grow(rf_raft *r)
{
    size_t ncap = r->dedup_cap ? r->dedup_cap * 2 : 16;
    dedup_slot *old = r->dedup;
    size_t old_cap = r->dedup_cap;
    dedup_slot *ns = rf_rft_alloc(r->a, ncap * (sizeof(*ns) + sizeof(uint64_t)));
    if (!ns)
        return RF_ENOMEM;
    memset(ns, 0, ncap * (sizeof(*ns) + sizeof(uint64_t)));
    r->dedup = ns;
    r->dedup_cap = ncap;
    uint64_t *ids = dedup_ids(r);
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].client_id == 0)
            continue;
        size_t j = dedup_home(r, old[i].client_id);
        while (ids[j] != 0)
            j = (j + 1) & (ncap - 1);
        ns[j] = old[i];
        ids[j] = old[i].client_id;
    }
    rf_rft_free(r->a, old);
    return RF_OK;
}

static int age_cmp(const void *a, const void *b)
{
    const dedup_age *x = a, *y = b;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return x->client_id < y->client_id ? -1 : x->client_id > y->client_id;
}

/* The apply order again from the table itself (sorted by index): after a
 * snapshot replaced the table, or when stale entries outnumber live ones. */
static void dedup_q_rebuild(rf_raft *r)
{
    size_t cap = r->dedup_n * 2 + 64;
    dedup_age *q = rf_rft_alloc(r->a, cap * sizeof(*q));
    rf_rft_free(r->a, r->dedup_q);
    r->dedup_q = q;
    r->dedup_q_head = r->dedup_q_n = 0;
    r->dedup_q_cap = q ? cap : 0;
    r->dedup_q_ok = q != NULL;
    if (q == NULL)
        return; /* eviction scans the table instead */
    for (size_t i = 0; i < r->dedup_cap; i++)
        if (r->dedup[i].client_id)
            q[r->dedup_q_n++] = (dedup_age){r->dedup[i].index, r->dedup[i].client_id};
    qsort(q, r->dedup_q_n, sizeof(*q), age_cmp);
}

/* Records that client applied at index (indexes only grow while applying). */
static void dedup_q_push(rf_raft *r, uint64_t index, uint64_t client)
{
    if (!r->dedup_q_ok)
        return;
    if (r->dedup_q_n == r->dedup_q_cap || r->dedup_q_n > r->dedup_n * 2 + 64) {
        dedup_q_rebuild(r); /* the table already holds this apply */
        return;
    }
    r->dedup_q[(r->dedup_q_head + r->dedup_q_n++) % r->dedup_q_cap] = (dedup_age){index, client};
}

/* The slot of the client applied least recently (smallest index): the
 * oldest ring entry that is still its client's latest apply. Amortized
 * constant time instead of a scan of the whole table per eviction. */
static size_t dedup_lru(rf_raft *r)
{
    for (int pass = 0; pass < 2; pass++) {
        if (!r->dedup_q_ok)
            dedup_q_rebuild(r);
        while (r->dedup_q_ok && r->dedup_q_n > 0) {
            dedup_age a = r->dedup_q[r->dedup_q_head];
            const dedup_slot *s = rf_rft_dedup_find(r, a.client_id);
            r->dedup_q_head = (r->dedup_q_head + 1) % r->dedup_q_cap;
            r->dedup_q_n--; /* stale, or the victim about to be erased */
            if (s != NULL && s->index == a.index)
                return (size_t)(s - r->dedup);
        }
        r->dedup_q_ok = false; /* a live client missing from the ring */
    }
    size_t victim = SIZE_MAX; /* no memory for the ring: scan */
    for (size_t i = 0; i < r->dedup_cap; i++)
        if (r->dedup[i].client_id &&
            (victim == SIZE_MAX || r->dedup[i].index < r->dedup[victim].index))
            victim = i;
    return victim;
}

/* absent: the caller just looked client up and did not find it. */
static dedup_slot *dedup_slot_for(rf_raft *r, uint64_t client, bool absent)
{
    dedup_slot *s = absent ? NULL : (dedup_slot *)rf_rft_dedup_find(r, client);
    if (s)
        return s;
    if (r->dedup_n >= r->cfg.dedup_clients_max) {
        /* Evict the client applied least recently (smallest index). */
        size_t victim = dedup_lru(r);
        ASSERT(victim != SIZE_MAX);
        dedup_erase_at(r, victim);
        r->ctr.dedup_evictions++;
    }
    if ((r->dedup_n + 1) * 2 > r->dedup_cap && dedup_grow(r) != RF_OK)
        return NULL;
    uint64_t *ids = dedup_ids(r);
    size_t i = dedup_home(r, client);
    while (ids[i] != 0)
        i = (i + 1) & (r->dedup_cap - 1);
    r->dedup[i].client_id = client;
    ids[i] = client;
    r->dedup_n++;
    return &r->dedup[i];
}

static int dedup_store(rf_raft *r, uint64_t client, bool absent, uint64_t seq, uint64_t index,
                       int status, const uint8_t *reply, uint32_t len)
{
    dedup_slot *s = dedup_slot_for(r, client, absent);
    if (!s)
        return RF_ENOMEM;
    if (len > DEDUP_SMALL_BYTES && len > s->cap) {
        uint8_t *nb = rf_rft_realloc(r->a, s->reply, len);
        if (!nb)
            return RF_ENOMEM;
        s->reply = nb;
        s->cap = len;
    }
    if (len)
        memcpy(len <= DEDUP_SMALL_BYTES ? s->small : s->reply, reply, len);
    s->len = len;
    s->sequence = seq;
    s->index = index;
    s->status = status;
    return RF_OK;
}

void rf_rft_dedup_free(rf_raft *r)
{
    for (size_t i = 0; i < r->dedup_cap; i++)
        rf_rft_free(r->a, r->dedup[i].reply);
    rf_rft_free(r->a, r->dedup);
    r->dedup = NULL;
    r->dedup_cap = 0;
    r->dedup_n = 0;
    rf_rft_free(r->a, r->dedup_q);
    r->dedup_q = NULL;
    r->dedup_q_head = r->dedup_q_n = r->dedup_q_cap = 0;
    r->dedup_q_ok = false;
}

static int slot_cmp(const void *a, const void *b)
{
    const dedup_slot *x = *(const dedup_slot *const *)a;
    const dedup_slot *y = *(const dedup_slot *const *)b;
    return x->client_id < y->client_id ? -1 : x->client_id > y->client_id;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return p + 8;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* count:u64, then per client (sorted by id): client seq index:u64,
 * status:u64 (two's complement), len:u64, reply bytes. */
int rf_rft_dedup_encode(const rf_raft *r, uint8_t **out, size_t *len)
{
    const dedup_slot **v = rf_rft_alloc(r->a, (r->dedup_n + 1) * sizeof(*v));
    if (!v)
        return RF_ENOMEM;
    size_t n = 0, bytes = 8;
    for (size_t i = 0; i < r->dedup_cap; i++)
        if (r->dedup[i].client_id) {
            v[n++] = &r->dedup[i];
            bytes += 40 + r->dedup[i].len;
        }
    ASSERT(n == r->dedup_n);
    qsort(v, n, sizeof(*v), slot_cmp);
    uint8_t *p = rf_rft_alloc(r->a, bytes);
    if (!p) {
        rf_rft_free(r->a, v);
        return RF_ENOMEM;
    }
    uint8_t *q = put64(p, n);
    for (size_t i = 0; i < n; i++) {
        q = put64(q, v[i]->client_id);
        q = put64(q, v[i]->sequence);
        q = put64(q, v[i]->index);
        q = put64(q, (uint64_t)(int64_t)v[i]->status);
        q = put64(q, v[i]->len);
        if (v[i]->len)
            memcpy(q, rf_rft_dedup_reply(v[i]), v[i]->len);
        q += v[i]->len;
    }
    ASSERT((size_t)(q - p) == bytes);
    rf_rft_free(r->a, v);
    *out = p;
    *len = bytes;
    return RF_OK;
}

int rf_rft_dedup_decode(rf_raft *r, const uint8_t *p, size_t len, size_t *used)
{
    rf_rft_dedup_free(r);
    if (len < 8)
        return RF_EBADMSG;
    uint64_t n = get64(p);
    size_t at = 8;
    if (n > (len - 8) / 40)
        return RF_EBADMSG; /* more clients than the bytes can hold */
    for (uint64_t i = 0; i < n; i++) {
        if (len - at < 40)
            return RF_EBADMSG;
        uint64_t client = get64(p + at), seq = get64(p + at + 8), idx = get64(p + at + 16);
        int64_t status = (int64_t)get64(p + at + 24);
        uint64_t rlen = get64(p + at + 32);
        at += 40;
        if (client == 0 || rlen > RF_MODEL_REPLY_MAX || rlen > len - at || rf_rft_dedup_find(r, client))
            return RF_EBADMSG;
        if (status < -65536 || status > 65536)
            return RF_EBADMSG;
        int rc = dedup_store(r, client, true, seq, idx, (int)status, p + at, (uint32_t)rlen);
        if (rc != RF_OK)
            return rc;
        at += (size_t)rlen;
    }
    *used = at;
    return RF_OK;
}

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

/* Runs one command through the de-dup table and the model; the reply goes
 * to the output arena at *off. */
static void apply_command(rf_raft *r, const log_ent *e, uint64_t index, out_applied *o)
{
    const dedup_slot *s = rf_rft_dedup_find(r, e->client_id);
    if (s && e->sequence <= s->sequence) {
        /* A retry: never applied twice (thesis §6.3). */
        o->a.duplicate = 1;
        r->ctr.dedup_hits++;
        if (e->sequence < s->sequence) {
            o->a.status = RF_ESESSION;
            return;
        }
        o->a.status = s->status;
        int rc = rf_rft_arena_put(r, rf_rft_dedup_reply(s), s->len, &o->off);
        ASSERT(rc == RF_OK);
        o->a.reply_len = s->len;
        return;
    }
    int rc = rf_rft_reserve(r->a, (void **)&r->arena, &r->arena_cap,
                          r->arena_len + RF_MODEL_REPLY_MAX, 1);
    ASSERT(rc == RF_OK);
    size_t rlen = 0;
    uint8_t *out = r->arena + r->arena_len;
    o->a.status = r->cfg.model->command(r->model_state, rf_rft_log_data(&r->log, e), e->len, out,
                                        RF_MODEL_REPLY_MAX, &rlen);
    ASSERT(rlen <= RF_MODEL_REPLY_MAX);
    o->off = r->arena_len;
    o->a.reply_len = (uint32_t)rlen;
    r->arena_len += rlen;
    if (e->client_id) {
        rc = dedup_store(r, e->client_id, s == NULL, e->sequence, index, o->a.status, out,
                         (uint32_t)rlen);
        if (rc == RF_OK)
            dedup_q_push(r, index, e->client_id);
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
 * command misses on its client's id and on the id of the client it
 * evicts. Asking for both lines a few entries ahead lets those misses
 * overlap (no effect on what is computed). */
#define DEDUP_PREFETCH_AHEAD 4u

static void dedup_prefetch(const rf_raft *r, uint64_t idx)
{
    if (r->dedup_cap == 0 || idx > r->commit)
        return;
    const log_ent *e = rf_rft_log_at(&r->log, idx);
    if (e == NULL || e->kind != RF_ENTRY_COMMAND || e->client_id == 0)
        return;
    const uint64_t *ids = dedup_ids(r);
    __builtin_prefetch(&ids[dedup_home(r, e->client_id)]);
    if (r->dedup_n >= r->cfg.dedup_clients_max && r->dedup_q_ok &&
        r->dedup_q_n > DEDUP_PREFETCH_AHEAD) {
        const dedup_age *a =
            &r->dedup_q[(r->dedup_q_head + DEDUP_PREFETCH_AHEAD) % r->dedup_q_cap];
        __builtin_prefetch(&ids[dedup_home(r, a->client_id)]);
    }
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

/* session: the de-dup table of client sessions (Raft thesis §6.3), their kept replies, their encoding. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_le.h"
#include "raft/raft_int.h"

/* ---- the table: open addressing by client id --------------------------- */

/* Keyed by client id (never by address), so the layout is the same on
 * every replica; encoding sorts by client id anyway. */
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

void rf_rft_dedup_prefetch(const rf_raft *r, uint64_t client)
{
    if (r->dedup_cap != 0)
        __builtin_prefetch(&dedup_ids(r)[dedup_home(r, client)]);
}

/* ---- one session's replies: a ring sorted by sequence ------------------- */

static dedup_reply *rep_at(const dedup_slot *s, uint32_t i)
{
    return &s->rep[(s->rep_head + i) & (s->rep_cap - 1)];
}

/* The position of the first kept reply whose sequence is >= seq. Sequences
 * mostly arrive in order: the end is checked first. */
static uint32_t rep_lower(const dedup_slot *s, uint64_t seq)
{
    if (s->rep_n == 0 || rep_at(s, s->rep_n - 1)->seq < seq)
        return s->rep_n;
    uint32_t lo = 0, hi = s->rep_n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (rep_at(s, mid)->seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void rep_release(rf_raft *r, dedup_reply *d)
{
    if (d->len > DEDUP_SMALL_BYTES)
        rf_rft_free(r->a, d->u.big);
}

static void session_release(rf_raft *r, dedup_slot *s)
{
    for (uint32_t i = 0; i < s->rep_n; i++)
        rep_release(r, rep_at(s, i));
    rf_rft_free(r->a, s->rep);
    s->rep = NULL;
    s->rep_head = s->rep_n = s->rep_cap = 0;
}

/* Forgets the replies below floor (the client has them). */
static void session_raise_floor(rf_raft *r, dedup_slot *s, uint64_t floor)
{
    if (floor <= s->floor)
        return;
    s->floor = floor;
    while (s->rep_n > 0 && rep_at(s, 0)->seq < floor) {
        rep_release(r, rep_at(s, 0));
        s->rep_head = (s->rep_head + 1) & (s->rep_cap - 1);
        s->rep_n--;
    }
    if (s->rep_n == 0 && s->rep_cap > 64)
        session_release(r, s); /* an idle session keeps no large ring */
}

static int rep_grow(rf_raft *r, dedup_slot *s)
{
    uint32_t ncap = s->rep_cap ? s->rep_cap * 2 : 4;
    dedup_reply *nr = rf_rft_alloc(r->a, (size_t)ncap * sizeof(*nr));
    if (!nr)
        return RF_ENOMEM;
    for (uint32_t i = 0; i < s->rep_n; i++)
        nr[i] = *rep_at(s, i);
    rf_rft_free(r->a, s->rep);
    s->rep = nr;
    s->rep_cap = ncap;
    s->rep_head = 0;
    return RF_OK;
}

/* Keeps seq's reply (seq >= floor, not kept yet), in sequence order. */
static int rep_insert(rf_raft *r, dedup_slot *s, uint64_t seq, int status, const uint8_t *reply,
                      uint32_t len)
{
    uint8_t *big = NULL;
    if (len > DEDUP_SMALL_BYTES && !(big = rf_rft_alloc(r->a, len)))
        return RF_ENOMEM;
    if (s->rep_n == s->rep_cap && rep_grow(r, s) != RF_OK) {
        rf_rft_free(r->a, big);
        return RF_ENOMEM;
    }
    uint32_t at = rep_lower(s, seq);
    ASSERT(at == s->rep_n || rep_at(s, at)->seq != seq);
    for (uint32_t i = s->rep_n; i > at; i--)
        *rep_at(s, i) = *rep_at(s, i - 1);
    s->rep_n++;
    dedup_reply *d = rep_at(s, at);
    d->seq = seq;
    d->status = status;
    d->len = len;
    if (big) {
        memcpy(big, reply, len);
        d->u.big = big;
    } else if (len) {
        memcpy(d->u.small, reply, len);
    }
    /* The bound: past it the oldest reply goes and the floor rises above
     * it, so a retry of it is refused, never applied again. */
    if (s->rep_n > RF_RAFT_SESSION_REPLIES_MAX)
        session_raise_floor(r, s, rep_at(s, 0)->seq + 1);
    return RF_OK;
}

int rf_rft_dedup_check(const rf_raft *r, uint64_t client, uint64_t seq, const dedup_reply **out)
{
    const dedup_slot *s = rf_rft_dedup_find(r, client);
    if (s == NULL)
        return DEDUP_NEW;
    if (seq < s->floor)
        return DEDUP_FORGOTTEN;
    uint32_t at = rep_lower(s, seq);
    if (at == s->rep_n || rep_at(s, at)->seq != seq)
        return DEDUP_NEW;
    *out = rep_at(s, at);
    return DEDUP_KEPT;
}

/* ---- whole sessions: creation, eviction (least recently applied) -------- */

static void dedup_erase_at(rf_raft *r, size_t i)
{
    size_t mask = r->dedup_cap - 1;
    uint64_t *ids = dedup_ids(r);
    session_release(r, &r->dedup[i]);
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

/* The slot of the session applied least recently (smallest index): the
 * oldest ring entry that is still its session's latest apply. Amortized
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
        r->dedup_q_ok = false; /* a live session missing from the ring */
    }
    size_t victim = SIZE_MAX; /* no memory for the ring: scan */
    for (size_t i = 0; i < r->dedup_cap; i++)
        if (r->dedup[i].client_id &&
            (victim == SIZE_MAX || r->dedup[i].index < r->dedup[victim].index))
            victim = i;
    return victim;
}

/* The session's slot, created (evicting a whole session at the bound) when
 * absent. */
static dedup_slot *dedup_slot_for(rf_raft *r, uint64_t client)
{
    dedup_slot *s = (dedup_slot *)rf_rft_dedup_find(r, client);
    if (s)
        return s;
    if (r->dedup_n >= r->cfg.dedup_sessions_max) {
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
    memset(&r->dedup[i], 0, sizeof(r->dedup[i]));
    r->dedup[i].client_id = client;
    ids[i] = client;
    r->dedup_n++;
    return &r->dedup[i];
}

int rf_rft_dedup_store(rf_raft *r, uint64_t client, uint64_t seq, uint64_t floor,
                       uint64_t index, int status, const uint8_t *reply, uint32_t len)
{
    dedup_slot *s = dedup_slot_for(r, client);
    if (!s)
        return RF_ENOMEM;
    ASSERT(seq >= s->floor); /* rf_rft_dedup_check said DEDUP_NEW */
    session_raise_floor(r, s, floor < seq ? floor : seq);
    int rc = rep_insert(r, s, seq, status, reply, len);
    if (rc != RF_OK)
        return rc;
    s->index = index;
    dedup_q_push(r, index, client);
    return RF_OK;
}

void rf_rft_dedup_free(rf_raft *r)
{
    for (size_t i = 0; i < r->dedup_cap; i++)
        session_release(r, &r->dedup[i]);
    rf_rft_free(r->a, r->dedup);
    r->dedup = NULL;
    r->dedup_cap = 0;
    r->dedup_n = 0;
    rf_rft_free(r->a, r->dedup_q);
    r->dedup_q = NULL;
    r->dedup_q_head = r->dedup_q_n = r->dedup_q_cap = 0;
    r->dedup_q_ok = false;
}

size_t rf_rft_dedup_memory(const rf_raft *r)
{
    size_t n = r->dedup_cap * (sizeof(dedup_slot) + sizeof(uint64_t));
    n += r->dedup_q_cap * sizeof(dedup_age);
    for (size_t i = 0; i < r->dedup_cap; i++) {
        const dedup_slot *s = &r->dedup[i];
        n += (size_t)s->rep_cap * sizeof(dedup_reply);
        for (uint32_t k = 0; k < s->rep_n; k++)
            if (rep_at(s, k)->len > DEDUP_SMALL_BYTES)
                n += rep_at(s, k)->len;
    }
    return n;
}

/* ---- encoding ---------------------------------------------------------- */

static int slot_cmp(const void *a, const void *b)
{
    const dedup_slot *x = *(const dedup_slot *const *)a;
    const dedup_slot *y = *(const dedup_slot *const *)b;
    return x->client_id < y->client_id ? -1 : x->client_id > y->client_id;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
    rf_le_put64(p, v);
    return p + 8;
}

#define SESSION_HEAD 32u /* client floor index count: u64 */
#define REPLY_HEAD 24u   /* seq status len: u64 */
#define V1_CLIENT_HEAD 40u

/* Version 2: count:u64, then per session (sorted by id): client floor
 * index count:u64, then count kept replies in sequence order: seq:u64,
 * status:u64 (two's complement), len:u64, reply bytes. */
int rf_rft_dedup_encode(const rf_raft *r, uint8_t **out, size_t *len)
{
    const dedup_slot **v = rf_rft_alloc(r->a, (r->dedup_n + 1) * sizeof(*v));
    if (!v)
        return RF_ENOMEM;
    size_t n = 0, bytes = 8;
    for (size_t i = 0; i < r->dedup_cap; i++) {
        const dedup_slot *s = &r->dedup[i];
        if (s->client_id == 0)
            continue;
        v[n++] = s;
        bytes += SESSION_HEAD + (size_t)s->rep_n * REPLY_HEAD;
        for (uint32_t k = 0; k < s->rep_n; k++)
            bytes += rep_at(s, k)->len;
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
        q = put64(q, v[i]->floor);
        q = put64(q, v[i]->index);
        q = put64(q, v[i]->rep_n);
        for (uint32_t k = 0; k < v[i]->rep_n; k++) {
            const dedup_reply *d = rep_at(v[i], k);
            q = put64(q, d->seq);
            q = put64(q, (uint64_t)(int64_t)d->status);
            q = put64(q, d->len);
            if (d->len)
                memcpy(q, rf_rft_dedup_reply(d), d->len);
            q += d->len;
        }
    }
    ASSERT((size_t)(q - p) == bytes);
    rf_rft_free(r->a, v);
    *out = p;
    *len = bytes;
    return RF_OK;
}

/* What is left of the bytes being decoded. */
typedef struct span {
    const uint8_t *p;
    size_t left;
} span;

/* The next n bytes, or NULL when fewer are left. */
static const uint8_t *take(span *b, size_t n)
{
    if (b->left < n)
        return NULL;
    const uint8_t *q = b->p;
    b->p += n;
    b->left -= n;
    return q;
}

/* A reply (status as encoded, len bytes next in b) kept for seq in s. */
static int keep_reply(rf_raft *r, span *b, dedup_slot *s, uint64_t seq, uint64_t status,
                      uint64_t len)
{
    int64_t st = (int64_t)status;
    if (st < -65536 || st > 65536 || len > RF_MODEL_REPLY_MAX)
        return RF_EBADMSG;
    const uint8_t *bytes = take(b, (size_t)len);
    if (bytes == NULL)
        return RF_EBADMSG;
    return rep_insert(r, s, seq, (int)st, bytes, (uint32_t)len);
}

/* A new session for client (none yet) with its floor and last index. */
static int decode_session(rf_raft *r, uint64_t client, uint64_t floor, uint64_t index,
                          dedup_slot **out)
{
    if (client == 0 || rf_rft_dedup_find(r, client))
        return RF_EBADMSG;
    dedup_slot *s = dedup_slot_for(r, client);
    if (s == NULL)
        return RF_ENOMEM;
    s->floor = floor;
    s->index = index;
    *out = s;
    return RF_OK;
}

static int decode_v2(rf_raft *r, span *b, uint64_t n)
{
    if (n > b->left / SESSION_HEAD)
        return RF_EBADMSG; /* more sessions than the bytes can hold */
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *h = take(b, SESSION_HEAD);
        if (h == NULL)
            return RF_EBADMSG;
        uint64_t floor = rf_le_get64(h + 8), count = rf_le_get64(h + 24);
        if (count > RF_RAFT_SESSION_REPLIES_MAX || count > b->left / REPLY_HEAD)
            return RF_EBADMSG;
        dedup_slot *s = NULL;
        int rc = decode_session(r, rf_le_get64(h), floor, rf_le_get64(h + 16), &s);
        uint64_t prev = 0;
        for (uint64_t k = 0; rc == RF_OK && k < count; k++) {
            const uint8_t *e = take(b, REPLY_HEAD);
            uint64_t seq = e == NULL ? 0 : rf_le_get64(e);
            if (e == NULL || seq < floor || (k > 0 && seq <= prev))
                return RF_EBADMSG; /* kept replies are >= floor, in order */
            rc = keep_reply(r, b, s, seq, rf_le_get64(e + 8), rf_le_get64(e + 16));
            prev = seq;
        }
        if (rc != RF_OK)
            return rc;
    }
    return RF_OK;
}

/* Version 1 (earlier builds: one command at a time per client): count:u64,
 * then per client: client seq index status len:u64, reply bytes. Its last
 * sequence becomes the session's floor and only kept reply. */
static int decode_v1(rf_raft *r, span *b, uint64_t n)
{
    if (n > b->left / V1_CLIENT_HEAD)
        return RF_EBADMSG;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *h = take(b, V1_CLIENT_HEAD);
        if (h == NULL)
            return RF_EBADMSG;
        uint64_t seq = rf_le_get64(h + 8);
        dedup_slot *s = NULL;
        int rc = decode_session(r, rf_le_get64(h), seq, rf_le_get64(h + 16), &s);
        if (rc == RF_OK)
            rc = keep_reply(r, b, s, seq, rf_le_get64(h + 24), rf_le_get64(h + 32));
        if (rc != RF_OK)
            return rc;
    }
    return RF_OK;
}

/* The table's fields, to set one table aside while another is decoded. */
typedef struct dedup_table {
    dedup_slot *slots;
    size_t cap, n;
    dedup_age *q;
    size_t q_head, q_n, q_cap;
    bool q_ok;
} dedup_table;

static void table_put(rf_raft *r, const dedup_table *t)
{
    r->dedup = t->slots;
    r->dedup_cap = t->cap;
    r->dedup_n = t->n;
    r->dedup_q = t->q;
    r->dedup_q_head = t->q_head;
    r->dedup_q_n = t->q_n;
    r->dedup_q_cap = t->q_cap;
    r->dedup_q_ok = t->q_ok;
}

static dedup_table table_take(rf_raft *r)
{
    dedup_table t = {r->dedup,   r->dedup_cap,  r->dedup_n,    r->dedup_q,
                     r->dedup_q_head, r->dedup_q_n, r->dedup_q_cap, r->dedup_q_ok};
    table_put(r, &(dedup_table){0});
    return t;
}

int rf_rft_dedup_decode(rf_raft *r, const uint8_t *p, size_t len, int version)
{
    if (version != 1 && version != 2)
        return RF_EBADMSG;
    dedup_table old = table_take(r);
    span b = {p, len};
    const uint8_t *h = take(&b, 8);
    uint64_t n = h == NULL ? 0 : rf_le_get64(h);
    int rc = h == NULL ? RF_EBADMSG : version == 2 ? decode_v2(r, &b, n) : decode_v1(r, &b, n);
    if (rc == RF_OK && b.left != 0)
        rc = RF_EBADMSG;
    if (rc != RF_OK) {
        rf_rft_dedup_free(r); /* the table as it was */
        table_put(r, &old);
        return rc;
    }
    dedup_table decoded = table_take(r);
    table_put(r, &old);
    rf_rft_dedup_free(r);
    table_put(r, &decoded);
    return RF_OK;
}

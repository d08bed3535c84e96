/* codec: rf_msg to bytes and back (versioned, little-endian, every length checked). */
#include <string.h>

#include "base/rf_le.h"
#include "raft/raft_int.h"

/* Wire format, version 2 (1 had no floor in entries; not accepted):
 *   "RF" version type flags reject
 *   group from to term index log_term commit ctx        (u64 each)
 *   APPEND:        count:u32, count x (term client seq floor:u64, kind:u8, len:u32, bytes)
 *   APPEND_RESP, SNAPSHOT_RESP: offset:u64
 *   SNAPSHOT:      offset total:u64, membership, len:u32, bytes
 *   membership:    count:u32, count x (id:u64, voter:u8)
 * Entry indexes are implicit (index + 1 + i), so an append has no gaps. */

#define HDR_BYTES (6u + 8u * 8u)
#define ENT_HDR_BYTES (4u * 8u + 1u + 4u)

static uint8_t *put64(uint8_t *p, uint64_t v)
{
    rf_le_put64(p, v);
    return p + 8;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    rf_le_put32(p, v);
    return p + 4;
}

typedef struct rd {
    const uint8_t *p;
    size_t left;
    bool bad;
} rd;

static uint64_t get64(rd *r)
{
    if (r->left < 8) {
        r->bad = true;
        return 0;
    }
    uint64_t v = rf_le_get64(r->p);
    r->p += 8;
    r->left -= 8;
    return v;
}

static uint32_t get32(rd *r)
{
    if (r->left < 4) {
        r->bad = true;
        return 0;
    }
    uint32_t v = rf_le_get32(r->p);
    r->p += 4;
    r->left -= 4;
    return v;
}

static uint8_t get8(rd *r)
{
    if (r->left < 1) {
        r->bad = true;
        return 0;
    }
    r->left--;
    return *r->p++;
}

static const uint8_t *getn(rd *r, size_t n)
{
    if (r->left < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

bool rf_rft_membership_valid(const rf_membership *m)
{
    if (m->count > RF_RAFT_MEMBERS_MAX)
        return false;
    for (uint32_t i = 0; i < m->count; i++) {
        if (m->members[i].id == 0 || m->members[i].voter > 1)
            return false;
        if (i > 0 && m->members[i - 1].id >= m->members[i].id)
            return false;
    }
    return true;
}

size_t rf_rft_membership_encode(const rf_membership *m, uint8_t *out)
{
    ASSERT(m->count <= RF_RAFT_MEMBERS_MAX);
    uint8_t *p = put32(out, m->count);
    for (uint32_t i = 0; i < m->count; i++) {
        p = put64(p, m->members[i].id);
        *p++ = m->members[i].voter;
    }
    return (size_t)(p - out);
}

static int membership_read(rd *r, rf_membership *m)
{
    memset(m, 0, sizeof(*m));
    uint32_t n = get32(r);
    if (r->bad || n > RF_RAFT_MEMBERS_MAX)
        return RF_EBADMSG;
    m->count = n;
    for (uint32_t i = 0; i < n; i++) {
        m->members[i].id = get64(r);
        m->members[i].voter = get8(r);
    }
    if (r->bad || !rf_rft_membership_valid(m))
        return RF_EBADMSG;
    return RF_OK;
}

int rf_rft_membership_decode(const uint8_t *p, size_t len, rf_membership *m)
{
    rd r = {p, len, false};
    int rc = membership_read(&r, m);
    if (rc == RF_OK && r.left != 0)
        return RF_EBADMSG;
    return rc;
}

static size_t membership_size(const rf_membership *m)
{
    return 4u + (size_t)m->count * 9u;
}

size_t rf_msg_encoded_size(const rf_msg *m)
{
    size_t n = HDR_BYTES;
    switch (m->type) {
    case RF_MSG_APPEND:
        n += 4;
        for (uint32_t i = 0; i < m->n_entries; i++)
            n += ENT_HDR_BYTES + m->entries[i].len;
        break;
    case RF_MSG_APPEND_RESP:
    case RF_MSG_SNAPSHOT_RESP:
        n += 8;
        break;
    case RF_MSG_SNAPSHOT:
        n += 16 + membership_size(&m->membership) + 4 + m->len;
        break;
    default:
        break;
    }
    return n;
}

static bool msg_encodable(const rf_msg *m)
{
    if (m->type < RF_MSG_PREVOTE || m->type > RF_MSG_TIMEOUT_NOW)
        return false;
    if (m->type == RF_MSG_APPEND && m->n_entries > RF_MSG_ENTRIES_MAX)
        return false;
    if (m->type == RF_MSG_SNAPSHOT && m->membership.count > RF_RAFT_MEMBERS_MAX)
        return false;
    return true;
}

int rf_msg_encode(const rf_msg *m, uint8_t *out, size_t cap, size_t *len)
{
    if (!msg_encodable(m))
        return RF_EINVAL;
    size_t need = rf_msg_encoded_size(m);
    *len = need;
    if (need > RF_MSG_BYTES_MAX)
        return RF_EINVAL;
    if (need > cap)
        return RF_ETOOBIG;
    uint8_t *p = out;
    *p++ = 'R';
    *p++ = 'F';
    *p++ = (uint8_t)RF_RAFT_WIRE_VERSION;
    *p++ = m->type;
    *p++ = m->flags;
    *p++ = m->reject;
    p = put64(p, m->group_id);
    p = put64(p, m->from);
    p = put64(p, m->to);
    p = put64(p, m->term);
    p = put64(p, m->index);
    p = put64(p, m->log_term);
    p = put64(p, m->commit);
    p = put64(p, m->ctx);
    if (m->type == RF_MSG_APPEND) {
        p = put32(p, m->n_entries);
        for (uint32_t i = 0; i < m->n_entries; i++) {
            const rf_entry *e = &m->entries[i];
            p = put64(p, e->term);
            p = put64(p, e->client_id);
            p = put64(p, e->sequence);
            p = put64(p, e->floor);
            *p++ = e->kind;
            p = put32(p, e->len);
            if (e->len) {
                memcpy(p, e->data, e->len);
                p += e->len;
            }
        }
    } else if (m->type == RF_MSG_APPEND_RESP || m->type == RF_MSG_SNAPSHOT_RESP) {
        p = put64(p, m->offset);
    } else if (m->type == RF_MSG_SNAPSHOT) {
        p = put64(p, m->offset);
        p = put64(p, m->total);
        p += rf_rft_membership_encode(&m->membership, p);
        p = put32(p, m->len);
        if (m->len) {
            memcpy(p, m->data, m->len);
            p += m->len;
        }
    }
    ASSERT((size_t)(p - out) == need);
    return RF_OK;
}

static int decode_entries(rd *r, rf_msg *m, rf_entry *entries, size_t cap)
{
    uint32_t n = get32(r);
    if (r->bad || n > RF_MSG_ENTRIES_MAX)
        return RF_EBADMSG;
    /* Each entry needs at least its header: reject a count the bytes
     * cannot hold before looking at the caller's capacity. */
    if ((size_t)n * ENT_HDR_BYTES > r->left)
        return RF_EBADMSG;
    if (n > cap)
        return RF_ETOOBIG;
    for (uint32_t i = 0; i < n; i++) {
        rf_entry *e = &entries[i];
        e->index = m->index + 1 + i;
        e->term = get64(r);
        e->client_id = get64(r);
        e->sequence = get64(r);
        e->floor = get64(r);
        e->kind = get8(r);
        e->len = get32(r);
        if (r->bad || e->len > RF_ENTRY_BYTES_MAX)
            return RF_EBADMSG;
        if (e->kind < RF_ENTRY_NOOP || e->kind > RF_ENTRY_CONFIG)
            return RF_EBADMSG;
        e->data = e->len ? getn(r, e->len) : NULL;
        if (r->bad)
            return RF_EBADMSG;
    }
    m->entries = entries;
    m->n_entries = n;
    return RF_OK;
}

static int decode_snapshot(rd *r, rf_msg *m)
{
    m->offset = get64(r);
    m->total = get64(r);
    if (r->bad || membership_read(r, &m->membership) != RF_OK)
        return RF_EBADMSG;
    m->len = get32(r);
    if (r->bad || m->len > RF_MSG_BYTES_MAX)
        return RF_EBADMSG;
    if (m->total > RF_SNAPSHOT_BYTES_MAX || m->offset > m->total ||
        m->len > m->total - m->offset)
        return RF_EBADMSG;
    m->data = m->len ? getn(r, m->len) : NULL;
    return r->bad ? RF_EBADMSG : RF_OK;
}

int rf_msg_decode(const uint8_t *buf, size_t len, rf_msg *m, rf_entry *entries,
                  size_t entries_cap)
{
    rf_rft_msg_clear(m); /* a snapshot's members: set by membership_read */
    if (len > RF_MSG_BYTES_MAX || len < HDR_BYTES)
        return RF_EBADMSG;
    rd r = {buf, len, false};
    if (get8(&r) != 'R' || get8(&r) != 'F')
        return RF_EBADMSG;
    if (get8(&r) != RF_RAFT_WIRE_VERSION)
        return RF_EVERSION;
    m->type = get8(&r);
    m->flags = get8(&r);
    m->reject = get8(&r);
    if (m->type < RF_MSG_PREVOTE || m->type > RF_MSG_TIMEOUT_NOW)
        return RF_EBADMSG;
    if ((m->flags & ~(RF_MSG_FLAG_TRANSFER | RF_MSG_FLAG_DONE)) || m->reject > 1)
        return RF_EBADMSG;
    m->group_id = get64(&r);
    m->from = get64(&r);
    m->to = get64(&r);
    m->term = get64(&r);
    m->index = get64(&r);
    m->log_term = get64(&r);
    m->commit = get64(&r);
    m->ctx = get64(&r);
    int rc = RF_OK;
    if (m->type == RF_MSG_APPEND)
        rc = decode_entries(&r, m, entries, entries_cap);
    else if (m->type == RF_MSG_APPEND_RESP || m->type == RF_MSG_SNAPSHOT_RESP)
        m->offset = get64(&r);
    else if (m->type == RF_MSG_SNAPSHOT)
        rc = decode_snapshot(&r, m);
    if (rc != RF_OK)
        return rc;
    if (r.bad || r.left != 0)
        return RF_EBADMSG;
    return RF_OK;
}

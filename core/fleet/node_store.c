/* node_store: an rf_node batch as core/storage records (formats in fleet/rf_node_store.h). */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "fleet/node_store_int.h"
#include "fleet/rf_node_store.h"
#include "storage/rf_record.h"

void rf_node_store_buf_init(rf_node_store_buf *b)
{
    memset(b, 0, sizeof *b);
}

void rf_node_store_buf_release(rf_node_store_buf *b)
{
    for (size_t i = 0; i < b->n_snaps; i++)
        free(b->snaps[i]);
    b->n_snaps = 0;
}

void rf_node_store_buf_close(rf_node_store_buf *b)
{
    rf_node_store_buf_release(b);
    free(b->snaps);
    free(b->scratch);
    memset(b, 0, sizeof *b);
}

bool rf_node_batch_has_snapshot(const rf_node_batch *rd)
{
    for (size_t i = 0; i < rd->n_writes; i++)
        if (rd->writes[i].has_snapshot)
            return true;
    return false;
}

static uint8_t *scratch(rf_node_store_buf *b, size_t n)
{
    if (b->scratch_cap < n) {
        uint8_t *s = realloc(b->scratch, n);
        if (s == NULL)
            return NULL;
        b->scratch = s;
        b->scratch_cap = n;
    }
    return b->scratch;
}

/* A snapshot's bytes, owned by buf until the batch's commit ends. */
static int add_snapshot(rf_batch *bt, rf_node_store_buf *b, const rf_node_write *w)
{
    const rf_snapshot_out *s = &w->snapshot;
    ASSERT(s->membership.count <= RF_RAFT_MEMBERS_MAX);
    size_t n = 4 + s->membership.count * NODE_STORE_MEMBER_BYTES + s->len;
    if (b->n_snaps == b->cap_snaps) {
        size_t ncap = b->cap_snaps ? 2 * b->cap_snaps : 8;
        uint8_t **ns = realloc(b->snaps, ncap * sizeof *ns);
        if (ns == NULL)
            return RF_ENOMEM;
        b->snaps = ns;
        b->cap_snaps = ncap;
    }
    uint8_t *d = malloc(n);
    if (d == NULL)
        return RF_ENOMEM;
    b->snaps[b->n_snaps++] = d;
    rf_le_put32(d, s->membership.count);
    size_t at = 4;
    for (uint32_t i = 0; i < s->membership.count; i++) {
        rf_le_put64(d + at, s->membership.members[i].id);
        d[at + 8] = s->membership.members[i].voter;
        at += NODE_STORE_MEMBER_BYTES;
    }
    if (s->len)
        memcpy(d + at, s->data, s->len);
    return rf_batch_snapshot(bt, w->group_id, s->index, s->term, d, n);
}

/* One group's writes, in the order raft.h fixes: snapshot, truncation,
 * entries, hard state; a drop before all of them. */
static int add_write(rf_batch *bt, rf_node_store_buf *b, const rf_node_write *w)
{
    int rc = w->drop ? rf_batch_drop_group(bt, w->group_id) : RF_OK;
    if (rc == RF_OK && w->has_snapshot)
        rc = add_snapshot(bt, b, w);
    if (rc == RF_OK && w->truncate_from != 0)
        rc = rf_batch_truncate(bt, w->group_id, w->truncate_from);
    for (size_t i = 0; rc == RF_OK && i < w->n_entries; i++) {
        const rf_entry *e = &w->entries[i];
        uint8_t *d = scratch(b, NODE_STORE_ENTRY_HEAD + (size_t)e->len);
        if (d == NULL)
            return RF_ENOMEM;
        d[0] = (uint8_t)(e->kind | NODE_STORE_ENTRY_V2);
        rf_le_put64(d + 1, e->client_id);
        rf_le_put64(d + 9, e->sequence);
        rf_le_put64(d + 17, e->floor);
        if (e->len)
            memcpy(d + NODE_STORE_ENTRY_HEAD, e->data, e->len);
        rc = rf_batch_entry(bt, w->group_id, e->index, e->term, d, NODE_STORE_ENTRY_HEAD + e->len);
    }
    if (rc == RF_OK && w->has_hard_state)
        rc = rf_batch_hard_state(bt, w->group_id, w->term, w->vote);
    return rc;
}

int rf_node_store_add(rf_batch *bt, rf_node_store_buf *buf, const rf_node_batch *rd)
{
    for (size_t i = 0; i < rd->n_writes; i++) {
        int rc = add_write(bt, buf, &rd->writes[i]);
        if (rc != RF_OK)
            return rc;
    }
    return RF_OK;
}

/* ---- decoding, for the restore ------------------------------------------ */

int rf_node__store_entry_decode(const uint8_t *d, size_t len, uint64_t index, uint64_t term,
                                rf_entry *out)
{
    size_t head = len > 0 && (d[0] & NODE_STORE_ENTRY_V2) ? NODE_STORE_ENTRY_HEAD
                                                           : NODE_STORE_ENTRY_HEAD_V1;
    if (len < head || len - head > RF_ENTRY_BYTES_MAX)
        return RF_EBADMSG;
    memset(out, 0, sizeof *out);
    out->index = index;
    out->term = term;
    out->kind = (uint8_t)(d[0] & ~NODE_STORE_ENTRY_V2);
    out->client_id = rf_le_get64(d + 1);
    out->sequence = rf_le_get64(d + 9);
    out->floor = head == NODE_STORE_ENTRY_HEAD ? rf_le_get64(d + 17) : 0;
    out->len = (uint32_t)(len - head);
    out->data = out->len > 0 ? d + head : NULL;
    if (out->kind < RF_ENTRY_NOOP || out->kind > RF_ENTRY_CONFIG)
        return RF_EBADMSG;
    return RF_OK;
}

int rf_node__store_snapshot_decode(const uint8_t *d, size_t len, rf_membership *m,
                                   const uint8_t **data, size_t *data_len)
{
    if (len < 4)
        return RF_EBADMSG;
    uint32_t count = rf_le_get32(d);
    if (count > RF_RAFT_MEMBERS_MAX || len < 4 + (size_t)count * NODE_STORE_MEMBER_BYTES)
        return RF_EBADMSG;
    memset(m, 0, sizeof *m);
    m->count = count;
    size_t at = 4;
    for (uint32_t i = 0; i < count; i++, at += NODE_STORE_MEMBER_BYTES) {
        m->members[i].id = rf_le_get64(d + at);
        m->members[i].voter = d[at + 8];
        if (m->members[i].id == 0 || m->members[i].voter > 1)
            return RF_EBADMSG;
    }
    *data = len > at ? d + at : NULL;
    *data_len = len - at;
    return RF_OK;
}

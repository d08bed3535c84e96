/* rf_batch: encoding of one node batch of log records. */
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_crc32c.h"
#include "base/rf_err.h"
#include "storage/rf_batch.h"
#include "storage/rf_record.h"

/* The batch header record (type BATCH) is written at commit, when the
 * store assigns the sequence number; its room is kept at the front. */
#define BATCH_HDR_BYTES (RF_REC_HDR_BYTES + RF_REC_BATCH_BYTES)

void rf_batch_init(rf_batch *b)
{
    memset(b, 0, sizeof *b);
}

void rf_batch_close(rf_batch *b)
{
    free(b->buf);
    free(b->recs);
    free(b->snaps);
    memset(b, 0, sizeof *b);
}

void rf_batch_reset(rf_batch *b)
{
    b->len = 0;
    b->nrecs = 0;
    b->nsnaps = 0;
    b->crcs_crc = 0;
}

static bool grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*v, n * elem);
    if (p == NULL)
        return false;
    *v = p;
    *cap = n;
    return true;
}

/* Reserves a record of `payload` bytes; returns its header or NULL with
 * *rc set. The caller fills the payload, then calls seal(). */
static unsigned char *reserve(rf_batch *b, size_t payload, int *rc)
{
    size_t start = b->len == 0 ? BATCH_HDR_BYTES : b->len;
    size_t need = start + RF_REC_HDR_BYTES + payload;
    if (need > RF_STORE_BATCH_BYTES_MAX) {
        *rc = RF_ETOOBIG;
        return NULL;
    }
    if (!grow((void **)&b->buf, &b->cap, need, 1) ||
        !grow((void **)&b->recs, &b->caprecs, b->nrecs + 1, sizeof *b->recs)) {
        *rc = RF_ENOMEM;
        return NULL;
    }
    b->len = start;
    *rc = RF_OK;
    return b->buf + start;
}

static int seal(rf_batch *b, unsigned char *hdr, const rf_batch_rec *r, size_t payload)
{
    uint32_t crc = rf_walrec_seal(hdr, r->type, (uint32_t)payload);
    unsigned char le[4];
    rf_le_put32(le, crc);
    b->crcs_crc = rf_crc32c_update(b->crcs_crc, le, 4);
    b->recs[b->nrecs] = *r;
    b->recs[b->nrecs].off = (uint32_t)b->len;
    b->nrecs++;
    b->len += RF_REC_HDR_BYTES + payload;
    return RF_OK;
}

int rf_batch_hard_state(rf_batch *b, uint64_t group, uint64_t term, uint64_t vote)
{
    int rc;
    unsigned char *h = reserve(b, 24, &rc);
    if (h == NULL)
        return rc;
    rf_le_put64(h + 12, group);
    rf_le_put64(h + 20, term);
    rf_le_put64(h + 28, vote);
    rf_batch_rec r = {.type = RF_REC_HARD_STATE, .group = group, .term = term, .vote = vote};
    return seal(b, h, &r, 24);
}

int rf_batch_entry(rf_batch *b, uint64_t group, uint64_t index, uint64_t term, const void *data,
                   size_t data_bytes)
{
    if (data_bytes > RF_STORE_ENTRY_BYTES_MAX)
        return RF_ETOOBIG;
    if (index == 0 || (data == NULL && data_bytes > 0))
        return RF_EINVAL;
    int rc;
    unsigned char *h = reserve(b, RF_REC_ENTRY_FIXED_BYTES + data_bytes, &rc);
    if (h == NULL)
        return rc;
    rf_le_put64(h + 12, group);
    rf_le_put64(h + 20, index);
    rf_le_put64(h + 28, term);
    if (data_bytes > 0)
        memcpy(h + 36, data, data_bytes);
    rf_batch_rec r = {.type = RF_REC_ENTRY, .group = group, .index = index, .term = term,
                      .data_bytes = (uint32_t)data_bytes};
    return seal(b, h, &r, RF_REC_ENTRY_FIXED_BYTES + data_bytes);
}

static int group_index_rec(rf_batch *b, uint8_t type, uint64_t group, uint64_t index)
{
    int rc;
    unsigned char *h = reserve(b, 16, &rc);
    if (h == NULL)
        return rc;
    rf_le_put64(h + 12, group);
    rf_le_put64(h + 20, index);
    rf_batch_rec r = {.type = type, .group = group, .index = index};
    return seal(b, h, &r, 16);
}

int rf_batch_truncate(rf_batch *b, uint64_t group, uint64_t from_index)
{
    if (from_index == 0)
        return RF_EINVAL;
    return group_index_rec(b, RF_REC_TRUNCATE, group, from_index);
}

int rf_batch_reset_group(rf_batch *b, uint64_t group, uint64_t first_index)
{
    if (first_index == 0)
        return RF_EINVAL;
    return group_index_rec(b, RF_REC_RESET, group, first_index);
}

int rf_batch_membership(rf_batch *b, uint64_t group, uint64_t index, const void *data,
                        size_t data_bytes)
{
    if (data_bytes > RF_STORE_ENTRY_BYTES_MAX)
        return RF_ETOOBIG;
    if (data == NULL && data_bytes > 0)
        return RF_EINVAL;
    int rc;
    unsigned char *h = reserve(b, RF_REC_MEMBERSHIP_FIXED_BYTES + data_bytes, &rc);
    if (h == NULL)
        return rc;
    rf_le_put64(h + 12, group);
    rf_le_put64(h + 20, index);
    if (data_bytes > 0)
        memcpy(h + 28, data, data_bytes);
    rf_batch_rec r = {.type = RF_REC_MEMBERSHIP, .group = group, .index = index,
                      .data_bytes = (uint32_t)data_bytes};
    return seal(b, h, &r, RF_REC_MEMBERSHIP_FIXED_BYTES + data_bytes);
}

int rf_batch_snapshot(rf_batch *b, uint64_t group, uint64_t index, uint64_t term, const void *data,
                      uint64_t data_bytes)
{
    if (data_bytes > RF_STORE_SNAPSHOT_BYTES_MAX)
        return RF_ETOOBIG;
    if (data == NULL && data_bytes > 0)
        return RF_EINVAL;
    for (size_t i = 0; i < b->nsnaps; i++)
        if (b->snaps[i].group == group)
            return RF_EINVAL; /* one snapshot per group per batch */
    if (!grow((void **)&b->snaps, &b->capsnaps, b->nsnaps + 1, sizeof *b->snaps))
        return RF_ENOMEM;
    int rc;
    unsigned char *h = reserve(b, 24, &rc);
    if (h == NULL)
        return rc;
    rf_le_put64(h + 12, group);
    rf_le_put64(h + 20, index);
    rf_le_put64(h + 28, term);
    rf_batch_rec r = {.type = RF_REC_SNAPSHOT, .group = group, .index = index, .term = term};
    b->snaps[b->nsnaps++] = (rf_batch_snap){group, index, term, data, data_bytes};
    return seal(b, h, &r, 24);
}

int rf_batch_snapshot_marker(rf_batch *b, uint64_t group, uint64_t index, uint64_t term)
{
    int rc;
    unsigned char *h = reserve(b, 24, &rc);
    if (h == NULL)
        return rc;
    rf_le_put64(h + 12, group);
    rf_le_put64(h + 20, index);
    rf_le_put64(h + 28, term);
    rf_batch_rec r = {.type = RF_REC_SNAPSHOT, .group = group, .index = index, .term = term};
    return seal(b, h, &r, 24);
}

int rf_batch_drop_group(rf_batch *b, uint64_t group)
{
    int rc;
    unsigned char *h = reserve(b, 8, &rc);
    if (h == NULL)
        return rc;
    rf_le_put64(h + 12, group);
    rf_batch_rec r = {.type = RF_REC_DROP, .group = group};
    return seal(b, h, &r, 8);
}

size_t rf_batch_bytes(const rf_batch *b)
{
    return b->len;
}

size_t rf_batch_records(const rf_batch *b)
{
    return b->nrecs;
}

bool rf_batch_empty(const rf_batch *b)
{
    ASSERT(b->nrecs > 0 || b->len == 0);
    return b->nrecs == 0;
}

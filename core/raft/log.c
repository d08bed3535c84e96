/* log: the in-memory Raft log, a ring of entries plus one payload buffer. */
#include <string.h>

#include "raft/raft_int.h"

/* Entry payloads live back to back in one buffer, addressed by logical
 * offsets that only grow; compaction advances data_head, truncation pulls
 * data_tail back. The buffer is slid or grown only when it is full, so an
 * append costs no allocation in the steady state. */

void rf_rft_log_init(raft_log *l, const rf_allocator *a)
{
    memset(l, 0, sizeof(*l));
    l->a = a;
}

void rf_rft_log_free(raft_log *l)
{
    rf_rft_free(l->a, l->ents);
    rf_rft_free(l->a, l->buf);
    l->ents = NULL;
    l->buf = NULL;
    l->cap = 0;
    l->n = 0;
    l->buf_cap = 0;
}

static int log_grow_ents(raft_log *l)
{
    size_t ncap = l->cap ? l->cap * 2 : 16;
    log_ent *ne = rf_rft_alloc(l->a, ncap * sizeof(*ne));
    if (!ne)
        return RF_ENOMEM;
    for (size_t i = 0; i < l->n; i++)
        ne[i] = l->ents[(l->head + i) & (l->cap - 1)];
    rf_rft_free(l->a, l->ents);
    l->ents = ne;
    l->cap = ncap;
    l->head = 0;
    return RF_OK;
}

/* Makes room for len more payload bytes at data_tail. */
static int log_grow_data(raft_log *l, size_t len)
{
    size_t live = (size_t)(l->data_tail - l->data_head);
    size_t phys_tail = (size_t)(l->data_tail - l->buf_base);
    if (phys_tail + len <= l->buf_cap)
        return RF_OK;
    size_t head_off = (size_t)(l->data_head - l->buf_base);
    if (live + len <= l->buf_cap / 2) {
        /* Slide the live bytes down: amortised by the half that is free. */
        memmove(l->buf, l->buf + head_off, live);
        l->buf_base = l->data_head;
        return RF_OK;
    }
    size_t ncap = l->buf_cap ? l->buf_cap : 256;
    while (ncap < 2 * (live + len))
        ncap *= 2;
    uint8_t *nb = rf_rft_alloc(l->a, ncap);
    if (!nb)
        return RF_ENOMEM;
    if (live)
        memcpy(nb, l->buf + head_off, live);
    rf_rft_free(l->a, l->buf);
    l->buf = nb;
    l->buf_cap = ncap;
    l->buf_base = l->data_head;
    return RF_OK;
}

int rf_rft_log_append(raft_log *l, uint64_t term, uint8_t kind, uint64_t client, uint64_t seq,
                      uint64_t floor, const uint8_t *data, uint32_t len)
{
    ASSERT(term >= rf_rft_log_last_term(l));
    ASSERT(len <= RF_ENTRY_BYTES_MAX + MEMBERSHIP_BYTES_MAX);
    if (l->n == l->cap && log_grow_ents(l) != RF_OK)
        return RF_ENOMEM;
    if (len && log_grow_data(l, len) != RF_OK)
        return RF_ENOMEM;
    log_ent *e = &l->ents[(l->head + l->n) & (l->cap - 1)];
    e->term = term;
    e->client_id = client;
    e->sequence = seq;
    e->floor = floor;
    e->off = l->data_tail;
    e->len = len;
    e->kind = kind;
    if (len) {
        memcpy(l->buf + (l->data_tail - l->buf_base), data, len);
        l->data_tail += len;
    }
    l->n++;
    return RF_OK;
}

void rf_rft_log_truncate(raft_log *l, uint64_t from)
{
    ASSERT(from > l->snap_index);
    if (from > rf_rft_log_last(l))
        return;
    const log_ent *e = rf_rft_log_at(l, from);
    l->data_tail = e->off;
    l->n = (size_t)(from - l->snap_index - 1);
    ASSERT(rf_rft_log_last(l) == from - 1);
}

void rf_rft_log_compact(raft_log *l, uint64_t index, uint64_t term)
{
    if (index <= l->snap_index)
        return;
    if (index >= rf_rft_log_last(l)) {
        rf_rft_log_reset(l, index, term);
        return;
    }
    ASSERT(rf_rft_log_term(l, index) == term);
    size_t drop = (size_t)(index - l->snap_index);
    l->head = (l->head + drop) & (l->cap - 1);
    l->n -= drop;
    l->snap_index = index;
    l->snap_term = term;
    l->data_head = l->ents[l->head].off;
}

void rf_rft_log_reset(raft_log *l, uint64_t index, uint64_t term)
{
    l->n = 0;
    l->head = 0;
    l->snap_index = index;
    l->snap_term = term;
    l->data_head = l->data_tail;
}

size_t rf_rft_log_memory(const raft_log *l)
{
    return l->cap * sizeof(log_ent) + l->buf_cap;
}

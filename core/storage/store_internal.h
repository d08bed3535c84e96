/* store_internal: the rf_store's private structures, shared by its .c files. */
#ifndef RF_STORE_INTERNAL_H
#define RF_STORE_INTERNAL_H

#include "storage/rf_record.h"
#include "storage/rf_store.h"

/* One entry of the in-memory index: 24 bytes (README.md "Memory"). The
 * payload stays in the segment file at (seg, off). */
typedef struct st_ent {
    uint64_t term;
    uint32_t seg;  /* segment sequence number */
    uint32_t off;  /* record header offset in the segment */
    uint32_t len;  /* payload data bytes */
    uint32_t zero; /* padding, kept zero */
} st_ent;

/* Where a live non-entry record lies, for the space accounting. */
typedef struct st_loc {
    uint32_t seg;
    uint32_t bytes; /* 0: no such record */
} st_loc;

typedef struct st_group {
    uint64_t id;
    bool exists;
    uint64_t term;
    uint64_t vote;
    st_loc hs;
    uint64_t snap_index;
    uint64_t snap_term;
    st_loc snap;
    uint64_t memb_index;
    unsigned char *memb;
    uint32_t memb_len;
    st_loc memb_loc;
    uint64_t first; /* index of ents[head] */
    st_ent *ents;
    size_t head;
    size_t n;
    size_t cap;
    /* Scratch of rf_store_commit_begin's checks, valid when chk_gen is
     * the store's current generation. */
    uint64_t chk_gen;
    uint64_t chk_last;
    uint64_t chk_snap;
    bool chk_touched;
} st_group;

typedef struct st_seg {
    uint64_t seq;
    uint64_t bytes;
    uint64_t live;
    bool deleting;
} st_seg;

/* The I/O of one commit: everything rf_store_io_run may touch. */
typedef struct st_io {
    rf_fs fs;
    rf_fs_file *file; /* the active segment */
    bool roll;        /* start segment roll_seq with this batch */
    uint64_t roll_seq;
    uint64_t old_bytes; /* the active segment's length, to close it at a roll */
    rf_fs_file *new_file;
    unsigned char seg_hdr[RF_SEG_HDR_BYTES];
    const unsigned char *bytes;
    size_t len;
    const rf_batch_snap *snaps;
    size_t nsnaps;
    char deletes[RF_STORE_DELETES_MAX][RF_NAME_BYTES];
    size_t ndeletes;
    size_t nsnapdel; /* how many of the deletes are of snapshot files */
    int rc;
    char message[160];
} st_io;

typedef struct st_rdfile {
    rf_fs_file *f;
    uint32_t seg;
    uint64_t used; /* LRU clock */
} st_rdfile;

struct rf_store {
    rf_fs fs;
    rf_store_config cfg;
    st_group **groups; /* sorted by id */
    uint64_t *group_ids; /* groups[i]->id, packed: searched without a miss per probe */
    size_t ngroups;
    size_t capgroups;
    st_seg *segs; /* ascending seq; the last one is active */
    size_t nsegs;
    size_t capsegs;
    rf_fs_file *active;
    uint64_t next_batch_seq;
    uint64_t gen;
    bool failed;
    bool busy;
    const rf_batch *inflight;
    st_io io;
    /* The newest cache_len bytes of the active segment, from cache_off. */
    unsigned char *cache;
    uint64_t cache_off;
    size_t cache_len;
    uint32_t cache_seg;
    st_rdfile rd[RF_STORE_READ_FILES_MAX];
    uint64_t rd_clock;
    rf_batch compact;
    /* Snapshot files replaced or dropped, removed by a later commit. */
    struct st_snapdel {
        uint64_t group;
        uint64_t index;
    } *snapdel;
    size_t nsnapdel;
    size_t capsnapdel;
    uint64_t live_bytes;
    uint64_t disk_bytes;
    uint64_t entries;
    uint64_t batches;
    char message[256];
};

/* store_index.c */
st_group *rf_st_group_find(const rf_store *st, uint64_t id);
int rf_st_group_get(rf_store *st, uint64_t id, st_group **out);
void rf_st_groups_free(rf_store *st);
/* Frees a group that holds nothing (dropped, or only named by a refused
 * batch), so that it no longer counts against groups_max. */
void rf_st_group_forget_if_empty(rf_store *st, uint64_t id);
st_seg *rf_st_seg_find(rf_store *st, uint64_t seq);
static inline uint64_t st_last(const st_group *g)
{
    return g->first + g->n - 1;
}
static inline const st_ent *st_ent_at(const st_group *g, uint64_t index)
{
    return &g->ents[g->head + (size_t)(index - g->first)];
}
static inline uint32_t st_ent_bytes(const st_ent *e)
{
    return RF_REC_HDR_BYTES + RF_REC_ENTRY_FIXED_BYTES + e->len;
}
/* Applies one durable record at (seg, off); data is the record's payload.
 * With replay, tolerates what a deleted older segment would explain;
 * returns RF_ECORRUPT for a sequence that no valid history produces. */
int rf_st_apply(rf_store *st, const rf_batch_rec *r, uint32_t seg, uint64_t off,
             const unsigned char *payload, bool replay);
/* commit_begin's checks of one record against the store and the batch. */
int rf_st_check(rf_store *st, const rf_batch_rec *r);

/* store_recover.c */
int rf_st_recover(rf_store *st, rf_store_recovery *info);

/* store.c */
void rf_st_msg(rf_store *st, const char *fmt, ...);
int rf_st_begin(rf_store *st, rf_batch *b);
int rf_st_read_at(rf_store *st, uint32_t seg, uint64_t off, void *buf, size_t len);

#endif

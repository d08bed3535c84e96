/* rf_batch: one node batch of log records, covering all groups, built before a commit. */
#ifndef RF_BATCH_H
#define RF_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds (README.md "Bounds"). An entry or membership larger than
 * RF_STORE_ENTRY_BYTES_MAX, or a batch growing past RF_STORE_BATCH_BYTES_MAX,
 * is refused with RF_ETOOBIG and leaves the batch unchanged. A batch must
 * also fit in one segment (checked at commit). */
#define RF_STORE_ENTRY_BYTES_MAX (1u << 20)
#define RF_STORE_BATCH_BYTES_MAX (64u << 20)
#define RF_STORE_SNAPSHOT_BYTES_MAX (1ull << 32)

/* A batch is encoded as it is built: records are framed and checksummed
 * here, on the caller's thread, so that the commit only writes bytes.
 * Records apply in the order they were added. The fields are private.
 * A batch is one object of one thread; it must stay unchanged from
 * rf_store_commit_begin until rf_store_commit_end. */
typedef struct rf_batch_rec {
    uint64_t group;
    uint64_t index; /* ENTRY, TRUNCATE (from), SNAPSHOT, MEMBERSHIP, RESET (first) */
    uint64_t term;  /* ENTRY, SNAPSHOT; HARD_STATE: term */
    uint64_t vote;  /* HARD_STATE */
    uint32_t off;   /* the record's header, from the start of the batch bytes */
    uint32_t data_bytes;
    uint8_t type;
} rf_batch_rec;

typedef struct rf_batch_snap {
    uint64_t group;
    uint64_t index;
    uint64_t term;
    const void *data; /* the caller's, kept alive until the commit ends */
    uint64_t data_bytes;
} rf_batch_snap;

typedef struct rf_batch {
    unsigned char *buf;
    size_t len;
    size_t cap;
    rf_batch_rec *recs;
    size_t nrecs;
    size_t caprecs;
    rf_batch_snap *snaps;
    size_t nsnaps;
    size_t capsnaps;
    uint32_t crcs_crc; /* CRC32C of the records' CRCs, in order */
} rf_batch;

void rf_batch_init(rf_batch *b);
void rf_batch_close(rf_batch *b);
/* Empties the batch, keeping its memory. */
void rf_batch_reset(rf_batch *b);

/* Records a group's term and vote (Raft: currentTerm, votedFor; 0 = none). */
int rf_batch_hard_state(rf_batch *b, uint64_t group, uint64_t term, uint64_t vote);
/* Appends one log entry; index must follow the group's last (or its
 * snapshot) at commit. The data is copied. */
int rf_batch_entry(rf_batch *b, uint64_t group, uint64_t index, uint64_t term, const void *data,
                   size_t data_bytes);
/* Deletes the group's entries at from_index and after (a conflicting
 * suffix, Raft §5.3). */
int rf_batch_truncate(rf_batch *b, uint64_t group, uint64_t from_index);
/* Records the group's membership as of log index `index`, opaque bytes,
 * copied; the latest one recorded is the one recovered. */
int rf_batch_membership(rf_batch *b, uint64_t group, uint64_t index, const void *data,
                        size_t data_bytes);
/* Installs a snapshot of the group at (index, term): the commit writes the
 * data to the group's snapshot file before the log records, and entries
 * up to index become garbage. Index 0 is allowed (a bootstrap snapshot
 * holding the initial configuration). If the log holds index with another term,
 * the whole log is discarded (Raft §7). The data is NOT copied. */
int rf_batch_snapshot(rf_batch *b, uint64_t group, uint64_t index, uint64_t term, const void *data,
                      uint64_t data_bytes);
/* Forgets the group: its entries, state and snapshot. */
int rf_batch_drop_group(rf_batch *b, uint64_t group);
/* Internal to the store's compaction: the group's entries restart at
 * first_index (the rewritten ones follow in the same batch). */
int rf_batch_reset_group(rf_batch *b, uint64_t group, uint64_t first_index);

/* Internal to the store's compaction: re-records the marker of a snapshot
 * whose file is already in place (no file is written). */
int rf_batch_snapshot_marker(rf_batch *b, uint64_t group, uint64_t index, uint64_t term);

/* Encoded bytes so far, the batch header included. */
size_t rf_batch_bytes(const rf_batch *b);
size_t rf_batch_records(const rf_batch *b);
bool rf_batch_empty(const rf_batch *b);

#endif

/* rf_store: the node's write-ahead log, one for all groups, with snapshots and compaction. */
#ifndef RF_STORE_H
#define RF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/rf_batch.h"
#include "storage/rf_fs.h"

/* Format, bounds, space and memory figures: core/storage/README.md.
 *
 * Threading contract. An rf_store is a single-threaded object with no
 * shared globals: one thread (the owner, e.g. the event loop) calls every
 * function, except rf_store_io_run, which may run on another thread
 * between rf_store_commit_begin (or rf_store_compact_begin) and
 * rf_store_commit_end. While that I/O runs, the owner may keep reading
 * (rf_store_group, rf_store_term, rf_store_entry, rf_store_snapshot_read)
 * and building the next rf_batch, but must not begin another commit
 * (RF_EBUSY) nor close the store. rf_store_io_run touches only the files
 * of that commit and the batch's bytes, never the index.
 *
 * Failures. If the I/O of a commit fails (RF_EIO, RF_ENOSPC, a crash), the
 * batch is not acknowledged, the in-memory state stays that of the last
 * acknowledged batch, and every later commit fails with RF_EREADONLY:
 * the batch may or may not be on disk, so only recovery (rf_store_close,
 * then rf_store_open) can tell; reads keep working meanwhile. */
typedef struct rf_store rf_store;

#define RF_STORE_SEGMENT_BYTES_MAX (1ull << 30)
#define RF_STORE_SEGMENT_BYTES_MIN (4096u)
#define RF_STORE_READ_FILES_MAX 8 /* cached read handles on old segments */
#define RF_STORE_DELETES_MAX 32   /* files removed per commit */

typedef struct rf_store_config {
    uint64_t segment_bytes;   /* a new segment starts past this; 0: 64 MiB */
    uint64_t cache_bytes;     /* tail of the log kept in memory; 0: none */
    uint32_t groups_max;      /* 0: 65536 */
} rf_store_config;

/* What recovery found; message says where when it refused to open. */
typedef struct rf_store_recovery {
    uint64_t segments;
    uint64_t batches;
    uint64_t records;
    uint64_t tail_cut_bytes; /* torn tail removed from the newest segment */
    char message[256];
} rf_store_recovery;

/* Opens the store in fs's directory, creating an empty one or recovering
 * what is there: replays the segments in order, cuts a torn tail of the
 * newest segment at the last whole batch, and refuses (RF_ECORRUPT, the
 * file and offset in info->message) a bad checksum anywhere else. Returns
 * 0, RF_ECORRUPT, RF_EVERSION (a record of a format version this build does
 * not know), RF_EIO, RF_ENOMEM, RF_EINVAL (config); *out is NULL on
 * failure. fs is copied; its context must outlive the store. */
int rf_store_open(rf_store **out, const rf_fs *fs, const rf_store_config *config,
                  rf_store_recovery *info);
/* Closes files and frees memory. Not while a commit's I/O runs. Unless
 * the store failed, first cuts the active segment to its exact length
 * (zeros a driver wrote ahead), best effort. */
void rf_store_close(rf_store *st);

/* One node batch = one append and one sync (plus, when the batch carries
 * snapshots, their files; when a segment fills, the next one's creation).
 * rf_store_commit is begin + io_run + end on the calling thread. */
int rf_store_commit(rf_store *st, rf_batch *b);

/* Checks the batch against the store (index continuity, bounds: RF_EINVAL,
 * RF_EINDEXGAP, RF_ECOMPACTED, RF_ETOOBIG, RF_EFULL for too many groups),
 * stamps its header and prepares the I/O. Nothing changes on failure.
 * RF_EBUSY while another commit is in flight, RF_EREADONLY after a failure. */
int rf_store_commit_begin(rf_store *st, rf_batch *b);
/* Performs the prepared I/O: the only call allowed on another thread. */
int rf_store_io_run(rf_store *st);
/* Applies the batch to the index if its I/O succeeded (the batch is then
 * durable) and returns the I/O's result. Always ends the commit. */
int rf_store_commit_end(rf_store *st);

/* Compaction (README.md "Compaction"). When garbage exceeds the live data
 * by more than two segments, rewrites forward the live records of the
 * groups that pin the oldest segment, as one batch, and deletes segments
 * that hold only garbage. Returns 0 with *started false when there is
 * nothing to do; else the commit is in flight exactly as after
 * rf_store_commit_begin (run rf_store_io_run, then rf_store_commit_end).
 * Reads payloads of the rewritten entries on the calling thread. */
int rf_store_compact_begin(rf_store *st, bool *started);
/* begin + io_run + end, repeated until nothing is left to do or max_steps. */
int rf_store_compact(rf_store *st, unsigned max_steps);

typedef struct rf_store_group_info {
    uint64_t term;
    uint64_t vote;
    uint64_t first_index; /* the first entry held; last_index + 1 when none */
    uint64_t last_index;  /* snapshot_index when no entries */
    bool has_snapshot; /* snapshot_index may be 0 (a bootstrap snapshot) */
    uint64_t snapshot_index;
    uint64_t snapshot_term;
    uint64_t membership_index;
    const void *membership; /* valid until the next commit_end or close */
    size_t membership_bytes;
} rf_store_group_info;

/* RF_ENOTFOUND for a group that holds nothing. */
int rf_store_group(const rf_store *st, uint64_t group, rf_store_group_info *out);
/* Writes up to max group ids (ascending) and returns how many exist. */
size_t rf_store_groups(const rf_store *st, uint64_t *ids, size_t max);
/* The term of entry index, or of the snapshot's last entry (index 0 too,
 * when the group has a snapshot at 0). RF_ECOMPACTED
 * below the snapshot, RF_ENOTFOUND past the last entry. */
int rf_store_term(const rf_store *st, uint64_t group, uint64_t index, uint64_t *term);
/* Reads one entry: its term, and its payload into buf (cap bytes) with its
 * length in *data_bytes. From the tail cache, or from the segment file
 * with its CRC checked (RF_ECHECKSUM, message in rf_store_message).
 * RF_ETOOBIG (and *data_bytes set) when cap is short. */
int rf_store_entry(rf_store *st, uint64_t group, uint64_t index, uint64_t *term, void *buf,
                   size_t cap, size_t *data_bytes);
/* Reads the group's snapshot data (CRC checked); RF_ENOTFOUND if none. */
int rf_store_snapshot_read(rf_store *st, uint64_t group, void *buf, size_t cap,
                           size_t *data_bytes);

typedef struct rf_store_stats {
    uint64_t segments;
    uint64_t disk_bytes; /* segment bytes, the live ones and the garbage */
    uint64_t live_bytes; /* bytes of records still needed by recovery */
    uint64_t entries;
    uint64_t groups;
    uint64_t index_bytes; /* memory of the entry index */
    uint64_t batches;     /* committed since open */
    bool failed;
} rf_store_stats;

void rf_store_stats_get(const rf_store *st, rf_store_stats *out);
/* The last error's detail (file, offset), "" if none. */
const char *rf_store_message(const rf_store *st);

#endif

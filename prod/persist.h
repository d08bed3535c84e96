/* persist: fleetd's group commit: rf_node's writes into core/storage on real files, one sync per batch, the I/O off the loop. */
#ifndef PROD_PERSIST_H
#define PROD_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet/rf_node.h"
#include "fleet/rf_node_store.h"
#include "prod/posix_fs.h"
#include "storage/rf_batch.h"
#include "storage/rf_store.h"

/* A ring of rf_batch buffers: while one commit's I/O runs on a worker
 * thread (rf_persist_io), the writes of the node's next steps accumulate in
 * the next. Nothing is reported persisted before its batch's sync returned.
 * A node step that carries a snapshot (log compaction) starts a new batch
 * when the accumulating one already holds records: the store refuses a
 * snapshot whose effect depends on entries of its own batch. Batches are
 * committed in order, one at a time.
 *
 *   loop thread:  rf_persist_add (any number) ... rf_persist_begin
 *   worker:       rf_persist_io
 *   loop thread:  rf_persist_end -> rf_node_persisted(token) ... begin next
 *
 * The records are the node's (fleet/rf_node_store.h: rf_node_store_add);
 * rf_node_restore reads them back after a restart.
 *
 * A failed commit (full disk, I/O error) leaves the store read-only: every
 * later begin fails, nothing more is acknowledged, the data on disk stays
 * as recovery will find it. */

#define RF_PERSIST_BATCHES 16u /* batches waiting or in flight; past it: RF_EFULL */

typedef struct rf_persist {
    rf_posix_fs *pfs;
    rf_fs_ops ops; /* posix_fs's, with sync and sync_dir off when fsync is off */
    rf_fs fs;
    rf_store *st;
    rf_batch batch[RF_PERSIST_BATCHES];
    rf_node_store_buf bufs[RF_PERSIST_BATCHES];
    uint64_t token[RF_PERSIST_BATCHES]; /* highest node token in each batch, 0 none */
    unsigned head;     /* the oldest batch not yet durable (in flight when in_flight) */
    unsigned acc;      /* the batch accumulating; [head, acc] in ring order are in use */
    bool in_flight;
    int io_rc;         /* result of the last rf_persist_io */
    int failed;        /* sticky: the first failure */
    uint64_t commits, records;
} rf_persist;

/* Opens (creating) the store in dir. fsync false: syncs are skipped (for
 * throwaway test clusters; acknowledged writes are then not durable).
 * Returns RF_OK, or an rf_err with err naming the problem (for RF_ECORRUPT,
 * the file and offset). */
int rf_persist_open(rf_persist *p, const char *dir, bool fsync, char *err, size_t cap);
void rf_persist_close(rf_persist *p); /* not while a commit is in flight */

/* Adds the writes of one rf_node batch (before rf_node_advance: the data
 * is copied). Returns RF_OK or RF_ENOMEM / RF_ETOOBIG (then failed). */
int rf_persist_add(rf_persist *p, const rf_node_batch *b);

/* True when a batch is waiting and no commit is in flight. */
bool rf_persist_can_begin(const rf_persist *p);

/* Starts committing what accumulated; RF_OK, or the store's refusal (then
 * failed). */
int rf_persist_begin(rf_persist *p);
/* The I/O: the one call made on the worker thread. */
void rf_persist_io(rf_persist *p);
/* Ends the commit: RF_OK and *token (report it with rf_node_persisted when
 * non-zero: a batch of drops alone carries none), or the I/O's error
 * (failed from then on). */
int rf_persist_end(rf_persist *p, uint64_t *token);

#endif

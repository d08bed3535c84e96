/* rf_node_store: an rf_node's durable state in one core/storage log: writing its batches, restoring it after a restart. */
#ifndef RF_NODE_STORE_H
#define RF_NODE_STORE_H

/* API stability: additive changes only.
 *
 * A node keeps everything it must not forget in one rf_store (DESIGN.md
 * section 2): the log of each group it hosts, and its own journal.
 *
 *  - Group logs. Each rf_node_write becomes store records: the snapshot
 *    (data: u32 member count, per member u64 id + u8 voter, then the
 *    model's snapshot bytes), the truncation, the entries (data: u8 kind
 *    with bit 0x80 set, u64 client id, u64 sequence, u64 floor, payload;
 *    entries of earlier builds, without the bit, have no floor) and the
 *    hard state, in that order. A write with drop set forgets the group first (its member
 *    stopped here; a later member of the group starts a new log).
 *  - The journal is the pseudo-group RF_NODE_JOURNAL_GROUP, written by the
 *    node like any group: its identity (node id and name), its
 *    incarnation (one more at every restore), every group it started with
 *    the group's model, and every group it stopped. From time to time a
 *    journal snapshot replaces the records. It is what lets a restarted
 *    node know which members to restore and with which model, and which
 *    groups it once hosted (so it never bootstraps a group twice).
 *
 * A driver's loop with a store:
 *
 *   open the store (rf_store_open)
 *   rf_node_restore(cfg, st, &node, &info)
 *     RF_ENOTFOUND: a fresh store, so rf_node_create(cfg, &node)
 *   each rf_node_ready: rf_node_store_add(&batch, &buf, &rd) (before
 *     rf_node_advance), commit the batch (rf_store_commit or
 *     begin/io_run/end), then rf_node_store_buf_release(&buf) and
 *     rf_node_persisted(rd.persist_token).
 *
 * Several node batches may go into one rf_batch (group commit), except
 * that a node batch for which rf_node_batch_has_snapshot is true must start
 * an empty rf_batch (the store refuses a snapshot whose effect depends on
 * records of its own batch) and may share it only with the batches that
 * follow it. Nothing of a node batch may be acknowledged (persisted)
 * before its rf_batch is durable. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet/rf_node.h"
#include "storage/rf_batch.h"
#include "storage/rf_store.h"

#define RF_NODE_JOURNAL_GROUP 0u /* the journal's pseudo-group id in the store */

/* Memory a batch points to until its commit ends (rf_batch does not copy
 * snapshot bytes). Zero-initialise, or rf_node_store_buf_init. */
typedef struct rf_node_store_buf {
    uint8_t **snaps;
    size_t n_snaps, cap_snaps;
    uint8_t *scratch;
    size_t scratch_cap;
} rf_node_store_buf;

void rf_node_store_buf_init(rf_node_store_buf *b);
/* After the commit of the batches it served ended. */
void rf_node_store_buf_release(rf_node_store_buf *b);
void rf_node_store_buf_close(rf_node_store_buf *b);

/* Whether the node batch carries a snapshot (see above). */
bool rf_node_batch_has_snapshot(const rf_node_batch *rd);

/* Adds every write of rd to bt. Returns RF_OK, or RF_ENOMEM / RF_ETOOBIG /
 * RF_EINVAL from rf_batch (the node cannot go on: its member waits for the
 * write; treat it like a failed disk). */
int rf_node_store_add(rf_batch *bt, rf_node_store_buf *buf, const rf_node_batch *rd);

typedef struct rf_node_restore_info {
    uint64_t incarnation;   /* of the restored node (1 for a fresh one) */
    uint64_t groups;        /* members restored */
    uint64_t entries;       /* log entries read back */
    uint64_t orphans;       /* group logs without a journal record: dropped */
    char message[256];      /* why a restore failed, "" otherwise */
} rf_node_restore_info;

/* A node from the durable state in st, as it was at its last durable
 * batch: identity and incarnation, every hosted member with its term,
 * vote, log, snapshot and membership (rf_raft_restore), the set of groups
 * it ever hosted. Like any restarted member, each group re-applies its
 * committed entries once it learns the commit index; until the metadata
 * replica has caught up with a leader, the node takes no rebalancing step
 * and stops no member on its stale view. Requests made before the first
 * batch is durable wait for it (their client ids carry the new
 * incarnation, which must be durable before any is used).
 * Reads every entry through rf_store_entry: not while a commit runs.
 * Returns RF_OK and *out; RF_ENOTFOUND when st holds no node (a fresh
 * store: rf_node_create); RF_EOTHERNODE when it belongs to another node id
 * or name; RF_ENOMODEL when a hosted group's model is not in cfg; RF_EBADMSG
 * for undecodable durable records; RF_ECHECKSUM / RF_EIO from the store;
 * RF_EINVAL / RF_ENOMEM as rf_node_create. On failure info->message says
 * what and which group. */
int rf_node_restore(const rf_node_config *cfg, rf_store *st, rf_node **out,
                    rf_node_restore_info *info);

#endif

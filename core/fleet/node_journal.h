/* node_journal: the formats of the node's journal (fleet/rf_node_store.h), shared by the node and its restore. */
#ifndef RF_NODE_JOURNAL_H
#define RF_NODE_JOURNAL_H

/* Journal entries (data of an entry of RF_NODE_JOURNAL_GROUP, term 1),
 * little-endian, a name being u8 length + bytes:
 *   IDENT        u8 1, u64 node id, name
 *   INCARNATION  u8 2, u64 incarnation
 *   STARTED      u8 3, u64 group, model name
 *   STOPPED      u8 4, u64 group[, u64 term] (the term the member knew;
 *                records written before it was kept have none: 0)
 *   ZONE         u8 5, u64 0, zone name (the last activation's; empty once
 *                its deactivation is committed)
 * Journal snapshot (replaces every record before its index):
 *   u8 version 2, u64 node id, name, u64 incarnation,
 *   u64 count + count x u64 (every group ever hosted, ascending),
 *   u64 count + count x (u64 group, model name) (the members hosted),
 *   zone name,
 *   u64 count + count x (u64 group, u64 term) (the terms of stopped
 *   members, ascending by group).
 * Version 2 is the same without the terms, version 1 without the zone
 * either (read as empty). */
#define NODE_JREC_IDENT 1u
#define NODE_JREC_INCARNATION 2u
#define NODE_JREC_STARTED 3u
#define NODE_JREC_STOPPED 4u
#define NODE_JREC_ZONE 5u
#define NODE_JOURNAL_SNAP_VERSION 3u
#define NODE_JOURNAL_TERM 1u
#define NODE_JOURNAL_NAME_MAX 255u
#define NODE_JOURNAL_REC_MAX (1u + 8u + 1u + NODE_JOURNAL_NAME_MAX)

#endif

/* node_store_int: the store record formats shared by a node's batches and its restore. */
#ifndef RF_NODE_STORE_INT_H
#define RF_NODE_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

/* An entry's store data: u8 kind | NODE_STORE_ENTRY_V2, u64 client id, u64
 * sequence, u64 floor, payload. Earlier builds wrote version 1: u8 kind,
 * u64 client id, u64 sequence, payload (read with floor 0). */
#define NODE_STORE_ENTRY_V2 0x80u
#define NODE_STORE_ENTRY_HEAD 25u
#define NODE_STORE_ENTRY_HEAD_V1 17u
#define NODE_STORE_MEMBER_BYTES 9u /* u64 id, u8 voter */

/* An entry's store data back into *out (data points into d). RF_EBADMSG. */
int rf_node__store_entry_decode(const uint8_t *d, size_t len, uint64_t index, uint64_t term,
                                rf_entry *out);
/* A snapshot's store data: its membership, and the model's bytes (into d). */
int rf_node__store_snapshot_decode(const uint8_t *d, size_t len, rf_membership *m,
                                   const uint8_t **data, size_t *data_len);

#endif

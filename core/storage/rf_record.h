/* rf_record: the on-disk format of the write-ahead log and snapshot files. */
#ifndef RF_RECORD_H
#define RF_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rf_le.h"

/* Byte-by-byte layout: core/storage/README.md. All integers little-endian.
 *
 * Record: a 12-byte header and a payload of `len` bytes.
 *   0  u32 crc     CRC32C of bytes [4, 12 + len): the rest of the header
 *                  and the payload
 *   4  u32 len     payload bytes
 *   8  u8  type    RF_REC_*
 *   9  u8  version RF_REC_VERSION
 *  10  u16 zero
 */
#define RF_REC_HDR_BYTES 12
#define RF_REC_VERSION 1

enum {
    RF_REC_BATCH = 1,      /* u64 seq, u32 body_bytes, u32 count, u32 crcs_crc */
    RF_REC_HARD_STATE = 2, /* u64 group, u64 term, u64 vote */
    RF_REC_ENTRY = 3,      /* u64 group, u64 index, u64 term, data */
    RF_REC_TRUNCATE = 4,   /* u64 group, u64 from_index */
    RF_REC_SNAPSHOT = 5,   /* u64 group, u64 index, u64 term */
    RF_REC_MEMBERSHIP = 6, /* u64 group, u64 index, data */
    RF_REC_RESET = 7,      /* u64 group, u64 first_index (compaction rewrite) */
    RF_REC_DROP = 8,       /* u64 group */
};

/* Fixed payload bytes of each type (before any data). */
#define RF_REC_BATCH_BYTES 20
#define RF_REC_ENTRY_FIXED_BYTES 24
#define RF_REC_MEMBERSHIP_FIXED_BYTES 16

/* Segment file header: u64 magic "RFWALSEG", u32 version, u32 zero,
 * u64 segment sequence number, u32 zero, u32 CRC32C of bytes [0, 28). */
#define RF_SEG_HDR_BYTES 32
/* Snapshot file header: u64 magic "RFSNAPSH", u32 version, u32 data CRC32C,
 * u64 group, u64 index, u64 term, u64 data bytes, u32 zero, u32 CRC32C
 * of bytes [0, 52); the data follows. */
#define RF_SNAP_HDR_BYTES 56

/* Writes a record header for a payload already at hdr + 12 and returns the
 * record's CRC. */
uint32_t rf_walrec_seal(unsigned char *hdr, uint8_t type, uint32_t len);

/* Checks the header at p with `avail` bytes readable from p: 0 when a
 * whole record with a valid CRC and known version is there (its payload
 * length in *len_out), RF_EBADMSG when fewer bytes than the record claims
 * are available, RF_ECHECKSUM for a CRC mismatch, RF_EVERSION. */
int rf_walrec_check(const unsigned char *p, size_t avail, uint32_t *len_out);

/* The fixed payload size of a type, or -1 for an unknown type; records
 * with data (ENTRY, MEMBERSHIP) may be longer. */
int rf_walrec_fixed_bytes(uint8_t type);

void rf_seg_hdr_encode(unsigned char out[RF_SEG_HDR_BYTES], uint64_t seq);
/* 0, RF_EBADMSG (bad magic or CRC) or RF_EVERSION. */
int rf_seg_hdr_decode(const unsigned char in[RF_SEG_HDR_BYTES], uint64_t *seq_out);

typedef struct rf_snap_hdr {
    uint64_t group;
    uint64_t index;
    uint64_t term;
    uint64_t data_bytes;
    uint32_t data_crc;
} rf_snap_hdr;

void rf_snap_hdr_encode(unsigned char out[RF_SNAP_HDR_BYTES], const rf_snap_hdr *h);
int rf_snap_hdr_decode(const unsigned char in[RF_SNAP_HDR_BYTES], rf_snap_hdr *h);

/* File names: "wal-<seq as 16 hex digits>.log",
 * "snap-<group 16 hex>-<index 16 hex>.snap" (and ".tmp" while written). */
#define RF_NAME_BYTES 48
void rf_seg_name(char out[RF_NAME_BYTES], uint64_t seq);
void rf_snap_name(char out[RF_NAME_BYTES], uint64_t group, uint64_t index, bool tmp);
/* Parse a name; false when it is not of that kind. */
bool rf_seg_parse(const char *name, uint64_t *seq);
bool rf_snap_parse(const char *name, uint64_t *group, uint64_t *index, bool *tmp);

#endif

/* frame: the peer wire frame between fleetd nodes, and its incremental decoder. */
#ifndef PROD_FRAME_H
#define PROD_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Layout (all integers little-endian), a 20-byte header then the payload:
 *   0  u32 magic        "RFPF" (bytes 'R' 'F' 'P' 'F')
 *   4  u8  version      RF_FRAME_VERSION
 *   5  u8  type         RF_FRAME_* (1..RF_FRAME_TYPE_MAX)
 *   6  u16 zero         reserved, must be 0
 *   8  u32 len          payload bytes, at most the decoder's bound
 *  12  u32 header_crc   CRC32C of bytes [0, 12)
 *  16  u32 payload_crc  CRC32C of the payload
 * The header has its own checksum so that a corrupted length is refused as
 * soon as 20 bytes are in, instead of making the reader wait for (or buffer)
 * a payload that will never come. */
#define RF_FRAME_MAGIC 0x46504652u /* "RFPF" read little-endian */
#define RF_FRAME_VERSION 1u
#define RF_FRAME_HDR_BYTES 20u
/* The largest payload a peer may send: one rf_node envelope
 * (RF_NODE_FRAME_BYTES_MAX, fleet/rf_node.h). */
#define RF_FRAME_PAYLOAD_BYTES_MAX ((16u << 20) + (1u << 20))
/* Before a peer has authenticated, only small frames are accepted. */
#define RF_FRAME_AUTH_PAYLOAD_BYTES_MAX 256u

enum {
    RF_FRAME_AUTH_HELLO = 1,  /* auth: name, node id, challenge nonce */
    RF_FRAME_AUTH_PROOF = 2,  /* auth: HMAC over the peer's challenge */
    RF_FRAME_AUTH_RESULT = 3, /* auth: accepted or refused */
    RF_FRAME_ENVELOPE = 4,    /* one rf_node envelope */
    RF_FRAME_PING = 5,        /* keep-alive, empty payload */
    RF_FRAME_PEERS = 6,       /* listen addresses a node knows (its own first) */
    RF_FRAME_TYPE_MAX = 6
};

/* A decoded frame. payload points into the decoder's buffer and stays
 * valid until the next rf_frame_dec_feed or rf_frame_dec_close. */
typedef struct rf_frame {
    uint8_t type;
    const uint8_t *payload;
    uint32_t len;
} rf_frame;

/* Writes the 20-byte header of a frame carrying payload[0, len) into hdr.
 * The caller sends the header then the payload (two buffers, no copy).
 * len must be at most RF_FRAME_PAYLOAD_BYTES_MAX and type a RF_FRAME_*. */
void rf_frame_header(uint8_t hdr[RF_FRAME_HDR_BYTES], uint8_t type, const void *payload,
                     uint32_t len);

/* Header and payload into out[0, cap): returns the frame's size, or 0 when
 * cap is too small. */
size_t rf_frame_encode(uint8_t *out, size_t cap, uint8_t type, const void *payload, uint32_t len);

/* Incremental decoder for one connection. Bytes go in as they arrive, in
 * pieces of any size; whole frames come out. The first bad frame makes the
 * decoder fail for good (the connection is then closed): its code and a
 * reason for the log are kept. The buffer holds at most one header plus
 * payload_bytes_max bytes, so a peer cannot make it grow without bound. */
typedef struct rf_frame_dec {
    uint8_t *buf;
    size_t cap;          /* allocated bytes */
    size_t cap_max;      /* RF_FRAME_HDR_BYTES + payload_bytes_max */
    size_t start, end;   /* unconsumed bytes are buf[start, end) */
    uint32_t payload_bytes_max;
    int error;           /* sticky: 0 or the first failure */
    char reason[96];
    uint64_t frames;     /* frames decoded so far */
} rf_frame_dec;

/* payload_bytes_max: 1..RF_FRAME_PAYLOAD_BYTES_MAX. Allocates nothing yet. */
void rf_frame_dec_init(rf_frame_dec *d, uint32_t payload_bytes_max);
void rf_frame_dec_close(rf_frame_dec *d);

/* Lowers or raises the bound (e.g. after authentication). Bytes already
 * buffered are checked against the new bound when decoded. */
void rf_frame_dec_set_max(rf_frame_dec *d, uint32_t payload_bytes_max);

/* Takes bytes from data[0, len) into the buffer and returns how many it
 * took: all of them unless the buffer is full of undelivered frames, in
 * which case the caller drains rf_frame_dec_next and feeds the rest.
 * Returns 0 once the decoder has failed, or when memory runs out (then the
 * decoder fails with RF_ENOMEM). */
size_t rf_frame_dec_feed(rf_frame_dec *d, const void *data, size_t len);

/* The next whole frame: 1 and *out filled; 0 when more bytes are needed;
 * or a negative rf_err code, also kept in d->error:
 *   -RF_EPROTO    bad magic, reserved bits set, or unknown type
 *   -RF_EVERSION  a version this build does not speak
 *   -RF_ETOOBIG   a length over the decoder's bound
 *   -RF_ECHECKSUM header or payload checksum mismatch
 * d->reason then says which, with the values seen. */
int rf_frame_dec_next(rf_frame_dec *d, rf_frame *out);

/* Bytes buffered and not yet delivered as frames. */
size_t rf_frame_dec_pending(const rf_frame_dec *d);

#endif

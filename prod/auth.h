/* auth: mutual HMAC-SHA256 challenge-response between fleetd peers over a cluster secret. */
#ifndef PROD_AUTH_H
#define PROD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Both ends of a peer connection run the same exchange, in frames of
 * prod/frame.h, before any other frame is accepted:
 *
 *   HELLO   u8 auth version (1), u64 node id, 32-byte nonce (RAND_bytes),
 *           u8 name length, node name ([A-Za-z0-9._@-], 1..64 bytes)
 *   PROOF   32 bytes: HMAC-SHA256(secret, "raftfleet-auth-v1" ||
 *           prover id || verifier id || verifier's nonce || prover's nonce
 *           || prover name || verifier name), ids as u64 little-endian,
 *           names each preceded by a u8 length
 *   RESULT  u8 1 accepted / 0 refused
 *
 * Each side sends HELLO at once, a PROOF once it has the peer's HELLO, and
 * a RESULT once it has checked the peer's PROOF (CRYPTO_memcmp, constant
 * time). The exchange is done when this side accepted the peer's proof and
 * the peer accepted ours.
 *
 * Why it holds: a proof covers the verifier's fresh nonce, so a proof
 * recorded on one connection is worthless on the next (replay); it names
 * the prover and the verifier in a fixed order, so a proof a node computed
 * for a peer cannot be reflected back to that node as the peer's own, and
 * a peer claiming the verifier's own id is refused. The secret never
 * leaves this module: it is kept for the HMAC and wiped on close. */

#define RF_AUTH_VERSION 1u
#define RF_AUTH_NONCE_BYTES 32u
#define RF_AUTH_MAC_BYTES 32u
#define RF_AUTH_NAME_BYTES_MAX 64u
#define RF_AUTH_SECRET_BYTES_MIN 16u  /* a shorter secret is refused */
#define RF_AUTH_SECRET_BYTES_MAX 4096u
/* The largest payload of an auth frame (HELLO with the longest name). */
#define RF_AUTH_PAYLOAD_BYTES_MAX (1u + 8u + RF_AUTH_NONCE_BYTES + 1u + RF_AUTH_NAME_BYTES_MAX)
/* The driver closes a connection whose exchange is not done by then. */
#define RF_AUTH_TIMEOUT_MS 5000u

typedef enum rf_auth_state {
    RF_AUTH_WAIT_HELLO = 0, /* our HELLO sent, the peer's awaited */
    RF_AUTH_WAIT_PROOF,     /* our PROOF sent, the peer's awaited */
    RF_AUTH_WAIT_RESULT,    /* peer proved itself, our own verdict awaited */
    RF_AUTH_DONE,           /* both proved: the connection may carry data */
    RF_AUTH_FAILED          /* refused either way: close the connection */
} rf_auth_state;

typedef struct rf_auth {
    rf_auth_state state;
    uint8_t secret[RF_AUTH_SECRET_BYTES_MAX];
    size_t secret_len;
    uint64_t self_id, peer_id, expect_peer_id;
    char self_name[RF_AUTH_NAME_BYTES_MAX + 1];
    char peer_name[RF_AUTH_NAME_BYTES_MAX + 1];
    uint8_t self_nonce[RF_AUTH_NONCE_BYTES];
    uint8_t peer_nonce[RF_AUTH_NONCE_BYTES];
    bool peer_accepted_us;
    char reason[128]; /* why the exchange failed, for the log; no secret */
} rf_auth;

/* One message to send: a frame type (RF_FRAME_AUTH_*) and its payload.
 * type 0: nothing to send. */
typedef struct rf_auth_out {
    uint8_t type;
    uint32_t len;
    uint8_t buf[RF_AUTH_PAYLOAD_BYTES_MAX];
} rf_auth_out;

/* Starts an exchange: copies the secret, draws this side's nonce and
 * writes our HELLO into *out. expect_peer_id: the node id the peer must
 * claim, or 0 for any (an accepting side learns it from the HELLO).
 * Returns RF_OK; RF_EINVAL for a bad name, id or secret length; RF_EIO
 * when the random generator fails (nothing is sent then). */
int rf_auth_start(rf_auth *a, const void *secret, size_t secret_len, uint64_t self_id,
                  const char *self_name, uint64_t expect_peer_id, rf_auth_out *out);

/* Feeds one received auth frame. Returns RF_OK, with *out holding what to
 * send next (out->type 0 when nothing); or, once the exchange fails,
 * RF_EAUTH (wrong proof, identity refused, or the peer refused us: *out
 * may hold a RESULT 0 to send before closing) or RF_EPROTO (a malformed or
 * unexpected frame). a->reason says why. */
int rf_auth_recv(rf_auth *a, uint8_t type, const uint8_t *payload, uint32_t len,
                 rf_auth_out *out);

static inline bool rf_auth_done(const rf_auth *a)
{
    return a->state == RF_AUTH_DONE;
}

/* Wipes the secret and the nonces (OPENSSL_cleanse). */
void rf_auth_close(rf_auth *a);

/* Reads a cluster secret from path into buf[0, cap): the whole file minus
 * one trailing newline (or CRLF). Refuses, with a message in err naming
 * the path but never the contents: a file other users can read or write
 * (mode & 077), a secret shorter than RF_AUTH_SECRET_BYTES_MIN or longer
 * than cap. Returns RF_OK and *len, RF_ENOTFOUND, RF_EIO or RF_EINVAL. */
int rf_auth_read_secret_file(const char *path, uint8_t *buf, size_t cap, size_t *len,
                             char *err, size_t err_cap);

#endif

/* rf_hash: SipHash-2-4, the stable 64-bit hash behind placement. */
#ifndef RF_HASH_H
#define RF_HASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012) of len bytes at data under a 16-byte key. The result is the
 * little-endian reading of the reference implementation's 8 output bytes,
 * so it is the same on every build and machine. */
uint64_t rf_siphash24(const uint8_t key[16], const void *data, size_t len);

#endif

/* rf_hash: SipHash-2-4, the stable 64-bit hash behind placement; FNV-1a for in-memory tables. */
#ifndef RF_HASH_H
#define RF_HASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012) of len bytes at data under a 16-byte key. The result is the
 * little-endian reading of the reference implementation's 8 output bytes,
 * so it is the same on every build and machine. */
uint64_t rf_siphash24(const uint8_t key[16], const void *data, size_t len);

/* FNV-1a (64 bits) of a NUL-terminated string: a fast spread for keys of
 * in-memory tables (equal hashes are told apart by the caller), never a
 * stored or sent value. */
static inline uint64_t rf_fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *c = (const unsigned char *)s; *c != 0; c++)
        h = (h ^ *c) * 0x100000001b3ull;
    return h;
}

#endif

/* rf_le: little-endian integers at unaligned addresses, the wire and disk byte order. */
#ifndef RF_LE_H
#define RF_LE_H

#include <stdint.h>
#include <string.h>

/* A memcpy of a fixed size compiles to one load or store; a big-endian host
 * swaps the bytes, so the encoding is the same on every machine. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define RF_LE_SWAP64(v) __builtin_bswap64(v)
#define RF_LE_SWAP32(v) __builtin_bswap32(v)
#else
#define RF_LE_SWAP64(v) (v)
#define RF_LE_SWAP32(v) (v)
#endif

static inline uint64_t rf_le_get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return RF_LE_SWAP64(v);
}

static inline uint32_t rf_le_get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return RF_LE_SWAP32(v);
}

static inline void rf_le_put64(uint8_t *p, uint64_t v)
{
    const uint64_t le = RF_LE_SWAP64(v);
    memcpy(p, &le, sizeof le);
}

static inline void rf_le_put32(uint8_t *p, uint32_t v)
{
    const uint32_t le = RF_LE_SWAP32(v);
    memcpy(p, &le, sizeof le);
}

#endif

/* rf_crc32c: CRC32C (Castagnoli), the checksum of storage records and wire frames. */
#ifndef RF_CRC32C_H
#define RF_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C as specified for iSCSI (RFC 3720 §12.1, test vectors in B.4):
 * generator polynomial 0x1EDC6F41, processed bit-reflected (0x82F63B78),
 * initial value 0xFFFFFFFF, final complement. rf_crc32c("123456789", 9)
 * is 0xE3069283. */
uint32_t rf_crc32c(const void *data, size_t len);

/* Extends a finished checksum with more bytes, so that
 * rf_crc32c_update(rf_crc32c(a, n), b, m) == rf_crc32c(a || b, n + m).
 * rf_crc32c_update(0, data, len) == rf_crc32c(data, len). */
uint32_t rf_crc32c_update(uint32_t crc, const void *data, size_t len);

/* rf_crc32c_update by the table alone, as it runs on a CPU without SSE4.2
 * (tests check both against the definition). */
uint32_t rf_crc32c_update_portable(uint32_t crc, const void *data, size_t len);

#endif

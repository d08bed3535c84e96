/* frame: the peer wire frame between fleetd nodes, and its incremental decoder. */
#include "prod/frame.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_crc32c.h"
#include "base/rf_err.h"
#include "storage/rf_record.h"

#define FRAME_BUF_BYTES_MIN 4096u

void rf_frame_header(uint8_t hdr[RF_FRAME_HDR_BYTES], uint8_t type, const void *payload,
                     uint32_t len)
{
    ASSERT(type >= 1 && type <= RF_FRAME_TYPE_MAX);
    ASSERT(len <= RF_FRAME_PAYLOAD_BYTES_MAX);
    ASSERT(payload != NULL || len == 0);
    rf_le_put32(hdr, RF_FRAME_MAGIC);
    hdr[4] = RF_FRAME_VERSION;
    hdr[5] = type;
    hdr[6] = 0;
    hdr[7] = 0;
    rf_le_put32(hdr + 8, len);
    rf_le_put32(hdr + 12, rf_crc32c(hdr, 12));
    rf_le_put32(hdr + 16, len ? rf_crc32c(payload, len) : rf_crc32c("", 0));
}

size_t rf_frame_encode(uint8_t *out, size_t cap, uint8_t type, const void *payload, uint32_t len)
{
    if (cap < RF_FRAME_HDR_BYTES || cap - RF_FRAME_HDR_BYTES < len)
        return 0;
    rf_frame_header(out, type, payload, len);
    if (len)
        memcpy(out + RF_FRAME_HDR_BYTES, payload, len);
    return RF_FRAME_HDR_BYTES + (size_t)len;
}

void rf_frame_dec_init(rf_frame_dec *d, uint32_t payload_bytes_max)
{
    memset(d, 0, sizeof *d);
    rf_frame_dec_set_max(d, payload_bytes_max);
}

void rf_frame_dec_close(rf_frame_dec *d)
{
    free(d->buf);
    d->buf = NULL;
    d->cap = 0;
    d->start = d->end = 0;
}

void rf_frame_dec_set_max(rf_frame_dec *d, uint32_t payload_bytes_max)
{
    ASSERT(payload_bytes_max >= 1);
    ASSERT(payload_bytes_max <= RF_FRAME_PAYLOAD_BYTES_MAX);
    d->payload_bytes_max = payload_bytes_max;
    d->cap_max = RF_FRAME_HDR_BYTES + (size_t)payload_bytes_max;
}

size_t rf_frame_dec_pending(const rf_frame_dec *d)
{
    return d->end - d->start;
}

__attribute__((format(printf, 3, 4))) static int dec_fail(rf_frame_dec *d, int code,
                                                        const char *fmt, ...)
{
    ASSERT(code > 0);
    ASSERT(d->error == 0);
    d->error = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof d->reason, fmt, ap);
    va_end(ap);
    return -code;
}

/* Makes room for up to `want` more bytes without passing cap_max; returns
 * the room now free at the end of the buffer. */
static size_t dec_room(rf_frame_dec *d, size_t want)
{
    if (d->start == d->end) {
        d->start = d->end = 0;
    } else if (d->start > 0 && d->cap - d->end < want) {
        memmove(d->buf, d->buf + d->start, d->end - d->start);
        d->end -= d->start;
        d->start = 0;
    }
    size_t held = d->end - d->start;
    if (d->cap - d->end < want && d->cap < d->cap_max) {
        size_t need = held + want > d->cap_max ? d->cap_max : held + want;
        size_t ncap = d->cap ? d->cap : FRAME_BUF_BYTES_MIN;
        while (ncap < need)
            ncap *= 2;
        if (ncap > d->cap_max)
            ncap = d->cap_max;
        if (ncap > d->cap) {
            uint8_t *nb = realloc(d->buf, ncap);
            if (nb == NULL) {
                dec_fail(d, RF_ENOMEM, "out of memory for %zu buffered bytes", ncap);
                return 0;
            }
            d->buf = nb;
            d->cap = ncap;
        }
    }
    return d->cap - d->end;
}

size_t rf_frame_dec_feed(rf_frame_dec *d, const void *data, size_t len)
{
    if (d->error || len == 0)
        return 0;
    size_t room = dec_room(d, len);
    size_t take = len < room ? len : room;
    if (take) {
        memcpy(d->buf + d->end, data, take);
        d->end += take;
    }
    ASSERT(d->end <= d->cap);
    return take;
}

/* Checks a complete header at p; 0 or a negative code with the reason set. */
static int dec_check_header(rf_frame_dec *d, const uint8_t *p, uint32_t *len_out)
{
    uint32_t magic = rf_le_get32(p);
    if (magic != RF_FRAME_MAGIC)
        return dec_fail(d, RF_EPROTO, "bad magic 0x%08x (want 0x%08x)", (unsigned)magic,
                        (unsigned)RF_FRAME_MAGIC);
    uint32_t want_crc = rf_le_get32(p + 12), crc = rf_crc32c(p, 12);
    if (crc != want_crc)
        return dec_fail(d, RF_ECHECKSUM, "header checksum 0x%08x, computed 0x%08x",
                        (unsigned)want_crc, (unsigned)crc);
    if (p[4] != RF_FRAME_VERSION)
        return dec_fail(d, RF_EVERSION, "version %u, this build speaks %u", (unsigned)p[4],
                        (unsigned)RF_FRAME_VERSION);
    if (p[6] != 0 || p[7] != 0)
        return dec_fail(d, RF_EPROTO, "reserved bytes set (%u, %u)", (unsigned)p[6],
                        (unsigned)p[7]);
    if (p[5] < 1 || p[5] > RF_FRAME_TYPE_MAX)
        return dec_fail(d, RF_EPROTO, "unknown frame type %u (max %u)", (unsigned)p[5],
                        (unsigned)RF_FRAME_TYPE_MAX);
    uint32_t len = rf_le_get32(p + 8);
    if (len > d->payload_bytes_max)
        return dec_fail(d, RF_ETOOBIG, "payload of %u bytes over the bound %u", (unsigned)len,
                        (unsigned)d->payload_bytes_max);
    *len_out = len;
    return 0;
}

int rf_frame_dec_next(rf_frame_dec *d, rf_frame *out)
{
    if (d->error)
        return -d->error;
    size_t avail = d->end - d->start;
    if (avail < RF_FRAME_HDR_BYTES)
        return 0;
    const uint8_t *p = d->buf + d->start;
    uint32_t len = 0;
    int rc = dec_check_header(d, p, &len);
    if (rc < 0)
        return rc;
    if (avail - RF_FRAME_HDR_BYTES < len)
        return 0;
    const uint8_t *payload = p + RF_FRAME_HDR_BYTES;
    uint32_t want_crc = rf_le_get32(p + 16);
    uint32_t crc = rf_crc32c(payload, len);
    if (crc != want_crc)
        return dec_fail(d, RF_ECHECKSUM, "payload checksum 0x%08x, computed 0x%08x",
                        (unsigned)want_crc, (unsigned)crc);
    out->type = p[5];
    out->payload = payload;
    out->len = len;
    d->start += RF_FRAME_HDR_BYTES + (size_t)len;
    d->frames++;
    ASSERT(d->start <= d->end);
    return 1;
}

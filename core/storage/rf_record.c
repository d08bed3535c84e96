/* rf_record: encoding and checking of log records, segment and snapshot headers. */
#include <stdio.h>
#include <string.h>

#include "base/rf_crc32c.h"
#include "base/rf_err.h"
#include "storage/rf_record.h"

static const unsigned char seg_magic[8] = {'R', 'F', 'W', 'A', 'L', 'S', 'E', 'G'};
static const unsigned char snap_magic[8] = {'R', 'F', 'S', 'N', 'A', 'P', 'S', 'H'};

uint32_t rf_walrec_seal(unsigned char *hdr, uint8_t type, uint32_t len)
{
    rf_le_put32(hdr + 4, len);
    hdr[8] = type;
    hdr[9] = RF_REC_VERSION;
    hdr[10] = 0;
    hdr[11] = 0;
    uint32_t crc = rf_crc32c(hdr + 4, (size_t)RF_REC_HDR_BYTES - 4 + len);
    rf_le_put32(hdr, crc);
    return crc;
}

int rf_walrec_check(const unsigned char *p, size_t avail, uint32_t *len_out)
{
    if (avail < RF_REC_HDR_BYTES)
        return RF_EBADMSG;
    uint32_t len = rf_le_get32(p + 4);
    if (len > avail - RF_REC_HDR_BYTES)
        return RF_EBADMSG;
    if (rf_crc32c(p + 4, (size_t)RF_REC_HDR_BYTES - 4 + len) != rf_le_get32(p))
        return RF_ECHECKSUM;
    if (p[9] != RF_REC_VERSION)
        return RF_EVERSION;
    *len_out = len;
    return RF_OK;
}

int rf_walrec_fixed_bytes(uint8_t type)
{
    switch (type) {
    case RF_REC_BATCH:
        return RF_REC_BATCH_BYTES;
    case RF_REC_HARD_STATE:
    case RF_REC_SNAPSHOT:
        return 24;
    case RF_REC_ENTRY:
        return RF_REC_ENTRY_FIXED_BYTES;
    case RF_REC_TRUNCATE:
    case RF_REC_RESET:
    case RF_REC_MEMBERSHIP:
        return 16;
    case RF_REC_DROP:
        return 8;
    default:
        return -1;
    }
}

void rf_seg_hdr_encode(unsigned char out[RF_SEG_HDR_BYTES], uint64_t seq)
{
    memset(out, 0, RF_SEG_HDR_BYTES);
    memcpy(out, seg_magic, 8);
    rf_le_put32(out + 8, RF_REC_VERSION);
    rf_le_put64(out + 16, seq);
    rf_le_put32(out + 28, rf_crc32c(out, 28));
}

int rf_seg_hdr_decode(const unsigned char in[RF_SEG_HDR_BYTES], uint64_t *seq_out)
{
    if (memcmp(in, seg_magic, 8) != 0 || rf_crc32c(in, 28) != rf_le_get32(in + 28))
        return RF_EBADMSG;
    if (rf_le_get32(in + 8) != RF_REC_VERSION)
        return RF_EVERSION;
    *seq_out = rf_le_get64(in + 16);
    return RF_OK;
}

void rf_snap_hdr_encode(unsigned char out[RF_SNAP_HDR_BYTES], const rf_snap_hdr *h)
{
    memset(out, 0, RF_SNAP_HDR_BYTES);
    memcpy(out, snap_magic, 8);
    rf_le_put32(out + 8, RF_REC_VERSION);
    rf_le_put32(out + 12, h->data_crc);
    rf_le_put64(out + 16, h->group);
    rf_le_put64(out + 24, h->index);
    rf_le_put64(out + 32, h->term);
    rf_le_put64(out + 40, h->data_bytes);
    rf_le_put32(out + 52, rf_crc32c(out, 52));
}

int rf_snap_hdr_decode(const unsigned char in[RF_SNAP_HDR_BYTES], rf_snap_hdr *h)
{
    if (memcmp(in, snap_magic, 8) != 0 || rf_crc32c(in, 52) != rf_le_get32(in + 52))
        return RF_EBADMSG;
    if (rf_le_get32(in + 8) != RF_REC_VERSION)
        return RF_EVERSION;
    h->data_crc = rf_le_get32(in + 12);
    h->group = rf_le_get64(in + 16);
    h->index = rf_le_get64(in + 24);
    h->term = rf_le_get64(in + 32);
    h->data_bytes = rf_le_get64(in + 40);
    return RF_OK;
}

void rf_seg_name(char out[RF_NAME_BYTES], uint64_t seq)
{
    snprintf(out, RF_NAME_BYTES, "wal-%016llx.log", (unsigned long long)seq);
}

void rf_snap_name(char out[RF_NAME_BYTES], uint64_t group, uint64_t index, bool tmp)
{
    snprintf(out, RF_NAME_BYTES, "snap-%016llx-%016llx.%s", (unsigned long long)group,
             (unsigned long long)index, tmp ? "tmp" : "snap");
}

/* Parses exactly 16 lower-case hex digits. */
static bool parse_hex16(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

bool rf_seg_parse(const char *name, uint64_t *seq)
{
    return strlen(name) == 24 && memcmp(name, "wal-", 4) == 0 &&
           strcmp(name + 20, ".log") == 0 && parse_hex16(name + 4, seq);
}

bool rf_snap_parse(const char *name, uint64_t *group, uint64_t *index, bool *tmp)
{
    size_t n = strlen(name);
    if (n < 38 || memcmp(name, "snap-", 5) != 0 || name[21] != '-')
        return false;
    if (strcmp(name + 38, ".snap") == 0)
        *tmp = false;
    else if (strcmp(name + 38, ".tmp") == 0)
        *tmp = true;
    else
        return false;
    return parse_hex16(name + 5, group) && parse_hex16(name + 22, index);
}

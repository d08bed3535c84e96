/* Tests of core/storage/rf_record.c and rf_batch.c: the byte layout of the log format. */
#include <check.h>
#include <string.h>

#include "base/rf_crc32c.h"
#include "base/rf_err.h"
#include "storage/rf_batch.h"
#include "storage/rf_record.h"

START_TEST(test_entry_record_layout_byte_by_byte)
{
    rf_batch b;
    rf_batch_init(&b);
    ck_assert_int_eq(rf_batch_entry(&b, 0x0102030405060708ull, 9, 10, "xyz", 3), 0);
    /* The batch header record's room (12 + 20 bytes), then the entry. */
    ck_assert_uint_eq(rf_batch_bytes(&b), 32 + 12 + 24 + 3);
    const unsigned char *r = b.buf + 32;
    ck_assert_uint_eq(rf_le_get32(r + 4), 27); /* payload bytes */
    ck_assert_uint_eq(r[8], RF_REC_ENTRY);
    ck_assert_uint_eq(r[9], RF_REC_VERSION);
    ck_assert_uint_eq(r[10], 0);
    ck_assert_uint_eq(r[11], 0);
    static const unsigned char group_le[8] = {8, 7, 6, 5, 4, 3, 2, 1};
    ck_assert(memcmp(r + 12, group_le, 8) == 0);
    ck_assert_uint_eq(rf_le_get64(r + 20), 9);
    ck_assert_uint_eq(rf_le_get64(r + 28), 10);
    ck_assert(memcmp(r + 36, "xyz", 3) == 0);
    ck_assert_uint_eq(rf_le_get32(r), rf_crc32c(r + 4, 8 + 27));
    uint32_t len;
    ck_assert_int_eq(rf_walrec_check(r, 39, &len), 0);
    ck_assert_uint_eq(len, 27);
    ck_assert_int_eq(rf_walrec_check(r, 38, &len), RF_EBADMSG);
    rf_batch_close(&b);
}
END_TEST

START_TEST(test_record_check_rejects_any_flipped_bit)
{
    rf_batch b;
    rf_batch_init(&b);
    ck_assert_int_eq(rf_batch_hard_state(&b, 1, 2, 3), 0);
    unsigned char *r = b.buf + 32;
    size_t n = 12 + 24;
    uint32_t len;
    for (size_t bit = 0; bit < n * 8; bit++) {
        r[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        ck_assert_int_ne(rf_walrec_check(r, n, &len), 0);
        r[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    ck_assert_int_eq(rf_walrec_check(r, n, &len), 0);
    rf_batch_close(&b);
}
END_TEST

START_TEST(test_unknown_version_is_refused)
{
    unsigned char r[12 + 8];
    memset(r, 0, sizeof r);
    rf_walrec_seal(r, RF_REC_DROP, 8);
    r[9] = 2;
    rf_le_put32(r, rf_crc32c(r + 4, 16));
    uint32_t len;
    ck_assert_int_eq(rf_walrec_check(r, sizeof r, &len), RF_EVERSION);
}
END_TEST

START_TEST(test_segment_and_snapshot_headers_round_trip)
{
    unsigned char h[RF_SEG_HDR_BYTES];
    rf_seg_hdr_encode(h, 77);
    ck_assert(memcmp(h, "RFWALSEG", 8) == 0);
    uint64_t seq;
    ck_assert_int_eq(rf_seg_hdr_decode(h, &seq), 0);
    ck_assert_uint_eq(seq, 77);
    h[17] ^= 1;
    ck_assert_int_eq(rf_seg_hdr_decode(h, &seq), RF_EBADMSG);
    unsigned char s[RF_SNAP_HDR_BYTES];
    rf_snap_hdr in = {.group = 5, .index = 6, .term = 7, .data_bytes = 8, .data_crc = 9}, out;
    rf_snap_hdr_encode(s, &in);
    ck_assert_int_eq(rf_snap_hdr_decode(s, &out), 0);
    ck_assert(out.group == 5 && out.index == 6 && out.term == 7 && out.data_bytes == 8 &&
              out.data_crc == 9);
    s[30] ^= 4;
    ck_assert_int_eq(rf_snap_hdr_decode(s, &out), RF_EBADMSG);
}
END_TEST

START_TEST(test_file_names_parse_back)
{
    char name[RF_NAME_BYTES];
    uint64_t a, b;
    bool tmp;
    rf_seg_name(name, 0x1f);
    ck_assert_str_eq(name, "wal-000000000000001f.log");
    ck_assert(rf_seg_parse(name, &a));
    ck_assert_uint_eq(a, 0x1f);
    rf_snap_name(name, 3, 0xabc, true);
    ck_assert_str_eq(name, "snap-0000000000000003-0000000000000abc.tmp");
    ck_assert(rf_snap_parse(name, &a, &b, &tmp));
    ck_assert(a == 3 && b == 0xabc && tmp);
    rf_snap_name(name, 3, 0xabc, false);
    ck_assert(rf_snap_parse(name, &a, &b, &tmp));
    ck_assert(!tmp);
    ck_assert(!rf_seg_parse("wal-00000000000000zz.log", &a));
    ck_assert(!rf_seg_parse("wal-1.log", &a));
    ck_assert(!rf_snap_parse("snap-0000000000000003-0000000000000abc.bak", &a, &b, &tmp));
}
END_TEST

START_TEST(test_batch_bound_refuses_without_changing_the_batch)
{
    rf_batch b;
    rf_batch_init(&b);
    static unsigned char big[RF_STORE_ENTRY_BYTES_MAX];
    uint64_t i = 1;
    int rc;
    while ((rc = rf_batch_entry(&b, 1, i, 1, big, sizeof big)) == RF_OK)
        i++;
    ck_assert_int_eq(rc, RF_ETOOBIG);
    size_t bytes = rf_batch_bytes(&b);
    ck_assert_uint_le(bytes, RF_STORE_BATCH_BYTES_MAX);
    ck_assert_uint_eq(rf_batch_records(&b), i - 1);
    ck_assert_int_eq(rf_batch_entry(&b, 1, i, 1, "x", 1), 0);
    ck_assert_uint_eq(rf_batch_bytes(&b), bytes + 12 + 24 + 1);
    rf_batch_close(&b);
}
END_TEST

Suite *storage_record_suite(void)
{
    Suite *s = suite_create("storage_record");
    TCase *tc = tcase_create("record");
    tcase_add_test(tc, test_entry_record_layout_byte_by_byte);
    tcase_add_test(tc, test_record_check_rejects_any_flipped_bit);
    tcase_add_test(tc, test_unknown_version_is_refused);
    tcase_add_test(tc, test_segment_and_snapshot_headers_round_trip);
    tcase_add_test(tc, test_file_names_parse_back);
    tcase_add_test(tc, test_batch_bound_refuses_without_changing_the_batch);
    suite_add_tcase(s, tc);
    return s;
}

/* Tests of core/base/rf_crc32c.c: the RFC 3720 vectors and a bitwise reference. */
#include <check.h>
#include <string.h>

#include "base/rf_crc32c.h"
#include "base/rf_pcg.h"

/* The definition, one bit at a time: reflected register, polynomial
 * 0x82F63B78, initial all-ones, final complement. */
static uint32_t crc32c_bitwise(const unsigned char *p, size_t len)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

START_TEST(test_crc32c_check_value_123456789)
{
    ck_assert_uint_eq(rf_crc32c("123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(rf_crc32c("", 0), 0);
}
END_TEST

START_TEST(test_crc32c_rfc3720_b4_vectors)
{
    unsigned char buf[32];
    memset(buf, 0, sizeof buf);
    ck_assert_uint_eq(rf_crc32c(buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, sizeof buf);
    ck_assert_uint_eq(rf_crc32c(buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)i;
    ck_assert_uint_eq(rf_crc32c(buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)(31 - i);
    ck_assert_uint_eq(rf_crc32c(buf, 32), 0x113FDB5Cu);
}
END_TEST

START_TEST(test_crc32c_rfc3720_b4_iscsi_read_pdu)
{
    /* RFC 3720 B.4: an iSCSI SCSI Read (10) command PDU. */
    static const unsigned char pdu[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    ck_assert_uint_eq(rf_crc32c(pdu, sizeof pdu), 0xD9963A56u);
}
END_TEST

START_TEST(test_crc32c_matches_bitwise_definition_at_every_length_and_alignment)
{
    unsigned char buf[300];
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 5, 6);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)rf_pcg32_next(&rng);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof buf; len++)
            for (int portable = 0; portable < 2; portable++)
                ck_assert_uint_eq(portable ? rf_crc32c_update_portable(0, buf + off, len)
                                           : rf_crc32c(buf + off, len),
                                  crc32c_bitwise(buf + off, len));
}
END_TEST

START_TEST(test_crc32c_update_chains_like_one_call)
{
    const char *s = "The quick brown fox jumps over the lazy dog";
    size_t n = strlen(s);
    for (size_t cut = 0; cut <= n; cut++) {
        uint32_t a = rf_crc32c(s, cut);
        ck_assert_uint_eq(rf_crc32c_update(a, s + cut, n - cut), rf_crc32c(s, n));
        ck_assert_uint_eq(rf_crc32c_update_portable(a, s + cut, n - cut), rf_crc32c(s, n));
    }
}
END_TEST

START_TEST(test_crc32c_detects_every_single_bit_flip)
{
    unsigned char buf[64];
    for (int i = 0; i < 64; i++)
        buf[i] = (unsigned char)(i * 7);
    uint32_t good = rf_crc32c(buf, sizeof buf);
    for (int bit = 0; bit < 64 * 8; bit++) {
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        ck_assert_uint_ne(rf_crc32c(buf, sizeof buf), good);
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
}
END_TEST

Suite *crc32c_suite(void)
{
    Suite *s = suite_create("crc32c");
    TCase *tc = tcase_create("crc32c");
    tcase_add_test(tc, test_crc32c_check_value_123456789);
    tcase_add_test(tc, test_crc32c_rfc3720_b4_vectors);
    tcase_add_test(tc, test_crc32c_rfc3720_b4_iscsi_read_pdu);
    tcase_add_test(tc, test_crc32c_matches_bitwise_definition_at_every_length_and_alignment);
    tcase_add_test(tc, test_crc32c_update_chains_like_one_call);
    tcase_add_test(tc, test_crc32c_detects_every_single_bit_flip);
    suite_add_tcase(s, tc);
    return s;
}

/* Tests of prod/frame.c: encoding, partial reads, pipelining, garbage, oversize, corruption. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_crc32c.h"
#include "base/rf_err.h"
#include "base/rf_pcg.h"
#include "prod/frame.h"
#include "storage/rf_record.h"

/* Three frames back to back in out; returns the total size. */
static size_t three_frames(uint8_t *out, size_t cap)
{
    size_t n = 0;
    n += rf_frame_encode(out + n, cap - n, RF_FRAME_AUTH_HELLO, "hello", 5);
    n += rf_frame_encode(out + n, cap - n, RF_FRAME_PING, NULL, 0);
    n += rf_frame_encode(out + n, cap - n, RF_FRAME_ENVELOPE, "envelope-bytes", 14);
    return n;
}

static void check_three(rf_frame_dec *d)
{
    rf_frame f;
    ck_assert_int_eq(rf_frame_dec_next(d, &f), 1);
    ck_assert_uint_eq(f.type, RF_FRAME_AUTH_HELLO);
    ck_assert_uint_eq(f.len, 5);
    ck_assert_mem_eq(f.payload, "hello", 5);
    ck_assert_int_eq(rf_frame_dec_next(d, &f), 1);
    ck_assert_uint_eq(f.type, RF_FRAME_PING);
    ck_assert_uint_eq(f.len, 0);
    ck_assert_int_eq(rf_frame_dec_next(d, &f), 1);
    ck_assert_uint_eq(f.type, RF_FRAME_ENVELOPE);
    ck_assert_uint_eq(f.len, 14);
    ck_assert_mem_eq(f.payload, "envelope-bytes", 14);
    ck_assert_int_eq(rf_frame_dec_next(d, &f), 0);
}

START_TEST(test_frame_pipelined_frames_in_one_read_all_decode)
{
    uint8_t buf[256];
    size_t n = three_frames(buf, sizeof buf);
    ck_assert_uint_eq(n, 3 * RF_FRAME_HDR_BYTES + 19);
    rf_frame_dec d;
    rf_frame_dec_init(&d, 1024);
    ck_assert_uint_eq(rf_frame_dec_feed(&d, buf, n), n);
    check_three(&d);
    ck_assert_uint_eq(d.frames, 3);
    ck_assert_uint_eq(rf_frame_dec_pending(&d), 0);
    rf_frame_dec_close(&d);
}
END_TEST

START_TEST(test_frame_one_byte_at_a_time_waits_then_decodes)
{
    uint8_t buf[256];
    size_t n = three_frames(buf, sizeof buf);
    rf_frame_dec d;
    rf_frame_dec_init(&d, 1024);
    rf_frame f;
    int got = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(rf_frame_dec_feed(&d, buf + i, 1), 1);
        int rc;
        while ((rc = rf_frame_dec_next(&d, &f)) == 1)
            got++;
        ck_assert_int_eq(rc, 0);
    }
    ck_assert_int_eq(got, 3);
    ck_assert_int_eq(d.error, 0);
    rf_frame_dec_close(&d);
}
END_TEST

/* Random splits of a long valid stream give the same frames in order. */
START_TEST(test_frame_random_splits_give_the_same_frames)
{
    enum { FRAMES = 200 };
    size_t cap = FRAMES * (RF_FRAME_HDR_BYTES + 300);
    uint8_t *stream = malloc(cap);
    uint8_t payload[300];
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 9, 1);
    size_t n = 0;
    uint32_t lens[FRAMES];
    for (int i = 0; i < FRAMES; i++) {
        lens[i] = rf_pcg32_bounded(&rng, 300);
        memset(payload, i & 0xff, lens[i]);
        n += rf_frame_encode(stream + n, cap - n, RF_FRAME_ENVELOPE, payload, lens[i]);
    }
    rf_frame_dec d;
    rf_frame_dec_init(&d, 300);
    size_t off = 0;
    int seen = 0;
    while (off < n) {
        size_t piece = 1 + rf_pcg32_bounded(&rng, 700);
        if (piece > n - off)
            piece = n - off;
        size_t took = rf_frame_dec_feed(&d, stream + off, piece);
        off += took;
        rf_frame f;
        while (rf_frame_dec_next(&d, &f) == 1) {
            ck_assert_uint_eq(f.len, lens[seen]);
            for (uint32_t k = 0; k < f.len; k++)
                ck_assert_uint_eq(f.payload[k], (unsigned)(seen & 0xff));
            seen++;
        }
        ck_assert_uint_le(d.cap, RF_FRAME_HDR_BYTES + 300);
    }
    ck_assert_int_eq(seen, FRAMES);
    rf_frame_dec_close(&d);
    free(stream);
}
END_TEST

START_TEST(test_frame_garbage_is_bad_magic_and_sticky)
{
    const char *garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    rf_frame_dec d;
    rf_frame_dec_init(&d, 1024);
    ck_assert_uint_eq(rf_frame_dec_feed(&d, garbage, strlen(garbage)), strlen(garbage));
    rf_frame f;
    ck_assert_int_eq(rf_frame_dec_next(&d, &f), -RF_EPROTO);
    ck_assert_ptr_nonnull(strstr(d.reason, "bad magic"));
    /* Failed for good: nothing more is taken or decoded. */
    uint8_t ok[64];
    size_t n = rf_frame_encode(ok, sizeof ok, RF_FRAME_PING, NULL, 0);
    ck_assert_uint_eq(rf_frame_dec_feed(&d, ok, n), 0);
    ck_assert_int_eq(rf_frame_dec_next(&d, &f), -RF_EPROTO);
    rf_frame_dec_close(&d);
}
END_TEST

START_TEST(test_frame_oversize_refused_from_the_header_alone)
{
    static uint8_t payload[2048];
    uint8_t hdr[RF_FRAME_HDR_BYTES];
    rf_frame_header(hdr, RF_FRAME_ENVELOPE, payload, sizeof payload);
    rf_frame_dec d;
    rf_frame_dec_init(&d, 1024);
    ck_assert_uint_eq(rf_frame_dec_feed(&d, hdr, sizeof hdr), sizeof hdr);
    rf_frame f;
    ck_assert_int_eq(rf_frame_dec_next(&d, &f), -RF_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(d.reason, "2048"));
    ck_assert_uint_le(d.cap, RF_FRAME_HDR_BYTES + 1024);
    rf_frame_dec_close(&d);
}
END_TEST

START_TEST(test_frame_flipped_payload_bit_is_checksum_error)
{
    uint8_t buf[64];
    size_t n = rf_frame_encode(buf, sizeof buf, RF_FRAME_ENVELOPE, "abcdef", 6);
    buf[n - 2] ^= 0x10;
    rf_frame_dec d;
    rf_frame_dec_init(&d, 1024);
    rf_frame_dec_feed(&d, buf, n);
    rf_frame f;
    ck_assert_int_eq(rf_frame_dec_next(&d, &f), -RF_ECHECKSUM);
    ck_assert_ptr_nonnull(strstr(d.reason, "payload"));
    rf_frame_dec_close(&d);
}
END_TEST

/* A corrupted length is caught by the header checksum at once, without
 * waiting for the bytes it claims. */
START_TEST(test_frame_corrupted_length_is_header_checksum_error)
{
    uint8_t buf[64];
    size_t n = rf_frame_encode(buf, sizeof buf, RF_FRAME_ENVELOPE, "abcdef", 6);
    buf[8] = 200;
    rf_frame_dec d;
    rf_frame_dec_init(&d, 1024);
    rf_frame_dec_feed(&d, buf, n);
    rf_frame f;
    ck_assert_int_eq(rf_frame_dec_next(&d, &f), -RF_ECHECKSUM);
    ck_assert_ptr_nonnull(strstr(d.reason, "header"));
    rf_frame_dec_close(&d);
}
END_TEST

/* Re-seals a header after editing it, as a peer of another build would. */
static void reseal(uint8_t *hdr)
{
    rf_le_put32(hdr + 12, rf_crc32c(hdr, 12));
}

START_TEST(test_frame_unknown_version_type_and_reserved_refused)
{
    rf_frame f;
    rf_frame_dec d;
    uint8_t buf[64];
    size_t n;

    n = rf_frame_encode(buf, sizeof buf, RF_FRAME_PING, NULL, 0);
    buf[4] = 2;
    reseal(buf);
    rf_frame_dec_init(&d, 64);
    rf_frame_dec_feed(&d, buf, n);
    ck_assert_int_eq(rf_frame_dec_next(&d, &f), -RF_EVERSION);
    rf_frame_dec_close(&d);

    n = rf_frame_encode(buf, sizeof buf, RF_FRAME_PING, NULL, 0);
    buf[5] = RF_FRAME_TYPE_MAX + 1;
    reseal(buf);
    rf_frame_dec_init(&d, 64);
    rf_frame_dec_feed(&d, buf, n);
    ck_assert_int_eq(rf_frame_dec_next(&d, &f), -RF_EPROTO);
    ck_assert_ptr_nonnull(strstr(d.reason, "type"));
    rf_frame_dec_close(&d);

    n = rf_frame_encode(buf, sizeof buf, RF_FRAME_PING, NULL, 0);
    buf[7] = 1;
    reseal(buf);
    rf_frame_dec_init(&d, 64);
    rf_frame_dec_feed(&d, buf, n);
    ck_assert_int_eq(rf_frame_dec_next(&d, &f), -RF_EPROTO);
    ck_assert_ptr_nonnull(strstr(d.reason, "reserved"));
    rf_frame_dec_close(&d);
}
END_TEST

/* With the buffer full of undelivered frames, feed takes nothing more
 * until the caller drains them: memory stays bounded. */
START_TEST(test_frame_full_buffer_takes_no_more_until_drained)
{
    uint8_t payload[40] = {0};
    uint8_t buf[4 * (RF_FRAME_HDR_BYTES + 40)];
    size_t n = 0;
    for (int i = 0; i < 4; i++)
        n += rf_frame_encode(buf + n, sizeof buf - n, RF_FRAME_ENVELOPE, payload, 40);
    rf_frame_dec d;
    rf_frame_dec_init(&d, 40); /* room for exactly one frame */
    size_t off = rf_frame_dec_feed(&d, buf, n);
    ck_assert_uint_eq(off, RF_FRAME_HDR_BYTES + 40);
    ck_assert_uint_eq(rf_frame_dec_feed(&d, buf + off, n - off), 0);
    int got = 0;
    rf_frame f;
    while (off < n || rf_frame_dec_pending(&d)) {
        while (rf_frame_dec_next(&d, &f) == 1)
            got++;
        off += rf_frame_dec_feed(&d, buf + off, n - off);
    }
    ck_assert_int_eq(got, 4);
    rf_frame_dec_close(&d);
}
END_TEST

/* Random bytes never crash the decoder; it either waits or fails cleanly. */
START_TEST(test_frame_random_garbage_fails_cleanly)
{
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 77, 3);
    uint8_t junk[512];
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (uint8_t)rf_pcg32_next(&rng);
        if (round % 2) /* a valid magic, so the later checks are reached */
            rf_le_put32(junk, RF_FRAME_MAGIC);
        rf_frame_dec d;
        rf_frame_dec_init(&d, 256);
        rf_frame_dec_feed(&d, junk, sizeof junk);
        rf_frame f;
        int rc = rf_frame_dec_next(&d, &f);
        ck_assert_int_lt(rc, 0);
        ck_assert_int_eq(d.error, -rc);
        ck_assert_int_ne(d.reason[0], '\0');
        rf_frame_dec_close(&d);
    }
}
END_TEST

Suite *prod_frame_suite(void)
{
    Suite *s = suite_create("prod_frame");
    TCase *tc = tcase_create("frame");
    tcase_add_test(tc, test_frame_pipelined_frames_in_one_read_all_decode);
    tcase_add_test(tc, test_frame_one_byte_at_a_time_waits_then_decodes);
    tcase_add_test(tc, test_frame_random_splits_give_the_same_frames);
    tcase_add_test(tc, test_frame_garbage_is_bad_magic_and_sticky);
    tcase_add_test(tc, test_frame_oversize_refused_from_the_header_alone);
    tcase_add_test(tc, test_frame_flipped_payload_bit_is_checksum_error);
    tcase_add_test(tc, test_frame_corrupted_length_is_header_checksum_error);
    tcase_add_test(tc, test_frame_unknown_version_type_and_reserved_refused);
    tcase_add_test(tc, test_frame_full_buffer_takes_no_more_until_drained);
    tcase_add_test(tc, test_frame_random_garbage_fails_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

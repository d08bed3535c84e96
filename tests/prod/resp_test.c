/* Tests of prod/resp.c: multibulk and inline requests, partial reads, pipelining, garbage, bounds, replies. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "base/rf_pcg.h"
#include "prod/resp.h"

static void feed_all(rf_resp_parser *p, const char *s, size_t len)
{
    ck_assert_uint_eq(rf_resp_feed(p, s, len), len);
}

START_TEST(test_resp_multibulk_request_parsed)
{
    rf_resp_parser p;
    rf_resp_parser_init(&p);
    const char *req = "*3\r\n$9\r\nFLEET.CMD\r\n$2\r\ng1\r\n$3\r\ninc\r\n";
    feed_all(&p, req, strlen(req));
    rf_resp_cmd c;
    ck_assert_int_eq(rf_resp_next(&p, &c), 1);
    ck_assert_uint_eq(c.argc, 3);
    ck_assert_str_eq(c.argv[0], "FLEET.CMD");
    ck_assert_str_eq(c.argv[1], "g1");
    ck_assert_str_eq(c.argv[2], "inc");
    ck_assert_uint_eq(c.argl[2], 3);
    ck_assert_int_eq(rf_resp_next(&p, &c), 0);
    ck_assert_uint_eq(rf_resp_pending(&p), 0);
    rf_resp_parser_close(&p);
}
END_TEST

START_TEST(test_resp_binary_bulk_keeps_nul_and_crlf)
{
    rf_resp_parser p;
    rf_resp_parser_init(&p);
    const char req[] = "*2\r\n$4\r\nECHO\r\n$5\r\na\0\r\nb\r\n";
    feed_all(&p, req, sizeof req - 1);
    rf_resp_cmd c;
    ck_assert_int_eq(rf_resp_next(&p, &c), 1);
    ck_assert_uint_eq(c.argl[1], 5);
    ck_assert_mem_eq(c.argv[1], "a\0\r\nb", 5);
    rf_resp_parser_close(&p);
}
END_TEST

START_TEST(test_resp_byte_at_a_time_then_whole)
{
    rf_resp_parser p;
    rf_resp_parser_init(&p);
    const char *req = "*2\r\n$4\r\nPING\r\n$5\r\nhello\r\nPING inline\r\n";
    size_t n = strlen(req);
    rf_resp_cmd c;
    int got = 0;
    for (size_t i = 0; i < n; i++) {
        feed_all(&p, req + i, 1);
        int rc;
        while ((rc = rf_resp_next(&p, &c)) == 1) {
            got++;
            ck_assert_uint_eq(c.argc, 2);
            ck_assert_str_eq(c.argv[0], "PING");
            ck_assert_str_eq(c.argv[1], got == 1 ? "hello" : "inline");
        }
        ck_assert_int_eq(rc, 0);
    }
    ck_assert_int_eq(got, 2);
    rf_resp_parser_close(&p);
}
END_TEST

/* Many requests in one read, as redis-benchmark -P sends them, split at
 * random points across reads. */
START_TEST(test_resp_pipelined_requests_random_splits)
{
    enum { N = 500 };
    char *stream = malloc(N * 64);
    size_t n = 0;
    for (int i = 0; i < N; i++)
        n += (size_t)sprintf(stream + n, "*3\r\n$9\r\nFLEET.CMD\r\n$%d\r\ng%d\r\n$3\r\ninc\r\n",
                             i < 10 ? 2 : i < 100 ? 3 : 4, i);
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 5, 5);
    rf_resp_parser p;
    rf_resp_parser_init(&p);
    size_t off = 0;
    int seen = 0;
    while (off < n) {
        size_t piece = 1 + rf_pcg32_bounded(&rng, 300);
        if (piece > n - off)
            piece = n - off;
        off += rf_resp_feed(&p, stream + off, piece);
        rf_resp_cmd c;
        while (rf_resp_next(&p, &c) == 1) {
            char want[16];
            sprintf(want, "g%d", seen);
            ck_assert_str_eq(c.argv[1], want);
            seen++;
        }
    }
    ck_assert_int_eq(seen, N);
    ck_assert_uint_eq(p.requests, N);
    rf_resp_parser_close(&p);
    free(stream);
}
END_TEST

START_TEST(test_resp_inline_words_and_empty_lines)
{
    rf_resp_parser p;
    rf_resp_parser_init(&p);
    const char *req = "\r\n   \n  FLEET.CMD\tg1  set 5 \r\n*0\r\n*-1\r\nQUIT\n";
    feed_all(&p, req, strlen(req));
    rf_resp_cmd c;
    ck_assert_int_eq(rf_resp_next(&p, &c), 1);
    ck_assert_uint_eq(c.argc, 4);
    ck_assert_str_eq(c.argv[0], "FLEET.CMD");
    ck_assert_str_eq(c.argv[1], "g1");
    ck_assert_str_eq(c.argv[2], "set");
    ck_assert_str_eq(c.argv[3], "5");
    ck_assert_int_eq(rf_resp_next(&p, &c), 1);
    ck_assert_uint_eq(c.argc, 1);
    ck_assert_str_eq(c.argv[0], "QUIT");
    ck_assert_int_eq(rf_resp_next(&p, &c), 0);
    rf_resp_parser_close(&p);
}
END_TEST

/* Each malformed input gives a protocol error with Redis's wording, and
 * the parser stays failed. */
START_TEST(test_resp_garbage_is_protocol_error)
{
    static const struct {
        const char *in;
        const char *reason;
    } cases[] = {
        {"*abc\r\n", "invalid multibulk length"},
        {"*1025\r\n", "invalid multibulk length"},
        {"*99999999999999999\r\n", "invalid multibulk length"},
        {"*1\r\n+PING\r\n", "expected '$', got '+'"},
        {"*1\r\n$-5\r\n", "invalid bulk length"},
        {"*1\r\n$262145\r\n", "invalid bulk length"},
        {"*1\r\n$x\r\n", "invalid bulk length"},
        {"*1\r\n$4\r\nPINGxx", "not followed by CRLF"},
        {"*12345678901234567890123456789012345", "invalid multibulk length"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rf_resp_parser p;
        rf_resp_parser_init(&p);
        feed_all(&p, cases[i].in, strlen(cases[i].in));
        rf_resp_cmd c;
        ck_assert_int_eq(rf_resp_next(&p, &c), -RF_EPROTO);
        ck_assert_msg(strstr(p.reason, cases[i].reason) != NULL, "case %zu: %s", i, p.reason);
        ck_assert_ptr_nonnull(strstr(p.reason, "Protocol error"));
        ck_assert_uint_eq(rf_resp_feed(&p, "PING\r\n", 6), 0);
        ck_assert_int_eq(rf_resp_next(&p, &c), -RF_EPROTO);
        rf_resp_parser_close(&p);
    }
}
END_TEST

START_TEST(test_resp_inline_without_newline_is_bounded)
{
    size_t n = RF_RESP_INLINE_BYTES_MAX + 10;
    char *junk = malloc(n);
    memset(junk, 'x', n);
    rf_resp_parser p;
    rf_resp_parser_init(&p);
    feed_all(&p, junk, n);
    rf_resp_cmd c;
    ck_assert_int_eq(rf_resp_next(&p, &c), -RF_EPROTO);
    ck_assert_ptr_nonnull(strstr(p.reason, "too big inline request"));
    rf_resp_parser_close(&p);
    free(junk);
}
END_TEST

/* A request bigger than the query buffer: feed stops taking bytes at the
 * bound and the parser fails instead of growing. */
START_TEST(test_resp_request_over_query_bound_refused)
{
    size_t bulk = RF_RESP_BULK_BYTES_MAX;
    rf_resp_parser p;
    rf_resp_parser_init(&p);
    const char *head = "*5\r\n";
    feed_all(&p, head, strlen(head));
    char *body = malloc(bulk + 32);
    int h = sprintf(body, "$%zu\r\n", bulk);
    memset(body + h, 'v', bulk);
    memcpy(body + h + bulk, "\r\n", 2);
    size_t one = (size_t)h + bulk + 2;
    size_t taken_total = 0;
    rf_resp_cmd c;
    int rc = 0;
    for (int i = 0; i < 5 && rc == 0; i++) {
        size_t took = rf_resp_feed(&p, body, one);
        taken_total += took;
        rc = rf_resp_next(&p, &c);
        if (took < one)
            break;
    }
    ck_assert_int_eq(rc, -RF_EPROTO);
    ck_assert_ptr_nonnull(strstr(p.reason, "request over"));
    ck_assert_uint_le(p.cap, RF_RESP_QUERY_BYTES_MAX);
    ck_assert_uint_le(taken_total + strlen(head), RF_RESP_QUERY_BYTES_MAX);
    rf_resp_parser_close(&p);
    free(body);
}
END_TEST

START_TEST(test_resp_reply_encodings)
{
    rf_resp_out o;
    rf_resp_out_init(&o);
    rf_resp_simple(&o, "OK");
    rf_resp_error(&o, "ERR bad\r\nthing");
    rf_resp_int(&o, -42);
    rf_resp_bulk(&o, "a\0b", 3);
    rf_resp_null(&o);
    rf_resp_array(&o, 2);
    rf_resp_bulk_str(&o, "");
    rf_resp_errorf(&o, "no_leader group %s", "g1");
    const char want[] = "+OK\r\n-ERR bad  thing\r\n:-42\r\n$3\r\na\0b\r\n$-1\r\n*2\r\n$0\r\n\r\n"
                        "-no_leader group g1\r\n";
    ck_assert_uint_eq(o.len, sizeof want - 1);
    ck_assert_mem_eq(o.buf, want, sizeof want - 1);
    ck_assert(!o.overflow);
    rf_resp_out_reset(&o);
    ck_assert_uint_eq(o.len, 0);
    rf_resp_out_close(&o);
}
END_TEST

START_TEST(test_resp_reply_buffer_bounded)
{
    rf_resp_out o;
    rf_resp_out_init(&o);
    char *big = calloc(1, 1u << 20);
    for (int i = 0; i < 9 && !o.overflow; i++)
        rf_resp_bulk(&o, big, 1u << 20);
    ck_assert(o.overflow);
    ck_assert_uint_le(o.len, RF_RESP_OUT_BYTES_MAX);
    size_t len = o.len;
    rf_resp_simple(&o, "OK"); /* nothing more once overflowed */
    ck_assert_uint_eq(o.len, len);
    rf_resp_out_close(&o);
    free(big);
}
END_TEST

Suite *prod_resp_suite(void)
{
    Suite *s = suite_create("prod_resp");
    TCase *tc = tcase_create("resp");
    tcase_add_test(tc, test_resp_multibulk_request_parsed);
    tcase_add_test(tc, test_resp_binary_bulk_keeps_nul_and_crlf);
    tcase_add_test(tc, test_resp_byte_at_a_time_then_whole);
    tcase_add_test(tc, test_resp_pipelined_requests_random_splits);
    tcase_add_test(tc, test_resp_inline_words_and_empty_lines);
    tcase_add_test(tc, test_resp_garbage_is_protocol_error);
    tcase_add_test(tc, test_resp_inline_without_newline_is_bounded);
    tcase_add_test(tc, test_resp_request_over_query_bound_refused);
    tcase_add_test(tc, test_resp_reply_encodings);
    tcase_add_test(tc, test_resp_reply_buffer_bounded);
    suite_add_tcase(s, tc);
    return s;
}

/* Tests of prod/auth.c: right secret passes, wrong secret, replay and reflection refused, secret files. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/rf_err.h"
#include "prod/auth.h"
#include "prod/frame.h"

#define SECRET "correct horse battery staple"
#define OTHER "incorrect pony battery stapler"

/* Messages in flight one way, delivered in order. */
typedef struct pipe_q {
    rf_auth_out msgs[8];
    int head, tail;
} pipe_q;

static void push(pipe_q *q, const rf_auth_out *o)
{
    if (o->type == 0)
        return;
    ck_assert_int_lt(q->tail, 8);
    q->msgs[q->tail++] = *o;
}

/* Runs two ends until nothing is in flight; the first error of each end is
 * kept in rc_a / rc_b. The wire goes through the frame codec. */
static void pump(rf_auth *a, rf_auth *b, pipe_q *to_a, pipe_q *to_b, int *rc_a, int *rc_b)
{
    for (int round = 0; round < 16; round++) {
        bool moved = false;
        pipe_q *qs[2] = {to_a, to_b};
        rf_auth *ends[2] = {a, b};
        pipe_q *back[2] = {to_b, to_a};
        int *rcs[2] = {rc_a, rc_b};
        for (int i = 0; i < 2; i++) {
            while (qs[i]->head < qs[i]->tail) {
                rf_auth_out *m = &qs[i]->msgs[qs[i]->head++];
                uint8_t wire[RF_FRAME_HDR_BYTES + RF_AUTH_PAYLOAD_BYTES_MAX];
                size_t n = rf_frame_encode(wire, sizeof wire, m->type, m->buf, m->len);
                rf_frame_dec d;
                rf_frame_dec_init(&d, RF_FRAME_AUTH_PAYLOAD_BYTES_MAX);
                ck_assert_uint_eq(rf_frame_dec_feed(&d, wire, n), n);
                rf_frame f;
                ck_assert_int_eq(rf_frame_dec_next(&d, &f), 1);
                rf_auth_out reply;
                int rc = rf_auth_recv(ends[i], f.type, f.payload, f.len, &reply);
                rf_frame_dec_close(&d);
                if (rc != RF_OK && *rcs[i] == RF_OK)
                    *rcs[i] = rc;
                push(back[i], &reply);
                moved = true;
            }
        }
        if (!moved)
            return;
    }
    ck_abort_msg("exchange did not settle");
}

static void run_pair(rf_auth *a, rf_auth *b, const char *secret_a, const char *secret_b,
                     int *rc_a, int *rc_b)
{
    pipe_q to_a = {0}, to_b = {0};
    rf_auth_out out;
    ck_assert_int_eq(rf_auth_start(a, secret_a, strlen(secret_a), 1, "n1", 0, &out), RF_OK);
    push(&to_b, &out);
    ck_assert_int_eq(rf_auth_start(b, secret_b, strlen(secret_b), 2, "n2", 1, &out), RF_OK);
    push(&to_a, &out);
    *rc_a = *rc_b = RF_OK;
    pump(a, b, &to_a, &to_b, rc_a, rc_b);
}

START_TEST(test_auth_right_secret_both_sides_done)
{
    rf_auth a, b;
    int rc_a, rc_b;
    run_pair(&a, &b, SECRET, SECRET, &rc_a, &rc_b);
    ck_assert_int_eq(rc_a, RF_OK);
    ck_assert_int_eq(rc_b, RF_OK);
    ck_assert(rf_auth_done(&a));
    ck_assert(rf_auth_done(&b));
    ck_assert_uint_eq(a.peer_id, 2);
    ck_assert_str_eq(a.peer_name, "n2");
    ck_assert_uint_eq(b.peer_id, 1);
    ck_assert_str_eq(b.peer_name, "n1");
    rf_auth_close(&a);
    rf_auth_close(&b);
    /* Close wipes the secret. */
    ck_assert_uint_eq(a.secret_len, 0);
    for (size_t i = 0; i < sizeof a.secret; i++)
        ck_assert_uint_eq(a.secret[i], 0);
}
END_TEST

START_TEST(test_auth_wrong_secret_refused_both_ways_without_leaking_it)
{
    rf_auth a, b;
    int rc_a, rc_b;
    run_pair(&a, &b, SECRET, OTHER, &rc_a, &rc_b);
    ck_assert_int_eq(rc_a, RF_EAUTH);
    ck_assert_int_eq(rc_b, RF_EAUTH);
    ck_assert(!rf_auth_done(&a));
    ck_assert(!rf_auth_done(&b));
    ck_assert_int_eq(a.state, RF_AUTH_FAILED);
    ck_assert_ptr_nonnull(strstr(a.reason, "wrong proof"));
    ck_assert_ptr_null(strstr(a.reason, SECRET));
    ck_assert_ptr_null(strstr(b.reason, OTHER));
    rf_auth_close(&a);
    rf_auth_close(&b);
}
END_TEST

/* An eavesdropper records a valid HELLO and PROOF of n2, then replays them
 * on a new connection to n1: n1's fresh nonce makes the old proof fail. */
START_TEST(test_auth_replayed_proof_refused)
{
    rf_auth a, b;
    rf_auth_out hello_b, proof_b, out;
    ck_assert_int_eq(rf_auth_start(&a, SECRET, strlen(SECRET), 1, "n1", 0, &out), RF_OK);
    ck_assert_int_eq(rf_auth_start(&b, SECRET, strlen(SECRET), 2, "n2", 0, &hello_b), RF_OK);
    ck_assert_int_eq(rf_auth_recv(&b, out.type, out.buf, out.len, &proof_b), RF_OK);
    ck_assert_int_eq(proof_b.type, RF_FRAME_AUTH_PROOF);
    ck_assert_int_eq(rf_auth_recv(&a, hello_b.type, hello_b.buf, hello_b.len, &out), RF_OK);
    ck_assert_int_eq(rf_auth_recv(&a, proof_b.type, proof_b.buf, proof_b.len, &out), RF_OK);
    ck_assert_int_eq(out.buf[0], 1); /* the original proof was good */
    rf_auth_close(&a);
    rf_auth_close(&b);

    /* Second connection: only the recorded bytes, no secret. */
    rf_auth a2;
    ck_assert_int_eq(rf_auth_start(&a2, SECRET, strlen(SECRET), 1, "n1", 0, &out), RF_OK);
    ck_assert_int_eq(rf_auth_recv(&a2, hello_b.type, hello_b.buf, hello_b.len, &out), RF_OK);
    ck_assert_int_eq(rf_auth_recv(&a2, proof_b.type, proof_b.buf, proof_b.len, &out), RF_EAUTH);
    ck_assert_int_eq(out.type, RF_FRAME_AUTH_RESULT);
    ck_assert_int_eq(out.buf[0], 0);
    ck_assert(!rf_auth_done(&a2));
    rf_auth_close(&a2);
}
END_TEST

/* An attacker claiming to be node 7 gets n1's proof for it, then sends that
 * proof back as its own: the proof names n1 as prover, so it fails. */
START_TEST(test_auth_reflected_proof_refused)
{
    rf_auth a;
    rf_auth_out out, proof_a;
    ck_assert_int_eq(rf_auth_start(&a, SECRET, strlen(SECRET), 1, "n1", 0, &out), RF_OK);
    uint8_t hello[RF_AUTH_PAYLOAD_BYTES_MAX];
    hello[0] = RF_AUTH_VERSION;
    memset(hello + 1, 0, 8);
    hello[1] = 7;
    memset(hello + 9, 0x5a, RF_AUTH_NONCE_BYTES);
    hello[9 + RF_AUTH_NONCE_BYTES] = 2;
    memcpy(hello + 10 + RF_AUTH_NONCE_BYTES, "n7", 2);
    uint32_t hlen = 12 + RF_AUTH_NONCE_BYTES;
    ck_assert_int_eq(rf_auth_recv(&a, RF_FRAME_AUTH_HELLO, hello, hlen, &proof_a), RF_OK);
    ck_assert_int_eq(rf_auth_recv(&a, RF_FRAME_AUTH_PROOF, proof_a.buf, proof_a.len, &out),
                     RF_EAUTH);
    rf_auth_close(&a);
}
END_TEST

START_TEST(test_auth_identity_checks)
{
    rf_auth a, b;
    rf_auth_out out, hello_b;
    /* A peer claiming our own id. */
    ck_assert_int_eq(rf_auth_start(&a, SECRET, strlen(SECRET), 1, "n1", 0, &out), RF_OK);
    ck_assert_int_eq(rf_auth_start(&b, SECRET, strlen(SECRET), 1, "n1b", 0, &hello_b), RF_OK);
    ck_assert_int_eq(rf_auth_recv(&a, hello_b.type, hello_b.buf, hello_b.len, &out), RF_EAUTH);
    rf_auth_close(&a);
    rf_auth_close(&b);
    /* A peer other than the one dialled. */
    ck_assert_int_eq(rf_auth_start(&a, SECRET, strlen(SECRET), 1, "n1", 3, &out), RF_OK);
    ck_assert_int_eq(rf_auth_start(&b, SECRET, strlen(SECRET), 2, "n2", 0, &hello_b), RF_OK);
    ck_assert_int_eq(rf_auth_recv(&a, hello_b.type, hello_b.buf, hello_b.len, &out), RF_EAUTH);
    ck_assert_ptr_nonnull(strstr(a.reason, "expected node 3"));
    rf_auth_close(&a);
    rf_auth_close(&b);
    /* Bad own setup. */
    ck_assert_int_eq(rf_auth_start(&a, "short", 5, 1, "n1", 0, &out), RF_EINVAL);
    ck_assert_int_eq(out.type, 0);
    ck_assert_int_eq(rf_auth_start(&a, SECRET, strlen(SECRET), 0, "n1", 0, &out), RF_EINVAL);
    ck_assert_int_eq(rf_auth_start(&a, SECRET, strlen(SECRET), 1, "bad name", 0, &out),
                     RF_EINVAL);
}
END_TEST

START_TEST(test_auth_malformed_or_early_frames_are_protocol_errors)
{
    rf_auth a;
    rf_auth_out out;
    ck_assert_int_eq(rf_auth_start(&a, SECRET, strlen(SECRET), 1, "n1", 0, &out), RF_OK);
    ck_assert_int_eq(rf_auth_recv(&a, RF_FRAME_ENVELOPE, (const uint8_t *)"x", 1, &out),
                     RF_EPROTO);
    ck_assert_int_eq(a.state, RF_AUTH_FAILED);
    /* Failed for good. */
    ck_assert_int_eq(rf_auth_recv(&a, RF_FRAME_AUTH_HELLO, (const uint8_t *)"x", 1, &out),
                     RF_EAUTH);
    rf_auth_close(&a);

    ck_assert_int_eq(rf_auth_start(&a, SECRET, strlen(SECRET), 1, "n1", 0, &out), RF_OK);
    ck_assert_int_eq(rf_auth_recv(&a, RF_FRAME_AUTH_HELLO, (const uint8_t *)"short", 5, &out),
                     RF_EPROTO);
    rf_auth_close(&a);

    ck_assert_int_eq(rf_auth_start(&a, SECRET, strlen(SECRET), 1, "n1", 0, &out), RF_OK);
    uint8_t mac[RF_AUTH_MAC_BYTES] = {0};
    ck_assert_int_eq(rf_auth_recv(&a, RF_FRAME_AUTH_PROOF, mac, sizeof mac, &out), RF_EPROTO);
    rf_auth_close(&a);
}
END_TEST

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/rf-auth-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/secret", dir);
    unlink(p);
    rmdir(dir);
}

static void write_secret(const char *text, mode_t mode)
{
    char p[128];
    snprintf(p, sizeof p, "%s/secret", dir);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(p, mode), 0);
}

START_TEST(test_auth_secret_file_rules)
{
    char p[128], err[256];
    uint8_t buf[64];
    size_t len = 99;
    snprintf(p, sizeof p, "%s/secret", dir);
    ck_assert_int_eq(rf_auth_read_secret_file(p, buf, sizeof buf, &len, err, sizeof err),
                     RF_ENOTFOUND);

    write_secret(SECRET "\n", 0600);
    ck_assert_int_eq(rf_auth_read_secret_file(p, buf, sizeof buf, &len, err, sizeof err), RF_OK);
    ck_assert_uint_eq(len, strlen(SECRET));
    ck_assert_mem_eq(buf, SECRET, len);

    write_secret(SECRET "\n", 0644);
    ck_assert_int_eq(rf_auth_read_secret_file(p, buf, sizeof buf, &len, err, sizeof err),
                     RF_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
    ck_assert_ptr_null(strstr(err, SECRET));

    write_secret("tooshort\n", 0600);
    ck_assert_int_eq(rf_auth_read_secret_file(p, buf, sizeof buf, &len, err, sizeof err),
                     RF_EINVAL);
    ck_assert_ptr_null(strstr(err, "tooshort"));

    write_secret(SECRET SECRET SECRET, 0600); /* 84 bytes into 64 */
    ck_assert_int_eq(rf_auth_read_secret_file(p, buf, sizeof buf, &len, err, sizeof err),
                     RF_EINVAL);
    ck_assert_uint_eq(len, 0);
}
END_TEST

Suite *prod_auth_suite(void)
{
    Suite *s = suite_create("prod_auth");
    TCase *tc = tcase_create("exchange");
    tcase_add_test(tc, test_auth_right_secret_both_sides_done);
    tcase_add_test(tc, test_auth_wrong_secret_refused_both_ways_without_leaking_it);
    tcase_add_test(tc, test_auth_replayed_proof_refused);
    tcase_add_test(tc, test_auth_reflected_proof_refused);
    tcase_add_test(tc, test_auth_identity_checks);
    tcase_add_test(tc, test_auth_malformed_or_early_frames_are_protocol_errors);
    suite_add_tcase(s, tc);
    TCase *tf = tcase_create("secret_file");
    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_add_test(tf, test_auth_secret_file_rules);
    suite_add_tcase(s, tf);
    return s;
}

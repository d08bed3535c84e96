/* Tests of sim/history_jsonl*.c: the JSON-lines client history format. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/history.h"
#include "sim/history_jsonl.h"
#include "sim/linz.h"
#include "tests/sim/linz_gen.h"

#define NR RF_HISTORY_NO_RETURN

static void add(rf_history *h, uint64_t client, rf_op_kind kind, const char *in, size_t in_len,
                rf_op_status st, const char *reply, size_t reply_len, uint64_t call, uint64_t ret)
{
    rf_op op = {.client = client, .kind = kind, .status = st, .call_ns = call, .return_ns = ret,
                .input = (uint8_t *)in, .input_len = in_len, .reply = (uint8_t *)reply,
                .reply_len = reply_len};
    ck_assert_int_eq(rf_history_append(h, &op), RF_OK);
}
static size_t len_or_0(const char *s) { return s != NULL ? strlen(s) : 0; }
#define ADD(h, c, k, in, st, reply, call, ret) \
    add(h, c, k, in, strlen(in), st, reply, len_or_0(reply), call, ret)

/* Writes h to a string (caller frees). */
static char *write_str(const rf_history *h)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(rf_history_jsonl_write(f, h), RF_OK);
    fclose(f);
    return text;
}

static int read_str(const char *text, rf_history_set *set, char *err, size_t cap)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    int rc = rf_history_jsonl_read(f, "h.jsonl", set, err, cap);
    fclose(f);
    return rc;
}

START_TEST(test_jsonl_writes_exactly_the_design_format)
{
    rf_history h;
    ck_assert_int_eq(rf_history_init(&h, "g1"), RF_OK);
    ADD(&h, 3, RF_OP_COMMAND, "inc", RF_OP_OK, "41", 1200000, 1350000);
    ADD(&h, 4, RF_OP_COMMAND, "set 5", RF_OP_UNKNOWN, NULL, 1300000, 1400000); /* gave up */
    ADD(&h, 5, RF_OP_QUERY, "get", RF_OP_FAIL, "error: no leader", 1400000, 1500000);
    ADD(&h, 6, RF_OP_COMMAND, "put k v w", RF_OP_OK, "ok", 1, 2);
    ADD(&h, 6, RF_OP_COMMAND, "set 007", RF_OP_OK, "-0", 3, 4);
    char *text = write_str(&h);
    ck_assert_str_eq(text,
        "{\"group\":\"g1\",\"client\":3,\"kind\":\"command\",\"op\":\"inc\",\"arg\":null,"
        "\"result\":41,\"status\":\"ok\",\"call_ns\":1200000,\"return_ns\":1350000}\n"
        "{\"group\":\"g1\",\"client\":4,\"kind\":\"command\",\"op\":\"set\",\"arg\":5,"
        "\"result\":null,\"status\":\"unknown\",\"call_ns\":1300000,\"return_ns\":null}\n"
        "{\"group\":\"g1\",\"client\":5,\"kind\":\"query\",\"op\":\"get\",\"arg\":null,"
        "\"result\":\"error: no leader\",\"status\":\"fail\",\"call_ns\":1400000,"
        "\"return_ns\":1500000}\n"
        "{\"group\":\"g1\",\"client\":6,\"kind\":\"command\",\"op\":\"put\",\"arg\":\"k v w\","
        "\"result\":\"ok\",\"status\":\"ok\",\"call_ns\":1,\"return_ns\":2}\n"
        "{\"group\":\"g1\",\"client\":6,\"kind\":\"command\",\"op\":\"set\",\"arg\":\"007\","
        "\"result\":\"-0\",\"status\":\"ok\",\"call_ns\":3,\"return_ns\":4}\n");
    free(text);
    rf_history_close(&h);
}
END_TEST

static void assert_same_ops(const rf_history *a, const rf_history *b)
{
    ck_assert_str_eq(a->group, b->group);
    ck_assert_uint_eq(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        const rf_op *x = &a->ops[i], *y = &b->ops[i];
        ck_assert_uint_eq(x->client, y->client);
        ck_assert_int_eq(x->kind, y->kind);
        ck_assert_int_eq(x->status, y->status);
        ck_assert_uint_eq(x->call_ns, y->call_ns);
        ck_assert_uint_eq(x->return_ns, y->return_ns);
        ck_assert_uint_eq(x->input_len, y->input_len);
        ck_assert_mem_eq(x->input, y->input, x->input_len);
        ck_assert_uint_eq(x->reply_len, y->reply_len);
        ck_assert_int_eq(x->reply == NULL, y->reply == NULL);
        if (x->reply_len > 0)
            ck_assert_mem_eq(x->reply, y->reply, x->reply_len);
    }
}

START_TEST(test_jsonl_escapes_and_round_trips_awkward_bytes)
{
    static const char in1[] = "put \"q\\ \n\t\x01\x7f";
    static const char in2[] = "put k\xc3\xa9 \xff\xfe\xe2\x82";   /* é valid; the rest not */
    static const char in3[] = "put k \xf0\x9f\x98\x80";             /* U+1F600 */
    rf_history h;
    rf_history_set set;
    char err[256];
    ck_assert_int_eq(rf_history_init(&h, "g\"2"), RF_OK);
    add(&h, 1, RF_OP_COMMAND, in1, sizeof in1 - 1, RF_OP_OK, "", 0, 10, 20);
    add(&h, 1, RF_OP_COMMAND, in2, sizeof in2 - 1, RF_OP_OK, "\0x", 2, 30, 40);
    add(&h, 2, RF_OP_COMMAND, in3, sizeof in3 - 1, RF_OP_OK, "ok", 2, 30, 40);
    add(&h, 2, RF_OP_COMMAND, "inc ", 4, RF_OP_OK, "9223372036854775808", 19, 50, 60);
    char *text = write_str(&h);
    ck_assert_msg(strstr(text, "\"arg\":\"\\\"q\\\\ \\n\\t\\u0001\x7f\"") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "\"op\":\"put\",\"arg\":\"k\xc3\xa9 \\u00ff\\u00fe\\u00e2\\u0082\"") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "\"result\":\"\\u0000x\"") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "\"arg\":\"\",\"result\":\"9223372036854775808\"") != NULL, "%s", text);
    rf_history_set_init(&set);
    ck_assert_int_eq(read_str(text, &set, err, sizeof err), RF_OK);
    ck_assert_uint_eq(set.count, 1);
    assert_same_ops(&h, &set.groups[0]);
    free(text);
    rf_history_set_close(&set);
    rf_history_close(&h);
}
END_TEST

START_TEST(test_jsonl_round_trips_random_histories_of_several_groups)
{
    rf_history a, b;
    rf_history_set set;
    char err[256];
    gen_cfg ca = {.model = &rf_model_int, .ops = 3000, .clients = 6, .unknown_permille = 20,
                  .fail_permille = 20, .seed = 11, .make_op = gen_int_op};
    gen_cfg cb = {.model = &rf_model_kv, .ops = 3000, .clients = 6, .unknown_permille = 20,
                  .fail_permille = 20, .seed = 12, .make_op = gen_kv_op};
    rf_history_init(&a, "ints");
    rf_history_init(&b, "kvs");
    gen_history(&ca, &a);
    gen_history(&cb, &b);
    char *ta = write_str(&a), *tb = write_str(&b);
    /* Interleave the two groups line by line. */
    char *mix = malloc(strlen(ta) + strlen(tb) + 1), *o = mix;
    const char *p[2] = {ta, tb};
    for (int k = 0; *p[0] != '\0' || *p[1] != '\0'; k ^= 1) {
        const char *nl = strchr(p[k], '\n');
        size_t n = nl != NULL ? (size_t)(nl - p[k]) + 1 : strlen(p[k]);
        memcpy(o, p[k], n);
        o += n;
        p[k] += n;
    }
    *o = '\0';
    rf_history_set_init(&set);
    ck_assert_int_eq(read_str(mix, &set, err, sizeof err), RF_OK);
    ck_assert_uint_eq(set.count, 2);
    assert_same_ops(&a, &set.groups[0]);
    assert_same_ops(&b, &set.groups[1]);
    ck_assert_ptr_eq(rf_history_set_find(&set, "kvs"), &set.groups[1]);
    ck_assert_ptr_null(rf_history_set_find(&set, "nope"));
    /* What was read checks like what was written. */
    rf_linz_result r;
    ck_assert_int_eq(rf_linz_check(&rf_model_kv, &set.groups[1], NULL, &r), RF_OK);
    ck_assert_int_eq(r.verdict, RF_LINZ_LINEARIZABLE);
    rf_linz_result_close(&r);
    free(mix);
    free(ta);
    free(tb);
    rf_history_set_close(&set);
    rf_history_close(&a);
    rf_history_close(&b);
}
END_TEST

START_TEST(test_jsonl_reader_accepts_any_key_order_extra_keys_and_blank_lines)
{
    static const char text[] =
        "\n"
        "  { \"status\" : \"ok\", \"return_ns\": 20, \"call_ns\": 10, \"result\": 0,"
        " \"x-extra\": -1.5e3, \"op\": \"inc\", \"kind\": \"command\", \"client\": 1,"
        " \"group\": \"g\" }  \r\n"
        "\t\n"
        "{\"group\":\"g\",\"client\":2,\"kind\":\"query\",\"op\":\"g\\u0065t\",\"status\":\"ok\","
        "\"result\":\"1\",\"call_ns\":30,\"return_ns\":40,\"note\":true}\n"
        "{\"group\":\"g\",\"client\":2,\"kind\":\"command\",\"op\":\"put\",\"arg\":\"\\ud83d\\ude00\","
        "\"status\":\"unknown\",\"result\":\"ignored\",\"call_ns\":50}";
    rf_history_set set;
    char err[256];
    rf_history_set_init(&set);
    int rc = read_str(text, &set, err, sizeof err);
    ck_assert_msg(rc == RF_OK, "%s", err);
    ck_assert_uint_eq(set.count, 1);
    rf_history *h = &set.groups[0];
    ck_assert_uint_eq(h->count, 3);
    ck_assert_mem_eq(h->ops[1].input, "get", 3);
    ck_assert_uint_eq(h->ops[2].input_len, 8);
    ck_assert_mem_eq(h->ops[2].input, "put \xf0\x9f\x98\x80", 8);
    ck_assert_ptr_null(h->ops[2].reply);
    ck_assert_uint_eq(h->ops[2].return_ns, NR);
    rf_history_set_close(&set);
}
END_TEST

/* Each malformed line, after one good line, must give its line and column. */
START_TEST(test_jsonl_reader_reports_file_line_column_for_malformed_lines)
{
    static const struct {
        const char *line;
        const char *want; /* prefix of the message after "h.jsonl:" */
    } bad[] = {
        {"not json", "2:1: expected '{'"},
        {"{", "2:2: expected a '\"' starting a key"},
        {"{\"group\":\"g\",}", "2:14: expected a '\"' starting a key"},
        {"{\"group\" \"g\"}", "2:10: expected ':'"},
        {"{\"group\":\"g\"", "2:13: expected ',' or '}'"},
        {"{\"group\":\"g} ", "2:14: expected a closing '\"'"},
        {"{\"group\":\"g\\x\"}", "2:12: expected one of"},
        {"{\"group\":\"g\\u12\"}", "2:12: expected four hex digits"},
        {"{\"group\":\"g\\udc00\"}", "2:12: expected a surrogate pair"},
        {"{\"group\":{\"a\":1}}", "2:10: expected a string, number or null (nested"},
        {"{\"group\":tru}", "2:10: expected a value"},
        {"{\"client\":01}", "2:11: expected a number: -?(0|[1-9][0-9]*), no leading zeros"},
        {"{\"client\":1.}", "2:13: expected digits after '.'"},
        {"{} x", "2:4: expected the end of the line"},
        {"{\"group\":\"g\",\"group\":\"h\"}", "2:14: expected each key once"},
        {"{\"client\":1}", "2:1: expected \"group\""},
        {"{\"group\":\"\"}", "2:10: expected \"group\""},
        {"{\"group\":\"g\"}", "2:1: expected \"client\""},
        {"{\"group\":\"g\",\"client\":-1}", "2:23: expected \"client\""},
        {"{\"group\":\"g\",\"client\":1,\"kind\":\"read\"}", "2:32: expected \"kind\""},
        {"{\"group\":\"g\",\"client\":1,\"kind\":\"query\",\"op\":\"\"}", "2:45: expected \"op\""},
        {"{\"group\":\"g\",\"client\":1,\"kind\":\"query\",\"op\":\"get\",\"arg\":true}",
         "2:57: expected \"arg\""},
        {"{\"group\":\"g\",\"client\":1,\"kind\":\"query\",\"op\":\"get\",\"status\":\"maybe\"}",
         "2:60: expected \"status\""},
        {"{\"group\":\"g\",\"client\":1,\"kind\":\"query\",\"op\":\"get\",\"status\":\"ok\","
         "\"call_ns\":1e3}", "2:75: expected \"call_ns\""},
        {"{\"group\":\"g\",\"client\":1,\"kind\":\"query\",\"op\":\"get\",\"status\":\"ok\","
         "\"call_ns\":5}", "2:1: expected \"return_ns\" for an ok"},
        {"{\"group\":\"g\",\"client\":1,\"kind\":\"query\",\"op\":\"get\",\"status\":\"ok\","
         "\"call_ns\":5,\"return_ns\":4}", "2:89: expected \"return_ns\" not before"},
        {"{\"group\":\"g\",\"client\":1,\"kind\":\"query\",\"op\":\"get\",\"status\":\"ok\","
         "\"call_ns\":5,\"return_ns\":6,\"result\":false}", "2:100: expected \"result\""},
    };
    static const char good[] =
        "{\"group\":\"g\",\"client\":1,\"kind\":\"command\",\"op\":\"inc\",\"arg\":null,"
        "\"result\":0,\"status\":\"ok\",\"call_ns\":1,\"return_ns\":2}\n";
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512], err[256], want[128];
        rf_history_set set;
        snprintf(text, sizeof text, "%s%s\n%s", good, bad[i].line, good);
        snprintf(want, sizeof want, "h.jsonl:%s", bad[i].want);
        rf_history_set_init(&set);
        ck_assert_int_eq(read_str(text, &set, err, sizeof err), RF_EBADMSG);
        ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "line %zu: got '%s', want '%s'", i,
                      err, want);
        /* The good line before it was kept; nothing after it was read. */
        ck_assert_uint_eq(set.count, 1);
        ck_assert_uint_eq(set.groups[0].count, 1);
        rf_history_set_close(&set);
    }
}
END_TEST

START_TEST(test_jsonl_reader_bounds_line_length_and_survives_random_bytes)
{
    rf_history_set set;
    char err[256];
    size_t n = RF_HISTORY_JSONL_LINE_MAX + 10;
    char *huge = malloc(n + 1);
    memset(huge, ' ', n);
    huge[n] = '\0';
    rf_history_set_init(&set);
    ck_assert_int_eq(read_str(huge, &set, err, sizeof err), RF_EBADMSG);
    ck_assert_msg(strstr(err, "h.jsonl:1:1: expected a line of at most") != NULL, "%s", err);
    rf_history_set_close(&set);
    free(huge);
    rf_pcg32 rng;
    rf_pcg32_seed(&rng, 3, 3);
    static const char base[] =
        "{\"group\":\"g\",\"client\":1,\"kind\":\"command\",\"op\":\"set\",\"arg\":\"a\\u00e9\","
        "\"result\":0,\"status\":\"ok\",\"call_ns\":1,\"return_ns\":2}\n";
    for (int i = 0; i < 20000; i++) {
        char text[sizeof base];
        memcpy(text, base, sizeof base);
        for (int k = 0; k < 1 + (int)rf_pcg32_bounded(&rng, 4); k++)
            text[rf_pcg32_bounded(&rng, sizeof base - 1)] = (char)(1 + rf_pcg32_bounded(&rng, 255));
        rf_history_set_init(&set);
        int rc = read_str(text, &set, err, sizeof err);
        ck_assert(rc == RF_OK || (rc == RF_EBADMSG && strncmp(err, "h.jsonl:", 8) == 0));
        rf_history_set_close(&set);
    }
}
END_TEST

START_TEST(test_jsonl_read_file_reports_a_missing_file)
{
    rf_history_set set;
    char err[256];
    rf_history_set_init(&set);
    ck_assert_int_eq(rf_history_jsonl_read_file("/nonexistent/h.jsonl", &set, err, sizeof err),
                     RF_EIO);
    ck_assert_msg(strncmp(err, "/nonexistent/h.jsonl: ", 22) == 0, "%s", err);
    rf_history_set_close(&set);
}
END_TEST

Suite *history_jsonl_suite(void)
{
    Suite *s = suite_create("history_jsonl");
    TCase *tc = tcase_create("jsonl");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_jsonl_writes_exactly_the_design_format);
    tcase_add_test(tc, test_jsonl_escapes_and_round_trips_awkward_bytes);
    tcase_add_test(tc, test_jsonl_round_trips_random_histories_of_several_groups);
    tcase_add_test(tc, test_jsonl_reader_accepts_any_key_order_extra_keys_and_blank_lines);
    tcase_add_test(tc, test_jsonl_reader_reports_file_line_column_for_malformed_lines);
    tcase_add_test(tc, test_jsonl_reader_bounds_line_length_and_survives_random_bytes);
    tcase_add_test(tc, test_jsonl_read_file_reports_a_missing_file);
    suite_add_tcase(s, tc);
    return s;
}

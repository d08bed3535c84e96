/* Tests of sim/history_check.c: checking every group of a JSON-lines file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/rf_err.h"
#include "sim/history_check.h"

/* Writes text to a fresh temporary file; returns its path (caller unlinks). */
static char *temp_file(const char *text)
{
    char *path = strdup("/tmp/rf-history-check-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

#define LINE(g, c, kind, op, arg, res, st, call, ret)                                         \
    "{\"group\":\"" g "\",\"client\":" #c ",\"kind\":\"" kind "\",\"op\":\"" op "\",\"arg\":" \
    arg ",\"result\":" res ",\"status\":\"" st "\",\"call_ns\":" #call ",\"return_ns\":" ret "}\n"

START_TEST(test_check_file_gives_a_verdict_per_group)
{
    static const char text[] =
        LINE("g1", 1, "command", "inc", "null", "0", "ok", 0, "10")
        LINE("g2", 1, "command", "set", "5", "0", "ok", 0, "10")
        LINE("g1", 2, "command", "inc", "null", "null", "unknown", 5, "null")
        LINE("g2", 2, "query", "get", "null", "0", "ok", 20, "30")
        LINE("g1", 3, "query", "get", "null", "2", "ok", 40, "50");
    char *path = temp_file(text);
    char err[256], *report = NULL;
    size_t report_len = 0;
    FILE *out = open_memstream(&report, &report_len);
    rf_history_check_summary sum;
    int rc = rf_history_check_file(path, &rf_model_int, NULL, out, &sum, err, sizeof err);
    fclose(out);
    ck_assert_msg(rc == RF_OK, "%s", err);
    ck_assert_uint_eq(sum.groups, 2);
    ck_assert_uint_eq(sum.ops, 5);
    ck_assert_uint_eq(sum.linearizable, 1);
    ck_assert_uint_eq(sum.violations, 1);
    ck_assert_uint_eq(sum.unknown, 0);
    ck_assert_msg(strstr(report, "group g1: linearizable") != NULL, "%s", report);
    ck_assert_msg(strstr(report, "group g2: NOT linearizable") != NULL, "%s", report);
    /* The stale read is the op that could not be linearized. */
    ck_assert_msg(strstr(report, "#1 client 2 query \"get\" -> \"0\"") != NULL, "%s", report);
    free(report);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_check_file_reports_malformed_input_with_its_position)
{
    char *path = temp_file(LINE("g1", 1, "command", "inc", "null", "0", "ok", 0, "10")
                           "{\"group\":\"g1\",\"client\":1,\"kind\":\"command\"\n");
    char err[512];
    rf_history_check_summary sum;
    ck_assert_int_eq(rf_history_check_file(path, &rf_model_int, NULL, NULL, &sum, err, sizeof err),
                     RF_EBADMSG);
    char want[600];
    snprintf(want, sizeof want, "%s:2:", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
    ck_assert_uint_eq(sum.groups, 0);
    unlink(path);
    free(path);
}
END_TEST

Suite *history_check_suite(void)
{
    Suite *s = suite_create("history_check");
    TCase *tc = tcase_create("file");
    tcase_add_test(tc, test_check_file_gives_a_verdict_per_group);
    tcase_add_test(tc, test_check_file_reports_malformed_input_with_its_position);
    suite_add_tcase(s, tc);
    return s;
}

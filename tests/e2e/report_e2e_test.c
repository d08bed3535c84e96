/* End-to-end test of fleet-report: the page opened in headless Chromium (tests/e2e/report_chromium.sh). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "base/rf_err.h"
#include "reports/report.h"
#include "tests/reports/history_fixture.h"

#define E2E_SKIPPED 77

/* Runs the script on dir (NULL: the quickstart report); its exit status. */
static int run_script(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sh tests/e2e/report_chromium.sh %s%s%s", dir ? "'" : "",
             dir ? dir : "", dir ? "'" : "");
    int status = system(cmd);
    ck_assert_msg(status != -1 && WIFEXITED(status), "could not run: %s", cmd);
    return WEXITSTATUS(status);
}

/* Check has no "skipped" verdict: a skip passes, and says so loudly. */
static void report_skip(const char *what)
{
    fprintf(stderr, "report_e2e: SKIPPED %s (see the reason above)\n", what);
}

START_TEST(test_known_history_report_opens_in_headless_chromium)
{
    char dir[64], db[128], out[128], err[512] = "";
    ck_assert_int_eq(fixture_tmpdir(dir, sizeof dir), 0);
    snprintf(db, sizeof db, "%s/h.db", dir);
    snprintf(out, sizeof out, "%s/report", dir);
    ck_assert_int_gt(fixture_write_history(db), 0);
    ck_assert_msg(rf_report_write(db, 0, out, err, sizeof err) == RF_OK, "%s", err);
    int rc = run_script(out);
    fixture_rmdir(dir);
    if (rc == E2E_SKIPPED)
        report_skip("test_known_history_report_opens_in_headless_chromium");
    else
        ck_assert_msg(rc == 0, "report_chromium.sh failed (exit %d)", rc);
}
END_TEST

START_TEST(test_quickstart_report_opens_in_headless_chromium)
{
    int rc = run_script(NULL);
    if (rc == E2E_SKIPPED)
        report_skip("test_quickstart_report_opens_in_headless_chromium");
    else
        ck_assert_msg(rc == 0, "report_chromium.sh on the quickstart report failed (exit %d)",
                      rc);
}
END_TEST

Suite *report_e2e_suite(void)
{
    Suite *s = suite_create("report_e2e");
    TCase *tc = tcase_create("chromium");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_known_history_report_opens_in_headless_chromium);
    tcase_add_test(tc, test_quickstart_report_opens_in_headless_chromium);
    suite_add_tcase(s, tc);
    return s;
}

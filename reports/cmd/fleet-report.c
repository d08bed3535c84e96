/* fleet-report: writes a run's history (SQLite) as a self-contained HTML report. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report.h"

static const char usage_text[] =
    "usage: fleet-report DB [--run ID] -o DIR\n"
    "       fleet-report DB --list\n"
    "  Writes DIR/index.html, DIR/timeline.svg and DIR/placement-NNN.svg for run ID\n"
    "  of the history database DB (default: the latest run). The report opens\n"
    "  from disk and needs no network. --list prints the runs DB holds.\n"
    "exit: 0 written, 1 internal failure, 2 usage error or bad input\n";

static int usage(const char *why)
{
    if (why != NULL)
        fprintf(stderr, "fleet-report: %s\n", why);
    fputs(usage_text, stderr);
    return 2;
}

static int parse_run_id(const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v <= 0)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    const char *db = NULL, *out = NULL;
    int64_t run_id = 0;
    int list = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--run") == 0) {
            if (++i >= argc || parse_run_id(argv[i], &run_id) != 0)
                return usage("--run needs a positive run id");
        } else if (strcmp(a, "--list") == 0) {
            list = 1;
        } else if (strcmp(a, "-o") == 0) {
            if (++i >= argc)
                return usage("-o needs an output folder");
            out = argv[i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "fleet-report: unknown option %s\n", a);
            return usage(NULL);
        } else if (db == NULL) {
            db = a;
        } else {
            return usage("only one database can be given");
        }
    }
    char err[1024] = "";
    if (db != NULL && list) {
        int rc = rf_report_list(db, stdout, err, sizeof err);
        if (rc != 0)
            fprintf(stderr, "fleet-report: %s\n", err[0] ? err : "failed");
        return rc == 0 ? 0 : rf_report_bad_input(rc) ? 2 : 1;
    }
    if (db == NULL || out == NULL)
        return usage("a database and -o DIR are required");
    int rc = rf_report_write(db, run_id, out, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "fleet-report: %s\n", err[0] ? err : "failed");
        return rf_report_bad_input(rc) ? 2 : 1;
    }
    printf("fleet-report: wrote %s/index.html\n", out);
    return 0;
}

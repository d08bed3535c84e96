/* report: fleet-report's library, one run's history as a self-contained HTML report. */
#include "reports/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "reports/rpt_buf.h"
#include "reports/rpt_data.h"
#include "reports/rpt_graph.h"
#include "reports/rpt_html.h"
#include "reports/rpt_timeline.h"

#define REPORT_PATH_MAX 4096

static void errf(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t err_len, const char *fmt, ...)
{
    if (err == NULL || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

int rf_report_bad_input(int code)
{
    return code == RF_ENOTFOUND || code == RF_EFOREIGNDB || code == RF_EVERSION ||
           code == RF_EIO || code == RF_EINVAL;
}

/* mkdir -p: creates dir and its missing parents. */
static int make_dirs(const char *dir)
{
    char path[REPORT_PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return -1;
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return -1;
        path[i] = c;
    }
    struct stat sb;
    return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 : -1;
}

static int join(char *out, size_t len, const char *dir, const char *file)
{
    int n = snprintf(out, len, "%s/%s", dir, file);
    return n > 0 && (size_t)n < len ? RF_OK : RF_ETOOBIG;
}

/* Which snapshots get a graph: all of them up to RF_REPORT_GRAPHS_MAX,
 * else the first, the last and an even sample between. */
static size_t pick_snapshots(size_t total, size_t *picked)
{
    if (total <= RF_REPORT_GRAPHS_MAX) {
        for (size_t i = 0; i < total; i++)
            picked[i] = i;
        return total;
    }
    for (size_t k = 0; k < RF_REPORT_GRAPHS_MAX; k++)
        picked[k] = k * (total - 1) / (RF_REPORT_GRAPHS_MAX - 1);
    return RF_REPORT_GRAPHS_MAX;
}

static int write_graph(GVC_t *gvc, const rpt_run *run, const rpt_placement *cur,
                       const rpt_placement *prev, size_t snap, const char *path)
{
    const rpt_snapshot *s = &run->snapshots[snap];
    rpt_buf title;
    rpt_buf_init(&title);
    rpt_buf_dur(&title, s->t_ns);
    rpt_buf_puts(&title, ": ");
    rpt_buf_puts(&title, s->label);
    Agraph_t *g = rpt_graph_aggregated(run)
                      ? rpt_graph_build_aggregated(run, cur, prev, rpt_buf_str(&title))
                      : rpt_graph_build(run, cur, prev, rpt_buf_str(&title));
    rpt_buf_free(&title);
    if (g == NULL)
        return RF_ENOMEM;
    int rc = rpt_graph_render(gvc, g, path);
    agclose(g);
    return rc;
}

/* One SVG per picked snapshot; each highlights changes since the previous
 * drawn one. */
static int write_graphs(const rpt_run *run, const char *out_dir, rpt_figure *figs,
                        size_t *figs_n, char *err, size_t err_len)
{
    size_t picked[RF_REPORT_GRAPHS_MAX];
    size_t n = pick_snapshots(run->snapshots_n, picked);
    *figs_n = 0;
    if (n == 0)
        return RF_OK;
    GVC_t *gvc = rpt_gvc();
    if (gvc == NULL)
        return RF_ENOMEM;
    rpt_placement prev, cur;
    memset(&prev, 0, sizeof prev);
    int have_prev = 0, rc = RF_OK;
    for (size_t k = 0; k < n && rc == RF_OK; k++) {
        rc = rpt_placement_load(run, picked[k], &cur);
        if (rc != RF_OK)
            break;
        rpt_figure *f = &figs[k];
        snprintf(f->file, sizeof f->file, "placement-%03zu.svg", k + 1);
        f->snapshot = picked[k];
        char path[REPORT_PATH_MAX];
        rc = join(path, sizeof path, out_dir, f->file);
        if (rc == RF_OK)
            rc = write_graph(gvc, run, &cur, have_prev ? &prev : NULL, picked[k], path);
        if (rc == RF_EIO)
            errf(err, err_len, "%s: cannot render or write the placement graph", path);
        rpt_placement_free(&prev);
        prev = cur;
        have_prev = 1;
        if (rc == RF_OK)
            *figs_n = k + 1;
    }
    rpt_placement_free(&prev);
    return rc;
}

static int write_report(const rpt_run *run, const char *out_dir, char *err, size_t err_len)
{
    char path[REPORT_PATH_MAX];
    rpt_figure figs[RF_REPORT_GRAPHS_MAX];
    size_t figs_n = 0;
    int rc = write_graphs(run, out_dir, figs, &figs_n, err, err_len);
    if (rc != RF_OK)
        return rc;
    rpt_buf timeline, page;
    rpt_buf_init(&timeline);
    rpt_buf_init(&page);
    rc = rpt_timeline_svg(run, &timeline);
    if (rc == RF_OK)
        rc = join(path, sizeof path, out_dir, "timeline.svg");
    if (rc == RF_OK && (rc = rpt_buf_write_file(&timeline, path)) == RF_EIO)
        errf(err, err_len, "%s: cannot write", path);
    rpt_page desc = {.figures = figs, .figures_n = figs_n,
                     .aggregated = rpt_graph_aggregated(run), .timeline = &timeline};
    if (rc == RF_OK)
        rc = rpt_html_page(run, &desc, &page);
    if (rc == RF_OK)
        rc = join(path, sizeof path, out_dir, "index.html");
    if (rc == RF_OK && (rc = rpt_buf_write_file(&page, path)) == RF_EIO)
        errf(err, err_len, "%s: cannot write", path);
    rpt_buf_free(&timeline);
    rpt_buf_free(&page);
    return rc;
}

int rf_report_write(const char *db_path, int64_t run_id, const char *out_dir, char *err,
                    size_t err_len)
{
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (db_path == NULL || db_path[0] == '\0' || out_dir == NULL || out_dir[0] == '\0' ||
        run_id < 0) {
        errf(err, err_len, "a database path, an output folder and a run id >= 0 are needed");
        return RF_EINVAL;
    }
    rpt_run run;
    int rc = rpt_run_open(&run, db_path, run_id, err, err_len);
    if (rc != RF_OK) {
        rpt_run_close(&run);
        return rc;
    }
    /* Probe the folder before the expensive part: an unwritable one is bad
     * input, reported as such. */
    char probe[REPORT_PATH_MAX];
    FILE *f = NULL;
    if (make_dirs(out_dir) != 0 || join(probe, sizeof probe, out_dir, "index.html") != RF_OK ||
        (f = fopen(probe, "w")) == NULL) {
        errf(err, err_len, "%s: cannot create or write the output folder: %s", out_dir,
             strerror(errno));
        rpt_run_close(&run);
        return RF_EIO;
    }
    fclose(f);
    rc = write_report(&run, out_dir, err, err_len);
    if (rc != RF_OK && (err == NULL || err_len == 0 || err[0] == '\0'))
        errf(err, err_len, "%s: writing the report of run %" PRId64 ": %s", out_dir, run.id,
             rf_strerror(rc));
    rpt_run_close(&run);
    return rc;
}

int rf_report_list(const char *db_path, FILE *out, char *err, size_t err_len)
{
    if (db_path == NULL || db_path[0] == '\0' || out == NULL) {
        errf(err, err_len, "a database path is needed");
        return RF_EINVAL;
    }
    sqlite3 *db = NULL;
    int rc = rpt_db_open(db_path, &db, err, err_len);
    if (rc != RF_OK)
        return rc;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id, kind, outcome, seed, scenario, started FROM runs "
                               "ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
        errf(err, err_len, "%s: %s", db_path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return RF_EDB;
    }
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        fprintf(out, "%lld %s %s seed %llu %s (%s)\n", sqlite3_column_int64(st, 0),
                (const char *)sqlite3_column_text(st, 1),
                (const char *)sqlite3_column_text(st, 2),
                (unsigned long long)sqlite3_column_int64(st, 3),
                (const char *)sqlite3_column_text(st, 4),
                (const char *)sqlite3_column_text(st, 5));
    if (s != SQLITE_DONE) {
        errf(err, err_len, "%s: %s", db_path, sqlite3_errmsg(db));
        rc = RF_EDB;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

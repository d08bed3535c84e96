/* sim/run_finish: the end of a run: final checks, the verdict, the history, the report and what is printed. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/rf_err.h"
#include "reports/report.h"
#include "sim/history_jsonl.h"
#include "sim/run_int.h"

static FILE *out_of(const rf_sim_runner *r)
{
    return r->opts->out != NULL ? r->opts->out : stdout;
}

static void print_expects(rf_sim_runner *r)
{
    FILE *out = out_of(r);
    char name[160];
    for (uint32_t i = 0; i < r->scn->expect_count; i++) {
        const run_expect *st = &r->expects[i];
        run_expect_text(r, i, name, sizeof name);
        const char *verdict = !st->done ? "----" : !st->ok ? "FAIL" : st->unknown ? "????" : "ok";
        fprintf(out, "  %-4s expect %s%s%s%s\n", verdict, name, st->done ? " (" : "",
                st->done ? st->detail : "", st->done ? ")" : "");
        if (!st->done)
            r->res->checks_unknown++;
        else if (!st->ok)
            r->res->checks_failed++;
        else if (st->unknown)
            r->res->checks_unknown++;
        else
            r->res->checks_passed++;
        run_rec_check(r, name, st->ok, st->done && st->ok && st->unknown > 0, st->detail,
                      st->done ? (int64_t)st->met_ns : -1);
    }
}

static int write_history(rf_sim_runner *r)
{
    FILE *f = fopen(r->opts->history_path, "w");
    int rc = f == NULL ? RF_EIO : RF_OK;
    for (uint32_t i = 0; i < r->n_groups && rc == RF_OK; i++)
        if (r->groups[i].hist_ok)
            rc = rf_history_jsonl_write(f, &r->groups[i].hist);
    if (f != NULL && fclose(f) != 0)
        rc = RF_EIO;
    if (rc != RF_OK)
        snprintf(r->res->error, sizeof r->res->error, "%s: cannot write the client history",
                 r->opts->history_path);
    return rc;
}

/* Closes the run in the database, then renders the report from it. */
static int record_end(rf_sim_runner *r)
{
    if (r->rec == NULL)
        return RF_OK;
    run_rec_snapshot(r, "end");
    run_rec_ops(r);
    rf_rec_run_end_info end = {
        .outcome = r->failed ? RF_REC_FAIL : RF_REC_PASS,
        .detail = r->failed ? r->res->violation : NULL,
        .trace_hash = r->res->trace_hash,
        .end_ns = r->res->end_ns,
        .wall_ns = r->res->wall_ns,
    };
    int rc = rf_rec_run_end(r->rec, &end);
    rf_rec_close(r->rec);
    r->rec = NULL;
    if (rc != RF_OK) {
        snprintf(r->res->error, sizeof r->res->error, "%s: cannot record the run's end",
                 r->opts->db_path);
        return rc;
    }
    if (r->opts->report_dir == NULL)
        return RF_OK;
    char err[512] = "";
    rc = rf_report_write(r->opts->db_path, r->res->run_id, r->opts->report_dir, err, sizeof err);
    if (rc != RF_OK)
        snprintf(r->res->error, sizeof r->res->error, "report: %s", err);
    return rc;
}

int run_finish(rf_sim_runner *r)
{
    rf_sim_run_result *res = r->res;
    FILE *out = out_of(r);
    res->trace_hash = r->eng->trace.h;
    res->end_ns = rf_sim_fleet_now(r->fleet);
    res->events = r->eng->events_run;
    if (r->opts->status != NULL)
        run_status_line(r, true);
    if (res->diverged) {
        res->wall_ns = run_wall_ns() - r->wall_start_ns;
        return RF_OK; /* the caller reports the divergence */
    }
    bool ran = r->n_clients > 0 || r->n_insts > 0 || !r->failed;
    if (ran) {
        run_ops_finish(r);
        run_expect_finish(r);
        run_linz(r);
    }
    res->wall_ns = run_wall_ns() - r->wall_start_ns;
    fprintf(out, "fleet-sim run %s: seed %" PRIu64 ", %u nodes, %u groups, %.3fs simulated\n",
            r->path, r->seed, r->n_nodes, r->n_groups, (double)res->end_ns / 1e9);
    print_expects(r);
    if (r->ops_unsent > 0)
        fprintf(out, "  note: %" PRIu64 " operations could not be sent (a dead node, or the run's "
                     "bound of %" PRIu64 " requests) and count as failed\n",
                r->ops_unsent, r->requests_max);
    if (r->applied_full)
        fprintf(out, "  note: the agreement table filled up; later entries were not compared\n");
    rf_sim_fleet_stats fs;
    rf_sim_fleet_stats_get(r->fleet, &fs);
    if (fs.crashes > 0 || fs.store_failures > 0)
        fprintf(out, "nodes: %" PRIu64 " crashes, %" PRIu64 " restarts from disk, %" PRIu64
                     " went down on a failed commit; stores: %" PRIu64 " commits, %" PRIu64
                     " compactions\n",
                fs.crashes, fs.restarts, fs.store_failures, fs.commits, fs.compactions);
    double wall = (double)res->wall_ns / 1e9;
    fprintf(out, "ops ok %" PRIu64 " fail %" PRIu64 " unknown %" PRIu64 "; %" PRIu64
                 " events in %.2fs wall (%.0f events/s, %.0fx real time)\n",
            r->ops_ok, r->ops_fail, r->ops_unknown, res->events, wall,
            wall > 0 ? (double)res->events / wall : 0, wall > 0 ? (double)res->end_ns / 1e9 / wall : 0);
    int rc = RF_OK;
    if (r->opts->history_path != NULL)
        rc = write_history(r);
    int rc2 = record_end(r);
    if (rc == RF_OK)
        rc = rc2;
    if (rc != RF_OK) {
        res->exit_code = RF_SIM_RUN_EXIT_USAGE;
        fprintf(out, "error: %s\n", res->error);
    } else if (r->opts->report_dir != NULL) {
        fprintf(out, "report: %s/index.html\n", r->opts->report_dir);
    }
    if (r->opts->db_path != NULL)
        fprintf(out, "history: %s (run %" PRId64 ")\n", r->opts->db_path, res->run_id);
    if (r->failed) {
        res->exit_code = RF_SIM_RUN_EXIT_FAIL;
        fprintf(out, "VIOLATION at %.9fs simulated (seed %" PRIu64 "): %s\n",
                (double)res->violation_ns / 1e9, r->seed, res->violation);
        fprintf(out, "replay: %s --seed %" PRIu64 " --verbose\n",
                r->opts->replay != NULL ? r->opts->replay : r->path, r->seed);
    }
    fprintf(out, "trace hash %016" PRIx64 "\n", res->trace_hash);
    return RF_OK;
}

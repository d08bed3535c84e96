/* report: fleet-report's library, one run's history as a self-contained HTML report. */
#ifndef RF_REPORTS_REPORT_H
#define RF_REPORTS_REPORT_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* Graphs drawn per report: the first and last snapshots are always drawn,
 * the rest are sampled evenly and the page says how many were left out. */
#define RF_REPORT_GRAPHS_MAX 40
/* Membership changes listed in the rebalancing table (the rest are counted). */
#define RF_REPORT_CHANGES_ROWS_MAX 5000

/* Writes out_dir/index.html, out_dir/timeline.svg and one
 * out_dir/placement-NNN.svg per drawn snapshot, for run run_id of the
 * history database db_path (run_id 0: the latest run). out_dir is created
 * when missing. The page opens from disk and loads nothing from the network.
 * A recorder writing the same database must have committed first
 * (rf_rec_run_end or rf_rec_flush): the report reads through its own
 * read-only connection. fleet-sim run --report DIR calls this with the run
 * id rf_rec_run_begin returned.
 *
 * Returns RF_OK, or on bad input (a clear sentence in err):
 *   RF_ENOTFOUND   db_path missing, or no such run (or no run at all)
 *   RF_EFOREIGNDB  db_path is not a raftfleet history
 *   RF_EVERSION    a newer history schema
 *   RF_EIO         out_dir cannot be created or written
 *   RF_EINVAL      a NULL or empty argument
 * and otherwise RF_EDB, RF_ETOOBIG, RF_ENOMEM. Files already written are
 * left in place on failure. Not thread-safe (graphviz is not): call it from
 * one thread at a time; calling it many times in one process is fine. */
int rf_report_write(const char *db_path, int64_t run_id, const char *out_dir, char *err,
                    size_t err_len);

/* Writes one line per run of db_path to out, latest last:
 * "ID KIND OUTCOME seed SEED SCENARIO (STARTED)". Errors as rf_report_write. */
int rf_report_list(const char *db_path, FILE *out, char *err, size_t err_len);

/* 1 when code (from rf_report_write or rf_report_list) means bad input: the caller's
 * command exits 2. */
int rf_report_bad_input(int code);

#endif

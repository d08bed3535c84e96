/* history_fixture: a small known history written with the recorder, for report tests. */
#ifndef RF_TESTS_REPORTS_HISTORY_FIXTURE_H
#define RF_TESTS_REPORTS_HISTORY_FIXTURE_H

#include <stdint.h>

/* Writes, into a new database at path, one run of 4 nodes (n1..n4; zone1:
 * n1 n3, zone2: n2 n4) and 5 groups of 3 (g1..g5) lasting 6 s:
 *   0.1 s  every group elects its desired leader (g1 n1, g2 n2, g3 n3,
 *          g4 n4, g5 n1)
 *   1 s    n1 isolated until 2 s: g1 leaderless 1.0-1.3 s (then n2),
 *          g5 leaderless 1.0-1.25 s (then n4)
 *   3 s    n4 crashes, restarts at 4 s: g4 leaderless 3.0-3.3 s (then n1),
 *          g5 leaderless 3.0-3.4 s (then n3)
 *   5 s    n4 removed (4 moves minimal): g2 gains n1, g3 n2, g4 n3, g5 n2,
 *          each loses n4, all at 5.1-5.3 s
 * with snapshots at 0, 1, 2, 3, 4, 5 and 6 s, three passing checks, and an
 * outcome of pass. Returns the run id (> 0), or -1 on failure. */
int64_t fixture_write_history(const char *path);

/* A fresh temporary folder (mkdtemp) in out[len]; 0 on success. */
int fixture_tmpdir(char *out, unsigned len);
/* rm -rf dir. */
void fixture_rmdir(const char *dir);

#endif

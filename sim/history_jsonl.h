/* history_jsonl: the JSON-lines client history (DESIGN.md §5), writer and reader. */
#ifndef SIM_HISTORY_JSONL_H
#define SIM_HISTORY_JSONL_H

#include <stddef.h>
#include <stdio.h>

#include "sim/history.h"

/* One object per line, keys in this order:
 *   {"group":"g1","client":3,"kind":"command","op":"inc","arg":null,
 *    "result":41,"status":"ok","call_ns":1200000,"return_ns":1350000}
 * - op: the op bytes up to the first space; arg: the bytes after it, or
 *   null when there is no space. The op bytes are op, or op + " " + arg.
 * - result: the reply; null when there is none (unknown ops, and fail ops
 *   that got nothing).
 * - arg and result are JSON numbers when the bytes are a canonical decimal
 *   int64 ("41", "-3"; not "007", "-0" or "+1"), strings otherwise, so that
 *   reading gives back the same bytes.
 * - status: ok | fail | unknown; return_ns: null for unknown ops (a time
 *   at which the client gave up is not a return) and ops that never
 *   returned. The reader accepts a number there for unknown ops too.
 * - Strings: '"', '\\' and control bytes are escaped; valid UTF-8 is written
 *   as is; a byte that is not part of valid UTF-8 is written as \u0080 to
 *   \u00ff, and the reader turns \u0080..\u00ff back into that single byte
 *   (other \u escapes become UTF-8). Times are nanoseconds. */

#define RF_HISTORY_JSONL_LINE_MAX (1u << 20) /* bytes of one line */
#define RF_HISTORY_GROUPS_MAX 100000         /* groups in one file */

/* Writes every op of h in order. Returns 0 or RF_EIO. */
int rf_history_jsonl_write(FILE *out, const rf_history *h);

/* The histories of a file, one per group in order of first appearance,
 * each with its ops in line order. */
typedef struct rf_history_set {
    rf_history *groups;
    size_t count;
    size_t cap;
    size_t *index; /* open-addressing table of group positions + 1 (0 = empty) */
    size_t index_len;
} rf_history_set;

void rf_history_set_init(rf_history_set *set);
void rf_history_set_close(rf_history_set *set);

/* The history of group in set, or NULL. */
rf_history *rf_history_set_find(const rf_history_set *set, const char *group);

/* The history of group, added (empty) when new. NULL with *rc set on
 * failure: RF_EINVAL (bad name), RF_EFULL, RF_ENOMEM. */
rf_history *rf_history_set_get(rf_history_set *set, const char *group, int *rc);

/* Reads JSON lines from in into set (initialised by the caller; groups
 * already there are extended). Blank lines are skipped. name prefixes
 * messages. On a malformed line returns RF_EBADMSG and writes
 * "name:line:column: what was expected" to err (cap bytes); the lines
 * before it stay in set. RF_ENOMEM, RF_EIO (read error) likewise. */
int rf_history_jsonl_read(FILE *in, const char *name, rf_history_set *set, char *err,
                          size_t err_cap);

/* Opens path and reads it; RF_EIO with "path: reason" when it cannot. */
int rf_history_jsonl_read_file(const char *path, rf_history_set *set, char *err, size_t err_cap);

#endif

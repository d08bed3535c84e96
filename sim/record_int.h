/* record_int: the recorder's internals shared by record.c and record_db.c. */
#ifndef RF_SIM_RECORD_INT_H
#define RF_SIM_RECORD_INT_H

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>

#include "sim/record.h"

/* One prepared statement per kind of record, prepared once at open. */
enum {
    ST_RUN_BEGIN,
    ST_RUN_END,
    ST_NODE,
    ST_GROUP,
    ST_GROUP_REMOVED,
    ST_FAULT_BEGIN,
    ST_FAULT_END,
    ST_NODE_EVENT,
    ST_LEADER,
    ST_MEMBERSHIP,
    ST_SNAPSHOT,
    ST_SNAPSHOT_NODE,
    ST_PLACEMENT,
    ST_CLIENT_OP,
    ST_CHECK,
    ST_FUZZ_SEED,
    ST_COUNT
};

struct rf_rec {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    int in_txn;
    uint32_t txn_rows;  /* rows written in the open transaction */
    int64_t run_id;     /* 0 when no run is open */
    int64_t snapshot_id; /* 0 when no snapshot was begun in this run */
};

/* Steps statement i (bound by the caller) in the batch transaction. */
int record_step(rf_rec *rec, int i);

static inline void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Simulated times and seeds are uint64; SQLite stores int64. Times beyond
 * 2^63 ns (292 years) do not occur; seeds keep their bits. */
static inline void bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

static inline void bind_hash(sqlite3_stmt *st, int i, uint64_t h)
{
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, h);
    sqlite3_bind_text(st, i, hex, -1, SQLITE_TRANSIENT);
}

static inline void bind_opt_id(sqlite3_stmt *st, int i, int64_t id)
{
    if (id == RF_REC_NONE)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, id);
}

#endif

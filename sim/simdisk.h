/* simdisk: the simulator's disk, an in-memory rf_fs with crashes and faults. */
#ifndef SIM_SIMDISK_H
#define SIM_SIMDISK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/rf_pcg.h"
#include "storage/rf_fs.h"

/* One directory of files in memory. Each file has a durable length (what
 * its last sync covered) and a current one; the directory has a durable
 * name table (as of the last sync_dir) and the list of operations since.
 * A crash (power loss) keeps, for every file, its synced bytes plus a
 * random prefix of the unsynced ones (a torn write), and applies a random
 * prefix of the pending directory operations. Every random choice comes
 * from the rf_pcg32 given at creation, so a seed replays exactly.
 * Single-threaded. */
typedef struct rf_simdisk rf_simdisk;

/* Fault rates, in parts per million of the operations concerned. */
typedef struct rf_simdisk_faults {
    uint32_t read_flip_ppm;  /* a read returns one flipped bit (transient) */
    uint32_t write_fail_ppm; /* an append writes a random prefix, then RF_EIO */
    uint32_t sync_fail_ppm;  /* a sync or sync_dir does nothing and fails */
    uint64_t capacity_bytes; /* 0: unlimited; else appends past it: RF_ENOSPC */
} rf_simdisk_faults;

/* Creates an empty disk drawing from a copy of *rng. NULL on no memory. */
rf_simdisk *rf_simdisk_new(const rf_pcg32 *rng);
void rf_simdisk_free(rf_simdisk *d);

/* The rf_fs view of the disk; valid until rf_simdisk_free. */
rf_fs rf_simdisk_fs(rf_simdisk *d);

void rf_simdisk_set_faults(rf_simdisk *d, const rf_simdisk_faults *faults);

/* Mutating operations so far (create, append, sync, truncate, remove,
 * rename, sync_dir), the clock of crash points. */
uint64_t rf_simdisk_ops(const rf_simdisk *d);

/* Arms a crash: the mutating operation number `op` (counting from 0, as
 * rf_simdisk_ops) does not complete. An append then writes a random prefix
 * of its bytes (possibly none, possibly all); any other operation does
 * nothing. It and every later call fail with RF_EIO until rf_simdisk_crash. */
void rf_simdisk_crash_at(rf_simdisk *d, uint64_t op);
bool rf_simdisk_crashed(const rf_simdisk *d);

/* Power loss now: unsynced data is dropped (keeping a random torn prefix),
 * a random prefix of the directory operations since sync_dir survives,
 * every open handle goes stale (only close works), faults and armed
 * crashes are cleared. The disk is usable again afterwards. */
void rf_simdisk_crash(rf_simdisk *d);

/* Flips one bit of a stored file, durable and current alike: media
 * corruption. RF_ENOTFOUND, RF_ERANGE if off is past the end. */
int rf_simdisk_flip_bit(rf_simdisk *d, const char *name, uint64_t off, unsigned bit);

/* Current size of a file; RF_ENOTFOUND if absent. */
int rf_simdisk_file_size(const rf_simdisk *d, const char *name, uint64_t *size_out);

/* Bytes held by the current files. */
uint64_t rf_simdisk_used_bytes(const rf_simdisk *d);

#endif

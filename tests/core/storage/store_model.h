/* store_model: a reference model of the store's state and a workload of batches, for tests. */
#ifndef TESTS_STORE_MODEL_H
#define TESTS_STORE_MODEL_H

#include <stdint.h>

#include "base/rf_pcg.h"
#include "storage/rf_batch.h"
#include "storage/rf_store.h"

/* A workload: n batches built against the model, and the digest of the
 * model's state before any batch (digest[0]) and after each (digest[i]). */
typedef struct sm_workload {
    rf_batch *batches;
    uint64_t *digest;
    size_t n;
    void **blobs; /* snapshot data the batches point at */
    size_t nblobs;
} sm_workload;

typedef struct sm_params {
    unsigned groups;
    unsigned batches;
    unsigned ops_per_batch_max;
    unsigned payload_bytes_max;
    bool with_drops;
} sm_params;

void sm_workload_make(sm_workload *w, const sm_params *p, uint64_t seed);
void sm_workload_free(sm_workload *w);

/* The digest of a store's recovered state, computed as the model's is:
 * every group's term, vote, snapshot (with its data), membership and
 * entries (payloads read back). Asserts that reads succeed. */
uint64_t sm_store_digest(rf_store *st);

#endif

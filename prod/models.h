/* models: the data models fleetd runs: the built-in ones and users' shared libraries (--model-lib). */
#ifndef PROD_MODELS_H
#define PROD_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "fleet/rf_node.h"
#include "model/rf_model.h"

/* The built-in models first (int, kv), then each library's table, in the
 * order given. A library must export RF_MODEL_TABLE_SYMBOL with
 * RF_MODEL_ABI_VERSION; a model whose name is already taken, or any
 * library that cannot be loaded, is an error naming the path. Libraries
 * stay loaded until rf_models_close. */
typedef struct rf_models {
    const rf_model *list[RF_NODE_MODELS_MAX];
    uint32_t count;
    void *handles[RF_NODE_MODELS_MAX];
    uint32_t n_handles;
} rf_models;

int rf_models_load(rf_models *m, const char *const *paths, uint32_t n_paths, char *err,
                   size_t cap);
void rf_models_close(rf_models *m);

#endif

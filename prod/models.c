/* models: the data models fleetd runs: the built-in ones and users' shared libraries (--model-lib). */
#include "prod/models.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "base/rf_err.h"

static int add_model(rf_models *m, const rf_model *md, const char *path, char *err, size_t cap)
{
    if (md == NULL || md->abi_version != RF_MODEL_ABI_VERSION || md->name == NULL) {
        snprintf(err, cap, "%s: a model with a bad ABI version or no name", path);
        return RF_EVERSION;
    }
    for (uint32_t i = 0; i < m->count; i++) {
        if (strcmp(m->list[i]->name, md->name) == 0) {
            snprintf(err, cap, "%s: model '%s' is already defined", path, md->name);
            return RF_EEXIST;
        }
    }
    if (m->count == RF_NODE_MODELS_MAX) {
        snprintf(err, cap, "%s: more than %u models", path, RF_NODE_MODELS_MAX);
        return RF_EFULL;
    }
    m->list[m->count++] = md;
    return RF_OK;
}

int rf_models_load(rf_models *m, const char *const *paths, uint32_t n_paths, char *err,
                   size_t cap)
{
    memset(m, 0, sizeof *m);
    int rc = add_model(m, &rf_model_int, "built-in", err, cap);
    if (rc == RF_OK)
        rc = add_model(m, &rf_model_kv, "built-in", err, cap);
    for (uint32_t i = 0; rc == RF_OK && i < n_paths; i++) {
        void *h = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL);
        if (h == NULL) {
            const char *why = dlerror();
            snprintf(err, cap, "%s: cannot load: %s", paths[i], why ? why : "?");
            rc = RF_ENOTFOUND;
            break;
        }
        m->handles[m->n_handles++] = h;
        const rf_model_table *t = dlsym(h, RF_MODEL_TABLE_SYMBOL);
        if (t == NULL || t->abi_version != RF_MODEL_ABI_VERSION) {
            snprintf(err, cap, "%s: no %s of ABI version %u", paths[i], RF_MODEL_TABLE_SYMBOL,
                     RF_MODEL_ABI_VERSION);
            rc = RF_EVERSION;
            break;
        }
        for (uint32_t k = 0; rc == RF_OK && k < t->count; k++)
            rc = add_model(m, t->models[k], paths[i], err, cap);
    }
    if (rc != RF_OK)
        rf_models_close(m);
    return rc;
}

void rf_models_close(rf_models *m)
{
    for (uint32_t i = 0; i < m->n_handles; i++)
        dlclose(m->handles[i]);
    memset(m, 0, sizeof *m);
}

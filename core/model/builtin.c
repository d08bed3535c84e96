/* builtin: the table of built-in data models, looked up by name. */
#include <string.h>

#include "model/rf_model.h"

static const rf_model *const builtin_models[] = {&rf_model_int, &rf_model_kv};

const rf_model *rf_model_builtin(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof builtin_models / sizeof builtin_models[0]; i++)
        if (strcmp(builtin_models[i]->name, name) == 0)
            return builtin_models[i];
    return NULL;
}

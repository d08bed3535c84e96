/* history_check: checks every group of a client history for linearizability. */
#ifndef SIM_HISTORY_CHECK_H
#define SIM_HISTORY_CHECK_H

#include <stddef.h>
#include <stdio.h>

#include "model/rf_model.h"
#include "sim/history_jsonl.h"
#include "sim/linz.h"

typedef struct rf_history_check_summary {
    size_t groups;
    size_t ops;
    size_t linearizable;
    size_t violations;
    size_t unknown; /* the step budget ran out */
} rf_history_check_summary;

/* Checks each group of set against model, in set order (each group is an
 * independent object: linearizability is compositional). Writes one line
 * per group to out (NULL: silent), plus the explanation of each violation
 * and each unknown verdict. Returns 0 when every group got a verdict (see
 * *sum), or the checker's error code (RF_EINVAL, RF_ENOMEM) for the first
 * group that could not be checked. */
int rf_history_check_set(const rf_history_set *set, const rf_model *model,
                         const rf_linz_config *cfg, FILE *out, rf_history_check_summary *sum);

/* Reads a JSON-lines history file and checks it (what `fleet-sim
 * check-history FILE --model NAME` does). Read errors return RF_EIO or
 * RF_EBADMSG with "file:line:column: ..." in err. */
int rf_history_check_file(const char *path, const rf_model *model, const rf_linz_config *cfg,
                          FILE *out, rf_history_check_summary *sum, char *err, size_t err_cap);

#endif

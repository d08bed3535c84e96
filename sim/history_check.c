/* history_check: checks every group of a client history for linearizability. */
#include "sim/history_check.h"

#include <stdlib.h>
#include <string.h>

#include "base/rf_err.h"

#define CHECK_EXPLAIN_MAX 16384 /* bytes of one group's explanation */

int rf_history_check_set(const rf_history_set *set, const rf_model *model,
                         const rf_linz_config *cfg, FILE *out, rf_history_check_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    char *text = malloc(CHECK_EXPLAIN_MAX);
    if (text == NULL)
        return RF_ENOMEM;
    int rc = RF_OK;
    for (size_t g = 0; g < set->count && rc == RF_OK; g++) {
        const rf_history *h = &set->groups[g];
        rf_linz_result r;
        rc = rf_linz_check(model, h, cfg, &r);
        if (rc == RF_OK) {
            sum->groups++;
            sum->ops += h->count;
            if (r.verdict == RF_LINZ_LINEARIZABLE)
                sum->linearizable++;
            else if (r.verdict == RF_LINZ_VIOLATION)
                sum->violations++;
            else
                sum->unknown++;
            if (out != NULL) {
                rf_linz_explain(h, &r, text, CHECK_EXPLAIN_MAX);
                fputs(text, out);
            }
        } else if (out != NULL) {
            fprintf(out, "group %s: cannot be checked: %s\n", h->group, rf_strerror(rc));
        }
        rf_linz_result_close(&r);
    }
    free(text);
    return rc;
}

int rf_history_check_file(const char *path, const rf_model *model, const rf_linz_config *cfg,
                          FILE *out, rf_history_check_summary *sum, char *err, size_t err_cap)
{
    rf_history_set set;
    memset(sum, 0, sizeof *sum);
    rf_history_set_init(&set);
    int rc = rf_history_jsonl_read_file(path, &set, err, err_cap);
    if (rc == RF_OK)
        rc = rf_history_check_set(&set, model, cfg, out, sum);
    rf_history_set_close(&set);
    return rc;
}

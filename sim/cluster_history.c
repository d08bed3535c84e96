/* sim/cluster_history: the harness's client operations as an rf_history, checked by sim/linz. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/rf_err.h"
#include "sim/cluster_int.h"
#include "sim/history.h"
#include "sim/linz.h"

static rf_op_status op_status(rf_sim_op_status s)
{
    switch (s) {
    case RF_SIM_OP_OK: return RF_OP_OK;
    case RF_SIM_OP_FAIL: return RF_OP_FAIL;
    default: return RF_OP_UNKNOWN;
    }
}

int rf_sim_cluster_history(const rf_sim_cluster *c, rf_history *h)
{
    char name[32];
    snprintf(name, sizeof(name), "g%" PRIu64, c->cfg.group_id);
    int rc = rf_history_init(h, name);
    for (uint64_t i = 0; i < c->n_ops && rc == RF_OK; i++) {
        const rf_sim_op *op = &c->ops[i];
        size_t id;
        rc = rf_history_invoke(h, op->client + 1, op->is_query ? RF_OP_QUERY : RF_OP_COMMAND,
                               (const uint8_t *)op->op, strlen(op->op), op->call_ns, &id);
        if (rc != RF_OK)
            break;
        rf_op_status st = op_status(op->status);
        if (st == RF_OP_OK)
            rc = rf_history_complete(h, id, st, (const uint8_t *)op->reply, strlen(op->reply),
                                     op->return_ns);
        else if (st == RF_OP_FAIL)
            rc = rf_history_complete(h, id, st, NULL, 0, op->return_ns);
        else
            rc = rf_history_complete(h, id, st, NULL, 0, RF_HISTORY_NO_RETURN);
    }
    return rc;
}

rf_sim_linz rf_sim_cluster_check_linearizable(rf_sim_cluster *c)
{
    rf_history h;
    int rc = rf_sim_cluster_history(c, &h);
    if (rc != RF_OK) {
        rf_history_close(&h);
        rf_sim_check_fail(&c->check, RF_SIM_V_HARNESS, "cannot build the client history: %s",
                          rf_errname(rc));
        return RF_SIM_LINZ_VIOLATION;
    }
    rf_linz_result r;
    rc = rf_linz_check(c->cfg.model, &h, NULL, &r);
    rf_sim_linz out = RF_SIM_LINZ_OK;
    if (rc != RF_OK) {
        rf_sim_check_fail(&c->check, RF_SIM_V_HARNESS, "linearizability checker failed: %s",
                          rf_errname(rc));
        out = RF_SIM_LINZ_VIOLATION;
    } else if (r.verdict == RF_LINZ_VIOLATION) {
        char why[4096];
        rf_linz_explain(&h, &r, why, sizeof(why));
        sim_log(c, "linearizability checker: %s", why);
        rf_sim_check_fail(&c->check, RF_SIM_V_LINEARIZABILITY, "%zu client ops: %s", h.count, why);
        out = RF_SIM_LINZ_VIOLATION;
    } else if (r.verdict == RF_LINZ_UNKNOWN) {
        out = RF_SIM_LINZ_UNKNOWN;
    }
    if (out == RF_SIM_LINZ_VIOLATION)
        sim_log(c, "VIOLATION %s", c->check.first.text);
    rf_linz_result_close(&r);
    rf_history_close(&h);
    return out;
}

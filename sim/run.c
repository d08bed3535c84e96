/* sim/run: the scenario runner: builds the cluster, plays the timeline in virtual time, judges and records the run. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rf_err.h"
#include "sim/fleet_check.h"
#include "sim/history_jsonl.h"
#include "sim/run_int.h"

#define MS (1000ull * 1000)
#define SEC (1000ull * MS)

uint64_t run_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

void run_log(rf_sim_runner *r, const char *fmt, ...)
{
    if (r->opts->log == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(r->opts->log, "[%12.6fs] ", (double)rf_sim_fleet_now(r->fleet) / 1e9);
    vfprintf(r->opts->log, fmt, ap);
    fputc('\n', r->opts->log);
    va_end(ap);
}

/* A check failed: the first failure is the run's violation. */
void run_fail(rf_sim_runner *r, const char *fmt, ...)
{
    char buf[RF_SIM_RUN_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    run_log(r, "FAIL %s", buf);
    if (r->failed)
        return;
    r->failed = true;
    r->res->violation_ns = rf_sim_fleet_now(r->fleet);
    memcpy(r->res->violation, buf, sizeof buf);
}

bool run_group_matches(const rf_scn_pattern *p, const char *name)
{
    if (!p->is_range)
        return strcmp(p->prefix, name) == 0;
    size_t np = strlen(p->prefix), ns = strlen(p->suffix), n = strlen(name);
    if (n <= np + ns || strncmp(name, p->prefix, np) != 0 || strcmp(name + n - ns, p->suffix) != 0)
        return false;
    const char *d = name + np;
    size_t len = n - np - ns;
    if (len > 9 || (d[0] == '0' && len > 1))
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (d[i] < '0' || d[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(d[i] - '0');
    }
    return v >= p->lo && v <= p->hi;
}

int run_group_by_name(const rf_sim_runner *r, const char *name)
{
    for (uint32_t i = 0; i < r->n_groups; i++)
        if (strcmp(r->groups[i].name, name) == 0)
            return (int)i;
    return -1;
}

const rf_model *run_model(const rf_sim_runner *r, const char *name)
{
    for (uint32_t i = 0; i < r->n_models; i++)
        if (strcmp(r->models[i]->name, name) == 0)
            return r->models[i];
    return NULL;
}

const char *rf_sim_run_kind_name(uint32_t kind)
{
    switch (kind) {
    case 32: return "deliver";
    case 33: return "tick";
    case 34: return "disk";
    case RK_TIMELINE: return "timeline";
    case RK_UNDO: return "fault-end";
    case RK_CLIENT: return "client";
    case RK_MONITOR: return "monitor";
    default: return "event";
    }
}

void run_status_line(rf_sim_runner *r, bool last)
{
    uint64_t wall = run_wall_ns();
    if (!last && wall - r->status_wall_ns < 200 * MS)
        return;
    uint32_t led = 0, groups = 0, faults = 0;
    for (uint32_t i = 0; i < r->n_groups; i++)
        if (!r->groups[i].removed) {
            groups++;
            led += r->groups[i].leader >= 0;
        }
    for (uint32_t i = 0; i < r->n_insts; i++)
        faults += r->insts[i].active;
    for (uint32_t i = 0; i < r->n_nodes; i++)
        faults += !r->nodes[i].up && !r->nodes[i].removed;
    double dt = (double)(wall - r->status_wall_ns) / 1e9;
    double rate = dt > 0 ? (double)(r->eng->events_run - r->status_events) / dt : 0;
    fprintf(r->opts->status, "\r%10.3fs simulated  %9.0f events/s  groups with a leader %u/%u  "
                             "faults active %u \033[K%s",
            (double)rf_sim_fleet_now(r->fleet) / 1e9, rate, led, groups, faults, last ? "\n" : "");
    fflush(r->opts->status);
    r->status_wall_ns = wall;
    r->status_events = r->eng->events_run;
}

static void trail_step(rf_sim_runner *r, const rf_sim_event *ev)
{
    rf_sim_run_step st = {.time_ns = ev->time_ns, .hash = r->eng->trace.h, .kind = ev->kind,
                          .node = ev->node};
    rf_sim_run_trail *t = r->opts->trail;
    /* Indexed by the loop's events: the setup's waits run before it, and
     * their effect is in the cumulative hash of the first step. */
    uint64_t n = r->loop_events++;
    if (t != NULL) {
        if (t->len < t->steps_max)
            t->steps[t->len++] = st;
        t->events++;
    }
    const rf_sim_run_trail *c = r->opts->compare;
    if (c != NULL && !r->res->diverged && n < c->len &&
        memcmp(&c->steps[n], &st, sizeof st) != 0) {
        r->res->diverged = true;
        r->res->diverged_event = r->eng->events_run;
        r->res->diverged_step = st;
        r->res->expected_step = c->steps[n];
        r->stop_now = true;
    }
}

static void safety_verdict(rf_sim_runner *r)
{
    const char *text = NULL;
    if (r->checking && !r->safety_failed && rf_sim_fleet_violations(r->fleet, NULL) > 0) {
        (void)rf_sim_fleet_violations(r->fleet, &text);
        run_fail(r, "safety: %s", text != NULL ? text : "a Raft invariant broke");
        r->safety_failed = true;
        r->stop_now = true;
    }
    if (rf_sim_fleet_failures(r->fleet, NULL) > 0) {
        (void)rf_sim_fleet_failures(r->fleet, &text);
        run_fail(r, "durability: %s", text);
        r->safety_failed = true;
        r->stop_now = true;
    }
}

static void run_loop(rf_sim_runner *r)
{
    const uint64_t end = r->scn->run_ns;
    while (!r->stop_now) {
        const rf_sim_event *top = rf_sim_evq_peek(&r->eng->q);
        if (top == NULL || top->time_ns > end)
            break;
        rf_sim_event ev = *top;
        if (!rf_sim_engine_step(r->eng, end))
            break;
        safety_verdict(r); /* O(1): the counts are kept up to date */
        if (r->opts->trail != NULL || r->opts->compare != NULL) {
            /* The trace after the event includes the event itself. */
            trail_step(r, &ev);
        }
        if (r->opts->status != NULL && (r->eng->events_run & 0x3fff) == 0)
            run_status_line(r, false);
    }
    if (!r->stop_now)
        rf_sim_engine_run_until(r->eng, end);
    /* After each batch the checkers look at the groups with output; at the
     * end they go over every member once. */
    if (!r->stop_now && r->checking) {
        rf_sim_fleet_sweep(r->fleet);
        safety_verdict(r);
    }
}

static int schedule_all(rf_sim_runner *r)
{
    uint64_t now = rf_sim_fleet_now(r->fleet);
    int rc = run_timeline_plan(r);
    for (uint32_t i = 0; i < r->n_insts && rc == RF_OK; i++)
        rc = rf_sim_engine_at(r->eng, r->insts[i].at_ns > now ? r->insts[i].at_ns : now,
                              RK_TIMELINE, 0, i, NULL);
    if (rc == RF_OK)
        rc = run_clients_plan(r);
    uint64_t gn = (uint64_t)r->n_groups * r->n_nodes;
    r->monitor_ns = gn <= 2000 ? RUN_MONITOR_NS_MIN : gn <= 20000 ? 10 * RUN_MONITOR_NS_MIN
                                                                  : 100 * RUN_MONITOR_NS_MIN;
    if (rc == RF_OK)
        rc = rf_sim_engine_after(r->eng, 0, RK_MONITOR, 0, 0, NULL);
    return rc;
}

/* ---- a run ---------------------------------------------------------------------------------- */

static int load(rf_sim_runner *r)
{
    rf_scn_error err;
    int rc = rf_scenario_load(r->path, &r->scn, &err);
    if (rc != RF_OK) {
        snprintf(r->res->error, sizeof r->res->error, "%s", err.text);
        return rc;
    }
    /* The text again, for positions of what the runner refuses. */
    FILE *f = fopen(r->path, "rb");
    if (f == NULL)
        return RF_EIO;
    r->text = malloc(RF_SCN_FILE_BYTES_MAX + 1);
    if (r->text != NULL)
        r->text_len = fread(r->text, 1, RF_SCN_FILE_BYTES_MAX, f);
    fclose(f);
    return r->text == NULL ? RF_ENOMEM : RF_OK;
}

static int open_models(rf_sim_runner *r)
{
    r->models[r->n_models++] = &rf_model_int;
    r->models[r->n_models++] = &rf_model_kv;
    for (uint32_t i = 0; i < r->opts->n_models && i < RF_SIM_RUN_MODELS_MAX; i++) {
        if (run_model(r, r->opts->models[i]->name) != NULL) {
            snprintf(r->res->error, sizeof r->res->error,
                     "model %s is defined twice (built in or loaded twice)",
                     r->opts->models[i]->name);
            return RF_EEXIST;
        }
        r->models[r->n_models++] = r->opts->models[i];
    }
    return RF_OK;
}

static int open_record(rf_sim_runner *r)
{
    char err[512];
    int rc = rf_rec_open(&r->rec, r->opts->db_path, err, sizeof err);
    if (rc != RF_OK) {
        snprintf(r->res->error, sizeof r->res->error, "%s", err);
        return rc;
    }
    rf_rec_run_info info = {.kind = "run", .scenario = r->path, .seed = r->seed,
                            .build = r->opts->build};
    rc = rf_rec_run_begin(r->rec, &info, &r->res->run_id);
    for (uint32_t i = 0; i < r->scn->node_count && rc == RF_OK; i++)
        rc = rf_rec_node(r->rec, (int64_t)i + 1, r->scn->nodes[i].name,
                         r->scn->zones[r->scn->nodes[i].zone]);
    if (rc != RF_OK)
        snprintf(r->res->error, sizeof r->res->error, "%s: cannot record the run: %s",
                 r->opts->db_path, rf_rec_errmsg(r->rec));
    return rc;
}

static void runner_close(rf_sim_runner *r)
{
    rf_rec_close(r->rec);
    rf_sim_fleet_close(r->fleet);
    for (uint32_t i = 0; i < r->n_groups; i++)
        rf_history_close(&r->groups[i].hist);
    free(r->groups);
    free(r->insts);
    free(r->clients);
    free(r->pending);
    free(r->req_map);
    rf_sim_u64map_close(&r->leaders);
    rf_sim_u64map_close(&r->group_index);
    for (size_t i = 0; i < r->applied_ids; i++)
        free(r->applied[i].fp);
    free(r->applied);
    rf_scenario_free(r->scn);
    free(r->text);
}

int rf_sim_run(const rf_sim_run_opts *opts, rf_sim_run_result *res)
{
    rf_sim_runner r;
    memset(&r, 0, sizeof r);
    memset(res, 0, sizeof *res);
    r.opts = opts;
    r.res = res;
    r.path = opts->scenario_path;
    r.issuing = RUN_NO_REQ;
    r.last_node_event = RF_REC_NONE;
    r.last_moves_min = -1;
    r.wall_start_ns = r.status_wall_ns = run_wall_ns();
    res->exit_code = RF_SIM_RUN_EXIT_USAGE;
    int rc = load(&r);
    if (rc == RF_OK) {
        r.seed = opts->has_seed ? opts->seed : r.scn->seed;
        res->seed = r.seed;
        rc = open_models(&r);
    }
    if (rc == RF_OK)
        rc = run_check_support(&r);
    if (rc == RF_OK && opts->report_dir != NULL && opts->db_path == NULL) {
        snprintf(res->error, sizeof res->error, "--report needs a history database (--db)");
        rc = RF_EINVAL;
    }
    if (rc == RF_OK)
        rc = rf_sim_u64map_init(&r.leaders, 1u << 24);
    if (rc == RF_OK)
        rc = rf_sim_u64map_init(&r.group_index, RF_SCN_GROUPS_MAX);
    if (rc == RF_OK)
        rc = run_build_groups(&r);
    if (rc == RF_OK && (rc = run_build_fleet(&r)) != RF_OK)
        snprintf(res->error, sizeof res->error, "%s: cannot build the cluster: %s", r.path,
                 rf_strerror(rc));
    if (rc == RF_OK && opts->db_path != NULL)
        rc = open_record(&r);
    if (rc != RF_OK) {
        if (res->error[0] == '\0')
            snprintf(res->error, sizeof res->error, "%s: %s", r.path, rf_strerror(rc));
        runner_close(&r);
        return rc == RF_ENOMEM ? RF_ENOMEM : RF_OK;
    }
    res->exit_code = RF_SIM_RUN_EXIT_OK;
    if (run_setup(&r) == RF_OK) {
        run_rec_snapshot(&r, "start");
        rc = schedule_all(&r);
        if (rc != RF_OK)
            run_fail(&r, "cannot schedule the run: %s", rf_strerror(rc));
        run_expect_init(&r);
        if (rc == RF_OK)
            run_loop(&r);
    }
    rc = run_finish(&r);
    runner_close(&r);
    return rc;
}

void rf_sim_run_trail_init(rf_sim_run_trail *t, uint64_t steps_max)
{
    memset(t, 0, sizeof *t);
    t->steps = steps_max == 0 ? NULL : malloc((size_t)steps_max * sizeof *t->steps);
    t->steps_max = t->steps == NULL ? 0 : steps_max;
}

void rf_sim_run_trail_close(rf_sim_run_trail *t)
{
    free(t->steps);
    memset(t, 0, sizeof *t);
}

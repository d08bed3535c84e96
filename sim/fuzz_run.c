/* fuzz_run: fleet-sim run as the fuzzer's predicate (each run in a child process), the check keys of violations, the determinism rerun. */
#include "sim/fuzz.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"

/* Steps compared one by one by the rerun; beyond them the final hash. */
#define TRAIL_STEPS_MAX (1u << 20)
/* CPU seconds a run may take in its child by default (a drawn world takes
 * well under one): past it the run is a failure, check `timeout` (a
 * livelock, a message storm), and a campaign or a shrink never hangs on it. */
#define RUN_CPU_S_MAX 60u

void rf_fuzz_check_key(const char *v, char *key, size_t cap)
{
    static const struct {
        const char *prefix, *contains, *key;
    } keys[] = {
        {"expect leader", NULL, "expect leader"},
        {"expect placement", NULL, "expect placement"},
        {"expect linearizable", NULL, "expect linearizable"},
        {"expect moves", NULL, "expect moves"},
        {"expect unavailability", NULL, "expect unavailability"},
        {"expect safety", NULL, "expect safety"},
        {"safety:", "two leaders", "safety election"},
        {"safety:", "applied different", "safety agreement"},
        {"setup:", NULL, "setup"},
        {"`", NULL, "operation"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strncmp(v, keys[i].prefix, strlen(keys[i].prefix)) == 0 &&
            (keys[i].contains == NULL || strstr(v, keys[i].contains) != NULL)) {
            snprintf(key, cap, "%s", keys[i].key);
            return;
        }
    size_t n = strcspn(v, " :");
    snprintf(key, cap, "%.*s", (int)(n > 40 ? 40 : n), v);
}

int rf_fuzz_write_scenario(const rf_scenario *s, const char *path)
{
    char *text;
    size_t len;
    int rc = rf_scenario_write(s, &text, &len);
    if (rc != RF_OK)
        return rc;
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        free(text);
        return RF_EIO;
    }
    size_t put = fwrite(text, 1, len, f);
    free(text);
    if (fclose(f) != 0 || put != len)
        return RF_EIO;
    return RF_OK;
}

int rf_fuzz_runner_init(rf_fuzz_runner *r, const char *dir)
{
    memset(r, 0, sizeof *r);
    int n = snprintf(r->path, sizeof r->path, "%s/.fuzz-run-%ld.scn", dir, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof r->path)
        return RF_ETOOBIG;
    r->sink = fopen("/dev/null", "w");
    return r->sink == NULL ? RF_EIO : RF_OK;
}

void rf_fuzz_runner_close(rf_fuzz_runner *r)
{
    if (r->sink != NULL)
        fclose(r->sink);
    if (r->path[0] != '\0')
        (void)unlink(r->path);
    memset(r, 0, sizeof *r);
}

static void outcome_of(const rf_sim_run_result *res, rf_fuzz_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->trace_hash = res->trace_hash;
    out->events = res->events;
    out->wall_ns = res->wall_ns;
    out->violation_ns = res->violation_ns;
    if (res->exit_code == RF_SIM_RUN_EXIT_OK) {
        out->verdict = RF_FUZZ_PASS;
    } else if (res->exit_code == RF_SIM_RUN_EXIT_FAIL) {
        out->verdict = RF_FUZZ_FAIL;
        rf_fuzz_check_key(res->violation, out->check, sizeof out->check);
        snprintf(out->detail, sizeof out->detail, "%s", res->violation);
    } else {
        out->verdict = RF_FUZZ_ERROR;
        snprintf(out->check, sizeof out->check, "error");
        snprintf(out->detail, sizeof out->detail, "%s", res->error);
    }
}

/* The determinism rerun (compare set) also ticks every node timer in
 * full: a tick rf_node_tick skips as having nothing due must change
 * nothing, so the two runs agree event for event. */
static int run_once(rf_fuzz_runner *r, uint64_t seed, rf_sim_run_trail *trail,
                    const rf_sim_run_trail *compare, rf_sim_run_result *res)
{
    rf_sim_run_opts o;
    memset(&o, 0, sizeof o);
    o.scenario_path = r->path;
    o.has_seed = true;
    o.seed = seed;
    o.models = r->models;
    o.n_models = r->n_models;
    o.build = "fuzz";
    o.out = r->sink;
    o.log = r->log;
    o.trail = trail;
    o.compare = compare;
    o.full_ticks = compare != NULL;
    return rf_sim_run(&o, res);
}

/* ---- each run in a child process ------------------------------------------------------
 * A simulator that crashes (an ASSERT, a signal) takes only the child with
 * it: the crash is the run's failure, check key "crash", so the fuzzer
 * reports it with its seed and the shrinker can shrink it like any other.
 * One that runs past its CPU budget (rf_fuzz_runner.cpu_s_max, each run)
 * is stopped: check key "timeout". */

typedef struct child_msg {
    int rc;
    rf_fuzz_outcome out;
    uint64_t rerun_hash;
    bool same;
    char divergence[RF_FUZZ_DETAIL_MAX];
} child_msg;

static int child_fd = -1;
static child_msg *child_report;

static void child_assert(const char *expr, const char *file, int line)
{
    if (child_report == NULL || child_fd < 0)
        return;
    child_msg *m = child_report;
    memset(&m->out, 0, sizeof m->out);
    m->rc = RF_OK;
    m->same = true;
    m->out.verdict = RF_FUZZ_FAIL;
    snprintf(m->out.check, sizeof m->out.check, "crash");
    snprintf(m->out.detail, sizeof m->out.detail, "crash: ASSERT failed: %s (%s:%d)", expr, file,
             line);
    ssize_t w = write(child_fd, m, sizeof *m);
    (void)w;
}

static bool read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static void run_in_child(rf_fuzz_runner *r, uint64_t seed, bool twice, child_msg *m)
{
    if (!twice) {
        rf_sim_run_result *res = malloc(sizeof *res);
        m->rc = res == NULL ? RF_ENOMEM : run_once(r, seed, NULL, NULL, res);
        if (res != NULL)
            outcome_of(res, &m->out);
        free(res);
        return;
    }
    rf_sim_run_result *res = malloc(2 * sizeof *res);
    if (res == NULL) {
        m->rc = RF_ENOMEM;
        return;
    }
    rf_sim_run_trail trail;
    rf_sim_run_trail_init(&trail, TRAIL_STEPS_MAX);
    m->rc = run_once(r, seed, &trail, NULL, &res[0]);
    outcome_of(&res[0], &m->out);
    if (m->rc == RF_OK)
        m->rc = run_once(r, seed, NULL, &trail, &res[1]);
    m->rerun_hash = res[1].trace_hash;
    if (m->rc == RF_OK && res[1].diverged) {
        const rf_sim_run_step *d = &res[1].diverged_step, *x = &res[1].expected_step;
        m->same = false;
        snprintf(m->divergence, sizeof m->divergence,
                 "first divergence at event %" PRIu64 ": t=%" PRIu64 " ns %s on n%u (hash %016" PRIx64
                 "), the first run had t=%" PRIu64 " ns %s on n%u (hash %016" PRIx64 ")",
                 res[1].diverged_event, d->time_ns, rf_sim_run_kind_name(d->kind), d->node + 1,
                 d->hash, x->time_ns, rf_sim_run_kind_name(x->kind), x->node + 1, x->hash);
    } else if (m->rc == RF_OK && (res[1].trace_hash != res[0].trace_hash ||
                                  res[1].events != res[0].events)) {
        m->same = false;
        snprintf(m->divergence, sizeof m->divergence,
                 "the runs agree on their first %" PRIu64 " events, then differ: %" PRIu64
                 " events, hash %016" PRIx64 " vs %" PRIu64 " events, hash %016" PRIx64,
                 trail.len, res[0].events, res[0].trace_hash, res[1].events,
                 res[1].trace_hash);
    }
    rf_sim_run_trail_close(&trail);
    free(res);
}

static uint32_t run_cpu_s(const rf_fuzz_runner *r)
{
    return r->cpu_s_max != 0 ? r->cpu_s_max : RUN_CPU_S_MAX;
}

static int forked(rf_fuzz_runner *r, const rf_scenario *s, uint64_t seed, bool twice, child_msg *m)
{
    memset(m, 0, sizeof *m);
    m->same = true;
    int rc = rf_fuzz_write_scenario(s, r->path);
    if (rc != RF_OK)
        return rc;
    r->runs += twice ? 2 : 1;
    int fds[2];
    if (pipe(fds) != 0)
        return RF_EIO;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return RF_EIO;
    }
    if (pid == 0) {
        close(fds[0]);
        child_fd = fds[1];
        child_report = m;
        rf_assert_set_handler(child_assert);
        rlim_t cpu = (rlim_t)run_cpu_s(r) * (twice ? 2 : 1);
        struct rlimit lim = {.rlim_cur = cpu, .rlim_max = cpu + 5};
        (void)setrlimit(RLIMIT_CPU, &lim);
        run_in_child(r, seed, twice, m);
        ssize_t w = write(fds[1], m, sizeof *m);
        _exit(w == (ssize_t)sizeof *m ? 0 : 3);
    }
    close(fds[1]);
    bool got = read_full(fds[0], m, sizeof *m);
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!got) {
        memset(m, 0, sizeof *m);
        m->same = true;
        m->out.verdict = RF_FUZZ_FAIL;
        snprintf(m->out.check, sizeof m->out.check, "crash");
        if (WIFSIGNALED(st) && WTERMSIG(st) == SIGXCPU) {
            snprintf(m->out.check, sizeof m->out.check, "timeout");
            snprintf(m->out.detail, sizeof m->out.detail,
                     "timeout: the run took more than %u s of CPU (a livelock or a message storm?)",
                     run_cpu_s(r) * (twice ? 2u : 1u));
        } else if (WIFSIGNALED(st))
            snprintf(m->out.detail, sizeof m->out.detail, "crash: killed by signal %d",
                     WTERMSIG(st));
        else
            snprintf(m->out.detail, sizeof m->out.detail, "crash: exit status %d",
                     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    return m->rc;
}

int rf_fuzz_runner_pred(void *ctx, const rf_scenario *s, uint64_t seed, rf_fuzz_outcome *out)
{
    child_msg *m = malloc(sizeof *m);
    if (m == NULL)
        return RF_ENOMEM;
    int rc = forked(ctx, s, seed, false, m);
    *out = m->out;
    free(m);
    return rc;
}

int rf_fuzz_runner_twice(rf_fuzz_runner *r, const rf_scenario *s, uint64_t seed,
                         rf_fuzz_outcome *first, uint64_t *rerun_hash, bool *same,
                         char *divergence, size_t cap)
{
    child_msg *m = malloc(sizeof *m);
    if (m == NULL)
        return RF_ENOMEM;
    int rc = forked(r, s, seed, true, m);
    *first = m->out;
    *rerun_hash = m->rerun_hash;
    *same = m->same;
    snprintf(divergence, cap, "%s", m->divergence);
    free(m);
    return rc;
}

/* fuzz_campaign: `fleet-sim fuzz`: worker processes, deterministic merging, the progress bar, SQLite trends and the verdict. */
#include "sim/fuzz_campaign.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/rf_err.h"
#include "sim/fuzz_world.h"
#include "sim/fuzz_worker.h"
#include "sim/record.h"

#define SEC UINT64_C(1000000000)
#define SEEDS_DEFAULT 100u
#define NO_SEED UINT64_MAX

typedef struct campaign {
    fz_job job;
    uint64_t seeds;       /* how many at most; UINT64_MAX: until the budget */
    uint64_t budget_ns;   /* 0: none */
    uint32_t jobs;
    const char *db_path;
    char db_default[FZ_PATH_MAX + 16]; /* OUT/fuzz.db */
    bool json, progress;
    fz_result *res;       /* by index */
    bool *done;
    uint64_t cap, next, finished, failures;
    uint64_t t0;
    uint32_t shrink_max; /* failures shrunk after the seeds */
    uint64_t shrink_list[RF_FUZZ_SHRINK_MAX];
    uint32_t shrink_n, shrink_next;
    bool shrink_planned;
} campaign;

typedef struct worker {
    pid_t pid;
    int to, from; /* pipes: seed indexes to it, results from it */
    bool busy, open;
    bool shrinking; /* its task is a shrink, not a seed */
    uint64_t task;  /* the seed index it works on */
} worker;

static int parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0' || *s == '-')
        return RF_EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return RF_EINVAL;
    *out = v;
    return RF_OK;
}

static bool io_all(int fd, void *buf, size_t n, bool wr)
{
    char *p = buf;
    while (n > 0) {
        ssize_t k = wr ? write(fd, p, n) : read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

#define SHRINK_TASK (UINT64_C(1) << 63)

static void worker_main(const campaign *c, int in, int out)
{
    rf_fuzz_runner run;
    if (rf_fuzz_runner_init(&run, c->job.out_dir) != RF_OK)
        _exit(3);
    fz_result *r = malloc(sizeof *r);
    uint64_t msg;
    while (r != NULL && io_all(in, &msg, sizeof msg, false) && msg != NO_SEED) {
        if (msg & SHRINK_TASK) {
            memset(r, 0, sizeof *r);
            r->seed = c->job.from + (msg & ~SHRINK_TASK);
            fz_shrink_seed(&c->job, &run, r);
        } else {
            fz_run_seed(&c->job, &run, msg, r);
        }
        if (!io_all(out, r, sizeof *r, true))
            break;
    }
    free(r);
    rf_fuzz_runner_close(&run);
    _exit(0);
}

static int start_workers(const campaign *c, worker *w)
{
    fflush(NULL);
    for (uint32_t i = 0; i < c->jobs; i++) {
        int a[2], b[2];
        if (pipe(a) != 0)
            return RF_EIO;
        if (pipe(b) != 0) {
            close(a[0]);
            close(a[1]);
            return RF_EIO;
        }
        pid_t pid = fork();
        if (pid < 0)
            return RF_EIO;
        if (pid == 0) {
            close(a[1]);
            close(b[0]);
            for (uint32_t j = 0; j < i; j++) {
                close(w[j].to);
                close(w[j].from);
            }
            worker_main(c, a[0], b[1]);
        }
        close(a[0]);
        close(b[1]);
        w[i] = (worker){.pid = pid, .to = a[1], .from = b[0], .open = true};
    }
    return RF_OK;
}

static bool more_seeds(const campaign *c)
{
    if (c->next >= c->seeds)
        return false;
    return c->budget_ns == 0 || fz_mono_ns() - c->t0 < c->budget_ns;
}

static int grow(campaign *c)
{
    if (c->next < c->cap)
        return RF_OK;
    uint64_t cap = c->cap == 0 ? 256 : c->cap * 2;
    fz_result *r = realloc(c->res, cap * sizeof *r);
    if (r == NULL)
        return RF_ENOMEM;
    c->res = r;
    bool *d = realloc(c->done, cap * sizeof *d);
    if (d == NULL)
        return RF_ENOMEM;
    memset(d + c->cap, 0, (cap - c->cap) * sizeof *d);
    c->done = d;
    c->cap = cap;
    return RF_OK;
}

static void send_task(worker *w, uint64_t msg)
{
    if (!io_all(w->to, &msg, sizeof msg, true) || msg == NO_SEED) {
        close(w->to);
        w->open = false;
        w->busy = false;
        return;
    }
    w->busy = true;
    w->shrinking = (msg & SHRINK_TASK) != 0;
    w->task = msg & ~SHRINK_TASK;
}

/* The failures to shrink: the first shrink_max in seed order, so which
 * ones are shrunk does not depend on the workers' timing. */
static void plan_shrinks(campaign *c)
{
    c->shrink_planned = true;
    for (uint64_t i = 0; i < c->next && c->shrink_n < c->shrink_max; i++)
        if (c->done[i] && c->res[i].verdict == FZ_FAIL)
            c->shrink_list[c->shrink_n++] = i;
}

/* Gives idle workers seeds, then (once every seed is back) failures to
 * shrink, then tells them to stop. */
static void dispatch(campaign *c, worker *w)
{
    bool seeds_out = false;
    for (uint32_t i = 0; i < c->jobs; i++)
        seeds_out |= w[i].busy && !w[i].shrinking;
    for (uint32_t i = 0; i < c->jobs; i++) {
        if (!w[i].open || w[i].busy)
            continue;
        if (more_seeds(c) && grow(c) == RF_OK) {
            send_task(&w[i], c->next++);
            seeds_out = true;
            continue;
        }
        if (seeds_out)
            continue; /* the shrinking waits for every seed's result */
        if (!c->shrink_planned)
            plan_shrinks(c);
        if (c->shrink_next < c->shrink_n)
            send_task(&w[i], SHRINK_TASK | c->shrink_list[c->shrink_next++]);
        else
            send_task(&w[i], NO_SEED);
    }
}

static void progress(const campaign *c, bool last)
{
    if (!c->progress)
        return;
    double el = (double)(fz_mono_ns() - c->t0) / 1e9;
    double rate = el > 0 ? (double)c->finished / el : 0;
    double total = c->seeds != UINT64_MAX ? (double)c->seeds
                   : c->budget_ns ? rate * (double)c->budget_ns / 1e9 : 0;
    double eta = rate > 0 && total > (double)c->finished ? (total - (double)c->finished) / rate : 0;
    if (c->budget_ns != 0 && el + eta > (double)c->budget_ns / 1e9)
        eta = (double)c->budget_ns / 1e9 - el > 0 ? (double)c->budget_ns / 1e9 - el : 0;
    int width = 30, fill = total > 0 ? (int)(width * (double)c->finished / total) : 0;
    fill = fill > width ? width : fill;
    fprintf(stderr, "\r[%.*s%*s] %" PRIu64 "/%.0f seeds, %" PRIu64 " failed, %.1f seeds/s, ETA %.0fs%s \033[K%s",
            fill, "##############################", width - fill, "", c->finished, total,
            c->failures, rate, eta, c->shrink_planned ? ", shrinking" : "", last ? "\n" : "");
}

static void take(campaign *c, const worker *x, const fz_result *r)
{
    uint64_t index = r->seed - c->job.from;
    if (index >= c->next)
        return;
    if (x->shrinking) {
        memcpy(c->res[index].shrink, r->shrink, sizeof r->shrink);
        memcpy(c->res[index].file, r->file, sizeof r->file);
    } else if (!c->done[index]) {
        c->res[index] = *r;
        c->done[index] = true;
        c->finished++;
        c->failures += r->verdict != FZ_PASS;
    }
}

static int run_workers(campaign *c)
{
    worker w[RF_FUZZ_JOBS_MAX];
    int rc = start_workers(c, w);
    fz_result *r = malloc(sizeof *r);
    if (rc != RF_OK || r == NULL) {
        free(r);
        return rc != RF_OK ? rc : RF_ENOMEM;
    }
    for (;;) {
        dispatch(c, w);
        struct pollfd pf[RF_FUZZ_JOBS_MAX];
        uint32_t map[RF_FUZZ_JOBS_MAX], n = 0;
        for (uint32_t i = 0; i < c->jobs; i++)
            if (w[i].busy) {
                pf[n] = (struct pollfd){.fd = w[i].from, .events = POLLIN};
                map[n++] = i;
            }
        if (n == 0)
            break;
        if (poll(pf, n, 500) < 0 && errno != EINTR)
            break;
        for (uint32_t k = 0; k < n; k++) {
            if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            worker *x = &w[map[k]];
            if (!io_all(x->from, r, sizeof *r, false)) {
                /* The worker died (the simulator's own crashes are caught
                 * in a child of the worker): its seed is an error. */
                memset(r, 0, sizeof *r);
                r->seed = c->job.from + x->task;
                r->verdict = FZ_ERROR;
                snprintf(r->check, sizeof r->check, "worker");
                snprintf(r->detail, sizeof r->detail, "the worker process died");
                if (!x->shrinking)
                    take(c, x, r);
                x->busy = false;
                x->open = false;
                close(x->to);
                continue;
            }
            take(c, x, r);
            x->busy = false;
        }
        progress(c, false);
    }
    progress(c, true);
    free(r);
    for (uint32_t i = 0; i < c->jobs; i++) {
        if (w[i].open)
            close(w[i].to);
        close(w[i].from);
        int st;
        while (waitpid(w[i].pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    return RF_OK;
}

/* ---- reporting ------------------------------------------------------------------------------ */

static const char *verdict_name(uint32_t v)
{
    static const char *const names[] = {"pass", "fail", "error", "nondeterministic"};
    return v < 4 ? names[v] : "?";
}

static void record(const campaign *c)
{
    if (c->db_path == NULL)
        return;
    rf_rec *rec;
    char err[512];
    if (rf_rec_open(&rec, c->db_path, err, sizeof err) != RF_OK) {
        fprintf(stderr, "fleet-sim fuzz: %s\n", err);
        return;
    }
    rf_rec_run_info info = {.kind = "fuzz", .scenario = "fuzz-world", .seed = c->job.from,
                            .build = "fleet-sim"};
    int64_t run_id;
    int rc = rf_rec_run_begin(rec, &info, &run_id);
    uint64_t h = 0;
    for (uint64_t i = 0; i < c->next && rc == RF_OK; i++) {
        if (!c->done[i])
            continue;
        const fz_result *r = &c->res[i];
        h = h * 0x100000001B3ull ^ r->trace_hash;
        char detail[FZ_DETAIL_MAX + 80];
        snprintf(detail, sizeof detail, "%s%s%s", r->verdict == FZ_NONDET ? "nondeterministic: " : "",
                 r->detail, "");
        rf_rec_seed_info s = {
            .seed = r->seed, .nodes = r->nodes, .zones = r->zones, .groups = r->groups,
            .params_json = r->params[0] ? r->params : "{}",
            .outcome = r->verdict == FZ_PASS ? RF_REC_PASS
                       : r->verdict == FZ_ERROR ? RF_REC_ERROR : RF_REC_FAIL,
            .detail = r->verdict == FZ_PASS ? NULL : detail, .wall_ns = r->wall_ns,
            .trace_hash = r->trace_hash, .reran = (int)r->reran, .rerun_hash = r->rerun_hash};
        rc = rf_rec_fuzz_seed(rec, &s);
    }
    rf_rec_run_end_info end = {.outcome = c->failures ? RF_REC_FAIL : RF_REC_PASS,
                               .trace_hash = h, .wall_ns = fz_mono_ns() - c->t0};
    if (rc == RF_OK)
        rc = rf_rec_run_end(rec, &end);
    if (rc != RF_OK)
        fprintf(stderr, "fleet-sim fuzz: %s: cannot record: %s\n", c->db_path, rf_rec_errmsg(rec));
    rf_rec_close(rec);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void print_failure(const fz_result *r)
{
    printf("FAIL seed %" PRIu64 " (%s): %s\n", r->seed, verdict_name(r->verdict), r->detail);
    if (r->shrink[0] != '\0')
        printf("  shrunk: %s\n", r->shrink);
    if (r->file[0] != '\0') {
        printf("  scenario: %s\n", r->file);
        FILE *f = fopen(r->file, "r");
        char line[4200];
        while (f != NULL && fgets(line, sizeof line, f) != NULL)
            if (line[0] != '\n')
                printf("    %s", line);
        if (f != NULL)
            fclose(f);
    }
    const char *scn = r->file[0] != '\0' ? r->file : r->world;
    if (scn[0] != '\0')
        printf("  replay: build/bin/fleet-sim replay %s --seed %" PRIu64 "\n", scn, r->seed);
    else
        printf("  replay: build/bin/fleet-sim fuzz --from %" PRIu64 " --seeds 1\n", r->seed);
}

static int report(const campaign *c)
{
    uint64_t n[4] = {0}, reran = 0, done = 0;
    for (uint64_t i = 0; i < c->next; i++)
        if (c->done[i]) {
            n[c->res[i].verdict < 4 ? c->res[i].verdict : FZ_ERROR]++;
            reran += c->res[i].reran;
            done++;
        }
    uint64_t missing = c->next - done;
    double wall = (double)(fz_mono_ns() - c->t0) / 1e9;
    bool bad = n[FZ_FAIL] + n[FZ_ERROR] + n[FZ_NONDET] + missing > 0;
    for (uint64_t i = 0; i < c->next && !c->json; i++)
        if (c->done[i] && c->res[i].verdict != FZ_PASS)
            print_failure(&c->res[i]);
    if (!c->json) {
        printf("fuzz: %" PRIu64 " seeds from %" PRIu64 ": %" PRIu64 " passed, %" PRIu64
               " failed, %" PRIu64 " errors, %" PRIu64 " nondeterministic, %" PRIu64
               " lost; %" PRIu64 " rerun for determinism; %.1fs, %.2f seeds/s with %u jobs\n",
               done, c->job.from, n[FZ_PASS], n[FZ_FAIL], n[FZ_ERROR], n[FZ_NONDET], missing,
               reran, wall, wall > 0 ? (double)done / wall : 0, c->jobs);
        return bad ? 1 : 0;
    }
    printf("{\"from\":%" PRIu64 ",\"seeds\":%" PRIu64 ",\"passed\":%" PRIu64 ",\"failed\":%" PRIu64
           ",\"errors\":%" PRIu64 ",\"nondeterministic\":%" PRIu64 ",\"lost\":%" PRIu64
           ",\"reran\":%" PRIu64 ",\"jobs\":%u,\"wall_s\":%.3f,\"seeds_per_s\":%.3f,\"failures\":[",
           c->job.from, done, n[FZ_PASS], n[FZ_FAIL], n[FZ_ERROR], n[FZ_NONDET], missing, reran,
           c->jobs, wall, wall > 0 ? (double)done / wall : 0);
    bool first = true;
    for (uint64_t i = 0; i < c->next; i++) {
        const fz_result *r = &c->res[i];
        if (!c->done[i] || r->verdict == FZ_PASS)
            continue;
        printf("%s{\"seed\":%" PRIu64 ",\"outcome\":\"%s\",\"check\":", first ? "" : ",", r->seed,
               verdict_name(r->verdict));
        json_str(stdout, r->check);
        printf(",\"detail\":");
        json_str(stdout, r->detail);
        printf(",\"world\":");
        json_str(stdout, r->world);
        printf(",\"scenario\":");
        json_str(stdout, r->file);
        printf(",\"shrunk\":");
        json_str(stdout, r->shrink);
        printf("}");
        first = false;
    }
    printf("]}\n");
    return bad ? 1 : 0;
}

/* ---- the command ------------------------------------------------------------------------- */

static int usage_error(const char *what)
{
    fprintf(stderr, "fleet-sim fuzz: %s\n"
                    "usage: fleet-sim fuzz [--seeds N] [--from SEED] [--time-budget SECONDS]\n"
                    "       [--jobs J] [--out DIR] [--db PATH] [--json] [--kinds LIST]\n"
                    "       [--shrink-runs N] [--shrink-max N]\n", what);
    return 2;
}

static int parse_args(campaign *c, int argc, char **argv)
{
    const char *out = "build/fuzz";
    c->seeds = UINT64_MAX;
    c->jobs = 2;
    c->job.from = 1;
    c->job.shrink_runs_max = RF_FUZZ_SHRINK_RUNS_MAX;
    c->shrink_max = RF_FUZZ_SHRINK_DEFAULT;
    c->job.shrink_ns_max = 60 * SEC;
    bool have_seeds = false, have_db = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x = 0;
        bool num = parse_u64(v, &x) == RF_OK;
        if (strcmp(a, "--json") == 0) {
            c->json = true;
            continue;
        }
        if (v == NULL)
            return usage_error("an option is missing its value");
        i++;
        if (strcmp(a, "--seeds") == 0 && num && x > 0) {
            c->seeds = x;
            have_seeds = true;
        } else if (strcmp(a, "--from") == 0 && num) {
            c->job.from = x;
        } else if (strcmp(a, "--time-budget") == 0 && num && x > 0 && x < 1000000) {
            c->budget_ns = x * SEC;
        } else if (strcmp(a, "--jobs") == 0 && num && x >= 1 && x <= RF_FUZZ_JOBS_MAX) {
            c->jobs = (uint32_t)x;
        } else if (strcmp(a, "--shrink-runs") == 0 && num && x <= 100000) {
            c->job.shrink_runs_max = (uint32_t)x;
        } else if (strcmp(a, "--shrink-max") == 0 && num && x <= RF_FUZZ_SHRINK_MAX) {
            c->shrink_max = (uint32_t)x;
        } else if (strcmp(a, "--out") == 0 && strlen(v) < FZ_PATH_MAX) {
            out = v;
        } else if (strcmp(a, "--db") == 0) {
            c->db_path = v;
            have_db = true;
        } else if (strcmp(a, "--kinds") == 0) {
            char err[100];
            if (rf_fuzz_kinds_parse(v, &c->job.kinds, err, sizeof err) != RF_OK)
                return usage_error(err);
        } else {
            char msg[160];
            snprintf(msg, sizeof msg, "bad argument '%.60s %.60s'", a, v);
            return usage_error(msg);
        }
    }
    if (c->job.shrink_runs_max == 0)
        c->shrink_max = 0;
    if (!have_seeds && c->budget_ns == 0)
        c->seeds = SEEDS_DEFAULT;
    if (c->seeds != UINT64_MAX && c->job.from > UINT64_MAX - c->seeds)
        return usage_error("--from + --seeds overflows");
    snprintf(c->job.out_dir, sizeof c->job.out_dir, "%s", out);
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "fleet-sim fuzz: cannot create %s: %s\n", out, strerror(errno));
        return 2;
    }
    if (!have_db) {
        snprintf(c->db_default, sizeof c->db_default, "%s/fuzz.db", out);
        c->db_path = c->db_default;
    }
    c->progress = !c->json && isatty(STDERR_FILENO);
    return 0;
}

int rf_fuzz_cmd_fuzz(int argc, char **argv)
{
    return rf_fuzz_cmd_fuzz_with(argc, argv, NULL, NULL);
}

int rf_fuzz_cmd_fuzz_with(int argc, char **argv, rf_fuzz_pred pred, void *ctx)
{
    campaign c;
    memset(&c, 0, sizeof c);
    int rc = parse_args(&c, argc, argv);
    if (rc != 0)
        return rc;
    c.job.pred = pred;
    c.job.pred_ctx = ctx;
    c.t0 = fz_mono_ns();
    signal(SIGPIPE, SIG_IGN);
    rc = run_workers(&c);
    if (rc != RF_OK) {
        fprintf(stderr, "fleet-sim fuzz: cannot run the workers: %s\n", rf_strerror(rc));
        free(c.res);
        free(c.done);
        return 1;
    }
    record(&c);
    int exit = report(&c);
    free(c.res);
    free(c.done);
    return exit;
}

/* fleet-sim: the simulator's command line; subcommands dispatch to sim/ (run, schedule). */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/fuzz_campaign.h"
#include "sim/run.h"
#include "sim/schedule.h"

enum { EXIT_OK = 0, EXIT_VIOLATION = 1, EXIT_USAGE = 2 };

/* `run --report` renders through graphviz, which leaks in its layout,
 * plugin set-up and font stack whatever the caller frees (see
 * tests/reports/lsan_graphviz.c). LeakSanitizer calls this hook in ASan
 * builds only; the simulator's own allocations stay checked. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libgvc.so\n"
           "leak:libgvplugin_dot_layout.so\n"
           "leak:libgvplugin_pango.so\n"
           "leak:libgvplugin_core.so\n"
           "leak:libpango\n"
           "leak:libcairo.so\n"
           "leak:libfontconfig.so\n"
           "leak:libglib-2.0.so\n";
}

static void print_assert(const char *expr, const char *file, int line)
{
    fprintf(stderr, "fleet-sim: ASSERT failed: %s (%s:%d)\n", expr, file, line);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: fleet-sim COMMAND [options]\n"
               "commands:\n"
               "  run FILE [--seed N] [--db PATH | --no-db] [--history PATH.jsonl] [--report DIR]\n"
               "      [--check-determinism] [--quiet | --verbose] [--model-lib PATH.so]...\n"
               "      runs a scenario file (scenarios/README.md) on the in-memory fleet and checks\n"
               "      its expectations, election safety, replica agreement and linearizability.\n"
               "      The history is recorded in SQLite: --db PATH, else DIR/history.db with\n"
               "      --report DIR, else build/runs/NAME.db (RF_BUILD overrides build/).\n"
               "      --report DIR writes DIR/index.html (as fleet-report); --history writes the\n"
               "      JSON-lines client history; --check-determinism runs twice and compares\n"
               "      every event (the second run ticks every node timer in full, which must\n"
               "      change nothing); --verbose logs events; --quiet drops the status line\n"
               "  schedule --seed N [--members M] [--verbose] [--history PATH.jsonl]\n"
               "      runs one seeded random fault schedule against a Raft group of M members\n"
               "      (3..7; drawn from the seed when omitted) and checks safety after every\n"
               "      step and liveness after the heal\n"
               "  schedules --from N --count K [--members M]\n"
               "      runs the schedules of seeds N..N+K-1 and prints each violation with its\n"
               "      replay command, then a summary\n"
               "  fuzz [--seeds N] [--from SEED] [--time-budget SECONDS] [--jobs J] [--out DIR]\n"
               "      [--db PATH] [--json] [--kinds LIST] [--shrink-runs N]\n"
               "      [--shrink-max N]\n"
               "      draws a world per seed (sim/fuzz_world.h) and runs it; a failure is shrunk\n"
               "      to DIR/fail-SEED.scn (default DIR build/fuzz, database DIR/fuzz.db)\n"
               "  replay FILE --seed N [--verbose]     runs a (shrunk) scenario with that seed\n"
               "  shrink FILE --seed N [--out FILE] [--runs N] [--verbose]\n"
               "      shrinks a failing scenario to a small one that fails the same check\n"
               "exit: 0 ok, 1 a check failed, 2 usage error\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0' || *s == '-')
        return RF_EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0')
        return RF_EINVAL;
    *out = v;
    return RF_OK;
}

static int cmd_schedule(int argc, char **argv)
{
    rf_sim_schedule_opts o = {0};
    bool have_seed = false;
    const char *history = NULL;
    for (int i = 0; i < argc; i++) {
        uint64_t v;
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc && parse_u64(argv[i + 1], &v) == RF_OK) {
            o.seed = v;
            have_seed = true;
            i++;
        } else if (strcmp(argv[i], "--members") == 0 && i + 1 < argc &&
                   parse_u64(argv[i + 1], &v) == RF_OK && v >= RF_SIM_SCHEDULE_MEMBERS_MIN &&
                   v <= RF_SIM_SCHEDULE_MEMBERS_MAX) {
            o.members = (uint32_t)v;
            i++;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            o.log = stdout;
        } else if (strcmp(argv[i], "--history") == 0 && i + 1 < argc) {
            history = argv[++i];
        } else {
            fprintf(stderr, "fleet-sim schedule: bad argument '%s'\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!have_seed) {
        fprintf(stderr, "fleet-sim schedule: --seed N is required\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (history != NULL) {
        o.history = fopen(history, "w");
        if (o.history == NULL) {
            fprintf(stderr, "fleet-sim schedule: cannot write %s: %s\n", history, strerror(errno));
            return EXIT_USAGE;
        }
    }
    rf_sim_schedule_result r;
    int rc = rf_sim_schedule_run(&o, &r);
    if (o.history != NULL && fclose(o.history) != 0 && rc == RF_OK)
        rc = RF_EIO;
    if (rc != RF_OK) {
        fprintf(stderr, "fleet-sim schedule: %s\n", rf_strerror(rc));
        return EXIT_USAGE;
    }
    printf("schedule seed %" PRIu64 " members %u: %" PRIu64 " events, %" PRIu64
           " ms simulated, %u faults, ops ok %" PRIu64 " fail %" PRIu64 " unknown %" PRIu64
           ", commit %" PRIu64 ", crashes %" PRIu64 " (writes lost %" PRIu64 ", torn %" PRIu64
           "), admin ok %" PRIu64 " refused %" PRIu64 ", leaders %" PRIu64 ", %" PRIu64
           " violations\n",
           r.seed, r.members, r.events, r.sim_ns / 1000000, r.faults, r.stats.ops_ok,
           r.stats.ops_fail, r.stats.ops_unknown, r.stats.max_commit, r.stats.crashes,
           r.stats.writes_lost, r.stats.torn_writes, r.stats.admin_ok, r.stats.admin_failed,
           r.stats.leader_changes, r.violations);
    printf("trace hash %016" PRIx64 "\n", r.trace_hash);
    if (r.violations == 0)
        return EXIT_OK;
    printf("VIOLATION at %" PRIu64 " ns: %s\n", r.violation_ns, r.first.text);
    printf("replay: build/bin/fleet-sim schedule --seed %" PRIu64 " --members %u --verbose\n",
           r.seed, r.members);
    return EXIT_VIOLATION;
}

/* ---- run ---- */

#define RUN_TRAIL_STEPS_MAX (2u << 20) /* events compared one by one; then the final hash */

typedef struct run_args {
    rf_sim_run_opts o;
    bool determinism, quiet, verbose, no_db;
    void *libs[RF_SIM_RUN_MODELS_MAX];
    uint32_t n_libs;
    const rf_model *models[RF_SIM_RUN_MODELS_MAX];
    char db[1024];
    char replay[4096];
} run_args;

/* Loads the models a library exports (rf_model.h's table). */
static int load_model_lib(run_args *a, const char *path)
{
    if (a->n_libs == RF_SIM_RUN_MODELS_MAX) {
        fprintf(stderr, "fleet-sim run: at most %u --model-lib\n", RF_SIM_RUN_MODELS_MAX);
        return EXIT_USAGE;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "fleet-sim run: --model-lib %s: cannot load: %s\n", path, dlerror());
        return EXIT_USAGE;
    }
    a->libs[a->n_libs++] = h;
    const rf_model_table *t = dlsym(h, RF_MODEL_TABLE_SYMBOL);
    if (t == NULL) {
        fprintf(stderr, "fleet-sim run: --model-lib %s: no %s symbol: not a raftfleet model library\n",
                path, RF_MODEL_TABLE_SYMBOL);
        return EXIT_USAGE;
    }
    if (t->abi_version != RF_MODEL_ABI_VERSION) {
        fprintf(stderr, "fleet-sim run: --model-lib %s: model ABI version %u, this build speaks %u\n",
                path, t->abi_version, RF_MODEL_ABI_VERSION);
        return EXIT_USAGE;
    }
    for (uint32_t i = 0; i < t->count; i++) {
        const rf_model *m = t->models[i];
        if (m == NULL || m->abi_version != RF_MODEL_ABI_VERSION || m->name == NULL ||
            m->create == NULL || m->destroy == NULL || m->command == NULL || m->query == NULL ||
            m->encode == NULL || m->decode == NULL || m->digest == NULL) {
            fprintf(stderr, "fleet-sim run: --model-lib %s: model %u is incomplete or of another ABI\n",
                    path, i);
            return EXIT_USAGE;
        }
        if (a->o.n_models == RF_SIM_RUN_MODELS_MAX) {
            fprintf(stderr, "fleet-sim run: more than %u user models\n", RF_SIM_RUN_MODELS_MAX);
            return EXIT_USAGE;
        }
        a->models[a->o.n_models++] = m;
    }
    return EXIT_OK;
}

static int parse_run_args(int argc, char **argv, const char *prog, run_args *a)
{
    size_t rl = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t v;
        if (arg[0] != '-' && a->o.scenario_path == NULL) {
            a->o.scenario_path = arg;
        } else if (strcmp(arg, "--seed") == 0 && parse_u64(val, &v) == RF_OK) {
            a->o.has_seed = true;
            a->o.seed = v;
            i++;
        } else if (strcmp(arg, "--db") == 0 && val != NULL) {
            a->o.db_path = val;
            i++;
        } else if (strcmp(arg, "--no-db") == 0) {
            a->no_db = true;
        } else if (strcmp(arg, "--history") == 0 && val != NULL) {
            a->o.history_path = val;
            i++;
        } else if (strcmp(arg, "--report") == 0 && val != NULL) {
            a->o.report_dir = val;
            i++;
        } else if (strcmp(arg, "--model-lib") == 0 && val != NULL) {
            int rc = load_model_lib(a, val);
            if (rc != EXIT_OK)
                return rc;
            rl += strlen(val) + 13;
            i++;
        } else if (strcmp(arg, "--check-determinism") == 0) {
            a->determinism = true;
        } else if (strcmp(arg, "--quiet") == 0 && !a->verbose) {
            a->quiet = true;
        } else if (strcmp(arg, "--verbose") == 0 && !a->quiet) {
            a->verbose = true;
        } else {
            fprintf(stderr, "fleet-sim run: bad argument '%s'\n", arg);
            return EXIT_USAGE;
        }
    }
    if (a->o.scenario_path == NULL) {
        fprintf(stderr, "fleet-sim run: a scenario FILE is required\n");
        return EXIT_USAGE;
    }
    if (rl + strlen(prog) + strlen(a->o.scenario_path) + 8 > sizeof a->replay) {
        fprintf(stderr, "fleet-sim run: arguments too long\n");
        return EXIT_USAGE;
    }
    /* The replay command: the same file and models; the seed is added. */
    size_t n = (size_t)snprintf(a->replay, sizeof a->replay, "%s run %s", prog, a->o.scenario_path);
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], "--model-lib") == 0)
            n += (size_t)snprintf(a->replay + n, sizeof a->replay - n, " --model-lib %s", argv[++i]);
    a->o.replay = a->replay;
    if (a->no_db && (a->o.db_path != NULL || a->o.report_dir != NULL)) {
        fprintf(stderr, "fleet-sim run: --no-db excludes --db and --report\n");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* --db PATH, else DIR/history.db for --report DIR, else BUILD/runs/NAME.db. */
static int default_db(run_args *a)
{
    if (a->no_db || a->o.db_path != NULL)
        return EXIT_OK;
    if (a->o.report_dir != NULL) {
        if (mkdir(a->o.report_dir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "fleet-sim run: cannot create %s: %s\n", a->o.report_dir, strerror(errno));
            return EXIT_USAGE;
        }
        snprintf(a->db, sizeof a->db, "%s/history.db", a->o.report_dir);
    } else {
        const char *build = getenv("RF_BUILD");
        const char *base = strrchr(a->o.scenario_path, '/');
        base = base != NULL ? base + 1 : a->o.scenario_path;
        size_t n = strlen(base);
        if (n > 4 && strcmp(base + n - 4, ".scn") == 0)
            n -= 4;
        build = build != NULL && *build != '\0' ? build : "build";
        char dir[512];
        int dn = snprintf(dir, sizeof dir, "%s/runs", build);
        if (dn < 0 || (size_t)dn >= sizeof dir || (size_t)dn + n + 5 > sizeof a->db) {
            fprintf(stderr, "fleet-sim run: the default history path is too long: use --db\n");
            return EXIT_USAGE;
        }
        if ((mkdir(build, 0777) != 0 && errno != EEXIST) || (mkdir(dir, 0777) != 0 && errno != EEXIST)) {
            fprintf(stderr, "fleet-sim run: cannot create %s: %s\n", dir, strerror(errno));
            return EXIT_USAGE;
        }
        memcpy(a->db, dir, (size_t)dn);
        a->db[dn] = '/';
        memcpy(a->db + dn + 1, base, n);
        memcpy(a->db + dn + 1 + n, ".db", 4);
    }
    a->o.db_path = a->db;
    return EXIT_OK;
}

static int determinism_second_run(run_args *a, const rf_sim_run_trail *trail,
                                  const rf_sim_run_result *first)
{
    rf_sim_run_opts o = a->o;
    rf_sim_run_result res;
    FILE *sink = fopen("/dev/null", "w");
    o.db_path = o.history_path = o.report_dir = NULL;
    o.log = o.status = NULL;
    o.out = sink;
    o.trail = NULL;
    o.compare = trail;
    o.full_ticks = true; /* and a tick with nothing due must do nothing */
    o.has_seed = true;
    o.seed = first->seed;
    int rc = rf_sim_run(&o, &res);
    if (sink != NULL)
        fclose(sink);
    if (rc != RF_OK) {
        fprintf(stderr, "fleet-sim run: second run: %s\n", rf_strerror(rc));
        return EXIT_USAGE;
    }
    if (res.diverged) {
        printf("determinism: the runs diverge at event %" PRIu64 ", simulated time %.9fs: "
               "first run %s node %u (trace %016" PRIx64 " at %.9fs), second run %s node %u "
               "(trace %016" PRIx64 ")\n",
               res.diverged_event, (double)res.diverged_step.time_ns / 1e9,
               rf_sim_run_kind_name(res.expected_step.kind), res.expected_step.node,
               res.expected_step.hash, (double)res.expected_step.time_ns / 1e9,
               rf_sim_run_kind_name(res.diverged_step.kind), res.diverged_step.node,
               res.diverged_step.hash);
        return EXIT_VIOLATION;
    }
    if (res.trace_hash != first->trace_hash || res.events != first->events) {
        printf("determinism: the runs diverge after the first %" PRIu64 " events (not kept "
               "one by one): %" PRIu64 " events, trace %016" PRIx64 " vs %" PRIu64
               " events, trace %016" PRIx64 "\n",
               trail->len, first->events, first->trace_hash, res.events, res.trace_hash);
        return EXIT_VIOLATION;
    }
    printf("determinism: two runs, same %" PRIu64 " events, same trace hash %016" PRIx64 "\n",
           res.events, res.trace_hash);
    return EXIT_OK;
}

static int cmd_run_with(run_args *a, const char *prog, int argc, char **argv)
{
    int code = parse_run_args(argc, argv, prog, a);
    if (code == EXIT_OK)
        code = default_db(a);
    if (code != EXIT_OK)
        return code;
    a->o.models = a->models;
    a->o.build = "fleet-sim " __DATE__;
    a->o.log = a->verbose ? stdout : NULL;
    a->o.status = !a->quiet && !a->verbose && isatty(STDERR_FILENO) ? stderr : NULL;
    rf_sim_run_trail trail;
    rf_sim_run_trail_init(&trail, a->determinism ? RUN_TRAIL_STEPS_MAX : 0);
    if (a->determinism)
        a->o.trail = &trail;
    rf_sim_run_result res;
    int rc = rf_sim_run(&a->o, &res);
    if (rc != RF_OK || res.error[0] != '\0') {
        if (res.exit_code == EXIT_USAGE)
            fprintf(stderr, "%s\n", res.error[0] ? res.error : rf_strerror(rc));
        rf_sim_run_trail_close(&trail);
        return rc != RF_OK ? EXIT_USAGE : res.exit_code;
    }
    code = res.exit_code;
    if (a->determinism && code != EXIT_USAGE) {
        int d = determinism_second_run(a, &trail, &res);
        if (d != EXIT_OK)
            code = d;
    }
    rf_sim_run_trail_close(&trail);
    return code;
}

static int cmd_run(int argc, char **argv)
{
    static run_args a; /* big: kept off the stack */
    memset(&a, 0, sizeof a);
    int code = cmd_run_with(&a, "build/bin/fleet-sim", argc, argv);
    for (uint32_t i = 0; i < a.n_libs; i++)
        dlclose(a.libs[i]);
    return code;
}

static int cmd_schedules(int argc, char **argv)
{
    uint64_t from = 0, count = 0, members = 0;
    bool have_from = false, have_count = false;
    for (int i = 0; i < argc; i++) {
        uint64_t v;
        bool has_value = i + 1 < argc && parse_u64(argv[i + 1], &v) == RF_OK;
        if (strcmp(argv[i], "--from") == 0 && has_value) {
            from = v;
            have_from = true;
        } else if (strcmp(argv[i], "--count") == 0 && has_value && v > 0) {
            count = v;
            have_count = true;
        } else if (strcmp(argv[i], "--members") == 0 && has_value &&
                   v >= RF_SIM_SCHEDULE_MEMBERS_MIN && v <= RF_SIM_SCHEDULE_MEMBERS_MAX) {
            members = v;
        } else {
            fprintf(stderr, "fleet-sim schedules: bad argument '%s'\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
        i++;
    }
    if (!have_from || !have_count) {
        fprintf(stderr, "fleet-sim schedules: --from N and --count K are required\n");
        return EXIT_USAGE;
    }
    uint64_t violations = 0, events = 0;
    for (uint64_t seed = from; seed - from < count; seed++) {
        rf_sim_schedule_opts o = {.seed = seed, .members = (uint32_t)members};
        rf_sim_schedule_result r;
        int rc = rf_sim_schedule_run(&o, &r);
        if (rc != RF_OK) {
            fprintf(stderr, "fleet-sim schedules: seed %" PRIu64 ": %s\n", seed, rf_strerror(rc));
            return EXIT_USAGE;
        }
        events += r.events;
        if (r.violations == 0)
            continue;
        violations++;
        printf("seed %" PRIu64 " members %u: VIOLATION at %" PRIu64 " ns: %s\n"
               "  replay: build/bin/fleet-sim schedule --seed %" PRIu64 " --members %u --verbose\n",
               seed, r.members, r.violation_ns, r.first.text, seed, r.members);
        fflush(stdout);
    }
    printf("schedules: %" PRIu64 " ran (seeds %" PRIu64 "..%" PRIu64 "), %" PRIu64
           " violations, %" PRIu64 " events\n",
           count, from, from + count - 1, violations, events);
    return violations == 0 ? EXIT_OK : EXIT_VIOLATION;
}

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"run", cmd_run},
    {"fuzz", rf_fuzz_cmd_fuzz},
    {"replay", rf_fuzz_cmd_replay},
    {"shrink", rf_fuzz_cmd_shrink},
    {"schedule", cmd_schedule},
    {"schedules", cmd_schedules},
};

int main(int argc, char **argv)
{
    rf_assert_set_handler(print_assert);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "fleet-sim: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}

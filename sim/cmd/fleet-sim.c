/* fleet-sim: the simulator's command line; subcommands dispatch to sim/ (today: schedule). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rf_assert.h"
#include "base/rf_err.h"
#include "sim/schedule.h"

enum { EXIT_OK = 0, EXIT_VIOLATION = 1, EXIT_USAGE = 2 };

static void print_assert(const char *expr, const char *file, int line)
{
    fprintf(stderr, "fleet-sim: ASSERT failed: %s (%s:%d)\n", expr, file, line);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: fleet-sim COMMAND [options]\n"
               "commands:\n"
               "  schedule --seed N [--members M] [--verbose] [--history PATH.jsonl]\n"
               "      runs one seeded random fault schedule against a Raft group of M members\n"
               "      (3..7; drawn from the seed when omitted) and checks safety after every\n"
               "      step and liveness after the heal\n"
               "  schedules --from N --count K [--members M]\n"
               "      runs the schedules of seeds N..N+K-1 and prints each violation with its\n"
               "      replay command, then a summary\n"
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

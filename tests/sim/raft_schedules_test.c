/* The seeded random schedules of sim/schedule.c against core/raft: at least 2,000, with zero violations. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>

#include "base/rf_err.h"
#include "sim/schedule.h"

/* Sanitizer builds run about 5 times slower; they run a quarter of the
 * schedules and say so in the summary line. */
#if defined(__SANITIZE_ADDRESS__)
#define SCHEDULES 500u
#define SCHEDULES_NOTE " (sanitizer build: a quarter of the 2000)"
#else
#define SCHEDULES 2000u
#define SCHEDULES_NOTE ""
#endif

START_TEST(test_random_schedules_keep_raft_safe_and_live)
{
    uint64_t violations = 0, events = 0, sim_ns = 0, ops = 0, crashes = 0, lost = 0, torn = 0;
    uint64_t admin_ok = 0, linz_unknown = 0, installs = 0;
    uint32_t ran = 0;
    for (uint32_t i = 0; i < SCHEDULES; i++) {
        rf_sim_schedule_opts o = {.seed = i + 1, .members = 3 + i % 5};
        rf_sim_schedule_result r;
        ck_assert_int_eq(rf_sim_schedule_run(&o, &r), RF_OK);
        ran++;
        events += r.events;
        sim_ns += r.sim_ns;
        ops += r.stats.ops_ok;
        crashes += r.stats.crashes;
        lost += r.stats.writes_lost;
        torn += r.stats.torn_writes;
        admin_ok += r.stats.admin_ok;
        linz_unknown += r.linz_unknown;
        installs += r.stats.snapshots_installed;
        if (r.violations == 0)
            continue;
        violations++;
        printf("schedule seed %" PRIu64 " members %u: VIOLATION at %" PRIu64 " ns: %s\n"
               "  replay: build/bin/fleet-sim schedule --seed %" PRIu64 " --members %u --verbose\n",
               r.seed, r.members, r.violation_ns, r.first.text, r.seed, r.members);
    }
    printf("raft schedules: %u ran, %" PRIu64 " violations%s\n", ran, violations, SCHEDULES_NOTE);
    printf("raft schedules: %" PRIu64 " events, %" PRIu64 " s simulated, %" PRIu64
           " ops acknowledged, %" PRIu64 " crashes (%" PRIu64 " unsynced writes lost, %" PRIu64
           " torn), %" PRIu64 " membership/transfer requests done, %" PRIu64
           " snapshots installed, %" PRIu64
           " histories too hard for the linearizability checker's budget\n",
           events, sim_ns / 1000000000u, ops, crashes, lost, torn, admin_ok, installs,
           linz_unknown);
    fflush(stdout);
    ck_assert_uint_eq(ran, SCHEDULES);
    ck_assert_msg(violations == 0, "%" PRIu64 " of %u schedules found violations (see above)",
                  violations, ran);
}
END_TEST

Suite *raft_schedules_suite(void)
{
    Suite *s = suite_create("raft_schedules");
    TCase *tc = tcase_create("schedules");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_random_schedules_keep_raft_safe_and_live);
    suite_add_tcase(s, tc);
    return s;
}

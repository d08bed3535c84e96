/* run_tests: the Check runner for every suite under tests/ (see Makefile). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/rf_assert.h"

#define SUITE(name) Suite *name##_suite(void);
#include "suites.inc"
#undef SUITE

static void print_assert(const char *expr, const char *file, int line)
{
    fprintf(stderr, "ASSERT failed: %s (%s:%d)\n", expr, file, line);
}

int main(void)
{
    rf_assert_set_handler(print_assert);
    SRunner *runner = srunner_create(NULL);
#define SUITE(name) srunner_add_suite(runner, name##_suite());
#include "suites.inc"
#undef SUITE
    srunner_run_all(runner, CK_ENV);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

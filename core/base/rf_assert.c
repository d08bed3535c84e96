/* rf_assert: the failure path of ASSERT. */
#include <stdlib.h>

#include "base/rf_assert.h"

static rf_assert_handler_fn assert_handler;

_Noreturn void rf_assert_fail(const char *expr, const char *file, int line)
{
    if (assert_handler != NULL)
        assert_handler(expr, file, line);
    abort();
}

rf_assert_handler_fn rf_assert_set_handler(rf_assert_handler_fn fn)
{
    rf_assert_handler_fn old = assert_handler;
    assert_handler = fn;
    return old;
}

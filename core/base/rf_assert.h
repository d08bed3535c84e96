/* rf_assert: assertions that stay on in release builds. */
#ifndef RF_ASSERT_H
#define RF_ASSERT_H

/* ASSERT documents and enforces internal invariants. It is never compiled
 * out (NDEBUG does not touch it): the invariants it guards protect data.
 * It is for what the code itself guarantees, never for what arrives from
 * outside (messages, files, user input): those get an error code. */
#define ASSERT(cond)                                                   \
    do {                                                               \
        if (__builtin_expect(!(cond), 0))                              \
            rf_assert_fail(#cond, __FILE__, __LINE__);                 \
    } while (0)

/* Marks a branch that must be unreachable. */
#define UNREACHABLE() rf_assert_fail("unreachable", __FILE__, __LINE__)

typedef void (*rf_assert_handler_fn)(const char *expr, const char *file, int line);

/* Reports the failure through the installed handler, then aborts. */
_Noreturn void rf_assert_fail(const char *expr, const char *file, int line);

/* Drivers install a handler that prints the failure (core cannot print).
 * The handler may not return normally; if it does, abort() follows.
 * Returns the previous handler. Not thread-safe: call at start-up. */
rf_assert_handler_fn rf_assert_set_handler(rf_assert_handler_fn fn);

#endif

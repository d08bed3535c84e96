/* log: fleetd's leveled log lines on stderr. */
#ifndef PROD_LOG_H
#define PROD_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* One line per event:
 *   2026-11-26T13:05:46.123Z n1 WARN peer 127.0.0.1:7102: bad frame: bad magic ...
 * UTC wall-clock time with milliseconds, the node name, the level, the
 * message. A line is written with a single write(2) so that lines of
 * concurrent writers (the fsync worker) do not interleave. Control bytes
 * in the message are replaced by '?', so text that came from the network
 * cannot forge log lines. Never log a secret: the cluster secret and the
 * client password are held only by auth.c and client.c. */

typedef enum rf_log_level {
    RF_LOG_ERROR = 0,
    RF_LOG_WARN = 1,
    RF_LOG_INFO = 2,
    RF_LOG_DEBUG = 3
} rf_log_level;

#define RF_LOG_LINE_BYTES_MAX 1024u /* longer messages are cut */

/* Where lines go: by default stderr; tests capture them. */
typedef void (*rf_log_sink_fn)(void *arg, rf_log_level level, const char *line, size_t len);

void rf_log_set_level(rf_log_level level);
rf_log_level rf_log_get_level(void);
/* The node name put on every line (copied, at most 64 bytes). */
void rf_log_set_name(const char *name);
/* NULL restores stderr. */
void rf_log_set_sink(rf_log_sink_fn fn, void *arg);

/* "error" "warn" "info" "debug" -> 0 and *out; anything else RF_EINVAL. */
int rf_log_level_parse(const char *text, rf_log_level *out);
const char *rf_log_level_name(rf_log_level level);

static inline bool rf_log_enabled(rf_log_level level)
{
    return level <= rf_log_get_level();
}

__attribute__((format(printf, 2, 3))) void rf_logf(rf_log_level level, const char *fmt, ...);

#define rf_log_error(...) rf_logf(RF_LOG_ERROR, __VA_ARGS__)
#define rf_log_warn(...) rf_logf(RF_LOG_WARN, __VA_ARGS__)
#define rf_log_info(...) rf_logf(RF_LOG_INFO, __VA_ARGS__)
#define rf_log_debug(...) \
    do { if (rf_log_enabled(RF_LOG_DEBUG)) rf_logf(RF_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif

/* log: fleetd's leveled log lines on stderr. */
#include "prod/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/rf_err.h"

/* Set at start-up from the main thread; the worker only reads them. */
static rf_log_level log_level = RF_LOG_INFO;
static char log_name[65] = "-";
static rf_log_sink_fn log_sink;
static void *log_sink_arg;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const level_tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void rf_log_set_level(rf_log_level level)
{
    log_level = level;
}

rf_log_level rf_log_get_level(void)
{
    return log_level;
}

void rf_log_set_name(const char *name)
{
    snprintf(log_name, sizeof log_name, "%s", name && name[0] ? name : "-");
}

void rf_log_set_sink(rf_log_sink_fn fn, void *arg)
{
    log_sink = fn;
    log_sink_arg = arg;
}

int rf_log_level_parse(const char *text, rf_log_level *out)
{
    for (int i = 0; i <= RF_LOG_DEBUG; i++) {
        if (strcasecmp(text, level_names[i]) == 0) {
            *out = (rf_log_level)i;
            return RF_OK;
        }
    }
    return RF_EINVAL;
}

const char *rf_log_level_name(rf_log_level level)
{
    return level >= RF_LOG_ERROR && level <= RF_LOG_DEBUG ? level_names[level] : "?";
}

static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere left to report it */
        p += w;
        n -= (size_t)w;
    }
}

void rf_logf(rf_log_level level, const char *fmt, ...)
{
    if (level > log_level || level < RF_LOG_ERROR)
        return;
    char line[RF_LOG_LINE_BYTES_MAX + 1];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int head = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s ",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                        tm.tm_sec, ts.tv_nsec / 1000000, log_name, level_tags[level]);
    if (head < 0 || (size_t)head >= sizeof line - 2)
        head = 0;
    va_list ap;
    va_start(ap, fmt);
    int body = vsnprintf(line + head, sizeof line - (size_t)head - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)head;
    if (body > 0)
        len += (size_t)body < sizeof line - (size_t)head - 1 ? (size_t)body
                                                            : sizeof line - (size_t)head - 2;
    for (size_t i = (size_t)head; i < len; i++)
        if ((unsigned char)line[i] < 32 || line[i] == 127)
            line[i] = '?';
    line[len++] = '\n';
    if (log_sink)
        log_sink(log_sink_arg, level, line, len);
    else
        write_all(line, len);
}

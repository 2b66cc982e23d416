/* log: formatting of log lines. Timestamps are UTC with milliseconds so that lines from
 * the broker and the nodes of a street interleave correctly when merged. */
#include "log.h"

#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum log_level log_threshold = LOG_INFO;
static const char *log_component = "dualsync";

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void log_set_component(const char *component)
{
    log_component = component;
}

void log_set_level(enum log_level level)
{
    log_threshold = level;
}

int log_parse_level(const char *text, enum log_level *level_out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(text, names[i]) == 0) {
            *level_out = (enum log_level)i;
            return DS_OK;
        }
    }
    return DS_EINVAL;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    struct timespec ts;
    struct tm tm;
    char stamp[32];
    char line[2048];
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One fprintf per line so that concurrent writers to a shared stderr do not interleave
     * within a line. */
    fprintf(stderr, "%s.%03ldZ %s %s %s\n", stamp, ts.tv_nsec / 1000000L, level_names[level],
            log_component, line);
}

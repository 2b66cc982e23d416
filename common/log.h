/* log: one line per event on stderr, key=value context, level checked before formatting.
 *   2026-11-28T03:04:05.678Z WARN broker peer=community:hy-03 msg="heartbeat missed"
 * The only global state in dualsync is this module's configuration. Not thread-safe to
 * reconfigure; safe to call from one thread at a time (each process here is one thread). */
#ifndef DUALSYNC_LOG_H
#define DUALSYNC_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern enum log_level log_threshold;

/* Sets the component name printed on each line ("broker", "node", "cli"). Borrowed:
 * the string must outlive all logging (a literal). */
void log_set_component(const char *component);
void log_set_level(enum log_level level);
/* Parses "error", "warn", "info" or "debug". DS_EINVAL on anything else. */
int log_parse_level(const char *text, enum log_level *level_out);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_at(level, ...)                                                                         \
    do {                                                                                           \
        if ((level) <= log_threshold)                                                              \
            log_write((level), __VA_ARGS__);                                                       \
    } while (0)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

#endif

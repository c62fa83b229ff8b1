/*
 * log.h — diagnostics to stderr, mirrored as `log` events.
 *
 * log_warn() appends strerror(errno); log_warnx() does not; fatalx() logs
 * and exits 1. Every line passes through the secret redactor first, so a
 * password that leaks into a library message never reaches a terminal, a
 * log file, an event or a webhook.
 */
#ifndef CO_LOG_H
#define CO_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "lib/secrets.h"   /* redact(), used on every line */

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_init(const char *progname, enum log_level min_level);
void log_set_quiet(int quiet); /* info lines off (status/ctl clients) */

/* Mirror each line to `sink` (the event bus) as well; sink may be NULL. */
typedef void (*log_sink_fn)(enum log_level level, const char *line);
void log_set_sink(log_sink_fn sink);
/* Keep this thread's lines out of the sink (the notifier: its own delivery
 * warnings must not become events it then has to deliver). */
void log_thread_quiet_sink(int quiet);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif

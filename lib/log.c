/* log.c — stderr diagnostics and the log event mirror. */
#include "lib/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *log_progname = "cutover";
static enum log_level log_min = LOG_INFO;
static int log_quiet;
static log_sink_fn log_sink;
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;

void log_init(const char *progname, enum log_level min_level)
{
    log_progname = progname;
    log_min = min_level;
    if (getenv("CUTOVER_DEBUG"))
        log_min = LOG_DEBUG;
}

void log_set_quiet(int quiet) { log_quiet = quiet; }
void log_set_sink(log_sink_fn sink) { log_sink = sink; }

static __thread int thread_quiet_sink;
void log_thread_quiet_sink(int quiet) { thread_quiet_sink = quiet; }

static void log_emit(enum log_level level, int with_errno, const char *fmt,
                     va_list ap)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    char line[2048];
    char stamp[32];
    int saved = errno;
    time_t now = time(NULL);
    struct tm tm;
    size_t len;

    if (level < log_min || (log_quiet && level == LOG_INFO))
        return;
    vsnprintf(line, sizeof line, fmt, ap);
    len = strlen(line);
    if (with_errno && len < sizeof line - 4)
        snprintf(line + len, sizeof line - len, ": %s", strerror(saved));
    redact(line, sizeof line);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
    pthread_mutex_lock(&log_mutex);
    fprintf(stderr, "%s %s: %s%s%s\n", stamp, log_progname,
            level >= LOG_WARN ? names[level] : "",
            level >= LOG_WARN ? ": " : "", line);
    pthread_mutex_unlock(&log_mutex);
    if (log_sink && level >= LOG_INFO && !thread_quiet_sink)
        log_sink(level, line);
    errno = saved;
}

#define LOG_FN(fn, level, with_errno)                                        \
    void fn(const char *fmt, ...)                                           \
    {                                                                       \
        va_list ap;                                                         \
        va_start(ap, fmt);                                                  \
        log_emit(level, with_errno, fmt, ap);                               \
        va_end(ap);                                                         \
    }

LOG_FN(log_debug, LOG_DEBUG, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_warn, LOG_WARN, 1)
LOG_FN(log_warnx, LOG_WARN, 0)
LOG_FN(log_error, LOG_ERROR, 0)

void fatalx(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_emit(LOG_ERROR, 0, fmt, ap);
    va_end(ap);
    exit(1);
}

/* events.c — sequenced, timestamped events to a file and to listeners. */
#include "lib/events.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/state_dir.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/xalloc.h"

#define MAX_LISTENERS 8

struct listener {
    event_listener_fn fn;
    void *arg;
};

static pthread_mutex_t bus_mutex = PTHREAD_MUTEX_INITIALIZER;
static int bus_fd = -1;
static int64_t bus_seq;
static struct listener listeners[MAX_LISTENERS];

void events_ts(char out[32])
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + 19, 13, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Last complete line's seq; appends '\n' if the file ends mid-line. */
static int64_t scan_last_seq(int fd)
{
    struct stat st;
    char buf[65536];
    off_t start;
    ssize_t n;
    int64_t seq = 0;

    if (fstat(fd, &st) < 0 || st.st_size == 0)
        return 0;
    start = st.st_size > (off_t)sizeof buf - 1 ? st.st_size -
            (off_t)sizeof buf + 1 : 0;
    n = pread(fd, buf, sizeof buf - 1, start);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    if (buf[n - 1] != '\n') {
        if (write(fd, "\n", 1) < 0)
            log_warn("events.ndjson: cannot fence off a torn last line");
        char *nl = strrchr(buf, '\n');
        if (nl)
            nl[1] = '\0';
        else
            buf[0] = '\0';
    }
    for (char *p = buf; (p = strstr(p, "\"seq\":")) != NULL; p += 6) {
        int64_t s = strtoll(p + 6, NULL, 10);
        if (s > seq)
            seq = s;
    }
    return seq;
}

int events_open(const char *state_dir, struct co_err *err)
{
    int fd;

    fd = state_file_open(state_dir, "events.ndjson",
                         O_WRONLY | O_APPEND | O_CREAT, err);
    if (fd < 0)
        return fd;
    int rfd = state_file_open(state_dir, "events.ndjson", O_RDWR | O_APPEND,
                              NULL);
    int64_t last = rfd >= 0 ? scan_last_seq(rfd) : 0;
    if (rfd >= 0)
        close(rfd);
    pthread_mutex_lock(&bus_mutex);
    bus_fd = fd;
    bus_seq = last;
    pthread_mutex_unlock(&bus_mutex);
    return 0;
}

void events_close(void)
{
    pthread_mutex_lock(&bus_mutex);
    if (bus_fd >= 0)
        close(bus_fd);
    bus_fd = -1;
    pthread_mutex_unlock(&bus_mutex);
}

static const char *const event_type_names[] = {
#define X(id, name, streamed) name,
    EVENT_TYPES(X)
#undef X
};

static const char event_type_streamed[] = {
#define X(id, name, streamed) streamed,
    EVENT_TYPES(X)
#undef X
};

const char *event_type_name(enum event_type t)
{
    return names_at(event_type_names, EVT__COUNT, (int)t);
}

int event_type_by_name(const char *name)
{
    return names_index(event_type_names, EVT__COUNT, name);
}

int event_type_is_streamed(enum event_type t)
{
    return (unsigned)t < EVT__COUNT && event_type_streamed[t];
}

json_t *events_emit_get(enum event_type type, json_t *fields)
{
    static __thread int inside;   /* a listener emitting (by logging) */
    json_t *ev = fields ? fields : json_object();
    char ts[32];
    char *line;
    size_t len;

    if (inside) {
        /* The bus lock is held by this very thread: the nested event
         * (a listener's log line) goes to stderr only. */
        json_decref(ev);
        return NULL;
    }
    inside = 1;
    pthread_mutex_lock(&bus_mutex);
    if (bus_fd < 0) {
        pthread_mutex_unlock(&bus_mutex);
        inside = 0;
        json_decref(ev);
        return NULL;
    }
    events_ts(ts);
    json_object_set_new(ev, "seq", json_integer(++bus_seq));
    json_object_set_new(ev, "ts", json_string(ts));
    json_object_set_new(ev, "type", json_string(event_type_name(type)));
    redact_json(ev);
    line = json_dumps(ev, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (line) {
        len = strlen(line);
        char *out = xrealloc(line, len + 2);
        if (out) {
            line = out;
            line[len++] = '\n';
            line[len] = '\0';
            if (write(bus_fd, line, len) < 0)
                log_warn("events.ndjson: event %lld not written",
                         (long long)bus_seq);
            for (int i = 0; i < MAX_LISTENERS; i++)
                if (listeners[i].fn)
                    listeners[i].fn(listeners[i].arg, line, len, ev);
        }
        free(line);
    }
    pthread_mutex_unlock(&bus_mutex);
    inside = 0;
    return ev;
}

int64_t events_emit(enum event_type type, json_t *fields)
{
    json_t *ev = events_emit_get(type, fields);
    int64_t seq = ev ? json_integer_value(json_object_get(ev, "seq")) : 0;

    json_decref(ev);
    return seq;
}

int events_listen(event_listener_fn fn, void *arg)
{
    int id = -1;

    pthread_mutex_lock(&bus_mutex);
    for (int i = 0; i < MAX_LISTENERS && id < 0; i++)
        if (!listeners[i].fn) {
            listeners[i].fn = fn;
            listeners[i].arg = arg;
            id = i;
        }
    pthread_mutex_unlock(&bus_mutex);
    return id;
}

void events_unlisten(int id)
{
    if (id < 0 || id >= MAX_LISTENERS)
        return;
    pthread_mutex_lock(&bus_mutex);
    listeners[id].fn = NULL;
    pthread_mutex_unlock(&bus_mutex);
}

int64_t events_last_seq(void)
{
    int64_t s;
    pthread_mutex_lock(&bus_mutex);
    s = bus_seq;
    pthread_mutex_unlock(&bus_mutex);
    return s;
}

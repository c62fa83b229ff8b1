/*
 * events.h — the event stream (DESIGN §7): every event gets the next `seq`
 * and a `ts` (RFC 3339, UTC, milliseconds), is appended as one line to
 * state_dir/events.ndjson and handed to the listeners (the progress socket,
 * the notifier). Thread-safe; listeners run under the bus lock and must
 * only queue.
 *
 * Sequence numbers continue across resumes: events_open() reads the last
 * seq from the existing file (a torn last line from a crash is fenced off
 * with a newline).
 */
#ifndef CO_EVENTS_H
#define CO_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#include "lib/errors.h"

/* Every type of line on the event stream and the progress socket (DESIGN
 * §7), named here only: id, name, and whether it is an event of the
 * stream (seq, ts, events.ndjson, what webhooks may subscribe to) or a
 * line only the socket sends. */
#define EVENT_TYPES(X)                                                       \
    X(STAGE,       "stage",       1)                                        \
    X(PROGRESS,    "progress",    1)                                        \
    X(SYNC,        "sync",        1)                                        \
    X(VERIFY,      "verify",      1)                                        \
    X(TRIGGER,     "trigger",     1)                                        \
    X(ALERT,       "alert",       1)                                        \
    X(CUTOVER,     "cutover",     1)                                        \
    X(LOG,         "log",         1)                                        \
    X(COMPLETED,   "completed",   1)                                        \
    X(FAILED,      "failed",      1)                                        \
    X(ABORTED,     "aborted",     1)                                        \
    X(ROLLED_BACK, "rolled_back", 1)                                        \
    X(PAUSED,      "paused",      1)                                        \
    X(CHECK,       "check",       1)                                        \
    X(REPLICA,     "replica",     1)                                        \
    X(THROTTLE,    "throttle",    1)                                        \
    X(HELLO,       "hello",       0)   /* socket: first line to a client */ \
    X(REPLY,       "reply",       0)   /* socket: answer to a command */    \
    X(DROPPED,     "dropped",     0)   /* socket: a slow client's last */

enum event_type {
#define X(id, name, streamed) EVT_##id,
    EVENT_TYPES(X)
#undef X
    EVT__COUNT
};

const char *event_type_name(enum event_type t);
int event_type_by_name(const char *name);       /* -1 when unknown */
/* An event of the stream (not a socket-only line)? */
int event_type_is_streamed(enum event_type t);

int events_open(const char *state_dir, struct co_err *err);
void events_close(void);

/* Emit an event of `type` with the fields of `fields` (stolen; may be
 * NULL). Returns its seq (0 when the bus is closed: nothing written). */
int64_t events_emit(enum event_type type, json_t *fields);

/* Emit and also return a new reference to the full event. */
json_t *events_emit_get(enum event_type type, json_t *fields);

typedef void (*event_listener_fn)(void *arg, const char *line, size_t len,
                                  json_t *event);
int events_listen(event_listener_fn fn, void *arg);   /* returns an id */
void events_unlisten(int id);

int64_t events_last_seq(void);

/* Current time as RFC 3339 UTC with milliseconds. */
void events_ts(char out[32]);
double now_s(void);           /* wall clock, seconds */
double mono_s(void);          /* monotonic clock, seconds */

#endif

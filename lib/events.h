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

int events_open(const char *state_dir, struct co_err *err);
void events_close(void);

/* Emit an event of `type` with the fields of `fields` (stolen; may be
 * NULL). Returns its seq (0 when the bus is closed: nothing written). */
int64_t events_emit(const char *type, json_t *fields);

/* Emit and also return a new reference to the full event. */
json_t *events_emit_get(const char *type, json_t *fields);

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

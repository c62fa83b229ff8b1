/*
 * protocol.h — the progress socket's client messages (DESIGN §7): one JSON
 * object per line, {"cmd": "status"|"pause"|"resume"|"throttle"|"cutover"|
 * "abort"|"rollback"|"alert", ...}. Parsing is a pure function so it can be
 * fuzzed on its own.
 */
#ifndef CO_PROTOCOL_H
#define CO_PROTOCOL_H

#include <stddef.h>

#define PROTOCOL_MAX_LINE 65536

enum request_kind {
    REQ_STATUS, REQ_PAUSE, REQ_RESUME, REQ_THROTTLE, REQ_CUTOVER, REQ_ABORT,
    REQ_ROLLBACK, REQ_ALERT
};

struct request {
    enum request_kind kind;
    double rows_per_s;        /* throttle */
    char name[96];            /* alert */
    char severity[32];
};

/* Parse one line (without its newline). Returns 0, or -1 with a message
 * for the error reply. */
int protocol_parse(const char *line, size_t len, struct request *out,
                   char *error, size_t cap);

/* Does this request change anything (needs the owner's uid or root)? */
int protocol_is_control(const struct request *r);

#endif

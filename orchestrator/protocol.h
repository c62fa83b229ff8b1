/*
 * protocol.h — the progress socket's client messages (DESIGN §7): one JSON
 * object per line, {"cmd": NAME, ...} with a NAME of CTL_COMMANDS. Parsing
 * is a pure function so it can be fuzzed on its own.
 */
#ifndef CO_PROTOCOL_H
#define CO_PROTOCOL_H

#include <stddef.h>

#define PROTOCOL_MAX_LINE 65536

/* The commands of the socket and of `cutover ctl` (DESIGN §2, §7), named
 * here only (the conductor's command_kind follows this order): id, name,
 * what follows the name on the ctl command line. All but status change
 * the migration: only the orchestrator's uid or root may send them. */
#define CTL_COMMANDS(X)                                                      \
    X(STATUS,   "status",   "")                                             \
    X(PAUSE,    "pause",    "")                                             \
    X(RESUME,   "resume",   "")                                             \
    X(CUTOVER,  "cutover",  "")                                             \
    X(ABORT,    "abort",    "")                                             \
    X(ROLLBACK, "rollback", "")                                             \
    X(THROTTLE, "throttle", "ROWS_PER_S")                                   \
    X(ALERT,    "alert",    "NAME [SEVERITY]")

enum request_kind {
#define X(id, name, args) REQ_##id,
    CTL_COMMANDS(X)
#undef X
    REQ__COUNT
};

const char *request_name(enum request_kind k);
int request_by_name(const char *name);          /* -1 when unknown */
/* How `cutover ctl` takes it: "throttle ROWS_PER_S", "pause". */
const char *request_usage(enum request_kind k);
/* The names joined by ", " (from `first` on), for messages. */
void request_names(enum request_kind first, char *out, size_t cap);

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

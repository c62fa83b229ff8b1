/*
 * errors.h — the one list of error codes, and the error value that carries
 * context.
 *
 * Every function that can fail returns 0 or a negative CO_E* code and, when
 * given a `struct co_err *`, fills its message with what failed and where
 * (runbook JSON path, table, key, column) and what to do about it. Library
 * errors (MySQL, SQLite, libuv, curl, OpenSSL) are translated at the driver
 * boundary, so callers above sync/ only ever see these codes.
 *
 * Codes are numbered once here and never renumbered: they appear in
 * checkpoints and events.
 */
#ifndef CO_ERRORS_H
#define CO_ERRORS_H

#include <stdarg.h>
#include <stddef.h>

#define CO_ERRORS(X)                                                         \
    X(OK,          0,  "success")                                           \
    X(USAGE,       1,  "invalid command line")                              \
    X(RUNBOOK,     2,  "invalid runbook")                                   \
    X(IO,          3,  "file system error")                                 \
    X(CHECKPOINT,  4,  "checkpoint missing, corrupt or incompatible")       \
    X(LOCKED,      5,  "another orchestrator holds the state dir")          \
    X(SOURCE,      6,  "source database error")                             \
    X(TARGET,      7,  "target database error")                             \
    X(SCHEMA,      8,  "schema cannot be migrated as is")                   \
    X(DATA,        9,  "a value cannot be stored on the target")            \
    X(BUSY,        10, "source database is locked by another writer")       \
    X(MISMATCH,    11, "source and target differ")                          \
    X(INTERRUPTED, 12, "interrupted")                                       \
    X(NOMEM,       13, "out of memory")                                     \
    X(TIMEOUT,     14, "timed out")                                         \
    X(ACTION,      15, "an action failed")                                  \
    X(CHANGED,     16, "the source schema changed during the migration")    \
    X(STATE,       17, "not allowed in the current state")                  \
    X(BLOCKED,     18, "pre-validation found blocking problems")            \
    X(OVERRUN,     19, "write pause would exceed max_write_pause_ms")       \
    X(CRYPTO,      20, "encryption or decryption failed")                   \
    X(PROTOCOL,    21, "malformed message")                                 \
    X(EXISTS,      22, "already exists")                                    \
    X(CONNLOST,    23, "the connection to a database was lost")          \
    X(UNSUPPORTED, 24, "the database driver does not support this")        \
    X(GAP,         25, "the source no longer has changes not yet applied")

enum co_error {
#define X(name, num, msg) CO_E##name = -(num),
    CO_ERRORS(X)
#undef X
};

/* Process exit codes (DESIGN §2): stable, users and tests depend on them,
 * never renumbered. */
enum co_exit_code {
    EXIT_OK = 0,           /* completed, or nothing wrong */
    EXIT_ERROR = 1,        /* an error (failed state included) */
    EXIT_USAGE = 2,        /* usage, or an invalid runbook */
    EXIT_FINDINGS = 3,     /* plan: blocking findings; verify: mismatches */
    EXIT_ABORTED = 4,
    EXIT_ROLLED_BACK = 5,
    EXIT_PAUSED = 6,       /* paused or interrupted: `cutover resume` */
};

/* An error value with a message buffer; zero-initialize before use. */
struct co_err {
    int code;
    char msg[1024];
};

/* Symbolic name ("TARGET") and generic message of a code. */
const char *co_err_name(int code);
int co_err_by_name(const char *name);   /* 0 when unknown */
const char *co_err_generic(int code);

/* Record `code` with a formatted message; returns `code` so callers can
 * write `return co_errf(err, CO_ETARGET, "...")`. err may be NULL. */
int co_errf(struct co_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int co_verrf(struct co_err *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prefix the existing message with more context ("table orders: ..."). */
int co_err_prefix(struct co_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* n shortened so that the first n bytes of s do not end with a partial
 * UTF-8 character: where a message or name can be cut. */
size_t utf8_whole_chars(const char *s, size_t n);

/* Message of err, or the generic message when none was recorded. */
const char *co_err_text(const struct co_err *err);

/* Return from the calling function when expr (0 or a negative CO_E*)
 * fails: for validators that check one thing after another. */
#define TRY(expr)                                                            \
    do {                                                                    \
        int rc_ = (expr);                                                   \
        if (rc_ < 0)                                                        \
            return rc_;                                                     \
    } while (0)

#endif

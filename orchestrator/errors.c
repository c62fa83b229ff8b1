/* errors.c — names and messages of the CO_E* codes, and error formatting. */
#include "orchestrator/errors.h"

#include <stdio.h>
#include <string.h>

const char *co_err_name(int code)
{
    switch (code) {
#define X(name, num, msg) case -(num): return #name;
        CO_ERRORS(X)
#undef X
    }
    return "UNKNOWN";
}

int co_err_by_name(const char *name)
{
#define X(id, num, msg) if (strcmp(name, #id) == 0) return -(num);
    CO_ERRORS(X)
#undef X
    return 0;
}

const char *co_err_generic(int code)
{
    switch (code) {
#define X(name, num, msg) case -(num): return msg;
        CO_ERRORS(X)
#undef X
    }
    return "unknown error";
}

int co_verrf(struct co_err *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

int co_errf(struct co_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    co_verrf(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int co_err_prefix(struct co_err *err, const char *fmt, ...)
{
    char head[256], old[sizeof err->msg];
    va_list ap;

    if (!err)
        return 0;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(head), o = strlen(old);
    if (n + 2 + o >= sizeof err->msg)
        o = sizeof err->msg - n - 3;
    memcpy(err->msg, head, n);
    memcpy(err->msg + n, ": ", 2);
    memcpy(err->msg + n + 2, old, o);
    err->msg[n + 2 + o] = '\0';
    return err->code;
}

const char *co_err_text(const struct co_err *err)
{
    if (!err)
        return "";
    if (err->msg[0])
        return err->msg;
    return co_err_generic(err->code);
}

/* errors.c — names and messages of the CO_E* codes, and error formatting. */
#include "lib/errors.h"

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

size_t utf8_whole_chars(const char *s, size_t n)
{
    size_t lead = n, need;
    unsigned char c;

    while (lead > 0 && ((unsigned char)s[lead - 1] & 0xC0) == 0x80)
        lead--;
    if (lead == 0)
        return n;
    c = (unsigned char)s[lead - 1];
    need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return n - (lead - 1) < need ? lead - 1 : n;
}

/* A message cut by the buffer must not end inside a character: it goes
 * into checkpoints and JSON events, which refuse invalid UTF-8. */
static void cut_on_character(char *msg, size_t cap)
{
    size_t n = strlen(msg);

    if (n == cap - 1)
        msg[utf8_whole_chars(msg, n)] = '\0';
}

int co_verrf(struct co_err *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        cut_on_character(err->msg, sizeof err->msg);
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
        o = utf8_whole_chars(old, sizeof err->msg - n - 3);
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

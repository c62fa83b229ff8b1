/* sbuf.c — growable buffer with identifier quoting. */
#include "lib/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

void sbuf_init(struct sbuf *b) { memset(b, 0, sizeof *b); }

void sbuf_free(struct sbuf *b)
{
    free(b->p);
    sbuf_init(b);
}

void sbuf_reset(struct sbuf *b)
{
    b->len = 0;
    b->oom = 0;
    if (b->p)
        b->p[0] = '\0';
}

int sbuf_reserve(struct sbuf *b, size_t extra)
{
    size_t cap;
    char *p;

    if (b->oom)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    p = xrealloc(b->p, cap);
    b->p = p;
    b->cap = cap;
    return 0;
}

void sbuf_add(struct sbuf *b, const void *p, size_t n)
{
    if (sbuf_reserve(b, n) < 0)
        return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sbuf_adds(struct sbuf *b, const char *s) { sbuf_add(b, s, strlen(s)); }

void sbuf_addc(struct sbuf *b, char c)
{
    if (sbuf_reserve(b, 1) < 0)
        return;
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

void sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || sbuf_reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sbuf_ident(struct sbuf *b, const char *name, char q)
{
    sbuf_addc(b, q);
    for (const char *p = name; *p; p++) {
        if (*p == q)
            sbuf_addc(b, q);
        sbuf_addc(b, *p);
    }
    sbuf_addc(b, q);
}

void sbuf_ident_list(struct sbuf *b, const char *const *names, int n, char q)
{
    for (int i = 0; i < n; i++) {
        if (i)
            sbuf_adds(b, ", ");
        sbuf_ident(b, names[i], q);
    }
}

const char *sbuf_str(struct sbuf *b) { return b->p ? b->p : ""; }

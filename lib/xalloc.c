/* xalloc.c — allocations that exit cleanly when memory runs out. */
#include "lib/xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/errors.h"

/* No stdio, no allocation: there is no memory left. */
static void out_of_memory(size_t n)
{
    char msg[200];
    int len = snprintf(msg, sizeof msg, "cutover: out of memory (%zu bytes "
                       "wanted); stopping. The last checkpoint is intact: "
                       "`cutover resume` continues from it\n", n);

    if (len > 0 && write(STDERR_FILENO, msg, (size_t)len) < 0)
        len = 0;
    _exit(EXIT_ERROR);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        out_of_memory(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);

    if (!p)
        out_of_memory(count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        out_of_memory(n);
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;

    return memcpy(xmalloc(n), s, n);
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = xmalloc(len + 1);

    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        out_of_memory(strlen(fmt));
    return s;
}

void xalloc_install(void)
{
    json_set_alloc_funcs(xmalloc, free);
}

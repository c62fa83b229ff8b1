/*
 * binlog_reader.c — the bounds-checked reader over an event body that
 * every file of the binlog decoder uses: each read is checked against the
 * end, and an error names the event and the offset.
 */
#include "sync/drivers/mysql/binlog_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/xalloc.h"

int blr_fail(struct co_err *err, const struct blr_cur *c, const char *fmt,
             ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return co_errf(err, CO_EPROTOCOL, "binlog event %s at offset %zu%s: %s",
                   c->event, blr_offset(c), c->where, what);
}

int blr_take(struct blr_cur *c, size_t n, const char *what,
             const unsigned char **out, struct co_err *err)
{
    *out = c->p;
    if (n > blr_left(c))
        return blr_fail(err, c, "truncated: %s needs %zu bytes, %zu left",
                        what, n, blr_left(c));
    *out = c->p;
    c->p += n;
    return 0;
}

uint64_t blr_le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

uint64_t blr_be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int blr_uint(struct blr_cur *c, size_t n, const char *what, uint64_t *v,
             struct co_err *err)
{
    const unsigned char *p;
    int rc = blr_take(c, n, what, &p, err);

    if (rc == 0)
        *v = blr_le(p, n);
    return rc;
}

int blr_packed(struct blr_cur *c, const char *what, uint64_t *v,
               struct co_err *err)
{
    const unsigned char *p;
    int rc = blr_take(c, 1, what, &p, err);

    if (rc)
        return rc;
    if (*p < 251) {
        *v = *p;
        return 0;
    }
    switch (*p) {
    case 252: return blr_uint(c, 2, what, v, err);
    case 253: return blr_uint(c, 3, what, v, err);
    case 254: return blr_uint(c, 8, what, v, err);
    }
    c->p--;
    return blr_fail(err, c, "%s: 0x%02x is not a packed integer", what, *p);
}

int blr_buf_reserve(struct binlog_buf *b, size_t n, struct co_err *err)
{
    /* Sizes are bounded by the event already read (and TEXT_MAX); memory
     * running out exits (orchestrator/xalloc.h), so this cannot fail. */
    (void)err;
    if (n <= b->cap)
        return 0;
    b->p = xrealloc(b->p, n);
    b->cap = n;
    return 0;
}

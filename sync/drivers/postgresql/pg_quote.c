/*
 * pg_quote.c — identifiers, literals and the names of cutover's objects,
 * by PostgreSQL's own rules (no round trip to libpq needed, so builders
 * can run without a connection and be tested alone).
 */
#include <stdio.h>
#include <string.h>

#include "lib/object_name.h"

#include "sync/drivers/postgresql/pg_priv.h"

void pg_ident(struct sbuf *b, const char *name)
{
    sbuf_ident(b, name, '"');
}

void pg_qualified(const struct pg_session *s, struct sbuf *b,
                  const char *name)
{
    pg_ident(b, s->schema);
    sbuf_addc(b, '.');
    pg_ident(b, name);
}

int pg_literal(struct sbuf *b, const char *p, size_t n, struct co_err *err)
{
    if (memchr(p, '\0', n))
        return co_errf(err, CO_EDATA, "a text value holds a NUL byte, which "
                       "PostgreSQL cannot store in text");
    /* E'' makes the backslashes' meaning independent of
     * standard_conforming_strings. */
    if (memchr(p, '\\', n))
        sbuf_adds(b, " E");
    sbuf_addc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\'' || p[i] == '\\')
            sbuf_addc(b, p[i]);
        sbuf_addc(b, p[i]);
    }
    sbuf_addc(b, '\'');
    return 0;
}

void pg_string(struct sbuf *b, const char *s)
{
    pg_literal(b, s, strlen(s), NULL);
}

void pg_object_name(char *out, size_t cap, const char *prefix,
                    const char *base)
{
    object_name_fit(out, cap, prefix, base, PG_NAME_MAX, 8);
}

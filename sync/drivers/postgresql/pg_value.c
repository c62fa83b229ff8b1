/*
 * pg_value.c — struct value to the text PostgreSQL reads, and back from
 * the text it writes. Both directions go by the column's logical type, so
 * COPY, statement parameters and reads agree on every value.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/postgresql/pg_priv.h"

/* A double as the shortest text that reads back as the same double
 * (%.17g always does; PostgreSQL's own spellings for the rest). */
static size_t format_real(double r, char *out, size_t cap)
{
    if (isnan(r))
        return (size_t)snprintf(out, cap, "NaN");
    if (isinf(r))
        return (size_t)snprintf(out, cap, r > 0 ? "Infinity" : "-Infinity");
    for (int digits = 15; digits <= 17; digits++) {
        size_t n = (size_t)snprintf(out, cap, "%.*g", digits, r);
        if (strtod(out, NULL) == r)
            return n;
    }
    return strlen(out);
}

int pg_value_text(const struct column *c, const struct value *v,
                  char scratch[64], const char **p, size_t *n, int *binary,
                  struct co_err *err)
{
    *binary = 0;
    switch (v->type) {
    case V_NULL:
        *p = NULL;
        *n = 0;
        return 0;
    case V_INT:
        if (c->map.lt == LT_BOOL && (v->i == 0 || v->i == 1))
            *n = (size_t)snprintf(scratch, 64, "%s", v->i ? "t" : "f");
        else
            *n = (size_t)snprintf(scratch, 64, "%lld", (long long)v->i);
        *p = scratch;
        break;
    case V_REAL:
        *n = format_real(v->r, scratch, 64);
        *p = scratch;
        break;
    case V_TEXT:
    case V_BLOB:
        *p = (const char *)v->p;
        *n = v->n;
        break;
    }
    if (c->map.lt == LT_BLOB) {
        *binary = 1;
        return 0;
    }
    if (*n && memchr(*p, '\0', *n))
        return co_errf(err, CO_EDATA, "column %s: the value holds a NUL "
                       "byte, which PostgreSQL cannot store in text (map "
                       "the column to bytea, or clean the value)", c->name);
    return 0;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int pg_value_parse(const struct column *c, char *text, size_t len,
                   int isnull, struct value *out, struct co_err *err)
{
    char *end;

    memset(out, 0, sizeof *out);
    if (isnull) {
        out->type = V_NULL;
        return 0;
    }
    switch (c->map.lt) {
    case LT_BOOL:
        if (len == 1 && (text[0] == 't' || text[0] == 'f')) {
            out->type = V_INT;
            out->i = text[0] == 't';
            return 0;
        }
        break;
    case LT_INT:
        errno = 0;
        out->i = strtoll(text, &end, 10);
        if (errno == 0 && end == text + len && len > 0) {
            out->type = V_INT;
            return 0;
        }
        break;
    case LT_DOUBLE:
        out->r = strtod(text, &end);
        if (end == text + len && len > 0) {
            out->type = V_REAL;
            return 0;
        }
        break;
    case LT_BLOB:
        if (len >= 2 && len % 2 == 0 && text[0] == '\\' && text[1] == 'x') {
            size_t i;
            for (i = 2; i < len; i += 2) {
                int hi = hexval(text[i]), lo = hexval(text[i + 1]);
                if (hi < 0 || lo < 0)
                    break;
                text[i / 2 - 1] = (char)(hi << 4 | lo);
            }
            if (i >= len) {
                out->type = V_BLOB;
                out->p = (const unsigned char *)text;
                out->n = len / 2 - 1;
                return 0;
            }
        }
        break;
    case LT_DATETIME:
        /* timestamptz prints its zone, the session's UTC ("+00"): the
         * codec's datetimes are UTC without one */
        if (len > 3 && strcmp(text + len - 3, "+00") == 0)
            len -= 3;
        /* fall through */
    default:
        out->type = V_TEXT;
        out->p = (const unsigned char *)text;
        out->n = len;
        return 0;
    }
    return co_errf(err, CO_EDATA, "column %s: cannot read \"%.40s\" as %s",
                   c->name, text, ltype_name(c->map.lt));
}

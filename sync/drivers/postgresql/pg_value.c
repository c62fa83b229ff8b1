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
#include <strings.h>

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

static int is_set_array(const struct column *c)
{
    return c->map.logical.kind == LK_SET && c->map.logical.array;
}

/* A MySQL SET's "a,c" as the text[] literal {"a","c"}: every member
 * quoted, so that none reads as NULL or loses its spaces; "" (no member)
 * is {}. */
static void set_array_literal(const char *p, size_t n, struct sbuf *out)
{
    sbuf_reset(out);
    sbuf_addc(out, '{');
    for (size_t i = 0; n > 0 && i <= n; i++) {
        if (i > 0)
            sbuf_addc(out, ',');
        sbuf_addc(out, '"');
        for (; i < n && p[i] != ','; i++) {
            if (p[i] == '"' || p[i] == '\\')
                sbuf_addc(out, '\\');
            sbuf_addc(out, p[i]);
        }
        sbuf_addc(out, '"');
    }
    sbuf_addc(out, '}');
}

void pg_scratch_free(struct pg_scratch *sc)
{
    sbuf_free(&sc->wide);
}

int pg_value_text(const struct column *c, const struct value *v,
                  struct pg_scratch *sc, const char **p, size_t *n,
                  int *binary, struct co_err *err)
{
    char *scratch = sc->small;

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
    if (is_set_array(c)) {
        set_array_literal(*p, *n, &sc->wide);
        if (sc->wide.oom)
            return co_errf(err, CO_ENOMEM, "column %s: out of memory",
                           c->name);
        *p = sc->wide.p;
        *n = sc->wide.len;
    }
    return 0;
}

/* PostgreSQL's output of a one-dimensional text[] ({a,"b c"}, members
 * quoted when they need it, \ escaping within quotes) rewritten in place
 * as the members comma-separated: the SET's value MySQL reads. -1 for
 * anything a SET cannot hold: NULL members, members with a comma, more
 * dimensions. */
static int set_array_members(char *text, size_t len, size_t *out_len)
{
    size_t r = 1, w = 0;

    if (len < 2 || text[0] != '{' || text[len - 1] != '}')
        return -1;
    if (len == 2) {
        *out_len = 0;
        return 0;
    }
    for (;;) {
        size_t start = w;
        if (text[r] == '"') {
            for (r++; r < len - 1 && text[r] != '"'; r++) {
                if (text[r] == '\\' && r + 1 < len - 1)
                    r++;
                if (text[r] == ',')
                    return -1;
                text[w++] = text[r];
            }
            if (text[r++] != '"')
                return -1;
        } else {
            for (; r < len - 1 && text[r] != ','; r++) {
                if (text[r] == '{' || text[r] == '"' || text[r] == '\\')
                    return -1;
                text[w++] = text[r];
            }
            if (w - start == 4 && strncasecmp(text + start, "NULL", 4) == 0)
                return -1;
            if (w == start)
                return -1;
        }
        if (r == len - 1)
            break;
        if (text[r++] != ',')
            return -1;
        text[w++] = ',';
    }
    *out_len = w;
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
    if (is_set_array(c)) {
        char shown[41];
        snprintf(shown, sizeof shown, "%.*s", (int)(len < 40 ? len : 40),
                 text);
        if (set_array_members(text, len, &out->n) < 0)
            return co_errf(err, CO_EDATA, "column %s: cannot read \"%s\" "
                           "as a MySQL SET's members (an array of one "
                           "dimension, no NULL, no member with a comma)",
                           c->name, shown);
        out->type = V_TEXT;
        out->p = (const unsigned char *)text;
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

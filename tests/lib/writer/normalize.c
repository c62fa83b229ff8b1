/*
 * normalize.c — one form for values from any backend, so that records
 * compare equal: integers and booleans as JSON integers, decimals as strings
 * with two fraction digits, datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff', text
 * as strings, blobs as hex. The text forms differ by backend: MySQL prints
 * booleans 0/1 and pads fractions of seconds, PostgreSQL prints t/f, cuts
 * the zeros off a fraction and, for timestamptz, adds the zone (+00 in the
 * UTC sessions of db_postgresql.c, which also decodes bytea). The
 * normalization is written here, apart from cutover's row codec: a checker
 * must not share the code it checks.
 *
 * read_row applies it to one row, read by key: what `run` records after its
 * writes and what `check` compares the record with.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lib/sbuf.h"
#include "tests/lib/writer/writer.h"

/* The cell as a C string, for parsing (blob bytes have no terminator). */
const char *cell_cstr(const struct cell *c, char *buf, size_t size)
{
    size_t n;

    if (c->type == C_INT)
        snprintf(buf, size, "%lld", c->i);
    else if (c->type == C_REAL)
        snprintf(buf, size, "%.15g", c->d);
    else {
        n = c->n < size - 1 ? c->n : size - 1;
        memcpy(buf, c->p ? c->p : "", n);
        buf[n] = '\0';
    }
    return buf;
}

long long cell_int(const struct cell *c)
{
    char buf[64];

    if (c->type == C_INT)
        return c->i;
    if (c->type == C_REAL)
        return llround(c->d);
    return c->type == C_BYTES ? strtoll(cell_cstr(c, buf, sizeof buf), NULL, 10)
                              : 0;
}

static json_t *hex_string(const char *prefix, const void *p, size_t n)
{
    const unsigned char *b = p;
    struct sbuf hex;
    json_t *j;

    sbuf_init(&hex);
    sbuf_adds(&hex, prefix);
    for (size_t i = 0; i < n; i++)
        sbuf_addf(&hex, "%02x", b[i]);
    if (hex.oom)
        die("out of memory");
    j = json_string(sbuf_str(&hex));
    sbuf_free(&hex);
    return j;
}

/* Text that is not valid UTF-8 cannot be a JSON string: hex it, the same way
 * from both sides. */
static json_t *text_json(const char *p, size_t n)
{
    json_t *j = json_stringn(p, n);

    return j ? j : hex_string("invalid-utf8:", p, n);
}

static json_t *norm_int(const struct cell *c)
{
    return json_integer(cell_int(c));
}

/* 1 or 0, whether the backend says 1/0 (SQLite, MySQL) or t/f (PostgreSQL). */
static json_t *norm_bool(const struct cell *c)
{
    if (c->type == C_BYTES && c->n == 1 && (c->p[0] == 't' || c->p[0] == 'f'))
        return json_integer(c->p[0] == 't');
    return norm_int(c);
}

/* Two fraction digits. Through a double: exact for the 15 significant digits
 * of a DECIMAL(12,2), which is what the shop has. */
static json_t *norm_decimal(const struct cell *c)
{
    char buf[64];

    if (c->type == C_INT)
        snprintf(buf, sizeof buf, "%lld.00", c->i);
    else
        snprintf(buf, sizeof buf, "%.2f",
                 c->type == C_REAL ? c->d
                                   : strtod(cell_cstr(c, buf, sizeof buf), NULL));
    return json_string(buf);
}

/* A UTC zone at the end of a datetime cut off: 'Z', '+00' or '+00:00'. A
 * value in another zone keeps it, and so differs from the naive one. */
static size_t cut_utc_zone(char *buf, size_t n)
{
    static const char *const UTC[] = {"+00:00", "+00", "Z"};

    for (int i = 0; i < COUNT(UTC); i++) {
        size_t k = strlen(UTC[i]);

        if (n > 19 + k - 1 && strcmp(buf + n - k, UTC[i]) == 0) {
            buf[n - k] = '\0';
            return n - k;
        }
    }
    return n;
}

/* 'YYYY-MM-DD HH:MM:SS.ffffff': an ISO 'T' becomes a space, a UTC zone is
 * cut off and missing microsecond digits are zeros, as MySQL's DATETIME(6)
 * prints them. */
static json_t *norm_datetime(const struct cell *c)
{
    char buf[64];
    size_t n = cut_utc_zone(buf, strlen(cell_cstr(c, buf, sizeof buf - 8)));

    if (n >= 19 && buf[10] == 'T')
        buf[10] = ' ';
    if (n == 19)
        buf[n++] = '.';
    if (n >= 20 && n < 26 && buf[19] == '.') {
        memset(buf + n, '0', 26 - n);
        buf[26] = '\0';
    }
    return text_json(buf, strlen(buf));
}

static json_t *norm_text(const struct cell *c)
{
    char buf[64];

    if (c->type == C_BYTES)
        return text_json(c->p, c->n);
    return json_string(cell_cstr(c, buf, sizeof buf));
}

static json_t *norm_blob(const struct cell *c)
{
    char buf[64];

    if (c->type == C_BYTES)
        return hex_string("", c->p, c->n);
    cell_cstr(c, buf, sizeof buf);
    return hex_string("", buf, strlen(buf));
}

static json_t *(*const NORMALIZE[])(const struct cell *) = {
    [K_INT] = norm_int,       [K_BOOL] = norm_bool, [K_DEC] = norm_decimal,
    [K_TIME] = norm_datetime, [K_TEXT] = norm_text, [K_BLOB] = norm_blob,
};

static json_t *normalize(const struct cell *c, enum kind kind)
{
    json_t *j = c->type == C_NULL ? json_null() : NORMALIZE[kind](c);

    if (!j)
        die("out of memory");
    return j;
}

/* Reading rows */

struct row_read {
    const struct table *t;
    json_t *row;
};

static int take_row(void *ctx, const struct cell *cells, int ncells)
{
    struct row_read *r = ctx;

    r->row = json_object();
    for (int i = 0; i < r->t->ncols && i < ncells; i++)
        json_object_set_new(r->row, r->t->cols[i].name,
                            normalize(&cells[i], r->t->cols[i].kind));
    return 1;
}

/* The row with this key (a JSON array of the key values), normalized, or
 * JSON null when there is none. */
enum db_status read_row(struct db *db, const struct table *t,
                        const json_t *key, json_t **row)
{
    struct param p[MAX_COLS];
    struct row_read r = {t, NULL};
    enum db_status st;

    for (int k = 0; k < t->nkey; k++) {
        const json_t *v = json_array_get(key, (size_t)k);

        p[k] = json_is_integer(v) ? PINT(json_integer_value(v))
                                  : PTEXT(json_string_value(v));
    }
    st = db->drv->run(db, t->select_sql, p, t->nkey, take_row, &r);
    if (st != DB_OK) {
        json_decref(r.row);
        return st;
    }
    *row = r.row ? r.row : json_null();
    return DB_OK;
}

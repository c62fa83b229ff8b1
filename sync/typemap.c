/*
 * typemap.c — from declared type + census + override to a target type that
 * holds every value exactly, with the reason in words.
 */
#include "sync/typemap.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runbook.h"
#include "sync/drivers/source.h"
#include "sync/drivers/target.h"
#include "sync/typemap_priv.h"

#define KEY_MAX_BYTES 3072
#define VARCHAR_MAX 16383     /* utf8mb4 characters in a 64 KiB row */

enum decl_kind typemap_decl_kind(const char *decl, int *len, int *p, int *s)
{
    char up[128];
    size_t n = 0;
    const char *paren;

    *len = *p = *s = 0;
    for (const char *c = decl; *c && n + 1 < sizeof up; c++)
        up[n++] = (char)toupper((unsigned char)*c);
    up[n] = '\0';
    paren = strchr(up, '(');
    if (paren) {
        *p = *len = atoi(paren + 1);
        const char *comma = strchr(paren, ',');
        if (comma)
            *s = atoi(comma + 1);
    }
    if (!up[0])
        return DK_NONE;
    if (strstr(up, "BOOL"))
        return DK_BOOL;
    if (strstr(up, "DATETIME") || strstr(up, "TIMESTAMP"))
        return DK_DATETIME;
    if (strstr(up, "DATE"))
        return DK_DATE;
    if (strstr(up, "TIME"))
        return DK_TIME;
    if (strstr(up, "INT"))
        return DK_INT;
    if (strstr(up, "CHAR"))
        return paren && *len > 0 ? DK_VARCHAR : DK_TEXT;
    if (strstr(up, "CLOB") || strstr(up, "TEXT") || strstr(up, "JSON") ||
        strstr(up, "UUID"))
        return DK_TEXT;
    if (strstr(up, "BLOB") || strstr(up, "BINARY"))
        return DK_BLOB;
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
        return DK_REAL;
    if ((strstr(up, "DEC") || strstr(up, "NUMERIC")) && paren && *p > 0)
        return DK_DECIMAL;
    return DK_NUMERIC;
}

static int digits_of(int64_t v)
{
    int d = 1;
    uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;

    while (u >= 10) {
        u /= 10;
        d++;
    }
    return d;
}

static int column_in_unique(const struct table *t, int col, int *in_key)
{
    *in_key = 0;
    for (int k = 0; k < t->nkey; k++)
        if (t->key[k] == col)
            *in_key = 1;
    for (int i = 0; i < t->nidx; i++) {
        if (!t->idx[i].unique || t->idx[i].expr)
            continue;
        for (int c = 0; c < t->idx[i].ncols; c++)
            if (t->idx[i].cols[c] == col)
                return 1;
    }
    return *in_key;
}

/* Text: VARCHAR where it must be indexable or was declared, LONGTEXT
 * otherwise; never shorter than the longest value. */
static void text_type(struct ctx *x, int ci, const struct col_census *c,
                      int declared_len, int in_key, int in_unique)
{
    struct colmap *m = &x->t->cols[ci].map;
    int64_t chars = c->max_chars > declared_len ? c->max_chars : declared_len;

    if (in_key || in_unique) {
        int64_t want = chars < 255 && !declared_len ? 255 : chars;
        if (want < 1)
            want = 1;
        if (want * 4 > KEY_MAX_BYTES) {
            snprintf(m->type, sizeof m->type, "VARCHAR(%lld)", (long long)want);
            set(m, LT_TEXT, "%s column with values up to %lld characters",
                in_key ? "key" : "unique", (long long)c->max_chars);
            note(x, ci, in_key ? MAP_BLOCKING : MAP_WARNING,
                 "%s text up to %lld characters exceeds the %d-byte index "
                 "limit of utf8mb4 keys; %s", in_key ? "key" : "unique",
                 (long long)chars, KEY_MAX_BYTES,
                 in_key ? "choose another key (tables.keys) or shorten the "
                          "values" : "the unique index will use a prefix, "
                                     "which changes what counts as a "
                                     "duplicate");
            note_rows(x, RF_LONGER_THAN, KEY_MAX_BYTES / 4);
            if (!in_key) {
                snprintf(m->type, sizeof m->type, "LONGTEXT");
            }
            return;
        }
        snprintf(m->type, sizeof m->type, "VARCHAR(%lld)", (long long)want);
        set(m, LT_TEXT, "%s text, longest value %lld characters → %s",
            in_key ? "key" : "uniquely indexed", (long long)c->max_chars,
            m->type);
        return;
    }
    if (declared_len > 0 && chars <= VARCHAR_MAX) {
        snprintf(m->type, sizeof m->type, "VARCHAR(%lld)", (long long)chars);
        if (chars > declared_len)
            set(m, LT_TEXT, "declared %s but values up to %lld characters "
                "(SQLite ignores lengths) → %s", x->t->cols[ci].decl,
                (long long)c->max_chars, m->type);
        else
            set(m, LT_TEXT, "declared %s", x->t->cols[ci].decl);
        return;
    }
    snprintf(m->type, sizeof m->type, "LONGTEXT");
    set(m, LT_TEXT, "text → LONGTEXT (longest value %lld bytes)",
        (long long)c->max_bytes);
}

static void blob_type(struct ctx *x, int ci, const struct col_census *c,
                      int in_key, int in_unique)
{
    struct colmap *m = &x->t->cols[ci].map;

    if (in_key || in_unique) {
        int64_t want = c->max_bytes > 0 ? c->max_bytes : 1;
        snprintf(m->type, sizeof m->type, "VARBINARY(%lld)", (long long)want);
        set(m, LT_BLOB, "indexed bytes, longest %lld → %s",
            (long long)c->max_bytes, m->type);
        if (want > KEY_MAX_BYTES)
            note(x, ci, in_key ? MAP_BLOCKING : MAP_WARNING,
                 "indexed blob values up to %lld bytes exceed the %d-byte "
                 "index limit", (long long)want, KEY_MAX_BYTES);
        return;
    }
    snprintf(m->type, sizeof m->type, "LONGBLOB");
    set(m, LT_BLOB, "bytes → LONGBLOB (largest %lld bytes)",
        (long long)c->max_bytes);
}

/* Text columns holding invalid UTF-8 follow schema.invalid_utf8. */
static int utf8_policy(struct ctx *x, int ci, const struct col_census *c,
                       int in_key, int in_unique)
{
    struct colmap *m = &x->t->cols[ci].map;

    if (c->invalid_utf8 == 0)
        return 0;
    switch (x->rb->schema.invalid_utf8) {
    case UTF8_REJECT:
        note(x, ci, MAP_BLOCKING, "%lld values are not valid UTF-8; set "
             "schema.invalid_utf8 to \"replace\" (U+FFFD) or \"as_blob\" "
             "(keep the bytes)", (long long)c->invalid_utf8);
        note_rows(x, RF_INVALID_UTF8, 0);
        return 0;
    case UTF8_REPLACE:
        m->invalid_utf8 = UTF8_REPLACE;
        note(x, ci, MAP_WARNING, "%lld values are not valid UTF-8; invalid "
             "bytes become U+FFFD (schema.invalid_utf8: replace)",
             (long long)c->invalid_utf8);
        return 0;
    case UTF8_AS_BLOB:
        blob_type(x, ci, c, in_key, in_unique);
        snprintf(m->reason, sizeof m->reason, "%lld values are not valid "
                 "UTF-8 → %s (schema.invalid_utf8: as_blob)",
                 (long long)c->invalid_utf8, m->type);
        note(x, ci, MAP_WARNING, "%s", m->reason);
        return 1;
    }
    return 0;
}

static void int_type(struct ctx *x, int ci, const struct col_census *c,
                     const char *decl)
{
    struct colmap *m = &x->t->cols[ci].map;
    static const struct { const char *word, *type; int64_t lo, hi; } sizes[] = {
        {"TINYINT", "TINYINT", -128, 127},
        {"SMALLINT", "SMALLINT", -32768, 32767},
        {"MEDIUMINT", "MEDIUMINT", -8388608, 8388607},
    };
    char up[64];
    size_t n = 0;

    for (const char *p = decl; *p && n + 1 < sizeof up; p++)
        up[n++] = (char)toupper((unsigned char)*p);
    up[n] = '\0';
    for (size_t i = 0; i < 3; i++) {
        if (!strstr(up, sizes[i].word))
            continue;
        if (c->ints == 0 || (c->int_min >= sizes[i].lo &&
                             c->int_max <= sizes[i].hi)) {
            snprintf(m->type, sizeof m->type, "%s", sizes[i].type);
            set(m, LT_INT, "declared %s, values within its range", decl);
            return;
        }
        snprintf(m->type, sizeof m->type, "BIGINT");
        set(m, LT_INT, "declared %s but values reach %lld → BIGINT", decl,
            (long long)(c->int_max > sizes[i].hi ? c->int_max : c->int_min));
        note(x, ci, MAP_WARNING, "%s", m->reason);
        return;
    }
    snprintf(m->type, sizeof m->type, "BIGINT");
    if (c->ints && (c->int_max > 2147483647LL || c->int_min < -2147483648LL))
        set(m, LT_INT, "INTEGER with values up to %lld → BIGINT",
            (long long)(c->int_max >= -(c->int_min + 1) ? c->int_max
                                                        : c->int_min));
    else
        set(m, LT_INT, "INTEGER → BIGINT (SQLite integers are 64-bit)");
}

static void decimal_type(struct ctx *x, int ci, const struct col_census *c,
                         int p, int s)
{
    struct colmap *m = &x->t->cols[ci].map;
    int intd = c->max_int_digits, fracd = c->max_frac_digits;

    if (c->ints) {
        int d = digits_of(c->int_max) > digits_of(c->int_min)
                    ? digits_of(c->int_max) : digits_of(c->int_min);
        if (d > intd)
            intd = d;
    }
    int need_int = intd > p - s ? intd : p - s;
    int need_s = fracd > s ? fracd : s;
    if (need_s <= 30 && need_int + need_s <= 65) {
        m->precision = need_int + need_s;
        m->scale = need_s;
        snprintf(m->type, sizeof m->type, "DECIMAL(%d,%d)", m->precision,
                 m->scale);
        if (p == 0)
            set(m, LT_DECIMAL, "declared %s without precision; values need "
                "%d integer and %d fraction digits → %s (override if the "
                "application expects another precision)", x->t->cols[ci].decl,
                intd, fracd, m->type);
        else if (m->precision == p && m->scale == s)
            set(m, LT_DECIMAL, "declared %s, every value fits exactly",
                x->t->cols[ci].decl);
        else {
            set(m, LT_DECIMAL, "declared %s but values need %d integer and "
                "%d fraction digits → %s", x->t->cols[ci].decl, intd, fracd,
                m->type);
            note(x, ci, MAP_WARNING, "%s (no value is rounded; clean the data "
                 "or override to keep the declared type)", m->reason);
        }
        return;
    }
    snprintf(m->type, sizeof m->type, "DOUBLE");
    set(m, LT_DOUBLE, "declared %s but values need %d fraction digits (more "
        "than DECIMAL's 30) → DOUBLE, which holds them exactly",
        x->t->cols[ci].decl, fracd);
    note(x, ci, MAP_WARNING, "%s", m->reason);
}

/* Values finer than a microsecond: MySQL's (6) types would round them. */
static void submicrosecond_note(struct ctx *x, int ci,
                                const struct dt_census *d, enum ltype lt)
{
    note(x, ci, MAP_BLOCKING, "%lld values have more than 6 fraction digits: "
         "%s would round them; override the column to %s to keep them as "
         "text", (long long)d->fraction_long,
         lt == LT_TIME ? "TIME(6)" : "DATETIME(6)",
         lt == LT_TIME ? "VARCHAR(20)" : "VARCHAR(40)");
    note_rows(x, RF_SUBMICROSECOND, lt == LT_TIME);
}

static void datetime_type(struct ctx *x, int ci, const struct col_census *c,
                          enum decl_kind dk)
{
    struct colmap *m = &x->t->cols[ci].map;
    const struct dt_census *d = &c->dt;
    int64_t values = c->rows - c->nulls;

    if (values == 0 || (c->texts == values && d->not_datetime == 0 &&
                        d->fraction_long == 0)) {
        int date_only = values > 0 && d->date_only == c->texts;
        m->dt = DT_TEXT;
        if (dk == DK_DATE && (date_only || values == 0)) {
            snprintf(m->type, sizeof m->type, "DATE");
            set(m, LT_DATE, "ISO dates → DATE");
            return;
        }
        snprintf(m->type, sizeof m->type, "DATETIME(6)");
        set(m, LT_DATETIME, "ISO text%s%s → DATETIME(6)",
            d->t_sep ? " (with 'T' separator)" : "",
            d->fraction ? " with fractions" : "");
        if (d->utc_suffix)
            note(x, ci, MAP_INFO, "%lld values end in Z/+00:00; DATETIME(6) "
                 "keeps the instant without the suffix",
                 (long long)d->utc_suffix);
        return;
    }
    if (c->texts == values && d->fraction_long > 0 && d->not_datetime == 0) {
        snprintf(m->type, sizeof m->type, "DATETIME(6)");
        set(m, LT_DATETIME, "ISO text with sub-microsecond fractions");
        submicrosecond_note(x, ci, d, LT_DATETIME);
        return;
    }
    if (c->ints == values) {
        int ms = c->int_max > 100000000000LL || c->int_min < -100000000000LL;
        m->dt = ms ? DT_EPOCH_MS : DT_EPOCH_S;
        snprintf(m->type, sizeof m->type, "DATETIME(6)");
        set(m, LT_DATETIME, "DATETIME as epoch %s integers → DATETIME(6) "
            "converted", ms ? "millisecond" : "second");
        note(x, ci, MAP_WARNING, "%s: the application reads dates, not "
             "numbers, from MySQL", m->reason);
        return;
    }
    if (c->reals == values || (c->reals + c->ints == values)) {
        if (c->reals_unsafe_us == 0) {
            m->dt = DT_EPOCH_S;
            snprintf(m->type, sizeof m->type, "DATETIME(6)");
            set(m, LT_DATETIME, "DATETIME as epoch seconds with fractions → "
                "DATETIME(6) converted");
            note(x, ci, MAP_WARNING, "%s", m->reason);
            return;
        }
        snprintf(m->type, sizeof m->type, "DOUBLE");
        set(m, LT_DOUBLE, "epoch values finer than a microsecond → DOUBLE "
            "(kept as numbers)");
        note(x, ci, MAP_WARNING, "%s", m->reason);
        return;
    }
    snprintf(m->type, sizeof m->type, "LONGTEXT");
    set(m, LT_TEXT, "declared %s but %lld values are not dates → LONGTEXT",
        x->t->cols[ci].decl, (long long)(d->not_datetime + c->ints + c->reals));
    note(x, ci, MAP_WARNING, "%s (values kept as text)", m->reason);
}

/* TIME: time-of-day (or duration) text becomes TIME(6), as DATETIME
 * becomes DATETIME(6), so the application reads times back. Anything else
 * in the column keeps the whole column as text. */
static void time_type(struct ctx *x, int ci, const struct col_census *c,
                      int in_key, int in_unique)
{
    struct colmap *m = &x->t->cols[ci].map;
    const struct dt_census *d = &c->dt;

    if (c->texts == c->rows - c->nulls && d->not_datetime == 0) {
        snprintf(m->type, sizeof m->type, "TIME(6)");
        set(m, LT_TIME, "times of day as text%s → TIME(6)",
            d->fraction ? " with fractions" : "");
        if (d->fraction_long)
            submicrosecond_note(x, ci, d, LT_TIME);
        return;
    }
    text_type(x, ci, c, 0, in_key, in_unique);
    snprintf(m->reason, sizeof m->reason, "TIME column with values that are "
             "not times → %s", m->type);
    note(x, ci, MAP_WARNING, "%lld values are not times (H:MM[:SS[.ffffff]], "
         "up to 838 hours): the column stays text (%s)",
         (long long)(c->rows - c->nulls - d->time_of_day), m->type);
    note_rows(x, RF_NOT_DATETIME, 1);
}

/* Apply a runbook override and check that the values fit it. */
static void override_type(struct ctx *x, int ci, const struct col_census *c,
                          const char *ov)
{
    struct colmap *m = &x->t->cols[ci].map;
    int len, p, s;
    enum decl_kind dk = typemap_decl_kind(ov, &len, &p, &s);
    char up[96];
    size_t n = 0;

    for (const char *q = ov; *q && n + 1 < sizeof up; q++)
        up[n++] = (char)toupper((unsigned char)*q);
    up[n] = '\0';
    snprintf(m->type, sizeof m->type, "%s", up);
    switch (dk) {
    case DK_DECIMAL:
        m->precision = p;
        m->scale = s;
        set(m, LT_DECIMAL, "override %s", up);
        if (c->max_frac_digits > s) {
            note(x, ci, MAP_BLOCKING, "override %s would round values with "
                 "%d fraction digits", up, c->max_frac_digits);
            note_rows(x, RF_FRACTION_OVER, s);
        }
        if (c->max_int_digits > p - s) {
            note(x, ci, MAP_BLOCKING, "override %s cannot hold values with "
                 "%d integer digits", up, c->max_int_digits);
            note_rows(x, RF_INTEGER_OVER, p - s);
        }
        return;
    case DK_INT:
    case DK_BOOL:
        set(m, strstr(up, "(1)") || dk == DK_BOOL ? LT_BOOL : LT_INT,
            "override %s", up);
        if (c->reals || c->texts || c->blobs)
            note(x, ci, MAP_BLOCKING, "override %s but the column holds "
                 "non-integer values", up);
        return;
    case DK_REAL:
        set(m, LT_DOUBLE, "override %s", up);
        if (strstr(up, "FLOAT"))
            note(x, ci, MAP_BLOCKING, "override FLOAT would round 64-bit "
                 "reals; use DOUBLE");
        return;
    case DK_DATETIME:
    case DK_DATE:
    case DK_TIME:
        if (dk == DK_TIME)
            time_type(x, ci, c, 0, 0);
        else
            datetime_type(x, ci, c, dk);
        if (m->lt != LT_DATETIME && m->lt != LT_DATE && m->lt != LT_TIME) {
            note(x, ci, MAP_BLOCKING, "override %s but the column holds "
                 "values that are not %s", up, dk == DK_TIME ? "times"
                                                             : "dates/times");
            note_rows(x, RF_NOT_DATETIME, dk == DK_TIME);
        }
        snprintf(m->type, sizeof m->type, "%s", up);
        snprintf(m->reason, sizeof m->reason, "override %s", up);
        if (dk != DK_DATE && p < 6 && c->dt.max_fraction_digits > p) {
            note(x, ci, MAP_BLOCKING, "override %s would round values with "
                 "%d fraction digits; use %s(6)", up,
                 c->dt.max_fraction_digits, dk == DK_TIME ? "TIME"
                                                          : "DATETIME");
        }
        return;
    case DK_BLOB:
        set(m, LT_BLOB, "override %s", up);
        return;
    default:
        set(m, LT_TEXT, "override %s", up);
        if (dk == DK_VARCHAR && c->max_chars > len) {
            note(x, ci, MAP_BLOCKING, "override %s is shorter than the longest "
                 "value (%lld characters)", up, (long long)c->max_chars);
            note_rows(x, RF_LONGER_THAN, len);
        }
        return;
    }
}

static int decimal_word(const char *decl)
{
    char up[64];
    size_t n = 0;

    for (const char *p = decl; *p && n + 1 < sizeof up; p++)
        up[n++] = (char)toupper((unsigned char)*p);
    up[n] = '\0';
    return strstr(up, "DEC") || strstr(up, "NUMERIC");
}

/* Infinity fits no MySQL numeric type; NaN never reaches us (SQLite
 * stores it as NULL). */
static void check_nonfinite(struct ctx *x, int ci, const struct col_census *c)
{
    enum ltype lt = x->t->cols[ci].map.lt;

    if (c->nonfinite == 0 || (lt != LT_DOUBLE && lt != LT_DECIMAL &&
                              lt != LT_INT))
        return;
    note(x, ci, MAP_BLOCKING, "%lld values are infinite; MySQL numbers cannot "
         "hold them: override the column to VARCHAR(40) to keep them as text, "
         "or fix the data", (long long)c->nonfinite);
    note_rows(x, RF_NONFINITE, 0);
}

/* "INTEGER/TEXT" — the storage classes the census saw. */
static void classes_seen(const struct col_census *c, char *out, size_t cap)
{
    const char *names[4] = {"INTEGER", "REAL", "TEXT", "BLOB"};
    int64_t counts[4] = {c->ints, c->reals, c->texts, c->blobs};
    size_t o = 0;

    out[0] = '\0';
    for (int i = 0; i < 4; i++)
        if (counts[i] && o < cap)
            o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? "/" : "",
                                  names[i]);
}

static void decide_column(struct ctx *x, int ci, const struct col_census *c)
{
    struct column *col = &x->t->cols[ci];
    struct colmap *m = &col->map;
    int len, p, s, in_key, in_unique;
    enum decl_kind dk = typemap_decl_kind(col->decl, &len, &p, &s);
    const char *ov = runbook_override(x->rb, x->t->name, col->name);
    int classes = (c->ints > 0) + (c->reals > 0) + (c->texts > 0) +
                  (c->blobs > 0);

    memset(m, 0, sizeof *m);
    in_unique = column_in_unique(x->t, ci, &in_key);
    if (col->is_rowid || (x->t->int_key && in_key)) {
        snprintf(m->type, sizeof m->type, "BIGINT");
        m->autoinc = 1;
        set(m, LT_INT, col->is_rowid ? "SQLite rowid as key → BIGINT "
            "AUTO_INCREMENT" : "INTEGER PRIMARY KEY → BIGINT AUTO_INCREMENT");
        return;
    }
    if (ov) {
        override_type(x, ci, c, ov);
        return;
    }
    if ((dk == DK_TEXT || dk == DK_VARCHAR) ||
        (c->texts > 0 && dk != DK_DATETIME && dk != DK_DATE &&
         dk != DK_TIME && dk != DK_DECIMAL && c->numeric_texts < c->texts)) {
        if (utf8_policy(x, ci, c, in_key, in_unique))
            return;
        text_type(x, ci, c, dk == DK_VARCHAR ? len : 0, in_key, in_unique);
        if (classes > 1 && dk != DK_TEXT && dk != DK_VARCHAR) {
            char seen[64];
            classes_seen(c, seen, sizeof seen);
            snprintf(m->reason, sizeof m->reason, "%s, mixed %s → %s",
                     dk == DK_NONE ? "no declared type" : col->decl, seen,
                     m->type);
            note(x, ci, MAP_WARNING, "%s (numbers are stored as their text)",
                 m->reason);
        }
        return;
    }
    switch (dk) {
    case DK_BLOB:
    case DK_NONE:
        if (dk == DK_NONE && classes == 1 && c->ints) {
            int_type(x, ci, c, "INTEGER");
            snprintf(m->reason, sizeof m->reason, "no declared type, only "
                     "integers → BIGINT");
            return;
        }
        if (dk == DK_NONE && classes == 1 && c->reals) {
            snprintf(m->type, sizeof m->type, "DOUBLE");
            set(m, LT_DOUBLE, "no declared type, only reals → DOUBLE");
            if (c->neg_zero)
                note(x, ci, MAP_INFO, "%lld values are -0.0; MySQL reads them "
                     "back as 0", (long long)c->neg_zero);
            return;
        }
        blob_type(x, ci, c, in_key, in_unique);
        if (classes > 1 || c->ints || c->reals) {
            char seen[64];
            classes_seen(c, seen, sizeof seen);
            note(x, ci, MAP_WARNING, "%s holds %s values; numbers are stored "
                 "as the bytes of their text", dk == DK_NONE ?
                 "untyped column" : "BLOB column", seen);
        }
        return;
    case DK_BOOL:
        if (c->reals == 0 && c->texts == 0 && c->blobs == 0 &&
            (c->ints == 0 || (c->int_min >= 0 && c->int_max <= 1))) {
            snprintf(m->type, sizeof m->type, "TINYINT(1)");
            set(m, LT_BOOL, "BOOL with 0/1 values → TINYINT(1)");
            return;
        }
        int_type(x, ci, c, "INTEGER");
        note(x, ci, MAP_WARNING, "BOOL column holds values other than 0 and 1 "
             "→ %s", m->type);
        return;
    case DK_DATETIME:
    case DK_DATE:
        datetime_type(x, ci, c, dk);
        return;
    case DK_TIME:
        time_type(x, ci, c, in_key, in_unique);
        return;
    case DK_DECIMAL:
        if (c->texts > c->numeric_texts || c->blobs) {
            text_type(x, ci, c, 0, in_key, in_unique);
            note(x, ci, MAP_BLOCKING, "declared %s but %lld values are not "
                 "numbers; override the column (e.g. to LONGTEXT) or fix the "
                 "data", col->decl,
                 (long long)(c->texts - c->numeric_texts + c->blobs));
            note_rows(x, RF_NOT_NUMERIC, 0);
            return;
        }
        decimal_type(x, ci, c, p, s);
        return;
    default:
        break;
    }
    /* "decimal"/"numeric" without precision: size it from the values. */
    if (dk == DK_NUMERIC && decimal_word(col->decl) &&
        (c->reals || c->numeric_texts)) {
        decimal_type(x, ci, c, 0, 0);
        return;
    }
    /* INT, REAL, NUMERIC with numbers only */
    if (c->reals == 0 && c->numeric_texts == 0 && c->blobs == 0) {
        if (dk == DK_REAL) {
            snprintf(m->type, sizeof m->type, "DOUBLE");
            set(m, LT_DOUBLE, "REAL → DOUBLE");
            return;
        }
        int_type(x, ci, c, dk == DK_INT ? col->decl : "INTEGER");
        return;
    }
    if (c->ints && (c->int_max > (1LL << 53) || c->int_min < -(1LL << 53))) {
        decimal_type(x, ci, c, 19, 0);
        note(x, ci, MAP_WARNING, "integers beyond 2^53 next to reals: DOUBLE "
             "would round them → %s", m->type);
        return;
    }
    snprintf(m->type, sizeof m->type, "DOUBLE");
    set(m, LT_DOUBLE, "%s with real values → DOUBLE (exact)", dk == DK_INT ?
        "INTEGER" : dk == DK_NUMERIC ? "NUMERIC" : "REAL");
    if (dk == DK_INT)
        note(x, ci, MAP_WARNING, "INTEGER column holds %lld non-integer "
             "values → DOUBLE", (long long)c->reals);
    if (c->neg_zero)
        note(x, ci, MAP_INFO, "%lld values are -0.0; MySQL reads them back "
             "as 0", (long long)c->neg_zero);
}

/* ---- the declared type's family ------------------------------------------ */

/* What a declared type promises the application's model: integers,
 * numbers, dates and times, text, bytes — or nothing (no declared type,
 * ANY, a word SQLite reads as NUMERIC without naming a number). */
enum family { FAM_ANY, FAM_INTEGER, FAM_NUMBER, FAM_TEMPORAL, FAM_TEXT,
              FAM_BYTES };

static enum family declared_family(const struct column *col)
{
    int len, p, s;

    switch (typemap_decl_kind(col->decl, &len, &p, &s)) {
    case DK_INT: case DK_BOOL: return FAM_INTEGER;
    case DK_REAL: case DK_DECIMAL: return FAM_NUMBER;
    case DK_NUMERIC: return decimal_word(col->decl) ? FAM_NUMBER : FAM_ANY;
    case DK_DATETIME: case DK_DATE: case DK_TIME: return FAM_TEMPORAL;
    case DK_TEXT: case DK_VARCHAR: return FAM_TEXT;
    case DK_BLOB: return FAM_BYTES;
    default: return FAM_ANY;
    }
}

static enum family decided_family(enum ltype lt)
{
    switch (lt) {
    case LT_INT: case LT_BOOL: return FAM_INTEGER;
    case LT_DECIMAL: case LT_DOUBLE: return FAM_NUMBER;
    case LT_DATETIME: case LT_DATE: case LT_TIME: return FAM_TEMPORAL;
    case LT_TEXT: return FAM_TEXT;
    default: return FAM_BYTES;
    }
}

static int stays_in_family(enum family declared, enum family decided)
{
    return declared == FAM_ANY || declared == decided ||
           (declared == FAM_NUMBER && decided == FAM_INTEGER) ||
           /* schema.invalid_utf8 "as_blob" is the runbook's own choice */
           (declared == FAM_TEXT && decided == FAM_BYTES);
}

/* How the plan finds the rows whose values left the family. */
static void outside_rows(struct ctx *x, int ci, enum family fam)
{
    int len, p, s;
    enum decl_kind dk = typemap_decl_kind(x->t->cols[ci].decl, &len, &p, &s);

    switch (fam) {
    case FAM_INTEGER:
        note_rows(x, RF_STORED_AS_OTHER, STORED_INTEGER);
        break;
    case FAM_NUMBER:
        note_rows(x, RF_NOT_NUMERIC, 0);
        break;
    case FAM_TEMPORAL:
        note_rows(x, RF_NOT_DATETIME, dk == DK_TIME);
        break;
    default:
        note_rows(x, RF_STORED_AS_OTHER, STORED_BLOB);
        break;
    }
}

/* A decision that leaves the declared type's family changes what the
 * application's model reads (an integer field reading strings): it blocks
 * until schema.overrides says what the column becomes. The warnings that
 * explained the decision (notes from `first` on) give way to that. */
static void check_family(struct ctx *x, int ci, int first)
{
    static const char *const reads[] = {"", "integers", "numbers",
                                        "dates and times", "text", "bytes"};
    const struct column *col = &x->t->cols[ci];
    enum family declared = declared_family(col);
    enum family decided = decided_family(col->map.lt);
    int kept = first;

    if (runbook_override(x->rb, x->t->name, col->name) ||
        stays_in_family(declared, decided))
        return;
    for (int i = first; i < x->nnotes; i++) {
        if (x->notes[i].column == ci && x->notes[i].severity == MAP_BLOCKING)
            return;        /* already blocking, with its own advice */
        if (x->notes[i].column != ci || x->notes[i].severity != MAP_WARNING)
            x->notes[kept++] = x->notes[i];
    }
    x->nnotes = kept;
    note(x, ci, MAP_BLOCKING, "%s: the application reads %s from this column "
         "today and would read %s from the target; set its type in "
         "schema.overrides (\"%s.%s\": \"%s\" keeps the values as they are) "
         "or fix the rows", col->map.reason, reads[declared], reads[decided],
         x->t->name, col->name, col->map.type);
    outside_rows(x, ci, declared);
}

int typemap_decide(const struct runbook *rb, struct table *t,
                   const struct col_census *census, struct map_note *notes,
                   int max_notes)
{
    struct ctx x = {rb, t, notes, max_notes, 0};
    int key_bytes = 0;

    for (int i = 0; i < t->ncols; i++) {
        int first = x.nnotes;
        decide_column(&x, i, &census[i]);
        check_family(&x, i, first);
        check_nonfinite(&x, i, &census[i]);
    }
    for (int k = 0; k < t->nkey; k++) {
        const char *ty = t->cols[t->key[k]].map.type;
        const char *paren = strchr(ty, '(');
        if (strncmp(ty, "VARCHAR", 7) == 0 && paren)
            key_bytes += 4 * atoi(paren + 1);
        else if (strncmp(ty, "VARBINARY", 9) == 0 && paren)
            key_bytes += atoi(paren + 1);
        else
            key_bytes += 8;
    }
    if (key_bytes > KEY_MAX_BYTES)
        note(&x, t->key[0], MAP_BLOCKING, "the key takes up to %d bytes on "
             "the target; InnoDB allows %d", key_bytes, KEY_MAX_BYTES);
    return x.nnotes;
}

void typemap_record_logical(const struct target_ops *tops, struct table *t)
{
    for (int i = 0; i < t->ncols; i++) {
        struct colmap *m = &t->cols[i].map;
        m->has_logical = tops->logical_of_type(m->type, &m->logical) == 0;
    }
}

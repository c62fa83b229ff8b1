/*
 * typemap.c — a SQLite column's logical type: from its declared type, the
 * census of what it holds and the runbook's override, the type that holds
 * every value exactly, with the reason in words. The target renders it in
 * its own language and sets the limits decided within (tops->types); the
 * words "{type}" in a reason or note stand for what it renders.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runbook.h"
#include "sync/codec.h"
#include "sync/drivers/source.h"
#include "sync/drivers/target.h"
#include "sync/drivers/sqlite/sqlite_priv.h"
#include "sync/typemap_priv.h"

#define INDEXED_TEXT_MIN 255     /* a bounded indexed text's least length */

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

/* ---- logical types ------------------------------------------------------ */

static void lt_kind(struct colmap *m, enum lkind kind, int fsp)
{
    memset(&m->logical, 0, sizeof m->logical);
    m->logical.kind = kind;
    m->logical.fsp = fsp;
}

static void lt_integer(struct colmap *m, int64_t lo, int64_t hi)
{
    lt_kind(m, LK_INTEGER, 0);
    m->logical.int_min = lo;
    m->logical.int_max = (uint64_t)hi;
}

/* Text of at most max_chars characters (0: unbounded). */
static void lt_text(struct colmap *m, int64_t max_chars)
{
    lt_kind(m, LK_TEXT, 0);
    m->logical.max_chars = max_chars;
}

static void lt_bytes(struct colmap *m, int64_t max_bytes)
{
    lt_kind(m, LK_BYTES, 0);
    m->logical.max_bytes = max_bytes;
}

static void lt_decimal(struct colmap *m, int precision, int scale)
{
    lt_kind(m, LK_DECIMAL, 0);
    m->logical.precision = m->precision = precision;
    m->logical.scale = m->scale = scale;
}

/* How the target writes a type the notes advise (an override). */
static const char *words_for(struct ctx *x, enum lkind kind, int64_t size,
                             char *buf, size_t cap)
{
    struct logical_type lt = {.kind = kind, .max_chars = size, .fsp = 6};

    x->tops->render_type(&lt, buf, cap);
    return buf;
}

static const struct type_limits *limits(const struct ctx *x)
{
    return x->tops->types;
}

/* ---- decisions ---------------------------------------------------------- */

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
    *in_key = table_in_key(t, col);
    for (int i = 0; i < t->nidx; i++) {
        if (!t->idx[i].unique || t->idx[i].expr)
            continue;
        for (int c = 0; c < t->idx[i].ncols; c++)
            if (t->idx[i].cols[c] == col)
                return 1;
    }
    return *in_key;
}

/* Indexed text past what one index entry holds: a key cannot move; a
 * unique index indexes a prefix where the target does that (which changes
 * what counts as a duplicate), and is refused where it does not. Engines
 * that need a length to index text limit the length; the others the
 * longest value's bytes. */
static void text_past_index_limit(struct ctx *x, int ci,
                                  const struct col_census *c, int64_t chars,
                                  int in_key)
{
    const struct type_limits *L = limits(x);
    int prefix = !in_key && L->long_unique_prefix;
    char size[64];

    if (L->index_needs_length)
        snprintf(size, sizeof size, "%lld characters", (long long)chars);
    else
        snprintf(size, sizeof size, "%lld bytes", (long long)c->max_bytes);
    note(x, ci, prefix ? MAP_WARNING : MAP_BLOCKING,
         "%s text up to %s exceeds the %d-byte %s; %s",
         in_key ? "key" : "unique", size, L->key_max_bytes, L->key_limit,
         in_key ? "choose another key (tables.keys) or shorten the values"
                : prefix ? "the unique index will use a prefix, which "
                           "changes what counts as a duplicate"
                         : "shorten the values or drop the unique index");
    note_rows(x, RF_LONGER_THAN, L->key_max_bytes / L->bytes_per_char);
}

/* Text: bounded where it must be indexable (on engines that need that) or
 * was declared with a length, unbounded otherwise; never shorter than the
 * longest value. */
static void text_type(struct ctx *x, int ci, const struct col_census *c,
                      int declared_len, int in_key, int in_unique)
{
    const struct type_limits *L = limits(x);
    struct colmap *m = &x->t->cols[ci].map;
    int64_t chars = c->max_chars > declared_len ? c->max_chars : declared_len;

    if (in_key || in_unique) {
        int64_t want = declared_len ? chars : 0, need = c->max_bytes;
        if (L->index_needs_length) {
            want = chars < INDEXED_TEXT_MIN && !declared_len
                       ? INDEXED_TEXT_MIN : chars;
            if (want < 1)
                want = 1;
            need = want * L->bytes_per_char;
        }
        lt_text(m, want);
        if (need > L->key_max_bytes) {
            set(m, LT_TEXT, "%s column with values up to %lld characters",
                in_key ? "key" : "unique", (long long)c->max_chars);
            text_past_index_limit(x, ci, c, chars, in_key);
            if (!in_key && L->long_unique_prefix)
                lt_text(m, 0);
            return;
        }
        set(m, LT_TEXT, "%s text, longest value %lld characters → {type}",
            in_key ? "key" : "uniquely indexed", (long long)c->max_chars);
        return;
    }
    if (declared_len > 0 && chars <= L->bounded_text_max) {
        lt_text(m, chars);
        if (chars > declared_len)
            set(m, LT_TEXT, "declared %s but values up to %lld characters "
                "(SQLite ignores lengths) → {type}", x->t->cols[ci].decl,
                (long long)c->max_chars);
        else
            set(m, LT_TEXT, "declared %s", x->t->cols[ci].decl);
        return;
    }
    lt_text(m, 0);
    set(m, LT_TEXT, "text → {type} (longest value %lld bytes)",
        (long long)c->max_bytes);
}

static void blob_type(struct ctx *x, int ci, const struct col_census *c,
                      int in_key, int in_unique)
{
    const struct type_limits *L = limits(x);
    struct colmap *m = &x->t->cols[ci].map;

    if (in_key || in_unique) {
        int64_t want = c->max_bytes > 0 ? c->max_bytes : 1;
        lt_bytes(m, L->index_needs_length ? want : 0);
        set(m, LT_BLOB, "indexed bytes, longest %lld → {type}",
            (long long)c->max_bytes);
        if (want > L->key_max_bytes)
            note(x, ci, in_key ? MAP_BLOCKING : MAP_WARNING,
                 "indexed blob values up to %lld bytes exceed the %d-byte "
                 "index limit", (long long)want, L->key_max_bytes);
        return;
    }
    lt_bytes(m, 0);
    set(m, LT_BLOB, "bytes → {type} (largest %lld bytes)",
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
                 "UTF-8 → {type} (schema.invalid_utf8: as_blob)",
                 (long long)c->invalid_utf8);
        note(x, ci, MAP_WARNING, "%s", m->reason);
        return 1;
    }
    return 0;
}

static void int_type(struct ctx *x, int ci, const struct col_census *c,
                     const char *decl)
{
    struct colmap *m = &x->t->cols[ci].map;
    static const struct { const char *word; int64_t lo, hi; } sizes[] = {
        {"TINYINT", -128, 127},
        {"SMALLINT", -32768, 32767},
        {"MEDIUMINT", -8388608, 8388607},
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
            lt_integer(m, sizes[i].lo, sizes[i].hi);
            set(m, LT_INT, "declared %s, values within its range", decl);
            return;
        }
        lt_integer(m, INT64_MIN, INT64_MAX);
        set(m, LT_INT, "declared %s but values reach %lld → {type}", decl,
            (long long)(c->int_max > sizes[i].hi ? c->int_max : c->int_min));
        note(x, ci, MAP_WARNING, "%s", m->reason);
        return;
    }
    lt_integer(m, INT64_MIN, INT64_MAX);
    if (c->ints && (c->int_max > 2147483647LL || c->int_min < -2147483648LL))
        set(m, LT_INT, "INTEGER with values up to %lld → {type}",
            (long long)(c->int_max >= -(c->int_min + 1) ? c->int_max
                                                        : c->int_min));
    else
        set(m, LT_INT, "INTEGER → {type} (SQLite integers are 64-bit)");
}

static void double_type(struct colmap *m)
{
    lt_kind(m, LK_FLOAT, 0);
    m->lt = LT_DOUBLE;
}

static void decimal_type(struct ctx *x, int ci, const struct col_census *c,
                         int p, int s)
{
    const struct type_limits *L = limits(x);
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
    if (need_s <= L->decimal_max_scale &&
        need_int + need_s <= L->decimal_max_precision) {
        lt_decimal(m, need_int + need_s, need_s);
        if (p == 0)
            set(m, LT_DECIMAL, "declared %s without precision; values need "
                "%d integer and %d fraction digits → {type} (override if "
                "the application expects another precision)",
                x->t->cols[ci].decl, intd, fracd);
        else if (m->precision == p && m->scale == s)
            set(m, LT_DECIMAL, "declared %s, every value fits exactly",
                x->t->cols[ci].decl);
        else {
            set(m, LT_DECIMAL, "declared %s but values need %d integer and "
                "%d fraction digits → {type}", x->t->cols[ci].decl, intd,
                fracd);
            note(x, ci, MAP_WARNING, "%s (no value is rounded; clean the data "
                 "or override to keep the declared type)", m->reason);
        }
        return;
    }
    double_type(m);
    set(m, LT_DOUBLE, "declared %s but values need %d fraction digits (more "
        "than %s's %d) → {type}, which holds them exactly",
        x->t->cols[ci].decl, fracd, L->decimal_name, L->decimal_max_scale);
    note(x, ci, MAP_WARNING, "%s", m->reason);
}

/* Values finer than a microsecond: the target's (6) types would round
 * them. */
static void submicrosecond_note(struct ctx *x, int ci,
                                const struct dt_census *d, enum ltype lt)
{
    char type[48], text[48];

    note(x, ci, MAP_BLOCKING, "%lld values have more than 6 fraction digits: "
         "%s would round them; override the column to %s to keep them as "
         "text", (long long)d->fraction_long,
         words_for(x, lt == LT_TIME ? LK_TIME : LK_DATETIME, 0, type,
                   sizeof type),
         words_for(x, LK_TEXT, lt == LT_TIME ? 20 : 40, text, sizeof text));
    note_rows(x, RF_SUBMICROSECOND, lt == LT_TIME);
}

/* Epoch numbers become dates only within the years the codec converts
 * (1000 to 9999, which every target holds); one outside would stop the
 * copy at its row, so plan names the rows first. */
static void epoch_range_note(struct ctx *x, int ci, const struct col_census *c,
                             enum dt_repr repr)
{
    double div = repr == DT_EPOCH_MS ? 1000 : 1;
    double lo = c->ints ? (double)c->int_min : c->real_min;
    double hi = c->ints ? (double)c->int_max : c->real_max;
    char text[40];
    struct row_filter *f;

    if (c->reals && c->ints) {
        lo = fmin(lo, c->real_min);
        hi = fmax(hi, c->real_max);
    }
    if (codec_epoch_to_datetime((int64_t)floor(lo / div), 0, text,
                                sizeof text) == 0 &&
        codec_epoch_to_datetime((int64_t)ceil(hi / div), 0, text,
                                sizeof text) == 0)
        return;
    note(x, ci, MAP_BLOCKING, "epoch %s from %.17g to %.17g reach past the "
         "years 1000 to 9999, the dates {type} is given: fix the rows, or "
         "override the column to keep the numbers",
         repr == DT_EPOCH_MS ? "milliseconds" : "seconds", lo, hi);
    f = note_rows(x, RF_DT_OUTSIDE, repr);
    if (f) {
        f->text = "1000-01-01 00:00:00.000000";
        f->text2 = "9999-12-31 23:59:59.999999";
    }
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
            lt_kind(m, LK_DATE, 0);
            set(m, LT_DATE, "ISO dates → {type}");
            return;
        }
        lt_kind(m, LK_DATETIME, 6);
        set(m, LT_DATETIME, "ISO text%s%s → {type}",
            d->t_sep ? " (with 'T' separator)" : "",
            d->fraction ? " with fractions" : "");
        if (d->utc_suffix)
            note(x, ci, MAP_INFO, "%lld values end in Z/+00:00; {type} "
                 "keeps the instant without the suffix",
                 (long long)d->utc_suffix);
        return;
    }
    if (c->texts == values && d->fraction_long > 0 && d->not_datetime == 0) {
        lt_kind(m, LK_DATETIME, 6);
        set(m, LT_DATETIME, "ISO text with sub-microsecond fractions");
        submicrosecond_note(x, ci, d, LT_DATETIME);
        return;
    }
    if (c->ints == values) {
        int ms = c->int_max > 100000000000LL || c->int_min < -100000000000LL;
        m->dt = ms ? DT_EPOCH_MS : DT_EPOCH_S;
        lt_kind(m, LK_DATETIME, 6);
        set(m, LT_DATETIME, "DATETIME as epoch %s integers → {type} "
            "converted", ms ? "millisecond" : "second");
        note(x, ci, MAP_WARNING, "%s: the application reads dates, not "
             "numbers, from %s", m->reason, limits(x)->engine);
        epoch_range_note(x, ci, c, m->dt);
        return;
    }
    if (c->reals == values || (c->reals + c->ints == values)) {
        if (c->reals_unsafe_us == 0) {
            m->dt = DT_EPOCH_S;
            lt_kind(m, LK_DATETIME, 6);
            set(m, LT_DATETIME, "DATETIME as epoch seconds with fractions → "
                "{type} converted");
            note(x, ci, MAP_WARNING, "%s", m->reason);
            epoch_range_note(x, ci, c, DT_EPOCH_S);
            return;
        }
        double_type(m);
        set(m, LT_DOUBLE, "epoch values finer than a microsecond → {type} "
            "(kept as numbers)");
        note(x, ci, MAP_WARNING, "%s", m->reason);
        return;
    }
    lt_text(m, 0);
    set(m, LT_TEXT, "declared %s but %lld values are not dates → {type}",
        x->t->cols[ci].decl, (long long)(d->not_datetime + c->ints + c->reals));
    note(x, ci, MAP_WARNING, "%s (values kept as text)", m->reason);
}

/* TIME: time-of-day (or duration) text becomes a time with microseconds,
 * as DATETIME becomes a datetime, so the application reads times back.
 * Anything else in the column keeps the whole column as text. */
static void time_type(struct ctx *x, int ci, const struct col_census *c,
                      int in_key, int in_unique)
{
    struct colmap *m = &x->t->cols[ci].map;
    const struct dt_census *d = &c->dt;

    if (c->texts == c->rows - c->nulls && d->not_datetime == 0) {
        lt_kind(m, LK_TIME, 6);
        set(m, LT_TIME, "times of day as text%s → {type}",
            d->fraction ? " with fractions" : "");
        if (d->fraction_long)
            submicrosecond_note(x, ci, d, LT_TIME);
        return;
    }
    text_type(x, ci, c, 0, in_key, in_unique);
    snprintf(m->reason, sizeof m->reason, "TIME column with values that are "
             "not times → {type}");
    note(x, ci, MAP_WARNING, "%lld values are not times (H:MM[:SS[.ffffff]], "
         "up to 838 hours): the column stays text ({type})",
         (long long)(c->rows - c->nulls - d->time_of_day));
    note_rows(x, RF_NOT_DATETIME, 1);
}

/* ---- overrides ---------------------------------------------------------- */

/* An override's date or time: the census decides how the values convert
 * (ISO text, epoch numbers), the override what they become. */
static void override_temporal(struct ctx *x, int ci,
                              const struct col_census *c, const char *up,
                              const struct logical_type *ov)
{
    struct colmap *m = &x->t->cols[ci].map;
    int is_time = ov->kind == LK_TIME, first = x->nnotes;
    char decided[96];

    if (is_time)
        time_type(x, ci, c, 0, 0);
    else
        datetime_type(x, ci, c, ov->kind == LK_DATE ? DK_DATE : DK_DATETIME);
    /* the notes of that decision name its type, not the override's */
    x->tops->render_type(&m->logical, decided, sizeof decided);
    for (int i = first; i < x->nnotes; i++)
        typemap_put_type(x->notes[i].message, sizeof x->notes[i].message,
                         decided);
    if (m->lt != LT_DATETIME && m->lt != LT_DATE && m->lt != LT_TIME) {
        note(x, ci, MAP_BLOCKING, "override %s but the column holds "
             "values that are not %s", up, is_time ? "times"
                                                   : "dates/times");
        note_rows(x, RF_NOT_DATETIME, is_time);
    }
    snprintf(m->reason, sizeof m->reason, "override %s", up);
    if (ov->kind != LK_DATE && ov->fsp < 6 &&
        c->dt.max_fraction_digits > ov->fsp) {
        char exact[48];
        note(x, ci, MAP_BLOCKING, "override %s would round values with "
             "%d fraction digits; use %s", up, c->dt.max_fraction_digits,
             words_for(x, is_time ? LK_TIME : LK_DATETIME, 0, exact,
                       sizeof exact));
    }
}

/* Apply a runbook override (the target's type words, whose logical type
 * the target read) and check that the values fit it. */
static void override_type(struct ctx *x, int ci, const struct col_census *c,
                          const char *ov_text)
{
    struct colmap *m = &x->t->cols[ci].map;
    struct logical_type ov;
    char up[96];
    size_t n = 0;

    for (const char *q = ov_text; *q && n + 1 < sizeof up; q++)
        up[n++] = (char)toupper((unsigned char)*q);
    up[n] = '\0';
    if (x->tops->logical_of_type(up, &ov) < 0) {
        memset(&ov, 0, sizeof ov);
        ov.kind = LK_TEXT;        /* check_runbook let it through */
    }
    switch (ov.kind) {
    case LK_DECIMAL:
        set(m, LT_DECIMAL, "override %s", up);
        m->precision = ov.precision;
        m->scale = ov.scale;
        if (c->max_frac_digits > ov.scale) {
            note(x, ci, MAP_BLOCKING, "override %s would round values with "
                 "%d fraction digits", up, c->max_frac_digits);
            note_rows(x, RF_FRACTION_OVER, ov.scale);
        }
        if (c->max_int_digits > ov.precision - ov.scale) {
            note(x, ci, MAP_BLOCKING, "override %s cannot hold values with "
                 "%d integer digits", up, c->max_int_digits);
            note_rows(x, RF_INTEGER_OVER, ov.precision - ov.scale);
        }
        break;
    case LK_INTEGER:
    case LK_BOOLEAN:
        set(m, ov.kind == LK_BOOLEAN ? LT_BOOL : LT_INT, "override %s", up);
        if (c->reals || c->texts || c->blobs)
            note(x, ci, MAP_BLOCKING, "override %s but the column holds "
                 "non-integer values", up);
        break;
    case LK_FLOAT:
        set(m, LT_DOUBLE, "override %s", up);
        if (ov.float_bits && ov.float_bits < 53) {
            char exact[48];
            note(x, ci, MAP_BLOCKING, "override %s would round 64-bit "
                 "reals; use %s", up, words_for(x, LK_FLOAT, 0, exact,
                                                sizeof exact));
        }
        break;
    case LK_DATETIME:
    case LK_DATE:
    case LK_TIME:
        override_temporal(x, ci, c, up, &ov);
        break;
    case LK_BYTES:
        set(m, LT_BLOB, "override %s", up);
        break;
    case LK_SET:
        set(m, LT_TEXT, "override %s", up);
        note(x, ci, MAP_BLOCKING, "override %s is for MySQL SET columns; "
             "SQLite has none", up);
        break;
    default:
        set(m, LT_TEXT, "override %s", up);
        if (ov.kind == LK_TEXT && ov.max_chars > 0 &&
            c->max_chars > ov.max_chars) {
            note(x, ci, MAP_BLOCKING, "override %s is shorter than the longest "
                 "value (%lld characters)", up, (long long)c->max_chars);
            note_rows(x, RF_LONGER_THAN, (long)ov.max_chars);
        }
        break;
    }
    m->logical = ov;
    snprintf(m->type, sizeof m->type, "%s", up);
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

/* Infinity fits the numbers of some targets only; NaN never reaches us
 * (SQLite stores it as NULL). */
static void check_nonfinite(struct ctx *x, int ci, const struct col_census *c)
{
    enum ltype lt = x->t->cols[ci].map.lt;
    char text[48];

    if (c->nonfinite == 0 || limits(x)->holds_infinity ||
        (lt != LT_DOUBLE && lt != LT_DECIMAL && lt != LT_INT))
        return;
    note(x, ci, MAP_BLOCKING, "%lld values are infinite; %s numbers cannot "
         "hold them: override the column to %s to keep them as text, or fix "
         "the data", (long long)c->nonfinite, limits(x)->engine,
         words_for(x, LK_TEXT, 40, text, sizeof text));
    note_rows(x, RF_NONFINITE, 0);
}

/* Text holding NUL bytes, which some targets cannot store in text: the
 * bytes type keeps them. */
static void check_nul(struct ctx *x, int ci, const struct col_census *c)
{
    char bytes[48];

    if (c->nul_bytes == 0 || !limits(x)->text_refuses_nul ||
        x->t->cols[ci].map.lt != LT_TEXT)
        return;
    note(x, ci, MAP_BLOCKING, "%lld values hold a NUL byte, which %s cannot "
         "store in text: override the column to %s to keep the bytes, or "
         "fix the data", (long long)c->nul_bytes, limits(x)->engine,
         words_for(x, LK_BYTES, 0, bytes, sizeof bytes));
    note_rows(x, RF_NUL_BYTE, 0);
}

static void negative_zero_note(struct ctx *x, int ci,
                               const struct col_census *c)
{
    if (c->neg_zero && !limits(x)->keeps_negative_zero)
        note(x, ci, MAP_INFO, "%lld values are -0.0; %s reads them back as 0",
             (long long)c->neg_zero, limits(x)->engine);
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

int typemap_declared_json(const char *decl)
{
    return decl && strcasestr(decl, "JSON") != NULL;
}

/* On a target with json and uuid types of its own (jsonb, uuid): a column
 * declared JSON whose every value is JSON becomes json; text whose every
 * value is a UUID (declared UUID, or CHAR(36) or TEXT) becomes uuid. A
 * declared JSON or UUID column holding anything else stays text, and a
 * note names the rows. */
static void json_or_uuid(struct ctx *x, int ci, const struct col_census *c,
                         enum decl_kind dk, int len, int in_key)
{
    struct column *col = &x->t->cols[ci];
    int64_t values = c->ints + c->reals + c->texts + c->blobs;
    int declared_uuid = col->decl && strcasestr(col->decl, "UUID") != NULL;
    char words[32];

    if (!limits(x)->typed_json_uuid || col->map.lt != LT_TEXT ||
        values == 0)
        return;
    if (typemap_declared_json(col->decl)) {
        /* numbers stored as such are JSON numbers too */
        int64_t bad = c->texts - c->json_texts + c->blobs + c->nonfinite;
        if (bad == 0) {
            lt_kind(&col->map, LK_JSON, 0);
            set(&col->map, LT_TEXT, "%s with only valid JSON → {type}",
                col->decl);
            typemap_note_json_nul(x, ci);
            return;
        }
        note(x, ci, MAP_WARNING, "declared %s, but %lld values are not "
             "valid JSON: {type}, not %s", col->decl, (long long)bad,
             words_for(x, LK_JSON, 0, words, sizeof words));
        note_rows(x, RF_NOT_JSON, 0);
        return;
    }
    if (c->texts == values && c->uuids == values &&
        (declared_uuid || dk == DK_TEXT || (dk == DK_VARCHAR && len == 36))) {
        /* a key in upper case stays text: uuid gives it back in lower
         * case, and a rollback finds the source's rows by the target's */
        if (in_key && c->uuids_lower != values) {
            note(x, ci, MAP_INFO, "the key holds UUIDs, some in upper "
                 "case: kept {type}, as uuid would give them back in lower "
                 "case and a rollback would not find the rows");
            return;
        }
        lt_kind(&col->map, LK_UUID, 0);
        set(&col->map, LT_TEXT, "%s with only UUIDs → {type}", col->decl);
    } else if (declared_uuid) {
        note(x, ci, MAP_WARNING, "declared %s, but %lld values are not "
             "UUIDs (8-4-4-4-12 hex digits): {type}, not %s", col->decl,
             (long long)(values - c->uuids),
             words_for(x, LK_UUID, 0, words, sizeof words));
        note_rows(x, RF_NOT_UUID, 0);
    }
}

/* Columns read as text (declared so, or holding text that is not all
 * numbers in a column that is neither temporal nor DECIMAL). */
static void decide_text(struct ctx *x, int ci, const struct col_census *c,
                        enum decl_kind dk, int len, int in_key, int in_unique)
{
    struct column *col = &x->t->cols[ci];
    int classes = (c->ints > 0) + (c->reals > 0) + (c->texts > 0) +
                  (c->blobs > 0);

    if (utf8_policy(x, ci, c, in_key, in_unique))
        return;
    text_type(x, ci, c, dk == DK_VARCHAR ? len : 0, in_key, in_unique);
    json_or_uuid(x, ci, c, dk, len, in_key);
    if (classes > 1 && dk != DK_TEXT && dk != DK_VARCHAR &&
        col->map.logical.kind != LK_JSON) {
        char seen[64];
        classes_seen(c, seen, sizeof seen);
        snprintf(col->map.reason, sizeof col->map.reason, "%s, mixed %s → "
                 "{type}", dk == DK_NONE ? "no declared type" : col->decl,
                 seen);
        note(x, ci, MAP_WARNING, "%s (numbers are stored as their text)",
             col->map.reason);
    }
}

static void decide_untyped_or_blob(struct ctx *x, int ci,
                                   const struct col_census *c,
                                   enum decl_kind dk, int in_key,
                                   int in_unique)
{
    struct colmap *m = &x->t->cols[ci].map;
    int classes = (c->ints > 0) + (c->reals > 0) + (c->texts > 0) +
                  (c->blobs > 0);

    if (dk == DK_NONE && classes == 1 && c->ints) {
        int_type(x, ci, c, "INTEGER");
        snprintf(m->reason, sizeof m->reason, "no declared type, only "
                 "integers → {type}");
        return;
    }
    if (dk == DK_NONE && classes == 1 && c->reals) {
        double_type(m);
        set(m, LT_DOUBLE, "no declared type, only reals → {type}");
        negative_zero_note(x, ci, c);
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
}

/* INT, REAL, NUMERIC and DECIMAL words without precision. */
static void decide_number(struct ctx *x, int ci, const struct col_census *c,
                          enum decl_kind dk)
{
    struct column *col = &x->t->cols[ci];
    struct colmap *m = &col->map;
    char words[48];

    /* "decimal"/"numeric" without precision: size it from the values. */
    if (dk == DK_NUMERIC && decimal_word(col->decl) &&
        (c->reals || c->numeric_texts)) {
        decimal_type(x, ci, c, 0, 0);
        return;
    }
    /* INT, REAL, NUMERIC with numbers only */
    if (c->reals == 0 && c->numeric_texts == 0 && c->blobs == 0) {
        if (dk == DK_REAL) {
            double_type(m);
            set(m, LT_DOUBLE, "REAL → {type}");
            return;
        }
        int_type(x, ci, c, dk == DK_INT ? col->decl : "INTEGER");
        return;
    }
    if (c->ints && (c->int_max > (1LL << 53) || c->int_min < -(1LL << 53))) {
        decimal_type(x, ci, c, 19, 0);
        note(x, ci, MAP_WARNING, "integers beyond 2^53 next to reals: %s "
             "would round them → {type}",
             words_for(x, LK_FLOAT, 0, words, sizeof words));
        return;
    }
    double_type(m);
    set(m, LT_DOUBLE, "%s with real values → {type} (exact)", dk == DK_INT ?
        "INTEGER" : dk == DK_NUMERIC ? "NUMERIC" : "REAL");
    if (dk == DK_INT)
        note(x, ci, MAP_WARNING, "INTEGER column holds %lld non-integer "
             "values → {type}", (long long)c->reals);
    negative_zero_note(x, ci, c);
}

static void decide_column(struct ctx *x, int ci, const struct col_census *c)
{
    struct column *col = &x->t->cols[ci];
    struct colmap *m = &col->map;
    int len, p, s, in_key, in_unique;
    enum decl_kind dk = typemap_decl_kind(col->decl, &len, &p, &s);
    const char *ov = runbook_override(x->rb, x->t->name, col->name);

    memset(m, 0, sizeof *m);
    in_unique = column_in_unique(x->t, ci, &in_key);
    if (col->is_rowid || (x->t->int_key && in_key)) {
        lt_integer(m, INT64_MIN, INT64_MAX);
        m->autoinc = 1;
        set(m, LT_INT, "%s → {type} %s", col->is_rowid ? "SQLite rowid as key"
            : "INTEGER PRIMARY KEY", limits(x)->generated_key);
        return;
    }
    if (ov) {
        override_type(x, ci, c, ov);
        return;
    }
    if ((dk == DK_TEXT || dk == DK_VARCHAR) ||
        (c->texts > 0 && dk != DK_DATETIME && dk != DK_DATE &&
         dk != DK_TIME && dk != DK_DECIMAL && c->numeric_texts < c->texts)) {
        decide_text(x, ci, c, dk, len, in_key, in_unique);
        return;
    }
    switch (dk) {
    case DK_BLOB:
    case DK_NONE:
        decide_untyped_or_blob(x, ci, c, dk, in_key, in_unique);
        return;
    case DK_BOOL:
        if (c->reals == 0 && c->texts == 0 && c->blobs == 0 &&
            (c->ints == 0 || (c->int_min >= 0 && c->int_max <= 1))) {
            lt_kind(m, LK_BOOLEAN, 0);
            set(m, LT_BOOL, "BOOL with 0/1 values → {type}");
            return;
        }
        int_type(x, ci, c, "INTEGER");
        note(x, ci, MAP_WARNING, "BOOL column holds values other than 0 and 1 "
             "→ {type}");
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
            char text[48];
            text_type(x, ci, c, 0, in_key, in_unique);
            note(x, ci, MAP_BLOCKING, "declared %s but %lld values are not "
                 "numbers; override the column (e.g. to %s) or fix the "
                 "data", col->decl,
                 (long long)(c->texts - c->numeric_texts + c->blobs),
                 words_for(x, LK_TEXT, 0, text, sizeof text));
            note_rows(x, RF_NOT_NUMERIC, 0);
            return;
        }
        decimal_type(x, ci, c, p, s);
        return;
    default:
        decide_number(x, ci, c, dk);
        return;
    }
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
         "schema.overrides (\"%s.%s\": \"{type}\" keeps the values as they "
         "are) or fix the rows", col->map.reason, reads[declared],
         reads[decided], x->t->name, col->name);
    outside_rows(x, ci, declared);
}

int sqlite_decide_types(const struct runbook *rb, struct table *t,
                        const struct col_census *census,
                        const struct target_ops *tops, struct map_note *notes,
                        int max_notes)
{
    struct ctx x = {rb, t, notes, max_notes, 0, tops};

    for (int i = 0; i < t->ncols; i++) {
        int first = x.nnotes;
        decide_column(&x, i, &census[i]);
        check_family(&x, i, first);
        check_nonfinite(&x, i, &census[i]);
        check_nul(&x, i, &census[i]);
    }
    return x.nnotes;
}

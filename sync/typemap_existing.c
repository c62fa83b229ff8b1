/*
 * typemap_existing.c — schema.mode "existing": the target table was made
 * by the application's framework, so each column's type is the target
 * column's, and the question becomes whether every source value fits it
 * unchanged. The census answers for lengths, digits, ranges, fractions and
 * characters; the rest (ENUM and SET members) is asked of the rows. Every
 * value the target would refuse, round, clamp or silently rewrite is a
 * blocking note that says which rows.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/runbook.h"
#include "sync/codec.h"
#include "sync/target_schema.h"
#include "sync/typemap_priv.h"

#define FIX_DATA "fix the rows in the source (or the target column, with a " \
                 "migration of the application), then plan again"

#define CHANGE_COLUMN "change the target column with a migration of the " \
                      "application, or drop the column from the source"
#define NO_ROWS (-1)

/* A blocking note with its code and the rows it is about (kind: an enum
 * row_filter_kind, or NO_ROWS for a finding about the column itself). */
static struct row_filter *refuse(struct ctx *x, int ci, const char *code,
                                 int kind, long arg, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static struct row_filter *refuse(struct ctx *x, int ci, const char *code,
                                 int kind, long arg, const char *fmt, ...)
{
    struct map_note *n;
    va_list ap;

    if (x->nnotes >= x->max_notes)
        return NULL;
    note(x, ci, MAP_BLOCKING, "%s", "");
    n = &x->notes[x->nnotes - 1];
    n->code = code;
    n->hint = FIX_DATA;
    va_start(ap, fmt);
    vsnprintf(n->message, sizeof n->message, fmt, ap);
    va_end(ap);
    return kind == NO_ROWS ? NULL
                           : note_rows(x, (enum row_filter_kind)kind, arg);
}

static int digits_of(int64_t v)
{
    char buf[24];

    return snprintf(buf, sizeof buf, "%" PRId64, v < 0 ? -(v + 1) : v);
}

static void int_fit(struct ctx *x, int ci, const struct col_census *c,
                    const struct tcolumn *tc)
{
    int64_t nonint = c->reals - c->reals_whole + c->texts + c->blobs;
    int over = (c->ints && (c->int_min < tc->int_min ||
                            c->int_max > tc->int_max)) ||
               (c->reals_whole && (c->real_min < (double)tc->int_min ||
                                   c->real_max > (double)tc->int_max));
    struct row_filter *f;

    set(&x->t->cols[ci].map, tc->is_bool ? LT_BOOL : LT_INT,
        "existing column %s", tc->type);
    if (nonint)
        refuse(x, ci, "not_integer", RF_NOT_INTEGER, 0,
               "%lld values are not whole numbers; %s holds integers only",
               (long long)nonint, tc->type);
    int low = (c->ints && c->int_min < tc->int_min) ||
              (c->reals_whole && c->real_min < (double)tc->int_min);
    double worst = low ? (c->ints ? (double)c->int_min : c->real_min)
                       : (c->ints ? (double)c->int_max : c->real_max);

    if (c->reals_whole)
        worst = low ? fmin(worst, c->real_min) : fmax(worst, c->real_max);
    if (over && (f = refuse(x, ci, "out_of_range", RF_INT_OUTSIDE, 0,
                            "values %s %.0f; %s holds %lld to %lld",
                            low ? "down to" : "up to", worst, tc->type,
                            (long long)tc->int_min,
                            (long long)tc->int_max))) {
        f->lo = tc->int_min;
        f->hi = tc->int_max;
    }
}

static int decimal_int_digits(const struct col_census *c)
{
    int d = c->max_int_digits;

    if (c->ints && digits_of(c->int_min) > d)
        d = digits_of(c->int_min);
    if (c->ints && digits_of(c->int_max) > d)
        d = digits_of(c->int_max);
    return d;
}

/* Digits for DECIMAL(p,s) and FLOAT/DOUBLE(p,s): the server rounds extra
 * fraction digits and refuses extra integer digits. */
static void digits_fit(struct ctx *x, int ci, const struct col_census *c,
                       const struct tcolumn *tc)
{
    int intd = decimal_int_digits(c);

    if (c->max_frac_digits > tc->scale)
        refuse(x, ci, "fraction_digits", RF_FRACTION_OVER, tc->scale,
               "values with %d fraction digits; %s keeps %d and would "
               "round them", c->max_frac_digits, tc->type, tc->scale);
    if (intd > tc->precision - tc->scale)
        refuse(x, ci, "integer_digits", RF_INTEGER_OVER,
               tc->precision - tc->scale, "values with %d integer digits; "
               "%s holds %d", intd, tc->type, tc->precision - tc->scale);
}

static void number_fit(struct ctx *x, int ci, const struct col_census *c,
                       const struct tcolumn *tc)
{
    struct colmap *m = &x->t->cols[ci].map;
    int64_t not_numbers = tc->kind == TK_DECIMAL
                              ? c->texts - c->numeric_texts + c->blobs
                              : c->texts + c->blobs;
    struct row_filter *f;

    if (tc->kind == TK_DECIMAL) {
        set(m, LT_DECIMAL, "existing column %s", tc->type);
        m->precision = tc->precision;
        m->scale = tc->scale;
    } else {
        set(m, LT_DOUBLE, "existing column %s", tc->type);
    }
    if (not_numbers)
        refuse(x, ci, "not_numeric", RF_NOT_NUMERIC, 0,
               "%lld values are not numbers; %s holds numbers only",
               (long long)not_numbers, tc->type);
    if (tc->kind == TK_DECIMAL || tc->scale >= 0)
        digits_fit(x, ci, c, tc);
    if (tc->is_unsigned && ((c->ints && c->int_min < 0) ||
                            (c->reals && c->real_min < 0)))
        refuse(x, ci, "out_of_range", RF_NEGATIVE, 0,
               "negative values; %s is unsigned", tc->type);
    if (tc->kind == TK_FLOAT && c->reals_not_float)
        refuse(x, ci, "rounded", RF_NOT_FLOAT, 0,
               "%lld values have more precision than a single-precision %s "
               "keeps", (long long)c->reals_not_float, tc->type);
    /* integers a double (2^53) or a float (2^24) cannot hold exactly */
    if (tc->kind != TK_DECIMAL && c->ints) {
        int64_t lim = tc->kind == TK_FLOAT ? 1LL << 24 : 1LL << 53;
        if ((c->int_min < -lim || c->int_max > lim) &&
            (f = refuse(x, ci, "rounded", RF_INT_OUTSIDE, 0,
                        "integers beyond %lld; %s would round them",
                        (long long)lim, tc->type))) {
            f->lo = -lim;
            f->hi = lim;
        }
    }
    if (c->nonfinite)
        refuse(x, ci, "not_numeric", RF_NONFINITE, 0,
               "%lld values are infinite; %s cannot hold them",
               (long long)c->nonfinite, tc->type);
}

static void text_fit(struct ctx *x, int ci, const struct col_census *c,
                     const struct tcolumn *tc)
{
    struct colmap *m = &x->t->cols[ci].map;
    int64_t bytes = tc->char_bytes == 1 ? c->max_chars : c->max_bytes;

    set(m, LT_TEXT, "existing column %s", tc->type);
    if (c->invalid_utf8 && x->rb->schema.invalid_utf8 == UTF8_REPLACE) {
        m->invalid_utf8 = UTF8_REPLACE;
        note(x, ci, MAP_WARNING, "%lld values are not valid UTF-8; invalid "
             "bytes become U+FFFD (schema.invalid_utf8: replace)",
             (long long)c->invalid_utf8);
    } else if (c->invalid_utf8) {
        refuse(x, ci, "invalid_utf8", RF_INVALID_UTF8, 0,
               "%lld values are not valid UTF-8; %s holds text (set "
               "schema.invalid_utf8 to \"replace\" to write U+FFFD for the "
               "bad bytes)", (long long)c->invalid_utf8, tc->type);
    }
    if (tc->kind == TK_CHAR && c->max_chars > tc->max_chars)
        refuse(x, ci, "too_long", RF_LONGER_THAN, (long)tc->max_chars,
               "values up to %lld characters; %s holds %lld",
               (long long)c->max_chars, tc->type, (long long)tc->max_chars);
    if (tc->kind == TK_TEXT && bytes > tc->max_bytes)
        refuse(x, ci, "too_long", tc->char_bytes == 1 ? RF_LONGER_THAN
                                                      : RF_BYTES_OVER,
               (long)tc->max_bytes, "values up to %lld bytes; %s holds %lld "
               "bytes", (long long)bytes, tc->type,
               (long long)tc->max_bytes);
    if (tc->kind == TK_CHAR && strncasecmp(tc->type, "char", 4) == 0 &&
        c->leading_trailing_space)
        refuse(x, ci, "trailing_space", RF_TRAILING_SPACE, 0,
               "%lld values end in spaces; %s drops them when read back",
               (long long)c->leading_trailing_space, tc->type);
    if (tc->charset && tc->char_bytes == 3 && c->mb4_texts)
        refuse(x, ci, "mb4", RF_MB4, 0,
               "%lld values have 4-byte characters (emoji and the like); "
               "%s's character set %s has at most 3 bytes per character",
               (long long)c->mb4_texts, tc->type, tc->charset);
    else if (tc->charset && tc->char_bytes < 3 && c->texts)
        note(x, ci, MAP_WARNING, "the column's character set is %s: a "
             "character it lacks stops the copy with the row named",
             tc->charset);
    if (tc->kind == TK_ENUM || tc->kind == TK_SET) {
        struct row_filter *f = refuse(
            x, ci, "not_member", RF_NOT_MEMBER, tc->kind == TK_SET,
            "values that %s does not list exactly%s", tc->type,
            tc->kind == TK_SET ? " (members once each, in its order)" : "");
        if (f) {
            x->notes[x->nnotes - 1].only_if_rows = 1;
            f->members = (const char *const *)tc->values;
            f->nmembers = tc->nvalues;
        }
    }
    if (tc->kind == TK_JSON)
        note(x, ci, MAP_WARNING, "%s (JSON) rewrites documents (key "
             "order, spaces): verify compares the text and finds every "
             "document it rewrote different", tc->type);
}

static void blob_fit(struct ctx *x, int ci, const struct col_census *c,
                     const struct tcolumn *tc)
{
    set(&x->t->cols[ci].map, LT_BLOB, "existing column %s", tc->type);
    if (c->max_bytes > tc->max_bytes)
        refuse(x, ci, "too_long", RF_BYTES_OVER, (long)tc->max_bytes,
               "values up to %lld bytes; %s holds %lld",
               (long long)c->max_bytes, tc->type, (long long)tc->max_bytes);
}

/* The canonical date/time of an epoch number stored as `repr`. */
static void epoch_text(int64_t v, enum dt_repr repr, char *out, size_t cap)
{
    int64_t s = repr == DT_EPOCH_MS ? v / 1000 : v;
    int64_t us = repr == DT_EPOCH_MS ? (v % 1000) * 1000 : 0;

    if (us < 0) {
        s--;
        us += 1000000;
    }
    if (codec_epoch_to_datetime(s, us, out, cap) < 0)
        snprintf(out, cap, "%s", v < 0 ? "0000" : "9999-99");
}

/* How the source stores the column's dates: ISO text, or epoch numbers
 * (as typemap.c reads them). */
static enum dt_repr stored_as(const struct col_census *c)
{
    int64_t values = c->rows - c->nulls;

    if (values > 0 && c->ints == values)
        return c->int_max > 100000000000LL || c->int_min < -100000000000LL
                   ? DT_EPOCH_MS : DT_EPOCH_S;
    if (values > 0 && c->reals && c->reals + c->ints == values)
        return DT_EPOCH_S;
    return DT_TEXT;
}

static void dt_range_fit(struct ctx *x, int ci, const struct col_census *c,
                         const struct tcolumn *tc, enum dt_repr repr)
{
    char lo[40], hi[40];
    struct row_filter *f;

    if (repr == DT_TEXT) {
        snprintf(lo, sizeof lo, "%s", c->dt.min);
        snprintf(hi, sizeof hi, "%s", c->dt.max);
    } else if (c->ints) {
        epoch_text(c->int_min, repr, lo, sizeof lo);
        epoch_text(c->int_max, repr, hi, sizeof hi);
    } else {
        epoch_text((int64_t)floor(c->real_min), repr, lo, sizeof lo);
        epoch_text((int64_t)ceil(c->real_max), repr, hi, sizeof hi);
    }
    if (!lo[0] || (strcmp(lo, tc->dt_min) >= 0 && strcmp(hi, tc->dt_max) <= 0))
        return;
    f = refuse(x, ci, "out_of_range", RF_DT_OUTSIDE, repr,
               "dates from %.19s to %.19s; %s holds %.19s to %.19s", lo, hi,
               tc->type, tc->dt_min, tc->dt_max);
    if (f) {
        f->text = tc->dt_min;
        f->text2 = tc->dt_max;
    }
}

static void datetime_fit(struct ctx *x, int ci, const struct col_census *c,
                         const struct tcolumn *tc)
{
    struct colmap *m = &x->t->cols[ci].map;
    enum dt_repr repr = stored_as(c);
    int64_t not_dt = repr == DT_TEXT ? c->dt.not_datetime + c->ints +
                                           c->reals + c->blobs : 0;
    int fd = repr == DT_TEXT ? c->dt.max_fraction_digits
             : c->reals > c->reals_whole ? 6 : repr == DT_EPOCH_MS ? 3 : 0;
    struct row_filter *f;

    set(m, tc->kind == TK_DATE ? LT_DATE : LT_DATETIME, "existing column %s%s",
        tc->type, repr == DT_TEXT ? "" : ", from epoch numbers");
    m->dt = repr;
    if (not_dt)
        refuse(x, ci, "not_datetime", RF_NOT_DATETIME, 0,
               "%lld values are not dates/times between years 1000 and "
               "9999; %s holds those only", (long long)not_dt, tc->type);
    if (tc->kind == TK_DATE && repr != DT_TEXT)
        refuse(x, ci, "not_datetime", RF_NOT_DATETIME, 0,
               "dates stored as epoch numbers cannot go into %s", tc->type);
    else if (tc->kind == TK_DATE && c->dt.nonzero_time)
        refuse(x, ci, "time_dropped", RF_DATE_WITH_TIME, repr,
               "%lld values have a time of day; %s would drop it",
               (long long)c->dt.nonzero_time, tc->type);
    if (tc->kind != TK_DATE && fd > tc->fsp &&
        (f = refuse(x, ci, "fraction_digits", RF_DT_FRACTION_OVER, repr,
                    "times with %d fraction digits; %s keeps %d and would "
                    "round them", fd, tc->type, tc->fsp))) {
        f->lo = tc->fsp;
        /* epoch milliseconds: only those that are not whole seconds */
        x->notes[x->nnotes - 1].only_if_rows = repr == DT_EPOCH_MS;
    }
    dt_range_fit(x, ci, c, tc, repr);
}

static void time_fit(struct ctx *x, int ci, const struct col_census *c,
                     const struct tcolumn *tc)
{
    int64_t not_time = c->texts - c->dt.time_of_day + c->ints + c->reals +
                       c->blobs;
    struct row_filter *f;

    set(&x->t->cols[ci].map, LT_TIME, "existing column %s", tc->type);
    if (not_time)
        refuse(x, ci, "not_datetime", RF_NOT_DATETIME, 1,
               "%lld values are not times (H:MM[:SS[.ffffff]], up to 838 "
               "hours); %s holds times only", (long long)not_time, tc->type);
    if (c->dt.max_fraction_digits > tc->fsp &&
        (f = refuse(x, ci, "fraction_digits", RF_DT_FRACTION_OVER, -1,
                    "times with %d fraction digits; %s keeps %d and would "
                    "round them", c->dt.max_fraction_digits, tc->type,
                    tc->fsp)))
        f->lo = tc->fsp;
}

/* The column's map is the target column's type; then does every value
 * fit it? */
static void fit_column(struct ctx *x, int ci, const struct col_census *c,
                       const struct tcolumn *tc)
{
    struct column *col = &x->t->cols[ci];
    struct colmap *m = &col->map;

    snprintf(m->type, sizeof m->type, "%s", tc->type);
    snprintf(m->collation, sizeof m->collation, "%s",
             tc->collation ? tc->collation : "");
    m->autoinc = tc->autoinc;
    if (strlen(tc->type) >= sizeof m->type && col->pk) {
        refuse(x, ci, "key_type", NO_ROWS, 0, "key column type %.40s... is "
               "too long for cutover's change logs", tc->type);
        x->notes[x->nnotes - 1].hint = CHANGE_COLUMN;
    }
    if (tc->generated) {
        refuse(x, ci, "generated", NO_ROWS, 0, "the target column is "
               "generated (computed by the server) and cannot be written");
        x->notes[x->nnotes - 1].hint = CHANGE_COLUMN;
    }
    if (tc->notnull && c->nulls)
        refuse(x, ci, "null", RF_NULL, 0, "%lld rows have NULL; the target "
               "column is NOT NULL", (long long)c->nulls);
    switch (tc->kind) {
    case TK_INT:
        int_fit(x, ci, c, tc);
        return;
    case TK_DECIMAL:
    case TK_FLOAT:
    case TK_DOUBLE:
        number_fit(x, ci, c, tc);
        return;
    case TK_CHAR:
    case TK_TEXT:
    case TK_ENUM:
    case TK_SET:
    case TK_JSON:
        text_fit(x, ci, c, tc);
        return;
    case TK_BINARY:
    case TK_BLOB:
        blob_fit(x, ci, c, tc);
        return;
    case TK_DATE:
    case TK_DATETIME:
    case TK_TIMESTAMP:
        datetime_fit(x, ci, c, tc);
        return;
    case TK_TIME:
        time_fit(x, ci, c, tc);
        return;
    case TK_OTHER:
        set(m, LT_BLOB, "existing column %s", tc->type);
        refuse(x, ci, "unsupported", NO_ROWS, 0, "cutover cannot write %s "
               "columns", tc->type);
        x->notes[x->nnotes - 1].hint = CHANGE_COLUMN;
        return;
    }
}

int typemap_existing(const struct runbook *rb, struct table *t,
                     const struct col_census *census, const struct ttable *tt,
                     struct map_note *notes, int max_notes)
{
    struct ctx x = {rb, t, notes, max_notes, 0};

    for (int i = 0; i < t->ncols; i++) {
        struct column *col = &t->cols[i];
        int ti = ttable_column(tt, col->name);
        if (ti >= 0) {
            fit_column(&x, i, &census[i], &tt->cols[ti]);
            continue;
        }
        memset(&col->map, 0, sizeof col->map);
        snprintf(col->map.type, sizeof col->map.type, "(none)");
        set(&col->map, LT_TEXT, "the target table has no such column");
        note(&x, i, MAP_BLOCKING, col->is_rowid
             ? "the target table has no %s column, which a rowid key "
               "(tables.keys) needs; schema.mode \"existing\" never adds one"
             : "the target table has no column %s: the source's values "
               "would have nowhere to go", col->name);
        notes[x.nnotes - 1].code = "missing_column";
        notes[x.nnotes - 1].hint = col->is_rowid
            ? "exclude the table (tables.exclude), or give it a primary key "
              "on both sides"
            : "add the column on the target with a migration of the "
              "application, or drop it from the source";
    }
    return x.nnotes;
}

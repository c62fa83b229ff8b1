/*
 * census.c — the value census on SQLite: one aggregate query per
 * table computes every column's figures in a single scan, helped by a few
 * functions registered on our connection (date shapes, UTF-8 validity,
 * decimal digits). Only columns whose declared type makes a figure matter
 * pay for it (date shapes for date columns, digits for numeric ones).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/codec.h"
#include "sync/json_canon.h"
#include "sync/drivers/sqlite/sqlite_priv.h"
#include "sync/typemap.h"

enum {
    DTF_DATE_ONLY = 1, DTF_SPACE = 2, DTF_T = 4, DTF_FRACTION = 8,
    DTF_FRACTION_LONG = 16, DTF_UTC = 32
};

/* cutover_dt(x): shape bits of ISO date/time text, 0 when not one. */
static void fn_dt(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *p;
    int n, fd, bits = 0;
    char out[40];

    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_null(ctx);
        return;
    }
    p = sqlite3_value_text(argv[0]);
    n = sqlite3_value_bytes(argv[0]);
    fd = codec_parse_datetime(p, (size_t)n, LT_DATETIME, out, sizeof out);
    if (fd < 0) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    if (n == 10)
        bits |= DTF_DATE_ONLY;
    else if (p[10] == 'T')
        bits |= DTF_T;
    else
        bits |= DTF_SPACE;
    if (fd > 6)
        bits |= DTF_FRACTION_LONG;
    else if (fd > 0)
        bits |= DTF_FRACTION;
    if (p[n - 1] == 'Z' || (n > 6 && memcmp(p + n - 6, "+00:00", 6) == 0))
        bits |= DTF_UTC;
    sqlite3_result_int(ctx, bits);
}

/* cutover_time(x): fraction digits of a time text, -1 when not one. */
static void fn_time(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char out[40];

    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_int(ctx, codec_parse_time(sqlite3_value_text(argv[0]),
                                             (size_t)sqlite3_value_bytes(argv[0]),
                                             out, sizeof out));
}

static void fn_utf8(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    int t = sqlite3_value_type(argv[0]);
    const unsigned char *p;

    (void)argc;
    if (t != SQLITE_TEXT && t != SQLITE_BLOB) {
        sqlite3_result_null(ctx);
        return;
    }
    p = t == SQLITE_TEXT ? sqlite3_value_text(argv[0])
                         : sqlite3_value_blob(argv[0]);
    sqlite3_result_int(ctx, utf8_valid(p, (size_t)sqlite3_value_bytes(argv[0])));
}

/* cutover_uuid(x): 1 when x is UUID text, dashed 8-4-4-4-12 (what the
 * census counts); NULL when x is not text. */
static void fn_uuid(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char out[33];

    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_int(ctx, sqlite3_value_bytes(argv[0]) == 36 &&
                            uuid_canon(sqlite3_value_text(argv[0]), 36,
                                       out) == 0);
}

/* cutover_json(x): 1 when x is one valid JSON value (as json_canon.c
 * reads it, which verify uses); NULL when x is not text. */
static void fn_json(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_int(ctx, json_is_valid(sqlite3_value_text(argv[0]),
                                          (size_t)sqlite3_value_bytes(argv[0])));
}

/* Digits of a number in its shortest exact decimal form:
 * integer digits * 1000 + fraction digits; NULL when not a number. */
static int digits_of_text(const char *s, int *intd, int *fracd)
{
    const char *p = s;
    int in = 0, fr = 0, point = 0, ex = 0, leading = 1;

    if (*p == '-' || *p == '+')
        p++;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (point)
                fr++;
            else if (!(leading && *p == '0'))
                in++, leading = 0;
        } else if (*p == '.' && !point) {
            point = 1;
        } else if (*p == 'e' || *p == 'E') {
            ex = atoi(p + 1);
            break;
        } else {
            return -1;
        }
    }
    /* trailing zeros of the fraction do not count */
    if (point) {
        const char *q = strchr(s, '.');
        const char *end = q + 1 + fr;
        while (fr > 0 && end[-1] == '0') {
            fr--;
            end--;
        }
    }
    in += ex;
    fr -= ex;
    if (fr < 0)
        fr = 0;
    if (in < 0)
        in = 0;
    *intd = in;
    *fracd = fr;
    return 0;
}

static void fn_digits(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char buf[64];
    int intd, fracd;

    (void)argc;
    switch (sqlite3_value_type(argv[0])) {
    case SQLITE_FLOAT:
        codec_format_double(sqlite3_value_double(argv[0]), buf, sizeof buf);
        break;
    case SQLITE_TEXT:
        snprintf(buf, sizeof buf, "%s", sqlite3_value_text(argv[0]));
        if (sqlite3_value_bytes(argv[0]) >= (int)sizeof buf) {
            sqlite3_result_null(ctx);
            return;
        }
        break;
    default:
        sqlite3_result_null(ctx);
        return;
    }
    if (digits_of_text(buf, &intd, &fracd) < 0 || !buf[0]) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_int(ctx, intd * 1000 + fracd);
}



void sq_register_census(sqlite3 *db);

void sq_register_functions(sqlite3 *db)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;

    sq_register_census(db);
    sq_register_fit(db);

    sqlite3_create_function(db, "cutover_dt", 1, flags, NULL, fn_dt, NULL, NULL);
    sqlite3_create_function(db, "cutover_time", 1, flags, NULL, fn_time, NULL,
                            NULL);
    sqlite3_create_function(db, "cutover_utf8", 1, flags, NULL, fn_utf8, NULL,
                            NULL);
    sqlite3_create_function(db, "cutover_digits", 1, flags, NULL, fn_digits,
                            NULL, NULL);
    sqlite3_create_function(db, "cutover_uuid", 1, flags, NULL, fn_uuid, NULL,
                            NULL);
    sqlite3_create_function(db, "cutover_json", 1, flags, NULL, fn_json, NULL,
                            NULL);
}

/* ---- the census aggregate ---------------------------------------------------
 *
 * cutover_census(value, flags) classifies every value of a column in one C
 * call: storage class, ranges, lengths, UTF-8 validity, digits, date
 * shapes. Its result is the col_census struct itself, as a blob (same
 * process). One call per value per column keeps a 2M-row census to a few
 * seconds. */

enum { CF_NUMBERS = 1, CF_DATES = 2, CF_TIMES = 4, CF_UUID = 8, CF_JSON = 16 };

struct census_acc {
    struct col_census c;
    int started;
};

/* Fraction digits of a real in its shortest exact decimal form, found
 * without formatting for the common short cases; beyond 15 significant
 * digits, of the 15-digit form SQLite shows (what codec_decimal stores
 * when the exact form does not fit). */
static int real_fraction_digits(double d, int *intd)
{
    static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    char buf[64];
    int fr;

    if (isfinite(d) && fabs(d) < 1e15) {
        for (int k = 0; k <= 8; k++) {
            double m = nearbyint(d * p10[k]);
            if (m / p10[k] == d) {
                double a = fabs(d);
                *intd = a < 1 ? 0 : (int)floor(log10(a)) + 1;
                return k;
            }
        }
    }
    snprintf(buf, sizeof buf, "%.15g", d);
    if (digits_of_text(buf, intd, &fr) < 0)
        return 0;
    return fr;
}

/* Characters of UTF-8 text, and whether any takes 4 bytes, in one pass. */
static int64_t chars_and_mb4(const unsigned char *p, int n, int *mb4)
{
    int64_t chars = 0;

    *mb4 = 0;
    for (int i = 0; i < n; i++) {
        chars += (p[i] & 0xC0) != 0x80;
        *mb4 |= p[i] >= 0xF0;
    }
    return chars;
}

/* Earliest and latest canonical date/time text (fixed width: strcmp
 * orders it). */
static void dt_range(struct dt_census *d, const char *canon)
{
    if (!d->min[0] || strcmp(canon, d->min) < 0)
        snprintf(d->min, sizeof d->min, "%.26s", canon);
    if (!d->max[0] || strcmp(canon, d->max) > 0)
        snprintf(d->max, sizeof d->max, "%.26s", canon);
}

static void step_text(struct col_census *c, const unsigned char *p, int n,
                      int flags)
{
    char out[40];
    int64_t chars;
    int mb4;

    c->texts++;
    if ((int64_t)n > c->max_bytes)
        c->max_bytes = n;
    if (n == 0)
        c->empty++;
    if (!utf8_valid(p, (size_t)n))
        c->invalid_utf8++;
    chars = chars_and_mb4(p, n, &mb4);
    if (chars > c->max_chars)
        c->max_chars = chars;
    c->mb4_texts += mb4;
    if (memchr(p, 0, (size_t)n))
        c->nul_bytes++;
    if (n > 0 && p[n - 1] == ' ')
        c->leading_trailing_space++;
    if ((flags & CF_UUID) && n == 36 && uuid_canon(p, 36, out) == 0) {
        c->uuids++;
        c->uuids_lower += memcmp(p, out, 8) == 0 &&
                          memcmp(p + 24, out + 20, 12) == 0 &&
                          memcmp(p + 9, out + 8, 4) == 0 &&
                          memcmp(p + 14, out + 12, 4) == 0 &&
                          memcmp(p + 19, out + 16, 4) == 0;
    }
    if ((flags & CF_JSON) && json_is_valid(p, (size_t)n))
        c->json_texts++;
    if (flags & CF_NUMBERS) {
        char tmp[64];
        int intd, fracd;
        if (n < (int)sizeof tmp) {
            memcpy(tmp, p, (size_t)n);
            tmp[n] = '\0';
            if (n > 0 && digits_of_text(tmp, &intd, &fracd) == 0) {
                c->numeric_texts++;
                if (intd > c->max_int_digits)
                    c->max_int_digits = intd;
                if (fracd > c->max_frac_digits)
                    c->max_frac_digits = fracd;
            }
        }
    }
    if (flags & (CF_DATES | CF_TIMES)) {
        int fd = flags & CF_TIMES
                     ? codec_parse_time(p, (size_t)n, out, sizeof out)
                     : codec_parse_datetime(p, (size_t)n, LT_DATETIME, out,
                                            sizeof out);
        if (fd < 0) {
            c->dt.not_datetime++;
            return;
        }
        if (!(flags & CF_TIMES)) {
            dt_range(&c->dt, out);
            c->dt.nonzero_time += strcmp(out + 11, "00:00:00.000000") != 0;
        }
        if (flags & CF_TIMES)
            c->dt.time_of_day++;
        else if (n == 10)
            c->dt.date_only++;
        else if (p[10] == 'T')
            c->dt.t_sep++;
        else
            c->dt.space++;
        if (fd > 6)
            c->dt.fraction_long++;
        else if (fd > 0)
            c->dt.fraction++;
        if (fd > c->dt.max_fraction_digits)
            c->dt.max_fraction_digits = fd;
        if (p[n - 1] == 'Z' || (n > 6 && memcmp(p + n - 6, "+00:00", 6) == 0))
            c->dt.utc_suffix++;
    }
}

static void census_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct census_acc *a = sqlite3_aggregate_context(ctx, sizeof *a);
    struct col_census *c;
    int flags = sqlite3_value_int(argv[1]);
    int64_t i;
    double d;

    (void)argc;
    if (!a)
        return;
    c = &a->c;
    c->rows++;
    switch (sqlite3_value_type(argv[0])) {
    case SQLITE_NULL:
        c->nulls++;
        break;
    case SQLITE_INTEGER:
        i = sqlite3_value_int64(argv[0]);
        if (!c->ints || i < c->int_min)
            c->int_min = i;
        if (!c->ints || i > c->int_max)
            c->int_max = i;
        c->ints++;
        break;
    case SQLITE_FLOAT:
        d = sqlite3_value_double(argv[0]);
        if (!c->reals || d < c->real_min)
            c->real_min = d;
        if (!c->reals || d > c->real_max)
            c->real_max = d;
        c->reals++;
        if (d == nearbyint(d))
            c->reals_whole++;
        if (d == 0 && signbit(d))
            c->neg_zero++;
        if (!isfinite(d))
            c->nonfinite++;
        if ((double)(float)d != d)
            c->reals_not_float++;
        if (flags & CF_NUMBERS) {
            int intd = 0, fracd = real_fraction_digits(d, &intd);
            if (intd > c->max_int_digits)
                c->max_int_digits = intd;
            if (fracd > c->max_frac_digits)
                c->max_frac_digits = fracd;
        }
        if (flags & CF_DATES) {
            double whole = floor(d), us = nearbyint((d - whole) * 1e6);
            if (whole + us / 1e6 != d)
                c->reals_unsafe_us++;
        }
        break;
    case SQLITE_TEXT:
        step_text(c, sqlite3_value_text(argv[0]), sqlite3_value_bytes(argv[0]),
                  flags);
        break;
    case SQLITE_BLOB: {
        const unsigned char *p = sqlite3_value_blob(argv[0]);
        int n = sqlite3_value_bytes(argv[0]);
        c->blobs++;
        if ((int64_t)n > c->max_bytes)
            c->max_bytes = n;
        if (n && !utf8_valid(p, (size_t)n))
            c->invalid_utf8++;
        if (n && memchr(p, 0, (size_t)n))
            c->nul_bytes++;
        break;
    }
    }
}

static void census_final(sqlite3_context *ctx)
{
    struct census_acc *a = sqlite3_aggregate_context(ctx, 0);
    struct col_census empty = {0};

    sqlite3_result_blob(ctx, a ? &a->c : &empty, sizeof empty,
                        SQLITE_TRANSIENT);
}

void sq_register_census(sqlite3 *db)
{
    sqlite3_create_function(db, "cutover_census", 2, SQLITE_UTF8, NULL, NULL,
                            census_step, census_final);
}

static int census_flags(const struct column *col)
{
    int len, p, sc;
    enum decl_kind dk = typemap_decl_kind(
        col->override ? col->override : col->decl, &len, &p, &sc);
    int flags = 0;

    if (dk != DK_TEXT && dk != DK_VARCHAR && dk != DK_BLOB &&
        dk != DK_DATETIME && dk != DK_DATE && dk != DK_TIME)
        flags |= CF_NUMBERS;
    if (dk == DK_DATETIME || dk == DK_DATE)
        flags |= CF_DATES;
    if (dk == DK_TIME)
        flags |= CF_TIMES;
    /* text that could be uuid or jsonb on the target */
    if (dk == DK_TEXT || (dk == DK_VARCHAR && len == 36))
        flags |= CF_UUID;
    if (typemap_declared_json(col->override ? col->override : col->decl))
        flags |= CF_JSON;
    return flags;
}

int sqlite_census(struct source *s, const struct table *t,
                  struct col_census *out, struct co_err *err)
{
    struct sbuf sql;
    sqlite3_stmt *st;
    int rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT count(*)");
    for (int c = 0; c < t->ncols; c++) {
        sbuf_adds(&sql, ", cutover_census(");
        if (t->cols[c].is_rowid)
            sbuf_adds(&sql, "rowid");
        else
            sbuf_ident(&sql, t->cols[c].name, '"');
        sbuf_addf(&sql, ", %d)", census_flags(&t->cols[c]));
    }
    sbuf_adds(&sql, " FROM ");
    sbuf_ident(&sql, t->name, '"');
    rc = sq_prepare(s, sbuf_str(&sql), &st, err, "value census");
    sbuf_free(&sql);
    if (rc < 0)
        return co_err_prefix(err, "table %s", t->name);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = sq_error(s, rc, err, "value census");
        sqlite3_finalize(st);
        return co_err_prefix(err, "table %s", t->name);
    }
    for (int c = 0; c < t->ncols; c++) {
        const void *blob = sqlite3_column_blob(st, c + 1);
        memset(&out[c], 0, sizeof out[c]);
        if (blob && sqlite3_column_bytes(st, c + 1) == (int)sizeof out[c])
            memcpy(&out[c], blob, sizeof out[c]);
        out[c].rows = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return 0;
}

/*
 * census_sqlite.c — the value census on SQLite: one aggregate query per
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
#include "sync/sqlite_priv.h"
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

/* 1 when the real, read as epoch seconds, is exact at microseconds. */
static void fn_us_exact(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    double d = sqlite3_value_double(argv[0]), whole = floor(d);
    double us = nearbyint((d - whole) * 1e6);

    (void)argc;
    sqlite3_result_int(ctx, whole + us / 1e6 == d);
}

static void fn_negzero(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    double d = sqlite3_value_double(argv[0]);

    (void)argc;
    sqlite3_result_int(ctx, sqlite3_value_type(argv[0]) == SQLITE_FLOAT &&
                                d == 0 && signbit(d));
}

void sq_register_functions(sqlite3 *db)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;

    sqlite3_create_function(db, "cutover_dt", 1, flags, NULL, fn_dt, NULL, NULL);
    sqlite3_create_function(db, "cutover_utf8", 1, flags, NULL, fn_utf8, NULL,
                            NULL);
    sqlite3_create_function(db, "cutover_digits", 1, flags, NULL, fn_digits,
                            NULL, NULL);
    sqlite3_create_function(db, "cutover_us_exact", 1, flags, NULL,
                            fn_us_exact, NULL, NULL);
    sqlite3_create_function(db, "cutover_negzero", 1, flags, NULL, fn_negzero,
                            NULL, NULL);
}

/* Aggregates per column; `$` stands for the quoted column. */
static const char *const base_aggs[] = {
    "sum(typeof($)='null')", "sum(typeof($)='integer')",
    "sum(typeof($)='real')", "sum(typeof($)='text')", "sum(typeof($)='blob')",
    "min(CASE WHEN typeof($)='integer' THEN $ END)",
    "max(CASE WHEN typeof($)='integer' THEN $ END)",
    "min(CASE WHEN typeof($)='real' THEN $ END)",
    "max(CASE WHEN typeof($)='real' THEN $ END)",
    "max(CASE WHEN typeof($) IN ('text','blob') THEN length(CAST($ AS BLOB)) END)",
    "max(CASE WHEN typeof($)='text' THEN length($) END)",
    "sum(typeof($)='text' AND $ = '')",
    "sum(typeof($) IN ('text','blob') AND cutover_utf8($) = 0)",
    "sum(typeof($) IN ('text','blob') AND instr(CAST($ AS BLOB), x'00') > 0)",
    "sum(typeof($)='text' AND $ LIKE '% ')",
    NULL};
static const char *const number_aggs[] = {
    "sum(typeof($)='real' AND cutover_negzero($))",
    "max(cutover_digits($) / 1000)", "max(cutover_digits($) % 1000)",
    "sum(typeof($)='text' AND cutover_digits($) IS NOT NULL)",
    "sum(typeof($)='real' AND NOT cutover_us_exact($))", NULL};
static const char *const date_aggs[] = {
    "sum(cutover_dt($) & 1 != 0)", "sum(cutover_dt($) & 2 != 0)",
    "sum(cutover_dt($) & 4 != 0)", "sum(cutover_dt($) & 8 != 0)",
    "sum(cutover_dt($) & 16 != 0)", "sum(cutover_dt($) & 32 != 0)",
    "sum(typeof($)='text' AND cutover_dt($) = 0)",
    "sum(typeof($)='real' AND NOT cutover_us_exact($))", NULL};

static int wants_numbers(enum decl_kind dk)
{
    return dk != DK_TEXT && dk != DK_VARCHAR && dk != DK_BLOB &&
           dk != DK_DATETIME && dk != DK_DATE && dk != DK_TIME;
}

static int wants_dates(enum decl_kind dk)
{
    return dk == DK_DATETIME || dk == DK_DATE || dk == DK_TIME;
}

static void add_aggs(struct sbuf *sql, const char *const *aggs,
                     const char *col)
{
    for (int i = 0; aggs[i]; i++) {
        sbuf_adds(sql, ", ");
        for (const char *p = aggs[i]; *p; p++) {
            if (*p == '$')
                sbuf_adds(sql, col);
            else
                sbuf_addc(sql, *p);
        }
    }
}

static int64_t col_int(sqlite3_stmt *st, int *i)
{
    return sqlite3_column_int64(st, (*i)++);
}

int sqlite_census(struct source *s, const struct table *t,
                  struct col_census *out, struct co_err *err)
{
    struct sbuf sql, col;
    sqlite3_stmt *st;
    int rc, len, p, sc;

    sbuf_init(&sql);
    sbuf_init(&col);
    sbuf_adds(&sql, "SELECT count(*)");
    for (int c = 0; c < t->ncols; c++) {
        enum decl_kind dk = typemap_decl_kind(t->cols[c].decl, &len, &p, &sc);
        sbuf_reset(&col);
        if (t->cols[c].is_rowid)
            sbuf_adds(&col, "rowid");
        else
            sbuf_ident(&col, t->cols[c].name, '"');
        add_aggs(&sql, base_aggs, sbuf_str(&col));
        if (wants_numbers(dk))
            add_aggs(&sql, number_aggs, sbuf_str(&col));
        if (wants_dates(dk))
            add_aggs(&sql, date_aggs, sbuf_str(&col));
    }
    sbuf_adds(&sql, " FROM ");
    sbuf_ident(&sql, t->name, '"');
    sbuf_free(&col);
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
    int i = 0;
    int64_t rows = col_int(st, &i);
    for (int c = 0; c < t->ncols; c++) {
        struct col_census *o = &out[c];
        enum decl_kind dk = typemap_decl_kind(t->cols[c].decl, &len, &p, &sc);
        memset(o, 0, sizeof *o);
        o->rows = rows;
        o->nulls = col_int(st, &i);
        o->ints = col_int(st, &i);
        o->reals = col_int(st, &i);
        o->texts = col_int(st, &i);
        o->blobs = col_int(st, &i);
        o->int_min = col_int(st, &i);
        o->int_max = col_int(st, &i);
        o->real_min = sqlite3_column_double(st, i++);
        o->real_max = sqlite3_column_double(st, i++);
        o->max_bytes = col_int(st, &i);
        o->max_chars = col_int(st, &i);
        o->empty = col_int(st, &i);
        o->invalid_utf8 = col_int(st, &i);
        o->nul_bytes = col_int(st, &i);
        o->leading_trailing_space = col_int(st, &i);
        if (wants_numbers(dk)) {
            o->neg_zero = col_int(st, &i);
            o->max_int_digits = (int)col_int(st, &i);
            o->max_frac_digits = (int)col_int(st, &i);
            o->numeric_texts = col_int(st, &i);
            o->reals_unsafe_us = col_int(st, &i);
        }
        if (wants_dates(dk)) {
            o->dt.date_only = col_int(st, &i);
            o->dt.space = col_int(st, &i);
            o->dt.t_sep = col_int(st, &i);
            o->dt.fraction = col_int(st, &i);
            o->dt.fraction_long = col_int(st, &i);
            o->dt.utc_suffix = col_int(st, &i);
            o->dt.not_datetime = col_int(st, &i);
            o->reals_unsafe_us = col_int(st, &i);
        }
    }
    sqlite3_finalize(st);
    return 0;
}

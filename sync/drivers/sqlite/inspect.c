/*
 * inspect.c — questions the plan asks the SQLite source beyond the
 * census: which rows have a problem (with example keys to show the
 * operator), and narrow scans of a few columns (collision prediction).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/sqlite/sqlite_priv.h"
#include "lib/xalloc.h"

static void column_ref(struct sbuf *b, const struct table *t, int col,
                       const char *alias)
{
    if (alias)
        sbuf_addf(b, "%s.", alias);
    if (t->cols[col].is_rowid)
        sbuf_adds(b, "rowid");
    else
        sbuf_ident(b, t->cols[col].name, '"');
}

/* An SQL text literal. */
static void text_literal(struct sbuf *b, const char *s)
{
    sbuf_addc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            sbuf_addc(b, '\'');
        sbuf_addc(b, *s);
    }
    sbuf_addc(b, '\'');
}

/* The member list of an ENUM ("('a', 'b')") or a SET ('a,b'). */
static void members_sql(struct sbuf *b, const struct row_filter *f)
{
    struct sbuf list;

    if (f->arg) {
        sbuf_init(&list);
        for (int i = 0; i < f->nmembers; i++) {
            if (i)
                sbuf_addc(&list, ',');
            sbuf_adds(&list, f->members[i]);
        }
        text_literal(b, sbuf_str(&list));
        sbuf_free(&list);
        return;
    }
    sbuf_addc(b, '(');
    for (int i = 0; i < f->nmembers; i++) {
        if (i)
            sbuf_adds(b, ", ");
        text_literal(b, f->members[i]);
    }
    sbuf_addc(b, ')');
}

/* WHERE condition for the filter, on table alias "t". */
static void filter_sql(struct sbuf *b, const struct table *t,
                       const struct row_filter *f)
{
    struct sbuf c;

    sbuf_init(&c);
    if (f->kind != RF_ORPHAN)
        column_ref(&c, t, f->col, "t");
    switch (f->kind) {
    case RF_INVALID_UTF8:
        sbuf_addf(b, "typeof(%s) IN ('text','blob') AND cutover_utf8(%s) = 0",
                  c.p, c.p);
        break;
    case RF_NOT_NUMERIC:
        sbuf_addf(b, "typeof(%s) IN ('text','blob') AND cutover_digits(%s) "
                  "IS NULL", c.p, c.p);
        break;
    case RF_FRACTION_OVER:
        sbuf_addf(b, "cutover_digits(%s) %% 1000 > %ld", c.p, f->arg);
        break;
    case RF_INTEGER_OVER:
        sbuf_addf(b, "(cutover_digits(%s) / 1000 > %ld OR (typeof(%s) = "
                  "'integer' AND length(abs(%s)) > %ld))", c.p, f->arg, c.p,
                  c.p, f->arg);
        break;
    case RF_NOT_DATETIME:
        if (f->arg)
            sbuf_addf(b, "%s IS NOT NULL AND coalesce(cutover_time(%s), -1) "
                      "< 0", c.p, c.p);
        else
            sbuf_addf(b, "%s IS NOT NULL AND coalesce(cutover_dt(%s), 0) = 0",
                      c.p, c.p);
        break;
    case RF_SUBMICROSECOND:
        if (f->arg)
            sbuf_addf(b, "cutover_time(%s) > 6", c.p);
        else
            sbuf_addf(b, "cutover_dt(%s) & 16 != 0", c.p);
        break;
    case RF_LONGER_THAN:
        sbuf_addf(b, "typeof(%s) = 'text' AND length(%s) > %ld", c.p, c.p,
                  f->arg);
        break;
    case RF_NULL:
        sbuf_addf(b, "%s IS NULL", c.p);
        break;
    case RF_NONFINITE:
        sbuf_addf(b, "typeof(%s) = 'real' AND abs(%s) > 1.7976931348623157e308",
                  c.p, c.p);
        break;
    case RF_STORED_AS_OTHER: {
        static const char *const classes[] = {"integer", "real", "text",
                                              "blob"};
        sbuf_addf(b, "%s IS NOT NULL AND typeof(%s) NOT IN (''", c.p, c.p);
        for (int i = 0; i < 4; i++)
            if (f->arg & (1L << i))
                sbuf_addf(b, ", '%s'", classes[i]);
        sbuf_adds(b, ")");
        break;
    }
    case RF_NOT_INTEGER:
        sbuf_addf(b, "typeof(%s) NOT IN ('integer', 'null') AND NOT "
                  "(typeof(%s) = 'real' AND %s = CAST(%s AS INTEGER))",
                  c.p, c.p, c.p, c.p);
        break;
    case RF_INT_OUTSIDE:
        sbuf_addf(b, "typeof(%s) IN ('integer', 'real') AND (%s < %lld OR "
                  "%s > %lld)", c.p, c.p, (long long)f->lo, c.p,
                  (long long)f->hi);
        break;
    case RF_NEGATIVE:
        sbuf_addf(b, "typeof(%s) IN ('integer', 'real') AND %s < 0", c.p,
                  c.p);
        break;
    case RF_NOT_FLOAT:
        sbuf_addf(b, "cutover_float_exact(%s) = 0", c.p);
        break;
    case RF_BYTES_OVER:
        sbuf_addf(b, "typeof(%s) IN ('text', 'blob') AND length(CAST(%s AS "
                  "BLOB)) > %ld", c.p, c.p, f->arg);
        break;
    case RF_NUL_BYTE:
        sbuf_addf(b, "typeof(%s) IN ('text','blob') AND instr(CAST(%s AS "
                  "BLOB), x'00') > 0", c.p, c.p);
        break;
    case RF_MB4:
        sbuf_addf(b, "cutover_mb4(%s) = 1", c.p);
        break;
    case RF_TRAILING_SPACE:
        sbuf_addf(b, "typeof(%s) = 'text' AND substr(%s, -1) = ' '", c.p,
                  c.p);
        break;
    case RF_NOT_MEMBER:
        if (f->arg) {
            sbuf_addf(b, "%s IS NOT NULL AND cutover_set_ok(%s, ", c.p, c.p);
            members_sql(b, f);
            sbuf_adds(b, ") = 0");
        } else {
            sbuf_addf(b, "%s IS NOT NULL AND (typeof(%s) <> 'text' OR %s "
                      "COLLATE BINARY NOT IN ", c.p, c.p, c.p);
            members_sql(b, f);
            sbuf_adds(b, ")");
        }
        break;
    case RF_DT_OUTSIDE:
        /* an epoch number past what the codec converts reads as NULL */
        sbuf_addf(b, "%s IS NOT NULL AND coalesce(cutover_dt_text(%s, %ld) "
                  "NOT BETWEEN ", c.p, c.p, f->arg);
        text_literal(b, f->text);
        sbuf_adds(b, " AND ");
        text_literal(b, f->text2);
        sbuf_addf(b, ", %d)", f->arg != DT_TEXT);
        break;
    case RF_DT_FRACTION_OVER:
        if (f->arg < 0)
            sbuf_addf(b, "cutover_time(%s) > %lld", c.p, (long long)f->lo);
        else
            sbuf_addf(b, "cutover_dt_fd(%s, %ld) > %lld", c.p, f->arg,
                      (long long)f->lo);
        break;
    case RF_DATE_WITH_TIME:
        sbuf_addf(b, "substr(cutover_dt_text(%s, %ld), 12) <> "
                  "'00:00:00.000000'", c.p, f->arg);
        break;
    case RF_NOT_UUID:
        sbuf_addf(b, "%s IS NOT NULL AND coalesce(cutover_uuid(%s), 0) = 0",
                  c.p, c.p);
        break;
    case RF_NOT_JSON:
        sbuf_addf(b, "%s IS NOT NULL AND coalesce(cutover_json(%s), 0) = 0",
                  c.p, c.p);
        break;
    case RF_JSON_NUL:
        sbuf_addf(b, "typeof(%s) = 'text' AND instr(%s, char(92) || "
                  "'u0000') > 0", c.p, c.p);
        break;
    case RF_PAST_INT64:       /* what SQLite cannot hold */
    case RF_ENUM_INVALID:
    case RF_ZERO_DATE:
        sbuf_adds(b, "0");
        break;
    case RF_ORPHAN: {
        const struct fkey *fk = &t->fk[f->fk];
        sbuf_adds(b, "(");
        for (int i = 0; i < fk->ncols; i++) {
            sbuf_adds(b, i ? " AND " : "");
            sbuf_adds(b, "t.");
            sbuf_ident(b, fk->from[i], '"');
            sbuf_adds(b, " IS NOT NULL");
        }
        sbuf_adds(b, ") AND NOT EXISTS (SELECT 1 FROM ");
        sbuf_ident(b, fk->ref_table, '"');
        sbuf_adds(b, " p WHERE ");
        for (int i = 0; i < fk->ncols; i++) {
            sbuf_adds(b, i ? " AND p." : "p.");
            /* a NULL `to` means the referenced table's primary key; the
             * caller resolved it into to[] when it could */
            sbuf_ident(b, fk->to[i] ? fk->to[i] : "rowid", '"');
            sbuf_adds(b, " = t.");
            sbuf_ident(b, fk->from[i], '"');
        }
        sbuf_adds(b, ")");
        break;
    }
    }
    sbuf_free(&c);
}

int sqlite_find_rows(struct source *s, const struct table *t,
                     const struct row_filter *f, int max, struct tuple *keys,
                     struct tuple *values, int *nkeys, int64_t *count,
                     struct co_err *err)
{
    int with_value = values && f->kind != RF_ORPHAN;
    struct sbuf where, sql;
    sqlite3_stmt *st;
    int rc;

    *nkeys = 0;
    *count = 0;
    sbuf_init(&where);
    sbuf_init(&sql);
    filter_sql(&where, t, f);
    sbuf_adds(&sql, "SELECT count(*) FROM ");
    sbuf_ident(&sql, t->name, '"');
    sbuf_addf(&sql, " t WHERE %s", sbuf_str(&where));
    rc = sq_prepare(s, sbuf_str(&sql), &st, err, "looking for problem rows");
    if (rc == 0) {
        if (sqlite3_step(st) == SQLITE_ROW)
            *count = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (rc == 0 && *count > 0 && max > 0) {
        sbuf_reset(&sql);
        sbuf_adds(&sql, "SELECT ");
        for (int k = 0; k < t->nkey; k++) {
            if (k)
                sbuf_adds(&sql, ", ");
            column_ref(&sql, t, t->key[k], "t");
        }
        if (with_value) {
            sbuf_adds(&sql, ", ");
            column_ref(&sql, t, f->col, "t");
        }
        sbuf_adds(&sql, " FROM ");
        sbuf_ident(&sql, t->name, '"');
        sbuf_addf(&sql, " t WHERE %s LIMIT %d", sbuf_str(&where), max);
        rc = sq_prepare(s, sbuf_str(&sql), &st, err, "looking for problem "
                        "rows");
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW && *nkeys < max) {
            struct value v[65];
            for (int k = 0; k < t->nkey; k++)
                sq_column_value(st, k, &v[k]);
            memset(&keys[*nkeys], 0, sizeof keys[0]);
            if (values) {
                memset(&values[*nkeys], 0, sizeof values[0]);
                if (with_value) {
                    sq_column_value(st, t->nkey, &v[t->nkey]);
                    tuple_set(&values[*nkeys], &v[t->nkey], 1);
                }
            }
            tuple_set(&keys[(*nkeys)++], v, t->nkey);
        }
        if (rc == 0)
            sqlite3_finalize(st);
    }
    sbuf_free(&where);
    sbuf_free(&sql);
    return rc < 0 ? co_err_prefix(err, "table %s", t->name) : 0;
}

int sqlite_scan_columns(struct source *s, const struct table *t,
                        const int *cols, int ncols, struct source_cursor **out,
                        struct co_err *err)
{
    struct source_cursor *c = xcalloc(1, sizeof *c);
    struct sbuf sql;
    int rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT ");
    for (int k = 0; k < t->nkey; k++) {
        column_ref(&sql, t, t->key[k], NULL);
        sbuf_adds(&sql, ", ");
    }
    for (int i = 0; i < ncols; i++) {
        if (i)
            sbuf_adds(&sql, ", ");
        column_ref(&sql, t, cols[i], NULL);
    }
    sbuf_adds(&sql, " FROM ");
    sbuf_ident(&sql, t->name, '"');
    rc = sq_prepare(s, sbuf_str(&sql), &c->st, err, "reading key columns");
    sbuf_free(&sql);
    if (rc < 0) {
        free(c);
        return co_err_prefix(err, "table %s", t->name);
    }
    c->s = s;
    c->t = t;
    c->ncols = t->nkey + ncols;
    c->row = xcalloc((size_t)c->ncols, sizeof *c->row);
    *out = c;
    return 0;
}

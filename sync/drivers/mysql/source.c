/*
 * source.c — the MySQL/MariaDB source driver: connection, reads in key
 * order, and the ops table. Its connection is the target driver's own
 * (target.c: the session is strict, UTC, utf8mb4, and @cutover_session is
 * set, so the triggers we put on the source skip what we write).
 *
 * Reading never holds a lock the application would wait on: every read is
 * a plain SELECT in autocommit, which InnoDB serves from a consistent
 * snapshot without locking rows; nothing here runs LOCK TABLES but the
 * write freeze (source_capture.c). Keys are compared in SQL with the
 * columns' own collations, so "key order" is the source's order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runbook.h"
#include "lib/xalloc.h"
#include "sync/drivers/mysql/source_priv.h"

static int smy_open(const struct runbook *rb, struct source **out,
                    struct co_err *err)
{
    struct source *s = xcalloc(1, sizeof *s);
    int rc = my_connect(rb, &rb->source.server, &s->c, err);

    if (rc < 0) {
        free(s);
        return rc;
    }
    if (s->c->database_missing) {
        rc = co_errf(err, CO_ESOURCE, "source %s: database %s does not "
                     "exist (source.database)", s->c->label,
                     rb->source.server.database);
        my_close(s->c);
        free(s);
        return rc;
    }
    /* A locking read of a change log's hole (source_capture.c) must not
     * wait for the transaction that holds it (MySQL's shortest wait is
     * 1 s, MariaDB's none). */
    if (my_exec(s->c, "SET SESSION innodb_lock_wait_timeout = 0", NULL,
                "setting up the session") < 0)
        rc = my_exec(s->c, "SET SESSION innodb_lock_wait_timeout = 1", err,
                     "setting up the session");
    if (rc < 0) {
        my_close(s->c);
        free(s);
        return rc;
    }
    s->rb = rb;
    if ((rc = sbl_chosen(s, err)) < 0) {
        my_close(s->c);
        free(s);
        return rc;
    }
    s->binlog = rc;
    if (s->binlog)
        s->bl = sbl_new();
    *out = s;
    return 0;
}

static void smy_close(struct source *s)
{
    if (!s)
        return;
    if (s->frozen)
        smy_thaw(s);
    my_close(s->c);
    sbl_free(s->bl);
    free(s->polls);
    free(s);
}

static int smy_count_rows(struct source *s, const struct table *t,
                          int64_t *out, struct co_err *err)
{
    return tmy_count_rows(s->c, t, out, err);
}

static void key_list(struct sbuf *b, const struct table *t)
{
    for (int k = 0; k < t->nkey; k++) {
        if (k)
            sbuf_adds(b, ", ");
        sbuf_ident(b, t->cols[t->key[k]].name, '`');
    }
}

/* The key of the row at each offset rows*p/nparts: one index walk each. */
static int smy_split_points(struct source *s, const struct table *t,
                            int nparts, struct tuple *points, int *npoints,
                            struct co_err *err)
{
    struct sbuf sql;
    int64_t rows;
    int rc;

    *npoints = 0;
    if ((rc = smy_count_rows(s, t, &rows, err)) < 0)
        return rc;
    if (nparts < 2 || rows < nparts * 2)
        return 0;
    sbuf_init(&sql);
    for (int p = 1; p < nparts && rc == 0; p++) {
        MYSQL_RES *res;
        MYSQL_ROW r;
        struct value vals[64];
        sbuf_reset(&sql);
        sbuf_adds(&sql, "SELECT ");
        key_list(&sql, t);
        sbuf_adds(&sql, " FROM ");
        sbuf_ident(&sql, t->name, '`');
        sbuf_adds(&sql, " ORDER BY ");
        key_list(&sql, t);
        sbuf_addf(&sql, " LIMIT 1 OFFSET %lld",
                  (long long)(rows * p / nparts - 1));
        if (mysql_query(s->c->my, sbuf_str(&sql)) != 0 ||
            !(res = mysql_store_result(s->c->my))) {
            rc = my_error(s->c, err, "splitting table %s", t->name);
            break;
        }
        if ((r = mysql_fetch_row(res))) {
            my_row_values(res, r, mysql_fetch_lengths(res), vals, t->nkey);
            if (tuple_set(&points[*npoints], vals, t->nkey) < 0)
                rc = co_errf(err, CO_ENOMEM, "out of memory");
            else
                (*npoints)++;
        }
        mysql_free_result(res);
    }
    sbuf_free(&sql);
    return rc;
}

static int smy_scan(struct source *s, const struct table *t,
                    const struct key_range *range, int64_t limit,
                    struct source_cursor **out, struct co_err *err)
{
    struct target_cursor *tc = NULL;
    int rc = tmy_scan(s->c, t, range, limit, &tc, err);

    if (rc < 0)
        return rc;
    *out = xcalloc(1, sizeof **out);
    (*out)->tc = tc;
    (*out)->t = t;
    (*out)->rb = s->rb;
    return 0;
}

static int smy_cursor_next(struct source_cursor *c, const struct value **row,
                           struct co_err *err)
{
    int rc = tmy_cursor_next(c->tc, row, err);

    /* the row is the cursor's own buffer, rewritten for each row */
    if (rc > 0)
        smy_zero_dates_to_null(c->rb, c->t, (struct value *)*row);
    return rc;
}

static void smy_cursor_close(struct source_cursor *c)
{
    if (!c)
        return;
    tmy_cursor_close(c->tc);
    free(c->view.cols);
    free(c->view.key);
    free(c);
}

static int smy_fetch(struct source *s, const struct table *t,
                     const struct tuple *key, const struct value **row,
                     struct co_err *err)
{
    int rc = tmy_fetch(s->c, t, key, row, err);

    /* the row is the connection's own buffer, kept until the next fetch */
    if (rc > 0)
        smy_zero_dates_to_null(s->rb, t, (struct value *)*row);
    return rc;
}

static int smy_fetch_many(struct source *s, const struct table *t,
                          const struct tuple *keys, int n,
                          const struct value **rows, struct co_err *err)
{
    int rc = tmy_fetch_many(s->c, t, keys, n, rows, err);

    for (int i = 0; rc == 0 && i < n; i++)
        if (rows[i])
            smy_zero_dates_to_null(s->rb, t, (struct value *)rows[i]);
    return rc;
}

static void smy_set_owner(struct source *s, const char *owner)
{
    tmy_set_owner(s->c, owner);
}

static int smy_foreign_objects(struct source *s, struct owned_objects *out,
                               struct co_err *err)
{
    return tmy_foreign_objects(s->c, out, err);
}

/* The table's AUTO_INCREMENT counter, or past its largest key when the
 * server's figure lags (MySQL 8 caches information_schema statistics). */
static int smy_next_autoinc(struct source *s, const struct table *t,
                            int64_t *out, struct co_err *err)
{
    struct sbuf sql;
    char counter[32] = "", top[32] = "";
    int rc;

    *out = 0;
    if (!t->autoinc || t->nkey != 1)
        return 0;
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT AUTO_INCREMENT FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ");
    my_string(s->c, &sql, t->name);
    rc = my_query_first(s->c, sbuf_str(&sql), counter, sizeof counter, err,
                        "reading AUTO_INCREMENT");
    sbuf_reset(&sql);
    sbuf_adds(&sql, "SELECT MAX(");
    sbuf_ident(&sql, t->cols[t->key[0]].name, '`');
    sbuf_adds(&sql, ") + 1 FROM ");
    sbuf_ident(&sql, t->name, '`');
    if (rc >= 0)
        rc = my_query_first(s->c, sbuf_str(&sql), top, sizeof top, err,
                            "reading the largest key");
    sbuf_free(&sql);
    if (rc < 0)
        return co_err_prefix(err, "table %s", t->name);
    *out = strtoll(counter, NULL, 10);
    if (strtoll(top, NULL, 10) > *out)
        *out = strtoll(top, NULL, 10);
    return 0;
}

/* ---- rows plan asks about ------------------------------------------------ */

static void column_ref(struct sbuf *b, const char *alias, const char *name)
{
    if (alias) {
        sbuf_adds(b, alias);
        sbuf_addc(b, '.');
    }
    sbuf_ident(b, name, '`');
}

/* The WHERE condition of filter f on table t (aliased "t"), or -1 when this
 * driver cannot ask it. */
static int filter_condition(struct source *s, const struct table *t,
                            const struct row_filter *f, struct sbuf *b)
{
    const char *col = f->col >= 0 && f->col < t->ncols
                          ? t->cols[f->col].name : NULL;
    const struct fkey *fk;

    switch (f->kind) {
    case RF_NULL:
        column_ref(b, "t", col);
        sbuf_adds(b, " IS NULL");
        return 0;
    case RF_LONGER_THAN:
    case RF_BYTES_OVER:
        sbuf_adds(b, f->kind == RF_LONGER_THAN ? "CHAR_LENGTH(" : "LENGTH(");
        column_ref(b, "t", col);
        sbuf_addf(b, ") > %ld", f->arg);
        return 0;
    case RF_INT_OUTSIDE:
        column_ref(b, "t", col);
        sbuf_addf(b, " < %lld OR ", (long long)f->lo);
        column_ref(b, "t", col);
        sbuf_addf(b, " > %lld", (long long)f->hi);
        return 0;
    case RF_PAST_INT64:
    case RF_ENUM_INVALID:     /* '' is the ENUM's index 0 */
        column_ref(b, "t", col);
        sbuf_adds(b, f->kind == RF_PAST_INT64 ? " > 9223372036854775807"
                                              : " + 0 = 0");
        return 0;
    case RF_ZERO_DATE:
        sbuf_adds(b, "(YEAR(");
        column_ref(b, "t", col);
        sbuf_adds(b, ") = 0 OR MONTH(");
        column_ref(b, "t", col);
        sbuf_adds(b, ") = 0 OR DAYOFMONTH(");
        column_ref(b, "t", col);
        sbuf_adds(b, ") = 0)");
        return 0;
    case RF_NUL_BYTE:
        sbuf_adds(b, "LOCATE(X'00', CAST(");
        column_ref(b, "t", col);
        sbuf_adds(b, " AS BINARY)) > 0");
        return 0;
    case RF_JSON_NUL:         /* CHAR(92): a backslash in any sql_mode */
        sbuf_adds(b, "LOCATE(CONCAT(CHAR(92), 'u0000'), ");
        column_ref(b, "t", col);
        sbuf_adds(b, ") > 0");
        return 0;
    case RF_ORPHAN:
        fk = &t->fk[f->fk];
        for (int c = 0; c < fk->ncols; c++) {
            column_ref(b, "t", fk->from[c]);
            sbuf_adds(b, " IS NOT NULL AND ");
        }
        sbuf_adds(b, "NOT EXISTS (SELECT 1 FROM ");
        sbuf_ident(b, fk->ref_table, '`');
        sbuf_adds(b, " r WHERE ");
        for (int c = 0; c < fk->ncols; c++) {
            if (c)
                sbuf_adds(b, " AND ");
            column_ref(b, "r", fk->to[c] ? fk->to[c] : fk->from[c]);
            sbuf_adds(b, " = ");
            column_ref(b, "t", fk->from[c]);
        }
        sbuf_addc(b, ')');
        return 0;
    default:
        (void)s;
        return -1;
    }
}

static int smy_find_rows(struct source *s, const struct table *t,
                         const struct row_filter *f, int max,
                         struct tuple *keys, struct tuple *values, int *nkeys,
                         int64_t *count, struct co_err *err)
{
    struct sbuf cond, sql;
    MYSQL_RES *res;
    MYSQL_ROW r;
    char n[32];
    int rc, with_value = values && f->kind != RF_ORPHAN;

    *nkeys = 0;
    *count = 0;
    sbuf_init(&cond);
    sbuf_init(&sql);
    if (filter_condition(s, t, f, &cond) < 0) {
        sbuf_free(&cond);
        return co_errf(err, CO_EUNSUPPORTED, "table %s: the MySQL source "
                       "cannot look for these rows (check %d)", t->name,
                       (int)f->kind);
    }
    sbuf_adds(&sql, "SELECT COUNT(*) FROM ");
    sbuf_ident(&sql, t->name, '`');
    sbuf_adds(&sql, " t WHERE ");
    sbuf_adds(&sql, sbuf_str(&cond));
    rc = my_query_first(s->c, sbuf_str(&sql), n, sizeof n, err,
                        "looking for rows");
    *count = strtoll(n, NULL, 10);
    sbuf_reset(&sql);
    sbuf_adds(&sql, "SELECT ");
    for (int k = 0; k < t->nkey; k++) {
        column_ref(&sql, "t", t->cols[t->key[k]].name);
        sbuf_adds(&sql, ", ");
    }
    if (with_value)
        column_ref(&sql, "t", t->cols[f->col].name);
    else
        sbuf_adds(&sql, "NULL");
    sbuf_adds(&sql, " FROM ");
    sbuf_ident(&sql, t->name, '`');
    sbuf_adds(&sql, " t WHERE ");
    sbuf_adds(&sql, sbuf_str(&cond));
    sbuf_addf(&sql, " LIMIT %d", max);
    if (rc >= 0 && *count > 0 && max > 0) {
        if (mysql_query(s->c->my, sbuf_str(&sql)) != 0 ||
            !(res = mysql_store_result(s->c->my))) {
            rc = my_error(s->c, err, "looking for rows");
        } else {
            while ((r = mysql_fetch_row(res)) && *nkeys < max) {
                struct value vals[65];
                my_row_values(res, r, mysql_fetch_lengths(res), vals,
                              t->nkey + 1);
                tuple_set(&keys[*nkeys], vals, t->nkey);
                if (values)
                    tuple_set(&values[*nkeys], vals + t->nkey,
                              with_value ? 1 : 0);
                (*nkeys)++;
            }
            mysql_free_result(res);
        }
    }
    sbuf_free(&cond);
    sbuf_free(&sql);
    return rc < 0 ? co_err_prefix(err, "table %s", t->name) : 0;
}

/* Rows of the key columns and `cols`, in key order: the ordinary scan
 * of a table of just those columns, which the cursor keeps. */
static int smy_scan_columns(struct source *s, const struct table *t,
                            const int *cols, int ncols,
                            struct source_cursor **out, struct co_err *err)
{
    struct source_cursor *c = xcalloc(1, sizeof *c);
    int rc;

    c->view = *t;
    c->view.ncols = t->nkey + ncols;
    c->view.cols = xcalloc((size_t)c->view.ncols, sizeof *c->view.cols);
    c->view.key = xcalloc((size_t)t->nkey, sizeof *c->view.key);
    for (int k = 0; k < t->nkey; k++) {
        c->view.cols[k] = t->cols[t->key[k]];
        c->view.key[k] = k;
    }
    for (int i = 0; i < ncols; i++)
        c->view.cols[t->nkey + i] = t->cols[cols[i]];
    c->t = &c->view;
    c->rb = s->rb;
    if ((rc = tmy_scan(s->c, &c->view, NULL, 0, &c->tc, err)) < 0) {
        smy_cursor_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

static int smy_capture_start(struct source *s, int64_t *seq,
                             struct co_err *err)
{
    *seq = 0;                   /* trigger capture's logs start empty */
    return s->binlog ? sbl_capture_start(s, seq, err) : 0;
}

static int smy_log_kept_by_server(struct source *s)
{
    return s->binlog;
}

const struct source_ops source_mysql_ops = {
    .name = "mysql",
    .client_library = MY_CLIENT_LIBRARY,
    .engine = "MySQL",
    .generated_key = "AUTO_INCREMENT",
    .open = smy_open,
    .close = smy_close,
    .read_schema = smy_read_schema,
    .schema_version = smy_schema_version,
    .count_rows = smy_count_rows,
    .census = smy_census,
    .decide_types = smy_decide_types,
    .split_points = smy_split_points,
    .scan = smy_scan,
    .cursor_next = smy_cursor_next,
    .cursor_close = smy_cursor_close,
    .fetch = smy_fetch,
    .fetch_many = smy_fetch_many,
    .fetch_many_max = FETCH_MANY_MAX,
    .set_owner = smy_set_owner,
    .foreign_objects = smy_foreign_objects,
    .capture_install = smy_capture_install,
    .capture_remove = smy_capture_remove,
    .capture_installed = smy_capture_installed,
    .capture_start = smy_capture_start,
    .log_kept_by_server = smy_log_kept_by_server,
    .log_read = smy_log_read,
    .log_batch_free = smy_log_batch_free,
    .log_stats = smy_log_stats,
    .log_trim = smy_log_trim,
    .freeze_writes = smy_freeze_writes,
    .fence_commit = smy_fence_commit,
    .thaw_commit = smy_thaw_commit,
    .thaw = smy_thaw,
    .fence_remove = smy_fence_remove,
    .fence_installed = smy_fence_installed,
    .put_row = smy_put_row,
    .next_autoinc = smy_next_autoinc,
    .find_rows = smy_find_rows,
    .scan_columns = smy_scan_columns,
    .assess = smy_assess,
    .assess_table = smy_assess_table,
};

/*
 * pg_read.c — rows by key: reading them back for verify and for the way
 * back (a scan of a key range in key order, streamed row by row in
 * single-row mode so the client never holds the whole result; a row by
 * exact key; a count), and clearing a key range before its chunk is
 * copied again. Keys are bound as parameters; values come back through
 * pg_value_parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "sync/drivers/postgresql/pg_priv.h"

struct pg_cursor {
    struct pg_session *s;
    const struct table *tb;
    PGresult *res;             /* the current row's result, or the whole
                                  result of a bounded scan */
    struct value *row;
    int done;
    int whole;                 /* res holds every row; next is the next */
    int next;
};

/* A scan bounded by a limit or an upper key is read as one result: at
 * most that many rows (verify's chunks), and one PGresult rather than one
 * a row, which single-row mode costs. An open range streams row by row. */
#define WHOLE_RESULT_MAX 100000

static void select_head(struct pg_session *s, struct sbuf *b,
                        const struct table *tb)
{
    sbuf_adds(b, "SELECT ");
    for (int i = 0; i < tb->ncols; i++) {
        if (i)
            sbuf_adds(b, ", ");
        pg_ident(b, tb->cols[i].name);
    }
    sbuf_adds(b, " FROM ");
    pg_qualified(s, b, tb->name);
}

/* (k1, k2, ...) — a row value the index on the key serves. */
static void key_row(struct sbuf *b, const struct table *tb)
{
    sbuf_addc(b, '(');
    for (int k = 0; k < tb->nkey; k++) {
        if (k)
            sbuf_adds(b, ", ");
        pg_ident(b, tb->cols[tb->key[k]].name);
    }
    sbuf_addc(b, ')');
}

/* " op ($n, $n+1, ...)" for a bound of nkey parameters from *param. */
static void key_params(struct sbuf *b, const struct table *tb,
                       const char *op, int *param)
{
    sbuf_addf(b, " %s (", op);
    for (int k = 0; k < tb->nkey; k++)
        sbuf_addf(b, "%s$%d", k ? ", " : "", ++*param);
    sbuf_addc(b, ')');
}

/* Bind the values of `keys` (nbounds tuples of nkey values) as text or
 * binary parameters and send sql. */
static int send_with_keys(struct pg_session *s, const char *sql,
                          const struct table *tb, const struct tuple **keys,
                          int nbounds, struct co_err *err)
{
    enum { MAX_BOUND_PARAMS = 128 };
    const char *values[MAX_BOUND_PARAMS] = {0};
    int lengths[MAX_BOUND_PARAMS] = {0}, formats[MAX_BOUND_PARAMS] = {0};
    int n = 0;
    struct pg_scratch scratch[MAX_BOUND_PARAMS];
    int rc = 0;

    if (tb->nkey * nbounds > MAX_BOUND_PARAMS)
        return co_errf(err, CO_ESCHEMA, "table %s: a key of %d columns is "
                       "more than cutover reads by", tb->name, tb->nkey);
    for (int b = 0; b < nbounds && rc == 0; b++)
        for (int k = 0; k < tb->nkey && rc == 0; k++, n++) {
            size_t len;
            sbuf_init(&scratch[n].wide);
            rc = pg_value_text(&tb->cols[tb->key[k]], &keys[b]->v[k],
                               &scratch[n], &values[n], &len, &formats[n],
                               err);
            lengths[n] = (int)len;
        }
    if (rc < 0)
        co_err_prefix(err, "table %s", tb->name);
    else if (!PQsendQueryParams(s->conn, sql, n, NULL, values, lengths,
                                formats, 0))
        rc = pg_error(s, NULL, err, "reading table %s", tb->name);
    for (int i = 0; i < n; i++)
        pg_scratch_free(&scratch[i]);
    return rc;
}

/* The values of row r of res, parsed by column, into out. */
static int row_values(const struct table *tb, PGresult *res, int r,
                      struct value *out, struct co_err *err)
{
    for (int i = 0; i < tb->ncols; i++) {
        int rc = pg_value_parse(&tb->cols[i], PQgetvalue(res, r, i),
                                (size_t)PQgetlength(res, r, i),
                                PQgetisnull(res, r, i), &out[i], err);
        if (rc < 0)
            return co_err_prefix(err, "table %s", tb->name);
    }
    return 0;
}

/* " WHERE (k..) > ($1..) AND (k..) <= ($n..)" for the bounds given
 * (NULL or empty: open), which go into bounds[]; their number returned. */
static int range_where(struct sbuf *sql, const struct table *tb,
                       const struct tuple *lo, const struct tuple *hi,
                       const struct tuple *bounds[2])
{
    int nb = 0, param = 0;

    if (lo && lo->n) {
        sbuf_adds(sql, " WHERE ");
        key_row(sql, tb);
        key_params(sql, tb, ">", &param);
        bounds[nb++] = lo;
    }
    if (hi && hi->n) {
        sbuf_adds(sql, nb ? " AND " : " WHERE ");
        key_row(sql, tb);
        key_params(sql, tb, "<=", &param);
        bounds[nb++] = hi;
    }
    return nb;
}

/* The whole result of a bounded scan, every answer of the session read. */
static int read_whole(struct pg_cursor *c, struct co_err *err)
{
    PGresult *res;
    int rc = 0;

    while ((res = PQgetResult(c->s->conn))) {
        if (rc == 0 && PQresultStatus(res) != PGRES_TUPLES_OK)
            rc = pg_error(c->s, res, err, "reading table %s", c->tb->name);
        if (rc == 0 && !c->res) {
            c->res = res;
            continue;
        }
        PQclear(res);
    }
    c->done = 1;
    return rc;
}

int pg_scan(struct pg_session *s, const struct table *tb,
            const struct tuple *lo, const struct tuple *hi, int64_t limit,
            struct pg_cursor **out, struct co_err *err)
{
    const struct tuple *bounds[2];
    struct pg_cursor *c;
    struct sbuf sql;
    int nb, rc;

    *out = NULL;
    sbuf_init(&sql);
    select_head(s, &sql, tb);
    nb = range_where(&sql, tb, lo, hi, bounds);
    sbuf_adds(&sql, " ORDER BY ");
    for (int k = 0; k < tb->nkey; k++) {
        if (k)
            sbuf_adds(&sql, ", ");
        pg_ident(&sql, tb->cols[tb->key[k]].name);
    }
    if (limit > 0)
        sbuf_addf(&sql, " LIMIT %lld", (long long)limit);
    c = xcalloc(1, sizeof *c);
    if (c)
        c->row = xcalloc((size_t)tb->ncols + 1, sizeof *c->row);
    if (sql.oom || !c || !c->row) {
        sbuf_free(&sql);
        pg_cursor_close(c);
        return co_errf(err, CO_ENOMEM, "out of memory");
    }
    c->s = s;
    c->tb = tb;
    c->whole = (limit > 0 && limit <= WHOLE_RESULT_MAX) || (hi && hi->n);
    rc = send_with_keys(s, sbuf_str(&sql), tb, bounds, nb, err);
    sbuf_free(&sql);
    c->done = rc < 0;           /* nothing sent: nothing to read or cancel */
    if (rc == 0 && !c->whole && !PQsetSingleRowMode(s->conn))
        rc = pg_error(s, NULL, err, "reading table %s", tb->name);
    if (rc == 0 && c->whole)
        rc = read_whole(c, err);
    if (rc < 0) {
        pg_cursor_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int pg_cursor_next(struct pg_cursor *c, const struct value **row,
                   struct co_err *err)
{
    PGresult *res;
    int rc;

    if (c->whole) {
        if (!c->res || c->next >= PQntuples(c->res))
            return 0;
        if ((rc = row_values(c->tb, c->res, c->next++, c->row, err)) < 0)
            return rc;
        *row = c->row;
        return 1;
    }
    PQclear(c->res);
    c->res = NULL;
    if (c->done)
        return 0;
    res = PQgetResult(c->s->conn);
    if (!res || PQresultStatus(res) == PGRES_TUPLES_OK) {
        PQclear(res);
        while ((res = PQgetResult(c->s->conn)))
            PQclear(res);
        c->done = 1;
        return 0;
    }
    if (PQresultStatus(res) != PGRES_SINGLE_TUPLE) {
        rc = pg_error(c->s, res, err, "reading table %s", c->tb->name);
        PQclear(res);
        while ((res = PQgetResult(c->s->conn)))
            PQclear(res);
        c->done = 1;
        return rc;
    }
    c->res = res;
    if ((rc = row_values(c->tb, res, 0, c->row, err)) < 0)
        return rc;
    *row = c->row;
    return 1;
}

void pg_cursor_close(struct pg_cursor *c)
{
    PGresult *res;

    if (!c)
        return;
    PQclear(c->res);
    /* the rest of the result must be read before the session can run
     * anything else; a cancelled query ends it sooner */
    if (c->s && !c->done) {
        PGcancel *cancel = PQgetCancel(c->s->conn);
        char buf[256];
        if (cancel) {
            PQcancel(cancel, buf, sizeof buf);
            PQfreeCancel(cancel);
        }
        while ((res = PQgetResult(c->s->conn)))
            PQclear(res);
    }
    free(c->row);
    free(c);
}

int pg_fetch(struct pg_session *s, const struct table *tb,
             const struct tuple *key, const struct value **row,
             struct co_err *err)
{
    const struct tuple *bounds[1] = {key};
    struct sbuf sql;
    PGresult *res;
    int param = 0, rc;

    PQclear(s->fetched);
    s->fetched = NULL;
    if (s->fetched_cap < tb->ncols) {
        struct value *grown = xrealloc(s->fetched_row, sizeof *grown *
                                      (size_t)tb->ncols);
        if (!grown)
            return co_errf(err, CO_ENOMEM, "out of memory");
        s->fetched_row = grown;
        s->fetched_cap = tb->ncols;
    }
    sbuf_init(&sql);
    select_head(s, &sql, tb);
    sbuf_adds(&sql, " WHERE ");
    key_row(&sql, tb);
    key_params(&sql, tb, "=", &param);
    rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                 : send_with_keys(s, sbuf_str(&sql), tb, bounds, 1, err);
    sbuf_free(&sql);
    if (rc < 0)
        return rc;
    res = PQgetResult(s->conn);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = pg_error(s, res, err, "reading a row of table %s", tb->name);
        PQclear(res);
    } else if (PQntuples(res) == 0) {
        PQclear(res);
    } else {
        s->fetched = res;
        rc = row_values(tb, res, 0, s->fetched_row, err);
        if (rc == 0) {
            *row = s->fetched_row;
            rc = 1;
        }
    }
    while ((res = PQgetResult(s->conn)))
        PQclear(res);
    return rc;
}

int pg_count_rows(struct pg_session *s, const struct table *tb, int64_t *out,
                  struct co_err *err)
{
    struct sbuf sql;
    char buf[32];
    int rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT count(*) FROM ");
    pg_qualified(s, &sql, tb->name);
    rc = pg_query_value(s, sbuf_str(&sql), buf, sizeof buf, err,
                        "counting rows");
    sbuf_free(&sql);
    if (rc < 0)
        return co_err_prefix(err, "table %s", tb->name);
    *out = strtoll(buf, NULL, 10);
    return 0;
}

int pg_clear_range(struct pg_session *s, const struct table *tb,
                   const struct tuple *lo, const struct tuple *hi,
                   int64_t *deleted, struct co_err *err)
{
    const struct tuple *bounds[2];
    struct sbuf sql;
    PGresult *res;
    int nb, rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "DELETE FROM ");
    pg_qualified(s, &sql, tb->name);
    nb = range_where(&sql, tb, lo, hi, bounds);
    rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                 : send_with_keys(s, sbuf_str(&sql), tb, bounds, nb, err);
    sbuf_free(&sql);
    if (rc < 0)
        return rc;
    res = PQgetResult(s->conn);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_error(s, res, err, "clearing a key range of table %s",
                      tb->name);
    else if (deleted)
        *deleted = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    while ((res = PQgetResult(s->conn)))
        PQclear(res);
    return rc;
}

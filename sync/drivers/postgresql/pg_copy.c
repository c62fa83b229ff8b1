/*
 * pg_copy.c — rows into a table through COPY ... FROM STDIN in the text
 * format, escaped here: a field is \N for NULL, else its text with
 * backslash, tab, newline and carriage return written as \\ \t \n \r; a
 * bytea field is its \x hex form, whose backslash COPY needs doubled.
 * Rows are encoded into one buffer that goes to the server whenever it
 * passes PG_COPY_FLUSH bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/postgresql/pg_priv.h"

static void add_escaped(struct sbuf *out, const char *p, size_t n)
{
    size_t run = 0;

    if (sbuf_reserve(out, n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        char esc;
        switch (p[i]) {
        case '\\': esc = '\\'; break;
        case '\t': esc = 't'; break;
        case '\n': esc = 'n'; break;
        case '\r': esc = 'r'; break;
        default: continue;
        }
        sbuf_add(out, p + run, i - run);
        sbuf_addc(out, '\\');
        sbuf_addc(out, esc);
        run = i + 1;
    }
    sbuf_add(out, p + run, n - run);
}

static void add_bytea(struct sbuf *out, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *o;

    if (sbuf_reserve(out, 3 + 2 * n) < 0)
        return;
    o = out->p + out->len;
    *o++ = '\\';
    *o++ = '\\';
    *o++ = 'x';
    for (size_t i = 0; i < n; i++) {
        *o++ = hex[p[i] >> 4];
        *o++ = hex[p[i] & 15];
    }
    out->len += 3 + 2 * n;
    out->p[out->len] = '\0';
}

int pg_copy_encode_row(struct sbuf *out, const struct table *tb,
                       const struct value *row, struct co_err *err)
{
    struct pg_scratch sc = {.wide = {0}};

    for (int i = 0; i < tb->ncols; i++) {
        const char *p;
        size_t n;
        int binary, rc;

        if (i)
            sbuf_addc(out, '\t');
        rc = pg_value_text(&tb->cols[i], &row[i], &sc, &p, &n, &binary, err);
        if (rc < 0) {
            pg_scratch_free(&sc);
            return co_err_prefix(err, "table %s", tb->name);
        }
        if (!p)
            sbuf_add(out, "\\N", 2);
        else if (binary)
            add_bytea(out, (const unsigned char *)p, n);
        else
            add_escaped(out, p, n);
    }
    pg_scratch_free(&sc);
    sbuf_addc(out, '\n');
    return out->oom ? co_errf(err, CO_ENOMEM, "out of memory encoding a row "
                              "of %s", tb->name) : 0;
}

int pg_copy_begin(struct pg_session *s, const struct table *tb,
                  struct pg_copy *c, struct co_err *err)
{
    struct sbuf sql;
    PGresult *res;

    memset(c, 0, sizeof *c);
    c->s = s;
    c->tb = tb;
    sbuf_init(&c->buf);
    sbuf_init(&sql);
    sbuf_adds(&sql, "COPY ");
    pg_qualified(s, &sql, tb->name);
    sbuf_adds(&sql, " (");
    for (int i = 0; i < tb->ncols; i++) {
        if (i)
            sbuf_adds(&sql, ", ");
        pg_ident(&sql, tb->cols[i].name);
    }
    sbuf_adds(&sql, ") FROM STDIN");
    if (sql.oom) {
        sbuf_free(&sql);
        return co_errf(err, CO_ENOMEM, "out of memory");
    }
    res = PQexec(s->conn, sbuf_str(&sql));
    sbuf_free(&sql);
    return pg_check(s, res, PGRES_COPY_IN, err, "starting COPY into table",
                    tb->name);
}

static int flush(struct pg_copy *c, struct co_err *err)
{
    if (c->buf.len == 0)
        return 0;
    if (PQputCopyData(c->s->conn, c->buf.p, (int)c->buf.len) != 1)
        return pg_error(c->s, NULL, err, "sending rows of table %s",
                        c->tb->name);
    sbuf_reset(&c->buf);
    return 0;
}

int pg_copy_put(struct pg_copy *c, const struct value *row,
                struct co_err *err)
{
    int rc = pg_copy_encode_row(&c->buf, c->tb, row, err);

    if (rc < 0)
        return rc;
    c->rows++;
    return c->buf.len >= PG_COPY_FLUSH ? flush(c, err) : 0;
}

/* The COPY's final result (and any after it), into err when it failed. */
static int finish(struct pg_copy *c, int64_t *rows, struct co_err *err)
{
    PGresult *res;
    int rc = 0;

    while ((res = PQgetResult(c->s->conn))) {
        if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = pg_error(c->s, res, err, "COPY into table %s", c->tb->name);
        else if (rc == 0 && rows)
            *rows = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
    return rc;
}

int pg_copy_end(struct pg_copy *c, int64_t *rows, struct co_err *err)
{
    int rc = flush(c, err), done;

    sbuf_free(&c->buf);
    if (rc < 0) {
        pg_copy_abort(c, "cutover could not send the rows");
        return rc;
    }
    if (PQputCopyEnd(c->s->conn, NULL) != 1)
        rc = pg_error(c->s, NULL, err, "ending COPY into table %s",
                      c->tb->name);
    done = finish(c, rows, rc < 0 ? NULL : err);
    return rc < 0 ? rc : done;
}

void pg_copy_abort(struct pg_copy *c, const char *why)
{
    sbuf_free(&c->buf);
    if (PQputCopyEnd(c->s->conn, why) == 1)
        finish(c, NULL, NULL);
}

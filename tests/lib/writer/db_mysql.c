/*
 * db_mysql.c — the MySQL driver: the application's database after the
 * cutover. Statements go as text with the parameters rendered as escaped
 * literals, so results arrive as bytes (C_BYTES) and normalize.c parses
 * them. Lock wait timeout and deadlock are DB_BUSY.
 */
#include <stdio.h>
#include <string.h>

#include <mysql.h>

#include "lib/sbuf.h"
#include "tests/lib/writer/writer.h"

static enum db_status my_fail(struct db *db)
{
    unsigned e = mysql_errno(db->handle);

    /* lock wait timeout and deadlock are MySQL's SQLITE_BUSY */
    return db_fail(db, e == 1205 || e == 1213 ? DB_BUSY : DB_ERROR,
                   "%s (MySQL error %u)", mysql_error(db->handle), e);
}

static void my_quote(MYSQL *h, struct sbuf *out, const char *s)
{
    size_t n = strlen(s);

    if (sbuf_reserve(out, 2 * n + 2) < 0)
        return;
    out->p[out->len++] = '\'';
    out->len += mysql_real_escape_string(h, out->p + out->len, s,
                                         (unsigned long)n);
    out->p[out->len++] = '\'';
    out->p[out->len] = '\0';
}

/* The SQL with each ? replaced by its parameter as a literal. */
static void my_render(MYSQL *h, struct sbuf *out, const char *sql,
                      const struct param *p, int np)
{
    int next = 0;

    for (const char *s = sql; *s; s++) {
        if (*s != '?' || next == np)
            sbuf_addc(out, *s);
        else if (p[next].type == P_INT)
            sbuf_addf(out, "%lld", p[next++].i);
        else if (p[next].type == P_TEXT)
            my_quote(h, out, p[next++].s);
        else {
            sbuf_adds(out, "NULL");
            next++;
        }
    }
}

static void my_rows(MYSQL_RES *res, row_fn fn, void *ctx)
{
    struct cell cells[MAX_COLS];
    unsigned n = mysql_num_fields(res);
    MYSQL_ROW row;

    n = n < MAX_COLS ? n : MAX_COLS;
    while (fn && (row = mysql_fetch_row(res))) {
        unsigned long *len = mysql_fetch_lengths(res);

        for (unsigned i = 0; i < n; i++)
            cells[i] = row[i] ? (struct cell){.type = C_BYTES, .p = row[i],
                                              .n = len[i]}
                              : (struct cell){.type = C_NULL};
        if (fn(ctx, cells, (int)n))
            break;
    }
}

static enum db_status my_run(struct db *db, const char *sql,
                             const struct param *p, int np, row_fn fn,
                             void *ctx)
{
    MYSQL_RES *res;
    struct sbuf text;
    int rc;

    sbuf_init(&text);
    my_render(db->handle, &text, sql, p, np);
    if (text.oom)
        die("out of memory");
    rc = mysql_real_query(db->handle, sbuf_str(&text), text.len);
    sbuf_free(&text);
    if (rc)
        return my_fail(db);
    res = mysql_store_result(db->handle);
    if (!res)
        return mysql_field_count(db->handle) ? my_fail(db) : DB_OK;
    my_rows(res, fn, ctx);
    mysql_free_result(res);
    return DB_OK;
}

static void my_close(struct db *db)
{
    mysql_close(db->handle);
    db->handle = NULL;
}

static enum db_status my_open(struct db *db, const struct conn_opts *o)
{
    char sql[80];

    if (!o->mysql_socket || !o->mysql_db)
        return db_fail(db, DB_ERROR, "no --mysql-socket and --mysql-db given");
    if (!(db->handle = mysql_init(NULL)))
        return db_fail(db, DB_ERROR, "mysql_init: out of memory");
    mysql_options(db->handle, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(db->handle, NULL, o->mysql_user, NULL, o->mysql_db,
                            0, o->mysql_socket, 0))
        return my_fail(db);
    /* wait for row locks as long as SQLite waits for its write lock */
    snprintf(sql, sizeof sql, "SET SESSION innodb_lock_wait_timeout = %d",
             (o->busy_timeout_ms + 999) / 1000);
    return my_run(db, sql, NULL, 0, NULL, NULL);
}

static enum db_status my_last_insert_id(struct db *db, const struct table *t,
                                        long long *id)
{
    (void)t;
    *id = (long long)mysql_insert_id(db->handle);
    return DB_OK;
}

const struct db_driver mysql_driver = {
    "mysql", "START TRANSACTION", "REPLACE",
    my_open, my_close, my_run, my_last_insert_id};

/*
 * db.c — one small interface over SQLite, MySQL and PostgreSQL. Each sits
 * behind struct db_driver (run one statement with ? parameters, optionally
 * receiving its rows; the last insert id), one file each: db_sqlite.c,
 * db_mysql.c, db_postgresql.c. SQL is written once, with ? placeholders
 * that the MySQL driver renders as escaped literals and the PostgreSQL one
 * numbers; the drivers differ only in BEGIN and in the REPLACE verb.
 *
 * Every failure ends up as one of enum db_status, which is all the writer
 * acts on: DB_BUSY (wait for locks ran out), DB_FENCE (the cutover moved the
 * writes) or DB_ERROR; db->err keeps the driver's message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tests/lib/writer/writer.h"

/* Keeps the message of a failure and classifies it: whatever the driver
 * thinks of it, a fence message makes it DB_FENCE. */
enum db_status db_fail(struct db *db, enum db_status class, const char *fmt,
                       ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(db->err, sizeof db->err, fmt, ap);
    va_end(ap);
    return strstr(db->err, FENCE_PREFIX) ? DB_FENCE : class;
}

const struct db_driver *driver_by_name(const char *name)
{
    if (strcmp(name, sqlite_driver.name) == 0)
        return &sqlite_driver;
    if (strcmp(name, mysql_driver.name) == 0)
        return &mysql_driver;
    if (strcmp(name, postgresql_driver.name) == 0)
        return &postgresql_driver;
    return NULL;
}

void db_close(struct db *db)
{
    if (db->handle)
        db->drv->close(db);
}

/* On failure the connection is closed again and db->err says why. */
enum db_status db_open(struct db *db, const struct db_driver *drv,
                       const struct conn_opts *o)
{
    enum db_status st;

    db->drv = drv;
    st = drv->open(db, o);
    if (st != DB_OK)
        db_close(db);
    return st == DB_OK ? DB_OK : DB_ERROR;
}

enum db_status db_exec(struct db *db, const char *sql, const struct param *p,
                       int np)
{
    return db->drv->run(db, sql, p, np, NULL, NULL);
}

enum db_status db_begin(struct db *db)
{
    return db_exec(db, db->drv->begin_sql, NULL, 0);
}

enum db_status db_commit(struct db *db)
{
    return db_exec(db, "COMMIT", NULL, 0);
}

/* Best effort, and keeps the message of the failure that led here. */
void db_rollback(struct db *db)
{
    char why[sizeof db->err];

    if (!db->handle)
        return;
    memcpy(why, db->err, sizeof why);
    db_exec(db, "ROLLBACK", NULL, 0);
    memcpy(db->err, why, sizeof why);
}

struct int_list {
    long long *v;
    int n, max;
};

static int take_int(void *ctx, const struct cell *cells, int ncells)
{
    struct int_list *l = ctx;

    (void)ncells;
    l->v[l->n++] = cell_int(&cells[0]);
    return l->n == l->max;
}

/* The first column of up to max rows, as integers (NULL as 0). */
enum db_status db_query_ints(struct db *db, const char *sql,
                             const struct param *p, int np,
                             long long *out, int max, int *n)
{
    struct int_list l = {out, 0, max};
    enum db_status st = db->drv->run(db, sql, p, np, take_int, &l);

    *n = l.n;
    return st;
}

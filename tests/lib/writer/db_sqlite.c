/*
 * db_sqlite.c — the SQLite driver: the application's database before the
 * cutover (and after a rollback). The busy timeout is the application's
 * patience with a cutover holding the write lock; SQLITE_BUSY and
 * SQLITE_LOCKED after it are DB_BUSY.
 *
 * Prepared statements are kept per connection by their SQL, as Python's
 * sqlite3 module (Django's driver) keeps them: the programs of the
 * triggers a statement fires (cutover's change capture) are compiled into
 * it once, not on every call.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/writer/writer.h"

#define STATEMENT_CACHE 64

struct sq_conn {
    sqlite3 *h;
    int n;
    struct {
        char *sql;
        sqlite3_stmt *st;
    } cache[STATEMENT_CACHE];
};

static sqlite3 *handle_of(const struct db *db)
{
    return db->handle ? ((struct sq_conn *)db->handle)->h : NULL;
}

static enum db_status sq_fail(struct db *db, int rc)
{
    int primary = rc & 0xff;

    return db_fail(db,
                   primary == SQLITE_BUSY || primary == SQLITE_LOCKED
                       ? DB_BUSY : DB_ERROR,
                   "%s", handle_of(db) ? sqlite3_errmsg(handle_of(db))
                                       : sqlite3_errstr(rc));
}

static int sq_bind(sqlite3_stmt *st, const struct param *p, int np)
{
    int rc = SQLITE_OK;

    for (int i = 0; i < np && rc == SQLITE_OK; i++) {
        if (p[i].type == P_INT)
            rc = sqlite3_bind_int64(st, i + 1, p[i].i);
        else if (p[i].type == P_TEXT)
            rc = sqlite3_bind_text(st, i + 1, p[i].s, -1, SQLITE_TRANSIENT);
        else
            rc = sqlite3_bind_null(st, i + 1);
    }
    return rc;
}

static struct cell sq_cell(sqlite3_stmt *st, int i)
{
    struct cell c = {0};

    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        c.type = C_NULL;
        break;
    case SQLITE_INTEGER:
        c.type = C_INT;
        c.i = sqlite3_column_int64(st, i);
        break;
    case SQLITE_FLOAT:
        c.type = C_REAL;
        c.d = sqlite3_column_double(st, i);
        break;
    default: /* text or blob: the bytes as stored */
        c.type = C_BYTES;
        c.p = sqlite3_column_blob(st, i);
        c.n = (size_t)sqlite3_column_bytes(st, i);
        if (!c.p)
            c.p = "";
    }
    return c;
}

/* The connection's statement for `sql`, prepared on first use; *cached
 * says whether it stays (reset after use) or is finalized (cache full). */
static int sq_prepare(struct sq_conn *c, const char *sql, sqlite3_stmt **st,
                      int *cached)
{
    int rc;

    for (int i = 0; i < c->n; i++)
        if (strcmp(c->cache[i].sql, sql) == 0) {
            *st = c->cache[i].st;
            *cached = 1;
            return SQLITE_OK;
        }
    rc = sqlite3_prepare_v2(c->h, sql, -1, st, NULL);
    *cached = rc == SQLITE_OK && c->n < STATEMENT_CACHE &&
              (c->cache[c->n].sql = strdup(sql)) != NULL;
    if (*cached)
        c->cache[c->n++].st = *st;
    return rc;
}

static enum db_status sq_run(struct db *db, const char *sql,
                             const struct param *p, int np, row_fn fn,
                             void *ctx)
{
    struct cell cells[MAX_COLS];
    sqlite3_stmt *st = NULL;
    enum db_status status;
    int cached, rc = sq_prepare(db->handle, sql, &st, &cached);

    if (rc == SQLITE_OK)
        rc = sq_bind(st, p, np);
    while (rc == SQLITE_OK) {
        int n = sqlite3_column_count(st);

        if ((rc = sqlite3_step(st)) != SQLITE_ROW)
            break;
        n = n < MAX_COLS ? n : MAX_COLS;
        for (int i = 0; i < n; i++)
            cells[i] = sq_cell(st, i);
        rc = fn && fn(ctx, cells, n) ? SQLITE_DONE : SQLITE_OK;
    }
    status = rc == SQLITE_DONE ? DB_OK : sq_fail(db, rc);
    if (cached) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        sqlite3_finalize(st);
    }
    return status;
}

static void sq_close(struct db *db)
{
    struct sq_conn *c = db->handle;

    for (int i = 0; i < c->n; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
    }
    sqlite3_close_v2(c->h);
    free(c);
    db->handle = NULL;
}

static enum db_status sq_open(struct db *db, const struct conn_opts *o)
{
    struct sq_conn *c = calloc(1, sizeof *c);
    sqlite3 *h = NULL;
    int rc;

    if (!c)
        return db_fail(db, DB_ERROR, "out of memory");
    rc = sqlite3_open_v2(o->sqlite_path, &h, SQLITE_OPEN_READWRITE, NULL);
    c->h = h;
    db->handle = c;
    if (rc != SQLITE_OK)
        return sq_fail(db, rc);
    sqlite3_busy_timeout(h, o->busy_timeout_ms);
    if (o->sqlite_synchronous) {
        char pragma[64];
        enum db_status st;
        snprintf(pragma, sizeof pragma, "PRAGMA synchronous = %s",
                 o->sqlite_synchronous);
        if ((st = sq_run(db, pragma, NULL, 0, NULL, NULL)) != DB_OK)
            return st;
    }
    /* Django turns foreign keys on; with them both backends refuse the
     * same writes. */
    return sq_run(db, "PRAGMA foreign_keys = ON", NULL, 0, NULL, NULL);
}

static enum db_status sq_last_insert_id(struct db *db, const struct table *t,
                                        long long *id)
{
    (void)t;
    *id = sqlite3_last_insert_rowid(handle_of(db));
    return DB_OK;
}

/* BEGIN IMMEDIATE takes SQLite's write lock up front, so waiting for a
 * cutover that holds it goes through the busy timeout, as the cutover's
 * write pause expects of an application. */
const struct db_driver sqlite_driver = {
    "sqlite", "BEGIN IMMEDIATE", "INSERT OR REPLACE",
    sq_open, sq_close, sq_run, sq_last_insert_id};

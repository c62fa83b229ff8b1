/*
 * db_sqlite.c — the SQLite driver: the application's database before the
 * cutover (and after a rollback). The busy timeout is the application's
 * patience with a cutover holding the write lock; SQLITE_BUSY and
 * SQLITE_LOCKED after it are DB_BUSY.
 */
#include <sqlite3.h>
#include <stdio.h>

#include "tests/lib/writer/writer.h"

static enum db_status sq_fail(struct db *db, int rc)
{
    int primary = rc & 0xff;

    return db_fail(db,
                   primary == SQLITE_BUSY || primary == SQLITE_LOCKED
                       ? DB_BUSY : DB_ERROR,
                   "%s", db->handle ? sqlite3_errmsg(db->handle)
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

static enum db_status sq_run(struct db *db, const char *sql,
                             const struct param *p, int np, row_fn fn,
                             void *ctx)
{
    struct cell cells[MAX_COLS];
    sqlite3_stmt *st = NULL;
    enum db_status status;
    int rc = sqlite3_prepare_v2(db->handle, sql, -1, &st, NULL);

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
    sqlite3_finalize(st);
    return status;
}

static void sq_close(struct db *db)
{
    sqlite3_close_v2(db->handle);
    db->handle = NULL;
}

static enum db_status sq_open(struct db *db, const struct conn_opts *o)
{
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(o->sqlite_path, &h, SQLITE_OPEN_READWRITE, NULL);

    db->handle = h;
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
    *id = sqlite3_last_insert_rowid(db->handle);
    return DB_OK;
}

/* BEGIN IMMEDIATE takes SQLite's write lock up front, so waiting for a
 * cutover that holds it goes through the busy timeout, as the cutover's
 * write pause expects of an application. */
const struct db_driver sqlite_driver = {
    "sqlite", "BEGIN IMMEDIATE", "INSERT OR REPLACE",
    sq_open, sq_close, sq_run, sq_last_insert_id};

/*
 * db_postgresql.c — the PostgreSQL driver: the application's database after
 * a cutover to PostgreSQL. The ? placeholders become $1..$n and every
 * parameter goes as text for the server to read in the column's type
 * (PQexecParams), so the SQL of ops.c is the same as on the other two.
 * Results arrive in PostgreSQL's text forms: normalize.c reads those, and
 * bytea is decoded here from its hex wire form into the bytes it holds.
 *
 * Failures are told apart by SQLSTATE: lock_timeout (55P03), deadlock
 * (40P01) and serialization failures (40001) are DB_BUSY, PostgreSQL's
 * SQLITE_BUSY; cutover's rollback fence raises 25006 with "cutover: writes
 * moved back to source" (sync/drivers/postgresql/pg_capture.c) and is
 * DB_FENCE. A 25006 without that message (a read-only transaction, a
 * standby) is an error like any other.
 *
 * The password is libpq's own business: PGPASSWORD or ~/.pgpass, as an
 * application's deployment would give it.
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "lib/sbuf.h"
#include "tests/lib/writer/writer.h"

#define BOOL_OID 16
#define BYTEA_OID 17
#define FENCE_SQLSTATE "25006"

static enum db_status pg_status_of(const char *sqlstate, const char *message)
{
    if (!sqlstate)
        return DB_ERROR; /* no answer: the connection is gone */
    if (strcmp(sqlstate, "55P03") == 0 || strcmp(sqlstate, "40P01") == 0 ||
        strcmp(sqlstate, "40001") == 0)
        return DB_BUSY;
    if (strcmp(sqlstate, FENCE_SQLSTATE) == 0 && message &&
        strncmp(message, FENCE_PREFIX, strlen(FENCE_PREFIX)) == 0)
        return DB_FENCE;
    return DB_ERROR;
}

/* res may be NULL (out of memory, connection lost): the message is then
 * the connection's. */
static enum db_status pg_fail(struct db *db, PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary =
        res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *text = res && *PQresultErrorMessage(res)
                           ? PQresultErrorMessage(res)
                           : PQerrorMessage(db->handle);
    char message[sizeof db->err];
    size_t n;

    snprintf(message, sizeof message, "%s", primary ? primary : text);
    n = strlen(message);
    while (n > 0 && message[n - 1] == '\n')
        message[--n] = '\0';
    return db_fail(db, pg_status_of(state, primary), "%s (PostgreSQL %s)",
                   message, state ? state : "connection");
}

/* The SQL with each ? turned into $1, $2...: the statements of ops.c hold
 * no ? inside a literal. */
static void pg_number_placeholders(struct sbuf *out, const char *sql)
{
    int next = 0;

    for (const char *s = sql; *s; s++)
        if (*s == '?')
            sbuf_addf(out, "$%d", ++next);
        else
            sbuf_addc(out, *s);
}

/* A bytea value's hex text decoded in place into cell c; *freeme is what
 * the caller frees once the row is used. */
static void pg_bytea_cell(const char *text, struct cell *c,
                          unsigned char **freeme)
{
    size_t n = 0;

    *freeme = PQunescapeBytea((const unsigned char *)text, &n);
    if (!*freeme)
        die("out of memory");
    *c = (struct cell){.type = C_BYTES, .p = (const char *)*freeme, .n = n};
}

static void pg_rows(PGresult *res, row_fn fn, void *ctx)
{
    int ncols = PQnfields(res), nrows = PQntuples(res), stop = 0;
    struct cell cells[MAX_COLS];
    unsigned char *decoded[MAX_COLS];

    ncols = ncols < MAX_COLS ? ncols : MAX_COLS;
    for (int r = 0; fn && r < nrows && !stop; r++) {
        for (int i = 0; i < ncols; i++) {
            decoded[i] = NULL;
            if (PQgetisnull(res, r, i))
                cells[i] = (struct cell){.type = C_NULL};
            else if (PQftype(res, i) == BYTEA_OID)
                pg_bytea_cell(PQgetvalue(res, r, i), &cells[i], &decoded[i]);
            else
                cells[i] = (struct cell){.type = C_BYTES,
                                         .p = PQgetvalue(res, r, i),
                                         .n = (size_t)PQgetlength(res, r, i)};
        }
        stop = fn(ctx, cells, ncols);
        for (int i = 0; i < ncols; i++)
            PQfreemem(decoded[i]);
    }
}

static enum db_status pg_run(struct db *db, const char *sql,
                             const struct param *p, int np, row_fn fn,
                             void *ctx)
{
    const char *values[MAX_COLS + 4];
    char ints[MAX_COLS + 4][24];
    struct sbuf text;
    PGresult *res;
    enum db_status st = DB_OK;

    if (np > COUNT(values))
        die("%d parameters, at most %d", np, COUNT(values));
    for (int i = 0; i < np; i++) {
        if (p[i].type == P_INT) {
            snprintf(ints[i], sizeof ints[i], "%lld", p[i].i);
            values[i] = ints[i];
        } else
            values[i] = p[i].type == P_TEXT ? p[i].s : NULL;
    }
    sbuf_init(&text);
    pg_number_placeholders(&text, sql);
    if (text.oom)
        die("out of memory");
    res = PQexecParams(db->handle, sbuf_str(&text), np, NULL, values, NULL,
                       NULL, 0);
    sbuf_free(&text);
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        pg_rows(res, fn, ctx);
    else if (PQresultStatus(res) != PGRES_COMMAND_OK)
        st = pg_fail(db, res);
    PQclear(res);
    return st;
}

static void pg_close(struct db *db)
{
    PQfinish(db->handle);
    db->handle = NULL;
}

/* Sessions wait for row locks as long as SQLite waits for its write lock;
 * timestamps are read and written in UTC, as Django stores them; the
 * schema is the one the migration created the tables in. */
static enum db_status pg_session_setup(struct db *db,
                                       const struct conn_opts *o)
{
    char timeout[32];

    snprintf(timeout, sizeof timeout, "%d", o->busy_timeout_ms);
    return pg_run(db,
                  "SELECT set_config('lock_timeout', ?, false), "
                  "set_config('TimeZone', 'UTC', false), "
                  "set_config('search_path', quote_ident(?), false)",
                  (struct param[]){PTEXT(timeout),
                                   PTEXT(o->pg_schema ? o->pg_schema
                                                      : "public")},
                  2, NULL, NULL);
}

static enum db_status pg_open(struct db *db, const struct conn_opts *o)
{
    const char *keys[] = {"host", "port", "user", "dbname",
                          "application_name", "client_encoding", NULL};
    const char *values[] = {o->pg_host, o->pg_port, o->pg_user, o->pg_db,
                            "writer", "UTF8", NULL};

    if (!o->pg_host || !o->pg_db)
        return db_fail(db, DB_ERROR, "no --pg-host and --pg-db given");
    db->handle = PQconnectdbParams(keys, values, 0);
    if (!db->handle)
        return db_fail(db, DB_ERROR, "PQconnectdbParams: out of memory");
    if (PQstatus(db->handle) != CONNECTION_OK)
        return pg_fail(db, NULL);
    return pg_session_setup(db, o);
}

/* The id the identity column of t (its first column) gave the row just
 * inserted. currval of that column's own sequence, not lastval(): cutover's
 * reverse-capture triggers insert into logs with sequences of their own in
 * the same statement. */
static enum db_status pg_last_insert_id(struct db *db, const struct table *t,
                                        long long *id)
{
    int n = 0;
    enum db_status st = db_query_ints(
        db, "SELECT currval(pg_get_serial_sequence(?, ?))",
        (struct param[]){PTEXT(t->name), PTEXT(t->cols[0].name)}, 2, id, 1,
        &n);

    if (st == DB_OK && n != 1)
        return db_fail(db, DB_ERROR, "%s: no id from the last insert",
                       t->name);
    return st;
}

/* No REPLACE: ops.c deletes the row holding the unique value first, which
 * is what MySQL's REPLACE does too. */
const struct db_driver postgresql_driver = {
    "postgresql", "BEGIN", NULL,
    pg_open, pg_close, pg_run, pg_last_insert_id};

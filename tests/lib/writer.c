/*
 * writer.c — the live application of cutover's tests, benchmarks and demo.
 *
 *   writer run --sqlite PATH --switch-file FILE --record FILE --rate TXN_PER_S
 *              [--mysql-socket SOCK --mysql-db DB] [--user root]
 *              [--duration S] [--busy-timeout-ms 10000] [--seed N]
 *   writer check --record FILE (--sqlite PATH | --mysql-socket SOCK --mysql-db DB)
 *
 * `run` plays a Django shop (tests/lib/fixtures.py `shop`) writing while
 * cutover migrates its database: open-loop paced transactions, each one
 * operation drawn from OPS by weight, sent to the backend the switch file
 * names ("sqlite" or "mysql"; missing file = sqlite). Inside each
 * transaction, after its writes and before COMMIT, it reads back every row it
 * touched; once COMMIT succeeds (the write is acknowledged) it appends one
 * JSON line per row to the record:
 *
 *   {"n": COMMIT_NUMBER, "table": T, "key": [...], "row": {...} | null}
 *
 * `check` replays the record (the last line per table and key wins) and
 * compares that expected state with a database. No row lost, unexpected or
 * different is the proof that no acknowledged write was lost.
 *
 * Following a cutover the way an application does:
 *   - SQLite fails a write with "cutover: writes moved to target" (the
 *     cutover fence): roll back, poll the switch file until it names MySQL,
 *     connect there and retry the operation. MySQL failing with "cutover:
 *     writes moved back to source" (a rollback) is the same the other way.
 *   - SQLITE_BUSY after the busy timeout (cutover held the write lock too
 *     long), or MySQL's lock wait timeout or deadlock: retry at once.
 *   - Anything else: log, reconnect, retry after 50 ms; give up (exit 1)
 *     after 100 failures in a row.
 * The writer does not switch because the file changed: an application with a
 * stale configuration keeps writing to the old side, and stopping it is the
 * fence's job, which is part of what the writer tests.
 *
 * Values are normalized the same way from both backends so that records
 * compare equal: integers and booleans as JSON integers, decimals as strings
 * with two fraction digits, datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff', text
 * as strings, blobs as hex. The normalization is written here, apart from
 * cutover's row codec: a checker must not share the code it checks.
 *
 * Both databases sit behind struct db_driver (run one statement with ?
 * parameters, optionally receiving its rows; the last insert id). SQL is
 * written once, with ? placeholders that the MySQL driver renders as escaped
 * literals; the drivers differ only in BEGIN and in the REPLACE verb.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <mysql.h>
#include <sqlite3.h>

#include "sync/sbuf.h"

#define FENCE_PREFIX "cutover: writes moved" /* both fences share it */
#define SWITCH_POLL_MS 2
#define FENCE_RECHECK_MS 200 /* then retry where we are: the fence may be gone */
#define ERROR_RETRY_MS 50
#define MAX_CONSECUTIVE_ERRORS 100
#define MAX_COLS 8
#define MAX_ITEMS 64          /* order items one operation looks at */
#define MAX_TOUCHED (MAX_ITEMS + 2)
#define SESSION_KEY_LEN 40    /* django_session.session_key VARCHAR(40) */
#define MAX_EXAMPLES 20
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static volatile sig_atomic_t stop_requested;

/* ---- small utilities ---------------------------------------------------- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;

    fputs("writer: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

#define die(...) (say(__VA_ARGS__), exit(2))

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    *cap = need < 64 ? 64 : need * 2;
    p = realloc(p, *cap * size);
    if (!p)
        die("out of memory");
    return p;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Returns early when a signal arrives. */
static void sleep_until_ms(double t)
{
    struct timespec ts = {(time_t)(t / 1000), (long)(fmod(t, 1000) * 1e6)};

    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static void sleep_ms(double ms) { sleep_until_ms(now_ms() + ms); }

/* ---- the schema: the five tables and how their columns normalize -------- */

enum kind { K_INT, K_BOOL, K_DEC, K_TIME, K_TEXT, K_BLOB };

struct column {
    const char *name;
    enum kind kind;
};

struct table {
    const char *name;
    int nkey, ncols; /* the key is the first nkey columns */
    struct column cols[MAX_COLS];
    char *select_sql; /* the row by key; tables_init */
};

static struct table users = {"auth_user", 1, 8,
    {{"id", K_INT}, {"username", K_TEXT}, {"email", K_TEXT},
     {"first_name", K_TEXT}, {"is_staff", K_BOOL}, {"is_active", K_BOOL},
     {"date_joined", K_TIME}, {"last_login", K_TIME}}, NULL};
static struct table products = {"shop_product", 1, 8,
    {{"id", K_INT}, {"sku", K_TEXT}, {"name", K_TEXT},
     {"description", K_TEXT}, {"price", K_DEC}, {"stock", K_INT},
     {"image", K_BLOB}, {"created_at", K_TIME}}, NULL};
static struct table orders = {"shop_order", 1, 8,
    {{"id", K_INT}, {"user_id", K_INT}, {"status", K_TEXT},
     {"total", K_DEC}, {"is_paid", K_BOOL}, {"note", K_TEXT},
     {"created_at", K_TIME}, {"updated_at", K_TIME}}, NULL};
static struct table items = {"shop_orderitem", 2, 4,
    {{"order_id", K_INT}, {"product_id", K_INT}, {"quantity", K_INT},
     {"unit_price", K_DEC}}, NULL};
static struct table sessions = {"django_session", 1, 3,
    {{"session_key", K_TEXT}, {"session_data", K_TEXT},
     {"expire_date", K_TIME}}, NULL};

static struct table *const TABLES[] = {&users, &products, &orders, &items,
                                       &sessions};

static void tables_init(void)
{
    for (int i = 0; i < COUNT(TABLES); i++) {
        struct table *t = TABLES[i];
        struct sbuf sql;

        sbuf_init(&sql);
        sbuf_adds(&sql, "SELECT ");
        for (int c = 0; c < t->ncols; c++)
            sbuf_addf(&sql, "%s%s", c ? ", " : "", t->cols[c].name);
        sbuf_addf(&sql, " FROM %s WHERE ", t->name);
        for (int k = 0; k < t->nkey; k++)
            sbuf_addf(&sql, "%s%s = ?", k ? " AND " : "", t->cols[k].name);
        if (sql.oom)
            die("out of memory");
        t->select_sql = sql.p;
    }
}

static void tables_free(void)
{
    for (int i = 0; i < COUNT(TABLES); i++) {
        free(TABLES[i]->select_sql);
        TABLES[i]->select_sql = NULL;
    }
}

static const struct table *table_by_name(const char *name)
{
    for (int i = 0; name && i < COUNT(TABLES); i++)
        if (strcmp(TABLES[i]->name, name) == 0)
            return TABLES[i];
    return NULL;
}

/* ---- database access: one small interface over SQLite and MySQL --------- */

enum db_status { DB_OK, DB_BUSY, DB_FENCE, DB_ERROR };

enum param_type { P_NULL, P_INT, P_TEXT };

struct param {
    enum param_type type;
    long long i;
    const char *s;
};

#define PINT(v) ((struct param){.type = P_INT, .i = (v)})
#define PTEXT(v) ((struct param){.type = P_TEXT, .s = (v)})
#define PNULL ((struct param){.type = P_NULL})

/* A result value as the driver has it; MySQL's text protocol has bytes only. */
enum cell_type { C_NULL, C_INT, C_REAL, C_BYTES };

struct cell {
    enum cell_type type;
    long long i;
    double d;
    const char *p;
    size_t n;
};

/* Called for each result row; returning nonzero stops the scan. */
typedef int (*row_fn)(void *ctx, const struct cell *cells, int ncells);

struct conn_opts {
    const char *sqlite_path, *mysql_socket, *mysql_db, *mysql_user;
    int busy_timeout_ms;
};

struct db;

struct db_driver {
    const char *name;
    const char *begin_sql;
    const char *replace_verb; /* replace on any unique key */
    enum db_status (*open)(struct db *db, const struct conn_opts *o);
    void (*close)(struct db *db);
    enum db_status (*run)(struct db *db, const char *sql,
                          const struct param *p, int np, row_fn fn, void *ctx);
    long long (*last_insert_id)(struct db *db);
};

struct db {
    const struct db_driver *drv;
    void *handle; /* sqlite3 * or MYSQL *; NULL when closed */
    char err[512];
};

/* Keeps the message of a failure and classifies it: whatever the driver
 * thinks of it, a fence message makes it DB_FENCE. */
static enum db_status db_fail(struct db *db, enum db_status class,
                              const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum db_status db_fail(struct db *db, enum db_status class,
                              const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(db->err, sizeof db->err, fmt, ap);
    va_end(ap);
    return strstr(db->err, FENCE_PREFIX) ? DB_FENCE : class;
}

/* SQLite */

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
    /* Django turns foreign keys on; with them both backends refuse the
     * same writes. */
    return sq_run(db, "PRAGMA foreign_keys = ON", NULL, 0, NULL, NULL);
}

static long long sq_last_insert_id(struct db *db)
{
    return sqlite3_last_insert_rowid(db->handle);
}

/* MySQL */

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

static long long my_last_insert_id(struct db *db)
{
    return (long long)mysql_insert_id(db->handle);
}

/* BEGIN IMMEDIATE takes SQLite's write lock up front, so waiting for a
 * cutover that holds it goes through the busy timeout, as the cutover's
 * write pause expects of an application. */
static const struct db_driver sqlite_driver = {
    "sqlite", "BEGIN IMMEDIATE", "INSERT OR REPLACE",
    sq_open, sq_close, sq_run, sq_last_insert_id};
static const struct db_driver mysql_driver = {
    "mysql", "START TRANSACTION", "REPLACE",
    my_open, my_close, my_run, my_last_insert_id};

static const struct db_driver *driver_by_name(const char *name)
{
    if (strcmp(name, sqlite_driver.name) == 0)
        return &sqlite_driver;
    if (strcmp(name, mysql_driver.name) == 0)
        return &mysql_driver;
    return NULL;
}

static void db_close(struct db *db)
{
    if (db->handle)
        db->drv->close(db);
}

/* On failure the connection is closed again and db->err says why. */
static enum db_status db_open(struct db *db, const struct db_driver *drv,
                              const struct conn_opts *o)
{
    enum db_status st;

    db->drv = drv;
    st = drv->open(db, o);
    if (st != DB_OK)
        db_close(db);
    return st == DB_OK ? DB_OK : DB_ERROR;
}

static enum db_status db_exec(struct db *db, const char *sql,
                              const struct param *p, int np)
{
    return db->drv->run(db, sql, p, np, NULL, NULL);
}

static enum db_status db_begin(struct db *db)
{
    return db_exec(db, db->drv->begin_sql, NULL, 0);
}

static enum db_status db_commit(struct db *db)
{
    return db_exec(db, "COMMIT", NULL, 0);
}

/* Best effort, and keeps the message of the failure that led here. */
static void db_rollback(struct db *db)
{
    char why[sizeof db->err];

    if (!db->handle)
        return;
    memcpy(why, db->err, sizeof why);
    db_exec(db, "ROLLBACK", NULL, 0);
    memcpy(db->err, why, sizeof why);
}

/* ---- normalization: one form for values from either backend ------------- */

/* The cell as a C string, for parsing (blob bytes have no terminator). */
static const char *cell_cstr(const struct cell *c, char *buf, size_t size)
{
    size_t n;

    if (c->type == C_INT)
        snprintf(buf, size, "%lld", c->i);
    else if (c->type == C_REAL)
        snprintf(buf, size, "%.15g", c->d);
    else {
        n = c->n < size - 1 ? c->n : size - 1;
        memcpy(buf, c->p ? c->p : "", n);
        buf[n] = '\0';
    }
    return buf;
}

static long long cell_int(const struct cell *c)
{
    char buf[64];

    if (c->type == C_INT)
        return c->i;
    if (c->type == C_REAL)
        return llround(c->d);
    return c->type == C_BYTES ? strtoll(cell_cstr(c, buf, sizeof buf), NULL, 10)
                              : 0;
}

static json_t *hex_string(const char *prefix, const void *p, size_t n)
{
    const unsigned char *b = p;
    struct sbuf hex;
    json_t *j;

    sbuf_init(&hex);
    sbuf_adds(&hex, prefix);
    for (size_t i = 0; i < n; i++)
        sbuf_addf(&hex, "%02x", b[i]);
    if (hex.oom)
        die("out of memory");
    j = json_string(sbuf_str(&hex));
    sbuf_free(&hex);
    return j;
}

/* Text that is not valid UTF-8 cannot be a JSON string: hex it, the same way
 * from both sides. */
static json_t *text_json(const char *p, size_t n)
{
    json_t *j = json_stringn(p, n);

    return j ? j : hex_string("invalid-utf8:", p, n);
}

static json_t *norm_int(const struct cell *c)
{
    return json_integer(cell_int(c));
}

/* Two fraction digits. Through a double: exact for the 15 significant digits
 * of a DECIMAL(12,2), which is what the shop has. */
static json_t *norm_decimal(const struct cell *c)
{
    char buf[64];

    if (c->type == C_INT)
        snprintf(buf, sizeof buf, "%lld.00", c->i);
    else
        snprintf(buf, sizeof buf, "%.2f",
                 c->type == C_REAL ? c->d
                                   : strtod(cell_cstr(c, buf, sizeof buf), NULL));
    return json_string(buf);
}

/* 'YYYY-MM-DD HH:MM:SS.ffffff': an ISO 'T' becomes a space and missing
 * microsecond digits are zeros, as MySQL's DATETIME(6) prints them. */
static json_t *norm_datetime(const struct cell *c)
{
    char buf[64];
    size_t n = strlen(cell_cstr(c, buf, sizeof buf - 8));

    if (n >= 19 && buf[10] == 'T')
        buf[10] = ' ';
    if (n == 19)
        buf[n++] = '.';
    if (n >= 20 && n < 26 && buf[19] == '.') {
        memset(buf + n, '0', 26 - n);
        buf[26] = '\0';
    }
    return text_json(buf, strlen(buf));
}

static json_t *norm_text(const struct cell *c)
{
    char buf[64];

    if (c->type == C_BYTES)
        return text_json(c->p, c->n);
    return json_string(cell_cstr(c, buf, sizeof buf));
}

static json_t *norm_blob(const struct cell *c)
{
    char buf[64];

    if (c->type == C_BYTES)
        return hex_string("", c->p, c->n);
    cell_cstr(c, buf, sizeof buf);
    return hex_string("", buf, strlen(buf));
}

static json_t *(*const NORMALIZE[])(const struct cell *) = {
    [K_INT] = norm_int,       [K_BOOL] = norm_int,  [K_DEC] = norm_decimal,
    [K_TIME] = norm_datetime, [K_TEXT] = norm_text, [K_BLOB] = norm_blob,
};

static json_t *normalize(const struct cell *c, enum kind kind)
{
    json_t *j = c->type == C_NULL ? json_null() : NORMALIZE[kind](c);

    if (!j)
        die("out of memory");
    return j;
}

/* Reading rows */

struct row_read {
    const struct table *t;
    json_t *row;
};

static int take_row(void *ctx, const struct cell *cells, int ncells)
{
    struct row_read *r = ctx;

    r->row = json_object();
    for (int i = 0; i < r->t->ncols && i < ncells; i++)
        json_object_set_new(r->row, r->t->cols[i].name,
                            normalize(&cells[i], r->t->cols[i].kind));
    return 1;
}

/* The row with this key (a JSON array of the key values), normalized, or
 * JSON null when there is none. */
static enum db_status read_row(struct db *db, const struct table *t,
                               const json_t *key, json_t **row)
{
    struct param p[MAX_COLS];
    struct row_read r = {t, NULL};
    enum db_status st;

    for (int k = 0; k < t->nkey; k++) {
        const json_t *v = json_array_get(key, (size_t)k);

        p[k] = json_is_integer(v) ? PINT(json_integer_value(v))
                                  : PTEXT(json_string_value(v));
    }
    st = db->drv->run(db, t->select_sql, p, t->nkey, take_row, &r);
    if (st != DB_OK) {
        json_decref(r.row);
        return st;
    }
    *row = r.row ? r.row : json_null();
    return DB_OK;
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
static enum db_status db_query_ints(struct db *db, const char *sql,
                                    const struct param *p, int np,
                                    long long *out, int max, int *n)
{
    struct int_list l = {out, 0, max};
    enum db_status st = db->drv->run(db, sql, p, np, take_int, &l);

    *n = l.n;
    return st;
}

/* ---- the writer's state ---------------------------------------------------- */

struct pool_user {
    long long id;
    char *username;
};

struct stats {
    long long acknowledged, attempts, fence_errors, busy_errors,
        other_errors, switches, reused_ids;
    double *stalls_ms;
    size_t nstalls, cap;
};

struct writer {
    struct db db;
    const struct db_driver *want;        /* where the next attempt goes */
    const struct db_driver *last_opened; /* to count switches */
    struct conn_opts conn;
    const char *switch_file;
    int record_fd;
    uint64_t rng;
    int consecutive_errors, gave_up;
    /* What we know of the data: scanned at startup, kept by our commits. */
    long long max_order_id, max_product_id;
    long long order_id_floor; /* MAX(id) at startup */
    long long *inserted_ids;  /* sorted: ids our inserts got */
    size_t ninserted, inserted_cap;
    long long customers[1000]; /* users with orders: new orders go to them */
    int ncustomers;
    /* Users without orders: only they can be replaced away without breaking
     * a foreign key (MySQL REPLACE deletes the old row). */
    struct pool_user pool[100];
    int npool;
    char **sessions;
    size_t nsessions, sessions_cap;
    struct stats stats;
};

/* One attempt's rows and what our knowledge learns if it commits. */
struct touch {
    const struct table *t;
    json_t *key, *row;
};

struct txn {
    struct touch touched[MAX_TOUCHED];
    int ntouched;
    long long new_order_id;
    char added_session[SESSION_KEY_LEN + 1];
    char removed_session[SESSION_KEY_LEN + 1];
    int replaced_slot; /* pool slot whose user was replaced, or -1 */
    long long replacement_id;
};

static void txn_reset(struct txn *x)
{
    for (int i = 0; i < x->ntouched; i++) {
        json_decref(x->touched[i].key);
        json_decref(x->touched[i].row);
    }
    memset(x, 0, sizeof *x);
    x->replaced_slot = -1;
}

/* Takes the reference to key. */
static void touch(struct txn *x, const struct table *t, json_t *key)
{
    if (x->ntouched == MAX_TOUCHED)
        die("more than %d rows in one transaction", MAX_TOUCHED);
    x->touched[x->ntouched++] = (struct touch){t, key, NULL};
}

static json_t *key_int(long long id) { return json_pack("[I]", (json_int_t)id); }

static json_t *key_pair(long long a, long long b)
{
    return json_pack("[II]", (json_int_t)a, (json_int_t)b);
}

static json_t *key_text(const char *s) { return json_pack("[s]", s); }

/* Returns 1 when id was there already. */
static int ids_insert(struct writer *w, long long id)
{
    size_t lo = 0, hi = w->ninserted;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (w->inserted_ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < w->ninserted && w->inserted_ids[lo] == id)
        return 1;
    w->inserted_ids = grow(w->inserted_ids, &w->inserted_cap, w->ninserted + 1,
                           sizeof *w->inserted_ids);
    memmove(&w->inserted_ids[lo + 1], &w->inserted_ids[lo],
            (w->ninserted - lo) * sizeof *w->inserted_ids);
    w->inserted_ids[lo] = id;
    w->ninserted++;
    return 0;
}

static void sessions_add(struct writer *w, const char *key)
{
    w->sessions = grow(w->sessions, &w->sessions_cap, w->nsessions + 1,
                       sizeof *w->sessions);
    if (!(w->sessions[w->nsessions++] = strdup(key)))
        die("out of memory");
}

static void sessions_remove(struct writer *w, const char *key)
{
    for (size_t i = 0; i < w->nsessions; i++)
        if (strcmp(w->sessions[i], key) == 0) {
            free(w->sessions[i]);
            w->sessions[i] = w->sessions[--w->nsessions];
            return;
        }
}

static void writer_free(struct writer *w)
{
    db_close(&w->db);
    for (size_t i = 0; i < w->nsessions; i++)
        free(w->sessions[i]);
    for (int i = 0; i < w->npool; i++)
        free(w->pool[i].username);
    free(w->sessions);
    free(w->inserted_ids);
    free(w->stats.stalls_ms);
}

/* ---- random values ------------------------------------------------------- */

static const char *const GREEK[] = {"Αθήνα", "Θεσσαλονίκη", "Πάτρα", "Ηράκλειο",
                                    "Λάρισα", "Βόλος", "Χανιά", "Ρόδος"};
static const char *const WORDS[] = {"ελιές", "μέλι", "φέτα", "λάδι", "κρασί",
                                    "olive", "honey", "cheese", "wine", "tea"};
static const char *const EMOJI[] = {"😀", "🫒", "🍯", "🧀", "🍷", "🚚", "✨"};
static const char *const STATUSES[] = {"new", "paid", "shipped", "delivered",
                                       "cancelled"};

static long long rng_below(struct writer *w, long long n)
{
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL); /* splitmix64 */

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return n > 0 ? (long long)(z % (uint64_t)n) : 0;
}

#define rng_pick(w, list) ((list)[rng_below((w), COUNT(list))])

static void make_decimal(struct writer *w, char *buf, size_t size,
                         long long max_cents)
{
    long long cents = 1 + rng_below(w, max_cents);

    snprintf(buf, size, "%lld.%02lld", cents / 100, cents % 100);
}

/* Now (UTC) plus some days, with microseconds, the way Django writes it. */
static void make_datetime(char *buf, size_t size, int days_ahead)
{
    struct timespec ts;
    struct tm tm;
    time_t t;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    t = ts.tv_sec + (time_t)days_ahead * 86400;
    gmtime_r(&t, &tm);
    n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%06ld", ts.tv_nsec / 1000);
}

static void make_text(struct writer *w, char *buf, size_t size)
{
    snprintf(buf, size, "%s %s, %s %s", rng_pick(w, WORDS), rng_pick(w, WORDS),
             rng_pick(w, GREEK), rng_pick(w, EMOJI));
}

static void make_session_key(struct writer *w, char *key)
{
    for (int i = 0; i < SESSION_KEY_LEN; i++)
        key[i] = "0123456789abcdef"[rng_below(w, 16)];
    key[SESSION_KEY_LEN] = '\0';
}

/* ---- picking existing rows ------------------------------------------------ */

#define SEEK_ORDER "SELECT id FROM shop_order WHERE id >= ? ORDER BY id LIMIT 1"
#define SEEK_PRODUCT \
    "SELECT id FROM shop_product WHERE id >= ? ORDER BY id LIMIT 1"
#define SEEK_ORDER_WITH_ITEMS \
    "SELECT order_id FROM shop_orderitem WHERE order_id >= ? " \
    "ORDER BY order_id LIMIT 1"

/* A random existing id: the first at or after a random point in 1..max,
 * wrapping to the start. Sets 0 when the table is empty. Asking the database
 * rather than remembering keeps it right whoever else deletes rows. */
static enum db_status pick_id(struct writer *w, const char *seek_sql,
                              long long max, long long *id)
{
    enum db_status st;
    int n;

    st = db_query_ints(&w->db, seek_sql, &PINT(1 + rng_below(w, max)), 1, id,
                       1, &n);
    if (st == DB_OK && n == 0)
        st = db_query_ints(&w->db, seek_sql, &PINT(0), 1, id, 1, &n);
    if (n == 0)
        *id = 0;
    return st;
}

static int contains(const long long *v, int n, long long x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

/* An existing product not in taken, or 0 if a few tries find none. */
static enum db_status pick_other_product(struct writer *w,
                                         const long long *taken, int ntaken,
                                         long long *id)
{
    enum db_status st = DB_OK;

    for (int tries = 0; tries < 8 && st == DB_OK; tries++) {
        st = pick_id(w, SEEK_PRODUCT, w->max_product_id, id);
        if (*id == 0 || !contains(taken, ntaken, *id))
            return st;
    }
    *id = 0;
    return st;
}

static enum db_status order_products(struct writer *w, long long order_id,
                                     long long *product_ids, int *n)
{
    return db_query_ints(&w->db,
                         "SELECT product_id FROM shop_orderitem "
                         "WHERE order_id = ? ORDER BY product_id",
                         &PINT(order_id), 1, product_ids, MAX_ITEMS, n);
}

/* ---- operations: each writes one transaction's worth and touch()es every
 * row it changed, created or removed. Touching nothing means nothing to act
 * on (an empty table): the transaction is rolled back and not counted. ---- */

static enum db_status add_items(struct writer *w, struct txn *x,
                                long long order_id, int want)
{
    long long chosen[3], product;
    char price[32];
    enum db_status st;

    for (int n = 0; n < want && n < COUNT(chosen); n++) {
        st = pick_other_product(w, chosen, n, &product);
        if (st != DB_OK || product == 0)
            return st;
        make_decimal(w, price, sizeof price, 99999);
        st = db_exec(&w->db,
                     "INSERT INTO shop_orderitem (order_id, product_id, "
                     "quantity, unit_price) VALUES (?, ?, ?, ?)",
                     (struct param[]){PINT(order_id), PINT(product),
                                      PINT(1 + rng_below(w, 5)), PTEXT(price)},
                     4);
        if (st != DB_OK)
            return st;
        chosen[n] = product;
        touch(x, &items, key_pair(order_id, product));
    }
    return DB_OK;
}

static enum db_status op_insert_order(struct writer *w, struct txn *x)
{
    char total[32], now[32], note[256];
    enum db_status st;

    if (w->ncustomers == 0)
        return DB_OK;
    make_decimal(w, total, sizeof total, 200000);
    make_datetime(now, sizeof now, 0);
    make_text(w, note, sizeof note);
    st = db_exec(&w->db,
                 "INSERT INTO shop_order (user_id, status, total, is_paid, "
                 "note, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (struct param[]){PINT(w->customers[rng_below(w, w->ncustomers)]),
                                  PTEXT(rng_pick(w, STATUSES)), PTEXT(total),
                                  PINT(rng_below(w, 2)),
                                  rng_below(w, 3) ? PNULL : PTEXT(note),
                                  PTEXT(now), PTEXT(now)},
                 7);
    if (st != DB_OK)
        return st;
    x->new_order_id = w->db.drv->last_insert_id(&w->db);
    touch(x, &orders, key_int(x->new_order_id));
    return add_items(w, x, x->new_order_id, 1 + (int)rng_below(w, 3));
}

static enum db_status op_update_order(struct writer *w, struct txn *x)
{
    char total[32], now[32];
    long long id;
    enum db_status st = pick_id(w, SEEK_ORDER, w->max_order_id, &id);

    if (st != DB_OK || id == 0)
        return st;
    make_decimal(w, total, sizeof total, 200000);
    make_datetime(now, sizeof now, 0);
    st = db_exec(&w->db,
                 "UPDATE shop_order SET status = ?, total = ?, is_paid = ?, "
                 "updated_at = ? WHERE id = ?",
                 (struct param[]){PTEXT(rng_pick(w, STATUSES)), PTEXT(total),
                                  PINT(rng_below(w, 2)), PTEXT(now), PINT(id)},
                 5);
    if (st == DB_OK)
        touch(x, &orders, key_int(id));
    return st;
}

static enum db_status op_delete_order(struct writer *w, struct txn *x)
{
    long long id, product_ids[MAX_ITEMS];
    int n;
    enum db_status st = pick_id(w, SEEK_ORDER, w->max_order_id, &id);

    if (st != DB_OK || id == 0)
        return st;
    if ((st = order_products(w, id, product_ids, &n)) != DB_OK)
        return st;
    /* items first: they reference the order */
    st = db_exec(&w->db, "DELETE FROM shop_orderitem WHERE order_id = ?",
                 &PINT(id), 1);
    if (st == DB_OK)
        st = db_exec(&w->db, "DELETE FROM shop_order WHERE id = ?", &PINT(id), 1);
    if (st != DB_OK)
        return st;
    touch(x, &orders, key_int(id));
    for (int i = 0; i < n; i++)
        touch(x, &items, key_pair(id, product_ids[i]));
    return DB_OK;
}

static enum db_status op_update_product(struct writer *w, struct txn *x)
{
    char price[32];
    long long id;
    enum db_status st = pick_id(w, SEEK_PRODUCT, w->max_product_id, &id);

    if (st != DB_OK || id == 0)
        return st;
    make_decimal(w, price, sizeof price, 99999);
    st = db_exec(&w->db, "UPDATE shop_product SET price = ?, stock = ? WHERE id = ?",
                 (struct param[]){PTEXT(price), PINT(rng_below(w, 500)), PINT(id)},
                 3);
    if (st == DB_OK)
        touch(x, &products, key_int(id));
    return st;
}

static enum db_status op_insert_session(struct writer *w, struct txn *x)
{
    char key[SESSION_KEY_LEN + 1], data[256], text[200], expire[32];
    enum db_status st;

    make_session_key(w, key);
    make_text(w, text, sizeof text);
    snprintf(data, sizeof data, "e30:%s", text);
    make_datetime(expire, sizeof expire, 14);
    st = db_exec(&w->db,
                 "INSERT INTO django_session (session_key, session_data, "
                 "expire_date) VALUES (?, ?, ?)",
                 (struct param[]){PTEXT(key), PTEXT(data), PTEXT(expire)}, 3);
    if (st != DB_OK)
        return st;
    strcpy(x->added_session, key);
    touch(x, &sessions, key_text(key));
    return DB_OK;
}

/* A session key we know, or NULL. */
static const char *some_session(struct writer *w)
{
    return w->nsessions
               ? w->sessions[rng_below(w, (long long)w->nsessions)]
               : NULL;
}

static enum db_status op_update_session(struct writer *w, struct txn *x)
{
    char data[256], text[200], expire[32];
    const char *key = some_session(w);
    enum db_status st;

    if (!key)
        return DB_OK;
    make_text(w, text, sizeof text);
    snprintf(data, sizeof data, "e30:%s", text);
    make_datetime(expire, sizeof expire, 14);
    st = db_exec(&w->db,
                 "UPDATE django_session SET session_data = ?, expire_date = ? "
                 "WHERE session_key = ?",
                 (struct param[]){PTEXT(data), PTEXT(expire), PTEXT(key)}, 3);
    if (st == DB_OK)
        touch(x, &sessions, key_text(key));
    return st;
}

static enum db_status op_delete_session(struct writer *w, struct txn *x)
{
    const char *key = some_session(w);
    enum db_status st;

    if (!key)
        return DB_OK;
    st = db_exec(&w->db, "DELETE FROM django_session WHERE session_key = ?",
                 &PTEXT(key), 1);
    if (st != DB_OK)
        return st;
    snprintf(x->removed_session, sizeof x->removed_session, "%s", key);
    touch(x, &sessions, key_text(key));
    return DB_OK;
}

/* A primary key change on a text key: capture must log old and new key. */
static enum db_status op_change_session_key(struct writer *w, struct txn *x)
{
    char new_key[SESSION_KEY_LEN + 1];
    const char *old_key = some_session(w);
    enum db_status st;

    if (!old_key)
        return DB_OK;
    make_session_key(w, new_key);
    st = db_exec(&w->db,
                 "UPDATE django_session SET session_key = ? WHERE session_key = ?",
                 (struct param[]){PTEXT(new_key), PTEXT(old_key)}, 2);
    if (st != DB_OK)
        return st;
    snprintf(x->removed_session, sizeof x->removed_session, "%s", old_key);
    strcpy(x->added_session, new_key);
    touch(x, &sessions, key_text(old_key));
    touch(x, &sessions, key_text(new_key));
    return DB_OK;
}

/* A primary key change on a composite key. */
static enum db_status op_change_item_key(struct writer *w, struct txn *x)
{
    long long order_id, product_ids[MAX_ITEMS], old_product, new_product;
    int n;
    enum db_status st;

    st = pick_id(w, SEEK_ORDER_WITH_ITEMS, w->max_order_id, &order_id);
    if (st != DB_OK || order_id == 0)
        return st;
    st = order_products(w, order_id, product_ids, &n);
    if (st != DB_OK || n == 0)
        return st;
    old_product = product_ids[rng_below(w, n)];
    st = pick_other_product(w, product_ids, n, &new_product);
    if (st != DB_OK || new_product == 0)
        return st;
    st = db_exec(&w->db,
                 "UPDATE shop_orderitem SET product_id = ? "
                 "WHERE order_id = ? AND product_id = ?",
                 (struct param[]){PINT(new_product), PINT(order_id),
                                  PINT(old_product)},
                 3);
    if (st != DB_OK)
        return st;
    touch(x, &items, key_pair(order_id, old_product));
    touch(x, &items, key_pair(order_id, new_product));
    return DB_OK;
}

/* A new user taking the username of an existing one: the REPLACE deletes
 * that other row through the secondary UNIQUE index, which fires no DELETE
 * trigger on SQLite (DESIGN §5, change capture hazards). */
static enum db_status op_replace_user(struct writer *w, struct txn *x)
{
    char sql[256], name[128], now[32];
    enum db_status st;
    int slot;

    if (w->npool == 0)
        return DB_OK;
    slot = (int)rng_below(w, w->npool);
    snprintf(sql, sizeof sql,
             "%s INTO auth_user (username, email, first_name, is_staff, "
             "is_active, date_joined, last_login) VALUES (?, ?, ?, ?, ?, ?, ?)",
             w->db.drv->replace_verb);
    snprintf(name, sizeof name, "%s %s", rng_pick(w, GREEK), rng_pick(w, EMOJI));
    make_datetime(now, sizeof now, 0);
    st = db_exec(&w->db, sql,
                 (struct param[]){PTEXT(w->pool[slot].username),
                                  PTEXT("replaced@example.gr"), PTEXT(name),
                                  PINT(0), PINT(1), PTEXT(now),
                                  rng_below(w, 2) ? PNULL : PTEXT(now)},
                 7);
    if (st != DB_OK)
        return st;
    x->replaced_slot = slot;
    x->replacement_id = w->db.drv->last_insert_id(&w->db);
    touch(x, &users, key_int(x->replacement_id));
    touch(x, &users, key_int(w->pool[slot].id));
    return DB_OK;
}

typedef enum db_status (*op_fn)(struct writer *w, struct txn *x);

static const struct op {
    const char *name;
    int weight;
    op_fn run;
} OPS[] = {
    {"insert_order", 30, op_insert_order},
    {"update_order", 20, op_update_order},
    {"delete_order", 5, op_delete_order},
    {"update_product", 10, op_update_product},
    {"insert_session", 8, op_insert_session},
    {"update_session", 8, op_update_session},
    {"delete_session", 4, op_delete_session},
    {"change_item_key", 5, op_change_item_key},
    {"change_session_key", 5, op_change_session_key},
    {"replace_user", 5, op_replace_user},
};

static const struct op *choose_op(struct writer *w)
{
    int total = 0, r;

    for (int i = 0; i < COUNT(OPS); i++)
        total += OPS[i].weight;
    r = (int)rng_below(w, total);
    for (int i = 0; i < COUNT(OPS); i++)
        if ((r -= OPS[i].weight) < 0)
            return &OPS[i];
    return &OPS[0];
}

/* ---- the record ------------------------------------------------------------ */

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            say("cannot write the record: %s", strerror(errno));
            exit(1); /* without the record the run proves nothing */
        }
        p += k;
        n -= (size_t)k;
    }
}

/* One write(2) per commit on an O_APPEND descriptor: the lines are in the
 * kernel the moment they are written, so they survive a crash of the writer
 * or of anything else short of the machine. */
static void record_commit(int fd, long long n, const struct txn *x)
{
    struct sbuf lines;

    sbuf_init(&lines);
    for (int i = 0; i < x->ntouched; i++) {
        const struct touch *tc = &x->touched[i];
        json_t *line = json_pack("{s:I, s:s, s:O, s:O}", "n", (json_int_t)n,
                                 "table", tc->t->name, "key", tc->key, "row",
                                 tc->row);
        char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;

        if (!text)
            die("out of memory");
        sbuf_adds(&lines, text);
        sbuf_addc(&lines, '\n');
        free(text);
        json_decref(line);
    }
    if (lines.oom)
        die("out of memory");
    write_all(fd, lines.p, lines.len);
    sbuf_free(&lines);
}

/* ---- running operations --------------------------------------------------- */

/* The backend the switch file names; sqlite when there is no file, NULL
 * when its content is neither (empty: caught mid-write). */
static const struct db_driver *switch_file_backend(const char *path)
{
    char buf[64] = "", *s = buf, *end;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return errno == ENOENT ? &sqlite_driver : NULL;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    end = s + strcspn(s, " \t\r\n");
    *end = '\0';
    return driver_by_name(s);
}

static enum db_status ensure_open(struct writer *w)
{
    if (w->db.handle)
        return DB_OK;
    if (db_open(&w->db, w->want, &w->conn) != DB_OK)
        return DB_ERROR;
    if (w->last_opened && w->last_opened != w->want) {
        w->stats.switches++;
        say("writes now go to %s", w->want->name);
    }
    w->last_opened = w->want;
    return DB_OK;
}

/* Read back every touched row inside the transaction: the state COMMIT
 * makes durable, and so what the record promises. */
static enum db_status read_back(struct writer *w, struct txn *x)
{
    for (int i = 0; i < x->ntouched; i++) {
        enum db_status st = read_row(&w->db, x->touched[i].t, x->touched[i].key,
                                     &x->touched[i].row);

        if (st != DB_OK)
            return st;
    }
    return DB_OK;
}

/* One transaction. DB_OK when it committed or had nothing to do (then
 * x->ntouched is 0); otherwise rolled back, and w->db.err says why. */
static enum db_status attempt(struct writer *w, const struct op *op,
                              struct txn *x)
{
    enum db_status st;

    txn_reset(x);
    if ((st = ensure_open(w)) != DB_OK)
        return st;
    w->stats.attempts++;
    st = db_begin(&w->db);
    if (st == DB_OK)
        st = op->run(w, x);
    if (st == DB_OK && x->ntouched == 0) {
        db_rollback(&w->db);
        return DB_OK;
    }
    if (st == DB_OK)
        st = read_back(w, x);
    if (st == DB_OK)
        st = db_commit(&w->db);
    if (st != DB_OK)
        db_rollback(&w->db);
    return st;
}

/* What our knowledge of the data learns from a commit. */
static void learn(struct writer *w, const struct txn *x)
{
    if (x->new_order_id) {
        /* AUTOINCREMENT and AUTO_INCREMENT never go back; a cutover that
         * does not carry the counter over hands out deleted ids again. */
        if (x->new_order_id <= w->order_id_floor ||
            ids_insert(w, x->new_order_id)) {
            w->stats.reused_ids++;
            say("order id %lld handed out again", x->new_order_id);
        }
        if (x->new_order_id > w->max_order_id)
            w->max_order_id = x->new_order_id;
    }
    if (x->removed_session[0])
        sessions_remove(w, x->removed_session);
    if (x->added_session[0])
        sessions_add(w, x->added_session);
    if (x->replaced_slot >= 0)
        w->pool[x->replaced_slot].id = x->replacement_id;
}

static void acknowledge(struct writer *w, const struct txn *x, double stall_ms)
{
    struct stats *s = &w->stats;

    record_commit(w->record_fd, ++s->acknowledged, x);
    learn(w, x);
    s->stalls_ms = grow(s->stalls_ms, &s->cap, s->nstalls + 1,
                        sizeof *s->stalls_ms);
    s->stalls_ms[s->nstalls++] = stall_ms;
}

/* Fenced: a cutover (or its rollback) moved the writes. Wait for the switch
 * file to name the other side and go there. If it still names this side
 * after FENCE_RECHECK_MS, retry here: a cutover that backs off removes its
 * fence without switching. */
static void follow_switch_file(struct writer *w)
{
    double until = now_ms() + FENCE_RECHECK_MS;

    while (!stop_requested && now_ms() < until) {
        const struct db_driver *named = switch_file_backend(w->switch_file);

        if (named && named != w->want) {
            db_close(&w->db);
            w->want = named;
            return;
        }
        sleep_ms(SWITCH_POLL_MS);
    }
}

static void note_other_error(struct writer *w, const struct op *op)
{
    w->stats.other_errors++;
    say("%s on %s: %s", op->name, w->want->name, w->db.err);
    if (++w->consecutive_errors >= MAX_CONSECUTIVE_ERRORS) {
        say("giving up after %d failures in a row", w->consecutive_errors);
        w->gave_up = 1;
        return;
    }
    db_close(&w->db); /* the error may have been the connection's */
    sleep_ms(ERROR_RETRY_MS);
}

/* Count a failed attempt and get ready for the next. Returns 0 to abandon
 * the operation, unacknowledged: the writer is stopping. */
static int recover(struct writer *w, const struct op *op, enum db_status st)
{
    if (st == DB_BUSY)
        w->stats.busy_errors++;
    else if (st == DB_FENCE) {
        w->stats.fence_errors++;
        follow_switch_file(w);
    } else
        note_other_error(w, op);
    return !stop_requested && !w->gave_up;
}

/* One operation, retried until acknowledged as an application that must not
 * drop a request would. Its stall runs from the first attempt to the ack:
 * lock waits and backend switches included. */
static void run_operation(struct writer *w, const struct op *op)
{
    double first = now_ms();
    enum db_status st;
    struct txn x = {.replaced_slot = -1};

    while ((st = attempt(w, op, &x)) != DB_OK && recover(w, op, st))
        ;
    if (st == DB_OK) {
        w->consecutive_errors = 0;
        if (x.ntouched)
            acknowledge(w, &x, now_ms() - first);
    }
    txn_reset(&x);
}

/* ---- startup: what the database holds ------------------------------------- */

static int take_pool_user(void *ctx, const struct cell *cells, int ncells)
{
    struct writer *w = ctx;
    char name[256];

    (void)ncells;
    w->pool[w->npool].id = cell_int(&cells[0]);
    if (!(w->pool[w->npool].username = strdup(cell_cstr(&cells[1], name,
                                                        sizeof name))))
        die("out of memory");
    return ++w->npool == COUNT(w->pool);
}

static int take_session(void *ctx, const struct cell *cells, int ncells)
{
    struct writer *w = ctx;
    char key[SESSION_KEY_LEN + 2];

    (void)ncells;
    if (cells[0].type == C_BYTES && cells[0].n <= SESSION_KEY_LEN)
        sessions_add(w, cell_cstr(&cells[0], key, sizeof key));
    return 0;
}

static enum db_status load_knowledge(struct writer *w)
{
    struct db *db = &w->db;
    enum db_status st;
    int n;

    st = db_query_ints(db, "SELECT MAX(id) FROM shop_order", NULL, 0,
                       &w->max_order_id, 1, &n);
    w->order_id_floor = w->max_order_id;
    if (st == DB_OK)
        st = db_query_ints(db, "SELECT MAX(id) FROM shop_product", NULL, 0,
                           &w->max_product_id, 1, &n);
    if (st == DB_OK)
        st = db_query_ints(db,
                           "SELECT DISTINCT user_id FROM shop_order "
                           "ORDER BY user_id LIMIT 1000",
                           NULL, 0, w->customers, COUNT(w->customers),
                           &w->ncustomers);
    if (st == DB_OK)
        st = db->drv->run(db,
                          "SELECT id, username FROM auth_user WHERE NOT EXISTS "
                          "(SELECT 1 FROM shop_order o WHERE o.user_id = "
                          "auth_user.id) ORDER BY id LIMIT 100",
                          NULL, 0, take_pool_user, w);
    if (st == DB_OK)
        st = db->drv->run(db,
                          "SELECT session_key FROM django_session "
                          "ORDER BY session_key LIMIT 5000",
                          NULL, 0, take_session, w);
    return st;
}

/* ---- commands --------------------------------------------------------------- */

struct options {
    const char *sqlite, *switch_file, *record;
    struct conn_opts conn;
    double rate, duration_s;
    unsigned long long seed;
    int seed_given;
};

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void catch_stop_signals(void)
{
    struct sigaction sa = {0};

    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* database reads must not fail on EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Nearest rank; the stalls must be sorted. */
static double percentile(const struct stats *s, double q)
{
    size_t rank = (size_t)ceil(q * (double)s->nstalls);

    return s->nstalls ? s->stalls_ms[rank ? rank - 1 : 0] : 0;
}

static double round3(double x) { return round(x * 1000) / 1000; }

static void print_summary(struct writer *w, double elapsed_s)
{
    struct stats *s = &w->stats;
    json_t *j;
    char *text;

    qsort(s->stalls_ms, s->nstalls, sizeof *s->stalls_ms, compare_doubles);
    j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:f, s:f, s:f, s:f, "
                  "s:I}",
                  "acknowledged", (json_int_t)s->acknowledged,
                  "attempts", (json_int_t)s->attempts,
                  "fence_errors", (json_int_t)s->fence_errors,
                  "busy_errors", (json_int_t)s->busy_errors,
                  "other_errors", (json_int_t)s->other_errors,
                  "switches", (json_int_t)s->switches,
                  "backend", w->want->name,
                  "writes_per_s",
                  round3(elapsed_s > 0 ? s->acknowledged / elapsed_s : 0),
                  "longest_stall_ms",
                  round3(s->nstalls ? s->stalls_ms[s->nstalls - 1] : 0),
                  "p99_stall_ms", round3(percentile(s, 0.99)),
                  "p50_stall_ms", round3(percentile(s, 0.50)),
                  "reused_ids", (json_int_t)s->reused_ids);
    text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    if (!text)
        die("out of memory");
    puts(text);
    fflush(stdout);
    free(text);
    json_decref(j);
}

/* Open-loop pacing: transaction i is due at start + i / rate whatever the
 * previous ones took, so a stall is followed by the backlog, as requests
 * queued at a real application would be. */
static void pace(struct writer *w, double rate, double duration_s)
{
    double start = now_ms(), end = start + duration_s * 1000;

    for (long long i = 0; !stop_requested && !w->gave_up; i++) {
        double due = start + (double)i * 1000 / rate;

        if (duration_s > 0 && due >= end)
            break;
        while (!stop_requested && now_ms() < due)
            sleep_until_ms(due);
        if (!stop_requested)
            run_operation(w, choose_op(w));
    }
    print_summary(w, (now_ms() - start) / 1000);
}

static int cmd_run(const struct options *o)
{
    struct writer w = {.conn = o->conn, .switch_file = o->switch_file};

    w.want = switch_file_backend(o->switch_file);
    if (!w.want)
        die("%s names neither sqlite nor mysql", o->switch_file);
    w.rng = o->seed_given ? o->seed
                          : (unsigned long long)time(NULL) ^ (unsigned long long)getpid() << 32;
    say("writing to %s at %g transactions/s, seed %llu", w.want->name, o->rate,
        (unsigned long long)w.rng);
    w.record_fd = open(o->record, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (w.record_fd < 0)
        die("%s: %s", o->record, strerror(errno));
    if (ensure_open(&w) != DB_OK || load_knowledge(&w) != DB_OK)
        die("%s: %s", w.want->name, w.db.err);
    catch_stop_signals();
    pace(&w, o->rate, o->duration_s);
    fdatasync(w.record_fd);
    close(w.record_fd);
    writer_free(&w);
    return w.gave_up ? 1 : 0;
}

/* The expected final state: for each table and key, its line (table, key,
 * row) from the last line that touched it. A torn last line (the writer
 * killed in mid-write) is skipped. NULL after saying why. */
static json_t *record_replay(const char *path)
{
    json_t *expected = json_object();
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (!f) {
        say("%s: %s", path, strerror(errno));
        return NULL;
    }
    for (long lineno = 1; (n = getline(&line, &cap, f)) > 0; lineno++) {
        json_t *rec, *key;
        const struct table *t;
        json_error_t err;
        char *id, *key_json;

        if (line[n - 1] != '\n') {
            say("%s:%ld: ignoring a torn last line", path, lineno);
            break;
        }
        if (n == 1)
            continue;
        rec = json_loads(line, 0, &err);
        t = table_by_name(json_string_value(json_object_get(rec, "table")));
        key = json_object_get(rec, "key");
        if (!t || json_array_size(key) != (size_t)t->nkey ||
            !json_object_get(rec, "row")) {
            say("%s:%ld: not a record line: %s", path, lineno,
                rec ? "no table, key or row" : err.text);
            json_decref(rec);
            json_decref(expected);
            expected = NULL;
            break;
        }
        key_json = json_dumps(key, JSON_COMPACT);
        if (!key_json || asprintf(&id, "%s %s", t->name, key_json) < 0)
            die("out of memory");
        json_object_del(expected, id); /* keep the order of the last touch */
        json_object_set_new(expected, id, rec);
        free(id);
        free(key_json);
    }
    free(line);
    fclose(f);
    return expected;
}

struct tally {
    long long keys, lost, unexpected, different;
};

/* "lost shop_order [12] (commit 7):" then, for a row that differs, the
 * columns that do, then both rows. */
static void show_difference(const char *what, const json_t *rec,
                            const json_t *want, const json_t *found)
{
    char *key = json_dumps(json_object_get(rec, "key"), JSON_COMPACT);
    char *a = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
    char *b = json_dumps(found, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *table = json_string_value(json_object_get(rec, "table"));
    const char *column;
    json_t *value;

    fprintf(stderr, "%s %s %s (commit %lld)", what, table, key,
            (long long)json_integer_value(json_object_get(rec, "n")));
    json_object_foreach((json_t *)want, column, value)
        if (json_is_object(found) &&
            !json_equal(value, json_object_get(found, column)))
            fprintf(stderr, " %s", column);
    fprintf(stderr, ":\n  expected %s\n  found    %s\n", a, b);
    free(key);
    free(a);
    free(b);
}

static void check_key(struct db *db, const json_t *rec, struct tally *tally)
{
    const struct table *t =
        table_by_name(json_string_value(json_object_get(rec, "table")));
    const json_t *want = json_object_get(rec, "row");
    const char *what;
    json_t *found;

    if (read_row(db, t, json_object_get(rec, "key"), &found) != DB_OK)
        die("reading %s: %s", t->name, db->err);
    tally->keys++;
    if (!json_equal((json_t *)want, found)) {
        if (json_is_null(found)) {
            what = "lost";
            tally->lost++;
        } else if (json_is_null(want)) {
            what = "unexpected";
            tally->unexpected++;
        } else {
            what = "different";
            tally->different++;
        }
        if (tally->lost + tally->unexpected + tally->different <= MAX_EXAMPLES)
            show_difference(what, rec, want, found);
    }
    json_decref(found);
}

static int cmd_check(const struct options *o)
{
    struct tally tally = {0};
    struct db db = {0};
    json_t *expected = record_replay(o->record), *rec;
    const char *id;

    if (!expected)
        return 2;
    if (db_open(&db, o->sqlite ? &sqlite_driver : &mysql_driver, &o->conn) !=
        DB_OK)
        die("%s: %s", db.drv->name, db.err);
    json_object_foreach(expected, id, rec)
        check_key(&db, rec, &tally);
    printf("{\"keys\": %lld, \"lost\": %lld, \"unexpected\": %lld, "
           "\"different\": %lld}\n",
           tally.keys, tally.lost, tally.unexpected, tally.different);
    db_close(&db);
    json_decref(expected);
    return tally.lost || tally.unexpected || tally.different ? 1 : 0;
}

/* ---- command line ------------------------------------------------------------ */

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
    fputs("usage: writer run --sqlite PATH --switch-file FILE --record FILE "
          "--rate TXN_PER_S\n"
          "                  [--mysql-socket SOCK --mysql-db DB] [--user root]\n"
          "                  [--duration S] [--busy-timeout-ms 10000] "
          "[--seed N]\n"
          "       writer check --record FILE (--sqlite PATH | "
          "--mysql-socket SOCK --mysql-db DB)\n",
          stderr);
    exit(2);
}

static double number(const char *s, const char *option)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end || v < 0)
        die("--%s: not a number: %s", option, s);
    return v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"sqlite", 1, NULL, 's'},       {"mysql-socket", 1, NULL, 'S'},
        {"mysql-db", 1, NULL, 'D'},     {"user", 1, NULL, 'u'},
        {"switch-file", 1, NULL, 'f'},  {"record", 1, NULL, 'r'},
        {"rate", 1, NULL, 'R'},         {"duration", 1, NULL, 'd'},
        {"busy-timeout-ms", 1, NULL, 'b'}, {"seed", 1, NULL, 'x'},
        {NULL, 0, NULL, 0}};
    int c, i;

    *o = (struct options){.conn = {.mysql_user = "root",
                                   .busy_timeout_ms = 10000}};
    while ((c = getopt_long(argc, argv, "", longopts, &i)) != -1) {
        switch (c) {
        case 's': o->sqlite = o->conn.sqlite_path = optarg; break;
        case 'S': o->conn.mysql_socket = optarg; break;
        case 'D': o->conn.mysql_db = optarg; break;
        case 'u': o->conn.mysql_user = optarg; break;
        case 'f': o->switch_file = optarg; break;
        case 'r': o->record = optarg; break;
        case 'R': o->rate = number(optarg, "rate"); break;
        case 'd': o->duration_s = number(optarg, "duration"); break;
        case 'b': o->conn.busy_timeout_ms = (int)number(optarg, "busy-timeout-ms"); break;
        case 'x':
            o->seed = (unsigned long long)number(optarg, "seed");
            o->seed_given = 1;
            break;
        default: usage();
        }
    }
    if (optind != argc)
        usage();
}

int main(int argc, char **argv)
{
    struct options o;
    int status;

    if (argc < 2)
        usage();
    parse_options(argc - 1, argv + 1, &o);
    if (strcmp(argv[1], "run") == 0) {
        if (!o.sqlite || !o.switch_file || !o.record || o.rate <= 0)
            usage();
        tables_init();
        status = cmd_run(&o);
    } else if (strcmp(argv[1], "check") == 0) {
        if (!o.record || !o.sqlite == !(o.conn.mysql_socket && o.conn.mysql_db))
            usage();
        tables_init();
        status = cmd_check(&o);
    } else
        usage();
    tables_free();
    return status;
}

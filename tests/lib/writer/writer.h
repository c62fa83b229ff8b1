/*
 * writer.h — private to bin/writer: the types its files share and what each
 * file exports. The tool and its two commands are described in main.c.
 *
 *   main.c       command line
 *   util.c       messages, allocation, the monotonic clock
 *   schema.c     the shop's five tables and the SELECT of a row by key
 *   db.c         struct db over any driver: open, transactions, queries
 *   db_sqlite.c  the SQLite driver     db_mysql.c  the MySQL driver
 *   db_postgresql.c  the PostgreSQL driver
 *   normalize.c  one JSON form for values from any backend; read_row
 *   random.c     the seeded generator and the values it makes
 *   ops.c        the operations, one transaction each, and their mix
 *   knowledge.c  what the writer knows of the data: loaded, then learnt
 *   follow.c     one operation retried until acknowledged, following fences
 *   record.c     the record: a line per touched row, and its replay
 *   run.c        `writer run`: open-loop pacing and the summary
 *   check.c      `writer check`: the record against a database
 *
 * bin/writer is linked with all of cutover's objects (for sbuf), so a name
 * exported here must not be one of theirs, or the link fails: the commands
 * are writer_run and writer_check because cutover has a cmd_run.
 */
#ifndef WRITER_H
#define WRITER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#define MAX_COLS 8
#define MAX_ITEMS 64          /* order items one operation looks at */
#define MAX_TOUCHED (MAX_ITEMS + 2)
#define SESSION_KEY_LEN 40    /* django_session.session_key VARCHAR(40) */
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Set by SIGTERM and SIGINT (run.c): no operation starts after it, and one
 * that fails is abandoned, unacknowledged, instead of retried. */
extern volatile sig_atomic_t stop_requested;

/* ---- util.c -------------------------------------------------------------- */

/* "writer: " and the message on stderr. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define die(...) (say(__VA_ARGS__), exit(2))
/* p with room for need elements of size bytes, *cap updated; dies on OOM. */
void *grow(void *p, size_t *cap, size_t need, size_t size);
double now_ms(void);
/* Returns early when a signal arrives. */
void sleep_until_ms(double t);
void sleep_ms(double ms);

/* ---- schema.c ------------------------------------------------------------ */

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

extern struct table schema_users, schema_products, schema_orders,
    schema_items, schema_sessions;

void tables_init(void);
void tables_free(void);
/* NULL for a name (or NULL) that is none of the five. */
const struct table *table_by_name(const char *name);

/* ---- db.c, db_sqlite.c, db_mysql.c, db_postgresql.c ---------------------- */

/* Both of cutover's fences start with it: "cutover: writes moved to target"
 * on the source, "... moved back to source" on the target. */
#define FENCE_PREFIX "cutover: writes moved"

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

/* A result value as the driver has it; MySQL's and PostgreSQL's text
 * protocols have bytes only. */
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
    /* host: a name, an address or a socket directory, as libpq reads it */
    const char *pg_host, *pg_port, *pg_user, *pg_db, *pg_schema;
    int busy_timeout_ms;
    /* SQLite's PRAGMA synchronous ("full", "normal"); NULL: the library's
     * default (FULL, what Django and Laravel leave it at) */
    const char *sqlite_synchronous;
};

struct db;

struct db_driver {
    const char *name;
    const char *begin_sql;
    /* "REPLACE" on any unique key; NULL: none, delete the holder first */
    const char *replace_verb;
    enum db_status (*open)(struct db *db, const struct conn_opts *o);
    void (*close)(struct db *db);
    enum db_status (*run)(struct db *db, const char *sql,
                          const struct param *p, int np, row_fn fn, void *ctx);
    /* The key the last INSERT into t gave its row (t's first column). */
    enum db_status (*last_insert_id)(struct db *db, const struct table *t,
                                     long long *id);
};

struct db {
    const struct db_driver *drv;
    void *handle; /* sqlite3 *, MYSQL * or PGconn *; NULL when closed */
    char err[512];
};

extern const struct db_driver sqlite_driver, mysql_driver, postgresql_driver;

/* For the drivers: keeps the message and classifies the failure. */
enum db_status db_fail(struct db *db, enum db_status class, const char *fmt,
                       ...) __attribute__((format(printf, 3, 4)));
const struct db_driver *driver_by_name(const char *name);
enum db_status db_open(struct db *db, const struct db_driver *drv,
                       const struct conn_opts *o);
void db_close(struct db *db);
enum db_status db_exec(struct db *db, const char *sql, const struct param *p,
                       int np);
enum db_status db_begin(struct db *db);
enum db_status db_commit(struct db *db);
void db_rollback(struct db *db);
enum db_status db_query_ints(struct db *db, const char *sql,
                             const struct param *p, int np, long long *out,
                             int max, int *n);

/* ---- normalize.c --------------------------------------------------------- */

/* The cell as a C string in buf, cut to size - 1 bytes. */
const char *cell_cstr(const struct cell *c, char *buf, size_t size);
long long cell_int(const struct cell *c);
enum db_status read_row(struct db *db, const struct table *t,
                        const json_t *key, json_t **row);

/* ---- the writer's state -------------------------------------------------- */

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

/* ---- random.c ------------------------------------------------------------ */

/* Uniform in [0, n); 0 when n <= 0. */
long long rng_below(struct writer *w, long long n);
#define rng_pick(w, list) ((list)[rng_below((w), COUNT(list))])
void make_decimal(struct writer *w, char *buf, size_t size,
                  long long max_cents);
void make_datetime(char *buf, size_t size, int days_ahead);
void make_text(struct writer *w, char *buf, size_t size);
void make_name(struct writer *w, char *buf, size_t size);
void make_session_key(struct writer *w, char *key);

/* ---- ops.c --------------------------------------------------------------- */

typedef enum db_status (*op_fn)(struct writer *w, struct txn *x);

struct op {
    const char *name;
    int weight;
    op_fn run;
};

const struct op *choose_op(struct writer *w);
/* Releases the rows of the last attempt and empties x for the next. */
void txn_reset(struct txn *x);

/* ---- knowledge.c, follow.c, record.c ------------------------------------- */

enum db_status load_knowledge(struct writer *w);
void learn(struct writer *w, const struct txn *x);

const struct db_driver *switch_file_backend(const char *path);
enum db_status ensure_open(struct writer *w);
void run_operation(struct writer *w, const struct op *op);

void record_commit(int fd, long long n, const struct txn *x);
json_t *record_replay(const char *path);

/* ---- the commands: run.c, check.c ---------------------------------------- */

struct options {
    const char *sqlite, *switch_file, *record;
    struct conn_opts conn;
    const struct db_driver *target; /* what `check` reads */
    double rate, duration_s;
    unsigned long long seed;
    int seed_given;
};

/* Exit statuses: 0 done, 1 the writer gave up (run) or the database differs
 * from the record (check), 2 anything else (usage, unreadable record...). */
int writer_run(const struct options *o);
int writer_check(const struct options *o);

#endif

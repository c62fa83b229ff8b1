/*
 * mysql_priv.h — internals shared by the MySQL driver's files, the target
 * and the source (a MySQL source's connection is a `struct target` too,
 * marked is_source, so both sides share one session and one set of
 * helpers):
 *   target.c   connection, session, reads, health
 *   triggers.c our triggers and logs on application tables: names, DDL
 *   source*.c  the source driver (source_priv.h)
 *   schema.c   CREATE TABLE / indexes / foreign keys
 *   load.c     LOAD DATA streaming, INSERT fallback, batched writes
 *   capture.c  reverse capture and the rollback fence
 *   owner.c    whose cutover's objects on the target are
 * Only the portable MySQL C API (mysql.h) is used, so the driver builds with
 * MariaDB Connector/C and Oracle's libmysqlclient alike.
 */
#ifndef CO_MYSQL_PRIV_H
#define CO_MYSQL_PRIV_H

#include <mysql.h>

#include "lib/owner.h"
#include "lib/sbuf.h"
#include "sync/drivers/target.h"

/* `cutover --version`: the client library both MySQL drivers are built
 * with (the binlog reader needs MariaDB's mariadb_rpl) */
#define MY_CLIENT_LIBRARY "MariaDB Connector/C " MARIADB_PACKAGE_VERSION

/* How long our statements wait for a table's metadata lock (the session's
 * lock_wait_timeout, seconds). */
#define MY_LOCK_WAIT_S "30"

struct target {
    MYSQL *my;
    const struct runbook *rb;
    int is_source;             /* the connection of a MySQL source */
    char *database;
    char *label;               /* "socket/db" or "host:port/db" for messages */
    int has_owner;             /* set_owner was called (lib/owner.h) */
    char owner[OWNER_ID_LEN + 1];
    int database_missing;      /* the database did not exist at connect:
                                  no current database (plan's questions
                                  name it where they must) */
    int local_infile_ok;       /* -1 unknown, 0 off on the server, 1 on */
    /* The LOAD DATA in progress on this connection, NULL outside one: the
     * only time a file request from the server is answered (load.c) */
    struct infile *infile;
    char infile_refused[320];  /* why the last file request was refused */
    /* batched writes */
    int in_txn;
    const struct table *batch_table;
    struct sbuf batch;
    int batch_rows;
    struct tuple *batch_keys;  /* the key of each row in `batch`, to name
                                  the one the server refuses */
    int batch_keycap;
    /* fetch results */
    MYSQL_RES *res;
    struct value *row;
    int rowcap;
    /* fetch_many results (fetch_many.c): rows until the next call */
    MYSQL_RES *many_res;
    struct value *many_rows;
    int many_cap;
    char server_info[128];
};

struct target_cursor {
    struct target *t;
    MYSQL_RES *res;
    const struct table *tb;
    struct value *row;
};

/* Connect with `c` (the target, a replica or the source) and set up the
 * session; close. */
int my_connect(const struct runbook *rb, const struct rb_conn *c,
               struct target **out, struct co_err *err);
void my_close(struct target *t);
/* "source" or "target", for messages. */
const char *my_role(const struct target *t);

/* Error from the last call on t->my (CO_ETARGET, or CO_ESOURCE on a
 * source; CO_ECONNLOST when the connection is gone), with what we were
 * doing. */
int my_error(struct target *t, struct co_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Run a statement; warnings (notes included) are errors unless allowed. */
int my_exec(struct target *t, const char *sql, struct co_err *err,
            const char *what);
int my_exec_allow_warnings(struct target *t, const char *sql,
                           struct co_err *err, const char *what);
/* The first row's value of `sql` into buf (its second column when there
 * are several, as SHOW STATUS has): 1 with a row, 0 without, or an error. */
int my_query_first(struct target *t, const char *sql, char *buf, size_t cap,
                   struct co_err *err, const char *what);
/* Describe the server's warnings for the last statement (up to cap). */
void my_warnings(struct target *t, char *buf, size_t cap, long *first_row);

/* A MySQL object name derived from prefix + base, at most 64 characters:
 * a longer one keeps the start of base and ends in the first hash_bytes
 * bytes of base's SHA-256, in hex. Migrations started before ownership
 * ids used LEGACY_NAME_HASH_BYTES; their objects keep those names. */
#define NAME_HASH_BYTES 8
#define LEGACY_NAME_HASH_BYTES 4
void my_object_name(char *out, size_t cap, const char *prefix,
                    const char *base, int hash_bytes);
/* Names of table tb's index i and foreign key i on the target. */
void my_index_name(char *out, size_t cap, const struct table *tb, int i,
                   int hash_bytes);
void my_fk_name(char *out, size_t cap, const struct table *tb, int i,
                int hash_bytes);

/* owner.c: ownership (lib/owner.h). The owner's name for its
 * object prefix+table (reverse logs and triggers), and what stands under
 * a name on the target: cutover's triggers and tables there, each with
 * the table it serves and its owner's id (all of them for NULL). */
#define MY_NAME_MAX 64
void my_capture_name(struct target *t, char *out, size_t cap,
                     const char *prefix, const char *table);
int my_objects(struct target *t, const char *name, struct owned_objects *out,
               struct co_err *err);
/* The mark of the owner, for a trigger body or a table comment ("" for a
 * migration from before ids). */
void my_mark(struct target *t, char *out, size_t cap);
int my_is_ours(struct target *t, const struct owned_object *o);
/* " COMMENT = '...'" for the `kind` ("reverse", "change") log of `table`
 * (nothing for a migration from before ids). */
void my_log_comment(struct target *t, struct sbuf *b, const char *kind,
                    const char *table);
/* A table of the runbook's database: `name`, or `db`.`name` while the
 * connection has no current database (plan's scratch tables when the
 * database does not exist yet). */
void my_table_name(struct target *t, struct sbuf *b, const char *name);
/* Quote a value as an SQL literal for t's connection. */
void my_literal(struct target *t, struct sbuf *b, const struct value *v);
/* The same for a C string. */
void my_string(struct target *t, struct sbuf *b, const char *s);
/* WHERE condition matching `key` exactly (binary comparison for text). */
void my_key_match(struct target *t, struct sbuf *b, const struct table *tb,
                  const struct tuple *key);
/* Column name of column i on the target. */
const char *my_colname(const struct table *tb, int i);
/* Characters of an index prefix this column needs in an index of ncols
 * columns (utf8mb4 keys are limited to 3072 bytes), 0 for none. */
int my_index_prefix(const struct column *c, int ncols);
/* Is the column's target type a text type (gets the collation)? */
int my_type_is_text(const char *type);
/* The clause giving a column of the scratch and log tables we make the
 * collation `c` says (its own in existing mode, else `fallback`), or
 * nothing when the type has none. */
void my_collate_clause(struct sbuf *b, const struct column *c,
                       const char *fallback);

/* LOCAL INFILE is advertised to the server (LOAD DATA LOCAL needs it) but
 * answered only inside our own LOAD DATA, and only with our own stream:
 * any other file request (a rogue server, a man in the middle) is refused.
 * tmy_infile_guard() installs the handler before mysql_real_connect();
 * tmy_infile_close() turns the client side off once connected. */
void tmy_infile_guard(struct target *t);
void tmy_infile_close(struct target *t);

/* triggers.c: our objects named prefix+table on application tables. */
enum my_holder { NAME_FREE, NAME_OURS, NAME_TAKEN };
void my_name_of(struct target *t, struct sbuf *b, const char *prefix,
                const struct table *tb);
/* Who holds the name prefix+table: nobody, us (an object of ours for this
 * very table), or someone else — described in `who`. */
int my_holder_of(struct target *t, const char *kind, const char *prefix,
                 const struct table *tb, enum my_holder *out, char *who,
                 size_t cap, struct co_err *err);
/* The name may be used for tb: 0 free, 1 ours already, or an error. */
int my_claim(struct target *t, const char *kind, const char *prefix,
             const struct table *tb, struct co_err *err);
/* Run the DDL in sql on tb without queueing the application behind it
 * (sql is reset). */
int my_ddl(struct target *t, struct sbuf *sql, struct co_err *err,
           const char *what, const struct table *tb);
/* Drop our trigger prefix+table if it is there and ours for tb. */
int my_drop_trigger(struct target *t, struct sbuf *sql, const char *prefix,
                    const struct table *tb, struct co_err *err);
/* Create (or re-create, when ours) the trigger prefix+table `when` ON tb
 * running body for everyone but our own sessions. */
int my_create_trigger(struct target *t, struct sbuf *sql, const char *prefix,
                      const char *when, const struct table *tb,
                      const char *body, struct co_err *err);

/* target.c's reads, which a MySQL source makes the same way. */
void my_select_head(struct sbuf *b, const struct table *tb);
/* key > bound, or key <= bound when upper, in the columns' own order
 * (k1 > v1 OR (k1 = v1 AND k2 > v2) ...: a form indexes serve). */
void my_key_bound(struct target *t, struct sbuf *b, const struct table *tb,
                  const struct tuple *bound, int upper);
int tmy_scan(struct target *, const struct table *, const struct key_range *,
             int64_t, struct target_cursor **, struct co_err *);
int tmy_cursor_next(struct target_cursor *, const struct value **,
                    struct co_err *);
void tmy_cursor_close(struct target_cursor *);
/* ---- fetch_many.c ---- */
#define FETCH_MANY_MAX 500     /* keys per statement */
/* The rows of keys[0..n) (n <= FETCH_MANY_MAX) in one SELECT: rows[i]
 * the row holding exactly keys[i] (valid until the next call), NULL when
 * none does (gone, or ask tmy_fetch). */
int tmy_fetch_many(struct target *t, const struct table *tb,
                   const struct tuple *keys, int n, const struct value **rows,
                   struct co_err *err);
void tmy_fetch_many_free(struct target *t);

int tmy_fetch(struct target *, const struct table *, const struct tuple *,
              const struct value **, struct co_err *);
int tmy_count_rows(struct target *, const struct table *, int64_t *,
                   struct co_err *);

/* The three AFTER triggers logging every changed key of tb into our table
 * log+table (seq, k1.., at), named prefixes[0..2]. */
int my_key_log_triggers(struct target *t, const struct table *tb,
                        const char *log, const char *const prefixes[3],
                        struct co_err *err);
/* The three BEFORE triggers refusing every write to tb with `message`. */
int my_fence_triggers(struct target *t, const struct table *tb,
                      const char *const prefixes[3], const char *message,
                      struct co_err *err);
/* Drop our table log+table, if it is ours. */
int my_drop_log(struct target *t, const char *log, const struct table *tb,
                struct co_err *err);

/* Convert a fetched MySQL row into values. */
void my_row_values(MYSQL_RES *res, MYSQL_ROW r, unsigned long *lens,
                   struct value *out, int n);

/* Defined in schema.c / load.c / capture.c */
int tmy_table_state(struct target *, const struct table *, int *,
                      int64_t *, struct co_err *);
int tmy_create_table(struct target *, const struct runbook *,
                       const struct table *, struct co_err *);
int tmy_create_indexes(struct target *, const struct runbook *,
                         const struct table *, struct co_err *);
int tmy_create_foreign_keys(struct target *, const struct schema *,
                              const struct table *, struct co_err *);
int tmy_drop_table(struct target *, const struct table *, struct co_err *);
int tmy_database_exists(struct target *, int *, struct co_err *);
int tmy_create_database(struct target *, const struct runbook *,
                        struct co_err *);
struct assess_sink;
int tmy_check_runbook(struct runbook *, struct co_err *);
int tmy_logical_of_type(const char *type, struct logical_type *out);
void tmy_render_type(const struct logical_type *lt, char *out, size_t cap);
extern const struct type_limits tmy_type_limits;
void tmy_assess_table(struct target *, const struct table *,
                      const struct assess_sink *);
int tmy_load(struct target *, const struct table *, row_pull_fn, void *,
             enum fast_path, struct load_result *, struct co_err *);
int tmy_probe_rows(struct target *, const struct table *, row_pull_fn,
                   void *, struct load_result *, struct co_err *);
int tmy_begin(struct target *, struct co_err *);
int tmy_put_row(struct target *, const struct table *, const struct value *,
                  struct co_err *);
int tmy_delete_key(struct target *, const struct table *,
                     const struct tuple *, struct co_err *);
int tmy_commit(struct target *, struct co_err *);
void tmy_rollback(struct target *);
int tmy_rcapture_install(struct target *, const struct schema *,
                           struct co_err *);
int tmy_rcapture_remove(struct target *, const struct schema *,
                          struct co_err *);
int tmy_rlog_read(struct target *, const struct table *, int64_t, int64_t,
                    struct rlog_batch *, struct co_err *);
void tmy_rlog_batch_free(struct rlog_batch *);
int tmy_column_default(const struct column *, struct sbuf *, const char **);
int tmy_server_role(struct target *, struct server_role *, struct co_err *);
int tmy_replica_status(struct target *, struct replica_status *,
                       struct co_err *);
int tmy_replication_position(struct target *, char *, size_t, struct co_err *);
int tmy_position_wait(struct target *, const char *, double, struct co_err *);
int tmy_heartbeat_write(struct target *, int64_t, struct co_err *);
int tmy_heartbeat_read(struct target *, int64_t *, struct co_err *);
int tmy_heartbeat_drop(struct target *, struct co_err *);
int tmy_fence_install(struct target *, const struct schema *,
                        struct co_err *);
int tmy_fence_remove(struct target *, const struct schema *,
                       struct co_err *);
void tmy_set_owner(struct target *, const char *);
int tmy_foreign_objects(struct target *, struct owned_objects *,
                        struct co_err *);
int tmy_generated_names(struct target *, const struct schema *, name_fn,
                        void *);
int tmy_find_collisions(struct target *, const struct runbook *,
                        const struct table *, const int *, row_pull_fn,
                        void *, int, json_t **, struct co_err *);
int tmy_describe_table(struct target *, const char *, struct ttable *,
                       struct co_err *);

#endif

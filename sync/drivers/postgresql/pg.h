/*
 * pg.h — the PostgreSQL driver's building blocks, engine client hidden:
 * only the files of this folder include libpq-fe.h, and this header does
 * not, so the target driver's glue and the tests see plain C types.
 *
 *   pg_session.c   connection from runbook fields, session settings,
 *                  errors (SQLSTATE kept), statements and one-value queries
 *   pg_quote.c     identifiers, literals, names of our objects (63 bytes)
 *   pg_value.c     struct value ↔ PostgreSQL's text forms
 *   pg_copy.c      COPY ... FROM STDIN, text format, streamed
 *   pg_schema.c    indexes and foreign keys after the copy, name limits
 *   pg_apply.c     the applier's upsert and delete, one transaction a batch
 *   pg_read.c      rows back: key-range scans, rows by key, counts
 *   pg_capture.c   reverse capture and the rollback fence (PL/pgSQL)
 *   pg_position.c  identity sequences past the maximum, WAL positions
 *
 * Every function returns 0 (or what it says) or a negative CO_E* code with
 * `err` naming the server ("target host:port/db"), what we were doing, the
 * table, key or column, and PostgreSQL's message with its SQLSTATE.
 */
#ifndef CO_PG_H
#define CO_PG_H

#include <stddef.h>
#include <stdint.h>

#include "lib/errors.h"
#include "lib/owner.h"
#include "lib/sbuf.h"
#include "lib/schema.h"
#include "lib/value.h"

/* ---- pg_session.c ---------------------------------------------------- */

/* The oldest server we accept: identity columns, EXECUTE FUNCTION in
 * CREATE TRIGGER, pg_sequence_last_value() and stored generated columns
 * are all there from 12 on. */
#define PG_MIN_VERSION 120000
#define PG_DEFAULT_PORT 5432
#define PG_APPLICATION_NAME "cutover"
/* Set to "on" in each of our sessions: the reverse-capture and fence
 * triggers let these sessions through (application_name can be set by
 * anyone and is rewritten by some poolers; this one names cutover's
 * intent). */
#define PG_SESSION_GUC "cutover.session"
/* Defaults when the options give none: nothing of ours waits forever. */
#define PG_STATEMENT_TIMEOUT_MS 600000
#define PG_LOCK_TIMEOUT_MS 10000
#define PG_CONNECT_TIMEOUT_S 10

/* The runbook's target fields, as libpq reads them. */
struct pg_options {
    const char *host;          /* name, address, or a socket directory */
    int port;                  /* 0: 5432 */
    const char *user;
    const char *password_env;  /* environment variable holding the
                                  password; NULL: none (a .pgpass file or
                                  a trusting server) */
    const char *database;
    const char *schema;        /* NULL: public */
    const char *tls_mode;      /* disable|require|verify_ca|verify_full;
                                  NULL: libpq's "prefer" */
    const char *ca;            /* CA certificate file (sslrootcert) */
    const char *cert, *key;    /* client certificate and its key
                                  (sslcert, sslkey); NULL: none */
    int connect_timeout_s;     /* 0: PG_CONNECT_TIMEOUT_S */
    int statement_timeout_ms;  /* 0: PG_STATEMENT_TIMEOUT_MS */
    int lock_timeout_ms;       /* 0: PG_LOCK_TIMEOUT_MS */
    int unmarked;              /* do not set PG_SESSION_GUC: our triggers
                                  treat the session as the application's
                                  (checking that a fence holds) */
    int schema_may_be_missing; /* a missing schema is no error (plan
                                  reports it, `run` creates it):
                                  pg_schema_exists says which */
};

struct pg_session;

/* Connect and set the session up: application_name, timeouts, the
 * search_path to the schema (which must exist), UTF8 client encoding,
 * the cutover session mark. Refuses servers older than PG_MIN_VERSION.
 * CO_ETARGET names the server and what failed: unreachable, password
 * refused, database or schema missing, TLS refused, password variable
 * unset. The password itself is never part of a message. */
int pg_connect(const struct pg_options *o, struct pg_session **out,
               struct co_err *err);
void pg_close(struct pg_session *s);

/* "host:port/database", for messages. */
const char *pg_label(const struct pg_session *s);
const char *pg_schema(const struct pg_session *s);
/* Did the schema exist when the session was set up (or was it made since
 * with pg_create_schema)? */
int pg_schema_exists(const struct pg_session *s);
/* CREATE SCHEMA IF NOT EXISTS, then the session's search_path finds it. */
int pg_create_schema(struct pg_session *s, struct co_err *err);
/* The server's version as a number (150004 for 15.4). */
int pg_server_version(const struct pg_session *s);
/* The migration our objects belong to (sync/owner.h): NULL, "" or an id. */
void pg_set_owner(struct pg_session *s, const char *owner);
/* Does the session skip foreign key checks (session_replication_role
 * replica: a superuser, or a role granted SET on that parameter)? Rows
 * then arrive in key order, not in dependency order, as on MySQL with
 * foreign_key_checks off. Unmarked sessions never ask. */
int pg_skips_foreign_keys(const struct pg_session *s);
/* SQLSTATE of the last error on this session, "" when none. */
const char *pg_last_sqlstate(const struct pg_session *s);

/* Change this session's timeouts (0 leaves one as it is): an index build
 * may need a longer statement_timeout than a chunk. */
int pg_set_timeouts(struct pg_session *s, int statement_ms, int lock_ms,
                    struct co_err *err);

/* Run one or more statements that return no rows. `what` says what we
 * were doing, for the message. */
int pg_exec(struct pg_session *s, const char *sql, struct co_err *err,
            const char *what);
/* The first column of the first row of `sql` into buf: 1 with a row (an
 * SQL NULL gives ""), 0 without, or an error. */
int pg_query_value(struct pg_session *s, const char *sql, char *buf,
                   size_t cap, struct co_err *err, const char *what);

/* One round trip (SELECT 1), in milliseconds: the target's latency as
 * the sampler sees it. CO_ECONNLOST when the session is gone. */
int pg_probe(struct pg_session *s, double *ms, struct co_err *err);
/* The server process serving this session (pg_stat_activity's pid). */
int pg_backend_pid(const struct pg_session *s);

/* ---- pg_quote.c ------------------------------------------------------ */

/* PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1). */
#define PG_NAME_MAX 63

/* "name" with " doubled: right for any name, reserved words included. */
void pg_ident(struct sbuf *b, const char *name);
/* "schema"."name" in the session's schema. */
void pg_qualified(const struct pg_session *s, struct sbuf *b,
                  const char *name);
/* A string literal: '...' with ' doubled, or E'...' with \ doubled too
 * when it holds a backslash, so it reads the same whatever
 * standard_conforming_strings says. CO_EDATA when it holds a NUL byte. */
int pg_literal(struct sbuf *b, const char *p, size_t n, struct co_err *err);
/* The same for a C string (cannot hold a NUL). */
void pg_string(struct sbuf *b, const char *s);
/* prefix + base as an object name of at most 63 bytes: a longer one keeps
 * the start of base, cut on a UTF-8 boundary, and ends in _ and 8 bytes
 * of base's SHA-256 in hex. */
void pg_object_name(char *out, size_t cap, const char *prefix,
                    const char *base);

/* ---- pg_value.c ------------------------------------------------------ */

/* Where pg_value_text writes a value it does not point into: numbers in
 * `small`, a SET's text[] literal in `wide` (pg_scratch_free frees it). */
struct pg_scratch {
    char small[64];
    struct sbuf wide;
};
void pg_scratch_free(struct pg_scratch *sc);

/* The text PostgreSQL reads for value v of column c (its map.lt says
 * what the column is): integers and reals as numbers (Infinity, NaN),
 * booleans as t/f, bytea as raw bytes (*binary = 1: send it in binary
 * format or encode it), a MySQL SET's "a,c" kept as text[] as the array
 * literal {"a","c"}, everything else as its bytes. *p and *n point into v
 * or into `sc`. NULL values give *p = NULL. CO_EDATA naming the column
 * when text holds a NUL byte (PostgreSQL cannot store one). */
int pg_value_text(const struct column *c, const struct value *v,
                  struct pg_scratch *sc, const char **p, size_t *n,
                  int *binary, struct co_err *err);
/* A value read back in PostgreSQL's text output form (text, len; isnull)
 * as column c's struct value: integers and booleans as V_INT, double
 * precision as V_REAL, bytea decoded from \x hex and a SET's text[] to
 * its members comma-separated as MySQL writes them (both in place: `text`
 * is overwritten), the rest as V_TEXT pointing into text. CO_EDATA when
 * the text does not parse. */
int pg_value_parse(const struct column *c, char *text, size_t len,
                   int isnull, struct value *out, struct co_err *err);

/* ---- pg_copy.c ------------------------------------------------------- */

/* COPY's text format of one row of tb (tb->ncols values), newline ended:
 * \N for NULL; backslash, tab, newline and CR escaped; bytea as \\x hex.
 * CO_EDATA naming the table and column for text holding a NUL byte. */
int pg_copy_encode_row(struct sbuf *out, const struct table *tb,
                       const struct value *row, struct co_err *err);

/* A COPY in progress on a session: begin, put rows, end (or abort). The
 * rows go to the server in buffers of PG_COPY_FLUSH bytes: memory stays
 * bounded whatever the number of rows. */
#define PG_COPY_FLUSH (1 << 20)
struct pg_copy {
    struct pg_session *s;
    const struct table *tb;
    struct sbuf buf;
    int64_t rows;
};
int pg_copy_begin(struct pg_session *s, const struct table *tb,
                  struct pg_copy *c, struct co_err *err);
int pg_copy_put(struct pg_copy *c, const struct value *row,
                struct co_err *err);
/* Send what is left and finish; *rows (optional) gets the rows the
 * server says it stored. */
int pg_copy_end(struct pg_copy *c, int64_t *rows, struct co_err *err);
/* Abandon the COPY (the server stores none of its rows). */
void pg_copy_abort(struct pg_copy *c, const char *why);

/* ---- pg_schema.c ----------------------------------------------------- */

/* CO_ESCHEMA naming `what` and the name when it is longer than
 * PostgreSQL's 63 bytes (it would be cut, and two names could meet). */
int pg_name_check(const char *what, const char *name, struct co_err *err);
/* The target's name of tb's index i (its SQLite name, or
 * <table>_<columns>_key for SQLite's automatic ones) and foreign key i
 * (<table>_<columns>_fkey), at most 63 bytes. */
void pg_index_name(char *out, size_t cap, const struct table *tb, int i);
void pg_fk_name(char *out, size_t cap, const struct table *tb, int i);
/* tb's secondary indexes (automatic ones as UNIQUE constraints), after
 * the copy; partial and expression indexes are left out (plan says so).
 * A unique index the data breaks fails with PostgreSQL's own detail
 * naming the duplicated key (SQLSTATE 23505). */
int pg_create_indexes(struct pg_session *s, const struct table *tb,
                      struct co_err *err);
/* tb's foreign keys to tables of the migration, NOT VALID; then
 * pg_validate_foreign_keys checks the rows without blocking writers,
 * failing with the first orphan's key (SQLSTATE 23503). */
int pg_create_foreign_keys(struct pg_session *s, const struct schema *sc,
                           const struct table *tb, struct co_err *err);
int pg_validate_foreign_keys(struct pg_session *s, const struct table *tb,
                             struct co_err *err);

/* ---- pg_apply.c ------------------------------------------------------ */

/* INSERT INTO t (cols) VALUES ($1..) ON CONFLICT (key) DO UPDATE SET
 * c = EXCLUDED.c, ... (DO NOTHING when every column is in the key). */
void pg_upsert_sql(const struct pg_session *s, struct sbuf *b,
                   const struct table *tb);
/* DELETE FROM t WHERE k1 = $1 AND ... */
void pg_delete_sql(const struct pg_session *s, struct sbuf *b,
                   const struct table *tb);

/* A batch of the applier: one transaction, statements prepared once per
 * table and session, sent in pipeline mode with their answers read every
 * PG_PIPELINE_DEPTH statements and at the commit. A refusal names the
 * table and the key, and comes back from the call that reads it (a later
 * put or delete, or the commit); after one, every call returns it until
 * pg_batch_rollback. A failed commit has rolled the batch back. */
#define PG_PIPELINE_DEPTH 512
int pg_batch_begin(struct pg_session *s, struct co_err *err);
int pg_batch_put_row(struct pg_session *s, const struct table *tb,
                     const struct value *row, struct co_err *err);
int pg_batch_delete_key(struct pg_session *s, const struct table *tb,
                        const struct tuple *key, struct co_err *err);
int pg_batch_commit(struct pg_session *s, struct co_err *err);
void pg_batch_rollback(struct pg_session *s);

/* ---- pg_read.c ------------------------------------------------------- */

/* Rows of tb with lo < key <= hi (NULL or empty bounds are open), in key
 * order, at most `limit` (0: all). An open range without a limit (or
 * with a limit past 100,000 rows) streams one row at a time: the client
 * holds one row, whatever the table; a range with an upper key or a
 * smaller limit (verify's chunks) comes as one result, which is much
 * cheaper a row. Until the cursor is closed the session runs nothing
 * else. Rows are tb->ncols values, valid until the next pg_cursor_next. */
struct pg_cursor;
int pg_scan(struct pg_session *s, const struct table *tb,
            const struct tuple *lo, const struct tuple *hi, int64_t limit,
            struct pg_cursor **out, struct co_err *err);
/* 1 with *row set, 0 at the end, or an error. */
int pg_cursor_next(struct pg_cursor *c, const struct value **row,
                   struct co_err *err);
/* Closing before the end cancels the rest of the query. */
void pg_cursor_close(struct pg_cursor *c);
/* The row with exactly this key: 1 with *row set (valid until the next
 * pg_fetch on the session), 0 when there is none, or an error. */
int pg_fetch(struct pg_session *s, const struct table *tb,
             const struct tuple *key, const struct value **row,
             struct co_err *err);
int pg_count_rows(struct pg_session *s, const struct table *tb, int64_t *out,
                  struct co_err *err);
/* Delete the rows with lo < key <= hi (open bounds as pg_scan's): a chunk
 * whose COPY may have committed before a crash is cleared in the same
 * transaction as its copy again, since COPY has no REPLACE. */
int pg_clear_range(struct pg_session *s, const struct table *tb,
                   const struct tuple *lo, const struct tuple *hi,
                   int64_t *deleted, struct co_err *err);

/* ---- pg_capture.c ---------------------------------------------------- */

/* The rollback fence's message and SQLSTATE (read_only_sql_transaction:
 * what a pool or a driver that follows failovers already takes for "write
 * elsewhere"). Applications match both fences on "cutover: writes moved". */
#define PG_FENCE_MESSAGE "cutover: writes moved back to source"
#define PG_FENCE_SQLSTATE "25006"
#define PG_RLOG_PREFIX "_cutover_rlog_"
#define PG_RCAPTURE_PREFIX "_cutover_rcap_"
#define PG_FENCE_PREFIX "_cutover_rfence_"
#define PG_FENCE_TRUNCATE_PREFIX "_cutover_rfencet_"
/* DDL on the application's tables waits at most this long for a lock at
 * each try, and is tried again while PG_DDL_PATIENCE_S lasts. */
#define PG_DDL_LOCK_TIMEOUT "100ms"
#define PG_DDL_PATIENCE_S 20.0

/* Reverse capture: per table a log _cutover_rlog_T(seq, k1.., at) and an
 * AFTER INSERT/UPDATE/DELETE trigger logging the keys (old and new key
 * when an UPDATE changes it), skipped for cutover's sessions. Install and
 * remove are idempotent and happen in one transaction. Objects carry the
 * owner's mark as their COMMENT; one of another migration under our name
 * is an error naming it. */
int pg_rcapture_install(struct pg_session *s, const struct schema *sc,
                        struct co_err *err);
int pg_rcapture_remove(struct pg_session *s, const struct schema *sc,
                       struct co_err *err);
/* The fence: BEFORE INSERT/UPDATE/DELETE (each row) and TRUNCATE
 * triggers raising PG_FENCE_MESSAGE for every session but ours. */
int pg_fence_install(struct pg_session *s, const struct schema *sc,
                     struct co_err *err);
int pg_fence_remove(struct pg_session *s, const struct schema *sc,
                    struct co_err *err);
/* The fence as the write lock's end (DESIGN §10): pg_freeze_writes opens
 * a transaction locking every table IN SHARE ROW EXCLUSIVE MODE (readers
 * go on, writers wait; the lock CREATE TRIGGER needs), waiting at most
 * wait_ms for the application's transactions (CO_ETIMEOUT, nothing
 * held). Then either pg_fence_commit installs the fence in that
 * transaction and commits — writers waiting meet the fence — or pg_thaw
 * rolls it back and they go on. Reads (draining the reverse logs) may run
 * on the session in between. */
int pg_freeze_writes(struct pg_session *s, const struct schema *sc,
                     int wait_ms, struct co_err *err);
int pg_fence_commit(struct pg_session *s, const struct schema *sc,
                    struct co_err *err);
void pg_thaw(struct pg_session *s);

/* Distinct keys logged for tb after after_seq, up to `limit` log rows. */
struct pg_keys {
    int n;
    struct tuple *keys;
    int64_t last_seq;
};
int pg_rlog_read(struct pg_session *s, const struct table *tb,
                 int64_t after_seq, int64_t limit, struct pg_keys *out,
                 struct co_err *err);
void pg_keys_free(struct pg_keys *k);

/* ---- pg_position.c --------------------------------------------------- */

/* The identity (or serial) sequence of column `col` of tb moves past the
 * column's maximum, never backwards: the next generated value is
 * max(MAX(col) + 1, the sequence's own next value, at_least, 1), in
 * *next (at_least: the source's own counter, which remembers keys it
 * handed out and deleted since). */
int pg_set_next_id(struct pg_session *s, const struct table *tb, int col,
                   int64_t at_least, int64_t *next, struct co_err *err);
/* The WAL position as text (an LSN such as 0/3000148): written on a
 * primary, replayed on a standby (*standby = 1). */
int pg_wal_position(struct pg_session *s, char *buf, size_t cap,
                    int *standby, struct co_err *err);
/* Wait until the server has the position (replayed on a standby,
 * written on a primary): 0, or CO_ETIMEOUT after timeout_s naming both
 * positions. */
int pg_wal_wait(struct pg_session *s, const char *lsn, double timeout_s,
                struct co_err *err);

/* What a server says of its replication: a standby, whether its WAL
 * receiver runs, whether replay is paused, how far behind it is (0 when
 * it has replayed all it received, else the age of the last transaction
 * replayed; -1 unknown) and its position (pg_wal_position's). */
struct pg_replica {
    int standby, receiving, paused;
    double lag_s;
    char position[64];
};
int pg_replica_status(struct pg_session *s, struct pg_replica *out,
                      struct co_err *err);

#endif

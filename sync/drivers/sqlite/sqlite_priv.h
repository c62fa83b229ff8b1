/*
 * sqlite_priv.h — internals shared by the SQLite source driver's files
 * (source.c: connection and reads; schema.c: the schema;
 * capture.c: change capture, fence and rollback writes;
 * sealed.c: the VFS of encrypted backups; owner.c: whose
 * our objects are). Nothing outside sync/ includes this.
 */
#ifndef CO_SQLITE_PRIV_H
#define CO_SQLITE_PRIV_H

#include <sqlite3.h>

#include "lib/owner.h"
#include "lib/sbuf.h"
#include "sync/drivers/source.h"

#define FETCH_CACHE 64

struct cached_stmt {
    const struct table *t;
    int kind;                  /* 0 fetch, 1 put, 2 delete */
    sqlite3_stmt *st;
};

struct source {
    sqlite3 *db;
    char *path;
    int busy_timeout_ms;
    struct cached_stmt cache[FETCH_CACHE];
    int ncache;
    struct value *row;         /* fetch result buffer */
    int rowcap;
    unsigned char *bytes;      /* its text and blob bytes */
    size_t bytescap;
    int in_write;              /* inside freeze_writes */
    int has_owner;             /* set_owner was called (owner.h) */
    char owner[OWNER_ID_LEN + 1];
};

struct source_cursor {
    struct source *s;
    sqlite3_stmt *st;
    const struct table *t;
    struct value *row;
    int ncols;
};

/* Translate the last error of db into err (CO_EBUSY for lock timeouts). */
int sq_error(struct source *s, int rc, struct co_err *err, const char *what);
/* Prepare, reporting errors with the SQL's purpose. */
int sq_prepare(struct source *s, const char *sql, sqlite3_stmt **st,
               struct co_err *err, const char *what);
/* Run SQL with no results (several statements allowed). */
int sq_exec(struct source *s, const char *sql, struct co_err *err,
            const char *what);
void sq_bind_value(sqlite3_stmt *st, int idx, const struct value *v);
void sq_bind_tuple(sqlite3_stmt *st, int first, const struct tuple *t);
/* Read column i of the current row into v (bytes valid until next step). */
void sq_column_value(sqlite3_stmt *st, int i, struct value *v);
/* A statement cached per (table, kind), built by `build` on first use. */
sqlite3_stmt *sq_cached(struct source *s, const struct table *t, int kind,
                        void (*build)(struct sbuf *, const struct table *),
                        struct co_err *err);

/* schema.c */
int sqlite_read_schema(struct source *s, const struct runbook *rb,
                       struct schema *out, struct co_err *err);
int sqlite_schema_version(struct source *s, int64_t *out,
                          struct co_err *err);

/* owner.c: the owner this connection works for (NULL: none), and
 * cutover's objects in the file, whoever made them. */
const char *sq_owner(const struct source *s);
int sq_cutover_objects(struct source *s, struct owned_objects *out,
                       struct co_err *err);

/* SQL fragments. */
void sq_select_list(struct sbuf *b, const struct table *t);
void sq_key_list(struct sbuf *b, const struct table *t, const char *prefix);
/* "(k1, k2) <op> (?, ?)" or "k1 <op> ?" */
void sq_key_compare(struct sbuf *b, const struct table *t, const char *prefix,
                    const char *op);
void sq_key_equal(struct sbuf *b, const struct table *t, const char *prefix);
/* sealed.c: a VFS whose database files are sealed page by page
 * with `key` (encrypted backups). Returns its name, valid until
 * unregistered, or NULL. */
const char *sqlite_sealed_register(const unsigned char key[32]);
void sqlite_sealed_unregister(const char *name);

/* Register cutover_* SQL functions used by the census. */
void sq_register_functions(sqlite3 *db);
/* ... and those that find rows an existing target column refuses. */
void sq_register_fit(sqlite3 *db);

/* typemap.c: the declared type, read the way a person would (SQLite's
 * own affinity rules decide storage; this decides meaning), with *len
 * (VARCHAR(n)), *p and *s (DECIMAL(p,s)) when present. */
enum decl_kind {
    DK_NONE, DK_INT, DK_BOOL, DK_REAL, DK_DECIMAL, DK_NUMERIC, DK_TEXT,
    DK_VARCHAR, DK_BLOB, DK_DATETIME, DK_DATE, DK_TIME
};
enum decl_kind typemap_decl_kind(const char *decl, int *len, int *p, int *s);
/* The declared type names JSON. */
int typemap_declared_json(const char *decl);
/* ... and each column's logical type (source_ops.decide_types). */
struct map_note;
struct target_ops;
int sqlite_decide_types(const struct runbook *rb, struct table *t,
                        const struct col_census *census,
                        const struct target_ops *tops, struct map_note *notes,
                        int max_notes);

/* schema.c: does the table have a rowid (not WITHOUT ROWID)? */
int sqlite_has_rowid(struct source *s, const struct table *t);

#endif

/*
 * source.c — the SQLite source driver: connection, reads in key
 * order, backups. The schema is read in schema.c; change capture,
 * the fence and rollback writes are in capture.c.
 *
 * Every key comparison is written in SQL and evaluated by SQLite with the
 * columns' own collations, so "key order" always means the source's order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/runbook.h"
#include "sync/drivers/sqlite/sqlite_priv.h"
#include "lib/xalloc.h"

/* ---- helpers shared with capture.c ------------------------------- */

int sq_error(struct source *s, int rc, struct co_err *err, const char *what)
{
    int code = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED
                   ? CO_EBUSY : CO_ESOURCE;
    return co_errf(err, code, "source %s: %s: %s", s->path, what,
                   s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

int sq_prepare(struct source *s, const char *sql, sqlite3_stmt **st,
               struct co_err *err, const char *what)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);

    if (rc != SQLITE_OK)
        return sq_error(s, rc, err, what);
    return 0;
}

int sq_exec(struct source *s, const char *sql, struct co_err *err,
            const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return sq_error(s, rc, err, what);
    return 0;
}

void sq_bind_value(sqlite3_stmt *st, int idx, const struct value *v)
{
    switch (v->type) {
    case V_NULL: sqlite3_bind_null(st, idx); break;
    case V_INT: sqlite3_bind_int64(st, idx, v->i); break;
    case V_REAL: sqlite3_bind_double(st, idx, v->r); break;
    case V_TEXT:
        sqlite3_bind_text(st, idx, (const char *)v->p, (int)v->n,
                          SQLITE_TRANSIENT);
        break;
    case V_BLOB:
        sqlite3_bind_blob(st, idx, v->p, (int)v->n, SQLITE_TRANSIENT);
        break;
    }
}

void sq_bind_tuple(sqlite3_stmt *st, int first, const struct tuple *t)
{
    for (int i = 0; i < t->n; i++)
        sq_bind_value(st, first + i, &t->v[i]);
}

void sq_column_value(sqlite3_stmt *st, int i, struct value *v)
{
    v->p = NULL;
    v->n = 0;
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        v->type = V_INT;
        v->i = sqlite3_column_int64(st, i);
        break;
    case SQLITE_FLOAT:
        v->type = V_REAL;
        v->r = sqlite3_column_double(st, i);
        break;
    case SQLITE_TEXT:
        v->type = V_TEXT;
        v->p = sqlite3_column_text(st, i);
        v->n = (size_t)sqlite3_column_bytes(st, i);
        break;
    case SQLITE_BLOB:
        v->type = V_BLOB;
        v->p = sqlite3_column_blob(st, i);
        v->n = (size_t)sqlite3_column_bytes(st, i);
        if (!v->p)
            v->p = (const unsigned char *)"";
        break;
    default:
        v->type = V_NULL;
    }
}

static void col_expr(struct sbuf *b, const struct column *c)
{
    if (c->is_rowid)
        sbuf_adds(b, "rowid");
    else
        sbuf_ident(b, c->name, '"');
}

void sq_select_list(struct sbuf *b, const struct table *t)
{
    for (int i = 0; i < t->ncols; i++) {
        if (i)
            sbuf_adds(b, ", ");
        col_expr(b, &t->cols[i]);
    }
}

void sq_key_list(struct sbuf *b, const struct table *t, const char *prefix)
{
    for (int k = 0; k < t->nkey; k++) {
        if (k)
            sbuf_adds(b, ", ");
        if (prefix) {
            sbuf_adds(b, prefix);
            sbuf_addf(b, "k%d", k + 1);
        } else {
            col_expr(b, &t->cols[t->key[k]]);
        }
    }
}

void sq_key_compare(struct sbuf *b, const struct table *t, const char *prefix,
                    const char *op)
{
    if (t->nkey > 1)
        sbuf_addc(b, '(');
    sq_key_list(b, t, prefix);
    if (t->nkey > 1)
        sbuf_addc(b, ')');
    sbuf_addf(b, " %s ", op);
    if (t->nkey > 1)
        sbuf_addc(b, '(');
    for (int k = 0; k < t->nkey; k++)
        sbuf_adds(b, k ? ", ?" : "?");
    if (t->nkey > 1)
        sbuf_addc(b, ')');
}

void sq_key_equal(struct sbuf *b, const struct table *t, const char *prefix)
{
    for (int k = 0; k < t->nkey; k++) {
        if (k)
            sbuf_adds(b, " AND ");
        if (prefix)
            sbuf_addf(b, "%sk%d", prefix, k + 1);
        else
            col_expr(b, &t->cols[t->key[k]]);
        sbuf_adds(b, " = ?");
    }
}

sqlite3_stmt *sq_cached(struct source *s, const struct table *t, int kind,
                        void (*build)(struct sbuf *, const struct table *),
                        struct co_err *err)
{
    struct sbuf sql;
    sqlite3_stmt *st = NULL;

    for (int i = 0; i < s->ncache; i++)
        if (s->cache[i].t == t && s->cache[i].kind == kind) {
            sqlite3_reset(s->cache[i].st);
            sqlite3_clear_bindings(s->cache[i].st);
            return s->cache[i].st;
        }
    sbuf_init(&sql);
    build(&sql, t);
    if (sq_prepare(s, sbuf_str(&sql), &st, err, "preparing a statement") < 0) {
        sbuf_free(&sql);
        return NULL;
    }
    sbuf_free(&sql);
    if (s->ncache == FETCH_CACHE) {
        sqlite3_finalize(s->cache[0].st);
        memmove(s->cache, s->cache + 1, sizeof s->cache[0] * (FETCH_CACHE - 1));
        s->ncache--;
    }
    s->cache[s->ncache].t = t;
    s->cache[s->ncache].kind = kind;
    s->cache[s->ncache++].st = st;
    return st;
}

/* ---- connection -------------------------------------------------------- */

static int sqlite_open(const struct runbook *rb, struct source **out,
                       struct co_err *err)
{
    struct source *s = xcalloc(1, sizeof *s);
    int rc;

    s->path = xstrdup(rb->source.path);
    s->busy_timeout_ms = rb->source.busy_timeout_ms;
    if (access(rb->source.path, R_OK | W_OK) < 0) {
        rc = co_errf(err, CO_ESOURCE, "source %s: %s (source.path must be an "
                     "existing SQLite database we can read and write)",
                     rb->source.path, strerror(errno));
        free(s->path);
        free(s);
        return rc;
    }
    rc = sqlite3_open_v2(rb->source.path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = sq_error(s, rc, err, "open");
        sqlite3_close(s->db);
        free(s->path);
        free(s);
        return rc;
    }
    sqlite3_busy_timeout(s->db, s->busy_timeout_ms);
    sqlite3_extended_result_codes(s->db, 1);
    sq_register_functions(s->db);
    /* A quick read proves it is a database, not some other file. */
    rc = sq_exec(s, "SELECT count(*) FROM sqlite_master", err, "reading");
    if (rc < 0) {
        sqlite3_close(s->db);
        free(s->path);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static void sqlite_close(struct source *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->ncache; i++)
        sqlite3_finalize(s->cache[i].st);
    sqlite3_close(s->db);
    free(s->row);
    free(s->bytes);
    free(s->path);
    free(s);
}

/* ---- reads -------------------------------------------------------------- */

static int sqlite_count_rows(struct source *s, const struct table *t,
                             int64_t *out, struct co_err *err)
{
    struct sbuf sql;
    sqlite3_stmt *st;
    int rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT count(*) FROM ");
    sbuf_ident(&sql, t->name, '"');
    rc = sq_prepare(s, sbuf_str(&sql), &st, err, "counting rows");
    sbuf_free(&sql);
    if (rc < 0)
        return co_err_prefix(err, "table %s", t->name);
    rc = sqlite3_step(st);
    *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return co_err_prefix(err, "table %s", t->name),
               sq_error(s, rc, err, "counting rows");
    return 0;
}

static int sqlite_split_points(struct source *s, const struct table *t,
                               int nparts, struct tuple *points, int *npoints,
                               struct co_err *err)
{
    struct sbuf sql;
    sqlite3_stmt *st;
    int64_t rows;
    int rc;

    *npoints = 0;
    if ((rc = sqlite_count_rows(s, t, &rows, err)) < 0)
        return rc;
    if (nparts < 2 || rows < nparts * 2)
        return 0;
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT ");
    sq_key_list(&sql, t, NULL);
    sbuf_adds(&sql, " FROM ");
    sbuf_ident(&sql, t->name, '"');
    sbuf_adds(&sql, " ORDER BY ");
    sq_key_list(&sql, t, NULL);
    sbuf_adds(&sql, " LIMIT 1 OFFSET ?");
    rc = sq_prepare(s, sbuf_str(&sql), &st, err, "splitting key ranges");
    sbuf_free(&sql);
    if (rc < 0)
        return rc;
    for (int p = 1; p < nparts; p++) {
        struct value vals[64];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, rows * p / nparts - 1);
        if (sqlite3_step(st) != SQLITE_ROW)
            break;
        for (int k = 0; k < t->nkey; k++)
            sq_column_value(st, k, &vals[k]);
        if (*npoints > 0) {
            /* skip duplicates (cannot happen with a unique key) */
        }
        if (tuple_set(&points[*npoints], vals, t->nkey) < 0) {
            sqlite3_finalize(st);
            return co_errf(err, CO_ENOMEM, "out of memory");
        }
        (*npoints)++;
    }
    sqlite3_finalize(st);
    return 0;
}

static int sqlite_scan(struct source *s, const struct table *t,
                       const struct key_range *range, int64_t limit,
                       struct source_cursor **out, struct co_err *err)
{
    struct source_cursor *c = xcalloc(1, sizeof *c);
    struct sbuf sql;
    int rc, bind = 1;
    int has_lo = range && range->lo && range->lo->n;
    int has_hi = range && range->hi && range->hi->n;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT ");
    sq_select_list(&sql, t);
    sbuf_adds(&sql, " FROM ");
    sbuf_ident(&sql, t->name, '"');
    if (has_lo || has_hi)
        sbuf_adds(&sql, " WHERE ");
    if (has_lo)
        sq_key_compare(&sql, t, NULL, ">");
    if (has_lo && has_hi)
        sbuf_adds(&sql, " AND ");
    if (has_hi)
        sq_key_compare(&sql, t, NULL, "<=");
    sbuf_adds(&sql, " ORDER BY ");
    sq_key_list(&sql, t, NULL);
    if (limit > 0)
        sbuf_addf(&sql, " LIMIT %lld", (long long)limit);
    rc = sq_prepare(s, sbuf_str(&sql), &c->st, err, "reading rows");
    sbuf_free(&sql);
    if (rc < 0) {
        free(c);
        return co_err_prefix(err, "table %s", t->name);
    }
    if (has_lo) {
        sq_bind_tuple(c->st, bind, range->lo);
        bind += t->nkey;
    }
    if (has_hi)
        sq_bind_tuple(c->st, bind, range->hi);
    c->s = s;
    c->t = t;
    c->ncols = t->ncols;
    c->row = xcalloc((size_t)t->ncols, sizeof *c->row);
    *out = c;
    return 0;
}

static int sqlite_cursor_next(struct source_cursor *c, const struct value **row,
                              struct co_err *err)
{
    int rc = sqlite3_step(c->st);

    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return co_err_prefix(err, "table %s", c->t->name),
               sq_error(c->s, rc, err, "reading rows");
    for (int i = 0; i < c->ncols; i++)
        sq_column_value(c->st, i, &c->row[i]);
    *row = c->row;
    return 1;
}

static void sqlite_cursor_close(struct source_cursor *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->st);
    free(c->row);
    free(c);
}

static void build_fetch(struct sbuf *b, const struct table *t)
{
    sbuf_adds(b, "SELECT ");
    sq_select_list(b, t);
    sbuf_adds(b, " FROM ");
    sbuf_ident(b, t->name, '"');
    sbuf_adds(b, " WHERE ");
    sq_key_equal(b, t, NULL);
}

/* Copy the statement's current row into s->row / s->rowbytes, so the
 * statement can be reset at once: an un-reset statement would hold the
 * connection's read snapshot open, and every later read on it (the change
 * log!) would see the database as it was then. */
static int keep_row(struct source *s, sqlite3_stmt *st, int ncols)
{
    size_t need = 0, off = 0;

    if (s->rowcap < ncols) {
        free(s->row);
        s->row = xcalloc((size_t)ncols, sizeof *s->row);
        s->rowcap = ncols;
    }
    for (int i = 0; i < ncols; i++) {
        sq_column_value(st, i, &s->row[i]);
        if (s->row[i].type == V_TEXT || s->row[i].type == V_BLOB)
            need += s->row[i].n + 1;
    }
    if (need > s->bytescap) {
        free(s->bytes);
        s->bytes = xmalloc(need);
        s->bytescap = s->bytes ? need : 0;
    }
    for (int i = 0; i < ncols; i++) {
        struct value *v = &s->row[i];
        if (v->type != V_TEXT && v->type != V_BLOB)
            continue;
        memcpy(s->bytes + off, v->p, v->n);
        s->bytes[off + v->n] = 0;
        v->p = s->bytes + off;
        off += v->n + 1;
    }
    return 0;
}

static int sqlite_fetch(struct source *s, const struct table *t,
                        const struct tuple *key, const struct value **row,
                        struct co_err *err)
{
    sqlite3_stmt *st = sq_cached(s, t, 0, build_fetch, err);
    int rc;

    if (!st)
        return co_err_prefix(err, "table %s", t->name);
    sq_bind_tuple(st, 1, key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && keep_row(s, st, t->ncols) < 0)
        rc = SQLITE_NOMEM;
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return co_err_prefix(err, "table %s", t->name),
               sq_error(s, rc, err, "reading a row");
    *row = s->row;
    return 1;
}

static int sqlite_next_autoinc(struct source *s, const struct table *t,
                               int64_t *out, struct co_err *err)
{
    sqlite3_stmt *st;
    struct sbuf sql;
    int64_t seq = 0, maxkey = 0;
    int rc;

    *out = 0;
    if (!t->int_key && !t->rowid_key)
        return 0;
    if (t->autoinc) {
        rc = sq_prepare(s, "SELECT seq FROM sqlite_sequence WHERE name = ?",
                        &st, err, "reading sqlite_sequence");
        if (rc < 0)
            return rc;
        sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            seq = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT max(rowid) FROM ");
    sbuf_ident(&sql, t->name, '"');
    rc = sq_prepare(s, sbuf_str(&sql), &st, err, "reading the largest key");
    sbuf_free(&sql);
    if (rc < 0)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        maxkey = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    int64_t top = seq > maxkey ? seq : maxkey;
    /* a key at INT64_MAX has no successor: the counter stays at the top
     * (signed overflow otherwise) */
    *out = top < INT64_MAX ? top + 1 : INT64_MAX;
    return 0;
}

static int is_wal(struct source *s)
{
    sqlite3_stmt *st;
    int wal = 0;

    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            wal = strcasecmp((const char *)sqlite3_column_text(st, 0),
                             "wal") == 0;
        sqlite3_finalize(st);
    }
    return wal;
}

static int sqlite_backup(struct source *s, const char *path,
                         const unsigned char *key, struct co_err *err)
{
    const char *vfs = NULL;
    sqlite3 *dst = NULL;
    sqlite3_backup *bk = NULL;
    int rc;

    if (key && !(vfs = sqlite_sealed_register(key)))
        return co_errf(err, CO_ECRYPTO, "backup %s: cannot set up the "
                       "encrypting file layer", path);
    rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE |
                         SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, vfs);
    /* A sealed file takes no journal: it would hold plain pages. */
    if (rc == SQLITE_OK && key)
        rc = sqlite3_exec(dst, "PRAGMA journal_mode = OFF", NULL, NULL, NULL);
    if (rc == SQLITE_OK && !(bk = sqlite3_backup_init(dst, "main", s->db,
                                                     "main")))
        rc = sqlite3_errcode(dst);
    if (rc != SQLITE_OK) {
        rc = co_errf(err, CO_EIO, "backup %s: %s", path,
                     dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
        goto out;
    }
    /* In WAL mode one step copies every page from one snapshot while the
     * application keeps writing (writers never wait for readers). Page
     * batches would let each application write restart the copy from the
     * first page: a busy application could keep it from ever finishing.
     * With a rollback journal a long read blocks the application's
     * commits, so batches (and their restarts) are the lesser evil. */
    int wal = is_wal(s);
    do {
        rc = sqlite3_backup_step(bk, wal ? -1 : 4096);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(20);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(bk);
    rc = rc == SQLITE_DONE ? 0 : co_errf(err, CO_EIO, "backup %s: %s", path,
                                         sqlite3_errstr(rc));
out:
    if (sqlite3_close(dst) != SQLITE_OK && rc == 0)
        rc = co_errf(err, CO_EIO, "backup %s: closing: %s", path,
                     sqlite3_errmsg(dst));
    sqlite_sealed_unregister(vfs);
    return rc;
}

/* Defined in capture.c, census.c, inspect.c and
 * owner.c. */
int sqlite_find_rows(struct source *, const struct table *,
                     const struct row_filter *, int, struct tuple *,
                     struct tuple *, int *, int64_t *, struct co_err *);
int sqlite_scan_columns(struct source *, const struct table *, const int *,
                        int, struct source_cursor **, struct co_err *);
int sqlite_census(struct source *, const struct table *, struct col_census *,
                  struct co_err *);
int sqlite_capture_install(struct source *, const struct schema *,
                           struct co_err *);
int sqlite_capture_remove(struct source *, const struct schema *, int,
                          struct co_err *);
int sqlite_capture_installed(struct source *, const struct table *, int *,
                             struct co_err *);
int sqlite_log_read(struct source *, const struct table *, int64_t, int64_t,
                    const struct apply_scope *, struct log_batch *,
                    struct co_err *);
void sqlite_log_batch_free(struct log_batch *);
int sqlite_log_stats(struct source *, const struct table *, int64_t,
                     struct log_stats *, struct co_err *);
int sqlite_log_trim(struct source *, const struct table *, int64_t,
                    struct co_err *);
int sqlite_freeze_writes(struct source *, const struct schema *, int,
                         struct co_err *);
int sqlite_fence_commit(struct source *, const struct schema *,
                        struct co_err *);
int sqlite_thaw_commit(struct source *, struct co_err *);
void sqlite_thaw(struct source *);
void sqlite_assess_table(struct source *, const struct runbook *,
                         const struct table *, const struct assess_sink *);
int sqlite_assess(struct source *, const struct runbook *,
                  const struct assess_sink *, struct co_err *);
int sqlite_fence_remove(struct source *, const struct schema *, int,
                        struct co_err *);
int sqlite_fence_installed(struct source *, const struct schema *, int *,
                           struct co_err *);
int sqlite_put_row(struct source *, const struct table *,
                   const struct tuple *, const struct value *,
                   struct co_err *);
void sqlite_set_owner(struct source *, const char *);
int sqlite_foreign_objects(struct source *, struct owned_objects *,
                           struct co_err *);

const struct source_ops source_sqlite_ops = {
    .name = "sqlite",
    .client_library = "SQLite " SQLITE_VERSION,
    .engine = "SQLite",
    .generated_key = "AUTOINCREMENT",
    .open = sqlite_open,
    .close = sqlite_close,
    .read_schema = sqlite_read_schema,
    .schema_version = sqlite_schema_version,
    .count_rows = sqlite_count_rows,
    .census = sqlite_census,
    .decide_types = sqlite_decide_types,
    .split_points = sqlite_split_points,
    .scan = sqlite_scan,
    .cursor_next = sqlite_cursor_next,
    .cursor_close = sqlite_cursor_close,
    .fetch = sqlite_fetch,
    .set_owner = sqlite_set_owner,
    .foreign_objects = sqlite_foreign_objects,
    .capture_install = sqlite_capture_install,
    .capture_remove = sqlite_capture_remove,
    .capture_installed = sqlite_capture_installed,
    .log_read = sqlite_log_read,
    .log_batch_free = sqlite_log_batch_free,
    .log_stats = sqlite_log_stats,
    .log_trim = sqlite_log_trim,
    .freeze_writes = sqlite_freeze_writes,
    .fence_commit = sqlite_fence_commit,
    .thaw_commit = sqlite_thaw_commit,
    .thaw = sqlite_thaw,
    .fence_remove = sqlite_fence_remove,
    .fence_installed = sqlite_fence_installed,
    .put_row = sqlite_put_row,
    .next_autoinc = sqlite_next_autoinc,
    .backup = sqlite_backup,
    .find_rows = sqlite_find_rows,
    .scan_columns = sqlite_scan_columns,
    .assess = sqlite_assess,
    .assess_table = sqlite_assess_table,
};

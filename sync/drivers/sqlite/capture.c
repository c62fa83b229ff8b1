/*
 * capture.c — change capture on the SQLite source (DESIGN §5), the
 * cutover write fence, and the writes a rollback makes.
 *
 * For each table T with key K we add:
 *   _cutover_log_T(seq INTEGER PRIMARY KEY, k1.., at REAL)
 *   _cutover_ai_T / _au_T / _ad_T  AFTER INSERT/UPDATE/DELETE: append the
 *       key (UPDATE: the new key, and the old one when it changed bytewise)
 *   _cutover_bi_T / _bu_T  BEFORE INSERT/UPDATE, only for tables with
 *       secondary UNIQUE indexes: append the keys of rows that conflict on
 *       them, because INSERT OR REPLACE deletes such rows without firing a
 *       DELETE trigger (recursive_triggers is off in the application).
 * The log is written inside the application's own transaction, so a change
 * is logged exactly when it commits. Its seq is the rowid (max + 1), not
 * AUTOINCREMENT, which would cost every logged change a write to
 * sqlite_sequence as well: seqs are never reused because trimming always
 * keeps the newest entry. The log's key columns carry the source
 * columns' collations: frontier comparisons in log_read are the source's.
 *
 * The fence (_cutover_fence_{i,u,d}_T) replaces the capture triggers in the
 * cutover transaction and refuses every write.
 *
 * Every object carries the id of the migration that made it (lib/owner.h,
 * a comment SQLite keeps in sqlite_master). A name taken by another
 * migration's object is never reused, and only our own objects are
 * dropped: a fence a finished migration left protects writes its target
 * has taken since.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/faults.h"
#include "sync/drivers/log_scope.h"
#include "sync/drivers/sqlite/sqlite_priv.h"
#include "lib/xalloc.h"

#define FENCE_MESSAGE "cutover: writes moved to target"
#define LOG_PREFIX "_cutover_log_"
#define FENCE_PREFIX "_cutover_fence_"

static const char *const capture_triggers[] = {
    "_cutover_ai_", "_cutover_au_", "_cutover_ad_", "_cutover_bi_",
    "_cutover_bu_", NULL};
static const char *const log_table[] = {LOG_PREFIX, NULL};
static const char *const fence_triggers[] = {
    FENCE_PREFIX "i_", FENCE_PREFIX "u_", FENCE_PREFIX "d_", NULL};

static void name_of(char *out, size_t cap, const char *prefix,
                    const struct table *t)
{
    snprintf(out, cap, "%s%s", prefix, t->name);
}

static void object_name(struct sbuf *b, const char *prefix,
                        const struct table *t)
{
    char name[1024];

    name_of(name, sizeof name, prefix, t);
    sbuf_ident(b, name, '"');
}

/* The owner's id as a comment inside a definition (none for a migration
 * from before ids, whose objects carry none). */
static void mark(struct sbuf *b, const struct source *s)
{
    if (sq_owner(s) && *sq_owner(s))
        sbuf_addf(b, "/* " OWNER_MARK "%s */ ", sq_owner(s));
}

/* The key column as seen from a trigger: NEW."k" / OLD.rowid, or the bare
 * column when row is NULL. */
static void row_key(struct sbuf *b, const struct table *t, int k,
                    const char *row)
{
    const struct column *c = &t->cols[t->key[k]];

    if (row) {
        sbuf_adds(b, row);
        sbuf_addc(b, '.');
    }
    if (c->is_rowid)
        sbuf_adds(b, "rowid");
    else
        sbuf_ident(b, c->name, '"');
}

static void row_keys(struct sbuf *b, const struct table *t, const char *row)
{
    for (int k = 0; k < t->nkey; k++) {
        if (k)
            sbuf_adds(b, ", ");
        row_key(b, t, k, row);
    }
}

static void log_insert_head(struct sbuf *b, const struct table *t)
{
    sbuf_adds(b, "INSERT INTO ");
    object_name(b, LOG_PREFIX, t);
    sbuf_addc(b, '(');
    for (int k = 0; k < t->nkey; k++)
        sbuf_addf(b, "%sk%d", k ? ", " : "", k + 1);
    sbuf_adds(b, ", at) ");
}

/* Log the keys of rows that would conflict with NEW on a unique index. */
static void conflict_logging(struct sbuf *b, const struct table *t,
                             int is_update)
{
    for (int i = 0; i < t->nidx; i++) {
        const struct index *ix = &t->idx[i];
        if (!ix->unique || ix->expr || schema_index_is_key(t, ix))
            continue;
        log_insert_head(b, t);
        sbuf_adds(b, "SELECT ");
        sq_key_list(b, t, NULL);
        sbuf_adds(b, ", julianday('now') FROM ");
        sbuf_ident(b, t->name, '"');
        sbuf_adds(b, " WHERE ");
        for (int c = 0; c < ix->ncols; c++) {
            const char *name = t->cols[ix->cols[c]].name;
            if (c)
                sbuf_adds(b, " AND ");
            sbuf_ident(b, name, '"');
            sbuf_adds(b, " = NEW.");
            sbuf_ident(b, name, '"');
            if (ix->colls[c]) {
                sbuf_adds(b, " COLLATE ");
                sbuf_ident(b, ix->colls[c], '"');
            }
        }
        if (is_update) {
            sbuf_adds(b, " AND NOT (");
            for (int k = 0; k < t->nkey; k++) {
                if (k)
                    sbuf_adds(b, " AND ");
                row_key(b, t, k, NULL);
                sbuf_adds(b, " IS ");
                row_key(b, t, k, "OLD");
            }
            sbuf_addc(b, ')');
        }
        sbuf_adds(b, ";\n");
    }
}

static int has_secondary_unique(const struct table *t)
{
    for (int i = 0; i < t->nidx; i++)
        if (t->idx[i].unique && !t->idx[i].expr && !schema_index_is_key(t, &t->idx[i]))
            return 1;
    return 0;
}

/* "CREATE TRIGGER IF NOT EXISTS <prefix><table> <when> ON <table> BEGIN"
 * and the owner's mark: the head of each of our triggers. */
static void trigger_head(struct sbuf *b, const struct source *s,
                         const char *prefix, const char *when,
                         const struct table *t)
{
    sbuf_adds(b, "CREATE TRIGGER IF NOT EXISTS ");
    object_name(b, prefix, t);
    sbuf_addf(b, " %s ON ", when);
    sbuf_ident(b, t->name, '"');
    sbuf_adds(b, " BEGIN ");
    mark(b, s);
}

static void build_capture(struct sbuf *b, const struct source *s,
                          const struct table *t)
{
    sbuf_adds(b, "CREATE TABLE IF NOT EXISTS ");
    object_name(b, LOG_PREFIX, t);
    sbuf_addc(b, '(');
    mark(b, s);
    sbuf_adds(b, "seq INTEGER PRIMARY KEY");
    for (int k = 0; k < t->nkey; k++) {
        const struct column *c = &t->cols[t->key[k]];
        sbuf_addf(b, ", k%d COLLATE ", k + 1);
        sbuf_ident(b, c->coll ? c->coll : "BINARY", '"');
    }
    sbuf_adds(b, ", at REAL);\n");

    trigger_head(b, s, "_cutover_ai_", "AFTER INSERT", t);
    log_insert_head(b, t);
    sbuf_adds(b, "VALUES (");
    row_keys(b, t, "NEW");
    sbuf_adds(b, ", julianday('now')); END;\n");

    trigger_head(b, s, "_cutover_au_", "AFTER UPDATE", t);
    log_insert_head(b, t);
    sbuf_adds(b, "VALUES (");
    row_keys(b, t, "NEW");
    sbuf_adds(b, ", julianday('now')); ");
    log_insert_head(b, t);
    sbuf_adds(b, "SELECT ");
    row_keys(b, t, "OLD");
    sbuf_adds(b, ", julianday('now') WHERE ");
    for (int k = 0; k < t->nkey; k++) {
        if (k)
            sbuf_adds(b, " OR ");
        /* Bytewise: under NOCASE 'abc' → 'ABC' is still a key change on a
         * binary target. */
        row_key(b, t, k, "OLD");
        sbuf_adds(b, " IS NOT ");
        row_key(b, t, k, "NEW");
        sbuf_adds(b, " COLLATE BINARY");
    }
    sbuf_adds(b, "; END;\n");

    trigger_head(b, s, "_cutover_ad_", "AFTER DELETE", t);
    log_insert_head(b, t);
    sbuf_adds(b, "VALUES (");
    row_keys(b, t, "OLD");
    sbuf_adds(b, ", julianday('now')); END;\n");

    if (!has_secondary_unique(t))
        return;
    for (int upd = 0; upd <= 1; upd++) {
        trigger_head(b, s, upd ? "_cutover_bu_" : "_cutover_bi_",
                     upd ? "BEFORE UPDATE" : "BEFORE INSERT", t);
        sbuf_addc(b, '\n');
        conflict_logging(b, t, upd);
        sbuf_adds(b, "END;\n");
    }
}

static void build_fence(struct sbuf *b, const struct source *s,
                        const struct table *t)
{
    static const char *const when[] = {"BEFORE INSERT", "BEFORE UPDATE",
                                       "BEFORE DELETE"};

    for (int i = 0; fence_triggers[i]; i++) {
        trigger_head(b, s, fence_triggers[i], when[i], t);
        sbuf_adds(b, "SELECT RAISE(ABORT, '" FENCE_MESSAGE "'); END;\n");
    }
}

/* ---- creating and dropping our objects ----------------------------------- */

/* DDL on the tables of a migration, with cutover's objects in the file as
 * they were when it began: what stands under a name, and whose it is,
 * decides whether we may create it (free, or ours) and drop it (ours). */
struct ddl {
    struct source *s;
    struct owned_objects have;
    struct sbuf sql;
};

typedef int (*table_ddl_fn)(struct ddl *d, const struct table *t,
                            struct co_err *err);

static const struct owned_object *existing(const struct ddl *d,
                                           const char *prefix,
                                           const struct table *t)
{
    char name[1024];

    name_of(name, sizeof name, prefix, t);
    return owned_objects_find(&d->have, name);
}

/* The names we are about to create must be free or ours already. */
static int names_free(const struct ddl *d, const char *const *prefixes,
                      int n, const struct table *t, struct co_err *err)
{
    for (int i = 0; i < n && prefixes[i]; i++) {
        const struct owned_object *o = existing(d, prefixes[i], t);
        if (!o || owned_by(o, sq_owner(d->s)))
            continue;
        return co_errf(err, CO_ESOURCE, "the source already has %s %s, %s%s; "
                       "cutover never reuses or drops objects another "
                       "migration made (`cutover plan` lists them)",
                       o->kind, o->name, o->owner[0] ? "made by migration " :
                       "which carries no migration id", o->owner);
    }
    return 0;
}

static void drop_ours(struct ddl *d, const char *kind, const char *prefix,
                      const struct table *t)
{
    const struct owned_object *o = existing(d, prefix, t);

    if (!o || !owned_by(o, sq_owner(d->s)))
        return;
    sbuf_addf(&d->sql, "DROP %s ", kind);
    sbuf_ident(&d->sql, o->name, '"');
    sbuf_adds(&d->sql, ";\n");
}

static void drop_capture_triggers(struct ddl *d, const struct table *t)
{
    for (int i = 0; capture_triggers[i]; i++)
        drop_ours(d, "TRIGGER", capture_triggers[i], t);
}

static int capture_ddl(struct ddl *d, const struct table *t,
                       struct co_err *err)
{
    int rc = names_free(d, log_table, 1, t, err);

    if (rc == 0)
        rc = names_free(d, capture_triggers, has_secondary_unique(t) ? 5 : 3,
                        t, err);
    if (rc == 0)
        build_capture(&d->sql, d->s, t);
    return rc;
}

static int remove_capture_ddl(struct ddl *d, const struct table *t,
                              struct co_err *err)
{
    (void)err;
    drop_capture_triggers(d, t);
    drop_ours(d, "TABLE", LOG_PREFIX, t);
    return 0;
}

static int fence_ddl(struct ddl *d, const struct table *t, struct co_err *err)
{
    int rc = names_free(d, fence_triggers, 3, t, err);

    if (rc < 0)
        return rc;
    drop_capture_triggers(d, t);
    build_fence(&d->sql, d->s, t);
    return 0;
}

static int remove_fence_ddl(struct ddl *d, const struct table *t,
                            struct co_err *err)
{
    (void)err;
    for (int i = 0; fence_triggers[i]; i++)
        drop_ours(d, "TRIGGER", fence_triggers[i], t);
    return 0;
}

/* Run `fn`'s DDL for every table, in the current transaction. */
static int for_tables(struct source *s, const struct schema *sc,
                      table_ddl_fn fn, struct co_err *err, const char *what)
{
    struct ddl d = {.s = s};
    int rc = sq_cutover_objects(s, &d.have, err);

    sbuf_init(&d.sql);
    for (int i = 0; i < sc->ntables && rc == 0; i++) {
        sbuf_reset(&d.sql);
        if ((rc = fn(&d, &sc->tables[i], err)) == 0 && d.sql.oom)
            rc = co_errf(err, CO_ENOMEM, "out of memory");
        else if (rc == 0 && d.sql.len > 0)
            rc = sq_exec(s, sbuf_str(&d.sql), err, what);
        if (rc < 0)
            co_err_prefix(err, "table %s", sc->tables[i].name);
    }
    sbuf_free(&d.sql);
    owned_objects_free(&d.have);
    return rc;
}

static int in_immediate(struct source *s, struct co_err *err,
                        int (*body)(struct source *, const struct schema *,
                                    struct co_err *),
                        const struct schema *sc)
{
    int rc = sq_exec(s, "BEGIN IMMEDIATE", err, "taking the write lock");

    if (rc < 0)
        return rc;
    rc = body(s, sc, err);
    if (rc < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return sq_exec(s, "COMMIT", err, "committing");
}

static int install_body(struct source *s, const struct schema *sc,
                        struct co_err *err)
{
    return for_tables(s, sc, capture_ddl, err, "installing change capture");
}

int sqlite_capture_install(struct source *s, const struct schema *sc,
                           struct co_err *err)
{
    return in_immediate(s, err, install_body, sc);
}

static int remove_body(struct source *s, const struct schema *sc,
                       struct co_err *err)
{
    return for_tables(s, sc, remove_capture_ddl, err,
                      "removing change capture");
}

static int remove_with_fence_body(struct source *s, const struct schema *sc,
                                  struct co_err *err)
{
    int rc = for_tables(s, sc, remove_fence_ddl, err,
                        "removing the write fence");
    return rc < 0 ? rc : remove_body(s, sc, err);
}

/* How many of the owner's objects are there, and how many of them are
 * fence triggers? */
static int count_ours(struct source *s, int *ours, int *fences,
                      struct co_err *err)
{
    struct owned_objects have;
    int rc = sq_cutover_objects(s, &have, err);

    *ours = *fences = 0;
    for (int i = 0; rc == 0 && i < have.n; i++) {
        if (!owned_by(&have.v[i], sq_owner(s)))
            continue;
        (*ours)++;
        *fences += strncasecmp(have.v[i].name, FENCE_PREFIX,
                               strlen(FENCE_PREFIX)) == 0;
    }
    owned_objects_free(&have);
    return rc;
}

int sqlite_capture_remove(struct source *s, const struct schema *sc,
                          int keep_fence, struct co_err *err)
{
    int ours, fences, rc;

    /* Nothing left (a rollback dropped it with the fence): no write
     * transaction on the application's database at all. */
    if ((rc = count_ours(s, &ours, &fences, err)) < 0)
        return rc;
    if (ours == (keep_fence ? fences : 0))
        return 0;
    return in_immediate(s, err, keep_fence ? remove_body
                                           : remove_with_fence_body, sc);
}

/* Is one of our objects named prefix+table (or, without a table, any of
 * ours whose name starts with prefix) there? */
static int have_ours(struct source *s, const char *prefix,
                     const struct table *t, int *out, struct co_err *err)
{
    struct owned_objects have;
    char name[1024];
    int rc = sq_cutover_objects(s, &have, err);

    *out = 0;
    if (t)
        name_of(name, sizeof name, prefix, t);
    for (int i = 0; rc == 0 && i < have.n && !*out; i++)
        *out = owned_by(&have.v[i], sq_owner(s)) &&
               (t ? strcasecmp(have.v[i].name, name) == 0
                  : strncasecmp(have.v[i].name, prefix, strlen(prefix)) == 0);
    owned_objects_free(&have);
    return rc;
}

int sqlite_capture_installed(struct source *s, const struct table *t,
                             int *out, struct co_err *err)
{
    return have_ours(s, "_cutover_ai_", t, out, err);
}

/* ---- reading and trimming the log --------------------------------------- */

/* After completion or abort the log tables are gone; reading "nothing"
 * then is right (standalone verify of a finished migration). */
static int log_gone(struct source *s)
{
    return strstr(sqlite3_errmsg(s->db), "no such table") != NULL;
}

/* The log's key compared with a bound, as a placeholder bound later
 * (bind_scope): the log's key columns carry the source's collations. */
static void key_placeholder(void *arg, struct sbuf *b,
                            const struct tuple *bound, int upper)
{
    (void)bound;
    sq_key_compare(b, arg, "", upper ? "<=" : ">");
}

static void bind_scope(sqlite3_stmt *st, int first, const struct table *t,
                       const struct apply_scope *scope)
{
    int idx = first;

    if (scope->all)
        return;
    for (int r = 0; r < scope->nranges; r++) {
        const struct tuple *up = scope->frontiers[r];
        if (!up)
            continue;
        if (scope->ranges[r].lo && scope->ranges[r].lo->n) {
            sq_bind_tuple(st, idx, scope->ranges[r].lo);
            idx += t->nkey;
        }
        if (up->n) {
            sq_bind_tuple(st, idx, up);
            idx += t->nkey;
        }
    }
}

/* read_keys: the distinct keys logged in (after, upto], inside the scope
 * or outside it. */
static int read_keys(struct source *s, const struct table *t, int64_t after,
                     int64_t upto, const struct apply_scope *scope,
                     int inside, int *n, struct tuple **keys,
                     struct co_err *err)
{
    struct sbuf sql;
    sqlite3_stmt *st;
    int rc, any, cap = 0;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT DISTINCT ");
    sq_key_list(&sql, t, "");
    sbuf_adds(&sql, " FROM ");
    object_name(&sql, LOG_PREFIX, t);
    sbuf_adds(&sql, " WHERE seq > ? AND seq <= ?");
    log_scope_filter(&sql, scope, inside ? " AND " : " AND NOT ",
                     key_placeholder, (void *)t, &any);
    if (!any && inside) {
        sbuf_free(&sql);
        return 0;             /* nothing copied yet: nothing in the scope */
    }
    rc = sq_prepare(s, sbuf_str(&sql), &st, err, "reading the change log");
    sbuf_free(&sql);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, upto);
    bind_scope(st, 3, t, scope);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct value vals[64];
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            *keys = xrealloc(*keys, sizeof **keys * (size_t)cap);
        }
        for (int k = 0; k < t->nkey; k++)
            sq_column_value(st, k, &vals[k]);
        memset(&(*keys)[*n], 0, sizeof **keys);
        tuple_set(&(*keys)[(*n)++], vals, t->nkey);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sq_error(s, rc, err, "reading the change log");
}

int sqlite_log_read(struct source *s, const struct table *t,
                    int64_t after_seq, int64_t limit,
                    const struct apply_scope *scope, struct log_batch *out,
                    struct co_err *err)
{
    struct sbuf sql;
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof *out);
    out->last_seq = after_seq;
    /* How far this batch reaches, whether or not its keys apply. */
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT max(seq), count(*) FROM (SELECT seq FROM ");
    object_name(&sql, LOG_PREFIX, t);
    sbuf_adds(&sql, " WHERE seq > ?1 ORDER BY seq LIMIT ?2)");
    rc = sq_prepare(s, sbuf_str(&sql), &st, err, "reading the change log");
    if (rc < 0 && log_gone(s))
        rc = 0;               /* capture removed (migration over): no log */
    if (rc < 0 || !st)
        goto out;
    sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int64(st, 2, limit);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        out->last_seq = sqlite3_column_int64(st, 0);
        out->entries = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        rc = sq_error(s, rc, err, "reading the change log");
        goto out;
    }
    rc = 0;
    if (out->last_seq == after_seq)
        goto out;
    /* the keys to apply (none before anything is copied) */
    rc = read_keys(s, t, after_seq, out->last_seq, scope, 1, &out->nkeys,
                   &out->keys, err);
    /* and those past the frontier (all of them before anything is
     * copied) */
    if (rc == 0 && !scope->all)
        rc = read_keys(s, t, after_seq, out->last_seq, scope, 0,
                       &out->nahead, &out->ahead, err);
out:
    sbuf_free(&sql);
    if (rc < 0)
        co_err_prefix(err, "table %s", t->name);
    return rc;
}

void sqlite_log_batch_free(struct log_batch *b)
{
    log_batch_release(b);
}

int sqlite_log_stats(struct source *s, const struct table *t,
                     int64_t after_seq, struct log_stats *out,
                     struct co_err *err)
{
    struct sbuf sql;
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof *out);
    sbuf_init(&sql);
    /* Seqs are dense above the applied seq (trimming only removes applied
     * ones), so the backlog is a subtraction, not a count. */
    sbuf_adds(&sql, "SELECT (SELECT max(seq) FROM ");
    object_name(&sql, LOG_PREFIX, t);
    sbuf_adds(&sql, "), (SELECT (at - 2440587.5) * 86400.0 FROM ");
    object_name(&sql, LOG_PREFIX, t);
    sbuf_adds(&sql, " WHERE seq > ?1 ORDER BY seq LIMIT 1)");
    rc = sq_prepare(s, sbuf_str(&sql), &st, err, "reading the change log");
    sbuf_free(&sql);
    if (rc < 0 && log_gone(s))
        return 0;             /* capture removed (migration over): no log */
    if (rc < 0)
        return co_err_prefix(err, "table %s", t->name);
    sqlite3_bind_int64(st, 1, after_seq);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->max_seq = sqlite3_column_int64(st, 0);
        out->oldest_at = sqlite3_column_double(st, 1);
        out->backlog = out->max_seq > after_seq ? out->max_seq - after_seq : 0;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return co_err_prefix(err, "table %s", t->name),
               sq_error(s, rc, err, "reading the change log");
    return 0;
}

int sqlite_log_trim(struct source *s, const struct table *t, int64_t upto_seq,
                    struct co_err *err)
{
    struct sbuf sql;
    sqlite3_stmt *st;
    int rc;

    /* A range of the rowid: the quickest delete, so the shortest lock.
     * The newest entry stays: the next seq is max + 1, and an empty log
     * would hand out seqs the applier has already passed. */
    sbuf_init(&sql);
    sbuf_adds(&sql, "DELETE FROM ");
    object_name(&sql, LOG_PREFIX, t);
    sbuf_adds(&sql, " WHERE seq <= ?1 AND seq < (SELECT max(seq) FROM ");
    object_name(&sql, LOG_PREFIX, t);
    sbuf_adds(&sql, ")");
    rc = sq_prepare(s, sbuf_str(&sql), &st, err, "trimming the change log");
    sbuf_free(&sql);
    if (rc < 0)
        return co_err_prefix(err, "table %s", t->name);
    sqlite3_bind_int64(st, 1, upto_seq);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return co_err_prefix(err, "table %s", t->name),
               sq_error(s, rc, err, "trimming the change log");
    return 0;
}

/* ---- the write lock, the fence, rollback writes --------------------------- */

int sqlite_freeze_writes(struct source *s, const struct schema *sc,
                         int wait_ms, struct co_err *err)
{
    int rc;

    (void)sc;          /* the database's one write lock covers every table */
    sqlite3_busy_timeout(s->db, wait_ms);
    rc = sq_exec(s, "BEGIN IMMEDIATE", err, "taking the write lock");
    sqlite3_busy_timeout(s->db, s->busy_timeout_ms);
    if (rc == 0)
        s->in_write = 1;
    return rc;
}

int sqlite_thaw_commit(struct source *s, struct co_err *err)
{
    int rc = sq_exec(s, "COMMIT", err, "committing");

    if (rc == 0)
        s->in_write = 0;
    return rc;
}

void sqlite_thaw(struct source *s)
{
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_write = 0;
}

/* The fence triggers in the freeze's own transaction: the commit that ends
 * the freeze is the one that makes the fence durable. */
int sqlite_fence_commit(struct source *s, const struct schema *sc,
                        struct co_err *err)
{
    int rc = for_tables(s, sc, fence_ddl, err, "installing the write fence");

    if (rc < 0)
        return rc;
    fault_point("cutover", "before_fence_commit");
    return sqlite_thaw_commit(s, err);
}

int sqlite_fence_remove(struct source *s, const struct schema *sc,
                        int restore_capture, struct co_err *err)
{
    int rc = for_tables(s, sc, remove_fence_ddl, err,
                        "removing the write fence");
    if (rc < 0)
        return rc;
    if (restore_capture)
        return for_tables(s, sc, capture_ddl, err,
                          "restoring change capture");
    /* Ending: the logs go in this transaction too, before the application
     * writes here again, rather than in one more commit afterwards. */
    return remove_body(s, sc, err);
}

int sqlite_fence_installed(struct source *s, const struct schema *sc,
                           int *out, struct co_err *err)
{
    (void)sc;
    return have_ours(s, FENCE_PREFIX, NULL, out, err);
}

static void build_put(struct sbuf *b, const struct table *t)
{
    sbuf_adds(b, "INSERT OR REPLACE INTO ");
    sbuf_ident(b, t->name, '"');
    sbuf_adds(b, " (");
    sq_select_list(b, t);
    sbuf_adds(b, ") VALUES (");
    for (int i = 0; i < t->ncols; i++)
        sbuf_adds(b, i ? ", ?" : "?");
    sbuf_addc(b, ')');
}

static void build_delete(struct sbuf *b, const struct table *t)
{
    sbuf_adds(b, "DELETE FROM ");
    sbuf_ident(b, t->name, '"');
    sbuf_adds(b, " WHERE ");
    sq_key_equal(b, t, NULL);
}

int sqlite_put_row(struct source *s, const struct table *t,
                   const struct tuple *key, const struct value *row,
                   struct co_err *err)
{
    sqlite3_stmt *st = sq_cached(s, t, row ? 1 : 2,
                                 row ? build_put : build_delete, err);
    int rc;

    if (!st)
        return co_err_prefix(err, "table %s", t->name);
    if (row)
        for (int i = 0; i < t->ncols; i++)
            sq_bind_value(st, i + 1, &row[i]);
    else
        sq_bind_tuple(st, 1, key);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return co_err_prefix(err, "table %s", t->name),
               sq_error(s, rc, err, "writing a row back");
    return 0;
}

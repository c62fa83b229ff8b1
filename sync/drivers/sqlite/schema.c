/* schema.c — reading a SQLite database's schema: tables, columns
 * (with declared types, defaults and collations), indexes, foreign keys,
 * the key each table is matched by, views and triggers. Part of the SQLite
 * source driver (source.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/runbook.h"
#include "sync/drivers/sqlite/sqlite_priv.h"
#include "lib/xalloc.h"

/* ---- schema ------------------------------------------------------------- */

static char *dup_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

static int read_columns(struct source *s, struct table *t, struct co_err *err)
{
    struct sbuf sql;
    sqlite3_stmt *st;
    int rc, n = 0, cap = 8;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT name, type, \"notnull\", dflt_value, pk, hidden "
                    "FROM pragma_table_xinfo(");
    sbuf_ident(&sql, t->name, '\'');
    sbuf_adds(&sql, ") ORDER BY cid");
    rc = sq_prepare(s, sbuf_str(&sql), &st, err, "reading columns");
    sbuf_free(&sql);
    if (rc < 0)
        return rc;
    t->cols = xcalloc((size_t)cap, sizeof *t->cols);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct column *c;
        const char *coll = NULL, *dtype = NULL;
        int notnull, pk, autoinc;
        if (n + 2 >= cap) {
            cap *= 2;
            t->cols = xrealloc(t->cols, (size_t)cap * sizeof *t->cols);
        }
        c = &t->cols[n];
        memset(c, 0, sizeof *c);
        c->name = dup_text(st, 0);
        c->decl = dup_text(st, 1);
        if (!c->decl)
            c->decl = xstrdup("");
        c->notnull = sqlite3_column_int(st, 2);
        c->dflt = dup_text(st, 3);
        c->pk = sqlite3_column_int(st, 4);
        c->hidden = sqlite3_column_int(st, 5) != 0;
        if (sqlite3_table_column_metadata(s->db, NULL, t->name, c->name, &dtype,
                                          &coll, &notnull, &pk, &autoinc) ==
            SQLITE_OK) {
            c->coll = xstrdup(coll ? coll : "BINARY");
            if (autoinc)
                t->autoinc = 1;
        } else {
            c->coll = xstrdup("BINARY");
        }
        n++;
    }
    sqlite3_finalize(st);
    t->ncols = n;
    if (rc != SQLITE_DONE)
        return sq_error(s, rc, err, "reading columns");
    /* Generated columns are computed, not stored: they are not copied. */
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i].hidden) {
            free(t->cols[i].name);
            free(t->cols[i].decl);
            free(t->cols[i].coll);
            free(t->cols[i].dflt);
            memmove(&t->cols[i], &t->cols[i + 1],
                    sizeof t->cols[0] * (size_t)(t->ncols - i - 1));
            t->ncols--;
            i--;
        }
    return 0;
}

static int read_indexes(struct source *s, struct table *t, struct co_err *err)
{
    struct sbuf sql;
    sqlite3_stmt *st, *cols;
    int rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT name, \"unique\", origin, partial FROM "
                    "pragma_index_list(");
    sbuf_ident(&sql, t->name, '\'');
    sbuf_adds(&sql, ") ORDER BY seq DESC");
    rc = sq_prepare(s, sbuf_str(&sql), &st, err, "reading indexes");
    sbuf_free(&sql);
    if (rc < 0)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct index *ix;
        const char *origin = (const char *)sqlite3_column_text(st, 2);
        t->idx = xrealloc(t->idx, sizeof *t->idx * (size_t)(t->nidx + 1));
        ix = &t->idx[t->nidx++];
        memset(ix, 0, sizeof *ix);
        ix->name = dup_text(st, 0);
        ix->unique = sqlite3_column_int(st, 1);
        ix->partial = sqlite3_column_int(st, 3);
        if (origin && strcmp(origin, "pk") == 0) {
            /* The primary key index; the key is taken from the columns. */
            ix->unique = 2;
        }
        sbuf_init(&sql);
        sbuf_adds(&sql, "SELECT cid, \"desc\", coll, name FROM "
                        "pragma_index_xinfo(");
        sbuf_ident(&sql, ix->name, '\'');
        sbuf_adds(&sql, ") WHERE key = 1 ORDER BY seqno");
        rc = sq_prepare(s, sbuf_str(&sql), &cols, err, "reading index columns");
        sbuf_free(&sql);
        if (rc < 0) {
            sqlite3_finalize(st);
            return rc;
        }
        while (sqlite3_step(cols) == SQLITE_ROW) {
            int cid = sqlite3_column_int(cols, 0);
            const char *cname = (const char *)sqlite3_column_text(cols, 3);
            int pos = cname ? table_column(t, cname) : -1;
            ix->cols = xrealloc(ix->cols, sizeof(int) * (size_t)(ix->ncols + 1));
            ix->desc = xrealloc(ix->desc, sizeof(int) * (size_t)(ix->ncols + 1));
            ix->colls = xrealloc(ix->colls,
                                sizeof(char *) * (size_t)(ix->ncols + 1));
            ix->cols[ix->ncols] = pos;
            ix->desc[ix->ncols] = sqlite3_column_int(cols, 1);
            ix->colls[ix->ncols] = dup_text(cols, 2);
            /* -2: an expression; -1: the rowid (only in odd WITHOUT ROWID
             * setups); both cannot be recreated as a plain index. */
            if (pos < 0 || cid < 0)
                ix->expr = 1;
            ix->ncols++;
        }
        sqlite3_finalize(cols);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sq_error(s, rc, err, "reading indexes");
}

static int read_foreign_keys(struct source *s, struct table *t,
                             struct co_err *err)
{
    struct sbuf sql;
    sqlite3_stmt *st;
    int rc, last_id = -1;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT id, \"table\", \"from\", \"to\", on_update, "
                    "on_delete FROM pragma_foreign_key_list(");
    sbuf_ident(&sql, t->name, '\'');
    sbuf_adds(&sql, ") ORDER BY id, seq");
    rc = sq_prepare(s, sbuf_str(&sql), &st, err, "reading foreign keys");
    sbuf_free(&sql);
    if (rc < 0)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fkey *fk;
        int id = sqlite3_column_int(st, 0);
        if (id != last_id) {
            t->fk = xrealloc(t->fk, sizeof *t->fk * (size_t)(t->nfk + 1));
            fk = &t->fk[t->nfk++];
            memset(fk, 0, sizeof *fk);
            fk->ref_table = dup_text(st, 1);
            fk->on_update = dup_text(st, 4);
            fk->on_delete = dup_text(st, 5);
            last_id = id;
        }
        fk = &t->fk[t->nfk - 1];
        fk->from = xrealloc(fk->from, sizeof(char *) * (size_t)(fk->ncols + 1));
        fk->to = xrealloc(fk->to, sizeof(char *) * (size_t)(fk->ncols + 1));
        fk->from[fk->ncols] = dup_text(st, 2);
        fk->to[fk->ncols] = dup_text(st, 3);
        fk->ncols++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sq_error(s, rc, err, "reading foreign keys");
}

int sqlite_has_rowid(struct source *s, const struct table *t)
{
    struct sbuf sql;
    sqlite3_stmt *st = NULL;
    int ok;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT rowid FROM ");
    sbuf_ident(&sql, t->name, '"');
    sbuf_adds(&sql, " LIMIT 0");
    ok = sqlite3_prepare_v2(s->db, sbuf_str(&sql), -1, &st, NULL) == SQLITE_OK;
    sqlite3_finalize(st);
    sbuf_free(&sql);
    return ok;
}

/* Decide the key: runbook choice, else the primary key, else a unique
 * index over NOT NULL columns. Tables with none keep nkey == 0 and are
 * reported by pre-validation. */
static void resolve_key(struct table *t, const struct runbook *rb,
                        int without_rowid)
{
    const struct rb_key_choice *kc = runbook_key_choice(rb, t->name);
    int npk = 0;

    if (kc && kc->rowid && !without_rowid &&
        table_column(t, "rowid") < 0) {
        struct column *c = &t->cols[t->ncols];
        memset(c, 0, sizeof *c);
        c->name = xstrdup(ROWID_COLUMN);
        c->decl = xstrdup("INTEGER");
        c->coll = xstrdup("BINARY");
        c->notnull = 1;
        c->is_rowid = 1;
        t->ncols++;
        t->key = xmalloc(sizeof(int));
        t->key[0] = t->ncols - 1;
        t->nkey = 1;
        t->rowid_key = 1;
        return;
    }
    if (kc && kc->columns) {
        table_key_by_names(t, kc->columns, kc->ncolumns);
        return;
    }
    for (int i = 0; i < t->ncols; i++)
        npk += t->cols[i].pk > 0;
    if (npk > 0) {
        t->key = xcalloc((size_t)npk, sizeof(int));
        for (int i = 0; i < t->ncols; i++)
            if (t->cols[i].pk > 0)
                t->key[t->cols[i].pk - 1] = i;
        t->nkey = npk;
        t->int_key = npk == 1 && !without_rowid &&
                     strcasecmp(t->cols[t->key[0]].decl, "INTEGER") == 0;
        return;
    }
    for (int i = t->nidx - 1; i >= 0; i--) {
        struct index *ix = &t->idx[i];
        int ok = ix->unique && !ix->partial && !ix->expr && ix->ncols > 0;
        for (int k = 0; ok && k < ix->ncols; k++)
            ok = ix->cols[k] >= 0 && t->cols[ix->cols[k]].notnull;
        if (!ok)
            continue;
        t->key = xcalloc((size_t)ix->ncols, sizeof(int));
        memcpy(t->key, ix->cols, sizeof(int) * (size_t)ix->ncols);
        t->nkey = ix->ncols;
        t->key_from_unique = 1;
        return;
    }
}

static int read_table(struct source *s, const struct runbook *rb,
                      struct table *t, struct co_err *err)
{
    int rc;

    if ((rc = read_columns(s, t, err)) < 0 ||
        (rc = read_indexes(s, t, err)) < 0 ||
        (rc = read_foreign_keys(s, t, err)) < 0)
        return co_err_prefix(err, "table %s", t->name);
    resolve_key(t, rb, !sqlite_has_rowid(s, t));
    return 0;
}

/* "REFERENCES parent" without columns means the parent's primary key. */
static void resolve_fk_targets(struct schema *sc, struct table *t)
{
    for (int i = 0; i < t->nfk; i++) {
        struct fkey *fk = &t->fk[i];
        struct table *ref = schema_table(sc, fk->ref_table);
        for (int c = 0; c < fk->ncols; c++) {
            if (fk->to[c] || !ref || c >= ref->nkey)
                continue;
            fk->to[c] = xstrdup(ref->cols[ref->key[c]].is_rowid
                                   ? "rowid" : ref->cols[ref->key[c]].name);
        }
    }
}

static int read_names(struct source *s, const char *type, char ***out,
                      int *n, struct co_err *err)
{
    sqlite3_stmt *st;
    char sql[160];
    int rc;

    snprintf(sql, sizeof sql, "SELECT name FROM sqlite_master WHERE type = "
             "'%s' AND name NOT LIKE '\\_cutover\\_%%' ESCAPE '\\' ORDER BY "
             "name", type);
    if ((rc = sq_prepare(s, sql, &st, err, "reading the schema")) < 0)
        return rc;
    while (sqlite3_step(st) == SQLITE_ROW) {
        *out = xrealloc(*out, sizeof(char *) * (size_t)(*n + 1));
        (*out)[(*n)++] = dup_text(st, 0);
    }
    sqlite3_finalize(st);
    return 0;
}

int sqlite_schema_version(struct source *s, int64_t *out,
                          struct co_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if ((rc = sq_prepare(s, "PRAGMA schema_version", &st, err,
                         "reading schema_version")) < 0)
        return rc;
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : sq_error(s, rc, err, "schema_version");
}

int sqlite_read_schema(struct source *s, const struct runbook *rb,
                       struct schema *out, struct co_err *err)
{
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = sq_exec(s, "BEGIN", err, "reading the schema")) < 0)
        return rc;
    rc = sq_prepare(s, "SELECT name, sql FROM sqlite_master WHERE type = "
                       "'table' ORDER BY name", &st, err, "reading the schema");
    if (rc < 0)
        goto done;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        struct table *t;
        if (!name || !runbook_table_selected(rb, name))
            continue;
        out->tables = xrealloc(out->tables,
                              sizeof *out->tables * (size_t)(out->ntables + 1));
        t = &out->tables[out->ntables++];
        memset(t, 0, sizeof *t);
        t->name = xstrdup(name);
        t->sql = dup_text(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        rc = sq_error(s, rc, err, "reading the schema");
        goto done;
    }
    rc = 0;
    for (int i = 0; i < out->ntables && rc == 0; i++) {
        /* room for a synthetic rowid column */
        rc = read_table(s, rb, &out->tables[i], err);
        if (rc == 0 && out->tables[i].cols)
            out->tables[i].cols = xrealloc(out->tables[i].cols,
                sizeof(struct column) * (size_t)(out->tables[i].ncols + 1));
    }
    for (int i = 0; i < out->ntables && rc == 0; i++)
        resolve_fk_targets(out, &out->tables[i]);
    if (rc == 0)
        rc = read_names(s, "view", &out->views, &out->nviews, err);
    if (rc == 0)
        rc = read_names(s, "trigger", &out->triggers, &out->ntriggers, err);
    if (rc == 0)
        rc = sqlite_schema_version(s, &out->schema_version, err);
done:
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc < 0)
        schema_free(out);
    return rc;
}


/*
 * source_schema.c — a MySQL/MariaDB source's schema, read from
 * information_schema: tables, columns with their declared types and
 * collations, the key each table is copied by, indexes, foreign keys, and
 * the views and triggers that will not move; a census of each table in
 * one pass; and each column's type on the target.
 *
 * Types, MySQL to MySQL: the column's own declared type is its type on
 * the target, collation included, and the logical type the target driver
 * reads from it (ltype.c) says what its values are. Another target engine
 * renders the logical type in its own words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "lib/runbook.h"
#include "lib/xalloc.h"
#include "sync/drivers/mysql/source_priv.h"
#include "sync/typemap.h"

/* Rows of `sql` (freed), or NULL with err set. */
static MYSQL_RES *query(struct source *s, struct sbuf *sql,
                        struct co_err *err, const char *what)
{
    MYSQL_RES *res = NULL;

    if (sql->oom)
        co_errf(err, CO_ENOMEM, "out of memory");
    else if (mysql_query(s->c->my, sbuf_str(sql)) != 0 ||
             !(res = mysql_store_result(s->c->my)))
        my_error(s->c, err, "%s", what);
    sbuf_free(sql);
    return res;
}

/* "... WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'name'" */
static void of_table(struct source *s, struct sbuf *b, const char *name)
{
    sbuf_adds(b, " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ");
    my_string(s->c, b, name);
}

static char *dup_or_null(const char *v)
{
    return v ? xstrdup(v) : NULL;
}

static int read_columns(struct source *s, struct table *t, struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;
    int n = 0;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, "
                    "COLUMN_DEFAULT, EXTRA, COLLATION_NAME "
                    "FROM information_schema.COLUMNS");
    of_table(s, &sql, t->name);
    sbuf_adds(&sql, " ORDER BY ORDINAL_POSITION");
    if (!(res = query(s, &sql, err, "reading columns")))
        return CO_ESOURCE;
    t->cols = xcalloc(mysql_num_rows(res) + 1, sizeof *t->cols);
    while ((r = mysql_fetch_row(res))) {
        struct column *c = &t->cols[n];
        const char *extra = r[4] ? r[4] : "";
        /* generated columns are computed, not copied */
        if (strcasestr(extra, "GENERATED"))
            continue;
        c->name = xstrdup(r[0]);
        c->decl = xstrdup(r[1]);
        c->notnull = strcmp(r[2], "NO") == 0;
        /* MariaDB writes a NULL default as the word NULL */
        c->dflt = r[3] && strcasecmp(r[3], "NULL") != 0 ? xstrdup(r[3]) : NULL;
        c->coll = xstrdup(r[5] ? r[5] : "BINARY");
        if (strcasestr(extra, "auto_increment"))
            t->autoinc = 1;
        n++;
    }
    mysql_free_result(res);
    t->ncols = n;
    return 0;
}

/* MariaDB's JSON is LONGTEXT with a CHECK (json_valid(`col`)): such a
 * column is declared json, as MySQL's own JSON is (a server without
 * CHECK_CONSTRAINTS has no such columns). */
static void read_json_columns(struct source *s, struct table *t)
{
    struct co_err ignored = {0};
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT CHECK_CLAUSE FROM information_schema."
                    "CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() "
                    "AND TABLE_NAME = ");
    my_string(s->c, &sql, t->name);
    if (!(res = query(s, &sql, &ignored, "reading CHECK constraints")))
        return;
    while ((r = mysql_fetch_row(res)))
        for (int i = 0; r[0] && i < t->ncols; i++) {
            char want[200];
            snprintf(want, sizeof want, "json_valid(`%s`)", t->cols[i].name);
            if (strcmp(r[0], want) == 0 &&
                strncmp(t->cols[i].decl, "longtext", 8) == 0) {
                free(t->cols[i].decl);
                t->cols[i].decl = xstrdup("json");
            }
        }
    mysql_free_result(res);
}

static struct index *index_named(struct table *t, const char *name)
{
    for (int i = 0; i < t->nidx; i++)
        if (strcmp(t->idx[i].name, name) == 0)
            return &t->idx[i];
    t->idx = xrealloc(t->idx, sizeof *t->idx * (size_t)(t->nidx + 1));
    memset(&t->idx[t->nidx], 0, sizeof *t->idx);
    t->idx[t->nidx].name = xstrdup(name);
    return &t->idx[t->nidx++];
}

/* Indexes, the primary key among them (unique == 2, its columns' pk set).
 * FULLTEXT and SPATIAL indexes, and indexes on expressions, cannot be
 * made from a column list: they are marked expr and reported. */
static int read_indexes(struct source *s, struct table *t, struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, COLLATION, "
                    "INDEX_TYPE FROM information_schema.STATISTICS");
    of_table(s, &sql, t->name);
    sbuf_adds(&sql, " ORDER BY INDEX_NAME, SEQ_IN_INDEX");
    if (!(res = query(s, &sql, err, "reading indexes")))
        return CO_ESOURCE;
    while ((r = mysql_fetch_row(res))) {
        struct index *ix = index_named(t, r[0]);
        int pos = r[2] ? table_column(t, r[2]) : -1;
        int primary = strcmp(r[0], "PRIMARY") == 0;
        ix->unique = primary ? 2 : strcmp(r[1], "0") == 0;
        ix->cols = xrealloc(ix->cols, sizeof(int) * (size_t)(ix->ncols + 1));
        ix->desc = xrealloc(ix->desc, sizeof(int) * (size_t)(ix->ncols + 1));
        ix->colls = xrealloc(ix->colls,
                             sizeof(char *) * (size_t)(ix->ncols + 1));
        ix->cols[ix->ncols] = pos;
        ix->desc[ix->ncols] = r[3] && strcmp(r[3], "D") == 0;
        ix->colls[ix->ncols] = pos >= 0 ? dup_or_null(t->cols[pos].coll)
                                        : NULL;
        if (pos < 0 || (r[4] && strcmp(r[4], "BTREE") != 0 &&
                        strcmp(r[4], "HASH") != 0))
            ix->expr = 1;
        ix->ncols++;
        if (primary && pos >= 0)
            t->cols[pos].pk = ix->ncols;
    }
    mysql_free_result(res);
    return 0;
}

static int read_foreign_keys(struct source *s, struct table *t,
                             struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;
    char last[200] = "";

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, "
                    "k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, "
                    "c.UPDATE_RULE, c.DELETE_RULE "
                    "FROM information_schema.KEY_COLUMN_USAGE k "
                    "JOIN information_schema.REFERENTIAL_CONSTRAINTS c "
                    "ON c.CONSTRAINT_SCHEMA = k.TABLE_SCHEMA AND "
                    "c.TABLE_NAME = k.TABLE_NAME AND "
                    "c.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
                    "WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = ");
    my_string(s->c, &sql, t->name);
    sbuf_adds(&sql, " AND k.REFERENCED_TABLE_NAME IS NOT NULL "
                    "ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION");
    if (!(res = query(s, &sql, err, "reading foreign keys")))
        return CO_ESOURCE;
    while ((r = mysql_fetch_row(res))) {
        struct fkey *fk;
        if (t->nfk == 0 || strcmp(last, r[0]) != 0) {
            snprintf(last, sizeof last, "%s", r[0]);
            t->fk = xrealloc(t->fk, sizeof *t->fk * (size_t)(t->nfk + 1));
            fk = &t->fk[t->nfk++];
            memset(fk, 0, sizeof *fk);
            fk->ref_table = xstrdup(r[2]);
            fk->on_update = dup_or_null(r[4]);
            fk->on_delete = dup_or_null(r[5]);
        }
        fk = &t->fk[t->nfk - 1];
        fk->from = xrealloc(fk->from, sizeof(char *) * (size_t)(fk->ncols + 1));
        fk->to = xrealloc(fk->to, sizeof(char *) * (size_t)(fk->ncols + 1));
        fk->from[fk->ncols] = xstrdup(r[1]);
        fk->to[fk->ncols] = dup_or_null(r[3]);
        fk->ncols++;
    }
    mysql_free_result(res);
    return 0;
}

/* The key: the runbook's choice, else the primary key, else a unique index
 * over NOT NULL columns. None: nkey stays 0 and plan reports it. */
static void resolve_key(struct table *t, const struct runbook *rb)
{
    const struct rb_key_choice *kc = runbook_key_choice(rb, t->name);
    const struct index *pick = NULL;

    if (kc && kc->columns) {
        table_key_by_names(t, kc->columns, kc->ncolumns);
        return;
    }
    for (int i = 0; i < t->nidx && !pick; i++)
        if (t->idx[i].unique == 2 && !t->idx[i].expr)
            pick = &t->idx[i];
    for (int i = 0; i < t->nidx && !pick; i++) {
        const struct index *ix = &t->idx[i];
        int ok = ix->unique && !ix->expr && ix->ncols > 0;
        for (int k = 0; ok && k < ix->ncols; k++)
            ok = t->cols[ix->cols[k]].notnull;
        if (ok) {
            pick = ix;
            t->key_from_unique = 1;
        }
    }
    if (!pick)
        return;
    t->key = xcalloc((size_t)pick->ncols, sizeof(int));
    memcpy(t->key, pick->cols, sizeof(int) * (size_t)pick->ncols);
    t->nkey = pick->ncols;
    /* AUTO_INCREMENT belongs to a key column; only a single-column key's
     * counter is carried over */
    t->autoinc = t->autoinc && t->nkey == 1;
}

/* Names of what the schema has besides tables: `sql` lists them. */
static int read_names(struct source *s, const char *sql, char ***out,
                      int *n, struct co_err *err)
{
    struct sbuf b;
    MYSQL_RES *res;
    MYSQL_ROW r;

    sbuf_init(&b);
    sbuf_adds(&b, sql);
    if (!(res = query(s, &b, err, "reading the schema")))
        return CO_ESOURCE;
    while ((r = mysql_fetch_row(res))) {
        *out = xrealloc(*out, sizeof(char *) * (size_t)(*n + 1));
        (*out)[(*n)++] = xstrdup(r[0]);
    }
    mysql_free_result(res);
    return 0;
}

#define OURS_EXCLUDED " NOT LIKE '\\\\_cutover\\\\_%'"

int smy_read_schema(struct source *s, const struct runbook *rb,
                    struct schema *out, struct co_err *err)
{
    char **names = NULL;
    int nnames = 0, rc;

    memset(out, 0, sizeof *out);
    rc = read_names(s, "SELECT TABLE_NAME FROM information_schema.TABLES "
                       "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = "
                       "'BASE TABLE' AND TABLE_NAME" OURS_EXCLUDED
                       " ORDER BY TABLE_NAME", &names, &nnames, err);
    for (int i = 0; i < nnames && rc == 0; i++) {
        struct table *t;
        if (!runbook_table_selected(rb, names[i]))
            continue;
        out->tables = xrealloc(out->tables,
                               sizeof *out->tables * (size_t)(out->ntables + 1));
        t = &out->tables[out->ntables++];
        memset(t, 0, sizeof *t);
        t->name = xstrdup(names[i]);
        if ((rc = read_columns(s, t, err)) == 0)
            read_json_columns(s, t);
        if (rc < 0 ||
            (rc = read_indexes(s, t, err)) < 0 ||
            (rc = read_foreign_keys(s, t, err)) < 0)
            co_err_prefix(err, "table %s", t->name);
        else
            resolve_key(t, rb);
    }
    for (int i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    if (rc == 0)
        rc = read_names(s, "SELECT TABLE_NAME FROM information_schema.VIEWS "
                           "WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1",
                        &out->views, &out->nviews, err);
    if (rc == 0)
        rc = read_names(s, "SELECT TRIGGER_NAME FROM "
                           "information_schema.TRIGGERS WHERE "
                           "EVENT_OBJECT_SCHEMA = DATABASE() AND TRIGGER_NAME"
                           OURS_EXCLUDED " ORDER BY 1",
                        &out->triggers, &out->ntriggers, err);
    if (rc == 0)
        rc = smy_schema_version(s, &out->schema_version, err);
    if (rc < 0)
        schema_free(out);
    return rc;
}

/* A number that changes when a column, an index or a foreign key of an
 * application table does (our own objects left out): the server has no
 * schema version of its own. */
int smy_schema_version(struct source *s, int64_t *out, struct co_err *err)
{
    static const char *const parts[] = {
        "SELECT CONCAT_WS(',', TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, "
        "COLUMN_TYPE, IS_NULLABLE, COLLATION_NAME, EXTRA) FROM "
        "information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND "
        "TABLE_NAME" OURS_EXCLUDED " ORDER BY TABLE_NAME, ORDINAL_POSITION",
        "SELECT CONCAT_WS(',', TABLE_NAME, INDEX_NAME, NON_UNIQUE, "
        "SEQ_IN_INDEX, COLUMN_NAME) FROM information_schema.STATISTICS WHERE "
        "TABLE_SCHEMA = DATABASE() AND TABLE_NAME" OURS_EXCLUDED
        " ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        "SELECT CONCAT_WS(',', TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, "
        "REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME) FROM "
        "information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = "
        "DATABASE() AND TABLE_NAME" OURS_EXCLUDED " ORDER BY TABLE_NAME, "
        "CONSTRAINT_NAME, ORDINAL_POSITION"};
    uLong crc = crc32(0L, Z_NULL, 0);

    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        struct sbuf sql;
        MYSQL_RES *res;
        MYSQL_ROW r;
        sbuf_init(&sql);
        sbuf_adds(&sql, parts[i]);
        if (!(res = query(s, &sql, err, "reading the schema version")))
            return CO_ESOURCE;
        while ((r = mysql_fetch_row(res)))
            if (r[0])
                crc = crc32(crc, (const Bytef *)r[0],
                            (uInt)strlen(r[0]) + 1);
        mysql_free_result(res);
    }
    *out = (int64_t)(crc & 0x7fffffff);   /* checkpoints keep 31 bits */
    return 0;
}

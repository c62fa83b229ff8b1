/*
 * schema.c — creating the target schema: tables with their primary
 * key first, secondary indexes and foreign keys after the copy (building an
 * index once over loaded rows is much cheaper than maintaining it row by
 * row). Every step is idempotent so a resume can repeat it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/runbook.h"
#include "sync/drivers/mysql/mysql_priv.h"
#include "sync/drivers/target_text.h"
#include "lib/xalloc.h"

#define INDEX_MAX_BYTES 3072

int tmy_database_exists(struct target *t, int *exists, struct co_err *err)
{
    struct sbuf sql;
    char buf[32];
    int rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE "
                    "SCHEMA_NAME = ");
    my_string(t, &sql, t->database);
    rc = my_query_first(t, sbuf_str(&sql), buf, sizeof buf, err,
                        "looking up the database");
    sbuf_free(&sql);
    *exists = rc == 1 && atoi(buf) > 0;
    return rc < 0 ? rc : 0;
}

int tmy_create_database(struct target *t, const struct runbook *rb,
                        struct co_err *err)
{
    struct sbuf sql;
    int rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "CREATE DATABASE IF NOT EXISTS ");
    sbuf_ident(&sql, t->database, '`');
    sbuf_addf(&sql, " CHARACTER SET utf8mb4 COLLATE %s", rb->schema.collation);
    rc = my_exec_allow_warnings(t, sbuf_str(&sql), err,
                                "creating the database");
    sbuf_reset(&sql);
    sbuf_adds(&sql, "USE ");
    sbuf_ident(&sql, t->database, '`');
    if (rc == 0 && (rc = my_exec(t, sbuf_str(&sql), err,
                                 "using the database")) == 0)
        t->database_missing = 0;
    sbuf_free(&sql);
    return rc;
}

int tmy_table_state(struct target *t, const struct table *tb, int *exists,
                      int64_t *rows, struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;

    *exists = 0;
    *rows = 0;
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                    "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ");
    my_string(t, &sql, tb->name);
    if (mysql_query(t->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(t->my))) {
        sbuf_free(&sql);
        return my_error(t, err, "looking up table %s", tb->name);
    }
    r = mysql_fetch_row(res);
    *exists = r && r[0] && atoi(r[0]) > 0;
    mysql_free_result(res);
    if (*exists) {
        sbuf_reset(&sql);
        sbuf_adds(&sql, "SELECT EXISTS (SELECT 1 FROM ");
        sbuf_ident(&sql, tb->name, '`');
        sbuf_adds(&sql, " LIMIT 1)");
        if (mysql_query(t->my, sbuf_str(&sql)) != 0 ||
            !(res = mysql_store_result(t->my))) {
            sbuf_free(&sql);
            return my_error(t, err, "reading table %s", tb->name);
        }
        r = mysql_fetch_row(res);
        *rows = r && r[0] ? atoi(r[0]) : 0;
        mysql_free_result(res);
    }
    sbuf_free(&sql);
    return 0;
}

/* SQLite keeps a column's DEFAULT as SQL text. A literal carries over,
 * adapted: a quoted number on a numeric column loses its quotes (Laravel
 * writes DEFAULT '0' for booleans), a backslash is escaped (MySQL reads it
 * as an escape), TEXT and BLOB get the parenthesized form MariaDB 10.2+ and
 * MySQL 8.0.13+ accept there. An expression does not. */
int tmy_column_default(const struct column *c, struct sbuf *out,
                       const char **why)
{
    const char *d = c->dflt;
    int numeric = c->map.lt == LT_INT || c->map.lt == LT_BOOL ||
                  c->map.lt == LT_DOUBLE || c->map.lt == LT_DECIMAL;
    int lob = strcasestr(c->map.type, "TEXT") || strcasestr(c->map.type, "BLOB");
    size_t n;

    *why = NULL;
    if (!d || c->map.autoinc)
        return 0;
    n = strlen(d);
    if (strcasecmp(d, "NULL") == 0)
        return c->notnull ? 0 : (sbuf_adds(out, "NULL"), 1);
    if (strcasecmp(d, "TRUE") == 0 || strcasecmp(d, "FALSE") == 0) {
        sbuf_adds(out, strcasecmp(d, "TRUE") == 0 ? "1" : "0");
        return 1;
    }
    if (numeric) {
        int quoted = n >= 2 && d[0] == '\'' && d[n - 1] == '\'';
        const char *p = quoted ? d + 1 : d;
        size_t len = quoted ? n - 2 : n;
        if (!target_number_text(p, len, c->map.lt == LT_INT || c->map.lt == LT_BOOL)) {
            *why = "it is not a number of the column's type";
            return -1;
        }
        sbuf_add(out, p, len);
        return 1;
    }
    if (n >= 2 && (d[0] == '\'' || ((d[0] == 'x' || d[0] == 'X') &&
                                    d[1] == '\'')) && d[n - 1] == '\'') {
        if (lob)
            sbuf_addc(out, '(');
        for (size_t i = 0; i < n; i++) {
            if (d[i] == '\\')
                sbuf_addc(out, '\\');
            sbuf_addc(out, d[i]);
        }
        if (lob)
            sbuf_addc(out, ')');
        return 1;
    }
    if (target_number_text(d, n, 0)) {
        if (lob)
            sbuf_addf(out, "('%s')", d);
        else
            sbuf_addf(out, "'%s'", d);
        return 1;
    }
    *why = "it is an expression";
    return -1;
}

static void column_def(struct target *t, const struct runbook *rb,
                       const struct column *c, struct sbuf *b)
{
    (void)t;
    sbuf_ident(b, c->name, '`');
    sbuf_addc(b, ' ');
    sbuf_adds(b, c->map.type);
    /* a MySQL source's column keeps its own collation (map.collation) */
    my_collate_clause(b, c, rb->schema.collation);
    sbuf_adds(b, c->notnull || c->pk ? " NOT NULL" : " NULL");
    if (c->map.autoinc)
        sbuf_adds(b, " AUTO_INCREMENT");
    struct sbuf dflt;
    const char *why;
    sbuf_init(&dflt);
    if (tmy_column_default(c, &dflt, &why) == 1)
        sbuf_addf(b, " DEFAULT %s", sbuf_str(&dflt));
    sbuf_free(&dflt);
}

int tmy_create_table(struct target *t, const struct runbook *rb,
                       const struct table *tb, struct co_err *err)
{
    struct sbuf sql;
    int rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "CREATE TABLE IF NOT EXISTS ");
    sbuf_ident(&sql, tb->name, '`');
    sbuf_adds(&sql, " (\n  ");
    for (int i = 0; i < tb->ncols; i++) {
        if (i)
            sbuf_adds(&sql, ",\n  ");
        column_def(t, rb, &tb->cols[i], &sql);
    }
    sbuf_adds(&sql, ",\n  PRIMARY KEY (");
    for (int k = 0; k < tb->nkey; k++) {
        if (k)
            sbuf_adds(&sql, ", ");
        sbuf_ident(&sql, my_colname(tb, tb->key[k]), '`');
    }
    sbuf_addf(&sql, ")\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=%s",
              rb->schema.collation);
    if (sql.oom)
        rc = co_errf(err, CO_ENOMEM, "out of memory");
    else
        rc = my_exec(t, sbuf_str(&sql), err, "creating the table");
    sbuf_free(&sql);
    return rc < 0 ? co_err_prefix(err, "table %s", tb->name) : 0;
}

/* Names of the indexes or foreign keys the table already has. */
static int existing_names(struct target *t, const struct table *tb,
                          int foreign, char ***out, int *n,
                          struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;

    *out = NULL;
    *n = 0;
    sbuf_init(&sql);
    if (foreign)
        sbuf_adds(&sql, "SELECT CONSTRAINT_NAME FROM information_schema."
                        "TABLE_CONSTRAINTS WHERE CONSTRAINT_TYPE = 'FOREIGN "
                        "KEY' AND TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ");
    else
        sbuf_adds(&sql, "SELECT DISTINCT INDEX_NAME FROM information_schema."
                        "STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND "
                        "TABLE_NAME = ");
    my_string(t, &sql, tb->name);
    if (mysql_query(t->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(t->my))) {
        sbuf_free(&sql);
        return my_error(t, err, "listing the indexes of %s", tb->name);
    }
    sbuf_free(&sql);
    while ((r = mysql_fetch_row(res))) {
        *out = xrealloc(*out, sizeof(char *) * (size_t)(*n + 1));
        (*out)[(*n)++] = xstrdup(r[0] ? r[0] : "");
    }
    mysql_free_result(res);
    return 0;
}

static int name_in(char **names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(names[i], name) == 0)
            return 1;
    return 0;
}

static void names_free(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Bytes an index entry of this column can take (utf8mb4: 4 per char), 0
 * for LOB types that always need a prefix. */
static int column_index_bytes(const struct column *c)
{
    const char *ty = c->map.type;
    const char *paren = strchr(ty, '(');

    if (strcasestr(ty, "TEXT") || strcasestr(ty, "BLOB"))
        return 0;
    if (paren && (strncasecmp(ty, "VARCHAR", 7) == 0 ||
                  strncasecmp(ty, "CHAR", 4) == 0))
        return 4 * atoi(paren + 1);
    if (paren && strncasecmp(ty, "VARBINARY", 9) == 0)
        return atoi(paren + 1);
    return 8;
}

int my_index_prefix(const struct column *c, int ncols)
{
    int bytes = column_index_bytes(c), prefix = INDEX_MAX_BYTES / (4 * ncols);

    if (bytes != 0 && bytes <= INDEX_MAX_BYTES / ncols)
        return 0;
    return prefix > 255 ? 255 : prefix;
}

int tmy_create_indexes(struct target *t, const struct runbook *rb,
                         const struct table *tb, struct co_err *err)
{
    struct sbuf sql;
    char **have;
    int nhave, rc, added = 0;

    (void)rb;
    if ((rc = existing_names(t, tb, 0, &have, &nhave, err)) < 0)
        return rc;
    sbuf_init(&sql);
    sbuf_adds(&sql, "ALTER TABLE ");
    sbuf_ident(&sql, tb->name, '`');
    for (int i = 0; i < tb->nidx; i++) {
        const struct index *ix = &tb->idx[i];
        char name[80], legacy[80];
        int prefix;

        if (ix->unique == 2 || ix->expr || ix->partial)
            continue;     /* the primary key, or not representable */
        my_index_name(name, sizeof name, tb, i, NAME_HASH_BYTES);
        my_index_name(legacy, sizeof legacy, tb, i, LEGACY_NAME_HASH_BYTES);
        if (name_in(have, nhave, name) || name_in(have, nhave, legacy))
            continue;
        sbuf_adds(&sql, added++ ? ",\n  ADD " : "\n  ADD ");
        sbuf_adds(&sql, ix->unique ? "UNIQUE INDEX " : "INDEX ");
        sbuf_ident(&sql, name, '`');
        sbuf_adds(&sql, " (");
        for (int c = 0; c < ix->ncols; c++) {
            const struct column *col = &tb->cols[ix->cols[c]];
            if (c)
                sbuf_adds(&sql, ", ");
            sbuf_ident(&sql, col->name, '`');
            if ((prefix = my_index_prefix(col, ix->ncols)) > 0)
                sbuf_addf(&sql, "(%d)", prefix);
            if (ix->desc[c])
                sbuf_adds(&sql, " DESC");
        }
        sbuf_addc(&sql, ')');
    }
    names_free(have, nhave);
    rc = added ? my_exec(t, sbuf_str(&sql), err, "creating indexes") : 0;
    sbuf_free(&sql);
    return rc < 0 ? co_err_prefix(err, "table %s", tb->name) : 0;
}

/* An index keeps its SQLite name (SQLite's automatic ones, which MySQL
 * would not take, become uniq_N); a foreign key is named after its table
 * and position. Names found on the target under either hash length count
 * as made, so a migration started before the longer hash resumes. */
void my_index_name(char *out, size_t cap, const struct table *tb, int i,
                   int hash_bytes)
{
    if (strncmp(tb->idx[i].name, "sqlite_autoindex_", 17) == 0)
        snprintf(out, cap, "uniq_%d", i);
    else
        my_object_name(out, cap, "", tb->idx[i].name, hash_bytes);
}

void my_fk_name(char *out, size_t cap, const struct table *tb, int i,
                int hash_bytes)
{
    char base[1100];

    snprintf(base, sizeof base, "%s_%d", tb->name, i + 1);
    my_object_name(out, cap, "fk_", base, hash_bytes);
}

static const char *fk_action(const char *a)
{
    if (!a || strcasecmp(a, "NO ACTION") == 0)
        return NULL;
    if (strcasecmp(a, "CASCADE") == 0 || strcasecmp(a, "SET NULL") == 0 ||
        strcasecmp(a, "RESTRICT") == 0)
        return a;
    return NULL;   /* SET DEFAULT: InnoDB has no such action */
}

int tmy_create_foreign_keys(struct target *t, const struct schema *sc,
                              const struct table *tb, struct co_err *err)
{
    struct sbuf sql;
    char **have;
    int nhave, rc = 0;

    if (tb->nfk == 0)
        return 0;
    if ((rc = existing_names(t, tb, 1, &have, &nhave, err)) < 0)
        return rc;
    sbuf_init(&sql);
    for (int i = 0; i < tb->nfk && rc == 0; i++) {
        const struct fkey *fk = &tb->fk[i];
        const struct table *ref = NULL;
        char name[80];
        const char *a;
        char legacy[80];

        for (int k = 0; k < sc->ntables; k++)
            if (strcmp(sc->tables[k].name, fk->ref_table) == 0)
                ref = &sc->tables[k];
        if (!ref) {
            log_warnx("table %s: foreign key to %s skipped: %s is not part of "
                      "the migration", tb->name, fk->ref_table, fk->ref_table);
            continue;
        }
        my_fk_name(name, sizeof name, tb, i, NAME_HASH_BYTES);
        my_fk_name(legacy, sizeof legacy, tb, i, LEGACY_NAME_HASH_BYTES);
        if (name_in(have, nhave, name) || name_in(have, nhave, legacy))
            continue;
        sbuf_reset(&sql);
        sbuf_adds(&sql, "ALTER TABLE ");
        sbuf_ident(&sql, tb->name, '`');
        sbuf_adds(&sql, " ADD CONSTRAINT ");
        sbuf_ident(&sql, name, '`');
        sbuf_adds(&sql, " FOREIGN KEY (");
        sbuf_ident_list(&sql, (const char *const *)fk->from, fk->ncols, '`');
        sbuf_adds(&sql, ") REFERENCES ");
        sbuf_ident(&sql, ref->name, '`');
        sbuf_adds(&sql, " (");
        for (int c = 0; c < fk->ncols; c++) {
            const char *to = fk->to[c];
            if (c)
                sbuf_adds(&sql, ", ");
            if (!to && c < ref->nkey)
                to = ref->cols[ref->key[c]].name;
            sbuf_ident(&sql, to ? to : "", '`');
        }
        sbuf_addc(&sql, ')');
        if ((a = fk_action(fk->on_delete)))
            sbuf_addf(&sql, " ON DELETE %s", a);
        if ((a = fk_action(fk->on_update)))
            sbuf_addf(&sql, " ON UPDATE %s", a);
        rc = my_exec(t, sbuf_str(&sql), err, "creating a foreign key");
        if (rc < 0)
            co_err_prefix(err, "table %s: foreign key to %s", tb->name,
                          fk->ref_table);
    }
    names_free(have, nhave);
    sbuf_free(&sql);
    return rc;
}

int tmy_drop_table(struct target *t, const struct table *tb,
                     struct co_err *err)
{
    struct sbuf sql;
    int rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "DROP TABLE IF EXISTS ");
    sbuf_ident(&sql, tb->name, '`');
    rc = my_exec_allow_warnings(t, sbuf_str(&sql), err, "dropping the table");
    sbuf_free(&sql);
    return rc < 0 ? co_err_prefix(err, "table %s", tb->name) : 0;
}

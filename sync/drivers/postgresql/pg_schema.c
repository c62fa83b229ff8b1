/*
 * pg_schema.c — what comes after the copy: secondary indexes and foreign
 * keys, and the 63-byte limit of PostgreSQL names.
 *
 * An index keeps its SQLite name, which the application's framework knows
 * (Django drops and renames indexes by name); PostgreSQL, like SQLite,
 * has one namespace for the tables and indexes of a schema, so the names
 * stay unique. SQLite's automatic indexes (UNIQUE in a column or table
 * definition) become UNIQUE constraints named as PostgreSQL would name
 * them, <table>_<columns>_key. A foreign key is added NOT VALID (no scan
 * under a lock that blocks writers) and validated afterwards
 * (pg_validate_foreign_keys: a SHARE UPDATE EXCLUSIVE lock, writers go
 * on); it is named <table>_<columns>_fkey. Each step is one statement run
 * once: what exists already (a resumed run) is left as it is, a name held
 * by another table's object is an error naming both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "sync/drivers/postgresql/pg_priv.h"

int pg_name_check(const char *what, const char *name, struct co_err *err)
{
    size_t n = strlen(name);

    if (n <= PG_NAME_MAX)
        return 0;
    return co_errf(err, CO_ESCHEMA, "%s %s: the name is %zu bytes; "
                   "PostgreSQL keeps only the first 63 of a name: rename it "
                   "on the source first", what, name, n);
}

/* <table>_<col>_<col>..._<suffix>, made to fit 63 bytes. */
static void derived_name(char *out, size_t cap, const struct table *tb,
                         const char *const *cols, int ncols,
                         const char *suffix)
{
    struct sbuf b;

    sbuf_init(&b);
    sbuf_adds(&b, tb->name);
    for (int i = 0; i < ncols; i++) {
        sbuf_addc(&b, '_');
        sbuf_adds(&b, cols[i]);
    }
    sbuf_addc(&b, '_');
    sbuf_adds(&b, suffix);
    pg_object_name(out, cap, "", b.oom ? tb->name : sbuf_str(&b));
    sbuf_free(&b);
}

static int is_automatic(const struct index *ix)
{
    return strncmp(ix->name, "sqlite_autoindex_", 17) == 0;
}

void pg_index_name(char *out, size_t cap, const struct table *tb, int i)
{
    const struct index *ix = &tb->idx[i];
    const char *cols[64];
    int n = ix->ncols < 64 ? ix->ncols : 64;

    if (!is_automatic(ix)) {
        snprintf(out, cap, "%s", ix->name);
        return;
    }
    for (int c = 0; c < n; c++)
        cols[c] = tb->cols[ix->cols[c]].name;
    derived_name(out, cap, tb, cols, n, "key");
}

void pg_fk_name(char *out, size_t cap, const struct table *tb, int i)
{
    const struct fkey *fk = &tb->fk[i];

    derived_name(out, cap, tb, (const char *const *)fk->from,
                 fk->ncols < 64 ? fk->ncols : 64, "fkey");
}

/* Who has `name` in the schema: 0 nobody, 1 table tb itself (an index or
 * constraint of tb: made before), or an error naming the other holder. */
static int holder(struct pg_session *s, const struct table *tb,
                  const char *name, int constraint, struct co_err *err)
{
    const char *params[2] = {s->schema, name};
    PGresult *res = PQexecParams(s->conn, constraint
        ? "SELECT c.relname FROM pg_constraint k JOIN pg_class c ON c.oid = "
          "k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
          "n.nspname = $1 AND k.conname = $2"
        : "SELECT coalesce(i.tablename, c.relname) FROM pg_class c JOIN "
          "pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_indexes i "
          "ON i.schemaname = n.nspname AND i.indexname = c.relname WHERE "
          "n.nspname = $1 AND c.relname = $2",
        2, NULL, params, NULL, NULL, 0);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_check(s, res, PGRES_TUPLES_OK, err,
                        "looking for the name", name);
    for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
        const char *owner = PQgetvalue(res, r, 0);
        if (strcmp(owner, tb->name) == 0)
            rc = 1;
        else
            rc = co_errf(err, CO_ETARGET, "target %s: table %s: the name %s "
                         "is taken by %s %s: rename one of them on the "
                         "source", s->label, tb->name, name,
                         constraint ? "a constraint of table" : "the object",
                         owner);
    }
    PQclear(res);
    return rc;
}

/* Run sql with no statement timeout (building an index is work in
 * proportion to the table, not a wait); the lock timeout stays. */
static int build(struct pg_session *s, struct sbuf *sql, struct co_err *err,
                 const char *what, const struct table *tb)
{
    int rc;

    if (sql->oom)
        return co_errf(err, CO_ENOMEM, "out of memory");
    rc = pg_exec(s, "BEGIN; SET LOCAL statement_timeout = 0", err, what);
    if (rc == 0)
        rc = pg_exec(s, sbuf_str(sql), err, what);
    if (rc == 0)
        rc = pg_exec(s, "COMMIT", err, what);
    if (rc < 0) {
        pg_exec(s, "ROLLBACK", NULL, what);
        co_err_prefix(err, "table %s", tb->name);
    }
    return rc;
}

static void column_list(struct sbuf *b, const struct table *tb,
                        const struct index *ix, int with_order)
{
    sbuf_addc(b, '(');
    for (int c = 0; c < ix->ncols; c++) {
        if (c)
            sbuf_adds(b, ", ");
        pg_ident(b, tb->cols[ix->cols[c]].name);
        if (with_order && ix->desc && ix->desc[c])
            sbuf_adds(b, " DESC");
    }
    sbuf_addc(b, ')');
}

int pg_create_indexes(struct pg_session *s, const struct table *tb,
                      struct co_err *err)
{
    struct sbuf sql;
    int rc = 0;

    sbuf_init(&sql);
    for (int i = 0; i < tb->nidx && rc == 0; i++) {
        const struct index *ix = &tb->idx[i];
        char name[PG_NAME_MAX + 1];
        int made;

        if (ix->unique == 2 || ix->expr || ix->partial)
            continue;     /* the primary key, or not representable */
        if ((rc = pg_name_check("index", ix->name, err)) < 0) {
            co_err_prefix(err, "table %s", tb->name);
            break;
        }
        pg_index_name(name, sizeof name, tb, i);
        if ((made = holder(s, tb, name, 0, err)) != 0) {
            rc = made < 0 ? made : 0;     /* taken, or made before */
            continue;
        }
        sbuf_reset(&sql);
        if (is_automatic(ix)) {
            sbuf_adds(&sql, "ALTER TABLE ");
            pg_qualified(s, &sql, tb->name);
            sbuf_adds(&sql, " ADD CONSTRAINT ");
            pg_ident(&sql, name);
            sbuf_adds(&sql, " UNIQUE ");
            column_list(&sql, tb, ix, 0);
        } else {
            sbuf_adds(&sql, ix->unique ? "CREATE UNIQUE INDEX "
                                       : "CREATE INDEX ");
            pg_ident(&sql, name);
            sbuf_adds(&sql, " ON ");
            pg_qualified(s, &sql, tb->name);
            sbuf_addc(&sql, ' ');
            column_list(&sql, tb, ix, 1);
        }
        rc = build(s, &sql, err, "creating an index", tb);
    }
    sbuf_free(&sql);
    return rc < 0 ? rc : 0;
}

static const char *fk_action(const char *a)
{
    static const char *const known[] = {"CASCADE", "SET NULL", "SET DEFAULT",
                                        "RESTRICT", NULL};

    for (int i = 0; a && known[i]; i++)
        if (strcasecmp(a, known[i]) == 0)
            return known[i];
    return NULL;  /* NO ACTION, PostgreSQL's default too */
}

static const struct table *table_named(const struct schema *sc,
                                       const char *name)
{
    for (int k = 0; k < sc->ntables; k++)
        if (strcmp(sc->tables[k].name, name) == 0)
            return &sc->tables[k];
    return NULL;
}

int pg_create_foreign_keys(struct pg_session *s, const struct schema *sc,
                           const struct table *tb, struct co_err *err)
{
    struct sbuf sql;
    int rc = 0;

    sbuf_init(&sql);
    for (int i = 0; i < tb->nfk && rc == 0; i++) {
        const struct fkey *fk = &tb->fk[i];
        const struct table *ref = table_named(sc, fk->ref_table);
        char name[PG_NAME_MAX + 1];
        const char *a;
        int made;

        if (!ref) {
            log_warnx("table %s: foreign key to %s skipped: %s is not part of "
                      "the migration", tb->name, fk->ref_table, fk->ref_table);
            continue;
        }
        pg_fk_name(name, sizeof name, tb, i);
        if ((made = holder(s, tb, name, 1, err)) != 0) {
            rc = made < 0 ? made : 0;     /* taken, or made before */
            continue;
        }
        sbuf_reset(&sql);
        sbuf_adds(&sql, "ALTER TABLE ");
        pg_qualified(s, &sql, tb->name);
        sbuf_adds(&sql, " ADD CONSTRAINT ");
        pg_ident(&sql, name);
        sbuf_adds(&sql, " FOREIGN KEY (");
        for (int c = 0; c < fk->ncols; c++) {
            if (c)
                sbuf_adds(&sql, ", ");
            pg_ident(&sql, fk->from[c]);
        }
        sbuf_adds(&sql, ") REFERENCES ");
        pg_qualified(s, &sql, ref->name);
        sbuf_adds(&sql, " (");
        for (int c = 0; c < fk->ncols; c++) {
            const char *to = fk->to[c];
            if (!to && c < ref->nkey)
                to = ref->cols[ref->key[c]].name;
            if (c)
                sbuf_adds(&sql, ", ");
            pg_ident(&sql, to ? to : "");
        }
        sbuf_addc(&sql, ')');
        if ((a = fk_action(fk->on_delete)))
            sbuf_addf(&sql, " ON DELETE %s", a);
        if ((a = fk_action(fk->on_update)))
            sbuf_addf(&sql, " ON UPDATE %s", a);
        sbuf_adds(&sql, " NOT VALID");
        rc = build(s, &sql, err, "adding a foreign key", tb);
    }
    sbuf_free(&sql);
    return rc < 0 ? rc : 0;
}

int pg_validate_foreign_keys(struct pg_session *s, const struct table *tb,
                             struct co_err *err)
{
    const char *params[2] = {s->schema, tb->name};
    PGresult *res = PQexecParams(s->conn,
        "SELECT k.conname FROM pg_constraint k JOIN pg_class c ON c.oid = "
        "k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
        "n.nspname = $1 AND c.relname = $2 AND k.contype = 'f' AND NOT "
        "k.convalidated ORDER BY k.conname",
        2, NULL, params, NULL, NULL, 0);
    struct sbuf sql;
    int rc = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_check(s, res, PGRES_TUPLES_OK, err,
                        "listing the foreign keys of table", tb->name);
    sbuf_init(&sql);
    for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
        char name[PG_NAME_MAX + 1];
        int ours = 0;
        snprintf(name, sizeof name, "%s", PQgetvalue(res, r, 0));
        for (int i = 0; i < tb->nfk && !ours; i++) {
            char mine[PG_NAME_MAX + 1];
            pg_fk_name(mine, sizeof mine, tb, i);
            ours = strcmp(mine, name) == 0;
        }
        if (!ours)
            continue;     /* the application's own: not ours to validate */
        sbuf_reset(&sql);
        sbuf_adds(&sql, "ALTER TABLE ");
        pg_qualified(s, &sql, tb->name);
        sbuf_adds(&sql, " VALIDATE CONSTRAINT ");
        pg_ident(&sql, name);
        rc = build(s, &sql, err, "validating a foreign key", tb);
    }
    PQclear(res);
    sbuf_free(&sql);
    return rc;
}

/*
 * target_ddl.c — the target's schema on PostgreSQL: the database and the
 * runbook's schema, tables with their primary key (identity columns for
 * the source's AUTOINCREMENT keys), indexes and foreign keys after the
 * copy (pg_schema.c), the columns' defaults, and the identity sequences
 * carried past the copied keys at the switch. Every step is idempotent so
 * a resume can repeat it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/runbook.h"
#include "sync/codec.h"
#include "sync/drivers/postgresql/target_priv.h"
#include "sync/drivers/target_text.h"

int tpg_database_exists(struct target *t, int *exists, struct co_err *err)
{
    (void)err;
    *exists = !t->database_missing && pg_schema_exists(t->s);
    return 0;
}

/* CREATE DATABASE runs outside any transaction, on a connection to
 * another database: the one open while the runbook's was missing. Then a
 * new session in it, and the schema. */
static int make_database(struct target *t, struct co_err *err)
{
    struct pg_session *s = NULL;
    struct pg_options o;
    struct sbuf sql;
    int rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "CREATE DATABASE ");
    pg_ident(&sql, t->conn->database);
    sbuf_adds(&sql, " ENCODING 'UTF8' TEMPLATE template0");
    rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                 : pg_exec(t->s, sbuf_str(&sql), err, "creating the database");
    sbuf_free(&sql);
    if (rc < 0)
        return co_err_prefix(err, "database %s (create it for user %s, or "
                             "grant CREATEDB)", t->conn->database,
                             t->conn->user);
    tpg_options(t->conn, t->conn->database, &o);
    if ((rc = pg_connect(&o, &s, err)) < 0)
        return rc;
    pg_close(t->s);
    t->s = s;
    t->database_missing = 0;
    if (t->has_owner)
        pg_set_owner(s, t->owner);
    return 0;
}

int tpg_create_database(struct target *t, const struct runbook *rb,
                        struct co_err *err)
{
    int rc;

    (void)rb;
    if (t->database_missing && (rc = make_database(t, err)) < 0)
        return rc;
    return pg_schema_exists(t->s) ? 0 : pg_create_schema(t->s, err);
}

int tpg_table_state(struct target *t, const struct table *tb, int *exists,
                    int64_t *rows, struct co_err *err)
{
    struct sbuf sql;
    char buf[8];
    int rc;

    *exists = 0;
    *rows = 0;
    if (t->database_missing || !pg_schema_exists(t->s))
        return 0;
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT to_regclass(");
    sbuf_adds(&sql, "format('%I.%I', ");
    pg_string(&sql, pg_schema(t->s));
    sbuf_adds(&sql, "::text, ");
    pg_string(&sql, tb->name);
    sbuf_adds(&sql, "::text)) IS NOT NULL");
    rc = pg_query_value(t->s, sbuf_str(&sql), buf, sizeof buf, err,
                        "looking up the table");
    *exists = rc > 0 && strcmp(buf, "t") == 0;
    if (rc >= 0 && *exists) {
        sbuf_reset(&sql);
        sbuf_adds(&sql, "SELECT EXISTS (SELECT 1 FROM ");
        pg_qualified(t->s, &sql, tb->name);
        sbuf_addc(&sql, ')');
        rc = pg_query_value(t->s, sbuf_str(&sql), buf, sizeof buf, err,
                            "reading the table");
        *rows = rc > 0 && strcmp(buf, "t") == 0;
    }
    sbuf_free(&sql);
    return rc < 0 ? co_err_prefix(err, "table %s", tb->name) : 0;
}

int tpg_type_is_text(const char *type)
{
    struct logical_type lt;

    return tpg_logical_of_type(type, &lt) == 0 && lt.kind == LK_TEXT;
}

void tpg_collate_clause(struct sbuf *b, const struct runbook *rb,
                        const struct column *c)
{
    const char *coll = c->map.collation[0] ? c->map.collation
                                           : rb->schema.collation;

    if (!coll || strcmp(coll, TPG_DEFAULT_COLLATION) == 0 ||
        !tpg_type_is_text(c->map.type) ||
        strncasecmp(c->map.type, "citext", 6) == 0)
        return;
    sbuf_adds(b, " COLLATE ");
    pg_ident(b, coll);
}

/* ---- defaults --------------------------------------------------------- */

/* A date/time literal as the codec writes the column's values, so the
 * default reads as the copied values do. */
static int datetime_default(const struct column *c, const char *p, size_t n,
                            struct sbuf *out)
{
    char canon[64];
    int ok = c->map.lt == LT_TIME
        ? codec_parse_time((const unsigned char *)p, n, canon, sizeof canon)
        : codec_parse_datetime((const unsigned char *)p, n, c->map.lt, canon,
                               sizeof canon);

    if (ok < 0)
        return -1;
    pg_string(out, canon);
    return 1;
}

/* SQLite keeps a column's DEFAULT as SQL text. A literal carries over in
 * PostgreSQL's spelling: numbers bare (Laravel writes DEFAULT '0' for
 * booleans), booleans true/false, text as a standard string literal
 * (SQLite's quoting is the standard's), blobs as bytea hex, dates in the
 * codec's form. An expression (CURRENT_TIMESTAMP) does not. */
int tpg_column_default(const struct column *c, struct sbuf *out,
                       const char **why)
{
    const char *d = c->dflt;
    size_t n;
    int quoted;
    const char *p;

    *why = NULL;
    if (!d || c->map.autoinc)
        return 0;
    n = strlen(d);
    quoted = n >= 2 && d[0] == '\'' && d[n - 1] == '\'';
    p = quoted ? d + 1 : d;
    if (strcasecmp(d, "NULL") == 0)
        return c->notnull ? 0 : (sbuf_adds(out, "NULL"), 1);
    if (c->map.lt == LT_BOOL) {
        size_t len = quoted ? n - 2 : n;
        if ((len == 1 && (*p == '0' || *p == '1')) ||
            strcasecmp(d, "TRUE") == 0 || strcasecmp(d, "FALSE") == 0) {
            sbuf_adds(out, *p == '1' || strcasecmp(d, "TRUE") == 0
                           ? "true" : "false");
            return 1;
        }
        *why = "it is not a boolean";
        return -1;
    }
    if (c->map.lt == LT_INT || c->map.lt == LT_DOUBLE ||
        c->map.lt == LT_DECIMAL) {
        size_t len = quoted ? n - 2 : n;
        if (strcasecmp(d, "TRUE") == 0 || strcasecmp(d, "FALSE") == 0) {
            sbuf_adds(out, strcasecmp(d, "TRUE") == 0 ? "1" : "0");
            return 1;
        }
        if (!target_number_text(p, len, c->map.lt == LT_INT)) {
            *why = "it is not a number of the column's type";
            return -1;
        }
        sbuf_add(out, p, len);
        return 1;
    }
    if (c->map.lt == LT_BLOB && n >= 3 && (d[0] == 'x' || d[0] == 'X') &&
        d[1] == '\'' && d[n - 1] == '\'') {
        sbuf_adds(out, "'\\x");
        sbuf_add(out, d + 2, n - 3);
        sbuf_adds(out, "'::bytea");
        return 1;
    }
    if (c->map.lt == LT_DATETIME || c->map.lt == LT_DATE ||
        c->map.lt == LT_TIME) {
        if (quoted && datetime_default(c, p, n - 2, out) == 1)
            return 1;
        *why = "it is not a date/time the column's values are written as";
        return -1;
    }
    /* SQLite's quoting is the standard's, which our sessions speak
     * (standard_conforming_strings on: a backslash is a backslash) */
    if (quoted && c->map.lt == LT_TEXT) {
        sbuf_adds(out, d);
        return 1;
    }
    if (target_number_text(d, n, 0) && c->map.lt == LT_TEXT) {
        pg_string(out, d);
        return 1;
    }
    *why = "it is an expression";
    return -1;
}

/* ---- tables ----------------------------------------------------------- */

/* An ENUM keeps its members as a CHECK: the source's declared type,
 * MySQL's "enum('a','b''c')", lists them as string literals. 0, or -1
 * when the declared type is not such a list (no CHECK then). */
static int enum_check(struct sbuf *b, const struct column *c)
{
    const char *p = c->decl;
    struct sbuf members, one;
    int rc = -1;

    if (!p || strncasecmp(p, "enum(", 5) != 0)
        return -1;
    sbuf_init(&members);
    sbuf_init(&one);
    for (p += 5; *p == '\''; ) {
        sbuf_reset(&one);
        for (p++; *p && !(*p == '\'' && p[1] != '\''); p++) {
            if (*p == '\'' && p[1] == '\'')
                p++;                        /* '' is one quote */
            sbuf_addc(&one, *p);
        }
        if (*p != '\'')
            goto out;
        if (members.len)
            sbuf_adds(&members, ", ");
        pg_literal(&members, one.p ? one.p : "", one.len, NULL);
        p++;
        if (*p == ')') {
            rc = 0;
            break;
        }
        if (*p++ != ',')
            goto out;
    }
    if (rc == 0 && !members.oom) {
        sbuf_adds(b, " CHECK (");
        pg_ident(b, c->name);
        sbuf_adds(b, " IN (");
        sbuf_add(b, members.p, members.len);
        sbuf_adds(b, "))");
    }
out:
    sbuf_free(&members);
    sbuf_free(&one);
    return rc;
}

static int column_def(const struct runbook *rb, const struct table *tb,
                      const struct column *c, struct sbuf *b,
                      struct co_err *err)
{
    struct sbuf dflt;
    const char *why;
    int rc;

    if ((rc = pg_name_check("column", c->name, err)) < 0)
        return co_err_prefix(err, "table %s", tb->name);
    pg_ident(b, c->name);
    sbuf_addc(b, ' ');
    sbuf_adds(b, c->map.type);
    tpg_collate_clause(b, rb, c);
    /* the source's keys go in as they are (OVERRIDING SYSTEM VALUE in
     * the applier, COPY takes them anyway); the application's new rows
     * get the next value */
    if (c->map.autoinc)
        sbuf_adds(b, " GENERATED BY DEFAULT AS IDENTITY");
    sbuf_adds(b, c->notnull || c->pk ? " NOT NULL" : " NULL");
    if (c->map.has_logical && c->map.logical.kind == LK_ENUM)
        (void)enum_check(b, c);
    sbuf_init(&dflt);
    if (tpg_column_default(c, &dflt, &why) == 1)
        sbuf_addf(b, " DEFAULT %s", sbuf_str(&dflt));
    sbuf_free(&dflt);
    return 0;
}

int tpg_create_table(struct target *t, const struct runbook *rb,
                     const struct table *tb, struct co_err *err)
{
    char pkey[PG_NAME_MAX + 1], base[600];
    struct sbuf sql;
    int rc;

    if ((rc = pg_name_check("table", tb->name, err)) < 0)
        return rc;
    sbuf_init(&sql);
    sbuf_adds(&sql, "CREATE TABLE IF NOT EXISTS ");
    pg_qualified(t->s, &sql, tb->name);
    sbuf_adds(&sql, " (\n  ");
    for (int i = 0; i < tb->ncols && rc == 0; i++) {
        if (i)
            sbuf_adds(&sql, ",\n  ");
        rc = column_def(rb, tb, &tb->cols[i], &sql, err);
    }
    if (rc < 0) {
        sbuf_free(&sql);
        return rc;
    }
    /* named as PostgreSQL would, but fitted to 63 bytes with a hash
     * instead of silently cut */
    snprintf(base, sizeof base, "%s_pkey", tb->name);
    pg_object_name(pkey, sizeof pkey, "", base);
    sbuf_adds(&sql, ",\n  CONSTRAINT ");
    pg_ident(&sql, pkey);
    sbuf_adds(&sql, " PRIMARY KEY (");
    for (int k = 0; k < tb->nkey; k++) {
        if (k)
            sbuf_adds(&sql, ", ");
        pg_ident(&sql, tb->cols[tb->key[k]].name);
    }
    sbuf_adds(&sql, ")\n)");
    rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                 : pg_exec(t->s, sbuf_str(&sql), err, "creating the table");
    sbuf_free(&sql);
    return rc < 0 ? co_err_prefix(err, "table %s", tb->name) : 0;
}

/* After the indexes, what a DBA runs after a bulk load: VACUUM sets the
 * rows' hint bits and the visibility map once, here, instead of in the
 * first reads after the load (verify's, then the application's: each
 * would dirty every page it reads), and ANALYZE gives the planner the
 * table's statistics before the application's first query. */
int tpg_create_indexes(struct target *t, const struct runbook *rb,
                       const struct table *tb, struct co_err *err)
{
    struct sbuf sql;
    int rc;

    (void)rb;
    if ((rc = pg_create_indexes(t->s, tb, err)) < 0)
        return rc;
    sbuf_init(&sql);
    sbuf_adds(&sql, "VACUUM (ANALYZE) ");
    pg_qualified(t->s, &sql, tb->name);
    rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                 : pg_exec(t->s, sbuf_str(&sql), err, "vacuuming the copy");
    sbuf_free(&sql);
    return rc < 0 ? co_err_prefix(err, "table %s", tb->name) : 0;
}

/* Every foreign key of ours still NOT VALID in the schema, validated
 * where the rows allow it now: one pointing at rows not copied yet (the
 * table it references is still being copied, or a live write is between
 * two apply batches) stays NOT VALID until a later call. The last table
 * to finish its copy validates what the others could not. */
int tpg_validate_foreign_keys(struct target *t, const struct schema *sc,
                              struct co_err *err)
{
    for (int i = 0; i < sc->ntables; i++) {
        int rc;
        if (sc->tables[i].nfk == 0)
            continue;
        rc = pg_validate_foreign_keys(t->s, &sc->tables[i], err);
        /* the SQLSTATE pg_error names (the ROLLBACK after it cleared the
         * session's) */
        if (rc < 0 && strstr(err->msg, "[SQLSTATE 23503]"))
            log_debug("%s (validated later)", err->msg);
        else if (rc < 0)
            return rc;
    }
    return 0;
}

/* NOT VALID first (no long lock while the rows are checked), then
 * VALIDATE, which lets writers go on. Rows arrive in key order, not in
 * dependency order: our sessions must skip the checks a NOT VALID key
 * still makes of new rows, as MySQL's foreign_key_checks = 0 does. */
int tpg_create_foreign_keys(struct target *t, const struct schema *sc,
                            const struct table *tb, struct co_err *err)
{
    int rc;

    if (tb->nfk == 0)
        return 0;
    if (!pg_skips_foreign_keys(t->s))
        return co_errf(err, CO_ETARGET, "target %s: table %s: its foreign "
                       "keys need a session that skips foreign key checks "
                       "while the copy and the applier write: %s",
                       pg_label(t->s), tb->name, TPG_REPLICA_ROLE_HINT);
    if ((rc = pg_create_foreign_keys(t->s, sc, tb, err)) < 0)
        return rc;
    return tpg_validate_foreign_keys(t, sc, err);
}

/* The tables dropped are the ones this migration made; foreign keys of
 * other tables of ours that point at them go with them. */
int tpg_drop_table(struct target *t, const struct table *tb,
                   struct co_err *err)
{
    struct sbuf sql;
    int rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "DROP TABLE IF EXISTS ");
    pg_qualified(t->s, &sql, tb->name);
    sbuf_adds(&sql, " CASCADE");
    rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                 : pg_exec(t->s, sbuf_str(&sql), err, "dropping the table");
    sbuf_free(&sql);
    return rc < 0 ? co_err_prefix(err, "table %s", tb->name) : 0;
}

int tpg_set_next_id(struct target *t, const struct table *tb, int64_t next,
                    struct co_err *err)
{
    int64_t now;

    for (int c = 0; c < tb->ncols; c++)
        if (tb->cols[c].map.autoinc)
            return pg_set_next_id(t->s, tb, c, next, &now, err) < 0
                   ? co_err_prefix(err, "table %s", tb->name) : 0;
    return 0;
}

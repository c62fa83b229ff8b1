/*
 * target_plan.c — what plan asks a PostgreSQL target: names past its 63
 * bytes, every name the driver would give (to find two that meet), which
 * of cutover's objects there are another migration's, and which unique
 * values would collide under the target's comparison. The last is
 * decided by PostgreSQL itself: the values go into a temporary table with
 * the real column types and collations and are grouped there, so no
 * emulation of its rules can drift from the server's. A temporary table
 * lives in the session only: plan leaves nothing behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runbook.h"
#include "lib/xalloc.h"
#include "sync/drivers/assess.h"
#include "sync/drivers/postgresql/target_priv.h"

/* At most this many keys are listed for one group of equal values. */
#define KEYS_PER_GROUP 10
/* Rows per INSERT into the scratch table. */
#define SCRATCH_ROWS 500
/* The longest answer of the JSON queries below. */
#define JSON_ANSWER_MAX (4 << 20)

static void name_too_long(const struct assess_sink *to, const char *table,
                          const char *column, const char *what,
                          const char *name)
{
    assess_add(to, ASSESS_BLOCKING, "identifier", table, column,
               "rename it in the source before migrating",
               "%s name is %zu bytes; PostgreSQL keeps only the first %d "
               "bytes of a name (%s would be cut, and two names could meet)",
               what, strlen(name), PG_NAME_MAX, name);
}

void tpg_assess_table(struct target *t, const struct table *tb,
                      const struct assess_sink *to)
{
    if (tb->nfk > 0 && !pg_skips_foreign_keys(t->s))
        assess_add(to, ASSESS_BLOCKING, "foreign_key_checks", tb->name, NULL,
                   TPG_REPLICA_ROLE_HINT, "the table has foreign keys, and "
                   "cutover's sessions cannot skip foreign key checks "
                   "(session_replication_role): rows are copied in key "
                   "order, not in the order the keys need");
    if (strlen(tb->name) > PG_NAME_MAX)
        name_too_long(to, tb->name, NULL, "table", tb->name);
    for (int c = 0; c < tb->ncols; c++)
        if (strlen(tb->cols[c].name) > PG_NAME_MAX)
            name_too_long(to, tb->name, tb->cols[c].name, "column",
                          tb->cols[c].name);
    for (int i = 0; i < tb->nidx; i++)
        if (tb->idx[i].unique != 2 && !tb->idx[i].expr &&
            !tb->idx[i].partial && strlen(tb->idx[i].name) > PG_NAME_MAX)
            name_too_long(to, tb->name, NULL, "index", tb->idx[i].name);
}

int tpg_generated_names(struct target *t, const struct schema *sc,
                        name_fn emit, void *arg)
{
    static const struct {
        const char *prefix, *space, *what;
    } ours[] = {
        {PG_RLOG_PREFIX, "relations", "the reverse log"},
        {PG_RCAPTURE_PREFIX, "functions", "the reverse-capture function"},
        {PG_FENCE_PREFIX, "functions", "the fence function"},
        {PG_RCAPTURE_PREFIX, "triggers", "the reverse-capture trigger"},
        {PG_FENCE_PREFIX, "triggers", "the fence trigger"},
        {PG_FENCE_TRUNCATE_PREFIX, "triggers", "the TRUNCATE fence trigger"},
    };
    char name[PG_NAME_MAX + 1], what[160], space[300], base[600];

    (void)t;
    for (int i = 0; i < sc->ntables; i++) {
        const struct table *tb = &sc->tables[i];
        /* tables, indexes and sequences share one namespace a schema;
         * triggers and foreign keys are named per table */
        emit(arg, "relations", tb->name, "the table", tb->name);
        snprintf(base, sizeof base, "%s_pkey", tb->name);
        pg_object_name(name, sizeof name, "", base);
        emit(arg, "relations", name, "the primary key", tb->name);
        for (size_t k = 0; k < sizeof ours / sizeof ours[0]; k++) {
            pg_object_name(name, sizeof name, ours[k].prefix, tb->name);
            if (strcmp(ours[k].space, "triggers") == 0)
                snprintf(space, sizeof space, "triggers of %s", tb->name);
            emit(arg, strcmp(ours[k].space, "triggers") == 0 ? space
                                                             : ours[k].space,
                 name, ours[k].what, tb->name);
        }
        for (int k = 0; k < tb->nidx; k++) {
            if (tb->idx[k].unique == 2 || tb->idx[k].expr ||
                tb->idx[k].partial)
                continue;
            pg_index_name(name, sizeof name, tb, k);
            snprintf(what, sizeof what, "index %s", tb->idx[k].name);
            emit(arg, "relations", name, what, tb->name);
        }
        snprintf(space, sizeof space, "constraints of %s", tb->name);
        for (int k = 0; k < tb->nfk; k++) {
            pg_fk_name(name, sizeof name, tb, k);
            snprintf(what, sizeof what, "foreign key %d", k + 1);
            emit(arg, space, name, what, tb->name);
        }
    }
    return 0;
}

/* The answer of a query returning one JSON text, parsed. */
static int query_json(struct pg_session *s, const char *sql, json_t **out,
                      struct co_err *err, const char *what)
{
    char *buf = xmalloc(JSON_ANSWER_MAX);
    int rc;

    *out = NULL;
    if (!buf)
        return co_errf(err, CO_ENOMEM, "out of memory");
    rc = pg_query_value(s, sql, buf, JSON_ANSWER_MAX, err, what);
    if (rc > 0 && strlen(buf) + 1 >= JSON_ANSWER_MAX)
        rc = co_errf(err, CO_ETARGET, "target %s: %s: the answer is "
                     "longer than %d bytes", pg_label(s), what,
                     JSON_ANSWER_MAX);
    else if (rc > 0 && !(*out = json_loads(buf, 0, NULL)))
        rc = co_errf(err, CO_ETARGET, "target %s: %s: the answer is not "
                     "JSON", pg_label(s), what);
    free(buf);
    return rc < 0 ? rc : 0;
}

int tpg_foreign_objects(struct target *t, struct owned_objects *out,
                        struct co_err *err)
{
    struct sbuf sql;
    json_t *rows = NULL, *r;
    size_t i;
    int rc;

    memset(out, 0, sizeof *out);
    if (t->database_missing || !pg_schema_exists(t->s))
        return 0;
    sbuf_init(&sql);
    sbuf_adds(&sql, "WITH ns AS (SELECT oid FROM pg_namespace WHERE "
                    "nspname = ");
    pg_string(&sql, pg_schema(t->s));
    sbuf_adds(&sql, ") SELECT coalesce(json_agg(json_build_array(kind, name, "
                    "tbl, note)), '[]') FROM ("
                    "SELECT 'table' kind, c.relname::text name, NULL tbl, "
                    "obj_description(c.oid, 'pg_class') note FROM pg_class c, "
                    "ns WHERE c.relnamespace = ns.oid AND c.relkind = 'r' AND "
                    "c.relname LIKE '\\_cutover\\_%' "
                    "UNION ALL SELECT 'trigger', g.tgname::text, "
                    "c.relname::text, obj_description(g.oid, 'pg_trigger') "
                    "FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid, "
                    "ns WHERE c.relnamespace = ns.oid AND NOT g.tgisinternal "
                    "AND g.tgname LIKE '\\_cutover\\_%') o");
    rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                 : query_json(t->s, sbuf_str(&sql), &rows, err,
                              "looking up cutover's objects");
    sbuf_free(&sql);
    json_array_foreach(rows, i, r) {
        const char *table = json_string_value(json_array_get(r, 2));
        const char *note = json_string_value(json_array_get(r, 3));
        if (rc == 0 && owned_objects_add(
                out, json_string_value(json_array_get(r, 0)),
                json_string_value(json_array_get(r, 1)), table,
                note ? note : "") < 0)
            rc = co_errf(err, CO_ENOMEM, "out of memory");
    }
    json_decref(rows);
    if (rc < 0) {
        owned_objects_free(out);
        return rc;
    }
    owned_objects_keep_foreign(out, t->has_owner ? t->owner : NULL);
    return 0;
}

/* ---- collisions --------------------------------------------------------- */

/* One row of values as a VALUES tuple of literals the INSERT casts to the
 * scratch table's types. */
static int row_literals(struct sbuf *b, const struct table *cols,
                        const struct value *row, struct co_err *err)
{
    struct pg_scratch sc = {.wide = {0}};
    int rc = 0;

    sbuf_addc(b, '(');
    for (int i = 0; i < cols->ncols && rc == 0; i++) {
        const char *p;
        size_t n;
        int binary;

        if (i)
            sbuf_adds(b, ", ");
        if ((rc = pg_value_text(&cols->cols[i], &row[i], &sc, &p, &n,
                                &binary, err)) < 0)
            break;
        if (!p) {
            sbuf_adds(b, "NULL");
        } else if (binary) {
            sbuf_adds(b, "'\\x");
            for (size_t k = 0; k < n; k++)
                sbuf_addf(b, "%02x", (unsigned char)p[k]);
            sbuf_addc(b, '\'');
        } else {
            rc = pg_literal(b, p, n, err);
        }
    }
    pg_scratch_free(&sc);
    sbuf_addc(b, ')');
    return rc;
}

static int insert_rows(struct target *t, const struct table *cols,
                       row_pull_fn pull, void *arg, struct co_err *err)
{
    struct sbuf sql;
    const struct value *row;
    int more, rc = 0, n = 0;

    sbuf_init(&sql);
    do {
        if ((more = pull(arg, &row, err)) < 0) {
            rc = more;
            break;
        }
        if (more) {
            if (n == 0) {
                sbuf_reset(&sql);
                sbuf_adds(&sql, "INSERT INTO ");
                pg_ident(&sql, cols->name);
                sbuf_adds(&sql, " VALUES ");
            } else {
                sbuf_adds(&sql, ", ");
            }
            if ((rc = row_literals(&sql, cols, row, err)) < 0)
                break;
            n++;
        }
        if (n > 0 && (!more || n == SCRATCH_ROWS)) {
            rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                         : pg_exec(t->s, sbuf_str(&sql), err,
                                   "loading values to compare");
            n = 0;
        }
    } while (more && rc == 0);
    sbuf_free(&sql);
    return rc;
}

int tpg_find_collisions(struct target *t, const struct runbook *rb,
                        const struct table *cols, const int *prefixes,
                        row_pull_fn pull, void *arg, int max_groups,
                        json_t **groups, struct co_err *err)
{
    struct sbuf sql;
    json_t *found = NULL;
    int nvals = cols->ncols - 1, rc;

    *groups = json_array();
    sbuf_init(&sql);
    sbuf_adds(&sql, "CREATE TEMPORARY TABLE ");
    pg_ident(&sql, cols->name);
    sbuf_adds(&sql, " (");
    for (int i = 0; i < cols->ncols; i++) {
        if (i)
            sbuf_adds(&sql, ", ");
        pg_ident(&sql, cols->cols[i].name);
        /* the last column, the source key's text, is ours to type */
        if (i < nvals) {
            sbuf_addf(&sql, " %s", cols->cols[i].map.type);
            tpg_collate_clause(&sql, rb, &cols->cols[i]);
        } else {
            sbuf_adds(&sql, " text");
        }
    }
    sbuf_adds(&sql, ")");
    rc = pg_exec(t->s, sbuf_str(&sql), err, "creating a scratch table");
    if (rc < 0)
        goto out;
    if ((rc = insert_rows(t, cols, pull, arg, err)) < 0)
        goto drop;
    sbuf_reset(&sql);
    sbuf_adds(&sql, "SELECT coalesce(json_agg(json_build_object('values', "
                    "v, 'keys', k)), '[]') FROM (SELECT json_build_array(");
    for (int i = 0; i < nvals; i++) {
        sbuf_adds(&sql, i ? ", (array_agg(" : "(array_agg(");
        pg_ident(&sql, cols->cols[i].name);
        sbuf_adds(&sql, "))[1]");
    }
    sbuf_adds(&sql, ") v, to_json((array_agg(");
    pg_ident(&sql, cols->cols[nvals].name);
    sbuf_addf(&sql, "))[1:%d]) k FROM ", KEYS_PER_GROUP);
    pg_ident(&sql, cols->name);
    sbuf_adds(&sql, " GROUP BY ");
    for (int i = 0; i < nvals; i++) {
        int prefix = prefixes ? prefixes[i] : 0;
        if (i)
            sbuf_adds(&sql, ", ");
        if (prefix)
            sbuf_adds(&sql, "left(");
        pg_ident(&sql, cols->cols[i].name);
        if (prefix)
            sbuf_addf(&sql, ", %d)", prefix);
    }
    sbuf_addf(&sql, " HAVING count(*) > 1 LIMIT %d) g", max_groups);
    rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                 : query_json(t->s, sbuf_str(&sql), &found, err,
                              "grouping values the target compares equal");
    if (rc == 0 && found) {
        json_decref(*groups);
        *groups = found;
    }
drop:
    sbuf_reset(&sql);
    sbuf_adds(&sql, "DROP TABLE IF EXISTS pg_temp.");
    pg_ident(&sql, cols->name);
    pg_exec(t->s, sbuf_str(&sql), NULL, "dropping a scratch table");
out:
    sbuf_free(&sql);
    if (rc < 0)
        co_err_prefix(err, "under collation %s", rb->schema.collation);
    return rc;
}

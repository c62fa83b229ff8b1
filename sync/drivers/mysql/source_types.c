/*
 * source_types.c — what a MySQL/MariaDB source's columns hold and become:
 * the census (one aggregate query per table) and each column's type.
 *
 * MySQL to MySQL keeps every column as it is declared, collation
 * included: the declared type is the target column's type, and the
 * logical type read from it (ltype.c) says how values are carried and
 * compared. A target of another engine renders the logical type in its
 * own words; a type with no logical type (BIT, spatial types) then
 * blocks until an override says what it becomes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runbook.h"
#include "sync/drivers/mysql/source_priv.h"
#include "sync/typemap_priv.h"

/* How values of a logical kind travel (enum ltype). */
enum ltype smy_lt_of(const struct logical_type *l)
{
    switch (l->kind) {
    case LK_INTEGER: return LT_INT;
    case LK_BOOLEAN: return LT_BOOL;
    case LK_DECIMAL: return LT_DECIMAL;
    case LK_FLOAT: return LT_DOUBLE;
    case LK_BYTES: return LT_BLOB;
    case LK_DATE: return LT_DATE;
    case LK_TIME: return LT_TIME;
    case LK_DATETIME: return LT_DATETIME;
    default: return LT_TEXT;
    }
}

static int is_mysql(const struct target_ops *tops)
{
    return strcmp(tops->name, "mysql") == 0;
}

static void decide_column(struct ctx *x, int ci, const struct col_census *cs)
{
    struct column *c = &x->t->cols[ci];
    struct colmap *m = &c->map;
    const struct target_ops *tops = x->tops;
    const char *ov = runbook_override(x->rb, x->t->name, c->name);
    int known;

    memset(m, 0, sizeof *m);
    known = tmy_logical_of_type(c->decl, &m->logical) == 0;
    m->autoinc = x->t->autoinc && x->t->nkey == 1 && x->t->key[0] == ci;
    if (ov) {
        struct logical_type ol;
        snprintf(m->type, sizeof m->type, "%s", ov);
        if (tops->logical_of_type(ov, &ol) == 0) {
            /* an array holds a SET's members, split at its commas: other
             * text has commas of its own */
            if (ol.kind == LK_SET && (!known || m->logical.kind != LK_SET))
                note(x, ci, MAP_BLOCKING, "override %s is for MySQL SET "
                     "columns, and this one is %s", ov, c->decl);
            else if (ol.kind == LK_SET && ol.array && table_in_key(x->t, ci))
                note(x, ci, MAP_BLOCKING, "override %s: a key column "
                     "stays text (rows are found by it)", ov);
            m->logical = ol;
            known = 1;
        }
        m->lt = known ? smy_lt_of(&m->logical) : LT_BLOB;
        snprintf(m->reason, sizeof m->reason, "MySQL %s → {type} "
                 "(schema.overrides)", c->decl);
    } else if (is_mysql(tops)) {
        /* as declared, in its own collation */
        snprintf(m->type, sizeof m->type, "%s", c->decl);
        if (c->coll && strcmp(c->coll, "BINARY") != 0)
            snprintf(m->collation, sizeof m->collation, "%s", c->coll);
        m->lt = known ? smy_lt_of(&m->logical) : LT_BLOB;
        snprintf(m->reason, sizeof m->reason, "MySQL %s kept as it is",
                 c->decl);
        if (!known)
            note(x, ci, MAP_INFO, "MySQL %s is copied as its bytes",
                 c->decl);
    } else if (known) {
        m->lt = smy_lt_of(&m->logical);
        snprintf(m->reason, sizeof m->reason, "MySQL %s → {type}", c->decl);
        smy_retype(x, ci, cs);
    } else {
        m->lt = LT_BLOB;
        m->logical.kind = LK_BYTES;
        note(x, ci, MAP_BLOCKING, "MySQL %s has no equivalent cutover "
             "knows on %s: give the column a type in schema.overrides%s",
             c->decl, tops->types->engine,
             tops->types->text_refuses_nul ? " (bytea keeps its bytes)"
                                           : "");
    }
    if (m->lt == LT_DECIMAL) {
        m->precision = m->logical.precision;
        m->scale = m->logical.scale;
    }
    /* BIGINT UNSIGNED values past 2^63-1 travel as digits, exact */
    if (m->lt == LT_INT && m->logical.is_unsigned &&
        m->logical.int_max > (uint64_t)INT64_MAX) {
        m->lt = LT_DECIMAL;
        m->precision = 20;
        m->scale = 0;
    }
    m->dt = DT_TEXT;
}

int smy_decide_types(const struct runbook *rb, struct table *t,
                     const struct col_census *census,
                     const struct target_ops *tops, struct map_note *notes,
                     int max_notes)
{
    struct ctx x = {.rb = rb, .t = t, .notes = notes,
                    .max_notes = max_notes, .tops = tops};

    for (int i = 0; i < t->ncols; i++)
        decide_column(&x, i, &census[i]);
    return x.nnotes;
}

/* In a CHAR(36) or CHAR(32): how many values are UUIDs, and how many of
 * those are in lower case (NULL, NULL for other columns, which never are
 * one on the target). REGEXP follows the column's collation (MySQL 8
 * refuses it on binary strings): the lower-cased value is matched, and
 * the case compared as bytes. */
#define UUID_REGEXP "'^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-" \
                    "[0-9a-f]{12}|[0-9a-f]{32})$'"

static void uuid_count(struct sbuf *sql, const struct column *c)
{
    if (strncmp(c->decl, "char(36)", 8) != 0 &&
        strncmp(c->decl, "char(32)", 8) != 0) {
        sbuf_adds(sql, "NULL, NULL");
        return;
    }
    sbuf_adds(sql, "SUM(LOWER(");
    sbuf_ident(sql, c->name, '`');
    sbuf_adds(sql, ") REGEXP " UUID_REGEXP "), SUM(LOWER(");
    sbuf_ident(sql, c->name, '`');
    sbuf_adds(sql, ") REGEXP " UUID_REGEXP " AND CAST(");
    sbuf_ident(sql, c->name, '`');
    sbuf_adds(sql, " AS BINARY) = CAST(LOWER(");
    sbuf_ident(sql, c->name, '`');
    sbuf_adds(sql, ") AS BINARY))");
}

/* One pass: rows, and per column its NULLs, range, longest value and, in
 * the columns that could hold them, UUIDs. */
int smy_census(struct source *s, const struct table *t,
               struct col_census *out, struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;
    const int per = 7;

    memset(out, 0, sizeof *out * (size_t)t->ncols);
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT COUNT(*)");
    for (int i = 0; i < t->ncols; i++) {
        const char *name = t->cols[i].name;
        sbuf_adds(&sql, ", SUM(");
        sbuf_ident(&sql, name, '`');
        sbuf_adds(&sql, " IS NULL), MIN(");
        sbuf_ident(&sql, name, '`');
        sbuf_adds(&sql, "), MAX(");
        sbuf_ident(&sql, name, '`');
        sbuf_adds(&sql, "), MAX(LENGTH(");
        sbuf_ident(&sql, name, '`');
        sbuf_adds(&sql, ")), MAX(CHAR_LENGTH(");
        sbuf_ident(&sql, name, '`');
        sbuf_adds(&sql, ")), ");
        uuid_count(&sql, &t->cols[i]);
    }
    sbuf_adds(&sql, " FROM ");
    sbuf_ident(&sql, t->name, '`');
    if (mysql_query(s->c->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(s->c->my))) {
        sbuf_free(&sql);
        return co_err_prefix(err, "table %s", t->name),
               my_error(s->c, err, "taking the census of table %s", t->name);
    }
    sbuf_free(&sql);
    if ((r = mysql_fetch_row(res))) {
        int64_t rows = strtoll(r[0], NULL, 10);
        for (int i = 0; i < t->ncols; i++) {
            struct col_census *c = &out[i];
            const char *const *v = (const char *const *)r + 1 + per * i;
            struct logical_type l;
            int kind = tmy_logical_of_type(t->cols[i].decl, &l) == 0
                           ? (int)l.kind : -1;
            c->rows = rows;
            c->nulls = v[0] ? strtoll(v[0], NULL, 10) : 0;
            if (kind == LK_INTEGER || kind == LK_BOOLEAN) {
                c->ints = rows - c->nulls;
                c->int_min = v[1] ? strtoll(v[1], NULL, 10) : 0;
                c->int_max = v[2] ? strtoll(v[2], NULL, 10) : 0;
            } else if (kind == LK_BYTES || kind < 0) {
                c->blobs = rows - c->nulls;
            } else if (kind == LK_FLOAT) {
                c->reals = rows - c->nulls;
            } else {
                c->texts = rows - c->nulls;
            }
            c->max_bytes = v[3] ? strtoll(v[3], NULL, 10) : 0;
            c->max_chars = v[4] ? strtoll(v[4], NULL, 10) : 0;
            c->uuids = v[5] ? strtoll(v[5], NULL, 10) : 0;
            c->uuids_lower = v[6] ? strtoll(v[6], NULL, 10) : 0;
        }
    }
    mysql_free_result(res);
    return 0;
}

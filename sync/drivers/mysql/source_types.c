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
#include "sync/typemap.h"

/* How values of a logical kind travel (enum ltype). */
static enum ltype lt_of(const struct logical_type *l)
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

static void note(struct map_note *notes, int *n, int max, int col,
                 enum map_severity sev, const char *fmt, const char *a,
                 const char *b)
{
    if (*n >= max)
        return;
    memset(&notes[*n], 0, sizeof notes[*n]);
    notes[*n].severity = sev;
    notes[*n].column = col;
    snprintf(notes[*n].message, sizeof notes[*n].message, fmt, a, b);
    (*n)++;
}

static void decide_column(const struct runbook *rb, struct table *t, int ci,
                          const struct target_ops *tops,
                          struct map_note *notes, int *n, int max)
{
    struct column *c = &t->cols[ci];
    struct colmap *m = &c->map;
    const char *ov = runbook_override(rb, t->name, c->name);
    int known;

    memset(m, 0, sizeof *m);
    known = tmy_logical_of_type(c->decl, &m->logical) == 0;
    m->autoinc = t->autoinc && t->nkey == 1 && t->key[0] == ci;
    if (ov) {
        struct logical_type ol;
        snprintf(m->type, sizeof m->type, "%s", ov);
        if (tops->logical_of_type(ov, &ol) == 0) {
            m->logical = ol;
            known = 1;
        }
        m->lt = known ? lt_of(&m->logical) : LT_BLOB;
        snprintf(m->reason, sizeof m->reason, "MySQL %s → {type} "
                 "(schema.overrides)", c->decl);
    } else if (is_mysql(tops)) {
        /* as declared, in its own collation */
        snprintf(m->type, sizeof m->type, "%s", c->decl);
        if (c->coll && strcmp(c->coll, "BINARY") != 0)
            snprintf(m->collation, sizeof m->collation, "%s", c->coll);
        m->lt = known ? lt_of(&m->logical) : LT_BLOB;
        snprintf(m->reason, sizeof m->reason, "MySQL %s kept as it is",
                 c->decl);
        if (!known)
            note(notes, n, max, ci, MAP_INFO, "MySQL %s is copied as its "
                 "bytes%s", c->decl, "");
    } else if (known) {
        m->lt = lt_of(&m->logical);
        snprintf(m->reason, sizeof m->reason, "MySQL %s → {type}", c->decl);
    } else {
        m->lt = LT_BLOB;
        m->logical.kind = LK_BYTES;
        note(notes, n, max, ci, MAP_BLOCKING, "MySQL %s has no equivalent "
             "cutover knows on %s: give the column a type in "
             "schema.overrides", c->decl, tops->types->engine);
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
    int n = 0;

    (void)census;
    for (int i = 0; i < t->ncols; i++)
        decide_column(rb, t, i, tops, notes, &n, max_notes);
    return n;
}

/* One pass: rows, and per column its NULLs, range and longest value. */
int smy_census(struct source *s, const struct table *t,
               struct col_census *out, struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;
    const int per = 5;

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
        sbuf_adds(&sql, "))");
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
        }
    }
    mysql_free_result(res);
    return 0;
}

/*
 * source_retype.c — a MySQL/MariaDB column on a target of another engine
 * (PostgreSQL): the logical type its declared type and its values allow,
 * and each pitfall of the move a finding that names its rows.
 *
 * The declared type gives the logical type (ltype.c); the census says
 * what the values are: TINYINT(1) is a boolean only when it holds nothing
 * but 0 and 1, CHAR(36)/CHAR(32) a uuid only when every value is one.
 * What the census does not count (a zero date, an invalid ENUM value, a
 * NUL byte, a JSON \u0000) is a finding only when plan finds rows holding
 * it.
 */
#include <stdio.h>
#include <string.h>

#include "lib/runbook.h"
#include "sync/drivers/mysql/source_priv.h"
#include "sync/typemap_priv.h"

static int declared(const struct column *c, const char *word)
{
    return strncmp(c->decl, word, strlen(word)) == 0;
}

/* TINYINT(1) is MySQL's BOOLEAN, but any TINYINT value fits in it. */
static void tinyint_one(struct ctx *x, int ci, const struct col_census *cs)
{
    struct colmap *m = &x->t->cols[ci].map;
    int is_unsigned = strstr(x->t->cols[ci].decl, "unsigned") != NULL;

    if (cs->ints == 0 || (cs->int_min >= 0 && cs->int_max <= 1)) {
        set(m, LT_BOOL, "MySQL %s holding only 0, 1 and NULL → {type}",
            x->t->cols[ci].decl);
        return;
    }
    m->logical.kind = LK_INTEGER;
    m->logical.is_unsigned = is_unsigned;
    m->logical.int_min = is_unsigned ? 0 : -128;
    m->logical.int_max = is_unsigned ? 255 : 127;
    set(m, LT_INT, "MySQL %s holding values besides 0 and 1 → {type}",
        x->t->cols[ci].decl);
    note(x, ci, MAP_WARNING, "tinyint(1) holds values other than 0, 1 and "
         "NULL (%lld to %lld): {type}, not boolean, so no value changes; "
         "the application reads numbers", (long long)cs->int_min,
         (long long)cs->int_max);
    struct row_filter *f = note_rows(x, RF_INT_OUTSIDE, 0);
    if (f) {
        f->lo = 0;
        f->hi = 1;
    }
}

static void unsigned_integer(struct ctx *x, int ci)
{
    struct colmap *m = &x->t->cols[ci].map;

    set(m, m->lt, "MySQL %s → {type}, the next wider type: it holds every "
        "unsigned value", x->t->cols[ci].decl);
    if (m->logical.int_max <= (uint64_t)INT64_MAX)
        return;
    note(x, ci, MAP_INFO, "values above 2^63-1, which bigint cannot hold: "
         "{type} keeps them exact");
    note_when_rows(x, RF_PAST_INT64, NULL, NULL);
}

static void enum_type(struct ctx *x, int ci)
{
    set(&x->t->cols[ci].map, LT_TEXT, "MySQL %s → {type} with a CHECK of "
        "its members", x->t->cols[ci].decl);
    note(x, ci, MAP_BLOCKING, "holds '', the value MySQL stores for a "
         "string that is not a member when strict mode is off: the "
         "column's CHECK on the target refuses it");
    note_when_rows(x, RF_ENUM_INVALID, "enum_invalid", "set those rows to a "
              "member (or NULL) in MySQL first; WHERE column = 0 finds them");
}

static void date_type(struct ctx *x, int ci)
{
    const struct column *c = &x->t->cols[ci];
    int to_null = x->rb->schema.zero_dates == ZERO_DATES_NULL;

    if (to_null && !c->notnull) {
        note(x, ci, MAP_WARNING, "zero and partial-zero dates become NULL "
             "on the target (schema.zero_dates \"null\")");
        note_when_rows(x, RF_ZERO_DATE, "zero_date", NULL);
        return;
    }
    note(x, ci, MAP_BLOCKING, "holds zero or partial-zero dates "
         "('0000-00-00', '2022-11-00'), which %s refuses%s",
         x->tops->types->engine, to_null
             ? "; the column is NOT NULL, so NULL cannot stand in" : "");
    note_when_rows(x, RF_ZERO_DATE, "zero_date", to_null
              ? "fix the rows in MySQL"
              : "set schema.zero_dates to \"null\" to store them as NULL, "
                "or fix the rows in MySQL");
}

enum uuid_fit { NOT_UUIDS, UUIDS, UUID_KEY_NOT_LOWER };

/* A CHAR(36) or CHAR(32) whose every value is a UUID. In the table's
 * key, in lower case too: PostgreSQL's uuid prints them so, and a
 * rollback finds the source's rows by the key as the target gives it. */
static enum uuid_fit holds_uuids(const struct table *t, int ci,
                                 const struct col_census *cs)
{
    const struct column *c = &t->cols[ci];
    int64_t values = cs->rows - cs->nulls;

    if (!(declared(c, "char(36)") || declared(c, "char(32)")) ||
        values == 0 || cs->uuids != values)
        return NOT_UUIDS;
    return table_in_key(t, ci) && cs->uuids_lower != values
           ? UUID_KEY_NOT_LOWER : UUIDS;
}

static void text_type(struct ctx *x, int ci, const struct col_census *cs)
{
    struct column *c = &x->t->cols[ci];
    size_t len = strlen(c->decl);

    /* TINYTEXT to LONGTEXT: a limit in bytes, not a length the
     * application chose; text on the target */
    if (len >= 4 && strcmp(c->decl + len - 4, "text") == 0)
        c->map.logical.max_chars = 0;
    switch (holds_uuids(x->t, ci, cs)) {
    case UUIDS:
        memset(&c->map.logical, 0, sizeof c->map.logical);
        c->map.logical.kind = LK_UUID;
        set(&c->map, LT_TEXT, "MySQL %s holding only UUIDs → {type}",
            c->decl);
        return;
    case UUID_KEY_NOT_LOWER:
        note(x, ci, MAP_INFO, "the key holds UUIDs, some in upper case: "
             "kept {type}, as uuid would give them back in lower case and "
             "a rollback would not find the rows");
        break;
    case NOT_UUIDS:
        break;
    }
    if (!x->tops->types->text_refuses_nul)
        return;
    note(x, ci, MAP_BLOCKING, "holds NUL bytes, which %s text cannot "
         "store", x->tops->types->engine);
    note_when_rows(x, RF_NUL_BYTE, "nul_byte", "override the column to bytea "
                   "in schema.overrides, or remove the NUL bytes in MySQL");
}

void smy_retype(struct ctx *x, int ci, const struct col_census *cs)
{
    struct column *c = &x->t->cols[ci];
    struct colmap *m = &c->map;

    switch (m->logical.kind) {
    case LK_BOOLEAN:
        tinyint_one(x, ci, cs);
        return;
    case LK_INTEGER:
        if (declared(c, "year"))
            set(m, LT_INT, "MySQL %s → {type} (1901 to 2155, and 0)",
                c->decl);
        else if (m->logical.is_unsigned)
            unsigned_integer(x, ci);
        return;
    case LK_ENUM:
        enum_type(x, ci);
        return;
    case LK_SET:
        set(m, LT_TEXT, "MySQL %s → {type}: the members comma-separated, "
            "as MySQL reads them (text[] by schema.overrides)", c->decl);
        return;
    case LK_DATETIME:
        if (m->logical.zone == LZONE_UTC)
            set(m, LT_DATETIME, "MySQL %s → {type}, read in UTC", c->decl);
        /* fall through */
    case LK_DATE:
        date_type(x, ci);
        return;
    case LK_TEXT:
        text_type(x, ci, cs);
        return;
    case LK_JSON:
        typemap_note_json_nul(x, ci);
        return;
    default:
        return;
    }
}

int smy_is_zero_date(const unsigned char *p, size_t n)
{
    /* YYYY-MM-DD...: a zero year, month or day */
    return n >= 10 && (memcmp(p, "0000", 4) == 0 ||
                       memcmp(p + 5, "00", 2) == 0 ||
                       memcmp(p + 8, "00", 2) == 0);
}

void smy_zero_dates_to_null(const struct runbook *rb, const struct table *t,
                            struct value *row)
{
    if (rb->schema.zero_dates != ZERO_DATES_NULL)
        return;
    for (int i = 0; i < t->ncols; i++) {
        enum ltype lt = t->cols[i].map.lt;
        if ((lt == LT_DATE || lt == LT_DATETIME) && row[i].type == V_TEXT &&
            smy_is_zero_date(row[i].p, row[i].n))
            row[i].type = V_NULL;
    }
}

/*
 * describe.c — what an existing target table is (schema.mode
 * "existing"), read from information_schema: columns with type, size,
 * signedness, nullability, default, character set and collation, and the
 * primary and unique keys. Read only: nothing here changes the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sync/drivers/mysql/mysql_priv.h"
#include "lib/xalloc.h"

/* Ranges the server accepts, in codec's canonical form. DATE and DATETIME
 * are what codec parses (years 1000 to 9999, as MySQL documents them). */
#define DATETIME_MIN "1000-01-01 00:00:00.000000"
#define DATETIME_MAX "9999-12-31 23:59:59.999999"
#define TIMESTAMP_MIN "1970-01-01 00:00:01.000000"
#define TIMESTAMP_MAX_2038 "2038-01-19 03:14:07.999999"
/* MariaDB 11.5 widened TIMESTAMP to 32-bit unsigned seconds. */
#define TIMESTAMP_MAX_2106 "2106-02-07 06:28:15.999999"

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void select_literal(struct target *t, struct sbuf *sql, const char *s)
{
    my_literal(t, sql, &(struct value){.type = V_TEXT,
                                       .p = (const unsigned char *)s,
                                       .n = strlen(s)});
}

/* The members of enum('a','b''c') or set(...), as the server quotes them. */
static int parse_members(const char *type, char ***out)
{
    const char *p = strchr(type, '(');
    char **v = NULL;
    int n = 0;

    while (p && *p) {
        char buf[1024];
        size_t o = 0;
        p = strchr(p, '\'');
        if (!p)
            break;
        for (p++; *p; p++) {
            if (*p == '\'' && p[1] == '\'') {
                p++;
            } else if (*p == '\\' && p[1]) {
                p++;
            } else if (*p == '\'') {
                p++;
                break;
            }
            if (o + 1 < sizeof buf)
                buf[o++] = *p;
        }
        buf[o] = '\0';
        v = xrealloc(v, sizeof *v * (size_t)(n + 1));
        v[n++] = xstrdup(buf);
    }
    *out = v;
    return n;
}

static void int_range(struct tcolumn *c, int bytes)
{
    if (c->is_unsigned) {
        c->int_min = 0;
        c->int_max = bytes >= 8 ? INT64_MAX : (int64_t)((1ULL << (8 * bytes)) - 1);
    } else {
        c->int_min = bytes >= 8 ? INT64_MIN : -(int64_t)(1ULL << (8 * bytes - 1));
        c->int_max = bytes >= 8 ? INT64_MAX
                                : (int64_t)(1ULL << (8 * bytes - 1)) - 1;
    }
}

static void kind_of(struct target *t, struct tcolumn *c, const char *data_type,
                    MYSQL_ROW r)
{
    static const struct { const char *name; int bytes; } ints[] = {
        {"tinyint", 1}, {"smallint", 2}, {"mediumint", 3}, {"int", 4},
        {"integer", 4}, {"bigint", 8}};
    const char *dt = data_type;

    c->is_unsigned = strcasestr(c->type, "unsigned") != NULL;
    c->scale = -1;
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (strcasecmp(dt, ints[i].name) == 0) {
            c->kind = TK_INT;
            c->is_bool = ints[i].bytes == 1 &&
                         strncasecmp(c->type, "tinyint(1)", 10) == 0;
            int_range(c, ints[i].bytes);
            return;
        }
    if (strcasecmp(dt, "year") == 0) {
        c->kind = TK_INT;
        /* 1901..2155 (and 0; smaller numbers become 20xx/19xx years) */
        c->int_min = 1901;
        c->int_max = 2155;
    } else if (strcasecmp(dt, "decimal") == 0) {
        c->kind = TK_DECIMAL;
        c->precision = r[7] ? atoi(r[7]) : 10;
        c->scale = r[8] ? atoi(r[8]) : 0;
    } else if (strcasecmp(dt, "float") == 0 || strcasecmp(dt, "double") == 0) {
        c->kind = strcasecmp(dt, "float") == 0 ? TK_FLOAT : TK_DOUBLE;
        /* FLOAT(M,D)/DOUBLE(M,D) round to D decimals */
        if (strchr(c->type, ',')) {
            c->precision = r[7] ? atoi(r[7]) : 0;
            c->scale = r[8] ? atoi(r[8]) : -1;
        }
    } else if (strcasecmp(dt, "char") == 0 || strcasecmp(dt, "varchar") == 0) {
        c->kind = TK_CHAR;
        c->max_chars = r[5] ? strtoll(r[5], NULL, 10) : 0;
    } else if (strcasestr(dt, "text")) {
        c->kind = TK_TEXT;
        c->max_bytes = r[6] ? strtoll(r[6], NULL, 10) : 0;
    } else if (strcasecmp(dt, "binary") == 0 ||
               strcasecmp(dt, "varbinary") == 0) {
        c->kind = TK_BINARY;
        c->max_bytes = r[6] ? strtoll(r[6], NULL, 10) : 0;
    } else if (strcasestr(dt, "blob")) {
        c->kind = TK_BLOB;
        c->max_bytes = r[6] ? strtoll(r[6], NULL, 10) : 0;
    } else if (strcasecmp(dt, "date") == 0 || strcasecmp(dt, "datetime") == 0) {
        c->kind = strcasecmp(dt, "date") == 0 ? TK_DATE : TK_DATETIME;
        snprintf(c->dt_min, sizeof c->dt_min, "%s", DATETIME_MIN);
        snprintf(c->dt_max, sizeof c->dt_max, "%s", DATETIME_MAX);
    } else if (strcasecmp(dt, "timestamp") == 0) {
        c->kind = TK_TIMESTAMP;
        snprintf(c->dt_min, sizeof c->dt_min, "%s", TIMESTAMP_MIN);
        snprintf(c->dt_max, sizeof c->dt_max, "%s",
                 strstr(t->server_info, "MariaDB") &&
                 mysql_get_server_version(t->my) >= 110500
                     ? TIMESTAMP_MAX_2106 : TIMESTAMP_MAX_2038);
    } else if (strcasecmp(dt, "time") == 0) {
        c->kind = TK_TIME;
    } else if (strcasecmp(dt, "enum") == 0 || strcasecmp(dt, "set") == 0) {
        c->kind = strcasecmp(dt, "enum") == 0 ? TK_ENUM : TK_SET;
        c->nvalues = parse_members(c->type, &c->values);
    } else if (strcasecmp(dt, "json") == 0) {
        c->kind = TK_JSON;
    } else {
        c->kind = TK_OTHER;
    }
    if (c->kind == TK_DATETIME || c->kind == TK_TIMESTAMP ||
        c->kind == TK_TIME)
        c->fsp = r[9] ? atoi(r[9]) : 0;
}

static int read_columns(struct target *t, const char *table,
                        struct ttable *out, struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;

    sbuf_init(&sql);
    sbuf_adds(&sql,
              "SELECT c.COLUMN_NAME, c.COLUMN_TYPE, c.DATA_TYPE, "
              "c.IS_NULLABLE, c.COLUMN_DEFAULT, c.CHARACTER_MAXIMUM_LENGTH, "
              "c.CHARACTER_OCTET_LENGTH, c.NUMERIC_PRECISION, c.NUMERIC_SCALE, "
              "c.DATETIME_PRECISION, c.CHARACTER_SET_NAME, c.COLLATION_NAME, "
              "c.EXTRA, cs.MAXLEN FROM information_schema.COLUMNS c LEFT JOIN "
              "information_schema.CHARACTER_SETS cs ON cs.CHARACTER_SET_NAME = "
              "c.CHARACTER_SET_NAME WHERE c.TABLE_SCHEMA = DATABASE() AND "
              "c.TABLE_NAME = ");
    select_literal(t, &sql, table);
    sbuf_adds(&sql, " ORDER BY c.ORDINAL_POSITION");
    if (mysql_query(t->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(t->my))) {
        sbuf_free(&sql);
        return my_error(t, err, "reading the columns of %s", table);
    }
    sbuf_free(&sql);
    out->cols = xcalloc(mysql_num_rows(res) + 1, sizeof *out->cols);
    while ((r = mysql_fetch_row(res))) {
        struct tcolumn *c = &out->cols[out->ncols++];
        const char *extra = r[12] ? r[12] : "";
        c->name = xstrdup(r[0]);
        c->type = xstrdup(r[1]);
        c->notnull = r[3] && strcmp(r[3], "NO") == 0;
        /* information_schema shows no default as SQL NULL (MariaDB writes
         * an explicit DEFAULT NULL as the text NULL) */
        c->has_default = r[4] != NULL || !c->notnull;
        c->charset = dup_or_null(r[10]);
        c->collation = dup_or_null(r[11]);
        c->char_bytes = r[13] ? atoi(r[13]) : 1;
        c->autoinc = strcasestr(extra, "auto_increment") != NULL;
        /* not MySQL's DEFAULT_GENERATED, an expression default */
        c->generated = strcasestr(extra, "VIRTUAL") != NULL ||
                       strcasestr(extra, "STORED") != NULL ||
                       strcasestr(extra, "PERSISTENT") != NULL;
        kind_of(t, c, r[2], r);
    }
    mysql_free_result(res);
    return out->ncols;
}

static int read_keys(struct target *t, const char *table, struct ttable *out,
                     struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;
    struct tkey *k = NULL;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT INDEX_NAME, COLUMN_NAME, SUB_PART FROM "
                    "information_schema.STATISTICS WHERE TABLE_SCHEMA = "
                    "DATABASE() AND NON_UNIQUE = 0 AND TABLE_NAME = ");
    select_literal(t, &sql, table);
    sbuf_adds(&sql, " ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, "
                    "SEQ_IN_INDEX");
    if (mysql_query(t->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(t->my))) {
        sbuf_free(&sql);
        return my_error(t, err, "reading the keys of %s", table);
    }
    sbuf_free(&sql);
    out->keys = xcalloc(mysql_num_rows(res) + 1, sizeof *out->keys);
    while ((r = mysql_fetch_row(res))) {
        if (!k || strcmp(k->name, r[0]) != 0) {
            k = &out->keys[out->nkeys++];
            k->name = xstrdup(r[0]);
            k->primary = strcmp(r[0], "PRIMARY") == 0;
            k->cols = xcalloc(out->ncols + 1, sizeof *k->cols);
            k->prefix = xcalloc(out->ncols + 1, sizeof *k->prefix);
        }
        if (k->ncols < out->ncols) {
            k->cols[k->ncols] = ttable_column(out, r[1] ? r[1] : "");
            k->prefix[k->ncols] = r[2] ? atoi(r[2]) : 0;
            k->ncols++;
        }
    }
    mysql_free_result(res);
    return 0;
}

/* CHECK constraints: named, not evaluated (the server does, when rows
 * arrive). A server without them has none to name. */
static void read_checks(struct target *t, const char *table,
                        struct ttable *out)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT CONSTRAINT_NAME FROM information_schema."
                    "TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() "
                    "AND CONSTRAINT_TYPE = 'CHECK' AND TABLE_NAME = ");
    select_literal(t, &sql, table);
    sbuf_adds(&sql, " ORDER BY CONSTRAINT_NAME");
    if (mysql_query(t->my, sbuf_str(&sql)) == 0 &&
        (res = mysql_store_result(t->my))) {
        out->checks = xcalloc(mysql_num_rows(res) + 1, sizeof *out->checks);
        while ((r = mysql_fetch_row(res)))
            out->checks[out->nchecks++] = xstrdup(r[0] ? r[0] : "");
        mysql_free_result(res);
    }
    sbuf_free(&sql);
}

int tmy_describe_table(struct target *t, const char *table,
                       struct ttable *out, struct co_err *err)
{
    int rc;

    memset(out, 0, sizeof *out);
    out->name = xstrdup(table);
    if ((rc = read_columns(t, table, out, err)) <= 0 ||
        (rc = read_keys(t, table, out, err)) < 0) {
        ttable_free(out);
        return rc;
    }
    read_checks(t, table, out);
    return 1;
}

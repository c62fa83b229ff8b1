/*
 * binlog_table_map.c — TABLE_MAP events: the table's columns, their types
 * and per-type metadata, nullability, and the optional metadata of
 * binlog_row_metadata=FULL (signedness, charsets, names, ENUM/SET
 * strings, primary key).
 */
#include "sync/drivers/mysql/binlog_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

/* MySQL and MariaDB allow 4096 columns; more is a corrupt count. */
#define MAX_COLUMNS 4096

/* Optional metadata fields (TLV type codes of the server). */
enum {
    OPT_SIGNEDNESS = 1, OPT_DEFAULT_CHARSET, OPT_COLUMN_CHARSET,
    OPT_COLUMN_NAME, OPT_SET_STR_VALUE, OPT_ENUM_STR_VALUE,
    OPT_GEOMETRY_TYPE, OPT_SIMPLE_PRIMARY_KEY, OPT_PRIMARY_KEY_WITH_PREFIX,
    OPT_ENUM_AND_SET_DEFAULT_CHARSET, OPT_ENUM_AND_SET_COLUMN_CHARSET,
};

/* ---- column classes the optional metadata counts ---------------------------- */

/* Columns with a signedness bit. MariaDB gives one to every numeric
 * field, YEAR included (seen in its binlogs); MySQL's list leaves YEAR
 * out. */
static int is_numeric(const struct binlog_column *c, enum binlog_flavor flavor)
{
    switch (c->type) {
    case BINLOG_T_TINY: case BINLOG_T_SHORT: case BINLOG_T_INT24:
    case BINLOG_T_LONG: case BINLOG_T_LONGLONG: case BINLOG_T_NEWDECIMAL:
    case BINLOG_T_FLOAT: case BINLOG_T_DOUBLE:
        return 1;
    case BINLOG_T_YEAR:
        return flavor == BINLOG_MARIADB;
    }
    return 0;
}

/* Columns with a charset other than ENUM/SET. MariaDB decides by "has a
 * charset", which takes in GEOMETRY and its compressed columns too. */
static int is_character(const struct binlog_column *c,
                        enum binlog_flavor flavor)
{
    switch (c->type) {
    case BINLOG_T_STRING: case BINLOG_T_VAR_STRING: case BINLOG_T_VARCHAR:
    case BINLOG_T_BLOB:
        return 1;
    case BINLOG_T_GEOMETRY: case BINLOG_T_VARCHAR_COMPRESSED:
    case BINLOG_T_BLOB_COMPRESSED:
        return flavor == BINLOG_MARIADB;
    }
    return 0;
}

static int is_enum_or_set(const struct binlog_column *c)
{
    return c->type == BINLOG_T_ENUM || c->type == BINLOG_T_SET;
}

/* ---- per-type metadata ------------------------------------------------------ */

static int column_metadata(struct binlog_column *c, unsigned i,
                           struct blr_cur *m, struct co_err *err)
{
    const unsigned char *b;
    int rc = 0;

    c->type = c->binlog_type;
    switch (c->binlog_type) {
    case BINLOG_T_TINY: case BINLOG_T_SHORT: case BINLOG_T_INT24:
    case BINLOG_T_LONG: case BINLOG_T_LONGLONG: case BINLOG_T_YEAR:
    case BINLOG_T_DATE: case BINLOG_T_NEWDATE: case BINLOG_T_TIME:
    case BINLOG_T_DATETIME: case BINLOG_T_TIMESTAMP: case BINLOG_T_NULL:
        return 0;
    case BINLOG_T_FLOAT: case BINLOG_T_DOUBLE:
        if ((rc = blr_take(m, 1, "float metadata", &b, err)))
            return rc;
        if (*b != (c->type == BINLOG_T_FLOAT ? 4 : 8))
            return blr_fail(err, m, "column %u: %s of %u bytes", i + 1,
                            binlog_type_name(c->type), *b);
        return 0;
    case BINLOG_T_TINY_BLOB: case BINLOG_T_MEDIUM_BLOB:
    case BINLOG_T_LONG_BLOB: case BINLOG_T_BLOB: case BINLOG_T_GEOMETRY:
    case BINLOG_T_JSON: case BINLOG_T_BLOB_COMPRESSED:
        if ((rc = blr_take(m, 1, "blob metadata", &b, err)))
            return rc;
        if (*b < 1 || *b > 4)
            return blr_fail(err, m, "column %u: a length of %u bytes", i + 1,
                            *b);
        if (c->type >= BINLOG_T_TINY_BLOB && c->type <= BINLOG_T_LONG_BLOB)
            c->type = BINLOG_T_BLOB;
        c->length = *b;
        return 0;
    case BINLOG_T_VARCHAR: case BINLOG_T_VAR_STRING:
    case BINLOG_T_VARCHAR_COMPRESSED:
        if ((rc = blr_take(m, 2, "varchar metadata", &b, err)))
            return rc;
        c->length = (uint32_t)blr_le(b, 2);
        return 0;
    case BINLOG_T_BIT:
        if ((rc = blr_take(m, 2, "bit metadata", &b, err)))
            return rc;
        c->length = (uint32_t)b[1] * 8 + b[0];
        if (b[0] > 7 || c->length == 0 || c->length > 64)
            return blr_fail(err, m, "column %u: BIT of %u bytes and %u bits",
                            i + 1, b[1], b[0]);
        return 0;
    case BINLOG_T_NEWDECIMAL:
        if ((rc = blr_take(m, 2, "decimal metadata", &b, err)))
            return rc;
        c->precision = b[0];
        c->scale = b[1];
        if (b[0] < 1 || b[0] > 65 || b[1] > b[0] || b[1] > 38)
            return blr_fail(err, m, "column %u: DECIMAL(%u,%u)", i + 1, b[0],
                            b[1]);
        return 0;
    case BINLOG_T_TIMESTAMP2: case BINLOG_T_DATETIME2: case BINLOG_T_TIME2:
        if ((rc = blr_take(m, 1, "fsp metadata", &b, err)))
            return rc;
        if (*b > 6)
            return blr_fail(err, m, "column %u: %s(%u)", i + 1,
                            binlog_type_name(c->type), *b);
        c->fsp = *b;
        return 0;
    case BINLOG_T_STRING:
        /* CHAR, ENUM and SET: the real type in the first byte, whose
         * bits 4-5 also carry bits 8-9 of a CHAR's length (inverted). */
        if ((rc = blr_take(m, 2, "string metadata", &b, err)))
            return rc;
        if ((b[0] & 0x30) != 0x30) {
            c->type = (uint8_t)(b[0] | 0x30);
            c->length = (uint32_t)((((b[0] & 0x30) ^ 0x30) << 4) | b[1]);
        } else {
            c->type = b[0];
            c->length = b[1];
        }
        if (c->type == BINLOG_T_ENUM) {
            if (c->length != 1 && c->length != 2)
                return blr_fail(err, m, "column %u: ENUM of %u bytes", i + 1,
                                c->length);
        } else if (c->type == BINLOG_T_SET) {
            if (c->length < 1 || c->length > 8 ||
                (c->length > 4 && c->length < 8))
                return blr_fail(err, m, "column %u: SET of %u bytes", i + 1,
                                c->length);
        } else if (c->type != BINLOG_T_STRING) {
            return blr_fail(err, m, "column %u: STRING of real type %u",
                            i + 1, c->type);
        }
        return 0;
    }
    return co_errf(err, CO_ESCHEMA,
                   "binlog event %s: column %u has type %u, which this "
                   "decoder does not read (old DECIMAL, or not a column type)",
                   m->event, i + 1, c->binlog_type);
}

/* ---- optional metadata ------------------------------------------------------ */

/* Column numbers of the columns for which keep() is true, in order:
 * several fields list values for those only. */
static int nth_matching(const struct binlog_table_map *map, uint64_t n,
                        int (*keep)(const struct binlog_column *, int),
                        int arg)
{
    for (unsigned i = 0; i < map->ncols; i++)
        if (keep(&map->cols[i], arg) && n-- == 0)
            return (int)i;
    return -1;
}

static int keep_character(const struct binlog_column *c, int flavor)
{
    return is_character(c, (enum binlog_flavor)flavor);
}

static int keep_enum_set(const struct binlog_column *c, int unused)
{
    (void)unused;
    return is_enum_or_set(c);
}

static int opt_signedness(struct binlog_table_map *map,
                          enum binlog_flavor flavor, struct blr_cur *f,
                          struct co_err *err)
{
    unsigned k = 0;

    for (unsigned i = 0; i < map->ncols; i++) {
        struct binlog_column *c = &map->cols[i];
        if (!is_numeric(c, flavor))
            continue;
        if (k / 8 >= blr_left(f))
            return blr_fail(err, f, "SIGNEDNESS: too short for column %u",
                            i + 1);
        c->sign = f->p[k / 8] & (0x80 >> (k % 8)) ? BINLOG_UNSIGNED
                                                   : BINLOG_SIGNED;
        k++;
    }
    map->has_signedness = 1;
    f->p = f->end;
    return 0;
}

/* DEFAULT_CHARSET and its ENUM/SET twin: the default, then pairs of
 * (n-th such column, collation) for the columns that differ. */
static int opt_default_charset(struct binlog_table_map *map,
                               struct blr_cur *f,
                               int (*keep)(const struct binlog_column *, int),
                               int arg, struct co_err *err)
{
    uint64_t dflt, nth, cs;
    int rc, col;

    if ((rc = blr_packed(f, "default charset", &dflt, err)))
        return rc;
    for (unsigned i = 0; i < map->ncols; i++)
        if (keep(&map->cols[i], arg))
            map->cols[i].charset = (unsigned)dflt;
    while (blr_left(f)) {
        if ((rc = blr_packed(f, "charset column", &nth, err)) ||
            (rc = blr_packed(f, "charset", &cs, err)))
            return rc;
        if ((col = nth_matching(map, nth, keep, arg)) < 0)
            return blr_fail(err, f, "charset of string column #%llu, which "
                            "the table does not have", (unsigned long long)nth);
        map->cols[col].charset = (unsigned)cs;
    }
    return 0;
}

static int opt_column_charset(struct binlog_table_map *map, struct blr_cur *f,
                              int (*keep)(const struct binlog_column *, int),
                              int arg, struct co_err *err)
{
    uint64_t cs;
    int rc;

    for (unsigned i = 0; i < map->ncols; i++) {
        if (!keep(&map->cols[i], arg))
            continue;
        if ((rc = blr_packed(f, "column charset", &cs, err)))
            return rc;
        map->cols[i].charset = (unsigned)cs;
    }
    if (blr_left(f))
        return blr_fail(err, f, "COLUMN_CHARSET: more charsets than string "
                        "columns");
    return 0;
}

static int packed_bytes(struct blr_cur *f, const char *what,
                        struct binlog_bytes *out, struct co_err *err)
{
    uint64_t n;
    int rc;

    if ((rc = blr_packed(f, what, &n, err)))
        return rc;
    if (n > blr_left(f))
        return blr_fail(err, f, "truncated: %s of %llu bytes, %zu left", what,
                        (unsigned long long)n, blr_left(f));
    out->p = f->p;
    out->n = (size_t)n;
    f->p += n;
    return 0;
}

static int opt_names(struct binlog_table_map *map, struct blr_cur *f,
                     struct co_err *err)
{
    int rc;

    for (unsigned i = 0; i < map->ncols; i++)
        if ((rc = packed_bytes(f, "column name", &map->cols[i].name, err)))
            return rc;
    if (blr_left(f))
        return blr_fail(err, f, "COLUMN_NAME: more names than columns");
    map->has_names = 1;
    return 0;
}

/* SET_STR_VALUE / ENUM_STR_VALUE: per such column, a count and the
 * member names, kept in one array per type that the map owns. */
static int opt_strings(struct binlog_table_map *map, struct blr_cur *f,
                       int type, struct co_err *err)
{
    struct binlog_bytes **store = &map->strings[type == BINLOG_T_ENUM];
    const unsigned char *start = f->p;
    size_t total = 0, used = 0;
    struct binlog_bytes name;
    uint64_t n;
    int rc;

    /* First pass checks and counts, so one allocation holds them all. */
    for (unsigned i = 0; i < map->ncols; i++) {
        if (map->cols[i].type != type)
            continue;
        if ((rc = blr_packed(f, "member count", &n, err)))
            return rc;
        if (n > (type == BINLOG_T_SET ? 64 : 65535))
            return blr_fail(err, f, "column %u: %llu members", i + 1,
                            (unsigned long long)n);
        for (uint64_t k = 0; k < n; k++)
            if ((rc = packed_bytes(f, "member name", &name, err)))
                return rc;
        total += (size_t)n;
    }
    if (blr_left(f))
        return blr_fail(err, f, "%s strings for more columns than the table "
                        "has", binlog_type_name(type));
    free(*store);
    *store = xcalloc(total ? total : 1, sizeof **store);
    if (!*store)
        return co_errf(err, CO_ENOMEM, "binlog: no memory for member names");
    f->p = start;
    for (unsigned i = 0; i < map->ncols; i++) {
        struct binlog_column *c = &map->cols[i];
        if (c->type != type)
            continue;
        blr_packed(f, "member count", &n, err);
        c->values = *store + used;
        c->n_values = (unsigned)n;
        for (uint64_t k = 0; k < n; k++)
            packed_bytes(f, "member name", &(*store)[used++], err);
    }
    return 0;
}

static int opt_primary_key(struct binlog_table_map *map, struct blr_cur *f,
                           int with_prefix, struct co_err *err)
{
    uint64_t col, prefix;
    int rc;

    while (blr_left(f)) {
        if ((rc = blr_packed(f, "key column", &col, err)))
            return rc;
        if (with_prefix && (rc = blr_packed(f, "key prefix", &prefix, err)))
            return rc;
        if (col >= map->ncols)
            return blr_fail(err, f, "primary key on column %llu of %u",
                            (unsigned long long)col + 1, map->ncols);
        map->cols[col].is_key = 1;
    }
    map->has_key = 1;
    return 0;
}

static int optional_metadata(struct binlog_table_map *map,
                             enum binlog_flavor flavor, struct blr_cur *c,
                             struct co_err *err)
{
    while (blr_left(c)) {
        const unsigned char *type, *v;
        uint64_t len;
        struct blr_cur f;
        int rc;

        if ((rc = blr_take(c, 1, "metadata field", &type, err)) ||
            (rc = blr_packed(c, "metadata length", &len, err)))
            return rc;
        if (len > blr_left(c))
            return blr_fail(err, c, "truncated: optional metadata field %u "
                            "of %llu bytes, %zu left", *type,
                            (unsigned long long)len, blr_left(c));
        blr_take(c, (size_t)len, "metadata", &v, err);
        f = *c;
        f.p = v;
        f.end = v + len;
        switch (*type) {
        case OPT_SIGNEDNESS:
            rc = opt_signedness(map, flavor, &f, err);
            break;
        case OPT_DEFAULT_CHARSET:
            rc = opt_default_charset(map, &f, keep_character, (int)flavor,
                                     err);
            map->has_charsets = 1;
            break;
        case OPT_COLUMN_CHARSET:
            rc = opt_column_charset(map, &f, keep_character, (int)flavor,
                                    err);
            map->has_charsets = 1;
            break;
        case OPT_ENUM_AND_SET_DEFAULT_CHARSET:
            rc = opt_default_charset(map, &f, keep_enum_set, 0, err);
            break;
        case OPT_ENUM_AND_SET_COLUMN_CHARSET:
            rc = opt_column_charset(map, &f, keep_enum_set, 0, err);
            break;
        case OPT_COLUMN_NAME:
            rc = opt_names(map, &f, err);
            break;
        case OPT_SET_STR_VALUE:
            rc = opt_strings(map, &f, BINLOG_T_SET, err);
            break;
        case OPT_ENUM_STR_VALUE:
            rc = opt_strings(map, &f, BINLOG_T_ENUM, err);
            break;
        case OPT_SIMPLE_PRIMARY_KEY:
        case OPT_PRIMARY_KEY_WITH_PREFIX:
            rc = opt_primary_key(map, &f, *type == OPT_PRIMARY_KEY_WITH_PREFIX,
                                 err);
            break;
        default:
            /* GEOMETRY_TYPE, COLUMN_VISIBILITY and later fields: not
             * needed to walk or decode a row. */
            break;
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- the event ---------------------------------------------------------------- */

static int names(struct binlog_table_map *map, struct blr_cur *c,
                 struct co_err *err)
{
    struct binlog_bytes *out[2] = {&map->schema, &map->table};
    const unsigned char *len, *nul;
    int rc;

    for (int k = 0; k < 2; k++) {
        if ((rc = blr_take(c, 1, "name length", &len, err)) ||
            (rc = blr_take(c, *len, "name", &out[k]->p, err)) ||
            (rc = blr_take(c, 1, "name terminator", &nul, err)))
            return rc;
        out[k]->n = *len;
        if (*nul != 0)
            return blr_fail(err, c, "name not followed by a NUL byte");
    }
    return 0;
}

int binlog_table_map_parse(struct binlog_table_map *map,
                           enum binlog_flavor flavor,
                           const unsigned char *body, size_t len,
                           struct co_err *err)
{
    struct blr_cur c = {0}, m;
    const unsigned char *types, *meta, *nulls;
    uint64_t v, ncols, meta_len;
    int rc;

    memset(map, 0, sizeof *map);
    map->body = xmalloc(len ? len : 1);
    if (len)
        memcpy(map->body, body, len);
    c.base = c.p = map->body;
    c.end = map->body + len;
    c.event = "TABLE_MAP";
    c.where = "";
    if ((rc = blr_uint(&c, 6, "table id", &map->table_id, err)) ||
        (rc = blr_uint(&c, 2, "flags", &v, err)) ||
        (rc = names(map, &c, err)))
        goto err;
    map->flags = (uint16_t)v;
    if ((rc = blr_packed(&c, "column count", &ncols, err)))
        goto err;
    if (ncols == 0 || ncols > MAX_COLUMNS) {
        rc = blr_fail(err, &c, "%llu columns", (unsigned long long)ncols);
        goto err;
    }
    map->ncols = (unsigned)ncols;
    if ((rc = blr_take(&c, map->ncols, "column types", &types, err)) ||
        (rc = blr_packed(&c, "metadata length", &meta_len, err)) ||
        (rc = blr_take(&c, meta_len > len ? len + 1 : (size_t)meta_len,
                       "column metadata", &meta, err)))
        goto err;
    map->cols = xcalloc(map->ncols, sizeof *map->cols);
    m = c;
    m.p = meta;
    m.end = meta + meta_len;
    for (unsigned i = 0; i < map->ncols; i++) {
        map->cols[i].binlog_type = types[i];
        if ((rc = column_metadata(&map->cols[i], i, &m, err)))
            goto err;
    }
    if (blr_left(&m)) {
        rc = blr_fail(err, &m, "%zu bytes of column metadata left over",
                      blr_left(&m));
        goto err;
    }
    if ((rc = blr_take(&c, (map->ncols + 7) / 8, "null bitmap", &nulls, err)))
        goto err;
    for (unsigned i = 0; i < map->ncols; i++) {
        struct binlog_column *col = &map->cols[i];
        col->nullable = (nulls[i / 8] >> (i % 8)) & 1;
        /* GEOMETRY, BIT and JSON (MySQL) are binary by nature. */
        if (col->type == BINLOG_T_GEOMETRY || col->type == BINLOG_T_BIT)
            col->charset = BINLOG_CHARSET_BINARY;
    }
    if ((rc = optional_metadata(map, flavor, &c, err)))
        goto err;
    return 0;
err:
    co_err_prefix(err, "table %.*s.%.*s", (int)map->schema.n,
                  map->schema.p ? (const char *)map->schema.p : "",
                  (int)map->table.n,
                  map->table.p ? (const char *)map->table.p : "");
    binlog_table_map_free(map);
    return rc;
}

void binlog_table_map_free(struct binlog_table_map *map)
{
    free(map->strings[0]);
    free(map->strings[1]);
    free(map->cols);
    free(map->body);
    memset(map, 0, sizeof *map);
}

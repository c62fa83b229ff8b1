/*
 * target_ltype.c — PostgreSQL column types and logical types, both ways:
 * what a type written in PostgreSQL's language (an override, a
 * checkpoint) stands for, and the type plan renders for each logical
 * type, within PostgreSQL's limits (tpg_type_limits).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/postgresql/target_priv.h"

/* PostgreSQL's longest varchar(n), and the widest numeric it declares. */
#define PG_VARCHAR_MAX 10485760
#define PG_NUMERIC_MAX 1000

/* A type's words, lower case, spaces folded, and its (n[,m]) apart. */
struct type_words {
    char words[64];
    int len, scale;          /* -1: not given */
};

static int split_type(const char *type, struct type_words *tw)
{
    size_t n = 0;
    const char *p = type;

    tw->len = tw->scale = -1;
    while (*p == ' ')
        p++;
    for (; *p && *p != '('; p++) {
        char ch = (char)tolower((unsigned char)*p);
        if (ch == ' ' && (n == 0 || tw->words[n - 1] == ' '))
            continue;
        if (n + 1 >= sizeof tw->words)
            return -1;
        tw->words[n++] = ch;
    }
    if (*p == '(') {
        char *end;
        tw->len = (int)strtol(p + 1, &end, 10);
        if (*end == ',')
            tw->scale = (int)strtol(end + 1, &end, 10);
        if (*end != ')')
            return -1;
        p = end + 1;
        /* "timestamp(6) with time zone": the words go on after (n) */
        for (; *p && n + 1 < sizeof tw->words; p++) {
            char ch = (char)tolower((unsigned char)*p);
            if (ch == ' ' && (n == 0 || tw->words[n - 1] == ' '))
                continue;
            tw->words[n++] = ch;
        }
    }
    while (n > 0 && tw->words[n - 1] == ' ')
        n--;
    tw->words[n] = '\0';
    return 0;
}

static int is(const struct type_words *tw, const char *a, const char *b)
{
    return strcmp(tw->words, a) == 0 || (b && strcmp(tw->words, b) == 0);
}

static void integer_range(struct logical_type *lt, int bytes)
{
    lt->kind = LK_INTEGER;
    lt->int_min = bytes == 8 ? INT64_MIN : -(1LL << (8 * bytes - 1));
    lt->int_max = bytes == 8 ? (uint64_t)INT64_MAX
                             : (1ULL << (8 * bytes - 1)) - 1;
}

int tpg_logical_of_type(const char *type, struct logical_type *out)
{
    struct type_words tw;

    memset(out, 0, sizeof *out);
    if (!type || split_type(type, &tw) < 0)
        return -1;
    if (is(&tw, "smallint", "int2")) {
        integer_range(out, 2);
    } else if (is(&tw, "integer", "int") || is(&tw, "int4", NULL)) {
        integer_range(out, 4);
    } else if (is(&tw, "bigint", "int8")) {
        integer_range(out, 8);
    } else if (is(&tw, "boolean", "bool")) {
        out->kind = LK_BOOLEAN;
    } else if (is(&tw, "numeric", "decimal")) {
        out->kind = LK_DECIMAL;
        /* numeric without (p,s) holds any value: the widest we declare */
        out->precision = tw.len > 0 ? tw.len : PG_NUMERIC_MAX;
        out->scale = tw.len > 0 && tw.scale > 0 ? tw.scale : 0;
    } else if (is(&tw, "double precision", "float8") ||
               is(&tw, "real", "float4") || is(&tw, "float", NULL)) {
        out->kind = LK_FLOAT;
    } else if (is(&tw, "character varying", "varchar") ||
               is(&tw, "character", "char")) {
        out->kind = LK_TEXT;
        out->max_chars = tw.len > 0 ? tw.len : is(&tw, "character", "char");
    } else if (is(&tw, "text", "citext")) {
        out->kind = LK_TEXT;
    } else if (is(&tw, "bytea", NULL)) {
        out->kind = LK_BYTES;
    } else if (is(&tw, "date", NULL)) {
        out->kind = LK_DATE;
    } else if (is(&tw, "time", "time without time zone")) {
        out->kind = LK_TIME;
        out->fsp = tw.len >= 0 ? tw.len : 6;
    } else if (is(&tw, "timestamp", "timestamp without time zone") ||
               is(&tw, "timestamptz", "timestamp with time zone")) {
        out->kind = LK_DATETIME;
        out->fsp = tw.len >= 0 ? tw.len : 6;
        out->zone = strstr(tw.words, "tz") || strstr(tw.words, "with ")
                    ? LZONE_UTC : LZONE_NAIVE;
        if (strstr(tw.words, "without"))
            out->zone = LZONE_NAIVE;
    } else if (is(&tw, "jsonb", "json")) {
        out->kind = LK_JSON;
    } else if (is(&tw, "uuid", NULL)) {
        out->kind = LK_UUID;
    } else if (is(&tw, "text[]", NULL)) {
        /* the one array we make: a MySQL SET's members */
        out->kind = LK_SET;
        out->array = 1;
    } else {
        return -1;
    }
    return 0;
}

/* The narrowest of smallint, integer, bigint that holds [min, max]; a
 * range past bigint (unsigned 64-bit values) takes numeric(20,0). */
static void render_integer(const struct logical_type *lt, char *out,
                           size_t cap)
{
    static const char *const words[] = {"smallint", "integer", "bigint"};
    static const int bytes[] = {2, 4, 8};

    for (size_t i = 0; i < 3; i++) {
        struct logical_type fit;
        integer_range(&fit, bytes[i]);
        if (lt->int_min >= fit.int_min && lt->int_max <= fit.int_max) {
            snprintf(out, cap, "%s", words[i]);
            return;
        }
    }
    snprintf(out, cap, "numeric(20,0)");
}

void tpg_render_type(const struct logical_type *lt, char *out, size_t cap)
{
    switch (lt->kind) {
    case LK_INTEGER:
        render_integer(lt, out, cap);
        return;
    case LK_BOOLEAN:
        snprintf(out, cap, "boolean");
        return;
    case LK_DECIMAL:
        snprintf(out, cap, "numeric(%d,%d)", lt->precision, lt->scale);
        return;
    case LK_FLOAT:
        snprintf(out, cap, "double precision");
        return;
    case LK_BYTES:
        snprintf(out, cap, "bytea");
        return;
    case LK_DATE:
        snprintf(out, cap, "date");
        return;
    /* microseconds always: PostgreSQL's finest, and what the codec
     * writes, so no value is ever rounded */
    case LK_TIME:
        snprintf(out, cap, "time(6)");
        return;
    case LK_DATETIME:
        snprintf(out, cap, lt->zone == LZONE_UTC ? "timestamptz(6)"
                                                 : "timestamp(6)");
        return;
    case LK_JSON:
        snprintf(out, cap, "jsonb");
        return;
    case LK_UUID:
        snprintf(out, cap, "uuid");
        return;
    case LK_SET:
        snprintf(out, cap, lt->array ? "text[]" : "text");
        return;
    default:            /* text, and enum/set whose members are not kept */
        if (lt->kind == LK_TEXT && lt->max_chars > 0 &&
            lt->max_chars <= PG_VARCHAR_MAX)
            snprintf(out, cap, "varchar(%lld)", (long long)lt->max_chars);
        else
            snprintf(out, cap, "text");
        return;
    }
}

/* btree entries up to about a third of an 8 KiB page, UTF-8 at 4 bytes a
 * character, any text indexable whole (no prefix indexes: a longer value
 * is refused by the index), numeric up to 1000 digits, floats with
 * infinities and -0. */
const struct type_limits tpg_type_limits = {
    .engine = "PostgreSQL",
    .key_max_bytes = 2704,
    .key_limit = "btree limit of index entries",
    .index_engine = "a PostgreSQL btree",
    .bytes_per_char = 4,
    .index_needs_length = 0,
    .long_unique_prefix = 0,
    .bounded_text_max = PG_VARCHAR_MAX,
    .decimal_max_precision = PG_NUMERIC_MAX,
    .decimal_max_scale = PG_NUMERIC_MAX,
    .decimal_name = "numeric",
    .holds_infinity = 1,
    .keeps_negative_zero = 1,
    .generated_key = "identity",
    .name_max = PG_NAME_MAX,
    .charset = "UTF8",
    /* three ways, each the application's choice; unique keys are then
     * checked for values equal under the one taken (find_collisions) */
    .nocase_advice = "choose how PostgreSQL compares it: override the "
                     "column to citext (CREATE EXTENSION citext first), or "
                     "set schema.collation to a nondeterministic ICU "
                     "collation (CREATE COLLATION nocase (provider = icu, "
                     "locale = 'und-u-ks-level2', deterministic = false)), "
                     "or keep it case-sensitive as PostgreSQL's default "
                     "does",
    .binary_collation = "schema.collation \"C\", or any deterministic one",
    .text_word = "text",
    .fk_set_default = 1,
    .text_refuses_nul = 1,
    .zoned_datetime = 1,
    .typed_json_uuid = 1,
};

/*
 * ltype.c — MySQL column types and logical types, both ways: what an old
 * checkpoint, which kept only the MySQL type, is read back as, and what
 * plan records beside each column's rendered type; and the column type
 * plan renders for each logical type, within InnoDB's limits.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/mysql/mysql_priv.h"

/* The integer types and the ranges they hold (signed; unsigned below). */
static const struct {
    const char *word;
    int bytes;
} integers[] = {
    {"TINYINT", 1}, {"SMALLINT", 2}, {"MEDIUMINT", 3}, {"BIGINT", 8},
    {"INTEGER", 4}, {"INT", 4},
};

/* The text and blob types without a length, by their byte limit. */
static const struct {
    const char *word;
    enum lkind kind;
    int64_t max;
} unsized[] = {
    {"TINYTEXT", LK_TEXT, 255}, {"MEDIUMTEXT", LK_TEXT, 16777215},
    {"LONGTEXT", LK_TEXT, 0}, {"TEXT", LK_TEXT, 65535},
    {"TINYBLOB", LK_BYTES, 255}, {"MEDIUMBLOB", LK_BYTES, 16777215},
    {"LONGBLOB", LK_BYTES, 0}, {"BLOB", LK_BYTES, 65535},
};

static int starts(const char *s, const char *word)
{
    size_t n = strlen(word);

    return strncmp(s, word, n) == 0 && !isalpha((unsigned char)s[n]);
}

static void integer_range(struct logical_type *lt, int bytes, int is_unsigned)
{
    lt->kind = LK_INTEGER;
    lt->is_unsigned = is_unsigned;
    if (is_unsigned) {
        lt->int_min = 0;
        lt->int_max = bytes == 8 ? UINT64_MAX : (1ULL << (8 * bytes)) - 1;
    } else {
        lt->int_min = bytes == 8 ? INT64_MIN : -(1LL << (8 * bytes - 1));
        lt->int_max = bytes == 8 ? (uint64_t)INT64_MAX
                                 : (1ULL << (8 * bytes - 1)) - 1;
    }
}

int tmy_logical_of_type(const char *type, struct logical_type *out)
{
    char up[96];
    size_t n = 0;
    const char *paren;
    int len = -1, scale = 0;

    memset(out, 0, sizeof *out);
    for (const char *c = type; *c && n + 1 < sizeof up; c++)
        up[n++] = (char)toupper((unsigned char)*c);
    up[n] = '\0';
    if ((paren = strchr(up, '('))) {
        len = atoi(paren + 1);
        const char *comma = strchr(paren, ',');
        if (comma)
            scale = atoi(comma + 1);
    }
    if ((starts(up, "TINYINT") && len == 1) || starts(up, "BOOL") ||
        starts(up, "BOOLEAN")) {
        out->kind = LK_BOOLEAN;
        return 0;
    }
    for (size_t i = 0; i < sizeof integers / sizeof *integers; i++)
        if (starts(up, integers[i].word)) {
            integer_range(out, integers[i].bytes, strstr(up, "UNSIGNED") != 0);
            return 0;
        }
    if (starts(up, "DECIMAL") || starts(up, "NUMERIC") || starts(up, "DEC")) {
        out->kind = LK_DECIMAL;
        out->precision = len > 0 ? len : 10;    /* MySQL's default */
        out->scale = len > 0 ? scale : 0;
        return 0;
    }
    if (starts(up, "DOUBLE") || starts(up, "FLOAT") || starts(up, "REAL")) {
        out->kind = LK_FLOAT;
        /* FLOAT is single precision, FLOAT(p) too up to p = 24 */
        if (starts(up, "FLOAT") && len <= 24)
            out->float_bits = 24;
        return 0;
    }
    if ((starts(up, "VARCHAR") || starts(up, "CHAR")) && len >= 0) {
        out->kind = LK_TEXT;
        out->max_chars = len;
        return 0;
    }
    if ((starts(up, "VARBINARY") || starts(up, "BINARY")) && len >= 0) {
        out->kind = LK_BYTES;
        out->max_bytes = len;
        return 0;
    }
    for (size_t i = 0; i < sizeof unsized / sizeof *unsized; i++)
        if (starts(up, unsized[i].word)) {
            out->kind = unsized[i].kind;
            if (out->kind == LK_TEXT)
                out->max_chars = unsized[i].max;
            else
                out->max_bytes = unsized[i].max;
            return 0;
        }
    if (starts(up, "DATETIME") || starts(up, "TIMESTAMP")) {
        out->kind = LK_DATETIME;
        out->fsp = len > 0 ? len : 0;
        /* TIMESTAMP stores instants (converted through the session's
         * zone); DATETIME wall-clock values */
        out->zone = starts(up, "TIMESTAMP") ? LZONE_UTC : LZONE_NAIVE;
        return 0;
    }
    if (starts(up, "DATE")) {
        out->kind = LK_DATE;
        return 0;
    }
    if (starts(up, "TIME")) {
        out->kind = LK_TIME;
        out->fsp = len > 0 ? len : 0;
        return 0;
    }
    if (starts(up, "JSON")) {
        out->kind = LK_JSON;
        return 0;
    }
    if (starts(up, "ENUM") || starts(up, "SET")) {
        out->kind = starts(up, "ENUM") ? LK_ENUM : LK_SET;
        return 0;
    }
    if (starts(up, "YEAR")) {
        /* 1901 to 2155, and 0000 */
        integer_range(out, 2, 1);
        out->int_max = 2155;
        return 0;
    }
    return -1;
}

/* The integer type that holds [lo, hi]: the narrowest, as plan keeps a
 * declared TINYINT a TINYINT when its values fit. */
static void render_integer(const struct logical_type *lt, char *out,
                           size_t cap)
{
    static const char *const words[] = {"TINYINT", "SMALLINT", "MEDIUMINT",
                                        "INT", "BIGINT"};
    static const int bytes[] = {1, 2, 3, 4, 8};

    for (size_t i = 0; i < 5; i++) {
        struct logical_type fit;
        integer_range(&fit, bytes[i], lt->is_unsigned);
        if (lt->int_min >= fit.int_min && lt->int_max <= fit.int_max) {
            snprintf(out, cap, "%s%s", words[i],
                     lt->is_unsigned ? " UNSIGNED" : "");
            return;
        }
    }
    snprintf(out, cap, "BIGINT%s", lt->is_unsigned ? " UNSIGNED" : "");
}

/* Only the fraction digits are written: DATETIME(0) reads as DATETIME. */
static void with_fsp(const char *word, int fsp, char *out, size_t cap)
{
    if (fsp > 0)
        snprintf(out, cap, "%s(%d)", word, fsp);
    else
        snprintf(out, cap, "%s", word);
}

void tmy_render_type(const struct logical_type *lt, char *out, size_t cap)
{
    switch (lt->kind) {
    case LK_INTEGER:
        render_integer(lt, out, cap);
        return;
    case LK_BOOLEAN:
        snprintf(out, cap, "TINYINT(1)");
        return;
    case LK_DECIMAL:
        snprintf(out, cap, "DECIMAL(%d,%d)", lt->precision, lt->scale);
        return;
    case LK_FLOAT:
        snprintf(out, cap, "DOUBLE");
        return;
    case LK_BYTES:
        if (lt->max_bytes > 0)
            snprintf(out, cap, "VARBINARY(%lld)", (long long)lt->max_bytes);
        else
            snprintf(out, cap, "LONGBLOB");
        return;
    case LK_DATE:
        snprintf(out, cap, "DATE");
        return;
    case LK_TIME:
        with_fsp("TIME", lt->fsp, out, cap);
        return;
    case LK_DATETIME:
        with_fsp(lt->zone == LZONE_UTC ? "TIMESTAMP" : "DATETIME", lt->fsp,
                 out, cap);
        return;
    case LK_JSON:
        snprintf(out, cap, "JSON");
        return;
    case LK_UUID:
        snprintf(out, cap, "CHAR(36)");
        return;
    default:            /* text, and enum/set whose members are not kept */
        if (lt->kind == LK_TEXT && lt->max_chars > 0)
            snprintf(out, cap, "VARCHAR(%lld)", (long long)lt->max_chars);
        else
            snprintf(out, cap, "LONGTEXT");
        return;
    }
}

/* InnoDB with utf8mb4: 3072-byte index entries, 4 bytes a character,
 * VARCHAR up to a 64 KiB row, DECIMAL(65,30), no infinities. */
const struct type_limits tmy_type_limits = {
    .engine = "MySQL",
    .key_max_bytes = 3072,
    .key_limit = "index limit of utf8mb4 keys",
    .index_engine = "InnoDB",
    .bytes_per_char = 4,
    .index_needs_length = 1,
    .long_unique_prefix = 1,
    .bounded_text_max = 16383,
    .decimal_max_precision = 65,
    .decimal_max_scale = 30,
    .decimal_name = "DECIMAL",
    .holds_infinity = 0,
    .keeps_negative_zero = 0,
    .generated_key = "AUTO_INCREMENT",
    .name_max = 64,
    .charset = "utf8mb4",
    .nocase_advice = "pick schema.collation to match, e.g. "
                     "utf8mb4_general_ci for NOCASE",
    .binary_collation = "schema.collation \"utf8mb4_bin\", or "
                        "\"utf8mb4_nopad_bin\" for trailing spaces",
    .text_word = "VARCHAR",
    .fk_set_default = 0,        /* InnoDB refuses it */
    .zero_key_mode = "NO_AUTO_VALUE_ON_ZERO",
};

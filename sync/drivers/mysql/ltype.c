/*
 * ltype.c — the logical type a MySQL column type stands for: what an old
 * checkpoint, which kept only the MySQL type, is read back as, and what
 * plan records beside each column's rendered type.
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
    if (starts(up, "TINYINT") && len == 1) {
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
        integer_range(out, 2, 1);
        out->int_min = 1901;
        out->int_max = 2155;
        return 0;
    }
    return -1;
}

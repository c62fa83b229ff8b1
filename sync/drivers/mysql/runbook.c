/*
 * runbook.c — the parts of a runbook written in MySQL's own language:
 * schema.collation (a utf8mb4 collation, utf8mb4_bin when none is given)
 * and the column types of schema.overrides. The runbook reader keeps them
 * as text; this driver judges them before anything runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "lib/runbook.h"
#include "sync/drivers/mysql/mysql_priv.h"
#include "sync/drivers/target_text.h"

/* A MySQL column type we accept in overrides: WORD[(n[,m])][ UNSIGNED].
 * Anything else could smuggle SQL into the CREATE TABLE. */
static int override_type_valid(const char *t)
{
    static const char *const words[] = {
        "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER", "BIGINT",
        "DECIMAL", "NUMERIC", "FLOAT", "DOUBLE", "BIT", "BOOL", "BOOLEAN",
        "CHAR", "VARCHAR", "BINARY", "VARBINARY", "TINYTEXT", "TEXT",
        "MEDIUMTEXT", "LONGTEXT", "TINYBLOB", "BLOB", "MEDIUMBLOB",
        "LONGBLOB", "DATE", "DATETIME", "TIMESTAMP", "TIME", "YEAR", "JSON",
        NULL};
    char word[16];
    size_t n = 0;
    const char *p = t;
    int known = 0;

    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) {
        if (n + 1 >= sizeof word)
            return 0;
        word[n++] = (char)(*p >= 'a' ? *p - 32 : *p);
        p++;
    }
    word[n] = '\0';
    for (int i = 0; words[i]; i++)
        known |= strcmp(words[i], word) == 0;
    if (!known)
        return 0;
    if (*p == '(') {
        p++;
        if (*p < '0' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p == ',') {
            p++;
            if (*p < '0' || *p > '9')
                return 0;
            while (*p >= '0' && *p <= '9')
                p++;
        }
        if (*p++ != ')')
            return 0;
    }
    if (strncasecmp(p, " UNSIGNED", 9) == 0)
        p += 9;
    return *p == '\0';
}

static int check_collation(const char *c, struct co_err *err)
{
    if (strncmp(c, "utf8mb4_", 8) != 0 || strlen(c) > 64)
        return co_errf(err, CO_ERUNBOOK, "schema.collation: \"%s\" is not a "
                       "utf8mb4 collation (utf8mb4 is the only charset that "
                       "holds every SQLite text)", c);
    for (const char *p = c; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return co_errf(err, CO_ERUNBOOK,
                           "schema.collation: invalid collation name");
    return 0;
}

int tmy_check_runbook(struct runbook *rb, struct co_err *err)
{
    static const struct target_words words = {
        .default_collation = "utf8mb4_bin",
        .check_collation = check_collation,
        .type_valid = override_type_valid,
        .type_examples = "a MySQL column type such as \"DECIMAL(12,2)\" or "
                         "\"VARCHAR(191)\"",
    };

    return target_words_check(rb, &words, err);
}

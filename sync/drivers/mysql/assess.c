/*
 * assess.c — what plan must know about a table before MySQL/MariaDB takes
 * it: identifiers at most 64 characters (MySQL counts characters, not
 * bytes) and column names without a trailing space, which it rejects.
 */
#include <string.h>

#include "lib/value.h"
#include "sync/drivers/assess.h"
#include "sync/drivers/mysql/mysql_priv.h"

#define MYSQL_NAME_MAX 64

static size_t name_chars(const char *s)
{
    return utf8_chars((const unsigned char *)s, strlen(s));
}

void tmy_assess_table(struct target *t, const struct table *tb,
                      const struct assess_sink *to)
{
    (void)t;
    if (name_chars(tb->name) > MYSQL_NAME_MAX)
        assess_add(to, ASSESS_BLOCKING, "identifier", tb->name, NULL,
                   "rename the table in the source before migrating",
                   "table name is %zu characters; MySQL allows %d",
                   name_chars(tb->name), MYSQL_NAME_MAX);
    for (int c = 0; c < tb->ncols; c++) {
        const char *n = tb->cols[c].name;
        if (name_chars(n) > MYSQL_NAME_MAX)
            assess_add(to, ASSESS_BLOCKING, "identifier", tb->name, n,
                       "rename the column in the source before migrating",
                       "column name is %zu characters; MySQL allows %d",
                       name_chars(n), MYSQL_NAME_MAX);
        if (strlen(n) > 0 && n[strlen(n) - 1] == ' ')
            assess_add(to, ASSESS_BLOCKING, "identifier", tb->name, n,
                       "rename the column in the source before migrating",
                       "column name ends with a space, which MySQL rejects");
    }
}

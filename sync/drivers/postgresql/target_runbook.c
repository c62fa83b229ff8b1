/*
 * target_runbook.c — the parts of a runbook written in PostgreSQL's own
 * language: schema.collation (a collation name; "default", the
 * database's own, when none is given) and the column types of
 * schema.overrides. The runbook reader keeps them as text; this driver
 * judges them before anything runs. The server checks that a collation
 * exists when the first table uses it.
 */
#include <stdio.h>
#include <string.h>

#include "sync/drivers/postgresql/target_priv.h"
#include "sync/drivers/target_text.h"

/* An override we accept: a type tpg_logical_of_type knows, written with
 * letters, digits, spaces, parentheses, commas and text[]'s brackets
 * only, so nothing can be smuggled into the CREATE TABLE. */
static int override_type_valid(const char *t)
{
    struct logical_type lt;

    if (strlen(t) > 60 || t[strspn(t, "abcdefghijklmnopqrstuvwxyz"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789 (),[]")] != '\0')
        return 0;
    return tpg_logical_of_type(t, &lt) == 0;
}

/* Collation names as PostgreSQL and ICU spell them ("C", "en_US.utf8",
 * "und-u-ks-level2"); quoted as an identifier where used. */
static int check_collation(const char *c, struct co_err *err)
{
    if (!c[0] || strlen(c) > PG_NAME_MAX ||
        c[strspn(c, "abcdefghijklmnopqrstuvwxyz"
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@")] != '\0')
        return co_errf(err, CO_ERUNBOOK, "schema.collation: \"%s\" is not "
                       "a PostgreSQL collation name (such as \"C\", "
                       "\"en_US.utf8\" or \"und-x-icu\"; leave it out for "
                       "the database's default)", c);
    return 0;
}

int tpg_check_runbook(struct runbook *rb, struct co_err *err)
{
    static const struct target_words words = {
        .default_collation = TPG_DEFAULT_COLLATION,
        .check_collation = check_collation,
        .type_valid = override_type_valid,
        .type_examples = "a PostgreSQL column type such as \"numeric(12,2)\", "
                         "\"varchar(191)\", \"bytea\", \"timestamptz\" or \"text[]\"",
    };

    return target_words_check(rb, &words, err);
}

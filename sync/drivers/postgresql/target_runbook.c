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

#include "lib/runbook.h"
#include "lib/xalloc.h"
#include "sync/drivers/postgresql/target_priv.h"

/* An override we accept: a type tpg_logical_of_type knows, written with
 * letters, digits, spaces, parentheses and commas only, so nothing can
 * be smuggled into the CREATE TABLE. */
static int override_type_valid(const char *t)
{
    struct logical_type lt;

    if (strlen(t) > 60 || t[strspn(t, "abcdefghijklmnopqrstuvwxyz"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789 (),")] != '\0')
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
    int rc;

    if (!rb->schema.collation &&
        !(rb->schema.collation = xstrdup(TPG_DEFAULT_COLLATION)))
        return co_errf(err, CO_ENOMEM, "out of memory");
    if ((rc = check_collation(rb->schema.collation, err)) < 0)
        return rc;
    for (int i = 0; i < rb->schema.noverrides; i++) {
        const struct rb_override *ov = &rb->schema.overrides[i];
        if (!override_type_valid(ov->type))
            return co_errf(err, CO_ERUNBOOK, "schema.overrides.%s.%s: "
                           "expected a PostgreSQL column type such as "
                           "\"numeric(12,2)\", \"varchar(191)\", \"bytea\" "
                           "or \"timestamptz\", not \"%s\"",
                           ov->table, ov->column, ov->type);
    }
    return 0;
}

/* name_checks.c — runbook entries that name tables or columns must name
 * something: an override, key choice or include entry with a typo would
 * otherwise do nothing, silently (a column keeps the wrong type, a table
 * is not migrated). */
#include <fnmatch.h>
#include <string.h>

#include "lib/runbook.h"
#include "stages/plan/checks.h"

static const struct table *find_table(const struct plan *p, const char *name)
{
    for (int i = 0; i < p->schema.ntables; i++)
        if (strcmp(p->schema.tables[i].name, name) == 0)
            return &p->schema.tables[i];
    return NULL;
}

static int matches_any(const struct plan *p, const char *pattern)
{
    for (int i = 0; i < p->schema.ntables; i++)
        if (fnmatch(pattern, p->schema.tables[i].name, 0) == 0)
            return 1;
    return 0;
}

static void check_column(struct plan *p, const char *where,
                         const struct table *t, const char *column)
{
    if (table_column(t, column) < 0)
        plan_add(p, SEV_BLOCKING, "runbook_name", t->name, column,
                 "correct the column name in the runbook",
                 "%s names column %s.%s, which the source table does not "
                 "have", where, t->name, column);
}

/* A selected table's entry, or a blocking finding. */
static const struct table *named_table(struct plan *p, const char *where,
                                       const char *table)
{
    const struct table *t = find_table(p, table);

    if (!t)
        plan_add(p, SEV_BLOCKING, "runbook_name", table, NULL,
                 "correct the table name, or select the table "
                 "(tables.include/exclude)",
                 "%s names table %s, which is not among the tables being "
                 "migrated", where, table);
    return t;
}

void checks_runbook_names(const struct runbook *rb, struct plan *p)
{
    for (int i = 0; i < rb->schema.noverrides; i++) {
        const struct rb_override *o = &rb->schema.overrides[i];
        const struct table *t = named_table(p, "schema.overrides", o->table);
        if (t)
            check_column(p, "schema.overrides", t, o->column);
    }
    for (int i = 0; i < rb->tables.nkeys; i++) {
        const struct rb_key_choice *k = &rb->tables.keys[i];
        const struct table *t = named_table(p, "tables.keys", k->table);
        for (int c = 0; t && c < k->ncolumns; c++)
            check_column(p, "tables.keys", t, k->columns[c]);
    }
    for (int i = 0; i < rb->tables.ninclude; i++)
        if (!matches_any(p, rb->tables.include[i]))
            plan_add(p, SEV_BLOCKING, "runbook_name", NULL, NULL,
                     "correct the name, or remove the entry",
                     "tables.include entry \"%s\" matches no table of the "
                     "source (or only excluded ones)", rb->tables.include[i]);
}

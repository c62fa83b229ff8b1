/*
 * object_checks.c — cutover's own objects, as plan sees them.
 *
 * Another migration's objects (lib/owner.h) on either side block: a
 * fence a finished migration left on the source means the application has
 * written to that migration's target since, and migrating the old database
 * again would overwrite those writes; capture or logs mean a migration is
 * running from another state dir. They are named, never touched.
 *
 * Names this migration would give its target objects must differ: two
 * long table names shortened alike would share one reverse log (a
 * rollback would then drop writes), two indexes one name (one would be
 * missing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stages/plan/checks.h"
#include "lib/xalloc.h"

static void describe_owner(const struct owned_object *o, char *out,
                           size_t cap)
{
    if (o->owner[0])
        snprintf(out, cap, "made by migration %s", o->owner);
    else
        snprintf(out, cap, "no migration id: an older cutover's, or not "
                 "cutover's at all");
}

static int same_table(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* One finding per table the objects serve. */
static void report_foreign(struct plan *p, const char *side,
                           const struct owned_objects *l, const char *hint)
{
    for (int i = 0; i < l->n; i++) {
        char names[700] = "", owner[96];
        size_t o = 0;
        int first = 1;
        for (int k = 0; k < i && first; k++)
            first = !same_table(l->v[k].table, l->v[i].table);
        if (!first)
            continue;
        for (int k = i; k < l->n && o + 2 < sizeof names; k++)
            if (same_table(l->v[k].table, l->v[i].table))
                o += (size_t)snprintf(names + o, sizeof names - o, "%s%s %s",
                                      o ? ", " : "", l->v[k].kind,
                                      l->v[k].name);
        describe_owner(&l->v[i], owner, sizeof owner);
        plan_add(p, SEV_BLOCKING, "foreign_objects", l->v[i].table, NULL,
                 hint, "the %s holds objects named like cutover's that this "
                 "migration did not make (%s): %s", side, owner, names);
    }
}

int checks_foreign_objects(const struct source_ops *sops, struct source *src,
                           const struct target_ops *tops, struct target *tgt,
                           struct plan *p, struct co_err *err)
{
    struct owned_objects l;
    int rc;

    if ((rc = sops->foreign_objects(src, &l, err)) < 0)
        return rc;
    report_foreign(p, "source", &l,
                   "this database was migrated before (a fence: the "
                   "application writes to that migration's target since, and "
                   "migrating it again would overwrite those writes) or "
                   "another migration is running on it (capture and logs); "
                   "cutover never touches another migration's objects: "
                   "finish or abort that one, or drop them yourself once "
                   "nothing written since would be lost");
    owned_objects_free(&l);
    if ((rc = tops->foreign_objects(tgt, &l, err)) < 0)
        return rc;
    report_foreign(p, "target", &l,
                   "another migration's reverse capture or fence is on the "
                   "target database: finish or abort that migration, or drop "
                   "these objects yourself if it is gone");
    owned_objects_free(&l);
    return 0;
}

/* ---- names of our target objects ---------------------------------------- */

struct given_name {
    char *space, *name, *what, *table;
};

struct given_names {
    struct given_name *v;
    int n, cap, oom;
};

static void remember(void *arg, const char *space, const char *name,
                     const char *what, const char *table)
{
    struct given_names *g = arg;
    struct given_name *e;

    if (g->n == g->cap) {
        int cap = g->cap ? g->cap * 2 : 64;
        struct given_name *v = xrealloc(g->v, sizeof *v * (size_t)cap);
        g->v = v;
        g->cap = cap;
    }
    e = &g->v[g->n++];
    e->space = xstrdup(space);
    e->name = xstrdup(name);
    e->what = xstrdup(what);
    e->table = xstrdup(table);
    g->oom |= !e->space || !e->name || !e->what || !e->table;
}

/* Identifiers compare without ASCII case on some servers: so do we. */
static int by_space_and_name(const void *a, const void *b)
{
    const struct given_name *x = a, *y = b;
    int c = strcmp(x->space, y->space);

    return c ? c : strcasecmp(x->name, y->name);
}

int checks_generated_names(const struct target_ops *tops, struct target *tgt,
                           struct plan *p, struct co_err *err)
{
    struct given_names g = {0};
    int rc = tops->generated_names(tgt, &p->schema, remember, &g);
    char hint[200];

    snprintf(hint, sizeof hint, "rename one of them in SQLite before "
             "migrating (names longer than %s's %d characters are shortened "
             "with a hash, and a shortened name can equal another one)",
             tops->types->engine, tops->types->name_max);

    if (rc == 0 && g.oom)
        rc = co_errf(err, CO_ENOMEM, "out of memory");
    if (rc == 0 && g.n > 1)
        qsort(g.v, (size_t)g.n, sizeof *g.v, by_space_and_name);
    for (int i = 1; rc == 0 && i < g.n; i++) {
        const struct given_name *a = &g.v[i - 1], *b = &g.v[i];
        if (by_space_and_name(a, b) != 0)
            continue;
        plan_add(p, SEV_BLOCKING, "name_collision", a->table, NULL, hint,
                 "%s of table %s and %s of table %s would both be named %s "
                 "on the target", a->what, a->table, b->what, b->table,
                 a->name);
    }
    for (int i = 0; i < g.n; i++) {
        free(g.v[i].space);
        free(g.v[i].name);
        free(g.v[i].what);
        free(g.v[i].table);
    }
    free(g.v);
    return rc;
}

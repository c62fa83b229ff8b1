/* checks.c — pre-validation checks other than type decisions. */
#include "stages/plan/checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/runbook.h"
#include "lib/sbuf.h"
#include "sync/drivers/assess.h"
#include "sync/verifier.h"

#define EXAMPLES 5

int checks_examples(const struct source_ops *sops, struct source *src,
                    const struct table *t, const struct row_filter *f,
                    struct finding *fd, struct co_err *err)
{
    struct tuple keys[EXAMPLES], values[EXAMPLES];
    char excerpt[160];
    int64_t count;
    int n, rc;

    memset(keys, 0, sizeof keys);
    memset(values, 0, sizeof values);
    if ((rc = sops->find_rows(src, t, f, EXAMPLES, keys, values, &n, &count,
                              err)) < 0)
        return rc;
    if (n > 0) {
        fd->examples = json_array();
        if (f->kind != RF_ORPHAN && f->kind != RF_NULL)
            fd->values = json_array();
        for (int i = 0; i < n; i++) {
            json_array_append_new(fd->examples, tuple_to_json(&keys[i]));
            if (fd->values && values[i].n == 1) {
                value_excerpt(&values[i].v[0], excerpt, sizeof excerpt);
                json_array_append_new(fd->values, json_string(excerpt));
            }
            tuple_free(&keys[i]);
            tuple_free(&values[i]);
        }
    }
    return (int)(count > INT32_MAX ? INT32_MAX : count);
}

/* Findings a driver's assess hook reports (sync/drivers/assess.h). */
static void add_assessed(void *arg, enum assess_severity sev,
                         const char *code, const char *table,
                         const char *column, const char *hint,
                         const char *message)
{
    static const enum severity sevs[] = {
        [ASSESS_INFO] = SEV_INFO, [ASSESS_WARNING] = SEV_WARNING,
        [ASSESS_BLOCKING] = SEV_BLOCKING};

    plan_add(arg, sevs[sev], code, table, column, hint, "%s", message);
}

static int check_key(const struct runbook *rb,
                     const struct source_ops *sops, struct source *src,
                     const struct type_limits *L, struct plan *p,
                     const struct table *t, const struct col_census *census,
                     struct co_err *err)
{
    char hint[160];

    int create = rb->schema.mode == SCHEMA_CREATE;

    /* what the target's key will be (an existing one's is its own:
     * existing.c checks it); what the source's engine says of it */
    if (sops->assess_table)
        sops->assess_table(src, rb, t,
                           &(struct assess_sink){add_assessed, p});
    if (create && !t->rowid_key && t->key_from_unique)
        plan_add(p, SEV_INFO, "unique_key", t->name, NULL, NULL,
                 "no primary key: rows are matched by a unique NOT NULL key "
                 "(it becomes the target's primary key)");
    for (int k = 0; k < t->nkey; k++) {
        const struct col_census *c = &census[t->key[k]];
        const struct column *col = &t->cols[t->key[k]];
        if (c->nulls > 0) {
            struct row_filter f = {.kind = RF_NULL, .col = t->key[k]};
            snprintf(hint, sizeof hint, "fix the rows (SQLite allows NULL in "
                     "non-INTEGER primary keys; %s does not)", L->engine);
            struct finding *fd = plan_add(
                p, SEV_BLOCKING, "null_key", t->name, col->name, hint,
                "%lld rows have NULL in the key", (long long)c->nulls);
            int rc = checks_examples(sops, src, t, &f, fd, err);
            if (rc < 0)
                return rc;
        }
        if (col->map.lt == LT_INT && c->ints && c->int_min <= 0)
            plan_add(p, SEV_INFO, "key_values", t->name, col->name, NULL,
                     "key has zero or negative values (kept as they are%s%s)",
                     L->zero_key_mode ? ": the copy runs with " : "",
                     L->zero_key_mode ? L->zero_key_mode : "");
    }
    if (!verifier_int_ordered(t))
        plan_add(p, SEV_INFO, "key_shape", t->name, NULL, NULL,
                 "%s key: chunks follow %s's key order (its collations); "
                 "the target is read by exact key", t->nkey > 1 ? "composite "
                 "non-integer" : t->cols[t->key[0]].map.lt == LT_BLOB ? "binary"
                 : "text", sops->engine);
    if (t->autoinc)
        plan_add(p, SEV_INFO, "autoincrement", t->name, NULL, NULL,
                 "%s counter will be carried over at cutover (ids are never "
                 "reused)", sops->generated_key);
    return 0;
}

/* A MySQL source's text column in a case-insensitive collation (_ci) on
 * a target that does not keep it: the same choice as SQLite's NOCASE.
 * Binary and case-sensitive collations compare as the target's default
 * does; JSON, UUID, ENUM and SET values are not text the application
 * compares. A column overridden (to citext, say) has been chosen for. */
static void check_mysql_collation(const struct runbook *rb,
                                  const struct type_limits *L, struct plan *p,
                                  const struct table *t, int c)
{
    const struct column *col = &t->cols[c];
    size_t n = col->coll ? strlen(col->coll) : 0;

    /* an override is the choice made */
    if (n < 3 || strcmp(col->coll + n - 3, "_ci") != 0 || col->override ||
        col->map.lt != LT_TEXT || col->map.collation[0] ||
        col->map.logical.kind != LK_TEXT)
        return;
    plan_add(p, SEV_WARNING, "collation", t->name, col->name,
             L->nocase_advice, "the column compares with COLLATE %s in "
             "MySQL (case-insensitive) but with %s on the target: equality, "
             "unique keys and sorting may change", col->coll,
             rb->schema.collation);
}

static void check_columns(const struct runbook *rb,
                          const struct type_limits *L, struct plan *p,
                          const struct table *t)
{
    char custom[160];

    snprintf(custom, sizeof custom, "SQLite loads custom collations from "
             "the application; %s will not have it", L->engine);
    for (int c = 0; c < t->ncols; c++) {
        const struct column *col = &t->cols[c];
        if (strcmp(rb->source.type, "sqlite") != 0) {
            check_mysql_collation(rb, L, p, t, c);
            continue;
        }
        /* a column that keeps its own collation (map.collation, a
         * MySQL source's) compares as it did */
        if (col->coll && strcasecmp(col->coll, "BINARY") != 0 &&
            col->map.lt == LT_TEXT && !col->map.collation[0])
            plan_add(p, SEV_WARNING, "collation", t->name, col->name,
                     strcasecmp(col->coll, "NOCASE") == 0 ||
                     strcasecmp(col->coll, "RTRIM") == 0 ? L->nocase_advice
                                                         : custom,
                     "the column compares with COLLATE %s in SQLite but with "
                     "%s on the target: equality and sorting may change",
                     col->coll, rb->schema.collation);
    }
}

static int check_orphans(const struct runbook *rb,
                         const struct type_limits *L,
                         const struct source_ops *sops, struct source *src,
                         struct plan *p, const struct table *t,
                         struct co_err *err)
{
    for (int i = 0; i < t->nfk; i++) {
        struct row_filter f = {.kind = RF_ORPHAN, .fk = i};
        struct finding probe = {0};
        int n;
        if (!runbook_table_selected(rb, t->fk[i].ref_table))
            continue;
        if ((n = checks_examples(sops, src, t, &f, &probe, err)) < 0)
            return n;
        if (n == 0)
            continue;
        char hint[200];
        snprintf(hint, sizeof hint, "fix or delete the rows; %s accepts them "
                 "during the copy (foreign key checks off) but the "
                 "application may not expect them", L->engine);
        struct finding *fd = plan_add(
            p, SEV_WARNING, "orphans", t->name, t->fk[i].from[0], hint,
            "%d rows reference rows of %s that do not exist", n,
            t->fk[i].ref_table);
        fd->examples = probe.examples;
    }
    return 0;
}

static void check_indexes(const struct type_limits *L, struct plan *p,
                          const struct table *t)
{
    char hint[120];

    snprintf(hint, sizeof hint, "create an equivalent index on %s after the "
             "migration", L->engine);
    for (int i = 0; i < t->nidx; i++) {
        const struct index *ix = &t->idx[i];
        if (ix->partial || ix->expr)
            plan_add(p, SEV_WARNING, "index", t->name, NULL, hint,
                     "index %s is %s and will not be created on the target",
                     ix->name, ix->partial ? "partial (WHERE ...)" :
                     "on expressions");
    }
}

static void check_foreign_keys(const struct runbook *rb,
                               const struct type_limits *L, struct plan *p,
                               const struct table *t)
{
    for (int i = 0; i < t->nfk; i++) {
        const struct fkey *fk = &t->fk[i];
        if (!runbook_table_selected(rb, fk->ref_table))
            plan_add(p, SEV_WARNING, "foreign_key", t->name, NULL,
                     "include the referenced table, or accept that the target "
                     "will not enforce this reference",
                     "foreign key to %s is skipped: that table is not migrated",
                     fk->ref_table);
        if (!L->fk_set_default &&
            ((fk->on_delete && strcasecmp(fk->on_delete, "SET DEFAULT") == 0) ||
             (fk->on_update && strcasecmp(fk->on_update, "SET DEFAULT") == 0)))
            plan_add(p, SEV_WARNING, "foreign_key", t->name, NULL, NULL,
                     "foreign key to %s uses SET DEFAULT, which %s does not "
                     "support; the action is dropped", fk->ref_table,
                     L->index_engine);
    }
}

int checks_table(const struct runbook *rb, const struct source_ops *sops,
                 struct source *src, const struct target_ops *tops,
                 struct target *tgt, struct plan *p, const struct table *t,
                 const struct col_census *census, struct co_err *err)
{
    int rc;

    if (tops->assess_table)
        tops->assess_table(tgt, t, &(struct assess_sink){add_assessed, p});
    if ((rc = check_key(rb, sops, src, tops->types, p, t, census, err)) < 0)
        return rc;
    /* An existing target has its own collations, indexes and foreign
     * keys: nothing of the source's is made there. */
    if (rb->schema.mode == SCHEMA_CREATE) {
        check_columns(rb, tops->types, p, t);
        check_indexes(tops->types, p, t);
        check_foreign_keys(rb, tops->types, p, t);
    }
    return check_orphans(rb, tops->types, sops, src, p, t, err);
}

/* Defaults the target cannot take over (after the type decisions: whether
 * one carries depends on the target type). */
static void check_defaults(const struct target_ops *tops, struct plan *p)
{
    for (int i = 0; i < p->schema.ntables; i++) {
        const struct table *t = &p->schema.tables[i];
        for (int c = 0; c < t->ncols; c++) {
            struct sbuf sql;
            const char *why;
            sbuf_init(&sql);
            if (tops->column_default &&
                tops->column_default(&t->cols[c], &sql, &why) < 0)
                plan_add(p, SEV_WARNING, "default", t->name, t->cols[c].name,
                         "add an equivalent DEFAULT on the target if the "
                         "application relies on it",
                         "default %s is not carried over to %s: %s",
                         t->cols[c].dflt, t->cols[c].map.type, why);
            sbuf_free(&sql);
        }
    }
}

/* A missing database is reported, never made here: `run` makes it. */
static int check_target_database(const struct runbook *rb,
                                 const struct target_ops *tops,
                                 struct target *tgt, struct plan *p,
                                 struct co_err *err)
{
    int exists, rc;

    if ((rc = tops->database_exists(tgt, &exists, err)) < 0)
        return rc;
    if (exists)
        return 0;
    if (rb->schema.mode == SCHEMA_CREATE)
        plan_add(p, SEV_INFO, "target_database", NULL, NULL, NULL,
                 "the target database %s does not exist yet; `cutover run` "
                 "creates it (%s, %s) before the first table",
                 rb->target.database, tops->types->charset,
                 rb->schema.collation);
    else
        plan_add(p, SEV_BLOCKING, "target_database", NULL, NULL,
                 "create it with the application's tables, or correct "
                 "target.database",
                 "schema.mode is \"existing\" but the target database %s "
                 "does not exist", rb->target.database);
    return 0;
}

static void check_target(const struct runbook *rb,
                         const struct target_ops *tops, struct target *tgt,
                         struct plan *p, struct co_err *err)
{
    for (int i = 0; i < p->schema.ntables; i++) {
        const struct table *t = &p->schema.tables[i];
        int exists = 0;
        int64_t rows = 0;
        if (tops->table_state(tgt, t, &exists, &rows, err) < 0)
            return;
        if (exists && rows > 0 && rb->schema.mode == SCHEMA_CREATE)
            plan_add(p, SEV_BLOCKING, "target_not_empty", t->name, NULL,
                     "drop the target table, or choose another database",
                     "the target table already exists and holds rows");
        else if (exists && rb->schema.mode == SCHEMA_CREATE)
            plan_add(p, SEV_WARNING, "target_exists", t->name, NULL,
                     "drop it if its definition differs",
                     "the target table already exists (empty); it is used "
                     "as it is");
        else if (exists && rows > 0 &&
                 tops->count_rows(tgt, t, &rows, err) == 0)
            plan_add(p, SEV_WARNING, "target_not_empty", t->name, NULL,
                     "make sure nothing on the target is newer than the "
                     "source (did an earlier migration switch the "
                     "application to it?), or empty the table",
                     "the target table already holds %lld rows; the copy "
                     "overwrites every one whose key the source also has",
                     (long long)rows);
        else if (!exists && rb->schema.mode == SCHEMA_EXISTING)
            plan_add(p, SEV_BLOCKING, "target_missing", t->name, NULL,
                     "create it, or set schema.mode to \"create\"",
                     "schema.mode is \"existing\" but the target has no such "
                     "table");
    }
}

int checks_database(const struct runbook *rb, const struct source_ops *sops,
                    struct source *src, const struct target_ops *tops,
                    struct target *tgt, struct plan *p, struct co_err *err)
{
    const struct schema *s = &p->schema;
    int same = strcmp(sops->engine, tops->types->engine) == 0;
    char view_hint[120], trigger_hint[80];
    int rc;

    (void)src;
    snprintf(view_hint, sizeof view_hint, "recreate it on %s%s%s%s",
             tops->types->engine, same ? "" : " (", same ? "" : sops->engine,
             same ? "" : " view SQL rarely runs as is)");
    snprintf(trigger_hint, sizeof trigger_hint, "recreate its logic on %s",
             tops->types->engine);
    for (int i = 0; i < s->nviews; i++)
        plan_add(p, SEV_WARNING, "view", s->views[i], NULL, view_hint,
                 "view %s will not be migrated", s->views[i]);
    for (int i = 0; i < s->ntriggers; i++)
        plan_add(p, SEV_WARNING, "trigger", s->triggers[i], NULL,
                 trigger_hint, "trigger %s will not be migrated",
                 s->triggers[i]);
    if (sops->assess &&
        (rc = sops->assess(src, rb, &(struct assess_sink){add_assessed, p},
                           err)) < 0)
        return rc;
    if (rb->schema.mode == SCHEMA_CREATE)
        check_defaults(tops, p);
    if ((rc = check_target_database(rb, tops, tgt, p, err)) < 0)
        return rc;
    check_target(rb, tops, tgt, p, err);
    return 0;
}

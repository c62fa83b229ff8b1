/*
 * existing.c — pre-validation of one table in schema.mode "existing"
 * (DESIGN §5). The target table belongs to the application's framework:
 * cutover reads it and never changes it. Its columns decide every
 * column's type and which values fit (sync/typemap_existing.c); here, what
 * the table as a whole asks of the source:
 *   - a value for every NOT NULL target column without a default;
 *   - a key the rows can be matched by: the target's primary key (or a
 *     unique NOT NULL key of it) on the source's key columns;
 *   - unique keys of the target that the source's values do not collide
 *     on, compared by the server under the target columns' own types and
 *     collations.
 */
#include "stages/plan/existing.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/runbook.h"
#include "stages/plan/checks.h"
#include "stages/plan/collisions.h"
#include "lib/xalloc.h"
#include "sync/census.h"
#include "lib/sbuf.h"
#include "sync/typemap.h"

#define MAX_NOTES 256

/* The source column of that name (MySQL's column names ignore case). */
static int source_column(const struct table *t, const char *name)
{
    for (int c = 0; c < t->ncols; c++)
        if (strcasecmp(t->cols[c].name, name) == 0)
            return c;
    return -1;
}

/* "(a, b)": column names, from the target's key or the source's. */
static void key_names(const struct ttable *tt, const struct tkey *k,
                      const struct table *t, struct sbuf *b)
{
    int n = tt ? k->ncols : t->nkey;

    sbuf_addc(b, '(');
    for (int i = 0; i < n; i++) {
        if (i)
            sbuf_adds(b, ", ");
        sbuf_adds(b, !tt ? t->cols[t->key[i]].name
                     : k->cols[i] >= 0 ? tt->cols[k->cols[i]].name : "?");
    }
    sbuf_addc(b, ')');
}

/* Source column positions of the key's columns; 0 when one is missing in
 * the source, or (whole_only) indexed by a prefix only. */
static int key_in_source(const struct table *t, const struct ttable *tt,
                         const struct tkey *k, int whole_only, int *cols)
{
    if (k->ncols > 64)
        return 0;
    for (int i = 0; i < k->ncols; i++)
        if (k->cols[i] < 0 || (whole_only && k->prefix[i] > 0) ||
            (cols[i] = source_column(t, tt->cols[k->cols[i]].name)) < 0)
            return 0;
    return 1;
}

/* Do these source columns make the same set as the table's key? */
static int same_set(const int *cols, int n, const int *key, int nkey)
{
    if (n != nkey)
        return 0;
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (int k = 0; k < nkey; k++)
            found |= cols[i] == key[k];
        if (!found)
            return 0;
    }
    return 1;
}

/* A unique, NOT NULL, whole-column index of the source over these
 * columns. */
static const struct index *source_unique_on(const struct table *t,
                                            const int *cols, int n)
{
    for (int i = 0; i < t->nidx; i++) {
        const struct index *ix = &t->idx[i];
        int ok = ix->unique && !ix->partial && !ix->expr;
        for (int c = 0; ok && c < ix->ncols; c++)
            ok = ix->cols[c] >= 0 && t->cols[ix->cols[c]].notnull;
        if (ok && same_set(ix->cols, ix->ncols, cols, n))
            return ix;
    }
    return NULL;
}

/* Rows are written with REPLACE and deleted by key: the source's key must
 * be unique on the target, as its primary key or a unique NOT NULL key. */
static void check_key_match(struct plan *p, const struct table *t,
                            const struct ttable *tt)
{
    const struct tkey *pk = ttable_primary(tt);
    int cols[64];
    struct sbuf want, have;

    if (t->nkey == 0)
        return;             /* no_key already says so */
    for (int k = 0; k < tt->nkeys; k++) {
        const struct tkey *key = &tt->keys[k];
        int notnull = 1;
        for (int i = 0; i < key->ncols; i++)
            notnull &= key->cols[i] >= 0 && tt->cols[key->cols[i]].notnull;
        if (notnull && key_in_source(t, tt, key, 1, cols) &&
            same_set(cols, key->ncols, t->key, t->nkey)) {
            if (!key->primary)
                plan_add(p, SEV_INFO, "target_key", t->name, NULL, NULL,
                         "rows are matched by the target's unique key %s "
                         "(the source's key); its primary key is another",
                         key->name);
            return;
        }
    }
    sbuf_init(&want);
    sbuf_init(&have);
    key_names(NULL, NULL, t, &want);
    if (pk) {
        const struct index *ix = NULL;
        key_names(tt, pk, NULL, &have);
        if (key_in_source(t, tt, pk, 1, cols))
            ix = source_unique_on(t, cols, pk->ncols);
        if (ix) {
            struct finding *f = plan_add(
                p, SEV_BLOCKING, "target_key", t->name, NULL, NULL,
                "the target's primary key %s is not the source's key %s but "
                "a unique NOT NULL key of the source (%s): match rows by it",
                sbuf_str(&have), sbuf_str(&want), ix->name);
            struct sbuf hint;
            sbuf_init(&hint);
            sbuf_addf(&hint, "set tables.keys {\"%s\": [", t->name);
            for (int i = 0; i < pk->ncols; i++)
                sbuf_addf(&hint, "%s\"%s\"", i ? ", " : "",
                          t->cols[cols[i]].name);
            sbuf_adds(&hint, "]}");
            f->hint = xstrdup(sbuf_str(&hint));
            sbuf_free(&hint);
        } else {
            plan_add(p, SEV_BLOCKING, "target_key", t->name, NULL,
                     "give the target table a primary key on the source's "
                     "key with a migration of the application, or the "
                     "source the target's key",
                     "the target's primary key %s is not the source's key "
                     "%s nor a unique NOT NULL key of the source: rows "
                     "could not be matched between the two",
                     sbuf_str(&have), sbuf_str(&want));
        }
    } else {
        plan_add(p, SEV_BLOCKING, "target_key", t->name, NULL,
                 "give the target table a primary key on the source's key "
                 "with a migration of the application",
                 "the target table has no primary key and no unique NOT "
                 "NULL key on the source's key %s: rows could not be "
                 "matched (a chunk copied again after a resume would double "
                 "its rows)", sbuf_str(&want));
    }
    sbuf_free(&want);
    sbuf_free(&have);
}

/* Target columns the source does not have: their default fills them. */
static void check_target_only(struct plan *p, const struct table *t,
                              const struct ttable *tt)
{
    for (int i = 0; i < tt->ncols; i++) {
        const struct tcolumn *tc = &tt->cols[i];
        if (source_column(t, tc->name) >= 0 || tc->generated)
            continue;
        if (tc->notnull && !tc->has_default && !tc->autoinc)
            plan_add(p, SEV_BLOCKING, "missing_value", t->name, tc->name,
                     "add the column to the source with its values, or "
                     "give the target column a default with a migration of "
                     "the application",
                     "the target column %s %s is NOT NULL without a default "
                     "and the source has no such column: no row could be "
                     "written", tc->name, tc->type);
        else
            plan_add(p, SEV_INFO, "target_only", t->name, tc->name, NULL,
                     "the target column %s is not in the source: copied "
                     "rows get its default", tc->name);
    }
}

/* Columns with a blocking finding: their values do not even load, so
 * the collision check leaves keys on them to the fix. */
static int column_blocked(const struct plan *p, const struct table *t,
                          int col)
{
    for (int i = 0; i < p->nfindings; i++) {
        const struct finding *f = &p->findings[i];
        if (f->sev == SEV_BLOCKING && f->table && f->column &&
            strcmp(f->table, t->name) == 0 &&
            strcmp(f->column, t->cols[col].name) == 0)
            return 1;
    }
    return 0;
}

static int check_unique_keys(const struct runbook *rb,
                             const struct source_ops *sops,
                             struct source *src,
                             const struct target_ops *tops,
                             struct target *tgt, struct plan *p,
                             const struct table *t, const struct ttable *tt,
                             const struct col_census *census,
                             struct co_err *err)
{
    for (int k = 0; k < tt->nkeys; k++) {
        const struct tkey *key = &tt->keys[k];
        int cols[64], ok = key_in_source(t, tt, key, 0, cols), rc;
        char what[256];
        for (int i = 0; ok && i < key->ncols; i++)
            ok = !column_blocked(p, t, cols[i]);
        if (!ok)
            continue;
        snprintf(what, sizeof what, "%s %s", key->primary ? "primary key"
                 : "unique key", key->name);
        if ((rc = collisions_check_key(rb, sops, src, tops, tgt, p, t, census,
                                       cols, key->prefix, key->ncols, what,
                                       err)) < 0)
            return rc;
    }
    return 0;
}

int existing_analyze_table(const struct runbook *rb,
                           const struct source_ops *sops, struct source *src,
                           const struct target_ops *tops, struct target *tgt,
                           struct plan *p, struct table *t,
                           struct co_err *err)
{
    struct ttable tt;
    struct col_census *census = NULL;
    struct map_note *notes = NULL;
    int n, rc;

    /* Not supported: plan says so, blocking. */
    if (!tops->describe_table)
        return 0;
    if ((rc = tops->describe_table(tgt, t->name, &tt, err)) <= 0) {
        /* missing: checks_database reports it */
        for (int c = 0; c < t->ncols; c++)
            snprintf(t->cols[c].map.type, sizeof t->cols[c].map.type,
                     "(no table)");
        return rc;
    }
    census = xcalloc((size_t)t->ncols + 1, sizeof *census);
    notes = xcalloc(MAX_NOTES, sizeof *notes);
    /* the census looks for the shapes the target column needs */
    for (int c = 0; c < t->ncols; c++) {
        int ti = ttable_column(&tt, t->cols[c].name);
        t->cols[c].override = ti >= 0 ? tt.cols[ti].type : NULL;
    }
    if ((rc = sops->census(src, t, census, err)) < 0)
        goto out;
    t->rows_estimate = census[0].rows;
    n = typemap_existing(rb, t, census, &tt, notes, MAX_NOTES);
    typemap_record_logical(tops, t);
    for (int c = 0; c < t->ncols; c++)
        t->cols[c].override = NULL;     /* it pointed into tt */
    if ((rc = plan_add_notes(p, sops, src, t, notes, n, err)) < 0 ||
        (rc = checks_table(rb, sops, src, tops, tgt, p, t, census,
                           err)) < 0)
        goto out;
    check_target_only(p, t, &tt);
    check_key_match(p, t, &tt);
    if (tt.nchecks) {
        struct sbuf names;
        sbuf_init(&names);
        for (int i = 0; i < tt.nchecks; i++)
            sbuf_addf(&names, "%s%s", i ? ", " : "", tt.checks[i]);
        plan_add(p, SEV_INFO, "check_constraint", t->name, NULL, NULL,
                 "CHECK constraints on the target (%s) are not evaluated "
                 "here: the server checks every row as it arrives, and a "
                 "row it refuses stops the copy with its key named",
                 sbuf_str(&names));
        sbuf_free(&names);
    }
    rc = check_unique_keys(rb, sops, src, tops, tgt, p, t, &tt, census, err);
out:
    free(notes);
    free(census);
    ttable_free(&tt);
    return rc;
}

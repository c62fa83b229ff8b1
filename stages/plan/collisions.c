/* collisions.c — unique values that would collide on the target. */
#include "stages/plan/collisions.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/runbook.h"
#include "sync/codec.h"

#define MAX_GROUPS 10
#define SCRATCH_TABLE "_cutover_collisions"

struct collide_pull {
    const struct source_ops *sops;
    struct source_cursor *cur;
    const struct table *t;
    const struct column *colp[64];
    int ncols;
    struct value out[65];
    struct scratch s;
    char *keytext;
};

/* Rows for the scratch table: the constraint's values in target form, then
 * the row's key as JSON. Rows with a NULL never collide: skipped. */
static int pull_values(void *arg, const struct value **row,
                       struct co_err *err)
{
    struct collide_pull *p = arg;
    const struct value *src;
    int rc;

    for (;;) {
        struct tuple key = {0};
        int has_null = 0;
        if ((rc = p->sops->cursor_next(p->cur, &src, err)) <= 0)
            return rc;
        for (int i = 0; i < p->ncols; i++)
            has_null |= src[p->t->nkey + i].type == V_NULL;
        if (has_null)
            continue;
        rc = codec_columns_to_target(p->colp, p->ncols, src + p->t->nkey,
                                     p->out, &p->s, err);
        if (rc < 0)
            return rc;
        if (tuple_set(&key, src, p->t->nkey) < 0)
            return co_errf(err, CO_ENOMEM, "out of memory");
        json_t *j = tuple_to_json(&key);
        tuple_free(&key);
        free(p->keytext);
        p->keytext = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        p->out[p->ncols].type = V_TEXT;
        p->out[p->ncols].p = (const unsigned char *)p->keytext;
        p->out[p->ncols].n = strlen(p->keytext);
        *row = p->out;
        return 1;
    }
}

static int is_date_or_time(const struct colmap *m)
{
    return m->lt == LT_DATETIME || m->lt == LT_DATE || m->lt == LT_TIME;
}

/* Could values of these columns collide at all? Under a binary collation
 * only trailing spaces (PAD SPACE) and index prefixes (a LONGTEXT or
 * LONGBLOB in a unique index is indexed by its first characters only)
 * can; under other collations any text can. Dates and times written
 * differently in SQLite ("12:30", "12:30:00") are one value on the target. */
static const char *collation_of(const struct runbook *rb,
                                const struct colmap *m)
{
    return m->collation[0] ? m->collation : rb->schema.collation;
}

static int worth_checking(const struct runbook *rb, const struct table *t,
                          const int *cols, int ncols,
                          const struct col_census *census)
{
    for (int i = 0; i < ncols; i++) {
        const struct colmap *m = &t->cols[cols[i]].map;
        const char *coll = collation_of(rb, m);
        size_t n = strlen(coll);
        int binary = n > 4 && strcmp(coll + n - 4, "_bin") == 0;
        if (strcasestr(m->type, "TEXT") || strcasestr(m->type, "BLOB"))
            return 1;
        if (is_date_or_time(m) && census[cols[i]].texts > 0)
            return 1;
        if (m->lt != LT_TEXT)
            continue;
        if (strncasecmp(m->type, "enum(", 5) == 0 ||
            strncasecmp(m->type, "set(", 4) == 0)
            return 1;
        if (!binary || census[cols[i]].leading_trailing_space > 0)
            return 1;
    }
    return 0;
}

static int check_constraint(const struct runbook *rb,
                            const struct source_ops *sops, struct source *src,
                            const struct target_ops *tops, struct target *tgt,
                            struct plan *p, const struct table *t,
                            const int *cols, int ncols, const int *prefix,
                            const char *what, struct co_err *err)
{
    const char *coll = rb->schema.collation;
    struct table scratch = {0};
    struct column sc[65];
    struct collide_pull pull = {0};
    json_t *groups = NULL;
    int rc;

    memset(sc, 0, sizeof sc);
    for (int i = 0; i < ncols; i++) {
        sc[i] = t->cols[cols[i]];
        sc[i].map.autoinc = 0;
        if (sc[i].map.collation[0] && sc[i].map.lt == LT_TEXT)
            coll = sc[i].map.collation;
    }
    sc[ncols].name = "source_key";
    sc[ncols].map.lt = LT_TEXT;       /* the driver gives it its type */
    scratch.name = SCRATCH_TABLE;
    scratch.cols = sc;
    scratch.ncols = ncols + 1;
    pull.sops = sops;
    pull.t = t;
    pull.ncols = ncols;
    for (int i = 0; i < ncols; i++)
        pull.colp[i] = &t->cols[cols[i]];
    if (!tops->find_collisions)  /* not supported: plan says so */
        return 0;
    if ((rc = sops->scan_columns(src, t, cols, ncols, &pull.cur, err)) < 0)
        return rc;
    rc = tops->find_collisions(tgt, rb, &scratch, prefix, pull_values,
                               &pull, MAX_GROUPS, &groups, err);
    sops->cursor_close(pull.cur);
    scratch_free(&pull.s);
    free(pull.keytext);
    if (rc < 0)
        return co_err_prefix(err, "table %s: collision check", t->name);
    if (json_array_size(groups) > 0) {
        char *first = json_dumps(json_array_get(groups, 0), JSON_COMPACT);
        char dated_hint[160], binary_hint[240], existing_hint[160];
        const char *source = strcmp(sops->name, "sqlite") == 0 ? "SQLite"
                                                                : "MySQL";
        int dated = 0;
        for (int i = 0; i < ncols; i++)
            dated |= is_date_or_time(&t->cols[cols[i]].map);
        snprintf(dated_hint, sizeof dated_hint, "make the values distinct in "
                 "%s, or override the date/time column to %s to keep "
                 "it as text", source, tops->types->text_word);
        snprintf(binary_hint, sizeof binary_hint, "choose a binary collation "
                 "(%s), or make the values distinct in %s",
                 tops->types->binary_collation, source);
        snprintf(existing_hint, sizeof existing_hint, "make the values "
                 "distinct in %s: the target's unique key would refuse or "
                 "merge them", source);
        struct finding *f = plan_add(
            p, SEV_BLOCKING, "collision", t->name,
            t->cols[cols[0]].name,
            rb->schema.mode == SCHEMA_EXISTING ? existing_hint
            : dated ? dated_hint : binary_hint,
            "%s: values distinct in %s are equal %sunder %s on the "
            "target (%s%s)", what, source,
            dated ? "as dates/times or " : "", coll, first,
            json_array_size(groups) > 1 ? ", and more" : "");
        f->examples = groups;
        free(first);
        return 0;
    }
    json_decref(groups);
    return 0;
}

int collisions_check(const struct runbook *rb, const struct source_ops *sops,
                     struct source *src, const struct target_ops *tops,
                     struct target *tgt, struct plan *p,
                     const struct table *t, const struct col_census *census,
                     struct co_err *err)
{
    char what[256];
    int rc;

    if (t->nkey > 0 && t->nkey <= 64 &&
        worth_checking(rb, t, t->key, t->nkey, census) &&
        (rc = check_constraint(rb, sops, src, tops, tgt, p, t, t->key,
                               t->nkey, NULL, "the key", err)) < 0)
        return rc;
    for (int i = 0; i < t->nidx; i++) {
        const struct index *ix = &t->idx[i];
        if (!ix->unique || ix->partial || ix->expr || ix->ncols > 64 ||
            schema_index_is_key(t, ix) || !worth_checking(rb, t, ix->cols, ix->ncols,
                                                 census))
            continue;
        snprintf(what, sizeof what, "unique index %s", ix->name);
        if ((rc = check_constraint(rb, sops, src, tops, tgt, p, t, ix->cols,
                                   ix->ncols, NULL, what, err)) < 0)
            return rc;
    }
    return 0;
}

int collisions_check_key(const struct runbook *rb,
                         const struct source_ops *sops, struct source *src,
                         const struct target_ops *tops, struct target *tgt,
                         struct plan *p, const struct table *t,
                         const struct col_census *census, const int *cols,
                         const int *prefix, int ncols, const char *what,
                         struct co_err *err)
{
    if (ncols < 1 || ncols > 64 || !worth_checking(rb, t, cols, ncols, census))
        return 0;
    return check_constraint(rb, sops, src, tops, tgt, p, t, cols, ncols,
                            prefix, what, err);
}

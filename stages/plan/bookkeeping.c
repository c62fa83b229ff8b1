/*
 * bookkeeping.c — the frameworks' record of their own migrations
 * (django_migrations, Laravel's migrations, Rails' schema_migrations and
 * ar_internal_metadata) in schema.mode "existing".
 *
 * The framework wrote that table on the target when it made the schema.
 * Copying the source's rows over it would tell the framework that
 * migrations ran which did not, or hide ones that did. So the two are
 * compared by migration name: the same set, and the target's rows stay
 * and the table is left out of the migration; different sets mean the two
 * schemas are at different migration states, which blocks, with what each
 * side lacks listed. A target table that is empty is copied like any
 * other.
 */
#include "stages/plan/bookkeeping.h"

#include <stdlib.h>
#include <string.h>

#include "lib/runbook.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#define LISTED 8

static const struct bookkeeping {
    const char *table, *framework, *migrate;
    const char *cols[2];
    int ncols;
} kinds[] = {
    {"django_migrations", "Django", "manage.py migrate", {"app", "name"}, 2},
    {"migrations", "Laravel", "php artisan migrate", {"migration"}, 1},
    {"schema_migrations", "Rails", "bin/rails db:migrate", {"version"}, 1},
    {"ar_internal_metadata", "Rails", "bin/rails db:migrate", {"key"}, 1},
};

struct names {
    char **v;
    int n;
};

static void names_free(struct names *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

/* "shop.0001_initial": the migration's name, its columns joined by '.'. */
static int names_add(struct names *s, const struct value *vals, int n)
{
    struct sbuf b;
    char **v;

    sbuf_init(&b);
    for (int i = 0; i < n; i++) {
        char one[300];
        if (i)
            sbuf_addc(&b, '.');
        if (vals[i].type == V_TEXT || vals[i].type == V_BLOB)
            sbuf_add(&b, vals[i].p, vals[i].n);
        else {
            value_format(&vals[i], one, sizeof one);
            sbuf_adds(&b, one);
        }
    }
    if (b.oom || !(v = xrealloc(s->v, sizeof *v * (size_t)(s->n + 1)))) {
        sbuf_free(&b);
        return CO_ENOMEM;
    }
    s->v = v;
    s->v[s->n++] = xstrdup(sbuf_str(&b));
    sbuf_free(&b);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int source_names(const struct source_ops *sops, struct source *src,
                        const struct table *t, const struct bookkeeping *k,
                        struct names *out, struct co_err *err)
{
    struct source_cursor *cur;
    const struct value *row;
    int cols[2], rc;

    for (int i = 0; i < k->ncols; i++)
        if ((cols[i] = table_column(t, k->cols[i])) < 0)
            return co_errf(err, CO_ESOURCE, "table %s has no column %s: not "
                           "%s's table of migrations", t->name, k->cols[i],
                           k->framework);
    if ((rc = sops->scan_columns(src, t, cols, k->ncols, &cur, err)) < 0)
        return rc;
    while ((rc = sops->cursor_next(cur, &row, err)) > 0)
        if ((rc = names_add(out, row + t->nkey, k->ncols)) < 0)
            break;
    sops->cursor_close(cur);
    return rc;
}

static int target_names(const struct target_ops *tops, struct target *tgt,
                        const struct bookkeeping *k, struct names *out,
                        struct co_err *err)
{
    struct column cols[2];
    int key[2] = {0, 1};
    struct table q = {.name = (char *)k->table, .cols = cols,
                      .ncols = k->ncols, .key = key, .nkey = k->ncols};
    struct target_cursor *cur;
    const struct value *row;
    int rc;

    memset(cols, 0, sizeof cols);
    for (int i = 0; i < k->ncols; i++)
        cols[i].name = (char *)k->cols[i];
    if ((rc = tops->scan(tgt, &q, NULL, 0, &cur, err)) < 0)
        return co_err_prefix(err, "reading the target's %s", k->table);
    while ((rc = tops->cursor_next(cur, &row, err)) > 0)
        if ((rc = names_add(out, row, k->ncols)) < 0)
            break;
    tops->cursor_close(cur);
    return rc;
}

/* Names in a that b lacks (both sorted), as a JSON array, and their
 * first few in `shown`. */
static json_t *missing_from(const struct names *a, const struct names *b,
                            struct sbuf *shown)
{
    json_t *out = json_array();
    int j = 0, listed = 0;

    for (int i = 0; i < a->n; i++) {
        int c = 1;
        while (j < b->n && (c = strcmp(b->v[j], a->v[i])) < 0)
            j++;
        if (j < b->n && c == 0)
            continue;
        json_array_append_new(out, json_string(a->v[i]));
        if (listed++ < LISTED)
            sbuf_addf(shown, "%s%s", listed > 1 ? ", " : "", a->v[i]);
    }
    if (listed > LISTED)
        sbuf_addf(shown, " and %d more", listed - LISTED);
    return out;
}

static int compare_one(const struct source_ops *sops, struct source *src,
                       const struct target_ops *tops, struct target *tgt,
                       struct plan *p, const struct table *t,
                       const struct bookkeeping *k, struct co_err *err)
{
    struct names s = {0}, g = {0};
    struct sbuf only_s, only_g;
    json_t *in_s, *in_g;
    int rc;

    if ((rc = source_names(sops, src, t, k, &s, err)) < 0 ||
        (rc = target_names(tops, tgt, k, &g, err)) < 0)
        goto out;
    qsort(s.v, (size_t)s.n, sizeof *s.v, by_name);
    qsort(g.v, (size_t)g.n, sizeof *g.v, by_name);
    sbuf_init(&only_s);
    sbuf_init(&only_g);
    in_s = missing_from(&s, &g, &only_s);
    in_g = missing_from(&g, &s, &only_g);
    if (json_array_size(in_s) == 0 && json_array_size(in_g) == 0) {
        plan_add(p, SEV_INFO, "bookkeeping", t->name, NULL, NULL,
                 "the target's %s already records the same %d %s "
                 "migrations: its rows are kept and the table is not "
                 "copied", k->table, g.n, k->framework);
        json_array_append_new(p->kept, json_string(t->name));
        json_decref(in_s);
        json_decref(in_g);
    } else {
        struct finding *f = plan_add(
            p, SEV_BLOCKING, "bookkeeping", t->name, NULL, NULL,
            "the source and the target are at different %s migration "
            "states: only the source has %zu (%s), only the target has %zu "
            "(%s)", k->framework, json_array_size(in_s),
            json_array_size(in_s) ? sbuf_str(&only_s) : "none",
            json_array_size(in_g), json_array_size(in_g) ? sbuf_str(&only_g)
                                                         : "none");
        struct sbuf hint;
        sbuf_init(&hint);
        sbuf_addf(&hint, "bring both to the same migrations (%s on the one "
                  "behind), then plan again", k->migrate);
        f->hint = xstrdup(sbuf_str(&hint));
        sbuf_free(&hint);
        f->examples = json_pack("{so so}", "source_only", in_s,
                                "target_only", in_g);
    }
    sbuf_free(&only_s);
    sbuf_free(&only_g);
out:
    names_free(&s);
    names_free(&g);
    return rc;
}

int bookkeeping_check(const struct runbook *rb, const struct source_ops *sops,
                      struct source *src, const struct target_ops *tops,
                      struct target *tgt, struct plan *p, struct co_err *err)
{
    if (rb->schema.mode != SCHEMA_EXISTING)
        return 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        struct table *t = schema_table(&p->schema, kinds[i].table);
        int exists, rc;
        int64_t rows;
        if (!t || t->nkey == 0)
            continue;
        if ((rc = tops->table_state(tgt, t, &exists, &rows, err)) < 0)
            return rc;
        if (!exists || rows == 0)
            continue;   /* missing: blocking elsewhere; empty: copied */
        if ((rc = compare_one(sops, src, tops, tgt, p, t, &kinds[i],
                              err)) < 0)
            return co_err_prefix(err, "table %s", t->name);
    }
    /* the kept tables leave the migration here, before any analysis */
    for (size_t i = 0; i < json_array_size(p->kept); i++)
        schema_drop_table(&p->schema,
                          json_string_value(json_array_get(p->kept, i)));
    return 0;
}

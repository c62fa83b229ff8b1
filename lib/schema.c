/* schema.c — the table model: lookups, key extraction, names, freeing. */
#include "lib/schema.h"

#include <stdlib.h>
#include <string.h>

#include "lib/value.h"
#include "lib/xalloc.h"

static const char *const ltype_names[] = {
    "int", "bool", "decimal", "double", "text", "blob", "datetime", "date",
    "time", NULL};
static const char *const dt_names[] = {"text", "epoch_s", "epoch_ms",
                                       "julian", NULL};

const char *ltype_name(enum ltype lt) { return ltype_names[lt]; }
const char *dt_repr_name(enum dt_repr d) { return dt_names[d]; }

static int name_index(const char *const *names, const char *name)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

int ltype_by_name(const char *name) { return name_index(ltype_names, name); }
int dt_repr_by_name(const char *name) { return name_index(dt_names, name); }

struct table *schema_table(struct schema *s, const char *name)
{
    for (int i = 0; i < s->ntables; i++)
        if (strcmp(s->tables[i].name, name) == 0)
            return &s->tables[i];
    return NULL;
}

int table_column(const struct table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return i;
    return -1;
}

int table_in_key(const struct table *t, int ci)
{
    for (int k = 0; k < t->nkey; k++)
        if (t->key[k] == ci)
            return 1;
    return 0;
}

const char **table_key_names(const struct table *t)
{
    /* Stable storage per table: built on first use. */
    static __thread const char *names[64];

    for (int i = 0; i < t->nkey && i < 64; i++)
        names[i] = t->cols[t->key[i]].name;
    return names;
}

int table_row_key(const struct table *t, const struct value *row,
                  struct tuple *key)
{
    struct value vals[64];

    for (int i = 0; i < t->nkey && i < 64; i++)
        vals[i] = row[t->key[i]];
    return tuple_set(key, vals, t->nkey);
}

static void strv_free_n(char **v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void table_free(struct table *t)
{
    free(t->name);
    free(t->sql);
    for (int i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].decl);
        free(t->cols[i].coll);
        free(t->cols[i].dflt);
    }
    free(t->cols);
    free(t->key);
    for (int i = 0; i < t->nidx; i++) {
        free(t->idx[i].name);
        free(t->idx[i].cols);
        strv_free_n(t->idx[i].colls, t->idx[i].ncols);
        free(t->idx[i].desc);
    }
    free(t->idx);
    for (int i = 0; i < t->nfk; i++) {
        free(t->fk[i].ref_table);
        strv_free_n(t->fk[i].from, t->fk[i].ncols);
        strv_free_n(t->fk[i].to, t->fk[i].ncols);
        free(t->fk[i].on_update);
        free(t->fk[i].on_delete);
    }
    free(t->fk);
}

void schema_free(struct schema *s)
{
    for (int i = 0; i < s->ntables; i++)
        table_free(&s->tables[i]);
    free(s->tables);
    strv_free_n(s->views, s->nviews);
    strv_free_n(s->triggers, s->ntriggers);
    memset(s, 0, sizeof *s);
}

void schema_drop_table(struct schema *s, const char *name)
{
    for (int i = 0; i < s->ntables; i++) {
        if (strcmp(s->tables[i].name, name) != 0)
            continue;
        table_free(&s->tables[i]);
        memmove(&s->tables[i], &s->tables[i + 1],
                sizeof s->tables[0] * (size_t)(s->ntables - i - 1));
        s->ntables--;
        return;
    }
}

int table_key_by_names(struct table *t, char *const *names, int n)
{
    t->key = xcalloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++) {
        t->key[i] = table_column(t, names[i]);
        if (t->key[i] < 0) {
            free(t->key);
            t->key = NULL;
            return -1;
        }
    }
    t->nkey = n;
    t->key_from_unique = 1;
    return 0;
}

int schema_index_is_key(const struct table *t, const struct index *ix)
{
    if (ix->ncols != t->nkey)
        return 0;
    for (int i = 0; i < ix->ncols; i++)
        if (ix->cols[i] != t->key[i])
            return 0;
    return 1;
}

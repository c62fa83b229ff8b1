/* target_schema.c — lookups in and freeing of a described target table. */
#include "sync/target_schema.h"

#include <stdlib.h>
#include <strings.h>

void ttable_free(struct ttable *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->ncols; i++) {
        struct tcolumn *c = &t->cols[i];
        free(c->name);
        free(c->type);
        free(c->charset);
        free(c->collation);
        for (int v = 0; v < c->nvalues; v++)
            free(c->values[v]);
        free(c->values);
    }
    free(t->cols);
    for (int k = 0; k < t->nkeys; k++) {
        free(t->keys[k].name);
        free(t->keys[k].cols);
        free(t->keys[k].prefix);
    }
    free(t->keys);
    for (int i = 0; i < t->nchecks; i++)
        free(t->checks[i]);
    free(t->checks);
    free(t->name);
    t->cols = NULL;
    t->keys = NULL;
    t->checks = NULL;
    t->name = NULL;
    t->ncols = t->nkeys = t->nchecks = 0;
}

int ttable_column(const struct ttable *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcasecmp(t->cols[i].name, name) == 0)
            return i;
    return -1;
}

const struct tkey *ttable_primary(const struct ttable *t)
{
    for (int k = 0; k < t->nkeys; k++)
        if (t->keys[k].primary)
            return &t->keys[k];
    return NULL;
}

/* owner.c — migration ids and the marks that carry them (owner.h). */
#include "lib/owner.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "lib/errors.h"
#include "lib/xalloc.h"

int owner_new_id(char out[OWNER_ID_LEN + 1])
{
    unsigned char b[OWNER_ID_LEN / 2];

    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        return -1;
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

int owner_id_valid(const char *id)
{
    size_t n = strlen(id);

    if (n != 0 && n != OWNER_ID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)id[i]) && !(id[i] >= 'a' && id[i] <= 'f'))
            return 0;
    return 1;
}

void owner_of(const char *definition, char out[OWNER_ID_LEN + 1])
{
    const char *at = definition ? strstr(definition, OWNER_MARK) : NULL;

    out[0] = '\0';
    if (!at)
        return;
    at += strlen(OWNER_MARK);
    for (int i = 0; i < OWNER_ID_LEN; i++)
        if (!isxdigit((unsigned char)at[i]))
            return;
    memcpy(out, at, OWNER_ID_LEN);
    out[OWNER_ID_LEN] = '\0';
}

int owned_by(const struct owned_object *o, const char *owner)
{
    return owner && strcmp(o->owner, owner) == 0;
}

const struct owned_object *owned_objects_find(const struct owned_objects *l,
                                              const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcasecmp(l->v[i].name, name) == 0)
            return &l->v[i];
    return NULL;
}

int owner_is_legacy(const char *owner)
{
    return owner && !*owner;
}

int owned_objects_add(struct owned_objects *l, const char *kind,
                      const char *name, const char *table,
                      const char *definition)
{
    struct owned_object *v = xrealloc(l->v, sizeof *v * (size_t)(l->n + 1));
    struct owned_object *o;

    l->v = v;
    o = &v[l->n];
    memset(o, 0, sizeof *o);
    snprintf(o->kind, sizeof o->kind, "%s", kind);
    o->name = xstrdup(name);
    o->table = table ? xstrdup(table) : NULL;
    owner_of(definition, o->owner);
    if (!o->name || (table && !o->table)) {
        free(o->name);
        free(o->table);
        return CO_ENOMEM;
    }
    l->n++;
    return 0;
}

void owned_objects_keep_foreign(struct owned_objects *l, const char *owner)
{
    int kept = 0;

    for (int i = 0; i < l->n; i++) {
        if (owned_by(&l->v[i], owner)) {
            free(l->v[i].name);
            free(l->v[i].table);
        } else {
            l->v[kept++] = l->v[i];
        }
    }
    l->n = kept;
}

void owned_objects_free(struct owned_objects *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].table);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

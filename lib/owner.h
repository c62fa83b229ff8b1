/*
 * owner.h — which migration made an object of cutover's own.
 *
 * Capture triggers, change logs and the fence on the source, reverse logs,
 * reverse triggers and the rollback fence on the target each carry the id
 * of the migration that made them, in their definition: the comment
 * "cutover migration 0123456789abcdef" in a trigger's body or a log
 * table's definition (SQLite keeps both as written), a table's COMMENT on
 * MySQL. A migration creates, drops and asks about only objects with its
 * own id. Any other one is another migration's — a fence left on purpose
 * by a finished one, whose target has taken writes since — and plan
 * reports it, naming it.
 *
 * The owner a connection works for (the drivers' set_owner):
 *   NULL    no migration (plan before `run`): nothing is ours
 *   ""      a migration started by a cutover that gave no ids (its
 *           checkpoint has none): objects without an id are ours, and its
 *           target objects keep the names that cutover gave them
 *   id      16 hex digits: objects with this id are ours
 */
#ifndef CO_OWNER_H
#define CO_OWNER_H

#define OWNER_ID_LEN 16
#define OWNER_MARK "cutover migration "

/* A fresh random id; 0, or -1 when the system has no randomness. */
int owner_new_id(char out[OWNER_ID_LEN + 1]);
/* Is `id` a valid owner id ("" included: a migration without one)? */
int owner_id_valid(const char *id);
/* The id written in an object's definition, "" when it carries none. */
void owner_of(const char *definition, char out[OWNER_ID_LEN + 1]);
/* Is `owner` a migration from before ids (its objects' old names)? */
int owner_is_legacy(const char *owner);

/* One of cutover's objects found in a database. */
struct owned_object {
    char kind[8];                   /* "table" or "trigger" */
    char *name;
    char *table;                    /* the table it serves; NULL unknown */
    char owner[OWNER_ID_LEN + 1];   /* "" when it carries no id */
};

struct owned_objects {
    struct owned_object *v;
    int n;
};

/* Is o the owner's? */
int owned_by(const struct owned_object *o, const char *owner);
/* The object of that name (ASCII case ignored, as both engines compare
 * these names), or NULL. */
const struct owned_object *owned_objects_find(const struct owned_objects *l,
                                              const char *name);
/* Append an object (strings copied); 0 or CO_ENOMEM. */
int owned_objects_add(struct owned_objects *l, const char *kind,
                      const char *name, const char *table,
                      const char *definition);
/* Keep only the objects that are not the owner's. */
void owned_objects_keep_foreign(struct owned_objects *l, const char *owner);
void owned_objects_free(struct owned_objects *l);

#endif

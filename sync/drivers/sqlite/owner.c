/*
 * owner.c — cutover's own objects in the SQLite source and whose
 * they are (lib/owner.h): listed for plan, and read by capture.c
 * before it creates or drops anything.
 */
#include <stdio.h>
#include <string.h>

#include "sync/drivers/sqlite/sqlite_priv.h"

#define LOG_PREFIX "_cutover_log_"

void sqlite_set_owner(struct source *s, const char *owner)
{
    s->has_owner = owner != NULL;
    snprintf(s->owner, sizeof s->owner, "%s", owner ? owner : "");
}

const char *sq_owner(const struct source *s)
{
    return s->has_owner ? s->owner : NULL;
}

int sq_cutover_objects(struct source *s, struct owned_objects *out,
                       struct co_err *err)
{
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof *out);
    rc = sq_prepare(s, "SELECT type, name, tbl_name, sql FROM sqlite_master "
                       "WHERE type IN ('table', 'trigger') AND name LIKE "
                       "'\\_cutover\\_%' ESCAPE '\\' ORDER BY tbl_name, name",
                    &st, err, "reading the schema");
    if (rc < 0)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *table = (const char *)sqlite3_column_text(st, 2);
        /* A change log serves the table its name ends with. */
        if (strcmp(type, "table") == 0)
            table = strncmp(name, LOG_PREFIX, strlen(LOG_PREFIX)) == 0
                        ? name + strlen(LOG_PREFIX) : NULL;
        if (owned_objects_add(out, type, name, table,
                              (const char *)sqlite3_column_text(st, 3)) < 0) {
            sqlite3_finalize(st);
            owned_objects_free(out);
            return co_errf(err, CO_ENOMEM, "out of memory");
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        owned_objects_free(out);
        return sq_error(s, rc, err, "reading the schema");
    }
    return 0;
}

int sqlite_foreign_objects(struct source *s, struct owned_objects *out,
                           struct co_err *err)
{
    int rc = sq_cutover_objects(s, out, err);

    if (rc == 0)
        owned_objects_keep_foreign(out, sq_owner(s));
    return rc;
}

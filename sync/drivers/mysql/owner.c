/*
 * owner.c — whose cutover's objects on the target are (lib/owner.h).
 *
 * Reverse logs (and a MySQL source's change logs) carry their migration's
 * id and the table they serve in their COMMENT, reverse and fence triggers the id in a comment of their
 * body; a trigger's table is the server's to tell. capture.c asks
 * here before it creates or drops anything, and plan lists what is not
 * ours. The replica heartbeat table is a clock, not a migration's state,
 * and is left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/mysql/mysql_priv.h"

#define LOG_OF " log of "
#define HEARTBEAT "_cutover_heartbeat"

void tmy_set_owner(struct target *t, const char *owner)
{
    t->has_owner = owner != NULL;
    snprintf(t->owner, sizeof t->owner, "%s", owner ? owner : "");
}

static const char *owner_of_target(const struct target *t)
{
    return t->has_owner ? t->owner : NULL;
}

int my_is_ours(struct target *t, const struct owned_object *o)
{
    return owned_by(o, owner_of_target(t));
}

void my_mark(struct target *t, char *out, size_t cap)
{
    const char *owner = owner_of_target(t);

    if (owner && *owner)
        snprintf(out, cap, OWNER_MARK "%s", owner);
    else
        out[0] = '\0';
}

void my_capture_name(struct target *t, char *out, size_t cap,
                     const char *prefix, const char *table)
{
    my_object_name(out, cap, prefix, table,
                   owner_is_legacy(owner_of_target(t))
                       ? LEGACY_NAME_HASH_BYTES : NAME_HASH_BYTES);
}

/* Rows of (kind, name, table, definition): triggers, then tables.
 * Triggers are looked up by their table's schema (EVENT_OBJECT_SCHEMA, the
 * same as TRIGGER_SCHEMA): MariaDB reads only that database's triggers
 * then, but every database's for TRIGGER_SCHEMA, which under the write
 * lock cost 178 ms for the 18 lookups of a fence on a server of 30
 * databases (15 ms either way on a server of one). */
static void objects_query(struct target *t, struct sbuf *sql,
                          const char *name)
{
    static const char *const parts[] = {
        "SELECT 'trigger', TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_STATEMENT "
        "FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ",
        " UNION ALL SELECT 'table', TABLE_NAME, NULL, TABLE_COMMENT FROM "
        "information_schema.TABLES WHERE TABLE_SCHEMA = "};
    static const char *const name_cols[] = {"TRIGGER_NAME", "TABLE_NAME"};

    for (int i = 0; i < 2; i++) {
        sbuf_adds(sql, parts[i]);
        my_string(t, sql, t->database);
        sbuf_addf(sql, " AND %s ", name_cols[i]);
        if (name) {
            sbuf_adds(sql, "= ");
            my_string(t, sql, name);
        } else {
            sbuf_adds(sql, "LIKE '\\\\_cutover\\\\_%'");
        }
        if (i == 1)
            sbuf_adds(sql, " AND TABLE_NAME <> '" HEARTBEAT "'");
    }
}

int my_objects(struct target *t, const char *name, struct owned_objects *out,
               struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;
    int rc = 0;

    memset(out, 0, sizeof *out);
    sbuf_init(&sql);
    objects_query(t, &sql, name);
    if (mysql_query(t->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(t->my))) {
        sbuf_free(&sql);
        return my_error(t, err, "looking up cutover's objects");
    }
    sbuf_free(&sql);
    while (rc == 0 && (r = mysql_fetch_row(res))) {
        const char *table = r[2];
        /* reverse logs on a target, change logs on a source */
        const char *serves = r[3] ? strstr(r[3], LOG_OF) : NULL;
        if (!table && serves)
            table = serves + strlen(LOG_OF);
        if (owned_objects_add(out, r[0], r[1], table, r[3]) < 0)
            rc = co_errf(err, CO_ENOMEM, "out of memory");
    }
    mysql_free_result(res);
    if (rc < 0)
        owned_objects_free(out);
    return rc;
}

/* The COMMENT of a log: its owner and the table it serves. */
void my_log_comment(struct target *t, struct sbuf *b, const char *kind,
                    const char *table)
{
    char mark[64], text[600];

    my_mark(t, mark, sizeof mark);
    if (!mark[0])
        return;
    snprintf(text, sizeof text, "%s, %s" LOG_OF "%s", mark, kind, table);
    sbuf_adds(b, " COMMENT = ");
    my_string(t, b, text);
}

int tmy_foreign_objects(struct target *t, struct owned_objects *out,
                        struct co_err *err)
{
    int rc = my_objects(t, NULL, out, err);

    if (rc == 0)
        owned_objects_keep_foreign(out, owner_of_target(t));
    return rc;
}

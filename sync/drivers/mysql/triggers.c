/*
 * triggers.c — our objects on an application's MySQL tables, for the
 * target's reverse capture and fence and the source's capture and fence
 * alike: whose a name is before we take it, and DDL that never makes the
 * application's statements queue behind it.
 *
 * Every trigger we create runs its body only outside our own sessions
 * (@cutover_session is set by every connection we open), so the writes
 * cutover itself makes are neither captured nor fenced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/events.h"
#include "lib/log.h"
#include "sync/drivers/mysql/mysql_priv.h"

#define DDL_PATIENCE_S 20.0
#define DDL_RETRY_US 5000
#define ER_LOCK_WAIT_TIMEOUT 1205

void my_name_of(struct target *t, struct sbuf *b, const char *prefix,
                    const struct table *tb)
{
    char name[80];

    my_capture_name(t, name, sizeof name, prefix, tb->name);
    sbuf_ident(b, name, '`');
}

/* Who holds the name prefix+table on the target: nobody, us (an object of
 * ours for this very table), or someone else — described in `who`. */

int my_holder_of(struct target *t, const char *kind, const char *prefix,
                     const struct table *tb, enum my_holder *out, char *who,
                     size_t cap, struct co_err *err)
{
    struct owned_objects found;
    char name[80];
    int rc;

    *out = NAME_FREE;
    my_capture_name(t, name, sizeof name, prefix, tb->name);
    if ((rc = my_objects(t, name, &found, err)) < 0)
        return co_err_prefix(err, "table %s", tb->name);
    for (int i = 0; i < found.n && *out == NAME_FREE; i++) {
        const struct owned_object *o = &found.v[i];
        int ours = my_is_ours(t, o);
        if (strcmp(o->kind, kind) != 0)
            continue;
        if (ours && (!o->table || strcmp(o->table, tb->name) == 0)) {
            *out = NAME_OURS;
            continue;
        }
        *out = NAME_TAKEN;
        snprintf(who, cap, "%s %s%s%s, %s%s", o->kind, o->name,
                 o->table ? " on table " : "", o->table ? o->table : "",
                 ours ? "made by this migration" : o->owner[0]
                 ? "made by migration " : "which carries no migration id",
                 ours ? "" : o->owner);
    }
    owned_objects_free(&found);
    return 0;
}

/* The name may be used for tb: 0 free, 1 ours already, or an error. */
int my_claim(struct target *t, const char *kind, const char *prefix,
                 const struct table *tb, struct co_err *err)
{
    enum my_holder h;
    char who[400];
    int rc = my_holder_of(t, kind, prefix, tb, &h, who, sizeof who, err);

    if (rc < 0)
        return rc;
    if (h == NAME_TAKEN)
        return co_errf(err, t->is_source ? CO_ESOURCE : CO_ETARGET,
                       "%s %s: table %s: its %s needs "
                       "the name of %s; cutover never drops or shares another "
                       "table's or migration's objects: drop or rename that "
                       "one, then `cutover resume`", my_role(t), t->label, tb->name, kind,
                       who);
    return h == NAME_OURS;
}

/* DDL on an application's table, which after the switch the application
 * uses here. A DDL waiting for the table's metadata lock makes the
 * application's next statement on the table queue behind it, and an
 * application transaction that read the table and then writes it
 * deadlocks with it: MariaDB then rolls back the application's transaction
 * (error 1213), never the DDL. So ours does not wait (lock_wait_timeout 0)
 * and is tried again a moment later, until no transaction has the table
 * open. After DDL_PATIENCE_S of a table never idle it waits, as any DDL.
 * (Oracle MySQL's shortest lock_wait_timeout is 1 s.) */
static int ddl_without_waiting(struct target *t, const char *sql,
                               const struct table *tb, struct co_err *err,
                               const char *what)
{
    double start = mono_s();
    int said = 0;
    unsigned int code;
    int rc;

    rc = my_exec_allow_warnings(t, "SET SESSION lock_wait_timeout = 0", err,
                                "setting up the session");
    if (rc < 0)
        return rc;
    while ((rc = my_exec_allow_warnings(t, sql, err, what)) < 0 &&
           mysql_errno(t->my) == ER_LOCK_WAIT_TIMEOUT &&
           mono_s() < start + DDL_PATIENCE_S) {
        if (!said && mono_s() > start + 1) {
            said = 1;
            log_info("%s %s: %s waits until no transaction of the "
                     "application has table %s open", my_role(t), t->label, what,
                     tb->name);
        }
        usleep(DDL_RETRY_US);
    }
    code = rc < 0 ? mysql_errno(t->my) : 0;
    if (my_exec(t, "SET SESSION lock_wait_timeout = " MY_LOCK_WAIT_S, err,
                "setting up the session") < 0)
        return CO_ETARGET;
    if (code == ER_LOCK_WAIT_TIMEOUT)
        rc = my_exec_allow_warnings(t, sql, err, what);
    return rc;
}

int my_ddl(struct target *t, struct sbuf *sql, struct co_err *err,
               const char *what, const struct table *tb)
{
    int rc;

    if (sql->oom)
        return co_errf(err, CO_ENOMEM, "out of memory");
    rc = ddl_without_waiting(t, sbuf_str(sql), tb, err, what);
    sbuf_reset(sql);
    return rc < 0 ? co_err_prefix(err, "table %s", tb->name) : 0;
}

/* Drop our trigger prefix+table, if it is there and ours for this table;
 * anything else under that name stays. */
int my_drop_trigger(struct target *t, struct sbuf *sql, const char *prefix,
                        const struct table *tb, struct co_err *err)
{
    enum my_holder h;
    char who[400];
    int rc = my_holder_of(t, "trigger", prefix, tb, &h, who, sizeof who, err);

    if (rc < 0 || h != NAME_OURS)
        return rc;
    sbuf_adds(sql, "DROP TRIGGER IF EXISTS ");
    my_name_of(t, sql, prefix, tb);
    return my_ddl(t, sql, err, "dropping a trigger", tb);
}

int my_create_trigger(struct target *t, struct sbuf *sql,
                          const char *prefix, const char *when,
                          const struct table *tb, const char *body,
                          struct co_err *err)
{
    char mark[64];
    int rc = my_claim(t, "trigger", prefix, tb, err);

    if (rc < 0)
        return rc;
    if (rc == 1 && (rc = my_drop_trigger(t, sql, prefix, tb, err)) < 0)
        return rc;
    my_mark(t, mark, sizeof mark);
    sbuf_adds(sql, "CREATE TRIGGER ");
    my_name_of(t, sql, prefix, tb);
    sbuf_addf(sql, " %s ON ", when);
    sbuf_ident(sql, tb->name, '`');
    sbuf_adds(sql, " FOR EACH ROW BEGIN ");
    if (mark[0])
        sbuf_addf(sql, "/* %s */ ", mark);
    sbuf_adds(sql, "IF @cutover_session IS NULL THEN ");
    sbuf_adds(sql, body);
    sbuf_adds(sql, " END IF; END");
    return my_ddl(t, sql, err, "creating a trigger", tb);
}


static void key_ref(struct sbuf *b, const struct table *tb, int k,
                    const char *row)
{
    sbuf_adds(b, row);
    sbuf_addc(b, '.');
    sbuf_ident(b, my_colname(tb, tb->key[k]), '`');
}

static void log_insert(struct target *t, struct sbuf *b, const char *log,
                       const struct table *tb, const char *row)
{
    sbuf_adds(b, "INSERT INTO ");
    my_name_of(t, b, log, tb);
    sbuf_adds(b, " (");
    for (int k = 0; k < tb->nkey; k++)
        sbuf_addf(b, "%sk%d", k ? ", " : "", k + 1);
    sbuf_adds(b, ", at) VALUES (");
    for (int k = 0; k < tb->nkey; k++) {
        if (k)
            sbuf_adds(b, ", ");
        key_ref(b, tb, k, row);
    }
    sbuf_adds(b, ", UNIX_TIMESTAMP(NOW(6)));");
}

int my_key_log_triggers(struct target *t, const struct table *tb,
                        const char *log, const char *const prefixes[3],
                        struct co_err *err)
{
    struct sbuf sql, body;
    int rc;

    sbuf_init(&sql);
    sbuf_init(&body);
    log_insert(t, &body, log, tb, "NEW");
    rc = my_create_trigger(t, &sql, prefixes[0], "AFTER INSERT", tb,
                           sbuf_str(&body), err);
    if (rc < 0)
        goto out;
    /* an UPDATE that changes the key (bytewise: 'a' to 'A' under a _ci
     * collation is a change) logs the old key too */
    sbuf_reset(&body);
    log_insert(t, &body, log, tb, "NEW");
    sbuf_adds(&body, " IF NOT (");
    for (int k = 0; k < tb->nkey; k++) {
        if (k)
            sbuf_adds(&body, " AND ");
        sbuf_adds(&body, "CAST(");
        key_ref(&body, tb, k, "OLD");
        sbuf_adds(&body, " AS BINARY) <=> CAST(");
        key_ref(&body, tb, k, "NEW");
        sbuf_adds(&body, " AS BINARY)");
    }
    sbuf_adds(&body, ") THEN ");
    log_insert(t, &body, log, tb, "OLD");
    sbuf_adds(&body, " END IF;");
    rc = my_create_trigger(t, &sql, prefixes[1], "AFTER UPDATE", tb,
                           sbuf_str(&body), err);
    if (rc < 0)
        goto out;
    sbuf_reset(&body);
    log_insert(t, &body, log, tb, "OLD");
    rc = my_create_trigger(t, &sql, prefixes[2], "AFTER DELETE", tb,
                           sbuf_str(&body), err);
out:
    sbuf_free(&sql);
    sbuf_free(&body);
    return rc;
}

int my_fence_triggers(struct target *t, const struct table *tb,
                      const char *const prefixes[3], const char *message,
                      struct co_err *err)
{
    static const char *const whens[] = {"BEFORE INSERT", "BEFORE UPDATE",
                                        "BEFORE DELETE"};
    struct sbuf sql, body;
    int rc = 0;

    sbuf_init(&sql);
    sbuf_init(&body);
    sbuf_adds(&body, "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = ");
    my_string(t, &body, message);
    sbuf_addc(&body, ';');
    for (int k = 0; k < 3 && rc == 0; k++)
        rc = my_create_trigger(t, &sql, prefixes[k], whens[k], tb,
                               sbuf_str(&body), err);
    sbuf_free(&sql);
    sbuf_free(&body);
    return rc;
}

int my_drop_log(struct target *t, const char *log, const struct table *tb,
                struct co_err *err)
{
    struct sbuf sql;
    enum my_holder h;
    char who[400];
    int rc = my_holder_of(t, "table", log, tb, &h, who, sizeof who, err);

    if (rc < 0 || h != NAME_OURS)
        return rc;
    sbuf_init(&sql);
    sbuf_adds(&sql, "DROP TABLE IF EXISTS ");
    my_name_of(t, &sql, log, tb);
    rc = my_ddl(t, &sql, err, "dropping a change log", tb);
    sbuf_free(&sql);
    return rc;
}

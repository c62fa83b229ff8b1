/*
 * capture.c — reverse capture and the rollback fence on the target.
 *
 * Before the switch, every target table gets _cutover_rlog_T and AFTER
 * INSERT/UPDATE/DELETE triggers appending the changed key, skipped for our
 * own sessions (@cutover_session is set by every connection we open). A
 * rollback drains these logs back into SQLite. The fence is a BEFORE
 * trigger per operation that raises 'cutover: writes moved back to source'
 * for everyone but us.
 *
 * Each object carries its migration's id (owner.c). A name held by
 * an object that is not ours, or by a trigger of ours on another table
 * (two long table names shortened alike), is an error: cutover never
 * drops or shares what another table or migration relies on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/events.h"
#include "lib/log.h"
#include "sync/drivers/mysql/mysql_priv.h"
#include "lib/xalloc.h"

#define FENCE_MESSAGE "cutover: writes moved back to source"
#define RLOG_PREFIX "_cutover_rlog_"
#define DDL_PATIENCE_S 20.0
#define DDL_RETRY_US 5000
#define ER_LOCK_WAIT_TIMEOUT 1205

static const char *const capture_triggers[] = {
    "_cutover_rai_", "_cutover_rau_", "_cutover_rad_", NULL};
static const char *const fence_triggers[] = {
    "_cutover_rfi_", "_cutover_rfu_", "_cutover_rfd_", NULL};

static void name_of(struct target *t, struct sbuf *b, const char *prefix,
                    const struct table *tb)
{
    char name[80];

    my_capture_name(t, name, sizeof name, prefix, tb->name);
    sbuf_ident(b, name, '`');
}

/* Who holds the name prefix+table on the target: nobody, us (an object of
 * ours for this very table), or someone else — described in `who`. */
enum holder { NAME_FREE, NAME_OURS, NAME_TAKEN };

static int holder_of(struct target *t, const char *kind, const char *prefix,
                     const struct table *tb, enum holder *out, char *who,
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
static int claim(struct target *t, const char *kind, const char *prefix,
                 const struct table *tb, struct co_err *err)
{
    enum holder h;
    char who[400];
    int rc = holder_of(t, kind, prefix, tb, &h, who, sizeof who, err);

    if (rc < 0)
        return rc;
    if (h == NAME_TAKEN)
        return co_errf(err, CO_ETARGET, "target %s: table %s: its %s needs "
                       "the name of %s; cutover never drops or shares another "
                       "table's or migration's objects: drop or rename that "
                       "one, then `cutover resume`", t->label, tb->name, kind,
                       who);
    return h == NAME_OURS;
}

static void key_ref(struct sbuf *b, const struct table *tb, int k,
                    const char *row)
{
    sbuf_adds(b, row);
    sbuf_addc(b, '.');
    sbuf_ident(b, my_colname(tb, tb->key[k]), '`');
}

static void log_insert(struct target *t, struct sbuf *b,
                       const struct table *tb, const char *row)
{
    sbuf_adds(b, "INSERT INTO ");
    name_of(t, b, RLOG_PREFIX, tb);
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
            log_info("target %s: %s waits until no transaction of the "
                     "application has table %s open", t->label, what,
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

static int run(struct target *t, struct sbuf *sql, struct co_err *err,
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
static int drop_trigger(struct target *t, struct sbuf *sql, const char *prefix,
                        const struct table *tb, struct co_err *err)
{
    enum holder h;
    char who[400];
    int rc = holder_of(t, "trigger", prefix, tb, &h, who, sizeof who, err);

    if (rc < 0 || h != NAME_OURS)
        return rc;
    sbuf_adds(sql, "DROP TRIGGER IF EXISTS ");
    name_of(t, sql, prefix, tb);
    return run(t, sql, err, "dropping a trigger", tb);
}

static int create_trigger(struct target *t, struct sbuf *sql,
                          const char *prefix, const char *when,
                          const struct table *tb, const char *body,
                          struct co_err *err)
{
    char mark[64];
    int rc = claim(t, "trigger", prefix, tb, err);

    if (rc < 0)
        return rc;
    if (rc == 1 && (rc = drop_trigger(t, sql, prefix, tb, err)) < 0)
        return rc;
    my_mark(t, mark, sizeof mark);
    sbuf_adds(sql, "CREATE TRIGGER ");
    name_of(t, sql, prefix, tb);
    sbuf_addf(sql, " %s ON ", when);
    sbuf_ident(sql, tb->name, '`');
    sbuf_adds(sql, " FOR EACH ROW BEGIN ");
    if (mark[0])
        sbuf_addf(sql, "/* %s */ ", mark);
    sbuf_adds(sql, "IF @cutover_session IS NULL THEN ");
    sbuf_adds(sql, body);
    sbuf_adds(sql, " END IF; END");
    return run(t, sql, err, "creating a trigger", tb);
}

static int rcapture_table(struct target *t, const struct table *tb,
                          struct co_err *err)
{
    struct sbuf sql, body;
    int rc;

    if ((rc = claim(t, "table", RLOG_PREFIX, tb, err)) < 0)
        return rc;
    sbuf_init(&sql);
    sbuf_init(&body);
    sbuf_adds(&sql, "CREATE TABLE IF NOT EXISTS ");
    name_of(t, &sql, RLOG_PREFIX, tb);
    sbuf_adds(&sql, " (seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY");
    for (int k = 0; k < tb->nkey; k++) {
        const struct column *c = &tb->cols[tb->key[k]];
        sbuf_addf(&sql, ", k%d %s", k + 1, c->map.type);
        if (my_type_is_text(c->map.type))
            sbuf_adds(&sql, " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    }
    sbuf_adds(&sql, ", at DOUBLE NOT NULL) ENGINE=InnoDB");
    my_rlog_comment(t, &sql, tb->name);
    if ((rc = run(t, &sql, err, "creating the reverse log", tb)) < 0)
        goto out;

    log_insert(t, &body, tb, "NEW");
    rc = create_trigger(t, &sql, capture_triggers[0], "AFTER INSERT", tb,
                        sbuf_str(&body), err);
    if (rc < 0)
        goto out;
    sbuf_reset(&body);
    log_insert(t, &body, tb, "NEW");
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
    log_insert(t, &body, tb, "OLD");
    sbuf_adds(&body, " END IF;");
    rc = create_trigger(t, &sql, capture_triggers[1], "AFTER UPDATE", tb,
                        sbuf_str(&body), err);
    if (rc < 0)
        goto out;
    sbuf_reset(&body);
    log_insert(t, &body, tb, "OLD");
    rc = create_trigger(t, &sql, capture_triggers[2], "AFTER DELETE", tb,
                        sbuf_str(&body), err);
out:
    sbuf_free(&sql);
    sbuf_free(&body);
    return rc;
}

int tmy_rcapture_install(struct target *t, const struct schema *sc,
                           struct co_err *err)
{
    for (int i = 0; i < sc->ntables; i++) {
        int rc = rcapture_table(t, &sc->tables[i], err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int tmy_fence_install(struct target *t, const struct schema *sc,
                        struct co_err *err)
{
    static const char *const whens[] = {"BEFORE INSERT", "BEFORE UPDATE",
                                        "BEFORE DELETE"};
    struct sbuf sql;
    int rc = 0;

    sbuf_init(&sql);
    for (int i = 0; i < sc->ntables && rc == 0; i++)
        for (int k = 0; fence_triggers[k] && rc == 0; k++)
            rc = create_trigger(t, &sql, fence_triggers[k], whens[k],
                                &sc->tables[i],
                                "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '"
                                FENCE_MESSAGE "';", err);
    sbuf_free(&sql);
    return rc;
}

static int drop_triggers(struct target *t, const struct schema *sc,
                         const char *const *prefixes, struct co_err *err)
{
    struct sbuf sql;
    int rc = 0;

    sbuf_init(&sql);
    for (int i = 0; i < sc->ntables && rc == 0; i++)
        for (int k = 0; prefixes[k] && rc == 0; k++)
            rc = drop_trigger(t, &sql, prefixes[k], &sc->tables[i], err);
    sbuf_free(&sql);
    return rc;
}

int tmy_fence_remove(struct target *t, const struct schema *sc,
                       struct co_err *err)
{
    return drop_triggers(t, sc, fence_triggers, err);
}

int tmy_rcapture_remove(struct target *t, const struct schema *sc,
                          struct co_err *err)
{
    struct sbuf sql;
    enum holder h;
    char who[400];
    int rc = drop_triggers(t, sc, capture_triggers, err);

    sbuf_init(&sql);
    for (int i = 0; i < sc->ntables && rc == 0; i++) {
        rc = holder_of(t, "table", RLOG_PREFIX, &sc->tables[i], &h, who,
                       sizeof who, err);
        if (rc < 0 || h != NAME_OURS)
            continue;
        sbuf_adds(&sql, "DROP TABLE IF EXISTS ");
        name_of(t, &sql, RLOG_PREFIX, &sc->tables[i]);
        rc = run(t, &sql, err, "dropping the reverse log", &sc->tables[i]);
    }
    sbuf_free(&sql);
    return rc;
}

/* Every name this driver gives objects on the target, for plan: two
 * objects given one name would share it (a reverse log) or one would be
 * missing (an index, a foreign key). */
int tmy_generated_names(struct target *t, const struct schema *sc,
                        name_fn emit, void *arg)
{
    char name[80], what[160], space[300];

    for (int i = 0; i < sc->ntables; i++) {
        const struct table *tb = &sc->tables[i];
        emit(arg, "tables", tb->name, "the table", tb->name);
        my_capture_name(t, name, sizeof name, RLOG_PREFIX, tb->name);
        emit(arg, "tables", name, "the reverse log", tb->name);
        for (int k = 0; capture_triggers[k]; k++) {
            my_capture_name(t, name, sizeof name, capture_triggers[k],
                            tb->name);
            emit(arg, "triggers", name, "a reverse-capture trigger",
                 tb->name);
            my_capture_name(t, name, sizeof name, fence_triggers[k],
                            tb->name);
            emit(arg, "triggers", name, "a fence trigger", tb->name);
        }
        snprintf(space, sizeof space, "indexes of %s", tb->name);
        for (int k = 0; k < tb->nidx; k++) {
            if (tb->idx[k].unique == 2 || tb->idx[k].expr ||
                tb->idx[k].partial)
                continue;
            my_index_name(name, sizeof name, tb, k, NAME_HASH_BYTES);
            snprintf(what, sizeof what, "index %s", tb->idx[k].name);
            emit(arg, space, name, what, tb->name);
        }
        for (int k = 0; k < tb->nfk; k++) {
            my_fk_name(name, sizeof name, tb, k, NAME_HASH_BYTES);
            snprintf(what, sizeof what, "foreign key %d", k + 1);
            emit(arg, "constraints", name, what, tb->name);
        }
    }
    return 0;
}

int tmy_rlog_read(struct target *t, const struct table *tb,
                    int64_t after_seq, int64_t limit, struct rlog_batch *out,
                    struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;
    int cap = 0;

    memset(out, 0, sizeof *out);
    out->last_seq = after_seq;
    sbuf_init(&sql);
    sbuf_addf(&sql, "SELECT MAX(seq) FROM (SELECT seq FROM ");
    name_of(t, &sql, RLOG_PREFIX, tb);
    sbuf_addf(&sql, " WHERE seq > %lld ORDER BY seq LIMIT %lld) x",
              (long long)after_seq, (long long)limit);
    if (mysql_query(t->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(t->my))) {
        sbuf_free(&sql);
        return my_error(t, err, "reading the reverse log of %s", tb->name);
    }
    r = mysql_fetch_row(res);
    if (r && r[0])
        out->last_seq = strtoll(r[0], NULL, 10);
    mysql_free_result(res);
    if (out->last_seq == after_seq) {
        sbuf_free(&sql);
        return 0;
    }
    sbuf_reset(&sql);
    sbuf_adds(&sql, "SELECT DISTINCT ");
    for (int k = 0; k < tb->nkey; k++)
        sbuf_addf(&sql, "%sk%d", k ? ", " : "", k + 1);
    sbuf_adds(&sql, " FROM ");
    name_of(t, &sql, RLOG_PREFIX, tb);
    sbuf_addf(&sql, " WHERE seq > %lld AND seq <= %lld", (long long)after_seq,
              (long long)out->last_seq);
    if (mysql_query(t->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(t->my))) {
        sbuf_free(&sql);
        return my_error(t, err, "reading the reverse log of %s", tb->name);
    }
    sbuf_free(&sql);
    while ((r = mysql_fetch_row(res))) {
        struct value vals[64];
        if (out->nkeys == cap) {
            cap = cap ? cap * 2 : 256;
            out->keys = xrealloc(out->keys, sizeof *out->keys * (size_t)cap);
        }
        my_row_values(res, r, mysql_fetch_lengths(res), vals, tb->nkey);
        memset(&out->keys[out->nkeys], 0, sizeof out->keys[0]);
        tuple_set(&out->keys[out->nkeys++], vals, tb->nkey);
    }
    mysql_free_result(res);
    return 0;
}

void tmy_rlog_batch_free(struct rlog_batch *b)
{
    for (int i = 0; i < b->nkeys; i++)
        tuple_free(&b->keys[i]);
    free(b->keys);
    memset(b, 0, sizeof *b);
}

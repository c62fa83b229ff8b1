/*
 * mysql_capture.c — reverse capture and the rollback fence on the target.
 *
 * Before the switch, every target table gets _cutover_rlog_T and AFTER
 * INSERT/UPDATE/DELETE triggers appending the changed key, skipped for our
 * own sessions (@cutover_session is set by every connection we open). A
 * rollback drains these logs back into SQLite. The fence is a BEFORE
 * trigger per operation that raises 'cutover: writes moved back to source'
 * for everyone but us.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orchestrator/events.h"
#include "orchestrator/log.h"
#include "sync/mysql_priv.h"

#define FENCE_MESSAGE "cutover: writes moved back to source"
#define DDL_PATIENCE_S 20.0
#define DDL_RETRY_US 5000
#define ER_LOCK_WAIT_TIMEOUT 1205

static void name_of(struct sbuf *b, const char *prefix, const struct table *tb)
{
    char name[80];

    my_object_name(name, sizeof name, prefix, tb->name);
    sbuf_ident(b, name, '`');
}

static void key_ref(struct sbuf *b, const struct table *tb, int k,
                    const char *row)
{
    sbuf_adds(b, row);
    sbuf_addc(b, '.');
    sbuf_ident(b, my_colname(tb, tb->key[k]), '`');
}

static void log_insert(struct sbuf *b, const struct table *tb, const char *row)
{
    sbuf_adds(b, "INSERT INTO ");
    name_of(b, "_cutover_rlog_", tb);
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

static int drop_trigger(struct target *t, struct sbuf *sql, const char *prefix,
                        const struct table *tb, struct co_err *err)
{
    sbuf_adds(sql, "DROP TRIGGER IF EXISTS ");
    name_of(sql, prefix, tb);
    return run(t, sql, err, "dropping a trigger", tb);
}

static int create_trigger(struct target *t, struct sbuf *sql,
                          const char *prefix, const char *when,
                          const struct table *tb, const char *body,
                          struct co_err *err)
{
    int rc = drop_trigger(t, sql, prefix, tb, err);

    if (rc < 0)
        return rc;
    sbuf_adds(sql, "CREATE TRIGGER ");
    name_of(sql, prefix, tb);
    sbuf_addf(sql, " %s ON ", when);
    sbuf_ident(sql, tb->name, '`');
    sbuf_adds(sql, " FOR EACH ROW BEGIN IF @cutover_session IS NULL THEN ");
    sbuf_adds(sql, body);
    sbuf_adds(sql, " END IF; END");
    return run(t, sql, err, "creating a trigger", tb);
}

static int rcapture_table(struct target *t, const struct table *tb,
                          struct co_err *err)
{
    struct sbuf sql, body;
    int rc;

    sbuf_init(&sql);
    sbuf_init(&body);
    sbuf_adds(&sql, "CREATE TABLE IF NOT EXISTS ");
    name_of(&sql, "_cutover_rlog_", tb);
    sbuf_adds(&sql, " (seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY");
    for (int k = 0; k < tb->nkey; k++) {
        const struct column *c = &tb->cols[tb->key[k]];
        sbuf_addf(&sql, ", k%d %s", k + 1, c->map.type);
        if (my_type_is_text(c->map.type))
            sbuf_adds(&sql, " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    }
    sbuf_adds(&sql, ", at DOUBLE NOT NULL) ENGINE=InnoDB");
    if ((rc = run(t, &sql, err, "creating the reverse log", tb)) < 0)
        goto out;

    log_insert(&body, tb, "NEW");
    rc = create_trigger(t, &sql, "_cutover_rai_", "AFTER INSERT", tb,
                        sbuf_str(&body), err);
    if (rc < 0)
        goto out;
    sbuf_reset(&body);
    log_insert(&body, tb, "NEW");
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
    log_insert(&body, tb, "OLD");
    sbuf_adds(&body, " END IF;");
    rc = create_trigger(t, &sql, "_cutover_rau_", "AFTER UPDATE", tb,
                        sbuf_str(&body), err);
    if (rc < 0)
        goto out;
    sbuf_reset(&body);
    log_insert(&body, tb, "OLD");
    rc = create_trigger(t, &sql, "_cutover_rad_", "AFTER DELETE", tb,
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
    static const char *const prefixes[] = {"_cutover_rfi_", "_cutover_rfu_",
                                           "_cutover_rfd_"};
    static const char *const whens[] = {"BEFORE INSERT", "BEFORE UPDATE",
                                        "BEFORE DELETE"};
    struct sbuf sql;
    int rc = 0;

    sbuf_init(&sql);
    for (int i = 0; i < sc->ntables && rc == 0; i++)
        for (int k = 0; k < 3 && rc == 0; k++)
            rc = create_trigger(t, &sql, prefixes[k], whens[k], &sc->tables[i],
                                "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '"
                                FENCE_MESSAGE "';", err);
    sbuf_free(&sql);
    return rc;
}

int tmy_fence_remove(struct target *t, const struct schema *sc,
                       struct co_err *err)
{
    static const char *const prefixes[] = {"_cutover_rfi_", "_cutover_rfu_",
                                           "_cutover_rfd_"};
    struct sbuf sql;
    int rc = 0;

    sbuf_init(&sql);
    for (int i = 0; i < sc->ntables && rc == 0; i++)
        for (int k = 0; k < 3 && rc == 0; k++)
            rc = drop_trigger(t, &sql, prefixes[k], &sc->tables[i], err);
    sbuf_free(&sql);
    return rc;
}

int tmy_rcapture_remove(struct target *t, const struct schema *sc,
                          struct co_err *err)
{
    static const char *const prefixes[] = {"_cutover_rai_", "_cutover_rau_",
                                           "_cutover_rad_"};
    struct sbuf sql;
    int rc = 0;

    sbuf_init(&sql);
    for (int i = 0; i < sc->ntables && rc == 0; i++) {
        for (int k = 0; k < 3 && rc == 0; k++)
            rc = drop_trigger(t, &sql, prefixes[k], &sc->tables[i], err);
        if (rc == 0) {
            sbuf_adds(&sql, "DROP TABLE IF EXISTS ");
            name_of(&sql, "_cutover_rlog_", &sc->tables[i]);
            rc = run(t, &sql, err, "dropping the reverse log", &sc->tables[i]);
        }
    }
    sbuf_free(&sql);
    return rc;
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
    name_of(&sql, "_cutover_rlog_", tb);
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
    name_of(&sql, "_cutover_rlog_", tb);
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
            out->keys = realloc(out->keys, sizeof *out->keys * (size_t)cap);
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

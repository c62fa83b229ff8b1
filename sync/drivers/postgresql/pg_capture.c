/*
 * pg_capture.c — reverse capture and the rollback fence on a PostgreSQL
 * target.
 *
 * Before the switch every table T gets a log _cutover_rlog_T(seq, k1..,
 * at) and an AFTER INSERT/UPDATE/DELETE row trigger running the PL/pgSQL
 * function _cutover_rcap_T, which appends the changed key (old and new
 * when an UPDATE changes it). The function is SECURITY DEFINER with a
 * fixed search_path: the application's role writes T, ours owns the log.
 * A rollback drains the logs back into the source. The fence is a BEFORE
 * INSERT/UPDATE/DELETE and a BEFORE TRUNCATE statement trigger running
 * _cutover_rfence_T, which raises PG_FENCE_MESSAGE with SQLSTATE
 * PG_FENCE_SQLSTATE: statement triggers, so that an UPDATE or DELETE
 * matching no row here (the row lives in the source now) is refused too,
 * rather than acknowledged to an application instance still here. Both let cutover's own sessions through
 * (PG_SESSION_GUC is "on" in them).
 *
 * Every object carries its migration's mark as its COMMENT (sync/owner.h).
 * Install and remove run in one transaction, so a table is captured or
 * fenced whole or not at all, and are idempotent: objects of ours are
 * replaced, a name held by anyone else's object is an error naming it.
 * DDL on an application's table must not queue the application behind it:
 * each try waits PG_DDL_LOCK_TIMEOUT for its locks and is retried.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "lib/events.h"
#include "lib/log.h"
#include "sync/drivers/postgresql/pg_priv.h"

#define DDL_RETRY_US 20000

/* The names of table tb's objects. */
struct names {
    char rlog[PG_NAME_MAX + 1], rcap[PG_NAME_MAX + 1];
    char fence[PG_NAME_MAX + 1], fence_truncate[PG_NAME_MAX + 1];
};

static void names_of(const struct table *tb, struct names *n)
{
    pg_object_name(n->rlog, sizeof n->rlog, PG_RLOG_PREFIX, tb->name);
    pg_object_name(n->rcap, sizeof n->rcap, PG_RCAPTURE_PREFIX, tb->name);
    pg_object_name(n->fence, sizeof n->fence, PG_FENCE_PREFIX, tb->name);
    pg_object_name(n->fence_truncate, sizeof n->fence_truncate,
                   PG_FENCE_TRUNCATE_PREFIX, tb->name);
}

/* Run a statement built in sql (then emptied). */
static int run(struct pg_session *s, struct sbuf *sql, struct co_err *err,
               const char *what, const struct table *tb)
{
    int rc;

    if (sql->oom)
        return co_errf(err, CO_ENOMEM, "out of memory");
    rc = pg_exec(s, sbuf_str(sql), err, what);
    sbuf_reset(sql);
    return rc < 0 ? co_err_prefix(err, "table %s", tb->name) : 0;
}

/* The objects under tb's names: 0 when every one present is ours, an
 * error naming the first that is not. */
static int check_names(struct pg_session *s, const struct table *tb,
                       const struct names *n, struct co_err *err)
{
    const char *params[6] = {s->schema, tb->name, n->rlog, n->rcap,
                             n->fence, n->fence_truncate};
    PGresult *res;
    int rc = 0;

    res = PQexecParams(s->conn,
        "WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = $1), "
        "rel AS (SELECT c.oid FROM pg_class c, ns WHERE c.relnamespace = "
        "ns.oid AND c.relname = $2) "
        "SELECT 'table', c.relname, obj_description(c.oid, 'pg_class') "
        "FROM pg_class c, ns WHERE c.relnamespace = ns.oid AND c.relname = $3 "
        "UNION ALL SELECT 'function', p.proname, obj_description(p.oid, "
        "'pg_proc') FROM pg_proc p, ns WHERE p.pronamespace = ns.oid AND "
        "p.proname IN ($4, $5) "
        "UNION ALL SELECT 'trigger', t.tgname, obj_description(t.oid, "
        "'pg_trigger') FROM pg_trigger t, rel WHERE t.tgrelid = rel.oid AND "
        "t.tgname IN ($4, $5, $6)",
        6, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_check(s, res, PGRES_TUPLES_OK, err,
                        "looking for cutover's objects of table", tb->name);
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        const char *kind = PQgetvalue(res, i, 0), *name = PQgetvalue(res, i, 1);
        char owner[OWNER_ID_LEN + 1];

        owner_of(PQgetvalue(res, i, 2), owner);
        if (s->has_owner && strcmp(owner, s->owner) == 0)
            continue;
        rc = co_errf(err, CO_ETARGET, "target %s: table %s: the name %s is "
                     "held by a %s %s%s; cutover never drops or shares "
                     "another migration's objects: drop or rename that one, "
                     "then `cutover resume`", s->label, tb->name, name, kind,
                     owner[0] ? "made by migration "
                              : "which carries no migration id", owner);
    }
    PQclear(res);
    return rc;
}

static void add_comment(struct pg_session *s, struct sbuf *sql,
                        const char *kind, const char *name,
                        const struct table *on)
{
    char mark[64];

    pg_mark(s, mark, sizeof mark);
    sbuf_addf(sql, "COMMENT ON %s ", kind);
    if (on) {
        pg_ident(sql, name);
        sbuf_adds(sql, " ON ");
        pg_qualified(s, sql, on->name);
    } else {
        pg_qualified(s, sql, name);
        if (strcmp(kind, "FUNCTION") == 0)
            sbuf_adds(sql, "()");
    }
    sbuf_adds(sql, " IS ");
    pg_string(sql, mark);
    sbuf_adds(sql, "; ");
}

/* Column type of key column c in the log: the target's own type. */
static const char *key_type(const struct column *c)
{
    static const char *const by_lt[] = {
        [LT_INT] = "bigint", [LT_BOOL] = "boolean", [LT_DECIMAL] = "numeric",
        [LT_DOUBLE] = "double precision", [LT_TEXT] = "text",
        [LT_BLOB] = "bytea", [LT_DATETIME] = "timestamp(6)",
        [LT_DATE] = "date", [LT_TIME] = "time(6)"};

    return c->map.type[0] ? c->map.type : by_lt[c->map.lt];
}

static void key_ref(struct sbuf *b, const struct table *tb, int k,
                    const char *row)
{
    sbuf_adds(b, row);
    sbuf_addc(b, '.');
    pg_ident(b, tb->cols[tb->key[k]].name);
}

static void log_insert(struct pg_session *s, struct sbuf *b,
                       const struct table *tb, const struct names *n,
                       const char *row)
{
    sbuf_adds(b, "INSERT INTO ");
    pg_qualified(s, b, n->rlog);
    sbuf_adds(b, " (");
    for (int k = 0; k < tb->nkey; k++)
        sbuf_addf(b, "%sk%d", k ? ", " : "", k + 1);
    sbuf_adds(b, ") VALUES (");
    for (int k = 0; k < tb->nkey; k++) {
        if (k)
            sbuf_adds(b, ", ");
        key_ref(b, tb, k, row);
    }
    sbuf_adds(b, "); ");
}

/* CREATE OR REPLACE FUNCTION name() RETURNS trigger with `body` between
 * BEGIN and END, in a dollar quote that the body cannot end. */
static void create_function(struct pg_session *s, struct sbuf *sql,
                            const char *name, const char *body,
                            int definer)
{
    char tag[32] = "$cutover$";

    for (int i = 1; strstr(body, tag); i++)
        snprintf(tag, sizeof tag, "$cutover%d$", i);
    sbuf_adds(sql, "CREATE OR REPLACE FUNCTION ");
    pg_qualified(s, sql, name);
    sbuf_adds(sql, "() RETURNS trigger LANGUAGE plpgsql ");
    if (definer)
        sbuf_adds(sql, "SECURITY DEFINER SET search_path = pg_catalog, "
                       "pg_temp ");
    sbuf_addf(sql, "AS %s BEGIN IF current_setting('" PG_SESSION_GUC
              "', true) = 'on' THEN RETURN %s; END IF; %s END %s; ", tag,
              definer ? "NULL" : "CASE TG_OP WHEN 'DELETE' THEN OLD ELSE "
                                 "NEW END", body, tag);
    add_comment(s, sql, "FUNCTION", name, NULL);
}

static void create_trigger(struct pg_session *s, struct sbuf *sql,
                           const char *name, const char *when,
                           const struct table *tb, const char *func,
                           const char *each)
{
    sbuf_adds(sql, "DROP TRIGGER IF EXISTS ");
    pg_ident(sql, name);
    sbuf_adds(sql, " ON ");
    pg_qualified(s, sql, tb->name);
    sbuf_adds(sql, "; CREATE TRIGGER ");
    pg_ident(sql, name);
    sbuf_addf(sql, " %s ON ", when);
    pg_qualified(s, sql, tb->name);
    sbuf_addf(sql, " FOR EACH %s EXECUTE FUNCTION ", each);
    pg_qualified(s, sql, func);
    sbuf_adds(sql, "(); ");
    add_comment(s, sql, "TRIGGER", name, tb);
}

static int rcapture_table(struct pg_session *s, const struct table *tb,
                          const struct names *n, int arg,
                          struct co_err *err)
{
    struct sbuf sql, body;
    int rc;

    (void)arg;
    sbuf_init(&sql);
    sbuf_init(&body);
    sbuf_adds(&sql, "CREATE TABLE IF NOT EXISTS ");
    pg_qualified(s, &sql, n->rlog);
    sbuf_adds(&sql, " (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY");
    for (int k = 0; k < tb->nkey; k++)
        sbuf_addf(&sql, ", k%d %s", k + 1, key_type(&tb->cols[tb->key[k]]));
    sbuf_adds(&sql, ", at double precision NOT NULL DEFAULT "
                    "extract(epoch FROM clock_timestamp())); ");
    add_comment(s, &sql, "TABLE", n->rlog, NULL);

    sbuf_adds(&body, "IF TG_OP <> 'DELETE' THEN ");
    log_insert(s, &body, tb, n, "NEW");
    sbuf_adds(&body, "END IF; IF TG_OP = 'DELETE' OR (");
    /* compared as text in the C collation: a key whose case changed under
     * a case-insensitive collation is a changed key */
    for (int k = 0; k < tb->nkey; k++) {
        if (k)
            sbuf_adds(&body, " OR ");
        sbuf_adds(&body, "(TG_OP = 'UPDATE' AND (");
        key_ref(&body, tb, k, "OLD");
        sbuf_adds(&body, ")::text COLLATE \"C\" IS DISTINCT FROM (");
        key_ref(&body, tb, k, "NEW");
        sbuf_adds(&body, ")::text COLLATE \"C\")");
    }
    sbuf_adds(&body, ") THEN ");
    log_insert(s, &body, tb, n, "OLD");
    sbuf_adds(&body, "END IF; RETURN NULL;");
    create_function(s, &sql, n->rcap, sbuf_str(&body), 1);
    create_trigger(s, &sql, n->rcap, "AFTER INSERT OR UPDATE OR DELETE", tb,
                   n->rcap, "ROW");
    rc = body.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                  : run(s, &sql, err, "installing reverse capture", tb);
    sbuf_free(&sql);
    sbuf_free(&body);
    return rc;
}

static int fence_table(struct pg_session *s, const struct table *tb,
                       const struct names *n, int arg,
                       struct co_err *err)
{
    struct sbuf sql;
    int rc;

    (void)arg;
    sbuf_init(&sql);
    create_function(s, &sql, n->fence,
                    "RAISE EXCEPTION USING MESSAGE = '" PG_FENCE_MESSAGE "', "
                    "ERRCODE = '" PG_FENCE_SQLSTATE "', HINT = 'the "
                    "application writes to the source database again';", 0);
    create_trigger(s, &sql, n->fence, "BEFORE INSERT OR UPDATE OR DELETE", tb,
                   n->fence, "STATEMENT");
    create_trigger(s, &sql, n->fence_truncate, "BEFORE TRUNCATE", tb, n->fence,
                   "STATEMENT");
    rc = run(s, &sql, err, "installing the fence", tb);
    sbuf_free(&sql);
    return rc;
}

/* Drop our objects of tb: the capture's (fence = 0) or the fence's. */
static int drop_table_objects(struct pg_session *s, const struct table *tb,
                              const struct names *n, int fence,
                              struct co_err *err)
{
    struct sbuf sql;
    int rc;

    sbuf_init(&sql);
    for (int i = 0; i < (fence ? 2 : 1); i++) {
        sbuf_adds(&sql, "DROP TRIGGER IF EXISTS ");
        pg_ident(&sql, !fence ? n->rcap : i ? n->fence_truncate : n->fence);
        sbuf_adds(&sql, " ON ");
        pg_qualified(s, &sql, tb->name);
        sbuf_adds(&sql, "; ");
    }
    sbuf_adds(&sql, "DROP FUNCTION IF EXISTS ");
    pg_qualified(s, &sql, fence ? n->fence : n->rcap);
    sbuf_adds(&sql, "(); ");
    if (!fence) {
        sbuf_adds(&sql, "DROP TABLE IF EXISTS ");
        pg_qualified(s, &sql, n->rlog);
    }
    rc = run(s, &sql, err, fence ? "removing the fence"
                                 : "removing reverse capture", tb);
    sbuf_free(&sql);
    return rc;
}

typedef int (*table_fn)(struct pg_session *s, const struct table *tb,
                        const struct names *n, int arg, struct co_err *err);

/* fn on every table whose names hold nothing but ours. */
static int for_each_table(struct pg_session *s, const struct schema *sc,
                          table_fn fn, int arg, struct co_err *err)
{
    for (int i = 0; i < sc->ntables; i++) {
        struct names n;
        int rc;

        names_of(&sc->tables[i], &n);
        if ((rc = check_names(s, &sc->tables[i], &n, err)) < 0 ||
            (rc = fn(s, &sc->tables[i], &n, arg, err)) < 0)
            return rc;
    }
    return 0;
}

/* fn over every table in one transaction whose locks are each awaited
 * PG_DDL_LOCK_TIMEOUT at most: an application transaction holding a table
 * makes us roll back and try again a moment later, rather than make every
 * later statement of the application on that table queue behind ours.
 * After PG_DDL_PATIENCE_S of that, the session's lock_timeout applies. */
static int ddl_transaction(struct pg_session *s, const struct schema *sc,
                           table_fn fn, int arg, const char *what,
                           struct co_err *err)
{
    double start = mono_s();
    int said = 0, rc;

    for (;;) {
        int patient = mono_s() < start + PG_DDL_PATIENCE_S;
        rc = pg_exec(s, patient ? "BEGIN; SET LOCAL lock_timeout = '"
                                  PG_DDL_LOCK_TIMEOUT "'" : "BEGIN",
                     err, what);
        if (rc == 0)
            rc = for_each_table(s, sc, fn, arg, err);
        if (rc == 0)
            rc = pg_exec(s, "COMMIT", err, what);
        if (rc == 0)
            return 0;
        /* before ROLLBACK, which clears the session's last SQLSTATE */
        int lock_timeout = strcmp(s->sqlstate, "55P03") == 0;
        pg_exec(s, "ROLLBACK", NULL, what);
        if (!lock_timeout || !patient)
            return rc;
        if (!said && mono_s() > start + 1) {
            said = 1;
            log_info("target %s: %s waits until no transaction of the "
                     "application holds its tables", s->label, what);
        }
        usleep(DDL_RETRY_US);
    }
}

int pg_rcapture_install(struct pg_session *s, const struct schema *sc,
                        struct co_err *err)
{
    return ddl_transaction(s, sc, rcapture_table, 0,
                           "installing reverse capture", err);
}

int pg_rcapture_remove(struct pg_session *s, const struct schema *sc,
                       struct co_err *err)
{
    return ddl_transaction(s, sc, drop_table_objects, 0,
                           "removing reverse capture", err);
}

int pg_fence_install(struct pg_session *s, const struct schema *sc,
                     struct co_err *err)
{
    return ddl_transaction(s, sc, fence_table, 0, "installing the fence",
                           err);
}

int pg_freeze_writes(struct pg_session *s, const struct schema *sc,
                     int wait_ms, struct co_err *err)
{
    struct sbuf sql;
    int rc;

    sbuf_init(&sql);
    sbuf_addf(&sql, "BEGIN; SET LOCAL lock_timeout = %d; LOCK TABLE ",
              wait_ms > 0 ? wait_ms : 1);
    for (int i = 0; i < sc->ntables; i++) {
        if (i)
            sbuf_adds(&sql, ", ");
        pg_qualified(s, &sql, sc->tables[i].name);
    }
    sbuf_adds(&sql, " IN SHARE ROW EXCLUSIVE MODE");
    rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                 : pg_exec(s, sbuf_str(&sql), err, "freezing writes");
    sbuf_free(&sql);
    if (rc < 0)
        pg_exec(s, "ROLLBACK", NULL, "freezing writes");
    return rc;
}

int pg_fence_commit(struct pg_session *s, const struct schema *sc,
                    struct co_err *err)
{
    int rc = for_each_table(s, sc, fence_table, 0, err);

    if (rc == 0)
        rc = pg_exec(s, "COMMIT", err, "committing the fence");
    if (rc < 0)
        pg_exec(s, "ROLLBACK", NULL, "committing the fence");
    return rc;
}

void pg_thaw(struct pg_session *s)
{
    pg_exec(s, "ROLLBACK", NULL, "thawing writes");
}

int pg_fence_remove(struct pg_session *s, const struct schema *sc,
                    struct co_err *err)
{
    return ddl_transaction(s, sc, drop_table_objects, 1,
                           "removing the fence", err);
}

/* The log's rows after_seq < seq <= last as distinct keys. */
static int read_keys(struct pg_session *s, const struct table *tb,
                     const struct names *n, int64_t after, int64_t last,
                     struct pg_keys *out, struct co_err *err)
{
    struct sbuf sql;
    struct value vals[64];
    PGresult *res;
    int rc = 0;

    if (tb->nkey > 64)
        return co_errf(err, CO_ESCHEMA, "table %s: more than 64 key columns",
                       tb->name);
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT DISTINCT ");
    for (int k = 0; k < tb->nkey; k++)
        sbuf_addf(&sql, "%sk%d", k ? ", " : "", k + 1);
    sbuf_adds(&sql, " FROM ");
    pg_qualified(s, &sql, n->rlog);
    sbuf_addf(&sql, " WHERE seq > %lld AND seq <= %lld", (long long)after,
              (long long)last);
    res = PQexec(s->conn, sbuf_str(&sql));
    sbuf_free(&sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_check(s, res, PGRES_TUPLES_OK, err,
                        "reading the reverse log of table", tb->name);
    out->keys = xcalloc((size_t)PQntuples(res) + 1, sizeof *out->keys);
    if (!out->keys)
        rc = co_errf(err, CO_ENOMEM, "out of memory");
    for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
        for (int k = 0; k < tb->nkey && rc == 0; k++)
            rc = pg_value_parse(&tb->cols[tb->key[k]], PQgetvalue(res, r, k),
                                (size_t)PQgetlength(res, r, k),
                                PQgetisnull(res, r, k), &vals[k], err);
        if (rc == 0 && tuple_set(&out->keys[out->n++], vals, tb->nkey) < 0)
            rc = co_errf(err, CO_ENOMEM, "out of memory");
    }
    PQclear(res);
    return rc;
}

int pg_rlog_read(struct pg_session *s, const struct table *tb,
                 int64_t after_seq, int64_t limit, struct pg_keys *out,
                 struct co_err *err)
{
    struct names n;
    struct sbuf sql;
    char last[32];
    int rc;

    memset(out, 0, sizeof *out);
    out->last_seq = after_seq;
    names_of(tb, &n);
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT max(seq) FROM (SELECT seq FROM ");
    pg_qualified(s, &sql, n.rlog);
    sbuf_addf(&sql, " WHERE seq > %lld ORDER BY seq LIMIT %lld) x",
              (long long)after_seq, (long long)limit);
    rc = pg_query_value(s, sbuf_str(&sql), last, sizeof last, err,
                        "reading the reverse log");
    sbuf_free(&sql);
    if (rc < 0)
        return co_err_prefix(err, "table %s", tb->name);
    if (!last[0])
        return 0;
    out->last_seq = strtoll(last, NULL, 10);
    rc = read_keys(s, tb, &n, after_seq, out->last_seq, out, err);
    if (rc < 0)
        pg_keys_free(out);
    return rc;
}

void pg_keys_free(struct pg_keys *k)
{
    for (int i = 0; i < k->n; i++)
        tuple_free(&k->keys[i]);
    free(k->keys);
    memset(k, 0, sizeof *k);
}

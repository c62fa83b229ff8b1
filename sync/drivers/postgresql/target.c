/*
 * target.c — the PostgreSQL target driver (DESIGN §10): the connection
 * from the runbook's target section, reads for verification, reverse
 * capture and the fence, health, and the ops table the registry finds
 * under "postgresql". The SQL lives in the building blocks (pg.h); this
 * file and its siblings (target_priv.h) fit them to target.h.
 *
 * Every session is pg_connect's: application_name=cutover, statement and
 * lock timeouts, UTC, UTF-8, marked as ours so reverse capture and the
 * fence let it through. A database that does not exist yet is no error
 * when opening (plan reports it, `run` creates it): the connection then
 * uses TPG_MAINTENANCE_DB until create_database.
 */
#include <pg_config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runbook.h"
#include "lib/xalloc.h"
#include "sync/drivers/postgresql/target_priv.h"

/* enum tls_mode → pg_options.tls_mode (NULL: libpq's "prefer"). */
static const char *tls_mode_name(enum tls_mode m)
{
    switch (m) {
    case TLS_DISABLED:
        return "disable";
    case TLS_REQUIRED:
        return "require";
    case TLS_VERIFY_CA:
        return "verify_ca";
    case TLS_VERIFY_IDENTITY:
        return "verify_full";
    default:
        return NULL;
    }
}

void tpg_options(const struct rb_conn *c, const char *database,
                 struct pg_options *o)
{
    memset(o, 0, sizeof *o);
    o->host = c->socket ? c->socket : c->host;
    o->port = c->port;
    o->user = c->user;
    o->password_env = c->password_env;
    o->database = database;
    o->schema = c->schema;
    o->tls_mode = tls_mode_name(c->tls.mode);
    o->ca = c->tls.ca;
    o->cert = c->tls.cert;
    o->key = c->tls.key;
    o->connect_timeout_s = c->connect_timeout_s;
    o->schema_may_be_missing = 1;
}

static int tpg_open(const struct runbook *rb, const struct rb_conn *c,
                    struct target **out, struct co_err *err)
{
    struct target *t = xcalloc(1, sizeof *t);
    struct pg_options o;
    int rc;

    if (!t)
        return co_errf(err, CO_ENOMEM, "out of memory");
    t->rb = rb;
    t->conn = c;
    tpg_options(c, c->database, &o);
    rc = pg_connect(&o, &t->s, err);
    /* pg_connect's words for a database the server does not have */
    if (rc < 0 && strstr(err->msg, "the database does not exist")) {
        struct co_err again = {0};
        tpg_options(c, TPG_MAINTENANCE_DB, &o);
        if ((rc = pg_connect(&o, &t->s, &again)) == 0)
            t->database_missing = 1;
        /* the first error says what matters: the database is missing */
    }
    if (rc < 0) {
        free(t);
        return rc;
    }
    rc = pg_server_version(t->s);
    snprintf(t->server_info, sizeof t->server_info, "PostgreSQL %d.%d",
             rc / 10000, rc % 10000);
    *out = t;
    return 0;
}

static void tpg_close(struct target *t)
{
    if (!t)
        return;
    pg_close(t->s);
    free(t);
}

static const char *tpg_server_info(struct target *t)
{
    return t->server_info;
}

/* ---- reads ----------------------------------------------------------- */

static int tpg_scan(struct target *t, const struct table *tb,
                    const struct key_range *range, int64_t limit,
                    struct target_cursor **out, struct co_err *err)
{
    struct target_cursor *c = xcalloc(1, sizeof *c);
    int rc;

    if (!c)
        return co_errf(err, CO_ENOMEM, "out of memory");
    rc = pg_scan(t->s, tb, range ? range->lo : NULL, range ? range->hi : NULL,
                 limit, &c->c, err);
    if (rc < 0) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static int tpg_cursor_next(struct target_cursor *c, const struct value **row,
                           struct co_err *err)
{
    return pg_cursor_next(c->c, row, err);
}

static void tpg_cursor_close(struct target_cursor *c)
{
    if (!c)
        return;
    pg_cursor_close(c->c);
    free(c);
}

static int tpg_fetch(struct target *t, const struct table *tb,
                     const struct tuple *key, const struct value **row,
                     struct co_err *err)
{
    return pg_fetch(t->s, tb, key, row, err);
}

static int tpg_count_rows(struct target *t, const struct table *tb,
                          int64_t *out, struct co_err *err)
{
    return pg_count_rows(t->s, tb, out, err);
}

/* ---- reverse capture and the fence ------------------------------------ */

static void tpg_set_owner(struct target *t, const char *owner)
{
    t->has_owner = owner != NULL;
    snprintf(t->owner, sizeof t->owner, "%s", owner ? owner : "");
    pg_set_owner(t->s, owner);
}

/* Before the switch: every table is copied, so every foreign key the
 * rows allow is validated now at the latest. */
static int tpg_rcapture_install(struct target *t, const struct schema *sc,
                                struct co_err *err)
{
    int rc = tpg_validate_foreign_keys(t, sc, err);

    return rc < 0 ? rc : pg_rcapture_install(t->s, sc, err);
}

static int tpg_rcapture_remove(struct target *t, const struct schema *sc,
                               struct co_err *err)
{
    return pg_rcapture_remove(t->s, sc, err);
}

static int tpg_rlog_read(struct target *t, const struct table *tb,
                         int64_t after_seq, int64_t limit,
                         struct rlog_batch *out, struct co_err *err)
{
    struct pg_keys k = {0};
    int rc = pg_rlog_read(t->s, tb, after_seq, limit, &k, err);

    memset(out, 0, sizeof *out);
    if (rc < 0)
        return rc;
    out->nkeys = k.n;
    out->keys = k.keys;
    out->last_seq = k.last_seq;
    return 0;
}

static void tpg_rlog_batch_free(struct rlog_batch *b)
{
    struct pg_keys k = {.n = b->nkeys, .keys = b->keys};

    pg_keys_free(&k);
    b->nkeys = 0;
    b->keys = NULL;
}

static int tpg_fence_install(struct target *t, const struct schema *sc,
                             struct co_err *err)
{
    return pg_fence_install(t->s, sc, err);
}

static int tpg_fence_remove(struct target *t, const struct schema *sc,
                            struct co_err *err)
{
    return pg_fence_remove(t->s, sc, err);
}

/* ---- health and checks ------------------------------------------------ */

static int tpg_probe(struct target *t, double *ms, struct co_err *err)
{
    return pg_probe(t->s, ms, err);
}

static int tpg_load_sample(struct target *t, double *running,
                           struct co_err *err)
{
    char buf[32];
    int rc = pg_query_value(t->s, "SELECT count(*) FROM pg_stat_activity "
                            "WHERE state = 'active'", buf, sizeof buf, err,
                            "reading the server's activity");

    *running = rc > 0 ? strtod(buf, NULL) : 0;
    return rc < 0 ? rc : 0;
}

static int tpg_query_number(struct target *t, const char *sql, double *out,
                            struct co_err *err)
{
    char buf[128], *end;
    int rc = pg_query_value(t->s, sql, buf, sizeof buf, err,
                            "running check SQL");

    if (rc < 0)
        return rc;
    if (rc == 0 || !buf[0])
        return co_errf(err, CO_ETARGET, "check SQL returned no value");
    *out = strtod(buf, &end);
    if (*end)
        return co_errf(err, CO_ETARGET, "check SQL returned \"%.60s\", not "
                       "a number", buf);
    return 0;
}

const struct target_ops target_postgresql_ops = {
    .name = "postgresql",
    .client_library = "libpq " PG_VERSION,
    .check_runbook = tpg_check_runbook,
    .logical_of_type = tpg_logical_of_type,
    .render_type = tpg_render_type,
    .types = &tpg_type_limits,
    .open = tpg_open,
    .close = tpg_close,
    .server_info = tpg_server_info,
    .database_exists = tpg_database_exists,
    .create_database = tpg_create_database,
    .table_state = tpg_table_state,
    .create_table = tpg_create_table,
    .create_indexes = tpg_create_indexes,
    .create_foreign_keys = tpg_create_foreign_keys,
    .drop_table = tpg_drop_table,
    .load = tpg_load,
    .probe_rows = tpg_probe_rows,
    .begin = tpg_begin,
    .put_row = tpg_put_row,
    .delete_key = tpg_delete_key,
    .commit = tpg_commit,
    .rollback = tpg_rollback,
    .scan = tpg_scan,
    .cursor_next = tpg_cursor_next,
    .cursor_close = tpg_cursor_close,
    .fetch = tpg_fetch,
    .count_rows = tpg_count_rows,
    .set_next_id = tpg_set_next_id,
    .set_owner = tpg_set_owner,
    .foreign_objects = tpg_foreign_objects,
    .generated_names = tpg_generated_names,
    .rcapture_install = tpg_rcapture_install,
    .rcapture_remove = tpg_rcapture_remove,
    .rlog_read = tpg_rlog_read,
    .rlog_batch_free = tpg_rlog_batch_free,
    .fence_install = tpg_fence_install,
    .fence_remove = tpg_fence_remove,
    .find_collisions = tpg_find_collisions,
    .column_default = tpg_column_default,
    .assess_table = tpg_assess_table,
    .probe = tpg_probe,
    .load_sample = tpg_load_sample,
    .query_number = tpg_query_number,
    /* replicas: not yet (plan says so when target.replicas is given) */
};

/*
 * pg_session.c — a PostgreSQL session of cutover: connection parameters
 * from the runbook's fields (never a conninfo string pasted together, so
 * no value can smuggle another parameter in), the session's settings, and
 * libpq's errors turned into co_err with their SQLSTATE.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "lib/events.h"
#include "lib/log.h"
#include "sync/drivers/postgresql/pg_priv.h"

/* The runbook's tls.mode and libpq's sslmode for it. */
static const char *const tls_modes[][2] = {
    {"disable", "disable"},
    {"require", "require"},
    {"verify_ca", "verify-ca"},
    {"verify_full", "verify-full"},
};

static const char *sslmode_of(const char *mode)
{
    if (!mode)
        return "prefer";
    for (size_t i = 0; i < sizeof tls_modes / sizeof tls_modes[0]; i++)
        if (strcmp(mode, tls_modes[i][0]) == 0)
            return tls_modes[i][1];
    return NULL;
}

/* libpq's message without its trailing newline, lines joined. */
static void one_line(const char *msg, char *out, size_t cap)
{
    size_t o = 0;

    for (const char *p = msg; *p && o + 1 < cap; p++) {
        if (*p == '\n' || *p == '\t') {
            if (p[1] && o > 0 && out[o - 1] != ' ')
                out[o++] = ' ';
            continue;
        }
        out[o++] = *p;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

/* What a failed connection means, from libpq's message (the server's
 * SQLSTATE does not reach the client before the session exists). */
static const char *connect_failure(const char *msg)
{
    static const struct {
        const char *needle, *meaning;
    } kinds[] = {
        {"password authentication failed", "the password was refused"},
        {"no password supplied", "the server wants a password and none "
                                 "was given"},
        {"authentication failed", "authentication failed"},
        /* before "does not exist": a missing CA file says that too */
        {"SSL", "TLS failed"},
        {"certificate", "TLS failed"},
        {"does not exist", "the database does not exist"},
        {"pg_hba.conf", "the server's pg_hba.conf refuses this connection"},
        {"timeout expired", "the server did not answer in time"},
        {"could not translate host name", "the host name does not resolve"},
    };

    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strstr(msg, kinds[i].needle))
            return kinds[i].meaning;
    return "the server is unreachable";
}

/* One connection parameter, left out when it has no value. */
static void param(const char **keys, const char **vals, int *n,
                  const char *key, const char *val)
{
    if (!val)
        return;
    keys[*n] = key;
    vals[*n] = val;
    (*n)++;
}

static void set_label(struct pg_session *s, const struct pg_options *o)
{
    snprintf(s->label, sizeof s->label, "%s:%d/%s",
             o->host && *o->host ? o->host : "(default socket)",
             o->port ? o->port : PG_DEFAULT_PORT,
             o->database ? o->database : "");
}

/* The server's notices (a DROP ... IF EXISTS that had nothing to drop)
 * go to the debug log, never to stderr where libpq would print them. */
static void notice_to_log(void *arg, const char *message)
{
    char line[600];

    one_line(message, line, sizeof line);
    log_debug("target %s: %s", ((struct pg_session *)arg)->label, line);
}

/* Session settings in one parameterized statement; the schema must
 * exist (a search_path naming a missing schema is silently empty). */
static int setup_session(struct pg_session *s, const struct pg_options *o,
                         struct co_err *err)
{
    char stmt[16], lock[16];
    const char *params[4];
    PGresult *res;
    int rc = 0;

    snprintf(stmt, sizeof stmt, "%d", o->statement_timeout_ms > 0
             ? o->statement_timeout_ms : PG_STATEMENT_TIMEOUT_MS);
    s->lock_timeout_ms = o->lock_timeout_ms > 0 ? o->lock_timeout_ms
                                                : PG_LOCK_TIMEOUT_MS;
    snprintf(lock, sizeof lock, "%d", s->lock_timeout_ms);
    params[0] = s->schema;
    params[1] = stmt;
    params[2] = lock;
    params[3] = o->unmarked ? "off" : "on";
    res = PQexecParams(s->conn,
                       "SELECT set_config('search_path', quote_ident($1), "
                       "false), set_config('statement_timeout', $2, false), "
                       "set_config('lock_timeout', $3, false), "
                       "set_config('" PG_SESSION_GUC "', $4, false), "
                       /* what pg_value_parse reads back: UTC, ISO dates,
                        * hex bytea, floats that read back exactly */
                       "set_config('TimeZone', 'UTC', false), "
                       "set_config('DateStyle', 'ISO, MDY', false), "
                       "set_config('bytea_output', 'hex', false), "
                       "set_config('extra_float_digits', '1', false), "
                       "set_config('standard_conforming_strings', 'on', "
                       "false), "
                       "EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                       4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = pg_error(s, res, err, "setting up the session");
    else if (strcmp(PQgetvalue(res, 0, 9), "t") != 0 &&
             o->schema_may_be_missing)
        s->schema_missing = 1;
    else if (strcmp(PQgetvalue(res, 0, 9), "t") != 0)
        rc = co_errf(err, CO_ETARGET, "target %s: schema \"%s\" does not "
                     "exist in database \"%s\": create it, or name another "
                     "in target.schema", s->label, s->schema,
                     PQdb(s->conn));
    PQclear(res);
    return rc;
}

int pg_connect(const struct pg_options *o, struct pg_session **out,
               struct co_err *err)
{
    const char *keys[16], *vals[16], *password = NULL;
    const char *sslmode = sslmode_of(o->tls_mode);
    char port[12], timeout[12], msg[600];
    struct pg_session *s;
    int n = 0, rc;

    *out = NULL;
    if (!sslmode)
        return co_errf(err, CO_ERUNBOOK, "target.tls.mode: \"%s\" is not one "
                       "of disable, require, verify_ca, verify_full",
                       o->tls_mode);
    if (o->password_env && *o->password_env) {
        password = getenv(o->password_env);
        if (!password || !*password)
            return co_errf(err, CO_ERUNBOOK, "target.password_env: the "
                           "environment variable %s is %s", o->password_env,
                           password ? "empty" : "not set");
    }
    if (!(s = xcalloc(1, sizeof *s)) ||
        !(s->schema = xstrdup(o->schema && *o->schema ? o->schema
                                                       : "public"))) {
        free(s);
        return co_errf(err, CO_ENOMEM, "out of memory");
    }
    set_label(s, o);
    snprintf(port, sizeof port, "%d", o->port ? o->port : PG_DEFAULT_PORT);
    snprintf(timeout, sizeof timeout, "%d", o->connect_timeout_s > 0
             ? o->connect_timeout_s : PG_CONNECT_TIMEOUT_S);
    param(keys, vals, &n, "host", o->host && *o->host ? o->host : NULL);
    param(keys, vals, &n, "port", port);
    param(keys, vals, &n, "user", o->user);
    param(keys, vals, &n, "password", password);
    param(keys, vals, &n, "dbname", o->database);
    param(keys, vals, &n, "sslmode", sslmode);
    param(keys, vals, &n, "sslrootcert", o->ca && *o->ca ? o->ca : NULL);
    param(keys, vals, &n, "sslcert", o->cert && *o->cert ? o->cert : NULL);
    param(keys, vals, &n, "sslkey", o->key && *o->key ? o->key : NULL);
    param(keys, vals, &n, "application_name", PG_APPLICATION_NAME);
    param(keys, vals, &n, "client_encoding", "UTF8");
    param(keys, vals, &n, "connect_timeout", timeout);
    /* a dead peer is noticed in about a minute, not hours */
    param(keys, vals, &n, "keepalives", "1");
    param(keys, vals, &n, "keepalives_idle", "30");
    param(keys, vals, &n, "keepalives_interval", "10");
    param(keys, vals, &n, "keepalives_count", "3");
    keys[n] = vals[n] = NULL;
    s->conn = PQconnectdbParams(keys, vals, 0);
    if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
        one_line(s->conn ? PQerrorMessage(s->conn) : "out of memory", msg,
                 sizeof msg);
        rc = co_errf(err, CO_ETARGET, "target %s: cannot connect as user "
                     "\"%s\": %s (%s)", s->label, o->user ? o->user : "",
                     connect_failure(msg), msg);
        goto fail;
    }
    PQsetNoticeProcessor(s->conn, notice_to_log, s);
    if (PQserverVersion(s->conn) < PG_MIN_VERSION) {
        rc = co_errf(err, CO_ETARGET, "target %s: PostgreSQL %s is too old: "
                     "cutover needs 12 or later", s->label,
                     PQparameterStatus(s->conn, "server_version"));
        goto fail;
    }
    if ((rc = setup_session(s, o, err)) < 0)
        goto fail;
    /* refused without the right: then foreign keys wait for the copy */
    if (!o->unmarked)
        s->replica_role = pg_exec(s, "SET session_replication_role = "
                                     "replica", NULL, "skipping foreign key "
                                     "checks") == 0;
    *out = s;
    return 0;
fail:
    pg_close(s);
    return rc;
}

void pg_close(struct pg_session *s)
{
    if (!s)
        return;
    if (s->conn)
        PQfinish(s->conn);
    pg_pending_free(s);
    PQclear(s->fetched);
    free(s->fetched_row);
    free(s->prep);
    free(s->params.values);
    free(s->params.lengths);
    free(s->params.formats);
    for (int i = 0; i < s->params.cap; i++)
        pg_scratch_free(&s->params.scratch[i]);
    free(s->params.scratch);
    free(s->schema);
    free(s);
}

const char *pg_label(const struct pg_session *s) { return s->label; }
const char *pg_schema(const struct pg_session *s) { return s->schema; }
int pg_schema_exists(const struct pg_session *s) { return !s->schema_missing; }

int pg_create_schema(struct pg_session *s, struct co_err *err)
{
    struct sbuf sql;
    int rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "CREATE SCHEMA IF NOT EXISTS ");
    pg_ident(&sql, s->schema);
    /* search_path named it before it existed: set it again */
    sbuf_adds(&sql, "; SELECT set_config('search_path', quote_ident(");
    pg_string(&sql, s->schema);
    sbuf_adds(&sql, "), false)");
    rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                 : pg_exec(s, sbuf_str(&sql), err, "creating the schema");
    sbuf_free(&sql);
    if (rc == 0)
        s->schema_missing = 0;
    return rc;
}
int pg_server_version(const struct pg_session *s)
{
    return PQserverVersion(s->conn);
}
const char *pg_last_sqlstate(const struct pg_session *s) { return s->sqlstate; }
int pg_skips_foreign_keys(const struct pg_session *s) { return s->replica_role; }

void pg_set_owner(struct pg_session *s, const char *owner)
{
    s->has_owner = owner != NULL;
    snprintf(s->owner, sizeof s->owner, "%s", owner ? owner : "");
}

void pg_mark(const struct pg_session *s, char *out, size_t cap)
{
    if (s->has_owner && s->owner[0])
        snprintf(out, cap, OWNER_MARK "%s", s->owner);
    else
        snprintf(out, cap, "cutover");
}

static int code_of(const char *state, ConnStatusType conn)
{
    if (conn != CONNECTION_OK || strncmp(state, "08", 2) == 0 ||
        strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
        strcmp(state, "57P03") == 0)
        return CO_ECONNLOST;
    if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0)
        return CO_ETIMEOUT;
    if (strncmp(state, "22", 2) == 0)
        return CO_EDATA;
    return CO_ETARGET;
}

int pg_error(struct pg_session *s, const PGresult *res, struct co_err *err,
             const char *fmt, ...)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res,
                                                   PG_DIAG_MESSAGE_PRIMARY)
                              : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL)
                             : NULL;
    const char *context = res ? PQresultErrorField(res, PG_DIAG_CONTEXT)
                              : NULL;
    char what[300], text[600], ctx[200] = "", code[24] = "";
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(s->sqlstate, sizeof s->sqlstate, "%s", state ? state : "");
    if (primary)
        snprintf(text, sizeof text, "%s%s%s", primary, detail ? ": " : "",
                 detail ? detail : "");
    else
        one_line(PQerrorMessage(s->conn), text, sizeof text);
    if (context)
        one_line(context, ctx, sizeof ctx);
    if (state)
        snprintf(code, sizeof code, " [SQLSTATE %s]", state);
    return co_errf(err, code_of(s->sqlstate, PQstatus(s->conn)),
                   "target %s: %s: %s%s%s%s%s", s->label, what, text,
                   ctx[0] ? " (" : "", ctx, ctx[0] ? ")" : "", code);
}

int pg_check(struct pg_session *s, PGresult *res, ExecStatusType want,
             struct co_err *err, const char *what, const char *name)
{
    int rc = 0;

    if (PQresultStatus(res) != want)
        rc = pg_error(s, res, err, "%s%s%s", what, name ? " " : "",
                      name ? name : "");
    PQclear(res);
    return rc;
}

int pg_exec(struct pg_session *s, const char *sql, struct co_err *err,
            const char *what)
{
    PGresult *res = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(res);

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(res);
        s->sqlstate[0] = '\0';
        return 0;
    }
    return pg_check(s, res, PGRES_COMMAND_OK, err, what, NULL);
}

int pg_query_value(struct pg_session *s, const char *sql, char *buf,
                   size_t cap, struct co_err *err, const char *what)
{
    PGresult *res = PQexec(s->conn, sql);
    int rc;

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_check(s, res, PGRES_TUPLES_OK, err, what, NULL);
    rc = PQntuples(res) > 0;
    if (cap)
        snprintf(buf, cap, "%s", rc ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return rc;
}

int pg_set_timeouts(struct pg_session *s, int statement_ms, int lock_ms,
                    struct co_err *err)
{
    char sql[160];

    snprintf(sql, sizeof sql, "SET statement_timeout = %d", statement_ms);
    if (statement_ms > 0 && pg_exec(s, sql, err, "setting a timeout") < 0)
        return CO_ETARGET;
    snprintf(sql, sizeof sql, "SET lock_timeout = %d", lock_ms);
    if (lock_ms > 0) {
        if (pg_exec(s, sql, err, "setting a timeout") < 0)
            return CO_ETARGET;
        s->lock_timeout_ms = lock_ms;
    }
    return 0;
}

int pg_probe(struct pg_session *s, double *ms, struct co_err *err)
{
    double start = mono_s();
    int rc = pg_query_value(s, "SELECT 1", NULL, 0, err, "probing");

    if (rc < 0)
        return rc;
    *ms = (mono_s() - start) * 1000;
    return 0;
}

int pg_backend_pid(const struct pg_session *s)
{
    return PQbackendPID(s->conn);
}

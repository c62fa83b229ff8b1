/*
 * target.c — the MySQL/MariaDB target driver: connection and session,
 * reads for verification, health probes, and the helpers the other driver
 * files share.
 *
 * The session every connection runs (see session_setup): strict SQL mode so
 * nothing is clamped, NO_AUTO_VALUE_ON_ZERO so a key of 0 stays 0, UTC,
 * utf8mb4, foreign key checks off (rows arrive in key order, not in
 * dependency order), and @cutover_session set so reverse capture ignores
 * our own writes.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/object_name.h"
#include "lib/runbook.h"
#include "sync/codec.h"
#include "sync/drivers/mysql/mysql_priv.h"

#include <errmsg.h>

#include "lib/xalloc.h"

#define SESSION_SQL_MODE                                                       \
    "STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO," \
    "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"

/* ---- errors and statements ------------------------------------------------ */

/* Errors that a new connection (after the server is back) can cure. */
static int connection_lost(unsigned int e)
{
    return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
           e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
           e == 1053 /* ER_SERVER_SHUTDOWN */ ||
           e == 1927 /* ER_CONNECTION_KILLED */ ||
           e == 1213 /* ER_LOCK_DEADLOCK: the transaction was rolled back */;
}

int my_error(struct target *t, struct co_err *err, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    unsigned int e = mysql_errno(t->my);

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return co_errf(err, connection_lost(e) ? CO_ECONNLOST
                   : t->is_source ? CO_ESOURCE : CO_ETARGET,
                   "%s %s: %s: %s (MySQL error %u)", my_role(t), t->label,
                   what, mysql_error(t->my), e);
}

void my_warnings(struct target *t, char *buf, size_t cap, long *first_row)
{
    MYSQL_RES *res;
    MYSQL_ROW r;
    size_t o = 0;

    buf[0] = '\0';
    if (first_row)
        *first_row = 0;
    if (mysql_query(t->my, "SHOW WARNINGS LIMIT 5") != 0)
        return;
    res = mysql_store_result(t->my);
    while (res && (r = mysql_fetch_row(res)) && o + 4 < cap) {
        const char *at;
        o += (size_t)snprintf(buf + o, cap - o, "%s%s %s: %s", o ? "; " : "",
                              r[0] ? r[0] : "", r[1] ? r[1] : "",
                              r[2] ? r[2] : "");
        if (first_row && !*first_row && r[2] && (at = strstr(r[2], "at row ")))
            *first_row = strtol(at + 7, NULL, 10);
    }
    if (res)
        mysql_free_result(res);
}

static int exec_common(struct target *t, const char *sql, int allow_warn,
                       struct co_err *err, const char *what)
{
    MYSQL_RES *res;

    if (mysql_query(t->my, sql) != 0)
        return my_error(t, err, "%s", what);
    /* Drain any result so the connection stays usable. */
    do {
        res = mysql_store_result(t->my);
        if (res)
            mysql_free_result(res);
    } while (mysql_next_result(t->my) == 0);
    if (!allow_warn && mysql_warning_count(t->my) > 0) {
        char w[700];
        my_warnings(t, w, sizeof w, NULL);
        return co_errf(err, CO_EDATA, "%s %s: %s: the server warned: %s",
                       my_role(t), t->label, what, w);
    }
    return 0;
}

int my_exec(struct target *t, const char *sql, struct co_err *err,
            const char *what)
{
    return exec_common(t, sql, 0, err, what);
}

int my_exec_allow_warnings(struct target *t, const char *sql,
                           struct co_err *err, const char *what)
{
    return exec_common(t, sql, 1, err, what);
}

const char *my_role(const struct target *t)
{
    return t->is_source ? "source" : "target";
}

/* ---- names and literals --------------------------------------------------- */

void my_object_name(char *out, size_t cap, const char *prefix,
                    const char *base, int hash_bytes)
{
    object_name_fit(out, cap, prefix, base, MY_NAME_MAX, hash_bytes);
}

void my_table_name(struct target *t, struct sbuf *b, const char *name)
{
    if (t->database_missing) {
        sbuf_ident(b, t->database, '`');
        sbuf_addc(b, '.');
    }
    sbuf_ident(b, name, '`');
}

const char *my_colname(const struct table *tb, int i)
{
    return tb->cols[i].name;
}

int my_type_is_text(const char *type)
{
    return strncasecmp(type, "VARCHAR", 7) == 0 ||
           strncasecmp(type, "CHAR", 4) == 0 ||
           strncasecmp(type, "TINYTEXT", 8) == 0 ||
           strncasecmp(type, "TEXT", 4) == 0 ||
           strncasecmp(type, "MEDIUMTEXT", 10) == 0 ||
           strncasecmp(type, "LONGTEXT", 8) == 0;
}

void my_string(struct target *t, struct sbuf *b, const char *s)
{
    struct value v = {.type = V_TEXT, .p = (const unsigned char *)s,
                      .n = strlen(s)};

    my_literal(t, b, &v);
}

void my_collate_clause(struct sbuf *b, const struct column *c,
                       const char *fallback)
{
    const char *ty = c->map.type;

    if (c->map.collation[0] &&
        (my_type_is_text(ty) || strncasecmp(ty, "enum(", 5) == 0 ||
         strncasecmp(ty, "set(", 4) == 0))
        sbuf_addf(b, " COLLATE %s", c->map.collation);
    else if (my_type_is_text(ty))
        sbuf_addf(b, " CHARACTER SET utf8mb4 COLLATE %s", fallback);
}

void my_literal(struct target *t, struct sbuf *b, const struct value *v)
{
    char num[64];

    switch (v->type) {
    case V_NULL:
        sbuf_adds(b, "NULL");
        return;
    case V_INT:
        sbuf_addf(b, "%" PRId64, v->i);
        return;
    case V_REAL:
        snprintf(num, sizeof num, "%.17g", v->r);
        sbuf_adds(b, num);
        if (!strpbrk(num, ".eEn"))
            sbuf_adds(b, "e0");   /* a double literal, not a decimal */
        return;
    case V_TEXT:
        if (sbuf_reserve(b, v->n * 2 + 3) < 0)
            return;
        b->p[b->len++] = '\'';
        b->len += mysql_real_escape_string(t->my, b->p + b->len,
                                           (const char *)v->p,
                                           (unsigned long)v->n);
        b->p[b->len++] = '\'';
        b->p[b->len] = '\0';
        return;
    case V_BLOB:
        if (v->n == 0) {
            sbuf_adds(b, "''");
            return;
        }
        if (sbuf_reserve(b, v->n * 2 + 3) < 0)
            return;
        sbuf_adds(b, "X'");
        b->len += mysql_hex_string(b->p + b->len, (const char *)v->p,
                                   (unsigned long)v->n);
        sbuf_addc(b, '\'');
        return;
    }
}

void my_key_match(struct target *t, struct sbuf *b, const struct table *tb,
                  const struct tuple *key)
{
    sbuf_addc(b, '(');
    for (int k = 0; k < tb->nkey; k++) {
        const char *name = my_colname(tb, tb->key[k]);
        if (k)
            sbuf_adds(b, " AND ");
        sbuf_ident(b, name, '`');
        sbuf_adds(b, " = ");
        my_literal(t, b, &key->v[k]);
        if (key->v[k].type == V_TEXT) {
            /* The column collation may equate 'a' and 'A'; keys are exact. */
            sbuf_adds(b, " AND CAST(");
            sbuf_ident(b, name, '`');
            sbuf_adds(b, " AS BINARY) = CAST(");
            my_literal(t, b, &key->v[k]);
            sbuf_adds(b, " AS BINARY)");
        }
    }
    sbuf_addc(b, ')');
}

void my_row_values(MYSQL_RES *res, MYSQL_ROW r, unsigned long *lens,
                   struct value *out, int n)
{
    MYSQL_FIELD *f = mysql_fetch_fields(res);

    for (int i = 0; i < n; i++) {
        struct value *v = &out[i];
        memset(v, 0, sizeof *v);
        if (!r[i]) {
            v->type = V_NULL;
            continue;
        }
        switch (f[i].type) {
        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_LONGLONG:
        case MYSQL_TYPE_YEAR:
            /* BIGINT UNSIGNED past 2^63-1 stays digits, never clamped */
            if (r[i][0] != '-' && (f[i].flags & UNSIGNED_FLAG) &&
                (lens[i] > 19 || (lens[i] == 19 &&
                                  strcmp(r[i], "9223372036854775807") > 0))) {
                v->type = V_TEXT;
                v->p = (const unsigned char *)r[i];
                v->n = lens[i];
                break;
            }
            v->type = V_INT;
            v->i = strtoll(r[i], NULL, 10);
            break;
        case MYSQL_TYPE_FLOAT:
        case MYSQL_TYPE_DOUBLE:
            v->type = V_REAL;
            v->r = strtod(r[i], NULL);
            break;
        default:
            v->type = f[i].charsetnr == 63 && f[i].type != MYSQL_TYPE_NEWDECIMAL
                      && f[i].type != MYSQL_TYPE_DATETIME &&
                      f[i].type != MYSQL_TYPE_DATE &&
                      f[i].type != MYSQL_TYPE_TIME &&
                      f[i].type != MYSQL_TYPE_TIMESTAMP ? V_BLOB : V_TEXT;
            v->p = (const unsigned char *)r[i];
            v->n = lens[i];
        }
    }
}

/* ---- connection ------------------------------------------------------------ */

static int set_tls(struct target *t, const struct rb_conn *c, struct co_err *err)
{
    const struct rb_tls *tls = &c->tls;

    if (tls->mode == TLS_DISABLED) {
#ifdef LIBMARIADB
        return 0;
#else
        unsigned int mode = SSL_MODE_DISABLED;
        mysql_options(t->my, MYSQL_OPT_SSL_MODE, &mode);
        return 0;
#endif
    }
#ifdef LIBMARIADB
    {
        my_bool on = 1, verify = tls->mode >= TLS_VERIFY_CA;
        /* Connector/C tries TLS only once asked to (this call, which also
         * takes the files); "preferred" falls back to plain text when the
         * server has no TLS. */
        mysql_ssl_set(t->my, tls->key, tls->cert, tls->ca, NULL, NULL);
        if (tls->mode >= TLS_REQUIRED)
            mysql_options(t->my, MYSQL_OPT_SSL_ENFORCE, &on);
        mysql_options(t->my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    }
#else
    if (tls->ca)
        mysql_options(t->my, MYSQL_OPT_SSL_CA, tls->ca);
    if (tls->cert)
        mysql_options(t->my, MYSQL_OPT_SSL_CERT, tls->cert);
    if (tls->key)
        mysql_options(t->my, MYSQL_OPT_SSL_KEY, tls->key);
    {
        unsigned int mode = tls->mode == TLS_PREFERRED ? SSL_MODE_PREFERRED
                          : tls->mode == TLS_REQUIRED ? SSL_MODE_REQUIRED
                          : tls->mode == TLS_VERIFY_CA ? SSL_MODE_VERIFY_CA
                          : SSL_MODE_VERIFY_IDENTITY;
        mysql_options(t->my, MYSQL_OPT_SSL_MODE, &mode);
    }
#endif
    (void)err;
    return 0;
}

/* The session of every connection, in the runbook's database. A database
 * that does not exist yet is no error here: plan reports it and `run`
 * creates it before the first table (tmy_create_database); a replica has
 * it once the primary's CREATE has replicated. Nothing here writes. */
static int session_setup(struct target *t, struct co_err *err)
{
    struct sbuf sql;
    int rc;

    rc = my_exec(t, "SET SESSION sql_mode = '" SESSION_SQL_MODE "', "
                    "time_zone = '+00:00', foreign_key_checks = 0, "
                    "sql_notes = 1, lock_wait_timeout = " MY_LOCK_WAIT_S ", "
                    "@cutover_session = 1",
                 err, "setting up the session");
    if (rc < 0)
        return rc;
    sbuf_init(&sql);
    sbuf_adds(&sql, "USE ");
    sbuf_ident(&sql, t->database, '`');
    if (mysql_query(t->my, sbuf_str(&sql)) == 0)
        t->database_missing = 0;
    else if (mysql_errno(t->my) == 1049 /* ER_BAD_DB_ERROR */)
        t->database_missing = 1;
    else
        rc = my_error(t, err, "using database %s", t->database);
    sbuf_free(&sql);
    return rc;
}

static int connect_conn(const struct runbook *rb, const struct rb_conn *c,
                        struct target **out, struct co_err *err)
{
    const char *section = c == &rb->target ? "target"
                        : c == &rb->source.server ? "source" : "replica";
    struct target *t = xcalloc(1, sizeof *t);
    unsigned int timeout = (unsigned int)c->connect_timeout_s;
    unsigned int rw_timeout = 3600;
    int rc;
    char label[512];

    if (c->socket)
        snprintf(label, sizeof label, "%s/%s", c->socket, c->database);
    else
        snprintf(label, sizeof label, "%s:%d/%s", c->host, c->port,
                 c->database);
    t->label = xstrdup(label);
    t->database = xstrdup(c->database);
    t->rb = rb;
    t->is_source = c == &rb->source.server;
    t->local_infile_ok = -1;
    sbuf_init(&t->batch);
    t->my = mysql_init(NULL);
    if (!t->my) {
        free(t->label);
        free(t->database);
        free(t);
        return co_errf(err, CO_ENOMEM, "mysql_init failed");
    }
    mysql_options(t->my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(t->my, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
    mysql_options(t->my, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
    tmy_infile_guard(t);
    mysql_options(t->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    set_tls(t, c, err);
    if (!mysql_real_connect(t->my, c->socket ? "localhost" : c->host, c->user,
                            c->password, NULL, (unsigned int)c->port,
                            c->socket, 0)) {
        unsigned int e = mysql_errno(t->my);
        const char *msg = mysql_error(t->my);
        int tls_problem = strstr(msg, "SSL") || strstr(msg, "TLS") ||
                          strstr(msg, "certificate");
        char hint[256];
        if (tls_problem)
            snprintf(hint, sizeof hint, "check %s.tls: the CA, the "
                     "certificate and the host name it covers",
                     c == &rb->source.server ? "source" : "target");
        else
            snprintf(hint, sizeof hint, "check %s socket/host/port, the "
                     "user and the password in %s; a server that requires "
                     "TLS also refuses plain logins (tls.mode)",
                     c == &rb->target ? "target."
                     : c == &rb->source.server ? "source." : "the replica's",
                     c->password_env ? c->password_env : "(no password_env)");
        rc = co_errf(err, e >= 2000 && e < 3000 ? CO_ECONNLOST : CO_ETARGET,
                     "cannot connect to %s %s as %s: %s (%s)",
                     section, label, c->user, msg, hint);
        mysql_close(t->my);
        free(t->label);
        free(t->database);
        free(t);
        return rc;
    }
    tmy_infile_close(t);
    snprintf(t->server_info, sizeof t->server_info, "%s",
             mysql_get_server_info(t->my));
    *out = t;
    return 0;
}

void my_close(struct target *t)
{
    if (!t)
        return;
    if (t->res)
        mysql_free_result(t->res);
    tmy_fetch_many_free(t);
    mysql_close(t->my);
    sbuf_free(&t->batch);
    for (int i = 0; i < t->batch_keycap; i++)
        tuple_free(&t->batch_keys[i]);
    free(t->batch_keys);
    free(t->row);
    free(t->label);
    free(t->database);
    free(t);
}

int my_connect(const struct runbook *rb, const struct rb_conn *c,
               struct target **out, struct co_err *err)
{
    int rc = connect_conn(rb, c, out, err);

    if (rc < 0)
        return rc;
    rc = session_setup(*out, err);
    if (rc < 0) {
        my_close(*out);
        *out = NULL;
    }
    return rc;
}

static const char *tmy_server_info(struct target *t)
{
    return t->server_info;
}

/* ---- reads ------------------------------------------------------------------ */

void my_select_head(struct sbuf *b, const struct table *tb)
{
    sbuf_adds(b, "SELECT ");
    for (int i = 0; i < tb->ncols; i++) {
        if (i)
            sbuf_adds(b, ", ");
        sbuf_ident(b, my_colname(tb, i), '`');
    }
    sbuf_adds(b, " FROM ");
    sbuf_ident(b, tb->name, '`');
}

/* key > bound (strict) or key <= bound, for integer keys:
 * k1 > v1 OR (k1 = v1 AND k2 > v2) ... */
void my_key_bound(struct target *t, struct sbuf *b, const struct table *tb,
                      const struct tuple *bound, int upper)
{
    sbuf_addc(b, '(');
    for (int k = 0; k < tb->nkey; k++) {
        if (k)
            sbuf_adds(b, " OR ");
        sbuf_addc(b, '(');
        for (int e = 0; e < k; e++) {
            sbuf_ident(b, my_colname(tb, tb->key[e]), '`');
            sbuf_adds(b, " = ");
            my_literal(t, b, &bound->v[e]);
            sbuf_adds(b, " AND ");
        }
        sbuf_ident(b, my_colname(tb, tb->key[k]), '`');
        if (upper)
            sbuf_adds(b, k == tb->nkey - 1 ? " <= " : " < ");
        else
            sbuf_adds(b, " > ");
        my_literal(t, b, &bound->v[k]);
        sbuf_addc(b, ')');
    }
    sbuf_addc(b, ')');
}

int tmy_scan(struct target *t, const struct table *tb,
                      const struct key_range *range, int64_t limit,
                      struct target_cursor **out, struct co_err *err)
{
    struct target_cursor *c;
    struct sbuf sql;
    int has_lo = range && range->lo && range->lo->n;
    int has_hi = range && range->hi && range->hi->n;

    sbuf_init(&sql);
    my_select_head(&sql, tb);
    if (has_lo || has_hi)
        sbuf_adds(&sql, " WHERE ");
    if (has_lo)
        my_key_bound(t, &sql, tb, range->lo, 0);
    if (has_lo && has_hi)
        sbuf_adds(&sql, " AND ");
    if (has_hi)
        my_key_bound(t, &sql, tb, range->hi, 1);
    sbuf_adds(&sql, " ORDER BY ");
    for (int k = 0; k < tb->nkey; k++) {
        if (k)
            sbuf_adds(&sql, ", ");
        sbuf_ident(&sql, my_colname(tb, tb->key[k]), '`');
    }
    if (limit > 0)
        sbuf_addf(&sql, " LIMIT %lld", (long long)limit);
    if (mysql_query(t->my, sbuf_str(&sql)) != 0) {
        sbuf_free(&sql);
        return my_error(t, err, "reading table %s", tb->name);
    }
    sbuf_free(&sql);
    c = xcalloc(1, sizeof *c);
    c->t = t;
    c->tb = tb;
    c->res = mysql_use_result(t->my);
    c->row = xcalloc((size_t)tb->ncols, sizeof *c->row);
    if (!c->res) {
        free(c->row);
        free(c);
        return my_error(t, err, "reading table %s", tb->name);
    }
    *out = c;
    return 0;
}

int tmy_cursor_next(struct target_cursor *c, const struct value **row,
                             struct co_err *err)
{
    MYSQL_ROW r = mysql_fetch_row(c->res);

    if (!r) {
        if (mysql_errno(c->t->my))
            return my_error(c->t, err, "reading table %s", c->tb->name);
        return 0;
    }
    my_row_values(c->res, r, mysql_fetch_lengths(c->res), c->row,
                  c->tb->ncols);
    *row = c->row;
    return 1;
}

void tmy_cursor_close(struct target_cursor *c)
{
    if (!c)
        return;
    mysql_free_result(c->res);
    free(c->row);
    free(c);
}

int tmy_fetch(struct target *t, const struct table *tb,
                       const struct tuple *key, const struct value **row,
                       struct co_err *err)
{
    struct sbuf sql;
    MYSQL_ROW r;

    if (t->res) {
        mysql_free_result(t->res);
        t->res = NULL;
    }
    sbuf_init(&sql);
    my_select_head(&sql, tb);
    sbuf_adds(&sql, " WHERE ");
    my_key_match(t, &sql, tb, key);
    if (mysql_query(t->my, sbuf_str(&sql)) != 0) {
        sbuf_free(&sql);
        return my_error(t, err, "reading a row of %s", tb->name);
    }
    sbuf_free(&sql);
    t->res = mysql_store_result(t->my);
    if (!t->res)
        return my_error(t, err, "reading a row of %s", tb->name);
    r = mysql_fetch_row(t->res);
    if (!r)
        return 0;
    if (t->rowcap < tb->ncols) {
        free(t->row);
        t->row = xcalloc((size_t)tb->ncols, sizeof *t->row);
        t->rowcap = tb->ncols;
    }
    my_row_values(t->res, r, mysql_fetch_lengths(t->res), t->row, tb->ncols);
    *row = t->row;
    return 1;
}

int my_query_first(struct target *t, const char *sql, char *buf, size_t cap,
                   struct co_err *err, const char *what)
{
    MYSQL_RES *res;
    MYSQL_ROW r;

    buf[0] = '\0';
    if (mysql_query(t->my, sql) != 0)
        return my_error(t, err, "%s", what);
    res = mysql_store_result(t->my);
    if (!res)
        return mysql_field_count(t->my) ? my_error(t, err, "%s", what) : 0;
    r = mysql_fetch_row(res);
    if (r && r[mysql_num_fields(res) > 1 ? 1 : 0])
        snprintf(buf, cap, "%s", r[mysql_num_fields(res) > 1 ? 1 : 0]);
    mysql_free_result(res);
    return r ? 1 : 0;
}

int tmy_count_rows(struct target *t, const struct table *tb,
                            int64_t *out, struct co_err *err)
{
    struct sbuf sql;
    char buf[32];
    int rc;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT COUNT(*) FROM ");
    sbuf_ident(&sql, tb->name, '`');
    rc = my_query_first(t, sbuf_str(&sql), buf, sizeof buf, err,
                     "counting rows");
    sbuf_free(&sql);
    *out = strtoll(buf, NULL, 10);
    return rc < 0 ? rc : 0;
}

static int tmy_set_next_id(struct target *t, const struct table *tb,
                                    int64_t next, struct co_err *err)
{
    struct sbuf sql;
    char now[32] = "";
    int rc;

    /* The copy's explicit keys moved the counter past them already; an
     * ALTER (a metadata lock and a table definition written to disk,
     * inside the write pause) is needed only when SQLite handed out keys
     * since deleted. */
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT AUTO_INCREMENT FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ");
    my_literal(t, &sql, &(struct value){.type = V_TEXT,
                                        .p = (const unsigned char *)tb->name,
                                        .n = strlen(tb->name)});
    rc = my_query_first(t, sbuf_str(&sql), now, sizeof now, err,
                        "reading AUTO_INCREMENT");
    sbuf_reset(&sql);
    if (rc < 0 || (now[0] && strtoll(now, NULL, 10) >= next)) {
        sbuf_free(&sql);
        return rc < 0 ? co_err_prefix(err, "table %s", tb->name) : 0;
    }
    sbuf_adds(&sql, "ALTER TABLE ");
    sbuf_ident(&sql, tb->name, '`');
    sbuf_addf(&sql, " AUTO_INCREMENT = %lld", (long long)next);
    rc = my_exec(t, sbuf_str(&sql), err, "setting AUTO_INCREMENT");
    sbuf_free(&sql);
    return rc < 0 ? co_err_prefix(err, "table %s", tb->name) : 0;
}

static int tmy_probe(struct target *t, double *ms, struct co_err *err)
{
    struct timespec a, b;
    char buf[8];
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &a);
    rc = my_query_first(t, "SELECT 1", buf, sizeof buf, err, "probe");
    clock_gettime(CLOCK_MONOTONIC, &b);
    *ms = (double)(b.tv_sec - a.tv_sec) * 1e3 +
          (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    return rc < 0 ? rc : 0;
}

static int tmy_load_sample(struct target *t, double *running,
                           struct co_err *err)
{
    char buf[64];
    int rc = my_query_first(t, "SHOW GLOBAL STATUS LIKE 'Threads_running'",
                            buf, sizeof buf, err, "reading server status");

    *running = strtod(buf, NULL);
    return rc < 0 ? rc : 0;
}

static int tmy_query_number(struct target *t, const char *sql, double *out,
                              struct co_err *err)
{
    MYSQL_RES *res;
    MYSQL_ROW r;
    char *end;

    if (mysql_query(t->my, sql) != 0)
        return my_error(t, err, "running check SQL");
    res = mysql_store_result(t->my);
    if (!res)
        return co_errf(err, CO_ETARGET, "check SQL returned no result set");
    r = mysql_fetch_row(res);
    if (!r || !r[0]) {
        mysql_free_result(res);
        return co_errf(err, CO_ETARGET, "check SQL returned no value");
    }
    *out = strtod(r[0], &end);
    if (*end) {
        co_errf(err, CO_ETARGET, "check SQL returned \"%.60s\", not a number",
                r[0]);
        mysql_free_result(res);
        return CO_ETARGET;
    }
    mysql_free_result(res);
    while (mysql_next_result(t->my) == 0) {
        res = mysql_store_result(t->my);
        if (res)
            mysql_free_result(res);
    }
    return 0;
}

const struct target_ops target_mysql_ops = {
    .name = "mysql",
    .client_library = MY_CLIENT_LIBRARY,
    .check_runbook = tmy_check_runbook,
    .logical_of_type = tmy_logical_of_type,
    .render_type = tmy_render_type,
    .types = &tmy_type_limits,
    .open = my_connect,
    .close = my_close,
    .server_info = tmy_server_info,
    .table_state = tmy_table_state,
    .create_table = tmy_create_table,
    .create_indexes = tmy_create_indexes,
    .create_foreign_keys = tmy_create_foreign_keys,
    .drop_table = tmy_drop_table,
    .database_exists = tmy_database_exists,
    .create_database = tmy_create_database,
    .load = tmy_load,
    .probe_rows = tmy_probe_rows,
    .begin = tmy_begin,
    .put_row = tmy_put_row,
    .delete_key = tmy_delete_key,
    .commit = tmy_commit,
    .rollback = tmy_rollback,
    .scan = tmy_scan,
    .cursor_next = tmy_cursor_next,
    .cursor_close = tmy_cursor_close,
    .fetch = tmy_fetch,
    .count_rows = tmy_count_rows,
    .set_next_id = tmy_set_next_id,
    .set_owner = tmy_set_owner,
    .foreign_objects = tmy_foreign_objects,
    .generated_names = tmy_generated_names,
    .rcapture_install = tmy_rcapture_install,
    .rcapture_remove = tmy_rcapture_remove,
    .rlog_read = tmy_rlog_read,
    .rlog_batch_free = tmy_rlog_batch_free,
    .fence_install = tmy_fence_install,
    .fence_remove = tmy_fence_remove,
    .find_collisions = tmy_find_collisions,
    .describe_table = tmy_describe_table,
    .column_default = tmy_column_default,
    .assess_table = tmy_assess_table,
    .probe = tmy_probe,
    .load_sample = tmy_load_sample,
    .query_number = tmy_query_number,
    .server_role = tmy_server_role,
    .replica_status = tmy_replica_status,
    .replication_position = tmy_replication_position,
    .position_wait = tmy_position_wait,
    .heartbeat_write = tmy_heartbeat_write,
    .heartbeat_read = tmy_heartbeat_read,
    .heartbeat_drop = tmy_heartbeat_drop,
};

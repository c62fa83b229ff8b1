/*
 * runbook.c — load and validate a runbook (DESIGN §3, runbooks/README.md).
 *
 * Each section has a reader that knows its allowed keys, defaults and
 * ranges. Readers stop at the first problem and leave the JSON path in the
 * error. Actions, checks and trigger rules live in runbook_rules.c.
 */
#include "lib/runbook.h"
#include "lib/runbook_rules.h"
#include "lib/file_read.h"

#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/jsonread.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* Enter key `k` of `parent` (if present) for the duration of `body`. */
#define WITH_KEY(r, k, body)                                                 \
    do {                                                                    \
        size_t mark_ = jr_push_key(r, k);                                   \
        int rc_ = (body);                                                   \
        jr_pop(r, mark_);                                                   \
        if (rc_ < 0)                                                        \
            return rc_;                                                     \
    } while (0)

char *rb_resolve_path(const char *dir, const char *p)
{
    if (!p)
        return NULL;
    if (p[0] == '/')
        return xstrdup(p);
    return xasprintf("%s/%s", dir, p);
}

/* A path: relative ones are relative to the runbook's directory. *out is
 * replaced only when the key is present (it may hold a default). */
static int read_path(struct jread *r, json_t *o, const char *key,
                     const char *dir, char **out)
{
    char *p = NULL;

    TRY(jr_str(r, o, key, &p));
    if (!p)
        return 0;
    free(*out);
    *out = rb_resolve_path(dir, p);
    free(p);
    return *out ? 0 : CO_ENOMEM;
}

static int read_password(struct jread *r, const struct runbook *rb,
                         struct rb_conn *c)
{
    const char *pw;

    if (!c->password_env)
        return 0;
    pw = getenv(c->password_env);
    if (!pw && !(rb->secrets_needed & RB_PASSWORDS))
        return 0;            /* this command never connects */
    if (!pw)
        return jr_fail(r, "password_env",
                       "environment variable %s is not set (export it before "
                       "running cutover)", c->password_env);
    c->password = xstrdup(pw);
    secret_add(pw);
    return 0;
}

/* MySQL's names of the tls modes, and PostgreSQL's (libpq's sslmode
 * with an underscore), index for index with enum tls_mode. */
static const char *const mysql_tls_modes[] = {
    "disabled", "preferred", "required", "verify_ca", "verify_identity", NULL};
static const char *const postgresql_tls_modes[] = {
    "disable", "prefer", "require", "verify_ca", "verify_full", NULL};

static int read_tls(struct jread *r, json_t *o, const char *dir,
                    const char *const *modes, struct rb_tls *tls)
{
    static const char *const keys[] = {"mode", "ca", "cert", "key", NULL};
    int mode = tls->mode;

    TRY(jr_object(r, o, keys));
    TRY(jr_enum(r, o, "mode", modes, &mode));
    TRY(read_path(r, o, "ca", dir, &tls->ca));
    TRY(read_path(r, o, "cert", dir, &tls->cert));
    TRY(read_path(r, o, "key", dir, &tls->key));
    tls->mode = (enum tls_mode)mode;
    const char *files[] = {tls->ca, tls->cert, tls->key};
    const char *names[] = {"ca", "cert", "key"};
    for (int i = 0; i < 3; i++)
        if (files[i] && access(files[i], R_OK) < 0)
            return jr_fail(r, names[i], "%s: %s", files[i], strerror(errno));
    if ((mode == TLS_VERIFY_CA || mode == TLS_VERIFY_IDENTITY) && !tls->ca)
        return jr_fail(r, "ca", "required when mode is %s", modes[mode]);
    if (!!tls->cert != !!tls->key)
        return jr_fail(r, tls->cert ? "key" : "cert",
                       "cert and key must be given together");
    return 0;
}

/* What a connection section is: the keys it may have. */
enum conn_kind { CONN_TARGET, CONN_REPLICA, CONN_SOURCE };

static int read_conn(struct jread *r, json_t *o, const struct runbook *rb,
                     enum conn_kind kind, struct rb_conn *c)
{
    const char *dir = rb->dir;
    static const char *const target_keys[] = {
        "type", "socket", "host", "port", "user", "password_env", "database",
        "tls", "replicas", "connect_timeout_s", NULL};
    static const char *const replica_keys[] = {
        "name", "socket", "host", "port", "user", "password_env", "tls",
        "connect_timeout_s", NULL};
    static const char *const source_keys[] = {
        "type", "socket", "host", "port", "user", "password_env", "database",
        "tls", "capture", "server_id", "poll_ms", "connect_timeout_s",
        NULL};
    static const char *const *const keys[] = {target_keys, replica_keys,
                                              source_keys};
    const int is_replica = kind == CONN_REPLICA;
    json_t *tls;

    TRY(jr_object(r, o, keys[kind]));
    if (!is_replica) {
        TRY(jr_require(r, o, "database"));
        TRY(jr_str(r, o, "database", &c->database));
        if (!c->database[0] || strlen(c->database) > 64)
            return jr_fail(r, "database", "must be 1 to 64 characters");
    } else {
        TRY(jr_str(r, o, "name", &c->name));
    }
    TRY(read_path(r, o, "socket", dir, &c->socket));
    TRY(jr_str(r, o, "host", &c->host));
    c->port = 3306;
    TRY(jr_int(r, o, "port", 1, 65535, &c->port));
    TRY(jr_str(r, o, "user", &c->user));
    TRY(jr_str(r, o, "password_env", &c->password_env));
    c->connect_timeout_s = 10;
    TRY(jr_int(r, o, "connect_timeout_s", 1, 3600, &c->connect_timeout_s));
    if (!c->socket && !c->host)
        return jr_fail(r, NULL, "give a socket or a host");
    if (!c->user)
        c->user = xstrdup("root");
    if ((tls = json_object_get(o, "tls")))
        WITH_KEY(r, "tls", read_tls(r, tls, dir, mysql_tls_modes, &c->tls));
    TRY(read_password(r, rb, c));
    return 0;
}

static int read_replicas(struct jread *r, json_t *arr, struct runbook *rb)
{
    size_t i;
    json_t *item;

    if (!json_is_array(arr))
        return jr_fail(r, NULL, "expected an array of connections");
    rb->replicas = xcalloc(json_array_size(arr) + 1, sizeof *rb->replicas);
    json_array_foreach(arr, i, item) {
        struct rb_conn *c = &rb->replicas[i];
        size_t mark = jr_push_index(r, i);
        int rc = read_conn(r, item, rb, CONN_REPLICA, c);
        jr_pop(r, mark);
        rb->nreplicas = (int)i + 1;
        if (rc < 0)
            return rc;
        c->database = xstrdup(rb->target.database);
        if (!c->name)
            c->name = xasprintf("replica%zu", i + 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(rb->replicas[j].name, c->name) == 0)
                return jr_fail(r, NULL, "replica name \"%s\" is used twice",
                               c->name);
    }
    return 0;
}

/* source.type "sqlite": a database file. */
static int read_sqlite_source(struct jread *r, json_t *o, struct runbook *rb)
{
    static const char *const keys[] = {"type", "path", "busy_timeout_ms",
                                       "app_busy_timeout_ms",
                                       "app_transactions", NULL};
    static const char *const begins[] = {"deferred", "immediate", NULL};
    int begin = 0;

    TRY(jr_object(r, o, keys));
    TRY(jr_require(r, o, "path"));
    TRY(read_path(r, o, "path", rb->dir, &rb->source.path));
    rb->source.busy_timeout_ms = 5000;
    TRY(jr_int(r, o, "busy_timeout_ms", 0, 600000,
               &rb->source.busy_timeout_ms));
    TRY(jr_int(r, o, "app_busy_timeout_ms", 0, 3600000,
               &rb->source.app_busy_timeout_ms));
    TRY(jr_enum(r, o, "app_transactions", begins, &begin));
    rb->source.app_immediate = begin == 1;
    rb->source.label = xstrdup(rb->source.path);
    return 0;
}

/* source.type "mysql": a MySQL/MariaDB server and its database. */
static int read_mysql_source(struct jread *r, json_t *o, struct runbook *rb)
{
    static const char *const captures[] = {"triggers", "binlog", NULL};
    struct rb_conn *c = &rb->source.server;
    int capture = -1, server_id = 0;

    TRY(read_conn(r, o, rb, CONN_SOURCE, c));
    TRY(jr_enum(r, o, "capture", captures, &capture));
    rb->source.capture_binlog = capture;
    TRY(jr_int(r, o, "server_id", 1, INT_MAX, &server_id));
    rb->source.server_id = (uint32_t)server_id;
    rb->source.poll_ms = 100;
    TRY(jr_int(r, o, "poll_ms", 0, 10000, &rb->source.poll_ms));
    /* The pre-migration backup is a copy of a SQLite file; a server is
     * backed up with its own tools (mariabackup, mysqldump). */
    rb->backup.enabled = 0;
    rb->source.label = c->socket
        ? xasprintf("mysql %s/%s", c->socket, c->database)
        : xasprintf("mysql %s:%d/%s", c->host, c->port, c->database);
    return 0;
}

/* target.type "mysql": a server, its database and its replicas. */
static int read_server_target(struct jread *r, json_t *o, struct runbook *rb)
{
    json_t *reps;

    TRY(read_conn(r, o, rb, CONN_TARGET, &rb->target));
    if ((reps = json_object_get(o, "replicas")))
        WITH_KEY(r, "replicas", read_replicas(r, reps, rb));
    return 0;
}

/* target.type "postgresql": a server (host may be a socket directory, as
 * libpq reads it), its database and the schema the tables go to. Without
 * a tls section libpq's "prefer" applies. */
static int read_postgresql_target(struct jread *r, json_t *o,
                                  struct runbook *rb)
{
    static const char *const keys[] = {
        "type", "host", "port", "user", "password_env", "database", "schema",
        "tls", "replicas", "connect_timeout_s", NULL};
    struct rb_conn *c = &rb->target;
    json_t *tls, *reps;

    TRY(jr_object(r, o, keys));
    TRY(jr_require(r, o, "database"));
    TRY(jr_str(r, o, "database", &c->database));
    if (!c->database[0] || strlen(c->database) > 63)
        return jr_fail(r, "database", "must be 1 to 63 bytes (PostgreSQL's "
                       "longest name)");
    TRY(jr_str(r, o, "schema", &c->schema));
    if (!c->schema)
        c->schema = xstrdup("public");
    if (!c->schema[0] || strlen(c->schema) > 63)
        return jr_fail(r, "schema", "must be 1 to 63 bytes (PostgreSQL's "
                       "longest name)");
    TRY(jr_require(r, o, "host"));
    TRY(jr_str(r, o, "host", &c->host));
    c->port = 5432;
    TRY(jr_int(r, o, "port", 1, 65535, &c->port));
    TRY(jr_str(r, o, "user", &c->user));
    if (!c->user)
        c->user = xstrdup("postgres");
    TRY(jr_str(r, o, "password_env", &c->password_env));
    c->connect_timeout_s = 10;
    TRY(jr_int(r, o, "connect_timeout_s", 1, 3600, &c->connect_timeout_s));
    c->tls.mode = TLS_PREFERRED;
    if ((tls = json_object_get(o, "tls")))
        WITH_KEY(r, "tls", read_tls(r, tls, rb->dir, postgresql_tls_modes,
                                    &c->tls));
    TRY(read_password(r, rb, c));
    /* read as MySQL's are, for plan to say the driver has none yet */
    if ((reps = json_object_get(o, "replicas")))
        WITH_KEY(r, "replicas", read_replicas(r, reps, rb));
    return 0;
}

/* The engines a runbook may name in source.type and target.type, and the
 * reader of each one's section, index for index. Each has a driver of the
 * same name in sync/drivers/registry.c (test_registry.c checks that both
 * lists agree). */
typedef int (*engine_reader)(struct jread *, json_t *, struct runbook *);
static const char *const source_types[] = {"sqlite", "mysql", NULL};
static const engine_reader source_readers[] = {read_sqlite_source,
                                               read_mysql_source};
static const char *const target_types[] = {"mysql", "postgresql", NULL};
static const engine_reader target_readers[] = {read_server_target,
                                               read_postgresql_target};

const char *const *runbook_source_types(void)
{
    return source_types;
}

const char *const *runbook_target_types(void)
{
    return target_types;
}

/* source or target: the type picks the engine, whose reader reads the
 * rest ("source.type: \"oracle\" is not one of: sqlite"). */
static int read_engine(struct jread *r, json_t *o, struct runbook *rb,
                       const char *const *types, const engine_reader *readers,
                       char **type)
{
    int i = 0;

    if (!json_is_object(o))
        return jr_fail(r, NULL, "expected an object");
    TRY(jr_require(r, o, "type"));
    TRY(jr_enum(r, o, "type", types, &i));
    if (!(*type = xstrdup(types[i])))
        return CO_ENOMEM;
    return readers[i](r, o, rb);
}

static int read_source(struct jread *r, json_t *o, struct runbook *rb)
{
    return read_engine(r, o, rb, source_types, source_readers,
                       &rb->source.type);
}

static int read_target(struct jread *r, json_t *o, struct runbook *rb)
{
    return read_engine(r, o, rb, target_types, target_readers,
                       &rb->target.type);
}

static int read_key_choices(struct jread *r, json_t *o, struct runbook *rb)
{
    const char *table;
    json_t *v;

    if (!json_is_object(o))
        return jr_fail(r, NULL, "expected an object of table: \"rowid\" or "
                                "[columns]");
    rb->tables.keys = xcalloc(json_object_size(o) + 1, sizeof *rb->tables.keys);
    json_object_foreach(o, table, v) {
        struct rb_key_choice *k = &rb->tables.keys[rb->tables.nkeys++];
        k->table = xstrdup(table);
        if (json_is_string(v) && strcmp(json_string_value(v), "rowid") == 0) {
            k->rowid = 1;
            continue;
        }
        if (json_is_array(v)) {
            TRY(jr_strv(r, o, table, 0, &k->columns, &k->ncolumns));
            continue;
        }
        return jr_fail(r, table, "expected \"rowid\" or an array of columns");
    }
    return 0;
}

static int read_tables(struct jread *r, json_t *o, struct runbook *rb)
{
    static const char *const keys[] = {"include", "exclude", "keys", NULL};
    json_t *k;

    TRY(jr_object(r, o, keys));
    TRY(jr_strv(r, o, "include", 0, &rb->tables.include,
                &rb->tables.ninclude));
    TRY(jr_strv(r, o, "exclude", 1, &rb->tables.exclude,
                &rb->tables.nexclude));
    if ((k = json_object_get(o, "keys")))
        WITH_KEY(r, "keys", read_key_choices(r, k, rb));
    return 0;
}

static int read_overrides(struct jread *r, json_t *o, struct runbook *rb)
{
    const char *key;
    json_t *v;

    if (!json_is_object(o))
        return jr_fail(r, NULL, "expected an object of \"table.column\": "
                                "\"TYPE\"");
    rb->schema.overrides = xcalloc(json_object_size(o) + 1,
                                  sizeof *rb->schema.overrides);
    json_object_foreach(o, key, v) {
        struct rb_override *ov = &rb->schema.overrides[rb->schema.noverrides];
        const char *dot = strchr(key, '.');

        if (!dot || dot == key || !dot[1])
            return jr_fail(r, key, "key must be \"table.column\"");
        /* The type is the target's to judge (its check_runbook). */
        if (!json_is_string(v))
            return jr_fail(r, key, "expected the target column's type as a "
                                   "string, such as \"DECIMAL(12,2)\"");
        ov->table = xstrndup(key, (size_t)(dot - key));
        ov->column = xstrdup(dot + 1);
        ov->type = xstrdup(json_string_value(v));
        rb->schema.noverrides++;
    }
    return 0;
}

static int read_schema(struct jread *r, json_t *o, struct runbook *rb)
{
    static const char *const keys[] = {"mode", "collation", "overrides",
                                       "invalid_utf8", "zero_dates",
                                       "on_abort", "datetimes", NULL};
    static const char *const modes[] = {"create", "existing", NULL};
    static const char *const zones[] = {"naive", "utc", NULL};
    static const char *const utf8[] = {"reject", "replace", "as_blob", NULL};
    static const char *const zero[] = {"refuse", "null", NULL};
    static const char *const aborts[] = {"keep", "drop", NULL};
    int mode = SCHEMA_CREATE, pol = UTF8_REJECT, ab = ON_ABORT_KEEP;
    int zone = LZONE_NAIVE;
    int zd = ZERO_DATES_REFUSE;
    json_t *ov;

    TRY(jr_object(r, o, keys));
    TRY(jr_enum(r, o, "mode", modes, &mode));
    TRY(jr_str(r, o, "collation", &rb->schema.collation));
    TRY(jr_enum(r, o, "invalid_utf8", utf8, &pol));
    TRY(jr_enum(r, o, "zero_dates", zero, &zd));
    TRY(jr_enum(r, o, "on_abort", aborts, &ab));
    TRY(jr_enum(r, o, "datetimes", zones, &zone));
    rb->schema.datetimes = (enum lzone)zone;
    rb->schema.mode = (enum schema_mode)mode;
    rb->schema.invalid_utf8 = (enum invalid_utf8_policy)pol;
    rb->schema.zero_dates = (enum zero_dates_policy)zd;
    rb->schema.on_abort = (enum on_abort)ab;
    if ((ov = json_object_get(o, "overrides")) &&
        rb->schema.mode == SCHEMA_EXISTING && json_object_size(ov) > 0)
        return jr_fail(r, "overrides", "not used with schema.mode "
                       "\"existing\": the target's columns are the types "
                       "(change them with a migration of the application)");
    if (ov)
        WITH_KEY(r, "overrides", read_overrides(r, ov, rb));
    return 0;
}

static int read_copy(struct jread *r, json_t *o, struct runbook *rb)
{
    static const char *const keys[] = {"workers", "chunk_target_ms",
                                       "max_rows_per_s", "method",
                                       "max_replica_lag_s", NULL};
    static const char *const methods[] = {"auto", "load_data", "insert", NULL};
    int m = COPY_AUTO;

    TRY(jr_object(r, o, keys));
    TRY(jr_int(r, o, "workers", 1, 64, &rb->copy.workers));
    TRY(jr_int(r, o, "chunk_target_ms", 10, 60000, &rb->copy.chunk_target_ms));
    TRY(jr_num(r, o, "max_rows_per_s", 0, 1e12, &rb->copy.max_rows_per_s));
    TRY(jr_enum(r, o, "method", methods, &m));
    TRY(jr_num(r, o, "max_replica_lag_s", 0.01, 86400,
               &rb->copy.max_replica_lag_s));
    rb->copy.method = (enum copy_method)m;
    return 0;
}

static int read_sync(struct jread *r, json_t *o, struct runbook *rb)
{
    static const char *const keys[] = {"batch_rows", "ready_lag_s",
                                       "max_keys_per_s", NULL};

    TRY(jr_object(r, o, keys));
    TRY(jr_int(r, o, "batch_rows", 1, 1000000, &rb->sync.batch_rows));
    TRY(jr_num(r, o, "ready_lag_s", 0, 86400, &rb->sync.ready_lag_s));
    TRY(jr_num(r, o, "max_keys_per_s", 0, 1e9, &rb->sync.max_keys_per_s));
    return 0;
}

static int read_verify(struct jread *r, json_t *o, struct runbook *rb)
{
    static const char *const keys[] = {"mode", "recheck_attempts",
                                       "sample_percent", "read_from", NULL};
    static const char *const modes[] = {"full", "sample", "count", NULL};
    static const char *const froms[] = {"primary", "replica", NULL};
    int mode = VERIFY_FULL, from = 0;

    TRY(jr_object(r, o, keys));
    TRY(jr_enum(r, o, "mode", modes, &mode));
    TRY(jr_int(r, o, "recheck_attempts", 0, 100,
               &rb->verify.recheck_attempts));
    TRY(jr_num(r, o, "sample_percent", 0.01, 100,
               &rb->verify.sample_percent));
    TRY(jr_enum(r, o, "read_from", froms, &from));
    rb->verify.mode = (enum verify_mode)mode;
    rb->verify.read_from_replica = from;
    if (from && rb->nreplicas == 0)
        return jr_fail(r, "read_from", "\"replica\" needs target.replicas");
    return 0;
}

static int read_cutover(struct jread *r, json_t *o, struct runbook *rb)
{
    static const char *const keys[] = {"mode", "max_write_pause_ms",
                                       "retries", "switch", "switch_back",
                                       NULL};
    static const char *const modes[] = {"auto", "manual", NULL};
    int mode = CUTOVER_AUTO;
    json_t *a;

    TRY(jr_object(r, o, keys));
    TRY(jr_enum(r, o, "mode", modes, &mode));
    TRY(jr_int(r, o, "max_write_pause_ms", 10, 600000,
               &rb->cutover.max_write_pause_ms));
    TRY(jr_int(r, o, "retries", 0, 1000, &rb->cutover.retries));
    rb->cutover.mode = (enum cutover_mode)mode;
    if ((a = json_object_get(o, "switch")))
        WITH_KEY(r, "switch", rb_read_actions(r, a, rb->dir,
                                              &rb->cutover.switch_actions,
                                              &rb->cutover.nswitch));
    if ((a = json_object_get(o, "switch_back")))
        WITH_KEY(r, "switch_back",
                 rb_read_actions(r, a, rb->dir, &rb->cutover.switch_back,
                                 &rb->cutover.nswitch_back));
    return 0;
}

static int read_progress(struct jread *r, json_t *o, struct runbook *rb)
{
    static const char *const keys[] = {"socket", "mode", NULL};
    char *mode = NULL, *end;
    long m;

    TRY(jr_object(r, o, keys));
    TRY(read_path(r, o, "socket", rb->dir, &rb->progress.socket));
    TRY(jr_str(r, o, "mode", &mode));
    if (mode) {
        m = strtol(mode, &end, 8);
        if (!mode[0] || *end || m < 0 || m > 0777) {
            free(mode);
            return jr_fail(r, "mode", "expected an octal file mode such as "
                                      "\"0660\"");
        }
        rb->progress.mode = (int)m;
        free(mode);
    }
    return 0;
}

static int read_backup(struct jread *r, json_t *o, struct runbook *rb)
{
    static const char *const keys[] = {"enabled", "encrypt_key_env", NULL};
    const char *key;

    TRY(jr_object(r, o, keys));
    TRY(jr_bool(r, o, "enabled", &rb->backup.enabled));
    TRY(jr_str(r, o, "encrypt_key_env", &rb->backup.encrypt_key_env));
    if (rb->backup.encrypt_key_env) {
        key = getenv(rb->backup.encrypt_key_env);
        if (!key && !(rb->secrets_needed & RB_BACKUP_KEY))
            return 0;        /* this command never reads the backup */
        if (!key)
            return jr_fail(r, "encrypt_key_env",
                           "environment variable %s is not set",
                           rb->backup.encrypt_key_env);
        if (strlen(key) != 64 || strspn(key, "0123456789abcdefABCDEF") != 64)
            return jr_fail(r, "encrypt_key_env",
                           "%s must hold 64 hex digits (a 256-bit key)",
                           rb->backup.encrypt_key_env);
        secret_add(key);
    }
    return 0;
}

/* A variable the runbook names as holding a secret: its value is
 * redacted, and children never inherit the variable. */
static void register_secret_env(const char *env)
{
    if (!env)
        return;
    secret_env_add(env);
    if (getenv(env))
        secret_add(getenv(env));
}

/* Passwords must be secrets before anything can quote them: a bad value
 * anywhere in the runbook (read before the target) could be the password.
 * So their variables are looked up first, straight from the JSON. */
static void register_secrets(json_t *root)
{
    json_t *target = json_object_get(root, "target"), *rep;
    size_t i;

    register_secret_env(json_string_value(json_object_get(
        json_object_get(root, "source"), "password_env")));
    register_secret_env(json_string_value(json_object_get(target,
                                                          "password_env")));
    json_array_foreach(json_object_get(target, "replicas"), i, rep)
        register_secret_env(json_string_value(json_object_get(rep,
                                                              "password_env")));
    register_secret_env(json_string_value(json_object_get(
        json_object_get(root, "backup"), "encrypt_key_env")));
    register_secret_env(json_string_value(json_object_get(
        json_object_get(root, "http"), "token_env")));
}

static void set_defaults(struct runbook *rb)
{
    rb->source.busy_timeout_ms = 5000;
    rb->schema.mode = SCHEMA_CREATE;
    rb->copy.workers = 2;
    rb->copy.chunk_target_ms = 500;
    rb->copy.max_replica_lag_s = 1.0;
    rb->sync.batch_rows = 2000;
    rb->sync.ready_lag_s = 1.0;
    rb->verify.recheck_attempts = 3;
    rb->verify.sample_percent = 10;
    rb->cutover.max_write_pause_ms = 1000;
    rb->cutover.retries = 5;
    rb->post_validate.watch_s = 600;
    rb->post_validate.interval_s = 5;
    rb->progress.mode = 0660;
    rb->backup.enabled = 1;
}

/* Section name → reader, applied when the key is present. */
struct section {
    const char *key;
    int (*read)(struct jread *, json_t *, struct runbook *);
};

static int read_all(struct jread *r, json_t *root, struct runbook *rb)
{
    static const char *const keys[] = {
        "version", "name", "state_dir", "source", "target", "tables",
        "schema", "copy", "sync", "verify", "cutover", "post_validate",
        "triggers", "notify", "hooks", "progress", "backup", "http", NULL};
    static const struct section sections[] = {
        {"source", read_source},    {"target", read_target},
        {"tables", read_tables},    {"schema", read_schema},
        {"copy", read_copy},        {"sync", read_sync},
        {"verify", read_verify},    {"cutover", read_cutover},
        {"post_validate", rb_read_post_validate},
        {"triggers", rb_read_triggers},
        {"notify", rb_read_notify}, {"hooks", rb_read_hooks},
        {"progress", read_progress}, {"backup", read_backup},
        {"http", rb_read_http},
    };
    int version = 0;

    TRY(jr_object(r, root, keys));
    TRY(jr_require(r, root, "version"));
    TRY(jr_int(r, root, "version", INT_MIN, INT_MAX, &version));
    if (version != 1)
        return jr_fail(r, "version", "version %d is not supported (this "
                                     "cutover reads version 1)", version);
    TRY(jr_require(r, root, "name"));
    TRY(jr_str(r, root, "name", &rb->name));
    if (!rb->name[0] || strlen(rb->name) > 64 ||
        strspn(rb->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789_.-") != strlen(rb->name))
        return jr_fail(r, "name", "use 1 to 64 letters, digits, '_', '.', "
                                  "'-'");
    TRY(jr_require(r, root, "state_dir"));
    TRY(read_path(r, root, "state_dir", rb->dir, &rb->state_dir));
    TRY(jr_require(r, root, "source"));
    TRY(jr_require(r, root, "target"));
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        json_t *v = json_object_get(root, sections[i].key);
        if (v)
            WITH_KEY(r, sections[i].key, sections[i].read(r, v, rb));
    }
    if (!rb->tables.include) {
        rb->tables.include = xcalloc(2, sizeof(char *));
        rb->tables.include[0] = xstrdup("*");
        rb->tables.ninclude = 1;
    }
    if (!rb->progress.socket)
        rb->progress.socket = xasprintf("%s/progress.sock", rb->state_dir);
    if (strlen(rb->progress.socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return jr_fail(r, "progress.socket", "path is %zu bytes; unix sockets "
                       "allow %zu (choose a shorter path)",
                       strlen(rb->progress.socket),
                       sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
    TRY(rb_check_trigger_metrics(r, rb));
    if (rb->verify.read_from_replica && rb->nreplicas == 0)
        return jr_fail(r, "verify.read_from",
                       "\"replica\" needs target.replicas");
    return 0;
}

int runbook_parse(const char *text, size_t len, const char *dir,
                  struct runbook **out, struct co_err *err)
{
    return runbook_parse_needing(text, len, dir, RB_SECRETS_ALL, out, err);
}

int runbook_parse_needing(const char *text, size_t len, const char *dir,
                          int secrets, struct runbook **out,
                          struct co_err *err)
{
    struct runbook *rb;
    struct jread r;
    json_error_t jerr;
    json_t *root;
    int rc;

    *out = NULL;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return co_errf(err, CO_ERUNBOOK, "line %d, column %d: %s", jerr.line,
                       jerr.column, jerr.text);
    rb = xcalloc(1, sizeof *rb);
    rb->dir = xstrdup(dir);
    rb->secrets_needed = secrets;
    set_defaults(rb);
    register_secrets(root);
    jr_init(&r, err, CO_ERUNBOOK);
    rc = read_all(&r, root, rb);
    json_decref(root);
    if (rc < 0) {
        /* A value quoted in the message might be a password. */
        if (err)
            redact(err->msg, sizeof err->msg);
        runbook_free(rb);
        return rc;
    }
    *out = rb;
    return 0;
}

int runbook_load(const char *path, struct runbook **out, struct co_err *err)
{
    return runbook_load_needing(path, RB_SECRETS_ALL, out, err);
}

#define RUNBOOK_MAX_BYTES (16u << 20)

int runbook_load_needing(const char *path, int secrets, struct runbook **out,
                         struct co_err *err)
{
    char real[PATH_MAX], dirbuf[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    unsigned int mdlen;
    int rc;

    *out = NULL;
    if (!realpath(path, real))
        return co_errf(err, CO_EIO, "runbook %s: %s", path, strerror(errno));
    if ((rc = file_read_path(real, RUNBOOK_MAX_BYTES, &text, &len)) < 0)
        return co_errf(err, rc == -ENOMEM ? CO_ENOMEM : CO_EIO,
                       "runbook %s: %s", path, rc == -EFBIG
                       ? "larger than 16 MiB: not a runbook" : strerror(-rc));
    snprintf(dirbuf, sizeof dirbuf, "%s", real);
    rc = runbook_parse_needing(text, len, dirname(dirbuf), secrets, out, err);
    if (rc == 0) {
        (*out)->path = xstrdup(real);
        EVP_Digest(text, len, (*out)->sha256, &mdlen, EVP_sha256(), NULL);
        for (int i = 0; i < 32; i++)
            sprintf((*out)->sha256_hex + 2 * i, "%02x", (*out)->sha256[i]);
    } else {
        co_err_prefix(err, "runbook %s", path);
    }
    free(text);
    return rc;
}

static void conn_free(struct rb_conn *c)
{
    free(c->type);
    free(c->name);
    free(c->socket);
    free(c->host);
    free(c->user);
    free(c->password_env);
    if (c->password) {
        memset(c->password, 0, strlen(c->password));
        free(c->password);
    }
    free(c->database);
    free(c->schema);
    free(c->tls.ca);
    free(c->tls.cert);
    free(c->tls.key);
}

void runbook_free(struct runbook *rb)
{
    if (!rb)
        return;
    free(rb->path);
    free(rb->dir);
    free(rb->name);
    free(rb->state_dir);
    free(rb->source.path);
    free(rb->source.label);
    free(rb->source.type);
    conn_free(&rb->source.server);
    conn_free(&rb->target);
    for (int i = 0; i < rb->nreplicas; i++)
        conn_free(&rb->replicas[i]);
    free(rb->replicas);
    strv_free(rb->tables.include, rb->tables.ninclude);
    strv_free(rb->tables.exclude, rb->tables.nexclude);
    for (int i = 0; i < rb->tables.nkeys; i++) {
        free(rb->tables.keys[i].table);
        strv_free(rb->tables.keys[i].columns, rb->tables.keys[i].ncolumns);
    }
    free(rb->tables.keys);
    free(rb->schema.collation);
    for (int i = 0; i < rb->schema.noverrides; i++) {
        free(rb->schema.overrides[i].table);
        free(rb->schema.overrides[i].column);
        free(rb->schema.overrides[i].type);
    }
    free(rb->schema.overrides);
    rb_free_rules(rb);
    free(rb->progress.socket);
    free(rb->backup.encrypt_key_env);
    free(rb->http.listen);
    free(rb->http.token_env);
    free(rb);
}

int runbook_table_selected(const struct runbook *rb, const char *name)
{
    int in = 0;

    if (strncmp(name, "_cutover_", 9) == 0 || strncmp(name, "sqlite_", 7) == 0)
        return 0;
    for (int i = 0; i < rb->tables.ninclude; i++)
        if (fnmatch(rb->tables.include[i], name, 0) == 0)
            in = 1;
    for (int i = 0; i < rb->tables.nexclude; i++)
        if (fnmatch(rb->tables.exclude[i], name, 0) == 0)
            in = 0;
    return in;
}

const char *runbook_override(const struct runbook *rb, const char *table,
                             const char *column)
{
    for (int i = 0; i < rb->schema.noverrides; i++)
        if (strcmp(rb->schema.overrides[i].table, table) == 0 &&
            strcmp(rb->schema.overrides[i].column, column) == 0)
            return rb->schema.overrides[i].type;
    return NULL;
}

const struct rb_key_choice *runbook_key_choice(const struct runbook *rb,
                                               const char *table)
{
    for (int i = 0; i < rb->tables.nkeys; i++)
        if (strcmp(rb->tables.keys[i].table, table) == 0)
            return &rb->tables.keys[i];
    return NULL;
}

/*
 * pg_util.h — what the unit tests of the PostgreSQL driver share: a
 * session on the private server that tests/lib/run_unit.sh starts for them
 * (tests/lib/with_postgresql.sh), a fresh schema per test file, and tables
 * described in a few lines. Header-only, like unit_util.h; include after
 * <cmocka.h>.
 */
#ifndef CO_PG_UTIL_H
#define CO_PG_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/postgresql/pg.h"
#include "tests/unit/unit_util.h"

/* Options for the test role, over the socket, in `schema`. */
static inline struct pg_options ut_pg_options(const char *schema)
{
    struct pg_options o;
    const char *port = getenv("CUTOVER_TEST_PG_PORT");

    memset(&o, 0, sizeof o);
    if (!getenv("CUTOVER_TEST_PG_HOST") || !port)
        fail_msg("no test PostgreSQL: run this test through "
                 "tests/lib/run_unit.sh (make unit)");
    o.host = getenv("CUTOVER_TEST_PG_HOST");
    o.port = atoi(port);
    o.user = getenv("CUTOVER_TEST_PG_USER");
    o.database = getenv("CUTOVER_TEST_PG_DB");
    o.password_env = "CUTOVER_TEST_PG_PASSWORD";
    o.schema = schema;
    return o;
}

static inline struct pg_session *ut_pg_connect_opts(const struct pg_options *o)
{
    struct pg_session *s = NULL;
    struct co_err err = {0};

    if (pg_connect(o, &s, &err) < 0)
        fail_msg("connect: %s", err.msg);
    return s;
}

static inline void ut_pg_exec(struct pg_session *s, const char *sql)
{
    struct co_err err = {0};

    if (pg_exec(s, sql, &err, "a test's statement") < 0)
        fail_msg("%s: %s", sql, err.msg);
}

/* The first value of a query, as text ("" for NULL or no row); static. */
static inline const char *ut_pg_value(struct pg_session *s, const char *sql)
{
    static char buf[8192];
    struct co_err err = {0};

    if (pg_query_value(s, sql, buf, sizeof buf, &err, "a test's query") < 0)
        fail_msg("%s: %s", sql, err.msg);
    return buf;
}

/* A session in a new, empty schema of that name. */
static inline struct pg_session *ut_pg_fresh(const char *schema)
{
    struct pg_options o = ut_pg_options(NULL);
    struct pg_session *s = ut_pg_connect_opts(&o);
    char sql[256];

    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS \"%s\" CASCADE; "
             "CREATE SCHEMA \"%s\"", schema, schema);
    ut_pg_exec(s, sql);
    pg_close(s);
    o = ut_pg_options(schema);
    return ut_pg_connect_opts(&o);
}

/* A session of the application's role (another role than ours, not
 * marked as cutover's), in `schema`. */
static inline struct pg_session *ut_pg_app(const char *schema)
{
    struct pg_options o = ut_pg_options(schema);

    o.user = getenv("CUTOVER_TEST_PG_APP_USER");
    o.password_env = "CUTOVER_TEST_PG_APP_PASSWORD";
    o.unmarked = 1;
    return ut_pg_connect_opts(&o);
}

/* begin, put each of n rows, commit: the first failure's code. */
static inline int ut_pg_put_rows(struct pg_session *s, const struct table *tb,
                                 const struct value *rows, int n,
                                 struct co_err *err)
{
    int rc = pg_batch_begin(s, err);

    for (int i = 0; i < n && rc == 0; i++)
        rc = pg_batch_put_row(s, tb, rows + (size_t)i * (size_t)tb->ncols,
                              err);
    if (rc < 0) {
        pg_batch_rollback(s);
        return rc;
    }
    return pg_batch_commit(s, err);
}

/* A table described by columns: name, logical type, key position. */
struct ut_col {
    const char *name;
    enum ltype lt;
    int pk;
};

#define UT_MAX_COLS 16
struct ut_table {
    struct table t;
    struct column cols[UT_MAX_COLS];
    int key[UT_MAX_COLS];
};

static inline void ut_table_init(struct ut_table *u, const char *name,
                                 const struct ut_col *cols, int n)
{
    memset(u, 0, sizeof *u);
    u->t.name = (char *)name;
    u->t.ncols = n;
    u->t.cols = u->cols;
    u->t.key = u->key;
    for (int i = 0; i < n; i++) {
        u->cols[i].name = (char *)cols[i].name;
        u->cols[i].pk = cols[i].pk;
        u->cols[i].map.lt = cols[i].lt;
        if (cols[i].pk) {
            u->key[cols[i].pk - 1] = i;
            u->t.nkey++;
        }
    }
}

#endif

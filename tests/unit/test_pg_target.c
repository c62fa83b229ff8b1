/*
 * test_pg_target.c — the PostgreSQL target driver (target_postgresql_ops)
 * as the stages use it: PostgreSQL types and logical types both ways; the
 * runbook's target section and what it says in PostgreSQL's words; values
 * read back from the server hashing equal to the source's through the
 * codec (booleans, numerics, timestamps, bytea, -0.0, Infinity); the
 * runbook's schema made by create_database; a chunk copied again after a
 * crash replacing the rows it left instead of failing on them; the
 * identity sequence set past the copied keys.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "lib/runbook.h"
#include "sync/codec.h"
#include "sync/drivers/registry.h"
#include "tests/unit/unit_util.h"
#include "tests/unit/pg_util.h"

#define SCHEMA "t_target"

static const struct target_ops *ops(void)
{
    return driver_target("postgresql");
}

static void types_both_ways(void **state)
{
    static const struct {
        struct logical_type lt;
        const char *type;
    } cases[] = {
        {{.kind = LK_INTEGER, .int_min = -5, .int_max = 200}, "smallint"},
        {{.kind = LK_INTEGER, .int_min = 0, .int_max = 70000}, "integer"},
        {{.kind = LK_INTEGER, .int_min = INT64_MIN, .int_max = INT64_MAX},
         "bigint"},
        {{.kind = LK_BOOLEAN}, "boolean"},
        {{.kind = LK_DECIMAL, .precision = 12, .scale = 2}, "numeric(12,2)"},
        {{.kind = LK_FLOAT}, "double precision"},
        {{.kind = LK_TEXT, .max_chars = 40}, "varchar(40)"},
        {{.kind = LK_TEXT}, "text"},
        {{.kind = LK_TEXT, .max_chars = 20000000}, "text"},
        {{.kind = LK_BYTES}, "bytea"},
        {{.kind = LK_DATE}, "date"},
        {{.kind = LK_TIME, .fsp = 6}, "time(6)"},
        {{.kind = LK_DATETIME, .fsp = 6}, "timestamp(6)"},
        {{.kind = LK_DATETIME, .fsp = 6, .zone = LZONE_UTC},
         "timestamptz(6)"},
        {{.kind = LK_JSON}, "jsonb"},
        {{.kind = LK_UUID}, "uuid"},
    };
    struct logical_type back;
    char out[96];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ops()->render_type(&cases[i].lt, out, sizeof out);
        assert_string_equal(out, cases[i].type);
        assert_int_equal(ops()->logical_of_type(out, &back), 0);
        assert_int_equal(back.kind, cases[i].lt.kind);
        if (back.kind == LK_DATETIME)
            assert_int_equal(back.zone, cases[i].lt.zone);
    }
    /* PostgreSQL's other spellings, any case */
    assert_int_equal(ops()->logical_of_type("TIMESTAMP(3) WITH TIME ZONE",
                                            &back), 0);
    assert_int_equal(back.kind, LK_DATETIME);
    assert_int_equal(back.zone, LZONE_UTC);
    assert_int_equal(back.fsp, 3);
    assert_int_equal(ops()->logical_of_type("timestamp without time zone",
                                            &back), 0);
    assert_int_equal(back.zone, LZONE_NAIVE);
    assert_int_equal(ops()->logical_of_type("character varying(191)", &back),
                     0);
    assert_int_equal(back.max_chars, 191);
    assert_int_equal(ops()->logical_of_type("int4", &back), 0);
    assert_int_equal((int64_t)back.int_max, INT32_MAX);
    assert_int_equal(ops()->logical_of_type("citext", &back), 0);
    assert_int_equal(back.kind, LK_TEXT);
    /* MySQL's words are not PostgreSQL's */
    assert_int_equal(ops()->logical_of_type("LONGTEXT", &back), -1);
    assert_int_equal(ops()->logical_of_type("TINYINT(1)", &back), -1);
    assert_int_equal(ops()->logical_of_type("money", &back), -1);
    assert_string_equal(ops()->types->generated_key, "identity");
    assert_int_equal(ops()->types->holds_infinity, 1);
}

#define RUNBOOK_HEAD                                                        \
    "{\"version\":1,\"name\":\"t\",\"state_dir\":\"s\","                    \
    "\"source\":{\"type\":\"sqlite\",\"path\":\"a.sqlite3\"},"
#define PG_TARGET                                                           \
    "\"target\":{\"type\":\"postgresql\",\"host\":\"/run/pg\","              \
    "\"database\":\"shop\""

/* The runbook read and judged by the driver: 0 or the error's code, its
 * message in err. */
static int judge(const char *text, struct runbook **out, struct co_err *err)
{
    int rc = runbook_parse(text, strlen(text), "/base", out, err);

    if (rc == 0)
        rc = ops()->check_runbook(*out, err);
    return rc;
}

static void runbook_in_postgresqls_words(void **state)
{
    struct runbook *rb = NULL;
    struct co_err err = {0};

    (void)state;
    assert_int_equal(judge(RUNBOOK_HEAD PG_TARGET "}}", &rb, &err), 0);
    assert_string_equal(rb->target.type, "postgresql");
    assert_int_equal(rb->target.port, 5432);
    assert_string_equal(rb->target.schema, "public");
    assert_string_equal(rb->schema.collation, "default");
    assert_int_equal(rb->target.tls.mode, TLS_PREFERRED);
    runbook_free(rb);
    rb = NULL;

    assert_int_equal(judge(RUNBOOK_HEAD PG_TARGET ",\"schema\":\"app\","
                           "\"tls\":{\"mode\":\"require\"}},\"schema\":{"
                           "\"collation\":\"en_US.utf8\",\"overrides\":{"
                           "\"o.total\":\"numeric(12,2)\",\"o.at\":"
                           "\"timestamp(6) with time zone\"}}}", &rb, &err),
                     0);
    assert_string_equal(rb->target.schema, "app");
    assert_int_equal(rb->target.tls.mode, TLS_REQUIRED);
    runbook_free(rb);
    rb = NULL;

    /* an override that is not a type, or smuggles SQL */
    assert_int_equal(judge(RUNBOOK_HEAD PG_TARGET "},\"schema\":{"
                           "\"overrides\":{\"o.total\":\"text); DROP TABLE "
                           "x; --\"}}}", &rb, &err), CO_ERUNBOOK);
    assert_contains(err.msg, "schema.overrides.o.total");
    assert_contains(err.msg, "PostgreSQL column type");
    runbook_free(rb);
    rb = NULL;
    assert_int_equal(judge(RUNBOOK_HEAD PG_TARGET "},\"schema\":{"
                           "\"overrides\":{\"o.total\":\"DECIMAL(12,2) "
                           "UNSIGNED\"}}}", &rb, &err), CO_ERUNBOOK);
    runbook_free(rb);
    rb = NULL;
    assert_int_equal(judge(RUNBOOK_HEAD PG_TARGET "},\"schema\":{"
                           "\"collation\":\"x\\\" COLLATE \\\"C\"}}", &rb,
                           &err), CO_ERUNBOOK);
    assert_contains(err.msg, "schema.collation");
    runbook_free(rb);
    rb = NULL;
    /* MySQL's keys and words are not PostgreSQL's */
    assert_int_not_equal(judge(RUNBOOK_HEAD PG_TARGET ",\"socket\":\"/x\"}}",
                               &rb, &err), 0);
    assert_contains(err.msg, "target.socket");
    runbook_free(rb);
    rb = NULL;
    assert_int_not_equal(judge(RUNBOOK_HEAD PG_TARGET ",\"tls\":{\"mode\":"
                               "\"verify_identity\"}}}", &rb, &err), 0);
    assert_contains(err.msg, "target.tls.mode");
    runbook_free(rb);
    rb = NULL;
    assert_int_not_equal(judge(RUNBOOK_HEAD PG_TARGET ",\"tls\":{\"mode\":"
                               "\"verify_full\"}}}", &rb, &err), 0);
    assert_contains(err.msg, "target.tls.ca");
    runbook_free(rb);
}

/* ---- against the server -------------------------------------------------- */

static struct runbook *server_runbook(const char *schema)
{
    char text[1024];
    struct runbook *rb = NULL;
    struct co_err err = {0};

    if (!getenv("CUTOVER_TEST_PG_HOST"))
        fail_msg("no test PostgreSQL: run through tests/lib/run_unit.sh");
    snprintf(text, sizeof text, RUNBOOK_HEAD
             "\"target\":{\"type\":\"postgresql\",\"host\":\"%s\","
             "\"port\":%s,\"user\":\"%s\",\"password_env\":"
             "\"CUTOVER_TEST_PG_PASSWORD\",\"database\":\"%s\","
             "\"schema\":\"%s\",\"tls\":{\"mode\":\"disable\"}}}",
             getenv("CUTOVER_TEST_PG_HOST"), getenv("CUTOVER_TEST_PG_PORT"),
             getenv("CUTOVER_TEST_PG_USER"), getenv("CUTOVER_TEST_PG_DB"),
             schema);
    if (runbook_parse_needing(text, strlen(text), "/base", RB_SECRETS_ALL,
                              &rb, &err) < 0 ||
        ops()->check_runbook(rb, &err) < 0)
        fail_msg("runbook: %s", err.msg);
    return rb;
}

static struct target *open_target(const struct runbook *rb)
{
    struct target *t = NULL;
    struct co_err err = {0};

    if (ops()->open(rb, &rb->target, &t, &err) < 0)
        fail_msg("open: %s", err.msg);
    return t;
}

/* A fresh schema each run: drop what an earlier run left. */
static void drop_schema(void)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);

    ut_pg_exec(s, "DROP SCHEMA " SCHEMA " CASCADE");
    pg_close(s);
}

static const struct ut_col cols[] = {
    {"id", LT_INT, 1},        {"flag", LT_BOOL, 0},   {"price", LT_DECIMAL, 0},
    {"at", LT_DATETIME, 0},   {"utc", LT_DATETIME, 0}, {"tm", LT_TIME, 0},
    {"img", LT_BLOB, 0},      {"r", LT_DOUBLE, 0},    {"name", LT_TEXT, 0},
};
#define NCOLS ((int)(sizeof cols / sizeof cols[0]))
static const char *const types[NCOLS] = {
    "bigint", "boolean", "numeric(12,2)", "timestamp(6)", "timestamptz(6)",
    "time(6)", "bytea", "double precision", "varchar(40)"};

static void shop_table(struct ut_table *u)
{
    ut_table_init(u, "Order", cols, NCOLS);
    for (int i = 0; i < NCOLS; i++)
        snprintf(u->cols[i].map.type, sizeof u->cols[i].map.type, "%s",
                 types[i]);
    u->cols[2].map.precision = 12;
    u->cols[2].map.scale = 2;
    u->cols[0].map.autoinc = 1;
    u->cols[0].notnull = 1;
}

/* Rows pulled from an array, as the copier pulls them from the source. */
struct pull_rows {
    const struct value *rows;
    int n, next;
};

static int pull(void *arg, const struct value **row, struct co_err *err)
{
    struct pull_rows *p = arg;

    (void)err;
    if (p->next == p->n)
        return 0;
    *row = p->rows + (size_t)p->next++ * NCOLS;
    return 1;
}

static struct value vreal(double r) { return (struct value){V_REAL, 0, r, NULL, 0}; }
static struct value vblob(const char *p, size_t n)
{
    return (struct value){V_BLOB, 0, 0, (const unsigned char *)p, n};
}

/* Row id in the codec's target form: the values the copy writes. */
static void make_row(struct value *v, int64_t id, const char *name)
{
    static const double reals[] = {-0.0, INFINITY, -INFINITY, 0.1};

    v[0] = ut_vint(id);
    v[1] = ut_vint(id % 2);
    v[2] = ut_vtext(id % 3 ? "12.50" : "0.00");
    v[3] = ut_vtext("2024-01-01 10:00:00.500000");
    v[4] = ut_vtext(id % 2 ? "2024-06-30 23:59:59.000001"
                           : "1999-12-31 00:00:00.000000");
    v[5] = ut_vtext("10:00:00.500000");
    v[6] = id % 4 ? vblob("\x00\xff\\\t", 4) : ut_vnull();
    v[7] = vreal(reals[id % 4]);
    v[8] = ut_vtext(name);
}

/* Each row of the table hashes as `want` does, through the codec. */
static void assert_rows_hash_equal(struct target *t, const struct table *tb,
                                   const struct value *want, int n)
{
    struct target_cursor *c = NULL;
    const struct value *row;
    struct co_err err = {0};
    struct scratch a = {0}, b = {0};
    int got = 0;

    assert_int_equal(ops()->scan(t, tb, NULL, 0, &c, &err), 0);
    while (ops()->cursor_next(c, &row, &err) == 1) {
        const struct value *w = want + (size_t)got * NCOLS;
        assert_true(got < n);
        for (int i = 0; i < NCOLS; i++) {
            scratch_reset(&a);
            scratch_reset(&b);
            if (codec_canon(&tb->cols[i], &w[i], &a, &err) < 0 ||
                codec_canon(&tb->cols[i], &row[i], &b, &err) < 0)
                fail_msg("row %d column %s: %s", got, tb->cols[i].name,
                         err.msg);
            if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
                fail_msg("row %d column %s hashes differently", got,
                         tb->cols[i].name);
        }
        got++;
    }
    ops()->cursor_close(c);
    assert_int_equal(got, n);
    scratch_free(&a);
    scratch_free(&b);
}

static void schema_made_and_rows_read_back_equal(void **state)
{
    struct runbook *rb = server_runbook(SCHEMA);
    struct target *t;
    struct ut_table u;
    struct value rows[6][NCOLS];
    struct pull_rows p = {&rows[0][0], 6, 0};
    struct load_result res;
    struct co_err err = {0};
    int exists;
    int64_t n;

    (void)state;
    drop_schema();
    t = open_target(rb);
    /* no schema yet: plan hears so, run makes it */
    assert_int_equal(ops()->database_exists(t, &exists, &err), 0);
    assert_int_equal(exists, 0);
    assert_int_equal(ops()->create_database(t, rb, &err), 0);
    assert_int_equal(ops()->database_exists(t, &exists, &err), 0);
    assert_int_equal(exists, 1);
    shop_table(&u);
    assert_int_equal(ops()->create_table(t, rb, &u.t, &err), 0);
    assert_int_equal(ops()->table_state(t, &u.t, &exists, &n, &err), 0);
    assert_int_equal(exists, 1);
    assert_int_equal(n, 0);
    for (int i = 0; i < 6; i++)
        make_row(rows[i], i + 1, "row");
    assert_int_equal(ops()->load(t, &u.t, pull, &p, FAST_PATH_IF_ALLOWED,
                                 &res, &err), 0);
    assert_int_equal(res.rows, 6);
    assert_int_equal(res.used_fast_path, 1);
    assert_rows_hash_equal(t, &u.t, &rows[0][0], 6);
    ops()->close(t);
    runbook_free(rb);
}

static void chunk_copied_again_replaces_its_rows(void **state)
{
    struct runbook *rb = server_runbook(SCHEMA);
    struct target *t;
    struct ut_table u;
    struct value rows[30][NCOLS];
    struct load_result res;
    struct co_err err = {0};
    struct pull_rows p;
    char sql[200];
    struct pg_session *s;

    (void)state;
    t = open_target(rb);
    shop_table(&u);
    /* rows 1..6 are there (the test before); the next range's row 100 too */
    make_row(rows[29], 100, "next range");
    p = (struct pull_rows){&rows[29][0], 1, 0};
    assert_int_equal(ops()->load(t, &u.t, pull, &p, FAST_PATH_IF_ALLOWED,
                                 &res, &err), 0);
    /* a chunk 4..20 whose first part committed before a crash: copied
     * again with newer values, it replaces them */
    for (int i = 0; i < 17; i++)
        make_row(rows[i], i + 4, "again");
    p = (struct pull_rows){&rows[0][0], 17, 0};
    assert_int_equal(ops()->load(t, &u.t, pull, &p, FAST_PATH_IF_ALLOWED,
                                 &res, &err), 0);
    assert_int_equal(res.rows, 17);
    {
        struct pg_options o = ut_pg_options(SCHEMA);
        s = ut_pg_connect_opts(&o);
    }
    snprintf(sql, sizeof sql, "SELECT count(*) || ' ' || count(*) FILTER "
             "(WHERE name = 'again') FROM \"Order\"");
    assert_string_equal(ut_pg_value(s, sql), "21 17");
    /* the identity continues past the copied keys and the source's
     * counter, whichever is higher */
    assert_int_equal(ops()->set_next_id(t, &u.t, 150, &err), 0);
    assert_string_equal(ut_pg_value(s, "INSERT INTO \"Order\" (flag, price, "
                                       "at, utc, tm, r, name) VALUES (true, "
                                       "1, now(), now(), now(), 1, 'app') "
                                       "RETURNING id"), "150");
    pg_close(s);
    ops()->close(t);
    runbook_free(rb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(types_both_ways),
        cmocka_unit_test(runbook_in_postgresqls_words),
        cmocka_unit_test(schema_made_and_rows_read_back_equal),
        cmocka_unit_test(chunk_copied_again_replaces_its_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

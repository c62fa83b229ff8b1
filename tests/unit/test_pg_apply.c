/*
 * test_pg_apply.c — the applier's statements of the PostgreSQL driver on a
 * real server: the upsert and delete text for awkward names, a batch that
 * inserts, updates and deletes by a composite key and commits as one, a
 * rolled-back batch that leaves nothing, values passed as parameters
 * arriving exactly (bytea with all 256 byte values, int64 extremes,
 * doubles, backslashes), an identity GENERATED ALWAYS key taking the
 * source's values, and refusals naming the table, the key and SQLSTATE —
 * read from the pipeline at the commit or deep in a long batch, sticking
 * until the rollback, with statements prepared again after a failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/unit_util.h"
#include "tests/unit/pg_util.h"

#define SCHEMA "t_apply"

/* key (region text, "order" bigint), then payload */
static const struct ut_col cols[] = {
    {"region", LT_TEXT, 1}, {"order", LT_INT, 2}, {"note", LT_TEXT, 0},
    {"blob", LT_BLOB, 0},   {"amount", LT_DOUBLE, 0},
};
#define NCOLS 5
static const char *const ddl =
    "CREATE TABLE \"select\" (region text, \"order\" bigint, note text, "
    "blob bytea, amount double precision, PRIMARY KEY (region, \"order\"))";

/* A session in a fresh schema with table "select" (described in u), and
 * `extra` SQL run after its creation (NULL: none). */
static struct pg_session *with_select(struct ut_table *u, const char *extra)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);

    ut_table_init(u, "select", cols, NCOLS);
    ut_pg_exec(s, ddl);
    if (extra)
        ut_pg_exec(s, extra);
    return s;
}

/* A row of "select" with no blob and no amount. */
static void select_row(struct value row[NCOLS], const char *region,
                       int64_t order, const char *note)
{
    row[0] = ut_vtext(region);
    row[1] = ut_vint(order);
    row[2] = ut_vtext(note);
    row[3] = row[4] = ut_vnull();
}

static const char *rows_in_select(struct pg_session *s)
{
    return ut_pg_value(s, "SELECT count(*) FROM \"select\"");
}

static void builds_upsert_and_delete(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct ut_table u;
    struct sbuf b;
    static const struct ut_col keys_only[] = {{"a", LT_INT, 1},
                                              {"b", LT_INT, 2}};

    (void)state;
    ut_table_init(&u, "select", cols, NCOLS);
    sbuf_init(&b);
    pg_upsert_sql(s, &b, &u.t);
    assert_string_equal(sbuf_str(&b),
        "INSERT INTO \"t_apply\".\"select\" (\"region\", \"order\", \"note\", "
        "\"blob\", \"amount\") OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, "
        "$4, $5) ON CONFLICT (\"region\", \"order\") DO UPDATE SET \"note\" "
        "= EXCLUDED.\"note\", \"blob\" = EXCLUDED.\"blob\", \"amount\" = "
        "EXCLUDED.\"amount\"");
    sbuf_reset(&b);
    pg_delete_sql(s, &b, &u.t);
    assert_string_equal(sbuf_str(&b), "DELETE FROM \"t_apply\".\"select\" "
                        "WHERE \"region\" = $1 AND \"order\" = $2");
    sbuf_reset(&b);
    ut_table_init(&u, "link", keys_only, 2);
    pg_upsert_sql(s, &b, &u.t);
    assert_contains(sbuf_str(&b), "ON CONFLICT (\"a\", \"b\") DO NOTHING");
    sbuf_free(&b);
    pg_close(s);
}

static void batch_upserts_and_deletes(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct co_err err = {0};
    struct ut_table u;
    unsigned char bytes[256];
    struct value row[NCOLS];
    struct tuple key = {0};

    (void)state;
    for (int i = 0; i < 256; i++)
        bytes[i] = (unsigned char)(255 - i);
    ut_table_init(&u, "select", cols, NCOLS);
    ut_pg_exec(s, ddl);
    assert_int_equal(pg_batch_begin(s, &err), 0);
    for (int i = 0; i < 5; i++) {
        row[0] = ut_vtext(i % 2 ? "eu\\west" : "us\teast");
        row[1] = ut_vint(i == 4 ? INT64_MIN : i);
        row[2] = ut_vtext("first");
        row[3] = (struct value){V_BLOB, 0, 0, bytes, 256};
        row[4] = (struct value){V_REAL, 0, 0.1 * i, NULL, 0};
        assert_int_equal(pg_batch_put_row(s, &u.t, row, &err), 0);
    }
    /* the same key again: an update */
    row[0] = ut_vtext("us\teast");
    row[1] = ut_vint(0);
    row[2] = ut_vtext("back\\slash 'quoted' €");
    row[3] = ut_vnull();
    assert_int_equal(pg_batch_put_row(s, &u.t, row, &err), 0);
    /* and a delete of key (eu\west, 1) */
    row[0] = ut_vtext("eu\\west");
    row[1] = ut_vint(1);
    assert_int_equal(table_row_key(&u.t, row, &key), 0);
    assert_int_equal(pg_batch_delete_key(s, &u.t, &key, &err), 0);
    tuple_free(&key);
    /* nothing is visible to another session before the commit */
    {
        struct pg_options o = ut_pg_options(SCHEMA);
        struct pg_session *other = ut_pg_connect_opts(&o);
        assert_string_equal(ut_pg_value(other, "SELECT count(*) FROM "
                                               "\"select\""), "0");
        assert_int_equal(pg_batch_commit(s, &err), 0);
        assert_string_equal(ut_pg_value(other, "SELECT count(*) FROM "
                                               "\"select\""), "4");
        pg_close(other);
    }
    assert_string_equal(ut_pg_value(s, "SELECT note || '|' || (blob IS NULL) "
                                       "FROM \"select\" WHERE region = E'us"
                                       "\\teast' AND \"order\" = 0"),
                        "back\\slash 'quoted' €|true");
    assert_string_equal(ut_pg_value(s, "SELECT count(*) FROM \"select\" WHERE "
                                       "blob = (SELECT string_agg(set_byte("
                                       "'\\x00'::bytea, 0, 255 - g), '' "
                                       "ORDER BY g) FROM generate_series(0, "
                                       "255) g)"), "3");
    assert_string_equal(ut_pg_value(s, "SELECT amount FROM \"select\" WHERE "
                                       "\"order\" = -9223372036854775808"),
                        "0.4");
    assert_string_equal(ut_pg_value(s, "SELECT amount = 0.1::float8 * 3 FROM "
                                       "\"select\" WHERE \"order\" = 3"),
                        "t");
    /* one upsert and one delete statement were prepared, once */
    assert_string_equal(ut_pg_value(s, "SELECT count(*) FROM "
                                       "pg_prepared_statements"), "2");
    pg_close(s);
}

static void rolled_back_batch_leaves_nothing(void **state)
{
    struct co_err err = {0};
    struct ut_table u;
    struct value row[NCOLS];
    struct pg_session *s = with_select(&u, NULL);

    (void)state;
    select_row(row, "x", 1, "n");
    assert_int_equal(pg_batch_begin(s, &err), 0);
    assert_int_equal(pg_batch_put_row(s, &u.t, row, &err), 0);
    pg_batch_rollback(s);
    assert_string_equal(rows_in_select(s), "0");
    pg_close(s);
}

static void identity_always_takes_source_keys(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct co_err err = {0};
    struct ut_table u;
    static const struct ut_col c2[] = {{"id", LT_INT, 1}, {"name", LT_TEXT, 0}};
    struct value row[2] = {ut_vint(41), ut_vtext("kept")};

    (void)state;
    ut_table_init(&u, "framework_made", c2, 2);
    ut_pg_exec(s, "CREATE TABLE framework_made (id bigint GENERATED ALWAYS "
                  "AS IDENTITY PRIMARY KEY, name text)");
    assert_int_equal(ut_pg_put_rows(s, &u.t, row, 1, &err), 0);
    assert_string_equal(ut_pg_value(s, "SELECT id || name FROM "
                                       "framework_made"), "41kept");
    pg_close(s);
}

static void refusals_name_table_and_key(void **state)
{
    struct co_err err = {0};
    struct ut_table u;
    struct value row[NCOLS];
    struct pg_session *s = with_select(&u, "ALTER TABLE \"select\" ADD "
                                           "CHECK (note <> 'bad')");

    (void)state;
    select_row(row, "eu", 7, "n");
    /* sent in the pipeline: the refusal is read at the commit */
    assert_int_equal(pg_batch_begin(s, &err), 0);
    row[2] = ut_vtext("bad");
    assert_int_equal(pg_batch_put_row(s, &u.t, row, &err), 0);
    assert_int_equal(pg_batch_commit(s, &err), CO_ETARGET);
    assert_contains(err.msg, "key (region, order)=('eu', 7): target ");
    assert_contains(err.msg, "writing a row of table select: new row for "
                             "relation \"select\" violates check constraint");
    assert_contains(err.msg, "[SQLSTATE 23514]");

    /* refused before it is sent: at once */
    assert_int_equal(pg_batch_begin(s, &err), 0);
    row[2] = (struct value){V_TEXT, 0, 0, (const unsigned char *)"a\0b", 3};
    assert_int_equal(pg_batch_put_row(s, &u.t, row, &err), CO_EDATA);
    assert_contains(err.msg, "table select: column note: the value holds a "
                             "NUL byte");
    assert_contains(err.msg, "key (region, order)=('eu', 7)");
    pg_batch_rollback(s);
    assert_string_equal(rows_in_select(s), "0");
    pg_close(s);
}

/* A refusal deep in a batch longer than the pipeline is read by a later
 * put, names its own row, sticks until the rollback, and nothing of the
 * batch stays; the session then takes the next batch. */
static void refusal_in_a_long_batch(void **state)
{
    struct co_err err = {0};
    struct ut_table u;
    struct value row[NCOLS];
    int i, rc = 0;
    struct pg_session *s = with_select(&u, "ALTER TABLE \"select\" ADD "
                                           "CHECK (\"order\" <> 700)");

    (void)state;
    select_row(row, "eu", 0, "n");
    assert_int_equal(pg_batch_begin(s, &err), 0);
    for (i = 0; i < 3 * PG_PIPELINE_DEPTH && rc == 0; i++) {
        row[1] = ut_vint(i);
        rc = pg_batch_put_row(s, &u.t, row, &err);
    }
    assert_int_equal(rc, CO_ETARGET);
    /* read by a later put: the one that read the pipeline's answers */
    assert_true(i > 701 && i <= 2 * PG_PIPELINE_DEPTH);
    assert_contains(err.msg, "key (region, order)=('eu', 700): ");
    assert_contains(err.msg, "[SQLSTATE 23514]");
    memset(&err, 0, sizeof err);
    assert_int_equal(pg_batch_put_row(s, &u.t, row, &err), CO_ETARGET);
    assert_int_equal(pg_batch_commit(s, &err), CO_ETARGET);
    assert_string_equal(rows_in_select(s), "0");
    row[1] = ut_vint(1);
    assert_int_equal(ut_pg_put_rows(s, &u.t, row, 1, &err), 0);
    assert_string_equal(rows_in_select(s), "1");
    pg_close(s);
}

/* A table missing at the first batch: its statements fail to prepare,
 * and are prepared again once it exists. */
static void statements_prepared_again_after_failure(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct co_err err = {0};
    struct ut_table u;
    struct value row[NCOLS];

    (void)state;
    ut_table_init(&u, "select", cols, NCOLS);
    select_row(row, "eu", 1, "n");
    assert_int_equal(ut_pg_put_rows(s, &u.t, row, 1, &err), CO_ETARGET);
    assert_contains(err.msg, "preparing the statements of table select: "
                             "relation \"t_apply.select\" does not exist");
    ut_pg_exec(s, ddl);
    assert_int_equal(ut_pg_put_rows(s, &u.t, row, 1, &err), 0);
    assert_string_equal(rows_in_select(s), "1");
    pg_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builds_upsert_and_delete),
        cmocka_unit_test(batch_upserts_and_deletes),
        cmocka_unit_test(rolled_back_batch_leaves_nothing),
        cmocka_unit_test(identity_always_takes_source_keys),
        cmocka_unit_test(refusals_name_table_and_key),
        cmocka_unit_test(refusal_in_a_long_batch),
        cmocka_unit_test(statements_prepared_again_after_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_pg_read.c — reading rows back from a real PostgreSQL: key-range
 * scans on a composite key in key order with open and closed bounds and a
 * limit, streamed over a table far larger than one result buffer, a cursor
 * closed half-way leaving the session usable, rows fetched by exact key
 * (text keys with backslashes and unicode, bytea decoded), missing keys,
 * counts; a key range cleared and copied again in one transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/unit_util.h"
#include "tests/unit/pg_util.h"

#define SCHEMA "t_read"

static const struct ut_col grid_cols[] = {
    {"a", LT_INT, 1}, {"b", LT_INT, 2}, {"v", LT_DOUBLE, 0}};
static const struct ut_col text_cols[] = {
    {"name", LT_TEXT, 1}, {"data", LT_BLOB, 0}, {"ok", LT_BOOL, 0}};


static struct tuple key2(int64_t a, int64_t b)
{
    struct tuple t = {0};
    struct value v[2] = {ut_vint(a), ut_vint(b)};

    tuple_set(&t, v, 2);
    return t;
}

/* "a.b a.b ..." of a scan */
static const char *scan_text(struct pg_session *s, const struct table *tb,
                             const struct tuple *lo, const struct tuple *hi,
                             int64_t limit)
{
    static char out[4096];
    struct pg_cursor *c;
    const struct value *row;
    struct co_err err = {0};
    size_t o = 0;
    int rc;

    out[0] = '\0';
    if (pg_scan(s, tb, lo, hi, limit, &c, &err) < 0)
        fail_msg("%s", err.msg);
    while ((rc = pg_cursor_next(c, &row, &err)) == 1)
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%lld.%lld",
                              o ? " " : "", (long long)row[0].i,
                              (long long)row[1].i);
    if (rc < 0)
        fail_msg("%s", err.msg);
    pg_cursor_close(c);
    return out;
}

static void scans_follow_key_order(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct ut_table u;
    struct tuple lo = key2(1, 2), hi = key2(2, 1), none = {0};

    (void)state;
    ut_table_init(&u, "grid", grid_cols, 3);
    ut_pg_exec(s, "CREATE TABLE grid (a bigint, b bigint, v float8, "
                  "PRIMARY KEY (a, b)); INSERT INTO grid SELECT a, b, a + b "
                  "/ 10.0 FROM generate_series(0, 3) a, generate_series(0, "
                  "2) b");
    /* (1.2, 2.1]: the lower bound is left out, the upper one kept */
    assert_string_equal(scan_text(s, &u.t, &lo, &hi, 0), "2.0 2.1");
    assert_string_equal(scan_text(s, &u.t, NULL, &lo, 0),
                        "0.0 0.1 0.2 1.0 1.1 1.2");
    assert_string_equal(scan_text(s, &u.t, &hi, NULL, 2), "2.2 3.0");
    assert_string_equal(scan_text(s, &u.t, &none, &none, 1), "0.0");
    tuple_free(&lo);
    tuple_free(&hi);
    pg_close(s);
}

static void big_scans_stream_and_stop_early(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct ut_table u;
    struct pg_cursor *c;
    const struct value *row;
    struct co_err err = {0};
    int64_t n = 0, sum = 0, count = 0;
    int rc;

    (void)state;
    ut_table_init(&u, "grid", grid_cols, 3);
    ut_pg_exec(s, "CREATE TABLE grid (a bigint, b bigint, v float8, "
                  "PRIMARY KEY (a, b)); INSERT INTO grid SELECT g, -g, g * "
                  "0.5 FROM generate_series(1, 300000) g");
    assert_int_equal(pg_scan(s, &u.t, NULL, NULL, 0, &c, &err), 0);
    while ((rc = pg_cursor_next(c, &row, &err)) == 1) {
        assert_int_equal(row[0].i, n + 1);
        assert_true(row[2].type == V_REAL && row[2].r == (double)row[0].i / 2);
        sum += row[0].i;
        n++;
    }
    assert_int_equal(rc, 0);
    pg_cursor_close(c);
    assert_int_equal(n, 300000);
    assert_int_equal(sum, (int64_t)300000 * 300001 / 2);
    /* closed after 10 rows: the rest is cancelled, the session goes on */
    assert_int_equal(pg_scan(s, &u.t, NULL, NULL, 0, &c, &err), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(pg_cursor_next(c, &row, &err), 1);
    pg_cursor_close(c);
    assert_int_equal(pg_count_rows(s, &u.t, &count, &err), 0);
    assert_int_equal(count, 300000);
    pg_close(s);
}

static void fetch_by_exact_key(void **state)
{
    static const char *const names[] = {"back\\slash", "naïve 表 €", "tab\t",
                                        "'q'", "Case", "case"};
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct ut_table u;
    struct co_err err = {0};
    const struct value *row;
    struct tuple key = {0};

    (void)state;
    ut_table_init(&u, "named", text_cols, 3);
    ut_pg_exec(s, "CREATE TABLE named (name text PRIMARY KEY, data bytea, "
                  "ok boolean)");
    for (int i = 0; i < 6; i++) {
        struct value v[3] = {ut_vtext(names[i]),
                             {V_BLOB, 0, 0, (const unsigned char *)"\0\xff\\",
                              (size_t)(i % 4)}, ut_vint(i % 2)};
        assert_int_equal(pg_batch_begin(s, &err), 0);
        assert_int_equal(pg_batch_put_row(s, &u.t, v, &err), 0);
        assert_int_equal(pg_batch_commit(s, &err), 0);
    }
    for (int i = 0; i < 6; i++) {
        struct value k = ut_vtext(names[i]);
        tuple_set(&key, &k, 1);
        assert_int_equal(pg_fetch(s, &u.t, &key, &row, &err), 1);
        assert_int_equal(row[0].n, strlen(names[i]));
        assert_memory_equal(row[0].p, names[i], row[0].n);
        assert_int_equal(row[1].type, V_BLOB);
        assert_int_equal(row[1].n, (size_t)(i % 4));
        assert_memory_equal(row[1].p, "\0\xff\\", row[1].n);
        assert_int_equal(row[2].i, i % 2);
    }
    {
        struct value k = ut_vtext("CASE");
        tuple_set(&key, &k, 1);
    }
    assert_int_equal(pg_fetch(s, &u.t, &key, &row, &err), 0);
    tuple_free(&key);
    pg_close(s);
}

/* A chunk copied before a crash is copied again: cleared and copied in
 * one transaction, the rows outside its range untouched. */
static void chunk_copied_again(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct ut_table u;
    struct tuple lo = key2(1, 2), hi = key2(2, 1);
    struct co_err err = {0};
    struct pg_copy c;
    int64_t deleted = -1, stored = -1;

    (void)state;
    ut_table_init(&u, "grid", grid_cols, 3);
    ut_pg_exec(s, "CREATE TABLE grid (a bigint, b bigint, v float8, "
                  "PRIMARY KEY (a, b)); INSERT INTO grid SELECT a, b, 0 FROM "
                  "generate_series(0, 3) a, generate_series(0, 2) b");
    ut_pg_exec(s, "BEGIN");
    assert_int_equal(pg_clear_range(s, &u.t, &lo, &hi, &deleted, &err), 0);
    assert_int_equal(deleted, 2);   /* (2,0) and (2,1) */
    assert_int_equal(pg_copy_begin(s, &u.t, &c, &err), 0);
    for (int b = 0; b < 2; b++) {
        struct value row[3] = {ut_vint(2), ut_vint(b),
                               {V_REAL, 0, 7.5, NULL, 0}};
        assert_int_equal(pg_copy_put(&c, row, &err), 0);
    }
    assert_int_equal(pg_copy_end(&c, &stored, &err), 0);
    ut_pg_exec(s, "COMMIT");
    assert_int_equal(stored, 2);
    assert_string_equal(ut_pg_value(s, "SELECT string_agg(a || '.' || b || "
                                       "'=' || v, ' ' ORDER BY a, b) FROM "
                                       "grid WHERE a = 2 OR (a = 1 AND b = "
                                       "2)"), "1.2=0 2.0=7.5 2.1=7.5 2.2=0");
    /* open bounds clear everything */
    assert_int_equal(pg_clear_range(s, &u.t, NULL, NULL, &deleted, &err), 0);
    assert_int_equal(deleted, 12);
    tuple_free(&lo);
    tuple_free(&hi);
    pg_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scans_follow_key_order),
        cmocka_unit_test(big_scans_stream_and_stop_early),
        cmocka_unit_test(fetch_by_exact_key),
        cmocka_unit_test(chunk_copied_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

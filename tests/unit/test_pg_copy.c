/*
 * test_pg_copy.c — COPY ... FROM STDIN of the PostgreSQL driver on a real
 * server: every kind of value goes in through our text-format escaping and
 * comes back exactly (read in PostgreSQL's text output and parsed by
 * pg_value_parse): NULL, empty text, backslashes, tabs, newlines, carriage
 * returns, a lone \. and \N, unicode, bytea with all 256 byte values, the
 * int64 extremes, decimals, doubles. Text holding a NUL is refused naming
 * table and column, and nothing of that COPY stays; a server-side refusal
 * keeps its SQLSTATE; many rows stream through the flush buffer. A MySQL
 * SET's members kept as text[] go in as arrays and come back as the SET's
 * text; arrays a SET cannot hold are refused by name.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/unit_util.h"
#include "tests/unit/pg_util.h"

#define SCHEMA "t_copy"

static const struct ut_col cols[] = {
    {"id", LT_INT, 1},     {"i", LT_INT, 0},        {"r", LT_DOUBLE, 0},
    {"d", LT_DECIMAL, 0},  {"t", LT_TEXT, 0},       {"b", LT_BLOB, 0},
    {"flag", LT_BOOL, 0},  {"at", LT_DATETIME, 0},  {"day", LT_DATE, 0},
    {"tm", LT_TIME, 0},
};
#define NCOLS ((int)(sizeof cols / sizeof cols[0]))
static const char *const ddl =
    "CREATE TABLE \"all types\" (id bigint PRIMARY KEY, i bigint, "
    "r double precision, d numeric(40,10), t text, b bytea, flag boolean, "
    "at timestamp(6), day date, tm time(6))";

static struct value vreal(double r) { return (struct value){V_REAL, 0, r, NULL, 0}; }

static unsigned char all_bytes[256];
static const char *const texts[] = {
    "", "plain", "back\\slash\\", "tab\there", "new\nline", "cr\rlf\r\n",
    "\\.", "\\N", "\\", "€ 𝄞 naïve 表", "'quotes' \"double\"", "\t\n\\\r",
    "trailing space ", NULL};

#define NROWS 24
static struct value rows[NROWS][NCOLS];

static void make_rows(void)
{
    static const double reals[] = {0.1, -0.0, 1e308, -2.5e-310, 1.0 / 3,
                                   INFINITY, -INFINITY, 123456789.125};
    static const char *const decimals[] = {
        "0.0000000000", "-0.0000000001", "123456789012345678901234567890."
        "0123456789", "1.5000000000"};
    for (int r = 0; r < 256; r++)
        all_bytes[r] = (unsigned char)r;
    for (int r = 0; r < NROWS; r++) {
        struct value *v = rows[r];
        int nt = (int)(sizeof texts / sizeof texts[0]) - 1;
        v[0] = ut_vint(r + 1);
        v[1] = ut_vint(r == 0 ? INT64_MIN : r == 1 ? INT64_MAX : r * 1000 - 7);
        v[2] = vreal(reals[r % 8]);
        v[3] = ut_vtext(decimals[r % 4]);
        v[4] = ut_vtext(texts[r % nt]);
        v[5] = (struct value){V_BLOB, 0, 0, all_bytes + (r % 2 ? 0 : 128),
                              r % 2 ? 256 : (size_t)(r % 128)};
        v[6] = ut_vint(r % 2);
        v[7] = ut_vtext(r % 3 ? "2024-02-29 23:59:59.123456"
                           : "1970-01-01 00:00:00");
        v[8] = ut_vtext("0001-01-01");
        v[9] = ut_vtext("23:59:59.999999");
        if (r == NROWS - 1)     /* every column NULL but the key */
            for (int c = 1; c < NCOLS; c++)
                v[c] = ut_vnull();
    }
}

static void assert_value_equal(const struct value *want,
                               const struct value *got, const char *col,
                               int row)
{
    char a[200], b[200];

    value_format(want, a, sizeof a);
    value_format(got, b, sizeof b);
    if (want->type == V_REAL && got->type == V_REAL &&
        memcmp(&want->r, &got->r, sizeof want->r) == 0)
        return;
    if (want->type == V_TEXT && got->type == V_TEXT && want->n == got->n &&
        memcmp(want->p, got->p, want->n) == 0)
        return;
    if (want->type == V_BLOB && got->type == V_BLOB && want->n == got->n &&
        memcmp(want->p, got->p, want->n) == 0)
        return;
    if (want->type == got->type && (want->type == V_NULL ||
        (want->type == V_INT && want->i == got->i)))
        return;
    fail_msg("row %d column %s: wrote %s, read back %s", row, col, a, b);
}

/* Read every column of row `id` back and compare. */
static void check_row(struct pg_session *s, const struct table *tb,
                      const struct value *want)
{
    char sql[200], text[8192];
    struct co_err err = {0};

    for (int c = 1; c < tb->ncols; c++) {
        struct value got;
        int isnull;
        snprintf(sql, sizeof sql, "SELECT \"%s\" IS NULL, \"%s\" FROM "
                 "\"all types\" WHERE id = %lld", tb->cols[c].name,
                 tb->cols[c].name, (long long)want[0].i);
        isnull = strcmp(ut_pg_value(s, sql), "t") == 0;
        snprintf(sql, sizeof sql, "SELECT \"%s\" FROM \"all types\" WHERE "
                 "id = %lld", tb->cols[c].name, (long long)want[0].i);
        snprintf(text, sizeof text, "%s", ut_pg_value(s, sql));
        assert_int_equal(pg_value_parse(&tb->cols[c], text, strlen(text),
                                        isnull, &got, &err), 0);
        assert_value_equal(&want[c], &got, tb->cols[c].name, (int)want[0].i);
    }
}

static void encodes_the_text_format(void **state)
{
    struct ut_table u;
    struct value row[NCOLS];
    struct co_err err = {0};
    struct sbuf out;
    unsigned char bytes[] = {0, '\\', 0xff};

    (void)state;
    ut_table_init(&u, "all types", cols, NCOLS);
    row[0] = ut_vint(-5);
    row[1] = ut_vnull();
    row[2] = vreal(0.1);
    row[3] = ut_vtext("1.50");
    row[4] = ut_vtext("a\\b\tc\nd\re");
    row[5] = (struct value){V_BLOB, 0, 0, bytes, 3};
    row[6] = ut_vint(1);
    row[7] = ut_vtext("2024-01-02 03:04:05");
    row[8] = ut_vtext("");
    row[9] = vreal(NAN);
    sbuf_init(&out);
    assert_int_equal(pg_copy_encode_row(&out, &u.t, row, &err), 0);
    assert_string_equal(sbuf_str(&out), "-5\t\\N\t0.1\t1.50\ta\\\\b\\tc\\nd\\re"
                        "\t\\\\x005cff\tt\t2024-01-02 03:04:05\t\tNaN\n");
    sbuf_free(&out);
}

static void every_value_round_trips(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct ut_table u;
    struct pg_copy c;
    struct co_err err = {0};
    int64_t stored = -1;

    (void)state;
    make_rows();
    ut_table_init(&u, "all types", cols, NCOLS);
    ut_pg_exec(s, ddl);
    assert_int_equal(pg_copy_begin(s, &u.t, &c, &err), 0);
    for (int r = 0; r < NROWS; r++)
        assert_int_equal(pg_copy_put(&c, rows[r], &err), 0);
    if (pg_copy_end(&c, &stored, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(stored, NROWS);
    for (int r = 0; r < NROWS; r++)
        check_row(s, &u.t, rows[r]);
    /* a text that is "\N" (rows 8 and 21) is a text, not NULL */
    assert_string_equal(ut_pg_value(s, "SELECT string_agg(id::text, ',') "
                                       "FROM \"all types\" WHERE t = "
                                       "E'\\\\N'"), "8,21");
    pg_close(s);
}

static void text_with_nul_is_refused_by_name(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct ut_table u;
    struct pg_copy c;
    struct co_err err = {0};
    struct value row[NCOLS];

    (void)state;
    make_rows();
    ut_table_init(&u, "all types", cols, NCOLS);
    ut_pg_exec(s, ddl);
    memcpy(row, rows[2], sizeof row);
    row[4] = (struct value){V_TEXT, 0, 0, (const unsigned char *)"a\0b", 3};
    assert_int_equal(pg_copy_begin(s, &u.t, &c, &err), 0);
    assert_int_equal(pg_copy_put(&c, rows[0], &err), 0);
    assert_int_equal(pg_copy_put(&c, row, &err), CO_EDATA);
    assert_string_equal(err.msg, "table all types: column t: the value holds "
                        "a NUL byte, which PostgreSQL cannot store in text "
                        "(map the column to bytea, or clean the value)");
    pg_copy_abort(&c, "a row cannot be stored");
    assert_string_equal(ut_pg_value(s, "SELECT count(*) FROM \"all types\""),
                        "0");
    /* the session is usable again */
    assert_string_equal(ut_pg_value(s, "SELECT 1"), "1");
    pg_close(s);
}

static void server_refusals_keep_sqlstate(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct ut_table u;
    struct pg_copy c;
    struct co_err err = {0};
    struct value row[NCOLS];
    static const unsigned char bad_utf8[] = {'o', 'k', 0xc3, 0x28};

    (void)state;
    make_rows();
    ut_table_init(&u, "all types", cols, NCOLS);
    ut_pg_exec(s, ddl);
    assert_int_equal(pg_copy_begin(s, &u.t, &c, &err), 0);
    assert_int_equal(pg_copy_put(&c, rows[0], &err), 0);
    assert_int_equal(pg_copy_put(&c, rows[0], &err), 0);
    assert_int_equal(pg_copy_end(&c, NULL, &err), CO_ETARGET);
    assert_contains(err.msg, "COPY into table all types: duplicate key");
    assert_contains(err.msg, "[SQLSTATE 23505]");
    assert_contains(err.msg, "line 2");

    memcpy(row, rows[1], sizeof row);
    row[4] = (struct value){V_TEXT, 0, 0, bad_utf8, sizeof bad_utf8};
    assert_int_equal(pg_copy_begin(s, &u.t, &c, &err), 0);
    assert_int_equal(pg_copy_put(&c, row, &err), 0);
    assert_int_equal(pg_copy_end(&c, NULL, &err), CO_EDATA);
    assert_contains(err.msg, "invalid byte sequence for encoding \"UTF8\"");
    assert_contains(err.msg, "[SQLSTATE 22021]");
    assert_string_equal(ut_pg_value(s, "SELECT count(*) FROM \"all types\""),
                        "0");
    pg_close(s);
}

static void many_rows_stream_through(void **state)
{
    enum { N = 200000 };
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct ut_table u;
    struct pg_copy c;
    struct co_err err = {0};
    int64_t stored = 0;
    char text[64];

    (void)state;
    make_rows();
    ut_table_init(&u, "all types", cols, NCOLS);
    ut_pg_exec(s, ddl);
    assert_int_equal(pg_copy_begin(s, &u.t, &c, &err), 0);
    for (int r = 0; r < N; r++) {
        struct value row[NCOLS];
        memcpy(row, rows[r % (NROWS - 1)], sizeof row);
        row[0] = ut_vint(r);
        snprintf(text, sizeof text, "row\t%d\n", r);
        row[4] = ut_vtext(text);
        assert_int_equal(pg_copy_put(&c, row, &err), 0);
        assert_true(c.buf.len < PG_COPY_FLUSH);
    }
    assert_int_equal(pg_copy_end(&c, &stored, &err), 0);
    assert_int_equal(stored, N);
    assert_string_equal(ut_pg_value(s, "SELECT count(*) FILTER (WHERE t = "
                                       "E'row\\t' || id || E'\\n') FROM "
                                       "\"all types\""), "200000");
    pg_close(s);
}

/* The source's keys go into an identity column, GENERATED ALWAYS too. */
static void copy_fills_identity_columns(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    static const struct ut_col c2[] = {{"id", LT_INT, 1}, {"n", LT_TEXT, 0}};
    struct value row[2] = {ut_vint(41), ut_vtext("kept")};
    struct ut_table u;
    struct pg_copy c;
    struct co_err err = {0};

    (void)state;
    ut_table_init(&u, "ids", c2, 2);
    ut_pg_exec(s, "CREATE TABLE ids (id bigint GENERATED ALWAYS AS IDENTITY "
                  "PRIMARY KEY, n text)");
    assert_int_equal(pg_copy_begin(s, &u.t, &c, &err), 0);
    assert_int_equal(pg_copy_put(&c, row, &err), 0);
    assert_int_equal(pg_copy_end(&c, NULL, &err), 0);
    assert_string_equal(ut_pg_value(s, "SELECT id || n FROM ids"), "41kept");
    pg_close(s);
}

/* A MySQL SET overridden to text[]: "a,b" is the array {a,b} in
 * PostgreSQL, and reads back as "a,b"; members with spaces, quotes,
 * backslashes, braces or the word NULL stay members. */
static void set_members_round_trip_as_text_array(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    static const struct ut_col c2[] = {{"id", LT_INT, 1},
                                       {"tags", LT_TEXT, 0}};
    static const char *const sets[] = {
        "", "red", "red,green", "sp ace,q\"uote,back\\slash,{brace}",
        "NULL,null", NULL};
    struct ut_table u;
    struct pg_copy c;
    struct co_err err = {0};
    char sql[160], text[8192];
    int n = (int)(sizeof sets / sizeof sets[0]);

    (void)state;
    ut_table_init(&u, "sets", c2, 2);
    u.t.cols[1].map.logical.kind = LK_SET;
    u.t.cols[1].map.logical.array = 1;
    ut_pg_exec(s, "CREATE TABLE sets (id bigint PRIMARY KEY, tags text[])");
    assert_int_equal(pg_copy_begin(s, &u.t, &c, &err), 0);
    for (int r = 0; r < n; r++) {
        struct value row[2] = {ut_vint(r),
                               sets[r] ? ut_vtext(sets[r]) : ut_vnull()};
        assert_int_equal(pg_copy_put(&c, row, &err), 0);
    }
    if (pg_copy_end(&c, NULL, &err) < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(ut_pg_value(s, "SELECT string_agg(id || ':' || "
                                       "coalesce(cardinality(tags), -1), ' ' "
                                       "ORDER BY id) FROM sets"),
                        "0:0 1:1 2:2 3:4 4:2 5:-1");
    assert_string_equal(ut_pg_value(s, "SELECT tags[2] || tags[3] || tags[4] "
                                       "FROM sets WHERE id = 3"),
                        "q\"uoteback\\slash{brace}");
    assert_string_equal(ut_pg_value(s, "SELECT tags[1] IS NOT NULL FROM sets "
                                       "WHERE id = 4"), "t");
    for (int r = 0; r < n; r++) {
        struct value got;
        snprintf(sql, sizeof sql, "SELECT coalesce(tags::text, 'null') FROM "
                 "sets WHERE id = %d", r);
        snprintf(text, sizeof text, "%s", ut_pg_value(s, sql));
        assert_int_equal(pg_value_parse(&u.t.cols[1], text, strlen(text),
                                        sets[r] == NULL, &got, &err), 0);
        assert_value_equal(sets[r] ? &(struct value){V_TEXT, 0, 0,
                               (const unsigned char *)sets[r],
                               strlen(sets[r])} : &(struct value){V_NULL},
                           &got, "tags", r);
    }
    /* what PostgreSQL's application may write that no SET can hold */
    static const char *const bad[] = {"{a,NULL}", "{\"a,b\"}", "{{a},{b}}",
                                      "[1:1]={a}", "{,}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct value got;
        snprintf(text, sizeof text, "%s", bad[i]);
        assert_int_equal(pg_value_parse(&u.t.cols[1], text, strlen(text), 0,
                                        &got, &err), CO_EDATA);
        assert_contains(err.msg, "column tags: cannot read");
        assert_contains(err.msg, bad[i]);
    }
    pg_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encodes_the_text_format),
        cmocka_unit_test(every_value_round_trips),
        cmocka_unit_test(text_with_nul_is_refused_by_name),
        cmocka_unit_test(server_refusals_keep_sqlstate),
        cmocka_unit_test(many_rows_stream_through),
        cmocka_unit_test(copy_fills_identity_columns),
        cmocka_unit_test(set_members_round_trip_as_text_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_sbuf.c — lib/sbuf.c: the growable buffer that builds SQL text and
 * data streams, and identifier quoting (the only thing standing between a
 * table name and SQL injection in generated DDL/DML).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/sbuf.h"
#include "tests/unit/unit_util.h"

/* sbuf_ident(name, q) as a string compared with want. */
static void expect_ident(const char *name, char q, const char *want)
{
    struct sbuf b;

    sbuf_init(&b);
    sbuf_ident(&b, name, q);
    assert_string_equal(sbuf_str(&b), want);
    assert_int_equal(b.len, strlen(want));
    sbuf_free(&b);
}

/* ---- identifier quoting ------------------------------------------------- */

static void mysql_identifiers_double_backticks(void **state)
{
    (void)state;
    expect_ident("orders", '`', "`orders`");
    expect_ident("we`ird", '`', "`we``ird`");
    expect_ident("``", '`', "``````");
    expect_ident("x`; DROP TABLE t; --", '`', "`x``; DROP TABLE t; --`");
}

static void sqlite_identifiers_double_double_quotes(void **state)
{
    (void)state;
    expect_ident("orders", '"', "\"orders\"");
    expect_ident("a\"b", '"', "\"a\"\"b\"");
    expect_ident("\"", '"', "\"\"\"\"");
    expect_ident("x\"; DROP TABLE t; --", '"',
                 "\"x\"\"; DROP TABLE t; --\"");
}

static void only_the_chosen_quote_is_doubled(void **state)
{
    (void)state;
    expect_ident("a\"b`c", '`', "`a\"b``c`");
    expect_ident("a\"b`c", '"', "\"a\"\"b`c\"");
    expect_ident("it's", '`', "`it's`");
}

static void empty_and_unicode_identifiers_are_quoted_as_is(void **state)
{
    (void)state;
    expect_ident("", '`', "``");
    expect_ident("caf\xc3\xa9 \xf0\x9f\x98\x80", '`',
                 "`caf\xc3\xa9 \xf0\x9f\x98\x80`");
}

static void ident_list_is_comma_separated(void **state)
{
    static const char *const names[] = {"id", "b`c", "x\"y"};
    struct sbuf b;

    (void)state;
    sbuf_init(&b);
    sbuf_ident_list(&b, names, 3, '`');
    assert_string_equal(sbuf_str(&b), "`id`, `b``c`, `x\"y`");
    sbuf_reset(&b);
    sbuf_ident_list(&b, names, 3, '"');
    assert_string_equal(sbuf_str(&b), "\"id\", \"b`c\", \"x\"\"y\"");
    sbuf_reset(&b);
    sbuf_ident_list(&b, names, 0, '`');
    assert_string_equal(sbuf_str(&b), "");
    assert_int_equal(b.len, 0);
    sbuf_free(&b);
}

/* ---- formatting and appends ------------------------------------------------ */

static void appends_and_formats_build_one_string(void **state)
{
    struct sbuf b;

    (void)state;
    sbuf_init(&b);
    sbuf_adds(&b, "SELECT ");
    sbuf_ident(&b, "id", '`');
    sbuf_addf(&b, " FROM %s WHERE %s > %d LIMIT %zu", "`t`", "`id`", -5,
              (size_t)1000);
    sbuf_addc(&b, ';');
    assert_string_equal(sbuf_str(&b),
                        "SELECT `id` FROM `t` WHERE `id` > -5 LIMIT 1000;");
    assert_int_equal(b.len, strlen(sbuf_str(&b)));
    sbuf_free(&b);
}

static void addf_longer_than_the_first_allocation(void **state)
{
    char big[1000], want[1010];
    struct sbuf b;

    (void)state;
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(want, sizeof want, "<%s>", big);
    sbuf_init(&b);
    sbuf_addf(&b, "<%s>", big);
    assert_int_equal(b.len, 1001);
    assert_string_equal(sbuf_str(&b), want);
    sbuf_free(&b);
}

static void binary_bytes_with_nul_are_kept(void **state)
{
    struct sbuf b;

    (void)state;
    sbuf_init(&b);
    sbuf_add(&b, "a\0b\tc\n", 6);
    sbuf_addc(&b, '\0');
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.p, "a\0b\tc\n\0", 7);
    assert_int_equal(b.p[7], '\0');
    sbuf_free(&b);
}

static void empty_buffer_reads_as_empty_string(void **state)
{
    struct sbuf b;

    (void)state;
    sbuf_init(&b);
    assert_non_null(sbuf_str(&b));
    assert_string_equal(sbuf_str(&b), "");
    sbuf_addf(&b, "%s", "");
    assert_int_equal(b.len, 0);
    assert_string_equal(sbuf_str(&b), "");
    sbuf_free(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

/* ---- growth --------------------------------------------------------------- */

static void grows_one_byte_at_a_time_to_a_megabyte(void **state)
{
    enum { N = 1 << 20 };
    struct sbuf b;

    (void)state;
    sbuf_init(&b);
    for (size_t i = 0; i < N; i++)
        sbuf_addc(&b, (char)('a' + i % 26));
    assert_int_equal(b.oom, 0);
    assert_int_equal(b.len, N);
    assert_true(b.cap >= N + 1);
    assert_true(b.cap <= 2 * (N + 1));          /* doubling, not per byte */
    assert_int_equal(b.p[N], '\0');
    for (size_t i = 0; i < N; i += 4099)
        if (b.p[i] != (char)('a' + i % 26))
            fail_msg("byte %zu is '%c'", i, b.p[i]);
    sbuf_free(&b);
}

static void reserve_makes_room_without_changing_content(void **state)
{
    struct sbuf b;
    char *before;

    (void)state;
    sbuf_init(&b);
    sbuf_adds(&b, "keep");
    assert_int_equal(sbuf_reserve(&b, 5000), 0);
    assert_true(b.cap >= 4 + 5000 + 1);
    assert_int_equal(b.len, 4);
    assert_string_equal(sbuf_str(&b), "keep");
    before = b.p;
    sbuf_add(&b, "0123456789", 10);             /* fits: no realloc */
    assert_ptr_equal(b.p, before);
    assert_string_equal(sbuf_str(&b), "keep0123456789");
    sbuf_free(&b);
}

static void reset_empties_but_keeps_the_allocation(void **state)
{
    struct sbuf b;
    size_t cap;

    (void)state;
    sbuf_init(&b);
    sbuf_adds(&b, "some text");
    cap = b.cap;
    sbuf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap);
    assert_string_equal(sbuf_str(&b), "");
    sbuf_adds(&b, "new");
    assert_string_equal(sbuf_str(&b), "new");
    sbuf_free(&b);
}

static void after_oom_appends_are_no_ops_until_reset(void **state)
{
    struct sbuf b;

    (void)state;
    sbuf_init(&b);
    sbuf_adds(&b, "ok");
    b.oom = 1;                 /* as after a failed realloc */
    sbuf_adds(&b, "lost");
    sbuf_addc(&b, 'x');
    sbuf_addf(&b, "%d", 42);
    sbuf_ident(&b, "t", '`');
    assert_int_equal(sbuf_reserve(&b, 1), -1);
    assert_int_equal(b.len, 2);
    assert_string_equal(sbuf_str(&b), "ok");
    sbuf_reset(&b);
    assert_int_equal(b.oom, 0);
    sbuf_adds(&b, "again");
    assert_string_equal(sbuf_str(&b), "again");
    sbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mysql_identifiers_double_backticks),
        cmocka_unit_test(sqlite_identifiers_double_double_quotes),
        cmocka_unit_test(only_the_chosen_quote_is_doubled),
        cmocka_unit_test(empty_and_unicode_identifiers_are_quoted_as_is),
        cmocka_unit_test(ident_list_is_comma_separated),
        cmocka_unit_test(appends_and_formats_build_one_string),
        cmocka_unit_test(addf_longer_than_the_first_allocation),
        cmocka_unit_test(binary_bytes_with_nul_are_kept),
        cmocka_unit_test(empty_buffer_reads_as_empty_string),
        cmocka_unit_test(grows_one_byte_at_a_time_to_a_megabyte),
        cmocka_unit_test(reserve_makes_room_without_changing_content),
        cmocka_unit_test(reset_empties_but_keeps_the_allocation),
        cmocka_unit_test(after_oom_appends_are_no_ops_until_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_typemap_existing.c — sync/typemap_existing.c: in schema.mode
 * "existing" each column's map is the target column's type, and a census
 * that does not fit it gives a blocking note naming the rows (a row
 * filter) — and a census that fits gives none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/runbook.h"
#include "tests/unit/unit_runbook.h"
#include "sync/census.h"
#include "sync/target_schema.h"
#include "sync/typemap.h"
#include "tests/unit/unit_util.h"

#define MAX_NOTES 16

static struct runbook *rb(void)
{
    static const char text[] =
        "{\"version\":1,\"name\":\"t\",\"state_dir\":\"s\","
        "\"source\":{\"type\":\"sqlite\",\"path\":\"a.sqlite3\"},"
        "\"target\":{\"type\":\"mysql\",\"socket\":\"/tmp/x.sock\","
        "\"database\":\"d\"},\"schema\":{\"mode\":\"existing\"}}";
    return ut_runbook(text, "/base");
}

/* One source column `c` (declared `decl`) against one target column. */
struct one {
    struct runbook *rb;
    struct column col;
    struct table t;
    struct tcolumn tc;
    struct ttable tt;
    struct col_census census;
    struct map_note notes[MAX_NOTES];
    int n;
};

static void setup_one(struct one *o, const char *decl, struct tcolumn tc)
{
    memset(o, 0, sizeof *o);
    o->rb = rb();
    o->col.name = "c";
    o->col.decl = (char *)decl;
    o->t.name = "t";
    o->t.cols = &o->col;
    o->t.ncols = 1;
    o->tc = tc;
    o->tc.name = "c";
    o->tt.cols = &o->tc;
    o->tt.ncols = 1;
}

static void decide(struct one *o)
{
    o->n = typemap_existing(o->rb, &o->t, &o->census, &o->tt, o->notes,
                            MAX_NOTES);
}

static void done(struct one *o)
{
    runbook_free(o->rb);
}

/* The one note with this code; its filter kind checked. */
static const struct map_note *note_of(struct one *o, const char *code,
                                      enum row_filter_kind kind)
{
    for (int i = 0; i < o->n; i++)
        if (o->notes[i].code && strcmp(o->notes[i].code, code) == 0) {
            assert_int_equal(o->notes[i].severity, MAP_BLOCKING);
            assert_true(o->notes[i].has_rows);
            assert_int_equal(o->notes[i].rows.kind, kind);
            return &o->notes[i];
        }
    fail_msg("no note %s among %d", code, o->n);
    return NULL;
}

static void test_integer_ranges(void **state)
{
    struct one o;
    const struct map_note *n;

    (void)state;
    /* Django's PositiveSmallIntegerField: smallint(5) unsigned */
    setup_one(&o, "smallint unsigned", (struct tcolumn){
        .type = "smallint(5) unsigned", .kind = TK_INT, .is_unsigned = 1,
        .int_min = 0, .int_max = 65535, .notnull = 1});
    o.census = (struct col_census){.rows = 3, .ints = 3, .int_min = 1,
                                   .int_max = 65535};
    decide(&o);
    assert_int_equal(o.n, 0);
    assert_int_equal(o.col.map.lt, LT_INT);
    assert_string_equal(o.col.map.type, "smallint(5) unsigned");

    o.census.int_max = 70000;
    decide(&o);
    n = note_of(&o, "out_of_range", RF_INT_OUTSIDE);
    assert_int_equal(n->rows.lo, 0);
    assert_int_equal(n->rows.hi, 65535);
    assert_contains(n->message, "up to 70000");

    o.census.int_max = 5;
    o.census.int_min = -1;
    decide(&o);
    assert_contains(note_of(&o, "out_of_range", RF_INT_OUTSIDE)->message,
                    "down to -1");
    done(&o);

    /* a boolean: tinyint(1); a text among the integers */
    setup_one(&o, "bool", (struct tcolumn){
        .type = "tinyint(1)", .kind = TK_INT, .is_bool = 1, .int_min = -128,
        .int_max = 127});
    o.census = (struct col_census){.rows = 2, .ints = 1, .texts = 1};
    decide(&o);
    assert_int_equal(o.col.map.lt, LT_BOOL);
    note_of(&o, "not_integer", RF_NOT_INTEGER);
    done(&o);
}

static void test_decimal_digits(void **state)
{
    struct one o;

    (void)state;
    setup_one(&o, "decimal", (struct tcolumn){
        .type = "decimal(10,2)", .kind = TK_DECIMAL, .precision = 10,
        .scale = 2});
    o.census = (struct col_census){.rows = 2, .reals = 2,
                                   .max_int_digits = 8, .max_frac_digits = 2};
    decide(&o);
    assert_int_equal(o.n, 0);
    assert_int_equal(o.col.map.lt, LT_DECIMAL);
    assert_int_equal(o.col.map.precision, 10);
    assert_int_equal(o.col.map.scale, 2);

    o.census.max_int_digits = 9;
    o.census.max_frac_digits = 3;
    decide(&o);
    assert_int_equal(note_of(&o, "integer_digits", RF_INTEGER_OVER)->rows.arg,
                     8);
    assert_int_equal(note_of(&o, "fraction_digits",
                             RF_FRACTION_OVER)->rows.arg, 2);
    done(&o);
}

static void test_text_lengths_and_charsets(void **state)
{
    struct one o;

    (void)state;
    /* characters for VARCHAR */
    setup_one(&o, "varchar(200)", (struct tcolumn){
        .type = "varchar(200)", .kind = TK_CHAR, .max_chars = 200,
        .charset = "utf8mb4", .collation = "utf8mb4_general_ci",
        .char_bytes = 4});
    o.census = (struct col_census){.rows = 1, .texts = 1, .max_chars = 200,
                                   .max_bytes = 400, .mb4_texts = 1};
    decide(&o);
    assert_int_equal(o.n, 0);
    assert_string_equal(o.col.map.collation, "utf8mb4_general_ci");
    o.census.max_chars = 233;
    decide(&o);
    assert_int_equal(note_of(&o, "too_long", RF_LONGER_THAN)->rows.arg, 200);
    done(&o);

    /* bytes for TEXT; 4-byte characters into utf8mb3 */
    setup_one(&o, "text", (struct tcolumn){
        .type = "text", .kind = TK_TEXT, .max_bytes = 65535,
        .charset = "utf8mb3", .collation = "utf8mb3_unicode_ci",
        .char_bytes = 3});
    o.census = (struct col_census){.rows = 1, .texts = 1, .max_chars = 35000,
                                   .max_bytes = 70000, .mb4_texts = 1};
    decide(&o);
    assert_int_equal(note_of(&o, "too_long", RF_BYTES_OVER)->rows.arg, 65535);
    note_of(&o, "mb4", RF_MB4);
    done(&o);
}

static void test_enum_asks_the_rows(void **state)
{
    char *members[] = {"pending", "paid"};
    struct one o;
    const struct map_note *n;

    (void)state;
    setup_one(&o, "varchar", (struct tcolumn){
        .type = "enum('pending','paid')", .kind = TK_ENUM, .values = members,
        .nvalues = 2, .charset = "utf8mb4",
        .collation = "utf8mb4_unicode_ci", .char_bytes = 4});
    o.census = (struct col_census){.rows = 1, .texts = 1, .max_chars = 7};
    decide(&o);
    /* the census cannot say: the note stands only if rows match */
    n = note_of(&o, "not_member", RF_NOT_MEMBER);
    assert_true(n->only_if_rows);
    assert_int_equal(n->rows.nmembers, 2);
    assert_string_equal(n->rows.members[1], "paid");
    assert_int_equal(n->rows.arg, 0);
    done(&o);
}

static void test_datetimes(void **state)
{
    struct one o;
    const struct map_note *n;

    (void)state;
    setup_one(&o, "datetime", (struct tcolumn){
        .type = "timestamp", .kind = TK_TIMESTAMP, .fsp = 0,
        .dt_min = "1970-01-01 00:00:01.000000",
        .dt_max = "2038-01-19 03:14:07.999999"});
    o.census = (struct col_census){
        .rows = 2, .texts = 2,
        .dt = {.space = 2, .min = "2024-01-01 00:00:00.000000",
               .max = "2030-01-01 00:00:00.000000"}};
    decide(&o);
    assert_int_equal(o.n, 0);
    assert_int_equal(o.col.map.lt, LT_DATETIME);

    o.census.dt.max_fraction_digits = 1;
    snprintf(o.census.dt.max, sizeof o.census.dt.max, "%s",
             "2040-01-01 00:00:00.000000");
    decide(&o);
    assert_int_equal(note_of(&o, "fraction_digits",
                             RF_DT_FRACTION_OVER)->rows.lo, 0);
    n = note_of(&o, "out_of_range", RF_DT_OUTSIDE);
    assert_string_equal(n->rows.text2, "2038-01-19 03:14:07.999999");
    done(&o);

    /* a DATE takes no time of day */
    setup_one(&o, "date", (struct tcolumn){
        .type = "date", .kind = TK_DATE, .dt_min = "1000-01-01 00:00:00.000000",
        .dt_max = "9999-12-31 23:59:59.999999"});
    o.census = (struct col_census){
        .rows = 1, .texts = 1,
        .dt = {.space = 1, .nonzero_time = 1,
               .min = "2024-01-01 10:00:00.000000",
               .max = "2024-01-01 10:00:00.000000"}};
    decide(&o);
    assert_int_equal(o.col.map.lt, LT_DATE);
    note_of(&o, "time_dropped", RF_DATE_WITH_TIME);
    done(&o);
}

static void test_column_missing_or_not_null(void **state)
{
    struct one o;

    (void)state;
    setup_one(&o, "varchar(40)", (struct tcolumn){
        .type = "varchar(40)", .kind = TK_CHAR, .max_chars = 40});
    o.tc.name = "other";
    decide(&o);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.notes[0].code, "missing_column");
    assert_int_equal(o.notes[0].severity, MAP_BLOCKING);
    done(&o);

    setup_one(&o, "varchar", (struct tcolumn){
        .type = "varchar(40)", .kind = TK_CHAR, .max_chars = 40,
        .notnull = 1});
    o.census = (struct col_census){.rows = 3, .nulls = 2, .texts = 1,
                                   .max_chars = 3};
    decide(&o);
    note_of(&o, "null", RF_NULL);
    done(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integer_ranges),
        cmocka_unit_test(test_decimal_digits),
        cmocka_unit_test(test_text_lengths_and_charsets),
        cmocka_unit_test(test_enum_asks_the_rows),
        cmocka_unit_test(test_datetimes),
        cmocka_unit_test(test_column_missing_or_not_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

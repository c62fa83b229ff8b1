/*
 * test_ltype.c — lib/ltype.c (a logical type's JSON form, as checkpoints
 * keep it) and the MySQL target's reader of its own column types
 * (sync/drivers/mysql/ltype.c), which fills the logical types of a
 * format 1 checkpoint, and renders from the logical types plan decides.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/ltype.h"
#include "sync/drivers/registry.h"
#include "sync/drivers/target.h"

struct mysql_case {
    const char *type;
    struct logical_type want;
};

static const struct mysql_case mysql_cases[] = {
    {"TINYINT(1)", {.kind = LK_BOOLEAN}},
    {"TINYINT", {.kind = LK_INTEGER, .int_min = -128, .int_max = 127}},
    {"smallint unsigned", {.kind = LK_INTEGER, .is_unsigned = 1,
                           .int_max = 65535}},
    {"MEDIUMINT", {.kind = LK_INTEGER, .int_min = -8388608,
                   .int_max = 8388607}},
    {"int(11)", {.kind = LK_INTEGER, .int_min = INT32_MIN,
                 .int_max = INT32_MAX}},
    {"BIGINT", {.kind = LK_INTEGER, .int_min = INT64_MIN,
                .int_max = INT64_MAX}},
    {"BIGINT UNSIGNED", {.kind = LK_INTEGER, .is_unsigned = 1,
                         .int_max = UINT64_MAX}},
    {"DECIMAL(65,30)", {.kind = LK_DECIMAL, .precision = 65, .scale = 30}},
    {"DOUBLE", {.kind = LK_FLOAT}},
    {"VARCHAR(255)", {.kind = LK_TEXT, .max_chars = 255}},
    {"LONGTEXT", {.kind = LK_TEXT}},
    {"TEXT", {.kind = LK_TEXT, .max_chars = 65535}},
    {"VARBINARY(16)", {.kind = LK_BYTES, .max_bytes = 16}},
    {"LONGBLOB", {.kind = LK_BYTES}},
    {"DATE", {.kind = LK_DATE}},
    {"DATETIME(6)", {.kind = LK_DATETIME, .fsp = 6}},
    {"TIMESTAMP", {.kind = LK_DATETIME, .zone = LZONE_UTC}},
    {"TIME(6)", {.kind = LK_TIME, .fsp = 6}},
    {"JSON", {.kind = LK_JSON}},
    {"ENUM('a','b')", {.kind = LK_ENUM}},
    {"SET('a','b')", {.kind = LK_SET}},
};

static void expect_same(const struct logical_type *got,
                        const struct logical_type *want, const char *what)
{
    if (got->kind != want->kind || got->is_unsigned != want->is_unsigned ||
        got->int_min != want->int_min || got->int_max != want->int_max ||
        got->precision != want->precision || got->scale != want->scale ||
        got->max_chars != want->max_chars ||
        got->max_bytes != want->max_bytes || got->fsp != want->fsp ||
        got->zone != want->zone || got->array != want->array ||
        strcmp(got->charset, want->charset) ||
        strcmp(got->collation, want->collation))
        fail_msg("%s: read as %s, expected %s", what, lkind_name(got->kind),
                 lkind_name(want->kind));
}

static void mysql_types_read_as_their_logical_types(void **state)
{
    int (*read)(const char *, struct logical_type *) =
        driver_target("mysql")->logical_of_type;

    (void)state;
    for (size_t i = 0; i < sizeof mysql_cases / sizeof *mysql_cases; i++) {
        struct logical_type got;
        if (read(mysql_cases[i].type, &got) != 0)
            fail_msg("%s: not read", mysql_cases[i].type);
        expect_same(&got, &mysql_cases[i].want, mysql_cases[i].type);
    }
}

static void unknown_mysql_type_is_not_guessed(void **state)
{
    struct logical_type got;

    (void)state;
    assert_int_equal(driver_target("mysql")->logical_of_type("GEOMETRY",
                                                             &got), -1);
}

/* What plan decides, rendered by the MySQL target and read back by it,
 * is what was decided: the checkpoint keeps the same logical type either
 * way. Only the types plan decides render to themselves: a TEXT read
 * back (65535 bytes) renders as VARCHAR. */
static void mysql_renders_what_it_reads(void **state)
{
    static const char *const decided[] = {
        "TINYINT(1)", "TINYINT", "SMALLINT", "MEDIUMINT", "int", "BIGINT",
        "BIGINT UNSIGNED", "DECIMAL(65,30)", "DOUBLE", "VARCHAR(255)",
        "LONGTEXT", "VARBINARY(16)", "LONGBLOB", "DATE", "DATETIME(6)",
        "TIMESTAMP", "TIME(6)", "JSON",
    };
    const struct target_ops *my = driver_target("mysql");

    (void)state;
    for (size_t i = 0; i < sizeof decided / sizeof *decided; i++) {
        struct logical_type lt, back;
        char type[96];
        assert_int_equal(my->logical_of_type(decided[i], &lt), 0);
        my->render_type(&lt, type, sizeof type);
        if (my->logical_of_type(type, &back) != 0)
            fail_msg("%s rendered as %s, not read back", decided[i], type);
        expect_same(&back, &lt, decided[i]);
    }
}

/* Single precision is told apart: an override to FLOAT would round. */
static void mysql_float_width(void **state)
{
    struct logical_type lt;

    (void)state;
    assert_int_equal(driver_target("mysql")->logical_of_type("FLOAT", &lt), 0);
    assert_int_equal(lt.float_bits, 24);
    assert_int_equal(driver_target("mysql")->logical_of_type("DOUBLE", &lt),
                     0);
    assert_int_equal(lt.float_bits, 0);
}

/* A MySQL SET's members as PostgreSQL's text[]: the one array a
 * PostgreSQL target reads, renders and keeps. */
static void postgresql_text_array_is_a_set(void **state)
{
    const struct target_ops *pg = driver_target("postgresql");
    struct logical_type lt, plain = {.kind = LK_SET};
    char type[32];

    (void)state;
    assert_int_equal(pg->logical_of_type("TEXT[]", &lt), 0);
    assert_int_equal(lt.kind, LK_SET);
    assert_int_equal(lt.array, 1);
    pg->render_type(&lt, type, sizeof type);
    assert_string_equal(type, "text[]");
    pg->render_type(&plain, type, sizeof type);
    assert_string_equal(type, "text");
    assert_int_equal(pg->logical_of_type("integer[]", &lt), -1);
}

/* Every kind survives its JSON form, 2^64-1 included. */
static void json_form_round_trips(void **state)
{
    struct logical_type extra[] = {{.kind = LK_TEXT, .max_chars = 40},
                                   {.kind = LK_SET, .array = 1}};
    size_t ncases = sizeof mysql_cases / sizeof *mysql_cases;

    (void)state;
    snprintf(extra[0].charset, sizeof extra[0].charset, "utf8mb4");
    snprintf(extra[0].collation, sizeof extra[0].collation, "utf8mb4_bin");
    for (size_t i = 0; i < ncases + 2; i++) {
        const struct logical_type *want =
            i < ncases ? &mysql_cases[i].want : &extra[i - ncases];
        struct logical_type got;
        char why[160] = "";
        json_t *j = ltype_to_json(want);

        if (ltype_from_json(j, &got, why, sizeof why) != 0)
            fail_msg("%s: %s", lkind_name(want->kind), why);
        expect_same(&got, want, lkind_name(want->kind));
        json_decref(j);
    }
}

static void json_form_names_what_is_wrong(void **state)
{
    struct logical_type got;
    char why[160];
    json_t *j = json_pack("{ss}", "kind", "fraction");

    (void)state;
    assert_int_equal(ltype_from_json(j, &got, why, sizeof why), -1);
    assert_string_equal(why, "logical type: \"kind\" is missing or unknown");
    json_decref(j);
    j = json_pack("{ss si}", "kind", "datetime", "fsp", 6);
    assert_int_equal(ltype_from_json(j, &got, why, sizeof why), -1);
    assert_string_equal(why, "logical type: \"zone\" is not \"naive\" or "
                             "\"utc\"");
    json_decref(j);
    j = json_pack("{ss ss}", "kind", "set", "array", "yes");
    assert_int_equal(ltype_from_json(j, &got, why, sizeof why), -1);
    assert_string_equal(why, "logical type: \"array\" is not a boolean");
    json_decref(j);
    /* a checkpoint from before sets could be arrays: text */
    j = json_pack("{ss}", "kind", "set");
    assert_int_equal(ltype_from_json(j, &got, why, sizeof why), 0);
    assert_int_equal(got.array, 0);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mysql_types_read_as_their_logical_types),
        cmocka_unit_test(unknown_mysql_type_is_not_guessed),
        cmocka_unit_test(mysql_renders_what_it_reads),
        cmocka_unit_test(mysql_float_width),
        cmocka_unit_test(postgresql_text_array_is_a_set),
        cmocka_unit_test(json_form_round_trips),
        cmocka_unit_test(json_form_names_what_is_wrong),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

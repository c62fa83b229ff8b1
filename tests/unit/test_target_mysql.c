/*
 * test_target_mysql.c — names the MySQL driver gives its objects
 * (my_object_name): at most 64 characters, a long one shortened with a
 * hash of the table name — 8 bytes of SHA-256 now, and exactly the 4-byte
 * names of migrations started before that, so they find their objects
 * again when resumed. And the runbook's parts in MySQL's language
 * (tmy_check_runbook): schema.collation and the types of schema.overrides.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/runbook.h"
#include "sync/drivers/mysql/mysql_priv.h"
#include "tests/unit/unit_util.h"

#define LONG "shop_order_line_item_with_a_rather_long_descriptive_name_v2"

static void short_names_are_kept(void **state)
{
    char out[80];

    (void)state;
    my_object_name(out, sizeof out, "_cutover_rlog_", "shop_order",
                   NAME_HASH_BYTES);
    assert_string_equal(out, "_cutover_rlog_shop_order");
    /* exactly 64 characters: still as it is */
    my_object_name(out, sizeof out, "_cutover_rlog_",
                   "shop_order_line_item_with_a_rather_long_descriptiv",
                   NAME_HASH_BYTES);
    assert_string_equal(out, "_cutover_rlog_shop_order_line_item_with_a_"
                             "rather_long_descriptiv");
}

static void long_names_end_in_8_bytes_of_sha256(void **state)
{
    char out[80];

    (void)state;
    my_object_name(out, sizeof out, "_cutover_rlog_", LONG, NAME_HASH_BYTES);
    assert_string_equal(out, "_cutover_rlog_shop_order_line_item_with_a_rathe"
                             "_78f9dd3ab6d78639");
    assert_int_equal(strlen(out), 64);
}

static void legacy_names_are_the_old_4_byte_ones(void **state)
{
    char out[80];

    (void)state;
    my_object_name(out, sizeof out, "_cutover_rlog_", LONG,
                   LEGACY_NAME_HASH_BYTES);
    assert_string_equal(out, "_cutover_rlog_shop_order_line_item_with_a_rather"
                             "_long_d_78f9dd3a");
}

static void names_are_cut_on_a_utf8_boundary(void **state)
{
    char out[80];
    /* 30 two-byte letters: byte 33 is inside one */
    const char *greek = "αβγδεζηθικλμνξοπρστυφχψωαβγδεζ";

    (void)state;
    my_object_name(out, sizeof out, "_cutover_rlog_", greek, NAME_HASH_BYTES);
    assert_int_equal(strncmp(out + 14, greek, 32), 0);
    assert_int_equal(out[14 + 32], '_');
    assert_int_equal(strlen(out), 14 + 32 + 1 + 16);
}

/* The runbook of `schema`, parsed, then judged by the MySQL driver:
 * its return code, the message in err. */
static int check(const char *schema, struct runbook **rb, struct co_err *err)
{
    char text[1024];
    int rc;

    snprintf(text, sizeof text,
             "{\"version\":1,\"name\":\"t\",\"state_dir\":\"s\","
             "\"source\":{\"type\":\"sqlite\",\"path\":\"a.sqlite3\"},"
             "\"target\":{\"type\":\"mysql\",\"socket\":\"/tmp/x.sock\","
             "\"database\":\"d\"}%s%s}", schema ? ",\"schema\":" : "",
             schema ? schema : "");
    rc = runbook_parse(text, strlen(text), "/base", rb, err);
    assert_int_equal(rc, 0);
    return tmy_check_runbook(*rb, err);
}

static void collation_defaults_to_utf8mb4_bin(void **state)
{
    struct runbook *rb = NULL;
    struct co_err err = {0};

    (void)state;
    assert_int_equal(check(NULL, &rb, &err), 0);
    assert_string_equal(rb->schema.collation, "utf8mb4_bin");
    runbook_free(rb);
    assert_int_equal(check("{\"collation\":\"utf8mb4_0900_ai_ci\"}", &rb,
                           &err), 0);
    assert_string_equal(rb->schema.collation, "utf8mb4_0900_ai_ci");
    runbook_free(rb);
}

static void a_collation_must_be_utf8mb4(void **state)
{
    struct runbook *rb = NULL;
    struct co_err err = {0};

    (void)state;
    assert_int_equal(check("{\"collation\":\"latin1_swedish_ci\"}", &rb,
                           &err), CO_ERUNBOOK);
    assert_prefix(err.msg, "schema.collation: \"latin1_swedish_ci\" is not a "
                           "utf8mb4 collation");
    runbook_free(rb);
    assert_int_equal(check("{\"collation\":\"utf8mb4_bin; DROP\"}", &rb,
                           &err), CO_ERUNBOOK);
    assert_prefix(err.msg, "schema.collation: invalid collation name");
    runbook_free(rb);
}

/* An override goes into CREATE TABLE as written: anything but a plain
 * MySQL type could smuggle SQL in. */
static void an_override_must_be_a_mysql_type(void **state)
{
    struct runbook *rb = NULL;
    struct co_err err = {0};

    (void)state;
    assert_int_equal(check("{\"overrides\":{\"orders.total\":"
                           "\"DECIMAL(12,2)\",\"orders.n\":\"int unsigned\"}}",
                           &rb, &err), 0);
    runbook_free(rb);
    assert_int_equal(check("{\"overrides\":{\"orders.total\":"
                           "\"INT; DROP TABLE x\"}}", &rb, &err),
                     CO_ERUNBOOK);
    assert_prefix(err.msg, "schema.overrides.orders.total: expected a MySQL "
                           "column type");
    runbook_free(rb);
    assert_int_equal(check("{\"overrides\":{\"orders.total\":\"jsonb\"}}",
                           &rb, &err), CO_ERUNBOOK);
    runbook_free(rb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(short_names_are_kept),
        cmocka_unit_test(long_names_end_in_8_bytes_of_sha256),
        cmocka_unit_test(legacy_names_are_the_old_4_byte_ones),
        cmocka_unit_test(names_are_cut_on_a_utf8_boundary),
        cmocka_unit_test(collation_defaults_to_utf8mb4_bin),
        cmocka_unit_test(a_collation_must_be_utf8mb4),
        cmocka_unit_test(an_override_must_be_a_mysql_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

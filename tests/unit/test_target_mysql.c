/*
 * test_target_mysql.c — names the MySQL driver gives its objects
 * (my_object_name): at most 64 characters, a long one shortened with a
 * hash of the table name — 8 bytes of SHA-256 now, and exactly the 4-byte
 * names of migrations started before that, so they find their objects
 * again when resumed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(short_names_are_kept),
        cmocka_unit_test(long_names_end_in_8_bytes_of_sha256),
        cmocka_unit_test(legacy_names_are_the_old_4_byte_ones),
        cmocka_unit_test(names_are_cut_on_a_utf8_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

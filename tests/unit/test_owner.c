/*
 * test_owner.c — lib/owner.c: migration ids, reading them back from an
 * object's definition, and which objects belong to which owner (NULL:
 * nobody's; "": a migration from before ids, whose objects carry none).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/owner.h"
#include "tests/unit/unit_util.h"

static void new_ids_are_16_hex_digits_and_differ(void **state)
{
    char a[OWNER_ID_LEN + 1], b[OWNER_ID_LEN + 1];

    (void)state;
    assert_int_equal(owner_new_id(a), 0);
    assert_int_equal(owner_new_id(b), 0);
    assert_int_equal(strlen(a), OWNER_ID_LEN);
    assert_true(owner_id_valid(a));
    assert_string_not_equal(a, b);
}

static void ids_are_validated(void **state)
{
    (void)state;
    assert_true(owner_id_valid(""));
    assert_true(owner_id_valid("0123456789abcdef"));
    assert_false(owner_id_valid("0123456789abcde"));
    assert_false(owner_id_valid("0123456789ABCDEF"));
    assert_false(owner_id_valid("../../etc/passwd"));
}

static void the_id_is_read_from_a_definition(void **state)
{
    char id[OWNER_ID_LEN + 1];

    (void)state;
    owner_of("CREATE TRIGGER \"_cutover_fence_i_t\" BEFORE INSERT ON \"t\" "
             "BEGIN /* cutover migration 0123456789abcdef */ SELECT 1; END",
             id);
    assert_string_equal(id, "0123456789abcdef");
    owner_of("cutover migration 0123456789abcdef, reverse log of t", id);
    assert_string_equal(id, "0123456789abcdef");
    owner_of("CREATE TRIGGER x BEGIN SELECT 1; END", id);
    assert_string_equal(id, "");
    owner_of("/* cutover migration 01234 */", id);      /* too short */
    assert_string_equal(id, "");
    owner_of(NULL, id);
    assert_string_equal(id, "");
}

static void objects_belong_to_their_owner_only(void **state)
{
    struct owned_objects l = {0};

    (void)state;
    assert_int_equal(owned_objects_add(&l, "trigger", "_cutover_ai_t", "t",
                                       "BEGIN /* cutover migration "
                                       "0123456789abcdef */ END"), 0);
    assert_int_equal(owned_objects_add(&l, "table", "_cutover_log_t", "t",
                                       "CREATE TABLE x(seq)"), 0);
    /* plan without a migration: nothing is ours */
    assert_false(owned_by(&l.v[0], NULL));
    assert_false(owned_by(&l.v[1], NULL));
    /* a migration with an id: only its marked objects */
    assert_true(owned_by(&l.v[0], "0123456789abcdef"));
    assert_false(owned_by(&l.v[1], "0123456789abcdef"));
    assert_false(owned_by(&l.v[0], "fedcba9876543210"));
    /* a migration from before ids: only unmarked objects */
    assert_true(owner_is_legacy(""));
    assert_false(owned_by(&l.v[0], ""));
    assert_true(owned_by(&l.v[1], ""));

    assert_ptr_equal(owned_objects_find(&l, "_CUTOVER_LOG_T"), &l.v[1]);
    assert_null(owned_objects_find(&l, "_cutover_log_u"));
    owned_objects_keep_foreign(&l, "0123456789abcdef");
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].name, "_cutover_log_t");
    owned_objects_free(&l);
    assert_int_equal(l.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_ids_are_16_hex_digits_and_differ),
        cmocka_unit_test(ids_are_validated),
        cmocka_unit_test(the_id_is_read_from_a_definition),
        cmocka_unit_test(objects_belong_to_their_owner_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

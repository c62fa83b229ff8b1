/*
 * test_gtid.c — lib/gtid.c: the two forms of a GTID as cutover writes
 * them, and the check a checkpoint's GTID must pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/gtid.h"

static void both_forms_are_written(void **state)
{
    static const unsigned char sid[16] = {
        0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
        0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};
    char g[GTID_MAX];

    (void)state;
    gtid_mariadb(g, 0, 1, 57);
    assert_string_equal(g, "0-1-57");
    gtid_mariadb(g, UINT32_MAX, UINT32_MAX, UINT64_MAX);
    assert_string_equal(g, "4294967295-4294967295-18446744073709551615");
    assert_true(gtid_valid(g));
    gtid_mysql(g, sid, 23);
    assert_string_equal(g, "3e11fa47-71ca-11e1-9e33-c80aa9429562:23");
    assert_true(gtid_valid(g));
    gtid_mysql(g, sid, UINT64_MAX);
    assert_true(gtid_valid(g));
}

static void only_the_two_forms_are_valid(void **state)
{
    static const char *good[] = {
        "0-1-1", "12-4294967295-0", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1"};
    static const char *bad[] = {
        "", "0-1", "0-1-", "-1-1", "0-1-1-1", "0-1-x", "0--1-1", "0-+1-1",
        "0- 1-1", "4294967296-1-1", "0-1-18446744073709551616", "0,1-1-1",
        "0-1-1,0-2-5", "3e11fa47-71ca-11e1-9e33-c80aa9429562",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:", "3E11FA47-71CA-11E1-9E33-"
        "C80AA9429562:1", "3e11fa4-71ca-11e1-9e33-c80aa9429562:1",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1:2",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", "junk:1"};

    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (!gtid_valid(good[i]))
            fail_msg("\"%s\" refused", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (gtid_valid(bad[i]))
            fail_msg("\"%s\" accepted", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_forms_are_written),
        cmocka_unit_test(only_the_two_forms_are_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

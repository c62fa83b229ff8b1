/*
 * test_file_read.c — orchestrator/file_read.c: the one whole-file reader
 * (runbook, checkpoint).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "lib/file_read.h"
#include "tests/unit/unit_util.h"

/* A file of n bytes 0..250 repeating, written at dir/name. */
static char *make_file(const char *dir, const char *name, size_t n)
{
    char *path = ut_path(dir, name);
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc((int)(i % 251), f);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Sizes around the reader's growth steps come back byte for byte. */
static void reads_every_byte_and_terminates(void **state)
{
    static const size_t sizes[] = {0, 1, 32767, 32768, 65535, 65536, 200003};
    char *dir = ut_tempdir();

    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        char *path = make_file(dir, "f", sizes[s]), *text;
        size_t len;

        assert_int_equal(file_read_path(path, 0, &text, &len), 0);
        assert_int_equal(len, sizes[s]);
        assert_int_equal(text[len], '\0');
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)text[i] != i % 251)
                fail_msg("size %zu: byte %zu differs", sizes[s], i);
        free(text);
        free(path);
    }
    ut_rmtree(dir);
}

/* Past max the file is refused, never cut. */
static void longer_than_max_is_refused(void **state)
{
    char *dir = ut_tempdir(), *path = make_file(dir, "f", 100001), *text;
    size_t len;

    (void)state;
    assert_int_equal(file_read_path(path, 100000, &text, &len), -EFBIG);
    assert_null(text);
    assert_int_equal(file_read_path(path, 100001, &text, &len), 0);
    assert_int_equal(len, 100001);
    free(text);
    free(path);
    ut_rmtree(dir);
}

static void missing_file_is_enoent(void **state)
{
    char *text;
    size_t len;

    (void)state;
    assert_int_equal(file_read_path("/nonexistent/cutover/x", 0, &text,
                                    &len), -ENOENT);
    assert_null(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_every_byte_and_terminates),
        cmocka_unit_test(longer_than_max_is_refused),
        cmocka_unit_test(missing_file_is_enoent),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

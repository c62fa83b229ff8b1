/*
 * test_state_dir.c — lib/state_dir.c: which state dirs are
 * trusted, and files in them that are links.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>

#include "lib/state_dir.h"
#include "tests/unit/unit_util.h"

static void a_private_dir_of_ours_is_trusted(void **state)
{
    char *dir = ut_tempdir();
    struct co_err err = {0};
    int dfd;

    (void)state;
    dfd = state_dir_open(dir, &err);
    assert_true(dfd >= 0);
    close(dfd);
    ut_rmtree(dir);
}

static void expect_refused(const char *dir, const char *why)
{
    struct co_err err = {0};

    assert_int_equal(state_dir_open(dir, &err), CO_EIO);
    assert_contains(err.msg, dir);
    assert_contains(err.msg, why);
    assert_int_equal(state_file_open(dir, "lock", O_RDWR | O_CREAT, &err),
                     CO_EIO);
    assert_int_equal(state_dir_create(dir, &err), CO_EIO);
    assert_contains(err.msg, why);
}

static void a_dir_others_can_write_is_refused(void **state)
{
    char *dir = ut_tempdir();

    (void)state;
    chmod(dir, 0770);
    expect_refused(dir, "can be written by its group (mode 0770)");
    chmod(dir, 0703);
    expect_refused(dir, "can be written by anyone (mode 0703)");
    chmod(dir, 0700);
    ut_rmtree(dir);
}

/* (Only root can give a directory away; others test nothing here.) */
static void a_dir_of_another_user_is_refused(void **state)
{
    char *dir = ut_tempdir();

    (void)state;
    if (geteuid() == 0 && chown(dir, 65534, 65534) == 0)
        expect_refused(dir, "belongs to uid 65534");
    ut_rmtree(dir);
}

static void a_dir_that_is_a_link_is_refused(void **state)
{
    char *dir = ut_tempdir(), *real = ut_path(dir, "real"),
         *link = ut_path(dir, "link");

    (void)state;
    assert_int_equal(mkdir(real, 0700), 0);
    assert_int_equal(symlink("real", link), 0);
    expect_refused(link, "is a symbolic link");
    free(real);
    free(link);
    ut_rmtree(dir);
}

/* A link in the state dir is neither followed for reading nor for writing:
 * the file it points to is left as it was. */
static void files_that_are_links_are_never_followed(void **state)
{
    char *dir = ut_tempdir(), *victim = ut_path(dir, "victim"),
         *sd = ut_path(dir, "state"), *link = ut_path(sd, "events.ndjson"),
         *text;
    struct co_err err = {0};

    (void)state;
    ut_write_file(victim, "precious", 8);
    assert_int_equal(state_dir_create(sd, &err), 0);
    assert_int_equal(symlink(victim, link), 0);
    assert_int_equal(state_file_open(sd, "events.ndjson",
                                     O_WRONLY | O_APPEND | O_CREAT, &err),
                     CO_EIO);
    assert_contains(err.msg, "events.ndjson is a symbolic link");
    assert_int_equal(state_file_open(sd, "events.ndjson", O_RDONLY, &err),
                     CO_EIO);
    /* an atomic write replaces the link itself, not what it points to */
    assert_int_equal(state_file_write(sd, "events.ndjson", "new", 3, &err), 0);
    text = ut_read_file(victim, NULL);
    assert_string_equal(text, "precious");
    free(text);
    text = ut_read_file(link, NULL);
    assert_string_equal(text, "new");
    free(text);
    free(victim);
    free(sd);
    free(link);
    ut_rmtree(dir);
}

static void new_files_are_private_whatever_the_umask(void **state)
{
    char *dir = ut_tempdir(), *path = ut_path(dir, "metrics.prom");
    struct co_err err = {0};
    struct stat st;
    mode_t old = umask(0);
    int fd;

    (void)state;
    fd = state_file_open(dir, "lock", O_RDWR | O_CREAT, &err);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    close(fd);
    assert_int_equal(state_file_write(dir, "metrics.prom", "x", 1, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    umask(old);
    free(path);
    ut_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_private_dir_of_ours_is_trusted),
        cmocka_unit_test(a_dir_others_can_write_is_refused),
        cmocka_unit_test(a_dir_of_another_user_is_refused),
        cmocka_unit_test(a_dir_that_is_a_link_is_refused),
        cmocka_unit_test(files_that_are_links_are_never_followed),
        cmocka_unit_test(new_files_are_private_whatever_the_umask),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

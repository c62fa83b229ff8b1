/*
 * test_xalloc.c — orchestrator/xalloc.c: the allocation-failure policy.
 * Memory that cannot be had stops the process with status 1 and a
 * message saying the checkpoint is intact, never a NULL to check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/xalloc.h"

/* Under AddressSanitizer a huge allocation must fail like malloc does
 * (NULL), not stop the test. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

/* Run fn in a child; its exit status and what it wrote to stderr. */
static int in_child(void (*fn)(void), char *out, size_t cap)
{
    int fds[2], status;
    ssize_t n, got = 0;
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        fn();
        _exit(99);                  /* not reached: it must not return */
    }
    close(fds[1]);
    while ((n = read(fds[0], out + got, cap - 1 - (size_t)got)) > 0)
        got += n;
    out[got] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void huge_malloc(void) { (void)xmalloc(SIZE_MAX / 2); }
static void huge_calloc(void) { (void)xcalloc(SIZE_MAX / 16, 8); }
static void huge_realloc(void) { (void)xrealloc(xmalloc(16), SIZE_MAX / 2); }

static void out_of_memory_exits_with_a_message(void **state)
{
    void (*const fns[])(void) = {huge_malloc, huge_calloc, huge_realloc};
    char msg[512];

    (void)state;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        assert_int_equal(in_child(fns[i], msg, sizeof msg), 1);
        if (!strstr(msg, "cutover: out of memory") ||
            !strstr(msg, "`cutover resume` continues"))
            fail_msg("#%zu said: %s", i, msg);
    }
}

static void strings_are_copied(void **state)
{
    char *a = xstrdup("orders"), *b = xstrndup("orders_item", 6),
         *c = xasprintf("%s.%d", "t", 7);

    (void)state;
    assert_string_equal(a, "orders");
    assert_string_equal(b, "orders");
    assert_string_equal(c, "t.7");
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(out_of_memory_exits_with_a_message),
        cmocka_unit_test(strings_are_copied),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

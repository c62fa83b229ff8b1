/*
 * test_backoff.c — orchestrator/backoff.c: the one retry pacing
 * (reconnects of the conductor, the applier and the replica monitor,
 * webhooks, cutover attempts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/backoff.h"
#include "lib/events.h"

static void waits_double_up_to_the_ceiling(void **state)
{
    static const double want[] = {0.5, 1, 2, 4, 8, 16, 30, 30, 30};
    struct backoff b;

    (void)state;
    backoff_init(&b, 0.5, 30);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        double before = mono_s(), got = backoff_failed(&b);
        if (got != want[i])
            fail_msg("failure %zu: wait %g, expected %g", i + 1, got, want[i]);
        assert_true(b.next_at >= before + got);
    }
    /* a huge count stays at the ceiling */
    assert_true(backoff_delay(1, 30, 1000000) == 30);
    assert_true(backoff_delay(1, 30, 1) == 1);
}

static void success_starts_again(void **state)
{
    struct backoff b;

    (void)state;
    backoff_init(&b, 0.2, 5);
    backoff_failed(&b);
    backoff_failed(&b);
    assert_false(backoff_due(&b));            /* 0.4 s from now */
    backoff_reset(&b);
    assert_true(backoff_due(&b));
    assert_true(backoff_failed(&b) == 0.2);
}

/* A stop already asked for ends the sleep at once (the applier stopping
 * while it waits to reconnect). */
static void sleep_returns_when_stopped(void **state)
{
    struct backoff b;
    volatile int stop = 1;

    (void)state;
    backoff_init(&b, 3600, 3600);
    backoff_failed(&b);
    backoff_sleep(&b, &stop);
    assert_false(backoff_due(&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(waits_double_up_to_the_ceiling),
        cmocka_unit_test(success_starts_again),
        cmocka_unit_test(sleep_returns_when_stopped),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

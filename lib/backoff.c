/* backoff.c — doubling waits between retries. */
#include "lib/backoff.h"

#include <unistd.h>

#include "lib/events.h"

#define SLICE_S 0.05

void backoff_init(struct backoff *b, double first_s, double max_s)
{
    b->first_s = first_s;
    b->max_s = max_s;
    b->failures = 0;
    b->next_at = 0;
}

double backoff_delay(double first_s, double max_s, int failures)
{
    double d = first_s;

    /* Doubling stops at the ceiling: no overflow whatever the count. */
    for (int i = 1; i < failures && d < max_s; i++)
        d *= 2;
    return d < max_s ? d : max_s;
}

double backoff_failed(struct backoff *b)
{
    double d;

    if (b->failures < 1000000)
        b->failures++;
    d = backoff_delay(b->first_s, b->max_s, b->failures);
    b->next_at = mono_s() + d;
    return d;
}

void backoff_reset(struct backoff *b)
{
    b->failures = 0;
    b->next_at = 0;
}

int backoff_due(const struct backoff *b)
{
    return mono_s() >= b->next_at;
}

void backoff_sleep(const struct backoff *b, const volatile int *stop)
{
    double left;

    while ((!stop || !*stop) && (left = b->next_at - mono_s()) > 0)
        usleep((useconds_t)((left < SLICE_S ? left : SLICE_S) * 1e6));
}

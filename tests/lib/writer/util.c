/*
 * util.c — what every part of the writer uses: messages on stderr, arrays
 * that grow, and the monotonic clock its pacing and stalls are measured on.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "tests/lib/writer/writer.h"

void say(const char *fmt, ...)
{
    va_list ap;

    fputs("writer: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    *cap = need < 64 ? 64 : need * 2;
    p = realloc(p, *cap * size);
    if (!p)
        die("out of memory");
    return p;
}

double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void sleep_until_ms(double t)
{
    struct timespec ts = {(time_t)(t / 1000), (long)(fmod(t, 1000) * 1e6)};

    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

void sleep_ms(double ms) { sleep_until_ms(now_ms() + ms); }

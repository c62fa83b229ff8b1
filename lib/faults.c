/* faults.c — named crash points and I/O failure injection. */
#include "lib/faults.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_POINTS 64

struct counter {
    char name[96];
    long hits;
};

static pthread_mutex_t fault_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct counter counters[MAX_POINTS];
static int ncounters;

static long count_hit(const char *name)
{
    long hits = 0;

    pthread_mutex_lock(&fault_mutex);
    for (int i = 0; i < ncounters; i++)
        if (strcmp(counters[i].name, name) == 0) {
            hits = ++counters[i].hits;
            break;
        }
    if (!hits && ncounters < MAX_POINTS) {
        snprintf(counters[ncounters].name, sizeof counters[0].name, "%s",
                 name);
        hits = counters[ncounters++].hits = 1;
    }
    pthread_mutex_unlock(&fault_mutex);
    return hits;
}

/* Does the comma-separated spec list `spec` name `point` for hit `hits`? */
static int spec_matches(const char *spec, const char *point, long hits)
{
    size_t plen = strlen(point);
    const char *p = spec;

    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len >= plen && strncmp(p, point, plen) == 0) {
            if (len == plen && hits == 1)
                return 1;
            if (len > plen && p[plen] == ':' &&
                strtol(p + plen + 1, NULL, 10) == hits)
                return 1;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* CUTOVER_DELAY_AT=stage:point:N:MS — sleep at the Nth hit. */
static void maybe_delay(const char *name, long hits)
{
    const char *spec = getenv("CUTOVER_DELAY_AT");
    size_t nlen = strlen(name);
    char *end;

    if (!spec || strncmp(spec, name, nlen) != 0 || spec[nlen] != ':')
        return;
    if (strtol(spec + nlen + 1, &end, 10) != hits || *end != ':')
        return;
    usleep((useconds_t)(strtol(end + 1, NULL, 10) * 1000));
}

/* CUTOVER_PAUSE_AT=stage:point:N — wait at the Nth hit while the file
 * CUTOVER_PAUSE_FILE exists (we create it). */
static void maybe_pause(const char *name, long hits)
{
    const char *spec = getenv("CUTOVER_PAUSE_AT");
    const char *file = getenv("CUTOVER_PAUSE_FILE");
    size_t nlen = strlen(name);
    FILE *f;

    if (!spec || !file || strncmp(spec, name, nlen) != 0 ||
        spec[nlen] != ':' || strtol(spec + nlen + 1, NULL, 10) != hits)
        return;
    f = fopen(file, "w");
    if (!f)
        return;
    fclose(f);
    while (access(file, F_OK) == 0)
        usleep(10000);
}

void fault_point(const char *stage, const char *point)
{
    const char *spec = getenv("CUTOVER_CRASH_AT");
    const char *delay = getenv("CUTOVER_DELAY_AT");
    const char *pause = getenv("CUTOVER_PAUSE_AT");
    char name[96];
    long hits;

    if ((!spec || !*spec) && (!delay || !*delay) && (!pause || !*pause))
        return;
    snprintf(name, sizeof name, "%s:%s", stage, point);
    if (!(spec && strstr(spec, name)) && !(delay && strstr(delay, name)) &&
        !(pause && strstr(pause, name)))
        return;
    hits = count_hit(name);
    maybe_delay(name, hits);
    maybe_pause(name, hits);
    if (spec && spec_matches(spec, name, hits)) {
        fprintf(stderr, "cutover: crash point %s (hit %ld): killing myself\n",
                name, hits);
        raise(SIGKILL);
    }
}

int fault_io(const char *op)
{
    const char *spec = getenv("CUTOVER_FAULT_IO");
    char name[64], want[64];
    long hits, nth;
    const char *p;

    if (!spec || !*spec)
        return 0;
    snprintf(want, sizeof want, "%s:", op);
    if (strncmp(spec, want, strlen(want)) != 0)
        return 0;
    snprintf(name, sizeof name, "io:%s", op);
    hits = count_hit(name);
    nth = strtol(spec + strlen(want), NULL, 10);
    if (hits != nth)
        return 0;
    p = strchr(spec + strlen(want), ':');
    if (!p)
        return EIO;
    if (strcmp(p + 1, "ENOSPC") == 0)
        return ENOSPC;
    if (strcmp(p + 1, "EDQUOT") == 0)
        return EDQUOT;
    return EIO;
}

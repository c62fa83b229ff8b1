/* metrics.c — a small thread-safe registry of named values. */
#include "lib/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MAX_METRICS 256

struct metric {
    char name[96];
    double value;
};

static pthread_mutex_t metrics_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct metric metrics[MAX_METRICS];
static int nmetrics;

static struct metric *find(const char *name, int create)
{
    for (int i = 0; i < nmetrics; i++)
        if (strcmp(metrics[i].name, name) == 0)
            return &metrics[i];
    if (!create || nmetrics == MAX_METRICS)
        return NULL;
    snprintf(metrics[nmetrics].name, sizeof metrics[0].name, "%s", name);
    metrics[nmetrics].value = 0;
    return &metrics[nmetrics++];
}

void metrics_set(const char *name, double value)
{
    struct metric *m;

    pthread_mutex_lock(&metrics_mutex);
    if ((m = find(name, 1)))
        m->value = value;
    pthread_mutex_unlock(&metrics_mutex);
}

void metrics_add(const char *name, double delta)
{
    struct metric *m;

    pthread_mutex_lock(&metrics_mutex);
    if ((m = find(name, 1)))
        m->value += delta;
    pthread_mutex_unlock(&metrics_mutex);
}

int metrics_get(const char *name, double *value)
{
    struct metric *m;
    int found = 0;

    pthread_mutex_lock(&metrics_mutex);
    if ((m = find(name, 0))) {
        *value = m->value;
        found = 1;
    }
    pthread_mutex_unlock(&metrics_mutex);
    return found;
}

json_t *metrics_snapshot(void)
{
    json_t *o = json_object();

    pthread_mutex_lock(&metrics_mutex);
    for (int i = 0; i < nmetrics; i++)
        json_object_set_new(o, metrics[i].name, json_real(metrics[i].value));
    pthread_mutex_unlock(&metrics_mutex);
    return o;
}

void metrics_reset(void)
{
    pthread_mutex_lock(&metrics_mutex);
    nmetrics = 0;
    pthread_mutex_unlock(&metrics_mutex);
}

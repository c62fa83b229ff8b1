/*
 * metrics.h — the named numbers the triggers, `status` and metrics.prom
 * read (DESIGN §6): sync.lag_s, verify.mismatched_rows, check.NAME.failures
 * and so on. Producers set them from any thread; readers take a snapshot.
 */
#ifndef CO_METRICS_H
#define CO_METRICS_H

#include <jansson.h>

void metrics_set(const char *name, double value);
void metrics_add(const char *name, double delta);
/* 1 and *value when the metric has been set, else 0. */
int metrics_get(const char *name, double *value);
/* {"name": value, ...} */
json_t *metrics_snapshot(void);
void metrics_reset(void);

#endif

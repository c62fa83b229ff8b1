/*
 * triggers.h — rules that pause, throttle, abort or roll back on their own
 * (DESIGN §6). Evaluated on the loop every second against the sampled
 * metrics; alerts arrive from `ctl alert` or the socket. A rule fires once
 * per breach (the condition must clear before it fires again); each firing
 * is a `trigger` event and a command to the conductor, exactly as an
 * operator's command would be.
 */
#ifndef CO_TRIGGERS_H
#define CO_TRIGGERS_H

#include <jansson.h>

#include "lib/runbook.h"
#include "lib/trigger_rules.h"

struct orch;
struct trigger_engine;

struct trigger_engine *trigger_engine_new(struct orch *o);
void trigger_engine_evaluate(struct trigger_engine *t);
/* Returns how many rules fired. */
int trigger_engine_alert(struct trigger_engine *t, const char *name,
                         const char *severity);
/* The same, for an alert from elsewhere (Alertmanager): `fields` (stolen,
 * may be NULL) go into the `alert` event beside the name and severity. */
int trigger_engine_alert_from(struct trigger_engine *t, const char *name,
                              const char *severity, json_t *fields);
json_t *trigger_engine_status(struct trigger_engine *t);
void trigger_engine_free(struct trigger_engine *t);

#endif

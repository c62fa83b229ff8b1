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

#include "orchestrator/runbook.h"

struct orch;
struct trigger_engine;

/* The rules in force: the runbook's, or the defaults when it gives none. */
const struct rb_trigger *trigger_rules(const struct runbook *rb, int *n);

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

/* "verify.mismatched_rows above 0 → abort" etc., for the plan report. */
void trigger_describe(const struct rb_trigger *r, char *buf, size_t cap);

#endif

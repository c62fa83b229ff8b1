/*
 * notify.h — notifications that never slow the migration: webhooks (JSON
 * event bodies POSTed with retries and backoff, TLS verified) and the
 * runbook's on_stage/on_trigger hook actions, all run by one notifier
 * thread from a bounded queue.
 */
#ifndef CO_NOTIFY_H
#define CO_NOTIFY_H

#include <jansson.h>

#include "lib/errors.h"
#include "checkpoints/fsm.h"
#include "lib/runbook.h"

struct notifier;

/* NULL (err->code 0) when the runbook has no webhooks and no hooks. */
struct notifier *notifier_start(const struct runbook *rb, struct co_err *err);
void notifier_on_transition(struct notifier *n, enum fsm_state from,
                            enum fsm_state to, const char *reason);
void notifier_on_trigger(struct notifier *n, const char *rule,
                         const char *action);
/* Deliver what is queued (bounded wait), then stop. NULL-safe. */
void notifier_stop(struct notifier *n);

#endif

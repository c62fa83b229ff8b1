/*
 * trigger_rules.h — the trigger rules a migration runs under (DESIGN §6):
 * the runbook's, or the defaults when it gives none, and their one-line
 * description. The engine that evaluates them is orchestrator/triggers.c;
 * the plan report lists them without it.
 */
#ifndef CO_TRIGGER_RULES_H
#define CO_TRIGGER_RULES_H

#include <stddef.h>

#include "lib/runbook.h"

/* The rules in force: the runbook's, or the defaults when it gives none. */
const struct rb_trigger *trigger_rules(const struct runbook *rb, int *n);

/* "verify.mismatched_rows above 0 → abort" etc., for the plan report. */
void trigger_describe(const struct rb_trigger *r, char *buf, size_t cap);

#endif

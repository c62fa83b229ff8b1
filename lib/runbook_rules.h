/*
 * runbook_rules.h — the runbook's active parts: actions (exec/http),
 * post-validate checks, trigger rules, webhooks and hooks. Internal to
 * runbook.c; split out to keep each file about one thing.
 */
#ifndef CO_RUNBOOK_RULES_H
#define CO_RUNBOOK_RULES_H

#include <jansson.h>

#include "lib/jsonread.h"
#include "lib/runbook.h"

char *rb_resolve_path(const char *dir, const char *p);

int rb_read_actions(struct jread *r, json_t *arr, const char *dir,
                    struct rb_action **out, int *n);
int rb_read_post_validate(struct jread *r, json_t *o, struct runbook *rb);
int rb_read_triggers(struct jread *r, json_t *arr, struct runbook *rb);
int rb_read_notify(struct jread *r, json_t *arr, struct runbook *rb);
int rb_read_hooks(struct jread *r, json_t *o, struct runbook *rb);
int rb_read_http(struct jread *r, json_t *o, struct runbook *rb);

/* After all sections: metric names refer to declared checks/replicas. */
int rb_check_trigger_metrics(struct jread *r, struct runbook *rb);

void rb_free_rules(struct runbook *rb);
void rb_action_free(struct rb_action *a);

#endif

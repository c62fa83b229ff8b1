/* trigger_rules.c — the rules in force and how the plan report reads them. */
#include "lib/trigger_rules.h"

#include <stdio.h>
#include <string.h>

/* When the runbook lists no rules: a verified difference stops the
 * migration before anything is switched. */
static char default_name[] = "mismatch";
static char default_metric[] = "verify.mismatched_rows";
static const struct rb_trigger default_rules[] = {
    {.name = default_name, .metric = default_metric, .has_above = 1,
     .above = 0, .action = TRIG_ABORT},
};

const struct rb_trigger *trigger_rules(const struct runbook *rb, int *n)
{
    if (rb->triggers_given) {
        *n = rb->ntriggers;
        return rb->triggers;
    }
    *n = (int)(sizeof default_rules / sizeof default_rules[0]);
    return default_rules;
}

void trigger_describe(const struct rb_trigger *r, char *buf, size_t cap)
{
    char stages[256] = "";

    for (int i = 0; i < r->nstages; i++) {
        strncat(stages, i ? "," : " in ", sizeof stages - strlen(stages) - 1);
        strncat(stages, r->stages[i], sizeof stages - strlen(stages) - 1);
    }
    if (r->alert)
        snprintf(buf, cap, "%s: alert %s → %s%s", r->name, r->alert,
                 trigger_action_name(r->action), stages);
    else {
        char dur[48] = "";
        if (r->for_s > 0)
            snprintf(dur, sizeof dur, " for %g s", r->for_s);
        snprintf(buf, cap, "%s: %s %s %g%s → %s%s", r->name, r->metric,
                 r->has_above ? "above" : "below",
                 r->has_above ? r->above : r->below, dur,
                 trigger_action_name(r->action), stages);
    }
}

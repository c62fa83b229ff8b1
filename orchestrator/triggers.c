/* triggers.c — the trigger engine. */
#include "orchestrator/triggers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/events.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "orchestrator/notify.h"
#include "orchestrator/orch.h"
#include "lib/xalloc.h"

struct rule_state {
    double since;        /* wall clock the condition started holding, 0 */
    int fired;           /* fired for the current breach */
    int firings;
};

struct trigger_engine {
    struct orch *o;
    const struct rb_trigger *rules;
    int nrules;
    struct rule_state *st;
    int paused_by_rule;
};

struct trigger_engine *trigger_engine_new(struct orch *o)
{
    struct trigger_engine *t = xcalloc(1, sizeof *t);
    json_t *saved;

    t->o = o;
    t->rules = trigger_rules(o->rb, &t->nrules);
    t->st = xcalloc((size_t)t->nrules + 1, sizeof *t->st);
    pthread_mutex_lock(&o->m->mu);
    saved = o->m->trigger_states;
    for (int i = 0; i < t->nrules; i++) {
        json_t *s = json_object_get(saved, t->rules[i].name);
        t->st[i].since = json_number_value(json_object_get(s, "since"));
        t->st[i].fired = json_is_true(json_object_get(s, "fired"));
        t->st[i].firings = (int)json_integer_value(json_object_get(s,
                                                                   "firings"));
    }
    t->paused_by_rule = json_is_true(json_object_get(saved, "_paused_by_rule"));
    pthread_mutex_unlock(&o->m->mu);
    return t;
}

void trigger_engine_free(struct trigger_engine *t)
{
    if (!t)
        return;
    free(t->st);
    free(t);
}

static void persist(struct trigger_engine *t)
{
    struct migration *m = t->o->m;
    json_t *o = json_object();

    for (int i = 0; i < t->nrules; i++)
        json_object_set_new(o, t->rules[i].name, json_pack(
            "{sf sb si}", "since", t->st[i].since, "fired", t->st[i].fired,
            "firings", t->st[i].firings));
    json_object_set_new(o, "_paused_by_rule", json_boolean(t->paused_by_rule));
    pthread_mutex_lock(&m->mu);
    json_decref(m->trigger_states);
    m->trigger_states = o;
    pthread_mutex_unlock(&m->mu);
}

/* The stage a rule's `stages` filter looks at (a paused migration is in
 * the stage it left). */
static int in_stages(const struct rb_trigger *r, enum fsm_state state,
                     enum fsm_state resume)
{
    enum fsm_state s = state == ST_PAUSED ? resume : state;

    if (!fsm_state_is_stage(s))
        return 0;
    if (r->nstages == 0)
        return 1;
    for (int i = 0; i < r->nstages; i++)
        if (strcmp(r->stages[i], fsm_state_name(s)) == 0)
            return 1;
    return 0;
}

static void fire(struct trigger_engine *t, int i, double value)
{
    const struct rb_trigger *r = &t->rules[i];
    struct orch *o = t->o;
    struct command *c;
    json_t *ev = json_pack("{ss ss}", "rule", r->name, "action",
                           trigger_action_name(r->action));

    t->st[i].firings++;
    if (r->metric) {
        json_object_set_new(ev, "metric", json_string(r->metric));
        json_object_set_new(ev, "value", json_real(value));
        json_object_set_new(ev, r->has_above ? "above" : "below",
                            json_real(r->has_above ? r->above : r->below));
        json_object_set_new(ev, "for_s", json_real(r->for_s));
    } else {
        json_object_set_new(ev, "alert", json_string(r->alert));
    }
    if (r->action == TRIG_THROTTLE)
        json_object_set_new(ev, "rows_per_s", json_real(r->rows_per_s));
    json_object_set_new(ev, "state", json_string(fsm_state_name(o->m->state)));
    events_emit(EVT_TRIGGER, ev);
    log_warnx("trigger %s fired (value %g): %s", r->name, value,
              trigger_action_name(r->action));
    metrics_add("triggers.firings", 1);
    notifier_on_trigger(o->notifier, r->name, trigger_action_name(r->action));
    if (r->action == TRIG_NOTIFY)
        return;
    c = xcalloc(1, sizeof *c);
    switch (r->action) {
    case TRIG_THROTTLE: c->kind = CMD_THROTTLE; c->number = r->rows_per_s; break;
    case TRIG_PAUSE: c->kind = CMD_PAUSE; t->paused_by_rule = 1; break;
    case TRIG_RESUME: c->kind = CMD_RESUME; t->paused_by_rule = 0; break;
    case TRIG_ABORT: c->kind = CMD_ABORT; break;
    default: c->kind = CMD_ROLLBACK; break;
    }
    snprintf(c->origin, sizeof c->origin, "trigger %s", r->name);
    orch_command(o, c);
}

void trigger_engine_evaluate(struct trigger_engine *t)
{
    struct migration *m = t->o->m;
    enum fsm_state state, resume;
    double now = now_s();
    int changed = 0;

    pthread_mutex_lock(&m->mu);
    state = m->state;
    resume = m->resume_state;
    pthread_mutex_unlock(&m->mu);
    for (int i = 0; i < t->nrules; i++) {
        const struct rb_trigger *r = &t->rules[i];
        struct rule_state *s = &t->st[i];
        double v;
        int holds;

        if (!r->metric || !in_stages(r, state, resume) ||
            !metrics_get(r->metric, &v))
            continue;
        /* pause acts on a running stage, resume only on its own pause */
        if ((r->action == TRIG_RESUME) != (state == ST_PAUSED))
            continue;
        if (r->action == TRIG_RESUME && !t->paused_by_rule)
            continue;
        holds = r->has_above ? v > r->above : v < r->below;
        if (!holds) {
            changed |= s->since != 0 || s->fired;
            s->since = 0;
            s->fired = 0;
            continue;
        }
        if (s->since == 0) {
            s->since = now;
            changed = 1;
        }
        if (!s->fired && now - s->since >= r->for_s) {
            s->fired = 1;
            changed = 1;
            fire(t, i, v);
        }
    }
    if (changed)
        persist(t);
}

int trigger_engine_alert(struct trigger_engine *t, const char *name,
                         const char *severity)
{
    return trigger_engine_alert_from(t, name, severity, NULL);
}

int trigger_engine_alert_from(struct trigger_engine *t, const char *name,
                              const char *severity, json_t *fields)
{
    struct migration *m = t->o->m;
    json_t *ev = fields ? fields : json_object();
    int fired = 0;

    json_object_set_new(ev, "name", json_string(name));
    json_object_set_new(ev, "severity", json_string(severity ? severity : ""));
    events_emit(EVT_ALERT, ev);
    for (int i = 0; i < t->nrules; i++) {
        const struct rb_trigger *r = &t->rules[i];
        if (!r->alert || (strcmp(r->alert, "*") != 0 &&
                          strcmp(r->alert, name) != 0))
            continue;
        if (!in_stages(r, m->state, m->resume_state))
            continue;
        fire(t, i, 0);
        fired++;
    }
    if (fired)
        persist(t);
    return fired;
}

json_t *trigger_engine_status(struct trigger_engine *t)
{
    json_t *a = json_array();
    char desc[512];

    for (int i = 0; i < t->nrules; i++) {
        trigger_describe(&t->rules[i], desc, sizeof desc);
        json_array_append_new(a, json_pack(
            "{ss ss sb si sf}", "name", t->rules[i].name, "rule", desc,
            "breached", t->st[i].since > 0, "firings", t->st[i].firings,
            "since", t->st[i].since));
    }
    return a;
}

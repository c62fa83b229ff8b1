/*
 * cutover_fsm.c — the cutover sub-steps' transition table and
 * migration_cutover_step(), the only place the sub-step and `switched`
 * change (see cutover_fsm.h for the table and what entering each does).
 */
#include "checkpoints/cutover_fsm.h"

#include "lib/backoff.h"
#include "lib/events.h"
#include "lib/log.h"
#include "checkpoints/migration.h"
#include "lib/names.h"

#define MAX_BACKOFF_S 30.0

static const char *const step_names[] = {
#define X(id, name) name,
    CUTOVER_STEPS(X)
#undef X
};

const char *cutover_step_name(enum cutover_step s)
{
    return names_at(step_names, CUT__COUNT, (int)s);
}

int cutover_step_by_name(const char *name)
{
    return names_index(step_names, CUT__COUNT, name);
}

int cutover_step_is_switched(enum cutover_step s)
{
    return s == CUT_SWITCH || s == CUT_SWITCHED || s == CUT_UNSWITCH;
}

/* The legal next steps of each step, as a bit set. */
#define BIT(s) (1u << CUT_##s)
static const unsigned next_steps[CUT__COUNT] = {
    [CUT_READY]    = BIT(PREPARE),
    [CUT_PREPARE]  = BIT(LOCK) | BIT(READY),
    [CUT_LOCK]     = BIT(DRAIN) | BIT(READY) | BIT(SWITCH),
    [CUT_DRAIN]    = BIT(REVERIFY) | BIT(READY) | BIT(SWITCH),
    [CUT_REVERIFY] = BIT(FENCE) | BIT(READY) | BIT(SWITCH),
    [CUT_FENCE]    = BIT(SWITCH) | BIT(READY),
    [CUT_SWITCH]   = BIT(SWITCHED) | BIT(UNSWITCH),
    [CUT_SWITCHED] = 0,
    [CUT_UNSWITCH] = BIT(READY),
};
#undef BIT

int cutover_step_allowed(enum cutover_step from, enum cutover_step to)
{
    return (unsigned)from < CUT__COUNT && (unsigned)to < CUT__COUNT &&
           (next_steps[from] & (1u << to)) != 0;
}

/* ---- what entering each step does (m->mu held) --------------------------- */

static void enter_ready(struct migration *m, enum cutover_step from)
{
    if (from == CUT_UNSWITCH) {
        /* switch_back ran and the target's changes came back: traffic is
         * on the source again. */
        m->switched = 0;
        m->cut.switch_done = 0;
    }
    /* An attempt ended before the switch: count it and wait before the
     * next (1 s doubling, at most MAX_BACKOFF_S). */
    m->cut.attempt++;
    m->cut.next_attempt_at =
        now_s() + backoff_delay(1.0, MAX_BACKOFF_S, m->cut.attempt);
}

static void enter_prepare(struct migration *m, enum cutover_step from)
{
    (void)from;
    json_decref(m->cut.steps_ms);
    m->cut.steps_ms = json_object();
}

static void enter_switch(struct migration *m, enum cutover_step from)
{
    (void)from;
    /* Only reached once the fence committed (or was found on resume):
     * the source refuses writes, traffic belongs to the target. */
    m->switched = 1;
}

static void (*const on_enter[CUT__COUNT])(struct migration *,
                                          enum cutover_step) = {
    [CUT_READY] = enter_ready,
    [CUT_PREPARE] = enter_prepare,
    [CUT_SWITCH] = enter_switch,
};

int migration_cutover_step(struct migration *m, enum cutover_step to,
                           enum cutover_step *left, struct co_err *err)
{
    enum cutover_step from;

    pthread_mutex_lock(&m->mu);
    from = m->cut.step;
    if (!cutover_step_allowed(from, to)) {
        pthread_mutex_unlock(&m->mu);
        return co_errf(err, CO_ESTATE, "cutover step %s cannot follow "
                       "step %s", cutover_step_name(to),
                       cutover_step_name(from));
    }
    m->cut.step = to;
    if (on_enter[to])
        on_enter[to](m, from);
    if (!m->cut.steps_ms)
        m->cut.steps_ms = json_object();
    migration_assert_state(m);
    pthread_mutex_unlock(&m->mu);
    if (left)
        *left = from;
    log_debug("cutover step %s → %s", cutover_step_name(from),
              cutover_step_name(to));
    return 0;
}

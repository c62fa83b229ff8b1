/*
 * migration_invariants.c — migration_check_state(): the invariants of
 * migration.h that the model records (state, resume_state, the cutover
 * sub-step, `switched`, switch actions done, the tables' copy), checked
 * after every transition and sub-step and on every checkpoint read, so a
 * bug or a forged file is stopped before it acts on both sides at once.
 */
#include <stdlib.h>

#include "lib/log.h"
#include "checkpoints/migration.h"

#define BROKEN(...) co_errf(err, CO_ESTATE, "invariant broken: " __VA_ARGS__)

static int running(enum fsm_state s)
{
    return fsm_state_is_stage(s) || s == ST_ABORTING || s == ST_ROLLING_BACK;
}

/* The state whose invariants apply: paused and failed keep those of the
 * state they left. */
static enum fsm_state effective_state(const struct migration *m)
{
    return m->state == ST_PAUSED || m->state == ST_FAILED ? m->resume_state
                                                          : m->state;
}

static int check_resume_state(const struct migration *m, struct co_err *err)
{
    if (running(m->state) && m->resume_state != m->state)
        return BROKEN("state %s has resume_state %s (a running state "
                      "resumes into itself)", fsm_state_name(m->state),
                      fsm_state_name(m->resume_state));
    if ((m->state == ST_PAUSED || m->state == ST_FAILED) &&
        !running(m->resume_state))
        return BROKEN("state %s would resume into %s, which is not a "
                      "running state", fsm_state_name(m->state),
                      fsm_state_name(m->resume_state));
    return 0;
}

/* `switched` against the state and the cutover sub-step. */
static int check_switch(const struct migration *m, enum fsm_state at,
                        struct co_err *err)
{
    enum cutover_step step = m->cut.step;
    int before = at == ST_NEW || at == ST_ABORTING || at == ST_ABORTED ||
                 (fsm_state_is_stage(at) && at < ST_CUTOVER);
    int after = at == ST_POST_VALIDATE || at == ST_COMPLETED ||
                at == ST_ROLLING_BACK || at == ST_ROLLED_BACK;

    if ((unsigned)step >= CUT__COUNT)
        return BROKEN("cutover step %d is not a step", (int)step);
    if (m->switched != cutover_step_is_switched(step))
        return BROKEN("switched is %s in cutover step %s",
                      m->switched ? "true" : "false", cutover_step_name(step));
    if (before && m->switched)
        return BROKEN("switched is true in state %s, before the cutover",
                      fsm_state_name(at));
    if (after && !m->switched)
        return BROKEN("switched is false in state %s, after the cutover",
                      fsm_state_name(at));
    if (at < ST_CUTOVER && at != ST_NEW && fsm_state_is_stage(at) &&
        step != CUT_READY)
        return BROKEN("cutover step %s in state %s (it is ready until the "
                      "cutover)", cutover_step_name(step), fsm_state_name(at));
    if ((at == ST_POST_VALIDATE || at == ST_COMPLETED) &&
        step != CUT_SWITCHED)
        return BROKEN("cutover step %s in state %s (the cutover finished)",
                      cutover_step_name(step), fsm_state_name(at));
    if (m->cut.switch_done < 0 ||
        (m->rb && m->cut.switch_done > m->rb->cutover.nswitch))
        return BROKEN("%d switch actions done of %d", m->cut.switch_done,
                      m->rb ? m->rb->cutover.nswitch : 0);
    if (m->cut.switch_done > 0 && !m->switched)
        return BROKEN("%d switch actions done in cutover step %s, before the "
                      "fence", m->cut.switch_done, cutover_step_name(step));
    return 0;
}

/* From sync on, every table's copy is done. */
static int check_copy(const struct migration *m, enum fsm_state at,
                      struct co_err *err)
{
    if (!(fsm_state_is_stage(at) && at >= ST_SYNC) && at != ST_COMPLETED)
        return 0;
    for (int i = 0; i < m->ntables; i++)
        if (!m->tables[i].copy_done)
            return BROKEN("table %s is not copied in state %s",
                          m->tables[i].t->name, fsm_state_name(at));
    return 0;
}

int migration_check_state(const struct migration *m, struct co_err *err)
{
    enum fsm_state at = effective_state(m);

    if ((unsigned)m->state >= ST__COUNT || (unsigned)m->resume_state >= ST__COUNT)
        return BROKEN("state %d / resume_state %d out of range",
                      (int)m->state, (int)m->resume_state);
    TRY(check_resume_state(m, err));
    TRY(check_switch(m, at, err));
    return check_copy(m, at, err);
}

void migration_assert_state(const struct migration *m)
{
#ifndef NDEBUG
    struct co_err err = {0};

    if (migration_check_state(m, &err) == 0)
        return;
    log_error("%s (state %s, resume_state %s, cutover step %s)",
              co_err_text(&err), fsm_state_name(m->state),
              fsm_state_name(m->resume_state),
              cutover_step_name(m->cut.step));
    abort();
#else
    (void)m;
#endif
}

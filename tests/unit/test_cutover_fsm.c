/*
 * test_cutover_fsm.c — orchestrator/cutover_fsm.c: the cutover sub-steps'
 * transition table, migration_cutover_step() (the one setter, and the only
 * place `switched` changes) and migration_check_state()/assert_state (the
 * model's invariants, orchestrator/migration_invariants.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>

#include "lib/events.h"
#include "lib/log.h"
#include "checkpoints/migration.h"
#include "tests/unit/unit_util.h"

struct pair {
    enum cutover_step from, to;
};

/* Every legal sub-step transition (cutover_fsm.h); anything else is
 * refused. */
static const struct pair legal[] = {
    {CUT_READY, CUT_PREPARE},
    {CUT_PREPARE, CUT_LOCK},     {CUT_PREPARE, CUT_READY},
    {CUT_LOCK, CUT_DRAIN},       {CUT_LOCK, CUT_READY},
    {CUT_LOCK, CUT_SWITCH},
    {CUT_DRAIN, CUT_REVERIFY},   {CUT_DRAIN, CUT_READY},
    {CUT_DRAIN, CUT_SWITCH},
    {CUT_REVERIFY, CUT_FENCE},   {CUT_REVERIFY, CUT_READY},
    {CUT_REVERIFY, CUT_SWITCH},
    {CUT_FENCE, CUT_SWITCH},     {CUT_FENCE, CUT_READY},
    {CUT_SWITCH, CUT_SWITCHED},  {CUT_SWITCH, CUT_UNSWITCH},
    {CUT_UNSWITCH, CUT_READY},
};
#define NLEGAL (sizeof legal / sizeof legal[0])

static int is_legal(enum cutover_step from, enum cutover_step to)
{
    for (size_t i = 0; i < NLEGAL; i++)
        if (legal[i].from == from && legal[i].to == to)
            return 1;
    return 0;
}

/* A model in the cutover state at `step`, consistent with it. */
static struct migration *model_at(enum cutover_step step)
{
    struct migration *m = migration_new(NULL);

    assert_non_null(m);
    m->state = m->resume_state = ST_CUTOVER;
    m->cut.step = step;
    m->switched = cutover_step_is_switched(step);
    assert_int_equal(migration_check_state(m, &(struct co_err){0}), 0);
    return m;
}

static void table_is_exactly_the_legal_list(void **state)
{
    (void)state;
    for (int f = 0; f < CUT__COUNT; f++)
        for (int t = 0; t < CUT__COUNT; t++)
            if (cutover_step_allowed(f, t) != is_legal(f, t))
                fail_msg("%s → %s: table says %s, expected %s",
                         cutover_step_name(f), cutover_step_name(t),
                         cutover_step_allowed(f, t) ? "legal" : "illegal",
                         is_legal(f, t) ? "legal" : "illegal");
}

static void every_legal_step_is_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < NLEGAL; i++) {
        struct migration *m = model_at(legal[i].from);
        struct co_err err = {0};
        enum cutover_step left = CUT__COUNT;

        if (migration_cutover_step(m, legal[i].to, &left, &err) != 0)
            fail_msg("%s → %s refused: %s", cutover_step_name(legal[i].from),
                     cutover_step_name(legal[i].to), err.msg);
        assert_int_equal(m->cut.step, legal[i].to);
        assert_int_equal(left, legal[i].from);
        assert_int_equal(m->switched, cutover_step_is_switched(legal[i].to));
        assert_int_equal(migration_check_state(m, &err), 0);
        migration_free(m);
    }
}

static void illegal_step_is_refused_naming_both(void **state)
{
    struct migration *m = model_at(CUT_READY);
    struct co_err err = {0};

    (void)state;
    /* Straight to the switch, skipping the lock and the fence. */
    assert_int_equal(migration_cutover_step(m, CUT_SWITCH, NULL, &err),
                     CO_ESTATE);
    assert_string_equal(err.msg, "cutover step switch cannot follow step "
                                 "ready");
    assert_int_equal(m->cut.step, CUT_READY);
    assert_int_equal(m->switched, 0);
    migration_free(m);

    /* Nothing follows switched. */
    m = model_at(CUT_SWITCHED);
    assert_int_equal(migration_cutover_step(m, CUT_READY, NULL, &err),
                     CO_ESTATE);
    assert_string_equal(err.msg, "cutover step ready cannot follow step "
                                 "switched");
    assert_int_equal(m->switched, 1);
    migration_free(m);
}

static void entering_switch_sets_and_ready_clears_switched(void **state)
{
    struct migration *m = model_at(CUT_FENCE);
    struct co_err err = {0};

    (void)state;
    assert_int_equal(migration_cutover_step(m, CUT_SWITCH, NULL, &err), 0);
    assert_int_equal(m->switched, 1);
    m->cut.switch_done = 1;                 /* one switch action ran */
    assert_int_equal(migration_cutover_step(m, CUT_UNSWITCH, NULL, &err), 0);
    assert_int_equal(m->switched, 1);
    assert_int_equal(migration_cutover_step(m, CUT_READY, NULL, &err), 0);
    assert_int_equal(m->switched, 0);
    assert_int_equal(m->cut.switch_done, 0);
    assert_int_equal(m->cut.attempt, 1);    /* the attempt counted */
    assert_true(m->cut.next_attempt_at > now_s());
    migration_free(m);
}

/* ---- migration_check_state / migration_assert_state ---------------------- */

static void planted_inconsistencies_are_named(void **state)
{
    static const struct {
        enum fsm_state st, resume;
        enum cutover_step step;
        int switched, switch_done;
        const char *says;
    } planted[] = {
        {ST_SYNC, ST_SYNC, CUT_READY, 1, 0,
         "switched is true in cutover step ready"},
        {ST_CUTOVER, ST_CUTOVER, CUT_SWITCH, 0, 0,
         "switched is false in cutover step switch"},
        {ST_SYNC, ST_SYNC, CUT_DRAIN, 0, 0,
         "cutover step drain in state sync"},
        {ST_POST_VALIDATE, ST_POST_VALIDATE, CUT_SWITCH, 1, 0,
         "cutover step switch in state post_validate"},
        {ST_ABORTING, ST_ABORTING, CUT_SWITCHED, 1, 0,
         "switched is true in state aborting"},
        {ST_PAUSED, ST_BULK_COPY, CUT_SWITCHED, 1, 0,
         "switched is true in state bulk_copy"},
        {ST_CUTOVER, ST_CUTOVER, CUT_FENCE, 0, 1,
         "1 switch actions done in cutover step fence"},
        {ST_CUTOVER, ST_SYNC, CUT_READY, 0, 0,
         "state cutover has resume_state sync"},
        {ST_PAUSED, ST_PAUSED, CUT_READY, 0, 0,
         "state paused would resume into paused"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++) {
        struct migration *m = migration_new(NULL);
        struct co_err err = {0};

        m->state = planted[i].st;
        m->resume_state = planted[i].resume;
        m->cut.step = planted[i].step;
        m->switched = planted[i].switched;
        m->cut.switch_done = planted[i].switch_done;
        if (migration_check_state(m, &err) != CO_ESTATE)
            fail_msg("planted #%zu (%s) not caught", i, planted[i].says);
        assert_contains(err.msg, "invariant broken: ");
        assert_contains(err.msg, planted[i].says);
        migration_free(m);
    }
}

/* The assertion stops the process (in a child) on a planted bug. */
static void assert_state_aborts_on_a_planted_bug(void **state)
{
    struct migration *m = model_at(CUT_READY);
    int status;
    pid_t pid;

    (void)state;
    migration_assert_state(m);             /* consistent: returns */
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        m->switched = 1;                   /* traffic "moved" without fence */
        migration_assert_state(m);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    migration_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_is_exactly_the_legal_list),
        cmocka_unit_test(every_legal_step_is_accepted),
        cmocka_unit_test(illegal_step_is_refused_naming_both),
        cmocka_unit_test(entering_switch_sets_and_ready_clears_switched),
        cmocka_unit_test(planted_inconsistencies_are_named),
        cmocka_unit_test(assert_state_aborts_on_a_planted_bug),
    };

    log_set_quiet(1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

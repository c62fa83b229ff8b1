/*
 * test_fsm.c — checkpoints/fsm.c: the transition table of DESIGN §4 and
 * the state/event names.
 *
 * Legal and illegal transitions are tables of {from, event, switched,
 * resume_state, expected}; each row is checked against fsm_next() and a
 * failure names the row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "checkpoints/fsm.h"

struct row {
    enum fsm_state from;
    enum fsm_event ev;
    int switched;
    enum fsm_state resume;      /* the state a pause/failure left */
    int to;                     /* expected: a state, or -1 */
};

static void check_rows(const struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        int got = fsm_next(r->from, r->ev, r->switched, r->resume);
        if (got != r->to)
            fail_msg("%s --%s--> (switched=%d, resume_state=%s): expected "
                     "%s, got %s", fsm_state_name(r->from),
                     fsm_event_name(r->ev), r->switched,
                     fsm_state_name(r->resume),
                     r->to < 0 ? "refusal (-1)" : fsm_state_name(r->to),
                     got < 0 ? "refusal (-1)" : fsm_state_name(got));
    }
}

#define CHECK(rows) check_rows(rows, sizeof rows / sizeof rows[0])

static const enum fsm_state stages[] = {
    ST_PRE_VALIDATE, ST_BULK_COPY, ST_SYNC, ST_VERIFY, ST_CUTOVER,
    ST_POST_VALIDATE};
#define NSTAGES (sizeof stages / sizeof stages[0])

/* ---- legal transitions -------------------------------------------------- */

static void happy_path_runs_from_new_to_completed(void **state)
{
    static const struct row rows[] = {
        {ST_NEW, EV_START, 0, ST_NEW, ST_PRE_VALIDATE},
        {ST_PRE_VALIDATE, EV_DONE, 0, ST_PRE_VALIDATE, ST_BULK_COPY},
        {ST_BULK_COPY, EV_DONE, 0, ST_BULK_COPY, ST_SYNC},
        {ST_SYNC, EV_DONE, 0, ST_SYNC, ST_VERIFY},
        {ST_VERIFY, EV_DONE, 0, ST_VERIFY, ST_CUTOVER},
        {ST_CUTOVER, EV_DONE, 1, ST_CUTOVER, ST_POST_VALIDATE},
        {ST_POST_VALIDATE, EV_DONE, 1, ST_POST_VALIDATE, ST_COMPLETED},
    };
    (void)state;
    CHECK(rows);
}

static void every_stage_pauses_and_resumes_into_itself(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSTAGES; i++)
        for (int sw = 0; sw <= 1; sw++) {
            const struct row rows[] = {
                {stages[i], EV_PAUSE, sw, stages[i], ST_PAUSED},
                {ST_PAUSED, EV_RESUME, sw, stages[i], (int)stages[i]},
            };
            CHECK(rows);
        }
}

static void abort_before_the_switch_leads_to_aborted(void **state)
{
    static const struct row rows[] = {
        {ST_NEW, EV_ABORT, 0, ST_NEW, ST_ABORTING},
        {ST_PRE_VALIDATE, EV_ABORT, 0, ST_PRE_VALIDATE, ST_ABORTING},
        {ST_BULK_COPY, EV_ABORT, 0, ST_BULK_COPY, ST_ABORTING},
        {ST_SYNC, EV_ABORT, 0, ST_SYNC, ST_ABORTING},
        {ST_VERIFY, EV_ABORT, 0, ST_VERIFY, ST_ABORTING},
        {ST_CUTOVER, EV_ABORT, 0, ST_CUTOVER, ST_ABORTING},
        {ST_PAUSED, EV_ABORT, 0, ST_SYNC, ST_ABORTING},
        {ST_FAILED, EV_ABORT, 0, ST_BULK_COPY, ST_ABORTING},
        {ST_ABORTING, EV_DONE, 0, ST_ABORTING, ST_ABORTED},
    };
    (void)state;
    CHECK(rows);
}

static void rollback_after_the_switch_leads_to_rolled_back(void **state)
{
    static const struct row rows[] = {
        {ST_CUTOVER, EV_ROLLBACK, 1, ST_CUTOVER, ST_ROLLING_BACK},
        {ST_POST_VALIDATE, EV_ROLLBACK, 1, ST_POST_VALIDATE, ST_ROLLING_BACK},
        {ST_PAUSED, EV_ROLLBACK, 1, ST_POST_VALIDATE, ST_ROLLING_BACK},
        {ST_FAILED, EV_ROLLBACK, 1, ST_POST_VALIDATE, ST_ROLLING_BACK},
        {ST_ROLLING_BACK, EV_DONE, 1, ST_ROLLING_BACK, ST_ROLLED_BACK},
    };
    (void)state;
    CHECK(rows);
}

static void cutover_reverts_to_sync_before_the_switch(void **state)
{
    static const struct row rows[] = {
        {ST_CUTOVER, EV_REVERT, 0, ST_CUTOVER, ST_SYNC},
    };
    (void)state;
    CHECK(rows);
}

static void every_working_state_fails_and_resumes_where_it_failed(
    void **state)
{
    static const enum fsm_state working[] = {
        ST_PRE_VALIDATE, ST_BULK_COPY, ST_SYNC, ST_VERIFY, ST_CUTOVER,
        ST_POST_VALIDATE, ST_ABORTING, ST_ROLLING_BACK};

    (void)state;
    for (size_t i = 0; i < sizeof working / sizeof working[0]; i++) {
        int sw = working[i] == ST_POST_VALIDATE ||
                 working[i] == ST_ROLLING_BACK;
        const struct row rows[] = {
            {working[i], EV_FAIL, sw, working[i], ST_FAILED},
            {ST_FAILED, EV_RESUME, sw, working[i], (int)working[i]},
        };
        CHECK(rows);
    }
}

/* ---- illegal transitions ------------------------------------------------ */

static void nothing_leaves_a_terminal_state(void **state)
{
    static const enum fsm_state terminal[] = {ST_COMPLETED, ST_ABORTED,
                                              ST_ROLLED_BACK};

    (void)state;
    for (size_t i = 0; i < 3; i++)
        for (int ev = 0; ev < EV__COUNT; ev++)
            for (int sw = 0; sw <= 1; sw++)
                for (size_t r = 0; r < NSTAGES; r++) {
                    const struct row row = {terminal[i], (enum fsm_event)ev,
                                            sw, stages[r], -1};
                    check_rows(&row, 1);
                }
}

static void abort_is_refused_once_switched(void **state)
{
    static const struct row rows[] = {
        {ST_CUTOVER, EV_ABORT, 1, ST_CUTOVER, -1},
        {ST_POST_VALIDATE, EV_ABORT, 1, ST_POST_VALIDATE, -1},
        {ST_PAUSED, EV_ABORT, 1, ST_POST_VALIDATE, -1},
        {ST_FAILED, EV_ABORT, 1, ST_POST_VALIDATE, -1},
    };
    (void)state;
    CHECK(rows);
}

static void rollback_is_refused_before_the_switch(void **state)
{
    static const struct row rows[] = {
        {ST_NEW, EV_ROLLBACK, 0, ST_NEW, -1},
        {ST_BULK_COPY, EV_ROLLBACK, 0, ST_BULK_COPY, -1},
        {ST_SYNC, EV_ROLLBACK, 0, ST_SYNC, -1},
        {ST_VERIFY, EV_ROLLBACK, 0, ST_VERIFY, -1},
        {ST_CUTOVER, EV_ROLLBACK, 0, ST_CUTOVER, -1},
        {ST_PAUSED, EV_ROLLBACK, 0, ST_SYNC, -1},
        {ST_FAILED, EV_ROLLBACK, 0, ST_SYNC, -1},
    };
    (void)state;
    CHECK(rows);
}

static void paused_refuses_pause_and_done(void **state)
{
    static const struct row rows[] = {
        {ST_PAUSED, EV_PAUSE, 0, ST_SYNC, -1},
        {ST_PAUSED, EV_DONE, 0, ST_SYNC, -1},
        {ST_PAUSED, EV_DONE, 1, ST_POST_VALIDATE, -1},
        {ST_PAUSED, EV_START, 0, ST_SYNC, -1},
    };
    (void)state;
    CHECK(rows);
}

static void resume_into_a_non_stage_is_refused(void **state)
{
    static const struct row rows[] = {
        {ST_PAUSED, EV_RESUME, 0, ST_PAUSED, -1},
        {ST_PAUSED, EV_RESUME, 0, ST_NEW, -1},
        {ST_PAUSED, EV_RESUME, 0, ST_FAILED, -1},
        {ST_PAUSED, EV_RESUME, 1, ST_COMPLETED, -1},
        {ST_FAILED, EV_RESUME, 0, ST_FAILED, -1},
        {ST_FAILED, EV_RESUME, 0, ST_ABORTED, -1},
        {ST_FAILED, EV_RESUME, 1, ST_ROLLED_BACK, -1},
    };
    (void)state;
    CHECK(rows);
}

static void resume_is_refused_outside_paused_and_failed(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSTAGES; i++) {
        const struct row row = {stages[i], EV_RESUME, 0, stages[i], -1};
        check_rows(&row, 1);
    }
}

static void switch_guards_on_cutover_done_and_revert(void **state)
{
    static const struct row rows[] = {
        {ST_CUTOVER, EV_DONE, 0, ST_CUTOVER, -1},      /* not switched yet */
        {ST_CUTOVER, EV_REVERT, 1, ST_CUTOVER, -1},    /* too late */
        {ST_POST_VALIDATE, EV_DONE, 0, ST_POST_VALIDATE, -1},
        {ST_SYNC, EV_REVERT, 0, ST_SYNC, -1},
    };
    (void)state;
    CHECK(rows);
}

static void start_only_from_new(void **state)
{
    (void)state;
    for (int s = ST_PRE_VALIDATE; s < ST__COUNT; s++) {
        const struct row row = {(enum fsm_state)s, EV_START, 0, ST_SYNC, -1};
        check_rows(&row, 1);
    }
}

/* ---- names -------------------------------------------------------------- */

static void state_names_round_trip(void **state)
{
    static const char *const names[ST__COUNT] = {
        "new", "pre_validate", "bulk_copy", "sync", "verify", "cutover",
        "post_validate", "completed", "paused", "aborting", "aborted",
        "rolling_back", "rolled_back", "failed"};

    (void)state;
    for (int s = 0; s < ST__COUNT; s++) {
        assert_string_equal(fsm_state_name((enum fsm_state)s), names[s]);
        assert_int_equal(fsm_state_by_name(names[s]), s);
    }
    assert_int_equal(fsm_state_by_name("running"), -1);
    assert_int_equal(fsm_state_by_name("SYNC"), -1);
    assert_int_equal(fsm_state_by_name(""), -1);
    assert_string_equal(fsm_state_name(ST__COUNT), "?");
}

static void event_names_round_trip(void **state)
{
    static const char *const names[EV__COUNT] = {
        "start", "done", "pause", "resume", "abort", "rollback", "revert",
        "fail"};

    (void)state;
    for (int e = 0; e < EV__COUNT; e++) {
        assert_string_equal(fsm_event_name((enum fsm_event)e), names[e]);
        assert_int_equal(fsm_event_by_name(names[e]), e);
    }
    assert_int_equal(fsm_event_by_name("stop"), -1);
    assert_string_equal(fsm_event_name(EV__COUNT), "?");
}

static void stage_and_terminal_predicates(void **state)
{
    (void)state;
    for (int s = 0; s < ST__COUNT; s++) {
        int is_stage = s >= ST_PRE_VALIDATE && s <= ST_POST_VALIDATE;
        int is_terminal = s == ST_COMPLETED || s == ST_ABORTED ||
                          s == ST_ROLLED_BACK;
        assert_int_equal(!!fsm_state_is_stage((enum fsm_state)s), is_stage);
        assert_int_equal(!!fsm_state_is_terminal((enum fsm_state)s),
                         is_terminal);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(happy_path_runs_from_new_to_completed),
        cmocka_unit_test(every_stage_pauses_and_resumes_into_itself),
        cmocka_unit_test(abort_before_the_switch_leads_to_aborted),
        cmocka_unit_test(rollback_after_the_switch_leads_to_rolled_back),
        cmocka_unit_test(cutover_reverts_to_sync_before_the_switch),
        cmocka_unit_test(every_working_state_fails_and_resumes_where_it_failed),
        cmocka_unit_test(nothing_leaves_a_terminal_state),
        cmocka_unit_test(abort_is_refused_once_switched),
        cmocka_unit_test(rollback_is_refused_before_the_switch),
        cmocka_unit_test(paused_refuses_pause_and_done),
        cmocka_unit_test(resume_into_a_non_stage_is_refused),
        cmocka_unit_test(resume_is_refused_outside_paused_and_failed),
        cmocka_unit_test(switch_guards_on_cutover_done_and_revert),
        cmocka_unit_test(start_only_from_new),
        cmocka_unit_test(state_names_round_trip),
        cmocka_unit_test(event_names_round_trip),
        cmocka_unit_test(stage_and_terminal_predicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

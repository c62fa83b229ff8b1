/*
 * fsm.h — the migration's states, events and the one transition table
 * (DESIGN §4).
 *
 *   new → pre_validate → bulk_copy → sync → verify → cutover
 *       → post_validate → completed
 *   running stage --pause--> paused --resume--> (the state it left)
 *   before the switch --abort--> aborting --done--> aborted
 *   after the switch --rollback--> rolling_back --done--> rolled_back
 *   cutover --revert--> sync          (write pause overrun, switch failed)
 *   running stage --fail--> failed --resume--> (the state it failed in)
 *
 * fsm_next() only answers "where does this event lead"; the single function
 * that actually changes the state, migration_transition(), lives in
 * migration.c and does everything a transition must (checkpoint, event,
 * hooks). Invariants of each state are in migration.h.
 */
#ifndef CO_FSM_H
#define CO_FSM_H

#define FSM_STATES(X)                                                        \
    X(NEW,           "new")                                                 \
    X(PRE_VALIDATE,  "pre_validate")                                        \
    X(BULK_COPY,     "bulk_copy")                                           \
    X(SYNC,          "sync")                                                \
    X(VERIFY,        "verify")                                              \
    X(CUTOVER,       "cutover")                                             \
    X(POST_VALIDATE, "post_validate")                                       \
    X(COMPLETED,     "completed")                                           \
    X(PAUSED,        "paused")                                              \
    X(ABORTING,      "aborting")                                            \
    X(ABORTED,       "aborted")                                             \
    X(ROLLING_BACK,  "rolling_back")                                        \
    X(ROLLED_BACK,   "rolled_back")                                         \
    X(FAILED,        "failed")

#define FSM_EVENTS(X)                                                        \
    X(START,    "start")                                                    \
    X(DONE,     "done")                                                     \
    X(PAUSE,    "pause")                                                    \
    X(RESUME,   "resume")                                                   \
    X(ABORT,    "abort")                                                    \
    X(ROLLBACK, "rollback")                                                 \
    X(REVERT,   "revert")                                                   \
    X(FAIL,     "fail")

enum fsm_state {
#define X(id, name) ST_##id,
    FSM_STATES(X)
#undef X
    ST__COUNT
};

enum fsm_event {
#define X(id, name) EV_##id,
    FSM_EVENTS(X)
#undef X
    EV__COUNT
};

const char *fsm_state_name(enum fsm_state s);
const char *fsm_event_name(enum fsm_event e);
int fsm_state_by_name(const char *name);   /* -1 when unknown */
int fsm_event_by_name(const char *name);

/* A stage that does work (pre_validate .. post_validate). */
int fsm_state_is_stage(enum fsm_state s);
/* completed, aborted, rolled_back: nothing more will happen. */
int fsm_state_is_terminal(enum fsm_state s);

/* Where `event` leads from `from`, or -1 when the table has no such
 * transition. `switched` says whether traffic has moved to the target
 * (abort is only possible before, rollback only after); `resume_state` is
 * the state a pause or failure left. */
int fsm_next(enum fsm_state from, enum fsm_event event, int switched,
             enum fsm_state resume_state);

#endif

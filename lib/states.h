/*
 * states.h — the names of the migration's states and events (DESIGN §4),
 * on the bottom floor because runbooks, events and checkpoints all speak
 * of them. Which state an event leads to is checkpoints/fsm.h's table.
 */
#ifndef CO_STATES_H
#define CO_STATES_H

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

#endif

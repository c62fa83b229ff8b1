/* fsm.c — the transition table. */
#include "checkpoints/fsm.h"

#include <stddef.h>
#include "lib/names.h"

enum guard { ANY, BEFORE_SWITCH, AFTER_SWITCH };

/* `to` of ST__COUNT means "the state recorded in resume_state". */
#define RESUME_STATE ST__COUNT

struct transition {
    enum fsm_state from;
    enum fsm_event event;
    enum fsm_state to;
    enum guard guard;
};

static const struct transition table[] = {
    {ST_NEW,           EV_START,    ST_PRE_VALIDATE, ANY},
    {ST_PRE_VALIDATE,  EV_DONE,     ST_BULK_COPY,    ANY},
    {ST_BULK_COPY,     EV_DONE,     ST_SYNC,         ANY},
    {ST_SYNC,          EV_DONE,     ST_VERIFY,       ANY},
    {ST_VERIFY,        EV_DONE,     ST_CUTOVER,      ANY},
    {ST_CUTOVER,       EV_DONE,     ST_POST_VALIDATE, AFTER_SWITCH},
    {ST_CUTOVER,       EV_REVERT,   ST_SYNC,         BEFORE_SWITCH},
    {ST_POST_VALIDATE, EV_DONE,     ST_COMPLETED,    AFTER_SWITCH},

    {ST_PRE_VALIDATE,  EV_PAUSE,    ST_PAUSED,       ANY},
    {ST_BULK_COPY,     EV_PAUSE,    ST_PAUSED,       ANY},
    {ST_SYNC,          EV_PAUSE,    ST_PAUSED,       ANY},
    {ST_VERIFY,        EV_PAUSE,    ST_PAUSED,       ANY},
    {ST_CUTOVER,       EV_PAUSE,    ST_PAUSED,       ANY},
    {ST_POST_VALIDATE, EV_PAUSE,    ST_PAUSED,       ANY},
    {ST_PAUSED,        EV_RESUME,   RESUME_STATE,    ANY},

    {ST_NEW,           EV_ABORT,    ST_ABORTING,     BEFORE_SWITCH},
    {ST_PRE_VALIDATE,  EV_ABORT,    ST_ABORTING,     BEFORE_SWITCH},
    {ST_BULK_COPY,     EV_ABORT,    ST_ABORTING,     BEFORE_SWITCH},
    {ST_SYNC,          EV_ABORT,    ST_ABORTING,     BEFORE_SWITCH},
    {ST_VERIFY,        EV_ABORT,    ST_ABORTING,     BEFORE_SWITCH},
    {ST_CUTOVER,       EV_ABORT,    ST_ABORTING,     BEFORE_SWITCH},
    {ST_PAUSED,        EV_ABORT,    ST_ABORTING,     BEFORE_SWITCH},
    {ST_FAILED,        EV_ABORT,    ST_ABORTING,     BEFORE_SWITCH},
    {ST_ABORTING,      EV_DONE,     ST_ABORTED,      BEFORE_SWITCH},

    {ST_CUTOVER,       EV_ROLLBACK, ST_ROLLING_BACK, AFTER_SWITCH},
    {ST_POST_VALIDATE, EV_ROLLBACK, ST_ROLLING_BACK, AFTER_SWITCH},
    {ST_PAUSED,        EV_ROLLBACK, ST_ROLLING_BACK, AFTER_SWITCH},
    {ST_FAILED,        EV_ROLLBACK, ST_ROLLING_BACK, AFTER_SWITCH},
    {ST_ROLLING_BACK,  EV_DONE,     ST_ROLLED_BACK,  AFTER_SWITCH},

    {ST_PRE_VALIDATE,  EV_FAIL,     ST_FAILED,       ANY},
    {ST_BULK_COPY,     EV_FAIL,     ST_FAILED,       ANY},
    {ST_SYNC,          EV_FAIL,     ST_FAILED,       ANY},
    {ST_VERIFY,        EV_FAIL,     ST_FAILED,       ANY},
    {ST_CUTOVER,       EV_FAIL,     ST_FAILED,       ANY},
    {ST_POST_VALIDATE, EV_FAIL,     ST_FAILED,       ANY},
    {ST_ABORTING,      EV_FAIL,     ST_FAILED,       ANY},
    {ST_ROLLING_BACK,  EV_FAIL,     ST_FAILED,       ANY},
    {ST_FAILED,        EV_RESUME,   RESUME_STATE,    ANY},
};

int fsm_next(enum fsm_state from, enum fsm_event event, int switched,
             enum fsm_state resume_state)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const struct transition *t = &table[i];
        if (t->from != from || t->event != event)
            continue;
        if ((t->guard == BEFORE_SWITCH && switched) ||
            (t->guard == AFTER_SWITCH && !switched))
            return -1;
        if (t->to == RESUME_STATE) {
            /* A pause or failure never resumes into another pause/failure,
             * nor from outside the stages it can leave. */
            if (!fsm_state_is_stage(resume_state) &&
                resume_state != ST_ABORTING && resume_state != ST_ROLLING_BACK)
                return -1;
            return resume_state;
        }
        return t->to;
    }
    return -1;
}

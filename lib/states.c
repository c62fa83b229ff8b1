/* states.c — the names of states and events, and what each state is. */
#include "lib/states.h"

#include <string.h>

static const char *const state_names[] = {
#define X(id, name) name,
    FSM_STATES(X)
#undef X
};

static const char *const event_names[] = {
#define X(id, name) name,
    FSM_EVENTS(X)
#undef X
};

const char *fsm_state_name(enum fsm_state s)
{
    return (unsigned)s < ST__COUNT ? state_names[s] : "?";
}

const char *fsm_event_name(enum fsm_event e)
{
    return (unsigned)e < EV__COUNT ? event_names[e] : "?";
}

int fsm_state_by_name(const char *name)
{
    for (int i = 0; i < ST__COUNT; i++)
        if (strcmp(state_names[i], name) == 0)
            return i;
    return -1;
}

int fsm_event_by_name(const char *name)
{
    for (int i = 0; i < EV__COUNT; i++)
        if (strcmp(event_names[i], name) == 0)
            return i;
    return -1;
}

int fsm_state_is_stage(enum fsm_state s)
{
    return s >= ST_PRE_VALIDATE && s <= ST_POST_VALIDATE;
}

int fsm_state_is_terminal(enum fsm_state s)
{
    return s == ST_COMPLETED || s == ST_ABORTED || s == ST_ROLLED_BACK;
}

/* states.c — the names of states and events, and what each state is. */
#include "lib/states.h"

#include "lib/names.h"

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
    return names_at(state_names, ST__COUNT, (int)s);
}

const char *fsm_event_name(enum fsm_event e)
{
    return names_at(event_names, EV__COUNT, (int)e);
}

int fsm_state_by_name(const char *name)
{
    return names_index(state_names, ST__COUNT, name);
}

int fsm_event_by_name(const char *name)
{
    return names_index(event_names, EV__COUNT, name);
}

int fsm_state_is_stage(enum fsm_state s)
{
    return s >= ST_PRE_VALIDATE && s <= ST_POST_VALIDATE;
}

int fsm_state_is_terminal(enum fsm_state s)
{
    return s == ST_COMPLETED || s == ST_ABORTED || s == ST_ROLLED_BACK;
}

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

#include "lib/states.h"

/* Where `event` leads from `from`, or -1 when the table has no such
 * transition. `switched` says whether traffic has moved to the target
 * (abort is only possible before, rollback only after); `resume_state` is
 * the state a pause or failure left. */
int fsm_next(enum fsm_state from, enum fsm_event event, int switched,
             enum fsm_state resume_state);

#endif

/*
 * cutover_fsm.h — the cutover stage's sub-steps (DESIGN §5) and their one
 * transition table, like fsm.h for the migration's states.
 *
 *   ready → prepare → lock → drain → reverify → fence → switch → switched
 *   prepare, lock, drain, reverify, fence --attempt given up--> ready
 *   lock, drain, reverify, fence --fence found on resume--> switch
 *   switch --a switch action failed--> unswitch --undone--> ready
 *
 * Entering a step changes the model only through migration_cutover_step()
 * (cutover_fsm.c), which checks this table, runs the step's on-enter
 * function and checks the model's invariants (migration_assert_state):
 *   prepare   a new attempt: the per-step timings start afresh
 *   switch    the source fence is durable: `switched` is set
 *   ready     from an attempt: it counts, and the next waits a backoff;
 *             from unswitch: the switch is undone, `switched` is cleared
 * `switched` is set and cleared nowhere else (a checkpoint read restores
 * it). Invariants: switched ⇔ the step is switch, switched or unswitch;
 * switch actions are counted done only from switch on.
 */
#ifndef CO_CUTOVER_FSM_H
#define CO_CUTOVER_FSM_H

/* Cutover sub-steps, recorded before each runs (DESIGN §5). */
#define CUTOVER_STEPS(X)                                                      \
    X(READY,     "ready")       /* waiting to start (manual mode: for ctl) */ \
    X(PREPARE,   "prepare")     /* reverse capture on, pre-drain */          \
    X(LOCK,      "lock")        /* BEGIN IMMEDIATE on the source */          \
    X(DRAIN,     "drain")                                                    \
    X(REVERIFY,  "reverify")                                                 \
    X(FENCE,     "fence")       /* fence + capture removal, commit */        \
    X(SWITCH,    "switch")      /* switch actions */                         \
    X(SWITCHED,  "switched")                                                 \
    X(UNSWITCH,  "unswitch")    /* a switch action failed: going back */

enum cutover_step {
#define X(id, name) CUT_##id,
    CUTOVER_STEPS(X)
#undef X
    CUT__COUNT
};

const char *cutover_step_name(enum cutover_step s);
int cutover_step_by_name(const char *name);   /* -1 when unknown */

/* May `to` follow `from`? (the table above) */
int cutover_step_allowed(enum cutover_step from, enum cutover_step to);

/* Traffic is on the target in this step (the source fence is durable). */
int cutover_step_is_switched(enum cutover_step s);

#endif

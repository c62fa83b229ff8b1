/*
 * stage.h — the one interface every stage implements (DESIGN §4).
 *
 * The conductor (orchestrator/conductor.c) drives the current state's stage:
 *   enter    — on entering the state, fresh or after a resume; rebuilds
 *              whatever it needs from the checkpointed model and starts
 *              background work. Must be safe to call again after suspend.
 *   step     — a bounded amount of work (about a chunk or a fraction of a
 *              second); returns STEP_MORE, STEP_IDLE (nothing to do right
 *              now: the conductor waits a little on its condition
 *              variable, so a command is taken at once; a step never
 *              sleeps to idle), STEP_DONE (the state's
 *              work is complete), STEP_REVERT (cutover only: back to sync),
 *              or a negative CO_E* error.
 *   suspend  — stop background work at a safe point (chunk boundary) and
 *              make the model checkpointable: before a pause, an abort, a
 *              shutdown.
 *   leave    — release what enter acquired, after DONE/REVERT or suspend.
 *
 * Checkpoint encode/decode: a stage's persistent progress lives in the
 * shared model (struct migration: copy ranges, verify frontiers, cutover
 * sub-step), so one checkpoint write captures every stage at once and a
 * resume decodes it before enter. Stages change that state under m->mu and
 * call migration_save() at their durable points.
 *
 * Stages never include mysql.h or sqlite3.h: they use source_ops/target_ops.
 */
#ifndef CO_STAGE_H
#define CO_STAGE_H

#include "lib/errors.h"
#include "checkpoints/fsm.h"
#include "checkpoints/migration.h"
#include "sync/drivers/source.h"
#include "sync/drivers/target.h"

enum step_result { STEP_MORE = 0, STEP_DONE = 1, STEP_IDLE = 2, STEP_REVERT = 3 };

struct applier;
struct orch;

struct stage_ctx {
    struct migration *m;
    const struct runbook *rb;
    const struct source_ops *sops;
    const struct target_ops *tops;
    struct source *src;          /* the conductor's own connections */
    struct target *tgt;
    struct applier *applier;     /* change-capture applier (spans stages) */
    struct orch *orch;
    volatile int *stop;          /* set: stop at the next safe point */
    void *priv;                  /* the current stage's private state */
};

struct stage {
    const char *name;
    enum fsm_state state;
    int (*enter)(struct stage_ctx *ctx, struct co_err *err);
    int (*step)(struct stage_ctx *ctx, struct co_err *err);
    void (*suspend)(struct stage_ctx *ctx);
    void (*leave)(struct stage_ctx *ctx);
};

/* The stage that does the work of state s, or NULL (new, paused, final). */
const struct stage *stage_for(enum fsm_state s);

struct action_env;

/* The environment switch and switch_back actions run with: CUTOVER_NAME,
 * _RUNBOOK, _STATE_DIR, _DIRECTION ("to_target"/"to_source") and
 * _TARGET_DATABASE/_SOCKET/_HOST. Free with action_env_free. */
void stage_switch_env(const struct stage_ctx *ctx, struct action_env *env,
                      const char *direction);

/* Open ctx->src / ctx->tgt if not open (shared helper for enter). */
int stage_connect(struct stage_ctx *ctx, struct co_err *err);

/* Has the source schema changed for a reason other than ours? Returns 0,
 * or CO_ECHANGED naming what changed (a migrated table's columns or key);
 * changes elsewhere are accepted and remembered. */
int stage_check_schema(struct stage_ctx *ctx, struct co_err *err);

/* A verifier's wait: until the applier has applied ts's log up to seq
 * (ctx is the stage_ctx). */
int stage_wait_applied(void *ctx, struct table_state *ts, int64_t seq,
                       struct co_err *err);

/* Start the applier if it is not running; report its failure if it
 * stopped. */
int stage_applier_running(struct stage_ctx *ctx, struct co_err *err);

extern const struct stage stage_pre_validate;
extern const struct stage stage_bulk_copy;
extern const struct stage stage_sync;
extern const struct stage stage_verify;
extern const struct stage stage_cutover;
extern const struct stage stage_post_validate;
extern const struct stage stage_aborting;
extern const struct stage stage_rolling_back;

#endif

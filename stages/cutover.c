/*
 * cutover.c — the cutover stage (DESIGN §5): moving the application's
 * writes from the source to the target with a pause well under a second.
 *
 * Sub-steps (their table and what entering each does to the model, e.g.
 * `switched`, are in orchestrator/cutover_fsm.h; every move goes through
 * migration_cutover_step()), each recorded in the checkpoint before it
 * runs:
 *   ready     wait for the operator (manual mode) or the retry backoff
 *   prepare   reverse capture on the target; applier caught up; keys
 *             touched since verify re-verified (outside the lock)
 *   lock      BEGIN IMMEDIATE on the source: application writers wait on
 *             their busy timeout from here   ← the write pause starts
 *   drain     every change log applied to the target
 *   reverify  keys touched since `prepare` compared under the lock; then,
 *             with target.replicas, wait until each replica has applied
 *             the primary's position (reads are fresh at the switch)
 *   fence     fence triggers created and capture triggers dropped in the
 *             same transaction, committed: the source now refuses writes
 *   switch    AUTO_INCREMENT set from the source; `switch` actions run
 *                                             ← the write pause ends
 *   switched  done
 *   unswitch  a switch action failed: `switch_back` for those done, then
 *             the target fenced, its changes carried back, source fence off
 *
 * Invariants: before `fence` commits the source takes writes and the target
 * has no traffic; after it, the source refuses writes. A crash anywhere
 * from lock to fence is decided by looking: fence present → continue with
 * switch, absent (SQLite rolled the transaction back) → back to sync.
 * Never both sides writable. So `lock` is the last step made durable
 * before the pause; drain, reverify and fence are only announced, keeping
 * checkpoint fsyncs out of the write pause.
 * Overrunning max_write_pause_ms before the fence rolls back and retries
 * with backoff, up to cutover.retries times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/actions.h"
#include "lib/events.h"
#include "lib/faults.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/xalloc.h"
#include "stages/replica_wait.h"
#include "stages/reverse.h"
#include "stages/stage.h"
#include "sync/applier.h"
#include "sync/verifier.h"

#define CATCH_UP_S 120.0
#define SCHEMA_CHECK_S 2.0

struct cutover {
    struct verifier v;
    struct replica_set replicas;
    double t_lock;           /* monotonic time the lock was taken (0: no) */
    double lock_wait_ms;     /* waiting for writers before it was taken */
    double step_started;     /* monotonic start of the current sub-step */
    int resumed_midway;      /* resumed inside an attempt: go back to sync */
    int announced_ready;
    double last_schema_check;
};

/* Move to `step` (migration_cutover_step: the table, on-enter, the
 * invariants) and announce it with how long the previous sub-step took
 * (kept per attempt in m->cut.steps_ms for status and the switched
 * event); `extra` (stolen, may be NULL) adds fields to the event. */
static int begin_step(struct stage_ctx *ctx, enum cutover_step step,
                      json_t *extra, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct cutover *c = ctx->priv;
    double now = mono_s();
    enum cutover_step prev;
    json_t *ev;
    int rc;

    if ((rc = migration_cutover_step(m, step, &prev, err)) < 0) {
        json_decref(extra);
        return rc;
    }
    pthread_mutex_lock(&m->mu);
    ev = json_pack("{ss si}", "step", cutover_step_name(step), "attempt",
                   m->cut.attempt);
    if (c->step_started > 0) {
        double ms = (now - c->step_started) * 1000.0;
        json_object_set_new(m->cut.steps_ms, cutover_step_name(prev),
                            json_real(ms));
        json_object_set_new(ev, "previous_step",
                            json_string(cutover_step_name(prev)));
        json_object_set_new(ev, "previous_ms", json_real(ms));
    }
    if (step == CUT_SWITCHED)
        json_object_set(ev, "steps_ms", m->cut.steps_ms);
    pthread_mutex_unlock(&m->mu);
    c->step_started = now;
    if (extra) {
        json_object_update(ev, extra);
        json_decref(extra);
    }
    events_emit(EVT_CUTOVER, ev);
    return 0;
}

/* Record the sub-step in the checkpoint and announce it. */
static int set_step_with(struct stage_ctx *ctx, enum cutover_step step,
                         json_t *extra, struct co_err *err)
{
    int rc = begin_step(ctx, step, extra, err);

    return rc < 0 ? rc : migration_save(ctx->m, err);
}

static int set_step(struct stage_ctx *ctx, enum cutover_step step,
                    struct co_err *err)
{
    return set_step_with(ctx, step, NULL, err);
}

/* A sub-step inside the write pause: announced, not made durable (a resume
 * decides by looking at the fence, see above). */
static int announce_step(struct stage_ctx *ctx, enum cutover_step step,
                         struct co_err *err)
{
    return begin_step(ctx, step, NULL, err);
}

static double pause_ms(struct cutover *c)
{
    return c->t_lock > 0 ? (mono_s() - c->t_lock) * 1000.0 : -1;
}

/* End this attempt before the fence: roll the lock back, back to sync. */
static int give_up_attempt(struct stage_ctx *ctx, const char *why,
                           struct co_err *err)
{
    struct migration *m = ctx->m;
    struct cutover *c = ctx->priv;
    /* No lock taken (a writer held the source, a resume): no pause. A
     * negative figure would also make the checkpoint unreadable. */
    double ms = c->t_lock > 0 ? pause_ms(c) : 0;
    int rc;

    ctx->sops->thaw(ctx->src);
    c->t_lock = 0;
    pthread_mutex_lock(&m->mu);
    m->cut.last_pause_ms = ms;
    pthread_mutex_unlock(&m->mu);
    /* Entering ready counts the attempt and sets the backoff. */
    if ((rc = set_step(ctx, CUT_READY, err)) < 0)
        return rc;
    pthread_mutex_lock(&m->mu);
    int attempts = m->cut.attempt;
    pthread_mutex_unlock(&m->mu);
    events_emit(EVT_CUTOVER, json_pack("{ss ss sf si}", "step", "retry",
                                     "reason", why, "write_pause_ms", ms,
                                     "attempt", attempts));
    log_warnx("cutover attempt %d abandoned (%s) after a %.0f ms pause; "
              "back to sync", attempts, why, ms);
    return STEP_REVERT;
}

static int overran(struct stage_ctx *ctx)
{
    struct cutover *c = ctx->priv;
    return pause_ms(c) > ctx->rb->cutover.max_write_pause_ms;
}

/* Keys logged for ts after `after`, deduplicated (all are applicable now:
 * the copy is done). */
static int touched_keys(struct stage_ctx *ctx, struct table_state *ts,
                        int64_t after, struct log_batch *out,
                        struct co_err *err)
{
    struct apply_scope all = {.all = 1};
    return ctx->sops->log_read(ctx->src, ts->t, after, INT32_MAX, &all, out,
                               err);
}

/* Re-verify what changed since each table's verify position; with
 * rechecks outside the lock, exactly under it. Moves the positions on. */
static int reverify(struct stage_ctx *ctx, int under_lock, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct cutover *c = ctx->priv;
    int64_t bad = 0;

    for (int i = 0; i < m->ntables; i++) {
        struct table_state *ts = &m->tables[i];
        struct log_batch b;
        int rc = touched_keys(ctx, ts, ts->verify_seq, &b, err);
        if (rc < 0)
            return rc;
        int64_t n = verifier_keys(&c->v, ts, b.keys, b.nkeys, !under_lock,
                                  err);
        int64_t reached = b.last_seq;
        ctx->sops->log_batch_free(&b);
        if (n < 0)
            return (int)n;
        bad += n;
        pthread_mutex_lock(&m->mu);
        if (reached > ts->verify_seq)
            ts->verify_seq = reached;
        pthread_mutex_unlock(&m->mu);
        if (under_lock && overran(ctx))
            return CO_EOVERRUN;
    }
    if (bad > 0) {
        metrics_add("verify.mismatched_rows", (double)bad);
        verifier_write_report(&c->v, NULL);
        return co_errf(err, CO_EMISMATCH, "%lld rows changed since verify "
                       "differ between source and target (details in "
                       "%s/verify.json); nothing was switched",
                       (long long)bad, ctx->rb->state_dir);
    }
    return 0;
}

/* With target.replicas: wait (at most budget_s) until each has applied the
 * primary's position. 1 when they have; otherwise the attempt is given up
 * (STEP_REVERT) like any overrun. `final`: under the lock, announced with
 * the position so the switch provably follows the replicas. */
static int replicas_caught_up(struct stage_ctx *ctx, double budget_s,
                              int final, struct co_err *err)
{
    struct cutover *c = ctx->priv;
    const char *late = NULL;
    json_t *report = NULL;
    char why[700];
    int rc;

    if (ctx->rb->nreplicas == 0)
        return 1;
    rc = replica_set_open(&c->replicas, ctx->rb, ctx->tops,
                          ctx->rb->nreplicas, err);
    if (rc == 0)
        rc = replica_set_catch_up(&c->replicas, ctx->tgt, budget_s,
                                  final ? &report : NULL, &late, err);
    if (rc == 1) {
        if (report)
            events_emit(EVT_CUTOVER, json_pack("{ss so}", "step", "replicas",
                                             "caught_up", report));
        return 1;
    }
    if (rc == 0)
        snprintf(why, sizeof why, "replica %s had not applied the "
                 "primary's position within %s", late,
                 final ? "max_write_pause_ms" : "the catch-up time");
    else
        snprintf(why, sizeof why, "%s", co_err_text(err));
    return give_up_attempt(ctx, why, err);
}

static int do_prepare(struct stage_ctx *ctx, struct co_err *err)
{
    int rc;

    if ((rc = stage_applier_running(ctx, err)) < 0)
        return rc;
    if ((rc = stage_check_schema(ctx, err)) < 0)
        return rc;
    fault_point("cutover", "prepare");
    /* the fence an undone switch left on the target (do_unswitch) */
    if ((rc = ctx->tops->fence_remove(ctx->tgt, &ctx->m->schema, err)) < 0 ||
        (rc = ctx->tops->rcapture_install(ctx->tgt, &ctx->m->schema,
                                          err)) < 0)
        return rc;
    if ((rc = applier_wait_caught_up(ctx->applier, CATCH_UP_S, err)) < 0)
        return rc;
    if ((rc = reverify(ctx, 0, err)) < 0)
        return rc;
    if ((rc = replicas_caught_up(ctx, CATCH_UP_S, 0, err)) != 1)
        return rc;
    return set_step(ctx, CUT_LOCK, err);
}

static int drain(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    int busy = 1;

    while (busy) {
        busy = 0;
        for (int i = 0; i < m->ntables; i++) {
            int64_t n = applier_apply_batch(m, &m->tables[i], ctx->sops,
                                            ctx->src, ctx->tops, ctx->tgt,
                                            ctx->rb->sync.batch_rows, NULL,
                                            err);
            if (n < 0)
                return (int)n;
            busy |= n > 0;
            if (overran(ctx))
                return CO_EOVERRUN;
        }
    }
    return 0;
}

/* lock → drain → reverify → fence: one uninterruptible step. */
static int do_attempt(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct cutover *c = ctx->priv;
    int rc;

    applier_stop(ctx->applier);
    ctx->applier = NULL;
    fault_point("cutover", "lock");
    double asked = mono_s();
    rc = ctx->sops->freeze_writes(ctx->src, &m->schema,
                                  ctx->rb->cutover.max_write_pause_ms, err);
    if (rc == CO_EBUSY)
        return give_up_attempt(ctx, "the source stayed locked by a writer",
                               err);
    if (rc < 0)
        return rc;
    /* Writers kept committing while we waited for the lock: the pause
     * starts now. */
    c->t_lock = mono_s();
    c->lock_wait_ms = (c->t_lock - asked) * 1000.0;
    if ((rc = announce_step(ctx, CUT_DRAIN, err)) < 0)
        goto fail;
    fault_point("cutover", "drain");
    rc = drain(ctx, err);
    if (rc == CO_EOVERRUN)
        return give_up_attempt(ctx, "drain overran max_write_pause_ms", err);
    if (rc < 0)
        goto fail;
    if ((rc = announce_step(ctx, CUT_REVERIFY, err)) < 0)
        goto fail;
    fault_point("cutover", "reverify");
    rc = reverify(ctx, 1, err);
    if (rc == CO_EOVERRUN)
        return give_up_attempt(ctx, "re-verify overran max_write_pause_ms",
                               err);
    if (rc < 0)
        goto fail;
    rc = replicas_caught_up(ctx, (ctx->rb->cutover.max_write_pause_ms -
                                  pause_ms(c)) / 1000.0, 1, err);
    if (rc != 1)
        return rc;
    if (overran(ctx))
        return give_up_attempt(ctx, "overran max_write_pause_ms", err);
    if ((rc = announce_step(ctx, CUT_FENCE, err)) < 0)
        goto fail;
    fault_point("cutover", "fence");
    if ((rc = ctx->sops->fence_commit(ctx->src, &m->schema, err)) < 0)
        goto fail;
    /* The fence is durable: the source refuses writes from here on. */
    fault_point("cutover", "fenced");
    return set_step(ctx, CUT_SWITCH, err);
fail:
    ctx->sops->thaw(ctx->src);
    c->t_lock = 0;
    return rc;
}

/* A table with an AUTO_INCREMENT column on the target continues the
 * source's counter (an existing table without one keeps its definition
 * untouched). */
static int has_counter(const struct table *t)
{
    for (int c = 0; c < t->ncols; c++)
        if (t->cols[c].map.autoinc)
            return 1;
    return 0;
}

static int set_counters(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;

    for (int i = 0; i < m->ntables; i++) {
        int64_t next;
        int rc;
        /* Either side without counters: plan said so. */
        if (!has_counter(m->tables[i].t) || !ctx->sops->next_autoinc ||
            !ctx->tops->set_next_id)
            continue;
        rc = ctx->sops->next_autoinc(ctx->src, m->tables[i].t, &next, err);
        if (rc < 0)
            return rc;
        if (next > 0 && (rc = ctx->tops->set_next_id(
                             ctx->tgt, m->tables[i].t, next, err)) < 0)
            return rc;
    }
    return 0;
}

static int do_switch(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct cutover *c = ctx->priv;
    struct action_env env = {0};
    char what[64];
    int rc;

    if ((rc = set_counters(ctx, err)) < 0)
        return rc;
    stage_switch_env(ctx, &env, "to_target");
    for (int i = m->cut.switch_done; i < ctx->rb->cutover.nswitch; i++) {
        snprintf(what, sizeof what, "cutover.switch[%d]", i);
        fault_point("cutover", "switch");
        if ((rc = action_run(&ctx->rb->cutover.switch_actions[i], what, &env,
                             err)) < 0) {
            action_env_free(&env);
            log_error("%s; switching back", co_err_text(err));
            return set_step(ctx, CUT_UNSWITCH, err);
        }
        pthread_mutex_lock(&m->mu);
        m->cut.switch_done = i + 1;
        pthread_mutex_unlock(&m->mu);
        if ((rc = migration_save(m, err)) < 0) {
            action_env_free(&env);
            return rc;
        }
    }
    action_env_free(&env);
    double ms = pause_ms(c);
    pthread_mutex_lock(&m->mu);
    m->cut.last_pause_ms = ms;
    pthread_mutex_unlock(&m->mu);
    metrics_set("cutover.write_pause_ms", ms);
    log_info("traffic switched to the target; write pause %.0f ms", ms);
    c->t_lock = 0;
    if ((rc = set_step_with(ctx, CUT_SWITCHED,
                            json_pack("{sf sf}", "write_pause_ms", ms,
                                      "lock_wait_ms", c->lock_wait_ms),
                            err)) < 0)
        return rc;
    return STEP_DONE;
}

/* A switch action failed: carry back anything written on the target
 * meanwhile and reopen the source, then undo the switch actions done, back
 * to sync. The order matters: an application sent back to the source
 * before the carried rows are there can write past the source's fence
 * without an error (a row fence does not fire for a DELETE or UPDATE that
 * matches no row), and the rows carried after would undo what it wrote.
 * The target keeps its fence until the next attempt (do_prepare): an
 * application that has not met it yet still goes nowhere but back. */
static int do_unswitch(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct action_env env = {0};
    char what[64];
    int fenced, rc;

    /* A resume after the carry committed finds the source fence gone:
     * carrying again would overwrite what the application has written on
     * the source since. */
    if ((rc = ctx->sops->fence_installed(ctx->src, &m->schema, &fenced,
                                         err)) < 0)
        return rc;
    if (fenced && (rc = reverse_traffic(ctx, 1, err)) < 0)
        return rc;
    stage_switch_env(ctx, &env, "to_source");
    for (int i = m->cut.switch_done - 1; i >= 0; i--) {
        if (i >= ctx->rb->cutover.nswitch_back)
            continue;
        snprintf(what, sizeof what, "cutover.switch_back[%d]", i);
        if ((rc = action_run(&ctx->rb->cutover.switch_back[i], what, &env,
                             err)) < 0) {
            action_env_free(&env);
            return co_err_prefix(err, "a switch action failed and undoing it "
                                 "failed too: the source is open again "
                                 "with everything written on the target, "
                                 "the target is fenced. Fix the switch "
                                 "back and run `cutover resume`");
        }
    }
    action_env_free(&env);
    if ((rc = ctx->tops->rcapture_remove(ctx->tgt, &m->schema, err)) < 0)
        return rc;
    /* Entering ready from unswitch clears `switched`. */
    return give_up_attempt(ctx, "a switch action failed", err);
}

static int cut_enter(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct cutover *c;
    int fenced, rc;

    if ((rc = stage_connect(ctx, err)) < 0)
        return rc;
    c = xcalloc(1, sizeof *c);
    verifier_init(&c->v, m, ctx->sops, ctx->src, ctx->tops, ctx->tgt);
    c->v.wait = stage_wait_applied;
    c->v.wait_arg = ctx;
    verifier_load_report(&c->v);
    ctx->priv = c;
    switch (m->cut.step) {
    case CUT_LOCK:
    case CUT_DRAIN:
    case CUT_REVERIFY:
    case CUT_FENCE:
        /* Resumed inside an attempt: the transaction died with the process
         * unless the fence committed. Look. */
        if ((rc = ctx->sops->fence_installed(ctx->src, &m->schema, &fenced,
                                             err)) < 0)
            return rc;
        if (fenced)
            return set_step(ctx, CUT_SWITCH, err);
        c->resumed_midway = 1;
        return 0;
    default:
        return 0;
    }
}

static void cut_leave(struct stage_ctx *ctx)
{
    struct cutover *c = ctx->priv;

    if (!c)
        return;
    if (c->t_lock > 0)
        ctx->sops->thaw(ctx->src);
    replica_set_close(&c->replicas);
    verifier_free(&c->v);
    free(c);
    ctx->priv = NULL;
}

static int cut_step(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct cutover *c = ctx->priv;
    int rc;

    if (c->resumed_midway) {
        c->resumed_midway = 0;
        return give_up_attempt(ctx, "resumed after an interruption inside "
                               "the write pause", err);
    }
    switch (m->cut.step) {
    case CUT_READY:
        if (m->cut.attempt > ctx->rb->cutover.retries)
            return co_errf(err, CO_EOVERRUN, "cutover failed %d times (last "
                           "write pause %.0f ms, max_write_pause_ms %d); "
                           "reduce the write load or raise the limit, then "
                           "`cutover resume`", m->cut.attempt,
                           m->cut.last_pause_ms,
                           ctx->rb->cutover.max_write_pause_ms);
        if (ctx->rb->cutover.mode == CUTOVER_MANUAL && !m->cut.go) {
            if (!c->announced_ready) {
                c->announced_ready = 1;
                events_emit(EVT_CUTOVER, json_pack("{ss ss}", "step", "ready",
                                                 "waiting_for",
                                                 "ctl cutover"));
                log_info("ready to cut over: run `cutover ctl RUNBOOK "
                         "cutover`");
            }
            if ((rc = stage_applier_running(ctx, err)) < 0)
                return rc;
            if (mono_s() - c->last_schema_check > SCHEMA_CHECK_S) {
                c->last_schema_check = mono_s();
                if ((rc = stage_check_schema(ctx, err)) < 0)
                    return rc;
            }
            return STEP_IDLE;
        }
        if (now_s() < m->cut.next_attempt_at)
            return STEP_IDLE;
        rc = set_step(ctx, CUT_PREPARE, err);
        return rc < 0 ? rc : STEP_MORE;
    case CUT_PREPARE:
        rc = do_prepare(ctx, err);
        return rc < 0 || rc == STEP_REVERT ? rc : STEP_MORE;
    case CUT_LOCK:
        rc = do_attempt(ctx, err);
        return rc < 0 || rc == STEP_REVERT ? rc : STEP_MORE;
    case CUT_SWITCH:
        return do_switch(ctx, err);
    case CUT_SWITCHED:
        return STEP_DONE;
    case CUT_UNSWITCH:
        return do_unswitch(ctx, err);
    default:
        return co_errf(err, CO_ECHECKPOINT, "cutover step %s cannot be "
                       "resumed directly", cutover_step_name(m->cut.step));
    }
}

const struct stage stage_cutover = {
    .name = "cutover",
    .state = ST_CUTOVER,
    .enter = cut_enter,
    .step = cut_step,
    .suspend = cut_leave,
    .leave = cut_leave,
};

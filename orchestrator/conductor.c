/*
 * conductor.c — the thread that drives the state machine: applies queued
 * commands between steps, enters the current state's stage, steps it, and
 * turns its results into transitions (migration_transition is the only way
 * the state changes).
 *
 * Step results: DONE → event done; REVERT → event revert (cutover back to
 * sync); an error → failed, except a schema change or a gap in the
 * source's change stream (paused, with the reason) — a human decides. Pause, abort and rollback first suspend the
 * running stage so background work stops at a chunk boundary.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/events.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "orchestrator/orch.h"
#include "sync/applier.h"

const char *command_name(enum command_kind k)
{
    return k == CMD_INTERRUPT ? "interrupt"
                              : request_name((enum request_kind)k);
}

void orch_command(struct orch *o, struct command *c)
{
    struct command **tail;

    pthread_mutex_lock(&o->qmu);
    c->next = NULL;
    for (tail = &o->queue; *tail; tail = &(*tail)->next)
        ;
    *tail = c;
    pthread_cond_broadcast(&o->qcond);
    pthread_mutex_unlock(&o->qmu);
}

static void finish_command(struct orch *o, struct command *c, int ok,
                           const char *error)
{
    c->ok = ok;
    snprintf(c->error, sizeof c->error, "%s", error ? error : "");
    pthread_mutex_lock(&o->qmu);
    c->next = o->done;
    o->done = c;
    pthread_mutex_unlock(&o->qmu);
    uv_async_send(&o->wake);
}

static void suspend_stage(struct orch *o)
{
    if (o->entered && o->entered->suspend)
        o->entered->suspend(&o->ctx);
    o->entered = NULL;
}

static void leave_stage(struct orch *o)
{
    if (o->entered && o->entered->leave)
        o->entered->leave(&o->ctx);
    o->entered = NULL;
}

/* The checkpoint cannot be written (disk full, I/O error): nothing that
 * happens now could be resumed from, so stop. The previous checkpoint is
 * intact; `cutover resume` continues once the cause is fixed. */
static void stop_on_io_error(struct orch *o, const struct co_err *err)
{
    log_error("%s; stopping: free space or fix the state dir, then `cutover "
              "resume`", co_err_text(err));
    migration_set_error(o->m, err);    /* for the summary; not persisted */
    o->io_failed = 1;
}

static int transition(struct orch *o, enum fsm_event ev, const char *reason,
                      struct co_err *err)
{
    int rc = migration_transition(o->m, ev, reason, err);

    if (rc == CO_EIO)
        stop_on_io_error(o, err);
    else if (rc < 0 && rc != CO_ESTATE)
        log_error("%s", co_err_text(err));
    return rc;
}

static void apply_command(struct orch *o, struct command *c)
{
    struct migration *m = o->m;
    struct co_err err = {0};
    char reason[192];
    int rc = 0;

    snprintf(reason, sizeof reason, "%s (%s)", command_name(c->kind),
             c->origin[0] ? c->origin : "operator");
    switch (c->kind) {
    case CMD_PAUSE:
        if (!fsm_state_is_stage(m->state)) {
            rc = co_errf(&err, CO_ESTATE, "cannot pause while %s",
                         fsm_state_name(m->state));
            break;
        }
        suspend_stage(o);
        rc = transition(o, EV_PAUSE, reason, &err);
        break;
    case CMD_RESUME:
        rc = transition(o, EV_RESUME, reason, &err);
        break;
    case CMD_ROLLBACK:
        if (!m->switched) {
            snprintf(reason, sizeof reason, "rollback before the switch means "
                     "abort (%s)", c->origin[0] ? c->origin : "operator");
            c->kind = CMD_ABORT;
        }
        /* fall through */
    case CMD_ABORT:
        if (fsm_next(m->state, c->kind == CMD_ABORT ? EV_ABORT : EV_ROLLBACK,
                     m->switched, m->resume_state) < 0) {
            rc = co_errf(&err, CO_ESTATE, "cannot %s while %s%s",
                         command_name(c->kind), fsm_state_name(m->state),
                         m->switched && c->kind == CMD_ABORT
                             ? " (traffic is switched: use rollback)" : "");
            break;
        }
        suspend_stage(o);
        rc = transition(o, c->kind == CMD_ABORT ? EV_ABORT : EV_ROLLBACK,
                        reason, &err);
        break;
    case CMD_CUTOVER:
        if (m->switched || fsm_state_is_terminal(m->state)) {
            rc = co_errf(&err, CO_ESTATE, "nothing to cut over while %s",
                         fsm_state_name(m->state));
            break;
        }
        pthread_mutex_lock(&m->mu);
        m->cut.go = 1;
        pthread_mutex_unlock(&m->mu);
        rc = migration_save(m, &err);
        events_emit(EVT_LOG, json_pack("{ss ss}", "level", "info", "message",
                                     m->state == ST_CUTOVER
                                         ? "cutover approved"
                                         : "cutover approved; it runs when "
                                           "sync and verify are done"));
        break;
    case CMD_THROTTLE:
        pthread_mutex_lock(&m->mu);
        m->max_rows_per_s = c->number;
        pthread_mutex_unlock(&m->mu);
        metrics_set("copy.max_rows_per_s", c->number);
        events_emit(EVT_LOG, json_pack("{ss ss sf}", "level", "info", "message",
                                     "copy throttle changed", "rows_per_s",
                                     c->number));
        break;
    case CMD_ALERT:
    case CMD_STATUS:
        /* Alerts are matched by the trigger engine and status answered on
         * the loop; neither is queued here. */
        break;
    case CMD_INTERRUPT:
        o->interrupted = 1;
        break;
    }
    finish_command(o, c, rc == 0, rc ? co_err_text(&err) : NULL);
}

static void take_commands(struct orch *o)
{
    struct command *list, *c;

    pthread_mutex_lock(&o->qmu);
    list = o->queue;
    o->queue = NULL;
    pthread_mutex_unlock(&o->qmu);
    while ((c = list)) {
        list = c->next;
        apply_command(o, c);
    }
}

static void wait_for_command(struct orch *o, double seconds)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)seconds;
    ts.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&o->qmu);
    if (!o->queue)
        pthread_cond_timedwait(&o->qcond, &o->qmu, &ts);
    pthread_mutex_unlock(&o->qmu);
}

#define OUTAGE_LIMIT_S 120.0
#define STAGE_IDLE_S 0.2        /* between steps of a stage with nothing to do */

/* A database went away mid-migration: drop our connections and try the
 * stage again (it re-enters from the checkpoint) with growing pauses. A
 * long outage pauses the migration with the reason instead. Returns 1
 * when handled. */
static int retry_after_outage(struct orch *o, int rc, struct co_err *err)
{
    struct co_err terr = {0};
    double backoff;

    if ((rc != CO_ECONNLOST && rc != CO_EBUSY) ||
        o->m->state == ST_PRE_VALIDATE)
        return 0;
    leave_stage(o);
    o->ctx.sops->close(o->ctx.src);
    o->ctx.tops->close(o->ctx.tgt);
    o->ctx.src = NULL;
    o->ctx.tgt = NULL;
    if (o->outage_since == 0)
        o->outage_since = mono_s();
    if (mono_s() - o->outage_since > OUTAGE_LIMIT_S) {
        co_err_prefix(err, "still failing after %.0f s", OUTAGE_LIMIT_S);
        migration_set_error(o->m, err);
        o->outage_since = 0;
        transition(o, EV_PAUSE, co_err_text(err), &terr);
        return 1;
    }
    backoff = backoff_failed(&o->outage);
    log_warnx("%s; retrying in %.1f s", co_err_text(err), backoff);
    metrics_add("apply.errors", 1);
    wait_for_command(o, backoff);
    return 1;
}

/* A stage failed: record the error and pick the transition. */
static void stage_failed(struct orch *o, int rc, struct co_err *err)
{
    struct co_err terr = {0};

    if (retry_after_outage(o, rc, err))
        return;
    leave_stage(o);
    if (rc == CO_EIO) {
        stop_on_io_error(o, err);
        return;
    }
    migration_set_error(o->m, err);
    log_error("%s", co_err_text(err));
    if (rc == CO_ECHANGED || rc == CO_EGAP) {
        transition(o, EV_PAUSE, co_err_text(err), &terr);
        return;
    }
    transition(o, EV_FAIL, co_err_text(err), &terr);
}

static void run_step(struct orch *o)
{
    struct migration *m = o->m;
    const struct stage *st = stage_for(m->state);
    struct co_err err = {0};
    int rc;

    if (!st) {
        wait_for_command(o, 0.5);
        return;
    }
    if (o->entered != st) {
        leave_stage(o);
        o->entered = st;
        o->ctx.priv = NULL;
        if (st->enter && (rc = st->enter(&o->ctx, &err)) < 0) {
            stage_failed(o, rc, &err);
            return;
        }
    }
    rc = st->step(&o->ctx, &err);
    if (rc < 0) {
        stage_failed(o, rc, &err);
        return;
    }
    if (o->outage_since) {
        log_info("connections are back after %.1f s",
                 mono_s() - o->outage_since);
        o->outage_since = 0;
        backoff_reset(&o->outage);
    }
    if (rc == STEP_IDLE)        /* woken at once by a command */
        wait_for_command(o, STAGE_IDLE_S);
    if (rc == STEP_DONE || rc == STEP_REVERT) {
        leave_stage(o);
        transition(o, rc == STEP_DONE ? EV_DONE : EV_REVERT, NULL, &err);
    }
}

void *conductor_main(void *arg)
{
    struct orch *o = arg;
    struct migration *m = o->m;
    struct co_err err = {0};

    for (;;) {
        take_commands(o);
        if (o->interrupted || o->io_failed)
            break;
        if (fsm_state_is_terminal(m->state) || m->state == ST_FAILED)
            break;
        if (m->state == ST_NEW) {
            if (transition(o, EV_START, NULL, &err) < 0)
                break;
            continue;
        }
        if (m->state == ST_PAUSED) {
            if (applier_failed(o->ctx.applier, &err) < 0) {
                log_error("%s", co_err_text(&err));
                applier_stop(o->ctx.applier);
                o->ctx.applier = NULL;
            }
            wait_for_command(o, 0.5);
            continue;
        }
        run_step(o);
    }
    suspend_stage(o);
    applier_stop(o->ctx.applier);
    o->ctx.applier = NULL;
    if (!o->io_failed && migration_save(m, &err) < 0)
        log_error("final checkpoint: %s", co_err_text(&err));
    o->exit_code = o->io_failed ? EXIT_ERROR
                   : o->interrupted && !fsm_state_is_terminal(m->state) &&
                           m->state != ST_FAILED
                       ? EXIT_PAUSED
                       : migration_exit_code(m->state);
    if (m->state == ST_FAILED && m->last_error_code == CO_EBLOCKED)
        o->exit_code = EXIT_FINDINGS;
    o->finished = 1;
    uv_async_send(&o->wake);
    return NULL;
}

/*
 * verify.c — the verify stage (DESIGN §5): every table chunk by chunk
 * through the verifier (sync/verifier.c) while the applier keeps running;
 * rechecks wait for the applier to pass what was logged when a chunk was
 * read. The report goes to state_dir/verify.json. Any row that still
 * differs stops the migration before the switch.
 *
 * With verify.read_from "replica" the target side is read from the first
 * of target.replicas, keeping the load off the primary; a recheck then
 * also waits until that replica has applied the primary's position.
 */
#include <stdlib.h>
#include <unistd.h>

#include "lib/events.h"
#include "lib/faults.h"
#include "lib/metrics.h"
#include "lib/xalloc.h"
#include "stages/replica_wait.h"
#include "stages/stage.h"
#include "sync/applier.h"
#include "sync/verifier.h"

#define RECHECK_WAIT_S 60.0
#define TRIGGER_GRACE_S 3.0   /* a rule on verify.mismatched_rows acts first */

struct verify_stage {
    struct verifier v;
    struct stage_ctx *ctx;
    struct replica_set replica;     /* verify.read_from: replica */
};

int stage_wait_applied(void *arg, struct table_state *ts, int64_t seq,
                       struct co_err *err)
{
    struct stage_ctx *ctx = arg;
    return applier_wait_seq(ctx->applier, ts, seq, RECHECK_WAIT_S, err);
}

static int wait_applied_on_replica(void *arg, struct table_state *ts,
                                   int64_t seq, struct co_err *err)
{
    struct verify_stage *vs = arg;
    const char *late = NULL;
    int rc = stage_wait_applied(vs->ctx, ts, seq, err);

    if (rc < 0)
        return rc;
    rc = replica_set_catch_up(&vs->replica, vs->ctx->tgt, RECHECK_WAIT_S,
                              NULL, &late, err);
    if (rc == 0)
        return co_errf(err, CO_ETIMEOUT, "replica %s did not catch up with "
                       "the primary within %.0f s", late, RECHECK_WAIT_S);
    return rc < 0 ? rc : 0;
}

static void verify_leave(struct stage_ctx *ctx)
{
    struct verify_stage *vs = ctx->priv;

    if (!vs)
        return;
    verifier_free(&vs->v);
    replica_set_close(&vs->replica);
    free(vs);
    ctx->priv = NULL;
}

static int verify_enter(struct stage_ctx *ctx, struct co_err *err)
{
    struct verify_stage *vs;
    int rc = stage_connect(ctx, err);

    if (rc < 0 || (rc = stage_applier_running(ctx, err)) < 0)
        return rc;
    if (!(vs = xcalloc(1, sizeof *vs)))
        return co_errf(err, CO_ENOMEM, "out of memory");
    ctx->priv = vs;
    vs->ctx = ctx;
    verifier_init(&vs->v, ctx->m, ctx->sops, ctx->src, ctx->tops, ctx->tgt);
    vs->v.wait = stage_wait_applied;
    vs->v.wait_arg = ctx;
    if (ctx->rb->verify.read_from_replica) {
        if ((rc = replica_set_open(&vs->replica, ctx->rb, ctx->tops, 1,
                                   err)) < 0) {
            verify_leave(ctx);
            return rc;
        }
        vs->v.tgt = vs->replica.conn[0];
        vs->v.wait = wait_applied_on_replica;
        vs->v.wait_arg = vs;
        /* Start from a replica that has everything copied so far. */
        if ((rc = wait_applied_on_replica(vs, NULL, 0, err)) < 0) {
            verify_leave(ctx);
            return rc;
        }
    }
    verifier_load_report(&vs->v);
    return 0;
}

static struct table_state *next_table(struct migration *m, int64_t *mismatches)
{
    struct table_state *next = NULL;

    *mismatches = 0;
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->ntables; i++) {
        *mismatches += m->tables[i].verify_mismatches;
        if (!next && !m->tables[i].verify_done)
            next = &m->tables[i];
    }
    pthread_mutex_unlock(&m->mu);
    return next;
}

/* Where the log stood when this table's verification began: changes after
 * it are re-verified at cutover. */
static int mark_start(struct stage_ctx *ctx, struct table_state *ts,
                      struct co_err *err)
{
    struct log_stats st;
    int rc;

    if (ts->verify_seq > 0)
        return 0;
    if ((rc = ctx->sops->log_stats(ctx->src, ts->t, 0, &st, err)) < 0)
        return rc;
    pthread_mutex_lock(&ctx->m->mu);
    ts->verify_seq = st.max_seq > 0 ? st.max_seq : 1;
    pthread_mutex_unlock(&ctx->m->mu);
    return 0;
}

static int verify_step(struct stage_ctx *ctx, struct co_err *err)
{
    struct verify_stage *vs = ctx->priv;
    struct verifier *v = &vs->v;
    struct table_state *ts;
    int64_t mismatches;
    int done, rc;

    if ((rc = stage_applier_running(ctx, err)) < 0)
        return rc;
    ts = next_table(ctx->m, &mismatches);
    if (!ts) {
        if (mismatches == 0 || v->finished_at == 0) {
            if ((rc = verifier_write_report(v, err)) < 0)
                return rc;
            events_emit(EVT_VERIFY, json_pack("{sb sI}", "done", 1,
                                            "mismatched_rows",
                                            (json_int_t)mismatches));
        }
        if (mismatches == 0)
            return STEP_DONE;
        /* The rules (by default: abort) see verify.mismatched_rows within
         * a second; if none acts, stop here: nothing is switched over a
         * difference. */
        metrics_set("verify.mismatched_rows", (double)mismatches);
        if (v->finished_at == 0)
            v->finished_at = mono_s();
        if (mono_s() - v->finished_at < TRIGGER_GRACE_S)
            return STEP_IDLE;
        return co_errf(err, CO_EMISMATCH, "verify found %lld rows that differ "
                       "between source and target (details in "
                       "%s/verify.json); nothing was switched",
                       (long long)mismatches, ctx->rb->state_dir);
    }
    if ((rc = mark_start(ctx, ts, err)) < 0)
        return rc;
    fault_point("verify", "start");
    if ((rc = verifier_chunk(v, ts, &done, err)) < 0)
        return rc;
    pthread_mutex_lock(&ctx->m->mu);
    json_t *ev = json_pack("{ss sI sI sI sb}", "table", ts->t->name, "rows",
                           (json_int_t)ts->verify_rows, "chunks",
                           (json_int_t)ts->verify_chunks, "mismatches",
                           (json_int_t)ts->verify_mismatches, "table_done",
                           done);
    pthread_mutex_unlock(&ctx->m->mu);
    events_emit(EVT_VERIFY, ev);
    if (done) {
        if ((rc = verifier_write_report(v, err)) < 0)
            return rc;
        if ((rc = stage_check_schema(ctx, err)) < 0)
            return rc;
        if ((rc = migration_save(ctx->m, err)) < 0)
            return rc;
    } else if ((rc = migration_save(ctx->m, err)) < 0) {
        return rc;
    }
    fault_point("verify", "chunk");
    return STEP_MORE;
}

const struct stage stage_verify = {
    .name = "verify",
    .state = ST_VERIFY,
    .enter = verify_enter,
    .step = verify_step,
    .suspend = verify_leave,
    .leave = verify_leave,
};

/*
 * aborting.c — the aborting state (DESIGN §4): the migration stops before
 * any switch. Everything of ours leaves the source in one transaction
 * (capture triggers, change logs, counters), so the application's database
 * is exactly as before the run; the target keeps what was copied or is
 * dropped, as schema.on_abort says.
 */
#include "lib/events.h"
#include "lib/log.h"
#include "lib/faults.h"
#include "stages/stage.h"
#include "sync/applier.h"

static int abort_step(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    int rc;

    applier_stop(ctx->applier);
    ctx->applier = NULL;
    if ((rc = stage_connect(ctx, err)) < 0)
        return rc;
    fault_point("aborting", "start");
    if (m->ntables > 0 &&
        (rc = ctx->sops->capture_remove(ctx->src, &m->schema, 0, err)) < 0)
        return rc;
    fault_point("aborting", "removed");
    if (m->ntables > 0 &&
        ((rc = ctx->tops->fence_remove(ctx->tgt, &m->schema, err)) < 0 ||
         (rc = ctx->tops->rcapture_remove(ctx->tgt, &m->schema, err)) < 0))
        return rc;
    if (ctx->rb->schema.on_abort == ON_ABORT_DROP) {
        /* Only what this migration created: a table that was there before
         * it belongs to someone else, even if it is empty. */
        for (int i = 0; i < m->ntables; i++) {
            if (!m->tables[i].owned)
                continue;
            if ((rc = ctx->tops->drop_table(ctx->tgt, m->tables[i].t, err)) < 0)
                return rc;
        }
    }
    log_info("aborted: the source is as it was before the run%s",
             ctx->rb->schema.on_abort == ON_ABORT_DROP
                 ? "; the target tables it created dropped"
                 : "; target tables kept");
    return STEP_DONE;
}

const struct stage stage_aborting = {
    .name = "aborting",
    .state = ST_ABORTING,
    .step = abort_step,
};

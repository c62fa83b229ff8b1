/*
 * sync.c — the sync stage (DESIGN §5): the copy is done and the applier
 * tails the change logs; the stage is done when every table's lag is at
 * most sync.ready_lag_s. The applier keeps running through verify until the
 * cutover drains it.
 */
#include <unistd.h>

#include "lib/events.h"
#include "lib/faults.h"
#include "stages/stage.h"
#include "sync/applier.h"

#define SCHEMA_CHECK_S 2.0

static int sync_enter(struct stage_ctx *ctx, struct co_err *err)
{
    int rc = stage_connect(ctx, err);

    if (rc < 0)
        return rc;
    return stage_applier_running(ctx, err);
}

static int sync_step(struct stage_ctx *ctx, struct co_err *err)
{
    struct sync_stats st = {0};
    int rc;

    if ((rc = stage_applier_running(ctx, err)) < 0)
        return rc;
    if ((rc = stage_check_schema(ctx, err)) < 0)
        return rc;
    if ((rc = applier_measure(ctx->m, ctx->sops, ctx->src, &st, err)) < 0)
        return rc;
    if (st.lag_s <= ctx->rb->sync.ready_lag_s) {
        fault_point("sync", "ready");
        events_emit(EVT_SYNC, json_pack("{sf sI sb}", "lag_s", st.lag_s,
                                      "backlog_rows",
                                      (json_int_t)st.backlog_rows, "ready", 1));
        return STEP_DONE;
    }
    return STEP_IDLE;
}

const struct stage stage_sync = {
    .name = "sync",
    .state = ST_SYNC,
    .enter = sync_enter,
    .step = sync_step,
};

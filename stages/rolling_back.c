/*
 * rolling_back.c — the rolling_back state (DESIGN §5): after the switch,
 * traffic goes back to the source with nothing written on the target lost.
 * The target is fenced first ('cutover: writes moved back to source'), its
 * reverse logs are drained into SQLite in the same transaction that drops
 * the SQLite fence, then the `switch_back` actions run. The target keeps
 * its fence; our triggers and logs leave both sides.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lib/actions.h"
#include "lib/events.h"
#include "lib/faults.h"
#include "lib/log.h"
#include "stages/reverse.h"
#include "stages/stage.h"
#include "sync/applier.h"

static int rollback_step(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct action_env env = {0};
    char what[64];
    int fenced, rc;

    applier_stop(ctx->applier);
    ctx->applier = NULL;
    if ((rc = stage_connect(ctx, err)) < 0)
        return rc;
    /* A resume after the transaction committed finds the source fence
     * gone: the changes were carried back already. */
    if ((rc = ctx->sops->fence_installed(ctx->src, &m->schema, &fenced,
                                         err)) < 0)
        return rc;
    if (fenced && (rc = reverse_traffic(ctx, 0, err)) < 0)
        return rc;
    fault_point("rollback", "switch_back");
    stage_switch_env(ctx, &env, "to_source");
    for (int i = 0; i < ctx->rb->cutover.nswitch_back; i++) {
        snprintf(what, sizeof what, "cutover.switch_back[%d]", i);
        if ((rc = action_run(&ctx->rb->cutover.switch_back[i], what, &env,
                             err)) < 0)
            break;
    }
    action_env_free(&env);
    if (rc < 0)
        return rc;
    if ((rc = ctx->tops->rcapture_remove(ctx->tgt, &m->schema, err)) < 0 ||
        (rc = ctx->sops->capture_remove(ctx->src, &m->schema, 0, err)) < 0)
        return rc;
    log_info("rolled back: traffic is on the source again; the target is "
             "fenced");
    return STEP_DONE;
}

const struct stage stage_rolling_back = {
    .name = "rolling_back",
    .state = ST_ROLLING_BACK,
    .step = rollback_step,
};

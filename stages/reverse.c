/* reverse.c — draining the target's reverse logs into the source. */
#include "stages/reverse.h"

#include <stdlib.h>

#include "lib/events.h"
#include "lib/faults.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "sync/codec.h"

#define RLOG_BATCH 5000

static int carry_key(struct stage_ctx *ctx, const struct table *t,
                     const struct tuple *tkey, struct value *conv,
                     struct scratch *s, struct co_err *err)
{
    const struct value *row;
    struct value kv[64];
    struct tuple skey = {0};
    int found, rc = 0;

    scratch_reset(s);
    for (int k = 0; k < t->nkey && rc == 0; k++)
        rc = codec_to_source(&t->cols[t->key[k]], &tkey->v[k], &kv[k], s, err);
    if (rc == 0 && tuple_set(&skey, kv, t->nkey) < 0)
        rc = CO_ENOMEM;
    if (rc < 0)
        return rc;
    found = ctx->tops->fetch(ctx->tgt, t, tkey, &row, err);
    if (found < 0) {
        tuple_free(&skey);
        return found;
    }
    if (found) {
        for (int c = 0; c < t->ncols && rc == 0; c++)
            rc = codec_to_source(&t->cols[c], &row[c], &conv[c], s, err);
    }
    if (rc == 0)
        rc = ctx->sops->put_row(ctx->src, t, &skey, found ? conv : NULL, err);
    tuple_free(&skey);
    return rc;
}

int64_t reverse_drain(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct scratch s = {0};
    int64_t carried = 0;
    int rc = 0;

    for (int i = 0; i < m->ntables && rc == 0; i++) {
        const struct table *t = m->tables[i].t;
        struct value *conv = xcalloc((size_t)t->ncols, sizeof *conv);
        int64_t after = 0;
        for (;;) {
            struct rlog_batch b;
            if ((rc = ctx->tops->rlog_read(ctx->tgt, t, after, RLOG_BATCH, &b,
                                           err)) < 0)
                break;
            for (int k = 0; k < b.nkeys && rc == 0; k++)
                rc = carry_key(ctx, t, &b.keys[k], conv, &s, err);
            carried += b.nkeys;
            int more = b.last_seq > after;
            after = b.last_seq;
            ctx->tops->rlog_batch_free(&b);
            if (rc < 0 || !more)
                break;
        }
        free(conv);
        if (rc < 0)
            co_err_prefix(err, "carrying table %s back", t->name);
    }
    scratch_free(&s);
    return rc < 0 ? rc : carried;
}

int reverse_traffic(struct stage_ctx *ctx, int restore_capture,
                    struct co_err *err)
{
    struct migration *m = ctx->m;
    int64_t carried;
    int rc;

    if ((rc = ctx->tops->fence_install(ctx->tgt, &m->schema, err)) < 0)
        return rc;
    fault_point("rollback", "target_fenced");
    if ((rc = ctx->sops->freeze_writes(ctx->src, &ctx->m->schema, 60000,
                                        err)) < 0)
        return rc;
    if ((rc = ctx->sops->fence_remove(ctx->src, &m->schema, restore_capture,
                                      err)) < 0)
        goto fail;
    if ((carried = reverse_drain(ctx, err)) < 0) {
        rc = (int)carried;
        goto fail;
    }
    fault_point("rollback", "before_commit");
    if ((rc = ctx->sops->thaw_commit(ctx->src, err)) < 0)
        goto fail;
    events_emit(EVT_CUTOVER, json_pack("{ss sI}", "step", "reversed",
                                     "rows_carried_back",
                                     (json_int_t)carried));
    log_info("carried %lld changed keys from the target back to the source",
             (long long)carried);
    return 0;
fail:
    ctx->sops->thaw(ctx->src);
    return rc;
}

/* stage.c — the stage table and helpers shared by several stages. */
#include "stages/stage.h"

#include <string.h>

#include "lib/actions.h"
#include "lib/log.h"
#include "sync/applier.h"

const struct stage *stage_for(enum fsm_state s)
{
    switch (s) {
    case ST_PRE_VALIDATE: return &stage_pre_validate;
    case ST_BULK_COPY: return &stage_bulk_copy;
    case ST_SYNC: return &stage_sync;
    case ST_VERIFY: return &stage_verify;
    case ST_CUTOVER: return &stage_cutover;
    case ST_POST_VALIDATE: return &stage_post_validate;
    case ST_ABORTING: return &stage_aborting;
    case ST_ROLLING_BACK: return &stage_rolling_back;
    default: return NULL;
    }
}

int stage_connect(struct stage_ctx *ctx, struct co_err *err)
{
    int rc;

    if (!ctx->src) {
        if ((rc = ctx->sops->open(ctx->rb, &ctx->src, err)) < 0)
            return rc;
        ctx->sops->set_owner(ctx->src, ctx->m->id);
    }
    if (!ctx->tgt) {
        if ((rc = ctx->tops->open(ctx->rb, &ctx->rb->target, &ctx->tgt,
                                  err)) < 0)
            return rc;
        ctx->tops->set_owner(ctx->tgt, ctx->m->id);
    }
    return 0;
}

/* Same columns (names, declared types) and key as when we started? */
static int table_unchanged(const struct table *was, const struct table *is,
                           char *why, size_t cap)
{
    if (was->ncols != is->ncols) {
        snprintf(why, cap, "table %s now has %d columns (had %d)", was->name,
                 is->ncols, was->ncols);
        return 0;
    }
    for (int c = 0; c < was->ncols; c++)
        if (strcmp(was->cols[c].name, is->cols[c].name) != 0 ||
            strcmp(was->cols[c].decl, is->cols[c].decl) != 0) {
            snprintf(why, cap, "table %s: column %s changed (now %s %s)",
                     was->name, was->cols[c].name, is->cols[c].name,
                     is->cols[c].decl);
            return 0;
        }
    if (was->nkey != is->nkey ||
        memcmp(was->key, is->key, sizeof(int) * (size_t)was->nkey) != 0) {
        snprintf(why, cap, "table %s: its key changed", was->name);
        return 0;
    }
    return 1;
}

int stage_check_schema(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct schema now;
    int64_t version;
    char why[512] = "";
    int rc;

    if ((rc = ctx->sops->schema_version(ctx->src, &version, err)) < 0)
        return rc;
    if (version == m->source_schema_version || m->source_schema_version == 0)
        return 0;
    if ((rc = ctx->sops->read_schema(ctx->src, ctx->rb, &now, err)) < 0)
        return rc;
    migration_drop_kept(m, &now);
    for (int i = 0; i < m->ntables && !why[0]; i++) {
        struct table *is = schema_table(&now, m->tables[i].t->name);
        if (!is)
            snprintf(why, sizeof why, "table %s was dropped or renamed",
                     m->tables[i].t->name);
        else
            table_unchanged(m->tables[i].t, is, why, sizeof why);
    }
    if (!why[0] && now.ntables != m->ntables)
        snprintf(why, sizeof why, "a new table matching tables.include "
                 "appeared");
    schema_free(&now);
    if (why[0])
        return co_errf(err, CO_ECHANGED, "the source schema changed during "
                       "the migration (%s); the migration is paused: revert "
                       "the change and resume, or abort and start again", why);
    log_info("source schema_version moved (%lld → %lld) without touching the "
             "migrated tables; continuing",
             (long long)m->source_schema_version, (long long)version);
    pthread_mutex_lock(&m->mu);
    m->source_schema_version = version;
    pthread_mutex_unlock(&m->mu);
    return 0;
}

int stage_applier_running(struct stage_ctx *ctx, struct co_err *err)
{
    int rc;

    if (!ctx->applier)
        return applier_start(ctx->m, ctx->sops, ctx->tops, &ctx->applier, err);
    if ((rc = applier_failed(ctx->applier, err)) < 0)
        return rc;
    return 0;
}

void stage_switch_env(const struct stage_ctx *ctx, struct action_env *env,
                      const char *direction)
{
    const struct runbook *rb = ctx->rb;

    action_env_add(env, "CUTOVER_NAME", rb->name);
    action_env_add(env, "CUTOVER_RUNBOOK", rb->path ? rb->path : "");
    action_env_add(env, "CUTOVER_STATE_DIR", rb->state_dir);
    action_env_add(env, "CUTOVER_DIRECTION", direction);
    action_env_add(env, "CUTOVER_TARGET_DATABASE", rb->target.database);
    if (rb->target.socket)
        action_env_add(env, "CUTOVER_TARGET_SOCKET", rb->target.socket);
    if (rb->target.host)
        action_env_add(env, "CUTOVER_TARGET_HOST", rb->target.host);
}

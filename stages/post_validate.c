/*
 * post_validate.c — the post_validate stage (DESIGN §5): for watch_s after
 * the switch, every interval_s, run the runbook's checks (HTTP through
 * libcurl, SQL on the target or a replica), probe the target's latency,
 * and publish the results as metrics for the triggers
 * (check.NAME.failures counts consecutive failures) and as `check` events.
 * When the window passes, the reverse capture is removed from the target
 * and the change logs from the source; the source keeps its fence so a
 * forgotten application instance cannot write to the old database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/actions.h"
#include "lib/events.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/faults.h"
#include "lib/xalloc.h"
#include "stages/stage.h"

struct post {
    double next_round;
    int *failures;            /* consecutive, per check */
    struct target **replicas; /* opened on demand for replica checks */
};

static int run_check(struct stage_ctx *ctx, struct post *p, int i)
{
    const struct rb_check *ck = &ctx->rb->post_validate.checks[i];
    struct co_err err = {0};
    char metric[128], what[96];
    long status = 0;
    double value = 0, ms = 0, t0 = mono_s();
    int ok, rc;

    snprintf(what, sizeof what, "post_validate.checks %s", ck->name);
    if (ck->is_http) {
        rc = http_request(&ck->http, what, &status, &ms, &err);
        ok = rc == 0;
    } else {
        struct target *on = ctx->tgt;
        int r = -1;
        if (ck->replica) {
            r = 0;
            while (r < ctx->rb->nreplicas &&
                   strcmp(ctx->rb->replicas[r].name, ck->replica) != 0)
                r++;
            if (!p->replicas[r] &&
                ctx->tops->open(ctx->rb, &ctx->rb->replicas[r],
                                &p->replicas[r], &err) < 0)
                on = NULL;
            else
                on = p->replicas[r];
        }
        rc = on ? ctx->tops->query_number(on, ck->sql, &value, &err) : -1;
        if (rc == CO_ECONNLOST && r >= 0) {     /* reconnect next time */
            ctx->tops->close(p->replicas[r]);
            p->replicas[r] = NULL;
        }
        ms = (mono_s() - t0) * 1000;
        ok = rc == 0 && (!ck->has_min || value >= ck->min) &&
             (!ck->has_max || value <= ck->max);
        if (rc == 0 && !ok)
            co_errf(&err, CO_EMISMATCH, "%s returned %g (expected %s%g%s%g)",
                    what, value, ck->has_min ? ">= " : "",
                    ck->has_min ? ck->min : 0, ck->has_max ? ", <= " : "",
                    ck->has_max ? ck->max : 0);
    }
    p->failures[i] = ok ? 0 : p->failures[i] + 1;
    snprintf(metric, sizeof metric, "check.%s.failures", ck->name);
    metrics_set(metric, p->failures[i]);
    json_t *ev = json_pack("{ss sb sf si}", "name", ck->name, "ok", ok, "ms",
                           ms, "failures", p->failures[i]);
    if (ck->is_http)
        json_object_set_new(ev, "status", json_integer(status));
    else if (rc == 0)
        json_object_set_new(ev, "value", json_real(value));
    if (!ok)
        json_object_set_new(ev, "error", json_string(co_err_text(&err)));
    events_emit(EVT_CHECK, ev);
    if (!ok)
        log_warnx("check %s failed (%d in a row): %s", ck->name,
                  p->failures[i], co_err_text(&err));
    return 0;
}

static int post_enter(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct post *p;
    int rc;

    if ((rc = stage_connect(ctx, err)) < 0)
        return rc;
    p = xcalloc(1, sizeof *p);
    p->failures = xcalloc((size_t)ctx->rb->post_validate.nchecks + 1,
                         sizeof(int));
    p->replicas = xcalloc((size_t)ctx->rb->nreplicas + 1,
                         sizeof(struct target *));
    ctx->priv = p;
    if (m->post.started_at == 0) {
        pthread_mutex_lock(&m->mu);
        m->post.started_at = now_s();
        pthread_mutex_unlock(&m->mu);
        return migration_save(m, err);
    }
    return 0;
}

static void post_leave(struct stage_ctx *ctx)
{
    struct post *p = ctx->priv;

    if (!p)
        return;
    for (int i = 0; i < ctx->rb->nreplicas; i++)
        ctx->tops->close(p->replicas[i]);
    free(p->replicas);
    free(p->failures);
    free(p);
    ctx->priv = NULL;
}

static int finish(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    int rc;

    fault_point("post_validate", "finish");
    if ((rc = ctx->tops->rcapture_remove(ctx->tgt, &m->schema, err)) < 0)
        return rc;
    if ((rc = ctx->sops->capture_remove(ctx->src, &m->schema, 1, err)) < 0)
        return rc;
    log_info("post-validation window passed; reverse capture removed, the "
             "source stays fenced");
    return STEP_DONE;
}

static int post_step(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct post *p = ctx->priv;
    double now = mono_s(), probe;

    if (now_s() - m->post.started_at >= ctx->rb->post_validate.watch_s)
        return finish(ctx, err);
    if (now >= p->next_round) {
        p->next_round = now + ctx->rb->post_validate.interval_s;
        for (int i = 0; i < ctx->rb->post_validate.nchecks; i++)
            run_check(ctx, p, i);
        if (ctx->tops->probe(ctx->tgt, &probe, err) == 0)
            metrics_set("target.probe_ms", probe);
        fault_point("post_validate", "round");
        return STEP_MORE;
    }
    return STEP_IDLE;
}

const struct stage stage_post_validate = {
    .name = "post_validate",
    .state = ST_POST_VALIDATE,
    .enter = post_enter,
    .step = post_step,
    .suspend = post_leave,
    .leave = post_leave,
};

/*
 * orchestrator.c — the libuv loop of a running migration: signals
 * (SIGINT/SIGTERM → checkpoint at a safe point and exit 6), the one-second
 * tick (metrics, triggers, metrics.prom), command outcomes coming back from
 * the conductor, and the progress socket and notifier when configured.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/http.h"
#include "lib/events.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "orchestrator/orch.h"
#include "orchestrator/sampler.h"
#include "orchestrator/server.h"
#include "orchestrator/notify.h"
#include "orchestrator/triggers.h"
#include "sync/drivers/registry.h"
#include "lib/xalloc.h"

void *conductor_main(void *arg);

static void on_signal(uv_signal_t *h, int signum)
{
    struct orch *o = h->data;
    struct command *c = xcalloc(1, sizeof *c);

    log_warnx("%s received: stopping at the next safe point (resume with "
              "`cutover resume`)", signum == SIGINT ? "SIGINT" : "SIGTERM");
    c->kind = CMD_INTERRUPT;
    snprintf(c->origin, sizeof c->origin, "signal");
    c->done = NULL;
    orch_command(o, c);
}

static void on_wake(uv_async_t *h)
{
    struct orch *o = h->data;
    struct command *list, *c;

    pthread_mutex_lock(&o->qmu);
    list = o->done;
    o->done = NULL;
    pthread_mutex_unlock(&o->qmu);
    while ((c = list)) {
        list = c->next;
        if (c->done)
            c->done(c);
        else
            free(c);
    }
    if (o->finished)
        uv_stop(&o->loop);
}

static void on_tick(uv_timer_t *h)
{
    struct orch *o = h->data;

    sampler_sample(o);
    if (o->triggers)
        trigger_engine_evaluate(o->triggers);
    if (mono_s() - o->last_prom >= 5.0) {
        o->last_prom = mono_s();
        sampler_write_prom(o);
    }
}

json_t *orch_status(struct orch *o)
{
    json_t *st = migration_status(o->m);

    json_object_set_new(st, "metrics", metrics_snapshot());
    json_object_set_new(st, "running", json_true());
    if (o->triggers)
        json_object_set_new(st, "triggers",
                            trigger_engine_status(o->triggers));
    return st;
}

/* Events about the migration also go to the notifier and the socket. */
static void on_transition(void *arg, enum fsm_state from, enum fsm_state to,
                          const char *reason)
{
    struct orch *o = arg;

    if (o->notifier)
        notifier_on_transition(o->notifier, from, to, reason);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int orch_run(struct runbook *rb, struct migration *m)
{
    struct orch *o = xcalloc(1, sizeof *o);
    struct co_err err = {0};
    int code;

    o->rb = rb;
    o->m = m;
    backoff_init(&o->outage, 0.5, 32.0);
    pthread_mutex_init(&o->qmu, NULL);
    pthread_cond_init(&o->qcond, NULL);
    o->ctx.m = m;
    o->ctx.rb = rb;
    o->ctx.sops = driver_source(rb->source.type);
    o->ctx.tops = driver_target(rb->target.type);
    o->ctx.orch = o;
    uv_loop_init(&o->loop);
    uv_signal_init(&o->loop, &o->sigint);
    uv_signal_init(&o->loop, &o->sigterm);
    o->sigint.data = o->sigterm.data = o;
    uv_signal_start(&o->sigint, on_signal, SIGINT);
    uv_signal_start(&o->sigterm, on_signal, SIGTERM);
    uv_async_init(&o->loop, &o->wake, on_wake);
    o->wake.data = o;
    uv_timer_init(&o->loop, &o->tick);
    o->tick.data = o;
    uv_timer_start(&o->tick, on_tick, 1000, 1000);
    signal(SIGPIPE, SIG_IGN);

    o->notifier = notifier_start(rb, &err);
    if (!o->notifier && err.code)
        log_warnx("notifications off: %s", co_err_text(&err));
    o->triggers = trigger_engine_new(o);
    o->server = server_start(o, &err);
    if (!o->server) {
        log_error("%s", co_err_text(&err));
        code = 1;
        goto out;
    }
    /* The HTTP endpoint, when the runbook asks for one (http.h). */
    o->http = http_server_start(o, &err);
    if (!o->http && err.code) {
        log_error("%s", co_err_text(&err));
        code = 1;
        goto out;
    }
    migration_on_transition(m, on_transition, o);
    pthread_create(&o->conductor, NULL, conductor_main, o);
    uv_run(&o->loop, UV_RUN_DEFAULT);
    /* No more sampling: server_stop runs the loop again to deliver the
     * outcome, and a tick there would start a probe thread that outlives
     * the runbook it reads. */
    uv_timer_stop(&o->tick);
    pthread_join(o->conductor, NULL);
    code = o->exit_code;
    sampler_stop(fsm_state_is_terminal(m->state));
    sampler_write_prom(o);
out:
    migration_on_transition(m, NULL, NULL);
    http_server_stop(o->http);
    server_stop(o->server);
    trigger_engine_free(o->triggers);
    notifier_stop(o->notifier);
    o->ctx.sops->close(o->ctx.src);
    o->ctx.tops->close(o->ctx.tgt);
    uv_walk(&o->loop, close_walk, NULL);
    uv_run(&o->loop, UV_RUN_DEFAULT);
    uv_loop_close(&o->loop);
    pthread_mutex_destroy(&o->qmu);
    pthread_cond_destroy(&o->qcond);
    free(o);
    return code;
}

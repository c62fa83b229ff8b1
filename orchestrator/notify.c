/* notify.c — the notifier thread: webhooks and hook actions. */
#include "orchestrator/notify.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/actions.h"
#include "lib/events.h"
#include "lib/log.h"
#include "lib/backoff.h"
#include "lib/xalloc.h"

#define QUEUE_MAX 1000
#define STOP_DEADLINE_S 10.0

/* Event types a webhook gets when its runbook entry lists none. */
static const char *const default_events[] = {
    "stage", "trigger", "completed", "failed", "aborted", "rolled_back", NULL};

struct job {
    int webhook;               /* index, or -1 for a hook action */
    const struct rb_action *action;
    char *body;                /* webhook body (an event line) */
    struct action_env env;
    struct job *next;
};

struct notifier {
    const struct runbook *rb;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct job *head, *tail;
    int queued;
    int stopping;
    double stop_deadline;
    int listen_id;
    int64_t dropped;           /* notifications lost to a full queue */
};

static void push(struct notifier *n, struct job *j)
{
    pthread_mutex_lock(&n->mu);
    if (n->queued >= QUEUE_MAX) {
        struct job *old = n->head;
        n->head = old->next;
        if (!n->head)
            n->tail = NULL;
        n->queued--;
        free(old->body);
        free(old);
        n->dropped++;
    }
    if (n->tail)
        n->tail->next = j;
    else
        n->head = j;
    n->tail = j;
    n->queued++;
    pthread_cond_signal(&n->cond);
    pthread_mutex_unlock(&n->mu);
}

static int wants(const struct rb_webhook *w, const char *type)
{
    const char *const *list = (const char *const *)w->events;
    int n = w->nevents;

    if (!list) {
        list = default_events;
        n = -1;
    }
    for (int i = 0; n < 0 ? list[i] != NULL : i < n; i++)
        if (strcmp(list[i], type) == 0)
            return 1;
    return 0;
}

static void on_event(void *arg, const char *line, size_t len, json_t *ev)
{
    struct notifier *n = arg;
    const char *type = json_string_value(json_object_get(ev, "type"));

    if (!type)
        return;
    for (int i = 0; i < n->rb->nwebhooks; i++) {
        struct job *j;
        if (!wants(&n->rb->webhooks[i], type))
            continue;
        j = xcalloc(1, sizeof *j);
        j->webhook = i;
        j->body = xstrndup(line, len > 0 && line[len - 1] == '\n' ? len - 1
                                                                 : len);
        push(n, j);
    }
}

static void deliver_webhook(struct notifier *n, struct job *j)
{
    const struct rb_webhook *w = &n->rb->webhooks[j->webhook];
    struct co_err err = {0};
    struct backoff retry;
    long status;

    char shown[512];

    url_for_message(w->url, URL_HIDE_PATH, shown, sizeof shown);
    backoff_init(&retry, 0.5, 30.0);
    for (int attempt = 0; attempt <= w->retries; attempt++) {
        int rc = http_post_json(w->url, w->headers, w->nheaders, j->body,
                                w->timeout_ms, &status, &err);
        if (rc == 0 && status >= 200 && status < 300)
            return;
        if (rc == 0)
            co_errf(&err, CO_EACTION, "webhook %s answered %ld", shown,
                    status);
        log_warnx("%s (attempt %d of %d)", co_err_text(&err), attempt + 1,
                  w->retries + 1);
        if (attempt == w->retries)
            break;
        for (double t = 0, wait = backoff_failed(&retry); t < wait;
             t += 0.1) {
            if (n->stopping && mono_s() > n->stop_deadline)
                return;
            usleep(100000);
        }
    }
}

static void *notifier_main(void *arg)
{
    struct notifier *n = arg;

    log_thread_quiet_sink(1);
    for (;;) {
        struct job *j;
        pthread_mutex_lock(&n->mu);
        while (!n->head && !n->stopping)
            pthread_cond_wait(&n->cond, &n->mu);
        j = n->head;
        if (j) {
            n->head = j->next;
            if (!n->head)
                n->tail = NULL;
            n->queued--;
        }
        int64_t dropped = n->dropped;
        n->dropped = 0;
        pthread_mutex_unlock(&n->mu);
        if (dropped) {
            /* Outside the listener (no bus lock held): safe to emit. Said
             * once per overflow, so a webhook on log events cannot feed
             * itself through it. */
            char msg[160];
            snprintf(msg, sizeof msg, "notifications: queue full; the %lld "
                     "oldest notifications were dropped", (long long)dropped);
            log_warnx("%s", msg);
            events_emit(EVT_LOG, json_pack("{ss ss}", "level", "warning",
                                         "message", msg));
        }
        if (!j)
            break;
        if (!(n->stopping && mono_s() > n->stop_deadline)) {
            if (j->webhook >= 0) {
                deliver_webhook(n, j);
            } else {
                struct co_err err = {0};
                if (action_run(j->action, "hook", &j->env, &err) < 0)
                    log_warnx("%s", co_err_text(&err));
            }
        }
        for (int i = 0; i < j->env.n; i++)
            free((void *)j->env.vars[i]);
        free(j->body);
        free(j);
    }
    return NULL;
}

struct notifier *notifier_start(const struct runbook *rb, struct co_err *err)
{
    struct notifier *n;

    if (rb->nwebhooks == 0 && rb->hooks.non_stage == 0 &&
        rb->hooks.non_trigger == 0)
        return NULL;
    n = xcalloc(1, sizeof *n);
    n->rb = rb;
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cond, NULL);
    if (pthread_create(&n->thread, NULL, notifier_main, n) != 0) {
        free(n);
        co_errf(err, CO_ENOMEM, "cannot start the notifier thread");
        return NULL;
    }
    if (rb->nwebhooks > 0)
        n->listen_id = events_listen(on_event, n);
    else
        n->listen_id = -1;
    return n;
}

static void queue_hooks(struct notifier *n, const struct rb_action *hooks,
                        int nhooks, const char *k1, const char *v1,
                        const char *k2, const char *v2)
{
    for (int i = 0; i < nhooks; i++) {
        struct job *j = xcalloc(1, sizeof *j);
        j->webhook = -1;
        j->action = &hooks[i];
        action_env_add(&j->env, "CUTOVER_NAME", n->rb->name);
        action_env_add(&j->env, "CUTOVER_STATE_DIR", n->rb->state_dir);
        action_env_add(&j->env, k1, v1);
        action_env_add(&j->env, k2, v2);
        push(n, j);
    }
}

void notifier_on_transition(struct notifier *n, enum fsm_state from,
                            enum fsm_state to, const char *reason)
{
    (void)reason;
    if (!n)
        return;
    queue_hooks(n, n->rb->hooks.on_stage, n->rb->hooks.non_stage,
                "CUTOVER_FROM", fsm_state_name(from), "CUTOVER_STAGE",
                fsm_state_name(to));
}

void notifier_on_trigger(struct notifier *n, const char *rule,
                         const char *action)
{
    if (!n)
        return;
    queue_hooks(n, n->rb->hooks.on_trigger, n->rb->hooks.non_trigger,
                "CUTOVER_RULE", rule, "CUTOVER_ACTION", action);
}

void notifier_stop(struct notifier *n)
{
    if (!n)
        return;
    if (n->listen_id >= 0)
        events_unlisten(n->listen_id);
    pthread_mutex_lock(&n->mu);
    n->stopping = 1;
    n->stop_deadline = mono_s() + STOP_DEADLINE_S;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->thread, NULL);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cond);
    free(n);
}

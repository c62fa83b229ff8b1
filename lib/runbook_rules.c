/* runbook_rules.c — actions, checks, trigger rules, webhooks and hooks. */
#include "lib/runbook_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/events.h"
#include "lib/states.h"
#include "lib/secrets.h"
#include "lib/xalloc.h"

static const char *const metric_names[] = {
    "sync.lag_s", "sync.backlog_rows", "apply.errors", "copy.rows_per_s",
    "verify.mismatched_rows", "target.probe_ms", "target.threads_running",
    "target.replica_lag_s", "host.load1", "cutover.write_pause_ms", NULL};

static int read_status_list(struct jread *r, json_t *o, const char *key,
                            int **out, int *n)
{
    json_t *v = json_object_get(o, key), *item;
    size_t i;

    if (!v)
        return 0;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return jr_fail(r, key, "expected a non-empty array of HTTP statuses");
    *out = xcalloc(json_array_size(v), sizeof **out);
    json_array_foreach(v, i, item) {
        if (!json_is_integer(item) || json_integer_value(item) < 100 ||
            json_integer_value(item) > 599)
            return jr_fail(r, key, "expected HTTP statuses (100 to 599)");
        (*out)[i] = (int)json_integer_value(item);
    }
    *n = (int)json_array_size(v);
    return 0;
}

static int read_headers(struct jread *r, json_t *o, const char *key,
                        struct rb_header **out, int *n)
{
    json_t *v = json_object_get(o, key), *val;
    const char *name;

    if (!v)
        return 0;
    if (!json_is_object(v))
        return jr_fail(r, key, "expected an object of header: value");
    *out = xcalloc(json_object_size(v) + 1, sizeof **out);
    json_object_foreach(v, name, val) {
        if (!json_is_string(val))
            return jr_fail(r, key, "header %s: expected a string", name);
        if (strpbrk(name, ":\r\n") || strpbrk(json_string_value(val), "\r\n"))
            return jr_fail(r, key, "header %s: no ':' in names, no line "
                                   "breaks in values", name);
        (*out)[*n].name = xstrdup(name);
        (*out)[*n].value = xstrdup(json_string_value(val));
        (*n)++;
    }
    return 0;
}

static int url_valid(const char *u)
{
    return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

/* {"method","url","headers","body","expect_status","timeout_ms"} */
static int read_http(struct jread *r, json_t *o, struct rb_action *a)
{
    static const char *const keys[] = {"method", "url", "headers", "body",
                                       "expect_status", "timeout_ms", NULL};
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH",
                                          "DELETE", "HEAD", NULL};
    int m = 0;

    a->kind = ACTION_HTTP;
    TRY(jr_object(r, o, keys));
    TRY(jr_require(r, o, "url"));
    TRY(jr_str(r, o, "url", &a->url));
    if (!url_valid(a->url))
        return jr_fail(r, "url", "expected an http:// or https:// URL");
    secret_add_url(a->url);
    TRY(jr_enum(r, o, "method", methods, &m));
    a->method = xstrdup(methods[m]);
    TRY(read_headers(r, o, "headers", &a->headers, &a->nheaders));
    TRY(jr_str(r, o, "body", &a->body));
    TRY(read_status_list(r, o, "expect_status", &a->expect_status,
                         &a->nexpect));
    a->timeout_ms = 5000;
    TRY(jr_int(r, o, "timeout_ms", 1, 3600000, &a->timeout_ms));
    return 0;
}

static int read_action(struct jread *r, json_t *o, const char *dir,
                       struct rb_action *a)
{
    static const char *const keys[] = {"exec", "http", "timeout_ms", NULL};
    json_t *http;

    (void)dir;
    TRY(jr_object(r, o, keys));
    if (!!json_object_get(o, "exec") == !!json_object_get(o, "http"))
        return jr_fail(r, NULL, "an action has exactly one of \"exec\" or "
                                "\"http\"");
    if (json_object_get(o, "exec")) {
        a->kind = ACTION_EXEC;
        TRY(jr_strv(r, o, "exec", 0, &a->argv, &a->argc));
        a->timeout_ms = 30000;
        TRY(jr_int(r, o, "timeout_ms", 1, 3600000, &a->timeout_ms));
        return 0;
    }
    if (json_object_get(o, "timeout_ms"))
        return jr_fail(r, "timeout_ms", "for http actions give "
                                        "http.timeout_ms");
    http = json_object_get(o, "http");
    size_t mark = jr_push_key(r, "http");
    int rc = read_http(r, http, a);
    jr_pop(r, mark);
    return rc;
}

int rb_read_actions(struct jread *r, json_t *arr, const char *dir,
                    struct rb_action **out, int *n)
{
    size_t i;
    json_t *item;

    if (!json_is_array(arr))
        return jr_fail(r, NULL, "expected an array of actions");
    *out = xcalloc(json_array_size(arr) + 1, sizeof **out);
    json_array_foreach(arr, i, item) {
        size_t mark = jr_push_index(r, i);
        int rc = read_action(r, item, dir, &(*out)[i]);
        jr_pop(r, mark);
        *n = (int)i + 1;
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int name_valid(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_-") == n;
}

static int read_check(struct jread *r, json_t *o, struct rb_check *c)
{
    static const char *const keys[] = {"name", "http", "sql", "min", "max",
                                       "replica", NULL};
    json_t *http;

    TRY(jr_object(r, o, keys));
    TRY(jr_require(r, o, "name"));
    TRY(jr_str(r, o, "name", &c->name));
    if (!name_valid(c->name))
        return jr_fail(r, "name", "use 1 to 64 letters, digits, '_', '-'");
    if (!!json_object_get(o, "http") == !!json_object_get(o, "sql"))
        return jr_fail(r, NULL, "a check has exactly one of \"http\" or "
                                "\"sql\"");
    if ((http = json_object_get(o, "http"))) {
        c->is_http = 1;
        size_t mark = jr_push_key(r, "http");
        int rc = read_http(r, http, &c->http);
        jr_pop(r, mark);
        if (rc < 0)
            return rc;
        if (json_object_get(o, "min") || json_object_get(o, "max") ||
            json_object_get(o, "replica"))
            return jr_fail(r, NULL, "min, max and replica apply to sql "
                                    "checks only");
        return 0;
    }
    TRY(jr_str(r, o, "sql", &c->sql));
    c->has_min = json_object_get(o, "min") != NULL;
    c->has_max = json_object_get(o, "max") != NULL;
    TRY(jr_num(r, o, "min", -1e300, 1e300, &c->min));
    TRY(jr_num(r, o, "max", -1e300, 1e300, &c->max));
    if (c->has_min && c->has_max && c->min > c->max)
        return jr_fail(r, "max", "is below min");
    TRY(jr_str(r, o, "replica", &c->replica));
    return 0;
}

int rb_read_post_validate(struct jread *r, json_t *o, struct runbook *rb)
{
    static const char *const keys[] = {"watch_s", "interval_s", "checks",
                                       NULL};
    json_t *checks, *item;
    size_t i;

    TRY(jr_object(r, o, keys));
    TRY(jr_num(r, o, "watch_s", 0, 30 * 86400, &rb->post_validate.watch_s));
    TRY(jr_num(r, o, "interval_s", 0.1, 86400,
               &rb->post_validate.interval_s));
    if (!(checks = json_object_get(o, "checks")))
        return 0;
    if (!json_is_array(checks))
        return jr_fail(r, "checks", "expected an array of checks");
    rb->post_validate.checks = xcalloc(json_array_size(checks) + 1,
                                      sizeof *rb->post_validate.checks);
    json_array_foreach(checks, i, item) {
        size_t m1 = jr_push_key(r, "checks");
        jr_push_index(r, i);
        int rc = read_check(r, item, &rb->post_validate.checks[i]);
        rb->post_validate.nchecks = (int)i + 1;
        for (size_t j = 0; rc == 0 && j < i; j++)
            if (strcmp(rb->post_validate.checks[j].name,
                       rb->post_validate.checks[i].name) == 0)
                rc = jr_fail(r, "name", "check name \"%s\" is used twice",
                             rb->post_validate.checks[i].name);
        if (rc == 0 && rb->post_validate.checks[i].replica) {
            int found = 0;
            for (int k = 0; k < rb->nreplicas; k++)
                found |= strcmp(rb->replicas[k].name,
                                rb->post_validate.checks[i].replica) == 0;
            if (!found)
                rc = jr_fail(r, "replica", "no replica named \"%s\" in "
                             "target.replicas",
                             rb->post_validate.checks[i].replica);
        }
        jr_pop(r, m1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int read_trigger(struct jread *r, json_t *o, struct rb_trigger *t)
{
    static const char *const keys[] = {"name", "metric", "alert", "above",
                                       "below", "for_s", "stages", "action",
                                       "rows_per_s", NULL};
    static const char *const actions[] = {"notify", "throttle", "pause",
                                          "resume", "abort", "rollback",
                                          NULL};
    int action = -1;

    TRY(jr_object(r, o, keys));
    TRY(jr_require(r, o, "name"));
    TRY(jr_str(r, o, "name", &t->name));
    if (!name_valid(t->name))
        return jr_fail(r, "name", "use 1 to 64 letters, digits, '_', '-'");
    TRY(jr_require(r, o, "action"));
    TRY(jr_enum(r, o, "action", actions, &action));
    t->action = (enum trigger_action)action;
    TRY(jr_str(r, o, "metric", &t->metric));
    TRY(jr_str(r, o, "alert", &t->alert));
    if (!!t->metric == !!t->alert)
        return jr_fail(r, NULL, "a rule has exactly one of \"metric\" or "
                                "\"alert\"");
    t->has_above = json_object_get(o, "above") != NULL;
    t->has_below = json_object_get(o, "below") != NULL;
    TRY(jr_num(r, o, "above", -1e300, 1e300, &t->above));
    TRY(jr_num(r, o, "below", -1e300, 1e300, &t->below));
    TRY(jr_num(r, o, "for_s", 0, 86400, &t->for_s));
    TRY(jr_num(r, o, "rows_per_s", 0, 1e12, &t->rows_per_s));
    if (t->alert) {
        if (t->has_above || t->has_below || json_object_get(o, "for_s"))
            return jr_fail(r, NULL, "alert rules take no above, below or "
                                    "for_s");
        if (t->action == TRIG_RESUME)
            return jr_fail(r, "action", "an alert cannot resume (alerts have "
                                        "no recovery)");
    } else if (t->has_above == t->has_below) {
        return jr_fail(r, NULL, "a metric rule has exactly one of \"above\" "
                                "or \"below\"");
    }
    if (t->action == TRIG_THROTTLE && !json_object_get(o, "rows_per_s"))
        return jr_fail(r, "rows_per_s", "required when action is throttle");
    if (t->action != TRIG_THROTTLE && json_object_get(o, "rows_per_s"))
        return jr_fail(r, "rows_per_s", "applies to action throttle only");
    TRY(jr_strv(r, o, "stages", 0, &t->stages, &t->nstages));
    for (int i = 0; i < t->nstages; i++) {
        int s = fsm_state_by_name(t->stages[i]);
        if (s < 0 || !fsm_state_is_stage((enum fsm_state)s))
            return jr_fail(r, "stages", "\"%s\" is not a stage (pre_validate, "
                           "bulk_copy, sync, verify, cutover, post_validate)",
                           t->stages[i]);
    }
    return 0;
}

int rb_read_triggers(struct jread *r, json_t *arr, struct runbook *rb)
{
    size_t i;
    json_t *item;

    rb->triggers_given = 1;
    if (!json_is_array(arr))
        return jr_fail(r, NULL, "expected an array of rules");
    rb->triggers = xcalloc(json_array_size(arr) + 1, sizeof *rb->triggers);
    json_array_foreach(arr, i, item) {
        size_t mark = jr_push_index(r, i);
        int rc = read_trigger(r, item, &rb->triggers[i]);
        rb->ntriggers = (int)i + 1;
        for (size_t j = 0; rc == 0 && j < i; j++)
            if (strcmp(rb->triggers[j].name, rb->triggers[i].name) == 0)
                rc = jr_fail(r, "name", "rule name \"%s\" is used twice",
                             rb->triggers[i].name);
        jr_pop(r, mark);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int runbook_metric_known(const struct runbook *rb, const char *metric)
{
    size_t n = strlen(metric);

    for (int i = 0; metric_names[i]; i++)
        if (strcmp(metric_names[i], metric) == 0)
            return strcmp(metric, "target.replica_lag_s") != 0 ||
                   rb->nreplicas > 0;
    if (n > 15 && strncmp(metric, "check.", 6) == 0 &&
        strcmp(metric + n - 9, ".failures") == 0) {
        for (int i = 0; i < rb->post_validate.nchecks; i++) {
            const char *name = rb->post_validate.checks[i].name;
            if (strlen(name) == n - 15 && strncmp(metric + 6, name, n - 15) == 0)
                return 1;
        }
    }
    return 0;
}

int rb_check_trigger_metrics(struct jread *r, struct runbook *rb)
{
    char list[512] = "";

    for (int i = 0; metric_names[i]; i++) {
        strncat(list, metric_names[i], sizeof list - strlen(list) - 3);
        strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    for (int i = 0; i < rb->ntriggers; i++) {
        struct rb_trigger *t = &rb->triggers[i];
        size_t mark;
        if (!t->metric || runbook_metric_known(rb, t->metric))
            continue;
        mark = jr_push_key(r, "triggers");
        jr_push_index(r, (size_t)i);
        if (strcmp(t->metric, "target.replica_lag_s") == 0)
            jr_fail(r, "metric", "target.replica_lag_s needs target.replicas");
        else
            jr_fail(r, "metric", "unknown metric \"%s\" (known: %s"
                    "check.NAME.failures for a declared check)", t->metric,
                    list);
        jr_pop(r, mark);
        return r->code;
    }
    return 0;
}

static int read_webhook(struct jread *r, json_t *o, struct rb_webhook *w)
{
    static const char *const keys[] = {"url", "events", "headers",
                                       "timeout_ms", "retries", NULL};

    TRY(jr_object(r, o, keys));
    TRY(jr_require(r, o, "url"));
    TRY(jr_str(r, o, "url", &w->url));
    if (!url_valid(w->url))
        return jr_fail(r, "url", "expected an http:// or https:// URL");
    secret_add_url(w->url);
    TRY(jr_strv(r, o, "events", 0, &w->events, &w->nevents));
    for (int i = 0; i < w->nevents; i++) {
        /* any event of the stream (DESIGN §7), not socket-only lines */
        int t = event_type_by_name(w->events[i]);
        if (t < 0 || !event_type_is_streamed((enum event_type)t))
            return jr_fail(r, "events", "\"%s\" is not an event type",
                           w->events[i]);
    }
    TRY(read_headers(r, o, "headers", &w->headers, &w->nheaders));
    w->timeout_ms = 5000;
    w->retries = 5;
    TRY(jr_int(r, o, "timeout_ms", 1, 600000, &w->timeout_ms));
    TRY(jr_int(r, o, "retries", 0, 100, &w->retries));
    return 0;
}

int rb_read_notify(struct jread *r, json_t *arr, struct runbook *rb)
{
    static const char *const keys[] = {"webhook", NULL};
    size_t i;
    json_t *item;

    if (!json_is_array(arr))
        return jr_fail(r, NULL, "expected an array of {\"webhook\": {...}}");
    rb->webhooks = xcalloc(json_array_size(arr) + 1, sizeof *rb->webhooks);
    json_array_foreach(arr, i, item) {
        size_t mark = jr_push_index(r, i);
        int rc = jr_object(r, item, keys);
        if (rc == 0)
            rc = jr_require(r, item, "webhook");
        if (rc == 0) {
            jr_push_key(r, "webhook");
            rc = read_webhook(r, json_object_get(item, "webhook"),
                              &rb->webhooks[i]);
        }
        rb->nwebhooks = (int)i + 1;
        jr_pop(r, mark);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int rb_read_hooks(struct jread *r, json_t *o, struct runbook *rb)
{
    static const char *const keys[] = {"on_stage", "on_trigger", NULL};
    json_t *a;
    size_t mark;
    int rc = 0;

    TRY(jr_object(r, o, keys));
    if ((a = json_object_get(o, "on_stage"))) {
        mark = jr_push_key(r, "on_stage");
        rc = rb_read_actions(r, a, rb->dir, &rb->hooks.on_stage,
                             &rb->hooks.non_stage);
        jr_pop(r, mark);
        TRY(rc);
    }
    if ((a = json_object_get(o, "on_trigger"))) {
        mark = jr_push_key(r, "on_trigger");
        rc = rb_read_actions(r, a, rb->dir, &rb->hooks.on_trigger,
                             &rb->hooks.non_trigger);
        jr_pop(r, mark);
    }
    return rc;
}

void rb_action_free(struct rb_action *a)
{
    strv_free(a->argv, a->argc);
    free(a->method);
    free(a->url);
    for (int i = 0; i < a->nheaders; i++) {
        free(a->headers[i].name);
        free(a->headers[i].value);
    }
    free(a->headers);
    free(a->body);
    free(a->expect_status);
}

static void actions_free(struct rb_action *v, int n)
{
    for (int i = 0; i < n; i++)
        rb_action_free(&v[i]);
    free(v);
}

void rb_free_rules(struct runbook *rb)
{
    actions_free(rb->cutover.switch_actions, rb->cutover.nswitch);
    actions_free(rb->cutover.switch_back, rb->cutover.nswitch_back);
    actions_free(rb->hooks.on_stage, rb->hooks.non_stage);
    actions_free(rb->hooks.on_trigger, rb->hooks.non_trigger);
    for (int i = 0; i < rb->post_validate.nchecks; i++) {
        struct rb_check *c = &rb->post_validate.checks[i];
        free(c->name);
        rb_action_free(&c->http);
        free(c->sql);
        free(c->replica);
    }
    free(rb->post_validate.checks);
    for (int i = 0; i < rb->ntriggers; i++) {
        struct rb_trigger *t = &rb->triggers[i];
        free(t->name);
        free(t->metric);
        free(t->alert);
        strv_free(t->stages, t->nstages);
    }
    free(rb->triggers);
    for (int i = 0; i < rb->nwebhooks; i++) {
        struct rb_webhook *w = &rb->webhooks[i];
        free(w->url);
        strv_free(w->events, w->nevents);
        for (int k = 0; k < w->nheaders; k++) {
            free(w->headers[k].name);
            free(w->headers[k].value);
        }
        free(w->headers);
    }
    free(rb->webhooks);
}

const char *trigger_action_name(enum trigger_action a)
{
    static const char *const names[] = {"notify", "throttle", "pause",
                                        "resume", "abort", "rollback"};
    return names[a];
}

/*
 * http_alerts.c — POST /alerts: Alertmanager's webhook payload (version 4)
 * checked as a whole before anything acts on it (a bad payload changes
 * nothing), then handed to the alert rules on the loop thread.
 */
#include "orchestrator/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/events.h"
#include "orchestrator/triggers.h"

#define ALERT_NAME_MAX 255
#define FIRING_REMEMBERED 4096   /* fingerprints kept; past that, forgotten */

/* An object whose members are all strings (labels, annotations). */
static int string_map(json_t *o, const char *what, size_t i, char *why,
                      size_t cap)
{
    const char *k;
    json_t *v;

    if (!json_is_object(o)) {
        snprintf(why, cap, "alerts[%zu].%s: expected an object", i, what);
        return -1;
    }
    json_object_foreach(o, k, v)
        if (!json_is_string(v)) {
            snprintf(why, cap, "alerts[%zu].%s.%s: expected a string", i,
                     what, k);
            return -1;
        }
    return 0;
}

static json_t *parse_alert(json_t *a, size_t i, char *why, size_t cap)
{
    json_t *labels = json_object_get(a, "labels");
    json_t *ann = json_object_get(a, "annotations");
    const char *status = json_string_value(json_object_get(a, "status"));
    const char *name, *fp, *sev;
    char *key;
    json_t *out;

    if (!json_is_object(a)) {
        snprintf(why, cap, "alerts[%zu]: expected an object", i);
        return NULL;
    }
    if (!status || (strcmp(status, "firing") && strcmp(status, "resolved"))) {
        snprintf(why, cap, "alerts[%zu].status: expected \"firing\" or "
                 "\"resolved\"", i);
        return NULL;
    }
    if (string_map(labels, "labels", i, why, cap) < 0 ||
        (ann && string_map(ann, "annotations", i, why, cap) < 0))
        return NULL;
    name = json_string_value(json_object_get(labels, "alertname"));
    if (!name || !name[0] || strlen(name) > ALERT_NAME_MAX) {
        snprintf(why, cap, "alerts[%zu].labels.alertname: expected 1 to %d "
                 "bytes", i, ALERT_NAME_MAX);
        return NULL;
    }
    /* Alertmanager's fingerprint identifies the alert (its label set);
     * without one, the labels themselves do. */
    fp = json_string_value(json_object_get(a, "fingerprint"));
    key = fp && fp[0] ? strdup(fp) : json_dumps(labels, JSON_COMPACT |
                                                       JSON_SORT_KEYS);
    sev = json_string_value(json_object_get(labels, "severity"));
    out = json_pack("{ss ss ss ss sO so}", "status", status, "name", name,
                    "severity", sev ? sev : "", "key", key ? key : "",
                    "labels", labels, "annotations",
                    ann ? json_incref(ann) : json_object());
    free(key);
    if (!out)
        snprintf(why, cap, "alerts[%zu]: out of memory", i);
    return out;
}

json_t *http_alerts_parse(const char *body, size_t len, char *why,
                          size_t cap)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *alerts, *a, *out = NULL;
    const char *version;
    size_t i;

    if (!root) {
        snprintf(why, cap, "not JSON: %s (line %d, column %d)", jerr.text,
                 jerr.line, jerr.column);
        return NULL;
    }
    version = json_string_value(json_object_get(root, "version"));
    alerts = json_object_get(root, "alerts");
    if (!json_is_object(root) || !version || strcmp(version, "4") != 0) {
        snprintf(why, cap, "version: expected \"4\" (Alertmanager's webhook "
                 "payload)");
        goto done;
    }
    if (!json_is_array(alerts)) {
        snprintf(why, cap, "alerts: expected an array");
        goto done;
    }
    out = json_array();
    json_array_foreach(alerts, i, a) {
        json_t *p = parse_alert(a, i, why, cap);
        if (!p) {
            json_decref(out);
            out = NULL;
            goto done;
        }
        json_array_append_new(out, p);
    }
done:
    json_decref(root);
    return out;
}

json_t *http_alerts_apply(struct trigger_engine *t, json_t *firing,
                          json_t *alerts)
{
    int nfiring = 0, nresolved = 0, repeated = 0, fired = 0, n;
    json_t *a;
    size_t i;

    json_array_foreach(alerts, i, a) {
        const char *key = json_string_value(json_object_get(a, "key"));
        const char *name = json_string_value(json_object_get(a, "name"));
        const char *sev = json_string_value(json_object_get(a, "severity"));
        json_t *fields = json_pack("{ss sO sO}", "source", "alertmanager",
                                   "labels", json_object_get(a, "labels"),
                                   "annotations",
                                   json_object_get(a, "annotations"));

        if (strcmp(json_string_value(json_object_get(a, "status")),
                   "resolved") == 0) {
            nresolved++;
            json_object_del(firing, key);
            json_object_set_new(fields, "name", json_string(name));
            json_object_set_new(fields, "severity", json_string(sev));
            json_object_set_new(fields, "status", json_string("resolved"));
            events_emit(EVT_ALERT, fields);
            continue;
        }
        nfiring++;
        if (json_object_get(firing, key)) {
            repeated++;          /* Alertmanager repeats what still fires */
            json_decref(fields);
            continue;
        }
        json_object_set_new(fields, "status", json_string("firing"));
        n = trigger_engine_alert_from(t, name, sev, fields);
        /* Remembered only once it has acted: an alert that fired while
         * its rule waited for another stage acts when Alertmanager repeats
         * it there. */
        if (n > 0) {
            if (json_object_size(firing) >= FIRING_REMEMBERED)
                json_object_clear(firing);
            json_object_set_new(firing, key, json_true());
        }
        fired += n;
    }
    return json_pack("{sb si si si si}", "ok", 1, "firing", nfiring,
                     "resolved", nresolved, "repeated", repeated,
                     "rules_fired", fired);
}

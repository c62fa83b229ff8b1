/*
 * http.h — the HTTP endpoint of a running migration (runbook "http",
 * DESIGN §7), served with GNU libmicrohttpd:
 *
 *   GET  /metrics   Prometheus text format 0.0.4 (http_metrics.c)
 *   GET  /status    the JSON of `cutover status --json`
 *   GET  /events    the event stream as Server-Sent Events
 *   POST /alerts    Alertmanager's webhook (version 4), bearer token
 *                   required; firing alerts go to the runbook's alert rules
 *                   exactly as `cutover ctl alert` (http_alerts.c)
 *
 * http_server.c owns the daemon, its threads and the hand-off to the loop.
 */
#ifndef CO_HTTP_H
#define CO_HTTP_H

#include <jansson.h>
#include <stddef.h>

#include "lib/errors.h"

struct orch;
struct http_server;
struct trigger_engine;

/* Start serving when the runbook asks (NULL and err->code 0 when it does
 * not). Called on the loop thread before it runs. Fails (NULL, err set)
 * when the address cannot be bound or the token variable is unset. */
struct http_server *http_server_start(struct orch *o, struct co_err *err);
/* End every connection and stop; called on the loop thread after uv_run
 * returned, before the loop's handles are closed. */
void http_server_stop(struct http_server *s);

/* The exposition text (malloc'ed, *len bytes), or NULL when out of
 * memory. On the loop thread. */
char *http_metrics_render(struct orch *o, size_t *len);

#define HTTP_ALERTS_MAX_BODY (256 * 1024)

/* Check an Alertmanager webhook payload without acting on it: version
 * "4", an `alerts` array of objects with a `status` of firing or resolved
 * and string labels including `alertname`. Returns the alerts (a new
 * array of {status, name, severity, key, labels, annotations}), or NULL
 * with the reason in `why`. */
json_t *http_alerts_parse(const char *body, size_t len, char *why,
                          size_t cap);

/* On the loop thread: hand each firing alert that has not yet made a rule
 * act to the alert rules (trigger_engine_alert_from: an `alert` event,
 * then the rules it matches), record each resolved one as an `alert` event
 * with status "resolved". `firing` remembers the alerts that made a rule
 * act (by Alertmanager's fingerprint) until they resolve, so the repeats
 * Alertmanager sends act only once.
 * Returns the reply: {"ok", "firing", "resolved", "repeated",
 * "rules_fired"}. */
json_t *http_alerts_apply(struct trigger_engine *t, json_t *firing,
                          json_t *alerts);

#endif

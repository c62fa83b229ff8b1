/*
 * http_metrics.c — GET /metrics: the migration in Prometheus text
 * exposition format 0.0.4. Every metric has # HELP and # TYPE, a
 * `cutover_` name in base units (seconds, rows), `_total` on counters, and
 * `table`, `check` or `rule` labels where it is per thing. The registry's
 * dotted names (DESIGN §6) map to Prometheus names in `known[]`; a name
 * added later still appears, as a gauge named after it.
 *
 * Runs on the loop thread (it reads the model and the trigger engine).
 */
#include "orchestrator/http.h"

#include <ctype.h>
#include <string.h>

#include "lib/metrics.h"
#include "orchestrator/orch.h"
#include "orchestrator/sampler.h"
#include "orchestrator/triggers.h"
#include "lib/sbuf.h"

struct prom_metric {
    const char *metric;        /* registry name */
    const char *name;          /* Prometheus name */
    const char *type;
    double scale;              /* registry unit → base unit */
    const char *help;
};

static const struct prom_metric known[] = {
    {"sync.lag_s", "cutover_sync_lag_seconds", "gauge", 1,
     "Age of the oldest source change not yet applied to the target."},
    {"sync.backlog_rows", "cutover_sync_backlog_rows", "gauge", 1,
     "Source changes logged and not yet applied to the target."},
    {"sync.applied_per_s", "cutover_sync_applied_rows_per_second", "gauge", 1,
     "Rate at which the applier applies logged changes."},
    {"apply.errors", "cutover_apply_errors_total", "counter", 1,
     "Errors of the applier."},
    {"copy.rows_per_s", "cutover_copy_rows_per_second", "gauge", 1,
     "Bulk copy rate, all tables."},
    {"copy.max_rows_per_s", "cutover_copy_throttle_rows_per_second", "gauge",
     1, "The copy's rate limit (0: none)."},
    {"verify.mismatched_rows", "cutover_verify_mismatched_rows", "gauge", 1,
     "Rows verify found different on the two sides, after rechecks."},
    {"target.probe_ms", "cutover_target_probe_seconds", "gauge", 0.001,
     "Latency of a trivial query on the target."},
    {"target.threads_running", "cutover_target_threads_running", "gauge", 1,
     "The target server's Threads_running."},
    {"target.replica_lag_s", "cutover_target_replica_lag_seconds", "gauge",
     1, "Lag of the target's worst read replica, by cutover's heartbeat."},
    {"host.load1", "cutover_host_load1", "gauge", 1,
     "This host's 1-minute load average."},
    {"cutover.write_pause_ms", "cutover_write_pause_seconds", "gauge", 0.001,
     "Write pause of the last cutover attempt (lock taken to switch done)."},
    {"triggers.firings", NULL, NULL, 0, NULL},   /* per rule, below */
};

static void header(struct sbuf *b, const char *name, const char *type,
                   const char *help)
{
    sbuf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct sbuf *b, const char *name, const char *label,
                   const char *value_of_label, double v)
{
    sbuf_adds(b, name);
    if (label) {
        sbuf_addf(b, "{%s=", label);
        sampler_prom_label(b, value_of_label);
        sbuf_addc(b, '}');
    }
    sbuf_addf(b, " %.17g\n", v);
}

static void one(struct sbuf *b, const char *name, const char *type,
                const char *help, double v)
{
    header(b, name, type, help);
    sample(b, name, NULL, NULL, v);
}

static void states(struct sbuf *b, enum fsm_state now)
{
    header(b, "cutover_state", "gauge", "1 for the state the migration is "
           "in, 0 for the others.");
    for (int s = 0; s < ST__COUNT; s++)
        sample(b, "cutover_state", "state", fsm_state_name(s), s == (int)now);
}

/* Per table: a family at a time, as the format wants its samples
 * grouped. */
enum table_figure { TF_COPIED, TF_TOTAL, TF_VERIFIED, TF_MISMATCHED,
                    TF_BACKLOG, TF_LAG, TF__COUNT };

static const struct {
    const char *name, *type, *help;
} table_families[TF__COUNT] = {
    [TF_COPIED] = {"cutover_table_rows_copied_total", "counter",
                   "Rows the bulk copy has written to the target."},
    [TF_TOTAL] = {"cutover_table_rows", "gauge",
                  "Rows of the source table when the copy started, or "
                  "copied since if more."},
    [TF_VERIFIED] = {"cutover_table_verify_rows_total", "counter",
                     "Rows verify has hashed and compared."},
    [TF_MISMATCHED] = {"cutover_table_verify_mismatched_rows", "gauge",
                       "Rows verify found different."},
    [TF_BACKLOG] = {"cutover_table_sync_backlog_rows", "gauge",
                    "Logged changes of the table not yet applied."},
    [TF_LAG] = {"cutover_table_sync_lag_seconds", "gauge",
                "Age of the table's oldest change not yet applied."},
};

static double table_figure(const struct table_state *ts, enum table_figure f)
{
    int64_t rows = 0;

    for (int r = 0; r < ts->nranges; r++)
        rows += ts->ranges[r].rows;
    switch (f) {
    case TF_COPIED: return (double)rows;
    case TF_TOTAL: return (double)(ts->rows_total > rows ? ts->rows_total
                                                          : rows);
    case TF_VERIFIED: return (double)ts->verify_rows;
    case TF_MISMATCHED: return (double)ts->verify_mismatches;
    case TF_BACKLOG: return (double)ts->backlog;
    default: return ts->lag_s;
    }
}

static void tables(struct sbuf *b, struct migration *m)
{
    for (int f = 0; f < TF__COUNT; f++) {
        header(b, table_families[f].name, table_families[f].type,
               table_families[f].help);
        for (int i = 0; i < m->ntables; i++)
            sample(b, table_families[f].name, "table", m->tables[i].t->name,
                   table_figure(&m->tables[i], f));
    }
}

/* check.NAME.failures → cutover_check_failures{check="NAME"}. */
static void checks(struct sbuf *b, json_t *snap)
{
    const char *key;
    json_t *v;
    int first = 1;

    json_object_foreach(snap, key, v) {
        size_t n = strlen(key);
        char name[96];
        if (strncmp(key, "check.", 6) != 0 || n < 16 ||
            strcmp(key + n - 9, ".failures") != 0 || n - 15 >= sizeof name)
            continue;
        memcpy(name, key + 6, n - 15);
        name[n - 15] = '\0';
        if (first)
            header(b, "cutover_check_failures", "gauge", "Consecutive "
                   "failures of a post_validate check (0 after a success).");
        first = 0;
        sample(b, "cutover_check_failures", "check", name,
               json_number_value(v));
    }
}

static const struct prom_metric *known_metric(const char *metric)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].metric, metric) == 0)
            return &known[i];
    return NULL;
}

/* The registry's other metrics: mapped ones by the table, unknown ones as
 * gauges named after them ("a.b_c" → cutover_a_b_c). */
static void registry(struct sbuf *b, json_t *snap)
{
    const char *key;
    json_t *v;

    json_object_foreach(snap, key, v) {
        const struct prom_metric *k = known_metric(key);
        char name[128] = "cutover_";
        if (strncmp(key, "check.", 6) == 0 || (k && !k->name))
            continue;
        if (k) {
            one(b, k->name, k->type, k->help, json_number_value(v) * k->scale);
            continue;
        }
        for (size_t i = 0, o = 8; key[i] && o < sizeof name - 1; i++)
            name[o++] = isalnum((unsigned char)key[i]) ? key[i] : '_';
        sbuf_addf(b, "# HELP %s The metric %s.\n# TYPE %s gauge\n", name, key,
                  name);
        sample(b, name, NULL, NULL, json_number_value(v));
    }
}

static void rules(struct sbuf *b, struct trigger_engine *t)
{
    json_t *st = trigger_engine_status(t), *r;
    size_t i;

    header(b, "cutover_trigger_firings_total", "counter", "Times a rule of "
           "the runbook fired.");
    json_array_foreach(st, i, r)
        sample(b, "cutover_trigger_firings_total", "rule",
               json_string_value(json_object_get(r, "name")),
               json_number_value(json_object_get(r, "firings")));
    header(b, "cutover_trigger_breached", "gauge", "1 while a metric rule's "
           "condition holds.");
    json_array_foreach(st, i, r)
        sample(b, "cutover_trigger_breached", "rule",
               json_string_value(json_object_get(r, "name")),
               json_is_true(json_object_get(r, "breached")));
    json_decref(st);
}

char *http_metrics_render(struct orch *o, size_t *len)
{
    struct migration *m = o->m;
    json_t *snap = metrics_snapshot();
    struct sbuf b;

    sbuf_init(&b);
    header(&b, "cutover_info", "gauge", "The migration this cutover runs "
           "(value 1).");
    sample(&b, "cutover_info", "name", o->rb->name, 1);
    pthread_mutex_lock(&m->mu);
    states(&b, m->state);
    one(&b, "cutover_switched", "gauge", "1 once the application has been "
        "switched to the target.", m->switched);
    one(&b, "cutover_start_time_seconds", "gauge", "When the migration "
        "started, seconds since the Unix epoch.", m->started_at);
    one(&b, "cutover_attempts_total", "counter", "Cutover attempts, "
        "retries included.", m->cut.attempt);
    tables(&b, m);
    pthread_mutex_unlock(&m->mu);
    registry(&b, snap);
    checks(&b, snap);
    if (o->triggers)
        rules(&b, o->triggers);
    json_decref(snap);
    if (b.oom) {
        sbuf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

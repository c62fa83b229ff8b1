/* sampler.c — metrics sampling and the Prometheus textfile. */
#include "orchestrator/sampler.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoints/checkpoint.h"
#include "lib/events.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "orchestrator/orch.h"
#include "sync/replicas.h"
#include "lib/sbuf.h"
#include "sync/drivers/registry.h"

static pthread_t probe_thread;
static int probe_running;
static volatile int probe_stop;

struct probe_arg {
    const struct runbook *rb;
    struct migration *m;
};
static struct probe_arg probe_args;

static void *probe_main(void *arg)
{
    struct probe_arg *pa = arg;
    const struct target_ops *tops =
        driver_target(pa->rb->target.type);
    struct target *tgt = NULL;
    struct co_err err = {0};

    while (!probe_stop) {
        double ms, running;
        if (!tgt && tops->open(pa->rb, &pa->rb->target, &tgt, &err) < 0) {
            tgt = NULL;
            metrics_set("target.probe_ms", 1e6);
        }
        if (tgt && tops->probe(tgt, &ms, &err) == 0) {
            metrics_set("target.probe_ms", ms);
            if (tops->load_sample &&
                tops->load_sample(tgt, &running, &err) == 0)
                metrics_set("target.threads_running", running);
        } else if (tgt) {
            metrics_set("target.probe_ms", 1e6);
            tops->close(tgt);
            tgt = NULL;
        }
        for (int i = 0; i < 10 && !probe_stop; i++)
            usleep(100000);
    }
    tops->close(tgt);
    return NULL;
}

void sampler_stop(int ended)
{
    replicas_stop(ended);
    if (!probe_running)
        return;
    probe_stop = 1;
    pthread_join(probe_thread, NULL);
    probe_running = 0;
    probe_stop = 0;
}

void sampler_sample(struct orch *o)
{
    struct migration *m = o->m;
    double load[3], rate = 0;
    int64_t mismatches = 0;

    if (!probe_running && fsm_state_is_stage(m->state) &&
        m->state != ST_PRE_VALIDATE) {
        probe_args.rb = o->rb;
        probe_args.m = m;
        probe_running = pthread_create(&probe_thread, NULL, probe_main,
                                       &probe_args) == 0;
        replicas_start(o->rb);
    }
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->ntables; i++) {
        if (!m->tables[i].indexes_done)
            rate += m->tables[i].rows_per_s;
        mismatches += m->tables[i].verify_mismatches;
    }
    pthread_mutex_unlock(&m->mu);
    metrics_set("copy.rows_per_s", m->state == ST_BULK_COPY ? rate : 0);
    double cur;
    if (!metrics_get("verify.mismatched_rows", &cur) || cur < mismatches)
        metrics_set("verify.mismatched_rows", (double)mismatches);
    if (getloadavg(load, 3) > 0)
        metrics_set("host.load1", load[0]);
}

void sampler_prom_label(struct sbuf *b, const char *v)
{
    sbuf_addc(b, '"');
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == '"')
            sbuf_addc(b, '\\');
        if (*p == '\n') {
            sbuf_adds(b, "\\n");
            continue;
        }
        sbuf_addc(b, *p);
    }
    sbuf_addc(b, '"');
}

int sampler_write_prom(struct orch *o)
{
    struct migration *m = o->m;
    struct sbuf b;
    const char *key;
    json_t *snap = metrics_snapshot(), *v;
    struct co_err err = {0};
    int rc;

    sbuf_init(&b);
    sbuf_adds(&b, "# HELP cutover_state 1 for the migration's current "
                  "state.\n# TYPE cutover_state gauge\ncutover_state{name=");
    sampler_prom_label(&b, o->rb->name);
    sbuf_adds(&b, ",state=");
    sampler_prom_label(&b, fsm_state_name(m->state));
    sbuf_adds(&b, "} 1\n# HELP cutover_rows_copied Rows copied per table.\n"
                  "# TYPE cutover_rows_copied gauge\n");
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->ntables; i++) {
        int64_t rows = 0;
        for (int r = 0; r < m->tables[i].nranges; r++)
            rows += m->tables[i].ranges[r].rows;
        sbuf_adds(&b, "cutover_rows_copied{name=");
        sampler_prom_label(&b, o->rb->name);
        sbuf_adds(&b, ",table=");
        sampler_prom_label(&b, m->tables[i].t->name);
        sbuf_addf(&b, "} %lld\n", (long long)rows);
    }
    pthread_mutex_unlock(&m->mu);
    sbuf_adds(&b, "# HELP cutover_metric The metrics the triggers read "
                  "(DESIGN section 6).\n# TYPE cutover_metric gauge\n");
    json_object_foreach(snap, key, v) {
        sbuf_adds(&b, "cutover_metric{name=");
        sampler_prom_label(&b, o->rb->name);
        sbuf_adds(&b, ",metric=");
        sampler_prom_label(&b, key);
        sbuf_addf(&b, "} %.17g\n", json_number_value(v));
    }
    json_decref(snap);
    rc = b.oom ? -1 : state_file_write(o->rb->state_dir, "metrics.prom", b.p,
                                       b.len, &err);
    if (rc < 0)
        log_debug("metrics.prom: %s", co_err_text(&err));
    sbuf_free(&b);
    return rc;
}

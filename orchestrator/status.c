/*
 * status.c — the status object (DESIGN §7): state, resume_state, per-table
 * progress, sync figures, cutover and the last error; built from the live
 * model or, when no orchestrator runs, from the checkpoint alone.
 */
#include <string.h>

#include "lib/events.h"
#include "lib/metrics.h"
#include "checkpoints/migration.h"
#include "sync/replicas.h"

static json_t *sync_json(void)
{
    double lag = 0, backlog = 0, rate = 0;

    metrics_get("sync.lag_s", &lag);
    metrics_get("sync.backlog_rows", &backlog);
    metrics_get("sync.applied_per_s", &rate);
    return json_pack("{sf sI sf}", "lag_s", lag, "backlog_rows",
                     (json_int_t)backlog, "applied_per_s", rate);
}

json_t *migration_status(struct migration *m)
{
    json_t *tables = json_array(), *st;

    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->ntables; i++) {
        struct table_state *ts = &m->tables[i];
        int64_t rows = 0;
        for (int r = 0; r < ts->nranges; r++)
            rows += ts->ranges[r].rows;
        int64_t total = ts->rows_total > rows ? ts->rows_total : rows;
        double eta = ts->rows_per_s > 0 && !ts->copy_done
                         ? (double)(total - rows) / ts->rows_per_s : 0;
        json_array_append_new(tables, json_pack(
            "{ss sI sI sf sf sb sb sI sI sf s{sI sI sb}}", "name",
            ts->t->name, "rows", (json_int_t)rows, "total", (json_int_t)total,
            "rows_per_s", ts->copy_done ? 0.0 : ts->rows_per_s, "eta_s", eta,
            "copy_done", ts->copy_done, "indexes_done", ts->indexes_done,
            "applied_seq", (json_int_t)ts->applied_seq, "backlog",
            (json_int_t)ts->backlog, "lag_s", ts->lag_s, "verify", "rows",
            (json_int_t)ts->verify_rows, "mismatches",
            (json_int_t)ts->verify_mismatches, "done", ts->verify_done));
        if (ts->applied_gtid[0])
            json_object_set_new(json_array_get(tables, (size_t)i),
                                "applied_gtid",
                                json_string(ts->applied_gtid));
    }
    st = json_pack("{ss ss ss sb sf so so s{ss si sf sO*} ss}", "name",
                   m->rb->name, "state", fsm_state_name(m->state),
                   "resume_state", fsm_state_name(m->resume_state), "switched",
                   m->switched, "started_at", m->started_at, "tables", tables,
                   "sync", sync_json(), "cutover", "step",
                   cutover_step_name(m->cut.step), "attempt", m->cut.attempt,
                   "write_pause_ms", m->cut.last_pause_ms, "steps_ms",
                   m->cut.steps_ms, "last_error",
                   m->last_error);
    /* the watch view says when the switch waits for `ctl cutover` */
    json_object_set_new(json_object_get(st, "cutover"), "waiting_for_ctl",
                        json_boolean(m->rb->cutover.mode == CUTOVER_MANUAL &&
                                     !m->cut.go && m->cut.step == CUT_READY));
    /* and counts the post_validate window down */
    json_object_set_new(st, "post_validate", json_pack(
        "{sf sf sf}", "started_at", m->post.started_at, "watch_s",
        m->rb->post_validate.watch_s, "interval_s",
        m->rb->post_validate.interval_s));
    pthread_mutex_unlock(&m->mu);
    json_t *reps = replicas_status();
    if (reps)
        json_object_set_new(st, "replicas", reps);
    return st;
}

json_t *migration_status_from_checkpoint(json_t *cp)
{
    json_t *tables = json_array(), *t, *cut = json_object_get(cp, "cutover");
    size_t i;

    json_array_foreach(json_object_get(cp, "tables"), i, t) {
        json_int_t rows = 0;
        size_t k;
        json_t *r;
        json_array_foreach(json_object_get(t, "ranges"), k, r)
            rows += json_integer_value(json_object_get(r, "rows"));
        json_int_t total = json_integer_value(json_object_get(t, "rows_total"));
        json_array_append_new(tables, json_pack(
            "{sO sI sI sf sf sO sO sO sO}", "name", json_object_get(t, "name"),
            "rows", rows, "total", total > rows ? total : rows, "rows_per_s",
            0.0, "eta_s", 0.0, "copy_done", json_object_get(t, "copy_done"),
            "indexes_done", json_object_get(t, "indexes_done"), "applied_seq",
            json_object_get(t, "applied_seq"), "verify",
            json_object_get(t, "verify")));
        if (json_object_get(t, "applied_gtid"))
            json_object_set(json_array_get(tables, i), "applied_gtid",
                            json_object_get(t, "applied_gtid"));
    }
    return json_pack("{sO sO sO sO so s{sf sI sf} s{sO sO sO} sO sb}", "name",
                     json_object_get(json_object_get(cp, "runbook"), "name"),
                     "state", json_object_get(cp, "state"), "resume_state",
                     json_object_get(cp, "resume_state"), "switched",
                     json_object_get(cp, "switched"), "tables", tables,
                     "sync", "lag_s", 0.0, "backlog_rows", (json_int_t)0,
                     "applied_per_s", 0.0, "cutover", "step",
                     json_object_get(cut, "step"), "attempt",
                     json_object_get(cut, "attempt"), "write_pause_ms",
                     json_object_get(cut, "last_pause_ms"), "last_error",
                     json_object_get(json_object_get(cp, "last_error"),
                                     "message"),
                     "running", 0);
}

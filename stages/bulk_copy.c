/*
 * bulk_copy.c — the bulk_copy stage (DESIGN §5).
 *
 * enter: install change capture (before any row is read), create the
 * target tables with their primary keys, split large tables into key
 * ranges, start the applier and copy.workers worker threads. Each worker
 * takes a free range and copies it chunk by chunk (sync/copier.c), each
 * with its own connections; the worker that finishes a table's last range
 * builds its secondary indexes and foreign keys. step: watch. suspend: let
 * every worker finish its chunk and join them.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/events.h"
#include "lib/faults.h"
#include "lib/log.h"
#include "sync/replicas.h"
#include "lib/xalloc.h"
#include "stages/stage.h"
#include "sync/applier.h"
#include "sync/copier.h"

#define FIRST_CHUNK_ROWS 2000
#define SPLIT_MIN_ROWS 200000   /* smaller tables are one range */
#define SCHEMA_CHECK_S 2.0

struct bulk_copy {
    struct stage_ctx *ctx;
    pthread_t *threads;
    int nthreads;
    volatile int stop;
    pthread_mutex_t mu;
    int failed;
    struct co_err err;
    int *finalizing;            /* per table */
    double *started;            /* per table: wall clock of first chunk */
    int64_t *rows_at_start;     /* per table: rows copied before this run */
    double last_schema_check;
};

static void fail(struct bulk_copy *bc, int rc, const struct co_err *err)
{
    pthread_mutex_lock(&bc->mu);
    if (!bc->failed) {
        bc->failed = rc;
        bc->err = *err;
    }
    bc->stop = 1;
    pthread_mutex_unlock(&bc->mu);
}

/* Next unit of work: a range to copy (*range >= 0) or a table whose ranges
 * are all copied and that needs its indexes (*range == -1). */
static struct table_state *pick_work(struct bulk_copy *bc, int *range)
{
    struct migration *m = bc->ctx->m;
    struct table_state *found = NULL;

    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->ntables && !found; i++) {
        struct table_state *ts = &m->tables[i];
        int all_done = 1, busy = 0;
        if (ts->indexes_done)
            continue;
        for (int r = 0; r < ts->nranges && !found; r++) {
            struct copy_range *cr = &ts->ranges[r];
            all_done &= cr->done;
            busy |= cr->busy;
            if (!cr->done && !cr->busy) {
                cr->busy = 1;
                *range = r;
                found = ts;
            }
        }
        if (!found && all_done && !busy && !bc->finalizing[i]) {
            bc->finalizing[i] = 1;
            *range = -1;
            found = ts;
        }
    }
    pthread_mutex_unlock(&m->mu);
    return found;
}

static void update_rate(struct bulk_copy *bc, struct table_state *ts)
{
    struct migration *m = bc->ctx->m;
    int i = (int)(ts - m->tables);
    int64_t rows = 0;

    pthread_mutex_lock(&m->mu);
    for (int r = 0; r < ts->nranges; r++)
        rows += ts->ranges[r].rows;
    if (bc->started[i] == 0) {
        bc->started[i] = mono_s();
        bc->rows_at_start[i] = rows;
    }
    double dt = mono_s() - bc->started[i];
    if (dt > 0.05)
        ts->rows_per_s = (double)(rows - bc->rows_at_start[i]) / dt;
    pthread_mutex_unlock(&m->mu);
}

static int finalize_table(struct bulk_copy *bc, struct table_state *ts,
                          struct source *src, struct target *tgt,
                          struct co_err *err)
{
    struct stage_ctx *ctx = bc->ctx;
    struct migration *m = ctx->m;
    double t0 = mono_s();
    int rc;

    fault_point("bulk_copy", "indexes");
    /* An existing table has the indexes and foreign keys its framework
     * gave it: nothing is added. */
    if (ctx->rb->schema.mode == SCHEMA_CREATE) {
        /* Unique indexes need a target without the transient duplicates
         * that live writes leave between apply batches (a row taking a
         * name another row gave up later in the log): drain the table's
         * log to the end and keep the applier off it while the index
         * builds. */
        applier_lock_table(ts);
        rc = applier_drain_locked(m, ts, ctx->sops, src, ctx->tops, tgt, err);
        if (rc == 0)
            rc = ctx->tops->create_indexes(tgt, ctx->rb, ts->t, err);
        applier_unlock_table(ts);
        if (rc < 0)
            return rc;
        if ((rc = ctx->tops->create_foreign_keys(tgt, &m->schema, ts->t,
                                                 err)) < 0)
            return rc;
    }
    pthread_mutex_lock(&m->mu);
    ts->copy_done = 1;
    ts->indexes_done = 1;
    pthread_mutex_unlock(&m->mu);
    events_emit(EVT_PROGRESS, json_pack("{ss sb sf}", "table", ts->t->name,
                                      "indexes_done", 1, "index_s",
                                      mono_s() - t0));
    return migration_save(m, err);
}

static void *worker_main(void *arg)
{
    struct bulk_copy *bc = arg;
    struct stage_ctx *ctx = bc->ctx;
    struct source *src = NULL;
    struct target *tgt = NULL;
    struct co_err err = {0};
    struct copy_pace pace = {.since = mono_s()};
    int rc = 0, range;
    struct table_state *ts;

    if ((rc = ctx->sops->open(ctx->rb, &src, &err)) < 0 ||
        (rc = ctx->tops->open(ctx->rb, &ctx->rb->target, &tgt, &err)) < 0) {
        fail(bc, rc, &err);
        goto out;
    }
    while (!bc->stop && (ts = pick_work(bc, &range))) {
        if (range < 0) {
            if ((rc = finalize_table(bc, ts, src, tgt, &err)) < 0) {
                fail(bc, rc, &err);
                break;
            }
            continue;
        }
        int64_t chunk = FIRST_CHUNK_ROWS;
        struct copy_chunk_stats st = {0};
        while (!bc->stop && !st.range_done) {
            replicas_gate("copy", &bc->stop);
            rc = copy_chunk(ctx->m, ts, range, ctx->sops, src, ctx->tops, tgt,
                            &chunk, &pace, &st, &err);
            if (rc < 0)
                break;
            update_rate(bc, ts);
        }
        pthread_mutex_lock(&ctx->m->mu);
        ts->ranges[range].busy = 0;
        pthread_mutex_unlock(&ctx->m->mu);
        if (rc < 0) {
            fail(bc, rc, &err);
            break;
        }
    }
out:
    ctx->sops->close(src);
    ctx->tops->close(tgt);
    return NULL;
}

/* Split a table into key ranges for parallel workers. */
static int plan_ranges(struct stage_ctx *ctx, struct table_state *ts,
                       struct co_err *err)
{
    int workers = ctx->rb->copy.workers;
    int64_t rows;
    struct tuple points[64];
    int npoints = 0, rc;

    memset(points, 0, sizeof points);
    if ((rc = ctx->sops->count_rows(ctx->src, ts->t, &rows, err)) < 0)
        return rc;
    if (workers > 64)
        workers = 64;
    if (rows >= SPLIT_MIN_ROWS && workers > 1 &&
        (rc = ctx->sops->split_points(ctx->src, ts->t, workers, points,
                                      &npoints, err)) < 0)
        return rc;
    pthread_mutex_lock(&ctx->m->mu);
    ts->rows_total = rows;
    ts->ranges = xcalloc((size_t)npoints + 1, sizeof *ts->ranges);
    ts->nranges = npoints + 1;
    for (int r = 0; r <= npoints; r++) {
        pthread_mutex_init(&ts->ranges[r].lock, NULL);
        if (r > 0)
            tuple_copy(&ts->ranges[r].lo, &points[r - 1]);
        if (r < npoints)
            tuple_copy(&ts->ranges[r].hi, &points[r]);
    }
    pthread_mutex_unlock(&ctx->m->mu);
    for (int i = 0; i < npoints; i++)
        tuple_free(&points[i]);
    return 0;
}

static int prepare_target(struct stage_ctx *ctx, struct table_state *ts,
                          struct co_err *err)
{
    int exists, rc;
    int64_t rows;

    if (ts->created)
        return 0;
    if ((rc = ctx->tops->table_state(ctx->tgt, ts->t, &exists, &rows, err)) < 0)
        return rc;
    if (exists && rows > 0 && ctx->rb->schema.mode == SCHEMA_CREATE)
        return co_errf(err, CO_ETARGET, "target table %s already exists and "
                       "holds rows; drop it or choose another database",
                       ts->t->name);
    /* The application's schema is not ours to make (or change). */
    if (!exists && ctx->rb->schema.mode == SCHEMA_EXISTING)
        return co_errf(err, CO_ETARGET, "target table %s does not exist and "
                       "schema.mode is \"existing\": run the application's "
                       "migrations on the target first", ts->t->name);
    if (!exists && (rc = ctx->tops->create_table(ctx->tgt, ctx->rb, ts->t,
                                                 err)) < 0)
        return rc;
    /* A crash before the checkpoint leaves a table we made looking like
     * one that was there: an abort then keeps it, the safe mistake. */
    pthread_mutex_lock(&ctx->m->mu);
    ts->created = 1;
    ts->owned = !exists;
    pthread_mutex_unlock(&ctx->m->mu);
    return 0;
}

/* The target database, made here (schema.mode "create") rather than by
 * plan or pre_validate, which change nothing. */
static int prepare_database(struct stage_ctx *ctx, struct co_err *err)
{
    int exists, rc;

    if ((rc = ctx->tops->database_exists(ctx->tgt, &exists, err)) < 0)
        return rc;
    if (exists)
        return 0;
    if (ctx->rb->schema.mode == SCHEMA_EXISTING)
        return co_errf(err, CO_ETARGET, "target database %s does not exist; "
                       "schema.mode \"existing\" needs the application's "
                       "tables there (create them, or correct "
                       "target.database)", ctx->rb->target.database);
    return ctx->tops->create_database(ctx->tgt, ctx->rb, err);
}

static int install_capture(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    int64_t version, start = 0;
    int installed = 1, rc;

    for (int i = 0; i < m->ntables && installed; i++) {
        int one;
        if ((rc = ctx->sops->capture_installed(ctx->src, m->tables[i].t, &one,
                                               err)) < 0)
            return rc;
        installed &= one;
    }
    if (installed && m->source_schema_version)
        return 0;
    if ((rc = ctx->sops->capture_install(ctx->src, &m->schema, err)) < 0)
        return rc;
    if (ctx->sops->capture_start &&
        (rc = ctx->sops->capture_start(ctx->src, &start, err)) < 0)
        return rc;
    if ((rc = ctx->sops->schema_version(ctx->src, &version, err)) < 0)
        return rc;
    /* Saved with the ranges (bc_enter) before the copy reads a row. */
    pthread_mutex_lock(&m->mu);
    m->source_schema_version = version;
    for (int i = 0; i < m->ntables && ctx->sops->capture_start; i++) {
        m->tables[i].applied_seq = start;
        m->tables[i].applied_gtid[0] = '\0';  /* named by the next read */
    }
    pthread_mutex_unlock(&m->mu);
    events_emit(EVT_LOG, json_pack("{ss ss}", "level", "info", "message",
                                 "change capture installed on the source"));
    return 0;
}

static int bc_enter(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct bulk_copy *bc;
    int rc;

    if ((rc = stage_connect(ctx, err)) < 0)
        return rc;
    if ((rc = prepare_database(ctx, err)) < 0)
        return rc;
    if ((rc = install_capture(ctx, err)) < 0)
        return rc;
    fault_point("bulk_copy", "captured");
    for (int i = 0; i < m->ntables; i++) {
        if ((rc = prepare_target(ctx, &m->tables[i], err)) < 0)
            return rc;
        if (m->tables[i].nranges == 0 &&
            (rc = plan_ranges(ctx, &m->tables[i], err)) < 0)
            return rc;
    }
    if ((rc = migration_save(m, err)) < 0)
        return rc;
    if ((rc = stage_applier_running(ctx, err)) < 0)
        return rc;
    bc = xcalloc(1, sizeof *bc);
    bc->ctx = ctx;
    pthread_mutex_init(&bc->mu, NULL);
    bc->finalizing = xcalloc((size_t)m->ntables + 1, sizeof(int));
    bc->started = xcalloc((size_t)m->ntables + 1, sizeof(double));
    bc->rows_at_start = xcalloc((size_t)m->ntables + 1, sizeof(int64_t));
    bc->nthreads = ctx->rb->copy.workers;
    bc->threads = xcalloc((size_t)bc->nthreads, sizeof *bc->threads);
    bc->last_schema_check = mono_s();
    for (int i = 0; i < bc->nthreads; i++)
        pthread_create(&bc->threads[i], NULL, worker_main, bc);
    ctx->priv = bc;
    return 0;
}

static void bc_join(struct stage_ctx *ctx)
{
    struct bulk_copy *bc = ctx->priv;

    if (!bc)
        return;
    bc->stop = 1;
    for (int i = 0; i < bc->nthreads; i++)
        pthread_join(bc->threads[i], NULL);
    free(bc->threads);
    free(bc->finalizing);
    free(bc->started);
    free(bc->rows_at_start);
    pthread_mutex_destroy(&bc->mu);
    free(bc);
    ctx->priv = NULL;
}

static int bc_step(struct stage_ctx *ctx, struct co_err *err)
{
    struct bulk_copy *bc = ctx->priv;
    struct migration *m = ctx->m;
    int done = 1, rc;

    pthread_mutex_lock(&bc->mu);
    rc = bc->failed;
    if (rc)
        *err = bc->err;
    pthread_mutex_unlock(&bc->mu);
    if (rc)
        return rc;
    if ((rc = stage_applier_running(ctx, err)) < 0)
        return rc;
    if (mono_s() - bc->last_schema_check > SCHEMA_CHECK_S) {
        bc->last_schema_check = mono_s();
        if ((rc = stage_check_schema(ctx, err)) < 0)
            return rc;
    }
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->ntables; i++)
        done &= m->tables[i].indexes_done;
    pthread_mutex_unlock(&m->mu);
    if (!done)
        return STEP_IDLE;
    bc_join(ctx);
    return STEP_DONE;
}

const struct stage stage_bulk_copy = {
    .name = "bulk_copy",
    .state = ST_BULK_COPY,
    .enter = bc_enter,
    .step = bc_step,
    .suspend = bc_join,
    .leave = bc_join,
};

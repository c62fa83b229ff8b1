/* applier.c — the change-log applier and its thread. */
#include "sync/applier.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/events.h"
#include "lib/faults.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "sync/replicas.h"
#include "lib/backoff.h"
#include "lib/xalloc.h"
#include "sync/codec.h"

#define MEASURE_EVERY_S 0.25
#define SAVE_EVERY_S 1.0
/* Trimming the change logs is a commit on the application's database, and
 * each commit fails the application's deferred transactions that read
 * before it and write after it ("database is locked" at once, whatever
 * their busy timeout). So the logs are trimmed rarely, in one transaction
 * for every table: once this many applied entries wait (a range delete of
 * 100,000 entries holds the write lock some tens of milliseconds). The
 * rest goes when capture is removed. */
#define TRIM_AT_ENTRIES 100000
#define TRIM_LOCK_WAIT_MS 1000

struct applier {
    struct migration *m;
    const struct source_ops *sops;
    const struct target_ops *tops;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    volatile int stop;
    int failed;
    struct co_err err;
    struct sync_stats stats;
    int64_t applied_window;
    double window_start;
    int64_t throttle_keys;
    double throttle_since;
    int64_t *trimmed;        /* per table: log trimmed up to this seq */
};

void applier_lock_table(struct table_state *ts)
{
    for (int r = 0; r < ts->nranges; r++)
        pthread_mutex_lock(&ts->ranges[r].lock);
}

void applier_unlock_table(struct table_state *ts)
{
    for (int r = ts->nranges - 1; r >= 0; r--)
        pthread_mutex_unlock(&ts->ranges[r].lock);
}

/* Key values in target form (for an exact delete). */
static int key_to_target(const struct table *t, const struct tuple *key,
                         struct tuple *out, struct scratch *s,
                         struct co_err *err)
{
    struct value vals[64];

    scratch_reset(s);
    for (int k = 0; k < t->nkey; k++) {
        int rc = codec_to_target(&t->cols[t->key[k]], &key->v[k], &vals[k], s,
                                 err);
        if (rc < 0)
            return rc;
    }
    return tuple_set(out, vals, t->nkey) < 0 ? CO_ENOMEM : 0;
}

/* Delete the row with exactly this (source-form) key from the target. */
static int delete_exact(const struct table *t, const struct target_ops *tops,
                        struct target *tgt, const struct tuple *key,
                        struct scratch *s, struct co_err *err)
{
    struct tuple tkey = {0};
    int rc = key_to_target(t, key, &tkey, s, err);

    if (rc == 0)
        rc = tops->delete_key(tgt, t, &tkey, err);
    tuple_free(&tkey);
    return rc;
}

/* One logged key onto the target: its current source row, or its
 * deletion. A key past the copy's frontier (`ahead`) gets no row, the copy
 * brings it, but still leaves the target when the source no longer has
 * it: nothing should be there, yet a run that died between copying a
 * chunk and its checkpoint left that chunk's rows, and the copy made again
 * from the older frontier brings back (and replaces) only the rows the
 * source still has. */
static int apply_key(struct table_state *ts, const struct target_ops *tops,
                     struct target *tgt, const struct tuple *key, int ahead,
                     const struct value *row, struct value *conv,
                     struct scratch *s, struct co_err *err)
{
    const struct table *t = ts->t;
    struct tuple rowkey = {0};
    char shown[256];
    int rc = 0, written = 0;

    if (row) {
        /* Under a case-insensitive source key, the log's 'abc' may now be
         * the row 'ABC': the old exact key must go as well. */
        if (table_row_key(t, row, &rowkey) < 0)
            return CO_ENOMEM;
        int same = tuple_equal(&rowkey, key);
        tuple_free(&rowkey);
        if (!ahead) {
            rc = codec_row_to_target(t, row, conv, s, err);
            if (rc == 0) {
                written = 1;
                rc = tops->put_row(tgt, t, conv, err);
            }
        }
        if (rc == 0 && !same) {
            written = 1;
            rc = delete_exact(t, tops, tgt, key, s, err);
        }
    } else {
        written = 1;
        rc = delete_exact(t, tops, tgt, key, s, err);
    }
    /* A value the target refused may be an earlier row's of the batch: the
     * driver names that row itself. */
    if (rc < 0 && !(written && rc == CO_EDATA)) {
        tuple_format(key, table_key_names(t), shown, sizeof shown);
        co_err_prefix(err, "applying table %s, key %s", t->name, shown);
    }
    return rc;
}

/* The keys of one list of a batch onto the target, each with its current
 * source row (apply_key). A source that charges a statement per read
 * (fetch_many) is asked for fetch_many_max rows at a time; a key it does
 * not answer, and every key of the others, is read alone. */
static int apply_keys(struct table_state *ts, const struct source_ops *sops,
                      struct source *src, const struct target_ops *tops,
                      struct target *tgt, const struct tuple *keys, int n,
                      int ahead, struct value *conv, struct scratch *s,
                      struct co_err *err)
{
    int step = sops->fetch_many ? sops->fetch_many_max : 1, rc = 0;
    const struct value *rows[step];

    for (int i = 0; rc == 0 && i < n; i += step) {
        int m = n - i < step ? n - i : step;
        if (sops->fetch_many)
            rc = sops->fetch_many(src, ts->t, keys + i, m, rows, err);
        else
            rows[0] = NULL;
        for (int j = 0; rc == 0 && j < m; j++) {
            const struct value *row = rows[j];
            int found = row != NULL;
            if (!row)
                found = sops->fetch(src, ts->t, &keys[i + j], &row, err);
            rc = found < 0 ? found
                           : apply_key(ts, tops, tgt, &keys[i + j], ahead,
                                       found ? row : NULL, conv, s, err);
        }
    }
    return rc;
}

/* The batch itself; the caller holds the table's locks. */
static int64_t apply_batch_locked(struct migration *m, struct table_state *ts,
                                  const struct source_ops *sops,
                                  struct source *src,
                                  const struct target_ops *tops,
                                  struct target *tgt, int batch_rows,
                                  int64_t *keys_applied, struct co_err *err)
{
    struct key_range ranges[ts->nranges ? ts->nranges : 1];
    const struct tuple *frontiers[ts->nranges ? ts->nranges : 1];
    struct apply_scope scope = {0};
    struct log_batch batch;
    struct value *conv;
    struct scratch s = {0};
    int64_t after;
    int rc = 0;

    if (keys_applied)
        *keys_applied = 0;
    pthread_mutex_lock(&m->mu);
    after = ts->applied_seq;
    scope.all = ts->copy_done;
    scope.nranges = ts->nranges;
    scope.ranges = ranges;
    scope.frontiers = frontiers;
    for (int r = 0; r < ts->nranges; r++) {
        /* Frontiers change only under the range lock we hold. A finished
         * range applies up to its upper bound (an open bound: all). */
        ranges[r].lo = &ts->ranges[r].lo;
        ranges[r].hi = &ts->ranges[r].hi;
        frontiers[r] = ts->ranges[r].done ? &ts->ranges[r].hi
                       : ts->ranges[r].frontier.n ? &ts->ranges[r].frontier
                       : NULL;
    }
    pthread_mutex_unlock(&m->mu);
    rc = sops->log_read(src, ts->t, after, batch_rows, &scope, &batch, err);
    if (rc < 0)
        return rc;
    if (batch.nkeys > 0 || batch.nahead > 0) {
        conv = xcalloc((size_t)ts->t->ncols, sizeof *conv);
        rc = tops->begin(tgt, err);
        if (rc == 0)
            rc = apply_keys(ts, sops, src, tops, tgt, batch.ahead,
                            batch.nahead, 1, conv, &s, err);
        if (rc == 0)
            rc = apply_keys(ts, sops, src, tops, tgt, batch.keys,
                            batch.nkeys, 0, conv, &s, err);
        if (rc == 0) {
            fault_point("applier", "before_commit");
            rc = tops->commit(tgt, err);
        } else {
            tops->rollback(tgt);
        }
        free(conv);
        scratch_free(&s);
    }
    if (rc == 0) {
        pthread_mutex_lock(&m->mu);
        ts->applied_seq = batch.last_seq;
        if (batch.gtid[0])      /* else the one it had still names it */
            memcpy(ts->applied_gtid, batch.gtid, sizeof batch.gtid);
        pthread_mutex_unlock(&m->mu);
        if (keys_applied)
            *keys_applied = batch.nkeys;
    }
    int64_t covered = batch.last_seq - after;
    sops->log_batch_free(&batch);
    return rc < 0 ? rc : covered;
}

int64_t applier_apply_batch(struct migration *m, struct table_state *ts,
                            const struct source_ops *sops, struct source *src,
                            const struct target_ops *tops, struct target *tgt,
                            int batch_rows, int64_t *keys_applied,
                            struct co_err *err)
{
    int64_t n;

    applier_lock_table(ts);
    n = apply_batch_locked(m, ts, sops, src, tops, tgt, batch_rows,
                           keys_applied, err);
    applier_unlock_table(ts);
    return n;
}

int applier_drain_locked(struct migration *m, struct table_state *ts,
                         const struct source_ops *sops, struct source *src,
                         const struct target_ops *tops, struct target *tgt,
                         struct co_err *err)
{
    int64_t n;

    do {
        n = apply_batch_locked(m, ts, sops, src, tops, tgt,
                               m->rb->sync.batch_rows, NULL, err);
    } while (n > 0);
    return n < 0 ? (int)n : 0;
}

int applier_measure(struct migration *m, const struct source_ops *sops,
                    struct source *src, struct sync_stats *out,
                    struct co_err *err)
{
    double now = now_s();

    out->lag_s = 0;
    out->backlog_rows = 0;
    for (int i = 0; i < m->ntables; i++) {
        struct table_state *ts = &m->tables[i];
        struct log_stats st;
        int64_t after;
        int rc;

        pthread_mutex_lock(&m->mu);
        after = ts->applied_seq;
        pthread_mutex_unlock(&m->mu);
        if ((rc = sops->log_stats(src, ts->t, after, &st, err)) < 0)
            return rc;
        pthread_mutex_lock(&m->mu);
        ts->backlog = st.backlog;
        ts->lag_s = st.oldest_at > 0 && now > st.oldest_at ? now - st.oldest_at
                                                           : 0;
        pthread_mutex_unlock(&m->mu);
        if (ts->lag_s > out->lag_s)
            out->lag_s = ts->lag_s;
        out->backlog_rows += st.backlog;
    }
    return 0;
}

/* ---- the thread ------------------------------------------------------------ */

static int is_transient(int code)
{
    return code == CO_ECONNLOST || code == CO_EBUSY;
}

/* Trim every table's log up to what the saved checkpoint says was applied
 * (never past where the table's verification began), in one transaction,
 * once TRIM_AT_ENTRIES entries are due. */
static void trim_logs(struct applier *a, struct source *src, json_t *saved)
{
    struct migration *m = a->m;
    struct co_err err = {0};
    int64_t upto[m->ntables ? m->ntables : 1], due = 0;
    int rc;

    for (int i = 0; i < m->ntables; i++) {
        struct table_state *ts = &m->tables[i];
        upto[i] = json_integer_value(json_array_get(saved, (size_t)i));
        pthread_mutex_lock(&m->mu);
        if (ts->verify_seq > 0 && ts->verify_seq < upto[i])
            upto[i] = ts->verify_seq;
        pthread_mutex_unlock(&m->mu);
        if (upto[i] > a->trimmed[i])
            due += upto[i] - a->trimmed[i];
    }
    if (due < TRIM_AT_ENTRIES ||
        (a->sops->log_kept_by_server && a->sops->log_kept_by_server(src)))
        return;
    if ((rc = a->sops->freeze_writes(src, &m->schema, TRIM_LOCK_WAIT_MS,
                                      &err)) < 0)
        goto out;
    for (int i = 0; i < m->ntables && rc >= 0; i++)
        if (upto[i] > a->trimmed[i])
            rc = a->sops->log_trim(src, m->tables[i].t, upto[i], &err);
    if (rc >= 0)
        rc = a->sops->thaw_commit(src, &err);
    else
        a->sops->thaw(src);
    for (int i = 0; i < m->ntables && rc >= 0; i++)
        if (upto[i] > a->trimmed[i])
            a->trimmed[i] = upto[i];
out:
    if (rc < 0)     /* busy or gone: the next save tries again */
        log_debug("trimming the change logs: %s", co_err_text(&err));
    else
        log_debug("trimmed %lld change log entries", (long long)due);
}

static void publish(struct applier *a)
{
    struct sync_stats st;

    pthread_mutex_lock(&a->mu);
    st = a->stats;
    pthread_mutex_unlock(&a->mu);
    events_emit(EVT_SYNC, json_pack("{sf sI sf}", "lag_s", st.lag_s,
                                  "backlog_rows", (json_int_t)st.backlog_rows,
                                  "applied_per_s", st.applied_per_s));
}

/* sync.max_keys_per_s: sleep until the keys applied since `since` fit the
 * rate (checked between batches, so batches are kept small). */
static void throttle_apply(struct applier *a, double limit)
{
    double elapsed = mono_s() - a->throttle_since;
    double ahead = (double)a->throttle_keys / limit - elapsed;

    if (ahead > 0)
        usleep((useconds_t)(ahead > 1 ? 1e6 : ahead * 1e6));
    if (elapsed > 10) {        /* a sliding window, not a lifetime average */
        a->throttle_since = mono_s();
        a->throttle_keys = 0;
    }
}

static int run_once(struct applier *a, struct source *src, struct target *tgt,
                    int64_t *entries, struct co_err *err)
{
    struct migration *m = a->m;
    double limit = m->rb->sync.max_keys_per_s;
    int batch = m->rb->sync.batch_rows;

    if (limit > 0 && batch > limit / 4 + 1)
        batch = (int)(limit / 4) + 1;
    *entries = 0;
    for (int i = 0; i < m->ntables && !a->stop; i++) {
        int64_t keys = 0;
        replicas_gate("apply", &a->stop);
        int64_t n = applier_apply_batch(m, &m->tables[i], a->sops, src,
                                        a->tops, tgt, batch, &keys, err);
        if (n < 0) {
            log_debug("apply batch of %s returned %lld (%s)",
                      m->tables[i].t->name, (long long)n, co_err_text(err));
            return (int)n;
        }
        *entries += n;
        pthread_mutex_lock(&a->mu);
        a->applied_window += keys;
        a->stats.applied_total += keys;
        pthread_mutex_unlock(&a->mu);
        if (limit > 0) {
            a->throttle_keys += keys;
            throttle_apply(a, limit);
        }
    }
    return 0;
}

static void *applier_main(void *arg)
{
    struct applier *a = arg;
    struct migration *m = a->m;
    struct source *src = NULL;
    struct target *tgt = NULL;
    struct co_err err = {0};
    double last_measure = 0, last_save = mono_s();
    struct backoff reconnect;

    backoff_init(&reconnect, 0.2, 5.0);

    while (!a->stop) {
        int64_t entries = 0;
        int rc = 0;

        if (!src) {
            if ((rc = a->sops->open(m->rb, &src, &err)) < 0)
                goto trouble;
            /* the trim's freeze locks what this migration's capture
             * serves (a MySQL source's LOCK TABLES) */
            a->sops->set_owner(src, m->id);
        }
        if (!tgt && (rc = a->tops->open(m->rb, &m->rb->target, &tgt, &err)) < 0)
            goto trouble;
        if ((rc = run_once(a, src, tgt, &entries, &err)) < 0)
            goto trouble;
        backoff_reset(&reconnect);
        double now = mono_s();
        if (now - last_measure >= MEASURE_EVERY_S) {
            struct sync_stats st = {0};
            if ((rc = applier_measure(m, a->sops, src, &st, &err)) < 0)
                goto trouble;
            pthread_mutex_lock(&a->mu);
            a->stats.lag_s = st.lag_s;
            a->stats.backlog_rows = st.backlog_rows;
            if (now - a->window_start >= 1.0) {
                a->stats.applied_per_s =
                    (double)a->applied_window / (now - a->window_start);
                a->applied_window = 0;
                a->window_start = now;
            }
            struct sync_stats pub = a->stats;
            pthread_cond_broadcast(&a->cond);
            pthread_mutex_unlock(&a->mu);
            metrics_set("sync.lag_s", pub.lag_s);
            metrics_set("sync.backlog_rows", (double)pub.backlog_rows);
            metrics_set("sync.applied_per_s", pub.applied_per_s);
            metrics_set("apply.errors", (double)pub.errors);
            last_measure = now;
        }
        if (now - last_save >= SAVE_EVERY_S) {
            json_t *saved = json_array();
            pthread_mutex_lock(&m->mu);
            for (int i = 0; i < m->ntables; i++)
                json_array_append_new(saved,
                                      json_integer(m->tables[i].applied_seq));
            pthread_mutex_unlock(&m->mu);
            if (migration_save(m, &err) == 0)
                trim_logs(a, src, saved);
            else
                log_warnx("applier: %s", co_err_text(&err));
            json_decref(saved);
            publish(a);
            last_save = now;
        }
        if (entries == 0) {
            pthread_mutex_lock(&a->mu);
            pthread_cond_broadcast(&a->cond);
            pthread_mutex_unlock(&a->mu);
            usleep(20000);
        }
        continue;
trouble:
        if (!is_transient(rc) || a->stop) {
            pthread_mutex_lock(&a->mu);
            a->failed = rc;
            a->err = err;
            pthread_cond_broadcast(&a->cond);
            pthread_mutex_unlock(&a->mu);
            log_error("applier stopped (%s): %s", co_err_name(rc), co_err_text(&err));
            break;
        }
        pthread_mutex_lock(&a->mu);
        a->stats.errors++;
        pthread_mutex_unlock(&a->mu);
        log_warnx("applier: %s; reconnecting in %.1f s", co_err_text(&err),
                  backoff_failed(&reconnect));
        a->sops->close(src);
        a->tops->close(tgt);
        src = NULL;
        tgt = NULL;
        backoff_sleep(&reconnect, &a->stop);
    }
    a->sops->close(src);
    a->tops->close(tgt);
    return NULL;
}

int applier_start(struct migration *m, const struct source_ops *sops,
                  const struct target_ops *tops, struct applier **out,
                  struct co_err *err)
{
    struct applier *a = xcalloc(1, sizeof *a);

    a->m = m;
    a->sops = sops;
    a->tops = tops;
    a->window_start = a->throttle_since = mono_s();
    /* Unknown after a resume: the first trim may find part trimmed. */
    a->trimmed = xcalloc((size_t)m->ntables + 1, sizeof *a->trimmed);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cond, NULL);
    if (pthread_create(&a->thread, NULL, applier_main, a) != 0) {
        free(a->trimmed);
        free(a);
        return co_errf(err, CO_ENOMEM, "cannot start the applier thread");
    }
    *out = a;
    return 0;
}

void applier_stop(struct applier *a)
{
    if (!a)
        return;
    a->stop = 1;
    pthread_join(a->thread, NULL);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cond);
    free(a->trimmed);
    free(a);
}

int applier_failed(struct applier *a, struct co_err *err)
{
    int rc;

    if (!a)
        return 0;
    pthread_mutex_lock(&a->mu);
    rc = a->failed;
    if (rc && err)
        *err = a->err;
    pthread_mutex_unlock(&a->mu);
    return rc;
}

void applier_get_stats(struct applier *a, struct sync_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    *out = a->stats;
    pthread_mutex_unlock(&a->mu);
}

static int wait_until(struct applier *a, struct table_state *only,
                      int64_t seq, double timeout_s, struct co_err *err)
{
    struct migration *m = a->m;
    double deadline = mono_s() + timeout_s;
    int64_t targets[m->ntables];
    struct source *src = NULL;
    int rc;

    /* What "caught up" means is fixed now: each table's last entry. */
    if (!only) {
        if ((rc = a->sops->open(m->rb, &src, err)) < 0)
            return rc;
        for (int i = 0; i < m->ntables; i++) {
            struct log_stats st;
            rc = a->sops->log_stats(src, m->tables[i].t, 0, &st, err);
            if (rc < 0) {
                a->sops->close(src);
                return rc;
            }
            targets[i] = st.max_seq;
        }
        a->sops->close(src);
    }
    for (;;) {
        int done = 1;
        pthread_mutex_lock(&m->mu);
        for (int i = 0; i < m->ntables; i++) {
            if (only && &m->tables[i] != only)
                continue;
            if (m->tables[i].applied_seq < (only ? seq : targets[i]))
                done = 0;
        }
        pthread_mutex_unlock(&m->mu);
        if (done)
            return 0;
        if ((rc = applier_failed(a, err)) < 0)
            return rc;
        if (mono_s() > deadline)
            return co_errf(err, CO_ETIMEOUT, "the applier did not catch up "
                           "within %.0f s", timeout_s);
        pthread_mutex_lock(&a->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&a->cond, &a->mu, &ts);
        pthread_mutex_unlock(&a->mu);
    }
}

int applier_wait_caught_up(struct applier *a, double timeout_s,
                           struct co_err *err)
{
    return wait_until(a, NULL, 0, timeout_s, err);
}

int applier_wait_seq(struct applier *a, struct table_state *ts, int64_t seq,
                     double timeout_s, struct co_err *err)
{
    return wait_until(a, ts, seq, timeout_s, err);
}

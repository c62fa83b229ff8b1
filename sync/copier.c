/* copier.c — copy one chunk of one key range, then checkpoint. */
#include "sync/copier.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/events.h"
#include "lib/faults.h"
#include "lib/xalloc.h"
#include "sync/codec.h"

#define MIN_CHUNK 200
#define MAX_CHUNK 2000000
#define PACE_IN_CHUNK_S 0.25   /* longest throttle sleep inside a chunk */
#define PACE_STEP_S 1.0        /* longest one between chunks */

struct pull {
    const struct source_ops *sops;
    struct source_cursor *cur;
    const struct table *t;
    struct migration *m;
    struct value *conv;
    struct scratch s;
    struct tuple last;
    int64_t rows;
    double share;           /* this worker's share of the throttle */
    struct copy_pace *pace;
    int cut_short;          /* the throttle ended the chunk early */
};

/* Keep the last key without an allocation per row for integer keys. */
static int remember_key(struct tuple *last, const struct table *t,
                        const struct value *row)
{
    int ints = last->n == t->nkey;

    for (int k = 0; ints && k < t->nkey; k++)
        ints = row[t->key[k]].type == V_INT && last->v[k].type == V_INT;
    if (ints) {
        for (int k = 0; k < t->nkey; k++)
            last->v[k].i = row[t->key[k]].i;
        return 0;
    }
    return table_row_key(t, row, last);
}

/* How far ahead of copy.max_rows_per_s (this worker's share) the copy is,
 * in seconds, after `rows` more rows; 0 when unthrottled or behind. A rate
 * so small that the answer is huge (or infinite) is fine: callers sleep
 * in bounded steps. */
static double pace_ahead(struct migration *m, struct copy_pace *pace,
                         double share, int64_t rows)
{
    double limit, ahead;

    pthread_mutex_lock(&m->mu);
    limit = m->max_rows_per_s * share;
    pthread_mutex_unlock(&m->mu);
    if (limit != pace->limit) {
        pace->limit = limit;
        pace->since = mono_s();
        pace->rows = 0;
    }
    pace->rows += rows;
    if (limit <= 0)
        return 0;
    ahead = (double)pace->rows / limit - (mono_s() - pace->since);
    return ahead > 0 ? ahead : 0;
}

static void pace_sleep(struct copy_pace *pace, double s)
{
    usleep((useconds_t)(s * 1e6));
    pace->slept += s;
}

/* Inside a chunk the source's read transaction and the target's load are
 * open: sleep there only briefly. A longer wait ends the chunk early
 * (returns 1); the rest is waited between chunks (pace_wait). */
static int throttle(struct pull *p, int64_t rows)
{
    double ahead = pace_ahead(p->m, p->pace, p->share, rows);

    if (ahead > PACE_IN_CHUNK_S)
        return 1;
    if (ahead > 0.0005)
        pace_sleep(p->pace, ahead);
    return 0;
}

/* Before a chunk, nothing open: wait at most PACE_STEP_S. Returns 1 when
 * the copy is still ahead of its rate (the caller comes back, after
 * looking at its stop flags). */
static int pace_wait(struct migration *m, struct copy_pace *pace,
                     double share)
{
    double ahead = pace_ahead(m, pace, share, 0);

    if (ahead <= 0.0005)
        return 0;
    pace_sleep(pace, ahead < PACE_STEP_S ? ahead : PACE_STEP_S);
    return ahead > PACE_STEP_S;
}

static int pull_row(void *arg, const struct value **row, struct co_err *err)
{
    struct pull *p = arg;
    const struct value *src;
    char shown[256];
    int rc;

    if (p->cut_short)
        return 0;
    if ((rc = p->sops->cursor_next(p->cur, &src, err)) <= 0)
        return rc;
    if (remember_key(&p->last, p->t, src) < 0)
        return co_errf(err, CO_ENOMEM, "out of memory");
    rc = codec_row_to_target(p->t, src, p->conv, &p->s, err);
    if (rc < 0) {
        tuple_format(&p->last, table_key_names(p->t), shown, sizeof shown);
        return co_err_prefix(err, "table %s, key %s", p->t->name, shown);
    }
    p->rows++;
    if (p->rows == 1)
        fault_point("bulk_copy", "chunk_read");
    *row = p->conv;
    /* this row is the chunk's last when the rate says wait */
    if ((p->rows & 31) == 0 && throttle(p, 32))
        p->cut_short = 1;
    return 1;
}

/* "key (id)=(11), column quantity = 70000": the n-th row (1-based) of the
 * chunk, for the message about a value the target refused. */
static void describe_row(const struct source_ops *sops, struct source *src,
                         const struct table *t, const struct key_range *kr,
                         long n, const char *column, char *out, size_t cap)
{
    struct source_cursor *cur;
    const struct value *row;
    struct tuple key = {0};
    struct co_err err = {0};
    char shown[256] = "(unknown)", value[200] = "";
    int col = column[0] ? table_column(t, column) : -1;

    if (n > 0 && sops->scan(src, t, kr, n, &cur, &err) == 0) {
        for (long i = 1; sops->cursor_next(cur, &row, &err) > 0; i++) {
            if (i < n)
                continue;
            table_row_key(t, row, &key);
            if (col >= 0)
                value_excerpt(&row[col], value, sizeof value);
        }
        sops->cursor_close(cur);
    }
    if (key.n)
        tuple_format(&key, table_key_names(t), shown, sizeof shown);
    tuple_free(&key);
    snprintf(out, cap, "key %s%s%s%s%s", shown, column[0] ? ", column " : "",
             column, value[0] ? " = " : "", value);
}

/* Which row of the chunk the target refused, when its error named none:
 * the rows again, one statement each, rolled back. */
static void find_refused_row(struct pull *p, const struct key_range *kr,
                             int64_t rows, struct source *src,
                             const struct target_ops *tops,
                             struct target *tgt, struct load_result *res)
{
    struct pull again = *p;
    struct load_result probe;
    struct co_err err = {0};

    again.s = (struct scratch){0};
    memset(&again.last, 0, sizeof again.last);
    again.pace = &(struct copy_pace){.since = mono_s()};
    if (p->sops->scan(src, p->t, kr, rows, &again.cur, &err) < 0)
        return;
    if (tops->probe_rows &&
        tops->probe_rows(tgt, p->t, pull_row, &again, &probe, &err) ==
        CO_EDATA && probe.refused) {
        res->bad_row = probe.bad_row;
        memcpy(res->bad_column, probe.bad_column, sizeof res->bad_column);
    }
    p->sops->cursor_close(again.cur);
    scratch_free(&again.s);
    tuple_free(&again.last);
}

static void report(struct migration *m, struct table_state *ts, int r,
                   const struct tuple *from, const struct tuple *to,
                   int64_t rows)
{
    int64_t copied = 0, total;
    double rate, eta;

    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < ts->nranges; i++)
        copied += ts->ranges[i].rows;
    total = ts->rows_total > copied ? ts->rows_total : copied;
    rate = ts->rows_per_s;
    pthread_mutex_unlock(&m->mu);
    eta = rate > 0 ? (double)(total - copied) / rate : 0;
    events_emit(EVT_PROGRESS, json_pack(
        "{ss sI sI sf sf si so so sI}", "table", ts->t->name, "rows",
        (json_int_t)copied, "total", (json_int_t)total, "rows_per_s", rate,
        "eta_s", eta, "range", r, "from", from->n ? tuple_to_json(from)
                                                  : json_null(),
        "to", to->n ? tuple_to_json(to) : json_null(), "chunk_rows",
        (json_int_t)rows));
}

int copy_chunk(struct migration *m, struct table_state *ts, int r,
               const struct source_ops *sops, struct source *src,
               const struct target_ops *tops, struct target *tgt,
               int64_t *chunk_rows, struct copy_pace *pace,
               struct copy_chunk_stats *st, struct co_err *err)
{
    double started;
    struct copy_range *cr = &ts->ranges[r];
    struct pull p = {0};
    struct load_result res = {0};
    struct tuple from = {0};
    struct key_range kr;
    int rc, workers = m->rb->copy.workers;

    memset(st, 0, sizeof *st);
    if (pace_wait(m, pace, 1.0 / (workers > 0 ? workers : 1)))
        return 0;                     /* not yet: nothing read, not done */
    pthread_mutex_lock(&cr->lock);
    if (cr->done) {
        pthread_mutex_unlock(&cr->lock);
        st->range_done = 1;
        return 0;
    }
    tuple_copy(&from, cr->frontier.n ? &cr->frontier : &cr->lo);
    kr.lo = &from;
    kr.hi = &cr->hi;
    p.sops = sops;
    p.t = ts->t;
    p.m = m;
    p.share = 1.0 / (workers > 0 ? workers : 1);
    p.conv = xcalloc((size_t)ts->t->ncols, sizeof *p.conv);
    p.pace = pace;
    pace->slept = 0;
    started = mono_s();
    rc = sops->scan(src, ts->t, &kr, *chunk_rows, &p.cur, err);
    if (rc == 0) {
        rc = tops->load(tgt, ts->t, pull_row, &p,
                        m->rb->copy.method == COPY_INSERT ? FAST_PATH_NEVER
                        : m->rb->copy.method == COPY_LOAD_DATA
                            ? FAST_PATH_REQUIRED : FAST_PATH_IF_ALLOWED,
                        &res, err);
        sops->cursor_close(p.cur);
    }
    /* A value the target refused: name its row by key, not by its
     * position in our chunk. */
    if (rc == CO_EDATA && res.refused && res.bad_row == 0)
        find_refused_row(&p, &kr, *chunk_rows, src, tops, tgt, &res);
    if (rc == CO_EDATA && res.refused) {
        char where[600];
        describe_row(sops, src, ts->t, &kr, res.bad_row, res.bad_column,
                     where, sizeof where);
        co_err_prefix(err, "table %s, %s", ts->t->name, where);
    }
    if (rc == 0 && !p.cut_short)
        throttle(&p, p.rows & 31);      /* the rows since the last check */
    st->seconds = mono_s() - started - pace->slept;
    if (rc == 0) {
        st->rows = res.rows;
        pthread_mutex_lock(&m->mu);
        if (res.rows > 0) {
            tuple_copy(&cr->frontier, &p.last);
            cr->rows += res.rows;
        }
        if (res.rows < *chunk_rows && !p.cut_short)
            cr->done = 1;
        st->range_done = cr->done;
        pthread_mutex_unlock(&m->mu);
    }
    pthread_mutex_unlock(&cr->lock);
    if (rc == 0) {
        /* The event goes out before the checkpoint: a crash between the two
         * shows in the log as the one chunk a resume copies again. */
        if (res.rows > 0)
            report(m, ts, r, &from, &p.last, res.rows);
        fault_point("bulk_copy", "chunk");
        rc = migration_save(m, err);
        /* Aim for chunk_target_ms per chunk, changing by at most 2x. */
        if (res.rows == *chunk_rows && st->seconds > 0) {
            double want = *chunk_rows * (m->rb->copy.chunk_target_ms / 1000.0) /
                          st->seconds;
            if (want > *chunk_rows * 2.0)
                want = *chunk_rows * 2.0;
            if (want < *chunk_rows / 2.0)
                want = *chunk_rows / 2.0;
            /* Under a rate limit a chunk's wall time is its rows ÷ the
             * limit (the throttle sleeps inside it): keep that near the
             * target too, or one throttled chunk holds its transaction
             * open and hides progress for many seconds. */
            if (pace->limit > 0 &&
                want > pace->limit * m->rb->copy.chunk_target_ms / 1000.0)
                want = pace->limit * m->rb->copy.chunk_target_ms / 1000.0;
            *chunk_rows = (int64_t)fmin(fmax(want, MIN_CHUNK), MAX_CHUNK);
        }
    }
    tuple_free(&from);
    tuple_free(&p.last);
    scratch_free(&p.s);
    free(p.conv);
    return rc;
}

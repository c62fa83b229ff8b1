/* copier.c — copy one chunk of one key range, then checkpoint. */
#include "sync/copier.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orchestrator/events.h"
#include "orchestrator/faults.h"
#include "sync/codec.h"

#define MIN_CHUNK 200
#define MAX_CHUNK 2000000

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

static void throttle(struct pull *p, int64_t rows)
{
    struct copy_pace *pace = p->pace;
    double limit, ahead;

    pthread_mutex_lock(&p->m->mu);
    limit = p->m->max_rows_per_s * p->share;
    pthread_mutex_unlock(&p->m->mu);
    if (limit != pace->limit) {
        pace->limit = limit;
        pace->since = mono_s();
        pace->rows = 0;
    }
    pace->rows += rows;
    if (limit <= 0)
        return;
    ahead = (double)pace->rows / limit - (mono_s() - pace->since);
    if (ahead > 0.0005) {
        usleep((useconds_t)(ahead * 1e6));
        pace->slept += ahead;
    }
}

static int pull_row(void *arg, const struct value **row, struct co_err *err)
{
    struct pull *p = arg;
    const struct value *src;
    int rc = p->sops->cursor_next(p->cur, &src, err);
    char shown[256];

    if (rc <= 0)
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
    if ((p->rows & 31) == 0)
        throttle(p, 32);
    *row = p->conv;
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
    if (tops->probe_rows(tgt, p->t, pull_row, &again, &probe, &err) ==
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
    events_emit("progress", json_pack(
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
    p.conv = calloc((size_t)ts->t->ncols, sizeof *p.conv);
    p.pace = pace;
    pace->slept = 0;
    started = mono_s();
    rc = sops->scan(src, ts->t, &kr, *chunk_rows, &p.cur, err);
    if (rc == 0) {
        rc = tops->load(tgt, ts->t, pull_row, &p,
                        m->rb->copy.method == COPY_INSERT ? LOAD_NEVER
                        : m->rb->copy.method == COPY_LOAD_DATA ? LOAD_REQUIRED
                        : LOAD_IF_ALLOWED, &res, err);
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
    if (rc == 0)
        throttle(&p, p.rows & 31);      /* the rows since the last check */
    st->seconds = mono_s() - started - pace->slept;
    if (rc == 0) {
        st->rows = res.rows;
        pthread_mutex_lock(&m->mu);
        if (res.rows > 0) {
            tuple_copy(&cr->frontier, &p.last);
            cr->rows += res.rows;
        }
        if (res.rows < *chunk_rows)
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

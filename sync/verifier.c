/* verifier.c — chunk hashing, narrowing and rechecks. */
#include "sync/verifier.h"

#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoints/checkpoint.h"
#include "lib/events.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "sync/codec.h"
#include "lib/sbuf.h"

#define DEFAULT_CHUNK 5000
#define MAX_REPORTED 1000

/* One side of a chunk: rows as canonical bytes, with offsets per column. */
struct side {
    int n, cap, ncols;
    struct tuple *keys;        /* source-form keys (target side: as read) */
    int *present;              /* exact-key reads: row found */
    struct scratch canon;
    size_t *coff;              /* n * (ncols + 1) column offsets */
    unsigned char sha[32];
};

enum diff { SAME, DIFFERS, MISSING, EXTRA };
static const char *const diff_names[] = {"same", "differs", "missing_on_target",
                                         "extra_on_target"};

void verifier_init(struct verifier *v, struct migration *m,
                   const struct source_ops *sops, struct source *src,
                   const struct target_ops *tops, struct target *tgt)
{
    memset(v, 0, sizeof *v);
    v->m = m;
    v->sops = sops;
    v->src = src;
    v->tops = tops;
    v->tgt = tgt;
    v->attempts = m->rb->verify.recheck_attempts;
    v->mode = m->rb->verify.mode;
    v->sample_percent = m->rb->verify.sample_percent;
    v->chunk_rows = DEFAULT_CHUNK;
    v->report = json_pack("{s{}}", "tables");
    v->report_name = "verify.json";
}

int verifier_int_ordered(const struct table *t)
{
    for (int k = 0; k < t->nkey; k++) {
        enum ltype lt = t->cols[t->key[k]].map.lt;
        if (lt != LT_INT && lt != LT_BOOL)
            return 0;
    }
    return t->nkey > 0;
}

static void side_reset(struct side *s, int ncols)
{
    for (int i = 0; i < s->n; i++)
        tuple_free(&s->keys[i]);
    s->n = 0;
    /* coff is sized for ncols: another table with more columns needs the
     * arrays grown again from the start. */
    if (ncols > s->ncols)
        s->cap = 0;
    s->ncols = ncols;
    scratch_reset(&s->canon);
}

static void side_free(struct side *s)
{
    side_reset(s, 0);
    free(s->keys);
    free(s->present);
    free(s->coff);
    scratch_free(&s->canon);
}

/* The two sides of a chunk live as long as the verifier: their buffers
 * (megabytes per chunk) are reused instead of being mapped and unmapped
 * for every chunk. */
struct sides {
    struct side src, tgt;
    /* The source chunk after the current one, read while the target side
     * of the current one was (see verifier_chunk). */
    struct side next;
    struct tuple next_after;
    const struct table *next_table;
    int next_valid;
};

static struct sides *sides_of(struct verifier *v)
{
    if (!v->sides)
        v->sides = xcalloc(1, sizeof(struct sides));
    return v->sides;
}

void verifier_free(struct verifier *v)
{
    struct sides *sd = v->sides;

    json_decref(v->report);
    v->report = NULL;
    if (sd) {
        side_free(&sd->src);
        side_free(&sd->tgt);
        side_free(&sd->next);
        tuple_free(&sd->next_after);
        free(sd);
        v->sides = NULL;
    }
}

static int side_grow(struct side *s)
{
    if (s->n < s->cap)
        return 0;
    s->cap = s->cap ? s->cap * 2 : 1024;
    s->keys = xrealloc(s->keys, sizeof *s->keys * (size_t)s->cap);
    s->present = xrealloc(s->present, sizeof *s->present * (size_t)s->cap);
    s->coff = xrealloc(s->coff, sizeof *s->coff * (size_t)s->cap *
                                   (size_t)(s->ncols + 1));
    memset(s->keys + s->n, 0, sizeof *s->keys * (size_t)(s->cap - s->n));
    return 0;
}

/* Append one row (target-form values) as canonical bytes. */
static int side_add(struct side *s, const struct table *t,
                    const struct value *row, const struct tuple *key,
                    int present, struct co_err *err)
{
    size_t *off;
    int rc;

    if ((rc = side_grow(s)) < 0)
        return co_errf(err, rc, "out of memory");
    off = &s->coff[(size_t)s->n * (size_t)(s->ncols + 1)];
    s->present[s->n] = present;
    tuple_copy(&s->keys[s->n], key);
    for (int c = 0; c < t->ncols; c++) {
        off[c] = s->canon.len;
        if (present && (rc = codec_canon(&t->cols[c], &row[c], &s->canon,
                                         err)) < 0)
            return co_err_prefix(err, "column %s", t->cols[c].name);
    }
    off[t->ncols] = s->canon.len;
    s->n++;
    return 0;
}

static void side_hash(struct side *s)
{
    unsigned int len;
    EVP_Digest(s->canon.p ? s->canon.p : "", s->canon.len, s->sha, &len,
               EVP_sha256(), NULL);
}

static int key_to_target(const struct table *t, const struct tuple *key,
                         struct tuple *out, struct co_err *err)
{
    struct value vals[64];
    struct scratch s = {0};
    int rc = 0;

    for (int k = 0; k < t->nkey && rc == 0; k++)
        rc = codec_to_target(&t->cols[t->key[k]], &key->v[k], &vals[k], &s,
                             err);
    if (rc == 0 && tuple_set(out, vals, t->nkey) < 0)
        rc = CO_ENOMEM;
    scratch_free(&s);
    return rc;
}

/* Compare two int key tuples (integer-ordered tables only). */
static int int_key_cmp(const struct tuple *a, const struct tuple *b)
{
    for (int k = 0; k < a->n; k++) {
        if (a->v[k].i != b->v[k].i)
            return a->v[k].i < b->v[k].i ? -1 : 1;
    }
    return 0;
}

static int row_equal(const struct side *a, int i, const struct side *b, int j)
{
    size_t *oa = &a->coff[(size_t)i * (size_t)(a->ncols + 1)];
    size_t *ob = &b->coff[(size_t)j * (size_t)(b->ncols + 1)];
    size_t la = oa[a->ncols] - oa[0], lb = ob[b->ncols] - ob[0];

    return la == lb && memcmp(a->canon.p + oa[0], b->canon.p + ob[0], la) == 0;
}

/* Reals stored in DECIMAL columns are the conversion most likely to go
 * wrong, and a formatting bug would agree with itself on both sides: the
 * source side of verify formats them with libc instead of the copy's
 * code, so such a bug shows up as a mismatch. */
static void second_opinion(const struct table *t, const struct value *raw,
                           struct value *conv, char (*dec)[64])
{
    for (int c = 0; c < t->ncols; c++) {
        const struct colmap *m = &t->cols[c].map;
        if (m->lt != LT_DECIMAL || raw[c].type != V_REAL ||
            codec_decimal_libc(raw[c].r, m->precision, m->scale, dec[c],
                               sizeof dec[c]) < 0)
            continue;
        conv[c].type = V_TEXT;
        conv[c].p = (const unsigned char *)dec[c];
        conv[c].n = strlen(dec[c]);
    }
}

/* ---- reading both sides -------------------------------------------------- */

static int read_source_chunk(struct verifier *v, struct table_state *ts,
                             const struct tuple *after, struct side *s,
                             struct co_err *err)
{
    const struct table *t = ts->t;
    struct source_cursor *cur;
    const struct value *row;
    struct value *conv = xcalloc((size_t)t->ncols, sizeof *conv);
    char (*dec)[64] = xcalloc((size_t)t->ncols + 1, sizeof *dec);
    struct scratch sc = {0};
    struct tuple key = {0};
    struct key_range kr = {after, NULL};
    int rc;

    side_reset(s, t->ncols);
    rc = v->sops->scan(v->src, t, &kr, v->chunk_rows, &cur, err);
    while (rc == 0 && (rc = v->sops->cursor_next(cur, &row, err)) > 0) {
        rc = table_row_key(t, row, &key) < 0 ? CO_ENOMEM : 0;
        if (rc == 0)
            rc = codec_row_to_target(t, row, conv, &sc, err);
        if (rc == 0)
            second_opinion(t, row, conv, dec);
        if (rc == 0)
            rc = side_add(s, t, conv, &key, 1, err);
    }
    if (rc == 0 || rc == 1)
        v->sops->cursor_close(cur);
    tuple_free(&key);
    scratch_free(&sc);
    free(conv);
    free(dec);
    return rc < 0 ? rc : 0;
}

/* Integer keys: the target rows in (after, last] (last open at the end). */
static int read_target_range(struct verifier *v, struct table_state *ts,
                             const struct tuple *after,
                             const struct tuple *last, struct side *s,
                             struct co_err *err)
{
    const struct table *t = ts->t;
    struct target_cursor *cur;
    const struct value *row;
    struct tuple key = {0};
    struct key_range kr = {after, last};
    int rc;

    side_reset(s, t->ncols);
    rc = v->tops->scan(v->tgt, t, &kr, 0, &cur, err);
    while (rc == 0 && (rc = v->tops->cursor_next(cur, &row, err)) > 0) {
        rc = table_row_key(t, row, &key) < 0 ? CO_ENOMEM : 0;
        if (rc == 0)
            rc = side_add(s, t, row, &key, 1, err);
    }
    if (rc == 0 || rc == 1)
        v->tops->cursor_close(cur);
    tuple_free(&key);
    return rc < 0 ? rc : 0;
}

/* Other keys: each source key looked up exactly. */
static int read_target_keys(struct verifier *v, struct table_state *ts,
                            const struct side *src, struct side *s,
                            struct co_err *err)
{
    const struct table *t = ts->t;
    struct tuple tkey = {0};
    const struct value *row;
    int rc = 0;

    side_reset(s, t->ncols);
    for (int i = 0; i < src->n && rc == 0; i++) {
        if ((rc = key_to_target(t, &src->keys[i], &tkey, err)) < 0)
            break;
        int found = v->tops->fetch(v->tgt, t, &tkey, &row, err);
        if (found < 0)
            rc = found;
        else
            rc = side_add(s, t, found ? row : NULL, &src->keys[i], found, err);
    }
    tuple_free(&tkey);
    return rc;
}

/* ---- comparing one key now ------------------------------------------------- */

static json_t *row_json(const struct table *t, const struct value *row,
                        const int *cols, int ncols)
{
    json_t *o = json_object();

    for (int i = 0; i < ncols; i++)
        json_object_set_new(o, t->cols[cols[i]].name,
                            value_to_json(&row[cols[i]]));
    return o;
}

/* Fetch both sides of one key and compare. On a difference, *detail gets
 * the columns and both values. */
static int compare_key(struct verifier *v, const struct table *t,
                       const struct tuple *key, enum diff *out, json_t **detail,
                       struct co_err *err)
{
    const struct value *srow, *trow;
    struct value *sconv = xcalloc((size_t)t->ncols, sizeof *sconv);
    char (*dec)[64] = xcalloc((size_t)t->ncols + 1, sizeof *dec);
    struct scratch sc = {0}, a = {0}, b = {0};
    struct tuple tkey = {0};
    int sf, tf, rc = 0, ndiff = 0;
    int *diffcols = xcalloc((size_t)t->ncols + 1, sizeof(int));

    *out = SAME;
    *detail = NULL;
    sf = v->sops->fetch(v->src, t, key, &srow, err);
    if (sf < 0) {
        rc = sf;
        goto out;
    }
    if (sf && (rc = codec_row_to_target(t, srow, sconv, &sc, err)) < 0)
        goto out;
    if (sf)
        second_opinion(t, srow, sconv, dec);
    if ((rc = key_to_target(t, key, &tkey, err)) < 0)
        goto out;
    tf = v->tops->fetch(v->tgt, t, &tkey, &trow, err);
    if (tf < 0) {
        rc = tf;
        goto out;
    }
    if (!sf && !tf)
        goto out;
    if (sf != tf) {
        *out = sf ? MISSING : EXTRA;
        goto out;
    }
    for (int c = 0; c < t->ncols; c++) {
        scratch_reset(&a);
        scratch_reset(&b);
        if ((rc = codec_canon(&t->cols[c], &sconv[c], &a, err)) < 0 ||
            (rc = codec_canon(&t->cols[c], &trow[c], &b, err)) < 0) {
            co_err_prefix(err, "column %s", t->cols[c].name);
            goto out;
        }
        if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
            diffcols[ndiff++] = c;
    }
    if (ndiff) {
        json_t *cols = json_array();
        *out = DIFFERS;
        for (int i = 0; i < ndiff; i++)
            json_array_append_new(cols, json_string(t->cols[diffcols[i]].name));
        *detail = json_pack("{so so so}", "columns", cols, "source",
                            row_json(t, sconv, diffcols, ndiff), "target",
                            row_json(t, trow, diffcols, ndiff));
    }
out:
    free(diffcols);
    free(sconv);
    free(dec);
    scratch_free(&sc);
    scratch_free(&a);
    scratch_free(&b);
    tuple_free(&tkey);
    return rc;
}

/* ---- the report ------------------------------------------------------------ */

static json_t *table_report(struct verifier *v, const struct table *t)
{
    json_t *tables = json_object_get(v->report, "tables");
    json_t *r = json_object_get(tables, t->name);

    if (!r) {
        r = json_pack("{sI sI sI s[] sf}", "rows", (json_int_t)0, "chunks",
                      (json_int_t)0, "mismatches", (json_int_t)0,
                      "mismatched", "seconds", 0.0);
        json_object_set_new(tables, t->name, r);
    }
    return r;
}

static void record_mismatch(struct verifier *v, struct table_state *ts,
                            const struct tuple *key, enum diff d,
                            json_t *detail)
{
    json_t *r = table_report(v, ts->t), *list = json_object_get(r, "mismatched");
    json_t *item = json_pack("{so ss}", "key", tuple_to_json(key), "kind",
                             diff_names[d]);
    char shown[256];

    if (detail)
        json_object_update(item, detail);
    tuple_format(key, table_key_names(ts->t), shown, sizeof shown);
    events_emit(EVT_VERIFY, json_pack("{ss ss ss sO}", "table", ts->t->name,
                                    "mismatch", diff_names[d], "key", shown,
                                    "columns", detail ? json_object_get(detail,
                                    "columns") : json_null()));
    log_warnx("verify: table %s, key %s: %s%s", ts->t->name, shown,
              diff_names[d], d == DIFFERS ? " (see verify.json)" : "");
    if (json_array_size(list) < MAX_REPORTED)
        json_array_append_new(list, item);
    else
        json_decref(item);
    json_decref(detail);
    pthread_mutex_lock(&v->m->mu);
    ts->verify_mismatches++;
    pthread_mutex_unlock(&v->m->mu);
    json_object_set_new(r, "mismatches",
                        json_integer(json_integer_value(
                                         json_object_get(r, "mismatches")) + 1));
}

/* Re-check candidate keys after the applier passed what it had logged. */
static int recheck(struct verifier *v, struct table_state *ts,
                   struct tuple *cand, enum diff *kind, int ncand,
                   struct co_err *err)
{
    const struct table *t = ts->t;
    int rc;

    for (int attempt = 0; attempt < v->attempts && ncand > 0; attempt++) {
        struct log_stats st;
        int kept = 0;
        if ((rc = v->sops->log_stats(v->src, t, 0, &st, err)) < 0)
            return rc;
        if (v->wait && (rc = v->wait(v->wait_arg, ts, st.max_seq, err)) < 0)
            return rc;
        for (int i = 0; i < ncand; i++) {
            enum diff d;
            json_t *detail;
            if ((rc = compare_key(v, t, &cand[i], &d, &detail, err)) < 0)
                return rc;
            json_decref(detail);
            if (d == SAME) {
                tuple_free(&cand[i]);
                continue;
            }
            /* moved down: the caller frees every slot once */
            cand[kept] = cand[i];
            if (kept != i)
                memset(&cand[i], 0, sizeof cand[i]);
            kind[kept++] = d;
        }
        ncand = kept;
    }
    for (int i = 0; i < ncand; i++) {
        enum diff d;
        json_t *detail = NULL;
        if ((rc = compare_key(v, t, &cand[i], &d, &detail, err)) < 0)
            return rc;
        if (d != SAME)
            record_mismatch(v, ts, &cand[i], d, detail);
        else
            json_decref(detail);
        tuple_free(&cand[i]);
    }
    return 0;
}

/* Keys that differ between the two sides of a chunk. */
static int narrow(const struct table *t, const struct side *s,
                  const struct side *g, int ordered, struct tuple **cand,
                  enum diff **kind, int *ncand)
{
    int i = 0, j = 0, cap = 16;

    *cand = xcalloc((size_t)cap, sizeof **cand);
    *kind = xcalloc((size_t)cap, sizeof **kind);
    *ncand = 0;
    while (i < s->n || j < g->n) {
        const struct tuple *key;
        enum diff d = SAME;
        int c;

        if (!ordered) {
            key = &s->keys[i];
            d = !g->present[i] ? MISSING : row_equal(s, i, g, i) ? SAME
                                                                  : DIFFERS;
            i++;
            j++;
        } else {
            c = i >= s->n ? 1 : j >= g->n ? -1 : int_key_cmp(&s->keys[i],
                                                             &g->keys[j]);
            if (c == 0) {
                key = &s->keys[i];
                d = row_equal(s, i, g, j) ? SAME : DIFFERS;
                i++;
                j++;
            } else if (c < 0) {
                key = &s->keys[i++];
                d = MISSING;
            } else {
                key = &g->keys[j++];
                d = EXTRA;
            }
        }
        if (d == SAME)
            continue;
        if (*ncand == cap) {
            cap *= 2;
            *cand = xrealloc(*cand, sizeof **cand * (size_t)cap);
            *kind = xrealloc(*kind, sizeof **kind * (size_t)cap);
        }
        memset(&(*cand)[*ncand], 0, sizeof **cand);
        tuple_copy(&(*cand)[*ncand], key);
        (*kind)[(*ncand)++] = d;
    }
    (void)t;
    return 0;
}

/* Non-integer keys: rows on the target whose key the source lacks. */
static int find_extras(struct verifier *v, struct table_state *ts,
                       struct co_err *err)
{
    const struct table *t = ts->t;
    struct target_cursor *cur;
    const struct value *row;
    struct tuple key = {0};
    struct tuple *cand = NULL;
    enum diff *kind = NULL;
    int ncand = 0, cap = 0, rc;

    rc = v->tops->scan(v->tgt, t, NULL, 0, &cur, err);
    if (rc < 0)
        return rc;
    /* A second connection would let us fetch from the source while the
     * target streams; keys are collected first instead (extras are rare). */
    while ((rc = v->tops->cursor_next(cur, &row, err)) > 0) {
        const struct value *srow;
        table_row_key(t, row, &key);
        int f = v->sops->fetch(v->src, t, &key, &srow, err);
        if (f < 0) {
            rc = f;
            break;
        }
        if (f)
            continue;
        if (ncand == cap) {
            cap = cap ? cap * 2 : 16;
            cand = xrealloc(cand, sizeof *cand * (size_t)cap);
            kind = xrealloc(kind, sizeof *kind * (size_t)cap);
        }
        memset(&cand[ncand], 0, sizeof *cand);
        tuple_copy(&cand[ncand], &key);
        kind[ncand++] = EXTRA;
    }
    v->tops->cursor_close(cur);
    tuple_free(&key);
    if (rc == 0)
        rc = recheck(v, ts, cand, kind, ncand, err);
    free(cand);
    free(kind);
    return rc;
}

static int sampled(const struct verifier *v, int64_t chunk)
{
    uint64_t h = (uint64_t)chunk * 0x9E3779B97F4A7C15ULL;

    if (v->mode != VERIFY_SAMPLE)
        return 1;
    return (double)(h >> 11) / (double)(1ULL << 53) * 100.0 < v->sample_percent;
}

static int verify_counts(struct verifier *v, struct table_state *ts,
                         struct co_err *err)
{
    int64_t a, b;
    int rc;

    for (int attempt = 0; attempt <= v->attempts; attempt++) {
        struct log_stats st;
        if ((rc = v->sops->log_stats(v->src, ts->t, 0, &st, err)) < 0)
            return rc;
        if (v->wait && (rc = v->wait(v->wait_arg, ts, st.max_seq, err)) < 0)
            return rc;
        if ((rc = v->sops->count_rows(v->src, ts->t, &a, err)) < 0 ||
            (rc = v->tops->count_rows(v->tgt, ts->t, &b, err)) < 0)
            return rc;
        if (a == b)
            break;
    }
    pthread_mutex_lock(&v->m->mu);
    ts->verify_rows = a;
    if (a != b)
        ts->verify_mismatches = a > b ? a - b : b - a;
    pthread_mutex_unlock(&v->m->mu);
    json_t *r = table_report(v, ts->t);
    json_object_set_new(r, "rows", json_integer(a));
    json_object_set_new(r, "target_rows", json_integer(b));
    if (a != b)
        json_object_set_new(r, "mismatches", json_integer(a > b ? a - b : b - a));
    return 0;
}

/* The target side of one chunk, read on its own thread. */
struct target_job {
    struct verifier *v;
    struct table_state *ts;
    const struct tuple *after, *last;
    const struct side *src;
    struct side *out;
    int ordered, rc;
    struct co_err err;
};

static void *read_target_side(void *arg)
{
    struct target_job *j = arg;

    j->rc = j->ordered
        ? read_target_range(j->v, j->ts, j->after, j->last, j->out, &j->err)
        : read_target_keys(j->v, j->ts, j->src, j->out, &j->err);
    return NULL;
}

/* Read the target side of the chunk in `s` while the source's next chunk
 * is read here: the two databases work at the same time (the source
 * connection stays on this thread, the target's on the other). A failed
 * read-ahead is only a lost head start. */
static int read_target_and_next(struct verifier *v, struct table_state *ts,
                                const struct tuple *after, struct side *s,
                                struct side *g, int ordered,
                                struct co_err *err)
{
    struct sides *sd = v->sides;
    int full = s->n == v->chunk_rows;
    struct target_job j = {.v = v, .ts = ts, .after = after,
                           .last = full ? &s->keys[s->n - 1] : NULL,
                           .src = s, .out = g, .ordered = ordered};
    pthread_t th;
    int threaded = full && pthread_create(&th, NULL, read_target_side, &j) == 0;

    if (!threaded) {
        read_target_side(&j);
    } else {
        struct co_err ahead = {0};
        sd->next_valid = read_source_chunk(v, ts, j.last, &sd->next,
                                           &ahead) == 0 &&
                         tuple_copy(&sd->next_after, j.last) == 0;
        sd->next_table = ts->t;
        pthread_join(th, NULL);
    }
    if (j.rc < 0)
        *err = j.err;
    return j.rc;
}

/* The source chunk after `after`: the one read ahead, or read now. */
static int source_chunk(struct verifier *v, struct table_state *ts,
                        const struct tuple *after, struct co_err *err)
{
    struct sides *sd = v->sides;

    if (sd->next_valid && sd->next_table == ts->t &&
        tuple_equal(&sd->next_after, after)) {
        struct side tmp = sd->src;
        sd->src = sd->next;
        sd->next = tmp;
        sd->next_valid = 0;
        return 0;
    }
    sd->next_valid = 0;
    return read_source_chunk(v, ts, after, &sd->src, err);
}

int verifier_chunk(struct verifier *v, struct table_state *ts, int *done,
                   struct co_err *err)
{
    const struct table *t = ts->t;
    struct sides *sd = sides_of(v);
    struct side *s = &sd->src, *g = &sd->tgt;
    struct tuple after = {0};
    struct tuple *cand = NULL;
    enum diff *kind = NULL;
    int ncand = 0, rc, ordered = verifier_int_ordered(t);
    int64_t chunk;
    double t0 = mono_s();
    json_t *r = table_report(v, t);

    *done = 0;
    if (!sd)
        return co_errf(err, CO_ENOMEM, "out of memory");
    if (v->mode == VERIFY_COUNT) {
        if ((rc = verify_counts(v, ts, err)) < 0)
            return rc;
        pthread_mutex_lock(&v->m->mu);
        ts->verify_done = *done = 1;
        ts->verify_chunks = 1;
        pthread_mutex_unlock(&v->m->mu);
        return 0;
    }
    pthread_mutex_lock(&v->m->mu);
    tuple_copy(&after, &ts->verify_frontier);
    chunk = ts->verify_chunks;
    pthread_mutex_unlock(&v->m->mu);
    rc = source_chunk(v, ts, &after, err);
    if (rc == 0 && sampled(v, chunk)) {
        rc = read_target_and_next(v, ts, &after, s, g, ordered, err);
        if (rc == 0) {
            side_hash(s);
            side_hash(g);
            if (s->n != g->n || memcmp(s->sha, g->sha, 32) != 0)
                narrow(t, s, g, ordered, &cand, &kind, &ncand);
        }
        if (rc == 0 && ncand)
            rc = recheck(v, ts, cand, kind, ncand, err);
    }
    if (rc == 0 && s->n < v->chunk_rows && !ordered && v->mode == VERIFY_FULL) {
        int64_t a, b;
        if ((rc = v->sops->count_rows(v->src, t, &a, err)) == 0 &&
            (rc = v->tops->count_rows(v->tgt, t, &b, err)) == 0 && b > a)
            rc = find_extras(v, ts, err);
    }
    if (rc == 0) {
        pthread_mutex_lock(&v->m->mu);
        if (s->n > 0)
            tuple_copy(&ts->verify_frontier, &s->keys[s->n - 1]);
        ts->verify_rows += s->n;
        ts->verify_chunks++;
        if (s->n < v->chunk_rows)
            ts->verify_done = *done = 1;
        pthread_mutex_unlock(&v->m->mu);
        json_object_set_new(r, "rows", json_integer(
            json_integer_value(json_object_get(r, "rows")) + s->n));
        json_object_set_new(r, "chunks", json_integer(
            json_integer_value(json_object_get(r, "chunks")) + 1));
        json_object_set_new(r, "seconds", json_real(
            json_number_value(json_object_get(r, "seconds")) + mono_s() - t0));
    } else {
        co_err_prefix(err, "verifying table %s", t->name);
    }
    free(cand);
    free(kind);
    tuple_free(&after);
    return rc;
}

int64_t verifier_keys(struct verifier *v, struct table_state *ts,
                      const struct tuple *keys, int nkeys, int with_recheck,
                      struct co_err *err)
{
    struct tuple *cand = xcalloc((size_t)nkeys + 1, sizeof *cand);
    enum diff *kind = xcalloc((size_t)nkeys + 1, sizeof *kind);
    int64_t before;
    int ncand = 0, rc = 0;

    pthread_mutex_lock(&v->m->mu);
    before = ts->verify_mismatches;
    pthread_mutex_unlock(&v->m->mu);
    for (int i = 0; i < nkeys && rc == 0; i++) {
        enum diff d;
        json_t *detail = NULL;
        rc = compare_key(v, ts->t, &keys[i], &d, &detail, err);
        if (rc < 0)
            break;
        if (d == SAME) {
            json_decref(detail);
        } else if (with_recheck) {
            json_decref(detail);
            tuple_copy(&cand[ncand], &keys[i]);
            kind[ncand++] = d;
        } else {
            record_mismatch(v, ts, &keys[i], d, detail);
        }
    }
    if (rc == 0 && ncand)
        rc = recheck(v, ts, cand, kind, ncand, err);
    for (int i = 0; i < ncand; i++)
        tuple_free(&cand[i]);
    free(cand);
    free(kind);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&v->m->mu);
    int64_t found = ts->verify_mismatches - before;
    pthread_mutex_unlock(&v->m->mu);
    return found;
}

int verifier_write_report(struct verifier *v, struct co_err *err)
{
    int64_t total = 0;
    char *text;
    int rc;

    for (int i = 0; i < v->m->ntables; i++)
        total += v->m->tables[i].verify_mismatches;
    json_object_set_new(v->report, "mismatched_rows", json_integer(total));
    json_object_set_new(v->report, "mode", json_string(
        v->mode == VERIFY_FULL ? "full" : v->mode == VERIFY_SAMPLE ? "sample"
                                                                   : "count"));
    text = json_dumps(v->report, JSON_INDENT(1) | JSON_SORT_KEYS);
    if (!text)
        return co_errf(err, CO_ENOMEM, "out of memory");
    rc = state_file_write(v->m->rb->state_dir, v->report_name, text,
                          strlen(text), err);
    free(text);
    return rc;
}

void verifier_load_report(struct verifier *v)
{
    int fd = state_file_open(v->m->rb->state_dir, "verify.json", O_RDONLY,
                             NULL);
    json_t *old = fd >= 0 ? json_loadfd(fd, 0, NULL) : NULL;

    if (fd >= 0)
        close(fd);
    if (json_is_object(json_object_get(old, "tables"))) {
        json_decref(v->report);
        v->report = old;
        return;
    }
    json_decref(old);
}

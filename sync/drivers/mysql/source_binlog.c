/*
 * source_binlog.c — binlog capture on a MySQL/MariaDB source (DESIGN §10):
 * the change log is the server's own binary log, read as a replica reads
 * it (binlog_stream.h). Nothing is installed on the application's tables;
 * the fence at cutover is trigger capture's (source_capture.c).
 *
 * Seqs are positions in the log: (file number << 32) | offset. A pass
 * reads from a position to the end of the log as it is then and stops at
 * the end of a whole transaction; every change it read gets the seq of
 * where it stopped. So a table's applied seq is always a place a read can
 * start from, and a table whose applied seq lies inside a pass is handed
 * that pass's changes again: harmless, the applier re-reads rows by key.
 *
 * The window keeps the watched tables' changes read between `from` and
 * `to`, so that one pass serves every table; a table asking from before
 * `from` makes the window start over from there (the binlog is read
 * again). A table seen for the first time also starts it over: the
 * passes before did not collect its changes.
 *
 * The keys of a batch go through a temporary table shaped like trigger
 * capture's change log, so that the scope's comparisons are the
 * server's own (smy_read_log_keys), never made in C. Temporary tables
 * are neither in a ROW binary log nor locked by LOCK TABLES.
 *
 * Our own sessions' writes (rollback's carry-back) are in the binary log
 * like any other, and read back if capture still runs: the applier then
 * copies the rows the target already has. Keeping them out would need
 * sql_log_bin = 0 (SUPER), which also hides them from the source's own
 * replicas.
 *
 * A pass's end is also named by a GTID where the server writes them: the
 * last transaction read at or before it (binlog_stream.h). The window
 * keeps the GTID of each pass end where it changed, so a batch's
 * last_seq gets the GTID of the place it ends; before a window's first
 * GTID the source does not know it and says "" (the applier keeps the
 * table's, which its checkpoint carried across a resume).
 *
 * The freeze (LOCK TABLES, source_capture.c) notes the end of the log
 * once it holds the tables: every change of theirs is before it, so a
 * drain is over when every table's applied seq has reached it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/events.h"
#include "lib/runbook.h"
#include "lib/xalloc.h"
#include "sync/drivers/log_scope.h"
#include "sync/drivers/mysql/binlog_stream.h"
#include "sync/drivers/mysql/source_priv.h"

#define BATCH_LOG "_cutover_bl_"      /* the temporary table of a batch */
#define PASS_MAX_EVENTS 50000         /* a pass stops after this many */
#define WINDOW_MAX 200000             /* no new pass while the window holds
                                         this many changes not yet handed
                                         to every table */
#define INSERT_ROWS 500               /* keys per INSERT into the batch */
#define SAMPLES 256
#define GTID_ENDS_MAX 1024            /* pass ends named by a GTID */

/* A watched table: what the reader needs to find its key in a row. */
struct bl_table {
    char *name;
    int batch_ready;                  /* its temporary table exists */
    int64_t asked;                    /* the last `after` it asked from */
};

struct bl_change {
    int64_t seq;
    int table;
    struct tuple key;
};

struct binlog_capture {
    char base[BINLOG_FILE_MAX];       /* "binlog" of "binlog.000003" */
    int64_t start;                    /* capture_install's position */
    int64_t freeze_end;               /* the log's end under the freeze */
    int ntables;
    struct bl_table *tables;
    struct binlog_watch *watches;     /* parallel to tables */
    int window;                       /* from/to mean something */
    int64_t from, to;
    int n, cap;
    struct bl_change *changes;        /* in seq order */
    char to_gtid[GTID_MAX];           /* at `to` ("" not known) */
    int nends;                        /* pass ends where the GTID changed, */
    struct { int64_t seq; char gtid[GTID_MAX]; } *ends; /* in seq order */
    struct { int64_t seq; double at; } samples[SAMPLES];
    int nsamples;                     /* when each end of the log was seen */
    double last_pass;                 /* mono_s() of the last pass begun */
    int reset;                        /* the window started over since */
};

/* ---- positions ---------------------------------------------------------- */

static int position_seq(struct binlog_capture *bl,
                        const struct binlog_position *p, int64_t *seq,
                        struct co_err *err)
{
    const char *dot = strrchr(p->file, '.');
    char *end;
    unsigned long n;

    if (!dot || dot == p->file || p->pos > UINT32_MAX)
        goto bad;
    n = strtoul(dot + 1, &end, 10);
    if (*end || end == dot + 1 || n > INT32_MAX)
        goto bad;
    if (!bl->base[0])
        snprintf(bl->base, sizeof bl->base, "%.*s", (int)(dot - p->file),
                 p->file);
    *seq = (int64_t)n << 32 | (int64_t)p->pos;
    return 0;
bad:
    return co_errf(err, CO_ESOURCE, "binary log position %s:%llu is not "
                   "of the form NAME.NUMBER:OFFSET", p->file,
                   (unsigned long long)p->pos);
}

static void seq_position(const struct binlog_capture *bl, int64_t seq,
                         struct binlog_position *out)
{
    /* the base is at most BINLOG_FILE_MAX - 12 long (position_seq) */
    snprintf(out->file, sizeof out->file, "%.*s.%06u",
             BINLOG_FILE_MAX - 12, bl->base, (unsigned)(seq >> 32));
    out->pos = (uint64_t)(seq & 0xffffffff);
}

/* The end of the log now, remembered with the time it was seen (lag). */
static int log_end(struct source *s, int64_t *seq, struct co_err *err)
{
    struct binlog_capture *bl = s->bl;
    struct binlog_position p;
    int rc;

    if ((rc = binlog_position_now(s->c->my, &p, err)) < 0 ||
        (rc = position_seq(bl, &p, seq, err)) < 0)
        return co_err_prefix(err, "source %s", s->c->label);
    if (bl->nsamples == 0 || *seq > bl->samples[bl->nsamples - 1].seq) {
        if (bl->nsamples == SAMPLES)
            memmove(bl->samples, bl->samples + 1,
                    sizeof bl->samples[0] * (SAMPLES - 1));
        else
            bl->nsamples++;
        bl->samples[bl->nsamples - 1].seq = *seq;
        bl->samples[bl->nsamples - 1].at = now_s();
    }
    return 0;
}

/* When a change after `after` was first seen at the end of the log. */
static double first_seen_after(const struct binlog_capture *bl,
                               int64_t after)
{
    for (int i = 0; i < bl->nsamples; i++)
        if (bl->samples[i].seq > after)
            return bl->samples[i].at;
    return now_s();
}

/* The position capture starts from, taken so that every transaction
 * before it is committed for every reader (the copy's first chunk comes
 * later): MariaDB gives the binlog position of a consistent snapshot
 * without a lock; elsewhere SHOW MASTER STATUS. */
static int start_position(struct source *s, struct binlog_position *p,
                          struct co_err *err)
{
    char file[BINLOG_FILE_MAX] = "", pos[32] = "";
    int rc;

    memset(p, 0, sizeof *p);
    rc = my_exec(s->c, "START TRANSACTION WITH CONSISTENT SNAPSHOT", err,
                 "taking the binary log position");
    if (rc == 0 &&
        my_query_first(s->c, "SHOW STATUS LIKE 'binlog_snapshot_file'", file,
                       sizeof file, NULL, "") > 0 &&
        my_query_first(s->c, "SHOW STATUS LIKE 'binlog_snapshot_position'",
                       pos, sizeof pos, NULL, "") > 0 && file[0]) {
        snprintf(p->file, sizeof p->file, "%s", file);
        p->pos = strtoull(pos, NULL, 10);
    }
    my_exec(s->c, "COMMIT", NULL, "taking the binary log position");
    if (rc < 0)
        return rc;
    return p->file[0] ? 0 : binlog_position_now(s->c->my, p, err);
}

/* ---- the watched tables ------------------------------------------------- */

/* The table's columns as the binary log has them: every column in order,
 * whether integers are unsigned and strings binary (the log may not say),
 * and where the key columns are. */
static int watch_table(struct source *s, const struct table *t,
                       struct binlog_watch *w, struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;
    unsigned *key = xcalloc((size_t)t->nkey + 1, sizeof *key);
    unsigned char *uns = NULL;
    unsigned *cs = NULL, n = 0, found = 0;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT c.COLUMN_NAME, c.COLUMN_TYPE LIKE '%unsigned%', "
                    "COALESCE(co.ID, 63) FROM information_schema.COLUMNS c "
                    "LEFT JOIN information_schema.COLLATIONS co ON "
                    "co.COLLATION_NAME = c.COLLATION_NAME WHERE "
                    "c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME = ");
    my_string(s->c, &sql, t->name);
    sbuf_adds(&sql, " ORDER BY c.ORDINAL_POSITION");
    if (mysql_query(s->c->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(s->c->my))) {
        sbuf_free(&sql);
        free(key);
        return co_err_prefix(err, "table %s", t->name),
               my_error(s->c, err, "reading the columns of table %s",
                        t->name);
    }
    sbuf_free(&sql);
    while ((r = mysql_fetch_row(res))) {
        uns = xrealloc(uns, n + 1);
        cs = xrealloc(cs, sizeof *cs * (n + 1));
        uns[n] = r[1] && strcmp(r[1], "1") == 0;
        cs[n] = (unsigned)strtoul(r[2] ? r[2] : "63", NULL, 10);
        for (int k = 0; k < t->nkey; k++)
            if (strcmp(r[0], t->cols[t->key[k]].name) == 0) {
                key[k] = n;
                found++;
            }
        n++;
    }
    mysql_free_result(res);
    if (found != (unsigned)t->nkey) {
        free(key);
        free(uns);
        free(cs);
        return co_errf(err, CO_ESOURCE, "source %s: table %s: its key "
                       "columns are not all in information_schema",
                       s->c->label, t->name);
    }
    *w = (struct binlog_watch){
        .schema = s->c->database, .table = t->name, .nkey = (unsigned)t->nkey,
        .key_cols = key, .ncols = n, .is_unsigned = uns, .charset = cs};
    return 0;
}

static void window_reset(struct binlog_capture *bl, int64_t at)
{
    for (int i = 0; i < bl->n; i++)
        tuple_free(&bl->changes[i].key);
    bl->n = 0;
    bl->window = 1;
    bl->reset = 1;
    bl->from = bl->to = at;
    bl->to_gtid[0] = '\0';
    bl->nends = 0;
}

/* A pass ended at seq after the transaction of gtid. */
static void note_gtid(struct binlog_capture *bl, int64_t seq,
                      const char *gtid)
{
    if (!gtid[0] || strcmp(gtid, bl->to_gtid) == 0)
        return;
    snprintf(bl->to_gtid, sizeof bl->to_gtid, "%s", gtid);
    if (!bl->ends)
        bl->ends = xcalloc(GTID_ENDS_MAX, sizeof *bl->ends);
    if (bl->nends == GTID_ENDS_MAX) {
        /* the oldest goes: a batch ending before the next one is then
         * not named (the applier keeps the GTID it had) */
        bl->nends--;
        memmove(bl->ends, bl->ends + 1, sizeof *bl->ends *
                (size_t)bl->nends);
    }
    bl->ends[bl->nends].seq = seq;
    memcpy(bl->ends[bl->nends++].gtid, bl->to_gtid, GTID_MAX);
}

/* The GTID at seq: that of the last pass end at or before it. */
static const char *gtid_at(const struct binlog_capture *bl, int64_t seq)
{
    const char *g = "";

    for (int i = 0; i < bl->nends && bl->ends[i].seq <= seq; i++)
        g = bl->ends[i].gtid;
    return g;
}

/* The index of t among the watched tables, watching it if new. */
static int table_of(struct source *s, const struct table *t,
                    struct co_err *err)
{
    struct binlog_capture *bl = s->bl;
    struct binlog_watch w;
    int rc;

    for (int i = 0; i < bl->ntables; i++)
        if (strcmp(bl->tables[i].name, t->name) == 0)
            return i;
    if ((rc = watch_table(s, t, &w, err)) < 0)
        return rc;
    bl->tables = xrealloc(bl->tables, sizeof *bl->tables *
                          (size_t)(bl->ntables + 1));
    bl->watches = xrealloc(bl->watches, sizeof *bl->watches *
                           (size_t)(bl->ntables + 1));
    bl->tables[bl->ntables] = (struct bl_table){.name = xstrdup(t->name),
                                                .asked = -1};
    w.table = bl->tables[bl->ntables].name;
    bl->watches[bl->ntables] = w;
    bl->window = 0;                   /* passes so far did not collect it */
    return bl->ntables++;
}

/* ---- reading the log ---------------------------------------------------- */

static void keep_key(struct binlog_capture *bl, int table,
                     const struct value *key)
{
    struct bl_change *c;

    if (bl->n == bl->cap) {
        bl->cap = bl->cap ? bl->cap * 2 : 1024;
        bl->changes = xrealloc(bl->changes, sizeof *bl->changes *
                               (size_t)bl->cap);
    }
    c = &bl->changes[bl->n++];
    memset(c, 0, sizeof *c);
    c->table = table;
    tuple_set(&c->key, key, (int)bl->watches[table].nkey);
}

/* Both keys of an UPDATE that moved the row, one otherwise. */
static int collect(void *arg, const struct binlog_change *c,
                   struct co_err *err)
{
    struct binlog_capture *bl = arg;
    unsigned nkey = bl->watches[c->watch].nkey;
    struct tuple a = {.n = (int)nkey, .v = (struct value *)c->after};
    struct tuple b = {.n = (int)nkey, .v = (struct value *)c->before};

    (void)err;
    if (c->after)
        keep_key(bl, c->watch, c->after);
    if (c->before && !(c->after && tuple_equal(&a, &b)))
        keep_key(bl, c->watch, c->before);
    return 0;
}

uint32_t sbl_server_id(const struct runbook *rb)
{
    uint32_t h = 2166136261u;

    if (rb->source.server_id)
        return rb->source.server_id;
    /* one of our own, far from the small ids servers are given */
    for (const char *p = rb->name ? rb->name : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return 0x40000000u | (h & 0x3fffffffu);
}

/* One pass: the log from `to` to its end, on a connection of its own
 * (the dump takes it over). */
static int read_pass(struct source *s, struct co_err *err)
{
    struct binlog_capture *bl = s->bl;
    struct binlog_read_opts o = {.server_id = sbl_server_id(s->rb),
                                 .max_events = PASS_MAX_EVENTS};
    struct binlog_read_stats st = {0};
    struct binlog_position pos;
    struct target *dump;
    int64_t end, reached;
    int n0 = bl->n, rc;

    /* A pass costs the source a connection and a dump whatever it reads:
     * at most one per source.poll_ms, except to drain under the
     * freeze, where the pause waits on it, and for a window that started
     * over (tables asking from far apart would otherwise take turns
     * resetting it, each before a pass). */
    if (!bl->reset && !smy_poll_due(s, &bl->last_pass))
        return 0;
    bl->last_pass = mono_s();
    bl->reset = 0;
    if ((rc = log_end(s, &end, err)) < 0)
        return rc;
    if (end <= bl->to)
        return 0;
    seq_position(bl, bl->to, &pos);
    memcpy(pos.gtid, bl->to_gtid, sizeof pos.gtid);
    if ((rc = my_connect(s->rb, &s->rb->source.server, &dump, err)) < 0)
        return rc;
    int64_t got = binlog_read_changes(dump->my, &o, &pos, bl->watches,
                                      bl->ntables, collect, bl, &st, err);
    my_close(dump);
    if (got < 0 || (rc = position_seq(bl, &pos, &reached, err)) < 0) {
        for (int i = n0; i < bl->n; i++)
            tuple_free(&bl->changes[i].key);
        bl->n = n0;
        rc = got < 0 ? (int)got : rc;
        return co_err_prefix(err, "source %s", s->c->label);
    }
    /* Not `end`, even after a whole read: SHOW MASTER STATUS counts a
     * group of transactions as soon as it is written, a dump sends it
     * once it is committed, so the read may stop short of it. */
    for (int i = n0; i < bl->n; i++)
        bl->changes[i].seq = reached;
    if (reached > bl->to) {
        bl->to = reached;
        note_gtid(bl, reached, pos.gtid);
    }
    return 0;
}

/* Changes every table has been handed leave the window. */
static void window_trim(struct binlog_capture *bl)
{
    int64_t low = INT64_MAX;
    int keep = 0;

    for (int i = 0; i < bl->ntables; i++) {
        if (bl->tables[i].asked < 0)
            return;
        if (bl->tables[i].asked < low)
            low = bl->tables[i].asked;
    }
    if (low <= bl->from)
        return;
    for (int i = 0; i < bl->n; i++) {
        if (bl->changes[i].seq <= low)
            tuple_free(&bl->changes[i].key);
        else
            bl->changes[keep++] = bl->changes[i];
    }
    bl->n = keep;
    bl->from = low;
    /* the last GTID at or before `low` still names it */
    for (keep = 0; keep + 1 < bl->nends && bl->ends[keep + 1].seq <= low;)
        keep++;
    memmove(bl->ends, bl->ends + keep, sizeof *bl->ends *
            (size_t)(bl->nends - keep));
    bl->nends -= keep;
}

static int by_integers(const void *a, const void *b)
{
    const struct tuple *x = a, *y = b;

    for (int k = 0; k < x->n; k++)
        if (x->v[k].i != y->v[k].i)
            return x->v[k].i < y->v[k].i ? -1 : 1;
    return 0;
}

/* A copied table (every key in scope) whose keys are integers needs no
 * server to compare them: the batch's keys, each once, straight from the
 * window. 1 done, 0 not such a batch. */
static int integer_keys(struct binlog_capture *bl, const struct table *t,
                        int ti, int64_t after, int64_t upto,
                        const struct apply_scope *scope,
                        struct log_batch *out)
{
    int n = 0, kept = 0;

    if (!scope->all)
        return 0;
    for (int k = 0; k < t->nkey; k++)
        if (t->cols[t->key[k]].map.lt != LT_INT)
            return 0;
    for (int i = 0; i < bl->n; i++) {
        const struct bl_change *c = &bl->changes[i];
        if (c->table != ti || c->seq <= after || c->seq > upto)
            continue;
        for (int k = 0; k < c->key.n; k++)
            if (c->key.v[k].type != V_INT)
                return 0;
        n++;
    }
    out->keys = xcalloc((size_t)n + 1, sizeof *out->keys);
    for (int i = 0; i < bl->n; i++) {
        const struct bl_change *c = &bl->changes[i];
        if (c->table == ti && c->seq > after && c->seq <= upto)
            tuple_copy(&out->keys[kept++], &c->key);
    }
    qsort(out->keys, (size_t)n, sizeof *out->keys, by_integers);
    kept = 0;
    for (int i = 0; i < n; i++) {
        if (kept > 0 && by_integers(&out->keys[kept - 1], &out->keys[i]) == 0) {
            tuple_free(&out->keys[i]);
            continue;
        }
        out->keys[kept++] = out->keys[i];
    }
    out->nkeys = kept;
    return 1;
}

/* The batch's keys into its temporary table, then read back as trigger
 * capture reads its log: inside the scope and ahead of it (the server
 * compares them, in the key's own collation). */
static int scope_keys(struct source *s, const struct table *t, int ti,
                      int64_t after, int64_t upto,
                      const struct apply_scope *scope, struct log_batch *out,
                      struct co_err *err)
{
    struct binlog_capture *bl = s->bl;
    struct sbuf sql;
    int rc = 0, rows = 0;

    if (integer_keys(bl, t, ti, after, upto, scope, out))
        return 0;
    sbuf_init(&sql);
    if (!bl->tables[ti].batch_ready) {
        smy_log_table_sql(s, &sql, BATCH_LOG, t, 1);
        rc = my_exec_allow_warnings(s->c, sbuf_str(&sql), err,
                                    "creating the batch table");
        bl->tables[ti].batch_ready = rc == 0;
    }
    if (rc == 0) {
        sbuf_reset(&sql);
        sbuf_adds(&sql, "DELETE FROM ");
        my_name_of(s->c, &sql, BATCH_LOG, t);
        rc = my_exec(s->c, sbuf_str(&sql), err, "emptying the batch table");
    }
    for (int i = 0; i <= bl->n && rc == 0; i++) {
        const struct bl_change *c = i < bl->n ? &bl->changes[i] : NULL;
        int take = c && c->table == ti && c->seq > after && c->seq <= upto;
        if (take && rows == 0) {
            sbuf_reset(&sql);
            sbuf_adds(&sql, "INSERT INTO ");
            my_name_of(s->c, &sql, BATCH_LOG, t);
            sbuf_adds(&sql, " (");
            for (int k = 0; k < t->nkey; k++)
                sbuf_addf(&sql, "k%d, ", k + 1);
            sbuf_adds(&sql, "at) VALUES ");
        }
        if (take) {
            sbuf_adds(&sql, rows ? ", (" : "(");
            for (int k = 0; k < t->nkey; k++) {
                my_literal(s->c, &sql, &c->key.v[k]);
                sbuf_adds(&sql, ", ");
            }
            sbuf_adds(&sql, "0)");
            rows++;
        }
        if (rows > 0 && (rows == INSERT_ROWS || !c)) {
            rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                         : my_exec(s->c, sbuf_str(&sql), err,
                                   "filling the batch table");
            rows = 0;
        }
    }
    sbuf_free(&sql);
    if (rc == 0)
        rc = smy_read_log_keys(s, BATCH_LOG, t, 0, INT64_MAX, scope, 1,
                               &out->nkeys, &out->keys, err);
    if (rc == 0 && !scope->all)
        rc = smy_read_log_keys(s, BATCH_LOG, t, 0, INT64_MAX, scope, 0,
                               &out->nahead, &out->ahead, err);
    return rc;
}

int sbl_log_read(struct source *s, const struct table *t, int64_t after_seq,
                 int64_t limit, const struct apply_scope *scope,
                 struct log_batch *out, struct co_err *err)
{
    struct binlog_capture *bl = s->bl;
    int64_t upto, entries = 0;
    int ti, rc = 0;

    memset(out, 0, sizeof *out);
    out->last_seq = after_seq;
    if ((ti = table_of(s, t, err)) < 0)
        return ti;
    if (after_seq <= 0)
        return co_errf(err, CO_ESOURCE, "table %s: no binary log position "
                       "to read from (the capture was not installed)",
                       t->name);
    /* Under the freeze, the tables' last change is before freeze_end. */
    if (s->frozen && bl->freeze_end > 0 && after_seq >= bl->freeze_end)
        return 0;
    if (!bl->window || after_seq < bl->from || after_seq > bl->to)
        window_reset(bl, after_seq);
    if (bl->n < WINDOW_MAX && (rc = read_pass(s, err)) < 0)
        return rc;
    bl->tables[ti].asked = after_seq;
    /* at most `limit` changes (but a pass's whole), ending where a pass
     * ended */
    upto = bl->to;
    for (int i = 0, last = -1; i < bl->n; i++) {
        const struct bl_change *c = &bl->changes[i];
        if (c->table != ti || c->seq <= after_seq)
            continue;
        if (entries >= limit && c->seq != bl->changes[last].seq) {
            upto = bl->changes[last].seq;
            break;
        }
        last = i;
        entries++;
    }
    out->last_seq = upto;
    out->entries = entries;
    snprintf(out->gtid, sizeof out->gtid, "%s", gtid_at(bl, upto));
    if (entries > 0)
        rc = scope_keys(s, t, ti, after_seq, upto, scope, out, err);
    window_trim(bl);
    return rc < 0 ? co_err_prefix(err, "table %s", t->name) : 0;
}

int sbl_log_stats(struct source *s, const struct table *t, int64_t after_seq,
                  struct log_stats *out, struct co_err *err)
{
    struct binlog_capture *bl = s->bl;
    int64_t end;
    int ti, rc;

    memset(out, 0, sizeof *out);
    if ((ti = table_of(s, t, err)) < 0)
        return ti;
    if ((rc = log_end(s, &end, err)) < 0)
        return rc;
    out->max_seq = end;
    if (after_seq <= 0 || end <= after_seq)
        return 0;
    /* the changes this source has read and not handed over, or 1: some */
    for (int i = 0; i < bl->n; i++)
        out->backlog += bl->changes[i].table == ti &&
                        bl->changes[i].seq > after_seq;
    if (out->backlog == 0)
        out->backlog = 1;
    out->oldest_at = first_seen_after(bl, after_seq);
    return 0;
}

/* ---- capture, the freeze ------------------------------------------------ */

int sbl_capture_install(struct source *s, struct co_err *err)
{
    struct binlog_position p;
    int rc;

    if ((rc = start_position(s, &p, err)) < 0 ||
        (rc = position_seq(s->bl, &p, &s->bl->start, err)) < 0)
        return co_err_prefix(err, "source %s", s->c->label);
    events_emit(EVT_LOG, json_pack("{ss ss}", "level", "info", "message",
                                   "binlog capture starts at the source's "
                                   "binary log position"));
    return 0;
}

int sbl_capture_start(struct source *s, int64_t *seq, struct co_err *err)
{
    *seq = s->bl->start;
    if (*seq <= 0)
        return co_errf(err, CO_ESOURCE, "source %s: binlog capture was not "
                       "installed on this connection", s->c->label);
    return 0;
}

int sbl_freeze_mark(struct source *s, struct co_err *err)
{
    return log_end(s, &s->bl->freeze_end, err);
}

struct binlog_capture *sbl_new(void)
{
    return xcalloc(1, sizeof(struct binlog_capture));
}

void sbl_free(struct binlog_capture *bl)
{
    if (!bl)
        return;
    window_reset(bl, 0);
    for (int i = 0; i < bl->ntables; i++) {
        free(bl->tables[i].name);
        free((void *)bl->watches[i].key_cols);
        free((void *)bl->watches[i].is_unsigned);
        free((void *)bl->watches[i].charset);
    }
    free(bl->tables);
    free(bl->watches);
    free(bl->changes);
    free(bl->ends);
    free(bl);
}

/* Binlog capture unless the runbook says "triggers" or the server does
 * not log what it needs (the binary log on, ROW format, FULL images). */
int sbl_chosen(struct source *s, struct co_err *err)
{
    char v[128];
    int rc;

    if (s->rb->source.capture_binlog >= 0)
        return s->rb->source.capture_binlog;
    rc = my_query_first(s->c, "SELECT CONCAT(@@global.log_bin + 0, ' ', "
                        "@@global.binlog_format, ' ', "
                        "@@global.binlog_row_image)", v, sizeof v, err,
                        "reading the binary log settings");
    if (rc < 0)
        return rc;
    return strcmp(v, "1 ROW FULL") == 0;
}

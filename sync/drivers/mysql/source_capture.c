/*
 * source_capture.c — change capture on a MySQL/MariaDB source (trigger
 * capture, DESIGN §10; binlog capture reads the log in source_binlog.c),
 * the write freeze, the fence, and the writes a rollback makes.
 *
 * For each table T with key K:
 *   _cutover_log_T (seq BIGINT AUTO_INCREMENT, k1.., at DOUBLE): the key
 *       columns keep T's types and collations, so frontier comparisons
 *       in log_read are the source's own
 *   _cutover_ai_T / _au_T / _ad_T  AFTER INSERT/UPDATE/DELETE: append the
 *       key (UPDATE: the new one, and the old one when it changed), inside
 *       the application's own transaction
 *   _cutover_fi_T / _fu_T / _fd_T  the fence: BEFORE triggers that SIGNAL
 *       'cutover: writes moved to target'
 * All of them are created without waiting on metadata locks (triggers.c)
 * and skip our own sessions. A trigger is created only once no
 * transaction has its table open (CREATE TRIGGER takes the table's
 * exclusive metadata lock), so no write made before the capture commits
 * after the copy began without being logged.
 *
 * Seqs are handed out when a row is logged, not when its transaction
 * commits: a seq can show up after higher ones, or never (a rollback).
 * log_read never reads past a hole until it is final — a locking read,
 * once the entry after it has settled, finds neither its row nor a
 * transaction holding it — or the freeze holds every table (no
 * transaction is open on them then).
 *
 * The freeze is LOCK TABLES ... WRITE on every migrated table and its log
 * in one session, with autocommit off, so what is written under it
 * commits or rolls back as one. MySQL cannot create or drop a trigger
 * inside a transaction: the fence's CREATE TRIGGERs commit on their own,
 * one by one. So the fence goes up last, under the lock (fence_commit),
 * and comes down last, after the carried rows have committed
 * (fence_remove then thaw_commit). A connection lost while holding the
 * lock releases it: what is there then is a partial fence, which
 * fence_installed finds and removes (back to sync), never a half-fenced
 * source left standing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/events.h"
#include "lib/faults.h"
#include "lib/runbook.h"
#include "lib/xalloc.h"
#include "sync/drivers/log_scope.h"
#include "sync/drivers/mysql/source_priv.h"
#include "sync/json_canon.h"

#define FENCE_MESSAGE "cutover: writes moved to target"
#define LOG_PREFIX "_cutover_log_"
#define FENCE_PREFIX "_cutover_f"
#define GAP_SETTLE_S 0.2          /* a hole this much older than the entry
                                     after it is looked at */
#define ER_NO_SUCH_TABLE 1146
#define ER_LOCK_WAIT_TIMEOUT 1205

static const char *const capture_triggers[] = {
    "_cutover_ai_", "_cutover_au_", "_cutover_ad_"};
static const char *const fence_triggers[] = {
    FENCE_PREFIX "i_", FENCE_PREFIX "u_", FENCE_PREFIX "d_"};

/* ---- installing and removing capture ------------------------------------ */

void smy_log_table_sql(struct source *s, struct sbuf *sql, const char *log,
                       const struct table *t, int temporary)
{
    sbuf_addf(sql, "CREATE %sTABLE IF NOT EXISTS ",
              temporary ? "TEMPORARY " : "");
    my_name_of(s->c, sql, log, t);
    sbuf_adds(sql, " (seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY");
    for (int k = 0; k < t->nkey; k++) {
        const struct column *c = &t->cols[t->key[k]];
        sbuf_addf(sql, ", k%d %s", k + 1, c->decl);
        if (c->coll && strcmp(c->coll, "BINARY") != 0)
            sbuf_addf(sql, " COLLATE %s", c->coll);
        sbuf_adds(sql, " NOT NULL");
    }
    sbuf_adds(sql, ", at DOUBLE NOT NULL) ENGINE=InnoDB");
}

static int capture_table(struct source *s, const struct table *t,
                         struct co_err *err)
{
    struct sbuf sql;
    int rc;

    if ((rc = my_claim(s->c, "table", LOG_PREFIX, t, err)) < 0)
        return rc;
    sbuf_init(&sql);
    smy_log_table_sql(s, &sql, LOG_PREFIX, t, 0);
    my_log_comment(s->c, &sql, "change", t->name);
    rc = my_ddl(s->c, &sql, err, "creating the change log", t);
    sbuf_free(&sql);
    if (rc == 0)
        rc = my_key_log_triggers(s->c, t, LOG_PREFIX, capture_triggers, err);
    return rc;
}

int smy_capture_install(struct source *s, const struct schema *sc,
                        struct co_err *err)
{
    int rc = 0;

    if (s->binlog)
        return sbl_capture_install(s, err);
    for (int i = 0; i < sc->ntables && rc == 0; i++)
        rc = capture_table(s, &sc->tables[i], err);
    return rc;
}

static int drop_triggers(struct source *s, const struct schema *sc,
                         const char *const prefixes[3], struct co_err *err)
{
    struct sbuf sql;
    int rc = 0;

    sbuf_init(&sql);
    for (int i = 0; i < sc->ntables && rc == 0; i++)
        for (int k = 0; k < 3 && rc == 0; k++)
            rc = my_drop_trigger(s->c, &sql, prefixes[k], &sc->tables[i],
                                 err);
    sbuf_free(&sql);
    return rc;
}

static int remove_capture(struct source *s, const struct schema *sc,
                          struct co_err *err)
{
    int rc = drop_triggers(s, sc, capture_triggers, err);

    for (int i = 0; i < sc->ntables && rc == 0; i++)
        rc = my_drop_log(s->c, LOG_PREFIX, &sc->tables[i], err);
    return rc;
}

int smy_capture_remove(struct source *s, const struct schema *sc,
                       int keep_fence, struct co_err *err)
{
    int rc = 0;

    if (!keep_fence)
        rc = drop_triggers(s, sc, fence_triggers, err);
    return rc < 0 ? rc : remove_capture(s, sc, err);
}

int smy_capture_installed(struct source *s, const struct table *t, int *out,
                          struct co_err *err)
{
    enum my_holder h;
    char who[400];
    int rc;

    if (s->binlog) {            /* nothing on the server: the position is */
        *out = 1;               /* in the checkpoint (capture_start) */
        return 0;
    }
    rc = my_holder_of(s->c, "trigger", capture_triggers[0], t, &h, who,
                      sizeof who, err);
    *out = rc == 0 && h == NAME_OURS;
    return rc;
}

/* ---- reading and trimming the log ---------------------------------------- */

/* The log's key columns as a table: k1.. keyed in order, for the key
 * comparisons of target.c. */
struct log_view {
    struct table t;
    struct column cols[64];
    int key[64];
    char names[64][16];
};

static void log_view_init(struct log_view *v, const struct table *t)
{
    memset(v, 0, sizeof *v);
    v->t.name = t->name;
    v->t.ncols = v->t.nkey = t->nkey;
    v->t.cols = v->cols;
    v->t.key = v->key;
    for (int k = 0; k < t->nkey && k < 64; k++) {
        snprintf(v->names[k], sizeof v->names[k], "k%d", k + 1);
        v->cols[k] = t->cols[t->key[k]];
        v->cols[k].name = v->names[k];
        v->key[k] = k;
    }
}

struct log_bound {
    struct source *s;
    const struct log_view *v;
};

static void key_bound(void *arg, struct sbuf *b, const struct tuple *bound,
                      int upper)
{
    const struct log_bound *lb = arg;

    my_key_bound(lb->s->c, b, &lb->v->t, bound, upper);
}

int smy_read_log_keys(struct source *s, const char *log,
                      const struct table *t, int64_t after, int64_t upto,
                      const struct apply_scope *scope, int inside, int *n,
                      struct tuple **keys, struct co_err *err)
{
    struct log_view v;
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;
    int any, cap = 0;

    log_view_init(&v, t);
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT DISTINCT ");
    for (int k = 0; k < t->nkey; k++)
        sbuf_addf(&sql, "%sk%d", k ? ", " : "", k + 1);
    sbuf_adds(&sql, " FROM ");
    my_name_of(s->c, &sql, log, t);
    sbuf_addf(&sql, " WHERE seq > %lld AND seq <= %lld", (long long)after,
              (long long)upto);
    log_scope_filter(&sql, scope, inside ? " AND " : " AND NOT ", key_bound,
                     &(struct log_bound){s, &v}, &any);
    if (!any && inside) {
        sbuf_free(&sql);
        return 0;
    }
    if (mysql_query(s->c->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(s->c->my))) {
        sbuf_free(&sql);
        return my_error(s->c, err, "reading the change log");
    }
    sbuf_free(&sql);
    while ((r = mysql_fetch_row(res))) {
        struct value vals[64];
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            *keys = xrealloc(*keys, sizeof **keys * (size_t)cap);
        }
        my_row_values(res, r, mysql_fetch_lengths(res), vals, t->nkey);
        memset(&(*keys)[*n], 0, sizeof **keys);
        tuple_set(&(*keys)[(*n)++], vals, t->nkey);
    }
    mysql_free_result(res);
    return 0;
}

/* Is the hole at `seq` final, the entry after it logged `age` seconds ago
 * (server clock)? 1 yes, 0 not yet, or an error. A transaction that took
 * the seq and has not committed holds its row's lock: a locking read of
 * it does not get it (the session does not wait for row locks); a
 * rolled-back one left nothing. Its row is written a moment after the seq
 * is taken, so a hole is looked at once the entry after it is
 * GAP_SETTLE_S old: then the row is either there, locked, or never
 * coming. */
static int gap_final(struct source *s, const struct table *t, int64_t seq,
                     double age, struct co_err *err)
{
    struct sbuf sql;
    char buf[32];
    int rc;

    if (s->frozen)
        return 1;
    if (age < GAP_SETTLE_S)
        return 0;
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT seq FROM ");
    my_name_of(s->c, &sql, LOG_PREFIX, t);
    sbuf_addf(&sql, " WHERE seq = %lld LOCK IN SHARE MODE", (long long)seq);
    rc = my_query_first(s->c, sbuf_str(&sql), buf, sizeof buf, err,
                        "looking at a hole in the change log");
    sbuf_free(&sql);
    if (rc < 0 && mysql_errno(s->c->my) == ER_LOCK_WAIT_TIMEOUT)
        return 0;                   /* still being written */
    if (rc < 0)
        return rc;
    return rc == 0;     /* no row: final; a row: there now, read next time */
}

/* How far the log may be read after `after`: up to the first hole that is
 * not final, at most `limit` entries. */
static int readable_upto(struct source *s, const struct table *t,
                         int64_t after, int64_t limit, int64_t *upto,
                         int64_t *entries, struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;
    int rc = 0;

    *upto = after;
    *entries = 0;
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT seq, UNIX_TIMESTAMP(NOW(6)) - at FROM ");
    my_name_of(s->c, &sql, LOG_PREFIX, t);
    sbuf_addf(&sql, " WHERE seq > %lld ORDER BY seq LIMIT %lld",
              (long long)after, (long long)limit);
    if (mysql_query(s->c->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(s->c->my))) {
        sbuf_free(&sql);
        if (mysql_errno(s->c->my) == ER_NO_SUCH_TABLE)
            return 0;       /* capture removed (migration over): no log */
        return my_error(s->c, err, "reading the change log");
    }
    sbuf_free(&sql);
    while ((r = mysql_fetch_row(res))) {
        int64_t seq = strtoll(r[0], NULL, 10);
        /* Every seq between is a hole; the first decides (a later one is
         * looked at when reading reaches it). */
        if (seq > *upto + 1 &&
            (rc = gap_final(s, t, *upto + 1, strtod(r[1], NULL), err)) != 1)
            break;
        *upto = seq;
        (*entries)++;
    }
    mysql_free_result(res);
    return rc < 0 ? rc : 0;
}

struct log_poll {
    const struct table *t;
    double at;                  /* mono_s() of its last read */
};

int smy_poll_due(struct source *s, double *last_read)
{
    double now = mono_s();

    if (!s->frozen && now - *last_read < s->rb->source.poll_ms / 1000.0)
        return 0;
    *last_read = now;
    return 1;
}

/* Each read of a table's change log costs the source a few statements
 * (the holes, the keys): at most one per source.poll_ms. 1: read it now. */
static int poll_due(struct source *s, const struct table *t)
{
    struct log_poll *p = NULL;

    for (int i = 0; i < s->npolls && !p; i++)
        if (s->polls[i].t == t)
            p = &s->polls[i];
    if (!p) {
        s->polls = xrealloc(s->polls, sizeof *s->polls *
                            (size_t)(s->npolls + 1));
        p = &s->polls[s->npolls++];
        *p = (struct log_poll){.t = t, .at = 0};
    }
    return smy_poll_due(s, &p->at);
}

int smy_log_read(struct source *s, const struct table *t, int64_t after_seq,
                 int64_t limit, const struct apply_scope *scope,
                 struct log_batch *out, struct co_err *err)
{
    int rc;

    if (s->binlog)
        return sbl_log_read(s, t, after_seq, limit, scope, out, err);
    memset(out, 0, sizeof *out);
    out->last_seq = after_seq;
    if (!poll_due(s, t))
        return 0;
    rc = readable_upto(s, t, after_seq, limit, &out->last_seq, &out->entries,
                       err);
    if (rc == 0 && out->last_seq > after_seq)
        rc = smy_read_log_keys(s, LOG_PREFIX, t, after_seq, out->last_seq,
                               scope, 1, &out->nkeys, &out->keys, err);
    if (rc == 0 && out->last_seq > after_seq && !scope->all)
        rc = smy_read_log_keys(s, LOG_PREFIX, t, after_seq, out->last_seq,
                               scope, 0, &out->nahead, &out->ahead, err);
    return rc < 0 ? co_err_prefix(err, "table %s", t->name) : 0;
}

void smy_log_batch_free(struct log_batch *b)
{
    log_batch_release(b);
}

int smy_log_stats(struct source *s, const struct table *t, int64_t after_seq,
                  struct log_stats *out, struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;

    if (s->binlog)
        return sbl_log_stats(s, t, after_seq, out, err);
    memset(out, 0, sizeof *out);
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT (SELECT MAX(seq) FROM ");
    my_name_of(s->c, &sql, LOG_PREFIX, t);
    sbuf_adds(&sql, "), (SELECT at FROM ");
    my_name_of(s->c, &sql, LOG_PREFIX, t);
    sbuf_addf(&sql, " WHERE seq > %lld ORDER BY seq LIMIT 1)",
              (long long)after_seq);
    if (mysql_query(s->c->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(s->c->my))) {
        sbuf_free(&sql);
        if (mysql_errno(s->c->my) == ER_NO_SUCH_TABLE)
            return 0;       /* capture removed (migration over): no log */
        return co_err_prefix(err, "table %s", t->name),
               my_error(s->c, err, "reading the change log");
    }
    sbuf_free(&sql);
    if ((r = mysql_fetch_row(res))) {
        out->max_seq = r[0] ? strtoll(r[0], NULL, 10) : 0;
        out->oldest_at = r[1] ? strtod(r[1], NULL) : 0;
        out->backlog = out->max_seq > after_seq ? out->max_seq - after_seq
                                                : 0;
    }
    mysql_free_result(res);
    return 0;
}

int smy_log_trim(struct source *s, const struct table *t, int64_t upto_seq,
                 struct co_err *err)
{
    struct sbuf sql;
    int rc;

    if (s->binlog)              /* the server's retention trims its log */
        return 0;
    sbuf_init(&sql);
    sbuf_adds(&sql, "DELETE FROM ");
    my_name_of(s->c, &sql, LOG_PREFIX, t);
    sbuf_addf(&sql, " WHERE seq <= %lld", (long long)upto_seq);
    rc = my_exec(s->c, sbuf_str(&sql), err, "trimming the change log");
    sbuf_free(&sql);
    return rc < 0 ? co_err_prefix(err, "table %s", t->name) : 0;
}

/* ---- the freeze, the fence, rollback writes ------------------------------ */

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "LOCK TABLES": every table our capture or fence serves, and our logs;
 * with binlog capture, which installs nothing, the tables of sc. */
static int lock_statement(struct source *s, const struct schema *sc,
                          struct sbuf *b, struct co_err *err)
{
    struct owned_objects have = {0};
    struct owned_objects tables = {0};
    int rc = s->binlog ? 0 : my_objects(s->c, NULL, &have, err);

    if (rc < 0)
        return rc;
    for (int i = 0; s->binlog && sc && i < sc->ntables; i++)
        owned_objects_add(&tables, "table", sc->tables[i].name, NULL, "");
    for (int i = 0; i < have.n; i++) {
        const struct owned_object *o = &have.v[i];
        if (!my_is_ours(s->c, o) || !o->table)
            continue;
        if (strcmp(o->kind, "table") == 0 && starts_with(o->name, LOG_PREFIX)
            && !owned_objects_find(&tables, o->name))
            owned_objects_add(&tables, "table", o->name, NULL, "");
        if (!owned_objects_find(&tables, o->table))
            owned_objects_add(&tables, "table", o->table, NULL, "");
    }
    owned_objects_free(&have);
    sbuf_adds(b, "LOCK TABLES ");
    for (int i = 0; i < tables.n; i++) {
        if (i)
            sbuf_adds(b, ", ");
        sbuf_ident(b, tables.v[i].name, '`');
        sbuf_adds(b, " WRITE");
    }
    rc = tables.n;
    owned_objects_free(&tables);
    return rc;
}

int smy_freeze_writes(struct source *s, const struct schema *sc,
                      int wait_ms, struct co_err *err)
{
    struct sbuf sql;
    char set[80];
    int rc, n;

    sbuf_init(&sql);
    if ((n = lock_statement(s, sc, &sql, err)) <= 0) {
        sbuf_free(&sql);
        return n < 0 ? n : co_errf(err, CO_ESOURCE, "source %s: no table "
                                   "of this migration to lock: its change "
                                   "capture is not installed", s->c->label);
    }
    /* lock_wait_timeout counts whole seconds */
    snprintf(set, sizeof set, "SET SESSION lock_wait_timeout = %d, "
             "autocommit = 0", wait_ms <= 1000 ? 1 : (wait_ms + 999) / 1000);
    rc = my_exec(s->c, set, err, "setting up the write freeze");
    if (rc == 0 && (rc = my_exec(s->c, sbuf_str(&sql), err,
                                 "taking the write lock")) < 0 &&
        mysql_errno(s->c->my) == ER_LOCK_WAIT_TIMEOUT)
        rc = co_errf(err, CO_EBUSY, "source %s: a transaction of the "
                     "application held a migrated table longer than %d ms",
                     s->c->label, wait_ms);
    sbuf_free(&sql);
    my_exec(s->c, "SET SESSION lock_wait_timeout = " MY_LOCK_WAIT_S, NULL,
            "setting up the session");
    if (rc < 0) {
        my_exec(s->c, "SET SESSION autocommit = 1", NULL, "ending");
        return rc;
    }
    s->frozen = 1;
    s->drop_fence = s->end_capture = 0;
    /* every change of the locked tables is in the log before its end now */
    if (s->binlog && (rc = sbl_freeze_mark(s, err)) < 0) {
        smy_thaw(s);
        return rc;
    }
    return 0;
}

static void unlock(struct source *s)
{
    my_exec(s->c, "UNLOCK TABLES", NULL, "releasing the write lock");
    my_exec(s->c, "SET SESSION autocommit = 1", NULL, "ending the freeze");
    s->frozen = 0;
}

void smy_thaw(struct source *s)
{
    my_exec(s->c, "ROLLBACK", NULL, "undoing");
    unlock(s);
    s->drop_fence = s->end_capture = 0;
}

int smy_thaw_commit(struct source *s, struct co_err *err)
{
    const struct schema *sc = s->pending;
    int rc = my_exec(s->c, "COMMIT", err, "committing");

    /* The fence comes down only once the rows carried back are in. */
    if (rc == 0 && s->drop_fence)
        rc = drop_triggers(s, sc, fence_triggers, err);
    if (rc < 0) {
        smy_thaw(s);
        return rc;
    }
    unlock(s);
    if (s->end_capture)
        rc = remove_capture(s, sc, err);
    s->drop_fence = s->end_capture = 0;
    return rc;
}

int smy_fence_commit(struct source *s, const struct schema *sc,
                     struct co_err *err)
{
    int rc = 0;

    for (int i = 0; i < sc->ntables && rc == 0; i++) {
        rc = my_fence_triggers(s->c, &sc->tables[i], fence_triggers,
                               FENCE_MESSAGE, err);
        if (i == 0)
            fault_point("cutover", "fence_partial");
    }
    if (rc < 0)
        return rc;
    fault_point("cutover", "before_fence_commit");
    return smy_thaw_commit(s, err);
}

int smy_fence_remove(struct source *s, const struct schema *sc,
                     int restore_capture, struct co_err *err)
{
    (void)err;
    /* Capture stays in place under the fence (the fence refuses writes
     * before they reach it), so restoring it is nothing to do. */
    s->pending = sc;
    s->drop_fence = 1;
    s->end_capture = !restore_capture;
    return 0;
}

/* The fence is complete when every table with our change log has its
 * three fence triggers (or, the logs gone after completion, when there
 * is any); with binlog capture, which has no logs, every table of sc. A
 * partial one — the connection was lost while it went up — is removed
 * here: the source is open again and the migration goes back to sync. */
int smy_fence_installed(struct source *s, const struct schema *sc, int *out,
                        struct co_err *err)
{
    struct owned_objects have;
    struct sbuf sql;
    int logs = 0, fences = 0, rc = my_objects(s->c, NULL, &have, err);

    *out = 0;
    if (rc < 0)
        return rc;
    for (int i = 0; i < have.n; i++) {
        const struct owned_object *o = &have.v[i];
        if (!my_is_ours(s->c, o))
            continue;
        logs += strcmp(o->kind, "table") == 0 && starts_with(o->name,
                                                             LOG_PREFIX);
        fences += strcmp(o->kind, "trigger") == 0 &&
                  starts_with(o->name, FENCE_PREFIX);
    }
    if (s->binlog && sc)
        logs = sc->ntables;
    *out = fences > 0 && (logs == 0 || fences >= 3 * logs);
    sbuf_init(&sql);
    for (int i = 0; i < have.n && rc == 0 && fences > 0 && !*out; i++) {
        const struct owned_object *o = &have.v[i];
        struct table t = {.name = o->table ? o->table : o->name};
        if (!my_is_ours(s->c, o) || strcmp(o->kind, "trigger") != 0 ||
            !starts_with(o->name, FENCE_PREFIX))
            continue;
        sbuf_adds(&sql, "DROP TRIGGER IF EXISTS ");
        sbuf_ident(&sql, o->name, '`');
        rc = my_ddl(s->c, &sql, err, "removing a partial write fence", &t);
    }
    sbuf_free(&sql);
    owned_objects_free(&have);
    return rc;
}

/* Inside the freeze: the row as the target has it (REPLACE: the key's old
 * row, and any row a unique index would find in its way, go first, as
 * SQLite's INSERT OR REPLACE does), or no row. Our session is neither
 * captured nor fenced. */
/* A CHAR(32) of UUIDs holds them as 32 digits; the target's uuid gives
 * them dashed: the value as the source column holds it (digits is its
 * room). */
static const struct value *as_source(const struct column *c,
                                     const struct value *v,
                                     struct value *out, char digits[33])
{
    if (c->map.logical.kind != LK_UUID || v->type != V_TEXT ||
        strncmp(c->decl, "char(32)", 8) != 0 ||
        uuid_canon(v->p, v->n, digits) < 0)
        return v;
    *out = *v;
    out->p = (const unsigned char *)digits;
    out->n = 32;
    return out;
}

int smy_put_row(struct source *s, const struct table *t,
                const struct tuple *key, const struct value *row,
                struct co_err *err)
{
    struct sbuf sql;
    struct value conv;
    char digits[33];
    int rc;

    sbuf_init(&sql);
    if (row) {
        sbuf_adds(&sql, "REPLACE INTO ");
        sbuf_ident(&sql, t->name, '`');
        sbuf_adds(&sql, " (");
        for (int i = 0; i < t->ncols; i++) {
            if (i)
                sbuf_adds(&sql, ", ");
            sbuf_ident(&sql, t->cols[i].name, '`');
        }
        sbuf_adds(&sql, ") VALUES (");
        for (int i = 0; i < t->ncols; i++) {
            if (i)
                sbuf_adds(&sql, ", ");
            my_literal(s->c, &sql,
                       as_source(&t->cols[i], &row[i], &conv, digits));
        }
        sbuf_addc(&sql, ')');
    } else {
        struct value kv[64];
        char kd[64][33];
        struct tuple k = {.n = key->n, .v = kv};
        for (int i = 0; i < key->n && i < 64; i++)
            kv[i] = *as_source(&t->cols[t->key[i]], &key->v[i], &conv,
                               kd[i]);
        sbuf_adds(&sql, "DELETE FROM ");
        sbuf_ident(&sql, t->name, '`');
        sbuf_adds(&sql, " WHERE ");
        my_key_match(s->c, &sql, t, key->n <= 64 ? &k : key);
    }
    rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                 : my_exec(s->c, sbuf_str(&sql), err, "writing a row back");
    sbuf_free(&sql);
    return rc < 0 ? co_err_prefix(err, "table %s", t->name) : 0;
}

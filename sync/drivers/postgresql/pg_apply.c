/*
 * pg_apply.c — the applier's writes: rows upserted with INSERT ... ON
 * CONFLICT (key) DO UPDATE and keys deleted, one transaction per batch.
 * Statements are prepared once per table and session and take their
 * values as parameters (bytea in binary, the rest as text), so no value
 * is ever spliced into SQL. OVERRIDING SYSTEM VALUE lets the source's
 * keys into identity columns, even GENERATED ALWAYS ones a framework
 * made (schema.mode existing).
 *
 * A batch runs in libpq's pipeline mode: statements are sent without
 * waiting for each answer, and the answers are read every
 * PG_PIPELINE_DEPTH statements and at the commit, so a batch costs a few
 * round trips instead of one per row. The key of every statement in
 * flight is kept, so a refusal read later still names its row. A failed
 * statement aborts the rest of the batch; the error comes back from the
 * put, delete or commit that reads it, and the transaction is rolled
 * back by pg_batch_rollback (or by a failed commit itself).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "sync/drivers/postgresql/pg_priv.h"

static void column_list(struct sbuf *b, const struct table *tb)
{
    for (int i = 0; i < tb->ncols; i++) {
        if (i)
            sbuf_adds(b, ", ");
        pg_ident(b, tb->cols[i].name);
    }
}

static void key_list(struct sbuf *b, const struct table *tb)
{
    for (int k = 0; k < tb->nkey; k++) {
        if (k)
            sbuf_adds(b, ", ");
        pg_ident(b, tb->cols[tb->key[k]].name);
    }
}

void pg_upsert_sql(const struct pg_session *s, struct sbuf *b,
                   const struct table *tb)
{
    int updates = 0;

    sbuf_adds(b, "INSERT INTO ");
    pg_qualified(s, b, tb->name);
    sbuf_adds(b, " (");
    column_list(b, tb);
    sbuf_adds(b, ") OVERRIDING SYSTEM VALUE VALUES (");
    for (int i = 0; i < tb->ncols; i++)
        sbuf_addf(b, "%s$%d", i ? ", " : "", i + 1);
    sbuf_adds(b, ") ON CONFLICT (");
    key_list(b, tb);
    sbuf_adds(b, ") DO ");
    for (int i = 0; i < tb->ncols; i++) {
        if (tb->cols[i].pk)
            continue;
        sbuf_adds(b, updates++ ? ", " : "UPDATE SET ");
        pg_ident(b, tb->cols[i].name);
        sbuf_adds(b, " = EXCLUDED.");
        pg_ident(b, tb->cols[i].name);
    }
    if (!updates)
        sbuf_adds(b, "NOTHING");
}

void pg_delete_sql(const struct pg_session *s, struct sbuf *b,
                   const struct table *tb)
{
    sbuf_adds(b, "DELETE FROM ");
    pg_qualified(s, b, tb->name);
    for (int k = 0; k < tb->nkey; k++) {
        sbuf_adds(b, k ? " AND " : " WHERE ");
        pg_ident(b, tb->cols[tb->key[k]].name);
        sbuf_addf(b, " = $%d", k + 1);
    }
}

typedef void (*sql_fn)(const struct pg_session *s, struct sbuf *b,
                       const struct table *tb);

/* A statement sent in the pipeline whose answer is still to be read. */
enum pending_kind { PENDING_TXN, PENDING_PREPARE, PENDING_UPSERT,
                    PENDING_DELETE };
struct pg_pending {
    enum pending_kind kind;
    const struct table *tb;
    struct tuple key;          /* PENDING_UPSERT, PENDING_DELETE */
};

static int queue(struct pg_session *s, enum pending_kind kind,
                 const struct table *tb, const struct tuple *key,
                 struct co_err *err)
{
    struct pg_pending *p;

    if (s->npending == s->cappending) {
        int cap = s->cappending ? 2 * s->cappending : 64;
        p = xrealloc(s->pending, sizeof *p * (size_t)cap);
        if (!p)
            return co_errf(err, CO_ENOMEM, "out of memory");
        s->pending = p;
        s->cappending = cap;
    }
    p = &s->pending[s->npending++];
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->tb = tb;
    if (key && tuple_copy(&p->key, key) < 0)
        return co_errf(err, CO_ENOMEM, "out of memory");
    return 0;
}

void pg_pending_free(struct pg_session *s)
{
    for (int i = 0; i < s->npending; i++)
        tuple_free(&s->pending[i].key);
    free(s->pending);
    s->pending = NULL;
    s->npending = s->cappending = 0;
}

/* "key id=42: " before err's message. */
static void name_key(const struct table *tb, const struct tuple *key,
                     struct co_err *err)
{
    char shown[300];

    tuple_format(key, table_key_names(tb), shown, sizeof shown);
    co_err_prefix(err, "key %s", shown);
}

/* The answer to pending statement p; the first refusal goes into err. */
static int read_answer(struct pg_session *s, struct pg_pending *p, int rc,
                       struct co_err *err)
{
    static const char *const what[] = {
        [PENDING_TXN] = "running the batch's transaction",
        [PENDING_PREPARE] = "preparing the statements of table",
        [PENDING_UPSERT] = "writing a row of table",
        [PENDING_DELETE] = "deleting a row of table"};
    PGresult *res;

    while ((res = PQgetResult(s->conn))) {
        ExecStatusType st = PQresultStatus(res);
        if (rc == 0 && st != PGRES_COMMAND_OK &&
            st != PGRES_PIPELINE_ABORTED) {
            rc = pg_error(s, res, err, "%s%s%s", what[p->kind],
                          p->tb ? " " : "", p->tb ? p->tb->name : "");
            if (p->kind == PENDING_UPSERT || p->kind == PENDING_DELETE)
                name_key(p->tb, &p->key, err);
        }
        if (st != PGRES_COMMAND_OK && p->kind == PENDING_PREPARE)
            for (int i = 0; i < s->nprep; i++)
                if (s->prep[i].tb == p->tb)
                    s->prep[i].tb = NULL;   /* prepare again next time */
        PQclear(res);
    }
    return rc;
}

/* Read the answers of everything in flight; 0 or the first refusal. */
static int read_pending(struct pg_session *s, struct co_err *err)
{
    int rc = s->pipeline_rc;

    for (int i = 0; i < s->npending; i++) {
        rc = read_answer(s, &s->pending[i], rc, err);
        tuple_free(&s->pending[i].key);
    }
    s->npending = 0;
    s->pipeline_rc = rc;
    return rc;
}

/* Every PG_PIPELINE_DEPTH statements, read their answers, so neither
 * side's socket buffer fills while the other waits on it. */
static int maybe_read(struct pg_session *s, struct co_err *err)
{
    if (s->npending < PG_PIPELINE_DEPTH)
        return s->pipeline_rc;
    if (!PQsendFlushRequest(s->conn) || PQflush(s->conn) != 0)
        return pg_error(s, NULL, err, "sending a batch");
    return read_pending(s, err);
}

/* Queue the statement `build` makes for tb under `name`. */
static int send_prepare(struct pg_session *s, const char *name, sql_fn build,
                        const struct table *tb, struct co_err *err)
{
    struct sbuf sql;
    int rc;

    sbuf_init(&sql);
    build(s, &sql, tb);
    if (sql.oom)
        rc = co_errf(err, CO_ENOMEM, "out of memory");
    else if (!PQsendPrepare(s->conn, name, sbuf_str(&sql), 0, NULL))
        rc = pg_error(s, NULL, err, "preparing a statement of table %s",
                      tb->name);
    else
        rc = queue(s, PENDING_PREPARE, tb, NULL, err);
    sbuf_free(&sql);
    return rc;
}

/* The statements of tb on this session, prepared (in the pipeline) the
 * first time. Names are never reused: a failed preparation leaves no
 * name taken twice. */
static int prepared(struct pg_session *s, const struct table *tb,
                    const struct pg_prepared **out, struct co_err *err)
{
    struct pg_prepared *p = NULL;
    int rc;

    for (int i = 0; i < s->nprep; i++) {
        if (s->prep[i].tb == tb) {
            *out = &s->prep[i];
            return 0;
        }
        if (!s->prep[i].tb)
            p = &s->prep[i];
    }
    if (!p) {
        struct pg_prepared *grown = xrealloc(s->prep, sizeof *s->prep *
                                            (size_t)(s->nprep + 1));
        if (!grown)
            return co_errf(err, CO_ENOMEM, "out of memory");
        s->prep = grown;
        p = &s->prep[s->nprep++];
    }
    memset(p, 0, sizeof *p);
    snprintf(p->upsert, sizeof p->upsert, "cutover_upsert_%d", s->prep_seq);
    snprintf(p->del, sizeof p->del, "cutover_delete_%d", s->prep_seq++);
    p->tb = tb;
    rc = send_prepare(s, p->upsert, pg_upsert_sql, tb, err);
    if (rc == 0)
        rc = send_prepare(s, p->del, pg_delete_sql, tb, err);
    if (rc < 0) {
        p->tb = NULL;
        return rc;
    }
    *out = p;
    return 0;
}

/* Room for n parameters in the session's arrays. */
static int params_reserve(struct pg_session *s, int n, struct co_err *err)
{
    struct pg_params *p = &s->params;
    void *v, *l, *f, *sc;

    if (n <= p->cap)
        return 0;
    v = xrealloc(p->values, sizeof *p->values * (size_t)n);
    if (v)
        p->values = v;
    l = xrealloc(p->lengths, sizeof *p->lengths * (size_t)n);
    if (l)
        p->lengths = l;
    f = xrealloc(p->formats, sizeof *p->formats * (size_t)n);
    if (f)
        p->formats = f;
    sc = xrealloc(p->scratch, sizeof *p->scratch * (size_t)n);
    if (sc) {
        p->scratch = sc;
        for (int i = p->cap; i < n; i++)
            sbuf_init(&p->scratch[i].wide);
    }
    if (!v || !l || !f || !sc)
        return co_errf(err, CO_ENOMEM, "out of memory");
    p->cap = n;
    return 0;
}

/* Send prepared statement `name` with n values of the columns cols[]
 * (NULL: the first n columns) and queue its answer under `key`. */
static int send_prepared(struct pg_session *s, const char *name,
                         enum pending_kind kind, const struct table *tb,
                         const int *cols, const struct value *vals, int n,
                         const struct tuple *key, struct co_err *err)
{
    struct pg_params *p = &s->params;
    size_t len;
    int rc = params_reserve(s, n, err);

    if (rc < 0)
        return rc;
    for (int i = 0; i < n; i++) {
        const struct column *c = &tb->cols[cols ? cols[i] : i];
        rc = pg_value_text(c, &vals[i], &p->scratch[i], &p->values[i], &len,
                           &p->formats[i], err);
        if (rc < 0) {
            co_err_prefix(err, "table %s", tb->name);
            name_key(tb, key, err);
            return rc;
        }
        p->lengths[i] = (int)len;
    }
    if (!PQsendQueryPrepared(s->conn, name, n, p->values, p->lengths,
                             p->formats, 0))
        return pg_error(s, NULL, err, "sending a row of table %s", tb->name);
    return queue(s, kind, tb, key, err);
}

static int send_txn(struct pg_session *s, const char *sql, struct co_err *err)
{
    if (!PQsendQueryParams(s->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
        return pg_error(s, NULL, err, "sending %s", sql);
    return queue(s, PENDING_TXN, NULL, NULL, err);
}

int pg_batch_begin(struct pg_session *s, struct co_err *err)
{
    if (s->in_pipeline)
        return co_errf(err, CO_ESTATE, "target %s: a batch is already open",
                       s->label);
    if (!PQenterPipelineMode(s->conn))
        return pg_error(s, NULL, err, "starting a batch");
    s->in_pipeline = 1;
    s->pipeline_rc = 0;
    return send_txn(s, "BEGIN", err);
}

int pg_batch_put_row(struct pg_session *s, const struct table *tb,
                     const struct value *row, struct co_err *err)
{
    const struct pg_prepared *p;
    struct tuple key = {0};
    int rc = s->pipeline_rc;

    if (rc == 0)
        rc = prepared(s, tb, &p, err);
    if (rc == 0 && table_row_key(tb, row, &key) < 0)
        rc = co_errf(err, CO_ENOMEM, "out of memory");
    if (rc == 0)
        rc = send_prepared(s, p->upsert, PENDING_UPSERT, tb, NULL, row,
                           tb->ncols, &key, err);
    tuple_free(&key);
    return rc < 0 ? (s->pipeline_rc = rc) : maybe_read(s, err);
}

int pg_batch_delete_key(struct pg_session *s, const struct table *tb,
                        const struct tuple *key, struct co_err *err)
{
    const struct pg_prepared *p;
    int rc = s->pipeline_rc;

    if (rc == 0)
        rc = prepared(s, tb, &p, err);
    if (rc == 0)
        rc = send_prepared(s, p->del, PENDING_DELETE, tb, tb->key, key->v,
                           tb->nkey, key, err);
    return rc < 0 ? (s->pipeline_rc = rc) : maybe_read(s, err);
}

/* End the pipeline: sync, read everything, leave pipeline mode. */
static int end_pipeline(struct pg_session *s, struct co_err *err)
{
    PGresult *res;
    int rc;

    if (!PQpipelineSync(s->conn)) {
        rc = pg_error(s, NULL, err, "ending a batch");
        s->in_pipeline = 0;
        return rc;
    }
    rc = read_pending(s, err);
    while ((res = PQgetResult(s->conn))) {
        int sync = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
        PQclear(res);
        if (sync)
            break;
    }
    if (!PQexitPipelineMode(s->conn) && rc == 0)
        rc = pg_error(s, NULL, err, "ending a batch");
    s->in_pipeline = 0;
    s->pipeline_rc = 0;
    return rc;
}

int pg_batch_commit(struct pg_session *s, struct co_err *err)
{
    int rc = s->pipeline_rc, ended;

    if (!s->in_pipeline)
        return co_errf(err, CO_ESTATE, "target %s: no batch to commit",
                       s->label);
    if (rc == 0)
        rc = send_txn(s, "COMMIT", err);
    /* a refusal already in err stays the one reported */
    ended = end_pipeline(s, rc < 0 ? NULL : err);
    if (rc == 0)
        rc = ended;
    if (rc < 0)
        pg_exec(s, "ROLLBACK", NULL, "rolling a batch back");
    return rc;
}

void pg_batch_rollback(struct pg_session *s)
{
    if (s->in_pipeline)
        end_pipeline(s, NULL);
    pg_exec(s, "ROLLBACK", NULL, "rolling a batch back");
}

/*
 * pg_apply.c — the applier's writes: rows upserted with INSERT ... ON
 * CONFLICT (key) DO UPDATE and keys deleted, one transaction per batch.
 * Statements are prepared once per table and session and take their
 * values as parameters (bytea in binary, the rest as text), so no value
 * is ever spliced into SQL. OVERRIDING SYSTEM VALUE lets the source's
 * keys into identity columns, even GENERATED ALWAYS ones a framework
 * made (schema.mode existing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Prepare the statement `build` makes for tb under `name`. */
static int prepare(struct pg_session *s, const char *name, sql_fn build,
                   const struct table *tb, const char *what,
                   struct co_err *err)
{
    struct sbuf sql;
    int rc;

    sbuf_init(&sql);
    build(s, &sql, tb);
    rc = sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                 : pg_check(s, PQprepare(s->conn, name, sbuf_str(&sql), 0,
                                         NULL),
                            PGRES_COMMAND_OK, err, what, tb->name);
    sbuf_free(&sql);
    return rc;
}

/* The statements of tb on this session, prepared the first time. Names
 * are never reused: a half-prepared pair leaves no name taken twice. */
static int prepared(struct pg_session *s, const struct table *tb,
                    const struct pg_prepared **out, struct co_err *err)
{
    struct pg_prepared *p, *grown;
    int rc;

    for (int i = 0; i < s->nprep; i++)
        if (s->prep[i].tb == tb) {
            *out = &s->prep[i];
            return 0;
        }
    grown = realloc(s->prep, sizeof *s->prep * (size_t)(s->nprep + 1));
    if (!grown)
        return co_errf(err, CO_ENOMEM, "out of memory");
    s->prep = grown;
    p = &s->prep[s->nprep];
    memset(p, 0, sizeof *p);
    snprintf(p->upsert, sizeof p->upsert, "cutover_upsert_%d", s->prep_seq);
    snprintf(p->del, sizeof p->del, "cutover_delete_%d", s->prep_seq++);
    rc = prepare(s, p->upsert, pg_upsert_sql, tb,
                 "preparing the upsert of table", err);
    if (rc == 0)
        rc = prepare(s, p->del, pg_delete_sql, tb,
                     "preparing the delete of table", err);
    if (rc < 0)
        return rc;
    p->tb = tb;
    s->nprep++;
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
    v = realloc(p->values, sizeof *p->values * (size_t)n);
    if (v)
        p->values = v;
    l = realloc(p->lengths, sizeof *p->lengths * (size_t)n);
    if (l)
        p->lengths = l;
    f = realloc(p->formats, sizeof *p->formats * (size_t)n);
    if (f)
        p->formats = f;
    sc = realloc(p->scratch, sizeof *p->scratch * (size_t)n);
    if (sc)
        p->scratch = sc;
    if (!v || !l || !f || !sc)
        return co_errf(err, CO_ENOMEM, "out of memory");
    p->cap = n;
    return 0;
}

/* Run prepared statement `name` with n values of the columns cols[]
 * (NULL: the first n columns). */
static int run_prepared(struct pg_session *s, const char *name,
                        const struct table *tb, const int *cols,
                        const struct value *vals, int n, struct co_err *err,
                        const char *what)
{
    struct pg_params *p = &s->params;
    size_t len;
    int rc = params_reserve(s, n, err);

    if (rc < 0)
        return rc;
    for (int i = 0; i < n; i++) {
        const struct column *c = &tb->cols[cols ? cols[i] : i];
        rc = pg_value_text(c, &vals[i], p->scratch[i], &p->values[i], &len,
                           &p->formats[i], err);
        if (rc < 0)
            return co_err_prefix(err, "table %s", tb->name);
        p->lengths[i] = (int)len;
    }
    return pg_check(s, PQexecPrepared(s->conn, name, n, p->values, p->lengths,
                                      p->formats, 0),
                    PGRES_COMMAND_OK, err, what, tb->name);
}

/* "table T, key id=42: " before err's message. */
static int name_key(const struct table *tb, const struct tuple *key,
                    struct co_err *err)
{
    const char **names = table_key_names(tb);
    char shown[300];

    tuple_format(key, names, shown, sizeof shown);
    return co_err_prefix(err, "key %s", shown);
}

int pg_batch_begin(struct pg_session *s, struct co_err *err)
{
    return pg_exec(s, "BEGIN", err, "starting a batch");
}

int pg_batch_put_row(struct pg_session *s, const struct table *tb,
                     const struct value *row, struct co_err *err)
{
    const struct pg_prepared *p;
    struct tuple key = {0};
    int rc = prepared(s, tb, &p, err);

    if (rc < 0)
        return rc;
    rc = run_prepared(s, p->upsert, tb, NULL, row, tb->ncols, err,
                      "writing a row of table");
    if (rc < 0 && table_row_key(tb, row, &key) == 0) {
        name_key(tb, &key, err);
        tuple_free(&key);
    }
    return rc;
}

int pg_batch_delete_key(struct pg_session *s, const struct table *tb,
                        const struct tuple *key, struct co_err *err)
{
    const struct pg_prepared *p;
    int rc = prepared(s, tb, &p, err);

    if (rc < 0)
        return rc;
    rc = run_prepared(s, p->del, tb, tb->key, key->v, tb->nkey, err,
                      "deleting a row of table");
    return rc < 0 ? (name_key(tb, key, err), rc) : 0;
}

int pg_batch_commit(struct pg_session *s, struct co_err *err)
{
    return pg_exec(s, "COMMIT", err, "committing a batch");
}

void pg_batch_rollback(struct pg_session *s)
{
    pg_exec(s, "ROLLBACK", NULL, "rolling a batch back");
}

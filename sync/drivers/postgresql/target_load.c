/*
 * target_load.c — rows into PostgreSQL: a copy chunk through COPY ...
 * FROM STDIN (pg_copy.c) in one transaction, and the applier's batches
 * (pg_apply.c).
 *
 * A chunk replaces rows already there, as load's contract says: after a
 * crash between a chunk's commit and its checkpoint the chunk is copied
 * again over its own rows, and COPY has no REPLACE. The rows of a range
 * at or past the chunk's first key can only be such leftovers or the
 * rows of the next range, which all sort after this chunk. So before the
 * COPY we look up the first key at or past the chunk's first row: rows
 * before it go through COPY; from the first row that reaches it (only
 * after such a crash) the rest of the chunk is upserted, in the same
 * transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/postgresql/target_priv.h"

/* Source order of two key values of the same column: integers by value,
 * text and bytes by their bytes (SQLite's BINARY order). */
static int value_order(const struct value *a, const struct value *b)
{
    size_t n;
    int c;

    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    switch (a->type) {
    case V_NULL:
        return 0;
    case V_INT:
        return a->i < b->i ? -1 : a->i > b->i;
    case V_REAL:
        return a->r < b->r ? -1 : a->r > b->r;
    default:
        n = a->n < b->n ? a->n : b->n;
        c = n ? memcmp(a->p, b->p, n) : 0;
        return c ? c : a->n < b->n ? -1 : a->n > b->n;
    }
}

/* Does row's key come before `key`? */
static int key_before(const struct table *tb, const struct value *row,
                      const struct tuple *key)
{
    for (int k = 0; k < tb->nkey; k++) {
        int c = value_order(&row[tb->key[k]], &key->v[k]);
        if (c)
            return c < 0;
    }
    return 0;
}

/* The first key on the target at or past row's key, into *next (n = 0
 * when there is none). */
static int first_key_from(struct target *t, const struct table *tb,
                          const struct value *row, struct tuple *next,
                          struct co_err *err)
{
    struct tuple key = {0};
    const struct value *found;
    struct pg_cursor *c = NULL;
    int rc;

    next->n = 0;
    if (table_row_key(tb, row, &key) < 0)
        return co_errf(err, CO_ENOMEM, "out of memory");
    rc = pg_fetch(t->s, tb, &key, &found, err);
    if (rc == 1) {
        rc = tuple_copy(next, &key) < 0 ? co_errf(err, CO_ENOMEM,
                                                  "out of memory") : 0;
    } else if (rc == 0) {
        /* strictly after the key: pg_scan's lower bound is open */
        rc = pg_scan(t->s, tb, &key, NULL, 1, &c, err);
        if (rc == 0 && (rc = pg_cursor_next(c, &found, err)) == 1)
            rc = table_row_key(tb, found, next) < 0
                 ? co_errf(err, CO_ENOMEM, "out of memory") : 0;
        if (c)
            pg_cursor_close(c);
    }
    tuple_free(&key);
    return rc < 0 ? rc : 0;
}

/* The row and column PostgreSQL names in a refused COPY's context
 * ("COPY t, line 7, column total: ..."). */
static void refused_where(const struct co_err *err, struct load_result *res)
{
    const char *at = strstr(err->msg, ", line ");
    const char *col;

    if (!at)
        return;
    res->refused = 1;
    res->bad_row = strtol(at + 7, NULL, 10);
    if ((col = strstr(at, ", column ")) != NULL) {
        size_t n = strcspn(col + 9, ":)");
        if (n < sizeof res->bad_column) {
            memcpy(res->bad_column, col + 9, n);
            res->bad_column[n] = '\0';
        }
    }
}

/* Rows that cannot be encoded (text holding a NUL byte) are refused by
 * us, not the server: name the row and column the same way. */
static void unstorable_where(const struct table *tb, const struct value *row,
                             int64_t at, struct load_result *res)
{
    res->refused = 1;
    res->bad_row = (long)at;
    for (int i = 0; i < tb->ncols; i++)
        if ((row[i].type == V_TEXT || row[i].type == V_BLOB) &&
            tb->cols[i].map.lt != LT_BLOB && row[i].n &&
            memchr(row[i].p, '\0', row[i].n)) {
            snprintf(res->bad_column, sizeof res->bad_column, "%s",
                     tb->cols[i].name);
            return;
        }
}

/* The rest of a chunk from `row` on, upserted in the transaction the
 * COPY opened (the batch's BEGIN is then only a warning). */
static int upsert_rest(struct target *t, const struct table *tb,
                       const struct value *row, row_pull_fn pull, void *arg,
                       struct load_result *res, struct co_err *err)
{
    int rc = pg_batch_begin(t->s, err);

    while (rc == 0 && row) {
        if ((rc = pg_batch_put_row(t->s, tb, row, err)) < 0)
            break;
        res->rows++;
        rc = pull(arg, &row, err);
        if (rc == 0)
            row = NULL;
        else if (rc == 1)
            rc = 0;
    }
    if (rc < 0) {
        pg_batch_rollback(t->s);
        return rc;
    }
    return pg_batch_commit(t->s, err);
}

/* The row path (copy.method "insert"): the applier's upserts. */
static int load_rows(struct target *t, const struct table *tb,
                     const struct value *first, row_pull_fn pull, void *arg,
                     struct load_result *res, struct co_err *err)
{
    int rc = pg_exec(t->s, "BEGIN", err, "starting a chunk");

    if (rc < 0)
        return rc;
    rc = upsert_rest(t, tb, first, pull, arg, res, err);
    if (rc < 0)
        res->refused = rc == CO_EDATA;
    return rc;
}

int tpg_load(struct target *t, const struct table *tb, row_pull_fn pull,
             void *arg, enum fast_path fast, struct load_result *res,
             struct co_err *err)
{
    struct tuple next = {0};
    struct pg_copy copy;
    const struct value *row;
    int rc, copying = 0;

    memset(res, 0, sizeof *res);
    if ((rc = pull(arg, &row, err)) <= 0)
        return rc;
    if (fast == FAST_PATH_NEVER)
        return load_rows(t, tb, row, pull, arg, res, err);
    res->used_fast_path = 1;
    if ((rc = first_key_from(t, tb, row, &next, err)) < 0)
        return rc;
    if ((rc = pg_exec(t->s, "BEGIN", err, "starting a chunk")) < 0)
        goto out;
    if ((rc = pg_copy_begin(t->s, tb, &copy, err)) < 0)
        goto fail;
    copying = 1;
    while (row && (next.n == 0 || key_before(tb, row, &next))) {
        if ((rc = pg_copy_put(&copy, row, err)) < 0) {
            unstorable_where(tb, row, copy.rows + 1, res);
            goto fail;
        }
        if ((rc = pull(arg, &row, err)) < 0)
            goto fail;
        if (rc == 0)
            row = NULL;
    }
    copying = 0;
    if ((rc = pg_copy_end(&copy, &res->rows, err)) < 0) {
        refused_where(err, res);
        goto fail;
    }
    res->bytes = 0;
    if (row)      /* the chunk reaches rows a crash left: replace them */
        rc = upsert_rest(t, tb, row, pull, arg, res, err);
    else
        rc = pg_exec(t->s, "COMMIT", err, "committing a chunk");
    goto out;
fail:
    if (copying)
        pg_copy_abort(&copy, "cutover stopped the chunk");
    pg_exec(t->s, "ROLLBACK", NULL, "rolling a chunk back");
out:
    tuple_free(&next);
    return rc;
}

/* One COPY a row, in a transaction rolled back: the first the server
 * refuses is the one a chunk stopped at. */
int tpg_probe_rows(struct target *t, const struct table *tb,
                   row_pull_fn pull, void *arg, struct load_result *res,
                   struct co_err *err)
{
    const struct value *row;
    struct pg_copy copy;
    int rc;

    memset(res, 0, sizeof *res);
    if ((rc = pg_exec(t->s, "BEGIN", err, "probing rows")) < 0)
        return rc;
    while ((rc = pull(arg, &row, err)) == 1) {
        res->rows++;
        if ((rc = pg_copy_begin(t->s, tb, &copy, err)) < 0)
            break;
        if ((rc = pg_copy_put(&copy, row, err)) < 0) {
            pg_copy_abort(&copy, "cutover stopped the probe");
            unstorable_where(tb, row, res->rows, res);
            break;
        }
        if ((rc = pg_copy_end(&copy, NULL, err)) < 0) {
            refused_where(err, res);
            res->bad_row = (long)res->rows;
            res->refused = 1;
            break;
        }
    }
    pg_exec(t->s, "ROLLBACK", NULL, "ending the probe");
    return rc < 0 ? rc : 0;
}

/* ---- the applier's batches --------------------------------------------- */

int tpg_begin(struct target *t, struct co_err *err)
{
    return pg_batch_begin(t->s, err);
}

int tpg_put_row(struct target *t, const struct table *tb,
                const struct value *row, struct co_err *err)
{
    return pg_batch_put_row(t->s, tb, row, err);
}

int tpg_delete_key(struct target *t, const struct table *tb,
                   const struct tuple *key, struct co_err *err)
{
    return pg_batch_delete_key(t->s, tb, key, err);
}

int tpg_commit(struct target *t, struct co_err *err)
{
    return pg_batch_commit(t->s, err);
}

void tpg_rollback(struct target *t)
{
    pg_batch_rollback(t->s);
}

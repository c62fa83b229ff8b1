/*
 * fetch_many.c — the current rows of many keys in one statement, for the
 * applier's re-read of a batch of logged keys: one SELECT per key cost
 * the source a statement (parse, dispatch, a round trip) for every row
 * it changed; one per FETCH_MANY_MAX keys costs it a range read.
 *
 * Each key is matched exactly (my_key_match: bytes, not the column's
 * collation), as tmy_fetch matches one. A returned row answers the key
 * whose values it holds byte for byte; a key no row answers is reported
 * unknown (NULL), and the caller asks tmy_fetch, which tells a gone row
 * from one whose key reads back in another form.
 */
#include "sync/drivers/mysql/mysql_priv.h"

#include <inttypes.h>

#include "lib/xalloc.h"

void tmy_fetch_many_free(struct target *t)
{
    if (t->many_res)
        mysql_free_result(t->many_res);
    t->many_res = NULL;
    free(t->many_rows);
    t->many_rows = NULL;
    t->many_cap = 0;
}

/* The WHERE of the keys: `k IN (1, 2, ...)` for one integer column (the
 * cheapest to parse and plan), else each key's exact match OR'ed. */
static void keys_match(struct target *t, struct sbuf *sql,
                       const struct table *tb, const struct tuple *keys,
                       int n)
{
    int ints = tb->nkey == 1;

    for (int i = 0; ints && i < n; i++)
        ints = keys[i].v[0].type == V_INT;
    if (ints) {
        sbuf_ident(sql, my_colname(tb, tb->key[0]), '`');
        sbuf_adds(sql, " IN (");
        for (int i = 0; i < n; i++)
            sbuf_addf(sql, "%s%" PRId64, i ? ", " : "", keys[i].v[0].i);
        sbuf_addc(sql, ')');
        return;
    }
    for (int i = 0; i < n; i++) {
        if (i)
            sbuf_adds(sql, " OR ");
        my_key_match(t, sql, tb, &keys[i]);
    }
}

/* The key of returned row r as a tuple pointing into the row. */
static void row_key(const struct table *tb, const struct value *row,
                    struct value *vals, struct tuple *out)
{
    for (int k = 0; k < tb->nkey; k++)
        vals[k] = row[tb->key[k]];
    *out = (struct tuple){.n = tb->nkey, .v = vals};
}

int tmy_fetch_many(struct target *t, const struct table *tb,
                   const struct tuple *keys, int n, const struct value **rows,
                   struct co_err *err)
{
    struct sbuf sql;
    MYSQL_ROW r;
    int got = 0;

    if (t->many_res)
        mysql_free_result(t->many_res);
    t->many_res = NULL;
    for (int i = 0; i < n; i++)
        rows[i] = NULL;
    if (n == 0)
        return 0;
    sbuf_init(&sql);
    my_select_head(&sql, tb);
    sbuf_adds(&sql, " WHERE ");
    keys_match(t, &sql, tb, keys, n);
    if (sql.oom || mysql_query(t->my, sbuf_str(&sql)) != 0 ||
        !(t->many_res = mysql_store_result(t->my))) {
        sbuf_free(&sql);
        return sql.oom ? co_errf(err, CO_ENOMEM, "out of memory")
                       : my_error(t, err, "reading rows of %s", tb->name);
    }
    sbuf_free(&sql);
    if (t->many_cap < n * tb->ncols) {
        free(t->many_rows);
        t->many_rows = xcalloc((size_t)(n * tb->ncols), sizeof *t->many_rows);
        t->many_cap = n * tb->ncols;
    }
    /* rows come in key order, keys mostly too: look from the last match */
    for (int from = 0; got < n && (r = mysql_fetch_row(t->many_res));
         got++) {
        struct value *row = t->many_rows + (size_t)got * (size_t)tb->ncols;
        struct value kv[64];
        struct tuple rk;

        my_row_values(t->many_res, r, mysql_fetch_lengths(t->many_res), row,
                      tb->ncols);
        row_key(tb, row, kv, &rk);
        for (int j = 0; j < n; j++) {
            int i = (from + j) % n;
            if (!rows[i] && tuple_equal(&rk, &keys[i])) {
                rows[i] = row;
                from = i + 1;
                break;
            }
        }
    }
    return 0;
}

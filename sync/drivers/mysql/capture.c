/*
 * capture.c — reverse capture and the rollback fence on the target.
 *
 * Before the switch, every target table gets _cutover_rlog_T and AFTER
 * INSERT/UPDATE/DELETE triggers appending the changed key, skipped for our
 * own sessions (@cutover_session is set by every connection we open). A
 * rollback drains these logs back into SQLite. The fence is a BEFORE
 * trigger per operation that raises 'cutover: writes moved back to source'
 * for everyone but us.
 *
 * Each object carries its migration's id (owner.c). A name held by
 * an object that is not ours, or by a trigger of ours on another table
 * (two long table names shortened alike), is an error: cutover never
 * drops or shares what another table or migration relies on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/mysql/mysql_priv.h"
#include "lib/xalloc.h"

#define FENCE_MESSAGE "cutover: writes moved back to source"
#define RLOG_PREFIX "_cutover_rlog_"

static const char *const capture_triggers[] = {
    "_cutover_rai_", "_cutover_rau_", "_cutover_rad_", NULL};
static const char *const fence_triggers[] = {
    "_cutover_rfi_", "_cutover_rfu_", "_cutover_rfd_", NULL};

static int rcapture_table(struct target *t, const struct table *tb,
                          struct co_err *err)
{
    struct sbuf sql;
    int rc;

    if ((rc = my_claim(t, "table", RLOG_PREFIX, tb, err)) < 0)
        return rc;
    sbuf_init(&sql);
    sbuf_adds(&sql, "CREATE TABLE IF NOT EXISTS ");
    my_name_of(t, &sql, RLOG_PREFIX, tb);
    sbuf_adds(&sql, " (seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY");
    for (int k = 0; k < tb->nkey; k++) {
        const struct column *c = &tb->cols[tb->key[k]];
        sbuf_addf(&sql, ", k%d %s", k + 1, c->map.type);
        if (my_type_is_text(c->map.type))
            sbuf_adds(&sql, " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    }
    sbuf_adds(&sql, ", at DOUBLE NOT NULL) ENGINE=InnoDB");
    my_log_comment(t, &sql, "reverse", tb->name);
    if ((rc = my_ddl(t, &sql, err, "creating the reverse log", tb)) < 0)
        goto out;

    rc = my_key_log_triggers(t, tb, RLOG_PREFIX, capture_triggers, err);
out:
    sbuf_free(&sql);
    return rc;
}

int tmy_rcapture_install(struct target *t, const struct schema *sc,
                           struct co_err *err)
{
    for (int i = 0; i < sc->ntables; i++) {
        int rc = rcapture_table(t, &sc->tables[i], err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int tmy_fence_install(struct target *t, const struct schema *sc,
                        struct co_err *err)
{
    int rc = 0;

    for (int i = 0; i < sc->ntables && rc == 0; i++)
        rc = my_fence_triggers(t, &sc->tables[i], fence_triggers,
                               FENCE_MESSAGE, err);
    return rc;
}

static int drop_triggers(struct target *t, const struct schema *sc,
                         const char *const *prefixes, struct co_err *err)
{
    struct sbuf sql;
    int rc = 0;

    sbuf_init(&sql);
    for (int i = 0; i < sc->ntables && rc == 0; i++)
        for (int k = 0; prefixes[k] && rc == 0; k++)
            rc = my_drop_trigger(t, &sql, prefixes[k], &sc->tables[i], err);
    sbuf_free(&sql);
    return rc;
}

int tmy_fence_remove(struct target *t, const struct schema *sc,
                       struct co_err *err)
{
    return drop_triggers(t, sc, fence_triggers, err);
}

int tmy_rcapture_remove(struct target *t, const struct schema *sc,
                          struct co_err *err)
{
    int rc = drop_triggers(t, sc, capture_triggers, err);

    for (int i = 0; i < sc->ntables && rc == 0; i++)
        rc = my_drop_log(t, RLOG_PREFIX, &sc->tables[i], err);
    return rc;
}

/* Every name this driver gives objects on the target, for plan: two
 * objects given one name would share it (a reverse log) or one would be
 * missing (an index, a foreign key). */
int tmy_generated_names(struct target *t, const struct schema *sc,
                        name_fn emit, void *arg)
{
    char name[80], what[160], space[300];

    for (int i = 0; i < sc->ntables; i++) {
        const struct table *tb = &sc->tables[i];
        emit(arg, "tables", tb->name, "the table", tb->name);
        my_capture_name(t, name, sizeof name, RLOG_PREFIX, tb->name);
        emit(arg, "tables", name, "the reverse log", tb->name);
        for (int k = 0; capture_triggers[k]; k++) {
            my_capture_name(t, name, sizeof name, capture_triggers[k],
                            tb->name);
            emit(arg, "triggers", name, "a reverse-capture trigger",
                 tb->name);
            my_capture_name(t, name, sizeof name, fence_triggers[k],
                            tb->name);
            emit(arg, "triggers", name, "a fence trigger", tb->name);
        }
        snprintf(space, sizeof space, "indexes of %s", tb->name);
        for (int k = 0; k < tb->nidx; k++) {
            if (tb->idx[k].unique == 2 || tb->idx[k].expr ||
                tb->idx[k].partial)
                continue;
            my_index_name(name, sizeof name, tb, k, NAME_HASH_BYTES);
            snprintf(what, sizeof what, "index %s", tb->idx[k].name);
            emit(arg, space, name, what, tb->name);
        }
        for (int k = 0; k < tb->nfk; k++) {
            my_fk_name(name, sizeof name, tb, k, NAME_HASH_BYTES);
            snprintf(what, sizeof what, "foreign key %d", k + 1);
            emit(arg, "constraints", name, what, tb->name);
        }
    }
    return 0;
}

int tmy_rlog_read(struct target *t, const struct table *tb,
                    int64_t after_seq, int64_t limit, struct rlog_batch *out,
                    struct co_err *err)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;
    int cap = 0;

    memset(out, 0, sizeof *out);
    out->last_seq = after_seq;
    sbuf_init(&sql);
    sbuf_addf(&sql, "SELECT MAX(seq) FROM (SELECT seq FROM ");
    my_name_of(t, &sql, RLOG_PREFIX, tb);
    sbuf_addf(&sql, " WHERE seq > %lld ORDER BY seq LIMIT %lld) x",
              (long long)after_seq, (long long)limit);
    if (mysql_query(t->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(t->my))) {
        sbuf_free(&sql);
        return my_error(t, err, "reading the reverse log of %s", tb->name);
    }
    r = mysql_fetch_row(res);
    if (r && r[0])
        out->last_seq = strtoll(r[0], NULL, 10);
    mysql_free_result(res);
    if (out->last_seq == after_seq) {
        sbuf_free(&sql);
        return 0;
    }
    sbuf_reset(&sql);
    sbuf_adds(&sql, "SELECT DISTINCT ");
    for (int k = 0; k < tb->nkey; k++)
        sbuf_addf(&sql, "%sk%d", k ? ", " : "", k + 1);
    sbuf_adds(&sql, " FROM ");
    my_name_of(t, &sql, RLOG_PREFIX, tb);
    sbuf_addf(&sql, " WHERE seq > %lld AND seq <= %lld", (long long)after_seq,
              (long long)out->last_seq);
    if (mysql_query(t->my, sbuf_str(&sql)) != 0 ||
        !(res = mysql_store_result(t->my))) {
        sbuf_free(&sql);
        return my_error(t, err, "reading the reverse log of %s", tb->name);
    }
    sbuf_free(&sql);
    while ((r = mysql_fetch_row(res))) {
        struct value vals[64];
        if (out->nkeys == cap) {
            cap = cap ? cap * 2 : 256;
            out->keys = xrealloc(out->keys, sizeof *out->keys * (size_t)cap);
        }
        my_row_values(res, r, mysql_fetch_lengths(res), vals, tb->nkey);
        memset(&out->keys[out->nkeys], 0, sizeof out->keys[0]);
        tuple_set(&out->keys[out->nkeys++], vals, tb->nkey);
    }
    mysql_free_result(res);
    return 0;
}

void tmy_rlog_batch_free(struct rlog_batch *b)
{
    for (int i = 0; i < b->nkeys; i++)
        tuple_free(&b->keys[i]);
    free(b->keys);
    memset(b, 0, sizeof *b);
}

/*
 * inspect.c — questions pre-validation asks the target: which unique
 * values would collide under the target's collation (case, accents,
 * PAD SPACE). The target itself decides, by loading the values into a
 * temporary table with the real column types and collation and grouping
 * them: no emulation of collation rules can drift from the server's. A
 * temporary table lives in the session only: plan leaves nothing behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runbook.h"
#include "sync/drivers/mysql/mysql_priv.h"

int tmy_find_collisions(struct target *t, const struct runbook *rb,
                        const struct table *cols, const int *prefixes,
                        row_pull_fn pull, void *arg, int max_groups,
                        json_t **groups, struct co_err *err)
{
    struct sbuf sql;
    struct load_result res;
    MYSQL_RES *r;
    MYSQL_ROW row;
    int nvals = cols->ncols - 1, rc;

    *groups = json_array();
    sbuf_init(&sql);
    sbuf_adds(&sql, "CREATE TEMPORARY TABLE ");
    my_table_name(t, &sql, cols->name);
    sbuf_adds(&sql, " (");
    for (int i = 0; i < cols->ncols; i++) {
        const struct column *c = &cols->cols[i];
        if (i)
            sbuf_adds(&sql, ", ");
        sbuf_ident(&sql, c->name, '`');
        /* the last column, the source key's text, is ours to type */
        sbuf_addf(&sql, " %s", i < nvals ? c->map.type : "LONGTEXT");
        my_collate_clause(&sql, c, i < nvals ? rb->schema.collation
                                             : "utf8mb4_bin");
    }
    sbuf_adds(&sql, ") ENGINE=InnoDB");
    rc = my_exec(t, sbuf_str(&sql), err, "creating a scratch table");
    if (rc < 0)
        goto out;
    rc = tmy_load(t, cols, pull, arg, FAST_PATH_IF_ALLOWED, &res, err);
    if (rc < 0)
        goto drop;
    sbuf_reset(&sql);
    sbuf_adds(&sql, "SELECT JSON_ARRAY(");
    for (int i = 0; i < nvals; i++) {
        if (i)
            sbuf_adds(&sql, ", ");
        sbuf_adds(&sql, "MIN(");
        sbuf_ident(&sql, cols->cols[i].name, '`');
        sbuf_adds(&sql, ")");
    }
    sbuf_adds(&sql, "), CONCAT('[', GROUP_CONCAT(");
    sbuf_ident(&sql, cols->cols[nvals].name, '`');
    sbuf_adds(&sql, " SEPARATOR ','), ']') FROM ");
    my_table_name(t, &sql, cols->name);
    /* Grouped the way the index compares: on the prefix it will have. */
    sbuf_adds(&sql, " GROUP BY ");
    for (int i = 0; i < nvals; i++) {
        int prefix = prefixes ? prefixes[i]
                              : my_index_prefix(&cols->cols[i], nvals);
        if (i)
            sbuf_adds(&sql, ", ");
        if (prefix)
            sbuf_adds(&sql, "LEFT(");
        sbuf_ident(&sql, cols->cols[i].name, '`');
        if (prefix)
            sbuf_addf(&sql, ", %d)", prefix);
    }
    sbuf_addf(&sql, " HAVING COUNT(*) > 1 LIMIT %d", max_groups);
    if (mysql_query(t->my, "SET SESSION group_concat_max_len = 65536") != 0 ||
        mysql_query(t->my, sbuf_str(&sql)) != 0 ||
        !(r = mysql_store_result(t->my))) {
        rc = my_error(t, err, "grouping values under %s",
                      rb->schema.collation);
        goto drop;
    }
    while ((row = mysql_fetch_row(r))) {
        json_t *vals = row[0] ? json_loads(row[0], 0, NULL) : NULL;
        json_t *keys = row[1] ? json_loads(row[1], 0, NULL) : NULL;
        json_array_append_new(*groups, json_pack("{so so}", "values",
                                                 vals ? vals : json_null(),
                                                 "keys",
                                                 keys ? keys : json_null()));
    }
    mysql_free_result(r);
drop:
    sbuf_reset(&sql);
    sbuf_adds(&sql, "DROP TEMPORARY TABLE IF EXISTS ");
    my_table_name(t, &sql, cols->name);
    mysql_query(t->my, sbuf_str(&sql));
out:
    sbuf_free(&sql);
    return rc;
}

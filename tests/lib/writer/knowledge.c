/*
 * knowledge.c — what the writer knows of the data, so that its operations
 * find rows to act on: scanned from the database at startup, then kept up to
 * date by its own commits (learn), which also catch an order id handed out
 * twice. Existing ids are asked of the database instead (ops.c pick_id).
 */
#include <stdio.h>
#include <string.h>

#include "tests/lib/writer/writer.h"

/* Returns 1 when id was there already. */
static int ids_insert(struct writer *w, long long id)
{
    size_t lo = 0, hi = w->ninserted;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (w->inserted_ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < w->ninserted && w->inserted_ids[lo] == id)
        return 1;
    w->inserted_ids = grow(w->inserted_ids, &w->inserted_cap, w->ninserted + 1,
                           sizeof *w->inserted_ids);
    memmove(&w->inserted_ids[lo + 1], &w->inserted_ids[lo],
            (w->ninserted - lo) * sizeof *w->inserted_ids);
    w->inserted_ids[lo] = id;
    w->ninserted++;
    return 0;
}

static void sessions_add(struct writer *w, const char *key)
{
    w->sessions = grow(w->sessions, &w->sessions_cap, w->nsessions + 1,
                       sizeof *w->sessions);
    if (!(w->sessions[w->nsessions++] = strdup(key)))
        die("out of memory");
}

static void sessions_remove(struct writer *w, const char *key)
{
    for (size_t i = 0; i < w->nsessions; i++)
        if (strcmp(w->sessions[i], key) == 0) {
            free(w->sessions[i]);
            w->sessions[i] = w->sessions[--w->nsessions];
            return;
        }
}

/* ---- startup: what the database holds ------------------------------------ */

static int take_pool_user(void *ctx, const struct cell *cells, int ncells)
{
    struct writer *w = ctx;
    char name[256];

    (void)ncells;
    w->pool[w->npool].id = cell_int(&cells[0]);
    if (!(w->pool[w->npool].username = strdup(cell_cstr(&cells[1], name,
                                                        sizeof name))))
        die("out of memory");
    return ++w->npool == COUNT(w->pool);
}

static int take_session(void *ctx, const struct cell *cells, int ncells)
{
    struct writer *w = ctx;
    char key[SESSION_KEY_LEN + 2];

    (void)ncells;
    if (cells[0].type == C_BYTES && cells[0].n <= SESSION_KEY_LEN)
        sessions_add(w, cell_cstr(&cells[0], key, sizeof key));
    return 0;
}

enum db_status load_knowledge(struct writer *w)
{
    struct db *db = &w->db;
    enum db_status st;
    int n;

    st = db_query_ints(db, "SELECT MAX(id) FROM shop_order", NULL, 0,
                       &w->max_order_id, 1, &n);
    w->order_id_floor = w->max_order_id;
    if (st == DB_OK)
        st = db_query_ints(db, "SELECT MAX(id) FROM shop_product", NULL, 0,
                           &w->max_product_id, 1, &n);
    if (st == DB_OK)
        st = db_query_ints(db,
                           "SELECT DISTINCT user_id FROM shop_order "
                           "ORDER BY user_id LIMIT 1000",
                           NULL, 0, w->customers, COUNT(w->customers),
                           &w->ncustomers);
    if (st == DB_OK)
        st = db->drv->run(db,
                          "SELECT id, username FROM auth_user WHERE NOT EXISTS "
                          "(SELECT 1 FROM shop_order o WHERE o.user_id = "
                          "auth_user.id) ORDER BY id LIMIT 100",
                          NULL, 0, take_pool_user, w);
    if (st == DB_OK)
        st = db->drv->run(db,
                          "SELECT session_key FROM django_session "
                          "ORDER BY session_key LIMIT 5000",
                          NULL, 0, take_session, w);
    return st;
}

/* ---- commits: what the writer itself changed ----------------------------- */

/* What our knowledge of the data learns from a commit. */
void learn(struct writer *w, const struct txn *x)
{
    if (x->new_order_id) {
        /* AUTOINCREMENT and AUTO_INCREMENT never go back; a cutover that
         * does not carry the counter over hands out deleted ids again. */
        if (x->new_order_id <= w->order_id_floor ||
            ids_insert(w, x->new_order_id)) {
            w->stats.reused_ids++;
            say("order id %lld handed out again", x->new_order_id);
        }
        if (x->new_order_id > w->max_order_id)
            w->max_order_id = x->new_order_id;
    }
    if (x->removed_session[0])
        sessions_remove(w, x->removed_session);
    if (x->added_session[0])
        sessions_add(w, x->added_session);
    if (x->replaced_slot >= 0)
        w->pool[x->replaced_slot].id = x->replacement_id;
}

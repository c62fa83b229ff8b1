/*
 * ops.c — the operations a Django shop performs, drawn by weight from OPS:
 * orders with their items, products, sessions, and the hazards change
 * capture must get right (primary key changes, REPLACE through a secondary
 * unique index).
 *
 * Each operation writes one transaction's worth and touch()es every row it
 * changed, created or removed: those rows are read back and recorded once
 * the transaction commits (follow.c). Touching nothing means nothing to act
 * on (an empty table): the transaction is rolled back and not counted.
 */
#include <stdio.h>
#include <string.h>

#include "tests/lib/writer/writer.h"

static const char *const STATUSES[] = {"new", "paid", "shipped", "delivered",
                                       "cancelled"};

void txn_reset(struct txn *x)
{
    for (int i = 0; i < x->ntouched; i++) {
        json_decref(x->touched[i].key);
        json_decref(x->touched[i].row);
    }
    memset(x, 0, sizeof *x);
    x->replaced_slot = -1;
}

/* Takes the reference to key. */
static void touch(struct txn *x, const struct table *t, json_t *key)
{
    if (x->ntouched == MAX_TOUCHED)
        die("more than %d rows in one transaction", MAX_TOUCHED);
    x->touched[x->ntouched++] = (struct touch){t, key, NULL};
}

static json_t *key_int(long long id) { return json_pack("[I]", (json_int_t)id); }

static json_t *key_pair(long long a, long long b)
{
    return json_pack("[II]", (json_int_t)a, (json_int_t)b);
}

static json_t *key_text(const char *s) { return json_pack("[s]", s); }

/* ---- picking existing rows ----------------------------------------------- */

#define SEEK_ORDER "SELECT id FROM shop_order WHERE id >= ? ORDER BY id LIMIT 1"
#define SEEK_PRODUCT \
    "SELECT id FROM shop_product WHERE id >= ? ORDER BY id LIMIT 1"
#define SEEK_ORDER_WITH_ITEMS \
    "SELECT order_id FROM shop_orderitem WHERE order_id >= ? " \
    "ORDER BY order_id LIMIT 1"

/* A random existing id: the first at or after a random point in 1..max,
 * wrapping to the start. Sets 0 when the table is empty. Asking the database
 * rather than remembering keeps it right whoever else deletes rows. */
static enum db_status pick_id(struct writer *w, const char *seek_sql,
                              long long max, long long *id)
{
    enum db_status st;
    int n;

    st = db_query_ints(&w->db, seek_sql, &PINT(1 + rng_below(w, max)), 1, id,
                       1, &n);
    if (st == DB_OK && n == 0)
        st = db_query_ints(&w->db, seek_sql, &PINT(0), 1, id, 1, &n);
    if (n == 0)
        *id = 0;
    return st;
}

static int contains(const long long *v, int n, long long x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

/* An existing product not in taken, or 0 if a few tries find none. */
static enum db_status pick_other_product(struct writer *w,
                                         const long long *taken, int ntaken,
                                         long long *id)
{
    enum db_status st = DB_OK;

    for (int tries = 0; tries < 8 && st == DB_OK; tries++) {
        st = pick_id(w, SEEK_PRODUCT, w->max_product_id, id);
        if (*id == 0 || !contains(taken, ntaken, *id))
            return st;
    }
    *id = 0;
    return st;
}

static enum db_status order_products(struct writer *w, long long order_id,
                                     long long *product_ids, int *n)
{
    return db_query_ints(&w->db,
                         "SELECT product_id FROM shop_orderitem "
                         "WHERE order_id = ? ORDER BY product_id",
                         &PINT(order_id), 1, product_ids, MAX_ITEMS, n);
}

/* ---- the operations ------------------------------------------------------ */

static enum db_status add_items(struct writer *w, struct txn *x,
                                long long order_id, int want)
{
    long long chosen[3], product;
    char price[32];
    enum db_status st;

    for (int n = 0; n < want && n < COUNT(chosen); n++) {
        st = pick_other_product(w, chosen, n, &product);
        if (st != DB_OK || product == 0)
            return st;
        make_decimal(w, price, sizeof price, 99999);
        st = db_exec(&w->db,
                     "INSERT INTO shop_orderitem (order_id, product_id, "
                     "quantity, unit_price) VALUES (?, ?, ?, ?)",
                     (struct param[]){PINT(order_id), PINT(product),
                                      PINT(1 + rng_below(w, 5)), PTEXT(price)},
                     4);
        if (st != DB_OK)
            return st;
        chosen[n] = product;
        touch(x, &schema_items, key_pair(order_id, product));
    }
    return DB_OK;
}

static enum db_status op_insert_order(struct writer *w, struct txn *x)
{
    char total[32], now[32], note[256];
    enum db_status st;

    if (w->ncustomers == 0)
        return DB_OK;
    make_decimal(w, total, sizeof total, 200000);
    make_datetime(now, sizeof now, 0);
    make_text(w, note, sizeof note);
    st = db_exec(&w->db,
                 "INSERT INTO shop_order (user_id, status, total, is_paid, "
                 "note, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (struct param[]){PINT(w->customers[rng_below(w, w->ncustomers)]),
                                  PTEXT(rng_pick(w, STATUSES)), PTEXT(total),
                                  PINT(rng_below(w, 2)),
                                  rng_below(w, 3) ? PNULL : PTEXT(note),
                                  PTEXT(now), PTEXT(now)},
                 7);
    if (st == DB_OK)
        st = w->db.drv->last_insert_id(&w->db, &schema_orders,
                                       &x->new_order_id);
    if (st != DB_OK)
        return st;
    touch(x, &schema_orders, key_int(x->new_order_id));
    return add_items(w, x, x->new_order_id, 1 + (int)rng_below(w, 3));
}

static enum db_status op_update_order(struct writer *w, struct txn *x)
{
    char total[32], now[32];
    long long id;
    enum db_status st = pick_id(w, SEEK_ORDER, w->max_order_id, &id);

    if (st != DB_OK || id == 0)
        return st;
    make_decimal(w, total, sizeof total, 200000);
    make_datetime(now, sizeof now, 0);
    st = db_exec(&w->db,
                 "UPDATE shop_order SET status = ?, total = ?, is_paid = ?, "
                 "updated_at = ? WHERE id = ?",
                 (struct param[]){PTEXT(rng_pick(w, STATUSES)), PTEXT(total),
                                  PINT(rng_below(w, 2)), PTEXT(now), PINT(id)},
                 5);
    if (st == DB_OK)
        touch(x, &schema_orders, key_int(id));
    return st;
}

static enum db_status op_delete_order(struct writer *w, struct txn *x)
{
    long long id, product_ids[MAX_ITEMS];
    int n;
    enum db_status st = pick_id(w, SEEK_ORDER, w->max_order_id, &id);

    if (st != DB_OK || id == 0)
        return st;
    if ((st = order_products(w, id, product_ids, &n)) != DB_OK)
        return st;
    /* items first: they reference the order */
    st = db_exec(&w->db, "DELETE FROM shop_orderitem WHERE order_id = ?",
                 &PINT(id), 1);
    if (st == DB_OK)
        st = db_exec(&w->db, "DELETE FROM shop_order WHERE id = ?", &PINT(id), 1);
    if (st != DB_OK)
        return st;
    touch(x, &schema_orders, key_int(id));
    for (int i = 0; i < n; i++)
        touch(x, &schema_items, key_pair(id, product_ids[i]));
    return DB_OK;
}

static enum db_status op_update_product(struct writer *w, struct txn *x)
{
    char price[32];
    long long id;
    enum db_status st = pick_id(w, SEEK_PRODUCT, w->max_product_id, &id);

    if (st != DB_OK || id == 0)
        return st;
    make_decimal(w, price, sizeof price, 99999);
    st = db_exec(&w->db, "UPDATE shop_product SET price = ?, stock = ? WHERE id = ?",
                 (struct param[]){PTEXT(price), PINT(rng_below(w, 500)), PINT(id)},
                 3);
    if (st == DB_OK)
        touch(x, &schema_products, key_int(id));
    return st;
}

/* What Django stores in a session: some data, an expiry two weeks ahead. */
static void make_session(struct writer *w, char *data, size_t data_size,
                         char *expire, size_t expire_size)
{
    char text[200];

    make_text(w, text, sizeof text);
    snprintf(data, data_size, "e30:%s", text);
    make_datetime(expire, expire_size, 14);
}

static enum db_status op_insert_session(struct writer *w, struct txn *x)
{
    char key[SESSION_KEY_LEN + 1], data[256], expire[32];
    enum db_status st;

    make_session_key(w, key);
    make_session(w, data, sizeof data, expire, sizeof expire);
    st = db_exec(&w->db,
                 "INSERT INTO django_session (session_key, session_data, "
                 "expire_date) VALUES (?, ?, ?)",
                 (struct param[]){PTEXT(key), PTEXT(data), PTEXT(expire)}, 3);
    if (st != DB_OK)
        return st;
    strcpy(x->added_session, key);
    touch(x, &schema_sessions, key_text(key));
    return DB_OK;
}

/* A session key we know, or NULL. */
static const char *some_session(struct writer *w)
{
    return w->nsessions
               ? w->sessions[rng_below(w, (long long)w->nsessions)]
               : NULL;
}

static enum db_status op_update_session(struct writer *w, struct txn *x)
{
    char data[256], expire[32];
    const char *key = some_session(w);
    enum db_status st;

    if (!key)
        return DB_OK;
    make_session(w, data, sizeof data, expire, sizeof expire);
    st = db_exec(&w->db,
                 "UPDATE django_session SET session_data = ?, expire_date = ? "
                 "WHERE session_key = ?",
                 (struct param[]){PTEXT(data), PTEXT(expire), PTEXT(key)}, 3);
    if (st == DB_OK)
        touch(x, &schema_sessions, key_text(key));
    return st;
}

static enum db_status op_delete_session(struct writer *w, struct txn *x)
{
    const char *key = some_session(w);
    enum db_status st;

    if (!key)
        return DB_OK;
    st = db_exec(&w->db, "DELETE FROM django_session WHERE session_key = ?",
                 &PTEXT(key), 1);
    if (st != DB_OK)
        return st;
    snprintf(x->removed_session, sizeof x->removed_session, "%s", key);
    touch(x, &schema_sessions, key_text(key));
    return DB_OK;
}

/* A primary key change on a text key: capture must log old and new key. */
static enum db_status op_change_session_key(struct writer *w, struct txn *x)
{
    char new_key[SESSION_KEY_LEN + 1];
    const char *old_key = some_session(w);
    enum db_status st;

    if (!old_key)
        return DB_OK;
    make_session_key(w, new_key);
    st = db_exec(&w->db,
                 "UPDATE django_session SET session_key = ? WHERE session_key = ?",
                 (struct param[]){PTEXT(new_key), PTEXT(old_key)}, 2);
    if (st != DB_OK)
        return st;
    snprintf(x->removed_session, sizeof x->removed_session, "%s", old_key);
    strcpy(x->added_session, new_key);
    touch(x, &schema_sessions, key_text(old_key));
    touch(x, &schema_sessions, key_text(new_key));
    return DB_OK;
}

/* A primary key change on a composite key. */
static enum db_status op_change_item_key(struct writer *w, struct txn *x)
{
    long long order_id, product_ids[MAX_ITEMS], old_product, new_product;
    int n;
    enum db_status st;

    st = pick_id(w, SEEK_ORDER_WITH_ITEMS, w->max_order_id, &order_id);
    if (st != DB_OK || order_id == 0)
        return st;
    st = order_products(w, order_id, product_ids, &n);
    if (st != DB_OK || n == 0)
        return st;
    old_product = product_ids[rng_below(w, n)];
    st = pick_other_product(w, product_ids, n, &new_product);
    if (st != DB_OK || new_product == 0)
        return st;
    st = db_exec(&w->db,
                 "UPDATE shop_orderitem SET product_id = ? "
                 "WHERE order_id = ? AND product_id = ?",
                 (struct param[]){PINT(new_product), PINT(order_id),
                                  PINT(old_product)},
                 3);
    if (st != DB_OK)
        return st;
    touch(x, &schema_items, key_pair(order_id, old_product));
    touch(x, &schema_items, key_pair(order_id, new_product));
    return DB_OK;
}

/* A new user taking the username of an existing one: the REPLACE deletes
 * that other row through the secondary UNIQUE index, which fires no DELETE
 * trigger on SQLite (DESIGN §5, change capture hazards). A backend without
 * REPLACE gets what MySQL's does: the DELETE, then the INSERT. */
static enum db_status op_replace_user(struct writer *w, struct txn *x)
{
    const char *verb = w->db.drv->replace_verb;
    char sql[256], name[128], now[32];
    enum db_status st = DB_OK;
    int slot;

    if (w->npool == 0)
        return DB_OK;
    slot = (int)rng_below(w, w->npool);
    if (!verb)
        st = db_exec(&w->db, "DELETE FROM auth_user WHERE username = ?",
                     &PTEXT(w->pool[slot].username), 1);
    if (st != DB_OK)
        return st;
    snprintf(sql, sizeof sql,
             "%s INTO auth_user (username, email, first_name, is_staff, "
             "is_active, date_joined, last_login) VALUES (?, ?, ?, ?, ?, ?, ?)",
             verb ? verb : "INSERT");
    make_name(w, name, sizeof name);
    make_datetime(now, sizeof now, 0);
    st = db_exec(&w->db, sql,
                 (struct param[]){PTEXT(w->pool[slot].username),
                                  PTEXT("replaced@example.gr"), PTEXT(name),
                                  PINT(0), PINT(1), PTEXT(now),
                                  rng_below(w, 2) ? PNULL : PTEXT(now)},
                 7);
    if (st == DB_OK)
        st = w->db.drv->last_insert_id(&w->db, &schema_users,
                                       &x->replacement_id);
    if (st != DB_OK)
        return st;
    x->replaced_slot = slot;
    touch(x, &schema_users, key_int(x->replacement_id));
    touch(x, &schema_users, key_int(w->pool[slot].id));
    return DB_OK;
}

static const struct op OPS[] = {
    {"insert_order", 30, op_insert_order},
    {"update_order", 20, op_update_order},
    {"delete_order", 5, op_delete_order},
    {"update_product", 10, op_update_product},
    {"insert_session", 8, op_insert_session},
    {"update_session", 8, op_update_session},
    {"delete_session", 4, op_delete_session},
    {"change_item_key", 5, op_change_item_key},
    {"change_session_key", 5, op_change_session_key},
    {"replace_user", 5, op_replace_user},
};

const struct op *choose_op(struct writer *w)
{
    int total = 0, r;

    for (int i = 0; i < COUNT(OPS); i++)
        total += OPS[i].weight;
    r = (int)rng_below(w, total);
    for (int i = 0; i < COUNT(OPS); i++)
        if ((r -= OPS[i].weight) < 0)
            return &OPS[i];
    return &OPS[0];
}

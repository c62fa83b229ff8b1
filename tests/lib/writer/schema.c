/*
 * schema.c — the five tables of the shop (tests/lib/fixtures.py `shop`) as
 * the writer sees them: the columns it records, the kind that decides how
 * each normalizes, and the SELECT that reads one row by its key.
 */
#include <string.h>

#include "lib/sbuf.h"
#include "tests/lib/writer/writer.h"

struct table schema_users = {"auth_user", 1, 8,
    {{"id", K_INT}, {"username", K_TEXT}, {"email", K_TEXT},
     {"first_name", K_TEXT}, {"is_staff", K_BOOL}, {"is_active", K_BOOL},
     {"date_joined", K_TIME}, {"last_login", K_TIME}}, NULL};
struct table schema_products = {"shop_product", 1, 8,
    {{"id", K_INT}, {"sku", K_TEXT}, {"name", K_TEXT},
     {"description", K_TEXT}, {"price", K_DEC}, {"stock", K_INT},
     {"image", K_BLOB}, {"created_at", K_TIME}}, NULL};
struct table schema_orders = {"shop_order", 1, 8,
    {{"id", K_INT}, {"user_id", K_INT}, {"status", K_TEXT},
     {"total", K_DEC}, {"is_paid", K_BOOL}, {"note", K_TEXT},
     {"created_at", K_TIME}, {"updated_at", K_TIME}}, NULL};
struct table schema_items = {"shop_orderitem", 2, 4,
    {{"order_id", K_INT}, {"product_id", K_INT}, {"quantity", K_INT},
     {"unit_price", K_DEC}}, NULL};
struct table schema_sessions = {"django_session", 1, 3,
    {{"session_key", K_TEXT}, {"session_data", K_TEXT},
     {"expire_date", K_TIME}}, NULL};

static struct table *const TABLES[] = {&schema_users, &schema_products,
                                       &schema_orders, &schema_items,
                                       &schema_sessions};

void tables_init(void)
{
    for (int i = 0; i < COUNT(TABLES); i++) {
        struct table *t = TABLES[i];
        struct sbuf sql;

        sbuf_init(&sql);
        sbuf_adds(&sql, "SELECT ");
        for (int c = 0; c < t->ncols; c++)
            sbuf_addf(&sql, "%s%s", c ? ", " : "", t->cols[c].name);
        sbuf_addf(&sql, " FROM %s WHERE ", t->name);
        for (int k = 0; k < t->nkey; k++)
            sbuf_addf(&sql, "%s%s = ?", k ? " AND " : "", t->cols[k].name);
        if (sql.oom)
            die("out of memory");
        t->select_sql = sql.p;
    }
}

void tables_free(void)
{
    for (int i = 0; i < COUNT(TABLES); i++) {
        free(TABLES[i]->select_sql);
        TABLES[i]->select_sql = NULL;
    }
}

const struct table *table_by_name(const char *name)
{
    for (int i = 0; name && i < COUNT(TABLES); i++)
        if (strcmp(TABLES[i]->name, name) == 0)
            return TABLES[i];
    return NULL;
}

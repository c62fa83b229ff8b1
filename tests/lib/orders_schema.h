/*
 * orders_schema.h — the one-table schema the model tests and the
 * checkpoint fuzzer load checkpoints against: "orders"(id BIGINT key,
 * <second> DECIMAL(12,2)), keyed by id. Without with_map the type
 * decisions are blank, as the source driver leaves them before typemap
 * runs (a checkpoint must bring them back). Header-only: both the cmocka
 * tests and the libFuzzer harness include it.
 */
#ifndef CO_TESTS_ORDERS_SCHEMA_H
#define CO_TESTS_ORDERS_SCHEMA_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/schema.h"

static inline void orders_column(struct column *c, const char *name, int pk,
                                 int with_map, enum ltype lt,
                                 const char *type, int precision, int scale)
{
    c->name = strdup(name);
    c->decl = strdup(type);
    c->coll = strdup("BINARY");
    c->pk = pk;
    c->notnull = pk > 0;
    if (with_map) {
        c->map.lt = lt;
        snprintf(c->map.type, sizeof c->map.type, "%s", type);
        c->map.precision = precision;
        c->map.scale = scale;
        c->map.dt = DT_TEXT;
        c->map.autoinc = pk > 0;
    }
}

static inline struct schema orders_schema(const char *second, int with_map)
{
    struct schema sc = {0};
    struct table *t;

    sc.ntables = 1;
    sc.tables = calloc(1, sizeof *sc.tables);
    t = &sc.tables[0];
    t->name = strdup("orders");
    t->sql = strdup("CREATE TABLE orders(id INTEGER PRIMARY KEY, total "
                    "NUMERIC)");
    t->ncols = 2;
    t->cols = calloc(2, sizeof *t->cols);
    orders_column(&t->cols[0], "id", 1, with_map, LT_INT, "BIGINT", 0, 0);
    orders_column(&t->cols[1], second, 0, with_map, LT_DECIMAL,
                  "DECIMAL(12,2)", 12, 2);
    t->nkey = 1;
    t->key = calloc(1, sizeof *t->key);
    t->key[0] = 0;
    t->int_key = 1;
    return sc;
}

#endif

/*
 * pg_apply_rate.c — how fast the PostgreSQL driver's applier batches
 * write: upserts of ROWS rows (default 200,000) of a 4-column table in
 * batches of BATCH (default 1,000), then the same keys again (updates),
 * then deletes of every key, each timed; prints keys/s for each phase.
 * Until the driver is wired into `cutover run` (and bench-sync), this is
 * the applier's figure. Runs against the server tests/lib/with_postgresql.sh
 * starts:
 *
 *   tests/lib/with_postgresql.sh bin/pg_apply_rate [ROWS [BATCH]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/events.h"
#include "sync/drivers/postgresql/pg.h"

static const char *env(const char *name)
{
    const char *v = getenv(name);

    if (!v) {
        fprintf(stderr, "pg_apply_rate: %s is not set: run it through "
                "tests/lib/with_postgresql.sh\n", name);
        exit(2);
    }
    return v;
}

/* Upsert (phase 0 and 1) or delete (phase 2) every key; keys/s. */
static double phase(struct pg_session *s, const struct table *tb, int phase,
                    int rows, int batch)
{
    struct co_err err = {0};
    double start = mono_s();

    for (int i = 0; i < rows; i += batch) {
        if (pg_batch_begin(s, &err) < 0)
            goto fail;
        for (int k = i; k < i + batch && k < rows; k++) {
            struct value v[4] = {{V_INT, k, 0, NULL, 0},
                                 {V_TEXT, 0, 0,
                                  (const unsigned char *)"Αθήνα, οδός 12", 23},
                                 {V_INT, (int64_t)k * 7 + phase, 0, NULL, 0},
                                 {V_TEXT, 0, 0,
                                  (const unsigned char *)"1234.50", 7}};
            struct tuple key = {1, v};
            int rc = phase < 2 ? pg_batch_put_row(s, tb, v, &err)
                               : pg_batch_delete_key(s, tb, &key, &err);
            if (rc < 0)
                goto fail;
        }
        if (pg_batch_commit(s, &err) < 0)
            goto fail;
    }
    return rows / (mono_s() - start);
fail:
    fprintf(stderr, "pg_apply_rate: %s\n", err.msg);
    exit(1);
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"id", "address", "user_id", "total"};
    static const enum ltype lts[] = {LT_INT, LT_TEXT, LT_INT, LT_DECIMAL};
    int rows = argc > 1 ? atoi(argv[1]) : 200000;
    int batch = argc > 2 ? atoi(argv[2]) : 1000;
    struct pg_options o = {0};
    struct column cols[4];
    int key[1] = {0};
    struct table tb = {0};
    struct pg_session *s;
    struct co_err err = {0};
    double rate[3];

    memset(cols, 0, sizeof cols);
    for (int i = 0; i < 4; i++) {
        cols[i].name = (char *)names[i];
        cols[i].map.lt = lts[i];
    }
    cols[0].pk = 1;
    tb.name = "apply_rate";
    tb.ncols = 4;
    tb.cols = cols;
    tb.nkey = 1;
    tb.key = key;
    o.host = env("CUTOVER_TEST_PG_HOST");
    o.port = atoi(env("CUTOVER_TEST_PG_PORT"));
    o.user = env("CUTOVER_TEST_PG_USER");
    o.database = env("CUTOVER_TEST_PG_DB");
    o.password_env = "CUTOVER_TEST_PG_PASSWORD";
    if (pg_connect(&o, &s, &err) < 0 ||
        pg_exec(s, "DROP TABLE IF EXISTS apply_rate; CREATE TABLE apply_rate "
                   "(id bigint PRIMARY KEY, address text, user_id bigint, "
                   "total numeric(10,2))", &err, "making the table") < 0) {
        fprintf(stderr, "pg_apply_rate: %s\n", err.msg);
        return 1;
    }
    for (int p = 0; p < 3; p++)
        rate[p] = phase(s, &tb, p, rows, batch);
    printf("applier batches of %d, %d keys: inserts %.0f keys/s, updates "
           "%.0f keys/s, deletes %.0f keys/s\n", batch, rows, rate[0],
           rate[1], rate[2]);
    pg_close(s);
    return 0;
}

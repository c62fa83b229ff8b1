/*
 * test_source_binlog.c — binlog capture of the MySQL source driver
 * (sync/drivers/mysql/source_binlog.c) against the private MariaDB of
 * tests/lib/with_mariadb.sh (binary log on, ROW, FULL images), the
 * application writing on connections of its own:
 *  - with no source.capture, capture is the binlog, and installing it puts
 *    nothing on the server: no trigger, no table;
 *  - the keys written after the capture's position are read, those before
 *    are not; an UPDATE that moves a row gives both keys; a read from
 *    where the last one ended finds nothing; applied seqs reach
 *    log_stats' max_seq;
 *  - a rotated log (FLUSH BINARY LOGS) is followed;
 *  - a log purged past the position is CO_EGAP naming the file;
 *  - under the freeze the drain ends at the log's end when the lock was
 *    taken, though other tables are still written;
 *  - keys past the copy's frontier come back as `ahead`;
 *  - a batch's end is named by the GTID the server gives that position
 *    (BINLOG_GTID_POS), also after the source is opened again (a
 *    resume), where it is "" until a new transaction is read;
 *  - the fence is complete only on every table of the schema;
 *  - reads of the log are poll_ms apart, except the drain's
 *    under the freeze;
 *  - "capture": "triggers" still installs triggers on a server with a
 *    binary log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/runbook.h"
#include "sync/drivers/registry.h"
#include "tests/unit/my_app.h"
#include "tests/unit/unit_runbook.h"
#include "tests/unit/unit_util.h"

#define OWNER "0123456789abcdef"

struct fixture {
    struct runbook *rb;
    const struct source_ops *ops;
    struct source *s;
    struct schema sc;
    MYSQL *app;
    int64_t start;
    char gtid[GTID_MAX];              /* of the last batch read */
};

static struct runbook *runbook_with(const char *capture)
{
    char text[1024];

    snprintf(text, sizeof text,
             "{\"version\":1,\"name\":\"bl\",\"state_dir\":\"s\","
             "\"source\":{\"type\":\"mysql\",\"socket\":\"%s\","
             "\"database\":\"unit_bl\"%s},"
             "\"target\":{\"type\":\"mysql\",\"socket\":\"/nowhere.sock\","
             "\"database\":\"d\"}}", getenv("CUTOVER_TEST_MY_SOCKET"),
             capture);
    return ut_runbook(text, "/base");
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct co_err err = {0};

    if (!getenv("CUTOVER_TEST_MY_SOCKET"))
        fail_msg("no test MariaDB: run this test through "
                 "tests/lib/run_unit.sh (make unit)");
    f->app = app_connect(NULL);
    app_ok(f->app, "DROP DATABASE IF EXISTS unit_bl");
    app_ok(f->app, "CREATE DATABASE unit_bl");
    app_ok(f->app, "USE unit_bl");
    app_ok(f->app, "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)");
    app_ok(f->app, "CREATE TABLE u (id INT PRIMARY KEY, v INT NOT NULL)");
    app_ok(f->app, "DROP DATABASE IF EXISTS unit_bl_other");
    app_ok(f->app, "CREATE DATABASE unit_bl_other");
    app_ok(f->app, "CREATE TABLE unit_bl_other.o (id INT PRIMARY KEY)");
    /* rows from before capture: not read */
    app_ok(f->app, "INSERT INTO t VALUES (1, 1), (2, 2), (4, 4)");
    /* every read sees the writes before it: no pacing */
    f->rb = runbook_with(",\"poll_ms\":0");
    f->ops = driver_source("mysql");
    f->s = my_source_captured(f->ops, f->rb, OWNER, &f->sc);
    if (f->ops->capture_start(f->s, &f->start, &err) < 0)
        fail_msg("capture: %s", err.msg);
    assert_int_equal(f->sc.ntables, 2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    my_source_close(f->ops, f->s, &f->sc, f->rb);
    mysql_close(f->app);
    free(f);
    return 0;
}

static const struct table *table_named(struct fixture *f, const char *name)
{
    for (int i = 0; i < f->sc.ntables; i++)
        if (strcmp(f->sc.tables[i].name, name) == 0)
            return &f->sc.tables[i];
    fail_msg("no table %s", name);
    return NULL;
}

static int by_number(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Integer keys sorted, as "1,2". */
static void join_keys(char *out, size_t cap, const struct tuple *keys, int n)
{
    int64_t v[64];
    size_t o = 0;

    out[0] = '\0';
    for (int i = 0; i < n && i < 64; i++)
        v[i] = keys[i].v[0].i;
    qsort(v, (size_t)(n < 64 ? n : 64), sizeof v[0], by_number);
    for (int i = 0; i < n && i < 64; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%lld", i ? "," : "",
                              (long long)v[i]);
}

/* The keys of t log_read returns after `after` in `scope`, sorted, as
 * "1,2"; the keys ahead into ahead (when not NULL); *last its last_seq. */
static const char *keys_in(struct fixture *f, const char *table,
                           int64_t after, const struct apply_scope *scope,
                           char *ahead, int64_t *last)
{
    static char out[256];
    struct log_batch b;
    struct co_err err = {0};

    if (f->ops->log_read(f->s, table_named(f, table), after, 1000, scope, &b,
                         &err) < 0)
        fail_msg("log_read: %s", err.msg);
    join_keys(out, sizeof out, b.keys, b.nkeys);
    if (ahead)
        join_keys(ahead, 256, b.ahead, b.nahead);
    *last = b.last_seq;
    memcpy(f->gtid, b.gtid, sizeof b.gtid);
    f->ops->log_batch_free(&b);
    return out;
}

static const char *keys_after(struct fixture *f, const char *table,
                              int64_t after, int64_t *last)
{
    struct apply_scope all = {.all = 1};
    return keys_in(f, table, after, &all, NULL, last);
}

static int64_t max_seq(struct fixture *f, const char *table)
{
    struct log_stats st;
    struct co_err err = {0};

    if (f->ops->log_stats(f->s, table_named(f, table), 0, &st, &err) < 0)
        fail_msg("log_stats: %s", err.msg);
    return st.max_seq;
}

static void nothing_is_installed_on_the_server(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};
    int installed;

    assert_true(f->ops->log_kept_by_server(f->s));
    assert_true(f->start > (int64_t)1 << 32);     /* file 1 or later */
    assert_int_equal(app_number(f->app, "SELECT COUNT(*) FROM "
                                "information_schema.TRIGGERS WHERE "
                                "TRIGGER_SCHEMA = 'unit_bl'"), 0);
    assert_int_equal(app_number(f->app, "SELECT COUNT(*) FROM "
                                "information_schema.TABLES WHERE "
                                "TABLE_SCHEMA = 'unit_bl' AND TABLE_NAME "
                                "LIKE '\\_cutover%'"), 0);
    assert_int_equal(f->ops->capture_installed(f->s, &f->sc.tables[0],
                                               &installed, &err), 0);
    assert_true(installed);
}

static void changes_after_the_position_are_read(void **state)
{
    struct fixture *f = *state;
    int64_t last, again;

    app_ok(f->app, "INSERT INTO t VALUES (10, 1)");
    app_ok(f->app, "UPDATE t SET id = 12 WHERE id = 2");
    app_ok(f->app, "DELETE FROM t WHERE id = 4");
    app_ok(f->app, "INSERT INTO u VALUES (7, 7)");
    assert_string_equal(keys_after(f, "t", f->start, &last), "2,4,10,12");
    assert_true(last >= max_seq(f, "t"));
    assert_string_equal(keys_after(f, "u", f->start, &again), "7");
    assert_int_equal(again, last);
    assert_string_equal(keys_after(f, "t", last, &again), "");
    assert_int_equal(again, last);
    app_ok(f->app, "UPDATE t SET v = 9 WHERE id = 1");
    assert_string_equal(keys_after(f, "t", last, &again), "1");
    assert_true(again > last);
}

static void a_rotated_log_is_followed(void **state)
{
    struct fixture *f = *state;
    int64_t last;

    app_ok(f->app, "INSERT INTO t VALUES (20, 1)");
    app_ok(f->app, "FLUSH BINARY LOGS");
    app_ok(f->app, "INSERT INTO t VALUES (21, 1)");
    app_ok(f->app, "FLUSH BINARY LOGS");
    assert_string_equal(keys_after(f, "t", f->start, &last), "20,21");
    assert_true(last >> 32 >= (f->start >> 32) + 2);
    assert_true(last >= max_seq(f, "t"));
}

static void a_purged_position_is_a_gap(void **state)
{
    struct fixture *f = *state;
    struct apply_scope all = {.all = 1};
    struct log_batch b;
    struct co_err err = {0};
    char file[64], purge[128];
    MYSQL_RES *res = NULL;
    MYSQL_ROW r;

    app_ok(f->app, "INSERT INTO t VALUES (30, 1)");
    snprintf(file, sizeof file, "binlog.%06lld",
             (long long)(f->start >> 32));
    /* MariaDB keeps a log until InnoDB has checkpointed its transactions,
     * in the background: purge until the capture's file is gone */
    for (int i = 0; i < 100; i++) {
        int there = 0;
        app_ok(f->app, "FLUSH BINARY LOGS");
        if (mysql_query(f->app, "SHOW MASTER STATUS") != 0 ||
            !(res = mysql_store_result(f->app)))
            fail_msg("%s", mysql_error(f->app));
        r = mysql_fetch_row(res);
        snprintf(purge, sizeof purge, "PURGE BINARY LOGS TO '%s'", r[0]);
        mysql_free_result(res);
        app_ok(f->app, purge);
        if (mysql_query(f->app, "SHOW BINARY LOGS") != 0 ||
            !(res = mysql_store_result(f->app)))
            fail_msg("%s", mysql_error(f->app));
        while ((r = mysql_fetch_row(res)))
            there |= strcmp(r[0], file) == 0;
        mysql_free_result(res);
        if (!there)
            break;
        usleep(100000);
    }
    assert_int_equal(f->ops->log_read(f->s, &f->sc.tables[0], f->start, 1000,
                                      &all, &b, &err), CO_EGAP);
    assert_contains(err.msg, "is not on the server any more");
    assert_contains(err.msg, file);
}

static void the_drain_ends_where_the_lock_was_taken(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};
    MYSQL *other = app_connect("unit_bl_other");
    int64_t last, end;

    app_ok(f->app, "INSERT INTO t VALUES (40, 1)");
    assert_int_equal(f->ops->freeze_writes(f->s, &f->sc, 1000, &err), 0);
    /* a database outside the migration goes on being written */
    app_ok(other, "INSERT INTO o VALUES (1)");
    assert_string_equal(keys_after(f, "t", f->start, &last), "40");
    app_ok(other, "INSERT INTO o VALUES (2)");
    assert_string_equal(keys_after(f, "t", last, &end), "");
    assert_int_equal(end, last);
    f->ops->thaw(f->s);
    mysql_close(other);
}

static void keys_past_the_frontier_are_ahead(void **state)
{
    struct fixture *f = *state;
    struct value lo = {.type = V_INT, .i = 0}, fr = {.type = V_INT, .i = 50};
    struct tuple lo_t = {.n = 1, .v = &lo}, fr_t = {.n = 1, .v = &fr};
    struct key_range range = {.lo = &lo_t, .hi = NULL};
    const struct tuple *frontiers[1] = {&fr_t};
    struct apply_scope scope = {.nranges = 1, .ranges = &range,
                                .frontiers = frontiers};
    char ahead[256];
    int64_t last;

    app_ok(f->app, "INSERT INTO t VALUES (49, 1), (50, 1), (51, 1), (90, 1)");
    assert_string_equal(keys_in(f, "t", f->start, &scope, ahead, &last),
                        "49,50");
    assert_string_equal(ahead, "51,90");
}

/* The server's GTID at seq. */
static const char *server_gtid_at(struct fixture *f, int64_t seq)
{
    char file[32];

    snprintf(file, sizeof file, "binlog.%06lld", (long long)(seq >> 32));
    return app_gtid_at(f->app, file, (unsigned long long)(seq & 0xffffffff));
}

static void the_gtid_names_where_a_batch_ends(void **state)
{
    struct fixture *f = *state;
    char first[GTID_MAX];
    int64_t last, again;

    app_ok(f->app, "INSERT INTO t VALUES (60, 1)");
    app_ok(f->app, "INSERT INTO u VALUES (61, 1)");
    assert_string_equal(keys_after(f, "t", f->start, &last), "60");
    assert_string_equal(f->gtid, server_gtid_at(f, last));
    assert_true(gtid_valid(f->gtid));
    snprintf(first, sizeof first, "%s", f->gtid);
    /* a resume: the source opened again reads from the applied seq */
    f->ops->close(f->s);
    schema_free(&f->sc);
    f->s = my_source_captured(f->ops, f->rb, OWNER, &f->sc);
    assert_string_equal(keys_after(f, "t", last, &again), "");
    assert_string_equal(f->gtid, "");        /* the caller keeps its own */
    app_ok(f->app, "UPDATE t SET v = 2 WHERE id = 60");
    assert_string_equal(keys_after(f, "t", last, &again), "60");
    assert_true(again > last);
    assert_string_equal(f->gtid, server_gtid_at(f, again));
    assert_string_not_equal(f->gtid, first);
    /* a table whose batch ends where the other's did gets the same */
    assert_string_equal(keys_after(f, "u", last, &last), "");
    assert_int_equal(last, again);
    assert_string_equal(f->gtid, server_gtid_at(f, again));
}

/* Two tables: the fence is complete with six triggers, partial with
 * fewer (then removed). */
static void the_fence_counts_every_table(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};
    int fenced;

    if (f->ops->freeze_writes(f->s, &f->sc, 1000, &err) < 0 ||
        f->ops->fence_commit(f->s, &f->sc, &err) < 0)
        fail_msg("fence: %s", err.msg);
    assert_int_equal(f->ops->fence_installed(f->s, &f->sc, &fenced, &err), 0);
    assert_true(fenced);
    app_ok(f->app, "DROP TRIGGER _cutover_fi_u");
    app_ok(f->app, "DROP TRIGGER _cutover_fu_u");
    app_ok(f->app, "DROP TRIGGER _cutover_fd_u");
    assert_int_equal(f->ops->fence_installed(f->s, &f->sc, &fenced, &err), 0);
    assert_false(fenced);
    assert_int_equal(app_number(f->app, "SELECT COUNT(*) FROM "
                                "information_schema.TRIGGERS WHERE "
                                "TRIGGER_SCHEMA = 'unit_bl'"), 0);
}

/* poll_ms apart at least, a read finds nothing new; under the
 * freeze it reads at once (the pause waits on the drain). */
static void reads_are_paced_but_never_the_drain(void **state)
{
    struct fixture *f = *state;
    struct runbook *rb = runbook_with(",\"poll_ms\":10000");
    struct source *fast = f->s;
    struct schema sc;
    int64_t start, last, again;
    struct co_err err = {0};

    f->s = my_source_captured(f->ops, rb, OWNER, &sc);
    assert_int_equal(f->ops->capture_start(f->s, &start, &err), 0);
    app_ok(f->app, "INSERT INTO t VALUES (50, 1)");
    assert_string_equal(keys_after(f, "t", start, &last), "50");
    app_ok(f->app, "INSERT INTO t VALUES (51, 1)");
    assert_string_equal(keys_after(f, "t", last, &again), "");
    assert_int_equal(again, last);
    assert_int_equal(f->ops->freeze_writes(f->s, &sc, 1000, &err), 0);
    assert_string_equal(keys_after(f, "t", last, &again), "51");
    f->ops->thaw(f->s);
    my_source_close(f->ops, f->s, &sc, rb);
    f->s = fast;
}

static void triggers_when_the_runbook_says_so(void **state)
{
    struct fixture *f = *state;
    struct runbook *rb = runbook_with(",\"capture\":\"triggers\"");
    struct co_err err = {0};
    struct source *s;

    assert_int_equal(f->ops->open(rb, &s, &err), 0);
    f->ops->set_owner(s, OWNER);
    assert_false(f->ops->log_kept_by_server(s));
    assert_int_equal(f->ops->capture_install(s, &f->sc, &err), 0);
    assert_int_equal(app_number(f->app, "SELECT COUNT(*) FROM "
                                "information_schema.TRIGGERS WHERE "
                                "TRIGGER_SCHEMA = 'unit_bl' AND "
                                "EVENT_OBJECT_TABLE = 't'"), 3);
    assert_int_equal(f->ops->capture_remove(s, &f->sc, 0, &err), 0);
    f->ops->close(s);
    runbook_free(rb);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(nothing_is_installed_on_the_server),
        T(changes_after_the_position_are_read),
        T(a_rotated_log_is_followed),
        T(the_drain_ends_where_the_lock_was_taken),
        T(keys_past_the_frontier_are_ahead),
        T(the_gtid_names_where_a_batch_ends),
        T(the_fence_counts_every_table),
        T(reads_are_paced_but_never_the_drain),
        T(triggers_when_the_runbook_says_so),
        T(a_purged_position_is_a_gap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

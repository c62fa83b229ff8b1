/*
 * test_source_mysql.c — the MySQL source driver (sync/drivers/mysql/
 * source*.c) against the private MariaDB of tests/lib/with_mariadb.sh,
 * with the application's writes made on connections of its own:
 *  - change-log holes: a seq whose transaction is still open is never read
 *    past (its key would be lost); once it commits both keys are read; a
 *    rolled-back one's hole is final and the keys after it are read;
 *  - the freeze waits at most wait_ms for an application transaction, and
 *    says CO_EBUSY;
 *  - the fence refuses the application's writes with its message, and a
 *    partial fence (one trigger lost) is found and removed;
 *  - a lock lost with its connection is reported as such, never a fence;
 *  - rows written back under the freeze are not captured;
 *  - a connection of the migration (the applier's) trims the log under
 *    its own freeze;
 *  - fetch_many reads many keys' rows in one statement: each row answers
 *    the key it holds exactly, a gone key and a key equal only under the
 *    column's case-insensitive collation get none, and a single fetch in
 *    between leaves its rows as they were;
 *  - a table's log is read at most every poll_ms, except under the freeze.
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
#define SETTLE_US 400000     /* past the driver's GAP_SETTLE_S */

struct fixture {
    struct runbook *rb;
    const struct source_ops *ops;
    struct source *s;
    struct schema sc;
    MYSQL *app1, *app2;      /* the application's connections */
};

/* The fixture's runbook, its source reading every `poll_ms`. */
static struct runbook *runbook_polling(int poll_ms)
{
    char text[1024];

    snprintf(text, sizeof text,
             "{\"version\":1,\"name\":\"t\",\"state_dir\":\"s\","
             "\"source\":{\"type\":\"mysql\",\"socket\":\"%s\","
             "\"database\":\"unit_src\",\"capture\":\"triggers\","
             "\"poll_ms\":%d},"
             "\"target\":{\"type\":\"mysql\",\"socket\":\"/nowhere.sock\","
             "\"database\":\"d\"}}", getenv("CUTOVER_TEST_MY_SOCKET"),
             poll_ms);
    return ut_runbook(text, "/base");
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    const char *sock = getenv("CUTOVER_TEST_MY_SOCKET");

    if (!sock)
        fail_msg("no test MariaDB: run this test through "
                 "tests/lib/run_unit.sh (make unit)");
    f->app1 = app_connect(NULL);
    app_ok(f->app1, "DROP DATABASE IF EXISTS unit_src");
    app_ok(f->app1, "CREATE DATABASE unit_src");
    app_ok(f->app1, "CREATE TABLE unit_src.t (id INT PRIMARY KEY, "
                    "v INT NOT NULL) ENGINE=InnoDB");
    app_ok(f->app1, "USE unit_src");
    /* rows from before capture: not logged */
    app_ok(f->app1, "INSERT INTO t VALUES (1, 1), (2, 2), (4, 4)");
    f->app2 = app_connect("unit_src");
    /* every read sees the writes before it: no pacing */
    f->rb = runbook_polling(0);
    f->ops = driver_source("mysql");
    f->s = my_source_captured(f->ops, f->rb, OWNER, &f->sc);
    assert_int_equal(f->sc.ntables, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    my_source_close(f->ops, f->s, &f->sc, f->rb);
    mysql_close(f->app1);
    mysql_close(f->app2);
    free(f);
    return 0;
}

/* The keys log_read returns after `after`, as "1,2"; *last its last_seq. */
static const char *keys_after(struct fixture *f, int64_t after, int64_t *last)
{
    static char out[256];
    struct apply_scope all = {.all = 1};
    struct log_batch b;
    struct co_err err = {0};
    size_t o = 0;

    if (f->ops->log_read(f->s, &f->sc.tables[0], after, 1000, &all, &b,
                         &err) < 0)
        fail_msg("log_read: %s", err.msg);
    out[0] = '\0';
    for (int i = 0; i < b.nkeys; i++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%lld", i ? "," : "",
                              (long long)b.keys[i].v[0].i);
    *last = b.last_seq;
    f->ops->log_batch_free(&b);
    return out;
}

static void an_open_transaction_holds_the_log_at_its_seq(void **state)
{
    struct fixture *f = *state;
    int64_t last;

    app_ok(f->app1, "BEGIN");
    app_ok(f->app1, "INSERT INTO t VALUES (11, 1)");    /* seq 1, open */
    app_ok(f->app2, "INSERT INTO t VALUES (12, 2)");    /* seq 2 */
    usleep(SETTLE_US);
    assert_string_equal(keys_after(f, 0, &last), "");
    assert_int_equal(last, 0);
    app_ok(f->app1, "COMMIT");
    assert_string_equal(keys_after(f, 0, &last), "11,12");
    assert_int_equal(last, 2);
}

static void a_rolled_back_seq_is_a_final_hole(void **state)
{
    struct fixture *f = *state;
    int64_t last;

    app_ok(f->app1, "BEGIN");
    app_ok(f->app1, "INSERT INTO t VALUES (13, 3)");    /* seq 1 */
    app_ok(f->app2, "INSERT INTO t VALUES (14, 4)");    /* seq 2 */
    app_ok(f->app1, "ROLLBACK");
    usleep(SETTLE_US);
    assert_string_equal(keys_after(f, 0, &last), "14");
    assert_int_equal(last, 2);
}

static void the_freeze_gives_up_on_a_busy_table(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};

    app_ok(f->app1, "BEGIN");
    app_ok(f->app1, "UPDATE t SET v = 9 WHERE id = 1");
    assert_int_equal(f->ops->freeze_writes(f->s, &f->sc, 1000, &err), CO_EBUSY);
    assert_contains(err.msg, "held a migrated table longer than 1000 ms");
    app_ok(f->app1, "ROLLBACK");
    assert_int_equal(f->ops->freeze_writes(f->s, &f->sc, 1000, &err), 0);
    f->ops->thaw(f->s);
    app_ok(f->app2, "UPDATE t SET v = 5 WHERE id = 1");
}

static long fence_triggers(struct fixture *f)
{
    return app_number(f->app2, "SELECT COUNT(*) FROM information_schema."
                      "TRIGGERS WHERE TRIGGER_SCHEMA = 'unit_src' AND "
                      "TRIGGER_NAME LIKE '\\_cutover\\_f%'");
}

static void fence_up(struct fixture *f)
{
    struct co_err err = {0};

    if (f->ops->freeze_writes(f->s, &f->sc, 1000, &err) < 0 ||
        f->ops->fence_commit(f->s, &f->sc, &err) < 0)
        fail_msg("fence: %s", err.msg);
}

static void the_fence_refuses_writes_and_comes_down(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};
    int fenced;

    fence_up(f);
    assert_int_equal(f->ops->fence_installed(f->s, &f->sc, &fenced, &err), 0);
    assert_true(fenced);
    assert_string_equal(app(f->app2, "DELETE FROM t WHERE id = 2"),
                        "cutover: writes moved to target");
    assert_int_equal(f->ops->freeze_writes(f->s, &f->sc, 1000, &err), 0);
    assert_int_equal(f->ops->fence_remove(f->s, &f->sc, 1, &err), 0);
    assert_int_equal(f->ops->thaw_commit(f->s, &err), 0);
    assert_int_equal(f->ops->fence_installed(f->s, &f->sc, &fenced, &err), 0);
    assert_false(fenced);
    assert_int_equal(fence_triggers(f), 0);
    app_ok(f->app2, "UPDATE t SET v = 6 WHERE id = 2");
}

static void a_partial_fence_is_removed(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};
    int fenced;

    fence_up(f);
    app_ok(f->app2, "DROP TRIGGER _cutover_fd_t");
    assert_int_equal(f->ops->fence_installed(f->s, &f->sc, &fenced, &err), 0);
    assert_false(fenced);
    assert_int_equal(fence_triggers(f), 0);
    app_ok(f->app2, "DELETE FROM t WHERE id = 4");
}

static void rows_written_back_are_not_captured(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};
    struct value row[2] = {{.type = V_INT, .i = 10}, {.type = V_INT, .i = 7}};
    struct tuple key = {.n = 1, .v = row};
    long before = app_number(f->app2, "SELECT COUNT(*) FROM _cutover_log_t");

    assert_int_equal(f->ops->freeze_writes(f->s, &f->sc, 1000, &err), 0);
    assert_int_equal(f->ops->put_row(f->s, &f->sc.tables[0], &key, row, &err),
                     0);
    assert_int_equal(f->ops->thaw_commit(f->s, &err), 0);
    assert_int_equal(app_number(f->app2, "SELECT v FROM t WHERE id = 10"), 7);
    assert_int_equal(app_number(f->app2, "SELECT COUNT(*) FROM "
                                         "_cutover_log_t"), before);
}

/* The applier trims with a connection of its own: with the migration's
 * id it freezes the tables its capture serves; without one nothing is
 * its to lock. */
static void the_log_is_trimmed_under_the_freeze(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};
    struct source *other;

    app_ok(f->app2, "INSERT INTO t VALUES (21, 1), (22, 2)");
    app_ok(f->app2, "INSERT INTO t VALUES (23, 3)");
    assert_int_equal(f->ops->open(f->rb, &other, &err), 0);
    assert_int_equal(f->ops->freeze_writes(other, &f->sc, 1000, &err), CO_ESOURCE);
    assert_contains(err.msg, "no table of this migration to lock");
    f->ops->set_owner(other, OWNER);
    assert_int_equal(f->ops->freeze_writes(other, &f->sc, 1000, &err), 0);
    assert_int_equal(f->ops->log_trim(other, &f->sc.tables[0], 2, &err), 0);
    assert_int_equal(f->ops->thaw_commit(other, &err), 0);
    f->ops->close(other);
    assert_int_equal(app_number(f->app2, "SELECT MIN(seq) FROM "
                                         "_cutover_log_t"), 3);
}

/* The connection holding the lock is lost before the fence: the lock goes
 * with it, the fence call says the connection was lost (the stage then
 * gives the attempt up: an overrun, back to sync), and there is no fence:
 * the application writes again. */
static void a_lost_lock_is_no_fence(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};
    char kill[256];
    long ours;
    int fenced;

    assert_int_equal(f->ops->freeze_writes(f->s, &f->sc, 1000, &err), 0);
    snprintf(kill, sizeof kill, "SELECT ID FROM information_schema."
             "PROCESSLIST WHERE DB = 'unit_src' AND ID NOT IN "
             "(CONNECTION_ID(), %lu)", mysql_thread_id(f->app2));
    ours = app_number(f->app1, kill);
    snprintf(kill, sizeof kill, "KILL %ld", ours);
    app_ok(f->app1, kill);
    assert_int_equal(f->ops->fence_commit(f->s, &f->sc, &err), CO_ECONNLOST);
    f->ops->thaw(f->s);
    app_ok(f->app2, "UPDATE t SET v = 8 WHERE id = 1");
    f->ops->close(f->s);
    assert_int_equal(f->ops->open(f->rb, &f->s, &err), 0);
    f->ops->set_owner(f->s, OWNER);
    assert_int_equal(f->ops->fence_installed(f->s, &f->sc, &fenced, &err), 0);
    assert_false(fenced);
    assert_int_equal(fence_triggers(f), 0);
}

static const struct table *named(const struct schema *sc, const char *name)
{
    for (int i = 0; i < sc->ntables; i++)
        if (strcmp(sc->tables[i].name, name) == 0)
            return &sc->tables[i];
    fail_msg("no table %s", name);
    return NULL;
}

static void many_keys_are_read_at_once(void **state)
{
    struct fixture *f = *state;
    const struct table *t = &f->sc.tables[0];
    struct value kv[5] = {ut_vint(4), ut_vint(3), ut_vint(1), ut_vint(2),
                          ut_vtext("ABC")};
    struct tuple keys[4], ci_keys[2];
    const struct value *rows[4], *one;
    struct co_err err = {0};
    struct schema sc;
    const struct table *c;

    for (int i = 0; i < 4; i++)
        keys[i] = (struct tuple){.n = 1, .v = &kv[i]};
    assert_int_equal(f->ops->fetch_many(f->s, t, keys, 4, rows, &err), 0);
    assert_non_null(rows[0]);
    assert_int_equal(rows[0][0].i, 4);
    assert_int_equal(rows[0][1].i, 4);
    assert_null(rows[1]);
    assert_int_equal(rows[2][0].i, 1);
    assert_int_equal(rows[3][1].i, 2);
    /* a single fetch has its own result: the batch's rows stay */
    assert_int_equal(f->ops->fetch(f->s, t, &keys[3], &one, &err), 1);
    assert_int_equal(rows[0][0].i, 4);

    /* under utf8mb4_general_ci 'abc' finds 'ABC': not the exact key */
    app_ok(f->app1, "CREATE TABLE c (k VARCHAR(10) COLLATE "
                    "utf8mb4_general_ci PRIMARY KEY, v INT)");
    app_ok(f->app1, "INSERT INTO c VALUES ('ABC', 7)");
    assert_int_equal(f->ops->read_schema(f->s, f->rb, &sc, &err), 0);
    c = named(&sc, "c");
    struct value lower = ut_vtext("abc");
    ci_keys[0] = (struct tuple){.n = 1, .v = &lower};
    ci_keys[1] = (struct tuple){.n = 1, .v = &kv[4]};
    assert_int_equal(f->ops->fetch_many(f->s, c, ci_keys, 2, rows, &err), 0);
    assert_null(rows[0]);
    assert_non_null(rows[1]);
    assert_int_equal(rows[1][1].i, 7);
    schema_free(&sc);
    app_ok(f->app1, "DROP TABLE c");
}

/* poll_ms apart at least, a table's log is not read again; under the
 * freeze it is read at once (the pause waits on the drain). */
static void reads_are_paced_but_never_the_drain(void **state)
{
    struct fixture *f = *state;
    struct runbook *rb = runbook_polling(10000);
    struct source *fast = f->s;
    struct co_err err = {0};
    int64_t last, again;

    assert_int_equal(f->ops->open(rb, &f->s, &err), 0);
    f->ops->set_owner(f->s, OWNER);
    app_ok(f->app1, "INSERT INTO t VALUES (50, 1)");
    usleep(SETTLE_US);
    assert_string_equal(keys_after(f, 0, &last), "50");
    app_ok(f->app1, "INSERT INTO t VALUES (51, 1)");
    usleep(SETTLE_US);
    assert_string_equal(keys_after(f, last, &again), "");
    assert_int_equal(again, last);
    assert_int_equal(f->ops->freeze_writes(f->s, &f->sc, 1000, &err), 0);
    assert_string_equal(keys_after(f, last, &again), "51");
    f->ops->thaw(f->s);
    f->ops->close(f->s);
    runbook_free(rb);
    f->s = fast;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(an_open_transaction_holds_the_log_at_its_seq),
        T(a_rolled_back_seq_is_a_final_hole),
        T(the_freeze_gives_up_on_a_busy_table),
        T(the_fence_refuses_writes_and_comes_down),
        T(a_partial_fence_is_removed),
        T(rows_written_back_are_not_captured),
        T(the_log_is_trimmed_under_the_freeze),
        T(a_lost_lock_is_no_fence),
        T(many_keys_are_read_at_once),
        T(reads_are_paced_but_never_the_drain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

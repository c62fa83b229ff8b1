/*
 * test_pg_capture.c — reverse capture and the rollback fence of the
 * PostgreSQL driver on a real server, with the application writing as a
 * role of its own: its inserts, updates (a changed key logs old and new)
 * and deletes are logged by key, cutover's own session is not; the fence
 * refuses the application's INSERT, UPDATE, DELETE and TRUNCATE with
 * "cutover: writes moved back to source" and SQLSTATE 25006 while ours
 * still writes; every object carries the migration id; install and
 * remove are idempotent and all-or-nothing; a name held by another
 * migration's object is refused by name; long table names fit; writes
 * frozen, then thawed or fenced in the same transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/unit_util.h"
#include "tests/unit/pg_util.h"

#define SCHEMA "t_capture"
#define OWNER "0123456789abcdef"
#define LONG_NAME "a_table_whose_name_is_much_longer_than_the_sixty_three_" \
                  "bytes_of_a_name"

static const struct ut_col items_cols[] = {
    {"region", LT_TEXT, 1}, {"order", LT_INT, 2}, {"note", LT_TEXT, 0}};
static const struct ut_col users_cols[] = {{"id", LT_INT, 1},
                                           {"name", LT_TEXT, 0}};

struct fixture {
    struct ut_table items, users, longt;
    struct table tables[3];
    struct schema sc;
    struct pg_session *s, *app;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    ut_table_init(&f->items, "Order Items", items_cols, 3);
    ut_table_init(&f->users, "users", users_cols, 2);
    ut_table_init(&f->longt, LONG_NAME, users_cols, 2);
    f->tables[0] = f->items.t;
    f->tables[1] = f->users.t;
    f->tables[2] = f->longt.t;
    f->sc.tables = f->tables;
    f->sc.ntables = 3;
    f->s = ut_pg_fresh(SCHEMA);
    pg_set_owner(f->s, OWNER);
    ut_pg_exec(f->s, "CREATE TABLE \"Order Items\" (region text, \"order\" "
               "bigint, note text, PRIMARY KEY (region, \"order\")); "
               "CREATE TABLE users (id bigint PRIMARY KEY, name text); "
               "CREATE TABLE " LONG_NAME " (id bigint PRIMARY KEY, name text); "
               "GRANT USAGE ON SCHEMA " SCHEMA " TO cutover_app; "
               "GRANT ALL ON ALL TABLES IN SCHEMA " SCHEMA " TO cutover_app");
    f->app = ut_pg_app(SCHEMA);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    pg_close(f->app);
    pg_close(f->s);
    free(f);
    return 0;
}

/* The keys logged for tb after seq 0, as "k1|k2" lines in key order. */
static const char *logged(struct fixture *f, const struct table *tb)
{
    static char out[8192];
    struct pg_keys k;
    struct co_err err = {0};
    char names[64];
    char rlog[80];
    char sql[400];

    if (pg_rlog_read(f->s, tb, 0, 1000, &k, &err) < 0)
        fail_msg("%s", err.msg);
    pg_keys_free(&k);
    /* the same through SQL, sorted, for a readable comparison */
    pg_object_name(rlog, sizeof rlog, PG_RLOG_PREFIX, tb->name);
    snprintf(names, sizeof names, tb->nkey == 2 ? "k1 || '|' || k2"
                                                : "k1::text");
    snprintf(sql, sizeof sql, "SELECT coalesce(string_agg(DISTINCT %s, ',' "
             "ORDER BY %s), '') FROM \"%s\"", names, names, rlog);
    snprintf(out, sizeof out, "%s", ut_pg_value(f->s, sql));
    return out;
}

static void app_writes_are_logged_ours_are_not(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};
    struct pg_keys k;

    assert_int_equal(pg_rcapture_install(f->s, &f->sc, &err), 0);
    ut_pg_exec(f->app, "INSERT INTO \"Order Items\" VALUES ('eu', 1, 'a'), "
               "('eu', 2, 'b'), ('us\\x', 3, 'c'); "
               "UPDATE \"Order Items\" SET note = 'z' WHERE \"order\" = 1; "
               "UPDATE \"Order Items\" SET region = 'EU' WHERE \"order\" = 2; "
               "DELETE FROM \"Order Items\" WHERE \"order\" = 3; "
               "INSERT INTO users VALUES (10, 'x'), (11, 'y'); "
               "INSERT INTO " LONG_NAME " VALUES (-5, 'long')");
    /* cutover's own session writes without logging */
    ut_pg_exec(f->s, "INSERT INTO users VALUES (99, 'ours'); "
               "UPDATE users SET id = 98 WHERE id = 10; "
               "DELETE FROM " LONG_NAME);
    assert_string_equal(logged(f, &f->items.t), "EU|2,eu|1,eu|2,us\\x|3");
    assert_string_equal(logged(f, &f->users.t), "10,11");
    assert_string_equal(logged(f, &f->longt.t), "-5");

    /* read by the driver: distinct keys, parsed by type, up to a limit */
    assert_int_equal(pg_rlog_read(f->s, &f->items.t, 0, 3, &k, &err), 0);
    assert_int_equal(k.last_seq, 3);
    assert_int_equal(k.n, 3);
    for (int i = 0; i < k.n; i++) {
        assert_int_equal(k.keys[i].v[0].type, V_TEXT);
        assert_int_equal(k.keys[i].v[1].type, V_INT);
    }
    pg_keys_free(&k);
    /* then eu|1 (note), EU|2 and eu|2 (the key changed), us\x|3 (deleted) */
    assert_int_equal(pg_rlog_read(f->s, &f->items.t, 3, 100, &k, &err), 0);
    assert_int_equal(k.n, 4);
    assert_int_equal(k.last_seq, 7);
    pg_keys_free(&k);
    assert_int_equal(pg_rlog_read(f->s, &f->items.t, 7, 100, &k, &err), 0);
    assert_int_equal(k.n, 0);
    assert_int_equal(k.last_seq, 7);
    pg_keys_free(&k);
}

static void objects_carry_the_migration_id(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};

    assert_int_equal(pg_rcapture_install(f->s, &f->sc, &err), 0);
    assert_int_equal(pg_fence_install(f->s, &f->sc, &err), 0);
    assert_string_equal(ut_pg_value(f->s,
        "SELECT count(*) || ' ' || count(*) FILTER (WHERE d = "
        "'cutover migration " OWNER "') FROM ("
        "SELECT obj_description(oid, 'pg_class') d FROM pg_class WHERE "
        "relname LIKE '\\_cutover\\_%' AND relkind = 'r' UNION ALL "
        "SELECT obj_description(oid, 'pg_proc') FROM pg_proc WHERE "
        "proname LIKE '\\_cutover\\_%' UNION ALL "
        "SELECT obj_description(oid, 'pg_trigger') FROM pg_trigger WHERE "
        "tgname LIKE '\\_cutover\\_%') x"),
        /* 3 logs, 6 functions, 9 triggers */
        "18 18");
    /* the long name's objects fit PostgreSQL's 63 bytes, hashed */
    assert_string_equal(ut_pg_value(f->s, "SELECT max(length(tgname)) FROM "
                                          "pg_trigger WHERE tgname LIKE "
                                          "'\\_cutover\\_%'"), "63");
    assert_int_equal(pg_fence_remove(f->s, &f->sc, &err), 0);
    assert_int_equal(pg_rcapture_remove(f->s, &f->sc, &err), 0);
}

static void fence_refuses_the_application_only(void **state)
{
    static const char *const writes[] = {
        "INSERT INTO users VALUES (1, 'a')", "UPDATE users SET name = 'b'",
        "DELETE FROM users", "TRUNCATE users",
        "INSERT INTO \"Order Items\" VALUES ('x', 1, 'n')", NULL};
    struct fixture *f = *state;
    struct co_err err = {0};

    ut_pg_exec(f->s, "INSERT INTO users VALUES (5, 'five')");
    assert_int_equal(pg_fence_install(f->s, &f->sc, &err), 0);
    for (int i = 0; writes[i]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(pg_exec(f->app, writes[i], &err, "writing"),
                         CO_ETARGET);
        assert_contains(err.msg, "writing: " PG_FENCE_MESSAGE);
        assert_contains(err.msg, "[SQLSTATE " PG_FENCE_SQLSTATE "]");
        assert_string_equal(pg_last_sqlstate(f->app), PG_FENCE_SQLSTATE);
    }
    /* reads go on; our session writes */
    assert_string_equal(ut_pg_value(f->app, "SELECT name FROM users"), "five");
    ut_pg_exec(f->s, "UPDATE users SET name = 'ours' WHERE id = 5");
    /* installing it again changes nothing; removing it lets writes in */
    assert_int_equal(pg_fence_install(f->s, &f->sc, &err), 0);
    assert_string_equal(ut_pg_value(f->s, "SELECT count(*) FROM pg_trigger "
                                          "WHERE tgname LIKE '\\_cutover%'"),
                        "6");
    assert_int_equal(pg_fence_remove(f->s, &f->sc, &err), 0);
    assert_int_equal(pg_fence_remove(f->s, &f->sc, &err), 0);
    ut_pg_exec(f->app, "INSERT INTO users VALUES (6, 'six')");
    assert_string_equal(ut_pg_value(f->s, "SELECT count(*) FROM pg_trigger "
                                          "WHERE tgname LIKE '\\_cutover%'"),
                        "0");
}

static void install_and_remove_are_idempotent(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};

    assert_int_equal(pg_rcapture_install(f->s, &f->sc, &err), 0);
    ut_pg_exec(f->app, "INSERT INTO users VALUES (1, 'a')");
    assert_int_equal(pg_rcapture_install(f->s, &f->sc, &err), 0);
    /* the log survives a second install; one trigger per table */
    assert_string_equal(logged(f, &f->users.t), "1");
    assert_string_equal(ut_pg_value(f->s, "SELECT count(*) FROM pg_trigger "
                                          "WHERE tgname LIKE '\\_cutover%'"),
                        "3");
    assert_int_equal(pg_rcapture_remove(f->s, &f->sc, &err), 0);
    assert_int_equal(pg_rcapture_remove(f->s, &f->sc, &err), 0);
    assert_string_equal(ut_pg_value(f->s,
        "SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE "
        "'\\_cutover%') + (SELECT count(*) FROM pg_proc WHERE proname LIKE "
        "'\\_cutover%') + (SELECT count(*) FROM pg_trigger WHERE tgname "
        "LIKE '\\_cutover%')"), "0");
    /* the application writes untouched */
    ut_pg_exec(f->app, "INSERT INTO users VALUES (2, 'b')");
}

static void another_migrations_object_is_refused(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};

    ut_pg_exec(f->s, "CREATE TABLE _cutover_rlog_users (seq int); COMMENT ON "
               "TABLE _cutover_rlog_users IS 'cutover migration "
               "ffffffffffffffff'");
    assert_int_equal(pg_rcapture_install(f->s, &f->sc, &err), CO_ETARGET);
    assert_contains(err.msg, "table users: the name _cutover_rlog_users is "
                             "held by a table made by migration "
                             "ffffffffffffffff; cutover never drops");
    /* all or nothing: the table before it got no capture either */
    assert_string_equal(ut_pg_value(f->s, "SELECT count(*) FROM pg_trigger "
                                          "WHERE tgname LIKE '\\_cutover%'"),
                        "0");
    /* and removing leaves the other migration's table alone */
    assert_int_equal(pg_rcapture_remove(f->s, &f->sc, &err), CO_ETARGET);
    assert_string_equal(ut_pg_value(f->s, "SELECT count(*) FROM "
                                          "_cutover_rlog_users"), "0");
}

/* freeze_writes, then thaw or fence_commit: writers wait while frozen
 * (here: the application's short lock_timeout ends its wait), readers
 * do not; an application transaction holding a table makes the freeze
 * give up after its wait; after a thaw writes go on, after the commit
 * they meet the fence. */
static void freeze_then_thaw_or_fence(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};

    ut_pg_exec(f->app, "SET lock_timeout = 200");
    /* the application's open transaction holds users */
    ut_pg_exec(f->app, "BEGIN; INSERT INTO users VALUES (1, 'open')");
    assert_int_equal(pg_freeze_writes(f->s, &f->sc, 200, &err), CO_ETIMEOUT);
    assert_contains(err.msg, "freezing writes: canceling statement due to "
                             "lock timeout");
    ut_pg_exec(f->app, "COMMIT");

    assert_int_equal(pg_freeze_writes(f->s, &f->sc, 1000, &err), 0);
    assert_int_equal(pg_exec(f->app, "INSERT INTO users VALUES (2, 'w')",
                             &err, "writing"), CO_ETIMEOUT);
    assert_string_equal(pg_last_sqlstate(f->app), "55P03");
    assert_string_equal(ut_pg_value(f->app, "SELECT count(*) FROM users"),
                        "1");
    assert_string_equal(ut_pg_value(f->s, "SELECT count(*) FROM users"), "1");
    pg_thaw(f->s);
    ut_pg_exec(f->app, "INSERT INTO users VALUES (2, 'w')");

    assert_int_equal(pg_freeze_writes(f->s, &f->sc, 1000, &err), 0);
    assert_int_equal(pg_fence_commit(f->s, &f->sc, &err), 0);
    assert_int_equal(pg_exec(f->app, "INSERT INTO users VALUES (3, 'w')",
                             &err, "writing"), CO_ETARGET);
    assert_contains(err.msg, PG_FENCE_MESSAGE);
    assert_int_equal(pg_fence_remove(f->s, &f->sc, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(app_writes_are_logged_ours_are_not,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(objects_carry_the_migration_id,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(fence_refuses_the_application_only,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(install_and_remove_are_idempotent,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(another_migrations_object_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(freeze_then_thaw_or_fence, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

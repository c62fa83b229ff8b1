/*
 * test_pg_schema.c — indexes and foreign keys after the copy, on a real
 * PostgreSQL: SQLite's index names kept (DESC and column order too), its
 * automatic indexes as UNIQUE constraints named <table>_<cols>_key, a
 * resumed run making only what is missing; a unique index the data breaks
 * fails with the duplicated key; a foreign key added NOT VALID even with
 * an orphan row, whose validation then names the orphan, and validates
 * once it is gone (its ON DELETE action kept); names over 63 bytes and
 * names held by another table's index refused by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/unit_util.h"
#include "tests/unit/pg_util.h"

#define SCHEMA "t_schema"
#define LONG_INDEX "an_index_name_that_is_far_longer_than_what_postgresql_keeps_" \
                   "whole"

static const struct ut_col user_cols[] = {
    {"id", LT_INT, 1}, {"email", LT_TEXT, 0}, {"name", LT_TEXT, 0},
    {"team_id", LT_INT, 0}};
static const struct ut_col team_cols[] = {{"id", LT_INT, 1},
                                          {"name", LT_TEXT, 0}};

struct fixture {
    struct ut_table user, team;
    struct table tables[2];
    struct schema sc;
    struct index idx[4];
    int cols[4][2], desc[4][2];
    struct fkey fk;
    char *from[1], *to[1];
    struct pg_session *s;
};

static void set_index(struct fixture *f, int i, const char *name, int unique,
                      int c0, int c1, int desc0)
{
    struct index *ix = &f->idx[i];

    ix->name = (char *)name;
    ix->unique = unique;
    ix->ncols = c1 < 0 ? 1 : 2;
    ix->cols = f->cols[i];
    ix->desc = f->desc[i];
    ix->cols[0] = c0;
    ix->cols[1] = c1;
    ix->desc[0] = desc0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    ut_table_init(&f->user, "user", user_cols, 4);
    ut_table_init(&f->team, "team", team_cols, 2);
    set_index(f, 0, "sqlite_autoindex_user_1", 1, 1, -1, 0);
    set_index(f, 1, "user_name_desc", 0, 2, 3, 1);
    set_index(f, 2, "sqlite_autoindex_user_2", 2, 0, -1, 0);  /* the PK */
    set_index(f, 3, "user_partial", 0, 2, -1, 0);
    f->idx[3].partial = 1;
    f->user.t.idx = f->idx;
    f->user.t.nidx = 4;
    f->from[0] = "team_id";
    f->to[0] = NULL;
    f->fk = (struct fkey){"team", 1, f->from, f->to, "NO ACTION", "CASCADE"};
    f->user.t.fk = &f->fk;
    f->user.t.nfk = 1;
    f->tables[0] = f->user.t;
    f->tables[1] = f->team.t;
    f->sc.tables = f->tables;
    f->sc.ntables = 2;
    f->s = ut_pg_fresh(SCHEMA);
    ut_pg_exec(f->s, "CREATE TABLE team (id bigint PRIMARY KEY, name text); "
               "CREATE TABLE \"user\" (id bigint PRIMARY KEY, email text, "
               "name text, team_id bigint); "
               "INSERT INTO team VALUES (1, 'a'), (2, 'b'); "
               "INSERT INTO \"user\" VALUES (1, 'x@a', 'x', 1), "
               "(2, 'y@a', 'y', 2), (3, 'z@a', 'z', 2)");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    pg_close(f->s);
    free(f);
    return 0;
}

static const char *definitions(struct pg_session *s)
{
    return ut_pg_value(s, "SELECT string_agg(indexdef, ' | ' ORDER BY "
                          "indexname) FROM pg_indexes WHERE schemaname = '"
                          SCHEMA "' AND tablename = 'user'");
}

static void indexes_keep_their_names(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};
    char before[8192];

    assert_int_equal(pg_create_indexes(f->s, &f->user.t, &err), 0);
    assert_string_equal(definitions(f->s),
        "CREATE UNIQUE INDEX user_email_key ON t_schema.\"user\" USING btree "
        "(email) | CREATE INDEX user_name_desc ON t_schema.\"user\" USING "
        "btree (name DESC, team_id) | CREATE UNIQUE INDEX user_pkey ON "
        "t_schema.\"user\" USING btree (id)");
    assert_string_equal(ut_pg_value(f->s, "SELECT contype FROM pg_constraint "
                                          "WHERE conname = 'user_email_key'"),
                        "u");
    /* resumed: nothing new, nothing refused */
    snprintf(before, sizeof before, "%s", definitions(f->s));
    assert_int_equal(pg_create_indexes(f->s, &f->user.t, &err), 0);
    assert_string_equal(definitions(f->s), before);
    /* resumed after a crash between the two: the second is still made */
    ut_pg_exec(f->s, "DROP INDEX user_name_desc");
    assert_int_equal(pg_create_indexes(f->s, &f->user.t, &err), 0);
    assert_string_equal(definitions(f->s), before);
}

static void broken_unique_index_names_the_key(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};

    ut_pg_exec(f->s, "UPDATE \"user\" SET email = 'same@a' WHERE id > 1");
    assert_int_equal(pg_create_indexes(f->s, &f->user.t, &err), CO_ETARGET);
    assert_contains(err.msg, "table user: target ");
    assert_contains(err.msg, "Key (email)=(same@a) is duplicated.");
    assert_contains(err.msg, "[SQLSTATE 23505]");
    /* nothing half-made: the failed one is not there, the session works */
    assert_string_equal(ut_pg_value(f->s, "SELECT count(*) FROM pg_indexes "
                                          "WHERE indexname <> 'user_pkey' AND "
                                          "tablename = 'user'"), "0");
}

static void foreign_keys_not_valid_then_validated(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};

    ut_pg_exec(f->s, "INSERT INTO \"user\" VALUES (4, 'o@a', 'orphan', 99)");
    assert_int_equal(pg_create_foreign_keys(f->s, &f->sc, &f->user.t, &err),
                     0);
    assert_string_equal(ut_pg_value(f->s, "SELECT convalidated FROM "
                                          "pg_constraint WHERE conname = "
                                          "'user_team_id_fkey'"), "f");
    assert_int_equal(pg_validate_foreign_keys(f->s, &f->user.t, &err),
                     CO_ETARGET);
    assert_contains(err.msg, "Key (team_id)=(99) is not present in table "
                             "\"team\"");
    assert_contains(err.msg, "[SQLSTATE 23503]");
    ut_pg_exec(f->s, "DELETE FROM \"user\" WHERE id = 4");
    assert_int_equal(pg_validate_foreign_keys(f->s, &f->user.t, &err), 0);
    assert_string_equal(ut_pg_value(f->s, "SELECT convalidated FROM "
                                          "pg_constraint WHERE conname = "
                                          "'user_team_id_fkey'"), "t");
    /* adding again changes nothing; ON DELETE CASCADE came along */
    assert_int_equal(pg_create_foreign_keys(f->s, &f->sc, &f->user.t, &err),
                     0);
    ut_pg_exec(f->s, "DELETE FROM team WHERE id = 2");
    assert_string_equal(ut_pg_value(f->s, "SELECT count(*) FROM \"user\""),
                        "1");
}

static void names_refused_by_name(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};

    assert_int_equal(pg_name_check("table", "short", &err), 0);
    f->idx[1].name = LONG_INDEX;
    assert_int_equal(pg_create_indexes(f->s, &f->user.t, &err), CO_ESCHEMA);
    assert_contains(err.msg, "table user: index " LONG_INDEX ": the name is "
                             "65 bytes; PostgreSQL keeps only the first 63");
    f->idx[1].name = "user_name_desc";
    ut_pg_exec(f->s, "CREATE INDEX user_name_desc ON team (name)");
    assert_int_equal(pg_create_indexes(f->s, &f->user.t, &err), CO_ETARGET);
    assert_contains(err.msg, "table user: the name user_name_desc is taken "
                             "by the object team");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(indexes_keep_their_names, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(broken_unique_index_names_the_key,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(foreign_keys_not_valid_then_validated,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(names_refused_by_name, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

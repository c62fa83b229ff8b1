/*
 * test_pg_session.c — sessions of the PostgreSQL driver on a real private
 * server (tests/lib/with_postgresql.sh): the password read through
 * password_env over the socket and over TLS, the session's settings, every
 * kind of connection failure named with the server and never with the
 * password, SQLSTATE kept in errors, and quoting that is right for any
 * name or string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/unit_util.h"
#include "tests/unit/pg_util.h"

#define SCHEMA "t_session"

/* Connect with o; the error (or "") in err. */
static int try_connect(const struct pg_options *o, struct co_err *err)
{
    struct pg_session *s = NULL;
    int rc;

    memset(err, 0, sizeof *err);
    rc = pg_connect(o, &s, err);
    pg_close(s);
    return rc;
}

static void socket_session_is_set_up(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);

    (void)state;
    assert_true(pg_server_version(s) >= PG_MIN_VERSION);
    assert_string_equal(ut_pg_value(s, "SHOW application_name"), "cutover");
    assert_string_equal(ut_pg_value(s, "SHOW search_path"), SCHEMA);
    assert_string_equal(ut_pg_value(s, "SHOW statement_timeout"), "10min");
    assert_string_equal(ut_pg_value(s, "SHOW lock_timeout"), "10s");
    assert_string_equal(ut_pg_value(s, "SHOW client_encoding"), "UTF8");
    assert_string_equal(ut_pg_value(s, "SELECT current_setting('"
                                       PG_SESSION_GUC "')"), "on");
    assert_contains(pg_label(s), getenv("CUTOVER_TEST_PG_HOST"));
    assert_contains(pg_label(s), "/cutover_unit");
    pg_close(s);
}

static void unmarked_session_is_the_applications(void **state)
{
    struct pg_options o = ut_pg_options(SCHEMA);
    struct pg_session *s;

    (void)state;
    o.unmarked = 1;
    s = ut_pg_connect_opts(&o);
    assert_string_equal(ut_pg_value(s, "SELECT current_setting('"
                                       PG_SESSION_GUC "')"), "off");
    pg_close(s);
}

static void tls_verify_full_over_tcp(void **state)
{
    struct pg_options o = ut_pg_options(SCHEMA);
    struct pg_session *s;

    (void)state;
    o.host = "localhost";
    o.tls_mode = "verify_full";
    o.ca = getenv("CUTOVER_TEST_PG_CA");
    o.statement_timeout_ms = 1234;
    o.lock_timeout_ms = 567;
    s = ut_pg_connect_opts(&o);
    assert_string_equal(ut_pg_value(s, "SELECT ssl FROM pg_stat_ssl WHERE "
                                       "pid = pg_backend_pid()"), "t");
    assert_string_equal(ut_pg_value(s, "SHOW statement_timeout"), "1234ms");
    assert_string_equal(ut_pg_value(s, "SHOW lock_timeout"), "567ms");
    pg_close(s);

    o.host = "127.0.0.1";
    o.tls_mode = "disable";
    s = ut_pg_connect_opts(&o);
    assert_string_equal(ut_pg_value(s, "SELECT ssl FROM pg_stat_ssl WHERE "
                                       "pid = pg_backend_pid()"), "f");
    pg_close(s);
}

static void wrong_password_is_named_not_shown(void **state)
{
    struct pg_options o = ut_pg_options(SCHEMA);
    struct co_err err;
    char label[128];

    (void)state;
    setenv("UT_WRONG_PW", "hunter2-not-it", 1);
    o.password_env = "UT_WRONG_PW";
    assert_int_equal(try_connect(&o, &err), CO_ETARGET);
    snprintf(label, sizeof label, "target %s:%d/cutover_unit", o.host, o.port);
    assert_prefix(err.msg, label);
    assert_contains(err.msg, "the password was refused");
    assert_contains(err.msg, "\"cutover_unit\"");
    assert_not_contains(err.msg, "hunter2");
    assert_not_contains(err.msg, getenv("CUTOVER_TEST_PG_PASSWORD"));
    /* the same over TCP with TLS */
    o.host = "localhost";
    o.tls_mode = "require";
    assert_int_equal(try_connect(&o, &err), CO_ETARGET);
    assert_contains(err.msg, "target localhost:");
    assert_contains(err.msg, "the password was refused");
    assert_not_contains(err.msg, "hunter2");
}

static void missing_password_variable(void **state)
{
    struct pg_options o = ut_pg_options(SCHEMA);
    struct co_err err;

    (void)state;
    unsetenv("UT_NO_SUCH_PW");
    o.password_env = "UT_NO_SUCH_PW";
    assert_int_equal(try_connect(&o, &err), CO_ERUNBOOK);
    assert_string_equal(err.msg, "target.password_env: the environment "
                                 "variable UT_NO_SUCH_PW is not set");
    setenv("UT_NO_SUCH_PW", "", 1);
    assert_int_equal(try_connect(&o, &err), CO_ERUNBOOK);
    assert_contains(err.msg, "UT_NO_SUCH_PW is empty");
    /* no variable at all: the server asks, and we say so */
    o.password_env = NULL;
    setenv("PGPASSFILE", "/dev/null", 1);
    assert_int_equal(try_connect(&o, &err), CO_ETARGET);
    assert_contains(err.msg, "the server wants a password and none was given");
}

static void database_schema_server_tls_failures(void **state)
{
    struct pg_options o = ut_pg_options(SCHEMA);
    struct co_err err;
    char otherca[4096];

    (void)state;
    o.database = "no_such_db";
    assert_int_equal(try_connect(&o, &err), CO_ETARGET);
    assert_contains(err.msg, "/no_such_db: cannot connect");
    assert_contains(err.msg, "the database does not exist");

    o = ut_pg_options("no_such_schema");
    assert_int_equal(try_connect(&o, &err), CO_ETARGET);
    assert_contains(err.msg, "schema \"no_such_schema\" does not exist in "
                             "database \"cutover_unit\"");

    o = ut_pg_options(SCHEMA);
    o.port = 1;     /* no server there */
    assert_int_equal(try_connect(&o, &err), CO_ETARGET);
    assert_contains(err.msg, ":1/cutover_unit: cannot connect");
    assert_contains(err.msg, "the server is unreachable");

    o = ut_pg_options(SCHEMA);
    o.host = "localhost";
    o.tls_mode = "verify_ca";
    /* the server's own certificate is no CA: verification fails */
    snprintf(otherca, sizeof otherca, "%s", getenv("CUTOVER_TEST_PG_CA"));
    strcpy(strrchr(otherca, '/'), "/server.crt");
    o.ca = otherca;
    assert_int_equal(try_connect(&o, &err), CO_ETARGET);
    assert_contains(err.msg, "TLS failed");

    o.ca = "/nonexistent/ca.crt";
    assert_int_equal(try_connect(&o, &err), CO_ETARGET);
    assert_contains(err.msg, "TLS failed");
    assert_contains(err.msg, "/nonexistent/ca.crt");

    o.tls_mode = "verify-full";     /* libpq's spelling is not ours */
    assert_int_equal(try_connect(&o, &err), CO_ERUNBOOK);
    assert_contains(err.msg, "target.tls.mode: \"verify-full\" is not one of");
}

static void errors_keep_their_sqlstate(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct co_err err = {0};

    (void)state;
    assert_int_equal(pg_exec(s, "SELECT 1/0", &err, "dividing"), CO_EDATA);
    assert_contains(err.msg, "dividing: division by zero [SQLSTATE 22012]");
    assert_string_equal(pg_last_sqlstate(s), "22012");
    assert_int_equal(pg_exec(s, "SELEC 1", &err, "a typo"), CO_ETARGET);
    assert_string_equal(pg_last_sqlstate(s), "42601");
    assert_int_equal(pg_set_timeouts(s, 100, 0, &err), 0);
    assert_int_equal(pg_exec(s, "SELECT pg_sleep(30)", &err, "sleeping"),
                     CO_ETIMEOUT);
    assert_contains(err.msg, "canceling statement due to statement timeout");
    assert_string_equal(pg_last_sqlstate(s), "57014");
    assert_int_equal(pg_exec(s, "SELECT 1", &err, "anything"), 0);
    assert_string_equal(pg_last_sqlstate(s), "");
    pg_close(s);
}

/* A session the server ended is a lost connection, which callers
 * reconnect from, not a refusal. */
static void lost_session_is_connlost(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA), *other;
    struct pg_options o = ut_pg_options(SCHEMA);
    struct co_err err = {0};
    char sql[80];
    double ms = -1;

    (void)state;
    assert_int_equal(pg_probe(s, &ms, &err), 0);
    assert_true(ms >= 0);
    other = ut_pg_connect_opts(&o);
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)",
             pg_backend_pid(s));
    assert_string_equal(ut_pg_value(other, sql), "t");
    assert_int_equal(pg_probe(s, &ms, &err), CO_ECONNLOST);
    assert_contains(err.msg, "probing: ");
    assert_int_equal(pg_exec(s, "SELECT 1", &err, "again"), CO_ECONNLOST);
    pg_close(other);
    pg_close(s);
}

/* Names PostgreSQL would fold, refuse or misread unquoted. */
static const char *const odd_names[] = {
    "select", "Order", "we\"ird name", "tab\there", "naïve_ñ_表",
    "a.b", "\"", "x'y", "trailing ", "$1", NULL};

static void identifiers_round_trip(void **state)
{
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct sbuf sql;

    (void)state;
    sbuf_init(&sql);
    for (int i = 0; odd_names[i]; i++) {
        sbuf_reset(&sql);
        sbuf_adds(&sql, "CREATE TABLE ");
        pg_qualified(s, &sql, odd_names[i]);
        sbuf_adds(&sql, " (");
        pg_ident(&sql, odd_names[i]);
        sbuf_adds(&sql, " int)");
        ut_pg_exec(s, sbuf_str(&sql));
        sbuf_reset(&sql);
        sbuf_adds(&sql, "SELECT a.attname FROM pg_class c JOIN pg_attribute "
                        "a ON a.attrelid = c.oid AND a.attnum = 1 WHERE "
                        "c.relnamespace = '" SCHEMA "'::regnamespace AND "
                        "c.relname = ");
        pg_string(&sql, odd_names[i]);
        assert_string_equal(ut_pg_value(s, sbuf_str(&sql)), odd_names[i]);
    }
    sbuf_free(&sql);
    pg_close(s);
}

static void literals_round_trip(void **state)
{
    static const char *const texts[] = {
        "", "plain", "it's", "back\\slash", "\\'", "''\\\\''", "tab\tnl\ncr\r",
        "€ 𝄞 ü", "E'x'", "$$dollar$$", NULL};
    struct pg_session *s = ut_pg_fresh(SCHEMA);
    struct co_err err = {0};
    struct sbuf sql;

    (void)state;
    sbuf_init(&sql);
    for (int scs = 0; scs < 2; scs++) {
        ut_pg_exec(s, scs ? "SET standard_conforming_strings = off"
                          : "SET standard_conforming_strings = on");
        for (int i = 0; texts[i]; i++) {
            sbuf_reset(&sql);
            sbuf_adds(&sql, "SELECT");
            assert_int_equal(pg_literal(&sql, texts[i], strlen(texts[i]),
                                        &err), 0);
            assert_string_equal(ut_pg_value(s, sbuf_str(&sql)), texts[i]);
        }
    }
    sbuf_reset(&sql);
    assert_int_equal(pg_literal(&sql, "a\0b", 3, &err), CO_EDATA);
    assert_contains(err.msg, "NUL byte");
    sbuf_free(&sql);
    pg_close(s);
}

static void object_names_fit_63_bytes(void **state)
{
    char out[128];
    const char *greek = "αβγδεζηθικλμνξοπρστυφχψωαβγδεζ";

    (void)state;
    pg_object_name(out, sizeof out, PG_RLOG_PREFIX, "shop_order");
    assert_string_equal(out, "_cutover_rlog_shop_order");
    pg_object_name(out, sizeof out, PG_RLOG_PREFIX,
                   "a_table_name_of_exactly_forty_nine_bytes_xxxxxxxx");
    assert_int_equal(strlen(out), 63);
    assert_string_equal(out + 14,
                        "a_table_name_of_exactly_forty_nine_bytes_xxxxxxxx");
    pg_object_name(out, sizeof out, PG_RLOG_PREFIX,
                   "a_table_name_of_exactly_fifty_bytes_long_xxxxxxxxx");
    assert_int_equal(strlen(out), 63);
    assert_int_equal(out[63 - 17], '_');
    pg_object_name(out, sizeof out, PG_RLOG_PREFIX, greek);
    assert_true(strlen(out) <= 63);
    assert_true(utf8_valid((const unsigned char *)out, strlen(out)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(socket_session_is_set_up),
        cmocka_unit_test(unmarked_session_is_the_applications),
        cmocka_unit_test(tls_verify_full_over_tcp),
        cmocka_unit_test(wrong_password_is_named_not_shown),
        cmocka_unit_test(missing_password_variable),
        cmocka_unit_test(database_schema_server_tls_failures),
        cmocka_unit_test(errors_keep_their_sqlstate),
        cmocka_unit_test(lost_session_is_connlost),
        cmocka_unit_test(identifiers_round_trip),
        cmocka_unit_test(literals_round_trip),
        cmocka_unit_test(object_names_fit_63_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

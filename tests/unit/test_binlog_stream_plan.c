/*
 * test_binlog_stream_plan.c — sync/drivers/mysql/binlog_assess.c against a
 * real MariaDB with a binary log (tests/lib/with_mariadb.sh): a
 * server set up for binlog capture gets no finding; each setting changed
 * away from it (binlog_format, binlog_row_image, a retention shorter than
 * the migration, a user without the replication privileges, our server_id
 * taken) gets its own blocking finding with a hint; a retention only a
 * little longer than the migration is a warning. Each setting is put back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/assess.h"
#include "sync/drivers/mysql/binlog_stream.h"

#define OUR_ID 4244
#define HOUR 3600.0

struct found {
    int n;
    char code[8][32];
    enum assess_severity sev[8];
    int hinted;
};

static void add(void *arg, enum assess_severity sev, const char *code,
                const char *table, const char *column, const char *hint,
                const char *message)
{
    struct found *f = arg;

    (void)table;
    (void)column;
    (void)message;
    if (f->n >= 8)
        fail_msg("more than 8 findings");
    snprintf(f->code[f->n], sizeof f->code[0], "%s", code);
    f->sev[f->n++] = sev;
    f->hinted += hint != NULL;
}

static MYSQL *connect_as(const char *user, const char *password)
{
    const char *sock = getenv("CUTOVER_TEST_MY_SOCKET");
    MYSQL *m = mysql_init(NULL);

    if (!sock)
        fail_msg("CUTOVER_TEST_MY_SOCKET is not set "
                 "(tests/lib/with_mariadb.sh sets it)");
    if (!mysql_real_connect(m, NULL, user, password, NULL, 0, sock, 0))
        fail_msg("connect as %s: %s", user, mysql_error(m));
    return m;
}

static void run(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql) != 0)
        fail_msg("%s: %s", sql, mysql_error(m));
}

/* Assess as root (or `m`), expecting exactly one finding `code` of `sev`,
 * or none when code is NULL. */
static void expect(MYSQL *m, uint32_t id, double expected_s, const char *code,
                   enum assess_severity sev)
{
    struct found f = {0};
    struct assess_sink to = {add, &f};
    struct co_err err = {0};

    if (binlog_assess(m, id, expected_s, &to, &err) != 0)
        fail_msg("%s", err.msg);
    if (!code) {
        if (f.n)
            fail_msg("unexpected finding %s", f.code[0]);
        return;
    }
    assert_int_equal(f.n, 1);
    assert_string_equal(f.code[0], code);
    assert_int_equal(f.sev[0], sev);
    assert_int_equal(f.hinted, 1);
}

static void a_server_ready_for_capture(void **state)
{
    MYSQL *m = connect_as("root", NULL);

    (void)state;
    run(m, "SET GLOBAL binlog_expire_logs_seconds = 0");
    expect(m, OUR_ID, 2 * HOUR, NULL, 0);
    mysql_close(m);
}

static void each_setting_its_finding(void **state)
{
    MYSQL *m = connect_as("root", NULL);

    (void)state;
    run(m, "SET GLOBAL binlog_format = 'STATEMENT'");
    expect(m, OUR_ID, 2 * HOUR, "binlog_format", ASSESS_BLOCKING);
    run(m, "SET GLOBAL binlog_format = 'ROW'");
    run(m, "SET GLOBAL binlog_row_image = 'MINIMAL'");
    expect(m, OUR_ID, 2 * HOUR, "binlog_row_image", ASSESS_BLOCKING);
    run(m, "SET GLOBAL binlog_row_image = 'FULL'");
    run(m, "SET GLOBAL binlog_expire_logs_seconds = 3600");
    expect(m, OUR_ID, 2 * HOUR, "binlog_retention", ASSESS_BLOCKING);
    run(m, "SET GLOBAL binlog_expire_logs_seconds = 18000");
    expect(m, OUR_ID, 2 * HOUR, "binlog_retention", ASSESS_WARNING);
    run(m, "SET GLOBAL binlog_expire_logs_seconds = 0");
    expect(m, 1, 2 * HOUR, "server_id", ASSESS_BLOCKING);  /* the server's */
    mysql_close(m);
}

static void a_user_without_replication_rights(void **state)
{
    MYSQL *root = connect_as("root", NULL), *app;
    struct found f = {0};
    struct assess_sink to = {add, &f};
    struct co_err err = {0};

    (void)state;
    run(root, "DROP USER IF EXISTS 'plain'@'localhost'");
    run(root, "CREATE USER 'plain'@'localhost' IDENTIFIED BY 'pw'");
    run(root, "GRANT SELECT ON *.* TO 'plain'@'localhost'");
    app = connect_as("plain", "pw");
    if (binlog_assess(app, OUR_ID, 2 * HOUR, &to, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.code[0], "privileges");
    assert_string_equal(f.code[1], "privileges");
    mysql_close(app);
    run(root, "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO "
              "'plain'@'localhost'");
    app = connect_as("plain", "pw");
    expect(app, OUR_ID, 2 * HOUR, NULL, 0);
    mysql_close(app);
    mysql_close(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_server_ready_for_capture),
        cmocka_unit_test(each_setting_its_finding),
        cmocka_unit_test(a_user_without_replication_rights),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

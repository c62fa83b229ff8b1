/*
 * my_app.h — the application's side in the unit tests of the MySQL
 * source driver: its own connections to the private MariaDB that
 * tests/lib/run_unit.sh starts for them (tests/lib/with_mariadb.sh), and
 * its statements; and the source under test opened with its capture
 * installed. Header-only, like unit_util.h; include after <cmocka.h>.
 */
#ifndef CO_MY_APP_H
#define CO_MY_APP_H

#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runbook.h"
#include "sync/drivers/source.h"

static inline MYSQL *app_connect(const char *db)
{
    MYSQL *m = mysql_init(NULL);

    if (!getenv("CUTOVER_TEST_MY_SOCKET"))
        fail_msg("no test MariaDB: run this test through "
                 "tests/lib/run_unit.sh (make unit)");
    if (!mysql_real_connect(m, "localhost", "root", NULL, db, 0,
                            getenv("CUTOVER_TEST_MY_SOCKET"), 0))
        fail_msg("connect: %s", mysql_error(m));
    return m;
}

/* Run SQL; its error message ("" when none). */
static inline const char *app(MYSQL *m, const char *sql)
{
    static char msg[512];
    MYSQL_RES *res;

    msg[0] = '\0';
    if (mysql_query(m, sql) != 0)
        snprintf(msg, sizeof msg, "%s", mysql_error(m));
    else if ((res = mysql_store_result(m)))
        mysql_free_result(res);
    return msg;
}

static inline void app_ok(MYSQL *m, const char *sql)
{
    const char *msg = app(m, sql);

    if (msg[0])
        fail_msg("%s: %s", sql, msg);
}

/* The first value of the first row as a number (-1 when NULL or none). */
static inline long app_number(MYSQL *m, const char *sql)
{
    MYSQL_RES *res;
    MYSQL_ROW r;
    long n;

    if (mysql_query(m, sql) != 0 || !(res = mysql_store_result(m)))
        fail_msg("%s: %s", sql, mysql_error(m));
    r = mysql_fetch_row(res);
    n = r && r[0] ? atol(r[0]) : -1;
    mysql_free_result(res);
    return n;
}

/* The first value of the first row as text ("" when NULL or none),
 * valid until the next call. */
static inline const char *app_text(MYSQL *m, const char *sql)
{
    static char text[1024];
    MYSQL_RES *res;
    MYSQL_ROW r;

    if (mysql_query(m, sql) != 0 || !(res = mysql_store_result(m)))
        fail_msg("%s: %s", sql, mysql_error(m));
    r = mysql_fetch_row(res);
    snprintf(text, sizeof text, "%s", r && r[0] ? r[0] : "");
    mysql_free_result(res);
    return text;
}

/* The server's own word on the GTID of domain 0 at `pos` of `file`
 * (other tests of the same server write in other domains):
 * BINLOG_GTID_POS lists the last transaction of each domain before it. */
static inline const char *app_gtid_at(MYSQL *m, const char *file,
                                      unsigned long long pos)
{
    static char gtid[64];
    char sql[700];
    const char *list, *at;

    snprintf(sql, sizeof sql, "SELECT BINLOG_GTID_POS('%.512s', %llu)",
             file, pos);
    list = app_text(m, sql);
    at = strncmp(list, "0-", 2) == 0 ? list : strstr(list, ",0-");
    if (!at)
        fail_msg("%s: no GTID of domain 0 in \"%s\"", sql, list);
    at += *at == ',';
    snprintf(gtid, sizeof gtid, "%.*s", (int)strcspn(at, ","), at);
    return gtid;
}

/* The source of rb opened as migration `owner`, its schema in sc and
 * its change capture installed. */
static inline struct source *my_source_captured(const struct source_ops *ops,
                                                const struct runbook *rb,
                                                const char *owner,
                                                struct schema *sc)
{
    struct co_err err = {0};
    struct source *s;

    if (ops->open(rb, &s, &err) < 0)
        fail_msg("open: %s", err.msg);
    ops->set_owner(s, owner);
    if (ops->read_schema(s, rb, sc, &err) < 0 ||
        ops->capture_install(s, sc, &err) < 0)
        fail_msg("capture: %s", err.msg);
    return s;
}

static inline void my_source_close(const struct source_ops *ops,
                                   struct source *s, struct schema *sc,
                                   struct runbook *rb)
{
    ops->close(s);
    schema_free(sc);
    runbook_free(rb);
}

#endif

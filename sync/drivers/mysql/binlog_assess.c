/*
 * binlog_assess.c — what binlog capture needs of a source server, as plan
 * findings that say how to set each missing thing: the binary log on, in
 * ROW format with FULL row images, kept longer than the migration takes,
 * the replication privileges, and a server_id of our own.
 */
#include "sync/drivers/mysql/binlog_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sync/drivers/assess.h"

/* The first column of the first row of sql, as text ("" when NULL or no
 * row); -1 when the query fails (an unknown variable on this server). */
static int first_value(MYSQL *conn, const char *sql, char *out, size_t cap)
{
    MYSQL_RES *res;
    MYSQL_ROW row;

    out[0] = '\0';
    if (mysql_query(conn, sql) != 0 || !(res = mysql_store_result(conn)))
        return -1;
    if ((row = mysql_fetch_row(res)) && row[0])
        snprintf(out, cap, "%s", row[0]);
    mysql_free_result(res);
    return 0;
}

static void check_format(MYSQL *conn, const struct assess_sink *to)
{
    char v[64];

    if (first_value(conn, "SELECT @@global.binlog_format", v, sizeof v) == 0 &&
        strcasecmp(v, "ROW") != 0)
        assess_add(to, ASSESS_BLOCKING, "binlog_format", NULL, NULL,
                   "SET GLOBAL binlog_format = 'ROW', and in the server's "
                   "configuration; sessions already connected keep their "
                   "format until they reconnect",
                   "binlog_format is %s: binlog capture reads row events "
                   "only", v);
    if (first_value(conn, "SELECT @@global.binlog_row_image", v,
                    sizeof v) == 0 && strcasecmp(v, "FULL") != 0)
        assess_add(to, ASSESS_BLOCKING, "binlog_row_image", NULL, NULL,
                   "SET GLOBAL binlog_row_image = 'FULL', and in the "
                   "server's configuration",
                   "binlog_row_image is %s: an event may then leave out a "
                   "key column binlog capture needs", v);
}

/* How long the server keeps binary logs, in seconds; 0 forever. */
static double retention_s(MYSQL *conn)
{
    char v[64];

    if (first_value(conn, "SELECT @@global.binlog_expire_logs_seconds", v,
                    sizeof v) == 0)
        return strtod(v, NULL);
    if (first_value(conn, "SELECT @@global.expire_logs_days", v,
                    sizeof v) == 0)
        return strtod(v, NULL) * 86400;
    return 0;
}

static void check_retention(MYSQL *conn, double expected_s,
                            const struct assess_sink *to)
{
    double kept = retention_s(conn);

    if (kept <= 0 || kept >= 4 * expected_s)
        return;
    assess_add(to, kept < expected_s ? ASSESS_BLOCKING : ASSESS_WARNING,
               "binlog_retention", NULL, NULL,
               "raise binlog_expire_logs_seconds for the migration (SET "
               "GLOBAL binlog_expire_logs_seconds = ...)",
               "the server purges binary logs after %.1f h and the "
               "migration may take %.1f h: a purge past the position capture "
               "has reached stops the migration", kept / 3600,
               expected_s / 3600);
}

/* A grant line names the privilege, or ALL PRIVILEGES ON *.*. */
static int granted(const char *grants, const char *privilege)
{
    return strstr(grants, privilege) || strstr(grants, "ALL PRIVILEGES ON *.*");
}

static void check_privileges(MYSQL *conn, const struct assess_sink *to)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    char grants[8192] = "";
    size_t n = 0;

    if (mysql_query(conn, "SHOW GRANTS FOR CURRENT_USER()") != 0 ||
        !(res = mysql_store_result(conn)))
        return;
    while ((row = mysql_fetch_row(res)) && n < sizeof grants)
        n += (size_t)snprintf(grants + n, sizeof grants - n, "%s\n",
                              row[0] ? row[0] : "");
    mysql_free_result(res);
    if (!granted(grants, "REPLICATION SLAVE"))
        assess_add(to, ASSESS_BLOCKING, "privileges", NULL, NULL,
                   "GRANT REPLICATION SLAVE ON *.* TO the runbook's user",
                   "the user may not read the binary log (REPLICATION SLAVE "
                   "is missing)");
    /* MariaDB 10.5 renamed REPLICATION CLIENT to BINLOG MONITOR */
    if (!granted(grants, "REPLICATION CLIENT") &&
        !granted(grants, "BINLOG MONITOR") && !granted(grants, "SUPER"))
        assess_add(to, ASSESS_BLOCKING, "privileges", NULL, NULL,
                   "GRANT REPLICATION CLIENT (BINLOG MONITOR on MariaDB) ON "
                   "*.* TO the runbook's user",
                   "the user may not read the binary log's position");
}

static void check_server_id(MYSQL *conn, uint32_t ours,
                            const struct assess_sink *to)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    char v[32];
    int taken = 0;

    if (first_value(conn, "SELECT @@global.server_id", v, sizeof v) == 0 &&
        strtoul(v, NULL, 10) == ours)
        taken = 1;
    if (!taken && mysql_query(conn, "SHOW SLAVE HOSTS") == 0 &&
        (res = mysql_store_result(conn))) {
        while ((row = mysql_fetch_row(res)))
            taken |= row[0] && strtoul(row[0], NULL, 10) == ours;
        mysql_free_result(res);
    }
    if (taken)
        assess_add(to, ASSESS_BLOCKING, "server_id", NULL, NULL,
                   "give the migration another source.server_id",
                   "server_id %u is the server's own or a replica's: the "
                   "server would drop one of the two connections", ours);
}

int binlog_assess(MYSQL *conn, uint32_t our_server_id, double expected_s,
                  const struct assess_sink *to, struct co_err *err)
{
    char v[16];

    if (first_value(conn, "SELECT @@global.log_bin", v, sizeof v) < 0)
        return co_errf(err, CO_ESOURCE, "reading the server's settings: %s",
                       mysql_error(conn));
    if (strcmp(v, "1") != 0) {
        assess_add(to, ASSESS_BLOCKING, "log_bin", NULL, NULL,
                   "set log_bin and server_id in the server's configuration "
                   "and restart it (the binary log cannot be turned on while "
                   "the server runs), or set source.capture to \"triggers\"",
                   "the server keeps no binary log (log_bin is OFF): binlog "
                   "capture reads it");
        return 0;
    }
    check_format(conn, to);
    check_retention(conn, expected_s, to);
    check_privileges(conn, to);
    check_server_id(conn, our_server_id, to);
    return 0;
}

/* replica.c — what cutover asks of a replicated MySQL/MariaDB target:
 * server roles, replication thread status, GTID positions and waits, and
 * the heartbeat row that measures replica lag by our own clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/mysql/mysql_priv.h"
#include "lib/xalloc.h"

#define HEARTBEAT_TABLE "_cutover_heartbeat"

enum {
    ER_BAD_DB = 1049,
    ER_NO_DB = 1046,
    ER_NO_SUCH_TABLE = 1146,
    ER_PARSE = 1064,
};

static int is_mariadb(struct target *t)
{
    return strstr(t->server_info, "MariaDB") != NULL;
}

/* Run a query returning one row; vals[i] (cap each) get its columns. */
static int query_row(struct target *t, const char *sql, int n, char *vals,
                     size_t cap, struct co_err *err, const char *what)
{
    MYSQL_RES *res;
    MYSQL_ROW r;

    if (mysql_query(t->my, sql) != 0)
        return my_error(t, err, "%s", what);
    if (!(res = mysql_store_result(t->my)))
        return my_error(t, err, "%s", what);
    r = mysql_fetch_row(res);
    for (int i = 0; i < n; i++)
        snprintf(vals + (size_t)i * cap, cap, "%s",
                 r && i < (int)mysql_num_fields(res) && r[i] ? r[i] : "");
    mysql_free_result(res);
    return r ? 1 : 0;
}

int tmy_server_role(struct target *t, struct server_role *out,
                    struct co_err *err)
{
    char v[4][64];
    int rc;

    memset(out, 0, sizeof *out);
    rc = query_row(t, is_mariadb(t)
                          ? "SELECT @@server_id, @@read_only, @@log_bin, 1"
                          : "SELECT @@server_id, @@read_only, @@log_bin, "
                            "@@gtid_mode = 'ON'",
                   4, v[0], sizeof v[0], err, "reading the server's role");
    if (rc < 0)
        return rc;
    out->server_id = strtoll(v[0], NULL, 10);
    out->read_only = atoi(v[1]);
    out->logs_changes = atoi(v[2]);
    /* Positions are GTID sets: MariaDB writes GTIDs whenever it logs
     * binary; MySQL only with gtid_mode=ON. */
    out->can_wait = out->logs_changes && atoi(v[3]);
    snprintf(out->setup_hint, sizeof out->setup_hint, "%s",
             !out->logs_changes
                 ? "start the primary with log_bin (and, on MySQL, "
                   "gtid_mode=ON)"
                 : "set gtid_mode=ON and enforce_gtid_consistency=ON on the "
                   "primary");
    snprintf(out->read_only_hint, sizeof out->read_only_hint,
             "SET GLOBAL read_only = ON on the replica (and in its "
             "configuration)");
    return 0;
}

/* Column i's value when its name is one of the two spellings (MySQL 8.0.22
 * renamed Slave_/Master_ to Replica_/Source_). */
static const char *field(MYSQL_RES *res, MYSQL_ROW r, const char *old_name,
                         const char *new_name)
{
    MYSQL_FIELD *f = mysql_fetch_fields(res);

    for (unsigned i = 0; i < mysql_num_fields(res); i++)
        if (strcmp(f[i].name, old_name) == 0 ||
            strcmp(f[i].name, new_name) == 0)
            return r[i] ? r[i] : "";
    return "";
}

int tmy_replica_status(struct target *t, struct replica_status *out,
                       struct co_err *err)
{
    MYSQL_RES *res;
    MYSQL_ROW r;
    const char *io_err, *sql_err, *behind;

    memset(out, 0, sizeof *out);
    out->lag_s = -1;
    snprintf(out->fix_hint, sizeof out->fix_hint,
             "fix replication on the replica (SHOW REPLICA STATUS shows why "
             "it stopped) and START REPLICA before migrating");
    if (mysql_query(t->my, "SHOW REPLICA STATUS") != 0 &&
        (mysql_errno(t->my) != ER_PARSE ||
         mysql_query(t->my, "SHOW SLAVE STATUS") != 0))
        return my_error(t, err, "reading replication status");
    if (!(res = mysql_store_result(t->my)))
        return my_error(t, err, "reading replication status");
    if ((r = mysql_fetch_row(res))) {
        out->configured = 1;
        out->receiving = strcmp(field(res, r, "Slave_IO_Running",
                                       "Replica_IO_Running"), "Yes") == 0;
        out->applying = strcmp(field(res, r, "Slave_SQL_Running",
                                        "Replica_SQL_Running"), "Yes") == 0;
        io_err = field(res, r, "Last_IO_Error", "Last_IO_Error");
        sql_err = field(res, r, "Last_SQL_Error", "Last_SQL_Error");
        snprintf(out->error, sizeof out->error, "%s%s%s", sql_err,
                 *sql_err && *io_err ? "; " : "", io_err);
        out->source_id = strtoll(
            field(res, r, "Master_Server_Id", "Source_Server_Id"), NULL, 10);
        behind = field(res, r, "Seconds_Behind_Master",
                       "Seconds_Behind_Source");
        if (*behind)
            out->lag_s = strtod(behind, NULL);
    }
    mysql_free_result(res);
    return 0;
}

int tmy_replication_position(struct target *t, char *buf, size_t cap,
                      struct co_err *err)
{
    int rc = my_query_first(t, is_mariadb(t) ? "SELECT @@gtid_binlog_pos"
                                             : "SELECT @@global.gtid_executed",
                            buf, cap, err, "reading the GTID position");
    if (rc < 0)
        return rc;
    if (strlen(buf) + 1 >= cap)
        return co_errf(err, CO_ETARGET, "target %s: the GTID position is "
                       "longer than %zu bytes", t->label, cap - 2);
    return 0;
}

int tmy_position_wait(struct target *t, const char *pos, double timeout_s,
                  struct co_err *err)
{
    size_t n = strlen(pos);
    char *quoted, *sql, result[32];
    int rc;

    if (n == 0)
        return 1;          /* nothing was ever logged: nothing to wait for */
    quoted = xmalloc(2 * n + 1);
    sql = xmalloc(2 * n + 128);
    mysql_real_escape_string(t->my, quoted, pos, (unsigned long)n);
    if (timeout_s < 0)
        timeout_s = 0;
    /* MASTER_GTID_WAIT answers 0 or -1 (timeout);
     * WAIT_FOR_EXECUTED_GTID_SET answers 0 or 1 (timeout). */
    snprintf(sql, 2 * n + 128, is_mariadb(t)
             ? "SELECT MASTER_GTID_WAIT('%s', %.3f)"
             : "SELECT WAIT_FOR_EXECUTED_GTID_SET('%s', %.3f)",
             quoted, timeout_s);
    rc = my_query_first(t, sql, result, sizeof result, err,
                        "waiting for the replica to reach a GTID position");
    free(quoted);
    free(sql);
    if (rc < 0)
        return rc;
    return strcmp(result, "0") == 0;
}

int tmy_heartbeat_write(struct target *t, int64_t us, struct co_err *err)
{
    char sql[160];
    int rc;

    snprintf(sql, sizeof sql, "REPLACE INTO " HEARTBEAT_TABLE
             " (id, beat_us) VALUES (1, %lld)", (long long)us);
    if (mysql_query(t->my, sql) == 0)
        return 0;
    if (mysql_errno(t->my) != ER_NO_SUCH_TABLE)
        return my_error(t, err, "writing the replication heartbeat");
    rc = my_exec(t, "CREATE TABLE IF NOT EXISTS " HEARTBEAT_TABLE
                    " (id TINYINT UNSIGNED NOT NULL PRIMARY KEY, "
                    "beat_us BIGINT NOT NULL) ENGINE=InnoDB",
                 err, "creating the replication heartbeat table");
    return rc < 0 ? rc : my_exec(t, sql, err,
                                 "writing the replication heartbeat");
}

int tmy_heartbeat_read(struct target *t, int64_t *us, struct co_err *err)
{
    char buf[32];
    unsigned int e;
    int rc;

    *us = 0;
    rc = my_query_first(t, "SELECT beat_us FROM " HEARTBEAT_TABLE
                           " WHERE id = 1", buf, sizeof buf, err,
                        "reading the replication heartbeat");
    if (rc >= 0) {
        *us = strtoll(buf, NULL, 10);
        return 0;
    }
    /* The table (or the database) has not replicated yet: no beat seen. */
    e = mysql_errno(t->my);
    return e == ER_NO_SUCH_TABLE || e == ER_BAD_DB || e == ER_NO_DB ? 0 : rc;
}

int tmy_heartbeat_drop(struct target *t, struct co_err *err)
{
    return my_exec_allow_warnings(t, "DROP TABLE IF EXISTS " HEARTBEAT_TABLE,
                                  err, "dropping the heartbeat table");
}

/*
 * source_assess.c — what plan must know about a MySQL/MariaDB source:
 * the server, the privileges trigger capture and the freeze need (and
 * with binlog capture what it needs of the binary log), the
 * settings that decide whether we may create triggers at all, and the
 * inventory of what will not move (stored procedures, functions and
 * events here; views and triggers come with the schema).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runbook.h"
#include "sync/drivers/assess.h"
#include "sync/drivers/mysql/binlog_stream.h"
#include "sync/drivers/mysql/source_priv.h"

/* How long binlog capture expects to need the binary log: a purge before
 * the migration ends stops it (the plan's retention check). */
#define BINLOG_EXPECTED_S (24 * 3600.0)

/* The privileges of the current user on the source database, as the
 * server's own words ("SELECT", "LOCK TABLES", ...), space separated. */
#define GRANTEE                                                              \
    "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', "        \
    "SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')"

static int held_privileges(struct source *s, char *out, size_t cap,
                           struct co_err *err)
{
    return my_query_first(s->c,
        "SELECT CONCAT(' ', GROUP_CONCAT(p SEPARATOR ' '), ' ') FROM ("
        "SELECT PRIVILEGE_TYPE p FROM information_schema.USER_PRIVILEGES "
        "WHERE GRANTEE = " GRANTEE " UNION SELECT PRIVILEGE_TYPE FROM "
        "information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = " GRANTEE
        " AND DATABASE() LIKE TABLE_SCHEMA) x", out, cap, err,
        "reading the privileges");
}

static void check_privileges(struct source *s, const struct assess_sink *to,
                             struct co_err *err)
{
    /* what capture, the freeze, the fence and rollback writes need */
    static const char *const need[] = {
        "SELECT", "LOCK TABLES", "TRIGGER", "CREATE", "DROP", "INSERT",
        "UPDATE", "DELETE", NULL};
    char held[2048], missing[256] = "", word[40];

    if (held_privileges(s, held, sizeof held, err) < 0) {
        assess_add(to, ASSESS_WARNING, "source_privileges", NULL, NULL,
                   NULL, "the source's privileges could not be read: %s",
                   err->msg);
        return;
    }
    for (int i = 0; need[i]; i++) {
        snprintf(word, sizeof word, " %s ", need[i]);
        if (!strstr(held, word))
            snprintf(missing + strlen(missing), sizeof missing -
                     strlen(missing), "%s%s", missing[0] ? ", " : "",
                     need[i]);
    }
    if (missing[0])
        assess_add(to, ASSESS_BLOCKING, "source_privileges", NULL, NULL,
                   "GRANT them on the source database to the migration's "
                   "user (trigger capture, the write freeze and the fence "
                   "need them)",
                   "the source user %s lacks %s on database %s",
                   s->rb->source.server.user, missing, s->c->database);
}

/* With a binary log, a user without SUPER may create triggers only when
 * log_bin_trust_function_creators is on. */
static void check_settings(struct source *s, const struct assess_sink *to,
                           struct co_err *err)
{
    char v[256], held[2048];

    /* MariaDB shows these as ON/OFF, MySQL as 1/0: + 0 makes both 1/0 */
    if (my_query_first(s->c, "SELECT CONCAT(@@log_bin + 0, ' ', "
                       "@@log_bin_trust_function_creators + 0)", v, sizeof v,
                       err, "reading settings") < 0)
        return;
    if (strcmp(v, "1 0") == 0 &&
        held_privileges(s, held, sizeof held, err) >= 0 &&
        !strstr(held, " SUPER "))
        assess_add(to, ASSESS_WARNING, "log_bin_trust_function_creators",
                   NULL, NULL, "SET GLOBAL log_bin_trust_function_creators "
                   "= 1, or run the migration as a user with SUPER",
                   "the source writes a binary log and "
                   "log_bin_trust_function_creators is off: creating the "
                   "capture triggers needs SUPER");
    if (my_query_first(s->c, "SELECT VERSION()", v, sizeof v, err,
                       "reading the version") > 0)
        assess_add(to, ASSESS_INFO, "source_server", NULL, NULL, NULL,
                   "source server %s (%s), change capture: %s", v,
                   s->c->label, s->binlog ? "binlog"
                   : s->rb->source.capture_binlog == 0
                   ? "triggers"
                   : "triggers (the server does not log ROW events with "
                     "FULL images, which binlog capture reads)");
}

/* Stored routines and events, each by name: they stay on the source. */
static void inventory(struct source *s, const struct assess_sink *to,
                      const char *target_engine, struct co_err *err)
{
    MYSQL_RES *res;
    MYSQL_ROW r;
    char hint[160];

    if (mysql_query(s->c->my,
                    "SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM "
                    "information_schema.ROUTINES WHERE ROUTINE_SCHEMA = "
                    "DATABASE() UNION ALL SELECT 'event', EVENT_NAME FROM "
                    "information_schema.EVENTS WHERE EVENT_SCHEMA = "
                    "DATABASE() ORDER BY 1, 2") != 0 ||
        !(res = mysql_store_result(s->c->my))) {
        my_error(s->c, err, "listing routines and events");
        assess_add(to, ASSESS_WARNING, "inventory", NULL, NULL, NULL,
                   "stored routines and events could not be listed: %s",
                   err->msg);
        return;
    }
    while ((r = mysql_fetch_row(res))) {
        int event = strcmp(r[0], "event") == 0;
        if (event)
            snprintf(hint, sizeof hint, "recreate it on the %s target "
                     "(SHOW CREATE EVENT) and disable it on the source "
                     "after the switch", target_engine);
        else
            snprintf(hint, sizeof hint, "recreate it on the %s target "
                     "(SHOW CREATE %s) before the switch", target_engine,
                     strcmp(r[0], "function") == 0 ? "FUNCTION"
                                                   : "PROCEDURE");
        assess_add(to, ASSESS_WARNING, r[0], r[1], NULL, hint,
                   "%s %s will not be migrated", r[0], r[1]);
    }
    mysql_free_result(res);
}

/* What a table has that is not copied: CHECK constraints (but MariaDB's
 * own json_valid one, which "JSON" brings back), generated columns. */
static void table_inventory(struct source *s, const struct table *t,
                            const struct assess_sink *to)
{
    struct sbuf sql;
    MYSQL_RES *res;
    MYSQL_ROW r;

    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT 'check', CONSTRAINT_NAME, CHECK_CLAUSE FROM "
                    "information_schema.CHECK_CONSTRAINTS WHERE "
                    "CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ");
    my_string(s->c, &sql, t->name);
    sbuf_adds(&sql, " AND CHECK_CLAUSE NOT LIKE 'json\\_valid(%' "
                    "UNION ALL SELECT 'generated', COLUMN_NAME, "
                    "GENERATION_EXPRESSION FROM information_schema.COLUMNS "
                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ");
    my_string(s->c, &sql, t->name);
    sbuf_adds(&sql, " AND EXTRA LIKE '%GENERATED%'");
    /* a server without CHECK_CONSTRAINTS (MySQL 5.7) has no checks */
    if (mysql_query(s->c->my, sbuf_str(&sql)) == 0 &&
        (res = mysql_store_result(s->c->my))) {
        while ((r = mysql_fetch_row(res))) {
            if (strcmp(r[0], "check") == 0)
                assess_add(to, ASSESS_WARNING, "check_constraint", t->name,
                           NULL, "add it on the target after the copy",
                           "CHECK constraint %s (%s) will not be migrated",
                           r[1], r[2] ? r[2] : "");
            else
                assess_add(to, ASSESS_WARNING, "generated_column", t->name,
                           r[1], "add it on the target (ALTER TABLE ... ADD "
                           "COLUMN ... AS (...)) before the switch",
                           "generated column %s AS (%s) will not be "
                           "migrated: its values are computed, not copied",
                           r[1], r[2] ? r[2] : "");
        }
        mysql_free_result(res);
    }
    sbuf_free(&sql);
}

/* A table whose engine is not transactional: the capture triggers'
 * writes are not part of the application's transaction, and reads are not
 * a consistent snapshot. And what the table has that is not copied. */
void smy_assess_table(struct source *s, const struct runbook *rb,
                      const struct table *t, const struct assess_sink *to)
{
    struct co_err err = {0};
    struct sbuf sql;
    char engine[64];

    (void)rb;
    table_inventory(s, t, to);
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT ENGINE FROM information_schema.TABLES WHERE "
                    "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ");
    my_string(s->c, &sql, t->name);
    if (my_query_first(s->c, sbuf_str(&sql), engine, sizeof engine, &err,
                       "reading the table's engine") > 0 &&
        strcmp(engine, "InnoDB") != 0)
        assess_add(to, ASSESS_WARNING, "table_engine", t->name, NULL,
                   "ALTER TABLE ... ENGINE=InnoDB before the migration",
                   "table %s uses the %s engine: its changes are logged "
                   "outside the application's transactions and its copy "
                   "is not read from one snapshot", t->name, engine);
    sbuf_free(&sql);
}

int smy_assess(struct source *s, const struct runbook *rb,
               const struct assess_sink *to, struct co_err *err)
{
    struct co_err scratch = {0};

    (void)err;
    check_settings(s, to, &scratch);
    check_privileges(s, to, &scratch);
    if (s->binlog && binlog_assess(s->c->my, sbl_server_id(rb),
                                   BINLOG_EXPECTED_S, to, &scratch) < 0)
        assess_add(to, ASSESS_WARNING, "binlog", NULL, NULL, NULL,
                   "the binary log's settings could not be read: %s",
                   scratch.msg);
    inventory(s, to, rb->target.type, &scratch);
    return 0;
}

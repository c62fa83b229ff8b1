/*
 * pg_position.c — identity sequences carried past the copied keys, and
 * WAL positions: where a primary is, how far a standby has replayed,
 * waiting until a standby has what was committed, a standby's status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/events.h"
#include "sync/drivers/postgresql/pg_priv.h"

#define WAL_POLL_US 10000

/* The sequence of tb's column `col` (identity or serial), as text that
 * casts to regclass; CO_ESCHEMA when the column has none. */
static int sequence_of(struct pg_session *s, const struct table *tb,
                       const char *col, char *out, size_t cap,
                       struct co_err *err)
{
    const char *params[3] = {s->schema, tb->name, col};
    PGresult *res = PQexecParams(s->conn,
        "SELECT pg_get_serial_sequence(format('%I.%I', $1::text, $2::text), "
        "$3)", 3, NULL, params, NULL, NULL, 0);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_check(s, res, PGRES_TUPLES_OK, err,
                        "looking for the identity sequence of table",
                        tb->name);
    if (PQgetisnull(res, 0, 0))
        rc = co_errf(err, CO_ESCHEMA, "target %s: table %s: column %s has "
                     "no identity sequence to carry past its maximum",
                     s->label, tb->name, col);
    else
        snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

int pg_set_next_id(struct pg_session *s, const struct table *tb, int col,
                   int64_t at_least, int64_t *next, struct co_err *err)
{
    const char *name = tb->cols[col].name;
    char seq[2 * PG_NAME_MAX + 8];
    const char *params[1] = {seq};
    struct sbuf sql;
    PGresult *res;
    int rc = sequence_of(s, tb, name, seq, sizeof seq, err);

    if (rc < 0)
        return rc;
    /* never backwards: values the application took from the sequence
     * since (rows it deleted again) must not come twice. The sequence's
     * name is the server's own quoting of it. */
    sbuf_init(&sql);
    sbuf_adds(&sql, "SELECT setval($1::regclass, greatest((SELECT max(");
    pg_ident(&sql, name);
    sbuf_adds(&sql, ") FROM ");
    pg_qualified(s, &sql, tb->name);
    sbuf_addf(&sql, ") + 1, (SELECT CASE WHEN is_called THEN last_value + 1 "
                    "ELSE last_value END FROM %s), %lld), false)", seq,
              (long long)at_least);
    if (sql.oom) {
        sbuf_free(&sql);
        return co_errf(err, CO_ENOMEM, "out of memory");
    }
    res = PQexecParams(s->conn, sbuf_str(&sql), 1, NULL, params, NULL, NULL,
                       0);
    sbuf_free(&sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_check(s, res, PGRES_TUPLES_OK, err,
                        "setting the identity sequence of table", tb->name);
    if (next)
        *next = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

/* The end of everything inserted into the WAL on a primary (at least the
 * end of every commit record, synchronous_commit off included), or the
 * end of what a standby has replayed. */
#define POSITION_SQL                                                         \
    "CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "          \
    "ELSE pg_current_wal_insert_lsn() END"

int pg_wal_position(struct pg_session *s, char *buf, size_t cap,
                    int *standby, struct co_err *err)
{
    PGresult *res = PQexec(s->conn, "SELECT pg_is_in_recovery(), "
                                    POSITION_SQL);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_check(s, res, PGRES_TUPLES_OK, err,
                        "reading the WAL position", NULL);
    if (standby)
        *standby = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    if (PQgetisnull(res, 0, 1))
        rc = co_errf(err, CO_ETARGET, "target %s: the standby has replayed "
                     "nothing from a primary yet (pg_last_wal_replay_lsn() "
                     "is NULL)", s->label);
    else
        snprintf(buf, cap, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    return rc;
}

int pg_wal_wait(struct pg_session *s, const char *lsn, double timeout_s,
                struct co_err *err)
{
    const char *params[1] = {lsn};
    double deadline = mono_s() + timeout_s;

    for (;;) {
        PGresult *res = PQexecParams(s->conn,
            "SELECT coalesce(" POSITION_SQL " >= $1::pg_lsn, false), "
            POSITION_SQL ", pg_is_in_recovery() AND pg_is_wal_replay_paused()",
            1, NULL, params, NULL, NULL, 0);
        char at[64];
        int reached, paused;

        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            return pg_check(s, res, PGRES_TUPLES_OK, err,
                            "waiting for WAL position", lsn);
        reached = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        snprintf(at, sizeof at, "%s", PQgetisnull(res, 0, 1)
                 ? "nothing" : PQgetvalue(res, 0, 1));
        paused = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
        PQclear(res);
        if (reached)
            return 0;
        if (mono_s() >= deadline)
            return co_errf(err, CO_ETIMEOUT, "target %s: waited %.1f s for "
                           "WAL position %s; the server is at %s%s",
                           s->label, timeout_s, lsn, at, paused
                           ? " and its replay is paused "
                             "(pg_wal_replay_resume())" : "");
        usleep(WAL_POLL_US);
    }
}

int pg_replica_status(struct pg_session *s, struct pg_replica *out,
                      struct co_err *err)
{
    /* pg_stat_wal_receiver has a row while the receiver runs; its details
     * are for privileged roles only, the row itself for everyone */
    PGresult *res = PQexec(s->conn,
        "SELECT pg_is_in_recovery(), "
        "(SELECT count(*) FROM pg_stat_wal_receiver) > 0, "
        "pg_is_in_recovery() AND pg_is_wal_replay_paused(), "
        "CASE WHEN NOT pg_is_in_recovery() THEN 0 "
        "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
        "ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) "
        "END, " POSITION_SQL);

    memset(out, 0, sizeof *out);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_check(s, res, PGRES_TUPLES_OK, err,
                        "reading the replication status", NULL);
    out->standby = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    out->receiving = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    out->paused = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    out->lag_s = PQgetisnull(res, 0, 3) ? -1
                                         : strtod(PQgetvalue(res, 0, 3), NULL);
    snprintf(out->position, sizeof out->position, "%s",
             PQgetisnull(res, 0, 4) ? "" : PQgetvalue(res, 0, 4));
    PQclear(res);
    return 0;
}

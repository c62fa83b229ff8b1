/*
 * test_binlog_gtid.c — sync/drivers/mysql/binlog_gtid.c: a transaction's
 * GTID from its GTID event.
 *  - every GTID event of a binlog captured from MariaDB 10.11
 *    (tests/unit/files/binlog/full.binlog, server_id 1, a fresh log) reads
 *    as 0-1-1, 0-1-2, ... in order;
 *  - the binlog the private MariaDB of tests/lib/with_mariadb.sh is
 *    writing, read from its file: every GTID event reads as the server
 *    itself shows it (SHOW BINLOG EVENTS);
 *  - MySQL's GTID_LOG_EVENT (no MySQL server here: bytes laid out as
 *    MySQL's Gtid_log_event writes them) and its anonymous one;
 *  - bodies shorter than the fixed part are CO_EPROTOCOL, never read past
 *    (this file also runs under ASan: make asan-unit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/mysql/binlog_gtid.h"
#include "tests/unit/binlog_file.h"
#include "tests/unit/my_app.h"
#include "tests/unit/unit_util.h"

/* A GTID event of a binlog file: where it is and what it reads as. */
struct found {
    size_t offset;
    char gtid[GTID_MAX];
};

/* The MariaDB GTID events of the binlog file at path (at most max). */
static int gtids_in(const char *path, struct found *out, int max)
{
    struct binlog_walk w;
    struct co_err err = {0};
    unsigned char *data;
    size_t len;
    int rc, n = 0;

    if (!(data = (unsigned char *)ut_read_file(path, &len)))
        fail_msg("cannot read %s", path);
    assert_int_equal(binlog_walk_init(&w, data, len), 0);
    while ((rc = binlog_walk_next(&w)) == 1) {
        uint32_t server_id = binlog_le32(w.data + w.offset + 5);
        if (w.type != BINLOG_MARIADB_GTID)
            continue;
        assert_true(n < max);
        out[n].offset = w.offset;
        assert_int_equal(binlog_gtid_decode(w.type, server_id, w.body,
                                            w.body_len, out[n].gtid, &err),
                         1);
        n++;
    }
    assert_int_equal(rc, 0);
    free(data);
    return n;
}

static void a_captured_binlog_counts_up(void **state)
{
    char *dir = ut_fixture_dir(), file[PATH_MAX], want[GTID_MAX];
    struct found found[64];
    int n;

    (void)state;
    snprintf(file, sizeof file, "%s/binlog/full.binlog", dir);
    free(dir);
    n = gtids_in(file, found, 64);
    assert_int_equal(n, 48);
    for (int i = 0; i < n; i++) {
        snprintf(want, sizeof want, "0-1-%d", i + 1);
        assert_string_equal(found[i].gtid, want);
    }
}

/* The Info of the server's GTID event at `pos` of `file`: "BEGIN GTID
 * 0-1-5" (a transaction) or "GTID 0-1-5" (a statement of its own). */
static const char *server_says(MYSQL *m, const char *file, size_t pos)
{
    static char info[128];
    char sql[1200];
    MYSQL_RES *res;
    MYSQL_ROW r;

    snprintf(sql, sizeof sql, "SHOW BINLOG EVENTS IN '%.1024s' FROM %zu "
             "LIMIT 1", file, pos);
    if (mysql_query(m, sql) != 0 || !(res = mysql_store_result(m)))
        fail_msg("%s: %s", sql, mysql_error(m));
    r = mysql_fetch_row(res);
    if (!r || strcmp(r[2], "Gtid") != 0)
        fail_msg("%s: not a Gtid event", sql);
    snprintf(info, sizeof info, "%s", r[5]);
    mysql_free_result(res);
    return strncmp(info, "BEGIN ", 6) == 0 ? info + 6 : info;
}

static void the_live_server_agrees(void **state)
{
    MYSQL *m = app_connect(NULL);
    char file[1024], base[1024], path[2100], said[GTID_MAX + 8];
    struct found found[64];
    int n, other = 0;

    (void)state;
    app_ok(m, "FLUSH BINARY LOGS");
    app_ok(m, "DROP DATABASE IF EXISTS unit_gtid");
    app_ok(m, "CREATE DATABASE unit_gtid");
    app_ok(m, "CREATE TABLE unit_gtid.t (id INT PRIMARY KEY)");
    app_ok(m, "INSERT INTO unit_gtid.t VALUES (1), (2)");
    app_ok(m, "SET SESSION gtid_domain_id = 7, SESSION server_id = 12345");
    app_ok(m, "INSERT INTO unit_gtid.t VALUES (3)");
    app_ok(m, "SET SESSION gtid_domain_id = 0, SESSION server_id = 1");
    app_ok(m, "BEGIN");
    app_ok(m, "DELETE FROM unit_gtid.t WHERE id = 1");
    app_ok(m, "UPDATE unit_gtid.t SET id = 4 WHERE id = 2");
    app_ok(m, "COMMIT");
    snprintf(file, sizeof file, "%s", app_text(m, "SHOW MASTER STATUS"));
    /* closed, so that its FORMAT_DESCRIPTION's checksum holds (a log in
     * use has a flag set that the checksum was not computed with) */
    app_ok(m, "FLUSH BINARY LOGS");
    snprintf(base, sizeof base, "%s", app_text(m, "SELECT "
             "@@log_bin_basename"));
    snprintf(path, sizeof path, "%.*s/%s", (int)(strrchr(base, '/') - base),
             base, file);
    n = gtids_in(path, found, 64);
    assert_true(n >= 5);     /* DDL, INSERT x 2, the BEGIN ... COMMIT */
    for (int i = 0; i < n; i++) {
        snprintf(said, sizeof said, "GTID %s", found[i].gtid);
        assert_string_equal(said, server_says(m, file, found[i].offset));
        other += strncmp(found[i].gtid, "7-12345-", 8) == 0;
    }
    assert_int_equal(other, 1);  /* the domain and server of its header */
    app_ok(m, "DROP DATABASE unit_gtid");
    mysql_close(m);
}

static void mysql_gtids(void **state)
{
    /* flags, SID, GNO (little-endian), then the logical clocks */
    static const unsigned char gtid_ev[42] = {
        0x01, 0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33,
        0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62, 0x17, 0x01, 0, 0, 0, 0, 0, 0,
        0x02, 0x05};
    char gtid[GTID_MAX];
    struct co_err err = {0};

    (void)state;
    assert_int_equal(binlog_gtid_decode(BINLOG_MYSQL_GTID, 9, gtid_ev,
                                        sizeof gtid_ev, gtid, &err), 1);
    assert_string_equal(gtid, "3e11fa47-71ca-11e1-9e33-c80aa9429562:279");
    /* an anonymous one has the same layout, SID and GNO zero */
    assert_int_equal(binlog_gtid_decode(BINLOG_MYSQL_ANONYMOUS_GTID, 9,
                                        gtid_ev, sizeof gtid_ev, gtid, &err),
                     0);
    assert_string_equal(gtid, "");
    assert_int_equal(binlog_gtid_decode(19, 9, gtid_ev, sizeof gtid_ev, gtid,
                                        &err), 0);
}

static void short_bodies_are_refused(void **state)
{
    unsigned char *body;
    char gtid[GTID_MAX];
    struct co_err err = {0};

    (void)state;
    /* exactly the bytes asked for, so that ASan sees a read past them */
    for (size_t n = 0; n < 25; n++) {
        body = calloc(1, n ? n : 1);
        if (n < 13) {
            assert_int_equal(binlog_gtid_decode(BINLOG_MARIADB_GTID, 1, body,
                                                n, gtid, &err), CO_EPROTOCOL);
            assert_string_equal(gtid, "");
            assert_non_null(strstr(err.msg, "type 162"));
        } else {
            assert_int_equal(binlog_gtid_decode(BINLOG_MARIADB_GTID, 1, body,
                                                n, gtid, &err), 1);
        }
        assert_int_equal(binlog_gtid_decode(BINLOG_MYSQL_GTID, 1, body, n,
                                            gtid, &err), CO_EPROTOCOL);
        assert_non_null(strstr(err.msg, "shorter than its fixed part"));
        free(body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_captured_binlog_counts_up),
        cmocka_unit_test(the_live_server_agrees),
        cmocka_unit_test(mysql_gtids),
        cmocka_unit_test(short_bodies_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

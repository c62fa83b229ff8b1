/*
 * test_binlog_stream.c — sync/drivers/mysql/binlog_stream.c against a real
 * MariaDB keeping a row-based binary log (tests/lib/with_mariadb.sh
 * starts it): the row changes of the watched tables, in commit order, keys
 * before and after, across a rotation; nothing of other tables; a read
 * stopped inside a transaction leaves the position before it; the
 * position's GTID is the last whole transaction's, as the server says
 * (BINLOG_GTID_POS), and stays what it was while none is read; a purged
 * position is an error that says so; an unsigned key the log does not
 * describe is read from what the caller says of it, and refused without.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sync/drivers/mysql/binlog_stream.h"
#include "tests/unit/my_app.h"

#define MAX_SEEN 64

struct seen {
    int n;
    char line[MAX_SEEN][160];
    int stop_at;                /* return 1 at this change (1-based) */
};

static MYSQL *connect_db(void)
{
    const char *sock = getenv("CUTOVER_TEST_MY_SOCKET");
    MYSQL *m = mysql_init(NULL);

    if (!sock)
        fail_msg("CUTOVER_TEST_MY_SOCKET is not set "
                 "(tests/lib/with_mariadb.sh sets it)");
    if (!mysql_real_connect(m, NULL, "root", NULL, NULL, 0, sock, 0))
        fail_msg("connect: %s", mysql_error(m));
    return m;
}

static void run(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql) != 0)
        fail_msg("%s: %s", sql, mysql_error(m));
}

static void key_text(char *out, size_t cap, const struct value *v, unsigned n)
{
    size_t o = 0;

    if (!v) {
        snprintf(out, cap, "-");
        return;
    }
    for (unsigned k = 0; k < n && o < cap; k++) {
        const char *sep = k ? "," : "";
        if (v[k].type == V_INT)
            o += (size_t)snprintf(out + o, cap - o, "%s%lld", sep,
                                  (long long)v[k].i);
        else if (v[k].type == V_TEXT || v[k].type == V_BLOB)
            o += (size_t)snprintf(out + o, cap - o, "%s'%.*s'", sep,
                                  (int)v[k].n, (const char *)v[k].p);
        else
            o += (size_t)snprintf(out + o, cap - o, "%s?", sep);
    }
}

static const unsigned int_key[] = {0}, comp_key[] = {0, 1};

static const struct binlog_watch watches[] = {
    {.schema = "bs", .table = "w_int", .nkey = 1, .key_cols = int_key,
     .ncols = 2, .is_unsigned = (const unsigned char[]){1, 0},
     .charset = (const unsigned[]){0, 46}},
    {.schema = "bs", .table = "w_comp", .nkey = 2, .key_cols = comp_key,
     .ncols = 3, .is_unsigned = (const unsigned char[]){0, 0, 0},
     .charset = (const unsigned[]){46, 0, 46}},
};

static int remember(void *arg, const struct binlog_change *c,
                    struct co_err *err)
{
    static const char *const kinds[] = {"insert", "update", "delete"};
    struct seen *s = arg;
    char before[64], after[64];
    unsigned n = watches[c->watch].nkey;

    (void)err;
    if (s->stop_at && s->n + 1 == s->stop_at)
        return 1;
    if (s->n >= MAX_SEEN)
        fail_msg("more than %d changes", MAX_SEEN);
    key_text(before, sizeof before, c->before, n);
    key_text(after, sizeof after, c->after, n);
    snprintf(s->line[s->n++], sizeof s->line[0], "%s %s %s %s",
             watches[c->watch].table, kinds[c->kind], before, after);
    return 0;
}

static const char *const workload[] = {
    "BEGIN",
    "INSERT INTO bs.w_int VALUES (1, 'a'), (2, 'b')",
    "INSERT INTO bs.w_int VALUES (3, 'c')",
    "COMMIT",
    "UPDATE bs.w_int SET id = 10 WHERE id = 1",
    "DELETE FROM bs.w_int WHERE id = 2",
    "INSERT INTO bs.ignored VALUES (1)",
    "INSERT INTO bs.w_comp VALUES ('x', 1, 'abc'), ('y y', -2, 'q')",
    "UPDATE bs.w_comp SET c = 'zz' WHERE a = 'x'",
    "FLUSH BINARY LOGS",
    "DELETE FROM bs.w_comp WHERE a = 'y y'",
    "INSERT INTO bs.w_int VALUES (4294967295, 'max')",
};

static const char *const expected[] = {
    "w_int insert - 1",
    "w_int insert - 2",
    "w_int insert - 3",
    "w_int update 1 10",
    "w_int delete 2 -",
    "w_comp insert - 'x',1",
    "w_comp insert - 'y y',-2",
    "w_comp update 'x',1 'x',1",
    "w_comp delete 'y y',-2 -",
    "w_int insert - 4294967295",
};

#define NEXPECTED (sizeof expected / sizeof *expected)

/* The tables, then the position, then the workload: pos0 is where the
 * workload starts. */
static void prepare(struct binlog_position *pos0, struct binlog_position *end)
{
    MYSQL *m = connect_db();
    struct co_err err = {0};

    run(m, "DROP DATABASE IF EXISTS bs");
    run(m, "CREATE DATABASE bs");
    run(m, "CREATE TABLE bs.w_int (id INT UNSIGNED PRIMARY KEY, "
           "v VARCHAR(20))");
    run(m, "CREATE TABLE bs.w_comp (a VARCHAR(10), b INT, c CHAR(5), "
           "PRIMARY KEY (a, b))");
    run(m, "CREATE TABLE bs.ignored (id INT PRIMARY KEY)");
    if (binlog_position_now(m, pos0, &err) != 0)
        fail_msg("%s", err.msg);
    for (size_t i = 0; i < sizeof workload / sizeof *workload; i++)
        run(m, workload[i]);
    if (binlog_position_now(m, end, &err) != 0)
        fail_msg("%s", err.msg);
    mysql_close(m);
}

static int64_t read_from(struct binlog_position *pos,
                         const struct binlog_watch *w, struct seen *s,
                         struct co_err *err)
{
    MYSQL *m = connect_db();
    struct binlog_read_opts o = {.server_id = 4242};
    int64_t n = binlog_read_changes(m, &o, pos, w, 2, remember, s, NULL,
                                    err);

    mysql_close(m);
    return n;
}

static void expect_all(const struct seen *s)
{
    for (size_t i = 0; i < NEXPECTED && i < (size_t)s->n; i++)
        assert_string_equal(s->line[i], expected[i]);
    assert_int_equal(s->n, NEXPECTED);
}

static void expect_server_gtid(const struct binlog_position *pos)
{
    MYSQL *m = connect_db();

    assert_string_equal(pos->gtid, app_gtid_at(m, pos->file, pos->pos));
    mysql_close(m);
}

static void watched_changes_in_commit_order(void **state)
{
    struct binlog_position pos0, end, pos;
    struct seen s = {0};
    struct co_err err = {0};

    (void)state;
    prepare(&pos0, &end);
    pos = pos0;
    if (read_from(&pos, watches, &s, &err) != (int64_t)NEXPECTED)
        fail_msg("read: %s (%d changes)", err.msg, s.n);
    expect_all(&s);
    /* the read ends where the log ends, in the file the rotation began */
    assert_string_equal(pos.file, end.file);
    assert_int_equal(pos.pos, end.pos);
    assert_string_not_equal(pos.file, pos0.file);
    expect_server_gtid(&pos);
    /* and from there, nothing more */
    s.n = 0;
    assert_int_equal(read_from(&pos, watches, &s, &err), 0);
    assert_int_equal(pos.pos, end.pos);
    expect_server_gtid(&pos);
}

/* Stopping at the third row of the first transaction (its second
 * statement, a row event of its own): the position stays before that
 * transaction, so reading again gives it whole. */
static void stop_inside_a_transaction_keeps_it_whole(void **state)
{
    struct binlog_position pos0, end, pos;
    struct seen s = {.stop_at = 3};
    struct co_err err = {0};

    (void)state;
    prepare(&pos0, &end);
    pos = pos0;
    snprintf(pos.gtid, sizeof pos.gtid, "9-9-9");   /* the caller's */
    assert_int_equal(read_from(&pos, watches, &s, &err), 2);
    assert_string_equal(pos.file, pos0.file);
    assert_int_equal(pos.pos, pos0.pos);
    assert_string_equal(pos.gtid, "9-9-9");
    memset(&s, 0, sizeof s);
    s.stop_at = 5;          /* the DELETE, a transaction of its own */
    assert_int_equal(read_from(&pos, watches, &s, &err), 4);
    assert_true(pos.pos > pos0.pos);
    expect_server_gtid(&pos);           /* the UPDATE's, not the DELETE's */
    memset(&s, 0, sizeof s);
    assert_int_equal(read_from(&pos, watches, &s, &err),
                     (int64_t)NEXPECTED - 4);
    assert_string_equal(s.line[0], expected[4]);
}

static int has_log(MYSQL *m, const char *file)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    int found = 0;

    run(m, "SHOW BINARY LOGS");
    if (!(res = mysql_store_result(m)))
        fail_msg("SHOW BINARY LOGS: %s", mysql_error(m));
    while ((row = mysql_fetch_row(res)))
        found |= strcmp(row[0], file) == 0;
    mysql_free_result(res);
    return found;
}

static void purged_position_is_an_error(void **state)
{
    struct binlog_position pos0, end, pos;
    struct seen s = {0};
    struct co_err err = {0};
    char purge[600];
    MYSQL *m;

    (void)state;
    prepare(&pos0, &end);
    m = connect_db();
    /* MariaDB keeps a log until its transactions are checkpointed in
     * InnoDB, in the background: purge until the workload's first file
     * is gone */
    for (int i = 0; i < 100 && has_log(m, pos0.file); i++) {
        run(m, "FLUSH BINARY LOGS");
        if (binlog_position_now(m, &pos, &err) != 0)
            fail_msg("%s", err.msg);
        snprintf(purge, sizeof purge, "PURGE BINARY LOGS TO '%s'", pos.file);
        run(m, purge);
        usleep(100000);
    }
    assert_false(has_log(m, pos0.file));
    mysql_close(m);
    pos = pos0;
    assert_int_equal(read_from(&pos, watches, &s, &err), CO_EGAP);
    if (!strstr(err.msg, "is not on the server any more") ||
        !strstr(err.msg, pos0.file))
        fail_msg("message: %s", err.msg);
    assert_int_equal(s.n, 0);
}

/* The log does not say that w_int.id is unsigned (binlog_row_metadata
 * NO_LOG): a guess would read 4294967295 as -1. */
static void unsigned_key_needs_the_callers_word(void **state)
{
    struct binlog_position pos0, end, pos;
    struct binlog_watch blind[2] = {watches[0], watches[1]};
    struct seen s = {0};
    struct co_err err = {0};

    (void)state;
    prepare(&pos0, &end);
    blind[0].ncols = 0;
    pos = pos0;
    assert_int_equal(read_from(&pos, blind, &s, &err), CO_ESCHEMA);
    if (!strstr(err.msg, "w_int"))
        fail_msg("message: %s", err.msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(watched_changes_in_commit_order),
        cmocka_unit_test(stop_inside_a_transaction_keeps_it_whole),
        cmocka_unit_test(purged_position_is_an_error),
        cmocka_unit_test(unsigned_key_needs_the_callers_word),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * binlog_read_rate.c — how fast binlog capture reads row changes out of a
 * binary log (sync/drivers/mysql/binlog_stream.c: the dump, the framing,
 * our decoder, the keys handed over). Writes, on the server
 * tests/lib/with_mariadb.sh starts, ROWS rows (default 200,000) of
 * a 6-column table in statements of 1,000 rows, reads them, then as many
 * rows one statement each inside one transaction (a row event a row, as an
 * application writing row by row makes them), reads those; prints rows
 * and row events per second of wall time and of this process's CPU time
 * (the reader's own cost; the server sends the log on another core).
 *
 *   tests/lib/with_mariadb.sh bin/binlog_read_rate [ROWS]
 *
 * The last line is `RESULT {json}`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sync/drivers/mysql/binlog_stream.h"

#define MULTI_ROWS 1000

static double clock_s(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static MYSQL *connect_db(void)
{
    const char *sock = getenv("CUTOVER_TEST_MY_SOCKET");
    MYSQL *m = mysql_init(NULL);

    if (!sock) {
        fprintf(stderr, "binlog_read_rate: run it through "
                "tests/lib/with_mariadb.sh\n");
        exit(2);
    }
    if (!mysql_real_connect(m, NULL, "root", NULL, NULL, 0, sock, 0)) {
        fprintf(stderr, "binlog_read_rate: %s\n", mysql_error(m));
        exit(1);
    }
    return m;
}

static void run(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql) != 0) {
        fprintf(stderr, "binlog_read_rate: %s: %s\n", sql, mysql_error(m));
        exit(1);
    }
}

static int count_change(void *arg, const struct binlog_change *c,
                        struct co_err *err)
{
    (void)c;
    (void)err;
    ++*(long *)arg;
    return 0;
}

struct rate {
    double events_s, rows_s, events_cpu, rows_cpu;
    long rows;
};

static struct rate read_all(struct binlog_position *pos, const char *table)
{
    static const unsigned key[] = {0};
    const struct binlog_watch w = {
        .schema = "rate", .table = table, .nkey = 1, .key_cols = key,
        .ncols = 6,
        .is_unsigned = (const unsigned char[]){0, 0, 0, 0, 0, 0},
        .charset = (const unsigned[]){0, 0, 46, 0, 0, 46},
    };
    struct binlog_read_opts o = {.server_id = 4243};
    struct binlog_read_stats st = {0};
    struct co_err err = {0};
    struct rate r = {0};
    MYSQL *m = connect_db();
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    double wall, cpu;

    if (binlog_read_changes(m, &o, pos, &w, 1, count_change, &r.rows, &st,
                            &err) < 0) {
        fprintf(stderr, "binlog_read_rate: %s\n", err.msg);
        exit(1);
    }
    wall = clock_s(CLOCK_MONOTONIC) - t0;
    cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    mysql_close(m);
    r.events_s = (double)st.row_events / wall;
    r.rows_s = (double)r.rows / wall;
    r.events_cpu = (double)st.row_events / cpu;
    r.rows_cpu = (double)r.rows / cpu;
    return r;
}

static void position(MYSQL *m, struct binlog_position *pos)
{
    struct co_err err = {0};

    if (binlog_position_now(m, pos, &err) < 0) {
        fprintf(stderr, "binlog_read_rate: %s\n", err.msg);
        exit(1);
    }
}

#define COLUMNS "(id BIGINT PRIMARY KEY, user_id INT, status VARCHAR(16), " \
                "total DECIMAL(10,2), created_at DATETIME(6), note TEXT)"

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 200000;
    struct binlog_position pos;
    struct rate single, multi;
    char sql[512];
    MYSQL *m = connect_db();

    run(m, "DROP DATABASE IF EXISTS rate");
    run(m, "CREATE DATABASE rate");
    run(m, "CREATE TABLE rate.multi " COLUMNS);
    run(m, "CREATE TABLE rate.single " COLUMNS);
    run(m, "CREATE PROCEDURE rate.one_by_one(n INT) BEGIN "
           "DECLARE i INT DEFAULT 1; WHILE i <= n DO "
           "INSERT INTO rate.single VALUES (i, i % 1000, 'paid', i / 100, "
           "'2024-01-02 03:04:05.678901', 'κρασί'); SET i = i + 1; "
           "END WHILE; END");
    position(m, &pos);
    for (long i = 0; i < rows; i += MULTI_ROWS) {
        snprintf(sql, sizeof sql, "INSERT INTO rate.multi SELECT seq, "
                 "seq %% 1000, 'paid', seq / 100, "
                 "'2024-01-02 03:04:05.678901', 'κρασί' FROM rate.seq_%ld_to_%ld",
                 i + 1, i + MULTI_ROWS);
        run(m, sql);
    }
    multi = read_all(&pos, "multi");
    position(m, &pos);
    run(m, "BEGIN");
    snprintf(sql, sizeof sql, "CALL rate.one_by_one(%ld)", rows);
    run(m, sql);
    run(m, "COMMIT");
    single = read_all(&pos, "single");
    mysql_close(m);
    if (single.rows != rows || multi.rows < rows) {
        fprintf(stderr, "binlog_read_rate: read %ld and %ld rows, not %ld\n",
                single.rows, multi.rows, rows);
        return 1;
    }
    printf("binlog capture read rate, %ld rows a workload\n", rows);
    printf("  a row event a row:     %9.0f row events/s wall, %9.0f per CPU "
           "second of the reader\n", single.events_s, single.events_cpu);
    printf("  1,000 rows a statement: %9.0f rows/s wall,       %9.0f per CPU "
           "second of the reader\n", multi.rows_s, multi.rows_cpu);
    printf("RESULT {\"bench\":\"binlog_read\",\"rows\":%ld,"
           "\"single_events_per_s\":%.0f,\"single_events_per_cpu_s\":%.0f,"
           "\"multi_rows_per_s\":%.0f,\"multi_rows_per_cpu_s\":%.0f}\n",
           rows, single.events_s, single.events_cpu, multi.rows_s,
           multi.rows_cpu);
    return 0;
}

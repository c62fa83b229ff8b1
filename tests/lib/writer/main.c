/*
 * writer — the live application of cutover's tests, benchmarks and demo.
 *
 *   writer run --sqlite PATH --switch-file FILE --record FILE --rate TXN_PER_S
 *              [--mysql-socket SOCK --mysql-db DB] [--user root]
 *              [--pg-host HOST|SOCKET_DIR [--pg-port 5432] --pg-db DB
 *               [--pg-user ROLE] [--pg-schema public]]
 *              [--duration S] [--busy-timeout-ms 10000] [--seed N]
 *              [--synchronous full|normal]
 *   writer check --record FILE [--target sqlite|mysql|postgresql]
 *              (--sqlite PATH | --mysql-socket SOCK --mysql-db DB |
 *               --pg-host HOST --pg-db DB ...)
 *
 * `run` plays a Django shop (tests/lib/fixtures.py `shop`) writing while
 * cutover migrates its database: open-loop paced transactions (run.c), each
 * one operation drawn from OPS by weight (ops.c), sent to the backend the
 * switch file names ("sqlite", "mysql" or "postgresql"; missing file =
 * sqlite) and following the cutover's fences from one to the other
 * (follow.c). PostgreSQL's password comes from PGPASSWORD (libpq). Inside
 * each transaction, after its writes and before COMMIT, it reads back every
 * row it touched; once COMMIT succeeds (the write is acknowledged) it appends
 * one JSON line per row to the record (record.c).
 *
 * `check` replays the record (the last line per table and key wins) and
 * compares that expected state with a database (check.c). No row lost,
 * unexpected or different is the proof that no acknowledged write was lost.
 *
 * This file is the command line; writer.h lists the others.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tests/lib/writer/writer.h"

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
    fputs("usage: writer run --sqlite PATH --switch-file FILE --record FILE "
          "--rate TXN_PER_S\n"
          "                  [--mysql-socket SOCK --mysql-db DB] [--user root]\n"
          "                  [--pg-host HOST|SOCKET_DIR [--pg-port PORT] "
          "--pg-db DB\n"
          "                   [--pg-user ROLE] [--pg-schema SCHEMA]]\n"
          "                  [--duration S] [--busy-timeout-ms 10000] "
          "[--seed N]\n"
          "                  [--synchronous full|normal]\n"
          "       writer check --record FILE "
          "[--target sqlite|mysql|postgresql]\n"
          "                  (--sqlite PATH | --mysql-socket SOCK --mysql-db DB |\n"
          "                   --pg-host HOST --pg-db DB ...)\n",
          stderr);
    exit(2);
}

static double number(const char *s, const char *option)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end || v < 0)
        die("--%s: not a number: %s", option, s);
    return v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"sqlite", 1, NULL, 's'},       {"mysql-socket", 1, NULL, 'S'},
        {"mysql-db", 1, NULL, 'D'},     {"user", 1, NULL, 'u'},
        {"switch-file", 1, NULL, 'f'},  {"record", 1, NULL, 'r'},
        {"rate", 1, NULL, 'R'},         {"duration", 1, NULL, 'd'},
        {"busy-timeout-ms", 1, NULL, 'b'}, {"seed", 1, NULL, 'x'},
        {"pg-host", 1, NULL, 'H'},      {"pg-port", 1, NULL, 'P'},
        {"pg-user", 1, NULL, 'U'},      {"pg-db", 1, NULL, 'G'},
        {"pg-schema", 1, NULL, 'C'},    {"target", 1, NULL, 't'},
        {"synchronous", 1, NULL, 'y'},
        {NULL, 0, NULL, 0}};
    int c, i;

    *o = (struct options){.conn = {.mysql_user = "root",
                                   .busy_timeout_ms = 10000}};
    while ((c = getopt_long(argc, argv, "", longopts, &i)) != -1) {
        switch (c) {
        case 's': o->sqlite = o->conn.sqlite_path = optarg; break;
        case 'S': o->conn.mysql_socket = optarg; break;
        case 'D': o->conn.mysql_db = optarg; break;
        case 'u': o->conn.mysql_user = optarg; break;
        case 'f': o->switch_file = optarg; break;
        case 'r': o->record = optarg; break;
        case 'R': o->rate = number(optarg, "rate"); break;
        case 'd': o->duration_s = number(optarg, "duration"); break;
        case 'b': o->conn.busy_timeout_ms = (int)number(optarg, "busy-timeout-ms"); break;
        case 'H': o->conn.pg_host = optarg; break;
        case 'P': o->conn.pg_port = optarg; break;
        case 'U': o->conn.pg_user = optarg; break;
        case 'G': o->conn.pg_db = optarg; break;
        case 'C': o->conn.pg_schema = optarg; break;
        case 'y':
            if (strcmp(optarg, "full") != 0 && strcmp(optarg, "normal") != 0)
                die("--synchronous: %s is neither full nor normal", optarg);
            o->conn.sqlite_synchronous = optarg;
            break;
        case 't':
            if (!(o->target = driver_by_name(optarg)))
                die("--target: %s is none of sqlite, mysql, postgresql",
                    optarg);
            break;
        case 'x':
            o->seed = (unsigned long long)number(optarg, "seed");
            o->seed_given = 1;
            break;
        default: usage();
        }
    }
    if (optind != argc)
        usage();
}

/* The database `check` reads: the one --target names, else the only one
 * whose options were given; NULL when that is not one. */
static const struct db_driver *check_backend(const struct options *o)
{
    const struct db_driver *given[3];
    int n = 0;

    if (o->sqlite)
        given[n++] = &sqlite_driver;
    if (o->conn.mysql_socket && o->conn.mysql_db)
        given[n++] = &mysql_driver;
    if (o->conn.pg_host && o->conn.pg_db)
        given[n++] = &postgresql_driver;
    if (o->target)
        return o->target;
    return n == 1 ? given[0] : NULL;
}

int main(int argc, char **argv)
{
    struct options o;
    int status;

    if (argc < 2)
        usage();
    parse_options(argc - 1, argv + 1, &o);
    if (strcmp(argv[1], "run") == 0) {
        if (!o.sqlite || !o.switch_file || !o.record || o.rate <= 0)
            usage();
        tables_init();
        status = writer_run(&o);
    } else if (strcmp(argv[1], "check") == 0) {
        if (!o.record || !(o.target = check_backend(&o)))
            usage();
        tables_init();
        status = writer_check(&o);
    } else
        usage();
    tables_free();
    return status;
}

/*
 * binlog_stream.h — the row changes of chosen tables, read from a MySQL/
 * MariaDB server's binary log as a replica reads it: Connector/C's
 * mariadb_rpl frames the events (COM_BINLOG_DUMP, checksums verified,
 * rotations), our own decoder (binlog_rows.h) reads the rows.
 *
 * A read goes from a position to the end of the log as it is now (the
 * server's non-blocking dump) and hands every row change of a watched
 * table to a callback: its key before and after. The position it leaves
 * is the end of the last whole transaction read, so a read that stops
 * early (an error, the callback, the limit) is continued from a point
 * where no transaction is half delivered; delivering a transaction twice
 * is harmless to a consumer that re-reads rows by key (the applier).
 *
 * Use:
 *   binlog_position_now(conn, &pos, &err);          before the copy starts
 *   ... later, on a connection of its own (a dump takes it over):
 *   binlog_read_changes(dump_conn, &opts, &pos, watches, n, fn, arg,
 *                       &stats, &err);               pos moves on
 */
#ifndef CO_BINLOG_STREAM_H
#define CO_BINLOG_STREAM_H

#include <mysql.h>
#include <stdint.h>

#include "lib/errors.h"
#include "lib/gtid.h"
#include "sync/drivers/mysql/binlog_rows.h"

#define BINLOG_FILE_MAX 512

/* Where a replica is in the log: the file and the byte offset of the
 * next event to read, and the GTID of the last transaction before it
 * ("" when not known: none read yet, a log without GTIDs). */
struct binlog_position {
    char file[BINLOG_FILE_MAX];
    uint64_t pos;
    char gtid[GTID_MAX];
};

/* A table whose changes are wanted, and its key. The server's binlog may
 * not say whether an integer column is unsigned or a string column
 * binary (binlog_row_metadata=NO_LOG, MariaDB's default): then the
 * caller says, from information_schema, per column of the table. */
struct binlog_watch {
    const char *schema, *table;
    unsigned nkey;
    const unsigned *key_cols;        /* column numbers from 0 */
    unsigned ncols;                  /* of the arrays below; 0: none */
    const unsigned char *is_unsigned;
    const unsigned *charset;         /* collation ids, 63 binary */
};

/* One changed row: the key before (UPDATE, DELETE) and after (INSERT,
 * UPDATE), in the order of key_cols. An image the event does not carry is
 * NULL. Values are valid during the callback only. */
struct binlog_change {
    int watch;                       /* index in the watch list */
    enum binlog_rows_kind kind;
    const struct value *before, *after;
};

/* Return 0 to go on, 1 to stop at once (the position stays at the end
 * of the last whole transaction before this change), or a negative
 * error, which the read returns. */
typedef int (*binlog_change_fn)(void *arg, const struct binlog_change *c,
                                struct co_err *err);

struct binlog_read_opts {
    uint32_t server_id;              /* ours, unique among the replicas */
    int64_t max_events;              /* stop after this many (0: none) */
};

struct binlog_read_stats {
    int64_t events, row_events, rows, changes;
};

/* The position at the end of the log now (SHOW MASTER STATUS). CO_ESOURCE
 * when the server keeps no binary log. */
int binlog_position_now(MYSQL *conn, struct binlog_position *out,
                        struct co_err *err);

/* Read from *pos to the end of the log on `conn`, which the dump takes
 * over (it can run no other statement afterwards: close it). *pos moves
 * to the end of the last whole transaction read; its gtid to that
 * transaction's, and stays what it was while none with a GTID is read
 * (a MySQL anonymous one keeps the last). Returns the
 * number of changes handed over, or a negative error: CO_EGAP naming
 * the position when the server no longer has it (purged), CO_EPROTOCOL
 * for an event the decoder refuses (naming it), CO_ECONNLOST. */
int64_t binlog_read_changes(MYSQL *conn, const struct binlog_read_opts *o,
                            struct binlog_position *pos,
                            const struct binlog_watch *watches, int nwatches,
                            binlog_change_fn fn, void *arg,
                            struct binlog_read_stats *stats,
                            struct co_err *err);

/* Plan: what binlog capture needs of the server (binlog_assess.c), as
 * findings that say how to set each missing thing — the binary log, ROW
 * format, FULL row images, a retention of more than expected_s (the
 * migration's expected length), the replication privileges, a server_id
 * (ours) no other replica uses. A failing query is CO_ESOURCE. */
struct assess_sink;
int binlog_assess(MYSQL *conn, uint32_t our_server_id, double expected_s,
                  const struct assess_sink *to, struct co_err *err);

#endif

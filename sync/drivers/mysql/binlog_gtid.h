/*
 * binlog_gtid.h — the global id of a transaction from the event that
 * opens it in a binary log (lib/gtid.h for the text):
 *   MariaDB GTID_EVENT (162)       body: seq_no (8), domain_id (4),
 *                                  flags (1), ...; the server id is the
 *                                  common header's
 *   MySQL GTID_LOG_EVENT (33)      body: flags (1), SID (16), GNO (8), ...
 *   MySQL ANONYMOUS_GTID_LOG (34)  a transaction without a GTID
 * Input is the event body as for binlog_rows.h (after the 19-byte header,
 * without the checksum).
 */
#ifndef CO_BINLOG_GTID_H
#define CO_BINLOG_GTID_H

#include <stddef.h>
#include <stdint.h>

#include "lib/errors.h"
#include "lib/gtid.h"

#define BINLOG_MYSQL_GTID 33
#define BINLOG_MYSQL_ANONYMOUS_GTID 34
#define BINLOG_MARIADB_GTID 162

/* 1 with the GTID in out, 0 when the event carries none (out ""):
 * anonymous, or not a GTID event; CO_EPROTOCOL for a body too short. */
int binlog_gtid_decode(int type, uint32_t server_id,
                       const unsigned char *body, size_t len,
                       char out[GTID_MAX], struct co_err *err);

#endif

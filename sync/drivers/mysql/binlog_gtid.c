/* binlog_gtid.c — a transaction's GTID from its GTID event (binlog_gtid.h). */
#include "sync/drivers/mysql/binlog_gtid.h"

#include "sync/drivers/mysql/binlog_priv.h"

#define MARIADB_GTID_LEN 13           /* seq_no, domain_id, flags */
#define MYSQL_GTID_LEN 25             /* flags, SID, GNO */

int binlog_gtid_decode(int type, uint32_t server_id,
                       const unsigned char *body, size_t len,
                       char out[GTID_MAX], struct co_err *err)
{
    out[0] = '\0';
    switch (type) {
    case BINLOG_MARIADB_GTID:
        if (len < MARIADB_GTID_LEN)
            break;
        gtid_mariadb(out, (uint32_t)blr_le(body + 8, 4), server_id,
                     blr_le(body, 8));
        return 1;
    case BINLOG_MYSQL_GTID:
        if (len < MYSQL_GTID_LEN)
            break;
        gtid_mysql(out, body + 1, blr_le(body + 17, 8));
        return 1;
    default:
        return 0;
    }
    return co_errf(err, CO_EPROTOCOL, "a GTID event (type %d) of %zu bytes, "
                   "shorter than its fixed part (%d)", type, len,
                   type == BINLOG_MARIADB_GTID ? MARIADB_GTID_LEN
                                               : MYSQL_GTID_LEN);
}

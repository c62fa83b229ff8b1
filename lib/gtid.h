/*
 * gtid.h — a transaction's global id as cutover writes it (checkpoint,
 * status): one of
 *   MariaDB  "domain-server-seq"  "0-1-57"
 *   MySQL    "uuid:gno"           "3e11fa47-71ca-11e1-9e33-c80aa9429562:23"
 * and "" where there is none (a server without GTIDs, MySQL's anonymous
 * ones, nothing read yet). Only one transaction's id, never a set.
 */
#ifndef CO_GTID_H
#define CO_GTID_H

#include <stdint.h>

/* Room for the longest (36 + 1 + 20 digits) and the NUL. */
#define GTID_MAX 64

void gtid_mariadb(char out[GTID_MAX], uint32_t domain, uint32_t server,
                  uint64_t seq);
void gtid_mysql(char out[GTID_MAX], const unsigned char sid[16],
                uint64_t gno);
/* 1 when s is one of the two forms above (not ""), else 0. */
int gtid_valid(const char *s);

#endif

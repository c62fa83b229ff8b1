/*
 * binlog_file.h — the few lines that walk a binlog file's framing for the
 * binlog decoder's tests and fuzzer seeds: the magic, then events of a
 * 19-byte header (type at 4, size at 9) and, when the FORMAT_DESCRIPTION
 * event says CRC32, a 4-byte checksum that is checked here.
 *
 * Connector/C's mariadb_rpl can read a local file (MARIADB_RPL_FILENAME),
 * but the Debian libmariadb 3.3 (10.11) answers "Malformed packet" on the
 * first event of a MariaDB 10.11 binlog, so the tests read the framing
 * themselves. Header-only: each test is one translation unit.
 */
#ifndef CO_BINLOG_FILE_H
#define CO_BINLOG_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#define BINLOG_HEADER_LEN 19
#define BINLOG_FORMAT_DESCRIPTION 15

struct binlog_walk {
    const unsigned char *data;
    size_t len, pos;
    int crc32;                        /* events end with a CRC32 */
    /* the event last returned */
    int type;
    size_t offset;                    /* of its header in the file */
    const unsigned char *body;        /* after the header, no checksum */
    size_t body_len;
};

static inline uint32_t binlog_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* 0 when data starts with the binlog magic. */
static inline int binlog_walk_init(struct binlog_walk *w,
                                   const unsigned char *data, size_t len)
{
    memset(w, 0, sizeof *w);
    w->data = data;
    w->len = len;
    w->pos = 4;
    return len >= 4 && memcmp(data, "\xfe" "bin", 4) == 0 ? 0 : -1;
}

/* 1 with the next event in w, 0 at the end, -1 for a broken frame or a
 * bad checksum. */
static inline int binlog_walk_next(struct binlog_walk *w)
{
    const unsigned char *e = w->data + w->pos;
    size_t size;

    if (w->pos == w->len)
        return 0;
    if (w->len - w->pos < BINLOG_HEADER_LEN)
        return -1;
    size = binlog_le32(e + 9);
    if (size < BINLOG_HEADER_LEN + 4 || size > w->len - w->pos)
        return -1;
    w->type = e[4];
    w->offset = w->pos;
    if (w->type == BINLOG_FORMAT_DESCRIPTION)
        w->crc32 = e[size - 5] == 1;    /* the algorithm before the CRC */
    w->body = e + BINLOG_HEADER_LEN;
    w->body_len = size - BINLOG_HEADER_LEN - (w->crc32 ? 4 : 0);
    if (w->crc32 &&
        crc32(0, e, (uInt)(size - 4)) != binlog_le32(e + size - 4))
        return -1;
    w->pos += size;
    return 1;
}

#endif

/*
 * fuzz_binlog_rows.c — sync/drivers/mysql/binlog_*.c: a TABLE_MAP body and
 * a rows event body, as a server (or anyone who can write to the binlog
 * stream we read) sends them, decoded column by column.
 *
 * Input: byte 0 picks the rows event type (low 4 bits, one of the 13),
 * the flavor (bit 4) and whether signedness and charsets the map lacks are
 * filled in (bit 5, as a caller with the table's definition does); bytes
 * 1-2 are the length of the TABLE_MAP body (little-endian), which follows;
 * the rest is the rows event body. With bit 6 set the rest of the input
 * after byte 0 is instead the body of a GTID event (MariaDB's with bit 4
 * clear, MySQL's with it set), which must read as a valid GTID or be
 * refused with a message. Seeds (tests/fuzz/corpus/binlog_rows/)
 * are the TABLE_MAP + rows event pairs of the captured binlogs in
 * tests/unit/files/binlog/, made by tests/fuzz/binlog_seeds.py.
 *
 * Beyond "no crash, no leak, no read outside the input": every byte of
 * every decoded text or blob is read, a failure always leaves a message,
 * and a rows event never yields more rows than it has bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/mysql/binlog_gtid.h"
#include "sync/drivers/mysql/binlog_rows.h"
#include "tests/fuzz/fuzz_util.h"

static const int rows_types[] = {
    BINLOG_WRITE_ROWS_V1, BINLOG_UPDATE_ROWS_V1, BINLOG_DELETE_ROWS_V1,
    BINLOG_WRITE_ROWS, BINLOG_UPDATE_ROWS, BINLOG_DELETE_ROWS,
    BINLOG_WRITE_ROWS_COMPRESSED_V1, BINLOG_UPDATE_ROWS_COMPRESSED_V1,
    BINLOG_DELETE_ROWS_COMPRESSED_V1, BINLOG_WRITE_ROWS_COMPRESSED,
    BINLOG_UPDATE_ROWS_COMPRESSED, BINLOG_DELETE_ROWS_COMPRESSED,
    BINLOG_WRITE_ROWS_V1,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init_common();
    return 0;
}

/* Touch every byte of the decoded values, so a value pointing outside
 * what the decoder owns is caught by ASan. */
static unsigned touch(const struct binlog_image *im, unsigned n)
{
    unsigned sum = 0;

    for (unsigned k = 0; k < n; k++) {
        const struct value *v = &im->v[k];
        if (!im->has[k] && v->type != V_NULL)
            abort();                   /* absent columns are NULL */
        if (v->type == V_TEXT || v->type == V_BLOB) {
            if (v->n && !v->p)
                abort();
            for (size_t i = 0; i < v->n; i++)
                sum += v->p[i];
        }
    }
    return sum;
}

static void gtid_event(const uint8_t *data, size_t size)
{
    char gtid[GTID_MAX];
    struct co_err err = {0};
    int type = data[0] & 0x10 ? BINLOG_MYSQL_GTID : BINLOG_MARIADB_GTID;
    int rc = binlog_gtid_decode(type, 0xfffffffeu, data + 1, size - 1, gtid,
                                &err);

    if (rc == 1 ? !gtid_valid(gtid) : rc != CO_EPROTOCOL || !err.msg[0])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct binlog_table_map map;
    struct binlog_rows rows;
    struct co_err err = {0};
    unsigned *want = NULL, nwant = 0;
    size_t map_len;
    int type, flavor, fill, rc;
    volatile unsigned sink = 0;

    if (size >= 1 && data[0] & 0x40) {
        gtid_event(data, size);
        return 0;
    }
    if (size < 3)
        return 0;
    type = rows_types[(data[0] & 0x0f) % 13];
    flavor = data[0] & 0x10 ? BINLOG_MYSQL : BINLOG_MARIADB;
    fill = data[0] & 0x20;
    map_len = (size_t)data[1] | (size_t)data[2] << 8;
    if (map_len > size - 3)
        return 0;
    if (binlog_table_map_parse(&map, (enum binlog_flavor)flavor, data + 3,
                               map_len, &err)) {
        if (err.msg[0] == '\0')
            abort();
        return 0;
    }
    want = malloc(map.ncols * sizeof *want);
    if (!want)
        abort();
    for (unsigned i = 0; i < map.ncols; i++) {
        struct binlog_column *c = &map.cols[i];
        if (fill && c->sign == BINLOG_SIGN_UNKNOWN)
            c->sign = i % 2 ? BINLOG_UNSIGNED : BINLOG_SIGNED;
        if (fill && c->charset == 0)
            c->charset = i % 3 ? 45 : BINLOG_CHARSET_BINARY;
        /* Columns that can never be decoded would only stop the bind. */
        if (c->type != BINLOG_T_JSON && c->type != BINLOG_T_BLOB_COMPRESSED &&
            c->type != BINLOG_T_VARCHAR_COMPRESSED)
            want[nwant++] = i;
    }
    memset(&err, 0, sizeof err);
    rc = binlog_rows_open(&rows, type, data + 3 + map_len,
                          size - 3 - map_len, &err);
    if (rc == 0)
        rc = binlog_rows_bind(&rows, &map, want, nwant, &err);
    while (rc == 0 && (rc = binlog_rows_next(&rows, &err)) == 1) {
        if (rows.row > size)
            abort();                   /* rows from nothing */
        if (rows.before.present)
            sink += touch(&rows.before, nwant);
        if (rows.after.present)
            sink += touch(&rows.after, nwant);
        rc = 0;
    }
    if (rc < 0 && err.msg[0] == '\0')
        abort();                       /* a rejection must say why */
    (void)sink;
    binlog_rows_close(&rows);
    binlog_table_map_free(&map);
    free(want);
    return 0;
}

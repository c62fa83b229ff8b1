/*
 * binlog_rows.h — our own decoder of the row events of a MySQL/MariaDB
 * binary log: TABLE_MAP (19) and WRITE/UPDATE/DELETE_ROWS v1 (23-25), v2
 * (30-32, with their extra-data header) and MariaDB's compressed ones
 * (166-171, zlib). Binlog capture needs only the key columns of each
 * changed row (the applier re-reads the current row), but every column of
 * every image must be walked correctly to reach them, so every type a table
 * can hold is walked; the client library's row decoder is not used (it
 * reads the next column's metadata as the length of CHAR, ENUM and SET).
 *
 * Input is an event body: the bytes after the 19-byte common header,
 * without the trailing checksum. Tables ids are 6 bytes (every server since
 * MySQL 5.1.4). Every length is checked against the body: a truncated or
 * corrupt event is CO_EPROTOCOL naming the event, row, column and offset,
 * never a read outside the body.
 *
 * Use:
 *   binlog_table_map_parse(&map, BINLOG_MARIADB, body, len, &err);
 *   (set map.cols[i].sign / .charset from the table's definition when the
 *    server logs binlog_row_metadata=MINIMAL, see below)
 *   binlog_rows_open(&rows, type, body, len, &err);
 *   (find the map of rows.table_id)
 *   binlog_rows_bind(&rows, &map, key_cols, nkey, &err);
 *   while ((rc = binlog_rows_next(&rows, &err)) == 1)
 *       use rows.before / rows.after (key values in the order asked);
 *   binlog_rows_close(&rows);  binlog_table_map_free(&map);
 *
 * Values come in the form the MySQL text protocol shows them (what a
 * SELECT returns as text), so they compare with what the driver reads:
 *   TINYINT..BIGINT, YEAR  V_INT; BIGINT UNSIGNED above INT64_MAX: V_TEXT
 *                          decimal digits. YEAR 0 is 0.
 *   FLOAT                  V_REAL of the value rounded to 6 significant
 *                          digits, as MariaDB prints a FLOAT; DOUBLE: V_REAL
 *                          exactly.
 *   DECIMAL                V_TEXT with exactly the column's scale digits
 *                          ("-12.50", "0.000").
 *   DATE, TIME, DATETIME   V_TEXT "2024-01-02", "-838:59:59.000",
 *                          "2024-01-02 03:04:05.678901": exactly the
 *                          column's fsp digits; zero dates as stored
 *                          ("0000-00-00", "2022-11-00 00:00:00").
 *   TIMESTAMP              V_TEXT in UTC (the binlog holds seconds since
 *                          the epoch): compare with time_zone='+00:00'.
 *                          0 is "0000-00-00 00:00:00".
 *   CHAR, VARCHAR, TEXT    V_TEXT, the stored bytes in the column's own
 *                          charset (no conversion; CHAR without its
 *                          trailing spaces, as stored and shown).
 *   BINARY, VARBINARY,     V_BLOB, the stored bytes (BINARY with its
 *   BLOB, BIT, GEOMETRY    0x00 padding; BIT as (M+7)/8 big-endian bytes;
 *                          GEOMETRY as SRID + WKB).
 *   ENUM, SET              V_TEXT of the member name(s) ("a", "x,z", "")
 *                          when the map carries their strings
 *                          (binlog_row_metadata=FULL), otherwise the stored
 *                          number as V_INT (1-based ENUM index, SET bit
 *                          mask; V_TEXT digits above INT64_MAX), because
 *                          without the strings the number is all the binlog
 *                          holds.
 *   JSON (MySQL binary),   walked (their length is known) but not decoded:
 *   COMPRESSED columns     neither can be part of a key, so asking for one
 *   (MariaDB)              is CO_ESCHEMA.
 *   NULL                   V_NULL.
 * Text and blob values point into the event body (or the inflated rows of
 * a compressed event) or into buffers of the rows cursor: valid until the
 * next binlog_rows_next() or binlog_rows_close(), and the body must stay.
 *
 * What binlog_row_metadata=NO_LOG (MariaDB's default) leaves unknown:
 * integer signedness and whether a string column is binary (MINIMAL and
 * FULL log both). Decoding such a column with sign or charset still 0 is
 * CO_ESCHEMA (a guess would give wrong keys silently); the caller sets
 * them from information_schema.
 *
 * Not walkable from the binlog alone: MariaDB's TIME(n)/DATETIME(n)/
 * TIMESTAMP(n) with n > 0 in the 5.3 storage format (tables created before
 * 10.1 or with mysql56_temporal_format=OFF; information_schema shows
 * a "mariadb-5.3" comment in COLUMN_TYPE): the binlog gives them the codes of
 * the fraction-less types (7, 11, 12) with no metadata, so their length is
 * not in the map. The plan must find them and ask for ALTER TABLE ...
 * FORCE; the fraction-less old types themselves are read.
 */
#ifndef CO_BINLOG_ROWS_H
#define CO_BINLOG_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/errors.h"
#include "lib/value.h"

/* Event types this module reads (the binlog's own numbers). */
enum binlog_event_type {
    BINLOG_TABLE_MAP = 19,
    BINLOG_WRITE_ROWS_V1 = 23,
    BINLOG_UPDATE_ROWS_V1 = 24,
    BINLOG_DELETE_ROWS_V1 = 25,
    BINLOG_WRITE_ROWS = 30,
    BINLOG_UPDATE_ROWS = 31,
    BINLOG_DELETE_ROWS = 32,
    BINLOG_WRITE_ROWS_COMPRESSED_V1 = 166,
    BINLOG_UPDATE_ROWS_COMPRESSED_V1 = 167,
    BINLOG_DELETE_ROWS_COMPRESSED_V1 = 168,
    BINLOG_WRITE_ROWS_COMPRESSED = 169,
    BINLOG_UPDATE_ROWS_COMPRESSED = 170,
    BINLOG_DELETE_ROWS_COMPRESSED = 171,
};

/* Column types of the binlog (MYSQL_TYPE_* numbers, without mysql.h). */
enum binlog_col_type {
    BINLOG_T_DECIMAL = 0, BINLOG_T_TINY = 1, BINLOG_T_SHORT = 2,
    BINLOG_T_LONG = 3, BINLOG_T_FLOAT = 4, BINLOG_T_DOUBLE = 5,
    BINLOG_T_NULL = 6, BINLOG_T_TIMESTAMP = 7, BINLOG_T_LONGLONG = 8,
    BINLOG_T_INT24 = 9, BINLOG_T_DATE = 10, BINLOG_T_TIME = 11,
    BINLOG_T_DATETIME = 12, BINLOG_T_YEAR = 13, BINLOG_T_NEWDATE = 14,
    BINLOG_T_VARCHAR = 15, BINLOG_T_BIT = 16, BINLOG_T_TIMESTAMP2 = 17,
    BINLOG_T_DATETIME2 = 18, BINLOG_T_TIME2 = 19,
    BINLOG_T_BLOB_COMPRESSED = 140, BINLOG_T_VARCHAR_COMPRESSED = 141,
    BINLOG_T_JSON = 245, BINLOG_T_NEWDECIMAL = 246, BINLOG_T_ENUM = 247,
    BINLOG_T_SET = 248, BINLOG_T_TINY_BLOB = 249,
    BINLOG_T_MEDIUM_BLOB = 250, BINLOG_T_LONG_BLOB = 251,
    BINLOG_T_BLOB = 252, BINLOG_T_VAR_STRING = 253, BINLOG_T_STRING = 254,
    BINLOG_T_GEOMETRY = 255,
};

/* Which server wrote the log: the optional metadata counts columns a
 * little differently (MariaDB gives YEAR a signedness bit and counts
 * GEOMETRY and compressed columns among the charset columns; MySQL does
 * neither). The FORMAT_DESCRIPTION event's server version says
 * ("...-MariaDB..."). */
enum binlog_flavor { BINLOG_MARIADB, BINLOG_MYSQL };

enum binlog_sign { BINLOG_SIGN_UNKNOWN, BINLOG_SIGNED, BINLOG_UNSIGNED };

#define BINLOG_CHARSET_BINARY 63   /* the collation id of binary strings */

struct binlog_bytes {
    const unsigned char *p;
    size_t n;
};

struct binlog_column {
    uint8_t type;          /* real type: ENUM/SET/STRING out of STRING's
                              metadata; BLOB for all four blob sizes */
    uint8_t binlog_type;   /* the code in the map */
    uint8_t nullable;
    uint8_t is_key;        /* in the map's primary key (FULL metadata) */
    uint32_t length;       /* STRING, VARCHAR: max bytes; BLOB, JSON,
                              GEOMETRY: bytes of the length (1-4); ENUM,
                              SET: bytes of the value; BIT: bits */
    uint8_t precision;     /* NEWDECIMAL */
    uint8_t scale;         /* NEWDECIMAL */
    uint8_t fsp;           /* TIME2, DATETIME2, TIMESTAMP2: 0-6 */
    enum binlog_sign sign; /* integers: from the map, or set by the caller */
    unsigned charset;      /* collation id; 63 binary; 0 unknown (caller
                              may set it) */
    struct binlog_bytes name;   /* .p NULL without FULL metadata */
    unsigned n_values;          /* ENUM/SET member names, when logged */
    const struct binlog_bytes *values;
};

struct binlog_table_map {
    uint64_t table_id;
    uint16_t flags;
    struct binlog_bytes schema, table;   /* point into the map's copy */
    unsigned ncols;
    struct binlog_column *cols;
    int has_signedness, has_charsets, has_names, has_key;
    /* private */
    unsigned char *body;
    struct binlog_bytes *strings[2];     /* SET, ENUM member names */
};

/* Parse a TABLE_MAP body into map (which owns a copy of it afterwards).
 * Returns 0, CO_EPROTOCOL for a malformed map (message names the table
 * when it got that far, the column and the offset), CO_ESCHEMA for a
 * column type no decoder here knows, CO_ENOMEM. map is zeroed on error. */
int binlog_table_map_parse(struct binlog_table_map *map,
                           enum binlog_flavor flavor,
                           const unsigned char *body, size_t len,
                           struct co_err *err);
void binlog_table_map_free(struct binlog_table_map *map);

enum binlog_rows_kind { BINLOG_ROWS_WRITE, BINLOG_ROWS_UPDATE,
                        BINLOG_ROWS_DELETE };

/* One row image: the asked columns in the order asked. has[k] is 0 when
 * column k is not in the image (binlog_row_image=MINIMAL/NOBLOB), and
 * then v[k] is V_NULL. */
struct binlog_image {
    int present;                   /* this kind of event has this image */
    struct value *v;
    unsigned char *has;
};

struct binlog_rows {
    /* read by callers */
    enum binlog_rows_kind kind;
    int event_type;
    uint64_t table_id;
    uint16_t flags;
    unsigned ncols;                /* the table's width in the event */
    unsigned row;                  /* rows returned so far */
    struct binlog_image before, after;   /* before: UPDATE, DELETE */
    /* private */
    const unsigned char *body;
    size_t body_len;
    const unsigned char *present[2];     /* before, after bitmaps */
    const unsigned char *rows, *pos, *end;
    size_t rows_offset;            /* offset of rows in the body */
    unsigned char *inflated;       /* rows of a compressed event */
    const struct binlog_table_map *map;
    unsigned nwant;
    int *want_slot;                /* per column: index asked, or -1 */
    struct binlog_buf *bufs;       /* 2 * nwant text buffers */
};

/* Is this one of the row event types above? */
int binlog_is_rows_event(int event_type);
/* "WRITE_ROWS_V1", "TABLE_MAP", ... or "UNKNOWN". */
const char *binlog_event_name(int event_type);
/* "NEWDECIMAL", "STRING", ... or "UNKNOWN". */
const char *binlog_type_name(int type);

/* Read the header of a rows event (table id, flags, width, column
 * bitmaps) and inflate a compressed one. body must outlive r. Returns 0,
 * CO_EPROTOCOL, CO_ENOMEM. */
int binlog_rows_open(struct binlog_rows *r, int event_type,
                     const unsigned char *body, size_t len,
                     struct co_err *err);
/* Decode the columns want[0..nwant) (column numbers from 0) of each row
 * with map, the TABLE_MAP of r->table_id (which must outlive r). Returns
 * 0, CO_EPROTOCOL when the map does not fit the event, CO_ESCHEMA for a
 * column that cannot be decoded (see the top), CO_ENOMEM. */
int binlog_rows_bind(struct binlog_rows *r, const struct binlog_table_map *map,
                     const unsigned *want, unsigned nwant,
                     struct co_err *err);
/* The next row into r->before / r->after. Returns 1 for a row, 0 after
 * the last one, CO_EPROTOCOL for a truncated or corrupt row. */
int binlog_rows_next(struct binlog_rows *r, struct co_err *err);
void binlog_rows_close(struct binlog_rows *r);

#endif

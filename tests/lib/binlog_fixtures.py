#!/usr/bin/python3
"""binlog_fixtures.py SOCKET NAME OUT.json — run the binlog fixture workload
on a private MariaDB and write the row changes it made, as the decoder must
see them, to OUT.json.

binlog_fixtures.sh starts the server, sets the binlog options of one
fixture, runs this, and copies the binlog file the workload went to. The
expected values come from SELECTs on the same server, before and after each
statement, in the form the MySQL text protocol shows them; bytes of strings
are read with HEX() so that a latin1 column shows its stored bytes.

OUT.json: {"tables": {NAME: [[COLUMN, COLUMN_TYPE, CHARSET], ...]},
"changes": [CHANGE, ...]} (the tables' definitions: what a caller reads
from information_schema when the binlog has no metadata for it) where
a CHANGE is {"table", "kind": write|update|delete, "before", "after"} (the
images a FULL binlog_row_image logs; null where the kind has none), in the
order the server logs them, and each image has one item per column:
  null                               SQL NULL
  ["int", "-128"]                    integer (V_INT)
  ["real", "1.5"]                    FLOAT/DOUBLE as the server prints it
  ["text", HEX] / ["blob", HEX]      bytes of V_TEXT / V_BLOB
  ["text"|"blob", null, LEN, FNV]    a long value: its length and FNV-1a 64
  ["enumset", HEX, "NUMBER"]         ENUM/SET: the string and stored number
"""
import json
import sys

import pymysql

SOCKET, NAME, OUT = sys.argv[1], sys.argv[2], sys.argv[3]

INT_TYPES = {"tinyint", "smallint", "mediumint", "int", "bigint", "year"}
REAL_TYPES = {"float", "double"}
TEXT_TYPES = {"decimal", "date", "time", "datetime", "timestamp"}
LONG = 512

# name -> (definition, key columns used to find a row again)
TABLES = [
    ("t_int", """
        id INT PRIMARY KEY,
        c_tiny TINYINT, c_utiny TINYINT UNSIGNED,
        c_short SMALLINT, c_ushort SMALLINT UNSIGNED,
        c_med MEDIUMINT, c_umed MEDIUMINT UNSIGNED,
        c_int INT, c_uint INT UNSIGNED,
        c_big BIGINT, c_ubig BIGINT UNSIGNED,
        c_year YEAR, c_bool BOOL,
        c_float FLOAT, c_double DOUBLE,
        c_dec DECIMAL(10,2), c_dec65 DECIMAL(65,30), c_dec18 DECIMAL(18,9),
        c_dec5 DECIMAL(5,0), c_udec DECIMAL(12,4) UNSIGNED,
        c_bit1 BIT(1), c_bit13 BIT(13), c_bit64 BIT(64),
        c_uint_last INT UNSIGNED"""),
    ("t_time", """
        id INT PRIMARY KEY,
        c_date DATE,
        c_time0 TIME, c_time1 TIME(1), c_time2 TIME(2), c_time3 TIME(3),
        c_time4 TIME(4), c_time5 TIME(5), c_time6 TIME(6),
        c_dt0 DATETIME, c_dt1 DATETIME(1), c_dt2 DATETIME(2),
        c_dt3 DATETIME(3), c_dt4 DATETIME(4), c_dt5 DATETIME(5),
        c_dt6 DATETIME(6),
        c_ts0 TIMESTAMP NULL, c_ts1 TIMESTAMP(1) NULL,
        c_ts2 TIMESTAMP(2) NULL, c_ts3 TIMESTAMP(3) NULL,
        c_ts4 TIMESTAMP(4) NULL, c_ts5 TIMESTAMP(5) NULL,
        c_ts6 TIMESTAMP(6) NULL"""),
    ("t_str", """
        id INT PRIMARY KEY,
        c_char CHAR(10), c_char255 CHAR(255), c_binary BINARY(4),
        c_varchar VARCHAR(20), c_varchar300 VARCHAR(300),
        c_varbinary VARBINARY(10), c_latin1 VARCHAR(10) CHARACTER SET latin1,
        c_latin1char CHAR(200) CHARACTER SET latin1,
        c_enum ENUM('a','b','c'), c_bigenum ENUM(%s),
        c_set SET('x','y','z'), c_bigset SET(%s),
        c_tinytext TINYTEXT, c_text TEXT, c_mediumtext MEDIUMTEXT,
        c_longtext LONGTEXT,
        c_tinyblob TINYBLOB, c_blob BLOB, c_mediumblob MEDIUMBLOB,
        c_longblob LONGBLOB,
        c_json JSON, c_geom GEOMETRY, c_point POINT,
        c_vcomp VARCHAR(100) COMPRESSED, c_bcomp BLOB COMPRESSED,
        c_latin1_last VARCHAR(5) CHARACTER SET latin1"""
     % (",".join("'e%d'" % i for i in range(300)),
        ",".join("'s%d'" % i for i in range(64)))),
    # Keys of every type a key may have, several per table.
    ("k_ints", """
        a TINYINT, b SMALLINT UNSIGNED, c MEDIUMINT, d INT UNSIGNED,
        e BIGINT UNSIGNED, f BIGINT, v INT,
        PRIMARY KEY (a, b, c, d, e, f)"""),
    ("k_temporal", """
        d DECIMAL(20,6), dt DATETIME(6), t TIME(3), ts TIMESTAMP(2) NULL,
        dd DATE, y YEAR, v INT,
        PRIMARY KEY (d, dt, t, dd, y), UNIQUE KEY (ts)"""),
    ("k_str", """
        c CHAR(8), vc VARCHAR(300), vb VARBINARY(16), e ENUM('lo','mid','hi'),
        s SET('r','w','x'), bi BINARY(3), bt BIT(10), v INT,
        PRIMARY KEY (c, vc, vb, e, s, bi, bt)"""),
    ("k_float", "f FLOAT, d DOUBLE, v INT, PRIMARY KEY (f, d)"),
    ("t_nopk", "a INT, b VARCHAR(10), c DATETIME(3)"),
    # Created with mysql56_temporal_format=OFF: the pre-5.6 types (7, 11,
    # 12 in the binlog), as tables made by MariaDB 5.3-10.0 still have.
    ("t_oldtime", """
        id INT PRIMARY KEY, c_time TIME, c_dt DATETIME, c_ts TIMESTAMP NULL,
        c_date DATE"""),
]
OLD_TEMPORAL = {"t_oldtime"}

# The workload: (table, kind, SQL, WHERE that finds the rows it touches
# (or a pair: before, after, when the statement changes the key), ORDER BY
# that gives them in the order the server logs them: the VALUES order of an
# INSERT, key order for an UPDATE or DELETE).
BIG = "repeat('Lorem ipsum dolor sit amet ', 2600)"          # 70,200 bytes
WORK = [
    ("t_int", "write", """INSERT INTO t_int VALUES (1,
        -128, 255, -32768, 65535, -8388608, 16777215, -2147483648,
        4294967295, -9223372036854775808, 18446744073709551615,
        1901, 1, 3.4028234e38, -1.7976931348623157e308,
        -12345678.91, -12345678901234567890123456789012345.123456789012345678901234567890,
        -123456789.123456789, -99999, 99999999.9999,
        b'1', b'1010101010101', b'1111111111111111111111111111111111111111111111111111111111111111',
        4294967295)""",
     "id = 1"),
    ("t_int", "write", """INSERT INTO t_int VALUES (2,
        127, 0, 32767, 0, 8388607, 0, 2147483647, 0,
        9223372036854775807, 9223372036854775808,
        2155, 0, -1.1, 0.1,
        0.00, 0.000000000000000000000000000001, 0.000000001, 0, 0,
        b'0', b'0', b'0', 7)""", "id = 2"),
    ("t_int", "write", """INSERT INTO t_int VALUES (3,
        0, 1, -1, 1, -1, 1, -1, 1, -1, 1, 0, NULL, 1.5e-38, 2.2250738585072014e-308,
        -0.01, 99999999999999999999999999999999999.999999999999999999999999999999,
        -999999999.999999999, 12345, 0.0001,
        NULL, b'1000000000000', b'1000000000000000000000000000000000000000000000000000000000000001',
        NULL)""",
     "id = 3"),
    ("t_int", "write", """INSERT INTO t_int (id) VALUES (4)""", "id = 4"),
    ("t_int", "update", """UPDATE t_int SET c_ubig = 18446744073709551614,
        c_dec = 1.05, c_float = 123.456, c_bit13 = b'1' WHERE id = 2""",
     "id = 2"),
    ("t_int", "update", "UPDATE t_int SET id = 40 WHERE id = 4",
     ("id = 4", "id = 40")),
    ("t_int", "delete", "DELETE FROM t_int WHERE id = 3", "id = 3"),

    ("t_time", "write", """INSERT INTO t_time VALUES (1, '1000-01-01',
        '-838:59:59', '-838:59:58.9', '-00:00:00.01', '-12:34:56.789',
        '-00:00:01.0001', '838:59:58.99999', '-838:59:59.000000',
        '1000-01-01 00:00:00', '9999-12-31 23:59:59.9',
        '2024-02-29 12:00:00.01', '2024-02-29 12:00:00.123',
        '1999-12-31 23:59:59.9999', '2000-01-01 00:00:00.00001',
        '9999-12-31 23:59:59.999999',
        '1970-01-01 00:00:01', '2038-01-19 03:14:07.9',
        '2001-02-03 04:05:06.07', '2001-02-03 04:05:06.789',
        '2001-02-03 04:05:06.0001', '2001-02-03 04:05:06.12345',
        '2038-01-19 03:14:07.999999')""", "id = 1"),
    ("t_time", "write", """INSERT INTO t_time VALUES (2, '0000-00-00',
        '00:00:00', '00:00:00.0', '00:00:00.00', '00:00:00.000',
        '00:00:00.0000', '00:00:00.00000', '00:00:00.000000',
        '0000-00-00 00:00:00', '0000-00-00 00:00:00.0',
        '2022-11-00 00:00:00.00', '2022-00-00 00:00:00.000',
        '0000-00-00 00:00:00.0000', '0000-00-00 00:00:00.00000',
        '0000-00-00 00:00:00.000000',
        '0000-00-00 00:00:00', '0000-00-00 00:00:00.0',
        '0000-00-00 00:00:00.00', '0000-00-00 00:00:00.000',
        '0000-00-00 00:00:00.0000', '0000-00-00 00:00:00.00000',
        '0000-00-00 00:00:00.000000')""", "id = 2"),
    ("t_time", "write", """INSERT INTO t_time VALUES (3, '2024-06-15',
        '23:59:59', '12:00:00.5', '01:02:03.04', '100:00:00.001',
        '-01:00:00.5', '00:00:00.00001', '00:00:00.000001',
        '2024-06-15 08:30:00', NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL)""", "id = 3"),
    ("t_time", "update", """UPDATE t_time SET c_time6 = '-00:00:00.000001',
        c_dt6 = '2000-01-01 00:00:00.000001', c_ts6 = '2020-05-05 05:05:05.5'
        WHERE id = 3""", "id = 3"),
    ("t_time", "delete", "DELETE FROM t_time WHERE id = 1", "id = 1"),

    ("t_str", "write", """INSERT INTO t_str VALUES (1,
        'abc', REPEAT('\u00e9', 255), 'ab', '', REPEAT('\u20ac', 300),
        x'00ff00', x'e9e8', REPEAT(x'e9', 200),
        'b', 'e299', 'x,z', 's0,s63',
        '', 'text \U0001F600', 'medium', 'long',
        x'00', x'0001', %s, x'',
        '{"k": [1, 2, {"n": null}]}', ST_GeomFromText('LINESTRING(0 0, 1 1)'),
        ST_GeomFromText('POINT(1.5 -2.5)'),
        REPEAT('compressible ', 7), REPEAT('blob ', 40), x'fc')""" % BIG, "id = 1"),
    ("t_str", "write", """INSERT INTO t_str VALUES (2,
        'a  ', 'x', x'00000000', 'trailing  ', 'y',
        '', '', '',
        '', 'e0', '', '',
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL, x'e0e1')""", "id = 2"),
    ("t_str", "write", "INSERT INTO t_str (id) VALUES (3)", "id = 3"),
    ("t_str", "update", """UPDATE t_str SET c_enum = 'c', c_set = '',
        c_bigset = 's1,s2,s62', c_varchar300 = REPEAT('z', 256),
        c_longblob = REPEAT(x'ab', 300) WHERE id = 2""", "id = 2"),
    ("t_str", "update", "UPDATE t_str SET c_bigenum = 'e255' WHERE id = 3",
     "id = 3"),
    ("t_str", "delete", "DELETE FROM t_str WHERE id = 1", "id = 1"),

    ("k_ints", "write", """INSERT INTO k_ints VALUES
        (-128, 0, -8388608, 0, 0, -9223372036854775808, 1),
        (127, 65535, 8388607, 4294967295, 18446744073709551615,
         9223372036854775807, 2),
        (0, 1, -1, 1, 9223372036854775808, -1, 3)""", "TRUE", "v"),
    ("k_ints", "update", """UPDATE k_ints SET e = 18446744073709551614, v = 4
        WHERE a = 127""", "a = 127"),
    ("k_ints", "update", "UPDATE k_ints SET v = v + 10 WHERE a <= 0",
     "a <= 0", "a, b, c, d, e, f"),
    ("k_ints", "delete", "DELETE FROM k_ints WHERE a = -128", "a = -128"),

    ("k_temporal", "write", """INSERT INTO k_temporal VALUES
        (-12345678901234.123456, '2024-01-02 03:04:05.678901',
         '-838:59:59.000', '2001-02-03 04:05:06.07', '0000-00-00', 0, 1),
        (0.000001, '0000-00-00 00:00:00', '00:00:00.001',
         '1970-01-01 00:00:01', '9999-12-31', 1901, 2)""", "TRUE", "v"),
    ("k_temporal", "update", """UPDATE k_temporal
        SET dt = '2024-01-02 03:04:05.000001', ts = '2038-01-19 03:14:07.99',
        d = 99999999999999.999999 WHERE v = 1""", "v = 1"),
    ("k_temporal", "delete", "DELETE FROM k_temporal WHERE v = 2", "v = 2"),

    ("k_str", "write", """INSERT INTO k_str VALUES
        ('k1', REPEAT('\u00fc', 300), x'0001ff', 'hi', 'r,x', 'a', b'1111111111', 1),
        ('', '', x'', 'lo', '', x'000000', b'0', 2)""", "TRUE", "v"),
    ("k_str", "update", """UPDATE k_str SET c = 'k2', e = 'mid', s = 'w',
        vb = x'ff' WHERE v = 1""", "v = 1"),
    ("k_str", "delete", "DELETE FROM k_str WHERE v = 2", "v = 2"),

    ("k_float", "write", """INSERT INTO k_float VALUES (1.1, 0.1, 1),
        (-3.4028234e38, 1.7976931348623157e308, 2), (0, -0.5, 3)""",
     "TRUE", "v"),
    ("k_float", "update", "UPDATE k_float SET f = 2.5 WHERE v = 1", "v = 1"),
    ("k_float", "delete", "DELETE FROM k_float WHERE v = 3", "v = 3"),

    ("t_oldtime", "write", """INSERT INTO t_oldtime VALUES
        (1, '-838:59:59', '9999-12-31 23:59:59', '2038-01-19 03:14:07',
         '9999-12-31'),
        (2, '00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
         '0000-00-00'),
        (3, '-00:00:01', '2024-02-29 12:34:56', '1970-01-01 00:00:01',
         '2024-02-29')""", "TRUE", "id"),
    ("t_oldtime", "update", """UPDATE t_oldtime SET id = 4,
        c_time = '838:59:59' WHERE id = 3""", ("id = 3", "id = 4")),
    ("t_oldtime", "delete", "DELETE FROM t_oldtime WHERE id = 2", "id = 2"),

    ("t_nopk", "write", """INSERT INTO t_nopk VALUES (1, 'one', NULL),
        (2, NULL, '2020-01-01 00:00:00.5')""", "TRUE", "a"),
    ("t_nopk", "update", "UPDATE t_nopk SET b = 'uno' WHERE a = 1", "a = 1"),
    ("t_nopk", "delete", "DELETE FROM t_nopk WHERE a = 2", "a = 2"),
]


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % h


def bytes_item(cls, data):
    if len(data) > LONG:
        return [cls, None, len(data), fnv1a64(data)]
    return [cls, data.hex()]


class Table:
    def __init__(self, cur, name):
        cur.execute("""SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE,
            CHARACTER_SET_NAME FROM information_schema.COLUMNS
            WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s
            ORDER BY ORDINAL_POSITION""", (name,))
        self.name = name
        self.cols = [(r[0], r[1], r[2], r[3]) for r in cur.fetchall()]
        exprs = []
        for col, dtype, ctype, cs in self.cols:
            q = "`%s`" % col
            if dtype in ("enum", "set"):
                exprs += ["HEX(%s)" % q, "%s + 0" % q]
            elif dtype in INT_TYPES | REAL_TYPES | TEXT_TYPES:
                exprs.append(q)
            else:
                exprs.append("HEX(CAST(%s AS BINARY))" % q)
        self.select = "SELECT %s FROM `%s`" % (", ".join(exprs), name)

    def image(self, row):
        out, i = [], 0
        for col, dtype, ctype, cs in self.cols:
            v = row[i]
            i += 1
            if dtype in ("enum", "set"):
                # SET + 0 of a 64th member comes back as a negative BIGINT.
                num = None if row[i] is None else str(int(row[i]) % 2**64)
                i += 1
                out.append(None if v is None else
                           ["enumset", bytes.fromhex(v).hex(), num])
            elif v is None:
                out.append(None)
            elif dtype in INT_TYPES:
                big = int(v) > 2**63 - 1
                out.append(bytes_item("text", v.encode()) if big
                           else ["int", v])
            elif dtype in REAL_TYPES:
                out.append(["real", v])
            elif dtype in TEXT_TYPES:
                out.append(bytes_item("text", v.encode()))
            else:
                # JSON is LONGTEXT on MariaDB: a character column.
                cls = "text" if cs is not None else "blob"
                out.append(bytes_item(cls, bytes.fromhex(v)))
        return out

    def rows(self, cur, where, order):
        cur.execute(self.select + " WHERE " + where +
                    (" ORDER BY " + order if order else ""))
        return [self.image(r) for r in cur.fetchall()]


def main():
    conn = pymysql.connect(unix_socket=SOCKET, user="root", conv={},
                           autocommit=True, charset="utf8mb4")
    cur = conn.cursor()
    cur.execute("SET SESSION sql_mode = '', time_zone = '+00:00'")
    cur.execute("DROP DATABASE IF EXISTS binlog_fixture")
    cur.execute("CREATE DATABASE binlog_fixture")
    cur.execute("USE binlog_fixture")
    tables = {}
    for name, body in TABLES:
        old = name in OLD_TEMPORAL
        if old:
            cur.execute("SET GLOBAL mysql56_temporal_format = OFF")
        cur.execute("CREATE TABLE `%s` (%s) ENGINE=InnoDB" % (name, body))
        if old:
            cur.execute("SET GLOBAL mysql56_temporal_format = ON")
        tables[name] = Table(cur, name)
    changes = []
    for step in WORK:
        name, kind, sql, where = step[:4]
        order = step[4] if len(step) > 4 else None
        t = tables[name]
        # A key change finds the row by its old key before, its new after.
        where_before, where_after = (where if isinstance(where, tuple)
                                     else (where, where))
        before = (t.rows(cur, where_before, order)
                  if kind != "write" else [])
        cur.execute(sql)
        after = t.rows(cur, where_after, order) if kind != "delete" else []
        n = max(len(before), len(after))
        assert n and cur.rowcount == n, (sql, cur.rowcount, n)
        for i in range(n):
            changes.append({
                "table": name, "kind": kind,
                "before": before[i] if kind != "write" else None,
                "after": after[i] if kind != "delete" else None})
    out = {"tables": {n: [[c[0], c[2], c[3]] for c in t.cols]
                      for n, t in tables.items()},
           "changes": changes}
    with open(OUT, "w") as f:
        json.dump(out, f, indent=0, separators=(",", ":"))
        f.write("\n")
    print("%s: %d row changes" % (NAME, len(changes)))


main()

#!/usr/bin/python3
"""pg_types_compare.py — every row of a MySQL/MariaDB or SQLite source
against PostgreSQL, read by the drivers an application uses (MySQLdb,
sqlite3, psycopg2), sharing no code with cutover.

usage:
  pg_types_compare.py mysql SOCKET DB PG_DSN [SCHEMA.]TABLE...
  pg_types_compare.py sqlite FILE PG_DSN [SCHEMA.]TABLE...

Values are equal when they are the same value in the PostgreSQL column's
type: jsonb by the parsed document (key order, spaces and escapes aside),
uuid by the UUID (case and dashes aside), boolean as MySQL's 0/1,
timestamptz as the UTC instant MySQL gives a UTC session, bytea as the
bytes of the source's value, text[] as a SET's members in MySQL's order. Prints the rows compared per table; exit 1 on
the first difference, naming table, key and column.
"""
import datetime
import json
import sqlite3
import sys
import uuid

import psycopg2


def pg_rows(pg, table, schema="public"):
    cur = pg.cursor()
    cur.execute("SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s"
                " ORDER BY ordinal_position", (schema, table))
    cols = cur.fetchall()
    cur.execute('SELECT * FROM "%s"."%s" ORDER BY 1' % (schema, table))
    return cols, cur.fetchall()


def same(src, dst, pg_type):
    if src is None or dst is None:
        return src is None and dst is None
    if pg_type in ("jsonb", "json"):
        return (json.loads(src) if isinstance(src, (str, bytes)) else src) \
            == dst
    if pg_type == "uuid":
        return uuid.UUID(src) == uuid.UUID(dst)
    if pg_type == "boolean":
        return src in (0, 1) and bool(src) == dst
    if pg_type == "bytea":
        return (src.encode() if isinstance(src, str) else bytes(src)) \
            == bytes(dst)
    if pg_type == "ARRAY":      # a SET's members as text[]
        return (src.split(",") if src else []) == dst
    if pg_type == "timestamp with time zone":
        return dst.astimezone(datetime.timezone.utc).replace(tzinfo=None) \
            == src
    return src == dst


def compare(src_rows, pg, table, schema="public"):
    cols, rows = pg_rows(pg, table, schema)
    if len(src_rows) != len(rows):
        sys.exit("%s: %d rows in the source, %d in PostgreSQL"
                 % (table, len(src_rows), len(rows)))
    for s, d in zip(src_rows, rows):
        for i, (name, pg_type) in enumerate(cols):
            if not same(s[i], d[i], pg_type):
                sys.exit("%s id=%r column %s (%s): source %r, PostgreSQL %r"
                         % (table, s[0], name, pg_type, s[i], d[i]))
    print("%s: %d rows equal" % (table, len(rows)))


def main(argv):
    if argv[1] == "mysql":
        import MySQLdb
        sock, db, dsn, tables = argv[2], argv[3], argv[4], argv[5:]
        my = MySQLdb.connect(unix_socket=sock, user="root", db=db,
                             charset="utf8mb4").cursor()
        my.execute("SET time_zone = '+00:00'")

        def source_rows(t):
            my.execute("SELECT * FROM `%s` ORDER BY 1" % t)
            return my.fetchall()
    else:
        path, dsn, tables = argv[2], argv[3], argv[4:]
        lite = sqlite3.connect(path)

        def source_rows(t):
            return lite.execute('SELECT * FROM "%s" ORDER BY 1' % t).fetchall()
    pg = psycopg2.connect(dsn)
    for t in tables:
        schema, _, name = t.rpartition(".")
        compare(source_rows(name), pg, name, schema or "public")


if __name__ == "__main__":
    main(sys.argv)

#!/usr/bin/python3
"""compare_pg.py — independent row-by-row comparison of a SQLite database and
a PostgreSQL schema, for tests: compare.py's comparison and normalization,
with the rows read through psycopg2 (Debian's python3-psycopg2). It shares
no code with cutover.

usage: compare_pg.py SQLITE_PATH HOST PORT USER DATABASE [--schema public]
                     [--tables a,b] [--json]

HOST is a host name, an address or a socket directory (as libpq reads it);
the password comes from PGPASSWORD. Exit 0 when identical, 1 with the first
differences listed otherwise.
"""
import datetime
import os
import sys

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import compare_all  # noqa: E402


def mysql_like(v):
    """psycopg2's value in the type compare.equal knows from pymysql."""
    if isinstance(v, memoryview):                       # bytea
        return bytes(v)
    if isinstance(v, datetime.datetime) and v.tzinfo is not None:
        # timestamptz: the UTC instant, naive, as SQLite keeps it
        return v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    if isinstance(v, datetime.time):                    # time(6)
        return datetime.timedelta(hours=v.hour, minutes=v.minute,
                                  seconds=v.second,
                                  microseconds=v.microsecond)
    return v


def pg_ident(name):
    return '"' + name.replace('"', '""') + '"'


def pg_reader(conn, schema):
    def read(table, cols):
        cur = conn.cursor()
        cur.execute('SELECT %s FROM %s.%s' % (
            ', '.join(pg_ident(c) for c in cols), pg_ident(schema),
            pg_ident(table)))
        return [tuple(mysql_like(v) for v in row) for row in cur.fetchall()]
    return read


def main(argv):
    if len(argv) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    path, host, port, user, dbname = argv[1:6]
    schema = 'public'
    if '--schema' in argv:
        schema = argv[argv.index('--schema') + 1]
    conn = psycopg2.connect(host=host, port=port, user=user, dbname=dbname,
                            options='-c TimeZone=UTC')
    conn.set_session(readonly=True)
    return compare_all(path, pg_reader(conn, schema), 'PostgreSQL', argv)


if __name__ == '__main__':
    sys.exit(main(sys.argv))

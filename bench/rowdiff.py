#!/usr/bin/python3
"""rowdiff.py — the baseline of bench-verify: what a careful engineer would
write to check a migrated table row by row without cutover, in Python with
the standard sqlite3 module and MySQLdb (Debian's python3-mysqldb, the C
client), both sides streamed in key order and merged.

usage: rowdiff.py SQLITE_PATH TABLE KEY MYSQL_SOCKET DATABASE

Values are compared after the normalizations a row-by-row check needs for
the bench table: decimals at the column's scale (SQLite keeps 12.5, MySQL
DECIMAL(10,2) gives 12.50), booleans as integers, datetimes as MySQL prints
them with microseconds. Prints {"rows": N, "mismatches": M, "seconds": S}.
"""
import datetime
import decimal
import json
import sqlite3
import sys
import time

import MySQLdb
import MySQLdb.cursors


def norm(v):
    if isinstance(v, decimal.Decimal):
        return format(v, 'f')
    if isinstance(v, datetime.datetime):
        return v.strftime('%Y-%m-%d %H:%M:%S.%f')
    if isinstance(v, float):
        return format(decimal.Decimal(repr(v)).quantize(
            decimal.Decimal('0.01')), 'f')
    return v


def norm_sqlite(row, scales, dates):
    out = []
    for i, v in enumerate(row):
        if v is not None and i in scales:
            v = format(decimal.Decimal(repr(v) if isinstance(v, float)
                                       else str(v)).quantize(scales[i]), 'f')
        elif v is not None and i in dates:
            v = v.replace('T', ' ')
            if '.' not in v:
                v += '.000000'
            else:
                head, frac = v.split('.', 1)
                v = head + '.' + (frac + '000000')[:6]
        out.append(v)
    return out


def main(argv):
    path, table, key, sock, dbname = argv[1:6]
    start = time.monotonic()
    lite = sqlite3.connect('file:%s?mode=ro' % path, uri=True)
    my = MySQLdb.connect(unix_socket=sock, user='root', db=dbname,
                         charset='utf8mb4',
                         cursorclass=MySQLdb.cursors.SSCursor)
    cur = my.cursor()
    cur.execute('SELECT * FROM `%s` ORDER BY `%s`' % (table, key))
    names = [d[0] for d in cur.description]
    types = {r[0]: r[1] for r in lite.execute(
        "SELECT name, type FROM pragma_table_info(?)", (table,))}
    scales, dates = {}, set()
    for i, n in enumerate(names):
        t = types[n].upper()
        if t.startswith('DECIMAL'):
            s = int(t.split(',')[1].rstrip(')'))
            scales[i] = decimal.Decimal(1).scaleb(-s)
        elif 'DATE' in t or 'TIME' in t:
            dates.add(i)
    left = lite.execute('SELECT %s FROM "%s" ORDER BY "%s"' % (
        ', '.join('"%s"' % n for n in names), table, key))
    rows = mismatches = 0
    a, b = left.fetchone(), cur.fetchone()
    k = names.index(key)
    while a is not None or b is not None:
        if b is None or (a is not None and a[k] < b[k]):
            mismatches += 1
            a = left.fetchone()
            continue
        if a is None or b[k] < a[k]:
            mismatches += 1
            b = cur.fetchone()
            continue
        rows += 1
        if norm_sqlite(a, scales, dates) != [norm(v) for v in b]:
            mismatches += 1
        a, b = left.fetchone(), cur.fetchone()
    print(json.dumps({'rows': rows, 'mismatches': mismatches,
                      'seconds': round(time.monotonic() - start, 3)}))


if __name__ == '__main__':
    main(sys.argv)

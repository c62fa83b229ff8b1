#!/usr/bin/python3
"""compare.py — independent row-by-row comparison of a SQLite database and
a MySQL/MariaDB or PostgreSQL database, for tests. It shares no code with
cutover: values are normalized here in Python from the drivers' own types
(pymysql, psycopg2).

usage: compare.py SQLITE_PATH MYSQL_SOCKET DATABASE [--tables a,b]
                  [--ignore-missing-tables] [--json]
       compare.py SQLITE_PATH postgresql:CONNINFO DATABASE ...
                  (CONNINFO: libpq key=value pairs; DATABASE is the dbname,
                  --schema NAME the schema, public by default)

Every table of the SQLite file (except sqlite_* and _cutover_*) is read
whole on both sides, keyed by its primary key (or rowid as cutover_rowid),
and compared column by column. Exit 0 when identical, 1 with the first
differences listed otherwise.
"""
import datetime
import decimal
import json
import math
import sqlite3
import struct
import sys

import pymysql


def sqlite_tables(db):
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE "
        "'sqlite_%' AND name NOT LIKE '\\_cutover\\_%' ESCAPE '\\' ORDER BY name")
    return [r[0] for r in rows]


def norm_datetime_text(s):
    """ISO text (space or T, optional fraction, optional Z) → datetime."""
    s = s.strip()
    if s.endswith('Z'):
        s = s[:-1]
    if s.endswith('+00:00'):
        s = s[:-6]
    s = s.replace('T', ' ')
    for fmt in ('%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M',
                '%Y-%m-%d'):
        try:
            return datetime.datetime.strptime(s, fmt)
        except ValueError:
            pass
    return None


def norm_time_text(s):
    """'H:MM', 'HH:MM:SS' or 'HH:MM:SS.ffffff' (hours up to 838) → timedelta."""
    parts = s.split(':')
    if len(parts) not in (2, 3) or not all(parts):
        return None
    try:
        hours, minutes = int(parts[0]), int(parts[1])
        seconds = decimal.Decimal(parts[2]) if len(parts) == 3 else 0
    except (ValueError, decimal.InvalidOperation):
        return None
    return datetime.timedelta(hours=hours, minutes=minutes,
                              microseconds=int(seconds * 1000000))


def equal(sv, mv, mtype):
    """Is SQLite value sv the same value as MySQL value mv?"""
    if sv is None or mv is None:
        return sv is None and mv is None
    if isinstance(mv, decimal.Decimal):
        try:
            if isinstance(sv, float):
                # exact, or beyond 15 significant digits what SQLite shows
                # (127.46 + 1 computed in SQLite means 128.46)
                return decimal.Decimal(repr(sv)) == mv or \
                    decimal.Decimal('%.15g' % sv) == mv
            return decimal.Decimal(str(sv)) == mv
        except decimal.InvalidOperation:
            return False
    if isinstance(mv, datetime.datetime) and mv.tzinfo is not None:
        # timestamptz: an instant, compared in UTC
        mv = mv.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    if isinstance(mv, memoryview):              # PostgreSQL's bytea
        mv = bytes(mv)
    if isinstance(mv, datetime.datetime):
        if isinstance(sv, str):
            return norm_datetime_text(sv) == mv
        if isinstance(sv, int):
            secs = sv / 1000 if sv > 100000000000 else sv
            return datetime.datetime(1970, 1, 1) + \
                datetime.timedelta(seconds=secs) == mv
        if isinstance(sv, float):
            return datetime.datetime(1970, 1, 1) + \
                datetime.timedelta(microseconds=round(sv * 1e6)) == mv
        return False
    if isinstance(mv, datetime.datetime) is False and \
            isinstance(mv, datetime.time):      # PostgreSQL's time
        mv = datetime.timedelta(hours=mv.hour, minutes=mv.minute,
                                seconds=mv.second,
                                microseconds=mv.microsecond)
    if isinstance(mv, datetime.timedelta):      # a TIME column
        return isinstance(sv, str) and norm_time_text(sv) == mv
    if isinstance(mv, datetime.date):
        return isinstance(sv, str) and norm_datetime_text(sv) is not None and \
            norm_datetime_text(sv).date() == mv
    if isinstance(mv, float):
        if isinstance(sv, (int, float)):
            return float(sv) == mv or (math.isnan(mv) and math.isnan(sv))
        return False
    if isinstance(mv, int):
        if isinstance(sv, bool):
            return int(sv) == mv
        if isinstance(sv, float):
            return sv == mv
        return isinstance(sv, int) and sv == mv
    if isinstance(mv, (bytes, bytearray)):
        if isinstance(sv, str):
            return sv.encode('utf-8', 'surrogateescape') == bytes(mv)
        if isinstance(sv, (int, float)):
            return str(sv).encode() == bytes(mv)
        return bytes(sv) == bytes(mv)
    if isinstance(mv, str):
        if isinstance(sv, bytes):
            try:
                return sv.decode('utf-8') == mv
            except UnicodeDecodeError:
                return sv.decode('utf-8', 'replace') == mv
        if isinstance(sv, float):
            return repr(sv) == mv or ('%.17g' % sv) == mv or str(sv) == mv
        if isinstance(sv, int):
            return str(sv) == mv
        return sv == mv
    return sv == mv


def table_key(db, table):
    info = db.execute('SELECT name, pk FROM pragma_table_info(?)',
                      (table,)).fetchall()
    pk = [n for n, p in sorted((r for r in info if r[1]), key=lambda r: r[1])]
    return pk, [r[0] for r in info]


def compare_table(sdb, mdb, table, out, limit, quote='`', schema=None):
    pk, cols = table_key(sdb, table)
    qt = '"' + table.replace('"', '""') + '"'
    mcols = cols
    if not pk:
        pk = ['cutover_rowid']
        scols = ['rowid AS cutover_rowid'] + ['"%s"' % c.replace('"', '""')
                                               for c in cols]
        mcols = ['cutover_rowid'] + cols
    else:
        scols = ['"%s"' % c.replace('"', '""') for c in cols]
    src = {}
    sdb.text_factory = lambda b: b.decode('utf-8', 'surrogateescape')
    for row in sdb.execute('SELECT %s FROM %s' % (', '.join(scols), qt)):
        d = dict(zip(mcols, row))
        src[tuple(d[k] for k in pk)] = d
    cur = mdb.cursor()

    def ident(name):
        return quote + name.replace(quote, quote * 2) + quote
    cur.execute('SELECT %s FROM %s%s' % (
        ', '.join(ident(c) for c in mcols),
        ident(schema) + '.' if schema else '', ident(table)))
    seen = set()
    problems = 0
    for row in cur.fetchall():
        d = dict(zip(mcols, row))
        mkey = tuple(d[k] for k in pk)
        match = None
        if mkey in src:
            match = mkey
        else:
            for skey in src:
                if len(skey) == len(mkey) and all(
                        equal(a, b, None) for a, b in zip(skey, mkey)):
                    match = skey
                    break
        if match is None:
            problems += 1
            if problems <= limit:
                out.append('%s: extra row on MySQL, key %r' % (table, mkey))
            continue
        seen.add(match)
        for c in mcols:
            if not equal(src[match][c], d[c], None):
                problems += 1
                if problems <= limit:
                    out.append('%s key %r column %s: sqlite %r != mysql %r' % (
                        table, match, c, src[match][c], d[c]))
    for skey in src:
        if skey not in seen:
            problems += 1
            if problems <= limit:
                out.append('%s: row missing on MySQL, key %r' % (table, skey))
    return len(src), problems


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, sock, dbname = argv[1:4]
    only = None
    if '--tables' in argv:
        only = argv[argv.index('--tables') + 1].split(',')
    sdb = sqlite3.connect(path)
    quote, schema = '`', None
    if sock.startswith('postgresql:'):
        import psycopg2
        mdb = psycopg2.connect(sock[len('postgresql:'):] + ' dbname=' + dbname)
        quote = '"'
        schema = argv[argv.index('--schema') + 1] if '--schema' in argv \
            else 'public'
    else:
        mdb = pymysql.connect(unix_socket=sock, user='root', database=dbname,
                              charset='utf8mb4', binary_prefix=True)
    out = []
    total_rows = total_bad = 0
    report = {}
    for t in sqlite_tables(sdb):
        if only and t not in only:
            continue
        rows, bad = compare_table(sdb, mdb, t, out, 20, quote, schema)
        total_rows += rows
        total_bad += bad
        report[t] = {'rows': rows, 'differences': bad}
    if '--json' in argv:
        print(json.dumps({'rows': total_rows, 'differences': total_bad,
                          'tables': report}))
    else:
        for line in out:
            print(line)
        print('compared %d rows in %d tables: %d differences' % (
            total_rows, len(report), total_bad))
    return 0 if total_bad == 0 else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""compare.py — independent row-by-row comparison of a SQLite database and
a MySQL/MariaDB database, for tests. It shares no code with cutover: values
are normalized here in Python from the two drivers' own types.
compare_pg.py does the same against PostgreSQL with this module's
normalization (compare_all with a reader of its own).

usage: compare.py SQLITE_PATH MYSQL_SOCKET DATABASE [--tables a,b]
                  [--ignore-missing-tables] [--json]

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
    """Is SQLite value sv the same value as MySQL value mv? (Or PostgreSQL
    value mv, in the types compare_pg.py turns psycopg2's into.)"""
    if sv is None or mv is None:
        return sv is None and mv is None
    if isinstance(mv, (dict, list)):            # PostgreSQL's jsonb, parsed
        try:
            return isinstance(sv, str) and json.loads(sv) == mv
        except ValueError:
            return False
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


def mysql_reader(mdb):
    """A function reading every row of a table's columns from MySQL."""
    def read(table, cols):
        cur = mdb.cursor()
        cur.execute('SELECT %s FROM `%s`' % (', '.join(
            '`%s`' % c.replace('`', '``') for c in cols),
            table.replace('`', '``')))
        return cur.fetchall()
    return read


def compare_table(sdb, read_target, name, table, out, limit):
    """Compare table on SQLite with the rows read_target(table, columns)
    returns from the target called name."""
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
    seen = set()
    problems = 0
    for row in read_target(table, mcols):
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
                out.append('%s: extra row on %s, key %r' % (table, name, mkey))
            continue
        seen.add(match)
        for c in mcols:
            if not equal(src[match][c], d[c], None):
                problems += 1
                if problems <= limit:
                    out.append('%s key %r column %s: sqlite %r != %s %r' % (
                        table, match, c, src[match][c], name.lower(), d[c]))
    for skey in src:
        if skey not in seen:
            problems += 1
            if problems <= limit:
                out.append('%s: row missing on %s, key %r' % (table, name, skey))
    return len(src), problems


def compare_all(path, read_target, name, argv):
    """Every table of the SQLite file at path against the target; the
    options --tables, --json of argv. Returns the exit status."""
    only = None
    if '--tables' in argv:
        only = argv[argv.index('--tables') + 1].split(',')
    sdb = sqlite3.connect(path)
    out = []
    total_rows = total_bad = 0
    report = {}
    for t in sqlite_tables(sdb):
        if only and t not in only:
            continue
        rows, bad = compare_table(sdb, read_target, name, t, out, 20)
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


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, sock, dbname = argv[1:4]
    mdb = pymysql.connect(unix_socket=sock, user='root', database=dbname,
                          charset='utf8mb4', binary_prefix=True)
    return compare_all(path, mysql_reader(mdb), 'MySQL', argv)


if __name__ == '__main__':
    sys.exit(main(sys.argv))

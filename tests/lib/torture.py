#!/usr/bin/python3
"""torture.py — the pre-validation torture fixture: one SQLite table per
edge case the plan must report (or must stay quiet about), each named after
its case, a few rows each (the 1 MiB blob once).

usage: torture.py PATH          build PATH (must not exist)
       torture.py --names       print the constants tests share (JSON)

The database is left in the default rollback journal mode (not WAL) on
purpose: that is one of the cases. A view and a user trigger are created
(they are listed by the plan, not migrated). One column is declared with a
collation the migration tool cannot know (it is registered only on the
connection that builds the file, as an application would do).

Constants used by the e2e test live in NAMES below, so the test and the
fixture agree on the odd identifiers.
"""
import json
import os
import random
import sqlite3
import sys

# Identifiers that are themselves the test case.
LONG_TABLE = 't_ident_long_' + 'x' * (65 - len('t_ident_long_'))      # 65
TABLE_64 = 't_ident_64_' + 'y' * (64 - len('t_ident_64_'))            # 64
LONG_COLUMN = 'c' * 70
MB_COLUMN = 'é' * 64                     # 64 characters, 128 bytes
QUOTED_TABLE = 't_ident quoting "dq" `bt` \'sq\' ;.'
QUOTED_COLUMNS = ['col with space', 'dq"col', 'bt`col', "sq'col", 'semi;col',
                  'ünïcödé']
RESERVED_TABLE = 'order'
RESERVED_COLUMNS = ['select', 'group', 'key', 'index', 'from']
TRAILING_SPACE_COLUMN = 'trailing '
CUSTOM_COLLATION = 'app_locale'
LONG_KEY_CHARS = 1000                    # > 3072 bytes / 4
LONG_UNIQUE_CHARS = 800

NAMES = {
    'long_table': LONG_TABLE, 'table_64': TABLE_64,
    'long_column': LONG_COLUMN, 'mb_column': MB_COLUMN,
    'quoted_table': QUOTED_TABLE, 'quoted_columns': QUOTED_COLUMNS,
    'reserved_table': RESERVED_TABLE, 'reserved_columns': RESERVED_COLUMNS,
    'trailing_space_column': TRAILING_SPACE_COLUMN,
    'custom_collation': CUSTOM_COLLATION,
    'long_key_chars': LONG_KEY_CHARS, 'long_unique_chars': LONG_UNIQUE_CHARS,
}


def q(name):
    return '"' + name.replace('"', '""') + '"'


def build(path):
    if os.path.exists(path):
        raise SystemExit('torture.py: %s exists' % path)
    r = random.Random(15)
    db = sqlite3.connect(path)
    # an application-registered collation: SQLite refuses to create a
    # column with an unknown collation, so it is known here only
    db.create_collation(CUSTOM_COLLATION,
                        lambda a, b: (a.lower() > b.lower()) -
                                     (a.lower() < b.lower()))
    x = db.execute
    many = db.executemany

    # --- keys ----------------------------------------------------------------
    # no primary key, no unique NOT NULL key (the UNIQUE column is nullable)
    x('CREATE TABLE t_no_key (a TEXT, b INTEGER UNIQUE)')
    many('INSERT INTO t_no_key VALUES (?,?)',
         [('one', 1), ('two', None), ('two', None), (None, 4)])
    # no primary key but a unique NOT NULL key: that key is used
    x('CREATE TABLE t_unique_notnull_key (code TEXT NOT NULL UNIQUE, '
      'v INTEGER)')
    many('INSERT INTO t_unique_notnull_key VALUES (?,?)',
         [('k1', 1), ('k2', None), ('k3', 3)])
    x('CREATE TABLE t_without_rowid (k TEXT PRIMARY KEY, v INTEGER) '
      'WITHOUT ROWID')
    many('INSERT INTO t_without_rowid VALUES (?,?)',
         [('alpha', 1), ('beta', 2), ('gamma', 3)])
    x('CREATE TABLE t_key_negative_zero (id INTEGER PRIMARY KEY, v TEXT)')
    many('INSERT INTO t_key_negative_zero VALUES (?,?)',
         [(-3, 'minus three'), (-1, 'minus one'), (0, 'zero'), (1, 'one'),
          (2, 'two')])
    x('CREATE TABLE t_key_composite (a INTEGER NOT NULL, b TEXT NOT NULL, '
      'v TEXT, PRIMARY KEY (a, b))')
    many('INSERT INTO t_key_composite VALUES (?,?,?)',
         [(1, 'a', 'x'), (1, 'b', 'y'), (2, 'a', 'z'), (-1, 'é', None)])
    x('CREATE TABLE t_key_text (code TEXT PRIMARY KEY, v INTEGER)')
    many('INSERT INTO t_key_text VALUES (?,?)',
         [('a', 1), ('B', 2), ('é', 3), ('😀', 4), ('', 5), ('a b', 6)])
    x('CREATE TABLE t_key_blob (k BLOB PRIMARY KEY, v INTEGER)')
    many('INSERT INTO t_key_blob VALUES (?,?)',
         [(b'\x00', 1), (b'\x00\x01', 2), (b'\xff\xfe', 3), (b'ab', 4)])
    # a text key too long for an InnoDB index
    x('CREATE TABLE t_key_text_long (k TEXT PRIMARY KEY, v INTEGER)')
    many('INSERT INTO t_key_text_long VALUES (?,?)',
         [('short', 1), ('L' * LONG_KEY_CHARS, 2)])
    # a unique text column longer than an index can hold
    x('CREATE TABLE t_unique_long_text (id INTEGER PRIMARY KEY, body TEXT '
      'UNIQUE)')
    many('INSERT INTO t_unique_long_text VALUES (?,?)',
         [(1, 'a' * LONG_UNIQUE_CHARS), (2, 'b' * LONG_UNIQUE_CHARS),
          (3, 'short')])
    # unique values longer than the index prefix, equal on its first 255
    # characters: distinct in SQLite, duplicates under the target's index
    x('CREATE TABLE t_unique_prefix_dup (id INTEGER PRIMARY KEY, body TEXT '
      'UNIQUE)')
    many('INSERT INTO t_unique_prefix_dup VALUES (?,?)',
         [(1, 'p' * LONG_UNIQUE_CHARS + '1'), (2, 'p' * LONG_UNIQUE_CHARS + '2')])
    x('CREATE TABLE t_nocase_key (code TEXT PRIMARY KEY COLLATE NOCASE, '
      'v INTEGER)')
    many('INSERT INTO t_nocase_key VALUES (?,?)',
         [('a', 1), ('B', 2), ('c', 3), ('D', 4)])
    x('CREATE TABLE t_int64_extremes (id INTEGER PRIMARY KEY, v INTEGER)')
    many('INSERT INTO t_int64_extremes VALUES (?,?)',
         [(-2 ** 63, 2 ** 63 - 1), (-2 ** 63 + 1, -2 ** 63), (-1, -1),
          (2 ** 63 - 2, 2 ** 53 + 1), (2 ** 63 - 1, -2 ** 63 + 1)])

    # --- identifiers ---------------------------------------------------------
    x('CREATE TABLE %s (id INTEGER PRIMARY KEY, v TEXT)' % q(LONG_TABLE))
    x('INSERT INTO %s VALUES (1, \'x\')' % q(LONG_TABLE))
    x('CREATE TABLE t_ident_long_column (id INTEGER PRIMARY KEY, %s TEXT)'
      % q(LONG_COLUMN))
    x('INSERT INTO t_ident_long_column VALUES (1, \'x\')')
    x('CREATE TABLE %s (id INTEGER PRIMARY KEY, v TEXT)' % q(TABLE_64))
    many('INSERT INTO %s VALUES (?,?)' % q(TABLE_64), [(1, 'a'), (2, 'b')])
    x('CREATE TABLE t_ident_multibyte_64 (id INTEGER PRIMARY KEY, %s TEXT)'
      % q(MB_COLUMN))
    x('INSERT INTO t_ident_multibyte_64 VALUES (1, \'x\')')
    x('CREATE TABLE %s (id INTEGER PRIMARY KEY, %s)' % (
        q(QUOTED_TABLE), ', '.join(q(c) + ' TEXT' for c in QUOTED_COLUMNS)))
    many('INSERT INTO %s VALUES (?%s)' % (q(QUOTED_TABLE),
                                          ',?' * len(QUOTED_COLUMNS)),
         [(1, 'a', '"', '`', "'", ';', 'ü'), (2, None, '', 'x', 'y', 'z', '')])
    x('CREATE TABLE t_ident_trailing_space (id INTEGER PRIMARY KEY, %s TEXT)'
      % q(TRAILING_SPACE_COLUMN))
    x('INSERT INTO t_ident_trailing_space VALUES (1, \'x\')')
    x('CREATE TABLE %s (id INTEGER PRIMARY KEY, %s)' % (
        q(RESERVED_TABLE),
        ', '.join(q(c) + ' TEXT' for c in RESERVED_COLUMNS)))
    many('INSERT INTO %s VALUES (?,?,?,?,?,?)' % q(RESERVED_TABLE),
         [(1, 'select', 'group', 'key', 'index', 'from'),
          (2, None, '', 'k', 'i', 'f')])

    # --- defaults, collations, views, triggers, counters, references ---------
    x("CREATE TABLE t_default_expr (id INTEGER PRIMARY KEY, "
      "created DATETIME DEFAULT (datetime('now')), "
      "stamped DATETIME DEFAULT CURRENT_TIMESTAMP, "
      "n INTEGER DEFAULT 5, label TEXT DEFAULT 'plain')")
    many('INSERT INTO t_default_expr VALUES (?,?,?,?,?)',
         [(1, '2024-01-02 03:04:05', '2024-01-02 03:04:06', 5, 'plain'),
          (2, '2024-02-03 04:05:06', '2024-02-03 04:05:07', 7, 'x')])
    x('CREATE TABLE t_collate_nocase (id INTEGER PRIMARY KEY, '
      'name TEXT COLLATE NOCASE)')
    many('INSERT INTO t_collate_nocase VALUES (?,?)',
         [(1, 'Alice'), (2, 'alice'), (3, 'BOB')])
    x('CREATE TABLE t_collate_custom (id INTEGER PRIMARY KEY, name TEXT '
      'COLLATE %s)' % CUSTOM_COLLATION)
    many('INSERT INTO t_collate_custom VALUES (?,?)',
         [(1, 'Zoë'), (2, 'zoe'), (3, 'Ångström')])
    x('CREATE TABLE t_trigger_host (id INTEGER PRIMARY KEY, v TEXT, '
      'changes INTEGER NOT NULL DEFAULT 0)')
    many('INSERT INTO t_trigger_host VALUES (?,?,?)', [(1, 'a', 0), (2, 'b', 0)])
    x('CREATE TRIGGER tr_user_count_changes AFTER UPDATE OF v ON '
      't_trigger_host BEGIN UPDATE t_trigger_host SET changes = changes + 1 '
      'WHERE id = NEW.id; END')
    x('CREATE VIEW v_user_report AS SELECT id, v FROM t_trigger_host '
      'WHERE changes = 0')
    x('CREATE TABLE t_autoincrement (id INTEGER PRIMARY KEY AUTOINCREMENT, '
      'v TEXT)')
    many('INSERT INTO t_autoincrement (v) VALUES (?)', [('a',), ('b',), ('c',)])
    x('DELETE FROM t_autoincrement WHERE id = 3')   # counter stays at 3
    x('CREATE TABLE t_fk_parent (id INTEGER PRIMARY KEY, name TEXT)')
    many('INSERT INTO t_fk_parent VALUES (?,?)', [(1, 'p1'), (2, 'p2')])
    x('CREATE TABLE t_fk_child (id INTEGER PRIMARY KEY, parent_id INTEGER '
      'REFERENCES t_fk_parent(id), v TEXT)')
    many('INSERT INTO t_fk_child VALUES (?,?,?)',
         [(1, 1, 'ok'), (2, None, 'no parent, NULL'), (3, 99, 'orphan'),
          (4, 2, 'ok')])

    # --- values that do not fit their declared type -------------------------
    # n: integers beyond 2^53 next to reals (DOUBLE would round them)
    x('CREATE TABLE t_int_2pow62 (id INTEGER PRIMARY KEY, v INTEGER, '
      'i INT, small SMALLINT, n NUMERIC)')
    many('INSERT INTO t_int_2pow62 VALUES (?,?,?,?,?)',
         [(1, 2 ** 62, 2 ** 62, 2 ** 62, 2 ** 62), (2, -2 ** 62, 3, 7, 1.5),
          (3, 0, -2 ** 31 - 1, -3, 2 ** 53 + 1)])
    x('CREATE TABLE t_untyped_mixed (id INTEGER PRIMARY KEY, v, w)')
    many('INSERT INTO t_untyped_mixed VALUES (?,?,?)',
         [(1, 1, 7), (2, 'abc', '8'), (3, 2.5, 9), (4, None, None),
          (5, '', 10)])
    x('CREATE TABLE t_epoch_s (id INTEGER PRIMARY KEY, at DATETIME)')
    many('INSERT INTO t_epoch_s VALUES (?,?)',
         [(1, 0), (2, 1700000000), (3, -86400), (4, None)])
    x('CREATE TABLE t_epoch_ms (id INTEGER PRIMARY KEY, at DATETIME)')
    many('INSERT INTO t_epoch_ms VALUES (?,?)',
         [(1, 1700000000123), (2, 1700000000000), (3, 1000000000001)])
    x('CREATE TABLE t_datetime_ns (id INTEGER PRIMARY KEY, at DATETIME)')
    many('INSERT INTO t_datetime_ns VALUES (?,?)',
         [(1, '2024-01-02 03:04:05.123456'), (2, '2024-01-02 03:04:05.123456789'),
          (3, '2024-01-02T03:04:05.000000001Z'), (4, '2024-01-02 03:04:05')])
    # Django's TimeField and Laravel's time(), as SQLite stores them
    x('CREATE TABLE t_time (id INTEGER PRIMARY KEY, opens time NOT NULL, '
      'closes TIME)')
    many('INSERT INTO t_time VALUES (?,?,?)',
         [(1, '09:00:00', '17:30:00'), (2, '9:05', None),
          (3, '23:59:59.999999', '100:00:00'), (4, '00:00:00.5', '838:59:59')])
    x('CREATE TABLE t_time_not_times (id INTEGER PRIMARY KEY, at TIME)')
    many('INSERT INTO t_time_not_times VALUES (?,?)',
         [(1, '12:00'), (2, 'noon'), (3, None), (4, '25:61')])
    # one time written two ways: one value on the target's unique index
    x('CREATE TABLE t_time_unique_dup (id INTEGER PRIMARY KEY, '
      'slot TIME UNIQUE)')
    many('INSERT INTO t_time_unique_dup VALUES (?,?)',
         [(1, '12:30'), (2, '12:30:00'), (3, '13:00')])
    x('CREATE TABLE t_decimal_overflow (id INTEGER PRIMARY KEY, '
      'price DECIMAL(5,2))')
    many('INSERT INTO t_decimal_overflow VALUES (?,?)',
         [(1, 1.5), (2, 3.14159), (3, 12345.6), (4, '-0.01'), (5, None)])
    # declared precision is enough; values below 0.1 in magnitude
    x('CREATE TABLE t_decimal_small_fraction (id INTEGER PRIMARY KEY, '
      'price DECIMAL(10,2))')
    many('INSERT INTO t_decimal_small_fraction VALUES (?,?)',
         [(1, 0.05), (2, -0.01), (3, 0.1), (4, 0.99), (5, '0.07'), (6, 1.05),
          (7, 0)])
    x('CREATE TABLE t_invalid_utf8 (id INTEGER PRIMARY KEY, s TEXT)')
    x("INSERT INTO t_invalid_utf8 VALUES (1, CAST(x'ff00fe5c09' AS TEXT)), "
      "(2, 'valid é'), (3, CAST(x'c3' AS TEXT)), (4, CAST(x'eda080' AS TEXT))")
    x('CREATE TABLE t_nul_bytes (id INTEGER PRIMARY KEY, s TEXT, b BLOB)')
    many('INSERT INTO t_nul_bytes VALUES (?,?,?)',
         [(1, 'a\x00b', b'\x00\xff\x00'), (2, '\x00', b'\x00'),
          (3, 'tail\x00', b'')])
    x('CREATE TABLE t_real_special (id INTEGER PRIMARY KEY, r REAL, u)')
    many('INSERT INTO t_real_special VALUES (?,?,?)',
         [(1, 0.1, 0.1), (2, 1e300, 1e300), (3, -0.0, -0.0),
          (4, -1e-300, 5e-324), (5, 1.7976931348623157e308, 2.5),
          (6, 0.30000000000000004, -123.456)])
    x('CREATE TABLE t_real_infinity (id INTEGER PRIMARY KEY, r REAL)')
    many('INSERT INTO t_real_infinity VALUES (?,?)',
         [(1, 1.5), (2, float('inf')), (3, float('-inf'))])

    # --- collisions under the target collation ------------------------------
    x('CREATE TABLE t_collide_case (id INTEGER PRIMARY KEY, email TEXT UNIQUE)')
    many('INSERT INTO t_collide_case VALUES (?,?)',
         [(1, 'Bob@example.org'), (2, 'bob@example.org'), (3, 'eve@x.org')])
    x('CREATE TABLE t_collide_accent (id INTEGER PRIMARY KEY, name TEXT UNIQUE)')
    many('INSERT INTO t_collide_accent VALUES (?,?)',
         [(1, 'resume'), (2, 'résumé'), (3, 'other')])
    x('CREATE TABLE t_collide_trailing_space (id INTEGER PRIMARY KEY, '
      'code TEXT UNIQUE)')
    many('INSERT INTO t_collide_trailing_space VALUES (?,?)',
         [(1, 'abc'), (2, 'abc '), (3, 'xyz')])
    x('CREATE TABLE t_collide_key_case (k TEXT PRIMARY KEY, v INTEGER)')
    many('INSERT INTO t_collide_key_case VALUES (?,?)',
         [('A', 1), ('a', 2), ('b', 3)])

    # --- values that must survive unchanged ---------------------------------
    x('CREATE TABLE t_utf8_4byte (id INTEGER PRIMARY KEY, s TEXT)')
    many('INSERT INTO t_utf8_4byte VALUES (?,?)',
         [(1, '😀'), (2, '𝄞 clef'), (3, '𠜎𠜱'), (4, 'a😀b🫒c')])
    x('CREATE TABLE t_rtl_text (id INTEGER PRIMARY KEY, s TEXT)')
    many('INSERT INTO t_rtl_text VALUES (?,?)',
         [(1, 'مرحبا بالعالم'), (2, 'שלום עולם'),
          (3, 'abc \u200fשלום\u200f 123'), (4, '\u202eevil\u202c')])
    x('CREATE TABLE t_blob_1mib (id INTEGER PRIMARY KEY, b BLOB)')
    x('INSERT INTO t_blob_1mib VALUES (1, ?)',
      (bytes(r.getrandbits(8) for _ in range(1 << 20)),))
    x('CREATE TABLE t_empty_vs_null (id INTEGER PRIMARY KEY, s TEXT, b BLOB, '
      'n INTEGER)')
    many('INSERT INTO t_empty_vs_null VALUES (?,?,?,?)',
         [(1, '', b'', 0), (2, None, None, None), (3, 'NULL', b'NULL', None),
          (4, ' ', b' ', -0)])
    db.commit()
    db.close()


def main(argv):
    if len(argv) == 2 and argv[1] == '--names':
        print(json.dumps(NAMES, ensure_ascii=False))
        return 0
    if len(argv) != 2 or argv[1].startswith('-'):
        print(__doc__, file=sys.stderr)
        return 2
    build(argv[1])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

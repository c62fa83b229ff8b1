#!/usr/bin/python3
"""fixtures.py — build SQLite fixture databases for tests, benchmarks and
the demo.

usage: fixtures.py shop PATH [--rows N] [--seed S]
       fixtures.py bench PATH [--rows N]
       fixtures.py escaping PATH

shop: a Django-like shop (auth_user, shop_product, shop_order,
shop_orderitem, django_session) with integer, composite and text keys,
foreign keys, DECIMAL, DATETIME with microseconds, booleans, Greek text and
emoji, NULLs and blobs. --rows is the approximate total (default 120000).

bench: the 2M-row orders table of the bulk-copy benchmark (id, user_id,
status, total DECIMAL(10,2), address with Greek, notes with emoji and NULLs,
is_paid, created_at DATETIME with microseconds, updated_at; indexes on
user_id and (status, created_at)).

escaping: every byte a bulk-load stream must escape (tab, newline, CR,
backslash, NUL, ctrl-Z, backspace, the text \\N, quotes) in text and blobs,
NULL vs '' vs 'NULL', 4-byte UTF-8, a 1 MiB value (table t; row 13 holds
the text 'x\\0y'), and invalid UTF-8 in a TEXT column (table bad).
"""
import random
import sqlite3
import sys

GREEK = ['Αθήνα', 'Θεσσαλονίκη', 'Πάτρα', 'Ηράκλειο', 'Λάρισα', 'Βόλος',
         'Ιωάννινα', 'Χανιά', 'Καλαμάτα', 'Ρόδος']
WORDS = ['ελιές', 'μέλι', 'φέτα', 'λάδι', 'κρασί', 'olive', 'honey', 'cheese',
         'oil', 'wine', 'bread', 'tea']
EMOJI = ['😀', '🫒', '🍯', '🧀', '🍷', '🚚', '✨']
STATUSES = ['new', 'paid', 'shipped', 'delivered', 'cancelled']

SHOP_SCHEMA = '''
PRAGMA journal_mode=WAL;
CREATE TABLE auth_user (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username VARCHAR(150) NOT NULL UNIQUE,
  email VARCHAR(254) NOT NULL,
  first_name VARCHAR(150) NOT NULL,
  is_staff BOOL NOT NULL,
  is_active BOOL NOT NULL,
  date_joined DATETIME NOT NULL,
  last_login DATETIME NULL);
CREATE TABLE shop_product (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sku VARCHAR(32) NOT NULL UNIQUE,
  name VARCHAR(200) NOT NULL,
  description TEXT NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  stock INTEGER NOT NULL,
  image BLOB NULL,
  created_at DATETIME NOT NULL);
CREATE TABLE shop_order (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES auth_user(id),
  status VARCHAR(16) NOT NULL,
  total DECIMAL(12,2) NOT NULL,
  is_paid BOOL NOT NULL,
  note TEXT NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL);
CREATE INDEX shop_order_user_id ON shop_order(user_id);
CREATE INDEX shop_order_status_created ON shop_order(status, created_at);
CREATE TABLE shop_orderitem (
  order_id INTEGER NOT NULL REFERENCES shop_order(id),
  product_id INTEGER NOT NULL REFERENCES shop_product(id),
  quantity INTEGER NOT NULL,
  unit_price DECIMAL(10,2) NOT NULL,
  PRIMARY KEY (order_id, product_id));
CREATE TABLE django_session (
  session_key VARCHAR(40) NOT NULL PRIMARY KEY,
  session_data TEXT NOT NULL,
  expire_date DATETIME NOT NULL);
CREATE INDEX django_session_expire_date ON django_session(expire_date);
'''


def ts(r, year=2024):
    return '%d-%02d-%02d %02d:%02d:%02d.%06d' % (
        year, r.randint(1, 12), r.randint(1, 28), r.randint(0, 23),
        r.randint(0, 59), r.randint(0, 59), r.randint(0, 999999))


def text(r, n):
    return ' '.join(r.choice(WORDS) for _ in range(n)) + ' ' + r.choice(EMOJI)


def shop(path, rows, seed):
    r = random.Random(seed)
    db = sqlite3.connect(path)
    db.executescript(SHOP_SCHEMA)
    n_users = max(10, rows // 12)
    n_products = max(10, rows // 60)
    n_orders = max(10, rows // 3)
    n_sessions = max(10, rows // 24)
    db.executemany(
        'INSERT INTO auth_user VALUES (?,?,?,?,?,?,?,?)',
        ((i, 'user%d' % i, 'user%d@example.gr' % i,
          r.choice(GREEK) + (' ' + r.choice(EMOJI) if i % 5 == 0 else ''),
          int(i % 50 == 0), int(i % 17 != 0), ts(r, 2023),
          None if i % 3 == 0 else ts(r)) for i in range(1, n_users + 1)))
    db.executemany(
        'INSERT INTO shop_product VALUES (?,?,?,?,?,?,?,?)',
        ((i, 'SKU-%06d' % i, text(r, 2), text(r, r.randint(3, 30)),
          round(r.uniform(0.5, 999.99), 2), r.randint(0, 500),
          None if i % 4 else bytes(r.getrandbits(8) for _ in range(r.randint(0, 2048))),
          ts(r, 2023)) for i in range(1, n_products + 1)))
    orders, items = [], []
    for i in range(1, n_orders + 1):
        created = ts(r)
        orders.append((i, r.randint(1, n_users), r.choice(STATUSES),
                       round(r.uniform(1, 2000), 2), int(r.random() < 0.7),
                       None if i % 3 else 'σημείωση\t%d\n%s \\ "q"' % (i, r.choice(EMOJI)),
                       created, created))
        for p in r.sample(range(1, n_products + 1), r.randint(1, 3)):
            items.append((i, p, r.randint(1, 5), round(r.uniform(0.5, 999.99), 2)))
    db.executemany('INSERT INTO shop_order VALUES (?,?,?,?,?,?,?,?)', orders)
    db.executemany('INSERT INTO shop_orderitem VALUES (?,?,?,?)', items)
    db.executemany(
        'INSERT INTO django_session VALUES (?,?,?)',
        (('%040x' % r.getrandbits(160), 'e30:' + 'x' * r.randint(10, 200),
          ts(r, 2025)) for _ in range(n_sessions)))
    db.commit()
    db.close()


def bench(path, rows):
    r = random.Random(7)
    db = sqlite3.connect(path)
    db.executescript('''
PRAGMA journal_mode=WAL;
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL,
  status VARCHAR(16) NOT NULL,
  total DECIMAL(10,2) NOT NULL,
  address TEXT NOT NULL,
  notes TEXT NULL,
  is_paid BOOL NOT NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL);
''')
    batch = []
    for i in range(1, rows + 1):
        created = ts(r)
        batch.append((i, r.randint(1, 200000), r.choice(STATUSES),
                      round(r.uniform(1, 9999), 2),
                      '%s %d, %s' % (r.choice(GREEK), r.randint(1, 200),
                                     r.choice(GREEK)),
                      None if i % 3 else text(r, r.randint(1, 8)),
                      int(r.random() < 0.6), created, created))
        if len(batch) == 50000:
            db.executemany('INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?)', batch)
            batch = []
    if batch:
        db.executemany('INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?)', batch)
    db.execute('CREATE INDEX orders_user_id ON orders(user_id)')
    db.execute('CREATE INDEX orders_status_created ON orders(status, created_at)')
    db.commit()
    db.close()


def escaping(path):
    db = sqlite3.connect(path)
    db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB, '
               'raw BLOB)')
    r = random.Random(5)
    texts = ['\t', '\n', '\r', '\\', '\\N', 'NULL', '', "'", '"', '\x1a',
             '\x08', 'a\tb\nc\\d\re', 'x\x00y', '😀𝄞', 'trailing ',
             ' leading', '\\\\\\', '\\t', 'ç\u0301', 'a' * (1 << 20)]
    rows = []
    for i, s in enumerate(texts):
        rows.append((i + 1, s, s.encode('utf-8'),
                     bytes([i, 0, 9, 10, 13, 92, 255])))
    rows.append((100, None, None, None))
    for i in range(101, 3000):
        rows.append((i, ''.join(chr(r.choice([9, 10, 92, 65, 0x3b1, 0x1f600]))
                                for _ in range(r.randint(0, 40))),
                     bytes(r.getrandbits(8) for _ in range(r.randint(0, 64))),
                     bytes(r.getrandbits(8) for _ in range(r.randint(0, 64)))))
    db.executemany('INSERT INTO t VALUES (?,?,?,?)', rows)
    db.execute('CREATE TABLE bad (id INTEGER PRIMARY KEY, s TEXT)')
    db.execute("INSERT INTO bad VALUES (1, CAST(x'ff00fe5c09' AS TEXT)), "
               "(2, 'ok'), (3, CAST(x'c3' AS TEXT))")
    db.commit()
    db.close()


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    kind, path = argv[1], argv[2]
    rows = int(argv[argv.index('--rows') + 1]) if '--rows' in argv else None
    seed = int(argv[argv.index('--seed') + 1]) if '--seed' in argv else 1
    if kind == 'shop':
        shop(path, rows or 120000, seed)
    elif kind == 'bench':
        bench(path, rows or 2000000)
    elif kind == 'escaping':
        escaping(path)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

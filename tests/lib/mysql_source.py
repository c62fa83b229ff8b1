#!/usr/bin/python3
"""mysql_source.py — a MySQL/MariaDB source database for tests, sharing no
code with cutover.

usage:
  mysql_source.py load SQLITE SOCKET DB    the SQLite fixture's tables, rows,
                                           indexes and foreign keys in DB,
                                           plus what a MySQL application
                                           has besides: a table of MySQL
                                           types, a view, a trigger, a
                                           procedure, a function, an event
  mysql_source.py write SOCKET DB SECONDS  writes (some rolled back on
                                           purpose) until the fence refuses
                                           one; prints {"committed": N,
                                           "fenced": true|false}
  mysql_source.py follow SOCKET TARGET_SOCKET DB SECONDS SWITCH_FILE RECORD
                                           the same writes, following the
                                           switch: on the source's fence it
                                           waits for SWITCH_FILE to say
                                           "target" and goes on there, on
                                           the target's fence back; every
                                           acknowledged order's last state
                                           goes to RECORD (JSON); it stops
                                           when SWITCH_FILE.stop appears
  mysql_source.py check SOCKET DB RECORD   every order of RECORD is as the
                                           writer last left it
  mysql_source.py compare SOCKET1 SOCKET2 DB
                                           every table of DB row by row on
                                           both servers; exit 1 on the first
                                           difference
"""
import json
import os
import random
import sqlite3
import sys
import time

import pymysql

FENCE = "cutover: writes moved to target"
FENCE_BACK = "cutover: writes moved back to source"


def connect(sock, db=None):
    return pymysql.connect(unix_socket=sock, user="root", database=db,
                           autocommit=True, charset="utf8mb4")


def mysql_type(decl, pk_auto):
    d = decl.upper()
    if pk_auto:
        return "INT NOT NULL AUTO_INCREMENT"
    if d.startswith("INTEGER"):
        return "INT"
    if d.startswith("BOOL"):
        return "TINYINT(1)"
    if d.startswith("DATETIME"):
        return "DATETIME(6)"
    if d.startswith("VARCHAR") or d.startswith("DECIMAL"):
        return decl
    if d.startswith("TEXT"):
        return "TEXT"
    if d.startswith("BLOB"):
        return "BLOB"
    return "LONGTEXT"


MYSQL_EXTRAS = """
CREATE TABLE mysql_types (
  code VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY,
  size ENUM('s','m','l') NOT NULL,
  tags SET('a','b','c') NULL,
  qty INT UNSIGNED NOT NULL,
  big BIGINT UNSIGNED NULL,
  doc JSON NULL,
  yr YEAR NULL,
  seen TIMESTAMP(3) NULL,
  flags BIT(8) NULL,
  ratio DOUBLE NULL,
  qty2 INT AS (qty * 2) VIRTUAL,
  UNIQUE KEY mysql_types_qty (qty, size),
  CONSTRAINT big_or_null CHECK (big IS NULL OR big >= 0))
;
CREATE VIEW paid_orders AS SELECT id, total FROM shop_order WHERE is_paid = 1
;
CREATE TRIGGER shop_product_touch BEFORE UPDATE ON shop_product FOR EACH ROW
  SET NEW.stock = GREATEST(NEW.stock, 0)
;
CREATE PROCEDURE close_old_orders() UPDATE shop_order SET status = 'closed'
  WHERE created_at < '2020-01-01'
;
CREATE FUNCTION order_count(u INT) RETURNS INT READS SQL DATA
  RETURN (SELECT COUNT(*) FROM shop_order WHERE user_id = u)
;
CREATE EVENT purge_sessions ON SCHEDULE EVERY 1 DAY DISABLE
  DO DELETE FROM django_session WHERE expire_date < NOW()
"""


def load(path, sock, db):
    src = sqlite3.connect(path)
    my = connect(sock)
    cur = my.cursor()
    cur.execute("CREATE DATABASE `%s` COLLATE utf8mb4_bin" % db)
    cur.execute("USE `%s`" % db)
    cur.execute("SET foreign_key_checks = 0")
    tables = [r[0] for r in src.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
        "LIKE 'sqlite_%' ORDER BY name")]
    for t in tables:
        cols = list(src.execute("PRAGMA table_info(%s)" % t))
        pks = [c[1] for c in sorted(cols, key=lambda c: c[5]) if c[5]]
        defs = []
        for _, name, decl, notnull, _, pk in cols:
            auto = len(pks) == 1 and pk == 1 and decl.upper() == "INTEGER"
            defs.append("`%s` %s%s" % (name, mysql_type(decl, auto),
                                       " NOT NULL" if notnull and not auto
                                       else ""))
        defs.append("PRIMARY KEY (%s)" % ", ".join("`%s`" % p for p in pks))
        for idx in src.execute("PRAGMA index_list(%s)" % t):
            icols = [r[2] for r in src.execute("PRAGMA index_info(%s)" % idx[1])]
            if idx[3] == "pk":
                continue
            defs.append("%sKEY `%s` (%s)" % ("UNIQUE " if idx[2] else "",
                                             idx[1][:60], ", ".join(
                                                 "`%s`" % c for c in icols)))
        for fk in src.execute("PRAGMA foreign_key_list(%s)" % t):
            defs.append("FOREIGN KEY (`%s`) REFERENCES `%s` (`%s`)"
                        % (fk[3], fk[2], fk[4] or "id"))
        cur.execute("CREATE TABLE `%s` (%s) ENGINE=InnoDB" % (t, ", ".join(defs)))
        names = [c[1] for c in cols]
        rows = src.execute("SELECT %s FROM %s" % (", ".join(names), t))
        sql = "INSERT INTO `%s` VALUES (%s)" % (t, ", ".join(["%s"] * len(names)))
        while True:
            batch = rows.fetchmany(2000)
            if not batch:
                break
            cur.executemany(sql, batch)
    for stmt in MYSQL_EXTRAS.split("\n;\n"):
        cur.execute(stmt)
    r = random.Random(7)
    for i in range(300):
        cur.execute("INSERT INTO mysql_types (code, size, tags, qty, big, "
                    "doc, yr, seen, flags, ratio) VALUES (%s, %s, %s, %s, %s, "
                    "%s, %s, %s, %s, %s)",
                    ("Code-%04d" % i, r.choice("sml"),
                     r.choice([None, "a", "a,c", "b,c"]), i,
                     r.choice([None, 2 ** 64 - 1 - i, i]),
                     r.choice([None, '{"k": [1, 2, {"x": "é"}]}']),
                     r.choice([None, 1999, 2155]),
                     r.choice([None, "2038-01-19 03:14:07.123"]),
                     r.choice([None, b"\x00", b"\xff"]), r.random()))


def one_write(cur, r, mine, umin, umax, orders):
    """One transaction, one in ten rolled back; returns True if committed."""
    rollback = r.random() < 0.1
    cur.execute("BEGIN")
    op = r.random()
    done = None
    if op < 0.4 or not mine:
        status = r.choice(["new", "held"])
        cur.execute("INSERT INTO shop_order (user_id, status, total, "
                    "is_paid, note, created_at, updated_at) VALUES "
                    "(%s, %s, %s, 0, %s, NOW(6), NOW(6))",
                    (r.randint(umin, umax), status, r.randint(1, 99999) / 100,
                     r.choice([None, "note é %d" % r.randint(0, 9)])))
        done = (cur.lastrowid, status)
    elif op < 0.7:
        oid = r.choice(mine)
        status = "paid%d" % r.randint(0, 99)
        cur.execute("UPDATE shop_order SET status = %s, is_paid = 1, "
                    "updated_at = NOW(6) WHERE id = %s", (status, oid))
        done = (oid, status)
    elif op < 0.8:
        oid = mine[r.randrange(len(mine))]
        cur.execute("DELETE FROM shop_order WHERE id = %s", (oid,))
        done = (oid, None)
    elif op < 0.9:
        cur.execute("UPDATE mysql_types SET qty = qty + 1000, tags = "
                    "%s WHERE code = %s",
                    (r.choice(["a", "b,c", None]),
                     "code-%04d" % r.randint(0, 299)))
    else:
        cur.execute("REPLACE INTO django_session VALUES (%s, %s, "
                    "NOW(6))", ("s%d" % r.randint(0, 500),
                                "data %d" % r.randint(0, 10 ** 6)))
    cur.execute("ROLLBACK" if rollback else "COMMIT")
    if rollback or not done:
        return not rollback
    oid, status = done
    orders[oid] = status
    if status is None:
        mine.remove(oid)
    elif oid not in mine:
        mine.append(oid)
    return True


def wait_switch(path, want):
    end = time.time() + 60
    while time.time() < end:
        try:
            if open(path).read().strip() == want:
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise SystemExit("the switch file never said %s" % want)


def write(sock, db, seconds, target=None, switch=None, record=None):
    socks = {"source": sock, "target": target}
    side = "source"
    cur = connect(sock, db).cursor()
    r = random.Random()
    committed = switches = 0
    fenced = False
    end = time.time() + seconds
    mine, orders = [], {}
    cur.execute("SELECT MIN(id), MAX(id) FROM auth_user")
    umin, umax = cur.fetchone()
    while time.time() < end and not (switch and os.path.exists(switch +
                                                                 ".stop")):
        try:
            committed += one_write(cur, r, mine, umin, umax, orders)
        except pymysql.err.MySQLError as e:
            cur.execute("ROLLBACK")
            msg = str(e)
            if FENCE not in msg and FENCE_BACK not in msg:
                raise
            fenced = True
            if not switch:
                break
            side = "target" if FENCE in msg and FENCE_BACK not in msg \
                else "source"
            wait_switch(switch, side)
            cur = connect(socks[side], db).cursor()
            switches += 1
        time.sleep(r.random() * 0.01)
    if record:
        json.dump({str(k): v for k, v in orders.items()}, open(record, "w"))
    print(json.dumps({"committed": committed, "fenced": fenced,
                      "switches": switches, "side": side}))


def check(sock, db, record):
    cur = connect(sock, db).cursor()
    want = json.load(open(record))
    bad = []
    for oid, status in want.items():
        cur.execute("SELECT status FROM shop_order WHERE id = %s", (oid,))
        row = cur.fetchone()
        got = row[0] if row else None
        if got != status:
            bad.append("order %s: expected %r, found %r" % (oid, status, got))
    print("%d orders checked, %d wrong%s" % (len(want), len(bad),
                                             (": " + "; ".join(bad[:5]))
                                             if bad else ""))
    return 1 if bad else 0


def stored_columns(cur, db, table):
    """The columns that hold values (generated ones are computed)."""
    cur.execute("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE "
                "TABLE_SCHEMA = %s AND TABLE_NAME = %s AND EXTRA NOT LIKE "
                "'%%GENERATED%%' ORDER BY ORDINAL_POSITION", (db, table))
    return [r[0] for r in cur.fetchall()]


def rows_of(cur, table, cols):
    cur.execute("SELECT %s FROM `%s`" % (", ".join("`%s`" % c for c in cols),
                                         table))
    return sorted(cur.fetchall(), key=repr)


def compare(sock1, sock2, db):
    a = connect(sock1, db).cursor()
    b = connect(sock2, db).cursor()
    a.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
              "TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' AND "
              "TABLE_NAME NOT LIKE '\\_cutover\\_%%' ORDER BY 1", (db,))
    tables = [r[0] for r in a.fetchall()]
    total = 0
    for t in tables:
        cols = stored_columns(a, db, t)
        if stored_columns(b, db, t) != cols:
            print("table %s: columns differ: %r vs %r"
                  % (t, cols, stored_columns(b, db, t)))
            return 1
        ra, rb = rows_of(a, t, cols), rows_of(b, t, cols)
        if ra != rb:
            only_a = [r for r in ra if r not in rb][:3]
            only_b = [r for r in rb if r not in ra][:3]
            print("table %s differs: %d vs %d rows; source only %r; target "
                  "only %r" % (t, len(ra), len(rb), only_a, only_b))
            return 1
        total += len(ra)
    print("%d tables, %d rows identical" % (len(tables), total))
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "load":
        load(*sys.argv[2:5])
    elif cmd == "write":
        write(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif cmd == "follow":
        write(sys.argv[2], sys.argv[4], float(sys.argv[5]), sys.argv[3],
              sys.argv[6], sys.argv[7])
    elif cmd == "check":
        sys.exit(check(*sys.argv[2:5]))
    elif cmd == "compare":
        sys.exit(compare(*sys.argv[2:5]))
    else:
        sys.exit(__doc__)

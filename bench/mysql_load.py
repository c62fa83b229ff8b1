#!/usr/bin/python3
"""mysql_load.py — the application's load on a MySQL/MariaDB source, for
bench/sync-mysql.sh; shares no code with cutover.

usage:
  mysql_load.py prepare SOCKET DB ROWS    table load_t with ROWS rows
  mysql_load.py rate SOCKET DB SECONDS THREADS
                                          single-row transactions (half
                                          INSERT, half UPDATE by key) as
                                          fast as THREADS connections go;
                                          prints {"writes_per_s": N}
  mysql_load.py lag SOCKET DB TARGET_SOCKET TARGET_DB RATE SECONDS
                                          INSERTs at RATE a second, each
                                          stamped with its commit time; a
                                          poller on the target notes when
                                          each row arrives there; prints
                                          {"p50_s", "p99_s", "max_s",
                                          "rows", "rate"}
"""
import json
import random
import sys
import threading
import time

import pymysql


def connect(sock, db):
    return pymysql.connect(unix_socket=sock, user="root", database=db,
                           autocommit=True)


def prepare(sock, db, rows):
    c = connect(sock, None).cursor()
    c.execute("CREATE DATABASE `%s`" % db)
    c.execute("USE `%s`" % db)
    c.execute("CREATE TABLE load_t (id INT NOT NULL AUTO_INCREMENT PRIMARY "
              "KEY, k INT NOT NULL, v VARCHAR(64) NOT NULL, n DECIMAL(12,2) "
              "NOT NULL, at DATETIME(6) NOT NULL, stamp DOUBLE NULL) "
              "ENGINE=InnoDB")
    for start in range(0, rows, 2000):
        c.executemany("INSERT INTO load_t (k, v, n, at) VALUES "
                      "(%s, %s, %s, NOW(6))",
                      [(i, "row %d" % i, i / 4) for i in
                       range(start, min(rows, start + 2000))])


def rate(sock, db, seconds, threads):
    counts = [0] * threads
    end = time.time() + seconds

    def work(slot):
        c = connect(sock, db).cursor()
        c.execute("SELECT MAX(id) FROM load_t")
        top = c.fetchone()[0] or 1
        r = random.Random(slot)
        while time.time() < end:
            if r.random() < 0.5:
                c.execute("INSERT INTO load_t (k, v, n, at) VALUES "
                          "(%s, 'new', %s, NOW(6))",
                          (r.randint(0, 10 ** 6), r.randint(0, 10 ** 6) / 100))
            else:
                c.execute("UPDATE load_t SET n = n + 1, at = NOW(6) WHERE "
                          "id = %s", (r.randint(1, top),))
            counts[slot] += 1

    started = time.time()
    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps({"writes_per_s": round(sum(counts) /
                                            (time.time() - started), 1)}))


def lag(sock, db, tsock, tdb, per_s, seconds):
    stamps = {}
    seen = {}
    done = threading.Event()

    def poll():
        c = connect(tsock, tdb).cursor()
        low = 0          # every row up to it has been seen
        while not done.is_set() or len(seen) < len(stamps):
            try:
                c.execute("SELECT id FROM load_t WHERE id > %s AND stamp IS "
                          "NOT NULL", (low,))
                now = time.time()
                for (i,) in c.fetchall():
                    if i in stamps:
                        seen.setdefault(i, now)
                while len(low_at) < len(order) and \
                        order[len(low_at)] in seen:
                    low_at.append(order[len(low_at)])
                    low = low_at[-1]
            except pymysql.err.MySQLError:
                pass
            if done.is_set() and time.time() > done_at[0] + 30:
                break
            time.sleep(0.01)

    done_at = [0]
    order, low_at = [], []       # ids in the order written; those seen
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    c = connect(sock, db).cursor()
    start = time.time()
    n = 0
    while time.time() - start < seconds:
        wait = start + n / per_s - time.time()
        if wait > 0:
            time.sleep(wait)
        c.execute("INSERT INTO load_t (k, v, n, at, stamp) VALUES "
                  "(0, 'lag', 0, NOW(6), 1)")
        stamps[c.lastrowid] = time.time()
        order.append(c.lastrowid)
        n += 1
    took = time.time() - start
    done_at[0] = time.time()
    done.set()
    poller.join()
    lags = sorted(seen[i] - t for i, t in stamps.items() if i in seen)
    missing = [i for i in stamps if i not in seen]
    if missing:        # not seen by the poller: are they there now?
        t = connect(tsock, tdb).cursor()
        t.execute("SELECT COUNT(*) FROM load_t WHERE id IN (%s)"
                  % ", ".join(str(i) for i in missing))
        there = t.fetchone()[0]
        print("missing %s, %d of them there now" % (missing[:10], there),
              file=sys.stderr)

    def rank(p):
        return round(lags[min(len(lags) - 1, int(p * len(lags)))], 3) \
            if lags else None
    worst = sorted(((seen[i] - t, t - start) for i, t in stamps.items()
                    if i in seen), reverse=True)[:5]
    print(json.dumps({"rows": len(stamps), "rate": round(n / took, 1),
                      "worst_at_s": [round(w[1], 2) for w in worst],
                      "p50_s": rank(0.5), "p99_s": rank(0.99),
                      "max_s": round(lags[-1], 3) if lags else None,
                      "missing": len(missing)}))


def main(argv):
    if len(argv) == 5 and argv[1] == "prepare":
        prepare(argv[2], argv[3], int(argv[4]))
    elif len(argv) == 6 and argv[1] == "rate":
        rate(argv[2], argv[3], float(argv[4]), int(argv[5]))
    elif len(argv) == 8 and argv[1] == "lag":
        lag(argv[2], argv[3], argv[4], argv[5], float(argv[6]),
            float(argv[7]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

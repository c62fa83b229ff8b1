#!/usr/bin/python3
"""shopload.py — the test Django shop under load, counting the errors its
customers would see.

usage: shopload.py seed (--sqlite PATH | --mysql-socket S --mysql-db DB)
                   [--customers N] [--products N]
       shopload.py run --sqlite PATH --switch-file F --out SUMMARY.json
                   [--mysql-socket S --mysql-db DB] [--workers 4] [--rate 60]
                   [--duration 30] [--stop-file F]
                   [--begin deferred|immediate]
                   [--source sqlite|mysql] [--target mysql|postgresql]
                   [--pg-host H --pg-port P --pg-db DB --pg-user U]
       shopload.py check (--sqlite PATH | --mysql-socket S --mysql-db DB |
                   --pg-host H --pg-port P --pg-db DB --pg-user U)
                   SUMMARY.json...
       shopload.py phases --events EVENTS.ndjson... SUMMARY.json...

seed: the shop's tables made by `manage.py migrate`, customers and
products, in SQLite (in WAL mode) or in MySQL.

run: the shop moving from --source (SQLite at --sqlite, or MySQL) to
--target (MySQL, or PostgreSQL; its password in DJSHOP_PG_PASSWORD):
--workers processes, --rate requests per second in all, for
--duration seconds or until the stop file appears. Each request goes
through Django's whole handler (django.test.Client): the checkout view of
shop/views.py, in one transaction on the database the switch file names
(shop/cutover.py). --begin immediate uses the BEGIN IMMEDIATE backend
(shop/sqlite_immediate). Errors are counted by kind, as a customer would
get a 500 for each:
  locked    "database is locked" (SQLite)
  deadlock  MySQL error 1213
  fence     the 503 of a request that met a fence ("cutover: writes
            moved ..."): not a 500, the worker re-reads the switch file
            until it names the other database and sends it again there
  other     anything else (the first messages are kept)
Every acknowledged order (database, id, total) is kept in the summary;
each error with its time, so a test can tell when it happened.

check: every acknowledged order is in the database with its total and
its item (after a rollback, orders made on MySQL came back; after a
migration, those made on SQLite are on MySQL).

phases: errors by kind of each summary in each phase of the migrations
whose events are given: on SQLite, switch (from the write lock to the
switch), on MariaDB, switch back (a rollback), with half a second around
each switch for the requests in flight.
"""
import argparse
import json
import multiprocessing
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FENCE_WAIT_S = 30          # a fenced request waits this long for the switch


def setup_django(args, switch):
    if args.sqlite:
        os.environ["DJSHOP_SQLITE"] = os.path.abspath(args.sqlite)
    os.environ["DJSHOP_BEGIN"] = getattr(args, "begin", "deferred")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djshop.settings")
    if args.mysql_socket:
        os.environ["DJSHOP_MYSQL_SOCKET"] = args.mysql_socket
        os.environ["DJSHOP_MYSQL_DB"] = args.mysql_db
    if getattr(args, "pg_host", None):
        os.environ.update(DJSHOP_PG_HOST=args.pg_host,
                          DJSHOP_PG_PORT=args.pg_port,
                          DJSHOP_PG_DB=args.pg_db, DJSHOP_PG_USER=args.pg_user)
    if switch:
        os.environ["DJSHOP_SWITCH_FILE"] = os.path.abspath(args.switch_file)
        os.environ["DJSHOP_FROM"] = args.source
        os.environ["DJSHOP_TO"] = args.target
    else:
        os.environ["DJSHOP_DB"] = "sqlite" if args.sqlite else "mysql"
    sys.path.insert(0, HERE)
    import django
    django.setup()


def seed(args):
    setup_django(args, False)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from shop.models import Customer, Product
    call_command("migrate", verbosity=0)
    if args.sqlite:
        with connection.cursor() as c:
            c.execute("PRAGMA journal_mode=WAL")
    r = random.Random(1)
    now = timezone.now()
    Customer.objects.bulk_create(
        [Customer(name="Πελάτης %d" % i, email="c%d@example.org" % i,
                  joined_at=now) for i in range(args.customers)],
        batch_size=500)
    Product.objects.bulk_create(
        [Product(sku="SKU-%05d" % i, name="ελιές %d" % i,
                 price="%d.%02d" % (r.randint(1, 200), r.randint(0, 99)),
                 stock=1000000) for i in range(args.products)],
        batch_size=500)


KINDS = ("locked", "deadlock", "fence", "other")


def no_errors():
    return {"requests": 0, "ok": 0, **{k: 0 for k in KINDS}}


def classify(exc):
    if "database is locked" in str(exc):
        return "locked"
    if exc.args and exc.args[0] == 1213:    # MySQL's ER_LOCK_DEADLOCK
        return "deadlock"
    return "other"


def checkout(client, r, ncustomers, nproducts):
    """One request to the checkout view (shop/views.py): read, then write,
    in one transaction. Returns (database, order id, total), or None for
    a 503 (a fence)."""
    resp = client.post("/checkout", {"customer": r.randint(1, ncustomers),
                                     "product": r.randint(1, nproducts),
                                     "quantity": r.randint(1, 3)})
    if resp.status_code == 503:
        return None
    if resp.status_code != 200:
        raise RuntimeError("checkout answered %d" % resp.status_code)
    d = resp.json()
    return d["db"], d["order"], d["total"]


def wait_for_other(alias, deadline):
    from shop.cutover import current_alias
    while current_alias() == alias and time.time() < deadline:
        time.sleep(0.005)


def worker(args, index, out_path):
    setup_django(args, True)
    from django.db import DatabaseError, connections
    from django.test import Client
    from shop.models import Customer, Product
    from shop.cutover import current_alias

    r = random.Random(index * 7919 + int(time.time()))
    ncustomers = Customer.objects.count()
    nproducts = Product.objects.count()
    connections.close_all()
    client = Client()       # the whole request: middleware, view, errors
    rate = args.rate / args.workers
    counts = no_errors()
    acked, errors, samples = [], [], []
    end = time.time() + args.duration
    next_at = time.time()
    parent = os.getppid()
    while True:
        # Requests arrive independently of each other (a Poisson process),
        # as web requests do; a worker that is late does not catch up in a
        # burst.
        next_at = max(next_at, time.time()) + r.expovariate(rate)
        if next_at >= end or (args.stop_file and
                              os.path.exists(args.stop_file)):
            break
        if os.getppid() != parent:      # the run was killed: so are we
            return
        time.sleep(max(0, next_at - time.time()))
        counts["requests"] += 1
        retry_until = time.time() + FENCE_WAIT_S
        while True:
            alias = current_alias()
            try:
                done = checkout(client, r, ncustomers, nproducts)
                kind, code = "fence", 503
            except Exception as e:      # a 500: the view's exception
                done = None
                kind, cause = classify(e), e.__cause__ or e
                code = getattr(cause, "sqlite_errorname", None)
                if kind in ("other", "deadlock") and len(samples) < 5:
                    samples.append("%s: %s" % (alias, e))
            if done:
                acked.append(done)
                counts["ok"] += 1
                break
            counts[kind] += 1
            errors.append({"t": time.time(), "kind": kind, "db": alias,
                           "code": code})
            if kind != "fence" or time.time() > retry_until:
                break
            # A 503: the database moved. Re-read the switch file until it
            # names the other one, then send the request again.
            connections[alias].close()
            wait_for_other(alias, retry_until)
    with open(out_path, "w") as f:
        json.dump({"counts": counts, "acked": acked, "errors": errors,
                   "samples": samples}, f)


def run(args):
    started = time.time()
    ctx = multiprocessing.get_context("fork")
    parts = ["%s.%d" % (args.out, i) for i in range(args.workers)]
    procs = [ctx.Process(target=worker, args=(args, i, parts[i]))
             for i in range(args.workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    total = no_errors()
    acked, errors, samples = [], [], []
    for path in parts:
        with open(path) as f:
            part = json.load(f)
        os.unlink(path)
        for k, v in part["counts"].items():
            total[k] += v
        acked += part["acked"]
        errors += part["errors"]
        samples += part["samples"]
    errors.sort(key=lambda e: e["t"])
    summary = dict(total, begin=args.begin, started_at=started,
                   ended_at=time.time(), workers=args.workers,
                   rate=args.rate, duration=args.duration,
                   acked_by_db={db: sum(1 for a in acked if a[0] == db)
                                for db in ("default", args.target)},
                   other_samples=samples, errors=errors, acked=acked)
    with open(args.out, "w") as f:
        json.dump(summary, f)
    print(json.dumps({k: v for k, v in summary.items()
                      if k not in ("errors", "acked")}))


def check(args):
    if args.pg_host:
        import psycopg2
        db = psycopg2.connect(host=args.pg_host, port=args.pg_port,
                              dbname=args.pg_db, user=args.pg_user,
                              password=os.environ.get("DJSHOP_PG_PASSWORD"))
        mark = "%s"
    elif args.mysql_socket:
        import MySQLdb
        db = MySQLdb.connect(unix_socket=args.mysql_socket, user="root",
                             db=args.mysql_db)
        mark = "%s"
    else:
        import sqlite3
        db = sqlite3.connect(args.sqlite)
        mark = "?"
    cur = db.cursor()
    missing, acked = 0, []
    for path in args.summaries:
        with open(path) as f:
            acked += json.load(f)["acked"]
    for alias, oid, total in acked:
        cur.execute("SELECT o.total, count(i.id) FROM shop_order o "
                    "LEFT JOIN shop_orderitem i ON i.order_id = o.id "
                    "WHERE o.id = %s GROUP BY o.id, o.total" % mark, (oid,))
        row = cur.fetchone()
        if not row or float(row[0]) != float(total) or row[1] != 1:
            missing += 1
            if missing <= 5:
                print("order %s (acknowledged on %s, total %s): %s"
                      % (oid, alias, total, row), file=sys.stderr)
    print(json.dumps({"acked": len(acked), "missing": missing}))
    sys.exit(1 if missing else 0)


MARGIN_S = 0.5      # a request in flight when a switch starts or ends
PHASES = ("on SQLite", "switch", "on MariaDB", "switch back")


def event_time(e):
    from datetime import datetime
    return datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()


def phase_marks(events_paths):
    """(time, phase that starts then) for every migration: the switch
    from its first write lock to the switch, MariaDB until a rollback,
    the way back until rolled_back; MARGIN_S around each switch."""
    marks = []
    for path in events_paths:
        first = {}
        with open(path) as f:
            for line in f:
                e = json.loads(line)
                key = None
                if e["type"] == "cutover" and e.get("step") in ("lock",
                                                                 "switched"):
                    key = e["step"]
                elif e["type"] == "stage" and e.get("to") in (
                        "rolling_back", "rolled_back"):
                    key = e["to"]
                if key and key not in first:
                    first[key] = event_time(e)
        if "lock" in first:
            marks.append((first["lock"] - MARGIN_S, "switch"))
        if "switched" in first:
            marks.append((first["switched"] + MARGIN_S, "on MariaDB"))
        if "rolling_back" in first:
            marks.append((first["rolling_back"], "switch back"))
        if "rolled_back" in first:
            marks.append((first["rolled_back"] + MARGIN_S, "on SQLite"))
    return sorted(marks)


def phases(args):
    """Seconds and errors of each summary by phase of the migrations (a
    baseline that ran at the same time is counted over the same
    seconds)."""
    marks = phase_marks(args.events)
    table = {p: {"seconds": 0.0} for p in PHASES}
    for path in args.summaries:
        with open(path) as f:
            d = json.load(f)
        name = os.path.splitext(os.path.basename(path))[0]
        spans, at, phase = [], d["started_at"], "on SQLite"
        for t, nxt in marks + [(d["ended_at"], None)]:
            spans.append((phase, at, max(at, t)))
            at, phase = max(at, t), nxt
        for p in PHASES:
            table[p][name] = {k: 0 for k in KINDS}
        for p, lo, hi in spans:
            if path == args.summaries[0]:
                table[p]["seconds"] += hi - lo
            for e in d["errors"]:
                if lo <= e["t"] < hi:
                    table[p][name][e["kind"]] += 1
    print(json.dumps(table))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--sqlite")
    s.add_argument("--mysql-socket", default="")
    s.add_argument("--mysql-db", default="shop")
    s.add_argument("--customers", type=int, default=2000)
    s.add_argument("--products", type=int, default=500)
    r = sub.add_parser("run")
    r.add_argument("--sqlite", default="")
    r.add_argument("--out", required=True)
    r.add_argument("--switch-file", required=True)
    r.add_argument("--mysql-socket", default="")
    r.add_argument("--mysql-db", default="shop")
    r.add_argument("--workers", type=int, default=4)
    r.add_argument("--rate", type=float, default=60)
    r.add_argument("--duration", type=float, default=30)
    r.add_argument("--stop-file", default="",
                   help="stop when this file appears")
    r.add_argument("--begin", choices=["deferred", "immediate"],
                   default="deferred")
    r.add_argument("--source", choices=["sqlite", "mysql"], default="sqlite")
    r.add_argument("--target", choices=["mysql", "postgresql"],
                   default="mysql")
    for q in (r, c := sub.add_parser("check")):
        q.add_argument("--pg-host")
        q.add_argument("--pg-port", default="5432")
        q.add_argument("--pg-db", default="shop")
        q.add_argument("--pg-user", default="postgres")
    c.add_argument("--sqlite")
    c.add_argument("--mysql-socket")
    c.add_argument("--mysql-db", default="shop")
    c.add_argument("summaries", nargs="+")
    p = sub.add_parser("phases")
    p.add_argument("--events", action="append", required=True)
    p.add_argument("summaries", nargs="+")
    args = ap.parse_args()
    {"seed": seed, "run": run, "check": check, "phases": phases}[args.cmd](args)


if __name__ == "__main__":
    main()

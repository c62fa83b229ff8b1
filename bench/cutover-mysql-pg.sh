#!/bin/bash
# cutover-mysql-pg.sh — the write pause of cutovers from a MySQL/MariaDB
# source into PostgreSQL under a live Django application, and the orders
# it acknowledged that were lost (issue 18's MySQL → PostgreSQL pair).
#
# A private MariaDB keeping a ROW binary log (so binlog capture, the
# default) and a private PostgreSQL 15. BENCH_CUTOVERS (default 10)
# migrations, each of a fresh shop database that `manage.py migrate` made
# on MariaDB (tests/lib/django/shopload.py seed: BENCH_CUSTOMERS customers,
# default 500) into its own PostgreSQL database, with default cutover
# settings (mode auto, max_write_pause_ms 1000, verify full),
# schema.datetimes "utc" (Django's USE_TZ) and post_validate.watch_s 0.
# The shop (shopload.py run: BENCH_WORKERS Django workers, default 4, at
# BENCH_REQUESTS requests/s in all, default 170: each request a
# transaction of three writes, about 500 writes/s) runs from 1 s before
# `cutover run` until 1 s after it ends, following the switch file to
# PostgreSQL with the router and 503 middleware of the README. Per run:
#   pause = write_pause_ms of the `switched` cutover event, split into
#           drain + re-verify and the fence's creation (steps_ms)
#   lost  = orders the shop acknowledged (on either side) missing in
#           PostgreSQL or different there (shopload.py check)
# Targets: pause p99 ≤ 300 ms, max ≤ 1 s, 0 lost.
#
#   bench/cutover-mysql-pg.sh
#   BENCH_CUTOVERS=3 bench/cutover-mysql-pg.sh
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_CUTOVERS:-10}
CUSTOMERS=${BENCH_CUSTOMERS:-500}
WORKERS=${BENCH_WORKERS:-4}
REQUESTS=${BENCH_REQUESTS:-170}
LOAD=$ROOT/tests/lib/django/shopload.py

bench_start_mysql_source
bench_start_pg
export DJSHOP_PG_PASSWORD=$PGPASSWORD

for i in $(seq 1 "$RUNS"); do
    D=$T/c$i
    mkdir -p "$D"
    say "cutover $i of $RUNS"
    mariadb --no-defaults -S "$SRC" -uroot -e "CREATE DATABASE shop$i"
    bpy "$LOAD" seed --mysql-socket "$SRC" --mysql-db "shop$i" \
        --customers "$CUSTOMERS" --products 200 ||
        { echo "bench: seeding shop$i" >&2; exit 1; }
    $PY - "$D/runbook.json" "$SRC" "$PGHOST" "$PGPORT" "shop$i" <<'PYEOF'
import json, sys
path, src, host, port, db = sys.argv[1:6]
switch = ('echo postgresql > $CUTOVER_STATE_DIR/../switch.new && '
          'mv $CUTOVER_STATE_DIR/../switch.new $CUTOVER_STATE_DIR/../switch')
rb = {"version": 1, "name": "bench-" + db, "state_dir": "state",
      "source": {"type": "mysql", "socket": src, "user": "root",
                 "database": db},
      "target": {"type": "postgresql", "host": host, "port": int(port),
                 "user": "bench", "password_env": "PGPASSWORD",
                 "database": db},
      "schema": {"datetimes": "utc"},
      "backup": {"enabled": False},
      "cutover": {"switch": [{"exec": ["sh", "-c", switch]}]},
      "post_validate": {"watch_s": 0}}
json.dump(rb, open(path, "w"), indent=1)
PYEOF
    echo mysql >"$D/switch"
    bench_spawn "$PY" "$LOAD" run --source mysql --mysql-socket "$SRC" \
        --mysql-db "shop$i" --target postgresql --pg-host "$PGHOST" \
        --pg-port "$PGPORT" --pg-db "shop$i" --pg-user bench \
        --switch-file "$D/switch" --stop-file "$D/stop" --duration 3600 \
        --workers "$WORKERS" --rate "$REQUESTS" --out "$D/shop.json" \
        >"$D/shop.out" 2>&1
    bench_cutover_under "$D" "$i" "$BENCH_PID" "$D/stop" 60
    bpy "$LOAD" check --pg-host "$PGHOST" --pg-port "$PGPORT" \
        --pg-db "shop$i" --pg-user bench "$D/shop.json" >"$D/check.json" ||
        true
done

bpy - "$T" "$RUNS" <<'PYEOF'
import json, sys
import benchlib as b
T, runs = sys.argv[1], int(sys.argv[2])
n = b.num
rows = [['run', 'pause ms', 'drain + reverify ms', 'fence ms', 'retries',
         'requests', '503s', 'other errors', 'acked', 'lost']]
pauses, lost, others = [], 0, 0
for i in range(1, runs + 1):
    D = '%s/c%d' % (T, i)
    ev = [e for e in b.read_events(D + '/state/events.ndjson')
          if e['type'] == 'cutover']
    done = [e for e in ev if e.get('step') == 'switched'][-1]
    steps = done['steps_ms']
    shop = b.load(D + '/shop.json')
    check = b.load(D + '/check.json')
    pauses.append(done['write_pause_ms'])
    lost += check['missing']
    others += shop['other'] + shop['deadlock']
    rows.append([str(i), n(done['write_pause_ms'], 1),
                 n(steps['drain'] + steps['reverify'], 1),
                 n(steps['fence'], 1),
                 str(sum(1 for e in ev if e.get('step') == 'retry')),
                 str(shop['requests']), str(shop['fence']),
                 str(shop['other'] + shop['deadlock']), str(check['acked']),
                 str(check['missing'])])
b.table('%d cutovers MariaDB → PostgreSQL under the Django shop' % runs,
        rows, note='  503s: requests that met a fence and were sent again '
                   'to the other side')
p50, p99 = b.percentile(pauses, 0.5), b.percentile(pauses, 0.99)
b.table('targets', [
    ['figure', 'value', 'target', 'verdict'],
    ['pause p50, ms', n(p50, 1), '-', '-'],
    ['pause p99, ms', n(p99, 1), '≤ 300', b.verdict(p99, '<=', 300)],
    ['pause max, ms', n(max(pauses), 1), '≤ 1,000',
     b.verdict(max(pauses), '<=', 1000)],
    ['orders lost', str(lost), '0', b.verdict(lost, '<=', 0)],
    ['errors other than the fences\' 503s', str(others), '0',
     b.verdict(others, '<=', 0)],
])
b.result('cutover-mysql-pg', {
    'runs': runs, 'pause_p50_ms': p50, 'pause_p99_ms': p99,
    'pause_max_ms': max(pauses), 'lost': lost, 'other_errors': others,
    'met': {'p99': p99 <= 300, 'max': max(pauses) <= 1000, 'lost': lost == 0}})
PYEOF

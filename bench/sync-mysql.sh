#!/bin/bash
# sync-mysql.sh — what change capture costs a MySQL/MariaDB source, how far
# the target lags, and the write pause of cutovers from it (MySQL →
# MySQL), binlog capture beside trigger capture in the same run.
#
# Two private MariaDB servers: the source keeps a ROW binary log with
# FULL images (so "binlog" capture is the default), the other is the
# target. bench/mysql_load.py is the application.
#   throughput  single-row transactions (half INSERT, half UPDATE by key)
#               on a BENCH_ROWS-row table (default 20,000, made afresh
#               for each measure) from BENCH_THREADS connections (default
#               4) for BENCH_SECONDS (default 10) each: with no
#               migration, with a migration in sync under trigger
#               capture, under binlog capture (a manual cutover waiting,
#               the applier running); BENCH_ROUNDS rounds (default 5) of
#               the three in turn, so that the machine's drift falls on
#               each alike. The server writes its binary log in all
#               three: binlog capture adds only a reader. Figure: writes/s
#               ÷ the no-migration rate of the same round, the median
#               over the rounds.
#               The figure is what capture costs the source, so the
#               source has a host of its own: with BENCH_PIN=1 (the
#               default on 2 or more CPUs) the source server and its
#               application run on CPU 0, the target server and cutover
#               on the others (taskset), as when the target is another
#               host; the disk stays shared. BENCH_PIN=0 runs everything
#               on every CPU.
#   lag         INSERTs at BENCH_LAG_RATE a second (default 1,000) for
#               BENCH_LAG_SECONDS (default 20), each stamped when its
#               commit returned; a poller on the target notes when each
#               row is there (every 10 ms): p50/p99/max of the difference,
#               per capture.
#               Measured once the applier has caught up with the
#               throughput run.
#   pause       BENCH_CUTOVERS (default 10) migrations with binlog capture
#               of the shop fixture (BENCH_SHOP_ROWS rows, default 3,000,
#               loaded into the source by tests/lib/mysql_source.py) under
#               its writer, which follows the switch to the target; pause
#               = write_pause_ms of the `switched` cutover event; lost =
#               orders the writer acknowledged (on either side) that the
#               target does not hold as it left them (mysql_source.py
#               check); the pause split into drain + re-verify (what
#               binlog capture does under the lock) and the fence's
#               creation (the same as trigger capture's).
# Targets (issue 19): throughput ratio ≥ 0.95, lag p99 ≤ 1 s at 1,000
# writes/s, pause p99 ≤ 300 ms over 10 cutovers, 0 lost.
#
#   bench/sync-mysql.sh
#   BENCH_CUTOVERS=3 BENCH_SECONDS=5 bench/sync-mysql.sh
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROWS=${BENCH_ROWS:-20000}
ROUNDS=${BENCH_ROUNDS:-5}
PIN=${BENCH_PIN:-$([ "$(nproc)" -ge 2 ] && echo 1 || echo 0)}
THREADS=${BENCH_THREADS:-4}
SECONDS_EACH=${BENCH_SECONDS:-10}
LAG_RATE=${BENCH_LAG_RATE:-1000}
LAG_SECONDS=${BENCH_LAG_SECONDS:-20}
RUNS=${BENCH_CUTOVERS:-10}
SHOP_ROWS=${BENCH_SHOP_ROWS:-3000}
LOAD=$BENCH/mysql_load.py
SOURCE_PY=$ROOT/tests/lib/mysql_source.py

bench_start_db
bench_start_mysql_source
SOURCE_SIDE=() TARGET_SIDE=()
if [ "$PIN" = 1 ]; then
    SOURCE_SIDE=(taskset -c 0) TARGET_SIDE=(taskset -c "1-$(($(nproc) - 1))")
    # every thread the servers have, and (inherited) every one they make
    taskset -a -p -c 0 "$(cat "$T/src/mysqld.pid")" >/dev/null
    taskset -a -p -c "1-$(($(nproc) - 1))" "$(cat "$T/db/mysqld.pid")" \
        >/dev/null
fi

# runbook DIR DB CAPTURE MODE: the source's DB → the target's DB
mysql_runbook() {
    mkdir -p "$1"
    $PY - "$1/runbook.json" "$SRC" "$SOCK" "$2" "$3" "$4" <<'PYEOF'
import json, sys
path, src, tgt, db, capture, mode = sys.argv[1:7]
rb = {"version": 1, "name": "bench-" + db, "state_dir": "state",
      "source": {"type": "mysql", "socket": src, "user": "root",
                 "database": db, "capture": capture},
      "target": {"type": "mysql", "socket": tgt, "user": "root",
                 "database": db},
      "cutover": {"mode": mode, "switch": [{"exec": ["sh", "-c",
          "echo target > $CUTOVER_STATE_DIR/../switch"]}]},
      "post_validate": {"watch_s": 0}}
json.dump(rb, open(path, "w"), indent=1)
PYEOF
}

state_of() {
    "$CUTOVER" status "$1/runbook.json" --json 2>/dev/null | jget 'd["state"]'
}

# caught_up DIR: until the applier has nothing left (at most 120 s)
caught_up() {
    local i
    for i in $(seq 1 600); do
        [ "$("$CUTOVER" status "$1/runbook.json" --json 2>/dev/null |
              jget 'd["sync"]["backlog_rows"]')" = 0 ] && return 0
        sleep 0.2
    done
    echo "bench: $1 never caught up" >&2
    exit 1
}

wait_state() {
    local i
    for i in $(seq 1 600); do
        [ "$(state_of "$1")" = "$2" ] && return 0
        sleep 0.2
    done
    echo "bench: $1 never reached $2" >&2
    exit 1
}

# ---- throughput and lag ------------------------------------------------------
# measure ROUND CAPTURE: the source's write rate with CAPTURE (none: no
# migration) on a fresh table; the lag too in the last round
measure() {
    local round=$1 capture=$2 D=$T/$2-$1
    mysql_src -e "DROP DATABASE IF EXISTS app"
    sql -e "DROP DATABASE IF EXISTS app"
    bpy "$LOAD" prepare "$SRC" app "$ROWS"
    if [ "$capture" != none ]; then
        mysql_runbook "$D" app "$capture" manual
        bench_spawn "${TARGET_SIDE[@]}" "$CUTOVER" run "$D/runbook.json"
        RUN=$BENCH_PID
        wait_state "$D" cutover
    fi
    say "round $round: throughput under $capture capture"
    bench_run "${SOURCE_SIDE[@]}" "$PY" "$LOAD" rate "$SRC" app \
        "$SECONDS_EACH" "$THREADS" >"$T/rate-$capture-$round.json"
    [ "$capture" != none ] || return 0
    caught_up "$D"
    if [ "$round" = "$ROUNDS" ]; then
        say "lag under $capture capture at $LAG_RATE writes/s"
        bench_run "${SOURCE_SIDE[@]}" "$PY" "$LOAD" lag "$SRC" app "$SOCK" \
            app "$LAG_RATE" "$LAG_SECONDS" >"$T/lag-$capture.json"
    fi
    "$CUTOVER" ctl "$D/runbook.json" abort >/dev/null
    bench_wait_exit "$RUN" 60
}
mysql_src() {
    mariadb --no-defaults -S "$SRC" -uroot "$@"
}
for round in $(seq 1 "$ROUNDS"); do
    for capture in none triggers binlog; do
        measure "$round" "$capture"
    done
done
sql -e "DROP DATABASE IF EXISTS app"

# ---- the write pause of cutovers under binlog capture --------------------------
shop=$(bench_fixture shop "$SHOP_ROWS")
for i in $(seq 1 "$RUNS"); do
    D=$T/c$i
    say "cutover $i of $RUNS"
    bpy "$SOURCE_PY" load "$shop" "$SRC" "shop$i" >/dev/null
    mysql_runbook "$D" "shop$i" binlog auto
    echo source >"$D/switch"
    bench_spawn "$PY" "$SOURCE_PY" follow "$SRC" "$SOCK" "shop$i" 600 \
        "$D/switch" "$D/record.json"
    bench_cutover_under "$D" "$i" "$BENCH_PID" "$D/switch.stop" 30
    bpy "$SOURCE_PY" check "$SOCK" "shop$i" "$D/record.json" \
        >"$D/check.txt" || true
done

bpy - "$T" "$RUNS" "$LAG_RATE" "$ROUNDS" "$PIN" <<'PYEOF'
import json, re, statistics, sys
import benchlib as b
T, runs, lag_rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rounds, pinned = int(sys.argv[4]), sys.argv[5] == '1'
n = b.num
per_round = {k: [b.load('%s/rate-%s-%d.json' % (T, k, r))['writes_per_s']
                 for r in range(1, rounds + 1)]
             for k in ('none', 'triggers', 'binlog')}
ratios = {k: [per_round[k][r] / per_round['none'][r] for r in range(rounds)]
          for k in ('triggers', 'binlog')}
rate = {k: statistics.median(v) for k, v in per_round.items()}
ratio_of = {k: statistics.median(v) for k, v in ratios.items()}
lag = {k: b.load('%s/lag-%s.json' % (T, k)) for k in ('triggers', 'binlog')}
b.table('source writes/s, %d rounds (%s)' % (
    rounds, 'source server and application on CPU 0, target and cutover '
    'on the others' if pinned else 'everything on every CPU'), [
    ['capture', 'writes/s by round', 'median', '÷ none by round',
     '÷ none, median'],
    ['none', ' / '.join(n(x, 0) for x in per_round['none']),
     n(rate['none'], 0), '-', '1.00'],
] + [[k, ' / '.join(n(x, 0) for x in per_round[k]), n(rate[k], 0),
      ' / '.join(n(x, 3) for x in ratios[k]), n(ratio_of[k], 3)]
     for k in ('triggers', 'binlog')])
b.table('lag at %s writes/s, last round' % n(lag_rate, 0), [
    ['capture', 'p50 s', 'p99 s', 'max s', 'rows', 'rate']] +
    [[k, n(lag[k]['p50_s'], 3), n(lag[k]['p99_s'], 3), n(lag[k]['max_s'], 3),
      str(lag[k]['rows']), n(lag[k]['rate'], 0)]
     for k in ('triggers', 'binlog')])
pauses, lost = [], 0
rows = [['run', 'pause ms', 'drain + reverify ms', 'fence ms', 'retries',
         'check']]
drains = []
for i in range(1, runs + 1):
    ev = [e for e in b.read_events('%s/c%d/state/events.ndjson' % (T, i))
          if e['type'] == 'cutover']
    done = [e for e in ev if e.get('step') == 'switched'][-1]
    steps = done['steps_ms']
    retries = sum(1 for e in ev if e.get('step') == 'retry')
    check = open('%s/c%d/check.txt' % (T, i)).read().strip()
    wrong = int(re.search(r'(\d+) wrong', check).group(1))
    lost += wrong
    pauses.append(done['write_pause_ms'])
    drains.append(steps['drain'] + steps['reverify'])
    rows.append([str(i), n(done['write_pause_ms'], 1), n(drains[-1], 1),
                 n(steps['fence'], 1), str(retries), check])
b.table('%d cutovers under binlog capture' % runs, rows,
        note='  drain + reverify: what binlog capture adds under the lock '
             '(reading the log to its\n  end as the lock found it); fence: '
             'creating the fence triggers, as trigger\n  capture does')
p99 = b.percentile(pauses, 0.99)
ratio = ratio_of['binlog']
b.table('targets', [
    ['figure', 'value', 'target', 'verdict'],
    ['binlog writes/s ÷ none', n(ratio, 3), '≥ 0.95',
     b.verdict(ratio, '>=', 0.95)],
    ['triggers writes/s ÷ none', n(ratio_of['triggers'], 3),
     '(beside it)', '-'],
    ['binlog lag p99 at %s/s, s' % n(lag_rate, 0), n(lag['binlog']['p99_s'], 3),
     '≤ 1', b.verdict(lag['binlog']['p99_s'], '<=', 1)],
    ['pause p99, ms', n(p99, 1), '≤ 300', b.verdict(p99, '<=', 300)],
    ['drain + reverify p99, ms', n(b.percentile(drains, 0.99), 1),
     '(part of it)', '-'],
    ['orders lost', str(lost), '0', b.verdict(lost, '<=', 0)],
])
print('RESULT ' + json.dumps({
    'writes_per_s': rate, 'ratio_binlog': round(ratio, 3),
    'ratio_triggers': round(ratio_of['triggers'], 3),
    'ratios_by_round': ratios, 'pinned': pinned,
    'lag': lag, 'pause_p99_ms': p99, 'pause_max_ms': max(pauses, default=None),
    'lost': lost}))
PYEOF

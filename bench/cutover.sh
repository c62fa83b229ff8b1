#!/bin/bash
# cutover.sh — the write pause of repeated cutovers under a live writer, and
# acknowledged writes lost (DESIGN §9, issue 7).
#
# BENCH_CUTOVERS (default 10) migrations, each from a fresh copy of the shop
# fixture (tests/lib/fixtures.py `shop`, BENCH_SHOP_ROWS rows, default
# 20,000) into its own database on one private MariaDB, with default
# cutover settings (mode auto, max_write_pause_ms 1000, verify full),
# backup.enabled false and post_validate.watch_s 0. bin/writer runs at
# BENCH_RATE (default 500) transactions/s from 1 s before `cutover run`
# until 1 s after it completes; the switch action writes "mysql" into the
# writer's switch file exactly as tests/e2e/30-cutover-live-writer.sh does,
# and the writer follows the fence there. Per run:
#   write pause  = write_pause_ms of the `cutover` event with step
#                  "switched" (cutover's own measure, from just before
#                  BEGIN IMMEDIATE to the switch actions done), split by
#                  the step events' ts into the wait for the lock (writes
#                  still flow), the time the lock was held (`drain` →
#                  `switch`: drain, re-verify, fence commit) and the time
#                  the source was fenced (`switch` → `switched`); attempts
#                  abandoned for overrunning the limit (`retry` events)
#                  paused writes too and are counted and shown
#   writer stall = the writer's longest_stall_ms (first attempt → ack of
#                  its slowest transaction: lock wait, fence error, waiting
#                  for the switch file, reconnecting to MariaDB), what the
#                  application saw
#   lost         = `writer check` against the target: every acknowledged
#                  write replayed; lost, unexpected and different rows must
#                  all be 0 (the bench exits 1 otherwise, after printing)
# Printed: p50/p99/max of the pause (nearest rank over the runs), the max
# stall. Targets: pause p99 ≤ 300 ms, max ≤ 1 s; 0 writes lost.
#
#   bench/cutover.sh
#   BENCH_CUTOVERS=3 bench/cutover.sh
#   BENCH_TARGET=postgresql bench/cutover.sh   into a private PostgreSQL
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_CUTOVERS:-10}
SHOP_ROWS=${BENCH_SHOP_ROWS:-20000}
RATE=${BENCH_RATE:-500}

fixture=$(bench_fixture shop "$SHOP_ROWS")
bench_start_target
SWITCH="'switch': [{'exec': ['sh', '-c', 'echo $BENCH_TARGET > \$CUTOVER_STATE_DIR/../switch']}],
  'switch_back': [{'exec': ['sh', '-c', 'echo sqlite > \$CUTOVER_STATE_DIR/../switch']}]"

# target_options DB: how the writer reaches database DB on the target
target_options() {
    if [ "$BENCH_TARGET" = postgresql ]; then
        echo --pg-host "$PGHOST" --pg-port "$PGPORT" --pg-user bench \
            --pg-db "$1"
    else
        echo --mysql-socket "$SOCK" --mysql-db "$1"
    fi
}

for i in $(seq 1 "$RUNS"); do
    D=$T/c$i
    mkdir -p "$D"
    cp "$fixture" "$D/shop.sqlite3"
    echo sqlite >"$D/switch"
    bench_runbook "$D" "shop$i" shop.sqlite3 "{'cutover': {$SWITCH}}"
    # shellcheck disable=SC2046 # options split on purpose
    bench_spawn "$WRITER" run --sqlite "$D/shop.sqlite3" \
        $(target_options "shop$i") --switch-file "$D/switch" \
        --record "$D/record.jsonl" --rate "$RATE" --duration 86400 \
        --busy-timeout-ms 10000 >"$D/writer.out" 2>"$D/writer.err"
    WPID=$BENCH_PID
    bench_run sleep 1
    say "cutover $i of $RUNS"
    rc=0
    bench_timed "$D/timed.json" "$CUTOVER" run "$D/runbook.json" \
        >"$D/run.out" 2>"$D/run.err" || rc=$?
    bench_check_run "$D" "$rc"
    bench_run sleep 1
    bench_stop "$WPID"
    [ "$BENCH_RC" = 0 ] || { echo "bench: writer exited $BENCH_RC" >&2; tail "$D/writer.err" >&2; exit 1; }
    tail -1 "$D/writer.out" >"$D/writer.json"
    # shellcheck disable=SC2046
    "$WRITER" check --record "$D/record.jsonl" --target "$BENCH_TARGET" \
        $(target_options "shop$i") >"$D/check.json" 2>"$D/check.err" || true
done

bpy - "$T" "$RUNS" "$RATE" "$SHOP_ROWS" <<'PYEOF'
import sys
import benchlib as b
T, runs, rate, shop_rows = sys.argv[1], int(sys.argv[2]), b.arg_num(sys.argv[3]), \
    int(sys.argv[4])
n = b.num
rows = [['run', 'pause ms', 'lock wait', 'locked', 'fenced', 'retries',
         'retry pause ms', 'writer stall ms', 'acked', 'switches', 'lost',
         'unexpected', 'different']]
pauses, held, stalls, lost_total, runs_rec = [], [], [], 0, []
for i in range(1, runs + 1):
    D = '%s/c%d' % (T, i)
    ev = [e for e in b.read_events(D + '/state/events.ndjson')
          if e['type'] == 'cutover']
    sw = [e['write_pause_ms'] for e in ev if e.get('step') == 'switched']
    # where the pause went, from the step events' ts: `drain` is emitted
    # once BEGIN IMMEDIATE has returned, `switch` once the fence is
    # committed, `switched` when the switch actions are done
    at = {e['step']: b.ts_seconds(e['ts']) for e in ev}
    locked = (at['switch'] - at['drain']) * 1000
    fenced = (at['switched'] - at['switch']) * 1000
    wait = max(0.0, sw[-1] - locked - fenced)
    retries = [e['write_pause_ms'] for e in ev if e.get('step') == 'retry']
    w, c = b.load(D + '/writer.json'), b.load(D + '/check.json')
    bad = c['lost'] + c['unexpected'] + c['different']
    lost_total += bad
    pauses.append(sw[-1])
    held.append(locked + fenced)
    stalls.append(w['longest_stall_ms'])
    runs_rec.append({'pause_ms': round(sw[-1], 1),
                     'lock_wait_ms': round(wait), 'locked_ms': round(locked),
                     'fenced_ms': round(fenced), 'retries': len(retries),
                     'stall_ms': w['longest_stall_ms'], 'lost': c['lost'],
                     'unexpected': c['unexpected'],
                     'different': c['different']})
    rows.append([str(i), n(sw[-1], 1), n(wait, 0), n(locked, 0),
                 n(fenced, 0), str(len(retries)),
                 n(max(retries), 1) if retries else '-',
                 n(w['longest_stall_ms'], 1), n(w['acknowledged']),
                 str(w['switches']), str(c['lost']), str(c['unexpected']),
                 str(c['different'])])
b.table('%d cutovers of a %s-row shop, writer at %s transactions/s'
        % (runs, n(shop_rows), n(rate)), rows,
        note='  pause = cutover\'s write_pause_ms, split by the step events '
             '(ms resolution) into\n  lock wait: BEGIN IMMEDIATE waiting '
             'for the writer (its writes still go through)\n  locked: lock '
             'held until the fence commits (writers wait on the lock)\n  '
             'fenced: until the switch actions are done (writers get the '
             'fence error and wait\n  for the switch file)')
p50, p99, pmax = (b.percentile(pauses, q) for q in (0.5, 0.99, 1.0))
smax = max(stalls)
b.table('write pause over the runs (nearest rank)', [
    ['figure', 'cutover pause ms', 'locked + fenced ms',
     'writer stall ms (the app\'s view)'],
    ['p50', n(p50, 1), n(b.percentile(held, 0.5), 0),
     n(b.percentile(stalls, 0.5), 1)],
    ['p99', n(p99, 1), n(b.percentile(held, 0.99), 0),
     n(b.percentile(stalls, 0.99), 1)],
    ['max', n(pmax, 1), n(max(held), 0), n(smax, 1)],
])
b.table('targets', [
    ['figure', 'value', 'target', 'verdict'],
    ['pause p99, ms', n(p99, 1), '≤ 300', b.verdict(p99, '<=', 300)],
    ['pause max, ms', n(pmax, 1), '≤ 1,000', b.verdict(pmax, '<=', 1000)],
    ['writer stall max, ms', n(smax, 1), '≤ 1,000 (as the pause)',
     b.verdict(smax, '<=', 1000)],
    ['acknowledged writes lost', str(lost_total), '0',
     b.verdict(lost_total, '<=', 0)],
])
b.result('cutover', {
    'runs': runs, 'rate': rate, 'pause_p50_ms': round(p50, 1),
    'pause_p99_ms': round(p99, 1), 'pause_max_ms': round(pmax, 1),
    'held_p99_ms': round(b.percentile(held, 0.99)),
    'stall_max_ms': smax, 'lost': lost_total, 'per_run': runs_rec,
    'met': {'p99': p99 <= 300, 'max': pmax <= 1000, 'lost': lost_total == 0}})
sys.exit(1 if lost_total else 0)
PYEOF

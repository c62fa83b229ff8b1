#!/bin/bash
# app-errors.sh — what the application sees of a migration (DESIGN §9;
# issue 24): the errors of the Django test shop beside those of the same
# shop without cutover, at the same time on the same machine.
#
# BENCH_RUNS (default 3) runs of tests/e2e/26-app-errors-django.sh with
# longer windows: synced for BENCH_SYNC_S (default 20) s before the
# switch, BENCH_WATCH_S (default 30) s on MariaDB after each of its two
# switches, BENCH_AFTER_S (default 10) s back on SQLite after the
# rollback; each kind of Django worker at BENCH_RATE (default 20)
# requests/s. The shop: 2 Django workers with default settings (deferred
# transactions, busy timeout 10 s), 2 with BEGIN IMMEDIATE, 1 PHP PDO
# worker with ImmediatePDO; each request one transaction that reads and
# then writes. Summed over the runs, by phase (on SQLite; the switch,
# from the write lock to the switch, ±0.5 s; on MariaDB; the switch back
# of the rollback): "database is locked", deadlocks, fence hits (a 503
# and a retry on the other database: not an error) and other errors.
# Targets: "database is locked" for IMMEDIATE workers 0; deadlocks 0;
# default workers on SQLite outside the switches ≤ 1.1 × the baseline's.
#
#   bench/app-errors.sh
#   BENCH_RUNS=1 BENCH_WATCH_S=10 bench/app-errors.sh
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-3}

for i in $(seq 1 "$RUNS"); do
    say "run $i of $RUNS"
    APP_ERRORS_SYNC_S=${BENCH_SYNC_S:-20} APP_ERRORS_WATCH_S=${BENCH_WATCH_S:-30} \
    APP_ERRORS_AFTER_S=${BENCH_AFTER_S:-10} APP_ERRORS_RATE=${BENCH_RATE:-20} \
    APP_ERRORS_REPORT=$T/phases$i.json CUTOVER_BIN=$CUTOVER \
        bench_run bash "$ROOT/tests/e2e/26-app-errors-django.sh" \
        >"$T/run$i.log" 2>&1 \
        || { tail -20 "$T/run$i.log" >&2; echo "bench: run $i failed" >&2; exit 1; }
done

bpy - "$T" "$RUNS" <<'PYEOF'
import json, sys
import benchlib as b
T, runs = sys.argv[1], int(sys.argv[2])
tables = [json.load(open('%s/phases%d.json' % (T, i + 1))) for i in range(runs)]
phases = list(tables[0])
kinds = ('default', 'immediate', 'php')
KIND = {'default': 'Django, default (deferred)',
        'immediate': 'Django, BEGIN IMMEDIATE', 'php': 'PHP PDO, ImmediatePDO'}
total = {}
for t in tables:
    for p in phases:
        for run, v in t[p].items():
            if run == 'seconds':
                total.setdefault(p, {}).setdefault('seconds', 0)
                total[p]['seconds'] += v
                continue
            acc = total.setdefault(p, {}).setdefault(run, {})
            for k, n in v.items():
                acc[k] = acc.get(k, 0) + n
rows = [['phase', 's'] + ['%s: cutover / baseline' % k for k in kinds]]
for p in phases:
    rows.append([p, b.num(total[p]['seconds'], 0)] + [
        '%d / %d' % (total[p]['cutover-' + k]['locked'],
                     total[p]['baseline-' + k]['locked']) for k in kinds])
b.table('"database is locked", summed over %d runs' % runs, rows,
        '  workers: ' + '; '.join('%s = %s' % (k, KIND[k]) for k in kinds))
def sum_kind(run, what):
    return sum(total[p][run][what] for p in phases)
rows = [['errors', 'cutover', 'baseline']]
for what in ('deadlock', 'fence', 'other'):
    rows.append([what, sum(sum_kind('cutover-' + k, what) for k in kinds),
                 sum(sum_kind('baseline-' + k, what) for k in kinds)])
b.table('other kinds, every worker, summed over %d runs (fence: a 503 and '
        'a retry, not an error)' % runs, rows)
ours = total['on SQLite']['cutover-default']['locked']
base = total['on SQLite']['baseline-default']['locked']
immediate = sum(sum_kind('cutover-' + k, 'locked') for k in ('immediate', 'php'))
deadlocks = sum(sum_kind('cutover-' + k, 'deadlock') for k in kinds)
ratio = ours / base if base else None
b.table('targets', [
    ['figure', 'value', 'target', 'verdict'],
    ['IMMEDIATE workers: database is locked', immediate, '0',
     b.verdict(immediate, '<=', 0)],
    ['deadlocks (%d s on MariaDB)' % total['on MariaDB']['seconds'],
     deadlocks, '0', b.verdict(deadlocks, '<=', 0)],
    ['default workers on SQLite outside the switches, ÷ baseline',
     b.num(ratio), '≤ 1.1', b.verdict(ratio, '<=', 1.1)],
])
b.result('app-errors', {'runs': runs, 'phases': total,
                        'immediate_locked': immediate, 'deadlocks': deadlocks,
                        'default_on_sqlite_ratio': ratio})
PYEOF

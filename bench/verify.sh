#!/bin/bash
# verify.sh — rows verified per second, beside the bulk copy of the same run
# (DESIGN §9, issue 6).
#
# One `cutover run` of a copy of the bench table (tests/lib/fixtures.py
# `bench`, BENCH_ROWS rows, default 2,000,000) into a private MariaDB (or
# PostgreSQL with BENCH_TARGET=postgresql) with
# verify.mode full (every row hashed on both sides, chunk by chunk, chunk
# hashes compared), copy.workers 2, backup.enabled false,
# post_validate.watch_s 0, no writer (nothing to re-check). From the `stage`
# events in events.ndjson (ms resolution):
#   verify time    = entering verify → leaving it for cutover
#   bulk copy time = entering bulk_copy → leaving it for sync
# Rows compared per second = BENCH_ROWS ÷ verify time: each row counted once
# although it is read and hashed on both sides. The bulk copy of the same
# rows, in the same run, is the baseline it is printed beside. The verify
# report (state_dir/verify.json) must show every row checked and 0
# mismatches, or the figure does not count. Target ≥ 300,000 rows/s.
#
#   bench/verify.sh
#   BENCH_ROWS=200000 bench/verify.sh
#   BENCH_TARGET=postgresql bench/verify.sh
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROWS=${BENCH_ROWS:-2000000}
fixture=$(bench_fixture bench "$ROWS")
bench_start_target
D=$T/verify
mkdir -p "$D"
cp "$fixture" "$D/orders.sqlite3"
bench_runbook "$D" verify orders.sqlite3 "{'verify': {'mode': 'full'}}"
say "cutover: migrating $ROWS rows with verify.mode full"
rc=0
bench_timed "$D/timed.json" "$CUTOVER" run "$D/runbook.json" \
    >"$D/run.out" 2>"$D/run.err" || rc=$?
bench_check_run "$D" "$rc"

bpy - "$D" "$ROWS" <<'PYEOF'
import json, os, sys
import benchlib as b
D, rows = sys.argv[1], int(sys.argv[2])
sp = b.spans(D + '/state/events.ndjson')
copy_s, verify_s = sp['bulk_copy']['s'], sp['verify']['s']
done = {}     # table → its last table_done event
for e in b.read_events(D + '/state/events.ndjson'):
    if e['type'] == 'verify' and e.get('table_done'):
        done[e['table']] = e
checked = sum(e.get('rows', 0) for e in done.values())
mismatches = sum(e.get('mismatches', 0) for e in done.values())
if checked != rows or mismatches:
    sys.exit('bench: verify checked %d of %d rows, %d mismatches: the figure '
             'does not count' % (checked, rows, mismatches))
rss = b.load(D + '/timed.json')['maxrss_kib'] / 1024
rate = rows / verify_s
n = b.num
b.table('verify.mode full on `orders`, %s rows into %s — one run'
        % (n(rows), os.environ['BENCH_TARGET']), [
    ['stage', 'time s', 'rows/s'],
    ['verify (both sides hashed, compared)', n(verify_s), n(rate)],
    ['bulk copy of the same rows (baseline)', n(copy_s), n(rows / copy_s)],
    ['verify ÷ bulk copy', n(verify_s / copy_s), ''],
])
b.table('targets', [
    ['figure', 'value', 'target', 'verdict'],
    ['rows compared/s', n(rate), '≥ 300,000', b.verdict(rate, '>=', 300000)],
    ['peak RSS of cutover run, MiB', n(rss, 1), '≤ 64',
     b.verdict(rss, '<=', 64)],
])
b.result('verify', {
    'target': os.environ['BENCH_TARGET'], 'rows': rows, 'verify_s': verify_s, 'verify_rows_per_s': round(rate),
    'copy_s': copy_s, 'copy_rows_per_s': round(rows / copy_s),
    'verify_over_copy': round(verify_s / copy_s, 3), 'mismatches': mismatches,
    'peak_rss_mib': round(rss, 1),
    'met': {'rows_per_s': rate >= 300000, 'rss': rss <= 64}})
PYEOF

#!/bin/bash
# watchers.sh — what 100 watchers on the progress socket cost the bulk copy
# (DESIGN §7 "a slow watcher never slows the migration", §9; issue 8).
#
# Migrations of a copy of the bench table (tests/lib/fixtures.py `bench`,
# BENCH_ROWS rows, default 2,000,000) into one private MariaDB, with
# copy.workers 2, verify.mode count, backup.enabled false,
# post_validate.watch_s 0; each into a fresh database, dropped afterwards so
# every run starts from the same server state. Half of the runs have
# BENCH_WATCHERS (default 100) watchers attached: one process
# (benchlib.py watchers) holding that many connections to the progress
# socket, connecting as soon as the socket exists and reading everything
# continuously until the orchestrator closes them — what 100 `cutover
# watch` clients ask of the server, without 100 processes competing for the
# copy's 2 cores. Every watcher must have got its hello before the copy
# started (hello state new or pre_validate) and none may be dropped, or the
# run does not count.
#
# Time = the bulk_copy stage (`stage` events entering bulk_copy → leaving
# it for sync, ms resolution). BENCH_ROUNDS (default 2) rounds in the order
# without, with | with, without | ... so neither side always runs first;
# ratio = mean with ÷ mean without. Target ≤ 1.05.
#
#   bench/watchers.sh
#   BENCH_ROWS=200000 bench/watchers.sh
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROWS=${BENCH_ROWS:-2000000}
WATCHERS=${BENCH_WATCHERS:-100}
ROUNDS=${BENCH_ROUNDS:-2}

fixture=$(bench_fixture bench "$ROWS")
bench_start_db

# one_copy NAME WATCHERS: one migration; figures in $T/NAME/
one_copy() {
    local name=$1 n=$2 D=$T/$1 rc=0 wpid=""
    mkdir -p "$D"
    cp "$fixture" "$D/orders.sqlite3"
    bench_runbook "$D" "$name" orders.sqlite3 "{'verify': {'mode': 'count'}}"
    if [ "$n" -gt 0 ]; then
        bench_spawn "$BLIB" watchers "$D/state/progress.sock" "$n" "$D/watchers.json"
        wpid=$BENCH_PID
    fi
    say "$name: copying $ROWS rows with $n watchers"
    bench_timed "$D/timed.json" "$CUTOVER" run "$D/runbook.json" \
        >"$D/run.out" 2>"$D/run.err" || rc=$?
    bench_check_run "$D" "$rc"
    if [ -n "$wpid" ]; then
        # the orchestrator has exited: the watchers see EOF and report
        bench_wait_exit "$wpid" 10
        [ -f "$D/watchers.json" ] || { echo "bench: the watchers did not report" >&2; exit 1; }
    fi
    sql -e "DROP DATABASE \`$name\`"
}

for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then
        one_copy "without$r" 0
        one_copy "with$r" "$WATCHERS"
    else
        one_copy "with$r" "$WATCHERS"
        one_copy "without$r" 0
    fi
done

bpy - "$T" "$ROWS" "$WATCHERS" "$ROUNDS" <<'PYEOF'
import sys
import benchlib as b
T, rows, watchers, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4])
n = b.num
tab = [['round', 'without s', 'with s', 'events per watcher', 'dropped',
        'attached in']]
without, with_, problems = [], [], []
for r in range(1, rounds + 1):
    a = b.spans('%s/without%d/state/events.ndjson' % (T, r))['bulk_copy']['s']
    w = b.spans('%s/with%d/state/events.ndjson' % (T, r))['bulk_copy']['s']
    wj = b.load('%s/with%d/watchers.json' % (T, r))
    late = [s for s in wj['hello_states'] if s not in ('new', 'pre_validate')]
    if late or wj['dropped'] or wj['connected'] != watchers:
        problems.append('round %d: %d connected, hello in %s, %d dropped'
                        % (r, wj['connected'], wj['hello_states'],
                           wj['dropped']))
    without.append(a)
    with_.append(w)
    tab.append([str(r), n(a), n(w), '%d–%d' % (wj['events_min'],
                                              wj['events_max']),
                str(wj['dropped']), '/'.join(wj['hello_states'])])
mw, ma = sum(with_) / rounds, sum(without) / rounds
ratio = mw / ma
tab.append(['mean', n(ma), n(mw), '', '', ''])
b.table('bulk copy of `orders`, %s rows, with and without %d watchers'
        % (n(rows), watchers), tab)
noise = max(without) / min(without) - 1
b.table('targets', [
    ['figure', 'value', 'target', 'verdict'],
    ['copy with ÷ without watchers', n(ratio, 3), '≤ 1.05',
     b.verdict(ratio, '<=', 1.05)],
    ['spread of the runs without (max ÷ min − 1)', '%.1f%%' % (100 * noise),
     'ratio is only as exact as this', ''],
])
if problems:
    print('the watchers did not all watch the whole copy: ' +
          '; '.join(problems))
b.result('watchers', {
    'rows': rows, 'watchers': watchers, 'without_s': without,
    'with_s': with_, 'ratio': round(ratio, 3),
    'spread_without': round(noise, 3), 'problems': problems,
    'met': {'ratio': ratio <= 1.05 and not problems}})
sys.exit(1 if problems else 0)
PYEOF

#!/bin/bash
# sync.sh — change capture and the applier under load (DESIGN §9, issue 5).
#
# One migration of the shop fixture (tests/lib/fixtures.py `shop`,
# BENCH_SHOP_ROWS rows, default 600,000: 200,000 in shop_order) with
# cutover.mode manual and verify.mode count, so it stays in the cutover
# state (ready, waiting for `ctl cutover`) with capture installed and the
# applier running. Then, on its source:
#
#  a) lag: bin/writer at BENCH_RATE transactions/s (default 1,000; open
#     loop, a mix of the shop's inserts, updates, deletes over five tables)
#     for BENCH_SECONDS (default 60; stopped with SIGTERM). A client on the
#     progress socket asks {"cmd":"status"} at 10 Hz for the whole run
#     (benchlib.py poll); the samples taken while the writer ran give lag
#     p50/p99/max (status sync.lag_s: age of the oldest unapplied log entry,
#     re-measured by the applier every 0.25 s) and the largest backlog
#     (sync.backlog_rows). The applier's own 1 Hz `sync` events are read
#     too, as a cross-check (their max lag is printed).
#  b) applier capacity: with the writer stopped and the backlog at 0, one
#     UPDATE of the shop_order rows with id ≤ BENCH_BURST_KEYS (default
#     200,000; a new updated_at and status, an indexed column) in one
#     source transaction: that many keys logged at once. Capacity = keys ÷
#     (time from that COMMIT to the first status sample whose shop_order
#     applied_seq has reached the last log seq the UPDATE wrote). Sampling
#     at 10 Hz adds up to 0.1 s, so this errs low. The peak backlog and the
#     peak applied_per_s of the applier's 1 Hz events are printed beside it.
#  c) source write throughput: the writer unpaced (--rate 100000, stopped
#     by SIGTERM after BENCH_TPUT_SECONDS, default 10), writes_per_s from its
#     summary, on a copy of the fixture without triggers (the baseline) and
#     on the migration's source (capture triggers, applier running on the
#     same 2 cores — what an application sees during a migration), after
#     an unmeasured 2 s warm-up on each, in BENCH_TPUT_ROUNDS (default 3)
#     alternating rounds (A B, B A, A B); ratio = median with capture ÷
#     median without (the rounds are printed: writes/s through fsync on a
#     shared machine is noisy). The rounds run once for each SQLite
#     `synchronous` setting in BENCH_SYNCHRONOUS (default "full normal":
#     FULL is what Django and Laravel leave it at, NORMAL what a tuned WAL
#     database runs with); the target applies to FULL.
#
# Finally the migration is aborted (`ctl abort`) and the peak RSS of the
# whole `cutover run` is printed. Targets: lag p99 ≤ 1 s, applier ≥ 20,000
# keys/s, throughput ratio ≥ 0.70.
#
#   bench/sync.sh
#   BENCH_SHOP_ROWS=60000 BENCH_SECONDS=10 BENCH_BURST_KEYS=20000 bench/sync.sh
#   BENCH_TARGET=postgresql bench/sync.sh      into a private PostgreSQL
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

SHOP_ROWS=${BENCH_SHOP_ROWS:-600000}
RATE=${BENCH_RATE:-1000}
DURATION=${BENCH_SECONDS:-60}
BURST=${BENCH_BURST_KEYS:-200000}
TPUT_S=${BENCH_TPUT_SECONDS:-10}
ROUNDS=${BENCH_TPUT_ROUNDS:-3}
SYNCHRONOUS=${BENCH_SYNCHRONOUS:-full normal}

fixture=$(bench_fixture shop "$SHOP_ROWS")
bench_start_target
D=$T/sync
mkdir -p "$D" "$T/plain"
cp "$fixture" "$D/shop.sqlite3"
cp "$fixture" "$T/plain/shop.sqlite3"
bench_runbook "$D" shop shop.sqlite3 \
    "{'verify': {'mode': 'count'}, 'cutover': {'mode': 'manual'}}"
say "migrating the shop ($SHOP_ROWS rows) up to cutover-ready"
bench_spawn "$BLIB" timed "$D/timed.json" "$CUTOVER" run "$D/runbook.json" \
    >"$D/run.out" 2>"$D/run.err"
RUN=$BENCH_PID
bench_wait_state "$D/runbook.json" 1200 cutover
bench_spawn "$BLIB" poll "$D/state/progress.sock" "$D/poll.ndjson" 10
POLL=$BENCH_PID

now() { date +%s.%N; }

# writer DIR RATE SECONDS NAME [SYNCHRONOUS]: the writer on
# DIR/shop.sqlite3 for SECONDS of wall clock; its summary in DIR/NAME.json
writer() {
    local dir=$1 sync=()
    [ -n "${5:-}" ] && sync=(--synchronous "$5")
    echo sqlite >"$dir/switch"
    bench_spawn "$WRITER" run --sqlite "$dir/shop.sqlite3" "${sync[@]}" \
        --mysql-socket "${SOCK:-/nonexistent}" --mysql-db shop \
        --switch-file "$dir/switch" \
        --record "$dir/$4.record" --rate "$2" --duration 86400 \
        --busy-timeout-ms 10000 >"$dir/$4.out" 2>"$dir/$4.err"
    local pid=$BENCH_PID
    bench_run sleep "$3"
    bench_stop "$pid"
    [ "$BENCH_RC" = 0 ] || { echo "bench: writer exited $BENCH_RC" >&2; tail "$dir/$4.err" >&2; exit 1; }
    tail -1 "$dir/$4.out" >"$dir/$4.json"
    rm -f "$dir/$4.record"
}

# wait_drained AFTER [TABLE SEQ]: until a status sample later than AFTER
# (unix time) shows backlog 0 — or, given TABLE and SEQ, TABLE's
# applied_seq at SEQ or beyond; that sample's time in $DRAINED_AT. Exits if
# the migration stops.
wait_drained() {
    local i
    DRAINED_AT=""
    for i in $(seq 1 6000); do
        DRAINED_AT=$(bpy -c '
import json, sys
after, table, seq = float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
for line in open(sys.argv[1]):
    s = json.loads(line)
    if s["t"] > after:
        if s["state"] != "cutover":
            print("stopped " + s["state"]); break
        if (s["applied_seq"].get(table, 0) >= seq if table
                else s["backlog_rows"] == 0):
            print(s["t"]); break
' "$D/poll.ndjson" "$1" "${2:-}" "${3:-0}")
        case "$DRAINED_AT" in
            stopped*) echo "bench: the migration $DRAINED_AT:" >&2
                      tail -5 "$D/run.err" >&2; exit 1 ;;
            ?*) return 0 ;;
        esac
        sleep 0.1
    done
    echo "bench: the backlog did not drain in 600 s" >&2
    exit 1
}

# ---- a) lag at a fixed write rate ---------------------------------------------
say "a) writer at $RATE transactions/s for $DURATION s"
a_start=$(now)
writer "$D" "$RATE" "$DURATION" lag
a_end=$(now)
wait_drained "$a_end"

# ---- b) applier capacity ------------------------------------------------------
sleep 1
say "b) one UPDATE of the shop_order rows with id <= $BURST"
# prints: keys updated, unix time of the COMMIT, last log seq it wrote
burst_sql="UPDATE shop_order SET updated_at = '2025-06-01 12:00:00.000000',
    status = CASE status WHEN 'paid' THEN 'shipped' ELSE 'paid' END
    WHERE id <= $BURST"
bpy -c '
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
n = db.execute(sys.argv[2]).rowcount
db.execute("COMMIT")
t = time.time()
seq = db.execute("SELECT MAX(seq) FROM _cutover_log_shop_order").fetchone()[0]
print(n, t, seq)
' "$D/shop.sqlite3" "$burst_sql" >"$D/burst.txt"
read -r keys b_commit b_seq <"$D/burst.txt"
wait_drained "$b_commit" shop_order "$b_seq"
b_zero=$DRAINED_AT

# ---- c) write throughput with and without capture ---------------------------
# a short unmeasured run on each side first: both files warm, both WALs grown
writer "$T/plain" 100000 2 warmup
writer "$D" 100000 2 warmup
for mode in $SYNCHRONOUS; do
    for r in $(seq 1 "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then order="plain sync"; else order="sync plain"; fi
        for side in $order; do
            say "c) synchronous=$mode, round $r: unpaced writer, $( [ "$side" = sync ] && echo with || echo without) capture, $TPUT_S s"
            writer "$T/$side" 100000 "$TPUT_S" "tput-$mode-$r" "$mode"
        done
    done
done

bench_stop "$POLL"
"$CUTOVER" ctl "$D/runbook.json" abort >/dev/null
bench_wait_exit "$RUN" 60

bpy - "$T" "$RATE" "$DURATION" "$a_start" "$a_end" "$keys" "$b_commit" \
    "$b_zero" "$ROUNDS" "$SYNCHRONOUS" <<'PYEOF'
import sys
import benchlib as b
T = sys.argv[1]
rate, duration = b.arg_num(sys.argv[2]), b.arg_num(sys.argv[3])
a0, a1, keys, b1, bz = (float(x) for x in sys.argv[4:9])
rounds = int(sys.argv[9])
D = T + '/sync'
polls = [__import__('json').loads(l) for l in open(D + '/poll.ndjson')]
win = [p for p in polls if a0 <= p['t'] <= a1]
lags = [p['lag_s'] for p in win]
backlog_max = max(p['backlog_rows'] for p in win)
ev = [e for e in b.read_events(D + '/state/events.ndjson')
      if e['type'] == 'sync' and 'applied_per_s' in e]
ev_a = [e for e in ev if a0 <= b.ts_seconds(e['ts']) <= a1]
ev_b = [e for e in ev if b1 <= b.ts_seconds(e['ts']) <= bz + 1]
lag_w = b.load(D + '/lag.json')
burst_peak = max([p['backlog_rows'] for p in polls if b1 <= p['t'] <= bz] or [0])
drain_s = bz - b1
capacity = keys / drain_s
peak_applied = max([e['applied_per_s'] for e in ev_b] or [0])
modes = sys.argv[10].split()
def rounds_of(side, mode):
    return [b.load('%s/tput-%s-%d.json' % (side, mode, r))['writes_per_s']
            for r in range(1, rounds + 1)]
tput = {m: (rounds_of(T + '/plain', m), rounds_of(D, m)) for m in modes}
ratios = {m: b.median(c) / b.median(p) for m, (p, c) in tput.items()}
main = 'full' if 'full' in modes else modes[0]
ratio = ratios[main]
p50, p99 = b.percentile(lags, 0.5), b.percentile(lags, 0.99)
timed = b.load(D + '/timed.json')
rss = timed['maxrss_kib'] / 1024
n = b.num
b.table('a) sync lag, writer at %s transactions/s for %s s (%d status samples '
        'at 10 Hz)' % (n(rate), n(duration), len(win)), [
    ['figure', 'value'],
    ['writer: transactions/s achieved', n(lag_w['writes_per_s'])],
    ['writer: longest stall, ms', n(lag_w['longest_stall_ms'])],
    ['lag p50, s', n(p50, 3)],
    ['lag p99, s', n(p99, 3)],
    ['lag max, s', n(max(lags), 3)],
    ['lag max in the applier\'s 1 Hz events, s',
     n(max([e['lag_s'] for e in ev_a] or [0]), 3)],
    ['backlog max, log rows', n(backlog_max)],
])
b.table('b) applier capacity: one UPDATE of %s keys' % n(int(keys)), [
    ['figure', 'value'],
    ['backlog peak seen, log rows', n(burst_peak)],
    ['COMMIT → all applied, s', n(drain_s, 2)],
    ['keys/s (keys ÷ drain time)', n(capacity)],
    ['peak applied_per_s (1 Hz events)', n(peak_applied)],
])
rows = [['synchronous', 'round', 'without capture', 'with capture',
         'with ÷ without']]
for m, (plain, capt) in tput.items():
    for r in range(rounds):
        rows.append([m.upper(), str(r + 1), n(plain[r]), n(capt[r]), ''])
    rows.append([m.upper(), 'median', n(b.median(plain)), n(b.median(capt)),
                 n(ratios[m], 3)])
b.table('c) source writes/s, unpaced writer', rows)
b.table('targets', [
    ['figure', 'value', 'baseline / target', 'verdict'],
    ['lag p99, s', n(p99, 3), '≤ 1', b.verdict(p99, '<=', 1.0)],
    ['applier keys/s', n(capacity), '≥ 20,000 (writer: %s/s)'
     % n(round(lag_w['writes_per_s'])), b.verdict(capacity, '>=', 20000)],
    ['writes/s with ÷ without capture (synchronous=%s)' % main.upper(),
     n(ratio, 3), '≥ 0.70', b.verdict(ratio, '>=', 0.70)],
    ['peak RSS of cutover run, MiB', n(rss, 1), '≤ 64',
     b.verdict(rss, '<=', 64)],
])
b.result('sync', {
    'rate': rate, 'seconds': duration,
    'writer_writes_per_s': lag_w['writes_per_s'], 'samples': len(win),
    'lag_p50_s': round(p50, 4), 'lag_p99_s': round(p99, 4),
    'lag_max_s': round(max(lags), 4),
    'backlog_max': backlog_max, 'burst_keys': int(keys),
    'drain_s': round(drain_s, 3), 'applier_keys_per_s': round(capacity),
    'peak_applied_per_s': round(peak_applied),
    'writes_per_s': {m: {'without': p, 'with': c}
                     for m, (p, c) in tput.items()},
    'capture_ratios': {m: round(r, 3) for m, r in ratios.items()},
    'capture_ratio': round(ratio, 3), 'peak_rss_mib': round(rss, 1),
    'met': {'lag_p99': p99 <= 1.0, 'applier': capacity >= 20000,
            'capture_ratio': ratio >= 0.70}})
PYEOF

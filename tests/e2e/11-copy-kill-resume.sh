#!/bin/bash
# kill -9 of the orchestrator during bulk_copy (at several chunk counts,
# through the crash point that kills itself with SIGKILL, and once with a
# real kill -9 from outside), then `cutover resume`: the migration completes
# with identical data, and the events log shows at most one chunk copied
# twice per key range.
# timeout: 600
# long
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/base.sqlite3" 120000

check_recopies() {
    $PY - "$STATE/events.ndjson" <<'PY' || fail "more than one chunk re-copied per range"
import json, sys, collections
seen = collections.defaultdict(set)
again = collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("type") != "progress" or "chunk_rows" not in e:
        continue
    k = (e["table"], e["range"])
    span = json.dumps(e["from"])
    if span in seen[k]:
        again[k] += 1
    seen[k].add(span)
bad = {k: n for k, n in again.items() if n > 1}
print("re-copied chunks per range:", dict(again) or "none")
sys.exit(1 if bad else 0)
PY
}

run_case() {
    local crash=$1 db="shop_$2"
    rm -rf "$STATE"
    cp "$T/base.sqlite3" "$T/shop.sqlite3"
    rm -f "$T/shop.sqlite3-wal" "$T/shop.sqlite3-shm"
    runbook "$T/runbook.json" "{'target': {'database': '$db'},
        'copy': {'workers': 2, 'chunk_target_ms': 20}}"
    crash_resume "$crash"
    compare "$T/shop.sqlite3" "$db"
    check_recopies
}

run_case bulk_copy:chunk:1 a
run_case bulk_copy:chunk:4 b
run_case bulk_copy:chunk:9 c
run_case bulk_copy:indexes:2 d

# a real kill -9 from outside, once progress has been made
rm -rf "$STATE"
cp "$T/base.sqlite3" "$T/shop.sqlite3"
runbook "$T/runbook.json" "{'target': {'database': 'shop_e'},
    'copy': {'workers': 2, 'chunk_target_ms': 20, 'max_rows_per_s': 40000}}"
"$CUTOVER" run "$T/runbook.json" >"$T/run.log" 2>&1 &
pid=$!
wait_for 60 grep -q '"type":"progress"' "$STATE/events.ndjson"
sleep 0.7
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
assert_contains "$OUT" "completed" "resume after kill -9"
compare "$T/shop.sqlite3" shop_e
check_recopies
echo ok

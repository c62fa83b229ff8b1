#!/bin/bash
# A switch action that does not finish within its timeout_ms is killed —
# with everything it started (its process group) — and counts as a failed
# switch: cutover undoes the attempt (the source opens again, the target
# keeps nothing of it) and, with no retries left, stops with the action's
# timeout as the reason. The source takes writes again afterwards.
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 2000
cat >"$T/slow.sh" <<EOF
echo \$\$ > "$T/slow.pid"
sleep 300 &
echo \$! > "$T/child.pid"
wait
EOF
runbook "$T/runbook.json" "{'cutover': {'retries': 0,
   'switch': [{'exec': ['sh', '$T/slow.sh'], 'timeout_ms': 500}]},
  'post_validate': {'watch_s': 0}}"
set +e
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>&1
code=$?
set -e
[ "$code" != 0 ] || fail "run succeeded with a switch action that never ends"
assert_contains "$(cat "$T/run.out")" "did not finish within 500 ms and was killed" \
    "the timeout named"
for f in slow.pid child.pid; do
    [ -s "$T/$f" ] || fail "the action did not start ($f)"
    pid=$(cat "$T/$f")
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && fail "process $pid of the action still runs"
done
events cutover 'e.get("step") == "unswitch"' | grep -q . || fail "no unswitch"
# the source is open again: the application writes
sqlite3 "$T/shop.sqlite3" "UPDATE shop_product SET stock = stock + 1 WHERE id = 1" ||
    fail "the source still refuses writes"
echo ok

#!/bin/bash
# Replication on the replica stops in the middle of the copy: the lag cutover
# measures grows, the copy waits (throttle events), and a rule on
# target.replica_lag_s pauses the migration; status and watch show the
# replica. Replication restarts, the operator resumes, the migration
# completes, and the replica holds exactly the rows of the SQLite source
# (compared independently, straight against the replica).
# timeout: 300
# long
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/tests/lib/replication.sh"

start_replicated_db
shop_db "$T/shop.sqlite3" 60000
runbook "$T/runbook.json" "{
  'target': {'type': 'mysql', 'socket': '$SOCK', 'user': 'root',
             'database': 'shop',
             'replicas': [{'name': 'r1', 'socket': '$REPLICA_SOCK',
                           'user': 'root'}]},
  'copy': {'workers': 2, 'max_rows_per_s': 4000, 'max_replica_lag_s': 0.5},
  'triggers': [{'name': 'replica-behind', 'metric': 'target.replica_lag_s',
                'above': 4, 'for_s': 1, 'action': 'pause'}]}"

"$CUTOVER" run "$T/runbook.json" > "$T/run.out" 2>&1 &
RUN_PID=$!
wait_for 60 sh -c "grep -q '\"type\":\"progress\"' '$STATE/events.ndjson'"
rsql -e "STOP SLAVE"
echo "replication stopped at $(date +%T)"

# the copy waits for the replica, then the rule pauses
wait_for 30 sh -c "grep -q '\"waiting\":true' '$STATE/events.ndjson'"
events throttle 'e["waiting"]' | head -1
wait_state 60 paused
fired=$(events trigger 'e["rule"] == "replica-behind"' | head -1)
[ -n "$fired" ] || fail "the rule on target.replica_lag_s did not fire"
echo "rule fired: $fired"
lag=$(status 'd["replicas"][0]["lag_s"]')
running=$(status 'd["replicas"][0]["sql_running"]')
echo "status while paused: replica lag $lag s, SQL thread running: $running"
$PY -c "import sys; sys.exit(0 if float('$lag') > 4 else 1)" \
    || fail "status shows replica lag $lag s while replication is stopped"
assert_eq False "$running" "status sql_running"
timeout 3 "$CUTOVER" watch "$T/runbook.json" > "$T/watch.out" 2>&1 || true
grep -q "r1 NOT REPLICATING" "$T/watch.out" \
    || { cat "$T/watch.out"; fail "watch does not show the stopped replica"; }

# replication back; once the replica has caught up, resume
rsql -e "START SLAVE"
wait_for 60 sh -c "[ \$(\"$CUTOVER\" status '$T/runbook.json' --json | $PY -c 'import json,sys; print(int(json.load(sys.stdin)[\"replicas\"][0][\"lag_s\"] < 0.5))') = 1 ]"
"$CUTOVER" ctl "$T/runbook.json" resume
wait $RUN_PID || { cat "$T/run.out"; fail "the migration did not complete"; }
assert_contains "$(cat "$T/run.out")" "completed" "run"
events throttle 'not e["waiting"]' | head -1 | grep -q waited_s \
    || fail "no event says the copy went on"

replica_catch_up
$PY "$ROOT/tests/lib/compare.py" "$T/shop.sqlite3" "$REPLICA_SOCK" shop \
    || fail "the replica differs from the SQLite source"
echo ok

#!/bin/bash
# A writer outpacing a throttled applier drives sync.lag_s over its
# threshold: the rule pauses the migration on its own. With the writer
# stopped the applier (still running while paused) catches up, the lag
# falls, and a resume rule resumes it. The events log shows both firings
# with their values and the transitions they caused.
# timeout: 200
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 20000
runbook "$T/runbook.json" "{'sync': {'max_keys_per_s': 150},
  'cutover': {'mode': 'manual'},
  'triggers': [
    {'name': 'lag', 'metric': 'sync.lag_s', 'above': 1, 'action': 'pause'},
    {'name': 'recovered', 'metric': 'sync.lag_s', 'below': 0.3, 'for_s': 1,
     'action': 'resume'},
    {'name': 'mismatch', 'metric': 'verify.mismatched_rows', 'above': 0,
     'action': 'abort'}]}"
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 60 cutover
writer_start 300
wait_state 60 paused
writer_stop
wait_state 120 cutover
fired=$(events trigger 'e["rule"] == "lag"')
echo "$fired"
$PY -c "import json,sys; e=json.loads(sys.argv[1]); assert e['value'] > 1 and e['above'] == 1 and e['action'] == 'pause', e" "$fired" \
    || fail "lag firing"
events stage 'e["to"] == "paused" and "trigger lag" in e["reason"]' | grep -q . \
    || fail "no pause caused by the rule"
events trigger 'e["rule"] == "recovered" and e["action"] == "resume"' | grep -q . \
    || fail "no resume firing"
events stage 'e["from"] == "paused" and "trigger recovered" in e["reason"]' | grep -q . \
    || fail "no resume caused by the rule"
sleep 1.5
compare "$T/shop.sqlite3" shop
kill "$RUN"; wait "$RUN" 2>/dev/null || true
echo ok

#!/bin/bash
# After the switch an HTTP health check (a local server) starts failing;
# after three consecutive failures the rule rolls the migration back on its
# own. The live writer, moved to MySQL at the switch, follows back to
# SQLite and loses nothing.
# timeout: 200
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 20000
echo 200 > "$T/health"
http_start api --status-file "$T/health"
runbook "$T/runbook.json" "{'cutover': {$SWITCH_JSON},
  'post_validate': {'watch_s': 120, 'interval_s': 0.3,
    'checks': [{'name': 'api', 'http': {'url': '$HTTP_URL/health',
                'expect_status': [200], 'timeout_ms': 1000}}]},
  'triggers': [{'name': 'api', 'metric': 'check.api.failures', 'above': 2,
                'action': 'rollback'}]}"
writer_start 200
sleep 0.5
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 120 post_validate
sleep 1.5
echo 500 > "$T/health"
set +e; wait "$RUN"; code=$?; set -e
assert_eq 5 "$code" "exit code after an automatic rollback"
wait_for 10 grep -q sqlite "$T/switch"
sleep 1
writer_stop
fired=$(events trigger 'e["rule"] == "api"')
$PY -c "import json,sys; e=json.loads(sys.argv[1]); assert e['value'] > 2 and e['action'] == 'rollback' and e['metric'] == 'check.api.failures', e" "$fired" \
    || fail "firing: $fired"
events stage 'e["to"] == "rolling_back" and "trigger api" in e["reason"]' | grep -q . \
    || fail "no rollback caused by the rule"
writer_check --sqlite "$T/shop.sqlite3"
echo ok

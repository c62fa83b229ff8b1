#!/bin/bash
# An alert sent from outside during post_validate (`cutover ctl RUNBOOK
# alert NAME SEVERITY`, as a pager integration would) matches the alert
# rule "*" and rolls back; the writer loses nothing.
# timeout: 200
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 20000
runbook "$T/runbook.json" "{'cutover': {$SWITCH_JSON},
  'post_validate': {'watch_s': 120, 'interval_s': 0.5},
  'triggers': [{'name': 'pager', 'alert': '*', 'action': 'rollback'}]}"
writer_start 200
sleep 0.5
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 120 post_validate
sleep 1
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" alert checkout-errors critical
set +e; wait "$RUN"; code=$?; set -e
assert_eq 5 "$code" "exit code after the alert"
wait_for 10 grep -q sqlite "$T/switch"
sleep 0.5
writer_stop
events alert 'e["name"] == "checkout-errors" and e["severity"] == "critical"' \
    | grep -q . || fail "no alert event"
events trigger 'e["rule"] == "pager" and e["alert"] == "*"' | grep -q . \
    || fail "no firing"
writer_check --sqlite "$T/shop.sqlite3"
echo ok

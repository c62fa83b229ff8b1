#!/bin/bash
# A switch action fails (an HTTP endpoint answers 500) after an earlier
# action already moved the writer to MySQL: switch_back undoes that action,
# the writes made on MySQL meanwhile are carried back into SQLite, the
# source fence is lifted and capture restored, and the migration returns to
# sync cleanly. The next attempt (the endpoint now answers 200) succeeds,
# and no acknowledged write is lost.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 20000
http_start switch --fail-first 1
runbook "$T/runbook.json" "{'cutover': {'retries': 3,
   'switch': [{'exec': ['sh', '-c', 'echo mysql > \$CUTOVER_STATE_DIR/../switch; sleep 1']},
              {'http': {'method': 'POST', 'url': '$HTTP_URL/switch',
                        'body': '{\"to\": \"mysql\"}', 'timeout_ms': 2000}}],
   'switch_back': [{'exec': ['sh', '-c', 'echo sqlite > \$CUTOVER_STATE_DIR/../switch']}]},
  'post_validate': {'watch_s': 2}}"
writer_start 200
sleep 0.5
assert_exit 0 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "completed" "run"
sleep 0.5
writer_stop
events cutover 'e.get("step") == "unswitch"' | grep -q . || fail "no unswitch"
events cutover 'e.get("step") == "reversed"' | grep -q . || fail "nothing carried back"
assert_contains "$(events cutover 'e.get("step") == "retry"')" \
    "a switch action failed" "retry reason"
assert_eq 2 "$(wc -l < "$T/switch.log")" "switch endpoint calls"
[ "$(echo "$WRITER_SUMMARY" | json_get 'd["switches"]')" -ge 3 ] \
    || fail "the writer should have gone to MySQL, back, and to MySQL again: $WRITER_SUMMARY"
writer_check --mysql-socket "$SOCK" --mysql-db shop
echo ok

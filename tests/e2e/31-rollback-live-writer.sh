#!/bin/bash
# Rollback during post_validate with the writer running on MySQL: the
# target is fenced, its changes are carried back into SQLite, the switch
# is undone, the writer follows back and continues on SQLite. Every write
# acknowledged anywhere is in SQLite afterwards; exit code 5.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 30000
runbook "$T/runbook.json" "{'cutover': {$SWITCH_JSON},
  'post_validate': {'watch_s': 120, 'interval_s': 0.5}}"
# the switch_back action also records the environment it ran with
$PY - "$T/runbook.json" <<'PYEOF'
import json, sys
rb = json.load(open(sys.argv[1]))
rb["cutover"]["switch_back"].append(
    {"exec": ["sh", "-c", "env | grep ^CUTOVER_ | sort > $CUTOVER_STATE_DIR/../switch_back.env"]})
json.dump(rb, open(sys.argv[1], "w"), indent=1)
PYEOF
run_switched_under_writer 300 mysql
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" rollback
wait_run 5 "exit code after rollback"
wait_for 10 grep -q sqlite "$T/switch"
sleep 1.5   # and on SQLite again
writer_stop
[ "$(echo "$WRITER_SUMMARY" | json_get 'd["switches"]')" = 2 ] \
    || fail "expected a switch there and back: $WRITER_SUMMARY"
[ "$(echo "$WRITER_SUMMARY" | json_get 'd["backend"]')" = sqlite ] \
    || fail "the writer is not back on SQLite: $WRITER_SUMMARY"
writer_check --sqlite "$T/shop.sqlite3"
for var in CUTOVER_NAME=test CUTOVER_DIRECTION=to_source \
           CUTOVER_TARGET_DATABASE=shop CUTOVER_TARGET_SOCKET=$SOCK \
           CUTOVER_RUNBOOK=; do
    grep -q "^$var" "$T/switch_back.env" \
        || fail "switch_back ran without $var: $(cat "$T/switch_back.env")"
done
# nothing of ours is left in the application's database
left=$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM sqlite_master WHERE name LIKE '\_cutover\_%' ESCAPE '\'")
assert_eq 0 "$left" "cutover objects left in SQLite"
# MySQL refuses writes now (on a row that exists: the writer deletes
# orders, and a DELETE that matches no row fires no trigger)
set +e
msg=$(sql shop -e "DELETE FROM shop_order ORDER BY id LIMIT 1" 2>&1)
set -e
assert_contains "$msg" "cutover: writes moved back to source" "MySQL fence"
assert_eq rolled_back "$(status 'd["state"]')" "state"
events stage 'e["to"] == "rolled_back"' | grep -q . || fail "no rolled_back event"
echo ok

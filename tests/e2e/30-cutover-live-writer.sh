#!/bin/bash
# The live writer runs through the whole migration and follows the switch:
# on the fence error it waits until the switch action has written "mysql"
# into its switch file, then retries there. Zero acknowledged writes lost,
# the source refuses writes after the fence, and the writer's longest
# stall is printed.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 40000
runbook "$T/runbook.json" "$(live_cutover_json "$SWITCH_JSON")"
run_under_writer 300
[ "$(echo "$WRITER_SUMMARY" | json_get 'd["switches"]')" = 1 ] \
    || fail "expected exactly one switch: $WRITER_SUMMARY"
[ "$(echo "$WRITER_SUMMARY" | json_get 'd["other_errors"]')" = 0 ] \
    || fail "the writer saw errors: $WRITER_SUMMARY"
echo "longest writer stall: $(echo "$WRITER_SUMMARY" | json_get 'd["longest_stall_ms"]') ms"
writer_check --mysql-socket "$SOCK" --mysql-db shop

# the source refuses writes (on a row that exists: the writer deletes
# orders, and a DELETE that matches no row fires no trigger); the pause was
# measured and published
set +e
msg=$(sqlite3 "$T/shop.sqlite3" "DELETE FROM shop_order WHERE id = (SELECT MIN(id) FROM shop_order)" 2>&1)
set -e
assert_contains "$msg" "cutover: writes moved to target" "fence"
switched=$(events cutover 'e.get("step") == "switched"' | tail -1)
pause=$(echo "$switched" | json_get 'd["write_pause_ms"]')
echo "write pause: $pause ms; sub-steps: $(echo "$switched" | json_get 'd["steps_ms"]')"
for step in lock drain reverify fence switch; do
    echo "$switched" | json_get "'$step' in d['steps_ms']" | grep -q True \
        || fail "no duration for sub-step $step: $switched"
done
$PY -c "import sys; sys.exit(0 if 0 <= float('$pause') < 2000 else 1)" \
    || fail "write pause $pause ms"
ids=$(echo "$WRITER_SUMMARY" | json_get 'd["reused_ids"]')
assert_eq 0 "$ids" "ids reused after the switch"
echo ok

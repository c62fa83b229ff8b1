#!/bin/bash
# A schema change on the source during the migration: a column added to a
# migrated table pauses the migration with a message naming the table;
# a change elsewhere (an unrelated table) is accepted. Undoing the change
# and resuming continues to identical data.
# timeout: 200
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 20000
runbook "$T/runbook.json" "{'tables': {'exclude': ['audit_*']},
    'cutover': {'mode': 'manual'}}"
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 120 cutover
# a change the migration does not care about
sqlite3 "$T/shop.sqlite3" "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, msg TEXT)"
sqlite3 "$T/shop.sqlite3" "INSERT INTO auth_user (username, email, first_name, is_staff, is_active, date_joined) VALUES ('late', 'l@x', 'L', 0, 1, '2024-05-05 05:05:05.000000')"
sleep 3
assert_eq cutover "$(status 'd["state"]')" "state after an unrelated change"
# a change it must stop for
sqlite3 "$T/shop.sqlite3" "ALTER TABLE shop_product ADD COLUMN color TEXT"
wait_state 30 paused
err=$(status 'd["last_error"]')
assert_contains "$err" "schema changed" "pause reason"
assert_contains "$err" "shop_product" "pause reason names the table"
# undo it and continue
sqlite3 "$T/shop.sqlite3" "ALTER TABLE shop_product DROP COLUMN color"
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" resume
wait_state 60 cutover
sleep 2
sqlite3 "$T/shop.sqlite3" "DROP TABLE audit_log"   # excluded: not compared
compare "$T/shop.sqlite3" shop
kill "$RUN"; wait "$RUN" 2>/dev/null || true
echo ok

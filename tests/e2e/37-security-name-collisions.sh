#!/bin/bash
# Names cutover gives its objects on the target never make two tables
# share one, and never take a trigger away from another table.
#
# 1. MySQL names are at most 64 characters: a longer one keeps its start
#    and ends in a hash of the table name. A table can be named exactly
#    like another table's shortened reverse-log name; the two would share
#    one reverse log, and a rollback would carry one table's keys into the
#    other (deleting rows it does not find). `plan` (and so `run`) blocks,
#    naming both tables and the name.
# 2. A trigger of another table (here `audit`) holds the name cutover
#    gives shop_order's reverse-capture trigger. `plan` names it; and when
#    it appears only after plan, during the run, the cutover refuses to
#    drop it — the migration fails with the trigger named, the trigger
#    stays on `audit`, the source is not fenced.
# timeout: 180
. "$(dirname "$0")/../lib/common.sh"

start_db

# ---- 1. a table named like another table's shortened reverse log --------
LONG=shop_order_line_item_with_a_rather_long_descriptive_name_v2
SHORT=$($PY -c '
import hashlib, sys
t = sys.argv[1]
prefix, hash_bytes = "_cutover_rlog_", 8          # the reverse log
keep = 64 - len(prefix) - 1 - 2 * hash_bytes
print(t[:keep] + "_" + hashlib.sha256(t.encode()).hexdigest()[:2 * hash_bytes])' "$LONG")
sqlite3 "$T/names.sqlite3" "PRAGMA journal_mode=WAL;
  CREATE TABLE \"$LONG\" (id INTEGER PRIMARY KEY, v TEXT);
  CREATE TABLE \"$SHORT\" (id INTEGER PRIMARY KEY, v TEXT);
  INSERT INTO \"$LONG\" VALUES (1, 'long');
  INSERT INTO \"$SHORT\" VALUES (1, 'short');" >/dev/null
runbook "$T/names.json" "{'state_dir': 'state-names',
  'source': {'path': 'names.sqlite3'}, 'target': {'database': 'names'}}"
assert_exit 3 "$CUTOVER" plan "$T/names.json"
assert_contains "$OUT" "name_collision" "plan"
assert_contains "$OUT" "the reverse log of table $LONG" "plan names the long table"
assert_contains "$OUT" "the reverse log of table $SHORT" "plan names the other one"
assert_contains "$OUT" "would both be named _cutover_rlog_$SHORT" "plan names the name"
attack_refused "plan: two tables whose reverse logs would share one name"
assert_exit 3 "$CUTOVER" run "$T/names.json"
assert_contains "$OUT" "would both be named" "run"
assert_eq "" "$(sql -e "SHOW DATABASES LIKE 'names'")" "target after the refused run"

# ---- 2. a trigger of another table under a name cutover would use -------
shop_db "$T/shop.sqlite3" 3000
sql -e "CREATE DATABASE shop; CREATE TABLE shop.audit (id INT PRIMARY KEY, n INT)"
TRIGGER="CREATE TRIGGER shop._cutover_rai_shop_order AFTER INSERT ON shop.audit
         FOR EACH ROW SET @audited = NEW.id"
runbook "$T/runbook.json" "{'post_validate': {'watch_s': 0}}"
sql -e "$TRIGGER"
assert_exit 3 "$CUTOVER" plan "$T/runbook.json"
assert_contains "$OUT" "the target holds objects named like cutover's that this migration did not make (no migration id: an older cutover's, or not cutover's at all): trigger _cutover_rai_shop_order" \
    "plan names the trigger"
attack_refused "plan: a trigger of another table under a name cutover would give its own"

# the same trigger appears after plan, while the migration runs
sql -e "DROP TRIGGER shop._cutover_rai_shop_order"
CUTOVER_PAUSE_AT=cutover:prepare:1 CUTOVER_PAUSE_FILE="$T/paused" \
    "$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>&1 &
RUN=$!
wait_for 120 test -f "$T/paused"
sql -e "$TRIGGER"
rm "$T/paused"
set +e; wait $RUN; code=$?; set -e
[ "$code" != 0 ] || { cat "$T/run.out" >&2; fail "the run completed over the trigger of table audit"; }
assert_contains "$(cat "$T/run.out")" "trigger _cutover_rai_shop_order on table audit" \
    "the error names the trigger and its table"
assert_eq "audit SET @audited = NEW.id" \
    "$(sql -e "SELECT EVENT_OBJECT_TABLE, ACTION_STATEMENT FROM information_schema.TRIGGERS
               WHERE TRIGGER_SCHEMA = 'shop' AND TRIGGER_NAME = '_cutover_rai_shop_order'" | tr '\t' ' ')" \
    "the trigger of table audit"
assert_eq 0 "$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM sqlite_master WHERE name LIKE
               '\_cutover\_fence\_%' ESCAPE '\'")" "fence on the source"
attack_refused "cutover: never drops a trigger of another table to make its own"
echo ok

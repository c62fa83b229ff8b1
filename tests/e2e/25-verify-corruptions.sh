#!/bin/bash
# The target is corrupted behind the tool's back in seven ways — a changed
# column, a missing row, an extra row, a decimal off by one cent, a
# datetime off by one microsecond, one changed byte in a blob, a case change
# in a text key — and `cutover verify` finds each with the right table,
# key, kind and column (exit 3); count mode sees the row-count difference.
# Then (the first migration aborted) the verify stage of a new migration
# finds them and the default rule aborts before anything is switched.
# timeout: 300
# long
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 20000
runbook "$T/runbook.json" "{'cutover': {'mode': 'manual'}}"
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 120 cutover
kill -TERM "$RUN"; wait "$RUN" 2>/dev/null || true

assert_exit 0 "$CUTOVER" verify "$T/runbook.json"
assert_contains "$OUT" "identical" "verify before the corruption"

img=$(sqlite3 "$T/shop.sqlite3" "SELECT min(id) FROM shop_product WHERE length(image) > 3")
sess=$(sqlite3 "$T/shop.sqlite3" "SELECT min(session_key) FROM django_session")
sql shop -e "
  UPDATE auth_user SET first_name = 'CORRUPT' WHERE id = 5;
  DELETE FROM shop_orderitem WHERE order_id = 10;
  DELETE FROM shop_order WHERE id = 10;
  INSERT INTO shop_product (id, sku, name, description, price, stock, created_at)
    VALUES (999999, 'EXTRA', 'x', 'x', 1.00, 1, '2024-01-01 00:00:00');
  UPDATE shop_order SET total = total + 0.01 WHERE id = 20;
  UPDATE shop_order SET created_at = created_at + INTERVAL 1 MICROSECOND WHERE id = 30;
  UPDATE shop_product SET image = CONCAT(CHAR(ASCII(LEFT(image, 1)) ^ 1), SUBSTRING(image, 2)) WHERE id = $img;
  UPDATE django_session SET session_key = UPPER(session_key) WHERE session_key = '$sess';"

set +e
"$CUTOVER" verify "$T/runbook.json" --json >"$T/verify.json" 2>"$T/verify.err"
code=$?
set -e
assert_eq 3 "$code" "verify exit code with mismatches"
$PY - "$T/verify.json" "$img" "$sess" <<'PY' || fail "a corruption was not reported as expected"
import json, sys
report = json.load(open(sys.argv[1]))
img, sess = int(sys.argv[2]), sys.argv[3]
found = [(t, m["kind"], m["key"], tuple(m.get("columns", [])))
         for t, r in report["tables"].items() for m in r["mismatched"]]
for f in found:
    print(f)
want = [("auth_user", "differs", [5], ("first_name",)),
        ("shop_order", "missing_on_target", [10], ()),
        ("shop_orderitem", "missing_on_target", None, ()),
        ("shop_product", "extra_on_target", [999999], ()),
        ("shop_order", "differs", [20], ("total",)),
        ("shop_order", "differs", [30], ("created_at",)),
        ("shop_product", "differs", [img], ("image",)),
        ("django_session", "missing_on_target", [sess], ())]
missing = [w for w in want if not any(
    f[0] == w[0] and f[1] == w[1] and (w[2] is None or f[2] == w[2])
    and f[3] == w[3] for f in found)]
if missing:
    print("not reported:", missing)
    sys.exit(1)
sys.exit(0)
PY

# count mode: only the numbers of rows
runbook "$T/runbook.json" "{'cutover': {'mode': 'manual'}, 'verify': {'mode': 'count'}}"
assert_exit 3 "$CUTOVER" verify "$T/runbook.json"
assert_contains "$OUT" "DIFFERENT" "count mode"

# the first migration ends with an abort: its capture leaves the source,
# which a new migration of it requires
"$CUTOVER" resume "$T/runbook.json" >"$T/resume.out" 2>&1 &
RUN=$!
wait_for 60 "$CUTOVER" ctl "$T/runbook.json" abort
set +e; wait "$RUN"; code=$?; set -e
assert_eq 4 "$code" "the first migration aborted"

# a migration whose verify stage meets the corrupted target: the default
# rule aborts, nothing is switched, the source is left as it was
rm -rf "$STATE"
runbook "$T/runbook.json" "{'cutover': {'mode': 'manual'}}"
sql -e "DROP DATABASE shop"
CUTOVER_PAUSE_AT=verify:start:1 CUTOVER_PAUSE_FILE="$T/paused" \
    "$CUTOVER" run "$T/runbook.json" >"$T/run2.out" 2>"$T/run2.err" &
RUN=$!
wait_for 120 test -e "$T/paused"
sql shop -e "UPDATE auth_user SET email = 'corrupt@x' WHERE id = 7"
rm "$T/paused"
set +e; wait "$RUN"; code=$?; set -e
assert_eq 4 "$code" "exit code after the rule aborted"
events trigger 'e["rule"] == "mismatch" and e["action"] == "abort"' | grep -q . \
    || fail "no trigger event"
left=$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM sqlite_master WHERE name LIKE '\_cutover\_%' ESCAPE '\'")
assert_eq 0 "$left" "cutover objects left in the source after abort"
echo ok

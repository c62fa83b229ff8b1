#!/bin/bash
# A Django-like shop of 120k rows (integer, composite and text keys, foreign
# keys, DECIMAL, DATETIME(6), booleans, Greek text and emoji, NULLs, blobs)
# migrates with `cutover run` to completed, and an independent comparison
# of every row on both sides finds no difference.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 120000
# the newest order was deleted: its id must not be handed out again
sqlite3 "$T/shop.sqlite3" "DELETE FROM shop_orderitem WHERE order_id = (SELECT max(id) FROM shop_order);
    DELETE FROM shop_order WHERE id = (SELECT max(id) FROM shop_order)"
runbook "$T/runbook.json" "{'post_validate': {'watch_s': 1, 'interval_s': 0.5,
  'checks': [{'name': 'orders', 'sql': 'SELECT COUNT(*) FROM shop_order', 'min': 1}]}}"

assert_exit 0 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "completed" "run summary"
compare "$T/shop.sqlite3" shop

# the stages happened in order, each once
stages=$($PY -c '
import json,sys
print(" ".join(json.loads(l)["to"] for l in open(sys.argv[1]) if "\"type\":\"stage\"" in l))
' "$STATE/events.ndjson")
assert_eq "pre_validate bulk_copy sync verify cutover post_validate completed" \
    "$stages" "stage sequence"

# events carry seq, ts, type; seq is gap-free
$PY - "$STATE/events.ndjson" <<'PY' || fail "event stream malformed"
import json, sys, re
seqs = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e["ts"]), e
    assert e["type"], e
    seqs.append(e["seq"])
assert seqs == list(range(1, len(seqs) + 1)), "seq not gap-free"
PY

# status from the checkpoint (no orchestrator running)
st=$("$CUTOVER" status "$T/runbook.json" --json)
assert_eq completed "$(echo "$st" | json_get 'd["state"]')" "status state"
assert_eq False "$(echo "$st" | json_get 'd["running"]')" "status running"
assert_exit 0 "$CUTOVER" check-checkpoint "$T/runbook.json"
assert_contains "$OUT" "state completed" "check-checkpoint"

# run refuses to start over existing state; resume says it is done
assert_exit 1 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "already exists" "run on existing state"
assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
assert_contains "$OUT" "already completed" "resume after completion"

# the source is fenced, nothing of ours but the fence is left, the target
# has the carried-over AUTOINCREMENT and no cutover objects
set +e
msg=$(sqlite3 "$T/shop.sqlite3" "INSERT INTO auth_user(username,email,first_name,is_staff,is_active,date_joined) VALUES ('x','x','x',0,1,'2024-01-01')" 2>&1)
set -e
assert_contains "$msg" "cutover: writes moved to target" "fence on the source"
left=$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM sqlite_master WHERE name LIKE '\_cutover\_%' ESCAPE '\' AND name NOT LIKE '\_cutover\_fence\_%' ESCAPE '\'")
assert_eq 0 "$left" "capture objects left on the source"
for table in shop_order shop_product; do
    next=$(sql -e "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA='shop' AND TABLE_NAME='$table'")
    want=$(sqlite3 "$T/shop.sqlite3" "SELECT seq + 1 FROM sqlite_sequence WHERE name='$table'")
    assert_eq "$want" "$next" "AUTO_INCREMENT of $table carried over"
done
ours=$(sql -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='shop' AND TABLE_NAME LIKE '\_cutover%'")
assert_eq 0 "$ours" "reverse logs left on the target"
echo "ok"

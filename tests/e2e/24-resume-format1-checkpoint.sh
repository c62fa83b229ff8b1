#!/bin/bash
# A migration left behind by a cutover that wrote checkpoint format 1 (each
# column's MySQL type, no logical type) is resumed by this one: check-
# checkpoint reads it as format 1, resume fills the logical types through
# the MySQL driver, completes with identical data, and the checkpoint is
# format 2 afterwards with a logical type for every column.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 60000
runbook "$T/runbook.json" "{'target': {'database': 'shop_f1'},
    'copy': {'workers': 2, 'chunk_target_ms': 20}}"
set +e
CUTOVER_CRASH_AT=bulk_copy:chunk:4 "$CUTOVER" run "$T/runbook.json" \
    >"$T/run.log" 2>&1
code=$?
set -e
assert_eq 137 "$code" "run killed in bulk_copy"
"$ROOT/bin/checkpoint_format1" "$STATE" || fail "cannot rewrite as format 1"
assert_exit 0 "$CUTOVER" check-checkpoint "$T/runbook.json"
assert_contains "$OUT" "OK (format 1, SHA-256 verified)" "format 1 checkpoint"
assert_contains "$OUT" "state bulk_copy" "format 1 checkpoint"

assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
assert_contains "$OUT" "completed" "resume of a format 1 checkpoint"
compare "$T/shop.sqlite3" shop_f1

$PY - "$STATE/checkpoint.json" <<'PY' || fail "checkpoint not upgraded"
import json, sys
cp = json.load(open(sys.argv[1]))
assert cp["format"] == 2, cp["format"]
cols = [c for t in cp["tables"] for c in t["columns"]]
missing = [c["name"] for c in cols if not c.get("logical")]
assert not missing, "columns without a logical type: %s" % missing
kinds = sorted({c["logical"]["kind"] for c in cols})
print("format 2, %d columns, kinds %s" % (len(cols), kinds))
PY
echo ok

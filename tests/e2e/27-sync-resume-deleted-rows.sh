#!/bin/bash
# Rows deleted on the source while their chunk is being copied, then a
# crash after that chunk reached the target but before its checkpoint:
# the resumed copy starts again from the older frontier, with a smaller
# first chunk, so the deleted rows lie past the copy's frontier while the
# applier reads their log entries. They must not stay on the target: the
# resumed migration reaches cutover with every row identical (before the
# fix, verify found them extra_on_target and the mismatch rule aborted).
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"

start_db
sqlite3 "$T/shop.sqlite3" >/dev/null <<'SQL'
PRAGMA journal_mode=WAL;
CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
INSERT INTO t SELECT i, 'v' || i FROM n;
SQL
# chunks of 2000, 4000, 8000 rows: the third covers ids 6001..14000
runbook "$T/runbook.json" "{'copy': {'workers': 1, 'chunk_target_ms': 5000},
  'cutover': {'mode': 'manual'}}"

# 1. the third chunk in flight: rows of it deleted, a copied row changed;
#    the run dies right after the chunk is on the target
set +e
CUTOVER_PAUSE_AT=bulk_copy:chunk_read:3 CUTOVER_PAUSE_FILE="$T/paused" \
CUTOVER_CRASH_AT=bulk_copy:chunk:3 \
    "$CUTOVER" run "$T/runbook.json" >"$T/run1.out" 2>&1 &
RUN=$!
set -e
wait_for 60 test -e "$T/paused"
sqlite3 "$T/shop.sqlite3" ".timeout 5000" \
    "DELETE FROM t WHERE id IN (6500, 11000, 13000);
     UPDATE t SET v = 'changed' WHERE id = 10"
rm "$T/paused"
set +e; wait "$RUN"; code=$?; set -e
assert_eq 137 "$code" "run killed at bulk_copy:chunk:3"
# what the test is about: the target has the deleted rows, the checkpoint
# does not know it copied them
assert_eq 3 "$(sql shop -e 'SELECT COUNT(*) FROM t WHERE id IN (6500, 11000, 13000)')" \
    "deleted rows on the target after the crash"
frontier=$($PY -c 'import json, sys
print(json.load(open(sys.argv[1]))["tables"][0]["ranges"][0]["frontier"][0])' \
    "$STATE/checkpoint.json")
[ "$frontier" -lt 6500 ] || fail "the checkpoint has the third chunk (frontier $frontier)"
echo "after the crash: target up to id $(sql shop -e 'SELECT MAX(id) FROM t'), checkpoint frontier $frontier"

# 2. resume: the rows deleted meanwhile leave the target
"$CUTOVER" resume "$T/runbook.json" >"$T/run2.out" 2>&1 &
RUN=$!
wait_state 120 cutover
wait_drained
compare "$T/shop.sqlite3" shop
assert_exit 0 "$CUTOVER" verify "$T/runbook.json"
assert_contains "$OUT" "identical" "verify after the resume"
kill "$RUN"; wait "$RUN" 2>/dev/null || true
echo ok

#!/bin/bash
# SQLite → PostgreSQL 15 while the live writer runs at 400 transactions/s
# on the source (inserts, updates, deletes, key-changing updates, REPLACE
# conflicts, multi-table transactions): the copy, the applier's pipelined
# upserts and deletes and verify keep PostgreSQL equal to SQLite. With the
# writer stopped and the logs drained, psycopg2 finds every row equal to
# sqlite3's and every acknowledged write on the source; `cutover verify`
# reports 0 mismatches; the manual cutover then completes (reverse capture
# installed and removed on PostgreSQL, the source fenced) and the target
# still holds every row. (The writer following the switch to PostgreSQL is
# the live-writer cutover and rollback tests' job.)
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_pg
shop_db "$T/shop.sqlite3" 40000
pg_runbook "$T/runbook.json" "{'copy': {'workers': 2, 'chunk_target_ms': 100,
    'max_rows_per_s': 30000},
  'cutover': {'mode': 'manual'},
  'post_validate': {'watch_s': 2, 'interval_s': 0.5}}"
echo sqlite > "$T/switch"
"$ROOT/bin/writer" run --sqlite "$T/shop.sqlite3" --switch-file "$T/switch" \
    --record "$T/record.jsonl" --rate 400 --duration 3600 \
    --busy-timeout-ms 10000 >"$T/writer.out" 2>"$T/writer.err" &
WRITER_PID=$!
sleep 1
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 180 cutover
writer_stop
acked=$(echo "$WRITER_SUMMARY" | json_get 'd["acknowledged"]')
[ "$acked" -gt 1000 ] || fail "the writer made only $acked writes"
wait_drained
pg_compare "$T/shop.sqlite3" shop
writer_check --sqlite "$T/shop.sqlite3"
assert_exit 0 "$CUTOVER" verify "$T/runbook.json"
assert_contains "$OUT" "identical" "verify after the live writes"

assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" cutover
wait "$RUN" || fail "run exited $?: $(tail -5 "$T/run.err")"
grep -q "completed" "$T/run.out" || fail "not completed: $(cat "$T/run.out")"
pg_compare "$T/shop.sqlite3" shop
set +e
msg=$(sqlite3 "$T/shop.sqlite3" "DELETE FROM shop_orderitem WHERE rowid IN (SELECT rowid FROM shop_orderitem LIMIT 1)" 2>&1)
set -e
assert_contains "$msg" "cutover: writes moved to target" "fence on the source"
assert_eq 0 "$(pg_sql shop "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\_cutover%'")" \
    "reverse capture removed from PostgreSQL"
echo ok

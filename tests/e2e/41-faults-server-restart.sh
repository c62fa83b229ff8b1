#!/bin/bash
# MariaDB is killed (-9) and restarted during the bulk copy, during verify,
# during sync with the live writer running, and inside the cutover's write
# pause. Each time the orchestrator reconnects with backoff and continues;
# the migration completes, no acknowledged write is lost, and nothing
# switches before the data is verified again.
# timeout: 400
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 60000

bounce_db() {
    kill -9 "$(cat "$T/db/mysqld.pid")"
    sleep 2
    mariadb_start "$T/db" || fail "MariaDB did not restart"
    echo "MariaDB bounced ($1)"
}

runbook "$T/runbook.json" "{'copy': {'workers': 2, 'max_rows_per_s': 15000},
  'cutover': {'mode': 'manual', $SWITCH_JSON},
  'post_validate': {'watch_s': 2}}"
writer_start 150
CUTOVER_PAUSE_AT=verify:start:1 CUTOVER_PAUSE_FILE="$T/paused" \
CUTOVER_DELAY_AT=cutover:drain:1:3000 \
    "$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_for 60 grep -q '"type":"progress"' "$STATE/events.ndjson"
bounce_db "bulk copy"
wait_for 120 test -e "$T/paused"
bounce_db "verify"
rm "$T/paused"
wait_state 120 cutover
bounce_db "sync, writer running"
sleep 2
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" cutover
wait_for 60 grep -q '"step":"drain"' "$STATE/events.ndjson"
bounce_db "inside the write pause"
wait "$RUN" || fail "run exited $?: $(tail -5 "$T/run.err")"
grep -q completed "$T/run.out" || fail "not completed"
sleep 1
writer_stop
[ "$(echo "$WRITER_SUMMARY" | json_get 'd["backend"]')" = mysql ] || fail "writer: $WRITER_SUMMARY"
writer_check --mysql-socket "$SOCK" --mysql-db shop
grep -q "retrying in" "$T/run.err" || fail "no reconnect was logged"
events cutover 'e.get("step") == "retry"' | grep -q . \
    || fail "the interrupted cutover attempt was not abandoned"
echo ok

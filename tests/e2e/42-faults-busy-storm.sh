#!/bin/bash
# Busy storms on the source: another process holds SQLite's write lock for
# seconds — longer than our busy timeout — when change capture is being
# installed, during sync, and when the cutover wants its lock. Each time the
# orchestrator retries (the cutover abandons the attempt without a fence and
# tries again); the migration completes with identical data.
# timeout: 200
# exclusive: each lock is held for seconds that must overlap a given step
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 20000
hold_lock() {   # hold_lock SECONDS: BEGIN IMMEDIATE, sleep, COMMIT
    $PY - "$T/shop.sqlite3" "$1" <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[1] + ".held", "w").close()
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
PY
    HOLDER=$!
    wait_for 10 test -e "$T/shop.sqlite3.held"
    rm -f "$T/shop.sqlite3.held"
}
runbook "$T/runbook.json" "{'source': {'busy_timeout_ms': 1000},
  'cutover': {'mode': 'manual', 'max_write_pause_ms': 500, 'retries': 5},
  'post_validate': {'watch_s': 1}}"

hold_lock 4                                   # capture install meets it
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait "$HOLDER"
wait_state 120 cutover
hold_lock 3                                   # sync (the applier only reads)
wait "$HOLDER"
hold_lock 3                                   # the cutover lock
"$CUTOVER" ctl "$T/runbook.json" cutover >/dev/null
wait "$HOLDER"
wait "$RUN" || fail "run exited $?: $(tail -3 "$T/run.err")"
grep -q completed "$T/run.out" || fail "not completed"
grep -q "retrying in" "$T/run.err" || fail "no retry of the capture install"
events cutover 'e.get("step") == "retry" and "locked" in e.get("reason", "")' \
    | grep -q . || fail "the cutover did not retry after the lock timeout"
compare "$T/shop.sqlite3" shop
echo ok

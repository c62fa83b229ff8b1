#!/bin/bash
# After the switch the application works on MariaDB, and cutover still
# changes triggers on its tables: the rollback fence, and the removal of
# reverse capture when the window ends. An application transaction that
# has read a table and then writes it must not be the victim of that DDL
# (a DDL waiting for the table's metadata lock deadlocks with it, and
# MariaDB kills the application's transaction: error 1213). Here such a
# transaction holds shop_product open across a rollback, then across the
# end of a window: its write succeeds both times, the DDL goes in after its
# commit, and the rollback carries its write back to SQLite.
# timeout: 200
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 3000

# app_transaction NAME: BEGIN; read shop_product; wait for $T/NAME.go;
# add 1000 to its stock; COMMIT. Prints {"error": ..., "committed_at": ...}.
app_transaction() {
    rm -f "$T/$1.reading" "$T/$1.go"
    $PY - "$SOCK" "$T/$1" >"$T/$1.out" 2>&1 <<'PYEOF' &
import json, os, sys, time
import pymysql
sock, base = sys.argv[1:3]
db = pymysql.connect(unix_socket=sock, user="root", database="shop")
cur = db.cursor()
cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
cur.execute("BEGIN")
cur.execute("SELECT stock FROM shop_product WHERE id = 1")
open(base + ".reading", "w").close()
while not os.path.exists(base + ".go"):
    time.sleep(0.02)
error = None
try:
    cur.execute("UPDATE shop_product SET stock = stock + 1000 WHERE id = 1")
    db.commit()
except pymysql.MySQLError as e:
    error = str(e)
print(json.dumps({"error": error, "committed_at": time.time()}))
PYEOF
    APP=$!
    wait_for 10 test -e "$T/$1.reading"
}

# ddl_in_the_way STATE-DIR: our DDL meets the open transaction (ours says
# so in its log; a DDL that waits shows in the process list).
ddl_in_the_way() {
    grep -q "application has table shop_product open" "$1/events.ndjson" ||
        sql -e "SHOW PROCESSLIST" | grep -q "Waiting for table metadata lock"
}

app_write_ok() {    # app_write_ok NAME
    touch "$T/$1.go"
    wait "$APP" || true
    result=$(cat "$T/$1.out")
    [ "$(echo "$result" | json_get 'd["error"]')" = None ] \
        || fail "the application's write failed: $result"
}

completed_after() {     # completed_after STATE-DIR STAGE TIME: ts of STAGE > TIME
    STATE="$1" events stage "e['to'] == '$2'" | tail -1 | $PY -c '
import json, sys
from datetime import datetime
e = json.load(sys.stdin)
at = datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()
sys.exit(0 if at > float(sys.argv[1]) else 1)' "$3" \
        || fail "$2 did not wait for the application's transaction"
}

# A rollback while the transaction is open.
runbook "$T/runbook.json" "{'cutover': {$SWITCH_JSON},
  'post_validate': {'watch_s': 600, 'interval_s': 0.5}}"
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 120 post_validate
app_transaction rollback
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" rollback
wait_for 30 ddl_in_the_way "$STATE"
app_write_ok rollback
wait_run 5 "exit code after rollback"
completed_after "$STATE" rolled_back "$(echo "$result" | json_get 'd["committed_at"]')"
stock=$(sqlite3 "$T/shop.sqlite3" "SELECT stock FROM shop_product WHERE id = 1")
want=$(sql shop -e "SELECT stock FROM shop_product WHERE id = 1")
assert_eq "$want" "$stock" "the write made before the fence, carried back"

# The end of the window while the transaction is open.
sql -e "DROP DATABASE shop"
STATE="$T/state2"
runbook "$T/runbook.json" "{'state_dir': 'state2', 'cutover': {$SWITCH_JSON},
  'post_validate': {'watch_s': 6, 'interval_s': 0.5}}"
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 120 post_validate
app_transaction window
wait_for 30 ddl_in_the_way "$STATE"
app_write_ok window
wait "$RUN" || fail "run exited $?: $(tail -3 "$T/run.err")"
grep -q completed "$T/run.out" || fail "not completed: $(cat "$T/run.out")"
completed_after "$STATE" completed "$(echo "$result" | json_get 'd["committed_at"]')"
left=$(sql -e "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'shop'")
assert_eq 0 "$left" "reverse capture triggers left on the target"
echo ok

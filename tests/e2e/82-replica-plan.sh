#!/bin/bash
# `cutover plan` checks the replicas before anything moves: a replica whose
# replication stopped with an error, an unreachable one and a writable one
# are blocking findings (exit 3, and `run` refuses to start); a healthy,
# read-only replica of this primary passes.
# timeout: 180
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/tests/lib/replication.sh"

start_replicated_db
shop_db "$T/shop.sqlite3" 2000
write_runbook() {
    runbook "$T/runbook.json" "{
      'target': {'type': 'mysql', 'socket': '$SOCK', 'user': 'root',
                 'database': 'shop', 'replicas': [$1]}}"
}
R1="{'name': 'r1', 'socket': '$REPLICA_SOCK', 'user': 'root'}"
GONE="{'name': 'gone', 'socket': '$T/nothing-here.sock', 'user': 'root'}"

# break replication: the replica already has the row the primary inserts
sql -e "CREATE DATABASE clash; CREATE TABLE clash.t (id INT PRIMARY KEY)"
replica_catch_up
rsql -e "SET sql_log_bin = 0; INSERT INTO clash.t VALUES (1)"
sql -e "INSERT INTO clash.t VALUES (1)"
wait_for 30 replica_stopped

write_runbook "$R1, $GONE"
assert_exit 3 "$CUTOVER" plan "$T/runbook.json"
echo "$OUT" | grep -E "replica (r1|gone)"
assert_contains "$OUT" "replica r1: replication stopped with an error" "plan"
assert_contains "$OUT" "clash" "the replica's own error is quoted"
assert_contains "$OUT" "replica gone:" "unreachable replica"
assert_exit 3 "$CUTOVER" plan "$T/runbook.json" --json
echo "$OUT" | json_get '[f["code"] for f in d["findings"] if f["severity"] == "blocking"]' \
    | grep -q "replica_broken" || fail "no replica_broken code in plan --json"
assert_exit 3 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "blocking" "run refuses"

# repair replication, but make the replica writable
rsql -e "STOP SLAVE; SET GLOBAL sql_slave_skip_counter = 1; START SLAVE;
         SET GLOBAL read_only = OFF"
wait_for 30 replica_running
rm -rf "$STATE"
write_runbook "$R1"
assert_exit 3 "$CUTOVER" plan "$T/runbook.json"
assert_contains "$OUT" "replica r1 accepts writes" "writable replica"

rsql -e "SET GLOBAL read_only = ON"
assert_exit 0 "$CUTOVER" plan "$T/runbook.json"
assert_contains "$OUT" "replica r1 replicates from the target primary" "healthy"
echo ok

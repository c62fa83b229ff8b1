#!/bin/bash
# The change logs are trimmed rarely, every table in one transaction, once
# 100,000 applied entries wait (26-app-errors-django: not before; each
# trim is a commit on the application's database). Bulk updates of
# 120,000 rows during a (throttled) copy log that many entries: once
# applied they are trimmed, the migration completes and both sides hold
# the same rows.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 120000
runbook "$T/runbook.json" "{'copy': {'workers': 2, 'max_rows_per_s': 8000},
  'post_validate': {'watch_s': 1, 'interval_s': 0.5}}"
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_for 60 grep -q "change capture installed" "$STATE/events.ndjson"
src() { sqlite3 "$T/shop.sqlite3" "$@"; }
src "UPDATE shop_order SET note = 'bulk ' || id;
     UPDATE shop_orderitem SET quantity = quantity + 1"
entries=$(src "SELECT (SELECT count(*) FROM _cutover_log_shop_order) +
                      (SELECT count(*) FROM _cutover_log_shop_orderitem)")
[ "$entries" -ge 100000 ] || fail "only $entries log entries"
untrimmed() {
    [ "$(src "SELECT min(seq) FROM _cutover_log_shop_order")" = 1 ] &&
        [ "$(src "SELECT min(seq) FROM _cutover_log_shop_orderitem")" = 1 ]
}
# applied, then trimmed, every table at once
for i in $(seq 1 600); do untrimmed || break; sleep 0.1; done
[ "$(src "SELECT ifnull(min(seq), 0) != 1 FROM _cutover_log_shop_order")" = 1 ] &&
    [ "$(src "SELECT ifnull(min(seq), 0) != 1 FROM _cutover_log_shop_orderitem")" = 1 ] \
    || fail "the logs were not trimmed (both at once) once their entries were applied"
wait_run 0 "exit code"
grep -q completed "$T/run.out" || fail "not completed: $(cat "$T/run.out")"
compare "$T/shop.sqlite3" shop
echo ok

#!/bin/bash
# 94-pg-cutover-live-writer.sh — SQLite → PostgreSQL under the live writer
# (DESIGN §10, issue 17 items 7–8), as 30-cutover-live-writer.sh does for
# MariaDB: the writer at 300 transactions/s on SQLite through the whole
# migration; cutover's fence stops it there, it waits until the switch
# action names PostgreSQL in its switch file and carries on there, logged
# in as the application's own role (shop_app, with only the default
# privileges a DBA grants it in advance: cutover's role owns the tables).
#   - `cutover run` exits 0, completed; the writer switched once, no errors;
#   - `writer check` against PostgreSQL: 0 acknowledged writes lost;
#   - at the switch (SQLite fenced, the writer waiting) every row of every
#     table is equal on both sides (compare.py, not cutover's verify);
#   - SQLite refuses writes with cutover's fence; the pause was measured;
#   - no id handed out twice: the identity sequences were set past the
#     largest key at the switch.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/pg_writer.sh
. "$ROOT/tests/lib/pg_writer.sh"

start_pg_for_writer
shop_db "$T/shop.sqlite3" 40000
pg_runbook "$T/runbook.json" "$(live_cutover_json "$PG_SWITCH_JSON")"
export WRITER_TARGET=postgresql
run_under_writer 300
assert_eq 1 "$(echo "$WRITER_SUMMARY" | json_get 'd["switches"]')" "switches"
[ "$(echo "$WRITER_SUMMARY" | json_get 'd["fence_errors"]')" -ge 1 ] ||
    fail "the writer never met SQLite's fence: $WRITER_SUMMARY"
assert_eq 0 "$(echo "$WRITER_SUMMARY" | json_get 'd["other_errors"]')" \
    "the writer's errors (writer.err: $(tail -3 "$T/writer.err"))"
echo "longest writer stall: $(echo "$WRITER_SUMMARY" | json_get 'd["longest_stall_ms"]') ms"
writer_check --target postgresql "${PG_WRITER[@]}"
compared_equal "$T/at-switch.txt"

# the source refuses writes (on a row that exists: a DELETE that matches no
# row fires no trigger)
set +e
msg=$(sqlite3 "$T/shop.sqlite3" "DELETE FROM shop_order WHERE id = (SELECT MIN(id) FROM shop_order)" 2>&1)
set -e
assert_contains "$msg" "cutover: writes moved to target" "fence on SQLite"
switched=$(events cutover 'e.get("step") == "switched"' | tail -1)
[ -n "$switched" ] || fail "no cutover event for the switch"
echo "write pause: $(echo "$switched" | json_get 'd["write_pause_ms"]') ms;" \
    "sub-steps: $(echo "$switched" | json_get 'd["steps_ms"]')"
for step in lock drain reverify fence switch; do
    echo "$switched" | json_get "'$step' in d['steps_ms']" | grep -q True \
        || fail "no duration for sub-step $step: $switched"
done
assert_eq 0 "$(echo "$WRITER_SUMMARY" | json_get 'd["reused_ids"]')" \
    "ids handed out again after the switch"
# and the next id PostgreSQL hands out is past every key SQLite ever gave
next=$(pg_sql shop "SELECT nextval(pg_get_serial_sequence('shop_order', 'id'))")
last=$(sqlite3 "$T/shop.sqlite3" "SELECT seq FROM sqlite_sequence WHERE name = 'shop_order'")
[ "$next" -gt "$last" ] || fail "shop_order's sequence at $next, SQLite's at $last"
echo ok

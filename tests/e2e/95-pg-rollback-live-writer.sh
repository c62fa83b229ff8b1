#!/bin/bash
# 95-pg-rollback-live-writer.sh — the way back from PostgreSQL under the
# live writer (DESIGN §10, issue 17 item 7), as 31-rollback-live-writer.sh
# does for MariaDB. After the switch the writer works on PostgreSQL as the
# application's own role (its writes reach the reverse logs through
# cutover's SECURITY DEFINER triggers); then a post-validate SQL check on
# PostgreSQL starts failing (a session that expired last century, written
# there by another client, one the writer does not know and so never
# changes) and its rule rolls the migration back on its own:
#   - the writer meets PostgreSQL's fence (SQLSTATE 25006, "cutover: writes
#     moved back to source"), follows back to SQLite and carries on there;
#   - `cutover run` exits 5, state rolled_back;
#   - `writer check` against SQLite: 0 acknowledged writes lost, wherever
#     they were acknowledged; the other client's session came back too;
#   - every row equal on both sides at the switch and at the switch back
#     (compare.py, with the side left behind fenced each time);
#   - PostgreSQL refuses writes with the fence; nothing of cutover's is
#     left in SQLite.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/pg_writer.sh
. "$ROOT/tests/lib/pg_writer.sh"

start_pg_for_writer
shop_db "$T/shop.sqlite3" 30000
pg_runbook "$T/runbook.json" "{'cutover': {$PG_SWITCH_JSON},
  'post_validate': {'watch_s': 120, 'interval_s': 0.3,
    'checks': [{'name': 'sessions', 'max': 0,
                'sql': \"SELECT COUNT(*) FROM django_session WHERE expire_date < '2000-01-01'\"}]},
  'triggers': [{'name': 'sessions', 'metric': 'check.sessions.failures',
                'above': 2, 'action': 'rollback'}]}"
export WRITER_TARGET=postgresql
run_switched_under_writer 300 postgresql
pg_sql shop "INSERT INTO django_session VALUES ('other-client',
    'e30:expired', '1999-12-31 23:59:59.5')"
wait_run 5 "exit code after the rollback"
wait_for 10 grep -q sqlite "$T/switch"
sleep 1.5   # and on SQLite again
writer_stop
assert_eq 2 "$(echo "$WRITER_SUMMARY" | json_get 'd["switches"]')" \
    "switches there and back"
assert_eq sqlite "$(echo "$WRITER_SUMMARY" | json_get 'd["backend"]')" \
    "the writer's backend at the end"
assert_eq 0 "$(echo "$WRITER_SUMMARY" | json_get 'd["other_errors"]')" \
    "the writer's errors (writer.err: $(tail -3 "$T/writer.err"))"
[ "$(echo "$WRITER_SUMMARY" | json_get 'd["fence_errors"]')" -ge 2 ] ||
    fail "the writer did not meet both fences: $WRITER_SUMMARY"
writer_check --sqlite "$T/shop.sqlite3"
compared_equal "$T/at-switch.txt"
compared_equal "$T/at-switch-back.txt"
assert_eq "e30:expired" \
    "$(sqlite3 "$T/shop.sqlite3" "SELECT session_data FROM django_session WHERE session_key = 'other-client'")" \
    "the session written on PostgreSQL by another client, in SQLite"

events stage 'e["to"] == "rolling_back" and "trigger sessions" in e["reason"]' |
    grep -q . || fail "no rollback caused by the rule"
assert_eq rolled_back "$(status 'd["state"]')" "state"
left=$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM sqlite_master WHERE name LIKE '\_cutover\_%' ESCAPE '\'")
assert_eq 0 "$left" "cutover objects left in SQLite"
# PostgreSQL refuses writes now, with cutover's SQLSTATE (on a row that
# exists: a DELETE that matches no row fires no row trigger)
set +e
msg=$(pg_app "DELETE FROM django_session WHERE session_key = 'other-client'" \
    -v VERBOSITY=verbose 2>&1)
set -e
assert_contains "$msg" "25006" "PostgreSQL fence SQLSTATE"
assert_contains "$msg" "cutover: writes moved back to source" "PostgreSQL fence"
echo ok

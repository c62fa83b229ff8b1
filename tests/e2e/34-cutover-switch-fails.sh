#!/bin/bash
# A switch action fails (an HTTP endpoint answers 500) after an earlier
# action already moved the writer to MySQL: switch_back undoes that action,
# the writes made on MySQL meanwhile are carried back into SQLite, the
# source fence is lifted and capture restored, and the migration returns to
# sync cleanly. The next attempt (the endpoint now answers 200) succeeds,
# and no acknowledged write is lost.
#
# The order of that undoing is checked with a probe the live writer could
# only hit by chance: the first switch action inserts a session on MySQL
# (the application already there), and switch_back deletes it on SQLite at
# once (the application sent back). The source's row fence does not fire
# for a DELETE that matches no row, so were the application sent back
# before the row is carried there, its delete would succeed on nothing and
# the carried row would come back: switch_back must run after the carry.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 20000
http_start switch --fail-first 1
PROBE=probe-inserted-on-mysql-deleted-sqlite
cat >"$T/to_mysql.sh" <<EOF
echo mysql > "$T/switch"
[ -e "$T/probe.done" ] && exit 0
mariadb --no-defaults -S "$SOCK" -uroot shop -e "INSERT INTO django_session
  VALUES ('$PROBE', 'e30:probe', '2030-01-01 00:00:00')" || exit 1
touch "$T/probe.done"
sleep 1
EOF
cat >"$T/to_sqlite.sh" <<EOF
echo sqlite > "$T/switch"
sqlite3 "$T/shop.sqlite3" ".timeout 10000" \
  "DELETE FROM django_session WHERE session_key = '$PROBE'" >"$T/probe-delete.out" 2>&1
EOF
runbook "$T/runbook.json" "{'cutover': {'retries': 3,
   'switch': [{'exec': ['sh', '$T/to_mysql.sh']},
              {'http': {'method': 'POST', 'url': '$HTTP_URL/switch',
                        'body': '{\"to\": \"mysql\"}', 'timeout_ms': 2000}}],
   'switch_back': [{'exec': ['sh', '$T/to_sqlite.sh']}]},
  'post_validate': {'watch_s': 2}}"
writer_start 200
sleep 0.5
assert_exit 0 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "completed" "run"
sleep 0.5
writer_stop
events cutover 'e.get("step") == "unswitch"' | grep -q . || fail "no unswitch"
events cutover 'e.get("step") == "reversed"' | grep -q . || fail "nothing carried back"
assert_contains "$(events cutover 'e.get("step") == "retry"')" \
    "a switch action failed" "retry reason"
assert_eq 2 "$(wc -l < "$T/switch.log")" "switch endpoint calls"
[ "$(echo "$WRITER_SUMMARY" | json_get 'd["switches"]')" -ge 3 ] \
    || fail "the writer should have gone to MySQL, back, and to MySQL again: $WRITER_SUMMARY"
[ -s "$T/probe-delete.out" ] && fail "the probe's delete on SQLite failed: $(cat "$T/probe-delete.out")"
assert_eq 0 "$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM django_session WHERE session_key = '$PROBE'")" \
    "probe deleted on SQLite after it was carried back (source)"
assert_eq 0 "$(sql shop -e "SELECT count(*) FROM django_session WHERE session_key = '$PROBE'")" \
    "probe deleted on SQLite after it was carried back (target)"
writer_check --mysql-socket "$SOCK" --mysql-db shop
echo ok

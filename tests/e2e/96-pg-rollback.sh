#!/bin/bash
# Rollback from PostgreSQL during post_validate, with the application's
# writes made on PostgreSQL after the switch (as another session than
# cutover's: an insert taking the next identity value, an update, deletes
# of child rows and of a text-keyed row): `ctl rollback` fences
# PostgreSQL, carries every change back into SQLite, runs switch_back,
# exit 5. Then both sides hold the same rows (compared by psycopg2 and
# sqlite3), PostgreSQL refuses the application's writes with
# "cutover: writes moved back to source" and SQLSTATE 25006 (also a
# statement that matches no row there: an application instance still on
# PostgreSQL must not have it acknowledged while the row lives in
# SQLite), and SQLite takes writes again.
# timeout: 200
. "$(dirname "$0")/../lib/common.sh"

start_pg
shop_db "$T/shop.sqlite3" 6000
pg_runbook "$T/runbook.json" "{'cutover': {$SWITCH_JSON},
  'post_validate': {'watch_s': 120, 'interval_s': 0.5}}"
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 120 post_validate
wait_for 10 grep -q mysql "$T/switch"

sess=$(sqlite3 "$T/shop.sqlite3" "SELECT min(session_key) FROM django_session")
new_id=$(pg_sql shop "INSERT INTO auth_user (username, email, first_name, is_staff, is_active, date_joined) VALUES ('après', 'a@x', 'Ünal', false, true, '2025-02-03 04:05:06.789') RETURNING id" | head -1)
pg_sql shop "UPDATE shop_order SET status = 'rolled', total = 12.34 WHERE id = 3;
    DELETE FROM shop_orderitem WHERE order_id = 4;
    DELETE FROM django_session WHERE session_key = '$sess'" >/dev/null
want_user=$(sqlite3 "$T/shop.sqlite3" "SELECT max(id) + 1 FROM auth_user")
assert_eq "$want_user" "$new_id" "the identity continued past SQLite's ids"

assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" rollback
wait_run 5 "exit code after rollback"
wait_for 10 grep -q sqlite "$T/switch"

# the writes made on PostgreSQL are in SQLite, and both sides are equal
assert_eq "après|Ünal" "$(sqlite3 "$T/shop.sqlite3" "SELECT username || '|' || first_name FROM auth_user WHERE id = $new_id")" \
    "the row inserted on PostgreSQL"
assert_eq "rolled|12.34" "$(sqlite3 "$T/shop.sqlite3" "SELECT status || '|' || total FROM shop_order WHERE id = 3")" \
    "the row updated on PostgreSQL"
assert_eq 0 "$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM shop_orderitem WHERE order_id = 4")" \
    "the rows deleted on PostgreSQL"
assert_eq 0 "$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM django_session WHERE session_key = '$sess'")" \
    "the text-keyed row deleted on PostgreSQL"
pg_compare "$T/shop.sqlite3" shop

# PostgreSQL refuses the application's writes, SQLite takes them again
set +e
msg=$(PGPASSWORD=$CUTOVER_PG_PASSWORD postgresql_psql -U migrator -d shop \
    -v VERBOSITY=verbose -c "DELETE FROM shop_order WHERE id = 5" 2>&1)
set -e
assert_contains "$msg" "cutover: writes moved back to source" "the fence on PostgreSQL"
assert_contains "$msg" "25006" "the fence's SQLSTATE"
for stmt in "UPDATE shop_order SET status = 'lost' WHERE id = -1" \
            "DELETE FROM shop_order WHERE id = -1"; do
    set +e
    msg=$(PGPASSWORD=$CUTOVER_PG_PASSWORD postgresql_psql -U migrator -d shop \
        -c "$stmt" 2>&1)
    set -e
    assert_contains "$msg" "cutover: writes moved back to source" \
        "the fence on a statement that matches no row ($stmt)"
done
sqlite3 "$T/shop.sqlite3" "UPDATE shop_order SET status = 'again' WHERE id = 5" ||
    fail "SQLite refuses writes after the rollback"
left=$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM sqlite_master WHERE name LIKE '\_cutover\_%' ESCAPE '\'")
assert_eq 0 "$left" "cutover objects left in SQLite"
echo ok

#!/bin/bash
# 97-pg-crash-matrix.sh — SQLite → PostgreSQL: a crash (SIGKILL) at every
# cutover sub-step with the live writer running, then `cutover resume`, as
# 32-cutover-crash-matrix.sh does for MariaDB. Right after each crash there
# is no split brain (never the source open while traffic is switched to
# PostgreSQL); the resumed migration completes; every row is identical on
# both sides and no acknowledged write is lost. Then a crash at every step
# of a rollback (`ctl rollback` after the switch, as 40-faults-crash-matrix
# does for MariaDB): resumed, it ends rolled back with the writer back on
# SQLite, PostgreSQL fenced, and no acknowledged write lost.
# timeout: 600
# long
. "$(dirname "$0")/../lib/common.sh"

start_pg
export PGPASSWORD=$CUTOVER_PG_PASSWORD WRITER_TARGET=postgresql
# the writer as a session of the migrator's role but not marked as
# cutover's: the fences treat it as the application
PG_WRITER=(--pg-host "$POSTGRESQL_HOST" --pg-port "$POSTGRESQL_PORT"
           --pg-user migrator --pg-db shop --pg-schema public)
shop_db "$T/base.sqlite3" 8000
SWITCH="'switch': [{'exec': ['sh', '-c', 'echo postgresql > \$CUTOVER_STATE_DIR/../switch']}],
  'switch_back': [{'exec': ['sh', '-c', 'echo sqlite > \$CUTOVER_STATE_DIR/../switch']}]"

for point in prepare lock drain reverify fence before_fence_commit fenced switch; do
    rm -rf "$STATE" "$T/record.jsonl"
    cp "$T/base.sqlite3" "$T/shop.sqlite3"
    pg_sql shop "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null
    pg_runbook "$T/runbook.json" "{'cutover': {$SWITCH},
      'post_validate': {'watch_s': 1}}"
    crash_cutover_at "$point" postgresql
    pg_compare "$T/shop.sqlite3" shop
    writer_check --target postgresql "${PG_WRITER[@]}"
done

for point in target_fenced before_commit switch_back; do
    rm -rf "$STATE" "$T/record.jsonl"
    cp "$T/base.sqlite3" "$T/shop.sqlite3"
    pg_sql shop "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null
    pg_runbook "$T/runbook.json" "{'cutover': {$SWITCH},
      'post_validate': {'watch_s': 60, 'interval_s': 0.3}}"
    writer_start 100
    sleep 0.3
    set +e
    CUTOVER_CRASH_AT="rollback:$point" "$CUTOVER" run "$T/runbook.json" \
        >"$T/run.log" 2>&1 &
    pid=$!
    wait_state 120 post_validate
    sleep 0.5          # the writer on PostgreSQL, writing there
    "$CUTOVER" ctl "$T/runbook.json" rollback >/dev/null 2>&1
    wait "$pid"; code=$?
    set -e
    assert_eq 137 "$code" "crash at rollback:$point ($(tail -3 "$T/run.log"))"
    writer_stop
    set +e; "$CUTOVER" resume "$T/runbook.json" >"$T/resume.out" 2>&1; set -e
    grep -q rolled_back "$T/resume.out" ||
        { cat "$T/resume.out"; fail "resume after rollback:$point: not rolled back"; }
    assert_eq sqlite "$(cat "$T/switch")" "the switch file after rollback:$point"
    assert_eq 0 "$(source_fenced)" "SQLite's fence after rollback:$point"
    set +e
    msg=$(pg_sql shop "DELETE FROM shop_order WHERE id = (SELECT min(id) FROM shop_order)" 2>&1)
    set -e
    echo "$msg" | grep -q "writes moved back to source" ||
        fail "PostgreSQL not fenced after rollback:$point: $msg"
    writer_check --sqlite "$T/shop.sqlite3"
    echo "crash at rollback:$point → resumed → rolled back"
done
echo ok
